//! Signed changes: every Automerge change a device makes is signed with
//! its device key, and a peer merges nothing it has not checked.
//!
//! An actor id is a device's public key followed by a nonce fresh for each
//! opening of its home (`outpost_model::device_actor`), so the device a
//! change claims is in the change itself, covered by its hash. The
//! signature is ed25519 by that device over [`DOMAIN`], the id of the
//! document the change belongs to and the change hash (which commits to
//! the change's actor, seq, deps and ops), so a change signed for one
//! document never passes for another's; signatures
//! travel beside the changes ([`ChangeSig`]) in whole documents, sync
//! messages and bundles, and are stored with them.
//!
//! [`merge_checked`] is the one way peer bytes enter a document: each new
//! change must have a valid signature by the device its actor names, and
//! that device must be allowed to write; a change that fails (or follows
//! one that failed) is left out, with its reason, and the rest are merged.

use crate::membership::{Key, Role};
use crate::wire::Hash;
use automerge::{AutoCommit, AutomergeError, ChangeHash, ReadDoc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What a change signature signs first; then the document id, a zero
/// byte, and the change hash.
pub const DOMAIN: &[u8] = b"outpost/change/2\0";

/// A change's signature, as it travels and is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSig {
    pub hash: Hash,
    /// 64 bytes of ed25519 signature.
    pub sig: Vec<u8>,
}

/// Why a change was refused.
pub const BAD_ACTOR: &str = "its actor id names no device";
pub const UNSIGNED: &str = "it came without a signature";
pub const BAD_SIGNATURE: &str = "its signature is not its device's";
pub const NOT_A_MEMBER: &str = "its device is not a member of the community";
pub const AFTER_REFUSED: &str = "it builds on a refused change";
pub const TOO_BIG: &str = "it is bigger than any change Outpost accepts";

/// The largest change accepted from a peer (encoded). Nothing a member
/// types comes near it (field limits); a document of changes within it is
/// always sendable, in parts ([`crate::wire::PART`]) if need be.
pub const MAX_CHANGE: usize = 4 * 1024 * 1024;
pub const AFTER_REMOVAL: &str =
    "its device was removed from the community, and no removal covers it";
pub const FORKED: &str = "its device forked this document's history";

/// One lowering op's cover of an actor: up to which seq, and the role
/// the device had before the op.
pub type Cover = (u64, Role);

/// How a peer judges who wrote a change to one document: its membership,
/// narrowed to that document ([`crate::membership::Membership::standing`]).
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Current members and their roles.
    pub roles: HashMap<Key, Role>,
    /// Keys that were members and were removed.
    pub removed: HashSet<Key>,
    /// Per (device, actor): the highest seq each lowering op covers, with
    /// the role the device had before it.
    pub covered: HashMap<(Key, Vec<u8>), Vec<Cover>>,
    /// Actors whose history in this document forked: the first forked
    /// seq, and the one change at that seq that still counts (the lowest
    /// hash among the proven variants, so every peer keeps the same branch
    /// and what others built on it).
    pub forked: HashMap<Vec<u8>, (u64, Hash)>,
}

impl Standing {
    /// Records that a lowering op (prior role `prior`) covers `device`'s
    /// changes under `actor` up to `seq`.
    pub fn cover(&mut self, device: Key, actor: Vec<u8>, seq: u64, prior: Role) {
        self.covered
            .entry((device, actor))
            .or_default()
            .push((seq, prior));
    }

