//! What can go wrong, as a kind with data. Every error has a stable
//! [`CoreError::code`] and the values a message needs
//! ([`CoreError::params`]): the desktop UI translates by code (so a Spanish
//! user reads Spanish), the CLI prints the English `Display`.

use outpost_model::{BadId, Kind, PostKind, SchemaError, ValidationError};
use outpost_store::StoreError;
use std::path::PathBuf;

/// A likely patient identifier in a field about to be shared.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldFinding {
    /// The field it is in (`presenting`, `body`, `reply`, …).
    pub field: String,
    /// What was found, where (byte offsets in that field's text).
    #[serde(flatten)]
    pub finding: outpost_scan::Finding,
}

/// What an id was expected to name, or turned out to name.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A community.
    Community,
    /// Any case, question or protocol.
    Item,
    /// A case discussion.
    Case,
    /// A question.
    Question,
    /// A protocol or article.
    Protocol,
    /// A reply to a case.
    Reply,
    /// An answer to a question.
    Answer,
    /// A comment on any item.
    Comment,
}

impl TargetKind {
    /// The stable word, also the UI's translation key suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Community => "community",
            TargetKind::Item => "item",
            TargetKind::Case => "case",
            TargetKind::Question => "question",
            TargetKind::Protocol => "protocol",
            TargetKind::Reply => "reply",
            TargetKind::Answer => "answer",
            TargetKind::Comment => "comment",
        }
    }
}

impl From<Kind> for TargetKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Case => TargetKind::Case,
            Kind::Question => TargetKind::Question,
            Kind::Protocol => TargetKind::Protocol,
        }
    }
}

impl From<PostKind> for TargetKind {
    fn from(k: PostKind) -> Self {
        match k {
            PostKind::Reply => TargetKind::Reply,
            PostKind::Answer => TargetKind::Answer,
            PostKind::Comment => TargetKind::Comment,
        }
    }
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let article = match self {
            TargetKind::Item | TargetKind::Answer => "an",
            _ => "a",
        };
        write!(f, "{article} {}", self.as_str())
    }
}

/// Why an action was refused by a rule about who may do what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // each variant's message says what it is
pub enum Denied {
    #[error("you are not a member of the community '{community}'")]
    NotAMember { community: String },
    #[error("only an admin of '{community}' can do this")]
    NotAdmin { community: String },
    #[error("only the member who asked the question ({asker}) can accept an answer")]
    NotAsker { asker: String },
    #[error("only the member who shared this case ({author}) can change its outcome or status")]
    NotAuthor { author: String },
    #[error("no member '{who}' in this community")]
    NoSuchMember { who: String },
    #[error("'{who}' matches {count} members; give more of the key")]
    AmbiguousMember { who: String, count: usize },
    #[error("this protocol changed in a way the editor cannot follow; reopen it")]
    EditorLost,
}

impl Denied {
    fn code(&self) -> &'static str {
        match self {
            Denied::NotAMember { .. } => "not_a_member",
            Denied::NotAdmin { .. } => "not_admin",
            Denied::NotAsker { .. } => "not_asker",
            Denied::NotAuthor { .. } => "not_author",
            Denied::NoSuchMember { .. } => "no_such_member",
            Denied::AmbiguousMember { .. } => "ambiguous_member",
            Denied::EditorLost => "editor_lost",
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Denied::NotAMember { community } | Denied::NotAdmin { community } => {
                vec![("community", community.clone())]
            }
            Denied::NotAsker { asker } => vec![("asker", asker.clone())],
            Denied::NotAuthor { author } => vec![("author", author.clone())],
            Denied::NoSuchMember { who } => vec![("who", who.clone())],
            Denied::AmbiguousMember { who, count } => {
                vec![("who", who.clone()), ("count", count.to_string())]
            }
            Denied::EditorLost => vec![],
        }
    }
}

