//! [`MemRepo`]: the store's sync tables in memory.
//!
//! It follows `outpost-core`'s `SyncRepo` over `outpost-store` rule for rule:
//!
//! * one change feed per device with a global sequence (every write that
//!   moves a document's heads appends an entry naming the document, its
//!   community and, for merged data, the peer it came from); an offer's
//!   `feed` is the community's highest entry, and the last page of
//!   `changed_since` reaches the head of the whole feed;
//! * a digest per community, the XOR of [`crate::digest_entry`] over its
//!   documents;
//! * membership: an append-only log of signed ops per community, each op
//!   verified once when it arrives and kept if new, membership recomputed
//!   from the whole log ([`membership::compute_held`]) whenever it grows;
//!   new ops enter the digest and append a feed entry for the community
//!   document (which is how sessions learn to announce them);
//! * signed changes: every change made here is signed with this device's
//!   key (its actor is the key and [`MemRepo::nonce`]); a merge keeps only
//!   new changes validly signed by a device that is (or was) a member
//!   ([`crate::changes::merge_checked`]), and counts what it refused;
//! * merges that refuse anything not a well-formed Outpost document of the
//!   named community (a document id held for another community, bytes
//!   Automerge rejects, an item naming another community or id);
//! * sync states kept as the bytes the session hands over (the encoded
//!   form), checkpoints, acks and "synced heads";
//! * invitations: a one-time secret with an expiry, redeemed by signing an
//!   `Add` with this device's key (refused, and left unused, when this
//!   device is not an admin); a removed key is refused, a member's redeem
//!   changes nothing.

use crate::changes::Refusal;
use crate::membership::{self, Held, Key, Membership, Op, OpKind, Role};
use crate::session::{Merged, Repo};
use crate::wire::{ChangeSig, DocHeads, Hash, Offer};
use automerge::{ActorId, AutoCommit, ChangeHash};
use ed25519_dalek::SigningKey;
use outpost_model::{
    MemberProfile, NewCommunity, NewItem, NewQuestion, device_actor, new_community_doc,
    new_item_doc, read_community, read_item,
};
use std::collections::BTreeMap;

/// One held document (a row of the store's `docs` table, with the
/// document itself instead of its chunks).
#[derive(Debug, Clone)]
pub struct Stored {
    pub community: String,
    /// `"community"` or an item kind (`"question"`, `"case"`, ...).
    pub kind: String,
    pub doc: AutoCommit,
    /// Sorted heads, as the store keeps them next to the document.
    pub heads: Vec<Hash>,
    /// Heads another member is known to hold (`Repo::peer_has`).
    pub synced_heads: Option<Vec<Hash>>,
}

/// One entry of the change feed. Its sequence number is its index + 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub doc: String,
    pub community: String,
    /// The peer whose data moved the document, None for a local edit.
    pub origin: Option<Key>,
}

/// A one-time invitation created here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub community: String,
    pub expires_at: i64,
    pub used_by: Option<Key>,
}

/// An in-memory [`Repo`] with the store's rules (see the module docs).
#[derive(Clone)]
pub struct MemRepo {
    /// This device's key: its actor id, and the signer of the `Add` ops it
    /// makes when an invitation is redeemed.
    pub key: SigningKey,
    pub docs: BTreeMap<String, Stored>,
    pub feed: Vec<FeedEntry>,
    /// Each community's membership log (the store's `member_ops`), in
    /// arrival order.
    pub ops: BTreeMap<String, Vec<Held>>,
    /// Who belongs to each community, recomputed from its log whenever it
    /// grows (the store's `members` table). Tests that need a community
    /// without a genesis (the fuzzer's "c") may fill it in directly.
    pub members: BTreeMap<String, Membership>,
    pub checkpoints: BTreeMap<(Key, String), u64>,
    pub acks: BTreeMap<(Key, String), u64>,
    /// Persisted Automerge sync states per (peer, document): whatever bytes
    /// the session handed to `set_sync_state`.
    pub states: BTreeMap<(Key, String), Vec<u8>>,
    pub invites: BTreeMap<Hash, Invite>,
    /// Signatures of the changes held, by change hash.
    pub sigs: BTreeMap<Hash, Vec<u8>>,
    /// Changes refused by merges: (document, refusal).
    pub refused_changes: Vec<(String, Refusal)>,
    /// Forks this device proved and reported (signed a `Forked` op for).
    pub forks_reported: u64,
    /// The second part of this device's actor id (fresh per opening of a
    /// real home).
    pub nonce: [u8; 8],
    /// The clock invitations are checked against (Unix milliseconds).
    pub now: i64,
    /// How many times the session loaded a document (`Repo::load`).
    pub loads: u64,
    /// Merges refused (`Repo::merge` returned false).
    pub refused_merges: u64,
    /// Writes of a sync state (`Repo::set_sync_state`).
    pub state_writes: u64,
    counter: u64,
}

