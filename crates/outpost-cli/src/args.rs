//! The command line, as clap parses it: every command, flag and help text.

use clap::{Args, Parser, Subcommand};
use outpost_core::{ItemStatus, Kind, ListFilter, NetConfig, Outpost, Result};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "outpost",
    version,
    about = "Outpost: an offline-first community of practice for rural clinicians"
)]
pub struct Cli {
    /// Home directory (default: $OUTPOST_HOME, else the platform data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Share text even though it holds likely patient identifiers (by
    /// default a case, reply, question, answer, comment or protocol with
    /// any is refused and the findings listed).
    #[arg(long, global = true)]
    pub allow_identifiers: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Pending invitations to a community (admins): not yet redeemed,
    /// revoked or expired.
    Invites {
        #[arg(long)]
        community: String,
    },
    /// Changes from peers this device refused (admins): which document,
    /// which device they claimed, from whom, and the rule they broke; and
    /// devices proven to have forked a document's history.
    Refused {
        #[arg(long)]
        community: String,
    },
    /// Revoke a pending invitation by the id `invites` shows: its ticket
    /// stops working.
    RevokeInvite {
        #[arg(long)]
        community: String,
        /// The invitation's id.
        invitation: String,
    },
    /// Join a community with an invitation ticket, and sync it. The ticket
    /// is a secret: leave it out and paste it when asked (or pipe it on
    /// standard input), so it stays out of shell history and `ps`.
    Join {
        ticket: Option<String>,
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
        /// for members on the WAN; they set its URL with `outpost config
        /// --relay-url`. It forwards only for members of this hub's
        /// communities (and, while an invitation is open, for invitees).
        #[arg(long, value_name = "ADDR")]
        relay: Option<std::net::SocketAddr>,
        /// Serve the relay over TLS on this address (e.g. 0.0.0.0:443),
        /// with --relay-cert and --relay-key.
        #[arg(long, value_name = "ADDR", requires_all = ["relay", "relay_cert", "relay_key"])]
        relay_https: Option<std::net::SocketAddr>,
        /// The relay's certificate chain (PEM), for --relay-https.
        #[arg(long, value_name = "FILE", requires = "relay_https")]
        relay_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM), for --relay-https.
        #[arg(long, value_name = "FILE", requires = "relay_https")]
        relay_key: Option<std::path::PathBuf>,
    },
    /// Sync with the given (or all known) peers, and exit once converged.
    Sync {
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
pub enum MemberCmd {
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
pub struct NetArgs {
    /// Socket address to listen on.
    #[arg(long, default_value = "0.0.0.0:0")]
    pub bind: std::net::SocketAddr,
    /// Do not advertise or discover peers on the LAN (mDNS).
    #[arg(long)]
    pub no_mdns: bool,
    /// A self-hosted relay URL (overrides `outpost config --relay-url`).
    #[arg(long, value_name = "URL")]
    pub relay_url: Option<String>,
    /// Ask the router to map a port (UPnP / NAT-PMP).
    #[arg(long)]
    pub port_mapping: bool,
}

#[derive(Subcommand)]
pub enum CommunityCmd {
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
pub enum CaseCmd {
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
pub enum QuestionCmd {
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
pub enum ProtocolCmd {
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
pub struct FilterArgs {
    #[arg(long)]
    pub community: Option<String>,
    /// case, question or protocol.
    #[arg(long)]
    pub kind: Option<String>,
    /// A status: open, resolved (cases); unanswered, answered, accepted
    /// (questions); draft, endorsed, superseded (protocols).
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

impl NetArgs {
    /// The node's settings; the relay URL set in the home applies unless
    /// `--relay-url` overrides it.
    pub fn config(&self) -> NetConfig {
        NetConfig {
            bind: self.bind,
            mdns: !self.no_mdns,
            relay_url: self.relay_url.clone(),
            port_mapping: self.port_mapping,
            ..NetConfig::default()
        }
    }
}

impl FilterArgs {
    /// The filter, with the community resolved and the kind and status
    /// checked.
    pub fn filter(&self, op: &Outpost) -> Result<ListFilter> {
        let kind = self.kind.as_deref().map(str::parse::<Kind>).transpose()?;
        let status = match &self.status {
            Some(s) => Some(ItemStatus::parse_for(kind, s)?),
            None => None,
        };
        Ok(ListFilter {
            community: match &self.community {
                Some(c) => Some(op.resolve_community(c)?),
                None => None,
            },
            kind,
            status,
            tag: self.tag.clone(),
            limit: Some(self.limit),
        })
    }
}
