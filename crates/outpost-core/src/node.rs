//! Sync wiring: the session's storage (`Repo` over the store), the
//! per-connection handler the network layer drives, and the long-running
//! node behind `outpost serve`, `sync --once` and `join`.

use crate::{CoreError, DbHandle, Outpost, Result, now_ms};
use automerge::{ActorId, AutoCommit};
use outpost_model::{CommunityDoc, actor_from_key};
use outpost_net::{
    EndpointAddr, HandlerFactory, Mode, NetConfig, Node, PeerHandler, Report, Stats,
};
use outpost_store::Store;
use outpost_sync::membership::{self, Op, OpKind, Role};
use outpost_sync::session::{Progress, Repo, Session};
use outpost_sync::wire::{DocHeads, Hash, Msg, Offer};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The session's view of the store, for one peer.
pub struct SyncRepo<'a> {
    pub store: &'a mut Store,
    pub key: &'a ed25519_dalek::SigningKey,
    pub actor: ActorId,
}

fn hex(k: &[u8; 32]) -> String {
    hex::encode(k)
}

/// Signs `kind` about a community with this device's key, on top of the
/// membership ops it knows, and appends it to the community document, all
/// inside the caller's write transaction.
pub(crate) fn append_op(
    w: &mut outpost_store::Writer<'_>,
    key: &ed25519_dalek::SigningKey,
    community: &str,
    kind: OpKind,
    message: &str,
) -> Result<()> {
    let mut loaded = w.load(community)?;
    let mut c = CommunityDoc::new(loaded.doc)?;
    let m = membership::compute(community, &c.read()?.ops);
    if !m.is_admin(&key.verifying_key().to_bytes()) {
        return Err(CoreError::NotAllowed(
            "only an admin of this community can change its membership".into(),
        ));
    }
    let now = now_ms();
    let op = membership::sign(
        key,
        &Op {
            community: community.to_string(),
            kind,
            deps: m.heads,
            time: now,
        },
    )?;
    c.add_op(&op, message, now)?;
    loaded.doc = c.into_automerge();
    w.save(community, &mut loaded)?;
    Ok(())
}

impl Repo for SyncRepo<'_> {
    type Error = CoreError;

    fn offers_for(&mut self, peer: &[u8; 32]) -> Result<Vec<Offer>> {
        Ok(self
            .store
            .offers_for(&hex(peer))?
            .into_iter()
            .map(|(community, digest, feed)| Offer {
                community,
                digest,
                feed,
            })
            .collect())
    }

    fn is_member(&mut self, community: &str, peer: &[u8; 32]) -> Result<bool> {
        Ok(self.store.is_member(community, &hex(peer))?)
    }

    fn checkpoint(&mut self, peer: &[u8; 32], community: &str) -> Result<u64> {
        Ok(self.store.checkpoint(&hex(peer), community)?)
    }

    fn set_checkpoint(&mut self, peer: &[u8; 32], community: &str, up_to: u64) -> Result<()> {
        Ok(self.store.set_checkpoint(&hex(peer), community, up_to)?)
    }

    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool)> {
        let (docs, up_to, last) = self.store.changed_in(community, since, limit)?;
        Ok((
            docs.into_iter()
                .map(|(id, heads)| DocHeads { id, heads })
                .collect(),
            up_to,
            last,
        ))
    }

    fn set_ack(&mut self, peer: &[u8; 32], community: &str, up_to: u64) -> Result<()> {
        Ok(self.store.set_ack(&hex(peer), community, up_to)?)
    }

    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>> {
        Ok(self.store.heads_in(community, doc)?)
    }

    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>> {
        Ok(self.store.load_in(community, doc)?)
    }

    fn merge(&mut self, peer: &[u8; 32], community: &str, doc: &str, bytes: &[u8]) -> Result<bool> {
        let from = hex(peer);
        let r = self.store.write(|w| -> Result<bool> {
            if w.merge_remote(community, doc, bytes, &from)? {
                Ok(true)
            } else {
                // Roll the transaction back.
                Err(CoreError::NotAllowed("refused".into()))
            }
        });
        match r {
            Ok(ok) => Ok(ok),
            Err(CoreError::NotAllowed(_)) => Ok(false),
            Err(CoreError::Store(e @ outpost_store::StoreError::Schema { .. })) => {
                tracing::warn!("refused a document from a peer: {e}");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn sync_state(&mut self, peer: &[u8; 32], doc: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.store.sync_state(&hex(peer), doc)?)
    }

    fn set_sync_state(&mut self, peer: &[u8; 32], doc: &str, state: &[u8]) -> Result<()> {
        Ok(self.store.set_sync_state(&hex(peer), doc, state)?)
    }

    fn peer_has(&mut self, doc: &str, heads: &[Hash]) -> Result<()> {
        Ok(self.store.peer_has(doc, heads)?)
    }

    fn redeem_invite(
        &mut self,
        community: &str,
        peer: &[u8; 32],
        secret: &Hash,
    ) -> Result<Result<(), String>> {
        let key = self.key;
        let peer_hex = hex(peer);
        let r = self.store.write(|w| -> Result<Result<(), String>> {
            if let Err(reason) = w.redeem_invite(secret, community, &peer_hex, now_ms())? {
                return Ok(Err(reason));
            }
            match append_op(
                w,
                key,
                community,
                OpKind::Add {
                    member: *peer,
                    role: Role::Member,
                },
                "add member",
            ) {
                Ok(()) => Ok(Ok(())),
                Err(CoreError::NotAllowed(reason)) => Err(CoreError::NotAllowed(reason)),
                Err(e) => Err(e),
            }
        });
        match r {
            Err(CoreError::NotAllowed(reason)) => Ok(Err(reason)),
            other => other,
        }
    }
}

/// One connection's handler: its own store connection and session.
struct CoreHandler {
    store: Store,
    key: ed25519_dalek::SigningKey,
    actor: ActorId,
    session: Session,
    joins: Vec<(String, Hash)>,
    peer_hex: String,
    /// Whether this session wrote anything (then the WAL is checkpointed
    /// at the end).
    received: bool,
}

impl CoreHandler {
    fn repo(&mut self) -> SyncRepo<'_> {
        SyncRepo {
            store: &mut self.store,
            key: &self.key,
            actor: self.actor.clone(),
        }
    }
}

