//! Who is a member: the rules every peer applies to the ops it holds.
//!
//! The ops form a DAG (each names the heads its signer knew). An op counts
//! ("is valid") when it verifies, descends from this community's genesis,
//! and its signer was an admin in the state its causal past forms. On top
//! of that, three rules no signer can argue with:
//!
//! * **No acting after removal, whatever `deps` say.** Once a removal (or
//!   demotion) R of an admin K counts, every op signed by K that is neither
//!   in R's causal past nor has R in its own is void: K cannot backdate an
//!   op to before its removal by naming old `deps` (an op that knows of the
//!   removal is judged by K's role then, which counts only if K was added
//!   back). This is the rule of decentralised access-control
//!   designs for CRDTs (Kleppmann et al., "Making CRDTs Byzantine Fault
//!   Tolerant", PaPoC 2022, and the group-membership rule of Weidner,
//!   Kleppmann et al., "Key Agreement for Decentralized Secure Group
//!   Messaging with Strong Security Guarantees", CCS 2021): an operation
//!   concurrent with the removal of its author is discarded.
//! * **Seniority settles mutual removals.** When admins remove (or demote)
//!   each other concurrently, the removal signed by the more senior admin
//!   (the founder first, then in the order admin rights were granted in
//!   the log) is applied first, and voids the junior's.
//! * **A community always keeps an admin.** An op that removes or demotes
//!   the only admin of its signer's past state is void; and if concurrent
//!   ops still leave none, the latest removal of the most senior admin is
//!   void, which keeps that admin.
//!
//! An admin that signs two ops neither of which has the other in its past
//! (an equivocation: a modified client, or a home restored from an old copy
//! that signs again) keeps its ops up to the fork; the rest are void.
//!
//! Cost: one pass over the ops in a deterministic topological order, with
//! a vector clock per op over the admins that signed valid ops (O(n·a));
//! plus one pass per round of removals of admins and an ancestor walk per
//! such removal. Growing a log of adds and member removals is linear.

use super::{Fork, Held, Key, Lowered, Membership, Op, OpKind, Role, verify_held};
use crate::wire::Hash;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

/// Why an op held here does not count.
pub const NOT_ADMIN: &str = "its signer was not an admin";
pub const AFTER_REMOVAL: &str = "its signer had been removed or demoted";
pub const EQUIVOCATION: &str = "its signer forked its own history";

/// Distinct forks (document and actor) a log proves at most: later reports
/// of new forks, in the log's topological order (the same on every peer),
/// do not count, so a member forking on purpose under fresh actors cannot
/// make every peer check documents again without end. Well past any honest
/// history (a home restored from old copies, a few times).
pub const MAX_FORKS: usize = 1_000;
pub const LAST_ADMIN: &str = "it would leave the community without an admin";
pub const NO_GENESIS: &str = "it does not descend from the community's genesis";
pub const MISSING_DEPS: &str = "ops it follows are not held";

struct Node {
    hash: Hash,
    op: Op,
    signer: Key,
    /// Indexes (in topological order) of the ops it names.
    deps: Vec<usize>,
    /// Indexes of the ops that name it.
    next: Vec<usize>,
}

/// The ops that may count, in a topological order every peer derives the
/// same way from the same set (ready ops taken by smallest hash).
struct Graph {
    nodes: Vec<Node>,
    founder: Key,
    /// Ops held whose `deps` are not all held (or form a cycle).
    unplaced: Vec<Hash>,
}

