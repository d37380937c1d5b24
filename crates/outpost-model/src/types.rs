//! Input types, enums and validation. Every error names the field it is about.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Size limits, in characters. Generous for clinical writing, small enough
/// that one bad paste cannot bloat every member's laptop.
pub mod limits {
    pub const NAME: usize = 120;
    pub const TITLE: usize = 200;
    pub const SHORT: usize = 120;
    pub const DOMAIN: usize = 2_000;
    pub const TEXT: usize = 20_000;
    pub const PROTOCOL_BODY: usize = 200_000;
    pub const TAG: usize = 40;
    pub const TAGS: usize = 20;
    pub const REFERENCE: usize = 500;
}

/// A validation failure. `field` is the user-facing field name (the CLI flag
/// without dashes, the form label key in the UI); `problem` says what is
/// wrong with it, with the data a translated message needs; `message` is
/// the English sentence the CLI prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub problem: Problem,
    pub message: String,
}

/// What is wrong with a field's value. `code()` is stable: the UI looks its
/// translation up by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// Empty, or only white space.
    Required,
    TooLong {
        length: usize,
        max: usize,
    },
    ControlCharacters,
    SingleLine,
    /// Not one of a fixed set of words.
    NotOneOf {
        value: String,
        allowed: Vec<String>,
    },
    NotADate {
        value: String,
    },
    BadTag {
        tag: String,
    },
    TagTooLong {
        tag: String,
        max: usize,
    },
    TooManyTags {
        max: usize,
    },
    /// A number or duration outside what is accepted.
    OutOfRange {
        value: String,
        min: String,
        max: String,
    },
    NotAnInvitation,
    InvitationExpired,
    /// Neither a node address ticket nor an invitation.
    NotATicket {
        value: String,
    },
    NotADeviceId {
        value: String,
    },
    NotARelayUrl {
        value: String,
        reason: String,
    },
    /// An editor's base that is not a list of change hashes.
    NotChangeHashes,
}

impl Problem {
    /// The stable code of this kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::TooLong { .. } => "too_long",
            Problem::ControlCharacters => "control_characters",
            Problem::SingleLine => "single_line",
            Problem::NotOneOf { .. } => "not_one_of",
            Problem::NotADate { .. } => "not_a_date",
            Problem::BadTag { .. } => "bad_tag",
            Problem::TagTooLong { .. } => "tag_too_long",
            Problem::TooManyTags { .. } => "too_many_tags",
            Problem::OutOfRange { .. } => "out_of_range",
            Problem::NotAnInvitation => "not_an_invitation",
            Problem::InvitationExpired => "invitation_expired",
            Problem::NotATicket { .. } => "not_a_ticket",
            Problem::NotADeviceId { .. } => "not_a_device_id",
            Problem::NotARelayUrl { .. } => "not_a_relay_url",
            Problem::NotChangeHashes => "not_change_hashes",
        }
    }

    /// The values a translated message fills in, by name.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Problem::TooLong { length, max } => {
                vec![("length", length.to_string()), ("max", max.to_string())]
            }
            Problem::NotOneOf { value, allowed } => {
                vec![("value", value.clone()), ("allowed", allowed.join(", "))]
            }
            Problem::NotADate { value }
            | Problem::NotADeviceId { value }
            | Problem::NotATicket { value } => {
                vec![("value", value.clone())]
            }
            Problem::BadTag { tag } => vec![("tag", tag.clone())],
            Problem::TagTooLong { tag, max } => {
                vec![("tag", tag.clone()), ("max", max.to_string())]
            }
            Problem::TooManyTags { max } => vec![("max", max.to_string())],
            Problem::OutOfRange { value, min, max } => vec![
                ("value", value.clone()),
                ("min", min.clone()),
                ("max", max.clone()),
            ],
            Problem::NotARelayUrl { value, reason } => {
                vec![("value", value.clone()), ("reason", reason.clone())]
            }
            Problem::Required
            | Problem::ControlCharacters
            | Problem::SingleLine
            | Problem::NotAnInvitation
            | Problem::InvitationExpired
            | Problem::NotChangeHashes => vec![],
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => f.write_str("is required and must not be empty"),
            Problem::TooLong { length, max } => {
                write!(f, "is {length} characters long; the limit is {max}")
            }
            Problem::ControlCharacters => f.write_str("contains control characters"),
            Problem::SingleLine => f.write_str("must be a single line"),
            Problem::NotOneOf { value, allowed } => {
                write!(f, "'{value}' is not one of: {}", allowed.join(", "))
            }
            Problem::NotADate { value } => write!(f, "'{value}' is not a date (YYYY-MM-DD)"),
            Problem::BadTag { tag } => {
                write!(f, "'{tag}' may contain only letters, digits, '-' and '_'")
            }
            Problem::TagTooLong { tag, max } => {
                write!(f, "'{tag}' is longer than {max} characters")
            }
            Problem::TooManyTags { max } => write!(f, "at most {max} tags"),
            Problem::OutOfRange { value, min, max } => {
                write!(f, "'{value}' is outside {min} to {max}")
            }
            Problem::NotAnInvitation => f.write_str("this is not an Outpost invitation"),
            Problem::InvitationExpired => f.write_str("this invitation expired; ask for a new one"),
            Problem::NotATicket { value } => write!(
                f,
                "'{value}' is not a node ticket or an invitation (`outpost serve` prints one)"
            ),
            Problem::NotADeviceId { value } => write!(
                f,
                "'{value}' is not a device id (64 hex digits, as `outpost whoami` shows)"
            ),
            Problem::NotARelayUrl { value, reason } => {
                write!(f, "'{value}' is not a relay URL: {reason}")
            }
            Problem::NotChangeHashes => f.write_str("not a list of change hashes"),
        }
    }
}