impl PeerHandler for CoreHandler {
    fn start(&mut self) -> Result<Vec<Msg>, String> {
        let _ = self.store.peer_seen(&self.peer_hex, None, now_ms());
        let joins = self.joins.clone();
        let mut session = std::mem::replace(&mut self.session, Session::new([0; 32]));
        let r = session
            .start(&mut self.repo(), &joins)
            .map_err(|e| e.to_string());
        self.session = session;
        r
    }

    fn on_message(&mut self, msg: Msg) -> Result<Vec<Msg>, String> {
        let mut session = std::mem::replace(&mut self.session, Session::new([0; 32]));
        let r = session
            .handle(&mut self.repo(), msg)
            .map_err(|e| e.to_string());
        self.session = session;
        r
    }

    /// A burst of messages in one store transaction: one fsync for many
    /// received documents. On error the whole burst is rolled back (the
    /// session closes; checkpoints never ran ahead of the data).
    fn on_messages(&mut self, msgs: Vec<Msg>) -> Result<Vec<Msg>, String> {
        self.store.begin_batch().map_err(|e| e.to_string())?;
        let mut session = std::mem::replace(&mut self.session, Session::new([0; 32]));
        let mut out = Vec::new();
        let mut result = Ok(());
        for m in msgs {
            match session.handle(&mut self.repo(), m) {
                Ok(o) => out.extend(o),
                Err(e) => {
                    result = Err(e.to_string());
                    break;
                }
            }
        }
        self.session = session;
        match result {
            Ok(()) => {
                self.store.commit_batch().map_err(|e| e.to_string())?;
                self.received = true;
                Ok(out)
            }
            Err(e) => {
                let _ = self.store.rollback_batch();
                Err(e)
            }
        }
    }

    fn on_local_change(&mut self, community: &str, doc: &str) -> Result<Vec<Msg>, String> {
        let mut session = std::mem::replace(&mut self.session, Session::new([0; 32]));
        let r = session
            .local_change(&mut self.repo(), community, doc)
            .map_err(|e| e.to_string());
        self.session = session;
        r
    }

    fn converged(&self) -> bool {
        self.session.converged()
    }

    fn progress(&self) -> Progress {
        self.session.progress()
    }

