//! Writes: the transaction a change runs in, inserting, saving, merging a
//! peer's bytes, and loading a document for editing.

use crate::{COMPACT_AFTER_CHUNKS, Cached, Loaded, Result, StoreError, encode_heads, index, sync};
use automerge::{ActorId, AutoCommit, AutomergeError};
use rusqlite::{Connection, OptionalExtension, params};

/// A write transaction in progress.
pub struct Writer<'a> {
    pub(crate) guard: Guard<'a>,
    pub(crate) actor: Option<ActorId>,
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
    /// peer into document `id` of `community`. Returns false, writing
    /// nothing, when the result is not a well-formed document of that
    /// community (the caller should roll back).
    pub fn merge_remote(
        &mut self,
        community: &str,
        id: &str,
        bytes: &[u8],
        from: &str,
    ) -> Result<bool> {
        self.origin = Some(from.to_string());
        let r = self.merge_remote_inner(community, id, bytes);
        self.origin = None;
        r
    }

    fn merge_remote_inner(&mut self, community: &str, id: &str, bytes: &[u8]) -> Result<bool> {
        let existing: Option<(String, String)> = self
            .c()
            .row(
                "SELECT kind, community_id FROM docs WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            Some((kind, c)) => {
                if c != community {
                    return Ok(false);
                }
                let mut loaded = self.load(id)?;
                if loaded.doc.load_incremental(bytes).is_err() {
                    return Ok(false);
                }
                if !index::belongs(&loaded.doc, id, &kind, community) {
                    return Ok(false);
                }
                self.save(id, &mut loaded)?;
                Ok(true)
            }
            None => {
                let mut doc = AutoCommit::new();
                if doc.load_incremental(bytes).is_err() {
                    return Ok(false);
                }
                let Some(kind) = index::kind_of(&doc) else {
                    return Ok(false);
                };
                if !index::belongs(&doc, id, &kind, community) {
                    return Ok(false);
                }
                self.insert(id, &kind, &mut doc)?;
                Ok(true)
            }
        }
    }
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
        doc.set_actor(a.clone());
    }
    let base = doc.get_heads();
    Ok(Loaded { doc, base })
}
