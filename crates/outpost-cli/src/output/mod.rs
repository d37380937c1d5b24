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
            // Text shows what peers wrote: rendered whole, then made safe
            // for a terminal, and only then given this side's own styling.
            let mut text = Vec::new();
            v.human(&mut text)?;
            let text = neutralise(&String::from_utf8_lossy(&text));
            let (bold, plain) = if std::io::IsTerminal::is_terminal(&stdout) {
                ("\x1b[1m", "\x1b[0m")
            } else {
                ("*", "*")
            };
            let text = text
                .replace(outpost_core::SNIPPET_START, bold)
                .replace(outpost_core::SNIPPET_END, plain);
            w.write_all(text.as_bytes())?;
        }
        w.flush()?;
        Ok(())
    }
}

/// `s` safe to print on a terminal: control characters other than newline
/// and tab (escape sequences that could move the cursor, retitle the
/// window or hide text) and the invisible bidirectional overrides that
/// reorder what is shown are written out as visible escapes.
pub fn neutralise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let bidi = matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        if (ch.is_control() && ch != '\n' && ch != '\t') || bidi {
            out.extend(ch.escape_unicode());
        } else {
            out.push(ch);
        }
    }
    out
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

/// A time as people read it (UTC, to the minute); a time no calendar
/// holds (a peer's made-up value) shows as such.
pub(crate) fn when(ms: i64) -> String {
    outpost_core::display_time(ms)
}

/// The first 8 characters of an id (whatever they are).
pub(crate) fn short(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(i, _)| &id[..i])
}

pub(crate) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