    fn finish(&mut self, stats: &Stats, error: Option<&str>) {
        let now = now_ms();
        let p = self.session.progress();
        let _ = self.store.peer_bytes(
            &self.peer_hex,
            stats.bytes_in.load(Ordering::Relaxed),
            stats.bytes_out.load(Ordering::Relaxed),
        );
        let _ = self.store.set_pending_in(&self.peer_hex, p.total - p.done);
        if error.is_none() || self.session.converged() {
            let _ = self.store.peer_synced(&self.peer_hex, now);
        }
        if self.received {
            let _ = self.store.checkpoint_wal();
        }
    }
}

/// Opens a handler per connection on the home's store.
struct Factory {
    db: DbHandle,
    secret: [u8; 32],
}

impl HandlerFactory for Factory {
    fn handler(
        &self,
        peer: [u8; 32],
        joins: Vec<(String, [u8; 32])>,
    ) -> Result<Box<dyn PeerHandler>, String> {
        let key = ed25519_dalek::SigningKey::from_bytes(&self.secret);
        if peer == key.verifying_key().to_bytes() {
            return Err("refusing a connection from this device itself".into());
        }
        let actor = actor_from_key(&key.verifying_key().to_bytes());
        let mut store = self.db.open().map_err(|e| e.to_string())?;
        store.set_actor(actor.clone());
        Ok(Box::new(CoreHandler {
            store,
            key,
            actor,
            session: Session::new(peer),
            joins,
            peer_hex: hex::encode(peer),
            received: false,
        }))
    }
}

const NODE_ADDR: &str = "node_addr";

impl Outpost {
    /// Starts this home's network node.
    pub async fn node(&self, config: &NetConfig) -> Result<Node> {
        let factory = Arc::new(Factory {
            db: self.db(),
            secret: self.device_key().secret_bytes(),
        });
        Ok(Node::spawn(&self.device_key().secret_bytes(), config, factory).await?)
    }

    /// Records where this home's node listens (for invitations).
    pub fn set_node_addr(&self, addr: &EndpointAddr) -> Result<()> {
        let json = serde_json::to_string(addr).map_err(|e| CoreError::Home(e.to_string()))?;
        Ok(self.store().set_meta(NODE_ADDR, &json)?)
    }

    /// The last address `serve` reported, or just this device's id (which
    /// mDNS can resolve on a LAN).
    pub fn node_addr(&self) -> Result<EndpointAddr> {
        if let Some(json) = self.store().meta(NODE_ADDR)?
            && let Ok(addr) = serde_json::from_str::<EndpointAddr>(&json)
        {
            return Ok(addr);
        }
        let id = iroh_id(&self.device_key().public())?;
        Ok(EndpointAddr::new(id))
    }

    pub fn remember_peer(&self, addr: &EndpointAddr) -> Result<()> {
        let json = serde_json::to_string(addr).map_err(|e| CoreError::Home(e.to_string()))?;
        Ok(self
            .store()
            .peer_seen(&hex::encode(addr.id.as_bytes()), Some(&json), now_ms())?)
    }

    /// Known peers with an address to dial.
    pub fn known_peer_addrs(&self) -> Result<Vec<EndpointAddr>> {
        Ok(self
            .store()
            .peers()?
            .into_iter()
            .filter_map(|p| {
                p.addr
                    .and_then(|a| serde_json::from_str::<EndpointAddr>(&a).ok())
            })
            .collect())
    }
}

pub(crate) fn iroh_id(key: &[u8; 32]) -> Result<outpost_net::EndpointId> {
    outpost_net::EndpointId::from_bytes(key).map_err(|e| CoreError::Key {
        path: PathBuf::new(),
        msg: e.to_string(),
    })
}

/// Result of `sync --once` or `join`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncSummary {
    pub peers: Vec<Report>,
    pub converged: bool,
}

/// Invitations to redeem in a session: (community, one-time secret).
pub type Joins = Vec<(String, [u8; 32])>;

/// Runs one session with each peer in turn until reconciled.
pub async fn sync_once(node: &Node, peers: Vec<(EndpointAddr, Joins)>) -> SyncSummary {
    let mut reports = Vec::new();
    for (addr, joins) in peers {
        let id = addr.id;
        match node.sync_with(addr, joins, Mode::Once).await {
            Ok(r) => reports.push(r),
            Err(e) => reports.push(Report {
                peer: id.to_string(),
                error: Some(e.to_string()),
                ..Report::default()
            }),
        }
    }
    let converged = !reports.is_empty() && reports.iter().all(|r| r.converged && r.error.is_none());
    SyncSummary {
        peers: reports,
        converged,
    }
}