    /// The role a change by `device` (under `actor`, at `seq`, hash
    /// `hash`) is judged by, or why it cannot count: a current member
    /// writes as their role (a demoted admin's changes the demotion covers
    /// as an admin); a removed member's changes count only where a removal
    /// or demotion covers them, as the role they had then; of a forked
    /// actor, nothing counts after the fork and, at the fork, only the
    /// kept variant.
    pub fn judge(
        &self,
        device: &Key,
        actor: &[u8],
        seq: u64,
        hash: &Hash,
    ) -> Result<Role, &'static str> {
        if let Some(&(at, kept)) = self.forked.get(actor)
            && (seq > at || (seq == at && *hash != kept))
        {
            return Err(FORKED);
        }
        let vouched = self
            .covered
            .get(&(*device, actor.to_vec()))
            .into_iter()
            .flatten()
            .filter(|(max, _)| seq <= *max)
            .map(|(_, r)| *r)
            .max();
        match self.roles.get(device) {
            Some(&role) => Ok(vouched.map_or(role, |v| v.max(role))),
            None if self.removed.contains(device) => vouched.ok_or(AFTER_REMOVAL),
            None => Err(NOT_A_MEMBER),
        }
    }
}

/// Checks a fork report's proof: two distinct change chunks with the same
/// actor and seq, each validly signed for the proof's document by the
/// device the actor names, each an uncompressed change of at most
/// [`MAX_PROOF_CHANGE`] bytes (so checking one costs no inflating).
pub fn verify_fork(
    proof: &crate::membership::ForkProof,
    reporter: Key,
) -> Option<crate::membership::Fork> {
    let fork = read_fork(proof, reporter)?;
    let hash = |c: &[u8]| automerge::Change::from_bytes(c.to_vec()).map(|c| c.hash().0);
    let (a, b) = (hash(&proof.a).ok()?, hash(&proof.b).ok()?);
    // Both signatures name the document the proof names: two changes of
    // different documents (an actor numbers its changes per document)
    // never pass for a fork.
    (verify(&fork.device, &proof.doc, &a, &proof.sig_a)
        && verify(&fork.device, &proof.doc, &b, &proof.sig_b))
    .then_some(fork)
}

/// What a fork proof claims, read without checking its signatures (for a
/// report verified when it arrived, [`crate::membership::verify_held`]).
pub fn read_fork(
    proof: &crate::membership::ForkProof,
    reporter: Key,
) -> Option<crate::membership::Fork> {
    // Magic (4), checksum (4), then the chunk type: 1 is a plain change.
    let plain = |c: &[u8]| c.len() <= MAX_PROOF_CHANGE && c.get(8) == Some(&1);
    if !plain(&proof.a) || !plain(&proof.b) {
        return None;
    }
    let a = automerge::Change::from_bytes(proof.a.clone()).ok()?;
    let b = automerge::Change::from_bytes(proof.b.clone()).ok()?;
    if a.actor_id() != b.actor_id() || a.seq() != b.seq() || a.hash() == b.hash() {
        return None;
    }
    let device = device_of(a.actor_id())?;
    let (kept, kept_change, kept_sig) = if a.hash().0 <= b.hash().0 {
        (a.hash().0, &proof.a, &proof.sig_a)
    } else {
        (b.hash().0, &proof.b, &proof.sig_b)
    };
    Some(crate::membership::Fork {
        doc: proof.doc.clone(),
        device,
        actor: a.actor_id().to_bytes().to_vec(),
        seq: a.seq(),
        kept,
        kept_change: kept_change.clone(),
        kept_sig: kept_sig.clone(),
        reporter,
    })
}

/// A change that arrived with the same actor and seq as a different
/// change held here: the two chunks (held first) and the arriving one's
/// signature, if it came with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    pub held: Vec<u8>,
    pub arrived: Vec<u8>,
    pub arrived_sig: Option<Vec<u8>>,
}

