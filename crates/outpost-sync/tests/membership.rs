//! Membership as every peer computes it: the rules against backdating,
//! mutual removal and an empty admin set, and a property test over random
//! histories delivered in random orders.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use ed25519_dalek::SigningKey;
use outpost_sync::membership::{
    self, AFTER_REMOVAL, EQUIVOCATION, Key, LAST_ADMIN, Membership, Op, OpKind, Role, compute,
    genesis, op_hash, sign,
};
use outpost_sync::wire::Hash;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn pk(n: u8) -> Key {
    key(n).verifying_key().to_bytes()
}

/// A community log being written by hand, as a modified client could.
struct Log {
    id: String,
    ops: Vec<Vec<u8>>,
}

impl Log {
    fn new(founder: u8) -> (Log, Hash) {
        let (id, g) = genesis(&key(founder), "C", [founder; 16], 0).unwrap();
        let h = op_hash(&g);
        (Log { id, ops: vec![g] }, h)
    }

    fn sign(&mut self, signer: u8, kind: OpKind, deps: &[Hash]) -> Hash {
        let bytes = sign(
            &key(signer),
            &Op {
                community: self.id.clone(),
                kind,
                deps: deps.to_vec(),
                time: 0,
            },
        )
        .unwrap();
        let h = op_hash(&bytes);
        self.ops.push(bytes);
        h
    }

    fn add(&mut self, signer: u8, member: u8, role: Role, deps: &[Hash]) -> Hash {
        self.sign(
            signer,
            OpKind::Add {
                member: pk(member),
                role,
            },
            deps,
        )
    }

    fn remove(&mut self, signer: u8, member: u8, deps: &[Hash]) -> Hash {
        self.sign(
            signer,
            OpKind::Remove {
                member: pk(member),
                covers: vec![],
            },
            deps,
        )
    }

    fn demote(&mut self, signer: u8, member: u8, deps: &[Hash]) -> Hash {
        self.sign(
            signer,
            OpKind::SetRole {
                member: pk(member),
                role: Role::Member,
                covers: vec![],
            },
            deps,
        )
    }

    /// Membership, the same whichever order the ops arrive in.
    fn compute(&self) -> Membership {
        let m = compute(&self.id, &self.ops);
        let mut reversed = self.ops.clone();
        reversed.reverse();
        assert_eq!(compute(&self.id, &reversed), m, "order changed the result");
        m
    }
}

#[test]
fn a_removed_admin_cannot_backdate_ops_to_before_its_removal() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    let add_c = log.add(1, 3, Role::Member, &[add_b]);
    let removal = log.remove(1, 2, &[add_c]);
    // B, removed, signs as if it had not seen its removal: "add my new key
    // as admin" and "remove the founder", with deps from before.
    let new_key = log.add(2, 9, Role::Admin, &[add_c]);
    let coup = log.remove(2, 1, &[add_c]);
    let by_new_key = log.remove(9, 3, &[new_key]);
    let m = log.compute();
    assert!(m.is_admin(&pk(1)), "{m:?}");
    assert!(!m.is_member(&pk(2)) && !m.is_member(&pk(9)));
    assert!(m.is_member(&pk(3)));
    assert_eq!(m.refused.get(&new_key), Some(&AFTER_REMOVAL));
    assert_eq!(m.refused.get(&coup), Some(&AFTER_REMOVAL));
    assert!(m.refused.contains_key(&by_new_key));
    assert_eq!(m.heads, vec![removal]);
}

#[test]
fn ops_an_admin_signed_before_its_removal_still_count() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    let b_adds_d = log.add(2, 4, Role::Member, &[add_b]);
    log.remove(1, 2, &[b_adds_d]);
    let m = log.compute();
    assert!(m.is_member(&pk(4)) && !m.is_member(&pk(2)), "{m:?}");
}

#[test]
fn admins_removing_each_other_at_once_leave_the_senior_one() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    let a_removes_b = log.remove(1, 2, &[add_b]);
    let b_removes_a = log.remove(2, 1, &[add_b]);
    let m = log.compute();
    assert!(m.is_admin(&pk(1)) && !m.is_member(&pk(2)), "{m:?}");
    assert_eq!(m.refused.get(&b_removes_a), Some(&AFTER_REMOVAL));
    assert!(!m.refused.contains_key(&a_removes_b));
}

#[test]
fn the_only_admin_cannot_remove_or_demote_itself() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Member, &[g]);
    let leave = log.remove(1, 1, &[add_b]);
    let step_down = log.demote(1, 1, &[add_b]);
    let m = log.compute();
    assert!(m.is_admin(&pk(1)) && m.is_member(&pk(2)), "{m:?}");
    assert_eq!(m.refused.get(&leave), Some(&LAST_ADMIN));
    assert_eq!(m.refused.get(&step_down), Some(&LAST_ADMIN));
}

#[test]
fn two_admins_stepping_down_at_once_leave_the_senior_one_admin() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    log.demote(1, 1, &[add_b]);
    log.demote(2, 2, &[add_b]);
    let m = log.compute();
    assert!(m.is_admin(&pk(1)), "{m:?}");
    assert_eq!(m.role(&pk(2)), Some(Role::Member));
}

#[test]
fn admins_leaving_at_once_with_backdated_ops_still_leave_an_admin() {
    // Found by the property test: the founder leaves while a second admin,
    // backdating, also leaves; every other op is concurrent with one of
    // the two removals, so without the last rule nobody would remain.
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    let b_adds_c = log.add(2, 3, Role::Member, &[add_b]);
    log.remove(1, 1, &[add_b]);
    log.add(1, 1, Role::Admin, &[b_adds_c]);
    log.remove(2, 2, &[add_b]);
    let m = log.compute();
    assert!(m.members.values().any(|r| *r == Role::Admin), "{m:?}");
    assert!(m.is_admin(&pk(1)), "{m:?}");
}