impl Graph {
    fn build(community: &str, ops: &[Held]) -> Option<Graph> {
        let mut raw: Vec<(Hash, Op, Key)> = Vec::new();
        let mut seen: BTreeSet<Hash> = BTreeSet::new();
        let mut genesis = None;
        for held in ops {
            if !held.belongs_to(community) || !seen.insert(held.hash) {
                continue;
            }
            if matches!(held.op.kind, OpKind::Genesis { .. }) {
                if genesis.is_some() {
                    continue;
                }
                genesis = Some(raw.len());
            }
            raw.push((held.hash, held.op.clone(), held.signer));
        }
        let genesis = genesis?;
        let founder = raw[genesis].2;
        let index: HashMap<Hash, usize> = raw.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
        // Kahn's algorithm; an op naming an unknown hash never becomes ready.
        let mut waiting: Vec<usize> = vec![0; raw.len()];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); raw.len()];
        let mut deps_of: Vec<Vec<usize>> = vec![Vec::new(); raw.len()];
        for (i, (_, op, _)) in raw.iter().enumerate() {
            let mut ds: Vec<Hash> = op.deps.clone();
            ds.sort_unstable();
            ds.dedup();
            for d in ds {
                match index.get(&d) {
                    Some(&j) if j != i => {
                        waiting[i] += 1;
                        children[j].push(i);
                        deps_of[i].push(j);
                    }
                    _ => waiting[i] = usize::MAX / 2,
                }
            }
        }
        let mut ready: BinaryHeap<Reverse<(Hash, usize)>> = BinaryHeap::new();
        ready.push(Reverse((raw[genesis].0, genesis)));
        let mut position: Vec<Option<usize>> = vec![None; raw.len()];
        let mut order: Vec<usize> = Vec::with_capacity(raw.len());
        while let Some(Reverse((_, i))) = ready.pop() {
            position[i] = Some(order.len());
            order.push(i);
            for &c in &children[i] {
                waiting[c] -= 1;
                if waiting[c] == 0 {
                    ready.push(Reverse((raw[c].0, c)));
                }
            }
        }
        let unplaced = (0..raw.len())
            .filter(|&i| position[i].is_none())
            .map(|i| raw[i].0)
            .collect();
        let mut slots: Vec<Option<(Hash, Op, Key)>> = raw.into_iter().map(Some).collect();
        let nodes = order
            .iter()
            .filter_map(|&i| {
                let (hash, op, signer) = slots[i].take()?;
                let deps = deps_of[i].iter().filter_map(|&d| position[d]).collect();
                Some(Node {
                    hash,
                    op,
                    signer,
                    deps,
                    next: Vec::new(),
                })
            })
            .collect::<Vec<Node>>();
        let mut nodes = nodes;
        for i in 0..nodes.len() {
            for d in nodes[i].deps.clone() {
                nodes[d].next.push(i);
            }
        }
        Some(Graph {
            nodes,
            founder,
            unplaced,
        })
    }

    /// Every op in `of`'s causal past (`back`) or future, `of` excluded.
    fn reach(&self, of: usize, back: bool) -> Vec<bool> {
        let step = |i: usize| -> &[usize] {
            if back {
                &self.nodes[i].deps
            } else {
                &self.nodes[i].next
            }
        };
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<usize> = step(of).to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(step(i).iter().copied());
            }
        }
        seen
    }
}

/// What an op says about one key: (key, Some(role)) for an add or role
/// change, (key, None) for a removal. The genesis adds its founder as admin.
fn effect(kind: &OpKind, founder: Key) -> Option<(Key, Option<Role>)> {
    match kind {
        OpKind::Genesis { .. } => Some((founder, Some(Role::Admin))),
        OpKind::Add { member, role } | OpKind::SetRole { member, role, .. } => {
            Some((*member, Some(*role)))
        }
        OpKind::Remove { member, .. } => Some((*member, None)),
        OpKind::Forked { .. } => None,
    }
}

/// The key an op would take admin rights from, if it held them: a
/// removal, or a role (or re-add) as a plain member.
fn demotes(kind: &OpKind) -> Option<Key> {
    match kind {
        OpKind::Remove { member, .. } => Some(*member),
        OpKind::SetRole {
            member,
            role: Role::Member,
            ..
        }
        | OpKind::Add {
            member,
            role: Role::Member,
        } => Some(*member),
        _ => None,
    }
}

/// "Ops by `removed` concurrent with `removal` are void": those neither in
/// its past (signed before it) nor in its future (signed knowing of it,
/// and judged by the role they had then, as after a re-add).
struct Constraint {
    removed: Key,
    removal: usize,
    before: Vec<bool>,
    after: Vec<bool>,
}

