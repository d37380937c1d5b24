//! Sync, peers, status and settings, as people read them.

use super::{Human, short, when};
use outpost_core::{PeerRow, Running, Status, SyncSummary};
use serde::Serialize;
use std::io::{Result, Write};

/// The first line `serve` prints once it is ready.
#[derive(Serialize)]
pub struct Serving {
    pub id: String,
    pub endpoint_id: String,
    pub ticket: String,
    pub relay_url: Option<String>,
}

impl Serving {
    pub fn of(running: &Running, device: String) -> Self {
        Serving {
            id: device,
            endpoint_id: running.id(),
            ticket: running.ticket(),
            relay_url: running.relay_url(),
        }
    }
}

impl Human for Serving {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "Serving as {}", self.id)?;
        writeln!(
            w,
            "Others can sync with: outpost sync --peer {}",
            self.ticket
        )?;
        if let Some(url) = &self.relay_url {
            writeln!(
                w,
                "Relay for members on the WAN: outpost config --relay-url {url}"
            )?;
        }
        Ok(())
    }
}

impl Human for PeerRow {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let t = |v: Option<i64>| v.map_or("never".to_string(), when);
        writeln!(
            w,
            "{}  seen {}  synced {}  pending in {} / out {}  bytes in {} / out {}",
            short(&self.id),
            t(self.last_seen),
            t(self.last_synced),
            self.pending_in,
            self.pending_out,
            self.bytes_in,
            self.bytes_out
        )
    }
}

impl Human for Status {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(w, "Device {}", self.id)?;
        writeln!(
            w,
            "{} communities; {} items not yet shared with another member",
            self.communities.len(),
            self.unsynced_items
        )?;
        super::List {
            empty: "No peers yet.",
            items: &self.peers,
        }
        .human(w)
    }
}

/// A one-shot sync's result.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Synced<'a>(pub &'a SyncSummary);

impl Human for Synced<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        for p in &self.0.peers {
            match &p.error {
                None => writeln!(
                    w,
                    "{}: {} documents in, {} out; {} bytes in, {} out",
                    &p.peer, p.docs_in, p.docs_out, p.bytes_in, p.bytes_out
                )?,
                Some(e) => writeln!(w, "{}: {e}", p.peer)?,
            }
        }
        Ok(())
    }
}

/// A community joined.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Joined<'a>(pub &'a outpost_core::Joined);

impl Human for Joined<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let j = self.0;
        writeln!(
            w,
            "Joined '{}' ({}): {} documents, {} bytes.",
            j.name, j.community, j.docs_in, j.bytes_in
        )
    }
}

/// The settings kept in a home.
#[derive(Serialize)]
pub struct Config {
    pub relay_url: Option<String>,
}

impl Human for Config {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "relay-url: {}",
            self.relay_url
                .as_deref()
                .unwrap_or("(none: LAN, tickets and hubs only)")
        )
    }
}