/// Every change in Automerge bytes: change, compressed-change, bundle and
/// document chunks, one after the other (what `load_incremental` reads).
/// Chunks that do not parse end the list.
pub fn decode_changes(bytes: &[u8]) -> Vec<automerge::Change> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() > 9 && rest[..4] == MAGIC {
        let kind = rest[8];
        // A LEB128 length after magic, checksum and type.
        let (mut len, mut shift, mut i) = (0usize, 0u32, 9usize);
        loop {
            let Some(&b) = rest.get(i) else {
                return out;
            };
            if shift > 56 {
                return out;
            }
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let Some(end) = i.checked_add(len).filter(|&e| e <= rest.len()) else {
            return out;
        };
        let chunk = &rest[..end];
        match kind {
            0 => match AutoCommit::load(chunk) {
                Ok(mut d) => out.extend(d.get_changes(&[])),
                Err(_) => return out,
            },
            1 | 2 => match automerge::Change::from_bytes(chunk.to_vec()) {
                Ok(c) => out.push(c),
                Err(_) => return out,
            },
            3 => match automerge::Bundle::try_from(chunk)
                .ok()
                .and_then(|b| b.to_changes().ok())
            {
                Some(cs) => out.extend(cs),
                None => return out,
            },
            _ => return out,
        }
        rest = &rest[end..];
    }
    out
}

/// The changes of `incoming` that reuse an (actor, seq) `doc` holds with
/// different contents.
pub fn equivocations(
    doc: &mut AutoCommit,
    incoming: &[automerge::Change],
    sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
) -> Vec<Equivocation> {
    let held: HashMap<(Vec<u8>, u64), ChangeHash> = doc
        .get_changes_meta(&[])
        .iter()
        .map(|c| ((c.actor.to_bytes().to_vec(), c.seq), c.hash))
        .collect();
    let mut out = Vec::new();
    for c in incoming {
        let at = (c.actor_id().to_bytes().to_vec(), c.seq());
        if let Some(h) = held.get(&at)
            && *h != c.hash()
            && let Some(mine) = doc.get_change_by_hash(h)
        {
            out.push(Equivocation {
                held: mine.raw_bytes().to_vec(),
                arrived: c.raw_bytes().to_vec(),
                arrived_sig: sig_of(&c.hash().0),
            });
        }
    }
    out
}

/// What a change signature covers: [`DOMAIN`], the document id, a zero
/// byte (ids hold none) and the change hash.
fn signed_bytes(doc: &str, hash: &Hash) -> Vec<u8> {
    let mut msg = Vec::with_capacity(DOMAIN.len() + doc.len() + 1 + hash.len());
    msg.extend_from_slice(DOMAIN);
    msg.extend_from_slice(doc.as_bytes());
    msg.push(0);
    msg.extend_from_slice(hash);
    msg
}

/// Signs the change `hash` of document `doc` with a device key.
pub fn sign(key: &SigningKey, doc: &str, hash: &Hash) -> Vec<u8> {
    key.sign(&signed_bytes(doc, hash)).to_bytes().to_vec()
}

/// Whether `sig` is `device`'s signature of the change `hash` of
/// document `doc`.
pub fn verify(device: &Key, doc: &str, hash: &Hash, sig: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(device) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    key.verify_strict(&signed_bytes(doc, hash), &sig).is_ok()
}

/// The actor a device writes under once `actor`'s numbering is spent in a
/// document (some of its changes were dropped there, so its next seq
/// would reuse one a peer may hold: a fork): the same device, a nonce
/// derived from the old actor. Every opening of a home has its own actor,
/// so only the opening that wrote under `actor` moves to its successor.
pub fn successor_actor(actor: &automerge::ActorId) -> automerge::ActorId {
    let digest = blake3::hash(actor.to_bytes());
    let mut nonce = [0u8; 8];
    nonce.copy_from_slice(&digest.as_bytes()[..8]);
    match device_of(actor) {
        Some(device) => outpost_model::device_actor(&device, nonce),
        None => automerge::ActorId::from(digest.as_bytes().as_slice()),
    }
}

/// The device (public key) an actor id belongs to, if it is one.
pub fn device_of(actor: &automerge::ActorId) -> Option<Key> {
    outpost_model::device_of(actor).map(|d| *d.as_bytes())
}