/// One pass over the graph under a set of constraints and vetoes.
struct Pass<'g> {
    g: &'g Graph,
    valid: Vec<bool>,
    why: Vec<Option<&'static str>>,
    /// Each op's vector clock: per admin dimension, the number of that
    /// admin's valid ops in its past (itself included, if valid).
    vc: Vec<Vec<u32>>,
    /// A valid op's number among its signer's valid ops (from 1).
    seq: Vec<u32>,
    dims: HashMap<Key, usize>,
    /// A valid op's signer's dimension (`dims`), kept per op so that
    /// `in_past` needs no lookup.
    dim: Vec<usize>,
    counts: Vec<u32>,
    forked: BTreeSet<Key>,
    /// Valid ops about each key, in order.
    about: HashMap<Key, Vec<usize>>,
    /// Keys granted admin by a valid op, in the order first granted: the
    /// order of seniority (the founder first).
    seniority: Vec<Key>,
}

impl<'g> Pass<'g> {
    fn run(g: &'g Graph, constraints: &[Constraint], vetoed: &BTreeSet<usize>) -> Pass<'g> {
        let n = g.nodes.len();
        let mut p = Pass {
            g,
            valid: vec![false; n],
            why: vec![None; n],
            vc: Vec::with_capacity(n),
            seq: vec![0; n],
            dims: HashMap::new(),
            dim: vec![0; n],
            counts: Vec::new(),
            forked: BTreeSet::new(),
            about: HashMap::new(),
            seniority: Vec::new(),
        };
        for i in 0..n {
            let mut clock: Vec<u32> = Vec::new();
            for &d in &g.nodes[i].deps {
                let other = &p.vc[d];
                if other.len() > clock.len() {
                    clock.resize(other.len(), 0);
                }
                for (c, o) in clock.iter_mut().zip(other) {
                    *c = (*c).max(*o);
                }
            }
            p.vc.push(clock);
            if matches!(g.nodes[i].op.kind, OpKind::Forked { .. }) {
                continue; // a report, judged on its proof (`finish`)
            }
            match p.judge(i, constraints, vetoed) {
                Ok(()) => p.accept(i),
                Err(why) => p.why[i] = Some(why),
            }
        }
        p
    }

    /// Whether valid op `x` is in op `y`'s causal past.
    fn in_past(&self, x: usize, y: usize) -> bool {
        x != y && self.valid[x] && self.vc[y].get(self.dim[x]).copied().unwrap_or(0) >= self.seq[x]
    }

    /// `key`'s role in the state formed by the valid ops `visible` admits.
    fn role_where(&self, key: &Key, visible: impl Fn(usize) -> bool) -> Option<Role> {
        let ops: Vec<(usize, Option<Role>)> = self
            .about
            .get(key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&x| visible(x))
            .filter_map(|x| effect(&self.g.nodes[x].op.kind, self.g.founder).map(|e| (x, e.1)))
            .collect();
        let removes: Vec<usize> = ops
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|o| o.0)
            .collect();
        // Role-setting ops after every removal of the key (a removal
        // concurrent with an add wins).
        let after: Vec<(usize, Role)> = ops
            .iter()
            .filter_map(|&(x, r)| r.map(|r| (x, r)))
            .filter(|&(x, _)| removes.iter().all(|&r| self.in_past(r, x)))
            .collect();
        let is_add = |x: usize| {
            matches!(
                self.g.nodes[x].op.kind,
                OpKind::Add { .. } | OpKind::Genesis { .. }
            )
        };
        if !after.iter().any(|&(x, _)| is_add(x)) {
            return None;
        }
        // The latest decide; of concurrent ones, the lesser role. (`after`
        // is in topological order: an op's successors come later, so look
        // from the end.)
        after
            .iter()
            .filter(|&&(x, _)| !after.iter().rev().any(|&(y, _)| self.in_past(x, y)))
            .map(|&(_, r)| r)
            .min()
    }

    fn role_before(&self, key: &Key, op: usize) -> Option<Role> {
        self.role_where(key, |x| self.in_past(x, op))
    }

