//! The sync protocol between two (or three) in-memory devices: paging,
//! checkpoints, whole-document fetch versus Automerge sync, invitations,
//! the membership gate and when `Synced` may be said. Each test drives real
//! `Session`s through `outpost_sync::testing::Harness`.

mod support;

use automerge::sync::SyncDoc;
use outpost_sync::membership::Key;
use outpost_sync::session::{Progress, Repo};
use outpost_sync::testing::{Fate, Harness, MemRepo, Sent, carries_changes, kind};
use outpost_sync::wire::{DocHeads, Msg, PAGE};
use support::{assert_same, docs_moved, fetched, give, items, pair, quiet};

fn checkpoint(repo: &mut MemRepo, peer: Key, community: &str) -> u64 {
    repo.checkpoint(&peer, community).expect("checkpoint")
}

fn kinds(sent: &[Sent]) -> Vec<&'static str> {
    sent.iter().map(|s| kind(&s.msg)).collect()
}

fn count(h: &Harness, link: usize, from: usize, k: &str) -> usize {
    h.sent_by(link, from).filter(|m| kind(m) == k).count()
}

#[test]
fn more_than_a_page_of_changes_arrives_in_pages() {
    let (mut a, b, c) = pair();
    let n = PAGE + 25;
    let ids = items(&mut a, &c, n);
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);

    assert_same(&h, 0, 1, &c);
    assert_eq!(
        h.nodes[1].doc_ids(&c).len(),
        n + 1,
        "every item and the community"
    );
    // A answered B's Since in two pages, only the second marked last. (The
    // community document, which B already holds, is listed too.)
    let pages: Vec<(usize, bool)> = h
        .sent_by(l, 0)
        .filter_map(|m| match m {
            Msg::Changes { docs, last, .. } => Some((docs.len(), *last)),
            _ => None,
        })
        .collect();
    assert_eq!(pages, vec![(PAGE, false), (n + 1 - PAGE, true)]);
    // B fetched exactly the items, each once, and said Synced once, after
    // the last of them arrived.
    let mut want = ids.clone();
    want.sort();
    assert_eq!(fetched(h.sent_by(l, 1)), want);
    assert_eq!(count(&h, l, 0, "Doc"), n);
    assert_eq!(count(&h, l, 1, "Synced"), 1);
    let last_doc = h.log.iter().rposition(|s| kind(&s.msg) == "Doc");
    let synced = h
        .log
        .iter()
        .position(|s| s.from == 1 && kind(&s.msg) == "Synced");
    assert!(synced > last_doc, "Synced before the last document");
    assert_eq!(h.session(l, 1).progress(), Progress { done: n, total: n });
    let (ka, feed_a) = (h.nodes[0].id(), h.nodes[0].feed_head());
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);
    assert!(h.links[l].converged());
}

