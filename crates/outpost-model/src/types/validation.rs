//! Field limits and validation: every error names the field it is about
//! and says what is wrong in data a translation can use.

use serde::Serialize;
use std::fmt;

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

pub(crate) fn required(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, Problem::Required));
    }
    optional(field, value, max)
}

pub(crate) fn optional(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
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

pub(crate) fn single_line(field: &'static str, value: &str) -> Result<(), ValidationError> {
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