    fn judge(
        &mut self,
        i: usize,
        constraints: &[Constraint],
        vetoed: &BTreeSet<usize>,
    ) -> Result<(), &'static str> {
        let node = &self.g.nodes[i];
        if i == 0 {
            return Ok(()); // the genesis comes first in the order
        }
        if matches!(node.op.kind, OpKind::Genesis { .. }) {
            return Err(NO_GENESIS);
        }
        let founder_dim = 0;
        if self.vc[i].get(founder_dim).copied().unwrap_or(0) == 0 {
            return Err(NO_GENESIS);
        }
        if vetoed.contains(&i) {
            return Err(LAST_ADMIN);
        }
        let signer = node.signer;
        if constraints
            .iter()
            .any(|c| c.removed == signer && c.removal != i && !c.before[i] && !c.after[i])
        {
            return Err(AFTER_REMOVAL);
        }
        if self.role_before(&signer, i) != Some(Role::Admin) {
            return Err(NOT_ADMIN);
        }
        if self.forked.contains(&signer) {
            return Err(EQUIVOCATION);
        }
        if let Some(&d) = self.dims.get(&signer)
            && self.vc[i].get(d).copied().unwrap_or(0) != self.counts[d]
        {
            // It does not follow this signer's latest valid op: a fork.
            self.forked.insert(signer);
            return Err(EQUIVOCATION);
        }
        if let Some(target) = demotes(&node.op.kind)
            && self.role_before(&target, i) == Some(Role::Admin)
            && !self
                .seniority
                .iter()
                .any(|k| *k != target && self.role_before(k, i) == Some(Role::Admin))
        {
            return Err(LAST_ADMIN);
        }
        Ok(())
    }

    fn accept(&mut self, i: usize) {
        let node = &self.g.nodes[i];
        let d = match self.dims.get(&node.signer) {
            Some(&d) => d,
            None => {
                self.dims.insert(node.signer, self.counts.len());
                self.counts.push(0);
                self.counts.len() - 1
            }
        };
        self.counts[d] += 1;
        self.seq[i] = self.counts[d];
        self.dim[i] = d;
        let clock = &mut self.vc[i];
        if clock.len() <= d {
            clock.resize(d + 1, 0);
        }
        clock[d] = self.seq[i];
        self.valid[i] = true;
        let Some((key, role)) = effect(&node.op.kind, self.g.founder) else {
            return;
        };
        self.about.entry(key).or_default().push(i);
        if role == Some(Role::Admin) && !self.seniority.contains(&key) {
            self.seniority.push(key);
        }
    }

    fn final_role(&self, key: &Key) -> Option<Role> {
        self.role_where(key, |_| true)
    }

    fn members(&self) -> BTreeMap<Key, Role> {
        self.about
            .keys()
            .filter_map(|k| self.final_role(k).map(|r| (*k, r)))
            .collect()
    }

    fn rank(&self, key: &Key) -> usize {
        self.seniority
            .iter()
            .position(|k| k == key)
            .unwrap_or(usize::MAX)
    }
}

/// Computes membership of `community` from the ops held (any order, any
/// duplicates, any garbage).
pub fn compute(community: &str, ops: &[Vec<u8>]) -> Membership {
    let held: Vec<Held> = ops.iter().filter_map(|b| verify_held(b)).collect();
    compute_held(community, &held)
}

/// [`compute`] over ops whose signatures were checked when they arrived
/// (a peer's log): the rules alone, no signature checks.
pub fn compute_held(community: &str, ops: &[Held]) -> Membership {
    let Some(g) = Graph::build(community, ops) else {
        return Membership::default();
    };
    let mut constraints: Vec<Constraint> = Vec::new();
    let mut vetoed: BTreeSet<usize> = BTreeSet::new();
    let pass = loop {
        let pass = Pass::run(&g, &constraints, &vetoed);
        // Valid removals of admins not yet applied as constraints.
        let candidates: Vec<(usize, Key)> = (0..g.nodes.len())
            .filter(|&i| pass.valid[i] && !constraints.iter().any(|c| c.removal == i))
            .filter_map(|i| demotes(&g.nodes[i].op.kind).map(|t| (i, t)))
            .filter(|(_, t)| pass.seniority.contains(t))
            .collect();
        if candidates.is_empty() {
            if pass.members().values().any(|r| *r == Role::Admin) {
                break pass;
            }
            // Concurrent removals left no admin: void the latest removal of
            // the most senior admin.
            let removals: Vec<usize> = (0..g.nodes.len())
                .filter(|&i| pass.valid[i] && demotes(&g.nodes[i].op.kind).is_some())
                .collect();
            let latest = removals
                .iter()
                .copied()
                .filter(|&i| !removals.iter().any(|&j| pass.in_past(i, j)))
                .filter_map(|i| demotes(&g.nodes[i].op.kind).map(|t| (pass.rank(&t), i)))
                .min();
            match latest {
                Some((_, i)) => {
                    vetoed.insert(i);
                    constraints.retain(|c| c.removal != i);
                    continue;
                }
                None => break pass,
            }
        }
        // Admins whose own rights another candidate takes away.
        let targeted: BTreeSet<Key> = candidates
            .iter()
            .filter(|(i, t)| g.nodes[*i].signer != *t)
            .map(|(_, t)| *t)
            .collect();
        let mut chosen: Vec<usize> = candidates
            .iter()
            .filter(|(i, _)| !targeted.contains(&g.nodes[*i].signer))
            .map(|(i, _)| *i)
            .collect();
        if chosen.is_empty() {
            // Admins removing each other: the most senior signer first.
            chosen.extend(
                candidates
                    .iter()
                    .map(|(i, _)| (pass.rank(&g.nodes[*i].signer), *i))
                    .min()
                    .map(|(_, i)| i),
            );
        }
        for i in chosen {
            if let Some(removed) = demotes(&g.nodes[i].op.kind) {
                constraints.push(Constraint {
                    removed,
                    removal: i,
                    before: g.reach(i, true),
                    after: g.reach(i, false),
                });
            }
        }
    };
    finish(&g, &pass)
}