impl Default for MemRepo {
    fn default() -> Self {
        Self::new(SigningKey::from_bytes(&[0; 32]))
    }
}

fn sorted(h: &[ChangeHash]) -> Vec<Hash> {
    let mut v: Vec<Hash> = h.iter().map(|c| c.0).collect();
    v.sort();
    v
}

/// The kind of a document received from a peer, if it is one Outpost
/// knows (the store's `index::kind_of`).
fn kind_of(doc: &AutoCommit) -> Option<String> {
    if read_community(doc).is_ok() {
        return Some("community".into());
    }
    read_item(doc).ok().map(|i| i.kind.as_str().to_string())
}

/// Whether `doc` is a well-formed `kind` document of `community` named `id`
/// (the store's `index::belongs`).
fn belongs(doc: &AutoCommit, id: &str, kind: &str, community: &str) -> bool {
    if kind == "community" {
        return id == community && read_community(doc).is_ok_and(|c| c.id == id);
    }
    read_item(doc).is_ok_and(|i| i.id == id && i.community == community && i.kind.as_str() == kind)
}

/// A device key from a one-byte seed (deterministic, for tests).
pub fn device_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The public key (peer id) of [`device_key`]`(seed)`.
pub fn device_id(seed: u8) -> Key {
    device_key(seed).verifying_key().to_bytes()
}

impl MemRepo {
    /// An empty home for the device with `key`.
    pub fn new(key: SigningKey) -> Self {
        Self {
            key,
            docs: BTreeMap::new(),
            feed: Vec::new(),
            ops: BTreeMap::new(),
            members: BTreeMap::new(),
            checkpoints: BTreeMap::new(),
            acks: BTreeMap::new(),
            states: BTreeMap::new(),
            invites: BTreeMap::new(),
            sigs: BTreeMap::new(),
            refused_changes: Vec::new(),
            forks_reported: 0,
            nonce: [0; 8],
            now: 1_000_000,
            loads: 0,
            refused_merges: 0,
            state_writes: 0,
            counter: 0,
        }
    }

    /// An empty home for [`device_key`]`(seed)`.
    pub fn device(seed: u8) -> Self {
        Self::new(device_key(seed))
    }

    /// This device's public key (what peers know it by).
    pub fn id(&self) -> Key {
        self.key.verifying_key().to_bytes()
    }

    pub fn actor(&self) -> ActorId {
        device_actor(&self.id(), self.nonce)
    }

