//! One sync session with one peer, as a state machine: feed it messages,
//! get back the messages to send. It never touches a socket or a file: the
//! network layer moves frames, and [`Repo`] (implemented over the store)
//! reads and writes documents.
//!
//! Per community both sides share (each side's view of membership decides),
//! a session runs:
//!
//! 1. `Hello` with the community's digest (over its documents and its
//!    membership log). Equal digests: done, one round trip.
//! 2. Membership first: `OpHeads` names the heads of this side's log; the
//!    peer answers with the ops not in their past (`Ops`), and with its own
//!    heads if some were new to it. The log is a grow-only set: ops are
//!    verified one by one as they arrive and never dropped. New ops made or
//!    merged during the session are announced the same way.
//! 3. `Since(checkpoint)`: the peer lists documents changed in its feed after
//!    the checkpoint this side keeps for it (`Changes`, paged).
//! 4. Documents this side lacks come whole (`Fetch` → `Doc`); documents both
//!    have but with different heads are reconciled with Automerge sync
//!    (`Sync`). All of it is pipelined: many documents in flight on one
//!    stream.
//! 5. When every announced document holds the announced heads, the
//!    checkpoint advances and this side says `Synced`.
//!
//! Access: every message naming a community is checked against membership
//! when it arrives and before anything is sent. A non-member is offered
//! nothing and answered nothing.
//!
//! Automerge sync state: a session keeps each document's live
//! `sync::State` in memory for as long as it runs (what was sent, what the
//! peer has, whether an answer is due), so an exchange ends when there is
//! nothing left to say and a change made meanwhile is sent once. A state
//! is read from its persisted form only when the session first touches the
//! document, and its encoded form (the heads both sides share) is written
//! back whenever that changes. The encoded form drops the in-flight
//! bookkeeping, as it must: Automerge sync assumes an in-order stream, so a
//! new connection starts from the shared heads, and a reconnect costs only
//! what changed since. Memory grows with the documents the session touched.
//! Documents are loaded afresh from the repo for each message, so changes
//! that arrived before their parents (Automerge keeps those in a document's
//! queue and asks for the parents) are kept with the live state and put
//! back in the queue each time; without that, a Bloom filter false positive
//! stalls the exchange for good.

mod blooms;
mod documents;
mod repo;
mod state;

pub use repo::{Merged, OpsMissing, Repo, SessionError};

use documents::holds_all;
use state::{DocSync, in_sync_at};

use crate::membership::Key;
use crate::wire::{DocHeads, Hash, Msg, PAGE, PART, PROTOCOL_VERSION, SIG_BYTES};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Debug, Default, Clone)]
struct Pull {
    /// Announced heads of documents not yet reconciled.
    pending: BTreeMap<String, Vec<Hash>>,
    /// Feed position the announcement covers, once its last page is in.
    up_to: Option<u64>,
    done: bool,
    total: usize,
    /// A document of the announcement could not be taken whole this
    /// session (a change refused, or a fork found): the checkpoint stays
    /// where it was, so the next session is offered it again (by then the
    /// membership that made it fail may have changed, on either side).
    held_back: bool,
}

