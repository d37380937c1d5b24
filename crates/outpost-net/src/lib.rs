//! Outpost's network layer: an iroh endpoint (the device key is the
//! endpoint id) speaking ALPN `outpost/sync/1`, and the driver that runs one
//! sync session per connection.
//!
//! Offline by default: no public relay, DNS or discovery service. Peers are
//! found by mDNS on the LAN (`iroh-mdns-address-lookup`), by the direct
//! addresses in tickets, or through a self-hosted relay URL. Port mapping is
//! off unless asked for.
//!
//! This crate knows frames and connections, not storage: what to say and
//! what to accept is decided by a [`PeerHandler`] that the layer above
//! (`outpost-core`) supplies per connection. Each session runs on its own
//! blocking worker, so a slow, hostile or broken peer never stalls another.

mod drive;
mod relay;
mod ticket;

pub use drive::ONCE_SILENCE;
use drive::{Input, drive};
pub use iroh::{EndpointAddr, EndpointId, RelayUrl};
pub use iroh_tickets::Ticket;
pub use outpost_sync::ALPN;
pub use relay::{Relay, RelayAccess, RelayTls};
pub use ticket::{InviteTicket, addr_ticket, parse_peer};

use iroh::endpoint::{Connection, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, RelayMode, SecretKey};
use outpost_sync::session::Progress;
use outpost_sync::wire::{Decoder, Msg};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

pub type Key = [u8; 32];

/// What the layer above decides for one connection.
pub trait PeerHandler: Send + 'static {
    /// The opening messages.
    fn start(&mut self) -> Result<Vec<Msg>, String>;
    /// A message from the peer; an error closes this session (logged).
    fn on_message(&mut self, msg: Msg) -> Result<Vec<Msg>, String>;
    /// A burst of messages that arrived together (handlers may apply them
    /// in one transaction). Replies are sent only after this returns.
    fn on_messages(&mut self, msgs: Vec<Msg>) -> Result<Vec<Msg>, String> {
        let mut out = Vec::new();
        for m in msgs {
            out.extend(self.on_message(m)?);
        }
        Ok(out)
    }
    /// A document changed locally (or arrived from another peer).
    fn on_local_change(&mut self, community: &str, doc: &str) -> Result<Vec<Msg>, String>;
    /// Everything shared is reconciled both ways.
    fn converged(&self) -> bool;
    /// Whether this session shares any community with the peer (a
    /// session on probation that does not by its deadline is closed).
    fn shares(&self) -> bool;
    fn progress(&self) -> Progress;
    /// The session ended.
    fn finish(&mut self, stats: &Stats, error: Option<&str>);
}

/// Makes a handler for each connection (incoming, or dialed with `joins`:
/// invitations to redeem).
pub trait HandlerFactory: Send + Sync + 'static {
    fn handler(
        &self,
        peer: Key,
        joins: Vec<(String, [u8; 32])>,
    ) -> Result<Box<dyn PeerHandler>, String>;
    /// Whether a peer that connected is one this node serves: a member (or
    /// a removed member) of a community held here. Called for every
    /// incoming connection before anything is read, so it must be cheap
    /// and must not block for long.
    fn knows(&self, peer: Key) -> bool;
    /// A peer [`Self::knows`] did not know, judged from what it sent
    /// first (`opening`: its `Hello`, then whatever followed).
    fn admit(&self, peer: Key, opening: &[Msg]) -> Admission;
}

/// What to do with an unknown peer after its opening messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// It may have a session (it redeems an invitation held here).
    Admit,
    /// It may have a session on probation: it must come to share a
    /// community within [`PROBATION`] (it offers one this node holds
    /// nothing of: a member added by device id, before its first copy).
    Probation,
    /// Not yet decided: read on (until the handshake deadline).
    Wait,
    /// No session.
    Refuse(String),
}

/// An unknown peer must have said who it is (`Hello`, and the `Join` it
/// redeems) within this.
pub const HANDSHAKE: Duration = Duration::from_secs(5);

/// Unknown peers in the handshake at once, at most; more are refused
/// straight away (members are never counted, nor kept waiting).
pub const MAX_UNKNOWN: usize = 128;

/// Bytes an unknown peer may send before it is admitted (a `Hello` and a
/// few `Join`s are a few hundred).
pub const HANDSHAKE_BYTES: usize = 64 * 1024;

