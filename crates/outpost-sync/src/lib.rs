//! Outpost's sync protocol, with no I/O: wire messages and framing
//! ([`wire`]), membership from signed operations ([`membership`]), and the
//! per-connection session state machine ([`session`]) that decides what to
//! send and what to accept. The session reads and writes documents only
//! through the [`session::Repo`] trait, which `outpost-core` implements over
//! the store; the network layer moves its frames.
//!
//! # Two peers
//!
//! Each side runs a [`session::Session`] over its own repo: `start` gives
//! the opening messages, `handle` answers each message from the peer, and
//! `local_change` pushes an edit made while the session runs. Whatever
//! carries the frames only has to keep them in order. Here the "network"
//! is two vectors, and the repos are the in-memory ones of the `testing`
//! feature (`outpost_sync::testing::MemRepo`):
//!
//! ```
//! # #[cfg(feature = "testing")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use outpost_sync::membership::Role;
//! use outpost_sync::session::Session;
//! use outpost_sync::testing::MemRepo;
//! use outpost_sync::wire::Msg;
//!
//! // Ana founds a community, adds Ben and asks a question; Ben holds the
//! // community document and its membership log (which names him a
//! // member), and nothing else.
//! let mut ana = MemRepo::device(1);
//! let mut ben = MemRepo::device(2);
//! let community = ana.found_community("Valley clinicians");
//! ana.add_member(&community, ben.id(), Role::Member);
//! ana.share_community(&mut ben, &community);
//! let question = ana.new_item(&community, "Dosing in renal failure?");
//!
//! let mut at_ana = Session::new(ben.id());
//! let mut at_ben = Session::new(ana.id());
//! let mut to_ben: Vec<Msg> = at_ana.start(&mut ana, &[])?;
//! let mut to_ana: Vec<Msg> = at_ben.start(&mut ben, &[])?;
//! let mut messages = 0;
//! while !to_ben.is_empty() || !to_ana.is_empty() {
//!     messages += to_ben.len() + to_ana.len();
//!     let mut replies_to_ana = Vec::new();
//!     for m in to_ben.drain(..) {
//!         replies_to_ana.extend(at_ben.handle(&mut ben, m)?);
//!     }
//!     for m in to_ana.drain(..) {
//!         to_ben.extend(at_ana.handle(&mut ana, m)?);
//!     }
//!     to_ana = replies_to_ana;
//! }
//! // Hello, OpHeads (the logs are equal, so no Ops follow), Since, Changes
//! // and Synced each way; Ben fetches the question.
//! assert_eq!(messages, 12);
//! assert!(at_ana.converged() && at_ben.converged());
//! assert_eq!(ben.heads_of(&question), ana.heads_of(&question));
//!
//! // An edit while the session runs: one message carries it, one answers.
//! ana.comment(&question, "Dosing in renal failure (eGFR < 30)?");
//! let push = at_ana.local_change(&mut ana, &community, &question)?;
//! assert_eq!(push.len(), 1);
//! let mut answer = Vec::new();
//! for m in push {
//!     answer.extend(at_ben.handle(&mut ben, m)?);
//! }
//! for m in answer {
//!     assert!(at_ana.handle(&mut ana, m)?.is_empty(), "then silence");
//! }
//! assert_eq!(ben.heads_of(&question), ana.heads_of(&question));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "testing"))]
//! # fn main() {}
//! ```
//!
//! With the `testing` feature, `outpost_sync::testing::Harness` runs that
//! loop for any number of devices, with seeded faults (drop, duplicate,
//! reorder, disconnect) and per-direction message and byte counts; the
//! crate's own tests (`tests/protocol.rs`, `tests/quiescence.rs`) use it.

pub mod changes;
pub mod membership;
pub mod rules;
pub mod session;
// Test support: enabled by the `testing` feature, never by the app.
#[cfg(feature = "testing")]
pub mod testing;
pub mod wire;

/// ALPN of Outpost's sync protocol.
pub const ALPN: &[u8] = b"outpost/sync/1";

/// One document's contribution to its community's digest. The digest is the
/// XOR of these over every document, so it can be kept up to date one
/// document at a time, and equal digests mean equal (id, heads) sets.
pub fn digest_entry(doc_id: &str, sorted_heads: &[[u8; 32]]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(doc_id.as_bytes());
    h.update(&[0]);
    for head in sorted_heads {
        h.update(head);
    }
    *h.finalize().as_bytes()
}

/// One membership op's contribution to its community's digest (beside
/// the documents': the leading 0x01 is in no document id), so equal
/// digests also mean equal membership logs.
pub fn op_digest_entry(op_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(&[1]);
    h.update(b"membership op");
    h.update(op_hash);
    *h.finalize().as_bytes()
}

pub fn xor(a: &mut [u8; 32], b: &[u8; 32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}
