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
use outpost_core::{Outpost, resolve_home};
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
    },
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

fn run(cli: Cli) -> Result<()> {
    let home = resolve_home(cli.home.as_deref())?;
    let out = Out { json: cli.json };
    let mut input = Input { stdin_used: false };
    if let Command::Init {
        name,
        profession,
        region,
        expertise,
    } = cli.command
    {
        let op = Outpost::init(
            &home,
            MemberProfile {
                name,
                profession,
                region,
                expertise,
            },
        )?;
        return out.whoami(&op.whoami(), true);
    }
    let mut op = Outpost::open(&home)?;
    match cli.command {
        Command::Init { .. } => unreachable!("handled above"),
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
            let item = NewItem::Case(NewCase {
                title,
                presenting: input.text("presenting", presenting)?,
                ask: input.text("ask", ask)?,
                age_band: parse::<AgeBand>(age_band)?,
                sex: parse::<Sex>(sex)?,
                setting: parse::<Setting>(setting)?,
                history: input.opt("history", history)?,
                findings: input.opt("findings", findings)?,
                tags,
            });
            out.created(&op.create_item(&community, item)?)
        }
        Command::Case(CaseCmd::Outcome { id, text }) => {
            let text = input.text("text", text)?;
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
            out.post(&op.reply(&case, &text)?)
        }
        Command::Question(QuestionCmd::Ask {
            community,
            title,
            body,
            tags,
        }) => {
            let body = input.text("body", body)?;
            out.created(&op.create_item(
                &community,
                NewItem::Question(NewQuestion { title, body, tags }),
            )?)
        }
        Command::Answer { question, text } => {
            let text = input.text("text", text)?;
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
            out.updated(&op.protocol_edit(&id, &body)?)
        }
        Command::Protocol(ProtocolCmd::Status { id, status }) => {
            let status: ProtocolStatus = status.parse()?;
            out.updated(&op.protocol_status(&id, status)?)
        }
        Command::Comment { item, text } => {
            let text = input.text("text", text)?;
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
    }
}
