//! Writes: the transaction a change runs in, inserting, saving, merging a
//! peer's bytes, and loading a document for editing.

use crate::{COMPACT_AFTER_CHUNKS, Cached, Loaded, Result, StoreError, encode_heads, index, sync};
use automerge::{ActorId, AutoCommit, AutomergeError, ChangeHash};
use outpost_sync::changes::{ChangeSig, Refusal};
use outpost_sync::wire::Hash;
use rusqlite::{Connection, OptionalExtension, params};

/// The largest a document may grow from peers' changes (as stored:
/// compressed snapshot and chunks). A case, question or protocol of text
/// is a few hundred KB after years of edits; attachments will not live
/// inside documents.
pub const MAX_DOC: usize = 64 << 20;

/// A write transaction in progress.
pub struct Writer<'a> {
    pub(crate) guard: Guard<'a>,
    pub(crate) actor: Option<ActorId>,
    /// Keys that sign the changes made in this transaction.
    pub(crate) signers: Vec<ed25519_dalek::SigningKey>,
    /// The peer whose data is being merged (recorded in the feed), if any.
    pub(crate) origin: Option<String>,
}

pub(crate) enum Guard<'a> {
    Tx(rusqlite::Transaction<'a>),
    Sp(rusqlite::Savepoint<'a>),
}

impl Writer<'_> {
    pub(crate) fn c(&self) -> &Connection {
        match &self.guard {
            Guard::Tx(t) => t,
            Guard::Sp(s) => s,
        }
    }

    /// Loads a document for editing, inside the transaction.
    pub fn load(&self, id: &str) -> Result<Loaded> {
        load_doc(self.c(), id, self.actor.as_ref())
    }

    pub fn resolve_kind(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .c()
            .row("SELECT kind FROM docs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    /// Stores a brand-new document and indexes it.
    pub fn insert(&mut self, id: &str, kind: &str, doc: &mut AutoCommit) -> Result<()> {
        let exists: bool = self.c().row(
            "SELECT EXISTS(SELECT 1 FROM docs WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::Exists(id.to_string()));
        }
        self.sign_local(id, doc, &[])?;
        let snapshot = doc.save();
        let heads = encode_heads(&doc.get_heads());
        self.c().exec(
            "INSERT INTO docs(id, kind, snapshot, chunks, heads) VALUES (?1, ?2, ?3, 0, ?4)",
            params![id, kind, snapshot, heads],
        )?;
        self.after_change(id, kind, doc, None, &heads)
    }

    /// Appends the changes made to `loaded.doc` since it was loaded. Returns
    /// false (and writes nothing) when there were none.
    pub fn save(&mut self, id: &str, loaded: &mut Loaded) -> Result<bool> {
        let new_heads = loaded.doc.get_heads();
        if new_heads == loaded.base {
            return Ok(false);
        }
        self.sign_local(id, &mut loaded.doc, &loaded.base.clone())?;
        let chunk = loaded.doc.save_after(&loaded.base);
        let (kind, old_heads): (String, Vec<u8>) =
            self.c()
                .row("SELECT kind, heads FROM docs WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        let heads = encode_heads(&new_heads);
        let chunks: i64 = self.c().row(
            "UPDATE docs SET chunks = chunks + 1, heads = ?2 WHERE id = ?1 RETURNING chunks",
            params![id, heads],
            |r| r.get(0),
        )?;
        if chunks >= COMPACT_AFTER_CHUNKS {
            self.write_snapshot(id, &mut loaded.doc)?;
        } else {
            self.c().exec(
                "INSERT INTO chunks(doc_id, n, data) VALUES (?1, ?2, ?3)",
                params![id, chunks, chunk],
            )?;
        }
        loaded.base = new_heads;
        self.after_change(id, &kind, &loaded.doc, Some(&old_heads), &heads)?;
        Ok(true)
    }

    /// Signs the changes made here since `base` and stores the signatures
    /// (a merge stores the peer's instead). Without keys (a store used on
    /// its own, as in its tests) nothing is signed.
    fn sign_local(&mut self, id: &str, doc: &mut AutoCommit, base: &[ChangeHash]) -> Result<()> {
        if self.origin.is_some() || self.signers.is_empty() {
            return Ok(());
        }
        let sigs = outpost_sync::changes::sign_new(id, doc, base, &self.signers)
            .map_err(StoreError::Unsigned)?;
        self.put_sigs(id, doc, base, &sigs)
    }

    /// Stores the signatures of `doc`'s changes since `base` (those
    /// `sigs` has), with whose changes they are.
    fn put_sigs(
        &mut self,
        id: &str,
        doc: &mut AutoCommit,
        base: &[ChangeHash],
        sigs: &[ChangeSig],
    ) -> Result<()> {
        if sigs.is_empty() {
            return Ok(());
        }
        let by_hash: std::collections::HashMap<&Hash, &Vec<u8>> =
            sigs.iter().map(|s| (&s.hash, &s.sig)).collect();
        let mut st = self.c().prepare_cached(
            "INSERT INTO change_sigs(hash, doc_id, sig, device, actor, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(hash) DO NOTHING",
        )?;
        for c in doc.get_changes_meta(base) {
            let Some(sig) = by_hash.get(&c.hash.0) else {
                continue;
            };
            let device = outpost_sync::changes::device_of(&c.actor).map(|d| d.to_vec());
            st.execute(params![
                c.hash.0.to_vec(),
                id,
                sig,
                device,
                c.actor.to_bytes(),
                c.seq as i64
            ])?;
        }
        Ok(())
    }

    fn write_snapshot(&mut self, id: &str, doc: &mut AutoCommit) -> Result<()> {
        let snapshot = doc.save();
        self.c()
            .exec("DELETE FROM chunks WHERE doc_id = ?1", [id])?;
        self.c().exec(
            "UPDATE docs SET snapshot = ?2, chunks = 0 WHERE id = ?1",
            params![id, snapshot],
        )?;
        Ok(())
    }

    /// Replaces document `id` with `doc`, a rebuilt history that may lack
    /// changes the old one had (`Writer::recheck`): one snapshot,
    /// reindexed, in the digest and the feed; peers' sync states for it
    /// start over. A `doc` with no changes left removes the document.
    pub(crate) fn replace_doc(&mut self, id: &str, doc: &mut AutoCommit) -> Result<()> {
        let (kind, old_heads, community): (String, Vec<u8>, String) = self.c().row(
            "SELECT kind, heads, community_id FROM docs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        self.c()
            .exec("DELETE FROM sync_states WHERE doc_id = ?1", [id])?;
        self.c()
            .exec("UPDATE docs SET synced_heads = NULL WHERE id = ?1", [id])?;
        if doc.get_heads().is_empty() {
            sync::toggle_digest(self.c(), id, &community, &old_heads)?;
            let rid: Option<i64> = self
                .c()
                .row("SELECT rid FROM items WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if let Some(rid) = rid {
                self.c().exec("DELETE FROM fts WHERE rowid = ?1", [rid])?;
            }
            for sql in [
                "DELETE FROM items WHERE id = ?1",
                "DELETE FROM subitems WHERE item_id = ?1",
                "DELETE FROM chunks WHERE doc_id = ?1",
                "DELETE FROM change_sigs WHERE doc_id = ?1",
                "DELETE FROM docs WHERE id = ?1",
            ] {
                self.c().exec(sql, [id])?;
            }
            return Ok(());
        }
        let heads = encode_heads(&doc.get_heads());
        self.write_snapshot(id, doc)?;
        self.c().exec(
            "UPDATE docs SET heads = ?2 WHERE id = ?1",
            params![id, heads],
        )?;
        self.after_change(id, &kind, doc, Some(&old_heads), &heads)
    }

    /// Rewrites a document as one snapshot. Heads and content are unchanged.
    pub fn compact(&mut self, id: &str) -> Result<()> {
        let mut loaded = self.load(id)?;
        self.write_snapshot(id, &mut loaded.doc)
    }

    fn after_change(
        &mut self,
        id: &str,
        kind: &str,
        doc: &AutoCommit,
        old_heads: Option<&[u8]>,
        heads: &[u8],
    ) -> Result<()> {
        let community = index::reindex(self.c(), id, kind, doc)?;
        sync::after_change(
            self.c(),
            id,
            &community,
            old_heads,
            heads,
            self.origin.as_deref(),
        )
    }

    /// Merges Automerge bytes (a whole document or changes) received from a
    /// peer into document `id` of `community`, with the signatures `sig_of`
    /// gives: a new change is kept only if its device signed it and is (or
    /// was) a member of the community (`outpost_sync::changes::
    /// merge_checked`); refused ones are recorded in `refused_changes`.
    /// [`MergeOutcome::NotADocument`], writing nothing, when the result is
    /// not a well-formed document of that community (the caller should
    /// roll back).
    pub fn merge_remote(
        &mut self,
        community: &str,
        id: &str,
        bytes: &[u8],
        from: &str,
        sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
    ) -> Result<MergeOutcome> {
        self.origin = Some(from.to_string());
        let mut forks = Vec::new();
        let r = self.merge_remote_inner(community, id, bytes, from, sig_of, &mut forks);
        self.origin = None;
        // After the merge is written: the report checks documents again.
        if r.is_ok() && !forks.is_empty() {
            self.report_forks(community, id, &forks)?;
        }
        r
    }

    fn merge_remote_inner(
        &mut self,
        community: &str,
        id: &str,
        bytes: &[u8],
        from: &str,
        sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
        forks: &mut Vec<outpost_sync::changes::Equivocation>,
    ) -> Result<MergeOutcome> {
        let existing: Option<(String, String)> = self
            .c()
            .row(
                "SELECT kind, community_id FROM docs WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (kind, mut loaded) = match existing {
            Some((_, c)) if c != community => return Ok(MergeOutcome::NotADocument),
            Some((kind, _)) => (Some(kind), self.load(id)?),
            None => (
                None,
                Loaded {
                    doc: AutoCommit::new(),
                    base: Vec::new(),
                },
            ),
        };
        // A document may not grow past MAX_DOC from a peer's bytes (what
        // is held, as stored, and what arrives, as sent): refused whole,
        // with the reason logged; the session stops syncing it.
        let held: i64 = self.c().row(
            "SELECT COALESCE((SELECT LENGTH(snapshot) FROM docs WHERE id = ?1), 0)
                  + COALESCE((SELECT SUM(LENGTH(data)) FROM chunks WHERE doc_id = ?1), 0)",
            [id],
            |r| r.get(0),
        )?;
        if held.max(0) as usize + bytes.len() > MAX_DOC {
            tracing::warn!(
                doc = id,
                from,
                "refused changes that would grow a document past {} MiB",
                MAX_DOC >> 20
            );
            return Ok(MergeOutcome::Merged { refused: 1 });
        }
        let standing = crate::log::standing(self.c(), community, id)?;
        let Ok(mut checked) =
            outpost_sync::changes::merge_checked(&mut loaded.doc, id, bytes, sig_of, &standing)
        else {
            return Ok(MergeOutcome::NotADocument);
        };
        let refused = checked.refused.len() + checked.forks.len();
        self.record_refused(community, id, from, &checked.refused)?;
        *forks = std::mem::take(&mut checked.forks);
        if loaded.doc.get_heads() == loaded.base {
            // Nothing new was kept (all of it refused, or known already).
            return Ok(MergeOutcome::Merged { refused });
        }
        let kind = match kind {
            Some(kind) => kind,
            None => match index::kind_of(&loaded.doc) {
                Some(kind) => kind,
                None => return Ok(MergeOutcome::NotADocument),
            },
        };
        if !index::belongs(&loaded.doc, id, &kind, community) {
            return Ok(MergeOutcome::NotADocument);
        }
        let base = loaded.base.clone();
        self.put_sigs(id, &mut loaded.doc, &base, &checked.accepted)?;
        self.c().exec(
            "DELETE FROM refused_changes WHERE doc_id = ?1 AND hash IN (SELECT hash FROM change_sigs WHERE doc_id = ?1)",
            [id],
        )?;
        if existing_doc(self.c(), id)? {
            self.save(id, &mut loaded)?;
        } else {
            self.insert(id, &kind, &mut loaded.doc)?;
        }
        Ok(MergeOutcome::Merged { refused })
    }

    pub(crate) fn record_refused(
        &mut self,
        community: &str,
        id: &str,
        from: &str,
        refused: &[Refusal],
    ) -> Result<()> {
        let mut st = self.c().prepare_cached(
            "INSERT INTO refused_changes(hash, doc_id, community_id, actor, device, reason, origin, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, unixepoch('subsec') * 1000)
             ON CONFLICT(hash) DO UPDATE SET reason = excluded.reason, origin = excluded.origin, at = excluded.at",
        )?;
        if refused.is_empty() {
            return Ok(());
        }
        let own: Vec<[u8; 32]> = self
            .signers
            .iter()
            .map(|k| k.verifying_key().to_bytes())
            .collect();
        for r in refused {
            tracing::info!(doc = id, reason = r.reason, "refused a change from {from}");
            st.execute(params![
                r.hash.to_vec(),
                id,
                community,
                r.actor,
                r.device.map(hex::encode),
                r.reason,
                from
            ])?;
            // A change of this device's dropped: its actor's numbering in
            // this document is spent (kept for good, unlike the list).
            if r.device.is_some_and(|d| own.contains(&d))
                && let Ok(actor) = hex::decode(&r.actor)
            {
                self.c().exec(
                    "INSERT INTO spent_actors(doc_id, actor) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![id, actor],
                )?;
            }
        }
        // Kept for admins to read, not for ever: the newest
        // MAX_REFUSED_KEPT per community (junk costs a peer nothing to
        // send).
        self.c().exec(
            "DELETE FROM refused_changes WHERE community_id = ?1 AND rowid NOT IN
               (SELECT rowid FROM refused_changes WHERE community_id = ?1
                ORDER BY at DESC, rowid DESC LIMIT ?2)",
            params![community, MAX_REFUSED_KEPT],
        )?;
        Ok(())
    }
}

fn existing_doc(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn.row(
        "SELECT EXISTS(SELECT 1 FROM docs WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?)
}

/// Refused changes kept per community (newest first).
pub const MAX_REFUSED_KEPT: i64 = 10_000;

/// What [`Writer::merge_remote`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOutcome {
    /// Not a well-formed document of the community: nothing may be kept.
    NotADocument,
    /// Merged, leaving out `refused` changes.
    Merged { refused: usize },
}

pub(crate) fn load_doc(conn: &Connection, id: &str, actor: Option<&ActorId>) -> Result<Loaded> {
    let snapshot: Option<Vec<u8>> = conn
        .row("SELECT snapshot FROM docs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    let snapshot = snapshot.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
    let am = |source: AutomergeError| StoreError::Automerge {
        id: id.to_string(),
        source: Box::new(source),
    };
    let mut doc = AutoCommit::load(&snapshot).map_err(am)?;
    let mut st = conn.prepare_cached("SELECT data FROM chunks WHERE doc_id = ?1 ORDER BY n")?;
    let mut rows = st.query([id])?;
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(0)?;
        doc.load_incremental(&data).map_err(am)?;
    }
    if let Some(a) = actor {
        doc.set_actor(unspent_actor(conn, id, a)?);
    }
    let base = doc.get_heads();
    Ok(Loaded { doc, base })
}

/// The actor to write `id` under: `actor`, or its successor when some of
/// its changes to `id` were dropped (a membership change left them out,
/// or a peer's copy of them was refused: `spent_actors`), so that no
/// (actor, seq) is used for two different changes.
fn unspent_actor(conn: &Connection, id: &str, actor: &ActorId) -> Result<ActorId> {
    let mut st = conn.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM spent_actors WHERE doc_id = ?1 AND actor = ?2)",
    )?;
    let mut a = actor.clone();
    // Each successor is fresh; a few steps are more than any history needs.
    for _ in 0..64 {
        let spent: bool = st.query_row(params![id, a.to_bytes()], |r| r.get(0))?;
        if !spent {
            break;
        }
        a = outpost_sync::changes::successor_actor(&a);
    }
    Ok(a)
}
