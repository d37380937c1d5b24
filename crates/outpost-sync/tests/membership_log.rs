//! The membership log over the wire: a grow-only set of signed ops that
//! every peer verifies as they arrive, that no member can make another
//! peer forget, and that converges through hubs, with attacks played by a
//! modified client (a `MemRepo` whose log the test writes raw).

mod support;

use outpost_sync::membership::{self, Key, Op, OpKind, Role, op_hash};
use outpost_sync::testing::{Harness, MemRepo, device_key};
use outpost_sync::wire::Hash;
use support::{assert_same, give, items, pair, quiet};

/// Signs an op as device `seed` would, with whatever `deps` it likes.
fn raw_op(seed: u8, community: &str, kind: OpKind, deps: Vec<Hash>) -> Vec<u8> {
    membership::sign(
        &device_key(seed),
        &Op {
            community: community.into(),
            kind,
            deps,
            time: 0,
        },
    )
    .expect("sign")
}

fn log_of(repo: &MemRepo, community: &str) -> Vec<Hash> {
    let mut v: Vec<Hash> = repo.ops[community].iter().map(|h| h.hash).collect();
    v.sort();
    v
}

fn holds(repo: &MemRepo, community: &str, op: &[u8]) -> bool {
    repo.ops[community].iter().any(|h| h.hash == op_hash(op))
}

#[test]
fn a_member_cannot_make_a_peer_forget_an_op() {
    // A founds, adds B and C, then removes D (added earlier).
    let (mut a, mut b, c) = pair();
    let mut cc = MemRepo::device(3);
    let d = MemRepo::device(4).id();
    a.add_member(&c, cc.id(), Role::Member);
    a.add_member(&c, d, Role::Member);
    a.remove_member(&c, d);
    give(&a, &mut b, &c);
    give(&a, &mut cc, &c);
    assert!(!cc.member(&c, &d));
    // B's modified client drops the removal and the genesis from its log,
    // and re-derives membership from what is left.
    let rm = a.ops[&c].last().expect("removal").bytes.clone();
    let genesis = a.ops[&c][0].bytes.clone();
    b.ops
        .get_mut(&c)
        .expect("log")
        .retain(|h| h.bytes != rm && h.bytes != genesis);
    let before = log_of(&cc, &c);
    let mut h = Harness::new(vec![b, cc]);
    let l = h.connect(0, 1);
    quiet(&mut h);
    assert!(h.links[l].converged());
    // C still holds every op (a log only grows), so D stays removed; B's
    // log had lost its genesis, so B announced no heads and got it all
    // back.
    assert_eq!(log_of(&h.nodes[1], &c), before);
    assert!(!h.nodes[1].member(&c, &d));
    assert!(h.nodes[1].member(&c, &h.nodes[0].id()));
    assert_eq!(log_of(&h.nodes[0], &c), before);
}

#[test]
fn forged_and_unauthorized_ops_are_not_kept_or_counted() {
    let (a, mut b, c) = pair();
    let heads = a.members[&c].heads.clone();
    let outsider = MemRepo::device(9).id();
    // B (a plain member) signs "add the outsider as admin"; B also passes
    // on an op that claims A signed it (B's signature), and garbage.
    let by_member = raw_op(
        2,
        &c,
        OpKind::Add {
            member: outsider,
            role: Role::Admin,
        },
        heads.clone(),
    );
    let mut forged: membership::SignedOp = postcard::from_bytes(&by_member).expect("decode");
    forged.signer = a.id();
    let forged = postcard::to_allocvec(&forged).expect("encode");
    let other_community = raw_op(
        1,
        "some-other-community",
        OpKind::Add {
            member: outsider,
            role: Role::Admin,
        },
        heads,
    );
    b.inject_ops(
        &c,
        &[
            by_member.clone(),
            forged.clone(),
            other_community.clone(),
            vec![7; 40],
        ],
    );
    let mut h = Harness::new(vec![a, b]);
    h.connect(1, 0);
    quiet(&mut h);
    let a = &h.nodes[0];
    // The member's own op verifies (it is kept, as evidence) but does not
    // count; the forgery and the stranger's op are not kept at all.
    assert!(holds(a, &c, &by_member));
    assert!(!holds(a, &c, &forged) && !holds(a, &c, &other_community));
    assert!(!a.member(&c, &outsider));
    assert_eq!(
        a.members[&c].refused.get(&op_hash(&by_member)),
        Some(&membership::NOT_ADMIN)
    );
}