    fn profile(&self) -> MemberProfile {
        MemberProfile {
            name: format!("device {}", hex::encode(&self.id()[..4])),
            profession: None,
            region: None,
            expertise: vec![],
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// The highest sequence number of the feed (0 when empty).
    pub fn feed_head(&self) -> u64 {
        self.feed.len() as u64
    }

    /// Sorted heads of a held document.
    pub fn heads_of(&self, doc: &str) -> Option<&[Hash]> {
        self.docs.get(doc).map(|s| s.heads.as_slice())
    }

    /// Ids of the documents of `community` held here.
    pub fn doc_ids(&self, community: &str) -> Vec<String> {
        self.docs
            .iter()
            .filter(|(_, s)| s.community == community)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// (id, heads) of every document of `community`: equal for two repos
    /// once they hold the same data.
    pub fn snapshot(&self, community: &str) -> Vec<(String, Vec<Hash>)> {
        self.docs
            .iter()
            .filter(|(_, s)| s.community == community)
            .map(|(id, s)| (id.clone(), s.heads.clone()))
            .collect()
    }

    /// The community's digest, as offered in `Hello`.
    pub fn digest(&self, community: &str) -> Hash {
        let mut d = [0u8; 32];
        for (id, s) in &self.docs {
            if s.community == community {
                crate::xor(&mut d, &crate::digest_entry(id, &s.heads));
            }
        }
        for op in self.ops.get(community).into_iter().flatten() {
            crate::xor(&mut d, &crate::op_digest_entry(&op.hash));
        }
        d
    }

    /// Appends verified ops to `community`'s log (those not held yet),
    /// recomputes membership and, when the log grew, appends a feed entry
    /// for the community document. The store's `add_ops`.
    fn append_ops(&mut self, community: &str, ops: Vec<Held>, origin: Option<Key>) -> usize {
        let log = self.ops.entry(community.to_string()).or_default();
        let mut new = 0;
        for op in ops {
            if op.belongs_to(community) && !log.iter().any(|h| h.hash == op.hash) {
                log.push(op);
                new += 1;
            }
        }
        if new > 0 {
            let m = membership::compute_held(community, log);
            let old = self
                .members
                .insert(community.to_string(), m.clone())
                .unwrap_or_default();
            self.feed.push(FeedEntry {
                doc: community.to_string(),
                community: community.to_string(),
                origin,
            });
            // This device's own writing stays in its own home.
            let mut narrowed = membership::narrowed(&old, &m);
            narrowed.remove(&self.id());
            self.recheck(community, &narrowed, &m);
        }
        new
    }

    /// After membership narrowed for `devices`: every document they wrote
    /// to is checked again, and rebuilt without what no longer counts (the
    /// store's `recheck`).
    fn recheck(
        &mut self,
        community: &str,
        devices: &std::collections::BTreeSet<Key>,
        m: &Membership,
    ) {
        for id in self.doc_ids(community) {
            let Some(stored) = self.docs.get(&id) else {
                continue;
            };
            let mut d = stored.doc.clone();
            if !crate::changes::written_by(&mut d, devices) {
                continue;
            }
            let sigs = &self.sigs;
            let Ok(Some((mut rebuilt, checked))) =
                crate::changes::recheck(&id, &mut d, |h| sigs.get(h).cloned(), &m.standing(&id))
            else {
                continue;
            };
            for r in &checked.refused {
                self.sigs.remove(&r.hash);
            }
            self.refused_changes
                .extend(checked.refused.into_iter().map(|r| (id.clone(), r)));
            let heads = sorted(&rebuilt.get_heads());
            if heads.is_empty() {
                self.docs.remove(&id);
                continue;
            }
            if let Some(s) = self.docs.get_mut(&id) {
                s.doc = rebuilt;
                s.heads = heads;
                s.synced_heads = None;
            }
            self.states.retain(|(_, doc), _| *doc != id);
            self.feed.push(FeedEntry {
                doc: id.clone(),
                community: community.to_string(),
                origin: None,
            });
        }
    }

    /// The community's highest feed position.
    fn community_feed(&self, community: &str) -> u64 {
        self.feed
            .iter()
            .rposition(|e| e.community == community)
            .map_or(0, |i| i as u64 + 1)
    }

    /// Writes `doc` (new or changed) and, if its heads moved, appends to the
    /// feed; a community document also recomputes membership. This is the
    /// store's `insert`/`save` + `after_change`.
    fn write(
        &mut self,
        id: &str,
        community: &str,
        kind: &str,
        mut doc: AutoCommit,
        origin: Option<Key>,
    ) {
        let heads = sorted(&doc.get_heads());
        let (synced_heads, base) = match self.docs.get_mut(id) {
            Some(old) if old.heads == heads => return,
            Some(old) => (old.synced_heads.clone(), old.doc.get_heads()),
            None => (None, Vec::new()),
        };
        if origin.is_none() {
            // Sign this device's own new changes (a merge stored the peer's
            // signatures already).
            let me = self.id();
            for c in doc.get_changes_meta(&base) {
                if crate::changes::device_of(&c.actor) == Some(me) {
                    self.sigs
                        .insert(c.hash.0, crate::changes::sign(&self.key, id, &c.hash.0));
                }
            }
        }
        self.docs.insert(
            id.to_string(),
            Stored {
                community: community.to_string(),
                kind: kind.to_string(),
                doc,
                heads,
                synced_heads,
            },
        );
        self.feed.push(FeedEntry {
            doc: id.to_string(),
            community: community.to_string(),
            origin,
        });
    }

    /// Appends a feed entry for `doc` as if it had just changed here (for
    /// tests that write a document's fields raw).
    pub fn feed_push(&mut self, doc: &str) {
        if let Some(s) = self.docs.get(doc) {
            let community = s.community.clone();
            self.feed.push(FeedEntry {
                doc: doc.to_string(),
                community,
                origin: None,
            });
        }
    }

    /// Stores a document made here (this device's changes in it are
    /// signed). It must be a well-formed Outpost document of `community`
    /// named `id`.
    pub fn put(&mut self, community: &str, id: &str, doc: AutoCommit) {
        let kind = kind_of(&doc).expect("put: not an Outpost document");
        assert!(
            belongs(&doc, id, &kind, community),
            "put: {id} is not a {kind} of {community}"
        );
        self.write(id, community, &kind, doc, None);
    }

    /// Founds a community with this device as its admin; returns its id.
    pub fn found_community(&mut self, name: &str) -> String {
        let n = self.next();
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&n.to_be_bytes());
        nonce[8..].copy_from_slice(&self.id()[..8]);
        let (id, genesis) =
            membership::genesis(&self.key, name, nonce, self.now).expect("genesis op");
        let genesis = membership::verify_held(&genesis).expect("a genesis op verifies");
        self.append_ops(&id, vec![genesis], None);
        let c = new_community_doc(
            self.actor(),
            &id.parse().expect("genesis makes a valid id"),
            &self.profile(),
            self.now,
            &NewCommunity {
                name: name.into(),
                domain: "testing".into(),
                charter: None,
            },
        )
        .expect("community document");
        self.put(&id, &id, c.into_automerge());
        id
    }

    /// Signs a membership op with this device's key on top of the ops held
    /// and appends it to the community's log (`outpost-core`'s
    /// `append_op`). Err when this device is not an admin.
    pub fn sign_op(&mut self, community: &str, kind: OpKind) -> Result<(), String> {
        let Some(m) = self.members.get(community) else {
            return Err(format!("no community {community} here"));
        };
        let report = matches!(kind, OpKind::Forked { .. });
        if !(m.is_admin(&self.id()) || report && m.is_member(&self.id())) {
            return Err("only an admin of this community can change its membership".into());
        }
        let op = membership::sign(
            &self.key,
            &Op {
                community: community.to_string(),
                kind,
                deps: m.heads.clone(),
                time: self.now,
            },
        )
        .map_err(|e| e.to_string())?;
        let op = membership::verify_held(&op).ok_or("a fresh op verifies")?;
        self.append_ops(community, vec![op], None);
        Ok(())
    }

    /// Copies `community`'s document and membership log into `to` (as if
    /// they had reached it earlier); each op is verified there.
    pub fn share_community(&self, to: &mut MemRepo, community: &str) {
        let ops = self.ops.get(community).cloned().unwrap_or_default();
        let ops = ops
            .iter()
            .filter_map(|h| membership::verify_held(&h.bytes))
            .collect();
        to.append_ops(community, ops, None);
        self.give_doc(to, community);
    }

    /// Copies a held document and its changes' signatures into `to` (as if
    /// it had reached it earlier).
    pub fn give_doc(&self, to: &mut MemRepo, doc: &str) {
        let Some(s) = self.docs.get(doc) else {
            return;
        };
        let mut d = s.doc.clone();
        for c in d.get_changes_meta(&[]) {
            if let Some(sig) = self.sigs.get(&c.hash.0) {
                to.sigs.insert(c.hash.0, sig.clone());
            }
        }
        to.put(&s.community, doc, d);
    }

    /// Writes raw op bytes into this device's log, unverified (what a
    /// modified client could hold and pass on).
    pub fn inject_ops(&mut self, community: &str, ops: &[Vec<u8>]) {
        let held = ops
            .iter()
            .filter_map(|b| membership::decode_held(b))
            .collect();
        self.append_ops(community, held, None);
    }

    /// Adds `member` to `community` (this device must be an admin).
    pub fn add_member(&mut self, community: &str, member: Key, role: Role) {
        self.sign_op(community, OpKind::Add { member, role })
            .expect("add member");
    }

    /// Removes `member` from `community` (this device must be an admin).
    /// The removal covers what this device holds of `member`'s writing.
    pub fn remove_member(&mut self, community: &str, member: Key) {
        let covers = self.covers(community, &member);
        self.sign_op(community, OpKind::Remove { member, covers })
            .expect("remove member");
    }

    /// Sets `member`'s role (this device must be an admin); a demotion
    /// covers what this device holds of their writing.
    pub fn set_role(&mut self, community: &str, member: Key, role: Role) {
        let covers = self.covers(community, &member);
        self.sign_op(
            community,
            OpKind::SetRole {
                member,
                role,
                covers,
            },
        )
        .expect("set role");
    }

    /// What this device holds of `member`'s changes in `community`.
    pub fn covers(&self, community: &str, member: &Key) -> Vec<membership::Covered> {
        let mut out = Vec::new();
        for id in self.doc_ids(community) {
            if let Some(s) = self.docs.get(&id) {
                out.extend(crate::changes::covers_in(&id, &mut s.doc.clone(), member));
            }
        }
        out
    }

    /// Whether `key` is a current member of `community` here.
    pub fn member(&self, community: &str, key: &Key) -> bool {
        self.members
            .get(community)
            .is_some_and(|m| m.is_member(key))
    }

    /// Creates a question in `community`; returns its id.
    pub fn new_item(&mut self, community: &str, title: &str) -> String {
        let n = self.next();
        let id = format!("q-{}-{n:05}", hex::encode(&self.id()[..3]));
        let item = new_item_doc(
            self.actor(),
            &id.parse().expect("valid id"),
            &community.parse().expect("valid community id"),
            &self.profile(),
            self.now,
            &NewItem::Question(NewQuestion {
                title: title.into(),
                body: format!("body of {title}"),
                tags: vec![],
            }),
        )
        .expect("item document");
        self.put(community, &id, item.into_automerge());
        id
    }

    /// A local edit of a held document (the change is committed here).
    pub fn edit(&mut self, doc: &str, f: impl FnOnce(&mut AutoCommit)) {
        let stored = self.docs.get(doc).expect("edit: document held");
        let (community, kind) = (stored.community.clone(), stored.kind.clone());
        let mut d = stored.doc.clone();
        d.set_actor(self.actor());
        f(&mut d);
        d.commit();
        self.write(doc, &community, &kind, d, None);
    }

    /// A comment on an item, as any member may write (the everyday edit
    /// of the protocol tests).
    pub fn comment(&mut self, doc: &str, body: &str) {
        let n = self.next();
        let id: outpost_model::PostId = format!("c-{}-{n:05}", hex::encode(&self.id()[..3]))
            .parse()
            .expect("valid id");
        let profile = self.profile();
        let now = self.now;
        self.edit(doc, |d| {
            let mut item = outpost_model::ItemDoc::new(d.clone()).expect("an item");
            item.add_comment(&id, &profile, now, body).expect("comment");
            *d = item.into_automerge();
        });
    }

    /// A local edit that sets the document's title (the item's author's to
    /// make: other members' are refused by the rules).
    pub fn set_title(&mut self, doc: &str, title: &str) {
        self.edit(doc, |d| {
            automerge::transaction::Transactable::put(d, automerge::ROOT, "title", title)
                .expect("put title");
        });
    }

    /// Creates a one-time invitation to `community`.
    pub fn create_invite(&mut self, community: &str, secret: Hash, expires_at: i64) {
        self.invites.insert(
            secret,
            Invite {
                community: community.to_string(),
                expires_at,
                used_by: None,
            },
        );
    }
}

impl Repo for MemRepo {
    type Error = String;

    fn device(&self) -> Key {
        self.key.verifying_key().to_bytes()
    }

    fn offers_for(&mut self, peer: &Key) -> Result<Vec<Offer>, String> {
        let cs: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.is_member(peer))
            .map(|(c, _)| c.clone())
            .collect();
        Ok(cs
            .into_iter()
            .map(|c| Offer {
                digest: self.digest(&c),
                feed: self.community_feed(&c),
                community: c,
            })
            .collect())
    }

    fn is_member(&mut self, community: &str, peer: &Key) -> Result<bool, String> {
        Ok(self.member(community, peer))
    }

    fn was_removed(&mut self, community: &str, peer: &Key) -> Result<bool, String> {
        Ok(self
            .members
            .get(community)
            .is_some_and(|m| m.removed.contains(peer)))
    }

    fn checkpoint(&mut self, peer: &Key, community: &str) -> Result<u64, String> {
        Ok(self
            .checkpoints
            .get(&(*peer, community.to_string()))
            .copied()
            .unwrap_or(0))
    }

    fn set_checkpoint(&mut self, peer: &Key, community: &str, up_to: u64) -> Result<(), String> {
        self.checkpoints
            .insert((*peer, community.to_string()), up_to);
        Ok(())
    }

    fn set_ack(&mut self, peer: &Key, community: &str, up_to: u64) -> Result<(), String> {
        let a = self.acks.entry((*peer, community.to_string())).or_default();
        *a = (*a).max(up_to);
        Ok(())
    }

    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool), String> {
        // Each document once, at its latest entry, oldest first.
        let mut latest: BTreeMap<&str, u64> = BTreeMap::new();
        for (i, e) in self.feed.iter().enumerate() {
            let seq = i as u64 + 1;
            if seq > since && e.community == community {
                latest.insert(&e.doc, seq);
            }
        }
        let mut rows: Vec<(u64, &str)> = latest.into_iter().map(|(d, s)| (s, d)).collect();
        rows.sort();
        let last = rows.len() <= limit;
        let mut out = Vec::new();
        let mut up_to = since;
        for (seq, id) in rows.into_iter().take(limit) {
            up_to = seq;
            let heads = self
                .docs
                .get(id)
                .map(|s| s.heads.clone())
                .unwrap_or_default();
            out.push(DocHeads {
                id: id.to_string(),
                heads,
            });
        }
        if last {
            up_to = up_to.max(self.feed_head());
        }
        Ok((out, up_to, last))
    }

    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>, String> {
        Ok(self
            .docs
            .get(doc)
            .filter(|s| s.community == community)
            .map(|s| s.heads.clone()))
    }

    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>, String> {
        self.loads += 1;
        let actor = self.actor();
        Ok(self
            .docs
            .get(doc)
            .filter(|s| s.community == community)
            .map(|s| s.doc.clone().with_actor(actor)))
    }

