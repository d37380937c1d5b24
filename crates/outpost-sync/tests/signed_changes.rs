//! Signed changes over the wire: a member's modified client (a `MemRepo`
//! whose documents and signatures the test writes raw) tries to write as
//! someone else, to relay a stranger's change, and to build on a forgery;
//! the honest peer merges none of it, says why, and keeps syncing the rest.

mod support;

use automerge::transaction::Transactable;
use outpost_sync::changes::{self, AFTER_REFUSED, BAD_SIGNATURE, NOT_A_MEMBER, UNSIGNED};
use outpost_sync::testing::{Harness, MemRepo, device_key};
use support::{assert_same, give, items, pair, quiet};

/// B, the modified client, edits `doc` as `actor` and signs the change
/// with `key` (None: no signature at all).
fn forge(
    b: &mut MemRepo,
    doc: &str,
    actor: automerge::ActorId,
    key: Option<&ed25519_dalek::SigningKey>,
    title: &str,
) -> [u8; 32] {
    let s = b.docs.get_mut(doc).expect("held");
    let mut d = s.doc.clone();
    d.set_actor(actor);
    d.put(automerge::ROOT, "title", title).expect("put");
    d.commit();
    let base = s.doc.get_heads();
    let hash = d.get_changes_meta(&base)[0].hash.0;
    s.doc = d;
    s.heads = {
        let mut h: Vec<[u8; 32]> = s.doc.get_heads().iter().map(|c| c.0).collect();
        h.sort();
        h
    };
    if let Some(key) = key {
        b.sigs.insert(hash, changes::sign(key, doc, &hash));
    }
    b.feed_push(doc);
    hash
}

fn refusals(repo: &MemRepo) -> Vec<&'static str> {
    repo.refused_changes.iter().map(|(_, r)| r.reason).collect()
}

#[test]
fn nobody_writes_as_someone_else_or_for_a_stranger() {
    let (mut a, mut b, c) = pair();
    let ids = items(&mut a, &c, 3);
    for id in &ids {
        give(&a, &mut b, id);
    }
    let a_actor = a.actor();
    // As A, unsigned; as A, signed with B's own key; as a stranger's
    // device, validly signed by the stranger; then B's honest edit of its
    // own on top of the forgery, and an honest new question of B's.
    let unsigned = forge(
        &mut b,
        &ids[0],
        a_actor.clone(),
        None,
        "A says: give 10x the dose",
    );
    let b_key = b.key.clone();
    let mis_signed = forge(
        &mut b,
        &ids[1],
        a_actor,
        Some(&b_key),
        "A says: stop treatment",
    );
    let stranger = device_key(77);
    let stranger_actor = outpost_model::device_actor(&stranger.verifying_key().to_bytes(), [1; 8]);
    let by_stranger = forge(
        &mut b,
        &ids[2],
        stranger_actor,
        Some(&stranger),
        "a stranger's view",
    );
    b.comment(&ids[2], "B edits after the stranger");
    let honest = b.new_item(&c, "B's honest question");
    let before: Vec<_> = ids
        .iter()
        .map(|id| a.heads_of(id).map(<[_]>::to_vec))
        .collect();

    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert!(h.links[l].converged(), "the session completes");
    let a = &h.nodes[0];
    for (id, was) in ids.iter().zip(&before) {
        assert_eq!(a.heads_of(id).map(<[_]>::to_vec), *was, "{id} changed");
    }
    assert!(a.docs.contains_key(&honest), "the rest still syncs");
    let mut why = refusals(a);
    why.sort();
    let mut expected = vec![UNSIGNED, BAD_SIGNATURE, NOT_A_MEMBER, AFTER_REFUSED];
    expected.sort();
    assert_eq!(why, expected);
    let hashes: Vec<[u8; 32]> = a.refused_changes.iter().map(|(_, r)| r.hash).collect();
    for forged in [unsigned, mis_signed, by_stranger] {
        assert!(hashes.contains(&forged));
    }
    // And then it is quiet; the next session tries once more and stops.
    assert_eq!(quiet(&mut h), 0);
    h.reconnect(l);
    quiet(&mut h);
    assert!(h.links[l].converged());
}

#[test]
fn honest_changes_travel_with_their_signatures_through_a_hub() {
    let (mut a, b, c) = pair();
    let mut hub = MemRepo::device(3);
    a.add_member(&c, hub.id(), outpost_sync::membership::Role::Member);
    give(&a, &mut hub, &c);
    let mut b = b;
    give(&a, &mut b, &c);
    let ids = items(&mut a, &c, 5);
    let mut h = Harness::new(vec![a, b, hub]);
    h.connect(0, 2);
    quiet(&mut h);
    h.connect(1, 2);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    h.nodes[0].comment(&ids[0], "edited while connected");
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    for n in 0..3 {
        assert!(h.nodes[n].refused_changes.is_empty(), "node {n} refused");
    }
}

/// A change bigger than any Outpost accepts (MAX_CHANGE), validly signed by
/// the document's owner, is refused with that reason: so every document
/// that arrives can be sent on, in parts if need be.
#[test]
fn a_change_over_the_size_limit_is_refused() {
    let (mut a, mut b, c) = pair();
    let ids = items(&mut b, &c, 1);
    give(&b, &mut a, &ids[0]);
    // Letters that do not compress away: more than MAX_CHANGE encoded.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let text: String = (0..9_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let (actor, key) = (b.actor(), b.key.clone());
    let big = forge(&mut b, &ids[0], actor, Some(&key), &text);
    let mut h = Harness::new(vec![a, b]);
    let _l = h.connect(1, 0);
    quiet(&mut h);
    assert_eq!(refusals(&h.nodes[0]), [changes::TOO_BIG]);
    assert!(
        !h.nodes[0].heads_of(&ids[0]).expect("held").contains(&big),
        "the oversized change was kept"
    );
}