#[test]
fn an_admin_that_forks_its_history_keeps_only_one_branch() {
    let (mut log, g) = Log::new(1);
    let add_b = log.add(1, 2, Role::Admin, &[g]);
    // Two ops by B, neither knowing the other.
    let x = log.add(2, 5, Role::Member, &[add_b]);
    let y = log.add(2, 6, Role::Member, &[add_b]);
    let m = log.compute();
    let (kept, forked) = if m.is_member(&pk(5)) { (x, y) } else { (y, x) };
    assert!(!m.refused.contains_key(&kept));
    assert_eq!(m.refused.get(&forked), Some(&EQUIVOCATION));
    assert!(m.is_member(&pk(5)) != m.is_member(&pk(6)));
}

/// One step of a random history: `signer` (a key number) signs an op on
/// top of what the peer `view` has seen.
#[derive(Debug, Clone)]
struct Step {
    view: usize,
    signer: u8,
    target: u8,
    what: u8,
    /// Deps claimed from this far back in the signer's view (backdating).
    back: usize,
    /// Ops this view learns from the others before signing.
    learn: Vec<usize>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..3usize,
        1..6u8,
        1..7u8,
        0..4u8,
        0..3usize,
        prop::collection::vec(0..64usize, 0..4),
    )
        .prop_map(|(view, signer, target, what, back, learn)| Step {
            view,
            signer,
            target,
            what,
            back,
            learn,
        })
}

/// Builds a log from steps: three views (peers) that sign on what they
/// have seen and learn ops from each other at random.
fn history(steps: &[Step]) -> Log {
    let (mut log, g) = Log::new(1);
    let mut views: Vec<Vec<usize>> = vec![vec![0]; 3];
    for s in steps {
        for &l in &s.learn {
            let op = l % log.ops.len();
            if !views[s.view].contains(&op) {
                views[s.view].push(op);
            }
        }
        let seen: Vec<Vec<u8>> = views[s.view].iter().map(|&i| log.ops[i].clone()).collect();
        let m = compute(&log.id, &seen);
        let mut deps = m.heads.clone();
        if s.back > 0 && views[s.view].len() > s.back {
            // Claim an older op as the only dep.
            let old = views[s.view][views[s.view].len() - 1 - s.back];
            deps = vec![op_hash(&log.ops[old])];
        }
        if deps.is_empty() {
            deps = vec![g];
        }
        let kind = match s.what {
            0 => OpKind::Add {
                member: pk(s.target),
                role: Role::Admin,
            },
            1 => OpKind::Add {
                member: pk(s.target),
                role: Role::Member,
            },
            2 => OpKind::Remove {
                member: pk(s.target),
                covers: vec![],
            },
            _ => OpKind::SetRole {
                member: pk(s.target),
                role: Role::Member,
                covers: vec![],
            },
        };
        log.sign(s.signer, kind, &deps);
        let new = log.ops.len() - 1;
        views[s.view].push(new);
    }
    log
}

/// Each op's causal past, from the deps it names.
fn pasts(log: &Log) -> BTreeMap<Hash, BTreeSet<Hash>> {
    let decoded: BTreeMap<Hash, (Op, Key)> = log
        .ops
        .iter()
        .filter_map(|b| membership::verify(b).map(|v| (op_hash(b), v)))
        .collect();
    let mut out = BTreeMap::new();
    for h in decoded.keys() {
        let mut past = BTreeSet::new();
        let mut stack = decoded[h].0.deps.clone();
        while let Some(d) = stack.pop() {
            if past.insert(d)
                && let Some((op, _)) = decoded.get(&d)
            {
                stack.extend(op.deps.iter().copied());
            }
        }
        out.insert(*h, past);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_peer_computes_the_same_membership_and_the_rules_hold(
        steps in prop::collection::vec(step(), 1..24),
        seed in any::<u64>(),
    ) {
        let log = history(&steps);
        let m = compute(&log.id, &log.ops);
        // Any delivery order gives the same result.
        let mut shuffled = log.ops.clone();
        let mut r = seed;
        for i in (1..shuffled.len()).rev() {
            r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (r >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(&compute(&log.id, &shuffled), &m);
        // At least one admin, always.
        prop_assert!(m.members.values().any(|r| *r == Role::Admin), "{:?}", m);
        // No op by a removed or demoted admin concurrent with the removal counts.
        let pasts = pasts(&log);
        let valid: Vec<(Hash, Op, Key)> = log
            .ops
            .iter()
            .filter_map(|b| {
                let h = op_hash(b);
                let (op, signer) = membership::verify(b)?;
                (!m.refused.contains_key(&h)).then_some((h, op, signer))
            })
            .collect();
        for (r, op, _) in &valid {
            let target = match op.kind {
                OpKind::Remove { member, .. } => member,
                OpKind::SetRole {
                    member,
                    role: Role::Member,
                    ..
                } => member,
                OpKind::Add { member, role: Role::Member } => member,
                _ => continue,
            };
            for (h, _, signer) in &valid {
                if *signer == target && h != r {
                    prop_assert!(
                        pasts[r].contains(h) || pasts[h].contains(r),
                        "an op by a removed admin concurrent with its removal counts"
                    );
                }
            }
        }
    }
}