/// Polls the store's change feed every `every` and calls `on_change` with
/// the (community, document) pairs that changed: locally, in another
/// process on this home, or from another peer. Runs until dropped.
pub async fn watch_feed(
    db: DbHandle,
    every: std::time::Duration,
    mut on_change: impl FnMut(&[(String, String)]) + Send,
) {
    let Ok(store) = db.open() else { return };
    let mut seen = store.feed_head().unwrap_or(0);
    loop {
        tokio::time::sleep(every).await;
        let Ok(head) = store.feed_head() else {
            continue;
        };
        if head == seen {
            continue;
        }
        match store.changed_since(seen, 10_000) {
            Ok(changed) => {
                let docs: Vec<(String, String)> = changed
                    .iter()
                    .filter_map(|(_, doc)| {
                        store
                            .community_of(doc)
                            .ok()
                            .flatten()
                            .map(|c| (c, doc.clone()))
                    })
                    .collect();
                if !docs.is_empty() {
                    on_change(&docs);
                }
                seen = changed.last().map_or(head, |(s, _)| *s).max(seen);
            }
            Err(e) => tracing::warn!("reading the change feed: {e}"),
        }
    }
}

/// Tells live sessions about every document that changed (that is also
/// how a hub forwards one member's change to the others).
async fn push_changes(db: DbHandle, node: Arc<Node>) {
    watch_feed(db, std::time::Duration::from_millis(150), move |docs| {
        for (c, doc) in docs {
            node.notify(c, doc);
        }
    })
    .await
}

/// Members discovered on the LAN by mDNS.
type LanPeers =
    Arc<std::sync::Mutex<std::collections::HashMap<outpost_net::EndpointId, EndpointAddr>>>;

/// A background peer: what `outpost serve` runs, and what the desktop app
/// runs for as long as it is open.
pub struct Running {
    node: Arc<Node>,
    relay: Option<outpost_net::Relay>,
    lan: LanPeers,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The embedded relay's URL, when this peer runs one.
    pub fn relay_url(&self) -> Option<String> {
        self.relay.as_ref().and_then(|r| r.url())
    }

    /// Ids (hex) of endpoints seen on the LAN.
    pub fn lan_peers(&self) -> Vec<String> {
        self.lan
            .lock()
            .map(|m| m.keys().map(|id| hex::encode(id.as_bytes())).collect())
            .unwrap_or_default()
    }

    /// Ids (hex) of peers with a live session now.
    pub fn connected(&self) -> Vec<String> {
        self.node
            .connected()
            .iter()
            .map(|id| hex::encode(id.as_bytes()))
            .collect()
    }

    /// Stops the node and its tasks; when it returns, nothing of it still
    /// holds the home open.
    pub async fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            // Resolves once the aborted task has been dropped.
            let _ = t.await;
        }
        self.node.shutdown().await;
        if let Some(r) = self.relay {
            r.shutdown().await;
        }
    }
}

/// Checks an invitation ticket a user pasted.
pub fn parse_invite(ticket: &str) -> Result<outpost_net::InviteTicket> {
    use outpost_net::Ticket;
    let t = outpost_net::InviteTicket::decode_string(ticket.trim()).map_err(|_| {
        CoreError::Invalid(outpost_model::ValidationError::new(
            "ticket",
            "this is not an Outpost invitation",
        ))
    })?;
    if t.expires_at < now_ms() {
        return Err(CoreError::Invalid(outpost_model::ValidationError::new(
            "ticket",
            "this invitation expired; ask for a new one",
        )));
    }
    Ok(t)
}

/// Redeems an invitation with the inviter over `node`: proves the secret,
/// is added, and receives the community.
pub async fn join_with(node: &Node, ticket: &outpost_net::InviteTicket) -> Result<SyncSummary> {
    let joins = vec![(ticket.community.clone(), ticket.secret)];
    let summary = sync_once(node, vec![(ticket.inviter.clone(), joins)]).await;
    if !summary.converged {
        let reasons: Vec<String> = summary
            .peers
            .iter()
            .filter_map(|p| p.error.clone())
            .collect();
        return Err(CoreError::NotAllowed(format!(
            "could not join '{}': {}",
            ticket.name,
            if reasons.is_empty() {
                "the inviter did not answer".to_string()
            } else {
                reasons.join("; ")
            }
        )));
    }
    Ok(summary)
}