/// Sessions on probation at once, at most, and how long one has to come
/// to share a community.
pub const MAX_PROBATION: usize = 4;
pub const PROBATION: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("could not start the network endpoint: {0}")]
    Bind(String),
    #[error("could not reach {peer}: {reason}")]
    Connect { peer: String, reason: String },
    #[error("{0}")]
    Config(String),
}

/// Wire counters for one session.
#[derive(Debug, Default)]
pub struct Stats {
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Bytes of frames that carried community data (anything but Hello/Bye).
    pub community_bytes_in: AtomicU64,
    pub community_bytes_out: AtomicU64,
    pub docs_in: AtomicU64,
    pub docs_out: AtomicU64,
}

/// A finished session, as `sync --once` reports it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub peer: String,
    pub converged: bool,
    /// Everything shared was reconciled at some point of the session (a
    /// live session ends when the link drops, not converged, yet worked).
    pub reconciled: bool,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub community_bytes_in: u64,
    pub community_bytes_out: u64,
    pub docs_in: u64,
    pub docs_out: u64,
    pub error: Option<String>,
}

impl Stats {
    fn report(
        &self,
        peer: &EndpointId,
        (converged, reconciled): (bool, bool),
        error: Option<String>,
    ) -> Report {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Report {
            peer: peer.to_string(),
            converged,
            reconciled: reconciled || converged,
            bytes_in: g(&self.bytes_in),
            bytes_out: g(&self.bytes_out),
            community_bytes_in: g(&self.community_bytes_in),
            community_bytes_out: g(&self.community_bytes_out),
            docs_in: g(&self.docs_in),
            docs_out: g(&self.docs_out),
            error,
        }
    }
}

/// How the endpoint binds and whom it may use.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Socket to bind (port 0: any free port).
    pub bind: SocketAddr,
    /// Advertise and discover on the LAN with mDNS.
    pub mdns: bool,
    /// A self-hosted relay, for members on the WAN.
    pub relay_url: Option<String>,
    /// UPnP / NAT-PMP port mapping (off unless asked for).
    pub port_mapping: bool,
    /// How long a one-off sync waits for a silent peer while it has
    /// nothing left to handle itself ([`ONCE_SILENCE`] unless a test
    /// needs it shorter).
    pub once_silence: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([0, 0, 0, 0], 0)),
            mdns: true,
            relay_url: None,
            port_mapping: false,
            once_silence: ONCE_SILENCE,
        }
    }
}

impl NetConfig {
    /// For tests on one machine: loopback only, no mDNS, no relay.
    pub fn loopback() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            mdns: false,
            relay_url: None,
            port_mapping: false,
            once_silence: ONCE_SILENCE,
        }
    }
}

/// Whether a session ends once reconciled, or stays for live updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Once,
    Live,
}

/// Dialing a peer and opening the session's stream give up after this.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Live sessions by peer, each with its session number: a peer may hold
/// two at once (both sides dialled, or a reconnect before the old
/// connection timed out), and every one of them hears of local changes
/// until it ends itself — one ending never unregisters another.
/// Their channels carry local changes only (this device's own feed).
/// Each with whether this side dialled it.
type Registry = Arc<Mutex<HashMap<EndpointId, Vec<(u64, (mpsc::UnboundedSender<Input>, bool))>>>>;

#[derive(Clone)]
struct Shared {
    /// This node's id.
    me: Key,
    factory: Arc<dyn HandlerFactory>,
    live: Registry,
    progress: Arc<Mutex<HashMap<EndpointId, Progress>>>,
    once_silence: Duration,
    /// Unknown peers in the handshake now.
    unknown: Arc<AtomicUsize>,
    /// Sessions on probation now.
    probation: Arc<AtomicUsize>,
    /// Incoming connections refused before any session (for tests and
    /// status).
    refused: Arc<AtomicU64>,
}

/// Holds one place of a bounded count; gives it back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What an unknown peer sent while it was being judged: the messages, the
/// decoder holding what followed them, and the bytes read.
pub(crate) struct Opening {
    pub(crate) msgs: Vec<(Msg, usize)>,
    pub(crate) decoder: Decoder,
    pub(crate) bytes: u64,
}

