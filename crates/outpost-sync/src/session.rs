//! One sync session with one peer, as a state machine: feed it messages,
//! get back the messages to send. It never touches a socket or a file: the
//! network layer moves frames, and [`Repo`] (implemented over the store)
//! reads and writes documents.
//!
//! Per community both sides share (each side's view of membership decides),
//! a session runs:
//!
//! 1. `Hello` with the community's digest. Equal digests: done, one round trip.
//! 2. `Since(checkpoint)`: the peer lists documents changed in its feed after
//!    the checkpoint this side keeps for it (`Changes`, paged).
//! 3. Documents this side lacks come whole (`Fetch` → `Doc`); documents both
//!    have but with different heads are reconciled with Automerge sync
//!    (`Sync`), with `sync::State` persisted per (peer, document). All of it
//!    is pipelined: many documents in flight on one stream.
//! 4. When every announced document holds the announced heads, the
//!    checkpoint advances and this side says `Synced`.
//!
//! Access: every message naming a community is checked against membership
//! when it arrives and before anything is sent. A non-member is offered
//! nothing and answered nothing.

use crate::membership::Key;
use crate::wire::{DocHeads, Hash, Msg, Offer, PAGE, PROTOCOL_VERSION};
use automerge::sync::{Message as SyncMessage, State as SyncState, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What a session needs from local storage.
pub trait Repo {
    type Error: std::fmt::Display;
    /// Communities held here that `peer` is a member of, with digests.
    fn offers_for(&mut self, peer: &Key) -> Result<Vec<Offer>, Self::Error>;
    /// Whether `peer` is currently a member of `community` (false if unknown).
    fn is_member(&mut self, community: &str, peer: &Key) -> Result<bool, Self::Error>;
    /// This side's checkpoint in `peer`'s feed for `community`.
    fn checkpoint(&mut self, peer: &Key, community: &str) -> Result<u64, Self::Error>;
    fn set_checkpoint(
        &mut self,
        peer: &Key,
        community: &str,
        up_to: u64,
    ) -> Result<(), Self::Error>;
    /// `peer` holds everything in this side's feed for `community` up to
    /// `up_to` (for "pending out" counts).
    fn set_ack(&mut self, peer: &Key, community: &str, up_to: u64) -> Result<(), Self::Error>;
    /// Documents of `community` changed after `since` in the local feed:
    /// at most `limit`, with the feed position they reach and whether that
    /// is the end of the feed.
    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool), Self::Error>;
    /// Sorted heads of a document, if held and part of `community`.
    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>, Self::Error>;
    /// A document of `community`, if held.
    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>, Self::Error>;
    /// Merges Automerge bytes (a whole document or changes) into a document
    /// of `community` received from `peer`. Must refuse anything that is not
    /// a well-formed document of that community. Returns false if refused.
    fn merge(
        &mut self,
        peer: &Key,
        community: &str,
        doc: &str,
        bytes: &[u8],
    ) -> Result<bool, Self::Error>;
    fn sync_state(&mut self, peer: &Key, doc: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    fn set_sync_state(&mut self, peer: &Key, doc: &str, state: &[u8]) -> Result<(), Self::Error>;
    /// The peer holds `heads` of `doc`: record that the item reached another member.
    fn peer_has(&mut self, doc: &str, heads: &[Hash]) -> Result<(), Self::Error>;
    /// Redeems a one-time invite secret for `peer`: on success the peer is
    /// now a member (an admin here signed its `Add`).
    fn redeem_invite(
        &mut self,
        community: &str,
        peer: &Key,
        secret: &Hash,
    ) -> Result<Result<(), String>, Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("peer speaks protocol version {0}, this build speaks {PROTOCOL_VERSION}")]
    Version(u16),
    #[error("peer sent a bad Automerge sync message for {doc}: {reason}")]
    BadSync { doc: String, reason: String },
    #[error("peer sent a document that is not part of community {community}: {doc}")]
    BadDoc { community: String, doc: String },
    #[error("peer sent {0} before Hello")]
    OutOfOrder(&'static str),
    #[error("peer closed the session: {0}")]
    PeerBye(String),
    #[error("storage: {0}")]
    Repo(String),
}

#[derive(Debug, Default, Clone)]
struct Pull {
    /// Announced heads of documents not yet reconciled.
    pending: BTreeMap<String, Vec<Hash>>,
    /// Feed position the announcement covers, once its last page is in.
    up_to: Option<u64>,
    done: bool,
    total: usize,
}

/// Progress of a session, for progress bars: documents reconciled / announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

pub struct Session {
    peer: Key,
    hello_received: bool,
    /// Communities both sides offered (or this side is joining).
    shared: BTreeSet<String>,
    /// Communities this side is joining through this peer, with the secret.
    joining: BTreeMap<String, Hash>,
    pulls: BTreeMap<String, Pull>,
    /// Communities the peer reported `Synced` for (or equal at Hello).
    peer_synced: HashSet<String>,
    /// Documents whose Automerge sync this side has started this session.
    syncing: HashSet<String>,
    /// What this side announced to the peer, per community: once the peer
    /// says `Synced`, it holds at least these heads.
    announced: BTreeMap<String, Vec<DocHeads>>,
    /// The feed position the last complete answer to `Since` covered.
    announced_up_to: BTreeMap<String, u64>,
    /// Messages dropped because the peer was not a member.
    pub refused: u64,
}

fn to_hashes(h: &[ChangeHash]) -> Vec<Hash> {
    let mut v: Vec<Hash> = h.iter().map(|c| c.0).collect();
    v.sort();
    v
}

impl Session {
    pub fn new(peer: Key) -> Self {
        Self {
            peer,
            hello_received: false,
            shared: BTreeSet::new(),
            joining: BTreeMap::new(),
            pulls: BTreeMap::new(),
            peer_synced: HashSet::new(),
            syncing: HashSet::new(),
            announced: BTreeMap::new(),
            announced_up_to: BTreeMap::new(),
            refused: 0,
        }
    }

    pub fn peer(&self) -> &Key {
        &self.peer
    }

    /// The opening messages: `Hello`, and `Join` for each invite being redeemed.
    pub fn start<R: Repo>(
        &mut self,
        repo: &mut R,
        joins: &[(String, Hash)],
    ) -> Result<Vec<Msg>, SessionError> {
        let offers = repo.offers_for(&self.peer).map_err(repo_err)?;
        let mut out = vec![Msg::Hello {
            version: PROTOCOL_VERSION,
            offers,
        }];
        for (community, secret) in joins {
            self.joining.insert(community.clone(), *secret);
            out.push(Msg::Join {
                community: community.clone(),
                secret: *secret,
            });
        }
        Ok(out)
    }

    /// Communities shared with this peer in this session.
    pub fn shared(&self) -> impl Iterator<Item = &String> {
        self.shared.iter()
    }

    /// True once every shared community is reconciled both ways.
    pub fn converged(&self) -> bool {
        self.hello_received
            && self.joining.is_empty()
            && self
                .shared
                .iter()
                .all(|c| self.peer_synced.contains(c) && self.pulls.get(c).is_none_or(|p| p.done))
    }

    pub fn progress(&self) -> Progress {
        self.pulls
            .values()
            .fold(Progress::default(), |p, pull| Progress {
                done: p.done + pull.total - pull.pending.len(),
                total: p.total + pull.total,
            })
    }

    /// May this peer receive, or send us, data of `community` right now?
    fn allowed<R: Repo>(&mut self, repo: &mut R, community: &str) -> Result<bool, SessionError> {
        if self.joining.contains_key(community) {
            return Ok(true);
        }
        let ok = repo.is_member(community, &self.peer).map_err(repo_err)?;
        if !ok {
            self.refused += 1;
            tracing::debug!(community, "refused a message: peer is not a member");
        }
        Ok(ok)
    }

    /// A local change to `doc`: push it to the peer if it may have it.
    pub fn local_change<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
    ) -> Result<Vec<Msg>, SessionError> {
        if !self.hello_received
            || !self.shared.contains(community)
            || !self.allowed(repo, community)?
        {
            return Ok(vec![]);
        }
        Ok(self
            .sync_message(repo, community, doc)?
            .into_iter()
            .collect())
    }

    fn sync_message<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
    ) -> Result<Option<Msg>, SessionError> {
        let Some(mut d) = repo.load(community, doc).map_err(repo_err)? else {
            return Ok(None);
        };
        let mut state = self.load_state(repo, doc)?;
        let msg = d.sync().generate_sync_message(&mut state);
        repo.set_sync_state(&self.peer, doc, &state.encode())
            .map_err(repo_err)?;
        self.syncing.insert(doc.to_string());
        Ok(msg.map(|m| Msg::Sync {
            community: community.to_string(),
            id: doc.to_string(),
            msg: m.encode(),
        }))
    }

    /// The persisted sync state for (peer, doc). Only its encoded form is
    /// kept (the shared heads), so in-flight bookkeeping from a dropped
    /// connection never leaks into a new one.
    fn load_state<R: Repo>(&mut self, repo: &mut R, doc: &str) -> Result<SyncState, SessionError> {
        Ok(match repo.sync_state(&self.peer, doc).map_err(repo_err)? {
            Some(bytes) => SyncState::decode(&bytes).unwrap_or_default(),
            None => SyncState::new(),
        })
    }

    /// Handles one message from the peer; returns the replies.
    pub fn handle<R: Repo>(&mut self, repo: &mut R, msg: Msg) -> Result<Vec<Msg>, SessionError> {
        if !self.hello_received && !matches!(msg, Msg::Hello { .. } | Msg::Bye { .. }) {
            return Err(SessionError::OutOfOrder("a community message"));
        }
        let mut out = Vec::new();
        match msg {
            Msg::Hello { version, offers } => {
                if version != PROTOCOL_VERSION {
                    return Err(SessionError::Version(version));
                }
                self.hello_received = true;
                let mine: BTreeMap<String, (Hash, u64)> = repo
                    .offers_for(&self.peer)
                    .map_err(repo_err)?
                    .into_iter()
                    .map(|o| (o.community, (o.digest, o.feed)))
                    .collect();
                for offer in offers {
                    let Some((digest, my_feed)) = mine.get(&offer.community) else {
                        continue;
                    };
                    self.shared.insert(offer.community.clone());
                    if *digest == offer.digest {
                        // Equal digests: everything the peer had at its feed
                        // position `offer.feed` is here too.
                        let at = repo
                            .checkpoint(&self.peer, &offer.community)
                            .map_err(repo_err)?;
                        if offer.feed > at {
                            repo.set_checkpoint(&self.peer, &offer.community, offer.feed)
                                .map_err(repo_err)?;
                        }
                        // ... and the peer holds everything here up to ours.
                        repo.set_ack(&self.peer, &offer.community, *my_feed)
                            .map_err(repo_err)?;
                        self.peer_synced.insert(offer.community.clone());
                        self.pulls.insert(
                            offer.community,
                            Pull {
                                done: true,
                                ..Pull::default()
                            },
                        );
                    } else {
                        let since = repo
                            .checkpoint(&self.peer, &offer.community)
                            .map_err(repo_err)?;
                        self.pulls.insert(offer.community.clone(), Pull::default());
                        out.push(Msg::Since {
                            community: offer.community,
                            since,
                        });
                    }
                }
            }
            Msg::Join { community, secret } => {
                let result = repo
                    .redeem_invite(&community, &self.peer, &secret)
                    .map_err(repo_err)?;
                let (ok, reason) = match result {
                    Ok(()) => (true, String::new()),
                    Err(reason) => (false, reason),
                };
                if ok {
                    self.shared.insert(community.clone());
                    self.pulls.insert(
                        community.clone(),
                        Pull {
                            done: true,
                            ..Pull::default()
                        },
                    );
                }
                out.push(Msg::Joined {
                    community,
                    ok,
                    reason,
                });
            }
            Msg::Joined {
                community,
                ok,
                reason,
            } => {
                if !self.joining.contains_key(&community) {
                    return Ok(out);
                }
                if !ok {
                    self.joining.remove(&community);
                    return Err(SessionError::PeerBye(format!(
                        "invitation refused: {reason}"
                    )));
                }
                self.shared.insert(community.clone());
                self.pulls.insert(community.clone(), Pull::default());
                self.peer_synced.insert(community.clone());
                out.push(Msg::Since {
                    community,
                    since: 0,
                });
            }
            Msg::Since { community, since } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                self.shared.insert(community.clone());
                let mut from = since;
                loop {
                    let (docs, up_to, last) = repo
                        .changed_since(&community, from, PAGE)
                        .map_err(repo_err)?;
                    self.announced
                        .entry(community.clone())
                        .or_default()
                        .extend(docs.iter().cloned());
                    if last {
                        self.announced_up_to.insert(community.clone(), up_to);
                    }
                    out.push(Msg::Changes {
                        community: community.clone(),
                        docs,
                        up_to,
                        last,
                    });
                    if last {
                        break;
                    }
                    from = up_to;
                }
            }
            Msg::Changes {
                community,
                docs,
                up_to,
                last,
            } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                let mut fetch = Vec::new();
                for DocHeads { id, heads } in docs {
                    let mine = repo.heads(&community, &id).map_err(repo_err)?;
                    match mine {
                        Some(m) if m == heads => {
                            repo.peer_has(&id, &heads).map_err(repo_err)?;
                            continue;
                        }
                        Some(_) => {
                            // Push ours either way; wait only if theirs has something ours lacks.
                            if let Some(m) = self.sync_message(repo, &community, &id)? {
                                out.push(m);
                            }
                            let d = repo.load(&community, &id).map_err(repo_err)?;
                            if d.is_some_and(|d| {
                                heads.iter().all(|h| d.get_change_meta_by_hash_ref(h))
                            }) {
                                continue;
                            }
                        }
                        None => fetch.push(id.clone()),
                    }
                    let pull = self.pulls.entry(community.clone()).or_default();
                    pull.total += 1;
                    pull.pending.insert(id, heads);
                }
                for chunk in fetch.chunks(PAGE) {
                    out.push(Msg::Fetch {
                        community: community.clone(),
                        docs: chunk.to_vec(),
                    });
                }
                let pull = self.pulls.entry(community.clone()).or_default();
                if last {
                    pull.up_to = Some(up_to);
                }
                out.extend(self.maybe_finish(repo, &community)?);
            }
            Msg::Fetch { community, docs } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                for id in docs {
                    if let Some(mut d) = repo.load(&community, &id).map_err(repo_err)? {
                        out.push(Msg::Doc {
                            community: community.clone(),
                            id,
                            bytes: d.save(),
                        });
                    }
                }
            }
            Msg::Doc {
                community,
                id,
                bytes,
            } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                if !repo
                    .merge(&self.peer, &community, &id, &bytes)
                    .map_err(repo_err)?
                {
                    return Err(SessionError::BadDoc { community, doc: id });
                }
                self.reconciled(repo, &community, &id)?;
                out.extend(self.maybe_finish(repo, &community)?);
            }
            Msg::Sync { community, id, msg } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                let bad = |reason: String| SessionError::BadSync {
                    doc: id.clone(),
                    reason,
                };
                let message = SyncMessage::decode(&msg).map_err(|e| bad(e.to_string()))?;
                check_blooms(&message).map_err(bad)?;
                let mut doc = repo
                    .load(&community, &id)
                    .map_err(repo_err)?
                    .unwrap_or_default();
                let before = doc.get_heads();
                let mut state = self.load_state(repo, &id)?;
                doc.sync()
                    .receive_sync_message(&mut state, message)
                    .map_err(|e| bad(e.to_string()))?;
                let after = doc.get_heads();
                if after != before {
                    let changes = doc.save_after(&before);
                    if !repo
                        .merge(&self.peer, &community, &id, &changes)
                        .map_err(repo_err)?
                    {
                        return Err(SessionError::BadDoc { community, doc: id });
                    }
                }
                if !after.is_empty()
                    && state
                        .their_heads
                        .as_deref()
                        .is_some_and(|t| to_hashes(t) == to_hashes(&after))
                {
                    repo.peer_has(&id, &to_hashes(&after)).map_err(repo_err)?;
                }
                self.syncing.insert(id.clone());
                if let Some(reply) = doc.sync().generate_sync_message(&mut state) {
                    out.push(Msg::Sync {
                        community: community.clone(),
                        id: id.clone(),
                        msg: reply.encode(),
                    });
                }
                repo.set_sync_state(&self.peer, &id, &state.encode())
                    .map_err(repo_err)?;
                self.reconciled(repo, &community, &id)?;
                out.extend(self.maybe_finish(repo, &community)?);
            }
            Msg::Synced { community } => {
                if self.shared.contains(&community) {
                    for d in self.announced.remove(&community).unwrap_or_default() {
                        repo.peer_has(&d.id, &d.heads).map_err(repo_err)?;
                    }
                    if let Some(up_to) = self.announced_up_to.remove(&community) {
                        repo.set_ack(&self.peer, &community, up_to)
                            .map_err(repo_err)?;
                    }
                    self.peer_synced.insert(community);
                }
            }
            Msg::Bye { reason } => return Err(SessionError::PeerBye(reason)),
        }
        Ok(out)
    }

    /// After new data for `doc`: drop it from the pending set once it holds
    /// every head the peer announced.
    fn reconciled<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
    ) -> Result<(), SessionError> {
        let Some(pull) = self.pulls.get_mut(community) else {
            return Ok(());
        };
        let Some(wanted) = pull.pending.get(doc) else {
            return Ok(());
        };
        let Some(d) = repo.load(community, doc).map_err(repo_err)? else {
            return Ok(());
        };
        let have_all = wanted.iter().all(|h| d.get_change_meta_by_hash_ref(h));
        if have_all {
            let heads = wanted.clone();
            pull.pending.remove(doc);
            repo.peer_has(doc, &heads).map_err(repo_err)?;
        }
        Ok(())
    }

    /// Once everything announced is in: advance the checkpoint, say Synced.
    fn maybe_finish<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<Vec<Msg>, SessionError> {
        let Some(pull) = self.pulls.get_mut(community) else {
            return Ok(vec![]);
        };
        let Some(up_to) = pull.up_to else {
            return Ok(vec![]);
        };
        if pull.done || !pull.pending.is_empty() {
            return Ok(vec![]);
        }
        pull.done = true;
        self.joining.remove(community);
        repo.set_checkpoint(&self.peer, community, up_to)
            .map_err(repo_err)?;
        Ok(vec![Msg::Synced {
            community: community.to_string(),
        }])
    }
}

