//! Encryption at rest: the store key, opening with it, re-keying, and
//! encrypting a store written before encryption.

use crate::{Cached, Result, Store, StoreError};
use rusqlite::Connection;
use std::path::Path;

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
pub(crate) fn unlock(conn: &Connection, key: &StoreKey) -> Result<()> {
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

impl Store {
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
            // Not through the statement cache: the SQL holds the key.
            conn.execute(
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
}