    fn merge(
        &mut self,
        peer: &Key,
        community: &str,
        doc: &str,
        bytes: &[u8],
        sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
    ) -> Result<Merged, String> {
        let (kind, mut d) = match self.docs.get(doc) {
            Some(s) if s.community != community => {
                self.refused_merges += 1;
                return Ok(Merged::NotADocument);
            }
            Some(s) => (Some(s.kind.clone()), s.doc.clone()),
            None => (None, AutoCommit::new()),
        };
        let standing = self
            .members
            .get(community)
            .map(|m| m.standing(doc))
            .unwrap_or_default();
        let Ok(mut checked) = crate::changes::merge_checked(&mut d, doc, bytes, sig_of, &standing)
        else {
            self.refused_merges += 1;
            return Ok(Merged::NotADocument);
        };
        let kind = match kind {
            Some(k) => Some(k),
            None if d.get_heads().is_empty() => None,
            None => kind_of(&d),
        };
        let refused = checked.refused.len() + checked.forks.len();
        let forks = std::mem::take(&mut checked.forks);
        self.refused_changes
            .extend(checked.refused.into_iter().map(|r| (doc.to_string(), r)));
        if !forks.is_empty() {
            self.report_forks(community, doc, &forks)?;
        }
        if d.get_heads().is_empty() && refused > 0 {
            return Ok(Merged::Merged { refused });
        }
        match kind {
            Some(k) if belongs(&d, doc, &k, community) => {
                for s in checked.accepted {
                    self.sigs.insert(s.hash, s.sig);
                }
                self.write(doc, community, &k, d, Some(*peer));
                Ok(Merged::Merged { refused })
            }
            _ => {
                self.refused_merges += 1;
                Ok(Merged::NotADocument)
            }
        }
    }