/// How a document arrived: whole, or as one of its parts.
#[derive(Debug, Clone, Copy)]
enum Taken {
    Whole,
    Part { last: bool },
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
    /// Live Automerge sync state per document touched this session.
    docs: HashMap<String, DocSync>,
    /// What this side announced to the peer, per community: once the peer
    /// says `Synced`, it holds at least these heads.
    announced: BTreeMap<String, Vec<DocHeads>>,
    /// The feed position the last complete answer to `Since` covered.
    announced_up_to: BTreeMap<String, u64>,
    /// The heads of this side's membership log last announced to the peer
    /// (`OpHeads`), per community: announced again only when they moved.
    ops_told: HashMap<String, Vec<Hash>>,
    /// Ops the peer is known to hold (with their past), per community: its
    /// announced heads, what it sent and what it was sent. New ops here go
    /// to the peer as the ones not in the past of these.
    peer_ops: HashMap<String, Vec<Hash>>,
    /// Documents in which the peer offered a change this side refused:
    /// not synced further this session (the peer would offer it again).
    muted: HashSet<String>,
    /// Documents this side asked for with `Fetch` and has not received:
    /// a whole `Doc` is taken only for one of these (unsolicited documents
    /// are refused).
    fetched: HashSet<String>,
    /// Documents sent whole this session: a `Fetch` naming one again (or
    /// the same id twice) is answered once, so one small request cannot
    /// make this side build the same reply thousands of times.
    served: HashSet<String>,
    /// Communities the peer offered that this side holds nothing of
    /// (a member added by device id, before its first copy), with the
    /// ops received so far: taken once they prove this device and the
    /// peer are members, when the peer's first `Changes` for it arrives
    /// (the stream is in order, so every `Ops` it sent is in by then).
    bootstrap: BTreeMap<String, Vec<Vec<u8>>>,
    /// Communities this side offered in its `Hello`.
    offered: BTreeSet<String>,
    /// Of those, the ones the peer did not offer back and has not yet
    /// answered for: it may take a first copy (then it asks), or say
    /// `Unshared`. A one-off sync waits for the answer.
    unanswered: BTreeSet<String>,
    /// Messages dropped because the peer was not a member (or sent what
    /// was not asked for).
    pub refused: u64,
}

/// Communities one session may try to take a first copy of (a peer
/// offering more is making them up; the rest wait for another session).
pub const MAX_BOOTSTRAPS: usize = 4;

/// Bytes of ops all bootstrapping communities of one session may hold in
/// memory before they are verified (a log of 100,000 ops is ~20 MB).
pub const MAX_BOOTSTRAP_BYTES: usize = 32 << 20;

/// Ops per `Ops` message, sent and accepted: a few hundred bytes each,
/// well inside a frame.
pub const OPS_PER_MSG: usize = 10_000;

impl Session {
    pub fn new(peer: Key) -> Self {
        Self {
            peer,
            hello_received: false,
            shared: BTreeSet::new(),
            joining: BTreeMap::new(),
            pulls: BTreeMap::new(),
            peer_synced: HashSet::new(),
            docs: HashMap::new(),
            announced: BTreeMap::new(),
            announced_up_to: BTreeMap::new(),
            ops_told: HashMap::new(),
            peer_ops: HashMap::new(),
            muted: HashSet::new(),
            fetched: HashSet::new(),
            served: HashSet::new(),
            bootstrap: BTreeMap::new(),
            offered: BTreeSet::new(),
            unanswered: BTreeSet::new(),
            refused: 0,
        }
    }

    pub fn peer(&self) -> &Key {
        &self.peer
    }

    /// How many documents' Automerge sync states this session holds in
    /// memory (one per document it touched).
    pub fn sync_states(&self) -> usize {
        self.docs.len()
    }

    /// The opening messages: `Hello`, and `Join` for each invite being redeemed.
    pub fn start<R: Repo>(
        &mut self,
        repo: &mut R,
        joins: &[(String, Hash)],
    ) -> Result<Vec<Msg>, SessionError> {
        let offers = repo.offers_for(&self.peer).map_err(repo_err)?;
        self.offered = offers.iter().map(|o| o.community.clone()).collect();
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
            && self.bootstrap.is_empty()
            && self.unanswered.is_empty()
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

    /// May this peer send us membership ops of `community`? Members, and
    /// also peers this side holds as removed: every op is verified on its
    /// own, and a log poisoned by a removed admin's backdated ops (which
    /// can make an honest peer look removed) heals only from someone.
    fn may_send_ops<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<bool, SessionError> {
        Ok(self.allowed(repo, community)?
            || repo.was_removed(community, &self.peer).map_err(repo_err)?)
    }

    /// A local change to `doc` (or one merged from another peer): push it
    /// to the peer if it may have it. Nothing is sent when the peer is
    /// already known to hold these heads, or when a message with these
    /// heads is already in flight and unanswered.
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
        let mut out = Vec::new();
        // New membership ops are signalled through the community document.
        if doc == community {
            out.extend(self.push_ops(repo, community)?);
        }
        // Muted, or still arriving in parts (what is here so far is not
        // worth a sync of its own).
        if self.muted.contains(doc) || self.fetched.contains(doc) {
            return Ok(out);
        }
        let Some(mut d) = repo.load(community, doc).map_err(repo_err)? else {
            return Ok(out);
        };
        out.extend(self.sync_message(repo, community, doc, &mut d)?);
        Ok(out)
    }

