//! What a removal vouches for, a demoted admin's past, and forks, over the
//! wire: a removed member's modified client keeps writing; a device signs
//! two different changes with the same (actor, seq) for two peers. Honest
//! peers running the real session code converge on the same documents
//! whatever order they learn things in, and keep syncing everything else.

mod support;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use outpost_sync::changes::{AFTER_REMOVAL, FORKED};
use outpost_sync::membership::Role;
use outpost_sync::testing::{Harness, MemRepo};
use support::{give, items, quiet};

/// Runs a session between `a` and `b` until it falls silent; returns them.
fn sync(a: MemRepo, b: MemRepo) -> (MemRepo, MemRepo) {
    let mut h = Harness::new(vec![a, b]);
    h.connect(0, 1);
    quiet(&mut h);
    let b = h.nodes.pop().expect("two nodes");
    let a = h.nodes.pop().expect("two nodes");
    (a, b)
}

fn comments(repo: &MemRepo, doc: &str) -> Vec<String> {
    let Some(s) = repo.docs.get(doc) else {
        return Vec::new();
    };
    outpost_model::read_item(&s.doc)
        .map(|i| i.comments.into_iter().map(|c| c.body).collect())
        .unwrap_or_default()
}

fn reasons(repo: &MemRepo) -> Vec<&'static str> {
    repo.refused_changes.iter().map(|(_, r)| r.reason).collect()
}

/// A founds the community; every other device is a member and holds the
/// community document and its log.
fn community(members: &mut [&mut MemRepo], a: &mut MemRepo) -> String {
    let c = a.found_community("Valley clinicians");
    for m in members.iter() {
        a.add_member(&c, m.id(), Role::Member);
    }
    for m in members.iter_mut() {
        give(a, m, &c);
    }
    c
}

#[test]
fn a_removed_members_later_writing_is_refused_everywhere_whatever_the_order() {
    let mut a = MemRepo::device(1);
    let mut b = MemRepo::device(2);
    let mut c = MemRepo::device(3);
    let mut d = MemRepo::device(4);
    let id = community(&mut [&mut b, &mut c, &mut d], &mut a);
    // B's case, which the admin holds when removing B.
    let q1 = b.new_item(&id, "B's case");
    b.comment(&q1, "B's early comment");
    let (mut a, mut b) = sync(a, b);
    assert_eq!(comments(&a, &q1), ["B's early comment"]);
    a.remove_member(&id, b.id());
    // B's modified client keeps writing, unaware: a comment on its case
    // and a new question, neither of which the admin ever held.
    b.comment(&q1, "B's late comment");
    let q2 = b.new_item(&id, "B's late question");
    // C meets B first (before hearing of the removal) and takes it all.
    let (b, c) = sync(b, c);
    assert_eq!(comments(&c, &q1), ["B's early comment", "B's late comment"]);
    assert!(c.docs.contains_key(&q2));
    let c_before = c.clone();
    // Then C meets A: it learns of the removal and drops what it covers not.
    let (a, c) = sync(a, c);
    assert_eq!(comments(&c, &q1), ["B's early comment"]);
    assert!(!c.docs.contains_key(&q2));
    assert!(!a.docs.contains_key(&q2));
    // D hears of the removal first, then meets a copy of C that took B's
    // late writing and never heard: the copy learns and drops it.
    let (a, d) = sync(a, d);
    let (mut d, c2) = sync(d, c_before);
    // B's document reaching D some other way (a bundle B made): refused.
    let bytes = b.docs[&q1].doc.clone().save();
    let sigs = b.sigs.clone();
    outpost_sync::session::Repo::merge(&mut d, &b.id(), &id, &q1, &bytes, &|h| {
        sigs.get(h).cloned()
    })
    .expect("merge");
    assert!(reasons(&d).contains(&AFTER_REMOVAL), "{:?}", reasons(&d));
    for (name, node) in [("C", &c), ("D", &d), ("C's copy", &c2)] {
        assert_eq!(node.snapshot(&id), a.snapshot(&id), "{name} differs from A");
    }
    assert_eq!(comments(&d, &q1), ["B's early comment"]);
}