#[test]
fn a_removed_admin_cannot_backdate_through_a_peer_that_missed_the_removal() {
    // A founds and makes K an admin and M a member; all three hold that.
    let mut a = MemRepo::device(1);
    let mut k = MemRepo::device(5);
    let mut m = MemRepo::device(6);
    let c = a.found_community("Valley");
    a.add_member(&c, k.id(), Role::Admin);
    a.add_member(&c, m.id(), Role::Member);
    give(&a, &mut k, &c);
    give(&a, &mut m, &c);
    let before_removal = a.members[&c].heads.clone();
    // A removes K. K, offline, signs with the old deps "add my new key as
    // admin" and "remove A", and hands them to M, who has not seen the
    // removal.
    a.remove_member(&c, k.id());
    let new_key = MemRepo::device(7).id();
    let add_new = raw_op(
        5,
        &c,
        OpKind::Add {
            member: new_key,
            role: Role::Admin,
        },
        before_removal.clone(),
    );
    let remove_a = raw_op(
        5,
        &c,
        OpKind::Remove {
            member: a.id(),
            covers: vec![],
        },
        vec![op_hash(&add_new)],
    );
    k.inject_ops(&c, &[add_new.clone(), remove_a.clone()]);
    let mut h = Harness::new(vec![a, k, m]);
    h.connect(2, 1);
    quiet(&mut h);
    // M has not seen the removal: to M, K's ops count.
    assert!(h.nodes[2].member(&c, &new_key));
    // Then M syncs with A, whom M now holds as removed: A names its log's
    // heads, M asks for what it lacks, and A's ops set M right. From the
    // next session on they sync as members, and A holds K's ops too.
    let l = h.connect(2, 0);
    quiet(&mut h);
    assert!(h.nodes[2].members[&c].is_admin(&h.nodes[0].id()));
    h.reconnect(l);
    quiet(&mut h);
    for n in [0, 2] {
        let mem = &h.nodes[n].members[&c];
        assert!(!mem.is_member(&new_key), "node {n}");
        assert!(!mem.is_member(&h.nodes[1].id()), "node {n}");
        assert!(mem.is_admin(&h.nodes[0].id()), "node {n}");
        assert_eq!(
            mem.refused.get(&op_hash(&add_new)),
            Some(&membership::AFTER_REMOVAL)
        );
    }
    assert_eq!(log_of(&h.nodes[0], &c), log_of(&h.nodes[2], &c));
}

#[test]
fn divergent_logs_converge_in_one_session_and_new_ops_travel_through_a_hub() {
    // Two admins, A and B, and a hub H (a member); all start equal.
    let mut a = MemRepo::device(1);
    let mut b = MemRepo::device(2);
    let mut hub = MemRepo::device(3);
    let c = a.found_community("Valley");
    a.add_member(&c, b.id(), Role::Admin);
    a.add_member(&c, hub.id(), Role::Member);
    give(&a, &mut b, &c);
    give(&a, &mut hub, &c);
    // Offline, each admin adds someone.
    let x: Key = MemRepo::device(10).id();
    let y: Key = MemRepo::device(11).id();
    a.add_member(&c, x, Role::Member);
    b.add_member(&c, y, Role::Member);
    let ids = items(&mut a, &c, 2);
    let mut h = Harness::new(vec![a, b, hub]);
    let ah = h.connect(0, 2);
    let bh = h.connect(1, 2);
    quiet(&mut h);
    assert!(h.links[ah].converged() && h.links[bh].converged());
    for n in 0..3 {
        assert!(
            h.nodes[n].member(&c, &x) && h.nodes[n].member(&c, &y),
            "{n}"
        );
    }
    assert_eq!(log_of(&h.nodes[0], &c), log_of(&h.nodes[1], &c));
    assert_same(&h, 0, 1, &c);
    assert!(h.nodes[1].docs.contains_key(&ids[0]));
    // While the sessions run, A removes X: the op reaches B through H.
    h.nodes[0].remove_member(&c, x);
    quiet(&mut h);
    assert!(!h.nodes[1].member(&c, &x));
    assert_eq!(log_of(&h.nodes[0], &c), log_of(&h.nodes[1], &c));
    // And then all is quiet; a reconnect is one Hello each way.
    assert_eq!(quiet(&mut h), 0);
    let m = h.mark();
    h.reconnect(bh);
    quiet(&mut h);
    assert_eq!(h.since(&m).len(), 2);
}
