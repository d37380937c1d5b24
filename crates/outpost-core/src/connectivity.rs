//! Connectivity: this device's links as the app's indicator and `outpost
//! status` show them (known and LAN peers, pending work, progress), where
//! this node listens, the peers it remembers, and the relay setting.

use crate::{Outpost, RELAY_URL_KEY, Result, Running, now_ms};
use outpost_model::{DeviceId, Problem, ValidationError};
use outpost_net::EndpointAddr;
use outpost_store::{CommunityRow, PeerRow};

const NODE_ADDR: &str = "node_addr";

/// `outpost status`: this device, its communities and peers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// This device's id.
    pub id: DeviceId,
    /// Where its node last listened.
    pub addr: EndpointAddr,
    /// The communities held here.
    pub communities: Vec<CommunityRow>,
    /// Items with changes no other member has yet.
    pub unsynced_items: i64,
    /// Known peers.
    pub peers: Vec<PeerRow>,
}

/// Documents reconciled / announced in the sessions running now.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct SyncProgress {
    /// Documents reconciled.
    pub done: usize,
    /// Documents announced.
    pub total: usize,
}

/// A peer as the connectivity view shows it: known (with sync figures),
/// seen on the LAN, or both.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct PeerView {
    /// The peer's device id.
    pub id: DeviceId,
    /// The member's display name, when a shared community has their profile.
    pub name: Option<String>,
    /// Shares at least one community with this device.
    pub member: bool,
    /// A session with it is live now.
    pub connected: bool,
    /// Seen on the LAN (mDNS).
    pub on_lan: bool,
    /// What this device remembers of it, when it has synced before.
    pub known: Option<PeerRow>,
}

/// This device's links: what the app's connectivity view and its global
/// indicator show.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Connectivity {
    /// This device's id.
    pub id: DeviceId,
    /// A background node is running.
    pub online: bool,
    /// The self-hosted relay in use, if any.
    pub relay_url: Option<String>,
    /// Known and LAN peers.
    pub peers: Vec<PeerView>,
    /// Items with changes no other member has yet.
    pub unsynced_items: i64,
    /// Sync progress of the sessions running now.
    pub progress: SyncProgress,
}

impl Outpost {
    /// Display names of every member this device knows, by device id.
    pub fn member_names(&self) -> Result<std::collections::HashMap<DeviceId, String>> {
        let mut names = std::collections::HashMap::new();
        for c in self.communities()? {
            if let Ok(community) = self.community(&c.id) {
                for m in community.members {
                    names.entry(m.id).or_insert(m.name);
                }
            }
        }
        Ok(names)
    }

    /// Known and LAN peers, pending work and progress, with `running` the
    /// background node if one is up.
    pub fn connectivity(&self, running: Option<&Running>) -> Result<Connectivity> {
        let names = self.member_names()?;
        let me = self.key.id();
        let ids = |list: Vec<String>| -> Vec<DeviceId> {
            list.iter()
                .filter_map(|id| DeviceId::parse(id).ok())
                .collect()
        };
        let connected = ids(running.map(|r| r.connected()).unwrap_or_default());
        let lan = ids(running.map(|r| r.lan_peers()).unwrap_or_default());
        let view = |id: DeviceId, known: Option<PeerRow>| -> Result<PeerView> {
            Ok(PeerView {
                name: names.get(&id).cloned(),
                member: self.store.shares_a_community(&id.to_hex())?,
                connected: connected.contains(&id),
                on_lan: lan.contains(&id),
                known,
                id,
            })
        };
        let mut peers = Vec::new();
        for row in self.store.peers()? {
            match DeviceId::parse(&row.id) {
                Ok(id) if id != me => peers.push(view(id, Some(row))?),
                _ => {}
            }
        }
        for id in lan.iter().chain(connected.iter()) {
            if *id != me && !peers.iter().any(|p| p.id == *id) {
                peers.push(view(*id, None)?);
            }
        }
        let progress = running.map(Running::progress).unwrap_or_default();
        Ok(Connectivity {
            id: me,
            online: running.is_some(),
            relay_url: self.relay_url()?,
            peers,
            unsynced_items: self.store.unsynced_items()?,
            progress,
        })
    }

    /// Known peers: last seen, last synced, pending each way, bytes.
    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        Ok(self.store.peers()?)
    }

    /// `outpost status`: this device, its communities and its peers.
    pub fn status(&self) -> Result<Status> {
        let unsynced_items = self.store.unsynced_items()?;
        Ok(Status {
            id: self.key.id(),
            addr: self.node_addr()?,
            communities: self.communities()?,
            unsynced_items,
            peers: self.store.peers()?,
        })
    }

    /// The self-hosted relay URL set with `config --relay-url` or in the
    /// app's settings.
    pub fn relay_url(&self) -> Result<Option<String>> {
        Ok(self.store.meta(RELAY_URL_KEY)?)
    }

    /// Sets (checked and normalized) or clears the relay URL.
    pub fn set_relay_url(&mut self, url: Option<&str>) -> Result<Option<String>> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let parsed: outpost_net::RelayUrl = url.parse().map_err(|e| {
                    ValidationError::new(
                        "relay-url",
                        Problem::NotARelayUrl {
                            value: url.to_string(),
                            reason: format!("{e}"),
                        },
                    )
                })?;
                self.store.set_meta(RELAY_URL_KEY, &parsed.to_string())?;
            }
            None => self.store.delete_meta(RELAY_URL_KEY)?,
        }
        self.relay_url()
    }

    /// Records where this home's node listens (for invitations).
    pub(crate) fn set_node_addr(&self, addr: &EndpointAddr) -> Result<()> {
        let json =
            serde_json::to_string(addr).map_err(|e| crate::CoreError::Home(e.to_string()))?;
        Ok(self.store.set_meta(NODE_ADDR, &json)?)
    }

    /// The last address `serve` reported, or just this device's id (which
    /// mDNS can resolve on a LAN).
    pub(crate) fn node_addr(&self) -> Result<EndpointAddr> {
        if let Some(json) = self.store.meta(NODE_ADDR)?
            && let Ok(addr) = serde_json::from_str::<EndpointAddr>(&json)
        {
            return Ok(addr);
        }
        let id = iroh_id(&self.key.public())?;
        Ok(EndpointAddr::new(id))
    }

    /// Remembers a peer's address, to dial it again.
    pub(crate) fn remember_peer(&self, addr: &EndpointAddr) -> Result<()> {
        let json =
            serde_json::to_string(addr).map_err(|e| crate::CoreError::Home(e.to_string()))?;
        Ok(self
            .store
            .peer_seen(&hex::encode(addr.id.as_bytes()), Some(&json), now_ms())?)
    }

    /// Known peers with an address to dial.
    pub(crate) fn known_peer_addrs(&self) -> Result<Vec<EndpointAddr>> {
        Ok(self
            .store
            .peers()?
            .into_iter()
            .filter_map(|p| {
                p.addr
                    .and_then(|a| serde_json::from_str::<EndpointAddr>(&a).ok())
            })
            .collect())
    }
}

fn iroh_id(key: &[u8; 32]) -> Result<outpost_net::EndpointId> {
    outpost_net::EndpointId::from_bytes(key).map_err(|e| crate::CoreError::Key {
        path: std::path::PathBuf::new(),
        msg: e.to_string(),
    })
}
