//! [`Harness`]: devices, each with its own [`MemRepo`], joined by links;
//! each link is a pair of [`Session`]s whose frames are pumped between
//! them, one message at a time, until nothing is left to say.
//!
//! Everything is deterministic: messages are delivered in a fixed
//! round-robin order, and the only randomness is the seeded generator
//! behind [`Faults`]. What happens to each message on its way is decided
//! by a hook ([`Harness::set_hook`]): deliver, drop, duplicate, delay
//! (reorder) or cut the link. A dropped connection is modelled as it
//! happens for real: [`Harness::reconnect`] starts a new pair of sessions
//! over the same repos.
//!
//! Like `outpost-core`'s node, the harness tells every live session of a
//! device about each document that entered the device's change feed
//! (local edits and data merged from any peer), through
//! [`Session::local_change`]. That is how a hub forwards one member's change
//! to the others, and how a session learns of edits made while it runs.

use super::MemRepo;
use crate::membership::Key;
use crate::session::{Session, SessionError};
use crate::wire::{self, Hash, Msg};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What becomes of one message in transit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Deliver,
    /// Lost (the stream would not do this; combine with a reconnect).
    Drop,
    /// Delivered twice in a row.
    Duplicate,
    /// Put behind the next message in the same direction (a reorder). A
    /// message is delayed at most once.
    Delay,
    /// The connection breaks: this message and everything still in flight
    /// on the link are lost, and both sessions end.
    Disconnect,
}

/// A message about to be delivered, as the hook sees it.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub link: usize,
    pub from: usize,
    pub to: usize,
    /// Position of the message among those sent this way on this link in
    /// the current connection (0 is the `Hello`).
    pub n: u64,
    pub msg: &'a Msg,
    /// Length of the frame on the wire.
    pub bytes: usize,
}

type Hook = Box<dyn FnMut(&Envelope<'_>) -> Fate>;

/// A small deterministic generator (SplitMix64): seeded, never the OS.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Seeded random faults, as a hook: each message independently dropped,
/// duplicated or delayed with the given percentages. `Hello` is never
/// touched (a session cannot start without it; losing it is a lost
/// connection, which [`Harness::reconnect`] models).
#[derive(Debug, Clone)]
pub struct Faults {
    pub rng: Rng,
    pub drop: u64,
    pub duplicate: u64,
    pub delay: u64,
}

impl Faults {
    pub fn seeded(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            drop: 0,
            duplicate: 0,
            delay: 0,
        }
    }

    pub fn drop(mut self, percent: u64) -> Self {
        self.drop = percent;
        self
    }

    pub fn duplicate(mut self, percent: u64) -> Self {
        self.duplicate = percent;
        self
    }

    pub fn delay(mut self, percent: u64) -> Self {
        self.delay = percent;
        self
    }

    pub fn fate(&mut self, e: &Envelope<'_>) -> Fate {
        if matches!(e.msg, Msg::Hello { .. }) {
            return Fate::Deliver;
        }
        if self.rng.chance(self.drop) {
            Fate::Drop
        } else if self.rng.chance(self.duplicate) {
            Fate::Duplicate
        } else if self.rng.chance(self.delay) {
            Fate::Delay
        } else {
            Fate::Deliver
        }
    }
}

/// Traffic one way on one link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages sent (whatever their fate).
    pub msgs: u64,
    /// Frame bytes sent.
    pub bytes: u64,
    /// Messages sent, by kind (`"Hello"`, `"Sync"`, ...).
    pub by_kind: BTreeMap<&'static str, u64>,
}

impl Traffic {
    fn count(&mut self, msg: &Msg, bytes: usize) {
        self.msgs += 1;
        self.bytes += bytes as u64;
        *self.by_kind.entry(kind(msg)).or_default() += 1;
    }

    /// Messages of one kind.
    pub fn of(&self, kind: &str) -> u64 {
        self.by_kind.get(kind).copied().unwrap_or(0)
    }
}