/// Signatures for the changes of `doc` (document `doc_id`) added since
/// `base`, by the keys held here (a device signs only its own changes).
/// Errs with the actor of a change no held key may sign.
pub fn sign_new(
    doc_id: &str,
    doc: &mut AutoCommit,
    base: &[ChangeHash],
    keys: &[SigningKey],
) -> Result<Vec<ChangeSig>, String> {
    let mut out = Vec::new();
    for c in doc.get_changes_meta(base) {
        let device = device_of(&c.actor);
        let key = keys
            .iter()
            .find(|k| Some(k.verifying_key().to_bytes()) == device)
            .ok_or_else(|| format!("no key here signs for actor {}", c.actor))?;
        out.push(ChangeSig {
            hash: c.hash.0,
            sig: sign(key, doc_id, &c.hash.0),
        });
    }
    Ok(out)
}

/// One change left out of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub hash: Hash,
    /// The actor id the change claims (hex).
    pub actor: String,
    /// Its device, when the actor names one.
    pub device: Option<Key>,
    pub reason: &'static str,
}

/// What [`merge_checked`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Signatures of the changes merged (to store beside them).
    pub accepted: Vec<ChangeSig>,
    pub refused: Vec<Refusal>,
    /// Changes that reused an (actor, seq) held here (left out).
    pub forks: Vec<Equivocation>,
}

