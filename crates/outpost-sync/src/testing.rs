//! An in-memory [`Repo`] for fuzzing and protocol tests: no SQLite, same
//! rules (membership gate, documents kept per community).

use crate::membership::Key;
use crate::session::{Repo, Session};
use crate::wire::{DocHeads, Hash, Msg, Offer};
use automerge::{AutoCommit, ChangeHash};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub struct MemRepo {
    pub members: BTreeMap<String, BTreeSet<Key>>,
    pub docs: BTreeMap<(String, String), AutoCommit>,
    pub feed: Vec<(u64, String, String)>,
    pub checkpoints: BTreeMap<(Key, String), u64>,
    pub states: BTreeMap<(Key, String), Vec<u8>>,
}

fn sorted(h: Vec<ChangeHash>) -> Vec<Hash> {
    let mut v: Vec<Hash> = h.into_iter().map(|c| c.0).collect();
    v.sort();
    v
}

impl MemRepo {
    pub fn put(&mut self, community: &str, id: &str, doc: AutoCommit) {
        self.docs.insert((community.into(), id.into()), doc);
        let seq = self.feed.len() as u64 + 1;
        self.feed.push((seq, community.into(), id.into()));
    }

    fn digest(&mut self, community: &str) -> Hash {
        let mut d = [0u8; 32];
        for ((c, id), doc) in self.docs.iter_mut() {
            if c == community {
                crate::xor(&mut d, &crate::digest_entry(id, &sorted(doc.get_heads())));
            }
        }
        d
    }
}

impl Repo for MemRepo {
    type Error = String;

    fn offers_for(&mut self, peer: &Key) -> Result<Vec<Offer>, String> {
        let cs: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(peer))
            .map(|(c, _)| c.clone())
            .collect();
        let feed = self.feed.len() as u64;
        Ok(cs
            .into_iter()
            .map(|c| Offer {
                digest: self.digest(&c),
                community: c,
                feed,
            })
            .collect())
    }

    fn is_member(&mut self, community: &str, peer: &Key) -> Result<bool, String> {
        Ok(self
            .members
            .get(community)
            .is_some_and(|m| m.contains(peer)))
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

    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool), String> {
        let mut seen = BTreeMap::new();
        for (seq, c, id) in &self.feed {
            if c == community && *seq > since {
                seen.insert(id.clone(), *seq);
            }
        }
        let mut ids: Vec<(u64, String)> = seen.into_iter().map(|(id, s)| (s, id)).collect();
        ids.sort();
        let last = ids.len() <= limit;
        let mut out = Vec::new();
        let mut up_to = since;
        for (s, id) in ids.into_iter().take(limit) {
            up_to = s;
            let heads = self
                .docs
                .get_mut(&(community.to_string(), id.clone()))
                .map(|d| sorted(d.get_heads()))
                .unwrap_or_default();
            out.push(DocHeads { id, heads });
        }
        if last {
            up_to = up_to.max(self.feed.len() as u64);
        }
        Ok((out, up_to, last))
    }

    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>, String> {
        Ok(self
            .docs
            .get_mut(&(community.to_string(), doc.to_string()))
            .map(|d| sorted(d.get_heads())))
    }

    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>, String> {
        Ok(self
            .docs
            .get(&(community.to_string(), doc.to_string()))
            .cloned())
    }

    fn merge(
        &mut self,
        _peer: &Key,
        community: &str,
        doc: &str,
        bytes: &[u8],
    ) -> Result<bool, String> {
        let mut d = self
            .docs
            .get(&(community.to_string(), doc.to_string()))
            .cloned()
            .unwrap_or_default();
        if d.load_incremental(bytes).is_err() {
            return Ok(false);
        }
        self.put(community, doc, d);
        Ok(true)
    }

    fn set_ack(&mut self, _peer: &Key, _community: &str, _up_to: u64) -> Result<(), String> {
        Ok(())
    }

    fn sync_state(&mut self, peer: &Key, doc: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.states.get(&(*peer, doc.to_string())).cloned())
    }

    fn set_sync_state(&mut self, peer: &Key, doc: &str, state: &[u8]) -> Result<(), String> {
        self.states.insert((*peer, doc.to_string()), state.to_vec());
        Ok(())
    }

    fn peer_has(&mut self, _doc: &str, _heads: &[Hash]) -> Result<(), String> {
        Ok(())
    }

    fn redeem_invite(
        &mut self,
        _c: &str,
        _p: &Key,
        _s: &Hash,
    ) -> Result<Result<(), String>, String> {
        Ok(Err("unknown invitation".into()))
    }
}

/// The peer key fuzz inputs speak as (a member of community "c").
pub const FUZZ_PEER: Key = [1; 32];

/// A repo holding community "c" (with `FUZZ_PEER` as a member) and one
/// document "d", so fuzzed messages reach the interesting code.
pub fn fuzz_repo() -> MemRepo {
    use automerge::transaction::Transactable;
    let mut repo = MemRepo::default();
    repo.members
        .insert("c".into(), [FUZZ_PEER].into_iter().collect());
    let mut doc = AutoCommit::new();
    let _ = doc.put(automerge::ROOT, "title", "hello");
    doc.commit();
    repo.put("c", "d", doc);
    repo
}

/// Decodes `data` as frames and feeds every message to a session: any
/// input may be refused, none may panic. (The fuzz target and the corpus
/// replay test both call this.)
pub fn fuzz_one(data: &[u8]) {
    let mut repo = fuzz_repo();
    let mut session = Session::new(FUZZ_PEER);
    let _ = session.start(&mut repo, &[]);
    let mut d = crate::wire::Decoder::default();
    d.push(data);
    let mut first = true;
    loop {
        match d.next_msg() {
            Ok(Some(msg)) => {
                // Let the fuzzer skip the handshake half the time.
                if first
                    && !matches!(msg, Msg::Hello { .. })
                    && data.first().is_some_and(|b| b & 1 == 1)
                {
                    let _ = session.handle(
                        &mut repo,
                        Msg::Hello {
                            version: crate::wire::PROTOCOL_VERSION,
                            offers: vec![],
                        },
                    );
                }
                first = false;
                if session.handle(&mut repo, msg).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}
