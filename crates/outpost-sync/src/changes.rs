//! Signed changes: every Automerge change a device makes is signed with
//! its device key, and a peer merges nothing it has not checked.
//!
//! An actor id is a device's public key followed by a nonce fresh for each
//! opening of its home (`outpost_model::device_actor`), so the device a
//! change claims is in the change itself, covered by its hash. The
//! signature is ed25519 by that device over [`DOMAIN`] and the change hash
//! (which commits to the change's actor, seq, deps and ops); signatures
//! travel beside the changes ([`ChangeSig`]) in whole documents, sync
//! messages and bundles, and are stored with them.
//!
//! [`merge_checked`] is the one way peer bytes enter a document: each new
//! change must have a valid signature by the device its actor names, and
//! that device must be allowed to write; a change that fails (or follows
//! one that failed) is left out, with its reason, and the rest are merged.

use crate::membership::Key;
use crate::wire::Hash;
use automerge::{AutoCommit, AutomergeError, ChangeHash, ReadDoc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What a change signature signs before the change hash.
pub const DOMAIN: &[u8] = b"outpost/change/1\0";

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

/// Signs a change hash with a device key.
pub fn sign(key: &SigningKey, hash: &Hash) -> Vec<u8> {
    let mut msg = DOMAIN.to_vec();
    msg.extend_from_slice(hash);
    key.sign(&msg).to_bytes().to_vec()
}

/// Whether `sig` is `device`'s signature of the change `hash`.
pub fn verify(device: &Key, hash: &Hash, sig: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(device) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    let mut msg = DOMAIN.to_vec();
    msg.extend_from_slice(hash);
    key.verify_strict(&msg, &sig).is_ok()
}

/// The device (public key) an actor id belongs to, if it is one.
pub fn device_of(actor: &automerge::ActorId) -> Option<Key> {
    outpost_model::device_of(actor).map(|d| *d.as_bytes())
}

/// Signatures for the changes of `doc` added since `base`, by the keys
/// held here (a device signs only its own changes). Errs with the actor of
/// a change no held key may sign.
pub fn sign_new(
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
            sig: sign(key, &c.hash.0),
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
}

/// Merges Automerge bytes (a whole document or changes) into `doc`,
/// keeping only the new changes that carry a valid signature (from
/// `sig_of`) by the device their actor names, when that device is a member
/// (`role_of`: its role, None for a stranger; a removed member's own past
/// changes count as a member's) and the rules ([`crate::rules`]) let it
/// change what the change changes. Refused changes, and changes that build
/// on them, stay out.
pub fn merge_checked(
    doc: &mut AutoCommit,
    bytes: &[u8],
    sig_of: impl Fn(&Hash) -> Option<Vec<u8>>,
    role_of: &dyn Fn(&Key) -> Option<crate::membership::Role>,
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
    merged.load_incremental(bytes)?;
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
    let mut checked = Checked::default();
    let mut refused: HashSet<ChangeHash> = HashSet::new();
    let metas: Vec<_> = merged
        .get_changes_meta(&base)
        .into_iter()
        .map(|m| m.into_owned())
        .collect();
    for c in metas {
        let device = device_of(&c.actor);
        let sig = sig_of(&c.hash.0);
        let why = match (device, &sig) {
            _ if c.deps.iter().any(|d| refused.contains(d)) => Some(AFTER_REFUSED),
            (None, _) => Some(BAD_ACTOR),
            (_, None) => Some(UNSIGNED),
            (Some(d), Some(s)) if !verify(&d, &c.hash.0, s) => Some(BAD_SIGNATURE),
            (Some(d), _) if role_of(&d).is_none() => Some(NOT_A_MEMBER),
            // A second "first change": another device creating the same
            // document over the real one.
            (Some(_), _) if c.deps.is_empty() && owner.is_some() => {
                Some(crate::rules::BAD_CREATION)
            }
            (Some(d), _) => {
                let hash = c.hash;
                let creating = owner.is_none();
                match crate::rules::check(&mut merged, &hash, &kind, owner, d, role_of) {
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
