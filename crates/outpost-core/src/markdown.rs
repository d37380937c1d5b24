//! The readable copy: a community's knowledge as plain Markdown files
//! (not encrypted; the user is told to keep it safe).

use crate::{Outpost, Result};
use outpost_model::{CommunityId, Kind};
use std::path::Path;

impl Outpost {
    /// Writes a plain, readable copy of a community's knowledge into `dir`:
    /// `README.md` (domain, charter, members, an index) and one Markdown
    /// file per case, question and protocol. Returns the files written.
    pub fn export_markdown(&self, id: &CommunityId, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
        let c = self.community(id)?;
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        let mut index = format!("# {}\n\n{}\n\n", c.name, c.domain);
        if !c.charter.is_empty() {
            index.push_str(&format!("## Charter\n\n{}\n\n", c.charter));
        }
        index.push_str("## Members\n\n");
        for m in &c.members {
            index.push_str(&format!("- {}\n", m.name));
        }
        let items = self.list(&outpost_store::ListFilter {
            community: Some(id.clone()),
            limit: Some(usize::MAX >> 1),
            ..Default::default()
        })?;
        for (kind, heading) in [
            (Kind::Protocol, "Protocols"),
            (Kind::Question, "Questions"),
            (Kind::Case, "Cases"),
        ] {
            let sub = dir.join(format!("{}s", kind.as_str()));
            let of_kind: Vec<_> = items.iter().filter(|r| r.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            std::fs::create_dir_all(&sub)?;
            index.push_str(&format!("\n## {heading}\n\n"));
            for row in of_kind {
                let detail = self.show(&row.id)?;
                let file = format!(
                    "{}-{}.md",
                    slug(&detail.item.title),
                    row.id.chars().take(8).collect::<String>()
                );
                let path = sub.join(&file);
                crate::home::write_atomic(&path, item_markdown(&detail).as_bytes())?;
                index.push_str(&format!(
                    "- [{}]({}s/{file}) ({})\n",
                    detail.item.title,
                    kind.as_str(),
                    detail.status
                ));
                written.push(path);
            }
        }
        let readme = dir.join("README.md");
        crate::home::write_atomic(&readme, index.as_bytes())?;
        written.insert(0, readme);
        Ok(written)
    }
}

/// A file-name-safe version of a title.
pub(crate) fn slug(title: &str) -> String {
    let mut s = String::new();
    for ch in title.chars() {
        if ch.is_alphanumeric() {
            s.extend(ch.to_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 60 {
            break;
        }
    }
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "item".into() } else { s }
}

fn item_markdown(d: &crate::ItemDetail) -> String {
    let i = &d.item;
    let mut md = format!(
        "# {}\n\n*{} · {} · by {} · {}*\n\n",
        i.title,
        i.kind.as_str(),
        d.status,
        i.author_name,
        crate::display_date(i.created_at)
    );
    if !i.tags.is_empty() {
        md.push_str(&format!("Tags: {}\n\n", i.tags.join(", ")));
    }
    if let Some(c) = &i.case {
        let facts: Vec<&str> = [
            c.age_band.map(|a| a.as_str()),
            c.sex.map(|s| s.as_str()),
            c.setting.map(|s| s.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !facts.is_empty() {
            md.push_str(&format!("{}\n\n", facts.join(" · ")));
        }
        for (h, t) in [
            ("Presenting problem", &c.presenting),
            ("History", &c.history),
            ("Findings", &c.findings),
            ("What I need from the community", &c.ask),
            ("Outcome", &c.outcome),
        ] {
            if !t.is_empty() {
                md.push_str(&format!("## {h}\n\n{t}\n\n"));
            }
        }
    }
    if let Some(q) = &i.question {
        md.push_str(&format!("{}\n\n", q.body));
    }
    if let Some(p) = &i.protocol {
        md.push_str(&format!("{}\n\n", p.body));
        if let Some(r) = &p.review_date {
            md.push_str(&format!("Review by {r}.\n\n"));
        }
        if !p.references.is_empty() {
            md.push_str("## References\n\n");
            for r in &p.references {
                md.push_str(&format!("- {r}\n"));
            }
            md.push('\n');
        }
    }
    for (h, posts) in [("Replies", &i.replies), ("Comments", &i.comments)] {
        if !posts.is_empty() {
            md.push_str(&format!("## {h}\n\n"));
            for p in posts {
                md.push_str(&format!(
                    "**{}**, {}:\n\n{}\n\n",
                    p.author_name,
                    crate::display_date(p.created_at),
                    p.body
                ));
            }
        }
    }
    if !i.answers.is_empty() {
        md.push_str("## Answers\n\n");
        for a in &i.answers {
            let mark = if a.accepted { " (accepted)" } else { "" };
            md.push_str(&format!(
                "**{}**{mark}, {}:\n\n{}\n\n",
                a.post.author_name,
                crate::display_date(a.post.created_at),
                a.post.body
            ));
        }
    }
    md
}
