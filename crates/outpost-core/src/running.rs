//! The running node: what `outpost serve` and the desktop app keep up
//! (accepting members, dialling known and LAN members with backoff,
//! pushing every change to live sessions), one-shot syncs, and the change
//! feed watcher that drives pushes and the UI's live updates.

use crate::open::DbHandle;
use crate::sync::handler::Factory;
use crate::{CoreError, Outpost, Result};
use outpost_net::{EndpointAddr, Mode, NetConfig, Node, Report};
use serde::Serialize;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Result of a one-shot sync (`sync`) or a join.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSummary {
    /// One report per peer: bytes and documents each way, and any error.
    pub peers: Vec<Report>,
    /// Every session reconciled everything it shares.
    pub converged: bool,
}

impl SyncSummary {
    /// The peers' errors, joined.
    pub fn failures(&self) -> String {
        let reasons: Vec<String> = self.peers.iter().filter_map(|p| p.error.clone()).collect();
        reasons.join("; ")
    }
}

/// The embedded relay of a hub (`outpost serve --relay`): where it
/// listens, and TLS with the operator's certificate if given. It forwards
/// only for this device, for current members of a community the hub
/// holds, and — while the hub holds an unexpired invitation — for anyone
/// (an invitee on the WAN must reach the hub to redeem it; the window
/// closes when the invitations are used, revoked or expire).
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Where the relay listens (plain HTTP; with TLS, only captive-portal
    /// probes there).
    pub bind: std::net::SocketAddr,
    /// HTTPS with the operator's certificate and key.
    pub tls: Option<outpost_net::RelayTls>,
}

/// Invitations to redeem in a session: (community, one-time secret).
pub(crate) type Joins = Vec<(String, [u8; 32])>;

/// Runs one session with each peer in turn until reconciled.
pub(crate) async fn sync_once(node: &Node, peers: Vec<(EndpointAddr, Joins)>) -> SyncSummary {
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

/// A document that changed, and its community.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedDoc {
    /// The community's id.
    pub community: outpost_model::CommunityId,
    /// The document's id (the community's own, or an item's).
    pub doc: String,
}

