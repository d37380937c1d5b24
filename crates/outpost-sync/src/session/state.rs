//! Each document's live Automerge sync state for the life of a session:
//! decoded from its persisted form on first touch, written back when it
//! changes, and kept bounded.

use super::{Repo, SessionError, repo_err};
use crate::changes::PendingSigs;
use crate::membership::Key;
use crate::wire::Hash;
use automerge::sync::{BloomFilter, Have, State as SyncState};
use automerge::{AutoCommit, ChangeHash};
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
    /// Changes received whose parents have not arrived yet. Automerge
    /// keeps such changes in the document's queue and asks the peer for
    /// the parents; the session loads each document afresh from the
    /// store, so it keeps them here between messages. (A Bloom filter
    /// false positive — about one change in a hundred — makes the peer
    /// hold back a parent it believes this side has.)
    pub(super) orphans: Vec<Vec<u8>>,
    /// Signatures the peer sent for changes not merged yet (those waiting
    /// for their parents); the rest are stored with their changes.
    pub(super) sigs: PendingSigs,
}

/// What a document's waiting changes may hold at most; past it they are
/// dropped and the peer is asked to start over (it then sends them again).
pub(super) const MAX_ORPHAN_BYTES: usize = 8 * 1024 * 1024;

impl DocSync {
    /// A state with nothing in flight or waiting.
    pub(super) fn new(state: SyncState, persisted: Vec<u8>) -> Self {
        Self {
            state,
            persisted,
            last_in: None,
            last_out: None,
            orphans: Vec::new(),
            sigs: PendingSigs::default(),
        }
    }

    /// Puts the changes still waiting for their parents back in `doc`'s
    /// queue (any whose parents are now there are applied).
    pub(super) fn requeue_orphans(&self, doc: &mut AutoCommit) {
        for change in &self.orphans {
            // Each was accepted by Automerge once; one that fails now is
            // simply asked for again.
            let _ = doc.load_incremental(change);
        }
    }

    /// After a message: while `doc` still has changes waiting for their
    /// parents, keeps the changes that `arrived` (with what was kept
    /// before), within a bound; once nothing waits, forgets them. `arrived`
    /// is called only then (rarely), so the common case copies nothing.
    pub(super) fn keep_orphans(
        &mut self,
        doc: &mut AutoCommit,
        arrived: impl FnOnce() -> Vec<Vec<u8>>,
    ) {
        if doc.get_missing_deps(&[]).is_empty() {
            self.orphans.clear();
            return;
        }
        self.orphans.extend(arrived());
        if self.orphans.iter().map(Vec::len).sum::<usize>() > MAX_ORPHAN_BYTES {
            tracing::debug!("dropping changes waiting for their parents; asking for a resend");
            self.orphans.clear();
            self.state.needs_reset = true;
        }
    }

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
            v.insert(DocSync::new(state, persisted))
        }
    })
}
