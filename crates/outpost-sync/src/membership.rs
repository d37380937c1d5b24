//! Community membership as signed operations.
//!
//! A community starts with a `Genesis` op signed by its founder; the
//! community id is derived from the genesis op's hash, so it cannot be
//! claimed by anyone else. `Add`, `Remove` and `SetRole` ops are valid only
//! if their signer was an admin in the state formed by the ops the signer
//! had seen (the op's causal past, named by `deps`). Every peer computes
//! membership itself from whatever ops it holds: forged, tampered, mis-signed
//! or unauthorized ops are simply not counted.
//!
//! Conflicts resolve towards safety: a removal concurrent with an add
//! leaves the key removed; concurrent role changes leave the lesser role.
//! A removed or demoted admin cannot act afterwards whatever `deps` it
//! claims, mutual removals resolve by seniority, and a community always
//! keeps an admin: the rules are in [`compute`].

use crate::wire::Hash;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub type Key = [u8; 32];

/// The role an op grants: the model's one `Role` (its variant order is
/// part of the signed bytes).
pub use outpost_model::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    /// Founds the community; `nonce` makes every genesis unique.
    Genesis {
        name: String,
        nonce: [u8; 16],
    },
    Add {
        member: Key,
        role: Role,
    },
    /// `covers`: what of `member`'s writing the signer held, which stays
    /// (see [`Covered`]).
    Remove {
        member: Key,
        covers: Vec<Covered>,
    },
    /// `covers` as for `Remove`, when the role is lowered.
    SetRole {
        member: Key,
        role: Role,
        covers: Vec<Covered>,
    },
    /// A report that a device forked a document's history: any member may
    /// sign one; it counts when its proof verifies, and never changes who
    /// belongs.
    Forked {
        proof: ForkProof,
    },
}

/// Part of what an op lowering a member's role vouches for: the member's
/// changes to document `doc` under actor `actor` up to `seq`, as the
/// signer held them. After a removal, a peer accepts from the removed
/// device only changes some valid removal (or demotion) covers, and
/// judges them by the role the device had before that op.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Covered {
    pub doc: String,
    pub actor: Vec<u8>,
    pub seq: u64,
}

/// Two validly signed changes by one device with the same actor and seq
/// and different contents: proof that the device forked document `doc`'s
/// history. The change bytes are Automerge change chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkProof {
    pub doc: String,
    pub a: Vec<u8>,
    pub sig_a: Vec<u8>,
    pub b: Vec<u8>,
    pub sig_b: Vec<u8>,
}

/// What a [`ForkProof`] proves, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fork {
    pub doc: String,
    pub device: Key,
    pub actor: Vec<u8>,
    /// The first seq at which the actor's history forked.
    pub seq: u64,
    /// The variant at `seq` that still counts: the lowest change hash of
    /// those proven.
    pub kept: Hash,
    /// That variant's change chunk and signature, from the proof: a peer
    /// that held only the other variant takes this one from here (it may
    /// be the only copy an honest peer sees).
    pub kept_change: Vec<u8>,
    pub kept_sig: Vec<u8>,
    /// Who reported it first (in log order).
    pub reporter: Key,
}

/// A valid op that took rights from a member, and what it vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowered {
    /// The member's role just before the op.
    pub prior: Role,
    pub covers: Vec<Covered>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// Empty for the genesis op (the id is derived from it).
    pub community: String,
    pub kind: OpKind,
    /// Hashes of the ops the signer knew of (the heads of the op set).
    pub deps: Vec<Hash>,
    /// Signer's clock, Unix milliseconds (informational).
    pub time: i64,
}

/// An op with its signer and signature: the bytes a log stores and peers
/// exchange (an op's hash is the hash of these bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOp {
    pub op: Vec<u8>,
    pub signer: Key,
    pub sig: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("op could not be encoded: {0}")]
    Encode(String),
}

/// Signs an op with a device key; returns the bytes to store.
pub fn sign(key: &SigningKey, op: &Op) -> Result<Vec<u8>, OpError> {
    let op = postcard::to_allocvec(op).map_err(|e| OpError::Encode(e.to_string()))?;
    let sig = key.sign(&op).to_bytes().to_vec();
    let signed = SignedOp {
        op,
        signer: key.verifying_key().to_bytes(),
        sig,
    };
    postcard::to_allocvec(&signed).map_err(|e| OpError::Encode(e.to_string()))
}

pub fn op_hash(bytes: &[u8]) -> Hash {
    *blake3::hash(bytes).as_bytes()
}

/// The community id a genesis op founds: its hash's first 16 bytes, written
/// as a UUID.
pub fn community_id(genesis: &[u8]) -> String {
    community_id_of(&op_hash(genesis))
}

