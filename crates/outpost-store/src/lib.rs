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
mod key;
mod log;
mod schema;
mod snippet;
mod sync;
mod writer;

use key::unlock;
pub use key::{StoreKey, is_plaintext};
use writer::{Guard, load_doc};
pub use writer::{MAX_DOC, Writer};

pub use log::{ForkRow, MAX_LOG_OPS};
pub use sync::{PeerRow, PendingInvite, Redeemed, RefusedChange, invite_id};
pub use writer::MergeOutcome;

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
use outpost_model::{CommunityId, DocId, Kind, PostId, PostKind, SchemaError};
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
    #[error(
        "this home was made with an older Outpost, before membership and authorship were signed \
         the way this version checks them; it cannot open its communities. Make a new home (or \
         start with another folder) and ask an admin to invite you again"
    )]
    OlderFormat,
    /// A change made here that no key held here may sign.
    #[error("a change could not be signed: {0}")]
    Unsigned(String),
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

/// What an id (or a unique prefix of one) refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Community(CommunityId),
    Item {
        id: DocId,
        kind: Kind,
    },
    /// A reply, answer or comment inside an item.
    Sub {
        id: PostId,
        item_id: DocId,
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
    /// Keys that sign the changes made here (this device's; the demo adds
    /// its made-up colleagues' for a moment).
    signers: Vec<ed25519_dalek::SigningKey>,
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
            signers: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Documents loaded for editing get this actor, so changes are
    /// attributed to this device. (Changes are signed only once a key is
    /// given: [`Store::set_identity`].)
    pub fn set_actor(&mut self, actor: ActorId) {
        self.actor = Some(actor);
    }

    /// This opening of the home writes as `key`'s device: its actor is the
    /// key and `nonce` (fresh per opening, so a home restored from an old
    /// copy never reuses an (actor, seq)), and every change made here is
    /// signed with `key` and stored with its signature.
    pub fn set_identity(&mut self, key: ed25519_dalek::SigningKey, nonce: [u8; 8]) -> ActorId {
        let actor = outpost_model::device_actor(&key.verifying_key().to_bytes(), nonce);
        self.actor = Some(actor.clone());
        self.signers = vec![key];
        actor
    }

    /// Keys that sign changes made here, beside this device's (for made-up
    /// authors, such as the demo community's colleagues). Returns the
    /// previous set.
    pub fn set_signers(
        &mut self,
        keys: Vec<ed25519_dalek::SigningKey>,
    ) -> Vec<ed25519_dalek::SigningKey> {
        std::mem::replace(&mut self.signers, keys)
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
        self.conn.exec("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Runs `f` in one immediate write transaction. If `f` fails, nothing it
    /// did is kept.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let actor = self.actor.clone();
        let signers = self.signers.clone();
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
            signers,
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
            let corrupt = |e: outpost_model::BadId| StoreError::Corrupt(e.to_string());
            out.push(if kind == "community" {
                Target::Community(id.parse().map_err(corrupt)?)
            } else {
                let kind = kind
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("document {id} has kind '{kind}'")))?;
                Target::Item {
                    id: id.parse().map_err(corrupt)?,
                    kind,
                }
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
            let corrupt = |e: outpost_model::BadId| StoreError::Corrupt(e.to_string());
            out.push(Target::Sub {
                id: id.parse().map_err(corrupt)?,
                item_id: item_id.parse().map_err(corrupt)?,
                kind,
            });
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
