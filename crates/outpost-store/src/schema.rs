//! Connection settings and versioned migrations.

use crate::{Result, StoreError};
use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`; never edit a
/// shipped entry, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: documents, index rows, search, change feed.
    r#"
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

    -- One row per Automerge document: the last snapshot, how many change
    -- chunks follow it, and the current heads (sorted 32-byte hashes).
    -- (rowid tables: WITHOUT ROWID stores kilobyte blobs very wastefully)
    CREATE TABLE docs(
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        snapshot BLOB NOT NULL,
        chunks INTEGER NOT NULL DEFAULT 0,
        heads BLOB NOT NULL
    );
    CREATE TABLE chunks(
        doc_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        data BLOB NOT NULL,
        UNIQUE(doc_id, n)
    );

    CREATE TABLE communities(
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        domain TEXT NOT NULL,
        members INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE items(
        rid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        community_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        author TEXT NOT NULL,
        author_name TEXT NOT NULL,
        tags TEXT NOT NULL,          -- ' tag1 tag2 ' for whole-word matching
        responses INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        -- DEFLATE(body || x'1f' || discussion): the searchable text, kept
        -- compressed for snippets because the FTS table stores no content.
        text BLOB NOT NULL
    );
    CREATE INDEX items_by_updated ON items(updated_at DESC);
    CREATE INDEX items_by_community ON items(community_id, updated_at DESC);
    CREATE INDEX items_by_kind ON items(kind, updated_at DESC);

    -- Replies, answers and comments live inside their item's document; this
    -- maps their ids back to it.
    CREATE TABLE subitems(
        id TEXT PRIMARY KEY,
        item_id TEXT NOT NULL,
        kind TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX subitems_by_item ON subitems(item_id);

    -- rowid = items.rid. Columns are weighted in bm25(): title highest.
    -- Contentless: the index alone, no second copy of the text (snippets
    -- come from items.text). Not detail=column: bm25's column weights need
    -- per-column hit counts.
    CREATE VIRTUAL TABLE fts USING fts5(
        title, body, discussion, tags,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO fts(fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 1.0, 5.0)');

    -- Append-only change feed: one row per update of a document.
    CREATE TABLE feed(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL,
        heads BLOB NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX feed_by_doc ON feed(doc_id, seq);
    "#,
    // 2: sync. Per-community digests and feeds, membership computed from
    // signed ops, per-peer checkpoints and Automerge sync states, peers,
    // invitations, and which heads another member is known to hold.
    r#"
    ALTER TABLE feed ADD COLUMN community_id TEXT NOT NULL DEFAULT '';
    CREATE INDEX feed_by_community ON feed(community_id, seq);
    ALTER TABLE docs ADD COLUMN community_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE docs ADD COLUMN synced_heads BLOB;
    UPDATE docs SET community_id = COALESCE((SELECT community_id FROM items WHERE items.id = docs.id), docs.id);
    UPDATE feed SET community_id = (SELECT community_id FROM docs WHERE docs.id = feed.doc_id);
    CREATE INDEX docs_by_community ON docs(community_id);
    -- XOR of outpost_sync::digest_entry over the community's documents,
    -- kept current by every write (recomputed in Rust for older stores).
    CREATE TABLE digests(community_id TEXT PRIMARY KEY, digest BLOB NOT NULL) WITHOUT ROWID;

    CREATE TABLE members(
        community_id TEXT NOT NULL,
        key TEXT NOT NULL,              -- hex ed25519 public key
        role TEXT NOT NULL,             -- 'admin' | 'member' | 'removed'
        PRIMARY KEY(community_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX members_by_key ON members(key);

    CREATE TABLE checkpoints(
        peer TEXT NOT NULL,
        community_id TEXT NOT NULL,
        since INTEGER NOT NULL,         -- position in the peer's feed
        PRIMARY KEY(peer, community_id)
    ) WITHOUT ROWID;
    CREATE TABLE sync_states(
        peer TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        state BLOB NOT NULL,            -- automerge::sync::State::encode()
        PRIMARY KEY(peer, doc_id)
    ) WITHOUT ROWID;
    CREATE TABLE peers(
        id TEXT PRIMARY KEY,
        addr TEXT,                      -- last known address (JSON)
        last_seen INTEGER,
        last_synced INTEGER,
        bytes_in INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        pending_in INTEGER NOT NULL DEFAULT 0,
        pending_out INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE invites(
        secret BLOB PRIMARY KEY,
        community_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_by TEXT,
        used_at INTEGER
    ) WITHOUT ROWID;
    "#,
    // 3: how far each peer is known to hold this store's feed, per
    // community, and which peer a feed entry's data came from (for
    // "pending out").
    r#"
    ALTER TABLE feed ADD COLUMN origin TEXT;
    CREATE TABLE acks(
        peer TEXT NOT NULL,
        community_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY(peer, community_id)
    ) WITHOUT ROWID;
    "#,
    // 4: SQLCipher reserves 48 bytes of every 8 KiB page, so two of FTS5's
    // default 4050-byte leaf blobs no longer fit in one page and the index
    // doubled on disk. 3900-byte leaves pair up again.
    r#"
    INSERT INTO fts(fts, rank) VALUES('pgsz', 3900);
    "#,
    // 5: question statuses are typed: "answered" (answers, none accepted)
    // was stored as "open", and "accepted" as "answered".
    r#"
    UPDATE items SET status = CASE status
        WHEN 'answered' THEN 'accepted'
        WHEN 'open' THEN 'answered'
        ELSE status END
    WHERE kind = 'question';
    "#,
    // 6: membership is a log of its own: signed ops, content-addressed,
    // append-only (the triggers refuse edits), no longer a list inside the
    // community document. Homes with communities made before this cannot
    // be carried over (see `migrate`).
    r#"
    CREATE TABLE IF NOT EXISTS member_ops(
        hash BLOB NOT NULL UNIQUE,      -- blake3 of `op`
        community_id TEXT NOT NULL,
        op BLOB NOT NULL,               -- membership::SignedOp bytes, verified on arrival
        origin TEXT,                    -- the peer it came from; NULL if signed here
        arrived INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS member_ops_by_community ON member_ops(community_id);
    CREATE TRIGGER IF NOT EXISTS member_ops_no_update BEFORE UPDATE ON member_ops
        BEGIN SELECT RAISE(ABORT, 'the membership log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS member_ops_no_delete BEFORE DELETE ON member_ops
        BEGIN SELECT RAISE(ABORT, 'the membership log is append-only'); END;
    "#,
    // 7: every change is signed by its device: the signatures, stored
    // beside the changes and passed on with them, and the changes a merge
    // refused, with why and from whom.
    r#"
    CREATE TABLE IF NOT EXISTS change_sigs(
        hash BLOB NOT NULL UNIQUE,      -- Automerge change hash
        doc_id TEXT NOT NULL,
        sig BLOB NOT NULL               -- ed25519 by the change's device
    );
    CREATE INDEX IF NOT EXISTS change_sigs_by_doc ON change_sigs(doc_id);
    CREATE TABLE IF NOT EXISTS refused_changes(
        hash BLOB NOT NULL UNIQUE,
        doc_id TEXT NOT NULL,
        community_id TEXT NOT NULL,
        actor TEXT NOT NULL,            -- hex actor id the change claims
        device TEXT,                    -- hex device key, if the actor names one
        reason TEXT NOT NULL,
        origin TEXT,                    -- the peer (or bundle) it came from
        at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS refused_changes_by_community ON refused_changes(community_id, at);
    "#,
    // 8: removals and demotions vouch for what they cover, and forks are
    // proven: each signature row says whose change it is (to find what a
    // removal covers and which documents to check again), and what the
    // log says about standing is kept beside the members. (The columns
    // of `change_sigs` are added by `migrate`, only where missing: a
    // store that re-runs migrations must not fail on them.)
    r#"
    CREATE INDEX IF NOT EXISTS change_sigs_by_device ON change_sigs(device);
    CREATE TABLE IF NOT EXISTS member_covers(
        community_id TEXT NOT NULL,
        device BLOB NOT NULL,           -- the member a removal or demotion concerns
        doc_id TEXT NOT NULL,
        actor BLOB NOT NULL,
        seq INTEGER NOT NULL,           -- covered up to this seq
        prior TEXT NOT NULL             -- their role before the op
    );
    CREATE INDEX IF NOT EXISTS member_covers_by_doc ON member_covers(community_id, doc_id);
    CREATE TABLE IF NOT EXISTS forks(
        community_id TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        actor BLOB NOT NULL,
        seq INTEGER NOT NULL,           -- the first forked seq
        device BLOB NOT NULL,
        reporter BLOB NOT NULL,
        PRIMARY KEY(community_id, doc_id, actor)
    ) WITHOUT ROWID;
    "#,
    // 9: change signatures name their document; those stored before do
    // not verify any more (communities made before cannot be carried over).
    // A fork keeps one variant, the lowest hash (`forks.kept`, added by
    // `migrate`). A device whose changes to a document were dropped writes
    // there under a successor actor: `spent_actors` lists the actors whose
    // numbering is used up in a document (never pruned).
    r#"
    CREATE TABLE IF NOT EXISTS spent_actors(
        doc_id TEXT NOT NULL,
        actor BLOB NOT NULL,
        PRIMARY KEY(doc_id, actor)
    ) WITHOUT ROWID;
    "#,
];

pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Columns a migration adds to a table made before it: (migration, table,
/// column, type), each added only where missing, so a store that runs a
/// migration again does not fail on them.
const ADDED_COLUMNS: &[(usize, &str, &str, &str)] = &[
    (8, "change_sigs", "device", "BLOB"),
    (8, "change_sigs", "actor", "BLOB"),
    (8, "change_sigs", "seq", "INTEGER"),
    (9, "forks", "kept", "BLOB NOT NULL DEFAULT x''"),
];

pub fn configure(conn: &Connection) -> Result<()> {
    // WAL for concurrent readers (the CLI beside a running `serve`); FULL
    // because NORMAL can lose the last commits on power loss, and a clinician
    // was told "saved".
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        // 6 (the log), 7 (signed changes), 8 (removals covering what they
        // vouch for) and 9 (signatures naming their document): communities
        // made before cannot be carried over.
        if (6..=9).contains(&(i + 1)) {
            let communities: i64 = tx.query_row(
                "SELECT COUNT(*) FROM docs WHERE kind = 'community'",
                [],
                |r| r.get(0),
            )?;
            if communities > 0 {
                return Err(StoreError::OlderFormat);
            }
        }
        for &(_, table, column, ty) in ADDED_COLUMNS.iter().filter(|c| c.0 == i + 1) {
            let has: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
                [table, column],
                |r| r.get(0),
            )?;
            if !has {
                tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty};"))?;
            }
        }
        tx.execute_batch(sql)?;
        if i + 1 == 2 {
            crate::sync::recompute_all(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "migrated store");
    }
    Ok(())
}