/// [`community_id`] from the genesis op's hash.
pub fn community_id_of(genesis_hash: &Hash) -> String {
    let x = hex::encode(&genesis_hash[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Makes a signed genesis op and the community id it founds.
pub fn genesis(
    key: &SigningKey,
    name: &str,
    nonce: [u8; 16],
    time: i64,
) -> Result<(String, Vec<u8>), OpError> {
    let op = Op {
        community: String::new(),
        kind: OpKind::Genesis {
            name: name.into(),
            nonce,
        },
        deps: vec![],
        time,
    };
    let bytes = sign(key, &op)?;
    Ok((community_id(&bytes), bytes))
}

/// Decodes and verifies one op: signature over the op bytes by the stated
/// signer. Returns None for anything malformed or forged.
pub fn verify(bytes: &[u8]) -> Option<(Op, Key)> {
    let signed: SignedOp = postcard::from_bytes(bytes).ok()?;
    let key = VerifyingKey::from_bytes(&signed.signer).ok()?;
    let sig = Signature::from_slice(&signed.sig).ok()?;
    key.verify_strict(&signed.op, &sig).ok()?;
    let op: Op = postcard::from_bytes(&signed.op).ok()?;
    Some((op, signed.signer))
}

/// An op whose signature has been checked, as a peer's log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub hash: Hash,
    pub op: Op,
    pub signer: Key,
    /// The signed bytes, as stored and passed on.
    pub bytes: Vec<u8>,
}

impl Held {
    /// Whether the op is part of `community`'s log: its genesis (the op the
    /// id derives from) or an op naming the community and following others.
    pub fn belongs_to(&self, community: &str) -> bool {
        match self.op.kind {
            OpKind::Genesis { .. } => {
                self.op.deps.is_empty() && community_id_of(&self.hash) == community
            }
            _ => self.op.community == community && !self.op.deps.is_empty(),
        }
    }
}

/// [`verify`], keeping the hash and bytes: what a peer checks once, when
/// an op arrives.
/// A fork report counts as verified only with a proof that holds
/// ([`crate::changes::verify_fork`]): checked here once, never again.
pub fn verify_held(bytes: &[u8]) -> Option<Held> {
    let (op, signer) = verify(bytes)?;
    if let OpKind::Forked { proof } = &op.kind
        && crate::changes::verify_fork(proof, signer).is_none()
    {
        return None;
    }
    Some(Held {
        hash: op_hash(bytes),
        op,
        signer,
        bytes: bytes.to_vec(),
    })
}

/// Decodes an op this peer verified before (read back from its own log):
/// no signature check.
pub fn decode_held(bytes: &[u8]) -> Option<Held> {
    let signed: SignedOp = postcard::from_bytes(bytes).ok()?;
    let op: Op = postcard::from_bytes(&signed.op).ok()?;
    Some(Held {
        hash: op_hash(bytes),
        op,
        signer: signed.signer,
        bytes: bytes.to_vec(),
    })
}

/// The heads of a set of ops, sorted: what a peer announces of its log.
/// Only ops whose whole past is held count (an op that arrived before the
/// ops it follows is not a head), so a peer that announces these heads
/// holds everything in their past, and is sent whatever else it lacks.
pub fn set_heads(ops: &[Held]) -> Vec<Hash> {
    let index: std::collections::HashMap<&Hash, usize> =
        ops.iter().enumerate().map(|(i, h)| (&h.hash, i)).collect();
    let mut waiting: Vec<usize> = vec![0; ops.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    let mut ready: Vec<usize> = Vec::new();
    for (i, h) in ops.iter().enumerate() {
        let deps: BTreeSet<&Hash> = h.op.deps.iter().collect();
        for d in deps {
            match index.get(d) {
                Some(&j) => {
                    waiting[i] += 1;
                    children[j].push(i);
                }
                None => waiting[i] = usize::MAX / 2,
            }
        }
        if waiting[i] == 0 {
            ready.push(i);
        }
    }
    let mut closed = vec![false; ops.len()];
    while let Some(i) = ready.pop() {
        if std::mem::replace(&mut closed[i], true) {
            continue;
        }
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push(c);
            }
        }
    }
    let mut heads: Vec<Hash> = (0..ops.len())
        .filter(|&i| closed[i] && !children[i].iter().any(|&c| closed[c]))
        .map(|i| ops[i].hash)
        .collect();
    heads.sort_unstable();
    heads.dedup();
    heads
}

/// The ops of `ops` a peer holding `known` (and so their causal past)
/// lacks: all but the past of those of `known` held here, in `ops` order.
/// Heads not held here say nothing (the peer will announce what it has).
pub fn not_in_past_of<'a>(ops: &'a [Held], known: &[Hash]) -> Vec<&'a Held> {
    let index: std::collections::HashMap<&Hash, usize> =
        ops.iter().enumerate().map(|(i, h)| (&h.hash, i)).collect();
    let mut held_by_peer = vec![false; ops.len()];
    let mut stack: Vec<usize> = known.iter().filter_map(|k| index.get(k).copied()).collect();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut held_by_peer[i], true) {
            stack.extend(ops[i].op.deps.iter().filter_map(|d| index.get(d).copied()));
        }
    }
    ops.iter()
        .zip(held_by_peer)
        .filter(|(_, held)| !held)
        .map(|(op, _)| op)
        .collect()
}