/// The name of a message's variant.
pub fn kind(msg: &Msg) -> &'static str {
    match msg {
        Msg::Hello { .. } => "Hello",
        Msg::Join { .. } => "Join",
        Msg::Joined { .. } => "Joined",
        Msg::Since { .. } => "Since",
        Msg::Changes { .. } => "Changes",
        Msg::Fetch { .. } => "Fetch",
        Msg::Doc { .. } => "Doc",
        Msg::Sync { .. } => "Sync",
        Msg::Synced { .. } => "Synced",
        Msg::Bye { .. } => "Bye",
        Msg::OpHeads { .. } => "OpHeads",
        Msg::Ops { .. } => "Ops",
        Msg::Gone { .. } => "Gone",
        Msg::Unshared { .. } => "Unshared",
        Msg::DocPart { .. } => "DocPart",
    }
}

/// One message as it was sent, for tests to inspect.
#[derive(Debug, Clone)]
pub struct Sent {
    pub link: usize,
    pub from: usize,
    pub to: usize,
    pub msg: Msg,
    pub frame: Vec<u8>,
}

struct InFlight {
    frame: Vec<u8>,
    n: u64,
    /// Already past the hook (a duplicate or a delayed message).
    judged: bool,
}

/// A connection between two devices: a session on each side.
pub struct Link {
    pub a: usize,
    pub b: usize,
    /// `sessions[0]` runs on `a` (its peer is `b`), `sessions[1]` on `b`.
    sessions: [Session; 2],
    /// Frames in transit: `[0]` a → b, `[1]` b → a.
    queues: [VecDeque<InFlight>; 2],
    sent_n: [u64; 2],
    /// Traffic of every connection on this link so far: `[0]` a → b.
    pub traffic: [Traffic; 2],
    /// Why the current connection ended, if it did.
    pub closed: Option<String>,
    /// How many connections this link has had (1 after `connect`).
    pub connections: u32,
}

impl Link {
    /// The session running on `side` (0: `a`, 1: `b`).
    pub fn session(&self, side: usize) -> &Session {
        &self.sessions[side]
    }

    /// Traffic from `node` to the other end.
    pub fn from(&self, node: usize) -> &Traffic {
        &self.traffic[usize::from(node != self.a)]
    }

    /// Whether both sessions say they are reconciled.
    pub fn converged(&self) -> bool {
        self.closed.is_none() && self.sessions.iter().all(Session::converged)
    }

    fn in_flight(&self) -> usize {
        self.queues[0].len() + self.queues[1].len()
    }
}

/// The pump did not fall silent within the allowed number of deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chatter {
    pub delivered: u64,
    /// Kinds of the last messages delivered, newest last.
    pub tail: Vec<String>,
}

impl std::fmt::Display for Chatter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "still talking after {} messages; last: {}",
            self.delivered,
            self.tail.join(", ")
        )
    }
}

/// Devices, links between them, and the message pump.
pub struct Harness {
    pub nodes: Vec<MemRepo>,
    pub links: Vec<Link>,
    hook: Option<Hook>,
    /// Tell live sessions about feed entries (as `outpost-core` does).
    pub notify_feed: bool,
    feed_seen: Vec<u64>,
    /// Every message sent, in order (when `record` is on).
    pub log: Vec<Sent>,
    pub record: bool,
    /// Messages delivered so far.
    pub delivered: u64,
    turn: usize,
}

fn encode(msg: &Msg) -> Vec<u8> {
    wire::encode(msg).unwrap_or_else(|e| {
        panic!(
            "a session produced a message that does not encode ({}): {e}",
            msg.summary()
        )
    })
}

fn decode(frame: &[u8]) -> Msg {
    let mut d = wire::Decoder::default();
    d.push(frame);
    d.next_msg()
        .expect("a session produced a frame that does not decode")
        .expect("a whole frame")
}

