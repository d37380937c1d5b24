//! The fuzz target's body, shared with the corpus replay test.

use super::MemRepo;
use crate::membership::{Key, Membership, Role};
use crate::session::Session;
use crate::wire::Msg;

/// The peer key fuzz inputs speak as (a member of community "c").
pub const FUZZ_PEER: Key = [1; 32];

/// A repo holding community "c" (with `FUZZ_PEER` as a member) and one
/// item document "d" of it, so fuzzed messages reach the interesting code.
/// "c" has no genesis (fuzz inputs name it literally), so its membership
/// row is written directly.
pub fn fuzz_repo() -> MemRepo {
    let mut repo = MemRepo::default();
    let mut m = Membership::default();
    m.members.insert(FUZZ_PEER, Role::Member);
    repo.members.insert("c".into(), m);
    let item = outpost_model::new_item_doc(
        repo.actor(),
        &outpost_model::DocId::parse("d").expect("id"),
        &outpost_model::CommunityId::parse("c").expect("id"),
        &outpost_model::MemberProfile {
            name: "fuzz".into(),
            profession: None,
            region: None,
            expertise: vec![],
        },
        0,
        &outpost_model::NewItem::Question(outpost_model::NewQuestion {
            title: "hello".into(),
            body: "hello".into(),
            tags: vec![],
        }),
    )
    .expect("item document");
    repo.put("c", "d", item.into_automerge());
    repo
}

/// Decodes `data` as frames and feeds every message to a session: any
/// input may be refused, none may panic. (The fuzz target and the corpus
/// replay test both call this.)
pub fn fuzz_one(data: &[u8]) {
    let mut repo = fuzz_repo();
    let mut session = Session::new(FUZZ_PEER);
    let _ = session.start(&mut repo, &[]);
    let mut d = crate::wire::Decoder::default();
    d.push(data);
    let mut first = true;
    loop {
        match d.next_msg() {
            Ok(Some(msg)) => {
                // Let the fuzzer skip the handshake half the time.
                if first
                    && !matches!(msg, Msg::Hello { .. })
                    && data.first().is_some_and(|b| b & 1 == 1)
                {
                    let _ = session.handle(
                        &mut repo,
                        Msg::Hello {
                            version: crate::wire::PROTOCOL_VERSION,
                            offers: vec![],
                        },
                    );
                }
                first = false;
                if session.handle(&mut repo, msg).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

/// Splits fuzz input into byte strings, each behind a 2-byte big-endian
/// length (what is left at the end is the last one).
pub fn split_ops(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        let take = len.min(rest.len());
        out.push(rest[..take].to_vec());
        rest = &rest[take..];
    }
    out
}

/// The inverse of [`split_ops`], for seeding the corpus.
pub fn join_ops(ops: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for op in ops {
        let len = u16::try_from(op.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&op[..usize::from(len)]);
    }
    out
}

/// A membership log from a peer, as fuzz input ([`split_ops`]): verified
/// as a newcomer's first log is (`compute`), and read back as this peer's
/// own log is (`decode_held` with no signature check, so mutated ops reach
/// the rules: any graph, any kinds, any deps), for the community of every
/// genesis in it; then the heads and what a peer holding some of them
/// lacks. Any input may be refused, none may panic.
pub fn fuzz_membership(data: &[u8]) {
    use crate::membership::{
        OpKind, community_id_of, compute, compute_held, decode_held, not_in_past_of, set_heads,
    };
    let ops = split_ops(data);
    let held: Vec<_> = ops.iter().filter_map(|b| decode_held(b)).collect();
    let communities: std::collections::BTreeSet<String> = held
        .iter()
        .filter(|h| matches!(h.op.kind, OpKind::Genesis { .. }))
        .map(|h| community_id_of(&h.hash))
        .take(4)
        .collect();
    for c in &communities {
        let m = compute_held(c, &held);
        let _ = m.standing("d");
        let _ = compute(c, &ops);
    }
    let heads = set_heads(&held);
    let half: Vec<_> = heads.iter().step_by(2).copied().collect();
    let _ = not_in_past_of(&held, &half);
}

/// Peer bytes for a document, as fuzz input: merged through the one path
/// peer bytes take (`merge_checked`) into a document new here and into a
/// held item. Every change is signed on demand by the fuzz repo's own
/// device (a member), so mutated changes get past the signature check to
/// the bounded decoding, the rules and the merge.
pub fn fuzz_remote_doc(data: &[u8]) {
    use crate::changes::{Standing, merge_checked, sign};
    let repo = fuzz_repo();
    let mut standing = Standing::default();
    standing.roles.insert(repo.id(), Role::Member);
    let key = repo.key.clone();
    let sig_of = |h: &crate::wire::Hash| Some(sign(&key, "d", h));
    let mut fresh = automerge::AutoCommit::new();
    let _ = merge_checked(&mut fresh, "d", data, sig_of, &standing);
    if let Some(held) = repo.docs.get("d") {
        let mut doc = held.doc.clone();
        let _ = merge_checked(&mut doc, "d", data, sig_of, &standing);
    }
}
