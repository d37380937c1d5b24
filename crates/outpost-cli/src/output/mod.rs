//! How results are printed, through one path: every result is a value
//! that serializes (`--json`: one JSON document on stdout) and knows how
//! to read for people ([`Human`]). A command hands its result to
//! [`Out::print`] and nothing else decides the format.

mod community;
mod home;
mod items;
mod sync;

pub use community::{Invited, MemberChanged, Revoked, Trust};
pub use home::{Created, ExportedBundle, ExportedMarkdown, Findings, Rekeyed};
pub use items::{Helpful, Saved, Updated};
pub use sync::{Config, Joined, Serving, Synced};

use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

/// A result as people read it.
pub trait Human {
    /// Writes the text form.
    fn human(&self, w: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: Human + ?Sized> Human for &T {
    fn human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        (**self).human(w)
    }
}

impl<T: Human> Human for [T] {
    fn human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        for x in self {
            x.human(w)?;
        }
        Ok(())
    }
}

/// Where results go, and in which form.
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `v` as JSON or as text.
    pub fn print<T: Serialize + Human + ?Sized>(&self, v: &T) -> Result<()> {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        if self.json {
            serde_json::to_writer(&mut w, v)?;
            writeln!(w)?;
        } else {
            v.human(&mut w)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// A list that says so when it is empty.
#[derive(Serialize)]
#[serde(transparent)]
pub struct List<'a, T> {
    #[serde(skip)]
    pub empty: &'static str,
    pub items: &'a [T],
}

impl<T: Human> Human for List<'_, T> {
    fn human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        if self.items.is_empty() {
            writeln!(w, "{}", self.empty)?;
        }
        self.items.human(w)
    }
}

pub(crate) fn when(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-11-26T15:40:00Z -> 2026-11-26 15:40
    s.get(..16).map(|d| d.replace('T', " ")).unwrap_or(s)
}

pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub(crate) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