#[test]
fn a_demoted_admins_earlier_admin_writing_still_counts_for_newcomers() {
    let mut a = MemRepo::device(1);
    let mut b = MemRepo::device(2);
    let mut e = MemRepo::device(5);
    let id = community(&mut [&mut b], &mut a);
    a.add_member(&id, e.id(), Role::Member);
    a.set_role(&id, b.id(), Role::Admin);
    give(&a, &mut b, &id);
    // B, an admin, rewrites the charter; A holds it, then demotes B.
    b.edit(&id, |d| {
        d.put(
            automerge::ROOT,
            "charter",
            "Share cases; answer within a week.",
        )
        .expect("charter");
    });
    let (mut a, mut b) = sync(a, b);
    a.set_role(&id, b.id(), Role::Member);
    // After the demotion B rewrites it again: not an admin's to make.
    b.edit(&id, |d| {
        d.put(automerge::ROOT, "charter", "B decides.")
            .expect("charter");
    });
    let (a, b) = sync(a, b);
    let charter = |r: &MemRepo| {
        r.docs[&id]
            .doc
            .get(automerge::ROOT, "charter")
            .ok()
            .flatten()
            .map(|(v, _)| v.to_string())
    };
    assert_eq!(
        charter(&a).as_deref(),
        Some("\"Share cases; answer within a week.\"")
    );
    assert!(!reasons(&a).is_empty());
    // A newcomer takes the community from A: B's admin-era change counts
    // (nothing refused, nothing cascades), the document is whole.
    give(&a, &mut e, &id);
    let mut fresh = MemRepo::device(5);
    a.share_community(&mut fresh, &id);
    let (a, e) = sync(a, e);
    assert_eq!(e.snapshot(&id), a.snapshot(&id));
    let _ = b;
    let (a, fresh) = sync(a, fresh);
    assert_eq!(fresh.snapshot(&id), a.snapshot(&id));
    assert!(fresh.refused_changes.is_empty(), "{:?}", reasons(&fresh));
}

/// X edits `doc` in two ways from the same state, with the same actor:
/// returns X holding the first variant and a copy holding the second.
fn fork(x: &mut MemRepo, doc: &str) -> MemRepo {
    let before = x.docs[doc].clone();
    let mut other = x.clone();
    x.comment(doc, "variant one: give 5 mg");
    other.docs.insert(doc.to_string(), before);
    other.comment(doc, "variant two: give 50 mg");
    other
}

