//! Outpost's local store: one SQLite file per home.
//!
//! It keeps every Automerge document as a snapshot plus the change chunks
//! appended since, and beside them the materialized rows that make listing
//! and searching instant without loading any document: `items`,
//! `communities`, `subitems` (replies, answers, comments) and the FTS5 table
//! `fts`. Every update also appends to `feed`, a monotonic change feed that
//! sync reads to learn what changed since a checkpoint.
//!
//! One write = one `BEGIN IMMEDIATE` transaction covering change bytes,
//! index rows, FTS rows and the feed; callers acknowledge only after it
//! commits. Because the transaction takes the write lock *before* the
//! document is loaded, two processes on one home (the CLI beside
//! `outpost serve`) never edit the same document from the same base with the
//! same actor.

mod index;
mod schema;
mod snippet;
mod sync;

pub use sync::{PeerRow, PendingInvite};

/// Statements kept compiled per connection. A write runs about thirty
/// distinct statements (docs, chunks, the index, FTS, digests, the feed);
/// rusqlite's default of 16 would recompile most of them every time.
const STATEMENT_CACHE: usize = 128;

/// `execute` and `query_row` through the connection's statement cache
/// (rusqlite's own compile the SQL on every call, which for a document
/// write costs as much as the write).
pub(crate) trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

use automerge::{ActorId, AutoCommit, AutomergeError, ChangeHash};
use outpost_model::{Kind, PostKind, SchemaError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

pub use index::{CommunityRow, ItemRow, ListFilter, SNIPPET_END, SNIPPET_START, SearchHit};

/// After this many change chunks a document is compacted into one snapshot.
pub const COMPACT_AFTER_CHUNKS: i64 = 16;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("document {id} could not be read: {source}")]
    Automerge {
        id: String,
        source: Box<AutomergeError>,
    },
    #[error("document {id} has an unexpected shape: {source}")]
    Schema {
        id: String,
        source: Box<SchemaError>,
    },
    #[error("no item, answer or community with id '{0}'")]
    NotFound(String),
    #[error("'{prefix}' matches {count} ids; type more of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error(
        "this store was written by a newer version of Outpost (schema {found}, this build knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("search: {0}")]
    BadQuery(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("store is damaged: {0}")]
    Corrupt(String),
    /// The key does not open this store (or the file is not a store).
    #[error("the key does not open this store (wrong passphrase, or not an Outpost store)")]
    WrongKey,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The 256-bit key a store is encrypted with (SQLCipher, raw key: no key
/// derivation inside SQLite). Wiped from memory when dropped.
#[derive(Clone)]
pub struct StoreKey(zeroize::Zeroizing<[u8; 32]>);

impl StoreKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(zeroize::Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn hex(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(hex::encode(*self.0))
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// Whether `path` is an unencrypted SQLite file (its plain header).
pub fn is_plaintext(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"SQLite format 3\0"
}

/// Gives SQLCipher the key, then reads the schema to prove it fits.
fn unlock(conn: &Connection, key: &StoreKey) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = 8192;",
        key.hex().as_str()
    ))?;
    match conn.row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// What an id (or a unique prefix of one) refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Community(String),
    Item {
        id: String,
        kind: Kind,
    },
    /// A reply, answer or comment inside an item.
    Sub {
        id: String,
        item_id: String,
        kind: PostKind,
    },
}

/// A document as loaded for editing: the heads it had when loaded are kept
/// so only the changes made since are appended (see `Writer::save`).
pub struct Loaded {
    pub doc: AutoCommit,
    pub base: Vec<ChangeHash>,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    actor: Option<ActorId>,
}