    /// The ops this side holds that the peer is not known to: as `Ops`
    /// when what the peer holds is known, else an `OpHeads` to find out.
    fn push_ops<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<Vec<Msg>, SessionError> {
        match self.peer_ops.get(community).cloned() {
            Some(known) => Ok(self.send_ops(repo, community, &known)?.0),
            None => Ok(self.announce_ops(repo, community)?.into_iter().collect()),
        }
    }

    /// `OpHeads` with this side's log heads, unless the peer was told these.
    fn announce_ops<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<Option<Msg>, SessionError> {
        let heads = repo.op_heads(community).map_err(repo_err)?;
        if self.ops_told.get(community) == Some(&heads) {
            return Ok(None);
        }
        self.ops_told.insert(community.to_string(), heads.clone());
        Ok(Some(Msg::OpHeads {
            community: community.to_string(),
            heads,
        }))
    }

    /// Records that the peer holds `hashes` (and their past).
    fn peer_holds(&mut self, community: &str, hashes: impl IntoIterator<Item = Hash>) {
        let known = self.peer_ops.entry(community.to_string()).or_default();
        known.extend(hashes);
        known.sort_unstable();
        known.dedup();
    }

    /// The ops a peer holding `known` lacks, as `Ops` messages; afterwards
    /// the peer holds all of this side's log. Also says whether every hash
    /// of `known` is held here.
    fn send_ops<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        known: &[Hash],
    ) -> Result<(Vec<Msg>, bool), SessionError> {
        let (ops, unknown) = repo.ops_missing(community, known).map_err(repo_err)?;
        let msgs = ops
            .chunks(OPS_PER_MSG)
            .map(|chunk| Msg::Ops {
                community: community.to_string(),
                ops: chunk.to_vec(),
            })
            .collect();
        // What the peer holds now: this side's heads, plus what it named
        // that is not held here.
        let all_known = unknown.is_empty();
        let mine = repo.op_heads(community).map_err(repo_err)?;
        self.peer_ops.insert(community.to_string(), Vec::new());
        self.peer_holds(community, mine.into_iter().chain(unknown));
        Ok((msgs, all_known))
    }

    /// Handles one message from the peer; returns the replies.
    pub fn handle<R: Repo>(&mut self, repo: &mut R, msg: Msg) -> Result<Vec<Msg>, SessionError> {
        if !self.hello_received && !matches!(msg, Msg::Hello { .. } | Msg::Bye { .. }) {
            return Err(SessionError::OutOfOrder("a community message"));
        }
        // Ids are parsed here, once, at the edge: nothing below sees an id
        // a peer made up out of control characters or a path.
        if let Some(bad) = msg
            .ids()
            .into_iter()
            .find(|id| !outpost_model::is_valid_id(id))
        {
            return Err(SessionError::BadId(bad.chars().take(80).collect()));
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
                // A member that did not offer a community it belongs to
                // (here) may hold a log that says otherwise — one poisoned
                // by a removed admin's backdated ops can make this device
                // look removed to it: tell it this log's heads, so it can
                // ask for what would set it right.
                let offered: BTreeSet<&String> = offers.iter().map(|o| &o.community).collect();
                for community in mine.keys().filter(|c| !offered.contains(c)) {
                    out.extend(self.announce_ops(repo, community)?);
                }
                // What this side offered and the peer did not: wait for its
                // answer (a first copy, or `Unshared`).
                self.unanswered = self
                    .offered
                    .iter()
                    .filter(|c| !offered.contains(c))
                    .cloned()
                    .collect();
                for offer in offers {
                    let Some((digest, my_feed)) = mine.get(&offer.community) else {
                        let ask = self.try_bootstrap(repo, &offer.community)?;
                        if ask.is_empty() {
                            out.push(Msg::Unshared {
                                community: offer.community,
                            });
                        }
                        out.extend(ask);
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
                        let heads = repo.op_heads(&offer.community).map_err(repo_err)?;
                        self.peer_holds(&offer.community, heads);
                        self.pulls.insert(
                            offer.community,
                            Pull {
                                done: true,
                                ..Pull::default()
                            },
                        );
                    } else {
                        out.extend(self.announce_ops(repo, &offer.community)?);
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
                    community: community.clone(),
                    ok,
                    reason,
                });
                if ok {
                    // The newcomer's whole membership log, before any document.
                    out.extend(self.send_ops(repo, &community, &[])?.0);
                }
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
                self.unanswered.remove(&community);
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
                if self.bootstrap.contains_key(&community)
                    && !self.take_bootstrap(repo, &community)?
                {
                    out.push(Msg::Unshared { community });
                    return Ok(out);
                }
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
                            if let Some(mut d) = repo.load(&community, &id).map_err(repo_err)? {
                                if let Some(m) = self.sync_message(repo, &community, &id, &mut d)? {
                                    out.push(m);
                                }
                                if holds_all(&mut d, &heads) {
                                    continue;
                                }
                            }
                        }
                        None => fetch.push(id.clone()),
                    }
                    let pull = self.pulls.entry(community.clone()).or_default();
                    pull.total += 1;
                    pull.pending.insert(id, heads);
                }
                self.fetched.extend(fetch.iter().cloned());
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
                let mut gone = Vec::new();
                // At most a page per request, each document once a session.
                for id in docs.into_iter().take(PAGE) {
                    if self.served.contains(&id) || gone.contains(&id) {
                        continue;
                    }
                    let Some(mut d) = repo.load(&community, &id).map_err(repo_err)? else {
                        gone.push(id);
                        continue;
                    };
                    {
                        let bytes = d.save();
                        // The peer holds these heads once it has read the
                        // frame (the stream is in order), so a later change
                        // goes out in one message. Persisted only with the
                        // next change, after the peer had the document.
                        let heads = d.get_heads();
                        if !heads.is_empty()
                            && let Entry::Vacant(v) = self.docs.entry(id.clone())
                        {
                            let persisted = repo
                                .sync_state(&self.peer, &id)
                                .map_err(repo_err)?
                                .unwrap_or_default();
                            v.insert(DocSync::new(in_sync_at(heads), persisted));
                        }
                        let sigs = repo.sigs(&id, None).map_err(repo_err)?;
                        self.served.insert(id.clone());
                        if bytes.len() + sigs.len() * SIG_BYTES <= PART {
                            out.push(Msg::Doc {
                                community: community.clone(),
                                id,
                                bytes,
                                sigs,
                            });
                        } else {
                            out.extend(documents::parts(&community, &id, &mut d, sigs));
                        }
                    }
                }
                if !gone.is_empty() {
                    out.push(Msg::Gone {
                        community,
                        docs: gone,
                    });
                }
            }
            Msg::Gone { community, docs } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                for id in &docs {
                    self.fetched.remove(id);
                }
                if let Some(pull) = self.pulls.get_mut(&community) {
                    for id in &docs {
                        pull.pending.remove(id);
                    }
                }
                out.extend(self.maybe_finish(repo, &community)?);
            }
            Msg::DocPart {
                community,
                id,
                bytes,
                sigs,
                last,
            } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                out.extend(self.take_doc(
                    repo,
                    community,
                    id,
                    &bytes,
                    sigs,
                    Taken::Part { last },
                )?);
            }
            Msg::Doc {
                community,
                id,
                bytes,
                sigs,
            } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                out.extend(self.take_doc(repo, community, id, &bytes, sigs, Taken::Whole)?);
            }
            Msg::Sync {
                community,
                id,
                msg,
                sigs,
            } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
                out.extend(self.on_sync(repo, &community, &id, &msg, sigs)?);
                self.reconciled(repo, &community, &id)?;
                out.extend(self.maybe_finish(repo, &community)?);
            }
            Msg::Synced { community } => {
                if !self.allowed(repo, &community)? {
                    return Ok(out);
                }
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
            Msg::OpHeads { community, heads } => {
                if self.bootstrap.contains_key(&community) {
                    // Asked for the whole log already.
                } else if self.allowed(repo, &community)? {
                    let (ops, all_known) = self.send_ops(repo, &community, &heads)?;
                    out.extend(ops);
                    if !all_known {
                        out.extend(self.announce_ops(repo, &community)?);
                    }
                } else if self.may_send_ops(repo, &community)? {
                    // Removed here, yet it holds ops this side lacks (which
                    // may show it should not be): ask for them with this
                    // side's heads, send it no op.
                    let (_, unknown) = repo.ops_missing(&community, &heads).map_err(repo_err)?;
                    if !unknown.is_empty() {
                        out.extend(self.announce_ops(repo, &community)?);
                    }
                }
            }
            Msg::Ops { community, ops } => {
                // What an honest peer sends at most in one message: a
                // bigger one is someone making every peer do the work.
                if ops.len() > OPS_PER_MSG {
                    return Err(SessionError::Excess(format!(
                        "{} membership ops in one message (at most {OPS_PER_MSG})",
                        ops.len()
                    )));
                }
                if self.bootstrap.contains_key(&community) {
                    let mut used: usize = self.bootstrap.values().flatten().map(Vec::len).sum();
                    if let Some(held) = self.bootstrap.get_mut(&community) {
                        for op in ops {
                            used += op.len();
                            if used > MAX_BOOTSTRAP_BYTES {
                                break;
                            }
                            held.push(op);
                        }
                    }
                    return Ok(out);
                }
                if !self.may_send_ops(repo, &community)? {
                    return Ok(out);
                }
                let new = repo
                    .add_ops(&self.peer, &community, &ops)
                    .map_err(repo_err)?;
                tracing::debug!(community, received = ops.len(), new, "membership ops");
                self.peer_holds(
                    &community,
                    ops.iter().map(|b| crate::membership::op_hash(b)),
                );
            }
            Msg::Unshared { community } => {
                self.unanswered.remove(&community);
                // It asked for a first copy and then found it is not a
                // member after all: nothing of it is shared.
                if !self.pulls.contains_key(&community) && !self.joining.contains_key(&community) {
                    self.shared.remove(&community);
                    self.peer_synced.remove(&community);
                    self.announced.remove(&community);
                    self.announced_up_to.remove(&community);
                }
            }
            Msg::Bye { reason } => return Err(SessionError::PeerBye(reason)),
        }
        Ok(out)
    }

    /// The peer offered `community`, of which this side holds nothing: ask
    /// for its whole log and its feed from the start. Nothing is kept
    /// unless the log proves this device a member ([`Self::take_bootstrap`]).
    fn try_bootstrap<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<Vec<Msg>, SessionError> {
        if self.joining.contains_key(community)
            || self.bootstrap.contains_key(community)
            || self.bootstrap.len() >= MAX_BOOTSTRAPS
            || !repo.op_heads(community).map_err(repo_err)?.is_empty()
        {
            return Ok(vec![]);
        }
        self.bootstrap.insert(community.to_string(), Vec::new());
        self.ops_told.insert(community.to_string(), Vec::new());
        Ok(vec![
            Msg::OpHeads {
                community: community.to_string(),
                heads: Vec::new(),
            },
            Msg::Since {
                community: community.to_string(),
                since: 0,
            },
        ])
    }

    /// The peer's feed for a bootstrapping community begins: every op it
    /// sent is in. Keeps the log, and goes on as for a shared community,
    /// only if the log (verified here, by the same rules as any log)
    /// makes both this device and the peer members; otherwise drops it.
    fn take_bootstrap<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
    ) -> Result<bool, SessionError> {
        let ops = self.bootstrap.remove(community).unwrap_or_default();
        let m = crate::membership::compute(community, &ops);
        let me = repo.device();
        if !(m.is_member(&me) && m.is_member(&self.peer)) {
            self.refused += 1;
            tracing::info!(
                community,
                "a peer offered a community this device is not a member of: ignored"
            );
            return Ok(false);
        }
        repo.add_ops(&self.peer, community, &ops)
            .map_err(repo_err)?;
        if !repo.is_member(community, &self.peer).map_err(repo_err)? {
            return Ok(false);
        }
        tracing::info!(community, "added by device id: taking a first copy");
        let heads = repo.op_heads(community).map_err(repo_err)?;
        self.peer_holds(community, heads);
        self.shared.insert(community.to_string());
        // The peer is offered nothing: this side had nothing of it.
        self.peer_synced.insert(community.to_string());
        self.pulls.insert(community.to_string(), Pull::default());
        Ok(true)
    }

    /// A whole document (`Doc`) or part of one (`DocPart`) this side
    /// fetched: merged, and once it is all in, reconciled.
    fn take_doc<R: Repo>(
        &mut self,
        repo: &mut R,
        community: String,
        id: String,
        bytes: &[u8],
        sigs: Vec<crate::wire::ChangeSig>,
        taken: Taken,
    ) -> Result<Vec<Msg>, SessionError> {
        let mut out = Vec::new();
        let complete = matches!(taken, Taken::Whole | Taken::Part { last: true });
        let asked = if complete {
            self.fetched.remove(&id)
        } else {
            self.fetched.contains(&id)
        };
        if !asked {
            self.refused += 1;
            tracing::debug!(doc = %id, "refused a document this side did not ask for");
            return Ok(out);
        }
        let sigs: HashMap<Hash, Vec<u8>> = sigs.into_iter().map(|s| (s.hash, s.sig)).collect();
        let sig_of = |h: &Hash| sigs.get(h).cloned();
        match repo
            .merge(&self.peer, &community, &id, bytes, &sig_of)
            .map_err(repo_err)?
        {
            Merged::NotADocument => {
                return Err(SessionError::BadDoc { community, doc: id });
            }
            Merged::Merged { refused: 0 } => {}
            Merged::Merged { .. } => {
                self.muted.insert(id.clone());
            }
        }
        if !complete {
            return Ok(out);
        }
        self.seed_state(repo, &community, &id)?;
        self.reconciled(repo, &community, &id)?;
        // Still waiting for heads the peer announced: it may have
        // rebuilt the document since (membership narrowed there),
        // and what it sent is what it holds now.
        let sent = match taken {
            Taken::Whole => automerge::AutoCommit::load(bytes)
                .ok()
                .map(|mut d| documents::to_hashes(&d.get_heads())),
            // Parts: what it sent is what is held here now.
            Taken::Part { .. } => repo.heads(&community, &id).map_err(repo_err)?,
        };
        if let Some(pull) = self.pulls.get_mut(&community)
            && let Some(wanted) = pull.pending.get_mut(&id)
            && let Some(heads) = sent
            && !heads.is_empty()
            && heads != *wanted
        {
            *wanted = heads;
            self.reconciled(repo, &community, &id)?;
        }
        out.extend(self.maybe_finish(repo, &community)?);
        Ok(out)
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
        if !pull.held_back {
            repo.set_checkpoint(&self.peer, community, up_to)
                .map_err(repo_err)?;
        }
        Ok(vec![Msg::Synced {
            community: community.to_string(),
        }])
    }
}

fn repo_err(e: impl std::fmt::Display) -> SessionError {
    SessionError::Repo(e.to_string())
}
