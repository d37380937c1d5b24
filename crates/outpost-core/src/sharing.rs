//! The identifier check before sharing: every operation that shares free
//! text (a case, question, protocol, reply, answer, comment, outcome,
//! reference) takes a [`Sharing`] choice. `Checked` refuses text with
//! likely patient identifiers, returning them as
//! [`CoreError::Identifiers`]; `AsWritten` is the user's explicit "share it
//! anyway" after reading the findings.

use crate::{CoreError, FieldFinding, Result};
use outpost_model::NewItem;
use serde::{Deserialize, Serialize};

/// Whether text is checked for patient identifiers before it is shared.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Refuse, sharing nothing, if the scanner finds likely identifiers.
    Checked,
    /// The user read the findings (or has none to fear) and shares the
    /// text as written.
    AsWritten,
}

impl Sharing {
    /// `Checked` unless `share_anyway`.
    pub fn from_flag(share_anyway: bool) -> Self {
        if share_anyway {
            Sharing::AsWritten
        } else {
            Sharing::Checked
        }
    }

    /// Scans `fields` (name, text) when checking; an error lists every
    /// finding.
    pub(crate) fn check(self, fields: &[(&str, &str)]) -> Result<()> {
        if self == Sharing::AsWritten {
            return Ok(());
        }
        let found: Vec<FieldFinding> = fields
            .iter()
            .flat_map(|(field, text)| {
                outpost_scan::scan(text)
                    .into_iter()
                    .map(move |finding| FieldFinding {
                        field: field.to_string(),
                        finding,
                    })
            })
            .collect();
        if found.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Identifiers(found))
        }
    }

    /// Checks the free text of a new item.
    pub(crate) fn check_item(self, item: &NewItem) -> Result<()> {
        match item {
            NewItem::Case(c) => self.check(&[
                ("title", &c.title),
                ("presenting", &c.presenting),
                ("history", c.history.as_deref().unwrap_or("")),
                ("findings", c.findings.as_deref().unwrap_or("")),
                ("ask", &c.ask),
            ]),
            NewItem::Question(q) => self.check(&[("title", &q.title), ("body", &q.body)]),
            NewItem::Protocol(p) => {
                let refs = p.references.join("\n");
                self.check(&[
                    ("title", &p.title),
                    ("body", &p.body),
                    ("references", &refs),
                ])
            }
        }
    }
}

/// A likely identifier in a text the user is about to share, with offsets
/// in UTF-16 code units (as JavaScript strings count).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct TextFinding {
    /// Where it starts (UTF-16 units).
    pub start: usize,
    /// Where it ends (UTF-16 units).
    pub end: usize,
    /// What kind of identifier it looks like.
    pub category: outpost_scan::Category,
    /// The text found.
    pub text: String,
    /// What to put in its place.
    pub redaction: String,
}

/// Scans each text (a form's free-text fields) for patient identifiers:
/// one list of findings per text, offsets in UTF-16 units.
pub fn scan_text(texts: &[String]) -> Vec<Vec<TextFinding>> {
    texts
        .iter()
        .map(|text| {
            outpost_scan::scan(text)
                .into_iter()
                .map(|f| TextFinding {
                    start: outpost_scan::utf16_offset(text, f.start),
                    end: outpost_scan::utf16_offset(text, f.end),
                    category: f.category,
                    text: f.text,
                    redaction: f.redaction,
                })
                .collect()
        })
        .collect()
}

/// Scans one text, with byte offsets (the CLI's `outpost scan`).
pub fn scan(text: &str) -> Vec<outpost_scan::Finding> {
    outpost_scan::scan(text)
}