/// What a peer holding `known` lacks of `log`, as signed bytes, and the
/// hashes of `known` not in `log` ([`crate::session::Repo::ops_missing`]).
pub fn missing_for(log: &[Held], known: &[Hash]) -> crate::session::OpsMissing {
    let held: std::collections::HashSet<&Hash> = log.iter().map(|h| &h.hash).collect();
    let unknown = known
        .iter()
        .filter(|k| !held.contains(k))
        .copied()
        .collect();
    let ops = not_in_past_of(log, known)
        .into_iter()
        .map(|h| h.bytes.clone())
        .collect();
    (ops, unknown)
}

/// Who is a member of a community, with which role, computed from its ops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    pub members: BTreeMap<Key, Role>,
    /// Keys that were members and were removed.
    pub removed: BTreeSet<Key>,
    /// Hashes of the valid ops with no valid successor: the `deps` of the
    /// next op this peer signs.
    pub heads: Vec<Hash>,
    /// Ops held that do not count, and why (one of the reasons in
    /// [`compute`]'s module).
    pub refused: BTreeMap<Hash, &'static str>,
    /// Per member whose role a valid op lowered (removal or demotion):
    /// those ops, with what each vouched for.
    pub lowered: BTreeMap<Key, Vec<Lowered>>,
    /// Proven forks, by (document, actor): the earliest seq reported.
    pub forks: BTreeMap<(String, Vec<u8>), Fork>,
}

impl Membership {
    pub fn role(&self, key: &Key) -> Option<Role> {
        self.members.get(key).copied()
    }

    pub fn is_member(&self, key: &Key) -> bool {
        self.members.contains_key(key)
    }

    pub fn is_admin(&self, key: &Key) -> bool {
        self.role(key) == Some(Role::Admin)
    }
}

mod compute;
pub use compute::{
    AFTER_REMOVAL, EQUIVOCATION, LAST_ADMIN, MISSING_DEPS, NO_GENESIS, NOT_ADMIN, compute,
    compute_held,
};

/// The devices whose standing may have narrowed from `old` to `new` (a
/// role lowered or lost, what a removal covers changed, a fork proven):
/// documents they wrote to must be checked again
/// ([`crate::changes::recheck`]).
pub fn narrowed(old: &Membership, new: &Membership) -> BTreeSet<Key> {
    let mut out: BTreeSet<Key> = BTreeSet::new();
    for k in old
        .members
        .keys()
        .chain(new.members.keys())
        .chain(&new.removed)
    {
        let lower = match (old.role(k), new.role(k)) {
            (Some(o), Some(n)) => n < o,
            (Some(_), None) => true,
            _ => false,
        };
        if lower || old.lowered.get(k) != new.lowered.get(k) {
            out.insert(*k);
        }
    }
    for (at, f) in &new.forks {
        if old
            .forks
            .get(at)
            .is_none_or(|o| (o.seq, o.kept) != (f.seq, f.kept))
        {
            out.insert(f.device);
        }
    }
    out
}