/// How long an invitation stays valid unless told otherwise.
pub const DEFAULT_INVITE_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A member as `member list` shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberInfo {
    #[serde(flatten)]
    pub member: outpost_model::Member,
    pub you: bool,
}

/// `outpost status`: this device, its communities and peers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub id: String,
    pub addr: EndpointAddr,
    pub communities: Vec<outpost_store::CommunityRow>,
    /// Items with changes no other member has yet.
    pub unsynced_items: i64,
    pub peers: Vec<outpost_store::PeerRow>,
}

/// Documents reconciled / announced in the sessions running now.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct SyncProgress {
    pub done: usize,
    pub total: usize,
}

/// A peer as the connectivity view shows it: known (with sync figures),
/// seen on the LAN, or both.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct PeerView {
    pub id: String,
    /// The member's display name, when a shared community has their profile.
    pub name: Option<String>,
    /// Shares at least one community with this device.
    pub member: bool,
    pub connected: bool,
    pub on_lan: bool,
    pub known: Option<outpost_store::PeerRow>,
}

/// This device's links: what the app's connectivity view and its global
/// indicator show.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Connectivity {
    pub id: String,
    /// A background node is running.
    pub online: bool,
    pub relay_url: Option<String>,
    pub peers: Vec<PeerView>,
    /// Items with changes no other member has yet.
    pub unsynced_items: i64,
    pub progress: SyncProgress,
}

impl Outpost {
    /// Display names of every member this device knows, by key (hex).
    pub fn member_names(&self) -> Result<std::collections::HashMap<String, String>> {
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
        let me = self.device_key().public_hex();
        let connected = running.map(|r| r.connected()).unwrap_or_default();
        let lan = running.map(|r| r.lan_peers()).unwrap_or_default();
        let view = |id: String, known: Option<outpost_store::PeerRow>| -> Result<PeerView> {
            Ok(PeerView {
                name: names.get(&id).cloned(),
                member: self.store().shares_a_community(&id)?,
                connected: connected.contains(&id),
                on_lan: lan.contains(&id),
                known,
                id,
            })
        };
        let mut peers = Vec::new();
        for row in self.store().peers()? {
            if row.id != me {
                peers.push(view(row.id.clone(), Some(row))?);
            }
        }
        for id in lan.iter().chain(connected.iter()) {
            if *id != me && !peers.iter().any(|p| &p.id == id) {
                peers.push(view(id.clone(), None)?);
            }
        }
        let progress = running
            .map(|r| {
                let p = r.node().progress();
                SyncProgress {
                    done: p.done,
                    total: p.total,
                }
            })
            .unwrap_or_default();
        Ok(Connectivity {
            id: me,
            online: running.is_some(),
            relay_url: self.relay_url()?,
            peers,
            unsynced_items: self.store().unsynced_items()?,
            progress,
        })
    }
}

