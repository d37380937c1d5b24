//! Finds likely patient identifiers in free text, in English and Spanish.
//!
//! A community of practice shares de-identified knowledge: before a case,
//! reply, answer, comment or protocol leaves a clinician's hands, Outpost
//! runs [`scan`] over it and shows what it found. The scanner covers the
//! HIPAA Safe Harbor categories that appear in writing (see [`Category`])
//! and is tuned against look-alikes that clinical text is full of: drug
//! doses, lab values, blood pressures, ICD codes, scores, years on their
//! own and eponyms ("Parkinson's", "Glasgow Coma Scale") are left alone.
//!
//! This crate does no I/O; it is pure text in, findings out.

pub mod checks;
pub mod eval;
mod names;
mod rules;

use serde::{Deserialize, Serialize};

/// What kind of identifier a finding is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A person's name in clinical phrasing ("Mrs Smith", "patient John …").
    Name,
    /// A full date, a day and month, or a date of birth.
    Date,
    /// An age over 89.
    Age,
    /// A telephone or fax number.
    Phone,
    Email,
    Url,
    IpAddress,
    /// A UK postcode, US ZIP code, Spanish código postal or Australian
    /// postcode.
    Postcode,
    /// A street address.
    Address,
    /// An NHS number (modulus-11 check digit valid).
    NhsNumber,
    /// An Australian Medicare number (check digit valid).
    MedicareNumber,
    /// A US Social Security number.
    Ssn,
    /// A Spanish DNI or NIE (check letter valid).
    DniNie,
    /// A medical record, hospital, chart or similar number.
    RecordNumber,
    /// Any other identifier-like code (long digit runs, letter+digit codes).
    OtherId,
}

impl Category {
    pub const ALL: [Category; 15] = [
        Category::Name,
        Category::Date,
        Category::Age,
        Category::Phone,
        Category::Email,
        Category::Url,
        Category::IpAddress,
        Category::Postcode,
        Category::Address,
        Category::NhsNumber,
        Category::MedicareNumber,
        Category::Ssn,
        Category::DniNie,
        Category::RecordNumber,
        Category::OtherId,
    ];

    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Name => "name",
            Category::Date => "date",
            Category::Age => "age",
            Category::Phone => "phone",
            Category::Email => "email",
            Category::Url => "url",
            Category::IpAddress => "ip_address",
            Category::Postcode => "postcode",
            Category::Address => "address",
            Category::NhsNumber => "nhs_number",
            Category::MedicareNumber => "medicare_number",
            Category::Ssn => "ssn",
            Category::DniNie => "dni_nie",
            Category::RecordNumber => "record_number",
            Category::OtherId => "other_id",
        }
    }

    /// What a redaction puts in place of the identifier.
    pub fn redaction(self) -> &'static str {
        match self {
            Category::Name => "[NAME]",
            Category::Date => "[DATE]",
            Category::Age => "[AGE 90+]",
            Category::Phone => "[PHONE]",
            Category::Email => "[EMAIL]",
            Category::Url => "[URL]",
            Category::IpAddress => "[IP ADDRESS]",
            Category::Postcode => "[POSTCODE]",
            Category::Address => "[ADDRESS]",
            Category::NhsNumber => "[NHS NUMBER]",
            Category::MedicareNumber => "[MEDICARE NUMBER]",
            Category::Ssn => "[SSN]",
            Category::DniNie => "[DNI/NIE]",
            Category::RecordNumber => "[RECORD NUMBER]",
            Category::OtherId => "[ID]",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One likely identifier. `start` and `end` are byte offsets into the
/// scanned text (`text == &input[start..end]`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub category: Category,
    pub text: String,
    /// 0–1: how sure the scanner is that this identifies someone.
    pub confidence: f32,
    /// What to put in its place.
    pub redaction: String,
}

/// Findings below this confidence are not reported.
pub const MIN_CONFIDENCE: f32 = 0.5;

/// Finds likely identifiers in `text`, in order, none overlapping.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut candidates = rules::candidates(text);
    candidates.retain(|c| c.confidence >= MIN_CONFIDENCE && c.start < c.end);
    // Where two overlap, the more confident wins; on a tie, the longer.
    candidates.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<rules::Candidate> = Vec::new();
    for c in candidates {
        if kept.iter().all(|k| c.end <= k.start || c.start >= k.end) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.start);
    kept.into_iter()
        .map(|c| Finding {
            start: c.start,
            end: c.end,
            category: c.category,
            text: text[c.start..c.end].to_string(),
            confidence: c.confidence,
            redaction: c.category.redaction().to_string(),
        })
        .collect()
}

/// `text` with every finding replaced by its redaction.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.start);
    for f in sorted {
        if f.start < at || f.end > text.len() || !text.is_char_boundary(f.start) {
            continue;
        }
        if !text.is_char_boundary(f.end) {
            continue;
        }
        out.push_str(&text[at..f.start]);
        out.push_str(&f.redaction);
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Converts a byte offset in `text` to a UTF-16 offset (what JavaScript
/// string indices count).
pub fn utf16_offset(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    text.char_indices()
        .take_while(|(i, _)| *i < byte)
        .map(|(_, c)| c.len_utf16())
        .sum()
}
