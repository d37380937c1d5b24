//! The domain's enums (kinds, statuses, roles, settings) and their word
//! forms; what users submit is in `inputs`, field rules in `validation`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

mod inputs;
mod validation;

pub use inputs::{MemberProfile, NewCase, NewCommunity, NewItem, NewProtocol, NewQuestion};
pub use validation::{
    Problem, ValidationError, limits, normalize_tags, validate_body, validate_protocol_body,
    validate_review_date,
};
pub(crate) use validation::{required, single_line};

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