    fn sigs(&mut self, doc: &str, hashes: Option<&[Hash]>) -> Result<Vec<ChangeSig>, String> {
        let hashes: Vec<Hash> = match hashes {
            Some(h) => h.to_vec(),
            None => match self.docs.get_mut(doc) {
                Some(s) => s
                    .doc
                    .get_changes_meta(&[])
                    .iter()
                    .map(|c| c.hash.0)
                    .collect(),
                None => Vec::new(),
            },
        };
        Ok(hashes
            .into_iter()
            .filter_map(|h| {
                self.sigs.get(&h).map(|sig| ChangeSig {
                    hash: h,
                    sig: sig.clone(),
                })
            })
            .collect())
    }

    fn sync_state(&mut self, peer: &Key, doc: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.states.get(&(*peer, doc.to_string())).cloned())
    }

    fn set_sync_state(&mut self, peer: &Key, doc: &str, state: &[u8]) -> Result<(), String> {
        self.state_writes += 1;
        self.states.insert((*peer, doc.to_string()), state.to_vec());
        Ok(())
    }

    fn peer_has(&mut self, doc: &str, heads: &[Hash]) -> Result<(), String> {
        if let Some(s) = self.docs.get_mut(doc)
            && s.heads == heads
        {
            s.synced_heads = Some(heads.to_vec());
        }
        Ok(())
    }

    fn op_heads(&mut self, community: &str) -> Result<Vec<Hash>, String> {
        Ok(membership::set_heads(
            self.ops.get(community).map_or(&[][..], Vec::as_slice),
        ))
    }

    fn ops_missing(
        &mut self,
        community: &str,
        known: &[Hash],
    ) -> Result<crate::session::OpsMissing, String> {
        let log = self.ops.get(community).map_or(&[][..], Vec::as_slice);
        Ok(membership::missing_for(log, known))
    }

    fn add_ops(&mut self, peer: &Key, community: &str, ops: &[Vec<u8>]) -> Result<usize, String> {
        let held = ops
            .iter()
            .filter_map(|b| membership::verify_held(b))
            .collect();
        Ok(self.append_ops(community, held, Some(*peer)))
    }

    fn report_forks(
        &mut self,
        community: &str,
        doc: &str,
        forks: &[crate::changes::Equivocation],
    ) -> Result<(), String> {
        let mut reported = std::collections::BTreeSet::new();
        for e in forks {
            let held = automerge::Change::from_bytes(e.held.clone()).map_err(|e| e.to_string())?;
            // The store's rule: one report per document and actor, none
            // once proven.
            let at = (doc.to_string(), held.actor_id().to_bytes().to_vec());
            let proven = self
                .members
                .get(community)
                .and_then(|m| m.forks.get(&at))
                .is_some_and(|f| f.seq <= held.seq());
            if proven || !reported.insert(at) {
                continue;
            }
            let sig = self.sigs.get(&held.hash().0).cloned();
            if let Some(proof) = crate::changes::fork_proof(doc, e, sig) {
                self.forks_reported += 1;
                // A member that cannot sign (not a member here) keeps
                // refusing without a proof to pass on.
                let _ = self.sign_op(community, OpKind::Forked { proof });
            }
        }
        Ok(())
    }

    fn redeem_invite(
        &mut self,
        community: &str,
        peer: &Key,
        secret: &Hash,
    ) -> Result<Result<(), String>, String> {
        // The store's rules: a member is done; a removed key needs an
        // admin; a secret is used once and must not have expired (the
        // store deletes a used secret; this keeps it, marked, for tests).
        if self.member(community, peer) {
            return Ok(Ok(()));
        }
        if self
            .members
            .get(community)
            .is_some_and(|m| m.removed.contains(peer))
        {
            return Ok(Err("this device was removed from the community".into()));
        }
        match self.invites.get(secret) {
            Some(invite) if invite.community == community => {
                if invite.used_by.is_some() {
                    return Ok(Err("this invitation has already been used".into()));
                }
                if self.now > invite.expires_at {
                    return Ok(Err("this invitation has expired".into()));
                }
            }
            _ => return Ok(Err("unknown invitation".into())),
        }
        // One transaction in the store: the Add is signed first, and the
        // invitation is marked used only if that worked.
        if let Err(reason) = self.sign_op(
            community,
            OpKind::Add {
                member: *peer,
                role: Role::Member,
            },
        ) {
            return Ok(Err(reason));
        }
        if let Some(invite) = self.invites.get_mut(secret) {
            invite.used_by = Some(*peer);
        }
        Ok(Ok(()))
    }
}