impl Harness {
    pub fn new(nodes: Vec<MemRepo>) -> Self {
        let feed_seen = nodes.iter().map(MemRepo::feed_head).collect();
        Self {
            nodes,
            links: Vec::new(),
            hook: None,
            notify_feed: true,
            feed_seen,
            log: Vec::new(),
            record: true,
            delivered: 0,
            turn: 0,
        }
    }

    /// Adds a device; returns its index.
    pub fn add(&mut self, repo: MemRepo) -> usize {
        self.feed_seen.push(repo.feed_head());
        self.nodes.push(repo);
        self.nodes.len() - 1
    }

    /// Decides the fate of every message from now on.
    pub fn set_hook(&mut self, hook: impl FnMut(&Envelope<'_>) -> Fate + 'static) {
        self.hook = Some(Box::new(hook));
    }

    /// Seeded random faults from now on.
    pub fn set_faults(&mut self, mut faults: Faults) {
        self.set_hook(move |e| faults.fate(e));
    }

    pub fn clear_hook(&mut self) {
        self.hook = None;
    }

    /// Opens a connection from `a` to `b`; returns the link's index.
    pub fn connect(&mut self, a: usize, b: usize) -> usize {
        self.connect_with(a, b, &[])
    }

    /// Opens a connection from `a` to `b`, with `a` redeeming `joins`
    /// (community, secret) with `b`.
    pub fn connect_with(&mut self, a: usize, b: usize, joins: &[(String, Hash)]) -> usize {
        // Edits made so far go to the sessions already running; the new
        // pair learns of them from its own Hello.
        self.catch_up();
        let link = Link {
            a,
            b,
            sessions: [
                Session::new(self.nodes[b].id()),
                Session::new(self.nodes[a].id()),
            ],
            queues: [VecDeque::new(), VecDeque::new()],
            sent_n: [0, 0],
            traffic: [Traffic::default(), Traffic::default()],
            closed: None,
            connections: 0,
        };
        self.links.push(link);
        let i = self.links.len() - 1;
        self.start(i, joins);
        i
    }

    /// Ends the link's connection (if it is still up) and opens a new one:
    /// fresh sessions over the same repos, in-flight messages lost, edits
    /// not yet reported to the old sessions left to the new ones' Hello.
    pub fn reconnect(&mut self, link: usize) {
        self.reconnect_with(link, &[]);
    }

    pub fn reconnect_with(&mut self, link: usize, joins: &[(String, Hash)]) {
        self.disconnect(link, "reconnected");
        self.catch_up();
        let (a, b) = (self.links[link].a, self.links[link].b);
        let l = &mut self.links[link];
        l.sessions = [
            Session::new(self.nodes[b].id()),
            Session::new(self.nodes[a].id()),
        ];
        l.queues = [VecDeque::new(), VecDeque::new()];
        l.sent_n = [0, 0];
        l.closed = None;
        self.start(link, joins);
    }

    /// Ends the link's connection without a new one.
    pub fn disconnect(&mut self, link: usize, reason: &str) {
        let l = &mut self.links[link];
        l.queues = [VecDeque::new(), VecDeque::new()];
        if l.closed.is_none() {
            l.closed = Some(reason.to_string());
        }
    }

    fn catch_up(&mut self) {
        if self.notify_feed {
            self.notify();
        } else {
            for (i, n) in self.nodes.iter().enumerate() {
                self.feed_seen[i] = n.feed_head();
            }
        }
    }

    fn start(&mut self, link: usize, joins: &[(String, Hash)]) {
        self.links[link].connections += 1;
        let (a, b) = (self.links[link].a, self.links[link].b);
        let out_a = self.links[link].sessions[0].start(&mut self.nodes[a], joins);
        let out_b = self.links[link].sessions[1].start(&mut self.nodes[b], &[]);
        self.after(link, 0, out_a);
        self.after(link, 1, out_b);
    }

    /// Queues a session's output (or closes the link on its error).
    fn after(&mut self, link: usize, side: usize, out: Result<Vec<Msg>, SessionError>) {
        match out {
            Ok(msgs) => {
                for m in msgs {
                    self.send(link, side, m);
                }
            }
            Err(e) => {
                let who = if side == 0 {
                    self.links[link].a
                } else {
                    self.links[link].b
                };
                self.disconnect(link, &format!("node {who}: {e}"));
            }
        }
    }

    fn send(&mut self, link: usize, side: usize, msg: Msg) {
        let l = &mut self.links[link];
        if l.closed.is_some() {
            return;
        }
        let frame = encode(&msg);
        l.traffic[side].count(&msg, frame.len());
        let n = l.sent_n[side];
        l.sent_n[side] += 1;
        if self.record {
            let (from, to) = if side == 0 { (l.a, l.b) } else { (l.b, l.a) };
            self.log.push(Sent {
                link,
                from,
                to,
                msg,
                frame: frame.clone(),
            });
        }
        l.queues[side].push_back(InFlight {
            frame,
            n,
            judged: false,
        });
    }

    /// Sends `msg` on `link` as if `from`'s session had produced it (a
    /// hostile or confused peer).
    pub fn inject(&mut self, link: usize, from: usize, msg: Msg) {
        let side = usize::from(from != self.links[link].a);
        self.send(link, side, msg);
    }

    /// Calls [`Session::local_change`] on every live session of `node`
    /// (what the feed watcher does), queueing what they answer; returns how
    /// many messages that queued.
    pub fn local_change(&mut self, node: usize, community: &str, doc: &str) -> usize {
        let before = self.in_flight();
        for link in 0..self.links.len() {
            let l = &self.links[link];
            let side = if l.a == node {
                0
            } else if l.b == node {
                1
            } else {
                continue;
            };
            if l.closed.is_some() {
                continue;
            }
            let out =
                self.links[link].sessions[side].local_change(&mut self.nodes[node], community, doc);
            self.after(link, side, out);
        }
        self.in_flight().saturating_sub(before)
    }

    /// Messages still in transit on every link.
    pub fn in_flight(&self) -> usize {
        self.links.iter().map(Link::in_flight).sum()
    }

    /// Tells the live sessions of every device about the documents that
    /// entered its feed since last time (`outpost-core`'s `push_changes`).
    pub fn notify(&mut self) {
        for node in 0..self.nodes.len() {
            let head = self.nodes[node].feed_head();
            let seen = self.feed_seen[node];
            if head == seen {
                continue;
            }
            self.feed_seen[node] = head;
            let mut changed: Vec<(String, String)> = Vec::new();
            let mut dedupe = BTreeSet::new();
            for e in &self.nodes[node].feed[seen as usize..head as usize] {
                if dedupe.insert(e.doc.clone()) {
                    changed.push((e.community.clone(), e.doc.clone()));
                }
            }
            for link in 0..self.links.len() {
                let side = if self.links[link].a == node {
                    0
                } else if self.links[link].b == node {
                    1
                } else {
                    continue;
                };
                for (c, d) in &changed {
                    if self.links[link].closed.is_some() {
                        break;
                    }
                    let out =
                        self.links[link].sessions[side].local_change(&mut self.nodes[node], c, d);
                    self.after(link, side, out);
                }
            }
        }
    }

    /// Delivers one message (links and directions in turn). False when
    /// nothing is in flight.
    pub fn step(&mut self) -> bool {
        if self.notify_feed {
            self.notify();
        }
        let slots = self.links.len() * 2;
        for k in 0..slots {
            let slot = (self.turn + k) % slots;
            let (link, side) = (slot / 2, slot % 2);
            if self.links[link].queues[side].is_empty() {
                continue;
            }
            self.turn = slot + 1;
            self.deliver(link, side);
            if self.notify_feed {
                self.notify();
            }
            return true;
        }
        false
    }

    fn deliver(&mut self, link: usize, side: usize) {
        let Some(f) = self.links[link].queues[side].pop_front() else {
            return;
        };
        let msg = decode(&f.frame);
        let (a, b) = (self.links[link].a, self.links[link].b);
        let (from, to) = if side == 0 { (a, b) } else { (b, a) };
        let fate = match (&mut self.hook, f.judged) {
            (Some(hook), false) => hook(&Envelope {
                link,
                from,
                to,
                n: f.n,
                msg: &msg,
                bytes: f.frame.len(),
            }),
            _ => Fate::Deliver,
        };
        let times = match fate {
            Fate::Deliver => 1,
            Fate::Drop => 0,
            Fate::Duplicate => 2,
            Fate::Delay => {
                let q = &mut self.links[link].queues[side];
                let at = q.len().min(1);
                q.insert(at, InFlight { judged: true, ..f });
                return;
            }
            Fate::Disconnect => {
                self.disconnect(link, "connection lost");
                return;
            }
        };
        for _ in 0..times {
            if self.links[link].closed.is_some() {
                return;
            }
            self.delivered += 1;
            let receiver = 1 - side;
            let out = self.links[link].sessions[receiver].handle(&mut self.nodes[to], msg.clone());
            self.after(link, receiver, out);
        }
    }

    /// Pumps until nothing is in flight. Err if that takes more than
    /// `max` deliveries (the sessions keep talking).
    pub fn run(&mut self, max: u64) -> Result<u64, Chatter> {
        let start = self.delivered;
        while self.step() {
            if self.delivered - start > max {
                let tail = self
                    .log
                    .iter()
                    .rev()
                    .take(8)
                    .rev()
                    .map(|s| format!("{}→{} {}", s.from, s.to, s.msg.summary()))
                    .collect();
                return Err(Chatter {
                    delivered: self.delivered - start,
                    tail,
                });
            }
        }
        Ok(self.delivered - start)
    }

    /// The session `node` runs on `link`.
    pub fn session(&self, link: usize, node: usize) -> &Session {
        let l = &self.links[link];
        &l.sessions[usize::from(node != l.a)]
    }

    /// Messages sent on `link` from `from`, in order (from the log).
    pub fn sent_by(&self, link: usize, from: usize) -> impl Iterator<Item = &Msg> {
        self.log
            .iter()
            .filter(move |s| s.link == link && s.from == from)
            .map(|s| &s.msg)
    }

    /// Total traffic on every link, both ways: (messages, bytes).
    pub fn totals(&self) -> (u64, u64) {
        self.links
            .iter()
            .flat_map(|l| l.traffic.iter())
            .fold((0, 0), |(m, b), t| (m + t.msgs, b + t.bytes))
    }

    /// Marks the log and the traffic counters: what was sent after this.
    pub fn mark(&self) -> Mark {
        Mark {
            log: self.log.len(),
            totals: self.totals(),
        }
    }

    /// Messages logged since `mark`.
    pub fn since(&self, mark: &Mark) -> &[Sent] {
        &self.log[mark.log..]
    }
}

/// A point in a harness's history (see [`Harness::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub log: usize,
    pub totals: (u64, u64),
}

/// Whether a message carries document data: a whole `Doc`, or a `Sync`
/// whose Automerge message holds changes.
pub fn carries_changes(msg: &Msg) -> bool {
    match msg {
        Msg::Doc { .. } | Msg::DocPart { .. } => true,
        Msg::Sync { msg, .. } => automerge::sync::Message::decode(msg)
            .map(|m| !m.changes.is_empty())
            .unwrap_or(false),
        _ => false,
    }
}

/// The document a `Doc` or `Sync` message is about.
pub fn doc_of(msg: &Msg) -> Option<&str> {
    match msg {
        Msg::Doc { id, .. } | Msg::Sync { id, .. } | Msg::DocPart { id, .. } => Some(id),
        _ => None,
    }
}

/// The peer key of `node` in `h` (a shorthand for tests).
pub fn id_of(h: &Harness, node: usize) -> Key {
    h.nodes[node].id()
}