/// Everything an Outpost operation can fail with.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's message says what it is
pub enum CoreError {
    #[error("Outpost is not set up in {}; run `outpost init --name \"Your Name\"` first", .0.display())]
    NotInitialized(PathBuf),
    #[error("Outpost is already set up in {} (device {device})", .home.display())]
    AlreadyInitialized { home: PathBuf, device: String },
    /// A value a user gave is not acceptable; names the field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no item, answer or community with id '{0}'")]
    NotFound(String),
    /// Text given as an id that no id can look like.
    #[error(transparent)]
    BadId(#[from] BadId),
    #[error("'{prefix}' matches {count} ids; type more of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error("'{id}' is {actual}, not {expected}")]
    WrongTarget {
        id: String,
        expected: TargetKind,
        actual: TargetKind,
    },
    #[error("{0}")]
    Denied(#[from] Denied),
    /// Text about to be shared holds likely patient identifiers; nothing
    /// was shared.
    #[error("{} likely patient identifier(s) found: {}; nothing was shared", .0.len(), .0.iter().map(|f| format!("{} '{}' in {}", f.finding.category, f.finding.text, f.field)).collect::<Vec<_>>().join(", "))]
    Identifiers(Vec<FieldFinding>),
    /// Joining through an invitation did not complete.
    #[error("could not join '{name}': {reason}")]
    JoinFailed { name: String, reason: String },
    /// `sync` with no peer given and none known.
    #[error("no known peers: pass --peer TICKET, or join a community first")]
    NoKnownPeers,
    /// The home is locked with a passphrase (or needs one chosen) and none
    /// was given.
    #[error("{0}")]
    PassphraseNeeded(String),
    #[error("wrong passphrase: it does not unlock this home (nothing was changed)")]
    WrongPassphrase,
    /// A new passphrase that is too weak to accept.
    #[error("a passphrase needs at least {min} characters")]
    WeakPassphrase { min: usize },
    #[error("OS keychain: {0}")]
    Keychain(String),
    /// Another process has the home open, or its key is being changed.
    #[error("{}", match .0 {
        Busy::Rekeying => "this home's key is being changed (`outpost rekey`); try again when it has finished",
        Busy::OpenElsewhere => "this home is open elsewhere (the Outpost app or `outpost serve`); close it, then change the key",
    })]
    Busy(Busy),
    #[error("bundle: {0}")]
    Bundle(String),
    #[error("device key {}: {msg}", .path.display())]
    Key { path: PathBuf, msg: String },
    /// Something about the home itself (its files, the system) failed.
    #[error("{0}")]
    Home(String),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Net(#[from] outpost_net::NetError),
    #[error("membership op: {0}")]
    Op(#[from] outpost_sync::membership::OpError),
}

/// Why a home is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Its key is being changed.
    Rekeying,
    /// A key change needs the home alone, and something else has it open.
    OpenElsewhere,
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => CoreError::NotFound(id),
            StoreError::Ambiguous { prefix, count } => CoreError::Ambiguous { prefix, count },
            e => CoreError::Store(e),
        }
    }
}

