//! Each document's live Automerge sync state for the life of a session:
//! decoded from its persisted form on first touch, written back when it
//! changes, and kept bounded.

use super::{Repo, SessionError, repo_err};
use crate::membership::Key;
use crate::wire::Hash;
use automerge::ChangeHash;
use automerge::sync::{BloomFilter, Have, State as SyncState};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// One document's Automerge sync with the peer, for the session's life.
pub(super) struct DocSync {
    pub(super) state: SyncState,
    /// The encoded state as last read or written: written again only when
    /// it changes.
    pub(super) persisted: Vec<u8>,
    /// Hashes of the last Automerge message received and sent for this
    /// document. Automerge sync never gives up on changes it believes it
    /// sent: if one was lost, both sides would repeat themselves forever.
    /// The same answer to the same message is not sent twice.
    pub(super) last_in: Option<Hash>,
    pub(super) last_out: Option<Hash>,
}

impl DocSync {
    /// Writes the encoded state (the shared heads) if it changed.
    pub(super) fn persist<R: Repo>(
        &mut self,
        peer: &Key,
        repo: &mut R,
        doc: &str,
    ) -> Result<(), SessionError> {
        let encoded = self.state.encode();
        if encoded != self.persisted {
            repo.set_sync_state(peer, doc, &encoded).map_err(repo_err)?;
            self.persisted = encoded;
        }
        Ok(())
    }
}

/// What a live state keeps between messages of what the peer said (it
/// says it again in every message, so trimming costs at most a change sent
/// twice, never a change missed).
pub(super) const MAX_KEPT_BLOOM: usize = 64 * 1024;
pub(super) const MAX_KEPT_HASHES: usize = 1024;
pub(super) const MAX_KEPT_HAVES: usize = 4;

/// Caps the peer's heads, needs and Bloom filters kept in a live state, so
/// a session's memory is bounded by the documents it touched and their own
/// size, not by what a peer chose to send.
pub(super) fn trim(state: &mut SyncState) {
    if let Some(have) = &mut state.their_have {
        have.truncate(MAX_KEPT_HAVES);
        for h in have.iter_mut() {
            h.last_sync.truncate(MAX_KEPT_HASHES);
            if h.bloom.to_bytes().len() > MAX_KEPT_BLOOM {
                h.bloom = BloomFilter::default();
            }
        }
    }
    if let Some(need) = &mut state.their_need {
        need.truncate(MAX_KEPT_HASHES);
    }
    if let Some(heads) = &mut state.their_heads {
        heads.truncate(MAX_KEPT_HASHES);
    }
}

/// A sync state for a document both sides hold at exactly `heads`: what
/// Automerge would know after a round trip that found nothing to send.
pub(super) fn in_sync_at(heads: Vec<ChangeHash>) -> SyncState {
    let mut state = SyncState::new();
    state.shared_heads.clone_from(&heads);
    state.last_sent_heads.clone_from(&heads);
    state.their_heads = Some(heads.clone());
    state.their_need = Some(vec![]);
    state.their_have = Some(vec![Have {
        last_sync: heads,
        bloom: BloomFilter::default(),
    }]);
    state.have_responded = true;
    state
}

/// The live sync state of `doc`; on first touch, restored from its
/// persisted form (shared heads only: nothing of a previous connection's
/// in-flight bookkeeping), or new.
pub(super) fn live<'a, R: Repo>(
    docs: &'a mut HashMap<String, DocSync>,
    peer: &Key,
    repo: &mut R,
    doc: &str,
) -> Result<&'a mut DocSync, SessionError> {
    Ok(match docs.entry(doc.to_string()) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(v) => {
            let persisted = repo
                .sync_state(peer, doc)
                .map_err(repo_err)?
                .unwrap_or_default();
            let state = SyncState::decode(&persisted).unwrap_or_default();
            v.insert(DocSync {
                state,
                persisted,
                last_in: None,
                last_out: None,
            })
        }
    })
}