impl Outpost {
    /// Creates a one-time invitation to `community`, valid for `ttl`.
    /// Only admins can invite (they sign the invitee's `Add`).
    pub fn invite(
        &self,
        community: &str,
        ttl: std::time::Duration,
    ) -> Result<outpost_net::InviteTicket> {
        let c = self.community(community)?;
        if !self.is_admin(&c.id)? {
            return Err(CoreError::NotAllowed(format!(
                "only an admin of '{}' can invite",
                c.name
            )));
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
        let now = now_ms();
        let expires_at = now + ttl.as_millis() as i64;
        self.store()
            .create_invite(&secret, &c.id, now, expires_at)?;
        Ok(outpost_net::InviteTicket {
            community: c.id,
            name: c.name,
            inviter: self.node_addr()?,
            secret,
            expires_at,
        })
    }

    /// Whether this device is an admin of the community `id` (its full id).
    pub fn is_admin(&self, id: &str) -> Result<bool> {
        let me = self.device_key().public_hex();
        Ok(self.store().role(id, &me)?.as_deref() == Some("admin"))
    }

    pub fn members(&self, community: &str) -> Result<Vec<MemberInfo>> {
        let me = self.device_key().public_hex();
        Ok(self
            .community(community)?
            .members
            .into_iter()
            .map(|m| MemberInfo {
                you: m.id == me,
                member: m,
            })
            .collect())
    }

    /// Resolves a member by display name or a unique prefix of their key.
    fn resolve_member(&self, community: &str, who: &str) -> Result<(String, [u8; 32])> {
        let c = self.resolve_community(community)?;
        let all = self.store().members(&c)?;
        let profiles = self.community(&c)?.members;
        let wanted = who.trim().to_lowercase();
        let found: Vec<&String> = all
            .iter()
            .map(|(k, _)| k)
            .filter(|k| {
                k.starts_with(&wanted) && wanted.len() >= 4
                    || profiles
                        .iter()
                        .any(|p| &p.id == *k && p.name.to_lowercase() == wanted)
            })
            .collect();
        match found.as_slice() {
            [k] => {
                let bytes = hex::decode(k)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok());
                bytes
                    .map(|b| (c.clone(), b))
                    .ok_or_else(|| CoreError::Home(format!("bad member key {k}")))
            }
            [] => Err(CoreError::NotAllowed(format!(
                "no member '{who}' in this community"
            ))),
            more => Err(CoreError::NotAllowed(format!(
                "'{who}' matches {} members; give more of the key",
                more.len()
            ))),
        }
    }