impl ValidationError {
    pub fn new(field: &'static str, problem: Problem) -> Self {
        Self {
            field,
            message: problem.to_string(),
            problem,
        }
    }

    /// The same problem, with `context` before the message (which item of
    /// an import it is about).
    pub fn in_context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

fn required(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, Problem::Required));
    }
    optional(field, value, max)
}

fn optional(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let n = value.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            Problem::TooLong { length: n, max },
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ValidationError::new(field, Problem::ControlCharacters));
    }
    Ok(())
}

fn single_line(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.contains('\n') || value.contains('\r') {
        return Err(ValidationError::new(field, Problem::SingleLine));
    }
    Ok(())
}

/// A free-text body (reply, answer, comment, outcome).
pub fn validate_body(field: &'static str, value: &str) -> Result<(), ValidationError> {
    required(field, value, limits::TEXT)
}

/// A protocol's Markdown body.
pub fn validate_protocol_body(value: &str) -> Result<(), ValidationError> {
    required("body", value, limits::PROTOCOL_BODY)
}

/// Review dates are calendar dates, `YYYY-MM-DD`.
pub fn validate_review_date(value: &str) -> Result<(), ValidationError> {
    let bad = || {
        ValidationError::new(
            "review-date",
            Problem::NotADate {
                value: value.to_string(),
            },
        )
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(bad());
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days || y < 1900 {
        return Err(bad());
    }
    Ok(())
}

/// Tags are case-insensitive words: lower-cased, trimmed, deduplicated,
/// letters, digits, `-` and `_` only.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::new();
    for raw in tags {
        let tag = raw.trim().trim_start_matches('#').to_lowercase();
        if tag.is_empty() {
            return Err(ValidationError::new("tag", Problem::Required));
        }
        if tag.chars().count() > limits::TAG {
            return Err(ValidationError::new(
                "tag",
                Problem::TagTooLong {
                    tag,
                    max: limits::TAG,
                },
            ));
        }
        if !tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ValidationError::new("tag", Problem::BadTag { tag }));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > limits::TAGS {
        return Err(ValidationError::new(
            "tag",
            Problem::TooManyTags { max: limits::TAGS },
        ));
    }
    Ok(out)
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_lowercase();
                $(if wanted == $text { return Ok($name::$variant); })+
                let allowed: Vec<String> = vec![$($text.to_string()),+];
                Err(ValidationError::new($field, Problem::NotOneOf { value: s.to_string(), allowed }))
            }
        }
    };
}