impl CoreError {
    /// A stable code for this kind of error, for front ends to translate.
    /// Validation errors give their problem's code (`required`,
    /// `too_long`, …).
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::NotInitialized(_) => "not_initialized",
            CoreError::AlreadyInitialized { .. } => "already_initialized",
            CoreError::Invalid(v) => v.problem.code(),
            CoreError::NotFound(_) => "not_found",
            CoreError::BadId(_) => "bad_id",
            CoreError::Ambiguous { .. } => "ambiguous",
            CoreError::WrongTarget { .. } => "wrong_target",
            CoreError::Denied(d) => d.code(),
            CoreError::Identifiers(_) => "identifiers",
            CoreError::JoinFailed { .. } => "join_failed",
            CoreError::NoKnownPeers => "no_known_peers",
            CoreError::PassphraseNeeded(_) => "passphrase_needed",
            CoreError::WrongPassphrase => "wrong_passphrase",
            CoreError::WeakPassphrase { .. } => "weak_passphrase",
            CoreError::Keychain(_) => "keychain",
            CoreError::Busy(Busy::Rekeying) => "busy_rekeying",
            CoreError::Busy(Busy::OpenElsewhere) => "busy_open_elsewhere",
            CoreError::Bundle(_) => "bundle",
            CoreError::Key { .. } => "device_key",
            CoreError::Home(_) => "home",
            CoreError::Store(StoreError::BadQuery(_)) => "bad_query",
            CoreError::Store(StoreError::NewerSchema { .. }) => "newer_schema",
            CoreError::Store(StoreError::OlderFormat) => "older_format",
            CoreError::Store(_) => "store",
            CoreError::Schema(_) => "schema",
            CoreError::Io(_) => "io",
            CoreError::Net(_) => "network",
            CoreError::Op(_) => "membership_op",
        }
    }

    /// The field a validation (or passphrase) error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            CoreError::Invalid(v) => Some(v.field),
            CoreError::PassphraseNeeded(_)
            | CoreError::WrongPassphrase
            | CoreError::WeakPassphrase { .. } => Some("passphrase"),
            CoreError::Identifiers(_) => Some("identifiers"),
            _ => None,
        }
    }

    /// The values a translated message fills in, by name.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            CoreError::NotInitialized(home) => vec![("home", home.display().to_string())],
            CoreError::AlreadyInitialized { home, device } => vec![
                ("home", home.display().to_string()),
                ("device", device.clone()),
            ],
            CoreError::Invalid(v) => v.problem.params(),
            CoreError::NotFound(id) => vec![("id", id.clone())],
            CoreError::BadId(b) => vec![("what", b.what.to_string()), ("id", b.shown.clone())],
            CoreError::Ambiguous { prefix, count } => {
                vec![("id", prefix.clone()), ("count", count.to_string())]
            }
            CoreError::WrongTarget {
                id,
                expected,
                actual,
            } => vec![
                ("id", id.clone()),
                ("expected", expected.as_str().to_string()),
                ("actual", actual.as_str().to_string()),
            ],
            CoreError::Denied(d) => d.params(),
            CoreError::Identifiers(found) => vec![("count", found.len().to_string())],
            CoreError::JoinFailed { name, reason } => {
                vec![("name", name.clone()), ("reason", reason.clone())]
            }
            CoreError::WeakPassphrase { min } => vec![("min", min.to_string())],
            // What went wrong in the system below, as the library said it:
            // the translated sentence names the kind and carries this.
            CoreError::PassphraseNeeded(detail)
            | CoreError::Keychain(detail)
            | CoreError::Bundle(detail)
            | CoreError::Home(detail) => vec![("detail", detail.clone())],
            CoreError::Key { msg, .. } => vec![("detail", msg.clone())],
            CoreError::Store(e) => vec![("detail", e.to_string())],
            CoreError::Schema(e) => vec![("detail", e.to_string())],
            CoreError::Io(e) => vec![("detail", e.to_string())],
            CoreError::Net(e) => vec![("detail", e.to_string())],
            CoreError::Op(e) => vec![("detail", e.to_string())],
            CoreError::NoKnownPeers | CoreError::WrongPassphrase | CoreError::Busy(_) => vec![],
        }
    }
}

/// Results of Outpost operations.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_model::Problem;

    #[test]
    fn codes_are_stable_and_carry_their_data() {
        let e = CoreError::from(StoreError::NotFound("3f2a".into()));
        assert_eq!(e.code(), "not_found");
        assert_eq!(e.params(), vec![("id", "3f2a".to_string())]);
        let e = CoreError::from(ValidationError::new(
            "title",
            Problem::TooLong {
                length: 201,
                max: 200,
            },
        ));
        assert_eq!((e.code(), e.field()), ("too_long", Some("title")));
        assert_eq!(
            e.params(),
            vec![("length", "201".to_string()), ("max", "200".to_string())]
        );
        assert_eq!(
            CoreError::WrongTarget {
                id: "x".into(),
                expected: TargetKind::Answer,
                actual: TargetKind::Case,
            }
            .to_string(),
            "'x' is a case, not an answer"
        );
    }
}