/// Polls the store's change feed every `every` and calls `on_change` with
/// the (community, document) pairs that changed: locally, in another
/// process on this home, or from another peer. Runs until dropped.
pub(crate) async fn watch_feed(
    db: DbHandle,
    every: std::time::Duration,
    mut on_change: impl FnMut(&[ChangedDoc]) + Send,
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
                let docs: Vec<ChangedDoc> = changed
                    .iter()
                    .filter_map(|(_, doc)| {
                        store
                            .community_of(doc)
                            .ok()
                            .flatten()
                            .and_then(|c| c.parse().ok())
                            .map(|community| ChangedDoc {
                                community,
                                doc: doc.clone(),
                            })
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
        for d in docs {
            node.notify(&d.community, &d.doc);
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
    /// Owned: aborted (and awaited) by `shutdown`, aborted when dropped.
    tasks: JoinSet<()>,
}

impl Running {
    pub(crate) fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// This node's address as a ticket another member can sync with
    /// (`outpost sync --peer`).
    pub fn ticket(&self) -> String {
        outpost_net::addr_ticket(&self.node.addr())
    }

    /// This node's endpoint id (the device id, as iroh prints it).
    pub fn id(&self) -> String {
        self.node.id().to_string()
    }

    /// Documents reconciled / announced in the sessions running now.
    pub fn progress(&self) -> crate::SyncProgress {
        let p = self.node.progress();
        crate::SyncProgress {
            done: p.done,
            total: p.total,
        }
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
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        // Resolves once every aborted task has been dropped.
        while self.tasks.join_next().await.is_some() {}
        self.node.shutdown().await;
        if let Some(r) = self.relay {
            r.shutdown().await;
        }
    }
}

impl Outpost {
    /// Starts this home's network node (no dialling, no pushing: one-shot
    /// syncs and joins drive it). The relay URL set in this home is used
    /// unless `config` names one.
    pub(crate) async fn node(&self, config: &NetConfig) -> Result<Node> {
        let mut config = config.clone();
        if config.relay_url.is_none() {
            config.relay_url = self.relay_url()?;
        }
        let factory = Arc::new(Factory::new(self.db(), self.key.secret_bytes()));
        self.node_with(&config, factory).await
    }

    async fn node_with(&self, config: &NetConfig, factory: Arc<Factory>) -> Result<Node> {
        let mut config = config.clone();
        if config.relay_url.is_none() {
            config.relay_url = self.relay_url()?;
        }
        Ok(Node::spawn(&self.key.secret_bytes(), &config, factory).await?)
    }

    /// Calls `on_change` every `every` with the documents that changed in
    /// this home (locally, in another process on it, or from a peer):
    /// what the desktop turns into live view updates. Runs until dropped.
    pub fn watch_changes(
        &self,
        every: std::time::Duration,
        on_change: impl FnMut(&[ChangedDoc]) + Send + 'static,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        watch_feed(self.db(), every, on_change)
    }

    /// Syncs once with each peer in `tickets` (node address tickets or
    /// invitations), or with every known peer when none is given, until
    /// reconciled; remembers the peers. `on_progress` is called while it
    /// runs with documents done / announced.
    pub async fn sync_known(
        &self,
        config: &NetConfig,
        tickets: &[String],
        mut on_progress: impl FnMut(crate::SyncProgress),
    ) -> Result<SyncSummary> {
        let mut targets = Vec::new();
        for t in tickets {
            let (addr, _) = outpost_net::parse_peer(t).map_err(|_| {
                outpost_model::ValidationError::new(
                    "peer",
                    outpost_model::Problem::NotATicket { value: t.clone() },
                )
            })?;
            targets.push((addr, vec![]));
        }
        if targets.is_empty() {
            targets = self
                .known_peer_addrs()?
                .into_iter()
                .map(|a| (a, vec![]))
                .collect();
        }
        if targets.is_empty() {
            return Err(CoreError::NoKnownPeers);
        }
        let addrs: Vec<EndpointAddr> = targets.iter().map(|(a, _)| a.clone()).collect();
        let summary = self
            .sync_with_progress(config, targets, &mut on_progress)
            .await?;
        for addr in &addrs {
            self.remember_peer(addr)?;
        }
        Ok(summary)
    }

    /// Starts a node, runs one session with each target until reconciled,
    /// and closes the node.
    pub(crate) async fn sync_with_progress(
        &self,
        config: &NetConfig,
        targets: Vec<(EndpointAddr, Joins)>,
        on_progress: &mut (dyn FnMut(crate::SyncProgress) + '_),
    ) -> Result<SyncSummary> {
        let node = self.node(config).await?;
        let sync = sync_once(&node, targets);
        tokio::pin!(sync);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        let summary = loop {
            tokio::select! {
                out = &mut sync => break out,
                _ = tick.tick() => {
                    let p = node.progress();
                    on_progress(crate::SyncProgress { done: p.done, total: p.total });
                }
            }
        };
        node.shutdown().await;
        Ok(summary)
    }

    /// Starts a long-lived peer: accepts members, dials known and
    /// LAN-discovered members (with backoff), and pushes every change
    /// (local or forwarded) to live sessions. With `relay`, also runs an
    /// embedded iroh relay for members on the WAN (members only: see
    /// [`RelayOptions`]), and uses it itself.
    pub async fn start(&self, config: &NetConfig, relay: Option<RelayOptions>) -> Result<Running> {
        let factory = Arc::new(Factory::new(self.db(), self.key.secret_bytes()));
        let relay = match relay {
            Some(options) => {
                let gate = factory.clone();
                let access: outpost_net::RelayAccess = Arc::new(move |peer| gate.relays_for(peer));
                Some(outpost_net::Relay::spawn(options.bind, access, options.tls.as_ref()).await?)
            }
            None => None,
        };
        let mut config = config.clone();
        if config.relay_url.is_none() {
            config.relay_url = relay.as_ref().and_then(|r| r.url());
        }
        let node = Arc::new(self.node_with(&config, factory).await?);
        self.set_node_addr(&node.addr())?;
        let db = self.db();
        let lan = LanPeers::default();
        let mut tasks = JoinSet::new();
        tasks.spawn(push_changes(db.clone(), node.clone()));
        tasks.spawn(dial_members(db, node.clone(), lan.clone()));
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
        relay: Option<RelayOptions>,
        on_ready: impl FnOnce(&Running),
    ) -> Result<()> {
        let running = self.start(config, relay).await?;
        on_ready(&running);
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

/// When each peer may be dialled next: failed dials back off (1 s
/// doubling to 60 s); a session that worked starts the count afresh, so a
/// peer that drops after hours connected is dialled again at once.
#[derive(Debug)]
struct Backoff<K> {
    next: std::collections::HashMap<K, (std::time::Instant, u64)>,
}

impl<K> Default for Backoff<K> {
    fn default() -> Self {
        Self {
            next: std::collections::HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq> Backoff<K> {
    /// Whether `id` may be dialled at `now`; if so, the dial after this
    /// one waits twice as long as this one would have.
    fn due(&mut self, id: K, now: std::time::Instant) -> bool {
        if self.next.get(&id).is_some_and(|(when, _)| now < *when) {
            return false;
        }
        let delay = self.next.get(&id).map_or(1, |(_, d)| (*d * 2).min(60));
        self.next
            .insert(id, (now + std::time::Duration::from_secs(delay), delay));
        true
    }

    /// A session with `id` worked.
    fn succeeded(&mut self, id: &K) {
        self.next.remove(id);
    }
}

/// A live session that reconciled, or lasted this long, worked, whatever
/// ended it.
const SUCCESSFUL_SESSION: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps live sessions with every reachable member: known peers with an
/// address, and members found on the LAN. Failed dials back off
/// exponentially (1 s doubling to 60 s).
async fn dial_members(db: DbHandle, node: Arc<Node>, lan: LanPeers) {
    use n0_future::StreamExt;
    let Ok(store) = db.open() else { return };
    // Owned by this task: dropped (and so aborted) with it.
    let mut children = JoinSet::new();
    if let Some(mut events) = node.lan_peers().await {
        let lan = lan.clone();
        children.spawn(async move {
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
    let backoff: Arc<std::sync::Mutex<Backoff<outpost_net::EndpointId>>> = Arc::default();
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
            let due = backoff
                .lock()
                .is_ok_and(|mut b| b.due(id, std::time::Instant::now()));
            if !due {
                continue;
            }
            if let Ok(mut s) = in_flight.lock() {
                s.insert(id);
            }
            let node = node.clone();
            let in_flight = in_flight.clone();
            let backoff = backoff.clone();
            children.spawn(async move {
                let started = std::time::Instant::now();
                match node.sync_with(addr, vec![], Mode::Live).await {
                    Ok(r) => {
                        tracing::info!(peer = %id.fmt_short(), error = ?r.error, "session ended");
                        // A session that worked: after a later drop, dial
                        // again at once rather than after the old backoff.
                        if (r.reconciled || started.elapsed() >= SUCCESSFUL_SESSION)
                            && let Ok(mut b) = backoff.lock()
                        {
                            b.succeeded(&id);
                        }
                    }
                    Err(e) => tracing::debug!("dial: {e}"),
                }
                if let Ok(mut s) = in_flight.lock() {
                    s.remove(&id);
                }
            });
        }
        // Reaps finished dials so the set holds only live ones.
        while children.try_join_next().is_some() {}
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::{Duration, Instant};

    #[test]
    fn failed_dials_back_off_and_a_session_that_worked_resets_it() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // Failures: 1, 2, 4, ... s apart, capped at 60 s.
        assert!(b.due("hub", t0));
        assert!(!b.due("hub", t0 + Duration::from_millis(900)));
        assert!(b.due("hub", t0 + s(1)));
        assert!(!b.due("hub", t0 + s(2)));
        assert!(b.due("hub", t0 + s(3)));
        let mut t = t0 + s(3);
        for _ in 0..10 {
            t += s(61);
            assert!(b.due("hub", t));
        }
        assert!(!b.due("hub", t + s(59)), "capped at 60 s");
        assert!(b.due("other", t), "per peer");
        // A session worked, then dropped: dialled again at once, and the
        // count starts from 1 s.
        b.succeeded(&"hub");
        assert!(b.due("hub", t + s(1)));
        assert!(!b.due("hub", t + Duration::from_millis(1500)));
        assert!(b.due("hub", t + s(2)));
    }
}
