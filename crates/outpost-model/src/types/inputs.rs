//! What a user submits: profiles, new communities and new items, each
//! validated before anything is written.

use super::{
    AgeBand, Kind, Setting, Sex, ValidationError, limits, normalize_tags, required, single_line,
    validate_protocol_body, validate_review_date,
};
use serde::{Deserialize, Serialize};

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
