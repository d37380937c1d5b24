//! How results are printed: JSON (one document on stdout) or text for people.

use anyhow::Result;
use outpost_core::model::Community;
use outpost_core::store::{CommunityRow, ItemRow, SNIPPET_END, SNIPPET_START, SearchHit};
use outpost_core::{DemoSummary, HistoryLine, ItemDetail, PostRef, Whoami};
use serde::Serialize;
use std::time::{Duration, UNIX_EPOCH};

pub struct Out {
    pub json: bool,
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

fn when(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-11-26T15:40:00Z -> 2026-11-26 15:40
    s.get(..16).map(|d| d.replace('T', " ")).unwrap_or(s)
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

impl Out {
    pub fn whoami(&self, w: &Whoami, created: bool) -> Result<()> {
        if self.json {
            return json(w);
        }
        if created {
            println!("Outpost is set up in {}.", w.home.display());
        }
        println!("{} ({})", w.profile.name, w.id);
        if let Some(p) = &w.profile.profession {
            println!("  profession: {p}");
        }
        if let Some(r) = &w.profile.region {
            println!("  region:     {r}");
        }
        if !w.profile.expertise.is_empty() {
            println!("  expertise:  {}", w.profile.expertise.join(", "));
        }
        Ok(())
    }

    pub fn community_created(&self, c: &CommunityRow) -> Result<()> {
        if self.json {
            return json(c);
        }
        println!(
            "Created community '{}' ({}). You are its admin.",
            c.name, c.id
        );
        Ok(())
    }

    pub fn communities(&self, cs: &[CommunityRow]) -> Result<()> {
        if self.json {
            return json(cs);
        }
        if cs.is_empty() {
            println!("No communities yet: `outpost community create` or `outpost demo`.");
        }
        for c in cs {
            println!(
                "{}  {}  ({} members, {} items)",
                short(&c.id),
                c.name,
                c.members,
                c.items
            );
        }
        Ok(())
    }

    pub fn community(&self, c: &Community) -> Result<()> {
        if self.json {
            return json(c);
        }
        println!("{}  ({})\n\nDomain:\n{}", c.name, c.id, indent(&c.domain));
        if !c.charter.is_empty() {
            println!("Charter:\n{}", indent(&c.charter));
        }
        println!("Members:");
        for m in &c.members {
            let about: Vec<&str> = [m.profession.as_deref(), m.region.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            println!(
                "    {} [{}] {}  {}",
                m.name,
                m.role,
                about.join(", "),
                m.expertise.join(" ")
            );
        }
        Ok(())
    }

    pub fn created(&self, row: &ItemRow) -> Result<()> {
        if self.json {
            return json(row);
        }
        println!("Saved {} {}: {}", row.kind, row.id, row.title);
        Ok(())
    }

    pub fn updated(&self, row: &ItemRow) -> Result<()> {
        if self.json {
            return json(row);
        }
        println!("Saved. {} {} is {}.", row.kind, short(&row.id), row.status);
        Ok(())
    }

    pub fn post(&self, p: &PostRef) -> Result<()> {
        if self.json {
            return json(p);
        }
        println!("Saved {} {} on {}.", p.kind, p.id, short(&p.item_id));
        Ok(())
    }

    pub fn helpful(&self, id: &str, marked: bool) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "id": id, "marked": marked }));
        }
        println!(
            "{}",
            if marked {
                "Marked helpful."
            } else {
                "You had already marked this answer helpful."
            }
        );
        Ok(())
    }

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

    pub fn list(&self, rows: &[ItemRow]) -> Result<()> {
        if self.json {
            return json(rows);
        }
        if rows.is_empty() {
            println!("Nothing here yet.");
        }
        for r in rows {
            println!("{}", Self::row_line(r));
        }
        Ok(())
    }

    pub fn search(&self, hits: &[SearchHit]) -> Result<()> {
        if self.json {
            return json(hits);
        }
        if hits.is_empty() {
            println!("No matches.");
        }
        let (bold, plain) = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("*", "*")
        };
        for h in hits {
            println!("{}", Self::row_line(&h.item));
            let snippet = h
                .snippet
                .replace(SNIPPET_START, bold)
                .replace(SNIPPET_END, plain)
                .replace('\n', " ");
            println!("          {snippet}");
        }
        Ok(())
    }

    pub fn show(&self, d: &ItemDetail) -> Result<()> {
        if self.json {
            return json(d);
        }
        let i = &d.item;
        println!("{} — {} [{}]", i.title, i.kind, d.status);
        println!(
            "{} · {} · {} · {}",
            i.id,
            d.community_name,
            i.author_name,
            when(i.created_at)
        );
        if !i.tags.is_empty() {
            println!("#{}", i.tags.join(" #"));
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
                println!("{}", facts.join(" · "));
            }
            for (label, text) in [
                ("Presenting problem", &c.presenting),
                ("History", &c.history),
                ("Findings", &c.findings),
                ("What I need from the community", &c.ask),
                ("Outcome / follow-up", &c.outcome),
            ] {
                if !text.is_empty() {
                    println!("\n{label}:\n{}", indent(text).trim_end());
                }
            }
        }
        if let Some(q) = &i.question {
            println!("\n{}", q.body);
        }
        if let Some(p) = &i.protocol {
            if let Some(r) = &p.review_date {
                println!("Review by {r}");
            }
            println!("\n{}", p.body);
            if !p.references.is_empty() {
                println!("References:");
                for r in &p.references {
                    println!("  - {r}");
                }
            }
        }
        for (label, posts) in [("Replies", &i.replies), ("Comments", &i.comments)] {
            if !posts.is_empty() {
                println!("\n{label}:");
                for p in posts {
                    println!(
                        "  {} · {} · {}\n{}",
                        short(&p.id),
                        p.author_name,
                        when(p.created_at),
                        indent(&p.body).trim_end()
                    );
                }
            }
        }
        if !i.answers.is_empty() {
            println!("\nAnswers:");
            for a in &i.answers {
                let mark = if a.accepted { " ✓ accepted" } else { "" };
                println!(
                    "  {} · {} · {} · {} helpful{mark}\n{}",
                    short(&a.post.id),
                    a.post.author_name,
                    when(a.post.created_at),
                    a.helpful.len(),
                    indent(&a.post.body).trim_end()
                );
            }
        }
        Ok(())
    }

    pub fn history(&self, lines: &[HistoryLine]) -> Result<()> {
        if self.json {
            return json(lines);
        }
        for l in lines {
            println!(
                "{}  {:<24} {}",
                when(l.entry.time * 1000),
                l.author_name,
                l.entry.message
            );
        }
        Ok(())
    }

    pub fn demo(&self, d: &DemoSummary) -> Result<()> {
        if self.json {
            return json(d);
        }
        let verb = if d.created { "Created" } else { "Opened" };
        println!(
            "{verb} the demo community '{}' ({}) with {} items.",
            d.name, d.community, d.items
        );
        println!(
            "Try: outpost list --community {}   or   outpost search sepsis",
            short(&d.community)
        );
        Ok(())
    }
}