impl Membership {
    /// How this membership judges writing to document `doc`
    /// ([`crate::changes::Standing`]).
    pub fn standing(&self, doc: &str) -> crate::changes::Standing {
        let mut s = crate::changes::Standing::default();
        for (k, r) in &self.members {
            s.roles.insert(*k, *r);
        }
        s.removed.extend(self.removed.iter().copied());
        for (k, ls) in &self.lowered {
            for l in ls {
                for c in l.covers.iter().filter(|c| c.doc == doc) {
                    s.cover(*k, c.actor.clone(), c.seq, l.prior);
                }
            }
        }
        for ((d, actor), f) in &self.forks {
            if d == doc {
                s.forked.insert(actor.clone(), (f.seq, f.kept));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn pk(n: u8) -> Key {
        key(n).verifying_key().to_bytes()
    }

    fn op(signer: u8, community: &str, kind: OpKind, deps: Vec<Hash>) -> Vec<u8> {
        sign(
            &key(signer),
            &Op {
                community: community.into(),
                kind,
                deps,
                time: 0,
            },
        )
        .unwrap()
    }

    #[test]
    fn founder_adds_and_removes() {
        let (id, g) = genesis(&key(1), "C", [0; 16], 0).unwrap();
        let add = op(
            1,
            &id,
            OpKind::Add {
                member: pk(2),
                role: Role::Member,
            },
            vec![op_hash(&g)],
        );
        let m = compute(&id, &[g.clone(), add.clone()]);
        assert!(m.is_admin(&pk(1)) && m.is_member(&pk(2)) && !m.is_admin(&pk(2)));
        let rm = op(
            1,
            &id,
            OpKind::Remove {
                member: pk(2),
                covers: vec![],
            },
            vec![op_hash(&add)],
        );
        let m = compute(&id, &[rm.clone(), add.clone(), g.clone()]);
        assert!(!m.is_member(&pk(2)) && m.removed.contains(&pk(2)));
        assert_eq!(m.heads, vec![op_hash(&rm)]);
    }

    #[test]
    fn concurrent_add_and_remove_resolve_to_removed() {
        let (id, g) = genesis(&key(1), "C", [0; 16], 0).unwrap();
        let add_b = op(
            1,
            &id,
            OpKind::Add {
                member: pk(2),
                role: Role::Admin,
            },
            vec![op_hash(&g)],
        );
        let add_c = op(
            1,
            &id,
            OpKind::Add {
                member: pk(3),
                role: Role::Member,
            },
            vec![op_hash(&add_b)],
        );
        // Admin 1 removes C while admin 2 (re-)adds C, neither seeing the other.
        let rm = op(
            1,
            &id,
            OpKind::Remove {
                member: pk(3),
                covers: vec![],
            },
            vec![op_hash(&add_c)],
        );
        let re_add = op(
            2,
            &id,
            OpKind::Add {
                member: pk(3),
                role: Role::Member,
            },
            vec![op_hash(&add_c)],
        );
        let m = compute(&id, &[g, add_b, add_c, rm, re_add]);
        assert!(!m.is_member(&pk(3)));
    }

    #[test]
    fn forged_unauthorized_and_tampered_ops_are_ignored() {
        let (id, g) = genesis(&key(1), "C", [0; 16], 0).unwrap();
        let add_member = op(
            1,
            &id,
            OpKind::Add {
                member: pk(2),
                role: Role::Member,
            },
            vec![op_hash(&g)],
        );
        // Non-admin member 2 tries to add 3.
        let by_member = op(
            2,
            &id,
            OpKind::Add {
                member: pk(3),
                role: Role::Admin,
            },
            vec![op_hash(&add_member)],
        );
        // Outsider 4 tries to add itself.
        let by_outsider = op(
            4,
            &id,
            OpKind::Add {
                member: pk(4),
                role: Role::Admin,
            },
            vec![op_hash(&g)],
        );
        // Wrong signer: signed by 4, claims to be 1.
        let mut forged: SignedOp = postcard::from_bytes(&by_outsider).unwrap();
        forged.signer = pk(1);
        let forged = postcard::to_allocvec(&forged).unwrap();
        // Tampered bytes: a valid op with one byte flipped.
        let mut tampered = op(
            1,
            &id,
            OpKind::Add {
                member: pk(5),
                role: Role::Member,
            },
            vec![op_hash(&g)],
        );
        let n = tampered.len() - 70;
        tampered[n] ^= 1;
        // An op for another community, and a second genesis.
        let other = op(
            1,
            "other",
            OpKind::Add {
                member: pk(6),
                role: Role::Member,
            },
            vec![op_hash(&g)],
        );
        let (_, g2) = genesis(&key(7), "C", [1; 16], 0).unwrap();
        let m = compute(
            &id,
            &[
                g,
                add_member,
                by_member,
                by_outsider,
                forged,
                tampered,
                other,
                g2,
                vec![1, 2, 3],
            ],
        );
        assert_eq!(
            m.members.keys().copied().collect::<Vec<_>>().len(),
            2,
            "{:?}",
            m.members
        );
        assert!(m.is_admin(&pk(1)) && m.is_member(&pk(2)));
    }

    #[test]
    fn no_genesis_no_members() {
        let (_, g) = genesis(&key(1), "C", [0; 16], 0).unwrap();
        assert!(compute("not-this-id", &[g]).members.is_empty());
    }

    #[test]
    fn removed_admin_cannot_act_afterwards() {
        let (id, g) = genesis(&key(1), "C", [0; 16], 0).unwrap();
        let add2 = op(
            1,
            &id,
            OpKind::Add {
                member: pk(2),
                role: Role::Admin,
            },
            vec![op_hash(&g)],
        );
        let rm2 = op(
            1,
            &id,
            OpKind::Remove {
                member: pk(2),
                covers: vec![],
            },
            vec![op_hash(&add2)],
        );
        let late = op(
            2,
            &id,
            OpKind::Add {
                member: pk(3),
                role: Role::Member,
            },
            vec![op_hash(&rm2)],
        );
        let m = compute(&id, &[g, add2, rm2, late]);
        assert!(!m.is_member(&pk(3)) && !m.is_member(&pk(2)));
    }
}
