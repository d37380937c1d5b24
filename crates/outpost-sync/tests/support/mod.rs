//! Shared set-up for the protocol tests.
#![allow(dead_code)]

use outpost_sync::membership::Role;
use outpost_sync::testing::{Harness, MemRepo};
use outpost_sync::wire::Msg;

/// Enough deliveries for any of these tests; more means the sessions
/// never fall silent.
pub const QUIET: u64 = 5_000;

/// Copies a document `from` holds into `to` (as if it had arrived
/// earlier); a community document comes with its membership log.
pub fn give(from: &MemRepo, to: &mut MemRepo, doc: &str) {
    let s = &from.docs[doc];
    if s.kind == "community" {
        from.share_community(to, doc);
    } else {
        from.give_doc(to, doc);
    }
}

/// Device 1 founds a community and adds device 2 as a member; both hold
/// the community document and its log (so both compute the same
/// membership).
pub fn pair() -> (MemRepo, MemRepo, String) {
    let mut a = MemRepo::device(1);
    let mut b = MemRepo::device(2);
    let c = a.found_community("Valley clinicians");
    a.add_member(&c, b.id(), Role::Member);
    give(&a, &mut b, &c);
    (a, b, c)
}

/// `n` new questions in `community` on `repo`; their ids.
pub fn items(repo: &mut MemRepo, community: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| repo.new_item(community, &format!("question {i}")))
        .collect()
}

/// Pumps until silent; panics (with the last messages) if it never is.
pub fn quiet(h: &mut Harness) -> u64 {
    match h.run(QUIET) {
        Ok(n) => n,
        Err(chatter) => panic!("{chatter}"),
    }
}

/// Both ends hold the same documents of `community` at the same heads.
pub fn assert_same(h: &Harness, a: usize, b: usize, community: &str) {
    assert_eq!(
        h.nodes[a].snapshot(community),
        h.nodes[b].snapshot(community),
        "nodes {a} and {b} differ"
    );
}

/// Ids named by the `Fetch` messages in `msgs`.
pub fn fetched<'a>(msgs: impl Iterator<Item = &'a Msg>) -> Vec<String> {
    let mut v: Vec<String> = msgs
        .filter_map(|m| match m {
            Msg::Fetch { docs, .. } => Some(docs.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    v.sort();
    v
}

/// Sorted ids of the documents `Doc` / `Sync` messages in `msgs` are about.
pub fn docs_moved<'a>(msgs: impl Iterator<Item = &'a Msg>, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = msgs
        .filter(|m| outpost_sync::testing::kind(m) == kind)
        .filter_map(|m| outpost_sync::testing::doc_of(m).map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}