string_enum!(
    /// The kinds of knowledge item a community keeps.
    Kind, "kind", { Case => "case", Question => "question", Protocol => "protocol" }
);
string_enum!(
    /// What a post inside an item is.
    PostKind, "kind", { Reply => "reply", Answer => "answer", Comment => "comment" }
);
string_enum!(
    /// De-identified age bands. Ages over 89 collapse into one band, as
    /// HIPAA Safe Harbor requires.
    AgeBand, "age-band", {
        Newborn => "0-28d", Infant => "1-11m", Toddler => "1-4", Child => "5-11",
        Adolescent => "12-17", YoungAdult => "18-29", Adult => "30-44",
        MiddleAge => "45-64", Older => "65-79", Elderly => "80-89", Over89 => "90+",
    }
);
string_enum!(Sex, "sex", { Female => "female", Male => "male", Intersex => "intersex", Unknown => "unknown" });
string_enum!(
    /// Where the patient was seen.
    Setting, "setting", {
        Clinic => "clinic", HomeVisit => "home-visit", Emergency => "emergency",
        Inpatient => "inpatient", Outreach => "outreach", Telehealth => "telehealth",
        Transfer => "transfer", Other => "other",
    }
);
string_enum!(CaseStatus, "status", { Open => "open", Resolved => "resolved" });
string_enum!(
    ProtocolStatus, "status", { Draft => "draft", Endorsed => "endorsed", Superseded => "superseded" }
);
string_enum!(
    /// A member's role in a community. The one `Role` of every layer: signed
    /// membership ops carry it (postcard encodes the variant index, so the
    /// order `Member`, `Admin` is part of the signed bytes and must not
    /// change), the store keeps it, the UI shows it.
    Role, "role", { Member => "member", Admin => "admin" }
);
string_enum!(
    /// Where a question stands: no answers yet, answers but none accepted,
    /// or an answer accepted by the asker.
    QuestionStatus, "status", {
        Unanswered => "unanswered", Answered => "answered", Accepted => "accepted",
    }
);