fn finish(g: &Graph, pass: &Pass<'_>) -> Membership {
    let members = pass.members();
    let removed = pass
        .about
        .iter()
        .filter(|(k, ops)| {
            !members.contains_key(*k)
                && ops
                    .iter()
                    .any(|&i| matches!(g.nodes[i].op.kind, OpKind::Remove { .. }))
        })
        .map(|(k, _)| *k)
        .collect();
    // Heads: valid ops in no other valid op's past.
    let mut covered = vec![false; g.nodes.len()];
    let mut stack: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| pass.valid[i])
        .flat_map(|i| g.nodes[i].deps.iter().copied())
        .collect();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut covered[i], true) {
            stack.extend(g.nodes[i].deps.iter().copied());
        }
    }
    let mut heads: Vec<Hash> = (0..g.nodes.len())
        .filter(|&i| pass.valid[i] && !covered[i])
        .map(|i| g.nodes[i].hash)
        .collect();
    heads.sort_unstable();
    let mut refused: BTreeMap<Hash, &'static str> = (0..g.nodes.len())
        .filter_map(|i| pass.why[i].map(|w| (g.nodes[i].hash, w)))
        .collect();
    refused.extend(g.unplaced.iter().map(|h| (*h, MISSING_DEPS)));
    // What each valid lowering op vouched for, judged by the role the
    // member had just before it.
    let mut lowered: BTreeMap<Key, Vec<Lowered>> = BTreeMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        if !pass.valid[i] {
            continue;
        }
        let (member, covers, to) = match &node.op.kind {
            OpKind::Remove { member, covers } => (member, covers, None),
            OpKind::SetRole {
                member,
                role,
                covers,
            } => (member, covers, Some(*role)),
            _ => continue,
        };
        if let Some(prior) = pass.role_before(member, i)
            && to.is_none_or(|to| to < prior)
        {
            lowered.entry(*member).or_default().push(Lowered {
                prior,
                covers: covers.clone(),
            });
        }
    }
    // Fork reports by members, each counting on its proof alone.
    let mut forks: BTreeMap<(String, Vec<u8>), Fork> = BTreeMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let OpKind::Forked { proof } = &node.op.kind else {
            continue;
        };
        if pass.role_before(&node.signer, i).is_none() {
            continue;
        }
        // Its proof was checked when it arrived (`verify_held`).
        let Some(fork) = crate::changes::read_fork(proof, node.signer) else {
            continue;
        };
        let at = (fork.doc.clone(), fork.actor.clone());
        if forks.len() >= MAX_FORKS && !forks.contains_key(&at) {
            // Past the cap, in the order every peer derives alike.
            continue;
        }
        match forks.get_mut(&at) {
            Some(f) if f.seq < fork.seq => {}
            Some(f) if f.seq == fork.seq => {
                if fork.kept < f.kept {
                    f.kept = fork.kept;
                    f.kept_change = fork.kept_change;
                    f.kept_sig = fork.kept_sig;
                }
            }
            _ => {
                forks.insert(at, fork);
            }
        }
    }
    Membership {
        members,
        removed,
        heads,
        refused,
        lowered,
        forks,
    }
}