/// The first line `serve` prints once it is ready.
pub fn serving(node: &outpost_core::net::Node, relay_url: Option<&str>, json_out: bool) {
    use std::io::Write;
    let addr = node.addr();
    let ticket = outpost_core::net::addr_ticket(&addr);
    let id = hex_id(node);
    if json_out {
        let v = serde_json::json!({
            "id": id, "endpoint_id": addr.id.to_string(), "addr": addr, "ticket": ticket, "relay_url": relay_url,
        });
        println!("{v}");
    } else {
        println!("Serving as {id}");
        println!("Others can sync with: outpost sync --once --peer {ticket}");
        if let Some(url) = relay_url {
            println!("Relay for members on the WAN: outpost config --relay-url {url}");
        }
    }
    let _ = std::io::stdout().flush();
}

fn hex_id(node: &outpost_core::net::Node) -> String {
    node.id()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Out {
    pub fn invite(&self, t: &outpost_core::net::InviteTicket) -> Result<()> {
        use outpost_core::net::Ticket;
        let ticket = t.encode_string();
        if self.json {
            return json(
                &serde_json::json!({ "ticket": ticket, "community": t.community, "name": t.name, "expires_at": t.expires_at }),
            );
        }
        println!(
            "Invitation to '{}' (valid until {}, one use):\n\n{ticket}\n",
            t.name,
            when(t.expires_at)
        );
        println!("The invitee runs: outpost join <ticket>");
        if t.inviter.addrs.is_empty() {
            println!(
                "Keep `outpost serve` running so they can reach you (on a LAN it is found by mDNS)."
            );
        }
        Ok(())
    }

    pub fn members(&self, ms: &[outpost_core::MemberInfo]) -> Result<()> {
        if self.json {
            return json(ms);
        }
        for m in ms {
            let about: Vec<&str> = [m.member.profession.as_deref(), m.member.region.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let you = if m.you { " (you)" } else { "" };
            println!(
                "{}  {:<7} {}{you}  {}  {}",
                short(&m.member.id),
                m.member.role,
                m.member.name,
                about.join(", "),
                m.member.expertise.join(" ")
            );
        }
        Ok(())
    }

    pub fn member_changed(&self, key: &str, what: &str) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "id": key, "role": what }));
        }
        if what == "removed" {
            println!(
                "Removed {}. They keep what they already had, and receive nothing new.",
                short(key)
            );
        } else {
            println!("{} is now {what}.", short(key));
        }
        Ok(())
    }

    pub fn peers(&self, ps: &[outpost_core::store::PeerRow]) -> Result<()> {
        if self.json {
            return json(ps);
        }
        if ps.is_empty() {
            println!("No peers yet.");
        }
        let t = |v: Option<i64>| v.map_or("never".to_string(), when);
        for p in ps {
            println!(
                "{}  seen {}  synced {}  pending in {} / out {}  bytes in {} / out {}",
                short(&p.id),
                t(p.last_seen),
                t(p.last_synced),
                p.pending_in,
                p.pending_out,
                p.bytes_in,
                p.bytes_out
            );
        }
        Ok(())
    }

    pub fn status(&self, s: &outpost_core::Status) -> Result<()> {
        if self.json {
            return json(s);
        }
        println!("Device {}", s.id);
        println!(
            "{} communities; {} items not yet shared with another member",
            s.communities.len(),
            s.unsynced_items
        );
        self.peers(&s.peers)
    }

    pub fn config(&self, relay: Option<&str>) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "relay_url": relay }));
        }
        println!(
            "relay-url: {}",
            relay.unwrap_or("(none: LAN, tickets and hubs only)")
        );
        Ok(())
    }

    pub fn sync_summary(&self, s: &outpost_core::SyncSummary) -> Result<()> {
        if self.json {
            return json(s);
        }
        for p in &s.peers {
            match &p.error {
                None => println!(
                    "{}: {} documents in, {} out; {} bytes in, {} out",
                    &p.peer, p.docs_in, p.docs_out, p.bytes_in, p.bytes_out
                ),
                Some(e) => println!("{}: {e}", p.peer),
            }
        }
        Ok(())
    }

    pub fn joined(&self, community: &str, name: &str, s: &outpost_core::SyncSummary) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "community": community, "name": name, "sync": s }));
        }
        println!("Joined '{name}' ({community}).");
        self.sync_summary(s)
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