impl Store {
    /// Opens (creating if needed) the store at `path`, encrypted with `key`,
    /// and applies migrations. Opening never loads a document. A key that
    /// does not fit gives [`StoreError::WrongKey`] and writes nothing.
    pub fn open(path: impl AsRef<Path>, key: &StoreKey) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        unlock(&conn, key)?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn,
            path,
            actor: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-encrypts the whole store under `new`. Other connections to the
    /// file must be closed first: they still hold the old key.
    pub fn rekey(&self, new: &StoreKey) -> Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA rekey = \"x'{}'\";", new.hex().as_str()))?;
        Ok(())
    }

    /// Encrypts a store written by an Outpost that did not encrypt (a
    /// plain SQLite file) in place: the encrypted copy is built beside it
    /// and renamed over it, so a crash leaves one whole file or the other.
    /// Returns false when the file is not a plain SQLite file.
    pub fn encrypt_plaintext(path: impl AsRef<Path>, key: &StoreKey) -> Result<bool> {
        let path = path.as_ref();
        if !is_plaintext(path) {
            return Ok(false);
        }
        let tmp = path.with_extension("db.encrypting");
        let _ = std::fs::remove_file(&tmp);
        {
            let conn = Connection::open(path)?;
            conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
            conn.exec(
                &format!(
                    "ATTACH DATABASE ?1 AS encrypted KEY \"x'{}'\"",
                    key.hex().as_str()
                ),
                [tmp.to_string_lossy()],
            )?;
            conn.execute_batch(
                "PRAGMA encrypted.cipher_page_size = 8192; SELECT sqlcipher_export('encrypted'); DETACH DATABASE encrypted;",
            )?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let enc = Connection::open(&tmp)?;
            unlock(&enc, key)?;
            enc.pragma_update(None, "user_version", version)?;
        }
        for ext in ["db-wal", "db-shm"] {
            let _ = std::fs::remove_file(path.with_extension(ext));
        }
        std::fs::rename(&tmp, path)
            .map_err(|e| StoreError::Corrupt(format!("renaming the encrypted copy: {e}")))?;
        Ok(true)
    }

    /// Documents loaded for editing get this actor, so changes are
    /// attributed to this device.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.actor = Some(actor);
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.exec(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.conn
            .exec("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Runs `f` in one immediate write transaction. If `f` fails, nothing it
    /// did is kept.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let actor = self.actor.clone();
        // Inside a batch (see `begin_batch`) a write is a savepoint of the
        // batch's transaction; otherwise its own immediate transaction.
        let guard = if self.conn.is_autocommit() {
            Guard::Tx(
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(StoreError::from)?,
            )
        } else {
            Guard::Sp(self.conn.savepoint().map_err(StoreError::from)?)
        };
        let mut w = Writer {
            guard,
            actor,
            origin: None,
        };
        let out = f(&mut w)?;
        match w.guard {
            Guard::Tx(tx) => tx.commit().map_err(StoreError::from)?,
            Guard::Sp(sp) => sp.commit().map_err(StoreError::from)?,
        }
        Ok(out)
    }

    /// Opens one transaction for many writes (sync applies a burst of
    /// received documents this way, with one fsync). Writes inside it are
    /// savepoints; nothing is durable until `commit_batch`.
    pub fn begin_batch(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(())
    }

    pub fn commit_batch(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    pub fn rollback_batch(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    /// Moves the write-ahead log into the database file (after a large sync).
    pub fn checkpoint_wal(&self) -> Result<()> {
        self.conn
            .row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Loads a document read-only (no write lock).
    pub fn load(&self, id: &str) -> Result<AutoCommit> {
        load_doc(&self.conn, id, self.actor.as_ref()).map(|l| l.doc)
    }

    /// Resolves a full id or a unique prefix (at least 4 characters) of a
    /// community, item, reply, answer or comment id.
    pub fn resolve(&self, id_or_prefix: &str) -> Result<Target> {
        let q = id_or_prefix.trim();
        if q.is_empty() {
            return Err(StoreError::NotFound(q.to_string()));
        }
        let exact = self.targets("= ?1", q)?;
        if let Some(t) = exact.into_iter().next() {
            return Ok(t);
        }
        if q.len() < 4 || !q.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(StoreError::NotFound(q.to_string()));
        }
        // Ids are lower-case hex and '-', all sorting below 'g': a range scan
        // on the unique index finds every id with this prefix.
        let q = q.to_ascii_lowercase();
        let mut found = self.targets(">= ?1 AND id < ?1 || 'g'", &q)?;
        match found.len() {
            0 => Err(StoreError::NotFound(q)),
            1 => Ok(found.remove(0)),
            count => Err(StoreError::Ambiguous {
                prefix: q.to_string(),
                count,
            }),
        }
    }

    fn targets(&self, cond: &str, q: &str) -> Result<Vec<Target>> {
        let mut out = Vec::new();
        let sql = format!("SELECT id, kind FROM docs WHERE id {cond} LIMIT 5");
        let mut st = self.conn.prepare_cached(&sql)?;
        for row in st.query_map([q], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (id, kind) = row?;
            out.push(if kind == "community" {
                Target::Community(id)
            } else {
                let kind = kind
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("document {id} has kind '{kind}'")))?;
                Target::Item { id, kind }
            });
        }
        let sql = format!("SELECT id, item_id, kind FROM subitems WHERE id {cond} LIMIT 5");
        let mut st = self.conn.prepare_cached(&sql)?;
        for row in st.query_map([q], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (id, item_id, kind) = row?;
            let kind = kind
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("post {id} has kind '{kind}'")))?;
            out.push(Target::Sub { id, item_id, kind });
        }
        Ok(out)
    }

    /// The newest sequence number in the change feed (0 when empty).
    pub fn feed_head(&self) -> Result<i64> {
        Ok(self
            .conn
            .row("SELECT COALESCE(MAX(seq), 0) FROM feed", [], |r| r.get(0))?)
    }

    /// Documents changed after `since` in the feed, each once, with the
    /// sequence number of its latest change, oldest first.
    pub fn changed_since(&self, since: i64, limit: usize) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT MAX(seq) AS s, doc_id FROM feed WHERE seq > ?1 GROUP BY doc_id ORDER BY s LIMIT ?2",
        )?;
        let rows = st.query_map(params![since, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Current heads of a document, without loading it.
    pub fn heads(&self, id: &str) -> Result<Vec<ChangeHash>> {
        let blob: Option<Vec<u8>> = self
            .conn
            .row("SELECT heads FROM docs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let blob = blob.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        decode_heads(id, &blob)
    }

    /// Compacts every document with pending chunks into a single snapshot.
    pub fn compact_all(&mut self) -> Result<usize> {
        let ids: Vec<String> = {
            let mut st = self.conn.prepare("SELECT id FROM docs WHERE chunks > 0")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        for id in &ids {
            self.write(|w| w.compact(id))?;
        }
        Ok(ids.len())
    }

    /// `PRAGMA integrity_check`, plus Outpost's own cross-table checks:
    /// every document loads, and every item has its index and search rows.
    pub fn check(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut st = self.conn.prepare("PRAGMA integrity_check")?;
        for row in st.query_map([], |r| r.get::<_, String>(0))? {
            let row = row?;
            if row != "ok" {
                problems.push(row);
            }
        }
        let orphans: i64 = self.conn.row(
            "SELECT (SELECT COUNT(*) FROM docs d WHERE d.kind != 'community' AND NOT EXISTS (SELECT 1 FROM items i WHERE i.id = d.id))
                  + (SELECT COUNT(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM docs d WHERE d.id = i.id))
                  + (SELECT COUNT(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM fts WHERE fts.rowid = i.rid))",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            problems.push(format!(
                "{orphans} documents without matching index or search rows"
            ));
        }
        let ids: Vec<String> = {
            let mut st = self.conn.prepare("SELECT id FROM docs")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        for id in ids {
            if let Err(e) = load_doc(&self.conn, &id, None) {
                problems.push(e.to_string());
            }
        }
        Ok(problems)
    }

    /// Raw access for tests and benchmarks that need to look underneath.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// A write transaction in progress.
pub struct Writer<'a> {
    guard: Guard<'a>,
    actor: Option<ActorId>,
    /// The peer whose data is being merged (recorded in the feed), if any.
    origin: Option<String>,
}

enum Guard<'a> {
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

fn load_doc(conn: &Connection, id: &str, actor: Option<&ActorId>) -> Result<Loaded> {
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

pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(id: &str, blob: &[u8]) -> Result<Vec<ChangeHash>> {
    blob.chunks(32)
        .map(|c| ChangeHash::try_from(c).map_err(|_| StoreError::Corrupt(format!("heads of {id}"))))
        .collect()
}