    /// Adds a member by their device id (admins only), for someone who
    /// cannot redeem an invitation over a network: they read their id
    /// (`outpost whoami`) to an admin, who adds them and hands them a bundle
    /// (`outpost export`) on a USB stick.
    pub fn member_add(&mut self, community: &str, device: &str) -> Result<String> {
        let c = self.resolve_community(community)?;
        let member: [u8; 32] = hex::decode(device.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                CoreError::Home(format!(
                    "'{device}' is not a device id (64 hex digits, as `outpost whoami` shows)"
                ))
            })?;
        let key = self.device_key().signing().clone();
        self.store_mut().write(|w| {
            append_op(
                w,
                &key,
                &c,
                OpKind::Add {
                    member,
                    role: Role::Member,
                },
                "add member",
            )
        })?;
        Ok(hex::encode(member))
    }

    /// Removes a member (admins only). They keep what they already have but
    /// receive nothing new from any peer that has learned of the removal.
    pub fn member_remove(&mut self, community: &str, who: &str) -> Result<String> {
        let (c, member) = self.resolve_member(community, who)?;
        let key = self.device_key().signing().clone();
        self.store_mut()
            .write(|w| append_op(w, &key, &c, OpKind::Remove { member }, "remove member"))?;
        Ok(hex::encode(member))
    }

    pub fn member_role(
        &mut self,
        community: &str,
        who: &str,
        role: outpost_model::Role,
    ) -> Result<String> {
        let (c, member) = self.resolve_member(community, who)?;
        let role = match role {
            outpost_model::Role::Admin => Role::Admin,
            outpost_model::Role::Member => Role::Member,
        };
        let key = self.device_key().signing().clone();
        self.store_mut()
            .write(|w| append_op(w, &key, &c, OpKind::SetRole { member, role }, "change role"))?;
        Ok(hex::encode(member))
    }

    /// Publishes this device's profile in a community it has joined.
    pub fn publish_profile(&mut self, community: &str) -> Result<()> {
        let c = self.resolve_community(community)?;
        let profile = self.profile().clone();
        self.store_mut().write(|w| -> Result<()> {
            let mut loaded = w.load(&c)?;
            let mut doc = CommunityDoc::new(loaded.doc)?;
            doc.set_own_profile(&profile, now_ms())?;
            loaded.doc = doc.into_automerge();
            w.save(&c, &mut loaded)?;
            Ok(())
        })
    }

    pub fn status(&self) -> Result<Status> {
        let unsynced_items = self.store().unsynced_items()?;
        Ok(Status {
            id: self.device_key().public_hex(),
            addr: self.node_addr()?,
            communities: self.communities()?,
            unsynced_items,
            peers: self.store().peers()?,
        })
    }

    /// After [`join_with`]: remembers the inviter as a peer and publishes
    /// this member's profile in the community (sent at the next sync).
    pub fn after_join(&mut self, ticket: &outpost_net::InviteTicket) -> Result<()> {
        self.remember_peer(&ticket.inviter)?;
        self.publish_profile(&ticket.community)
    }

    /// Starts a long-lived peer: accepts members, dials known and
    /// LAN-discovered members (with backoff), and pushes every change
    /// (local or forwarded) to live sessions. With `relay`, also runs an
    /// embedded iroh relay on that address for members on the WAN, and
    /// uses it itself.
    pub async fn start(
        &self,
        config: &NetConfig,
        relay: Option<std::net::SocketAddr>,
    ) -> Result<Running> {
        let relay = match relay {
            Some(bind) => Some(outpost_net::Relay::spawn(bind).await?),
            None => None,
        };
        let mut config = config.clone();
        if config.relay_url.is_none() {
            config.relay_url = relay.as_ref().and_then(|r| r.url());
        }
        let node = Arc::new(self.node(&config).await?);
        self.set_node_addr(&node.addr())?;
        let db = self.db();
        let lan = LanPeers::default();
        let tasks = vec![
            tokio::spawn(push_changes(db.clone(), node.clone())),
            tokio::spawn(dial_members(db, node.clone(), lan.clone())),
        ];
        Ok(Running {
            node,
            relay,
            lan,
            tasks,
        })
    }

    /// Runs [`Outpost::start`] until Ctrl-C / SIGTERM.
    pub async fn serve(
        &self,
        config: &NetConfig,
        relay: Option<std::net::SocketAddr>,
        on_ready: impl FnOnce(&Node, Option<&str>),
    ) -> Result<()> {
        let running = self.start(config, relay).await?;
        on_ready(running.node(), running.relay_url().as_deref());
        shutdown_signal().await;
        running.shutdown().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Keeps live sessions with every reachable member: known peers with an
/// address, and members found on the LAN. Failed dials back off
/// exponentially (1 s doubling to 60 s).
async fn dial_members(db: DbHandle, node: Arc<Node>, lan: LanPeers) {
    use n0_future::StreamExt;
    let Ok(store) = db.open() else { return };
    if let Some(mut events) = node.lan_peers().await {
        let lan = lan.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered {
                    endpoint_info, ..
                } = ev
                    && let Ok(mut m) = lan.lock()
                {
                    m.insert(
                        endpoint_info.endpoint_id,
                        EndpointAddr::new(endpoint_info.endpoint_id),
                    );
                }
            }
        });
    }
    let mut backoff: std::collections::HashMap<outpost_net::EndpointId, (std::time::Instant, u64)> =
        Default::default();
    let in_flight: Arc<std::sync::Mutex<std::collections::HashSet<outpost_net::EndpointId>>> =
        Arc::default();
    loop {
        let mut targets: Vec<EndpointAddr> = store
            .peers()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                p.addr
                    .and_then(|a| serde_json::from_str::<EndpointAddr>(&a).ok())
            })
            .collect();
        if let Ok(m) = lan.lock() {
            for (id, addr) in m.iter() {
                let is_member = store
                    .shares_a_community(&hex::encode(id.as_bytes()))
                    .unwrap_or(false);
                if is_member && !targets.iter().any(|t| t.id == *id) {
                    targets.push(addr.clone());
                }
            }
        }
        let connected = node.connected();
        for addr in targets {
            let id = addr.id;
            let busy = in_flight.lock().map(|s| s.contains(&id)).unwrap_or(true);
            if id == node.id() || connected.contains(&id) || busy {
                continue;
            }
            if let Some((when, _)) = backoff.get(&id)
                && std::time::Instant::now() < *when
            {
                continue;
            }
            let delay = backoff.get(&id).map_or(1, |(_, d)| (*d * 2).min(60));
            backoff.insert(
                id,
                (
                    std::time::Instant::now() + std::time::Duration::from_secs(delay),
                    delay,
                ),
            );
            if let Ok(mut s) = in_flight.lock() {
                s.insert(id);
            }
            let node = node.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                match node.sync_with(addr, vec![], Mode::Live).await {
                    Ok(r) => {
                        tracing::info!(peer = %id.fmt_short(), error = ?r.error, "session ended")
                    }
                    Err(e) => tracing::debug!("dial: {e}"),
                }
                if let Ok(mut s) = in_flight.lock() {
                    s.remove(&id);
                }
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