#[test]
fn checkpoints_make_the_next_session_cost_what_changed() {
    let (mut a, b, c) = pair();
    let ids = items(&mut a, &c, 6);
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    let (ka, kb) = (h.nodes[0].id(), h.nodes[1].id());
    let feed_a = h.nodes[0].feed_head();
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);

    // Nothing changed: one Hello each way, and both move their checkpoint
    // to the other's feed position.
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    assert_eq!(kinds(h.since(&m)), ["Hello", "Hello"]);
    assert!(h.links[l].converged());
    let feed_b = h.nodes[1].feed_head();
    assert_eq!(checkpoint(&mut h.nodes[0], kb, &c), feed_b);
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);

    // One document changes on A: B asks from its checkpoint, A lists that
    // document only, and only it moves.
    h.nodes[0].comment(&ids[2], "edited on A");
    let since = checkpoint(&mut h.nodes[1], ka, &c);
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    let sent = h.since(&m);
    let asked: Vec<u64> = sent
        .iter()
        .filter(|s| s.from == 1)
        .filter_map(|s| match &s.msg {
            Msg::Since { since, .. } => Some(*since),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![since]);
    let listed: Vec<String> = sent
        .iter()
        .filter(|s| s.from == 0)
        .filter_map(|s| match &s.msg {
            Msg::Changes { docs, .. } => Some(docs.iter().map(|d| d.id.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(listed, vec![ids[2].clone()]);
    let msgs = || sent.iter().map(|s| &s.msg);
    assert_eq!(docs_moved(msgs(), "Sync"), vec![ids[2].clone()]);
    assert!(docs_moved(msgs(), "Doc").is_empty());
    assert_eq!(
        sent.iter().filter(|s| carries_changes(&s.msg)).count(),
        1,
        "the edit travels once"
    );
    assert_same(&h, 0, 1, &c);
    let feed_a = h.nodes[0].feed_head();
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);
}

#[test]
fn missing_documents_come_whole_divergent_ones_through_automerge_sync() {
    let (mut a, mut b, c) = pair();
    let shared = a.new_item(&c, "shared");
    give(&a, &mut b, &shared);
    a.comment(&shared, "title from A");
    b.comment(&shared, "title from B");
    let only_a = a.new_item(&c, "only on A");
    let only_b = b.new_item(&c, "only on B");
    let before = (h_heads(&a, &shared), h_heads(&b, &shared));
    assert_ne!(before.0, before.1);

    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(0, 1);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    assert!(h.links[l].converged());

    assert_eq!(fetched(h.sent_by(l, 1)), vec![only_a.clone()]);
    assert_eq!(fetched(h.sent_by(l, 0)), vec![only_b.clone()]);
    assert_eq!(docs_moved(h.sent_by(l, 0), "Doc"), vec![only_a]);
    assert_eq!(docs_moved(h.sent_by(l, 1), "Doc"), vec![only_b]);
    let all = h.log.iter().map(|s| &s.msg);
    assert_eq!(docs_moved(all, "Sync"), vec![shared.clone()]);
    // The merged document holds both edits.
    let merged = h_heads(&h.nodes[0], &shared);
    assert_eq!(merged.len(), 2, "two concurrent heads");
    for head in before.0.iter().chain(&before.1) {
        assert!(merged.contains(head));
    }
}

fn h_heads(repo: &MemRepo, doc: &str) -> Vec<[u8; 32]> {
    repo.heads_of(doc).expect("held").to_vec()
}

#[test]
fn an_invitation_is_redeemed_once_and_brings_the_community() {
    let mut a = MemRepo::device(1);
    let c = a.found_community("Valley clinicians");
    items(&mut a, &c, 3);
    let secret = [7u8; 32];
    a.create_invite(&c, secret, a.now + 60_000);
    let mut h = Harness::new(vec![a, MemRepo::device(3)]);
    let l = h.connect_with(1, 0, &[(c.clone(), secret)]);
    quiet(&mut h);

    assert_eq!(h.links[l].closed, None);
    assert!(h.links[l].converged());
    let joined: Vec<&Msg> = h.sent_by(l, 0).filter(|m| kind(m) == "Joined").collect();
    assert!(matches!(joined[..], [Msg::Joined { ok: true, .. }]));
    assert_same(&h, 0, 1, &c);
    let k = h.nodes[1].id();
    assert!(h.nodes[0].member(&c, &k), "the inviter signed the Add");
    assert!(
        h.nodes[1].member(&c, &k),
        "the newcomer computes the same from the signed ops it received"
    );
    assert_eq!(h.nodes[0].invites[&secret].used_by, Some(k));

    // From now on an ordinary member: nothing new, one Hello each way.
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    assert_eq!(kinds(h.since(&m)), ["Hello", "Hello"]);

    // The same secret does not let a second device in.
    let other = h.add(MemRepo::device(4));
    let l2 = h.connect_with(other, 0, &[(c.clone(), secret)]);
    quiet(&mut h);
    let ko = h.nodes[other].id();
    assert!(!h.nodes[0].member(&c, &ko));
    assert!(
        h.links[l2]
            .closed
            .as_deref()
            .is_some_and(|r| r.contains("already been used")),
        "{:?}",
        h.links[l2].closed
    );
    assert!(h.nodes[other].doc_ids(&c).is_empty());
}

#[test]
fn a_wrong_or_expired_secret_is_refused_and_lets_nothing_through() {
    for (case, secret, later, reason) in [
        ("wrong secret", [8u8; 32], 0, "unknown invitation"),
        ("expired", [7u8; 32], 120_000, "this invitation has expired"),
    ] {
        let mut a = MemRepo::device(1);
        let c = a.found_community("Valley clinicians");
        let ids = items(&mut a, &c, 2);
        a.create_invite(&c, [7u8; 32], a.now + 60_000);
        a.now += later;
        let mut h = Harness::new(vec![a, MemRepo::device(3)]);
        let l = h.connect_with(1, 0, &[(c.clone(), secret)]);
        quiet(&mut h);

        let k = h.nodes[1].id();
        assert!(!h.nodes[0].member(&c, &k), "{case}");
        assert_eq!(h.nodes[0].invites[&[7u8; 32]].used_by, None, "{case}");
        assert!(h.nodes[1].docs.is_empty(), "{case}");
        assert!(
            h.links[l]
                .closed
                .as_deref()
                .is_some_and(|r| r.contains("invitation refused")),
            "{case}: {:?}",
            h.links[l].closed
        );
        // The inviter said Hello (offering nothing) and no, with the reason.
        let to_newcomer: Vec<&Msg> = h.sent_by(l, 0).collect();
        assert_eq!(to_newcomer.len(), 2, "{case}: {to_newcomer:?}");
        assert!(
            matches!(to_newcomer[0], Msg::Hello { offers, .. } if offers.is_empty()),
            "{case}"
        );
        assert!(
            matches!(to_newcomer[1], Msg::Joined { ok: false, reason: r, .. } if r == reason),
            "{case}: {:?}",
            to_newcomer[1]
        );
        for s in h.log.iter().filter(|s| s.from == 0) {
            for id in &ids {
                assert!(!contains(&s.frame, id.as_bytes()), "{case}: leaked {id}");
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An Automerge sync message for a document the sender holds.
fn sync_msg_for(mut doc: automerge::AutoCommit) -> Vec<u8> {
    let mut state = automerge::sync::State::new();
    doc.sync()
        .generate_sync_message(&mut state)
        .expect("a first message")
        .encode()
}

#[test]
fn a_non_member_gets_zero_bytes_of_the_community() {
    let (mut a, _, c) = pair();
    let ids = items(&mut a, &c, 3);
    let heads: Vec<[u8; 32]> = ids
        .iter()
        .flat_map(|id| a.heads_of(id).expect("held").to_vec())
        .collect();
    let copy = a.docs[&ids[0]].doc.clone();
    // The stranger knows the community's id and the documents' ids (from a
    // leaked link, say) and even holds a copy of one document.
    let mut h = Harness::new(vec![a, MemRepo::device(9)]);
    let l = h.connect(1, 0);
    let feed = h.nodes[0].feed.clone();
    let hostile = vec![
        Msg::Since {
            community: c.clone(),
            since: 0,
        },
        Msg::Fetch {
            community: c.clone(),
            docs: ids.clone(),
        },
        Msg::Sync {
            community: c.clone(),
            id: ids[0].clone(),
            msg: sync_msg_for(copy.clone()),
            sigs: vec![],
        },
        Msg::Changes {
            community: c.clone(),
            docs: vec![DocHeads {
                id: ids[1].clone(),
                heads: vec![[5; 32]],
            }],
            up_to: 9,
            last: true,
        },
        Msg::Doc {
            community: c.clone(),
            id: ids[2].clone(),
            bytes: copy.clone().save(),
            sigs: vec![],
        },
        Msg::Synced {
            community: c.clone(),
        },
    ];
    let n = hostile.len() as u64;
    for m in hostile {
        h.inject(l, 1, m);
    }
    quiet(&mut h);

    assert_eq!(h.links[l].closed, None, "refused, not an error");
    let to_stranger: Vec<&Sent> = h.log.iter().filter(|s| s.from == 0).collect();
    assert_eq!(to_stranger.len(), 1, "only Hello");
    assert!(matches!(&to_stranger[0].msg, Msg::Hello { offers, .. } if offers.is_empty()));
    let frame = &to_stranger[0].frame;
    assert!(!contains(frame, c.as_bytes()));
    for id in &ids {
        assert!(!contains(frame, id.as_bytes()));
    }
    for head in &heads {
        assert!(!contains(frame, head));
    }
    assert_eq!(
        h.session(l, 0).refused,
        n,
        "every community message refused"
    );
    assert_eq!(h.nodes[0].feed, feed, "nothing merged");
    let ks = h.nodes[1].id();
    assert!(h.nodes[0].states.keys().all(|(p, _)| *p != ks));
    assert!(h.nodes[0].checkpoints.keys().all(|(p, _)| *p != ks));
    assert!(h.nodes[0].acks.keys().all(|(p, _)| *p != ks));
}

#[test]
fn a_removed_member_is_cut_off_as_soon_as_the_removal_is_known() {
    let (mut a, b, c) = pair();
    let ids = items(&mut a, &c, 2);
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);

    let kb = h.nodes[1].id();
    h.nodes[0].remove_member(&c, kb);
    let m = h.mark();
    h.nodes[0].comment(&ids[0], "after the removal");
    h.nodes[1].comment(&ids[1], "pushed by the removed member");
    quiet(&mut h);

    let sent = h.since(&m);
    assert!(
        sent.iter().all(|s| s.from != 0),
        "A sent the removed member {:?}",
        kinds(sent)
    );
    assert_ne!(
        h.nodes[0].heads_of(&ids[1]),
        h.nodes[1].heads_of(&ids[1]),
        "A did not take the removed member's change"
    );
    // The removal and the edit were held back; B's push was refused.
    assert!(h.session(l, 0).refused >= 3, "{}", h.session(l, 0).refused);

    // The next session offers it nothing.
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    let from_a: Vec<&Msg> = h
        .since(&m)
        .iter()
        .filter(|s| s.from == 0)
        .map(|s| &s.msg)
        .collect();
    // Nothing but that it will not share what B offered.
    assert!(
        matches!(&from_a[..], [Msg::Hello { offers, .. }, Msg::Unshared { community }]
            if offers.is_empty() && *community == c),
        "{from_a:?}"
    );
}

#[test]
fn synced_waits_for_every_announced_document() {
    let (mut a, b, c) = pair();
    let ids = items(&mut a, &c, 3);
    let victim = ids[1].clone();
    let mut h = Harness::new(vec![a, b]);
    h.set_hook(move |e| match e.msg {
        Msg::Doc { id, .. } if *id == victim => Fate::Drop,
        _ => Fate::Deliver,
    });
    let l = h.connect(1, 0);
    quiet(&mut h);

    let (ka, kb) = (h.nodes[0].id(), h.nodes[1].id());
    assert!(h.nodes[1].heads_of(&ids[1]).is_none());
    assert!(h.nodes[1].heads_of(&ids[0]).is_some());
    assert_eq!(count(&h, l, 1, "Synced"), 0, "B is missing a document");
    assert_eq!(
        checkpoint(&mut h.nodes[1], ka, &c),
        0,
        "checkpoint not moved"
    );
    assert!(!h.session(l, 1).converged());
    assert_eq!(h.session(l, 1).progress(), Progress { done: 2, total: 3 });
    assert!(!h.nodes[0].acks.contains_key(&(kb, c.clone())));

    // The lost message means a broken connection; the next one finishes.
    h.clear_hook();
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    assert_eq!(
        docs_moved(h.since(&m).iter().map(|s| &s.msg), "Doc"),
        vec![ids[1].clone()]
    );
    let feed_a = h.nodes[0].feed_head();
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);
    assert!(h.links[l].converged());
}

#[test]
fn synced_waits_for_a_divergent_document_too() {
    let (mut a, mut b, c) = pair();
    let shared = a.new_item(&c, "shared");
    give(&a, &mut b, &shared);
    a.comment(&shared, "title from A");
    b.comment(&shared, "title from B");
    let mut h = Harness::new(vec![a, b]);
    // Lose the first message that carries A's changes to B.
    let mut lost = false;
    h.set_hook(move |e| {
        if e.from == 0 && !lost && carries_changes(e.msg) {
            lost = true;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let l = h.connect(1, 0);
    quiet(&mut h);

    let ka = h.nodes[0].id();
    assert_eq!(count(&h, l, 1, "Synced"), 0);
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), 0);
    assert!(!h.session(l, 1).converged());

    h.clear_hook();
    h.reconnect(l);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    assert!(h.links[l].converged());
    let feed_a = h.nodes[0].feed_head();
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), feed_a);
}

#[test]
fn a_transfer_cut_short_resumes_with_what_is_missing() {
    let (mut a, b, c) = pair();
    items(&mut a, &c, 30);
    let mut h = Harness::new(vec![a, b]);
    let mut docs = 0;
    h.set_hook(move |e| {
        if kind(e.msg) == "Doc" {
            docs += 1;
            if docs == 11 {
                return Fate::Disconnect;
            }
        }
        Fate::Deliver
    });
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert!(h.links[l].closed.is_some());
    let held = h.nodes[1].doc_ids(&c).len() - 1;
    assert_eq!(held, 10);
    let ka = h.nodes[0].id();
    assert_eq!(checkpoint(&mut h.nodes[1], ka, &c), 0);

    h.clear_hook();
    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    assert!(h.links[l].converged());
    let again = fetched(h.since(&m).iter().filter(|s| s.from == 1).map(|s| &s.msg));
    assert_eq!(again.len(), 30 - held, "only what had not arrived");
}

#[test]
fn documents_a_member_makes_up_leave_nothing_behind() {
    // B names documents A does not hold, with an Automerge message that
    // carries no changes (heads only): A answers, and keeps nothing.
    let (mut a, b, c) = pair();
    let id = a.new_item(&c, "real");
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    let mut other = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut other, automerge::ROOT, "x", 1).expect("put");
    let msg = sync_msg_for(other);
    for i in 0..50 {
        h.inject(
            l,
            1,
            Msg::Sync {
                community: c.clone(),
                id: format!("made-up-{i}"),
                msg: msg.clone(),
                sigs: vec![],
            },
        );
    }
    quiet(&mut h);
    assert_eq!(h.links[l].closed, None);
    let kb = h.nodes[1].id();
    assert!(
        h.nodes[0]
            .states
            .keys()
            .all(|(p, d)| *p != kb || !d.starts_with("made-up")),
        "no persisted state for made-up documents"
    );
    assert!(
        h.session(l, 0).sync_states() <= 1,
        "{} live states",
        h.session(l, 0).sync_states()
    );
    assert!(h.nodes[0].heads_of(&id).is_some());
}

#[test]
fn a_document_of_another_community_is_refused() {
    // B is a member of two communities; A announces a document of the
    // first under the second's name and, once B asks, sends it. The store
    // refuses it and the session ends.
    let (mut a, b, c) = pair();
    let other = a.found_community("Other");
    let mut b = b;
    a.add_member(&other, b.id(), outpost_sync::membership::Role::Member);
    give(&a, &mut b, &other);
    let id = a.new_item(&c, "belongs to the first");
    let bytes = a.docs[&id].doc.clone().save();
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    h.inject(
        l,
        0,
        Msg::Changes {
            community: other.clone(),
            docs: vec![DocHeads {
                id: id.clone(),
                heads: vec![[5; 32]],
            }],
            up_to: 9,
            last: true,
        },
    );
    h.inject(
        l,
        0,
        Msg::Doc {
            community: other.clone(),
            id: id.clone(),
            bytes,
            sigs: vec![],
        },
    );
    quiet(&mut h);
    assert!(
        h.links[l]
            .closed
            .as_deref()
            .is_some_and(|r| r.contains("not part of community")),
        "{:?}",
        h.links[l].closed
    );
    assert!(h.nodes[1].doc_ids(&other).iter().all(|d| *d != id));
    assert!(h.nodes[1].refused_merges >= 1);
}

#[test]
fn persisted_sync_state_makes_a_reconnect_cheaper() {
    // A long-edited document both hold; A adds one change between sessions.
    let (mut a, mut b, c) = pair();
    let doc = a.new_item(&c, "long history");
    for i in 0..200 {
        a.comment(&doc, &format!("title {i}"));
    }
    give(&a, &mut b, &doc);
    b.comment(&doc, "B's title");
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    h.disconnect(l, "offline for a while");
    h.nodes[0].comment(&doc, "one more");

    // The same reconnect twice: with the persisted states, and without.
    let mut forgetful = Harness::new(vec![h.nodes[0].clone(), h.nodes[1].clone()]);
    forgetful.nodes[0].states.clear();
    forgetful.nodes[1].states.clear();
    forgetful.connect(1, 0);
    quiet(&mut forgetful);
    assert_same(&forgetful, 0, 1, &c);

    let m = h.mark();
    h.reconnect(l);
    quiet(&mut h);
    assert_same(&h, 0, 1, &c);
    let with_state = h.totals().1 - m.totals.1;
    let without = forgetful.totals().1;
    assert!(
        with_state < without,
        "{with_state} bytes with persisted states, {without} without"
    );
    // What is persisted is Automerge's encoded form: shared heads.
    let ka = h.nodes[0].id();
    let state = &h.nodes[1].states[&(ka, doc.clone())];
    let decoded = automerge::sync::State::decode(state).expect("encoded sync state");
    let heads: Vec<[u8; 32]> = decoded.shared_heads.iter().map(|h| h.0).collect();
    assert_eq!(heads, h_heads(&h.nodes[1], &doc));
}

#[test]
fn a_malformed_id_from_a_member_closes_the_session_and_stores_nothing() {
    // B, a member, sends a whole document under an id no Outpost makes:
    // multi-byte text and a terminal escape. A refuses the frame and
    // closes the session; nothing is stored under any id.
    let (a, mut b, c) = pair();
    let real = b.new_item(&c, "real question");
    let bytes = b.docs[&real].doc.clone().save();
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    let before = h.nodes[0].doc_ids(&c);
    h.inject(
        l,
        1,
        Msg::Doc {
            community: c.clone(),
            id: "caña\u{1b}[31m".into(),
            bytes,
            sigs: vec![],
        },
    );
    quiet(&mut h);
    let closed = h.links[l].closed.clone().unwrap_or_default();
    assert!(closed.contains("malformed id"), "{closed:?}");
    assert_eq!(h.nodes[0].doc_ids(&c), before);
}

#[test]
fn a_fetch_is_answered_once_per_document_and_unasked_documents_are_refused() {
    let (a, b, c) = pair();
    let mut other = MemRepo::device(7);
    let stray = other.new_item(&c, "nobody asked");
    let stray_bytes = other.docs[&stray].doc.clone().save();
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    let fresh = h.nodes[0].new_item(&c, "written after the sync");
    let mark = h.mark();
    // One small request naming a document thousands of times.
    h.inject(
        l,
        1,
        Msg::Fetch {
            community: c.clone(),
            docs: std::iter::repeat_n(fresh.clone(), 5_000).collect(),
        },
    );
    // A whole document B never asked for.
    h.inject(
        l,
        0,
        Msg::Doc {
            community: c.clone(),
            id: stray.clone(),
            bytes: stray_bytes,
            sigs: vec![],
        },
    );
    quiet(&mut h);
    let docs = h
        .since(&mark)
        .iter()
        .filter(|s| s.from == 0 && matches!(&s.msg, Msg::Doc { id, .. } if *id == fresh))
        .count();
    let log: Vec<String> = h
        .since(&mark)
        .iter()
        .map(|s| {
            format!(
                "{}->{} {}",
                s.from,
                s.to,
                outpost_sync::testing::kind(&s.msg)
            )
        })
        .collect();
    assert_eq!(docs, 1, "copies sent: {log:?}");
    assert_eq!(h.links[l].closed, None);
    assert!(!h.nodes[1].docs.contains_key(&stray), "not taken");
    assert!(h.session(l, 1).refused >= 1);
}

#[test]
fn a_member_added_by_device_id_takes_its_first_copy_from_either_side() {
    for newcomer_dials in [true, false] {
        let mut a = MemRepo::device(1);
        let c = a.found_community("Valley clinicians");
        items(&mut a, &c, 3);
        let b = MemRepo::device(3);
        a.add_member(&c, b.id(), outpost_sync::membership::Role::Member);
        let mut h = Harness::new(vec![a, b]);
        let l = if newcomer_dials {
            h.connect(1, 0)
        } else {
            h.connect(0, 1)
        };
        quiet(&mut h);
        assert_eq!(h.links[l].closed, None);
        assert!(h.links[l].converged(), "dialer {newcomer_dials}");
        assert_same(&h, 0, 1, &c);
        assert_eq!(
            h.nodes[1].doc_ids(&c).len(),
            4,
            "the community and its items"
        );
        let k = h.nodes[1].id();
        assert!(h.nodes[1].member(&c, &k));

        // From then on an ordinary member: one Hello each way.
        let m = h.mark();
        h.reconnect(l);
        quiet(&mut h);
        assert_eq!(kinds(h.since(&m)), ["Hello", "Hello"]);
    }
}

#[test]
fn a_community_offered_to_a_non_member_is_not_kept() {
    let mut a = MemRepo::device(1);
    let c = a.found_community("Valley clinicians");
    items(&mut a, &c, 2);
    let (ops, _) = a.ops_missing(&c, &[]).expect("log");
    let offers = a.offers_for(&a.id()).expect("offers");
    let mut h = Harness::new(vec![a, MemRepo::device(3)]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    // A peer offers a community whose log does not name this device, and
    // sends that log when asked.
    h.inject(
        l,
        0,
        Msg::Hello {
            version: outpost_sync::wire::PROTOCOL_VERSION,
            offers,
        },
    );
    quiet(&mut h);
    assert!(
        !h.session(l, 1).converged(),
        "waits for the log it asked for"
    );
    h.inject(
        l,
        0,
        Msg::Ops {
            community: c.clone(),
            ops,
        },
    );
    h.inject(
        l,
        0,
        Msg::Changes {
            community: c.clone(),
            docs: vec![],
            up_to: 0,
            last: true,
        },
    );
    quiet(&mut h);
    assert!(h.session(l, 1).converged());
    assert!(
        h.nodes[1].op_heads(&c).expect("heads").is_empty(),
        "no op kept"
    );
    assert!(h.nodes[1].doc_ids(&c).is_empty());
}

#[test]
fn more_ops_in_one_message_than_any_honest_peer_sends_closes_the_session() {
    let (a, b, c) = pair();
    let before = {
        let mut a = a.clone();
        a.op_heads(&c).expect("heads")
    };
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    let junk = vec![vec![0u8; 8]; outpost_sync::session::OPS_PER_MSG + 1];
    h.inject(
        l,
        1,
        Msg::Ops {
            community: c.clone(),
            ops: junk,
        },
    );
    quiet(&mut h);
    assert!(
        h.links[l]
            .closed
            .as_deref()
            .is_some_and(|r| r.contains("too much")),
        "{:?}",
        h.links[l].closed
    );
    assert_eq!(h.nodes[0].op_heads(&c).expect("heads"), before);
}

#[test]
fn a_document_bigger_than_a_frame_arrives_in_parts() {
    use automerge::transaction::Transactable;
    let (mut a, b, c) = pair();
    let id = items(&mut a, &c, 1).remove(0);
    // The owner rewrote the title many times with a megabyte of text each
    // time: every value stays in the history, so the document outgrows a
    // frame (MAX_FRAME) though no change comes near MAX_CHANGE.
    let mut doc = a.docs[&id].doc.clone();
    // A xorshift stream of letters: text that does not compress away.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut letter = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char::from(b'a' + (x % 26) as u8)
    };
    for _ in 0..20 {
        let text: String = (0..1_000_000).map(|_| letter()).collect();
        doc.put(automerge::ROOT, "title", text).expect("put");
        doc.commit();
    }
    assert!(doc.save().len() > outpost_sync::wire::MAX_FRAME);
    a.put(&c, &id, doc);
    let mut h = Harness::new(vec![a, b]);
    let l = h.connect(1, 0);
    quiet(&mut h);
    assert_eq!(h.links[l].closed, None);
    assert!(h.links[l].converged());
    assert_same(&h, 0, 1, &c);
    let parts = count(&h, l, 0, "DocPart");
    assert!(parts >= 3, "{parts} parts");
    // Every part fits a frame.
    for m in h.sent_by(l, 0) {
        let frame = outpost_sync::wire::encode(m).expect("fits a frame");
        assert!(frame.len() <= outpost_sync::wire::MAX_FRAME);
    }
}