/// An item's status, typed by its kind. Serialized as the plain status
/// word; the words of the three kinds are distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum ItemStatus {
    Case(CaseStatus),
    Question(QuestionStatus),
    Protocol(ProtocolStatus),
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Case(s) => s.as_str(),
            ItemStatus::Question(s) => s.as_str(),
            ItemStatus::Protocol(s) => s.as_str(),
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            ItemStatus::Case(_) => Kind::Case,
            ItemStatus::Question(_) => Kind::Question,
            ItemStatus::Protocol(_) => Kind::Protocol,
        }
    }

    /// The status word `s` of an item of `kind`.
    pub fn parse(kind: Kind, s: &str) -> Result<Self, ValidationError> {
        Ok(match kind {
            Kind::Case => ItemStatus::Case(s.parse()?),
            Kind::Question => ItemStatus::Question(s.parse()?),
            Kind::Protocol => ItemStatus::Protocol(s.parse()?),
        })
    }

    /// A status word for an item of `kind`, or of any kind when `None`
    /// (the words of the three kinds are distinct).
    pub fn parse_for(kind: Option<Kind>, s: &str) -> Result<Self, ValidationError> {
        if let Some(k) = kind {
            return Self::parse(k, s);
        }
        Kind::ALL
            .iter()
            .find_map(|k| Self::parse(*k, s).ok())
            .ok_or_else(|| {
                let allowed = Kind::ALL
                    .iter()
                    .flat_map(|k| Self::all(*k))
                    .map(|x| x.as_str().to_string())
                    .collect();
                ValidationError::new(
                    "status",
                    Problem::NotOneOf {
                        value: s.to_string(),
                        allowed,
                    },
                )
            })
    }

    /// Every status an item of `kind` can have, in the order filters list them.
    pub fn all(kind: Kind) -> Vec<ItemStatus> {
        match kind {
            Kind::Case => CaseStatus::ALL
                .iter()
                .map(|s| ItemStatus::Case(*s))
                .collect(),
            Kind::Question => QuestionStatus::ALL
                .iter()
                .map(|s| ItemStatus::Question(*s))
                .collect(),
            Kind::Protocol => ProtocolStatus::ALL
                .iter()
                .map(|s| ItemStatus::Protocol(*s))
                .collect(),
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member's public profile, as other members see it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MemberProfile {
    pub name: String,
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub expertise: Vec<String>,
}

impl MemberProfile {
    pub fn validate(&self) -> Result<(), ValidationError> {
        required("name", &self.name, limits::NAME)?;
        single_line("name", &self.name)?;
        if let Some(p) = &self.profession {
            required("profession", p, limits::SHORT)?;
            single_line("profession", p)?;
        }
        if let Some(r) = &self.region {
            required("region", r, limits::SHORT)?;
            single_line("region", r)?;
        }
        normalize_tags(&self.expertise)
            .map_err(|e| ValidationError::new("expertise", e.problem))?;
        Ok(())
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCommunity {
    pub name: String,
    pub domain: String,
    #[serde(default)]
    pub charter: Option<String>,
}

impl NewCommunity {
    pub fn validate(&self) -> Result<(), ValidationError> {
        required("name", &self.name, limits::NAME)?;
        single_line("name", &self.name)?;
        required("domain", &self.domain, limits::DOMAIN)?;
        if let Some(c) = &self.charter {
            required("charter", c, limits::TEXT)?;
        }
        Ok(())
    }
}

/// A structured, de-identified case presentation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCase {
    pub title: String,
    pub presenting: String,
    pub ask: String,
    #[serde(default)]
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub setting: Option<Setting>,
    #[serde(default)]
    pub history: Option<String>,
    #[serde(default)]
    pub findings: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuestion {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProtocol {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub review_date: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Any new knowledge item.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NewItem {
    Case(NewCase),
    Question(NewQuestion),
    Protocol(NewProtocol),
}

fn title(value: &str) -> Result<(), ValidationError> {
    required("title", value, limits::TITLE)?;
    single_line("title", value)
}

fn optional_text(field: &'static str, value: &Option<String>) -> Result<(), ValidationError> {
    match value {
        Some(v) => required(field, v, limits::TEXT),
        None => Ok(()),
    }
}

impl NewItem {
    pub fn kind(&self) -> Kind {
        match self {
            NewItem::Case(_) => Kind::Case,
            NewItem::Question(_) => Kind::Question,
            NewItem::Protocol(_) => Kind::Protocol,
        }
    }

    pub fn title(&self) -> &str {
        match self {
            NewItem::Case(c) => &c.title,
            NewItem::Question(q) => &q.title,
            NewItem::Protocol(p) => &p.title,
        }
    }

    fn tags_mut(&mut self) -> &mut Vec<String> {
        match self {
            NewItem::Case(c) => &mut c.tags,
            NewItem::Question(q) => &mut q.tags,
            NewItem::Protocol(p) => &mut p.tags,
        }
    }

    /// Checks every field and normalizes tags in place.
    pub fn validate(&mut self) -> Result<(), ValidationError> {
        title(self.title())?;
        match self {
            NewItem::Case(c) => {
                required("presenting", &c.presenting, limits::TEXT)?;
                required("ask", &c.ask, limits::TEXT)?;
                optional_text("history", &c.history)?;
                optional_text("findings", &c.findings)?;
            }
            NewItem::Question(q) => required("body", &q.body, limits::TEXT)?,
            NewItem::Protocol(p) => {
                validate_protocol_body(&p.body)?;
                if let Some(d) = &p.review_date {
                    validate_review_date(d)?;
                }
                for r in &p.references {
                    required("reference", r, limits::REFERENCE)?;
                }
            }
        }
        let tags = normalize_tags(self.tags_mut())?;
        *self.tags_mut() = tags;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let mut item = NewItem::Case(NewCase {
            title: "Chest pain".into(),
            presenting: " ".into(),
            ask: "x".into(),
            age_band: None,
            sex: None,
            setting: None,
            history: None,
            findings: None,
            tags: vec![],
        });
        let e = item.validate().unwrap_err();
        assert_eq!(e.field, "presenting");
        assert!(e.to_string().starts_with("presenting:"));
    }

    #[test]
    fn enums_reject_unknown_values_and_list_the_allowed_ones() {
        let e = "maybe".parse::<Sex>().unwrap_err();
        assert_eq!(e.field, "sex");
        assert!(e.message.contains("female"));
        assert_eq!(
            "Endorsed".parse::<ProtocolStatus>(),
            Ok(ProtocolStatus::Endorsed)
        );
    }

    #[test]
    fn tags_are_normalized() {
        let t = normalize_tags(&["Sepsis".into(), "#sepsis".into(), "paeds".into()]).unwrap();
        assert_eq!(t, vec!["sepsis", "paeds"]);
        assert_eq!(normalize_tags(&["a b".into()]).unwrap_err().field, "tag");
    }

    #[test]
    fn review_dates() {
        assert!(validate_review_date("2027-02-28").is_ok());
        assert!(validate_review_date("2028-02-29").is_ok());
        assert!(validate_review_date("2027-02-29").is_err());
        assert!(validate_review_date("27-1-1").is_err());
        assert!(validate_review_date("next year").is_err());
    }

    #[test]
    fn titles_must_fit() {
        let long = "x".repeat(limits::TITLE + 1);
        let mut q = NewItem::Question(NewQuestion {
            title: long,
            body: "b".into(),
            tags: vec![],
        });
        assert_eq!(q.validate().unwrap_err().field, "title");
    }
}