/// Re-checks a whole document under `standing` (after membership changed:
/// a removal, a demotion, a proven fork), as a peer seeing it for the first
/// time would. Returns the document rebuilt from the changes that still
/// count, and what no longer does, or None when every change still counts
/// (or when Automerge cannot rebuild it: then it stays as held, rather
/// than a panic taking the node down).
pub fn recheck(
    doc_id: &str,
    doc: &mut AutoCommit,
    sig_of: impl Fn(&Hash) -> Option<Vec<u8>>,
    standing: &Standing,
) -> Result<Option<(AutoCommit, Checked)>, AutomergeError> {
    let bytes = doc.save();
    let rebuilt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut fresh = AutoCommit::new();
        merge_checked(&mut fresh, doc_id, &bytes, sig_of, standing).map(|c| (fresh, c))
    }));
    match rebuilt {
        Ok(Ok((_, checked))) if checked.refused.is_empty() => Ok(None),
        Ok(Ok(rebuilt)) => Ok(Some(rebuilt)),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Merges Automerge bytes (a whole document or changes) into `doc`
/// (document `doc_id`), keeping only the new changes that carry a valid
/// signature for this document (from `sig_of`) by the device their actor
/// names, when that device may write
/// ([`Standing::judge`]) and the rules ([`crate::rules`]) let it change
/// what the change changes. Refused changes, and changes that build on
/// them, stay out. A change reusing an (actor, seq) held here with other
/// contents is left out too, and returned as an [`Equivocation`].
pub fn merge_checked(
    doc: &mut AutoCommit,
    doc_id: &str,
    bytes: &[u8],
    sig_of: impl Fn(&Hash) -> Option<Vec<u8>>,
    standing: &Standing,
) -> Result<Checked, AutomergeError> {
    let base = doc.get_heads();
    // The document's owner: the creator of its `id` (written once, by the
    // change that created it), as held before this merge.
    let owned_by = |d: &AutoCommit| {
        d.get(automerge::ROOT, "id")
            .ok()
            .flatten()
            .and_then(|(_, op)| {
                let s = op.to_string();
                let actor = hex::decode(s.split_once('@')?.1).ok()?;
                device_of(&automerge::ActorId::from(actor))
            })
    };
    let mut owner = if base.is_empty() { None } else { owned_by(doc) };
    let mut merged = doc.clone();
    let mut forks = Vec::new();
    if let Err(e) = merged.load_incremental(bytes) {
        let AutomergeError::DuplicateSeqNumber(..) = e else {
            return Err(e);
        };
        // Keep what does not fork; the rest of its branch waits in the
        // queue and is never applied.
        let incoming = decode_changes(bytes);
        forks = equivocations(doc, &incoming, &sig_of);
        let forked: HashSet<ChangeHash> = forks
            .iter()
            .filter_map(|f| automerge::Change::from_bytes(f.arrived.clone()).ok())
            .map(|c| c.hash())
            .collect();
        merged = doc.clone();
        merged.apply_changes(
            incoming
                .into_iter()
                .filter(|c| !forked.contains(&c.hash()))
                .collect::<Vec<_>>(),
        )?;
    }
    // The kind decides which rules apply: read from the document as held
    // (never from what a peer just sent), or, for a document new here,
    // from its creating change alone.
    let kind_of = |d: &AutoCommit| {
        d.get(automerge::ROOT, "kind")
            .ok()
            .flatten()
            .and_then(|(v, _)| v.as_str().map(str::to_string))
    };
    let kind = if base.is_empty() {
        let first = merged
            .get_changes(&[])
            .into_iter()
            .find(|c| c.deps().is_empty());
        let mut alone = AutoCommit::new();
        match first {
            Some(c) => alone.apply_changes([c]).ok().and_then(|()| kind_of(&alone)),
            None => None,
        }
    } else {
        kind_of(doc)
    }
    .unwrap_or_default();
    let mut checked = Checked {
        forks,
        ..Checked::default()
    };
    let mut refused: HashSet<ChangeHash> = HashSet::new();
    // Bytes this small cannot hold a change over the limit: only bigger
    // ones are looked at change by change.
    let oversized: HashSet<ChangeHash> = if bytes.len() > MAX_CHANGE {
        merged
            .get_changes(&base)
            .into_iter()
            .filter(|c| c.raw_bytes().len() > MAX_CHANGE)
            .map(|c| c.hash())
            .collect()
    } else {
        HashSet::new()
    };
    let metas: Vec<_> = merged
        .get_changes_meta(&base)
        .into_iter()
        .map(|m| m.into_owned())
        .collect();
    for c in metas {
        let device = device_of(&c.actor);
        let judged = device.map(|d| standing.judge(&d, c.actor.to_bytes(), c.seq, &c.hash.0));
        let sig = sig_of(&c.hash.0);
        let why = match (device, &sig) {
            _ if oversized.contains(&c.hash) => Some(TOO_BIG),
            _ if c.deps.iter().any(|d| refused.contains(d)) => Some(AFTER_REFUSED),
            (None, _) => Some(BAD_ACTOR),
            (_, None) => Some(UNSIGNED),
            (Some(d), Some(s)) if !verify(&d, doc_id, &c.hash.0, s) => Some(BAD_SIGNATURE),
            (Some(_), _) if judged.is_some_and(|j| j.is_err()) => judged.and_then(|j| j.err()),
            // A second "first change": another device creating the same
            // document over the real one.
            (Some(_), _) if c.deps.is_empty() && owner.is_some() => {
                Some(crate::rules::BAD_CREATION)
            }
            (Some(d), _) => {
                let hash = c.hash;
                let creating = owner.is_none();
                let role = judged.and_then(|j| j.ok());
                match crate::rules::check(&mut merged, &hash, &kind, owner, d, role) {
                    Ok(()) => {
                        if creating {
                            owner = Some(d);
                        }
                        None
                    }
                    Err(why) => Some(why),
                }
            }
        };
        match (why, sig) {
            (None, Some(sig)) => checked.accepted.push(ChangeSig {
                hash: c.hash.0,
                sig,
            }),
            (why, _) => {
                refused.insert(c.hash);
                checked.refused.push(Refusal {
                    hash: c.hash.0,
                    actor: c.actor.to_hex_string(),
                    device,
                    reason: why.unwrap_or(UNSIGNED),
                });
            }
        }
    }
    if refused.is_empty() {
        *doc = merged;
    } else if !checked.accepted.is_empty() {
        let keep: HashSet<Hash> = checked.accepted.iter().map(|s| s.hash).collect();
        let changes: Vec<_> = merged
            .get_changes(&base)
            .into_iter()
            .filter(|c| keep.contains(&c.hash().0))
            .collect();
        // Applied to a copy first: a crafted change that writes into an
        // object only a refused change created can make Automerge panic on
        // a partial history; then none of the peer's changes are kept.
        let mut next = doc.clone();
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            next.apply_changes(changes).map(|()| next)
        }));
        match applied {
            Ok(Ok(next)) => *doc = next,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                for s in std::mem::take(&mut checked.accepted) {
                    let hash = s.hash;
                    checked.refused.push(Refusal {
                        hash,
                        actor: String::new(),
                        device: None,
                        reason: AFTER_REFUSED,
                    });
                }
            }
        }
    }
    Ok(checked)
}