/// Probes a peer's Bloom filter may ask for; automerge uses 7.
const MAX_PROBES: u64 = 64;

fn leb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut v: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

/// automerge (0.12) trusts the Bloom filter parameters in a sync message: a
/// filter with entries but no bits divides by zero, and a huge probe count
/// allocates without bound. Both come from the peer, so they are checked
/// here before automerge sees them. (Found by `cargo fuzz run frames`.)
fn check_blooms(m: &SyncMessage) -> Result<(), String> {
    for have in &m.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue;
        }
        let bad = || "malformed Bloom filter".to_string();
        let (entries, rest) = leb128(&bytes).ok_or_else(bad)?;
        let (bits_per_entry, rest) = leb128(rest).ok_or_else(bad)?;
        let (probes, bits) = leb128(rest).ok_or_else(bad)?;
        if entries > 0
            && (bits_per_entry == 0 || bits.is_empty() || probes == 0 || probes > MAX_PROBES)
        {
            return Err(format!(
                "Bloom filter with {entries} entries, {bits_per_entry} bits each, {probes} probes, {} bytes",
                bits.len()
            ));
        }
    }
    Ok(())
}

fn repo_err(e: impl std::fmt::Display) -> SessionError {
    SessionError::Repo(e.to_string())
}

trait HasChange {
    fn get_change_meta_by_hash_ref(&self, h: &Hash) -> bool;
}

impl HasChange for AutoCommit {
    fn get_change_meta_by_hash_ref(&self, h: &Hash) -> bool {
        automerge::ReadDoc::get_change_by_hash(self, &ChangeHash(*h)).is_some()
    }
}
