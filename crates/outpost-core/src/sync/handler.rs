//! One connection's handler: the `PeerHandler` the network layer drives,
//! with its own store connection and session, and the factory that opens
//! one per connection.

use crate::now_ms;
use crate::open::DbHandle;
use crate::sync::repo::SyncRepo;
use outpost_net::{Admission, HandlerFactory, PeerHandler, Stats};
use outpost_store::Store;
use outpost_sync::session::{Progress, Session};
use outpost_sync::wire::{Hash, Msg};
use std::sync::atomic::Ordering;

/// One connection's handler: its own store connection and session.
struct CoreHandler {
    store: Store,
    key: ed25519_dalek::SigningKey,
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
        }
    }
}

impl PeerHandler for CoreHandler {
    fn start(&mut self) -> Result<Vec<Msg>, String> {
        // Peer rows are for members only: a stranger leaves none.
        if self.store.knows_key(&self.peer_hex).unwrap_or(false) {
            let _ = self.store.peer_seen(&self.peer_hex, None, now_ms());
        }
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

    fn shares(&self) -> bool {
        self.session.shared().next().is_some()
    }

    fn progress(&self) -> Progress {
        self.session.progress()
    }

    fn finish(&mut self, stats: &Stats, error: Option<&str>) {
        let now = now_ms();
        // A peer that came to share a community here (it joined, or this
        // device took its first copy from it) is known from now on.
        if self.shares() {
            let _ = self.store.peer_seen(&self.peer_hex, None, now);
        }
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
pub(crate) struct Factory {
    pub(crate) db: DbHandle,
    pub(crate) secret: [u8; 32],
    /// One connection, shared, for judging who connects (a few indexed
    /// lookups): strangers never get one of their own.
    pub(crate) gate: std::sync::Mutex<Option<Store>>,
}

impl Factory {
    pub(crate) fn new(db: DbHandle, secret: [u8; 32]) -> Self {
        Self {
            db,
            secret,
            gate: std::sync::Mutex::new(None),
        }
    }

    /// Runs `f` on the gate's connection (opened on first use); false if
    /// the store cannot be read.
    fn gate(&self, f: impl FnOnce(&Store) -> outpost_store::Result<bool>) -> bool {
        let Ok(mut gate) = self.gate.lock() else {
            return false;
        };
        if gate.is_none() {
            *gate = self.db.open().ok();
        }
        gate.as_ref().is_some_and(|s| f(s).unwrap_or(false))
    }

    /// Whether the hub's relay forwards for `peer` ([`crate::RelayOptions`]).
    pub(crate) fn relays_for(&self, peer: &[u8; 32]) -> bool {
        self.is_me(peer)
            || self.gate(|s| {
                Ok(s.shares_a_community(&hex::encode(peer))?
                    || s.invitations_open(crate::now_ms())?)
            })
    }

    fn is_me(&self, peer: &[u8; 32]) -> bool {
        ed25519_dalek::SigningKey::from_bytes(&self.secret)
            .verifying_key()
            .to_bytes()
            == *peer
    }
}

impl HandlerFactory for Factory {
    fn knows(&self, peer: [u8; 32]) -> bool {
        !self.is_me(&peer) && self.gate(|s| s.knows_key(&hex::encode(peer)))
    }

    fn admit(&self, peer: [u8; 32], opening: &[Msg]) -> Admission {
        if self.is_me(&peer) {
            return Admission::Refuse("this device itself".into());
        }
        let mut verdict = Admission::Wait;
        for (i, msg) in opening.iter().enumerate() {
            match msg {
                Msg::Hello { offers, .. } if i == 0 => {
                    // It holds a community naming this device that this
                    // node holds nothing of: perhaps this device was added
                    // by its id. Only the session can tell (from the log).
                    if offers
                        .iter()
                        .take(outpost_sync::session::MAX_BOOTSTRAPS)
                        .any(|o| !self.gate(|s| s.holds_log(&o.community)))
                    {
                        verdict = Admission::Probation;
                    }
                }
                Msg::Join { community, secret } if i > 0 => {
                    if self.gate(|s| s.invite_held(secret, community)) {
                        return Admission::Admit;
                    }
                    // Told why in the session (revoked, already used), on
                    // probation: it ends there.
                    verdict = Admission::Probation;
                }
                _ => return Admission::Refuse("expected Hello, then invitations".into()),
            }
        }
        verdict
    }

    fn handler(
        &self,
        peer: [u8; 32],
        joins: Vec<(String, [u8; 32])>,
    ) -> Result<Box<dyn PeerHandler>, String> {
        let key = ed25519_dalek::SigningKey::from_bytes(&self.secret);
        if peer == key.verifying_key().to_bytes() {
            return Err("refusing a connection from this device itself".into());
        }
        let mut store = self.db.open().map_err(|e| e.to_string())?;
        let nonce = crate::random_bytes().map_err(|e| e.to_string())?;
        store.set_identity(key.clone(), nonce);
        Ok(Box::new(CoreHandler {
            store,
            key,
            session: Session::new(peer),
            joins,
            peer_hex: hex::encode(peer),
            received: false,
        }))
    }
}
