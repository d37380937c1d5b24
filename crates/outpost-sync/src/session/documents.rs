//! Each document's Automerge sync with the peer: the messages it sends,
//! the `Sync` messages it answers, and whether a document now holds what
//! the peer announced.

use super::blooms::check_blooms;
use super::state::{DocSync, in_sync_at, live, trim};
use super::{Repo, Session, SessionError, repo_err};
use crate::wire::{Hash, Msg};
use automerge::sync::{Message as SyncMessage, SyncDoc};
use automerge::{AutoCommit, ChangeHash};

impl Session {
    /// The next Automerge sync message for `doc` (held here as `d`), if
    /// there is anything to say.
    pub(super) fn sync_message<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
        d: &mut AutoCommit,
    ) -> Result<Option<Msg>, SessionError> {
        let live = live(&mut self.docs, &self.peer, repo, doc)?;
        let msg = d
            .sync()
            .generate_sync_message(&mut live.state)
            .map(|m| m.encode());
        live.persist(&self.peer, repo, doc)?;
        if let Some(m) = &msg {
            live.last_out = Some(*blake3::hash(m).as_bytes());
        }
        Ok(msg.map(|msg| Msg::Sync {
            community: community.to_string(),
            id: doc.to_string(),
            msg,
        }))
    }

    /// After `doc` arrived whole: if it is exactly what the peer announced,
    /// both sides hold the same heads, and its sync state says so. (Without
    /// this, the document entering the feed would come back through
    /// `local_change` and cost a round trip to learn what is known.)
    pub(super) fn seed_state<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
    ) -> Result<(), SessionError> {
        let Some(announced) = self.pulls.get(community).and_then(|p| p.pending.get(doc)) else {
            return Ok(());
        };
        let Some(held) = repo.heads(community, doc).map_err(repo_err)? else {
            return Ok(());
        };
        if held != *announced || held.is_empty() || self.docs.contains_key(doc) {
            return Ok(());
        }
        let heads: Vec<ChangeHash> = held.iter().map(|h| ChangeHash(*h)).collect();
        let persisted = repo
            .sync_state(&self.peer, doc)
            .map_err(repo_err)?
            .unwrap_or_default();
        let mut live = DocSync::new(in_sync_at(heads), persisted);
        live.persist(&self.peer, repo, doc)?;
        self.docs.insert(doc.to_string(), live);
        Ok(())
    }

    /// One Automerge sync message for `id` from the peer: applies its
    /// changes and returns the answer, if there is anything to say.
    pub(super) fn on_sync<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        id: &str,
        msg: &[u8],
    ) -> Result<Vec<Msg>, SessionError> {
        let mut out = Vec::new();
        let bad = |reason: String| SessionError::BadSync {
            doc: id.to_string(),
            reason,
        };
        let message = SyncMessage::decode(msg).map_err(|e| bad(e.to_string()))?;
        let incoming = *blake3::hash(msg).as_bytes();
        check_blooms(&message).map_err(bad)?;
        let mut doc = repo
            .load(community, id)
            .map_err(repo_err)?
            .unwrap_or_default();
        let before = doc.get_heads();
        let peer_holds_nothing = message.heads.is_empty();
        let peer = self.peer;
        let live = live(&mut self.docs, &peer, repo, id)?;
        // Changes that came before their parents wait in the
        // document's queue, which a document loaded afresh lacks.
        live.requeue_orphans(&mut doc);
        doc.sync()
            .receive_sync_message(&mut live.state, message)
            .map_err(|e| bad(e.to_string()))?;
        // The message was consumed: its changes are decoded again from the
        // frame only when something is left waiting.
        live.keep_orphans(&mut doc, || {
            SyncMessage::decode(msg)
                .map(|m| m.changes.iter().map(<[u8]>::to_vec).collect())
                .unwrap_or_default()
        });
        let after = doc.get_heads();
        if after != before {
            let changes = doc.save_after(&before);
            if !repo
                .merge(&peer, community, id, &changes)
                .map_err(repo_err)?
            {
                return Err(SessionError::BadDoc {
                    community: community.to_string(),
                    doc: id.to_string(),
                });
            }
        }
        if !after.is_empty()
            && live
                .state
                .their_heads
                .as_deref()
                .is_some_and(|t| to_hashes(t) == to_hashes(&after))
        {
            repo.peer_has(id, &to_hashes(&after)).map_err(repo_err)?;
        }
        // Neither side holds it: nothing to say (and two sessions
        // with nothing would otherwise answer each other forever).
        let reply = if after.is_empty() && peer_holds_nothing {
            None
        } else {
            doc.sync().generate_sync_message(&mut live.state)
        };
        if let Some(reply) = reply {
            let reply = reply.encode();
            let hash = *blake3::hash(&reply).as_bytes();
            if live.last_in == Some(incoming) && live.last_out == Some(hash) {
                // The same answer to the same message: the peer
                // learns nothing from it, and sending it would
                // only start the same exchange again.
                tracing::debug!(doc = %id, "Automerge sync made no progress");
            } else {
                live.last_out = Some(hash);
                out.push(Msg::Sync {
                    community: community.to_string(),
                    id: id.to_string(),
                    msg: reply,
                });
            }
        }
        live.last_in = Some(incoming);
        if after.is_empty() {
            // Not held here (yet): nothing worth keeping or
            // persisting, whatever ids a peer makes up.
            self.docs.remove(id);
        } else {
            trim(&mut live.state);
            live.persist(&peer, repo, id)?;
        }
        Ok(out)
    }

    /// After new data for `doc`: drop it from the pending set once it holds
    /// every head the peer announced.
    pub(super) fn reconciled<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        doc: &str,
    ) -> Result<(), SessionError> {
        let Some(pull) = self.pulls.get_mut(community) else {
            return Ok(());
        };
        let Some(wanted) = pull.pending.get(doc) else {
            return Ok(());
        };
        // Usually the document now holds exactly the announced heads: the
        // index says so without decoding it.
        let have_all = match repo.heads(community, doc).map_err(repo_err)? {
            None => return Ok(()),
            Some(held) if held == *wanted => true,
            Some(_) => match repo.load(community, doc).map_err(repo_err)? {
                Some(mut d) => holds_all(&mut d, wanted),
                None => return Ok(()),
            },
        };
        if have_all {
            let heads = wanted.clone();
            pull.pending.remove(doc);
            repo.peer_has(doc, &heads).map_err(repo_err)?;
        }
        Ok(())
    }
}

pub(super) fn to_hashes(h: &[ChangeHash]) -> Vec<Hash> {
    let mut v: Vec<Hash> = h.iter().map(|c| c.0).collect();
    v.sort();
    v
}

/// Whether `d` holds every change in `hashes` (without building them, as
/// `get_change_by_hash` would).
pub(super) fn holds_all(d: &mut AutoCommit, hashes: &[Hash]) -> bool {
    let wanted: Vec<ChangeHash> = hashes.iter().map(|h| ChangeHash(*h)).collect();
    d.get_missing_deps(&wanted).is_empty()
}
