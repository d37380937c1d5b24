//! `outpost`: the command-line front end. Parses arguments, calls
//! `outpost-core`, prints text for people or JSON (`--json`) for scripts.

mod output;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use outpost_core::model::{
    AgeBand, CaseStatus, Kind, MemberProfile, NewCase, NewCommunity, NewItem, NewProtocol,
    NewQuestion, ProtocolStatus, Setting, Sex,
};
use outpost_core::store::ListFilter;
use outpost_core::{Outpost, Unlock, resolve_home};
use output::Out;
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "outpost",
    version,
    about = "Outpost: an offline-first community of practice for rural clinicians"
)]
struct Cli {
    /// Home directory (default: $OUTPOST_HOME, else the platform data directory).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Share text even though it holds likely patient identifiers (by
    /// default a case, reply, question, answer, comment or protocol with
    /// any is refused and the findings listed).
    #[arg(long, global = true)]
    allow_identifiers: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up this device: create its key and your profile.
    Init {
        #[arg(long)]
        name: String,
        #[arg(long)]
        profession: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// An area of expertise (repeatable).
        #[arg(long = "expertise", value_name = "TAG")]
        expertise: Vec<String>,
        /// Lock the store with a passphrase even if an OS keychain is
        /// available (asked for, or $OUTPOST_PASSPHRASE).
        #[arg(long)]
        passphrase: bool,
    },
    /// Find likely patient identifiers in a file (or `-` for stdin).
    Scan { file: PathBuf },
    /// Change the key the store is encrypted with: a new passphrase (asked
    /// for, or $OUTPOST_NEW_PASSPHRASE), or `--keychain`. Stop `outpost
    /// serve` and the desktop app on this home first.
    Rekey {
        /// Keep a new random key in the OS keychain instead.
        #[arg(long)]
        keychain: bool,
    },
    /// Write a community to a file: an encrypted bundle (passphrase asked
    /// for, or $OUTPOST_BUNDLE_PASSPHRASE) for a USB stick, or with
    /// `--format markdown` a plain readable copy in a directory.
    Export {
        #[arg(long)]
        community: String,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// bundle (encrypted, for `outpost import`) or markdown.
        #[arg(long, default_value = "bundle")]
        format: String,
    },
    /// Merge a bundle written by `outpost export` (a community you are a
    /// member of). All of it, or nothing.
    Import { file: PathBuf },
    /// Show this device's id and your profile.
    Whoami,
    /// Create, list and show communities.
    #[command(subcommand)]
    Community(CommunityCmd),
    /// Case discussions.
    #[command(subcommand)]
    Case(CaseCmd),
    /// Reply to a case discussion.
    Reply {
        case: String,
        /// The reply, or `-` to read it from stdin.
        text: String,
    },
    /// Questions.
    #[command(subcommand)]
    Question(QuestionCmd),
    /// Answer a question.
    Answer {
        question: String,
        /// The answer, or `-` to read it from stdin.
        text: String,
    },
    /// Accept an answer to a question you asked.
    Accept { answer: String },
    /// Mark an answer as helpful.
    Helpful { answer: String },
    /// Protocols and articles.
    #[command(subcommand)]
    Protocol(ProtocolCmd),
    /// Comment on any item.
    Comment {
        item: String,
        /// The comment, or `-` to read it from stdin.
        text: String,
    },
    /// List items, newest first.
    List(FilterArgs),
    /// Show an item with its replies, answers and comments.
    Show { id: String },
    /// Who changed an item, and when.
    History { id: String },
    /// Full-text search across titles, bodies, replies, answers, comments and tags.
    Search {
        query: String,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Create (once) and open the demo community.
    Demo,
    /// Invite someone to a community: prints a one-time ticket.
    Invite {
        #[arg(long)]
        community: String,
        /// How long the ticket stays valid (e.g. 30m, 2d, 7d).
        #[arg(long, default_value = "7d")]
        expires: String,
    },
    /// Join a community with an invitation ticket, and sync it.
    Join {
        ticket: String,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Community members: list, remove, change role.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Run as a long-lived peer (clinic server or district hub).
    Serve {
        #[command(flatten)]
        net: NetArgs,
        /// Also run an embedded relay on this address (e.g. 0.0.0.0:3340)
        /// for members on the WAN; they set its URL with `outpost config --relay-url`.
        #[arg(long, value_name = "ADDR")]
        relay: Option<std::net::SocketAddr>,
    },
    /// Sync with the given (or all known) peers, and exit once converged.
    Sync {
        /// Exit once converged (the only mode; `serve` syncs continuously).
        #[arg(long)]
        once: bool,
        /// A node address ticket or invitation to sync with (repeatable).
        #[arg(long = "peer", value_name = "TICKET")]
        peers: Vec<String>,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Known peers: last seen, last synced, pending, bytes.
    Peers,
    /// This device, its communities and its peers.
    Status,
    /// Settings kept in this home.
    Config {
        /// A self-hosted relay for members on the WAN.
        #[arg(long, value_name = "URL")]
        relay_url: Option<String>,
        /// Forget the relay URL.
        #[arg(long, conflicts_with = "relay_url")]
        clear_relay_url: bool,
    },
}

#[derive(Subcommand)]
enum MemberCmd {
    List {
        #[arg(long)]
        community: String,
    },
    /// Add a member by device id (admins only): for someone with no link,
    /// who then gets the community by `outpost import` from a USB stick.
    Add {
        #[arg(long)]
        community: String,
        /// Their device id, as `outpost whoami` shows it.
        device: String,
    },
    /// Remove a member (admins only). They keep what they already have.
    Remove {
        #[arg(long)]
        community: String,
        /// Member key (or a unique prefix of it) or display name.
        member: String,
    },
    /// Make a member an admin, or an admin a member.
    Role {
        #[arg(long)]
        community: String,
        member: String,
        role: String,
    },
}

#[derive(Args, Clone)]
struct NetArgs {
    /// Socket address to listen on.
    #[arg(long, default_value = "0.0.0.0:0")]
    bind: std::net::SocketAddr,
    /// Do not advertise or discover peers on the LAN (mDNS).
    #[arg(long)]
    no_mdns: bool,
    /// A self-hosted relay URL (overrides `outpost config --relay-url`).
    #[arg(long, value_name = "URL")]
    relay_url: Option<String>,
    /// Ask the router to map a port (UPnP / NAT-PMP).
    #[arg(long)]
    port_mapping: bool,
}

impl NetArgs {
    fn config(&self, op: &Outpost) -> Result<outpost_core::net::NetConfig> {
        let relay_url = match &self.relay_url {
            Some(u) => Some(u.clone()),
            None => op.relay_url()?,
        };
        Ok(outpost_core::net::NetConfig {
            bind: self.bind,
            mdns: !self.no_mdns,
            relay_url,
            port_mapping: self.port_mapping,
        })
    }
}

/// Starts a node, runs one session with each target until reconciled, and
/// closes the node.
fn run_sync(
    op: &Outpost,
    config: &outpost_core::net::NetConfig,
    targets: Vec<(outpost_core::net::EndpointAddr, outpost_core::Joins)>,
    progress: bool,
) -> Result<outpost_core::SyncSummary> {
    runtime()?.block_on(async {
        let node = op.node(config).await?;
        let sync = outpost_core::sync_once(&node, targets);
        let summary = if progress {
            with_progress(&node, sync).await
        } else {
            sync.await
        };
        node.shutdown().await;
        anyhow::Ok(summary)
    })
}

fn failures(s: &outpost_core::SyncSummary) -> String {
    let reasons: Vec<String> = s.peers.iter().filter_map(|p| p.error.clone()).collect();
    reasons.join("; ")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Shows documents done / announced on a terminal while `fut` runs.
async fn with_progress<T>(
    node: &outpost_core::net::Node,
    fut: impl std::future::Future<Output = T>,
) -> T {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return fut.await;
    }
    tokio::pin!(fut);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    let mut shown = false;
    loop {
        tokio::select! {
            out = &mut fut => {
                if shown {
                    eprintln!();
                }
                return out;
            }
            _ = tick.tick() => {
                let p = node.progress();
                if p.total > 0 {
                    shown = true;
                    let width = 30;
                    let filled = width * p.done / p.total.max(1);
                    eprint!("\r[{}{}] {}/{} documents", "#".repeat(filled), "-".repeat(width - filled), p.done, p.total);
                }
            }
        }
    }
}

#[derive(Subcommand)]
enum CommunityCmd {
    /// Found a new community, with you as its first admin.
    Create {
        name: String,
        /// The shared concern of the community (or `-` for stdin).
        #[arg(long)]
        domain: String,
        /// The rules the group sets for itself (or `-` for stdin).
        #[arg(long)]
        charter: Option<String>,
    },
    List,
    Show {
        id: String,
    },
}

#[derive(Subcommand)]
enum CaseCmd {
    /// Present a de-identified case to the community.
    Add {
        #[arg(long)]
        community: String,
        #[arg(long)]
        title: String,
        /// The presenting problem (or `-` for stdin).
        #[arg(long)]
        presenting: String,
        /// What you need from the community (or `-` for stdin).
        #[arg(long)]
        ask: String,
        #[arg(long, value_name = "BAND")]
        age_band: Option<String>,
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        setting: Option<String>,
        #[arg(long)]
        history: Option<String>,
        #[arg(long)]
        findings: Option<String>,
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Record the outcome / follow-up (or `-` for stdin).
    Outcome { id: String, text: String },
    /// Mark a case resolved.
    Resolve { id: String },
    /// Reopen a resolved case.
    Reopen { id: String },
}

#[derive(Subcommand)]
enum QuestionCmd {
    Ask {
        #[arg(long)]
        community: String,
        #[arg(long)]
        title: String,
        /// The question in full (or `-` for stdin).
        #[arg(long)]
        body: String,
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ProtocolCmd {
    /// Start a protocol (status: draft).
    New {
        #[arg(long)]
        community: String,
        #[arg(long)]
        title: String,
        /// Markdown file with the body, or `-` for stdin.
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
        #[arg(long, value_name = "YYYY-MM-DD")]
        review_date: Option<String>,
        #[arg(long = "reference", value_name = "TEXT")]
        references: Vec<String>,
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Replace the body with the whole new text (merged as minimal edits).
    Edit {
        id: String,
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
    },
    /// Set the status: draft, endorsed or superseded.
    Status { id: String, status: String },
}

#[derive(Args, Default)]
struct FilterArgs {
    #[arg(long)]
    community: Option<String>,
    /// case, question or protocol.
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    tag: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

impl FilterArgs {
    fn filter(&self) -> ListFilter {
        ListFilter {
            community: self.community.clone(),
            kind: self.kind.clone(),
            tag: self.tag.clone(),
            limit: Some(self.limit),
        }
    }
}

/// Reads `-` from stdin (once per command).
struct Input {
    stdin_used: bool,
}

impl Input {
    fn text(&mut self, field: &str, value: String) -> Result<String> {
        if value != "-" {
            return Ok(value);
        }
        if self.stdin_used {
            bail!("{field}: only one argument can be read from stdin (`-`)");
        }
        self.stdin_used = true;
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .with_context(|| format!("{field}: cannot read stdin"))?;
        Ok(s.trim_end_matches(['\n', '\r']).to_string())
    }

    fn opt(&mut self, field: &str, value: Option<String>) -> Result<Option<String>> {
        value.map(|v| self.text(field, v)).transpose()
    }

    fn file(&mut self, field: &str, path: &PathBuf) -> Result<String> {
        if path.as_os_str() == "-" {
            return self.text(field, "-".into());
        }
        std::fs::read_to_string(path)
            .with_context(|| format!("{field}: cannot read {}", path.display()))
    }
}

fn parse<T: std::str::FromStr<Err = outpost_core::model::ValidationError>>(
    v: Option<String>,
) -> Result<Option<T>> {
    Ok(v.map(|s| s.parse()).transpose()?)
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A passphrase from the environment variable `var`, else asked for on
/// the terminal (twice when `confirm`).
fn passphrase(var: &str, prompt: &str, confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var(var)
        && !p.is_empty()
    {
        return Ok(p);
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .with_context(|| format!("no terminal to ask for a passphrase: set {var}"))
    };
    let p = ask(prompt)?;
    if confirm && ask("Again, to confirm: ")? != p {
        bail!("the two passphrases differ; nothing was changed");
    }
    Ok(p)
}

/// Opens the home, asking for its passphrase when it has one and
/// $OUTPOST_PASSPHRASE is not set.
fn open_home(home: &std::path::Path) -> Result<Outpost> {
    match Outpost::open(home) {
        Err(outpost_core::CoreError::PassphraseNeeded(_)) => {
            let p = passphrase(
                "OUTPOST_PASSPHRASE",
                &format!("Passphrase for {}: ", home.display()),
                false,
            )?;
            Ok(Outpost::open_with(home, &Unlock::passphrase(&p))?)
        }
        other => Ok(other?),
    }
}

/// Refuses to share text with likely patient identifiers unless allowed:
/// lists each finding on stderr.
fn check_sharing(allow: bool, fields: &[(&str, &str)]) -> Result<()> {
    let mut count = 0;
    for (field, text) in fields {
        let found = outpost_core::scan::scan(text);
        for f in &found {
            eprintln!(
                "  {field}: {} '{}' (bytes {}-{}) -> {}",
                f.category, f.text, f.start, f.end, f.redaction
            );
        }
        count += found.len();
    }
    if count > 0 && !allow {
        bail!(
            "{count} likely patient identifier(s) found (listed above); remove them, \
             or pass --allow-identifiers if they are not about a patient. Nothing was shared"
        );
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    let home = resolve_home(cli.home.as_deref())?;
    let out = Out { json: cli.json };
    let allow = cli.allow_identifiers;
    let mut input = Input { stdin_used: false };
    match cli.command {
        Command::Init {
            name,
            profession,
            region,
            expertise,
            passphrase: use_passphrase,
        } => {
            let profile = MemberProfile {
                name,
                profession,
                region,
                expertise,
            };
            let new = || {
                passphrase(
                    "OUTPOST_PASSPHRASE",
                    "Choose a passphrase for this home: ",
                    true,
                )
            };
            let op = if use_passphrase {
                Outpost::init_with(&home, profile, &Unlock::passphrase(&new()?))?
            } else {
                match Outpost::init(&home, profile.clone()) {
                    Err(outpost_core::CoreError::PassphraseNeeded(why)) => {
                        eprintln!("{why}");
                        Outpost::init_with(&home, profile, &Unlock::passphrase(&new()?))?
                    }
                    other => other?,
                }
            };
            return out.whoami(&op.whoami(), true);
        }
        Command::Scan { file } => {
            let text = input.file("file", &file)?;
            return out.findings(&text, &outpost_core::scan::scan(&text));
        }
        _ => {}
    }
    let mut op = open_home(&home)?;
    match cli.command {
        Command::Init { .. } | Command::Scan { .. } => unreachable!("handled above"),
        Command::Rekey { keychain } => {
            let unlock = if keychain {
                Unlock::Keychain
            } else {
                Unlock::passphrase(&passphrase(
                    "OUTPOST_NEW_PASSPHRASE",
                    "New passphrase: ",
                    true,
                )?)
            };
            let kind = op.rekey(&unlock)?;
            out.rekeyed(kind)
        }
        Command::Export {
            community,
            out: path,
            format,
        } => match format.as_str() {
            "markdown" | "md" => {
                let files = op.export_markdown(&community, &path)?;
                out.exported_markdown(&path, &files)
            }
            "bundle" => {
                let p = passphrase(
                    "OUTPOST_BUNDLE_PASSPHRASE",
                    "Passphrase for the bundle: ",
                    true,
                )?;
                let summary = op.export_bundle_to(&community, &p, &path)?;
                out.exported_bundle(&path, &summary)
            }
            other => bail!("format: '{other}' is not one of bundle, markdown"),
        },
        Command::Import { file } => {
            let bytes = outpost_core::read_bundle(&file)?;
            let p = passphrase(
                "OUTPOST_BUNDLE_PASSPHRASE",
                "Passphrase for the bundle: ",
                false,
            )?;
            out.imported(&op.import_bundle(&bytes, &p)?)
        }
        Command::Whoami => out.whoami(&op.whoami(), false),
        Command::Community(CommunityCmd::Create {
            name,
            domain,
            charter,
        }) => {
            let domain = input.text("domain", domain)?;
            let charter = input.opt("charter", charter)?;
            let c = op.create_community(NewCommunity {
                name,
                domain,
                charter,
            })?;
            out.community_created(&c)
        }
        Command::Community(CommunityCmd::List) => out.communities(&op.communities()?),
        Command::Community(CommunityCmd::Show { id }) => out.community(&op.community(&id)?),
        Command::Case(CaseCmd::Add {
            community,
            title,
            presenting,
            ask,
            age_band,
            sex,
            setting,
            history,
            findings,
            tags,
        }) => {
            let case = NewCase {
                title,
                presenting: input.text("presenting", presenting)?,
                ask: input.text("ask", ask)?,
                age_band: parse::<AgeBand>(age_band)?,
                sex: parse::<Sex>(sex)?,
                setting: parse::<Setting>(setting)?,
                history: input.opt("history", history)?,
                findings: input.opt("findings", findings)?,
                tags,
            };
            check_sharing(
                allow,
                &[
                    ("title", &case.title),
                    ("presenting", &case.presenting),
                    ("history", case.history.as_deref().unwrap_or("")),
                    ("findings", case.findings.as_deref().unwrap_or("")),
                    ("ask", &case.ask),
                ],
            )?;
            let item = NewItem::Case(case);
            out.created(&op.create_item(&community, item)?)
        }
        Command::Case(CaseCmd::Outcome { id, text }) => {
            let text = input.text("text", text)?;
            check_sharing(allow, &[("outcome", &text)])?;
            out.updated(&op.case_outcome(&id, &text)?)
        }
        Command::Case(CaseCmd::Resolve { id }) => {
            out.updated(&op.case_status(&id, CaseStatus::Resolved)?)
        }
        Command::Case(CaseCmd::Reopen { id }) => {
            out.updated(&op.case_status(&id, CaseStatus::Open)?)
        }
        Command::Reply { case, text } => {
            let text = input.text("text", text)?;
            check_sharing(allow, &[("reply", &text)])?;
            out.post(&op.reply(&case, &text)?)
        }
        Command::Question(QuestionCmd::Ask {
            community,
            title,
            body,
            tags,
        }) => {
            let body = input.text("body", body)?;
            check_sharing(allow, &[("title", &title), ("body", &body)])?;
            out.created(&op.create_item(
                &community,
                NewItem::Question(NewQuestion { title, body, tags }),
            )?)
        }
        Command::Answer { question, text } => {
            let text = input.text("text", text)?;
            check_sharing(allow, &[("answer", &text)])?;
            out.post(&op.answer(&question, &text)?)
        }
        Command::Accept { answer } => out.post(&op.accept(&answer)?),
        Command::Helpful { answer } => {
            let marked = op.helpful(&answer)?;
            out.helpful(&answer, marked)
        }
        Command::Protocol(ProtocolCmd::New {
            community,
            title,
            body_file,
            review_date,
            references,
            tags,
        }) => {
            let body = input.file("body-file", &body_file)?;
            let refs = references.join("\n");
            check_sharing(
                allow,
                &[("title", &title), ("body", &body), ("references", &refs)],
            )?;
            let item = NewItem::Protocol(NewProtocol {
                title,
                body,
                review_date,
                references,
                tags,
            });
            out.created(&op.create_item(&community, item)?)
        }
        Command::Protocol(ProtocolCmd::Edit { id, body_file }) => {
            let body = input.file("body-file", &body_file)?;
            check_sharing(allow, &[("body", &body)])?;
            out.updated(&op.protocol_edit(&id, &body)?)
        }
        Command::Protocol(ProtocolCmd::Status { id, status }) => {
            let status: ProtocolStatus = status.parse()?;
            out.updated(&op.protocol_status(&id, status)?)
        }
        Command::Comment { item, text } => {
            let text = input.text("text", text)?;
            check_sharing(allow, &[("comment", &text)])?;
            out.post(&op.comment(&item, &text)?)
        }
        Command::List(f) => out.list(&op.list(&f.filter())?),
        Command::Show { id } => out.show(&op.show(&id)?),
        Command::History { id } => out.history(&op.history(&id)?),
        Command::Search { query, filter } => {
            if let Some(k) = &filter.kind {
                k.parse::<Kind>()?;
            }
            out.search(&op.search(&query, &filter.filter())?)
        }
        Command::Demo => out.demo(&op.demo()?),
        Command::Invite { community, expires } => {
            let ttl = humantime::parse_duration(&expires)
                .map_err(|e| anyhow::anyhow!("expires: '{expires}': {e}"))?;
            let ticket = op.invite(&community, ttl)?;
            out.invite(&ticket)
        }
        Command::Member(MemberCmd::List { community }) => out.members(&op.members(&community)?),
        Command::Member(MemberCmd::Add { community, device }) => {
            let key = op.member_add(&community, &device)?;
            out.member_changed(&key, "added")
        }
        Command::Member(MemberCmd::Remove { community, member }) => {
            let key = op.member_remove(&community, &member)?;
            out.member_changed(&key, "removed")
        }
        Command::Member(MemberCmd::Role {
            community,
            member,
            role,
        }) => {
            let role: outpost_core::model::Role = role.parse()?;
            let key = op.member_role(&community, &member, role)?;
            out.member_changed(&key, role.as_str())
        }
        Command::Peers => out.peers(&op.store().peers()?),
        Command::Status => out.status(&op.status()?),
        Command::Config {
            relay_url,
            clear_relay_url,
        } => {
            if let Some(url) = relay_url {
                op.set_relay_url(Some(&url))?;
            }
            if clear_relay_url {
                op.set_relay_url(None)?;
            }
            out.config(op.relay_url()?.as_deref())
        }
        Command::Serve { net, relay } => {
            let config = net.config(&op)?;
            let json = out.json;
            runtime()?.block_on(op.serve(&config, relay, |node, relay_url| {
                output::serving(node, relay_url, json)
            }))?;
            Ok(())
        }
        Command::Sync {
            once: _,
            peers,
            net,
        } => {
            let mut targets = Vec::new();
            for p in &peers {
                let (addr, _) =
                    outpost_core::net::parse_peer(p).map_err(|e| anyhow::anyhow!("peer: {e}"))?;
                targets.push((addr, vec![]));
            }
            if targets.is_empty() {
                targets = op
                    .known_peer_addrs()?
                    .into_iter()
                    .map(|a| (a, vec![]))
                    .collect();
            }
            if targets.is_empty() {
                bail!("no known peers: pass --peer TICKET, or join a community first");
            }
            let summary = run_sync(&op, &net.config(&op)?, targets.clone(), true)?;
            for (addr, _) in &targets {
                op.remember_peer(addr)?;
            }
            out.sync_summary(&summary)?;
            if !summary.converged {
                bail!("sync did not complete: {}", failures(&summary));
            }
            Ok(())
        }
        Command::Join { ticket, net } => {
            let t = outpost_core::parse_invite(&ticket)?;
            let config = net.config(&op)?;
            let joins = vec![(t.community.clone(), t.secret)];
            let summary = run_sync(&op, &config, vec![(t.inviter.clone(), joins)], true)?;
            if !summary.converged {
                bail!("could not join '{}': {}", t.name, failures(&summary));
            }
            // Introduce ourselves: publish our profile and send it back.
            op.after_join(&t)?;
            let pushed = run_sync(&op, &config, vec![(t.inviter.clone(), vec![])], false)?;
            if !pushed.converged {
                tracing::warn!("joined, but the profile will reach the community at the next sync");
            }
            out.joined(&t.community, &t.name, &summary)
        }
    }
}
