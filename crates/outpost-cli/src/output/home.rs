//! This device, the identifier scanner, keys and USB-stick copies, as
//! people read them.

use super::Human;
use outpost_core::{ExportSummary, Finding, ImportSummary, LockKind, Whoami};
use serde::Serialize;
use std::io::{Result, Write};
use std::path::{Path, PathBuf};

impl Human for Whoami {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "{} ({})", self.profile.name, self.id)?;
        if let Some(p) = &self.profile.profession {
            writeln!(w, "  profession: {p}")?;
        }
        if let Some(r) = &self.profile.region {
            writeln!(w, "  region:     {r}")?;
        }
        if !self.profile.expertise.is_empty() {
            writeln!(w, "  expertise:  {}", self.profile.expertise.join(", "))?;
        }
        Ok(())
    }
}

/// Something just set up or founded: says so (and, with `show`, shows
/// it); its JSON is the value.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Created<'a, T> {
    #[serde(skip)]
    pub what: String,
    #[serde(skip)]
    pub show: bool,
    pub value: &'a T,
}

impl<T: Human> Human for Created<'_, T> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "{}", self.what)?;
        if self.show {
            self.value.human(w)?;
        }
        Ok(())
    }
}

/// A scan finding as `outpost scan --json` prints it.
#[derive(Serialize)]
struct JsonFinding<'a> {
    start: usize,
    end: usize,
    category: &'a str,
    text: &'a str,
}

/// What `outpost scan` found in a text.
pub struct Findings<'a> {
    pub text: &'a str,
    pub found: &'a [Finding],
}

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.found.iter().map(|f| JsonFinding {
            start: f.start,
            end: f.end,
            category: f.category.as_str(),
            text: &f.text,
        }))
    }
}

impl Human for Findings<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        if self.found.is_empty() {
            return writeln!(w, "No likely patient identifiers found.");
        }
        for f in self.found {
            let upto = self.text.get(..f.start).unwrap_or(self.text);
            let line = upto.matches('\n').count() + 1;
            writeln!(
                w,
                "line {line}: {:<16} {:?}  -> {}",
                f.category.as_str(),
                f.text,
                f.redaction
            )?;
        }
        writeln!(w, "{} likely patient identifier(s).", self.found.len())
    }
}

/// The store's new key.
#[derive(Serialize)]
pub struct Rekeyed {
    pub lock: LockKind,
}

impl Human for Rekeyed {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        match self.lock {
            LockKind::Keychain => writeln!(
                w,
                "The store is now encrypted with a new key kept in the OS keychain."
            ),
            LockKind::Passphrase => writeln!(
                w,
                "The store is now encrypted with a key from the new passphrase."
            ),
        }
    }
}

/// A bundle written to a file.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ExportedBundle<'a> {
    #[serde(skip)]
    pub path: &'a Path,
    pub summary: &'a ExportSummary,
}

impl Human for ExportedBundle<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let s = self.summary;
        writeln!(
            w,
            "Wrote {} ({} documents of '{}', {} bytes, encrypted). Import it with `outpost import {}`.",
            self.path.display(),
            s.documents,
            s.name,
            s.bytes,
            self.path.display()
        )
    }
}

/// The readable copy written to a folder.
#[derive(Serialize)]
pub struct ExportedMarkdown<'a> {
    pub dir: &'a Path,
    pub files: &'a [PathBuf],
}

impl Human for ExportedMarkdown<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "Wrote {} Markdown files in {} (not encrypted: keep it safe).",
            self.files.len(),
            self.dir.display()
        )
    }
}

impl Human for ImportSummary {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "Imported '{}': {} documents, {} with something new.",
            self.name, self.documents, self.changed
        )?;
        if self.refused > 0 {
            writeln!(
                w,
                "{} changes in it were left out: they were not signed by a member's device.",
                self.refused
            )?;
        }
        Ok(())
    }
}
