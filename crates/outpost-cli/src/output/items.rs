//! Items, posts, lists, search hits and history, as people read them.

use super::{Human, indent, short, when};
use outpost_core::{HistoryLine, ItemDetail, ItemRow, PostRef, SearchHit};
use serde::Serialize;
use std::io::{Result, Write};

fn row_line(r: &ItemRow) -> String {
    let tags = if r.tags.is_empty() {
        String::new()
    } else {
        format!("  #{}", r.tags.join(" #"))
    };
    format!(
        "{}  {:<8} {:<10} {}  {}{}",
        short(&r.id),
        r.kind,
        r.status,
        when(r.updated_at),
        r.title,
        tags
    )
}

impl Human for ItemRow {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "{}", row_line(self))
    }
}

impl Human for SearchHit {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        // The match markers stay: `Out::print` styles them once the text
        // is safe for a terminal.
        let snippet = self.snippet.replace('\n', " ");
        writeln!(w, "{}\n          {snippet}", row_line(&self.item))
    }
}

/// An item just added.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Saved<'a>(pub &'a ItemRow);

impl Human for Saved<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "Saved {} {}: {}", self.0.kind, self.0.id, self.0.title)
    }
}

/// An item just changed.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Updated<'a>(pub &'a ItemRow);

impl Human for Updated<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let r = self.0;
        writeln!(w, "Saved. {} {} is {}.", r.kind, short(&r.id), r.status)
    }
}

impl Human for PostRef {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "Saved {} {} on {}.",
            self.kind,
            self.id,
            short(&self.item_id)
        )
    }
}

/// A helpful mark.
#[derive(Serialize)]
pub struct Helpful<'a> {
    pub id: &'a str,
    pub marked: bool,
}

impl Human for Helpful<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        if self.marked {
            writeln!(w, "Marked helpful.")
        } else {
            writeln!(w, "You had already marked this answer helpful.")
        }
    }
}

impl Human for HistoryLine {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "{}  {:<24} {}",
            when(self.entry.time * 1000),
            self.author_name,
            self.entry.message
        )
    }
}

impl Human for ItemDetail {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let i = &self.item;
        let name = |id: &outpost_core::DeviceId, name: &str| {
            if self.left.contains(id) {
                format!("{name} (has left the community)")
            } else {
                name.to_string()
            }
        };
        writeln!(w, "{} — {} [{}]", i.title, i.kind, self.status)?;
        writeln!(
            w,
            "{} · {} · {} · {}",
            i.id,
            self.community_name,
            name(&i.author, &i.author_name),
            when(i.created_at)
        )?;
        if !i.tags.is_empty() {
            writeln!(w, "#{}", i.tags.join(" #"))?;
        }
        if let Some(c) = &i.case {
            let facts: Vec<String> = [
                c.age_band.map(|a| format!("age {a}")),
                c.sex.map(|s| s.to_string()),
                c.setting.map(|s| format!("seen: {s}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !facts.is_empty() {
                writeln!(w, "{}", facts.join(" · "))?;
            }
            for (label, text) in [
                ("Presenting problem", &c.presenting),
                ("History", &c.history),
                ("Findings", &c.findings),
                ("What I need from the community", &c.ask),
                ("Outcome / follow-up", &c.outcome),
            ] {
                if !text.is_empty() {
                    writeln!(w, "\n{label}:\n{}", indent(text).trim_end())?;
                }
            }
        }
        if let Some(q) = &i.question {
            writeln!(w, "\n{}", q.body)?;
        }
        if let Some(p) = &i.protocol {
            if let Some(r) = &p.review_date {
                writeln!(w, "Review by {r}")?;
            }
            writeln!(w, "\n{}", p.body)?;
            if !p.references.is_empty() {
                writeln!(w, "References:")?;
                for r in &p.references {
                    writeln!(w, "  - {r}")?;
                }
            }
        }
        for (label, posts) in [("Replies", &i.replies), ("Comments", &i.comments)] {
            if !posts.is_empty() {
                writeln!(w, "\n{label}:")?;
                for p in posts {
                    writeln!(
                        w,
                        "  {} · {} · {}\n{}",
                        short(&p.id),
                        name(&p.author, &p.author_name),
                        when(p.created_at),
                        indent(&p.body).trim_end()
                    )?;
                }
            }
        }
        if !i.answers.is_empty() {
            writeln!(w, "\nAnswers:")?;
            for a in &i.answers {
                let mark = if a.accepted { " ✓ accepted" } else { "" };
                writeln!(
                    w,
                    "  {} · {} · {} · {} helpful{mark}\n{}",
                    short(&a.post.id),
                    name(&a.post.author, &a.post.author_name),
                    when(a.post.created_at),
                    a.helpful.len(),
                    indent(&a.post.body).trim_end()
                )?;
            }
        }
        Ok(())
    }
}