/// Signatures received for one document and not yet stored (for changes
/// that wait for their parents), bounded.
#[derive(Debug, Default, Clone)]
pub struct PendingSigs(HashMap<Hash, Vec<u8>>);

impl PendingSigs {
    /// At most this many per document (signatures for changes still
    /// waiting for their parents); a peer sending more loses the rest.
    pub const MAX: usize = 10_000;

    pub fn extend(&mut self, sigs: impl IntoIterator<Item = ChangeSig>) {
        for s in sigs {
            if self.0.len() >= Self::MAX {
                break;
            }
            self.0.insert(s.hash, s.sig);
        }
    }

    pub fn get(&self, hash: &Hash) -> Option<&Vec<u8>> {
        self.0.get(hash)
    }

    pub fn retain_missing(&mut self, held: impl Fn(&Hash) -> bool) {
        self.0.retain(|h, _| !held(h));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What `doc` holds of `member`'s writing: per actor of that device, its
/// highest seq (what a removal or demotion signed here covers).
pub fn covers_in(
    doc_id: &str,
    doc: &mut AutoCommit,
    member: &Key,
) -> Vec<crate::membership::Covered> {
    let mut top: std::collections::BTreeMap<Vec<u8>, u64> = std::collections::BTreeMap::new();
    for c in doc.get_changes_meta(&[]) {
        if device_of(&c.actor).as_ref() == Some(member) {
            let e = top.entry(c.actor.to_bytes().to_vec()).or_default();
            *e = (*e).max(c.seq);
        }
    }
    top.into_iter()
        .map(|(actor, seq)| crate::membership::Covered {
            doc: doc_id.to_string(),
            actor,
            seq,
        })
        .collect()
}

/// Whether `doc` holds a change by any of `devices`.
pub fn written_by(doc: &mut AutoCommit, devices: &std::collections::BTreeSet<Key>) -> bool {
    !devices.is_empty()
        && doc
            .get_changes_meta(&[])
            .iter()
            .any(|c| device_of(&c.actor).is_some_and(|d| devices.contains(&d)))
}

/// The largest change a fork proof carries (each of its two): beyond it the
/// fork is refused here but not reported.
pub const MAX_PROOF_CHANGE: usize = 1 << 20;

/// A fork proof from an equivocation and the held change's stored
/// signature, when both changes are validly signed.
pub fn fork_proof(
    doc: &str,
    e: &Equivocation,
    held_sig: Option<Vec<u8>>,
) -> Option<crate::membership::ForkProof> {
    if e.held.len() > MAX_PROOF_CHANGE || e.arrived.len() > MAX_PROOF_CHANGE {
        return None;
    }
    let proof = crate::membership::ForkProof {
        doc: doc.to_string(),
        a: e.held.clone(),
        sig_a: held_sig?,
        b: e.arrived.clone(),
        sig_b: e.arrived_sig.clone()?,
    };
    verify_fork(&proof, [0; 32]).map(|_| proof)
}