impl Shared {
    /// Reads an unknown peer's opening messages until the factory admits
    /// or refuses it, within [`HANDSHAKE`] and [`HANDSHAKE_BYTES`]; no
    /// worker and no store connection meanwhile.
    async fn handshake(
        &self,
        peer: Key,
        recv: &mut iroh::endpoint::RecvStream,
    ) -> Result<(Opening, Admission), String> {
        let mut opening = Opening {
            msgs: Vec::new(),
            decoder: Decoder::default(),
            bytes: 0,
        };
        let judged = tokio::time::timeout(HANDSHAKE, async {
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match recv.read(&mut buf).await {
                    Ok(Some(n)) => n,
                    Ok(None) => return Err("closed during the handshake".to_string()),
                    Err(e) => return Err(format!("read: {e}")),
                };
                opening.bytes += n as u64;
                if opening.bytes as usize > HANDSHAKE_BYTES {
                    return Err("too much before the handshake ended".into());
                }
                opening.decoder.push(&buf[..n]);
                loop {
                    let len = opening.decoder.wanted().map_err(|e| e.to_string())?;
                    match opening.decoder.next_msg().map_err(|e| e.to_string())? {
                        Some(msg) => opening.msgs.push((msg, len.unwrap_or(0) + 4)),
                        None => break,
                    }
                    let msgs: Vec<Msg> = opening.msgs.iter().map(|(m, _)| m.clone()).collect();
                    match self.factory.admit(peer, &msgs) {
                        Admission::Wait => {}
                        verdict => return Ok(verdict),
                    }
                }
            }
        })
        .await;
        match judged {
            Ok(Ok(verdict)) => Ok((opening, verdict)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "not a member of any community here (no invitation within {} s)",
                HANDSHAKE.as_secs()
            )),
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outpost sync protocol")
    }
}

impl ProtocolHandler for Shared {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let key = *peer.as_bytes();
        let refuse = |conn: &Connection, why: &str| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(peer = %peer.fmt_short(), "refused a connection: {why}");
            conn.close(1u32.into(), why.as_bytes());
            Ok(())
        };
        let mut opening = None;
        let mut probation = None;
        let (send, recv) = if self.factory.knows(key) {
            conn.accept_bi().await?
        } else {
            // A stranger: judged on the async threads from a few bytes,
            // under a deadline and a cap, before it costs a worker.
            let Some(_slot) = Slot::take(&self.unknown, MAX_UNKNOWN) else {
                return refuse(&conn, "busy");
            };
            let streams = match tokio::time::timeout(HANDSHAKE, conn.accept_bi()).await {
                Ok(s) => s?,
                Err(_) => return refuse(&conn, "no stream within the handshake"),
            };
            let (send, mut recv) = streams;
            match self.handshake(key, &mut recv).await {
                Ok((o, Admission::Admit)) => opening = Some(o),
                Ok((o, Admission::Probation)) => {
                    let Some(slot) = Slot::take(&self.probation, MAX_PROBATION) else {
                        return refuse(&conn, "busy");
                    };
                    probation = Some(slot);
                    opening = Some(o);
                }
                Ok((_, Admission::Refuse(why))) => return refuse(&conn, &why),
                Ok((_, Admission::Wait)) => return refuse(&conn, "undecided"),
                Err(why) => return refuse(&conn, &why),
            }
            (send, recv)
        };
        let handler = match self.factory.handler(key, vec![]) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(%peer, "refusing connection: {e}");
                return refuse(&conn, &e);
            }
        };
        let start = drive::Start {
            opening,
            probation: probation.as_ref().map(|_| PROBATION),
            dialed: false,
        };
        let report = drive(self.clone(), conn, send, recv, handler, Mode::Live, start).await;
        drop(probation);
        if let Some(e) = &report.error {
            tracing::info!(%peer, "session ended: {e}");
        }
        Ok(())
    }
}

/// A running Outpost network node.
pub struct Node {
    endpoint: Endpoint,
    router: Router,
    shared: Shared,
    mdns: Option<iroh_mdns_address_lookup::MdnsAddressLookup>,
}

