//! Each document's Automerge sync with the peer: the messages it sends,
//! the `Sync` messages it answers, and whether a document now holds what
//! the peer announced.

use super::blooms::check_blooms;
use super::state::{DocSync, in_sync_at, live, trim};
use super::{Merged, Repo, Session, SessionError, repo_err};
use crate::wire::{ChangeSig, Hash, Msg};
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
        let sent_before = live.state.sent_hashes.clone();
        let msg = d.sync().generate_sync_message(&mut live.state);
        live.persist(&self.peer, repo, doc)?;
        let Some(msg) = msg else {
            return Ok(None);
        };
        let hashes = carried(&msg, &sent_before, &live.state.sent_hashes);
        let msg = msg.encode();
        live.last_out = Some(*blake3::hash(&msg).as_bytes());
        let sigs = if hashes.is_empty() {
            Vec::new()
        } else {
            repo.sigs(doc, Some(&hashes)).map_err(repo_err)?
        };
        Ok(Some(Msg::Sync {
            community: community.to_string(),
            id: doc.to_string(),
            msg,
            sigs,
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
    /// changes (those validly signed by members: see `Repo::merge`) and
    /// returns the answer, if there is anything to say. Once a change of
    /// the peer's was refused, this session says nothing more about the
    /// document: Automerge sync would ask for it again and again.
    pub(super) fn on_sync<R: Repo>(
        &mut self,
        repo: &mut R,
        community: &str,
        id: &str,
        msg: &[u8],
        sigs: Vec<ChangeSig>,
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
        live.sigs.extend(sigs);
        // Changes that came before their parents wait in the
        // document's queue, which a document loaded afresh lacks.
        live.requeue_orphans(&mut doc);
        let received = doc.sync().receive_sync_message(&mut live.state, message);
        if let Err(e) = received {
            let automerge::AutomergeError::DuplicateSeqNumber(..) = e else {
                return Err(bad(e.to_string()));
            };
            // The peer's device reused an (actor, seq) held here: keep
            // the proof, take the rest of the message without the forked
            // changes, and say no more about the document.
            let mut message = SyncMessage::decode(msg).map_err(|e| bad(e.to_string()))?;
            let incoming = crate::changes::decode_changes(
                &message.changes.iter().collect::<Vec<_>>().concat(),
            );
            let pending = &live.sigs;
            let forks =
                crate::changes::equivocations(&mut doc, &incoming, &|h| pending.get(h).cloned());
            let forked: std::collections::HashSet<ChangeHash> = forks
                .iter()
                .filter_map(|f| automerge::Change::from_bytes(f.arrived.clone()).ok())
                .map(|c| c.hash())
                .collect();
            message.changes = incoming
                .iter()
                .filter(|c| !forked.contains(&c.hash()))
                .map(|c| c.raw_bytes().to_vec())
                .collect::<Vec<_>>()
                .into();
            doc.sync()
                .receive_sync_message(&mut live.state, message)
                .map_err(|e| bad(e.to_string()))?;
            repo.report_forks(community, id, &forks).map_err(repo_err)?;
            self.muted.insert(id.to_string());
        }
        // The message was consumed: its changes are decoded again from the
        // frame only when something is left waiting.
        live.keep_orphans(&mut doc, || {
            SyncMessage::decode(msg)
                .map(|m| m.changes.iter().map(<[u8]>::to_vec).collect())
                .unwrap_or_default()
        });
        let mut after = doc.get_heads();
        if after != before {
            let changes = doc.save_after(&before);
            let pending = &live.sigs;
            let sig_of = |h: &Hash| pending.get(h).cloned();
            match repo
                .merge(&peer, community, id, &changes, &sig_of)
                .map_err(repo_err)?
            {
                Merged::NotADocument => {
                    return Err(SessionError::BadDoc {
                        community: community.to_string(),
                        doc: id.to_string(),
                    });
                }
                Merged::Merged { refused: 0 } => {}
                Merged::Merged { .. } => {
                    self.muted.insert(id.to_string());
                    after = repo
                        .heads(community, id)
                        .map_err(repo_err)?
                        .unwrap_or_default()
                        .into_iter()
                        .map(ChangeHash)
                        .collect();
                    after.sort();
                }
            }
            let held: std::collections::HashSet<ChangeHash> = doc
                .get_changes_meta(&before)
                .into_iter()
                .map(|c| c.hash)
                .collect();
            live.sigs.retain_missing(|h| held.contains(&ChangeHash(*h)));
        }
        if self.muted.contains(id) {
            live.last_in = Some(incoming);
            trim(&mut live.state);
            live.persist(&peer, repo, id)?;
            return Ok(out);
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
        let sent_before = live.state.sent_hashes.clone();
        let reply = if after.is_empty() && peer_holds_nothing {
            None
        } else {
            doc.sync().generate_sync_message(&mut live.state)
        };
        if let Some(reply) = reply {
            let hashes = carried(&reply, &sent_before, &live.state.sent_hashes);
            let reply = reply.encode();
            let hash = *blake3::hash(&reply).as_bytes();
            if live.last_in == Some(incoming) && live.last_out == Some(hash) {
                // The same answer to the same message: the peer
                // learns nothing from it, and sending it would
                // only start the same exchange again.
                tracing::debug!(doc = %id, "Automerge sync made no progress");
            } else {
                live.last_out = Some(hash);
                let sigs = if hashes.is_empty() {
                    Vec::new()
                } else {
                    repo.sigs(id, Some(&hashes)).map_err(repo_err)?
                };
                out.push(Msg::Sync {
                    community: community.to_string(),
                    id: id.to_string(),
                    msg: reply,
                    sigs,
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
        if self.muted.contains(doc) {
            // The peer's heads build on a change refused here: what could
            // be taken was; this side will not hold those heads this
            // session.
            pull.pending.remove(doc);
            pull.held_back = true;
            return Ok(());
        }
        // Usually the document now holds exactly the announced heads: the
        // index says so without decoding it.
        // The peer's latest sync message supersedes its announcement (it
        // may since have dropped changes its membership no longer counts).
        let latest: Option<Vec<Hash>> = self
            .docs
            .get(doc)
            .and_then(|l| l.state.their_heads.as_deref())
            .map(to_hashes);
        let wanted = match latest {
            Some(t) if !t.is_empty() => t,
            _ => wanted.clone(),
        };
        let wanted = &wanted;
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
            if let Some(pull) = self.pulls.get_mut(community) {
                pull.pending.remove(doc);
            }
            repo.peer_has(doc, &heads).map_err(repo_err)?;
        }
        Ok(())
    }
}

/// Hashes of the changes an outgoing sync message carries (for their
/// signatures): those Automerge recorded as sent while making it, and any
/// it sent again (a change per chunk, or a bundle of them).
fn carried(
    msg: &SyncMessage,
    sent_before: &std::collections::BTreeSet<ChangeHash>,
    sent_after: &std::collections::BTreeSet<ChangeHash>,
) -> Vec<Hash> {
    let mut out: Vec<Hash> = sent_after.difference(sent_before).map(|h| h.0).collect();
    for chunk in msg.changes.iter() {
        if let Ok(c) = automerge::Change::from_bytes(chunk.to_vec()) {
            out.push(c.hash().0);
        } else if let Ok(b) = automerge::Bundle::try_from(chunk)
            && let Ok(changes) = b.to_changes()
        {
            out.extend(changes.iter().map(|c| c.hash().0));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
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

/// A document too big for one frame, as `DocPart`s: its changes in
/// `get_changes` order (each one after its dependencies, so every prefix
/// merges on its own), grouped so that a part's change bytes and
/// signatures come to at most [`PART`] (a single change bigger than that
/// goes alone; changes over [`crate::changes::MAX_CHANGE`] are never
/// accepted, so it still fits a frame).
pub(super) fn parts(
    community: &str,
    id: &str,
    doc: &mut automerge::AutoCommit,
    sigs: Vec<crate::wire::ChangeSig>,
) -> Vec<Msg> {
    use crate::wire::{PART, SIG_BYTES};
    let mut sig_of: std::collections::HashMap<Hash, Vec<u8>> =
        sigs.into_iter().map(|s| (s.hash, s.sig)).collect();
    let mut out = Vec::new();
    let mut bytes = Vec::new();
    let mut part_sigs = Vec::new();
    for mut c in doc.get_changes(&[]) {
        let raw = c.bytes();
        if !bytes.is_empty() && bytes.len() + raw.len() + (part_sigs.len() + 1) * SIG_BYTES > PART {
            out.push(Msg::DocPart {
                community: community.to_string(),
                id: id.to_string(),
                bytes: std::mem::take(&mut bytes),
                sigs: std::mem::take(&mut part_sigs),
                last: false,
            });
        }
        bytes.extend_from_slice(&raw);
        let hash = c.hash().0;
        if let Some(sig) = sig_of.remove(&hash) {
            part_sigs.push(crate::wire::ChangeSig { hash, sig });
        }
    }
    out.push(Msg::DocPart {
        community: community.to_string(),
        id: id.to_string(),
        bytes,
        sigs: part_sigs,
        last: true,
    });
    out
}