#[test]
fn a_fork_is_proven_passed_on_and_refused_while_everything_else_syncs() {
    let mut p = MemRepo::device(1);
    let mut x = MemRepo::device(5);
    let mut q = MemRepo::device(3);
    let mut r = MemRepo::device(4);
    let id = community(&mut [&mut x, &mut q, &mut r], &mut p);
    let case = x.new_item(&id, "X's case");
    for to in [&mut p, &mut q, &mut r] {
        x.give_doc(to, &case);
    }
    // X signs two different changes with the same (actor, seq): one
    // reaches P, the other Q.
    let x2 = fork(&mut x, &case);
    x.give_doc(&mut p, &case);
    x2.give_doc(&mut q, &case);
    // X writes on after the fork: nothing of that counts anywhere.
    x.comment(&case, "and then: stop at once");
    // Meanwhile both write other things.
    let p_items = items(&mut p, &id, 3);
    let q_items = items(&mut q, &id, 2);
    let (p, q) = sync(p, q);
    // Everything else crossed; of the forked case, each kept at most the
    // variant every peer keeps (the lower hash) and, once they meet
    // again, both hold it.
    for i in p_items.iter().chain(&q_items) {
        assert!(p.docs.contains_key(i) && q.docs.contains_key(i));
    }
    assert!(p.forks_reported + q.forks_reported >= 1);
    let (p, q) = sync(p, q);
    assert_eq!(p.snapshot(&id), q.snapshot(&id));
    let kept = comments(&p, &case);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("variant "), "{kept:?}");
    assert_eq!(comments(&q, &case), kept);
    for n in [&p, &q] {
        let m = &n.members[&id];
        assert_eq!(m.forks.len(), 1, "the proof is held");
        assert!(m.forks.values().all(|f| f.device == x.id()));
    }
    // R meets only Q: the proof reaches it, and X's variant is refused.
    let (_q, r) = sync(q, r);
    assert_eq!(r.members[&id].forks.len(), 1);
    // X's variant either is the kept one or never enters; what X wrote
    // after the fork never counts (refused as forked, or left waiting on
    // a variant that never comes).
    let (_x, r) = sync(x, r);
    assert_eq!(comments(&r, &case), kept);
    let forked_on: Vec<_> = r
        .refused_changes
        .iter()
        .filter(|(_, why)| why.reason != FORKED)
        .collect();
    assert!(
        forked_on.is_empty(),
        "refused for another reason: {forked_on:?}"
    );
    assert_eq!(r.snapshot(&id), p.snapshot(&id));
}

/// The first change of `doc` as `repo` holds it: its bytes and signature.
fn creation(repo: &mut MemRepo, doc: &str) -> (Vec<u8>, Vec<u8>) {
    let d = &mut repo.docs.get_mut(doc).expect("held").doc;
    let c = d
        .get_changes(&[])
        .into_iter()
        .find(|c| c.deps().is_empty())
        .expect("a first change");
    let sig = repo.sigs[&c.hash().0].clone();
    (c.raw_bytes().to_vec(), sig)
}

#[test]
fn a_fork_proof_holds_only_within_one_document() {
    let mut p = MemRepo::device(1);
    let mut x = MemRepo::device(5);
    let id = community(&mut [&mut x], &mut p);
    // Two honest cases, each created as X's first change in it: the same
    // actor and seq, in two documents. Paired up, they are not a fork.
    let one = x.new_item(&id, "X's first case");
    let two = x.new_item(&id, "X's second case");
    let (a, sig_a) = creation(&mut x, &one);
    let (b, sig_b) = creation(&mut x, &two);
    let same_at = |a: &[u8], b: &[u8]| {
        let (a, b) = (
            automerge::Change::from_bytes(a.to_vec()).unwrap(),
            automerge::Change::from_bytes(b.to_vec()).unwrap(),
        );
        a.actor_id() == b.actor_id() && a.seq() == b.seq()
    };
    assert!(same_at(&a, &b), "the test needs one actor and seq");
    for doc in [&one, &two] {
        let forged = outpost_sync::membership::ForkProof {
            doc: doc.clone(),
            a: a.clone(),
            sig_a: sig_a.clone(),
            b: b.clone(),
            sig_b: sig_b.clone(),
        };
        assert_eq!(outpost_sync::changes::verify_fork(&forged, p.id()), None);
    }
    // A real fork of a document's first change is proven.
    let before = x.clone();
    let three = x.new_item(&id, "X's third case");
    let mut other = before.clone();
    // The same device state numbers the same id.
    let again = other.new_item(&id, "X's third case, rewritten");
    assert_eq!(again, three);
    let (a, sig_a) = creation(&mut x, &three);
    let (b, sig_b) = creation(&mut other, &three);
    assert!(same_at(&a, &b));
    let proof = outpost_sync::membership::ForkProof {
        doc: three.clone(),
        a,
        sig_a,
        b,
        sig_b,
    };
    let fork = outpost_sync::changes::verify_fork(&proof, p.id()).expect("a proof");
    assert_eq!((fork.device, fork.seq), (x.id(), 1));
}
