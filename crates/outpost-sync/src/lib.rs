//! Outpost's sync protocol, with no I/O: wire messages and framing
//! ([`wire`]), membership from signed operations ([`membership`]), and the
//! per-connection session state machine ([`session`]) that decides what to
//! send and what to accept. The session reads and writes documents only
//! through the [`session::Repo`] trait, which `outpost-core` implements over
//! the store; the network layer moves its frames.

pub mod membership;
pub mod session;
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

pub fn xor(a: &mut [u8; 32], b: &[u8; 32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}