impl Node {
    /// Binds the endpoint with the device's secret key and starts accepting.
    pub async fn spawn(
        secret: &[u8; 32],
        config: &NetConfig,
        factory: Arc<dyn HandlerFactory>,
    ) -> Result<Self, NetError> {
        let bind = |e: String| NetError::Bind(e);
        let relay_mode = match &config.relay_url {
            None => RelayMode::Disabled,
            Some(url) => {
                let url: iroh::RelayUrl = url
                    .parse()
                    .map_err(|e| NetError::Config(format!("relay URL {url}: {e}")))?;
                RelayMode::Custom(iroh::RelayMap::from(url))
            }
        };
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(SecretKey::from_bytes(secret))
            .alpns(vec![ALPN.to_vec()])
            .relay_mode(relay_mode)
            .clear_ip_transports()
            .bind_addr(config.bind)
            .map_err(|e| bind(e.to_string()))?;
        if !config.port_mapping {
            builder = builder.portmapper_config(iroh::endpoint::PortmapperConfig::Disabled);
        }
        let endpoint = builder.bind().await.map_err(|e| bind(e.to_string()))?;
        let mdns = if config.mdns {
            match iroh_mdns_address_lookup::MdnsAddressLookup::builder().build(endpoint.id()) {
                Ok(m) => {
                    if let Ok(lookup) = endpoint.address_lookup() {
                        lookup.add(m.clone());
                    }
                    Some(m)
                }
                Err(e) => {
                    tracing::warn!("LAN discovery (mDNS) unavailable: {e}");
                    None
                }
            }
        } else {
            None
        };
        let shared = Shared {
            me: *endpoint.id().as_bytes(),
            factory,
            live: Arc::default(),
            progress: Arc::default(),
            once_silence: config.once_silence,
            unknown: Arc::default(),
            probation: Arc::default(),
            refused: Arc::default(),
        };
        let router = Router::builder(endpoint.clone())
            .accept(ALPN, shared.clone())
            .spawn();
        Ok(Self {
            endpoint,
            router,
            shared,
            mdns,
        })
    }

    pub fn id(&self) -> EndpointId {
        self.endpoint.id()
    }

    /// This node's current address (id + direct addresses).
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint.addr()
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Peers with a live session now.
    pub fn connected(&self) -> Vec<EndpointId> {
        self.shared
            .live
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Incoming connections refused before any session began (strangers,
    /// or too many at once).
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// Unknown peers being judged now, and sessions on probation.
    pub fn unknown(&self) -> (usize, usize) {
        (
            self.shared.unknown.load(Ordering::Relaxed),
            self.shared.probation.load(Ordering::Relaxed),
        )
    }

    /// Progress of sessions in flight (documents reconciled / announced).
    pub fn progress(&self) -> Progress {
        self.shared
            .progress
            .lock()
            .map_or(Progress::default(), |m| {
                m.values().fold(Progress::default(), |a, p| Progress {
                    done: a.done + p.done,
                    total: a.total + p.total,
                })
            })
    }

    /// Tells every live session that `doc` of `community` changed.
    pub fn notify(&self, community: &str, doc: &str) {
        if let Ok(m) = self.shared.live.lock() {
            for (_, (tx, _)) in m.values().flatten() {
                let _ = tx.send(Input::Local(community.to_string(), doc.to_string()));
            }
        }
    }

    /// Endpoints found on the LAN by mDNS, as they appear.
    pub async fn lan_peers(
        &self,
    ) -> Option<
        impl n0_future::Stream<Item = iroh_mdns_address_lookup::DiscoveryEvent> + Unpin + use<>,
    > {
        match &self.mdns {
            Some(m) => Some(m.subscribe().await),
            None => None,
        }
    }

    /// Dials `addr` and runs a session; `joins` are invitations to redeem.
    pub async fn sync_with(
        &self,
        addr: EndpointAddr,
        joins: Vec<(String, [u8; 32])>,
        mode: Mode,
    ) -> Result<Report, NetError> {
        let peer = addr.id;
        let conn_err = |reason: String| NetError::Connect {
            peer: peer.fmt_short().to_string(),
            reason,
        };
        let timed_out = || conn_err(format!("no answer within {} s", DIAL_TIMEOUT.as_secs()));
        let conn = tokio::time::timeout(DIAL_TIMEOUT, self.endpoint.connect(addr, ALPN))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| conn_err(e.to_string()))?;
        let (send, recv) = tokio::time::timeout(DIAL_TIMEOUT, conn.open_bi())
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| conn_err(e.to_string()))?;
        let handler = self
            .shared
            .factory
            .handler(*peer.as_bytes(), joins)
            .map_err(conn_err)?;
        let start = drive::Start {
            dialed: true,
            ..drive::Start::default()
        };
        Ok(drive(self.shared.clone(), conn, send, recv, handler, mode, start).await)
    }

    /// Closes the endpoint gracefully (peers see the connection end).
    pub async fn shutdown(&self) {
        if let Err(e) = self.router.shutdown().await {
            tracing::debug!("router shutdown: {e}");
        }
        self.endpoint.close().await;
    }
}