impl Out {
    pub fn findings(&self, text: &str, found: &[outpost_core::scan::Finding]) -> Result<()> {
        if self.json {
            let list: Vec<JsonFinding<'_>> = found
                .iter()
                .map(|f| JsonFinding {
                    start: f.start,
                    end: f.end,
                    category: f.category.as_str(),
                    text: &f.text,
                })
                .collect();
            return json(&list);
        }
        if found.is_empty() {
            println!("No likely patient identifiers found.");
            return Ok(());
        }
        for f in found {
            let line = text[..f.start.min(text.len())].matches('\n').count() + 1;
            println!(
                "line {line}: {:<16} {:?}  -> {}",
                f.category.as_str(),
                f.text,
                f.redaction
            );
        }
        println!("{} likely patient identifier(s).", found.len());
        Ok(())
    }

    pub fn rekeyed(&self, kind: outpost_core::LockKind) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "lock": kind }));
        }
        match kind {
            outpost_core::LockKind::Keychain => {
                println!("The store is now encrypted with a new key kept in the OS keychain.")
            }
            outpost_core::LockKind::Passphrase => {
                println!("The store is now encrypted with a key from the new passphrase.")
            }
        }
        Ok(())
    }

    pub fn exported_bundle(
        &self,
        path: &std::path::Path,
        s: &outpost_core::ExportSummary,
    ) -> Result<()> {
        if self.json {
            return json(s);
        }
        println!(
            "Wrote {} ({} documents of '{}', {} bytes, encrypted). Import it with `outpost import {}`.",
            path.display(),
            s.documents,
            s.name,
            s.bytes,
            path.display()
        );
        Ok(())
    }

    pub fn exported_markdown(
        &self,
        dir: &std::path::Path,
        files: &[std::path::PathBuf],
    ) -> Result<()> {
        if self.json {
            return json(&serde_json::json!({ "dir": dir, "files": files }));
        }
        println!(
            "Wrote {} Markdown files in {} (not encrypted: keep it safe).",
            files.len(),
            dir.display()
        );
        Ok(())
    }

    pub fn imported(&self, s: &outpost_core::ImportSummary) -> Result<()> {
        if self.json {
            return json(s);
        }
        println!(
            "Imported '{}': {} documents, {} with something new.",
            s.name, s.documents, s.changed
        );
        Ok(())
    }
}
