//! Opening a home and its keys: set-up, unlocking (OS keychain or
//! passphrase), the shared lock every open handle holds, changing the key,
//! and second handles for background work.

use crate::home::{DeviceKey, KEY_FILE, LOCK_FILE, STORE_FILE};
use crate::keys::{self, Unlock};
use crate::{Busy, CoreError, DEVICE_KEY, DEVICE_SECRET_KEY, Outpost, PROFILE_KEY, Result};
use outpost_model::MemberProfile;
use outpost_store::{Store, StoreError, StoreKey};
use serde::Serialize;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a home's store is and the key that opens it: what background
/// tasks need to open their own connection.
#[derive(Clone, Debug)]
pub(crate) struct DbHandle {
    pub(crate) path: PathBuf,
    key: StoreKey,
    /// Keeps the home's shared lock while a background task holds a handle.
    _lock: Arc<File>,
}

impl DbHandle {
    pub(crate) fn open(&self) -> Result<Store> {
        Ok(Store::open(&self.path, &self.key)?)
    }
}

/// How a home is locked, without unlocking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    /// A random key kept in the OS keychain.
    Keychain,
    /// A key derived from a passphrase the user types.
    Passphrase,
}

/// Takes a shared lock on the home's lock file. Every open handle holds
/// one; `rekey` needs the lock alone, so the key never changes under a
/// connection that still uses the old one (`outpost serve`, the app).
fn lock_home(home: &Path) -> Result<Arc<File>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(home.join(LOCK_FILE))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Arc::new(file)),
        Err(TryLockError::WouldBlock) => Err(CoreError::Busy(Busy::Rekeying)),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Opens the store with the key `spec` describes; a plain store (from an
/// Outpost that did not encrypt) is encrypted first.
fn open_store(db: &Path, spec: &keys::KeySpec, unlock: &Unlock) -> Result<(Store, StoreKey)> {
    let key = keys::resolve(spec, unlock)?;
    if outpost_store::is_plaintext(db) {
        Store::encrypt_plaintext(db, &key)?;
    }
    match Store::open(db, &key) {
        Ok(store) => Ok((store, key)),
        Err(StoreError::WrongKey) => Err(match spec {
            keys::KeySpec::Passphrase { .. } => CoreError::WrongPassphrase,
            keys::KeySpec::Keychain { .. } => {
                CoreError::Keychain("the key in the OS keychain does not open this store".into())
            }
        }),
        Err(e) => Err(e.into()),
    }
}

/// What a front end finds at a home before opening it: what to show on
/// first run or at the lock screen.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HomeState {
    /// A profile and keys exist here.
    pub set_up: bool,
    /// How it is locked, when set up (a home from before encryption has
    /// no lock yet).
    pub lock: Option<LockKind>,
    /// Setting up here needs a passphrase chosen: no OS keychain can hold
    /// the store key and `$OUTPOST_PASSPHRASE` is not set.
    pub needs_new_passphrase: bool,
}

impl HomeState {
    /// Looks at `home` without unlocking anything.
    pub fn of(home: &Path) -> Result<Self> {
        let lock = Outpost::lock_kind(home)?;
        let set_up = lock.is_some() || home.join(KEY_FILE).exists();
        Ok(HomeState {
            set_up,
            lock,
            needs_new_passphrase: !set_up
                && Unlock::env_passphrase().is_none()
                && !keys::keychain_available(),
        })
    }
}

impl Outpost {
    /// How the home at `home` is locked; `None` when it is not set up.
    pub fn lock_kind(home: &Path) -> Result<Option<LockKind>> {
        if let Some(h) = keys::HomeFile::load(home)? {
            return Ok(Some(match h.key {
                keys::KeySpec::Keychain { .. } => LockKind::Keychain,
                keys::KeySpec::Passphrase { .. } => LockKind::Passphrase,
            }));
        }
        // A home from before encryption: it will take a new key on opening.
        Ok(None)
    }

    /// Sets up a new home with [`Unlock::Auto`].
    pub fn init(home: &Path, profile: MemberProfile) -> Result<Self> {
        Self::init_with(home, profile, &Unlock::Auto)
    }

    /// Sets up a new home: device key, encrypted store (key from `unlock`)
    /// and profile. `home.json` is written last: a home is set up exactly
    /// when it exists.
    pub fn init_with(home: &Path, profile: MemberProfile, unlock: &Unlock) -> Result<Self> {
        profile.validate()?;
        if let Some(h) = keys::HomeFile::load(home)? {
            return Err(CoreError::AlreadyInitialized {
                home: home.to_path_buf(),
                device: h.device,
            });
        }
        let legacy = home.join(KEY_FILE);
        if legacy.exists() {
            let existing = DeviceKey::load(&legacy)
                .map(|k| k.public_hex())
                .unwrap_or_default();
            return Err(CoreError::AlreadyInitialized {
                home: home.to_path_buf(),
                device: existing,
            });
        }
        std::fs::create_dir_all(home)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700))?;
        }
        let key = DeviceKey::generate()?;
        let (spec, store_key) = keys::create(unlock, &key.public_hex())?;
        // Without home.json, a store here is what an interrupted set-up
        // left: it holds nothing anyone saved.
        let db = home.join(STORE_FILE);
        for ext in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(db.with_extension(ext));
        }
        let store = Store::open(&db, &store_key)?;
        store.set_meta(
            PROFILE_KEY,
            &serde_json::to_string(&profile).map_err(|e| CoreError::Home(e.to_string()))?,
        )?;
        store.set_meta(DEVICE_KEY, &key.public_hex())?;
        store.set_meta(DEVICE_SECRET_KEY, &hex::encode(key.secret_bytes()))?;
        drop(store);
        keys::HomeFile {
            version: 1,
            device: key.public_hex(),
            key: spec,
            previous: None,
        }
        .save(home)?;
        Self::open_with(home, unlock)
    }

    /// Opens a home with [`Unlock::Auto`].
    pub fn open(home: &Path) -> Result<Self> {
        Self::open_with(home, &Unlock::Auto)
    }

    /// Opens a home. A wrong passphrase gives
    /// [`CoreError::WrongPassphrase`] and changes nothing. A home from
    /// before encryption (a `device.key` file beside a plain store) is
    /// encrypted with a new key from `unlock` on the way.
    pub fn open_with(home: &Path, unlock: &Unlock) -> Result<Self> {
        let legacy = home.join(KEY_FILE);
        // No lock file is made in a folder that is not a home; home.json is
        // read again below, under the lock, as a rekey may have changed it.
        if keys::HomeFile::load(home)?.is_none() && !legacy.exists() {
            return Err(CoreError::NotInitialized(home.to_path_buf()));
        }
        let lock = lock_home(home)?;
        let hf = match keys::HomeFile::load(home)? {
            Some(h) => h,
            None if legacy.exists() => {
                let old = DeviceKey::load(&legacy)?;
                let (spec, _) = keys::create(unlock, &old.public_hex())?;
                let h = keys::HomeFile {
                    version: 1,
                    device: old.public_hex(),
                    key: spec,
                    previous: None,
                };
                h.save(home)?;
                h
            }
            None => return Err(CoreError::NotInitialized(home.to_path_buf())),
        };
        let db = home.join(STORE_FILE);
        let (mut store, store_key) = match (open_store(&db, &hf.key, unlock), &hf.previous) {
            (Ok(opened), previous) => {
                // A rekey that finished re-encrypting: forget the old key.
                if let Some(previous) = previous {
                    keys::HomeFile {
                        previous: None,
                        ..hf.clone()
                    }
                    .save(home)?;
                    keys::forget(previous);
                }
                opened
            }
            (Err(e), Some(previous))
                if matches!(e, CoreError::WrongPassphrase | CoreError::Keychain(_)) =>
            {
                // A rekey that never re-encrypted: the old key still holds.
                let opened = open_store(&db, previous, unlock).map_err(|_| e)?;
                keys::HomeFile {
                    key: previous.clone(),
                    previous: None,
                    ..hf.clone()
                }
                .save(home)?;
                keys::forget(&hf.key);
                opened
            }
            (Err(e), _) => return Err(e),
        };
        let key = match store.meta(DEVICE_SECRET_KEY)? {
            Some(secret) => DeviceKey::from_hex(&secret).map_err(|msg| CoreError::Key {
                path: db.clone(),
                msg,
            })?,
            None if legacy.exists() => {
                // Moves the device key into the encrypted store.
                let old = DeviceKey::load(&legacy)?;
                store.set_meta(DEVICE_SECRET_KEY, &hex::encode(old.secret_bytes()))?;
                std::fs::remove_file(&legacy)?;
                old
            }
            None => return Err(CoreError::NotInitialized(home.to_path_buf())),
        };
        // A key file left by an upgrade interrupted after the move.
        if legacy.exists() && DeviceKey::load(&legacy)?.public_hex() == key.public_hex() {
            std::fs::remove_file(&legacy)?;
        }
        if key.public_hex() != hf.device {
            return Err(CoreError::Key {
                path: keys::HomeFile::path(home),
                msg: format!(
                    "belongs to device {}, but this store belongs to {}",
                    hf.device,
                    key.public_hex()
                ),
            });
        }
        if let Some(device) = store.meta(DEVICE_KEY)?
            && device != key.public_hex()
        {
            return Err(CoreError::Key {
                path: db,
                msg: format!(
                    "the store says device {device}, its key is {}",
                    key.public_hex()
                ),
            });
        }
        let profile = match store.meta(PROFILE_KEY)? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| CoreError::Home(format!("profile: {e}")))?
            }
            None => return Err(CoreError::NotInitialized(home.to_path_buf())),
        };
        // A fresh actor for every opening: a home restored from an older
        // copy never signs a second change with an (actor, seq) it used.
        let actor = store.set_identity(key.signing().clone(), crate::random_bytes()?);
        Ok(Self {
            home: home.to_path_buf(),
            key,
            actor,
            profile,
            store,
            store_key,
            lock,
        })
    }

    /// Re-encrypts the store under a new key from `unlock` (a new
    /// passphrase, or the OS keychain). Refused with [`CoreError::Busy`],
    /// changing nothing, while anything else has the home open (`outpost
    /// serve`, the desktop app, another handle in this process).
    pub fn rekey(&mut self, unlock: &Unlock) -> Result<LockKind> {
        if Arc::strong_count(&self.lock) > 1 {
            return Err(CoreError::Busy(Busy::OpenElsewhere));
        }
        self.lock.unlock()?;
        let exclusive = self.lock.try_lock();
        let result = match exclusive {
            Ok(()) => self.rekey_alone(unlock),
            Err(TryLockError::WouldBlock) => Err(CoreError::Busy(Busy::OpenElsewhere)),
            Err(TryLockError::Error(e)) => Err(e.into()),
        };
        self.lock.unlock()?;
        self.lock.lock_shared()?;
        result
    }

    /// `rekey` with the home's lock held alone.
    fn rekey_alone(&mut self, unlock: &Unlock) -> Result<LockKind> {
        let mut hf = keys::HomeFile::load(&self.home)?
            .ok_or_else(|| CoreError::NotInitialized(self.home.clone()))?;
        let (spec, key) = keys::create_for_rekey(unlock, &self.key.public_hex())?;
        let kind = match spec {
            keys::KeySpec::Keychain { .. } => LockKind::Keychain,
            keys::KeySpec::Passphrase { .. } => LockKind::Passphrase,
        };
        hf.previous = Some(std::mem::replace(&mut hf.key, spec));
        hf.save(&self.home)?;
        self.store.rekey(&key)?;
        let old = hf.previous.take();
        hf.save(&self.home)?;
        if let Some(old) = old {
            keys::forget(&old);
        }
        self.store_key = key;
        Ok(kind)
    }

    /// Checks `passphrase` against the one this home is locked with; a
    /// home keyed in the OS keychain has none, so there is nothing to check.
    pub fn check_passphrase(&self, passphrase: &str) -> Result<()> {
        let hf = keys::HomeFile::load(&self.home)?
            .ok_or_else(|| CoreError::NotInitialized(self.home.clone()))?;
        if let keys::KeySpec::Passphrase { .. } = hf.key {
            let key = keys::resolve(&hf.key, &Unlock::passphrase(passphrase))?;
            if key.as_bytes() != self.store_key.as_bytes() {
                return Err(CoreError::WrongPassphrase);
            }
        }
        Ok(())
    }

    /// How this home is locked.
    pub fn locked_with(&self) -> Result<LockKind> {
        Self::lock_kind(&self.home)?.ok_or_else(|| CoreError::NotInitialized(self.home.clone()))
    }

    /// A second handle on this home (its own store connection) without
    /// asking for the key again: for background work beside the window's.
    pub fn reopen(&self) -> Result<Self> {
        let mut store = self.db().open()?;
        // Its own actor (a handle is an opening of its own), and it signs
        // what it writes like any other.
        let actor = store.set_identity(self.key.signing().clone(), crate::random_bytes()?);
        Ok(Self {
            home: self.home.clone(),
            key: self.key.clone(),
            actor,
            profile: self.profile.clone(),
            store,
            store_key: self.store_key.clone(),
            lock: self.lock.clone(),
        })
    }

    /// The store's path and key, for a background task's own connection.
    pub(crate) fn db(&self) -> DbHandle {
        DbHandle {
            path: self.home.join(STORE_FILE),
            key: self.store_key.clone(),
            _lock: self.lock.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rekey_waits_for_every_other_handle() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = Unlock::passphrase("test passphrase");
        let profile = MemberProfile {
            name: "Dr Test".into(),
            ..Default::default()
        };
        let mut op = Outpost::init_with(dir.path(), profile, &old).expect("init");
        let new = Unlock::passphrase("another passphrase");
        // A second handle in this process, then another process's handle
        // (a second open takes its own lock on the file).
        let second = op.reopen().expect("reopen");
        assert!(matches!(op.rekey(&new), Err(CoreError::Busy(_))));
        drop(second);
        let background = op.db();
        assert!(matches!(op.rekey(&new), Err(CoreError::Busy(_))));
        drop(background);
        let other = Outpost::open_with(dir.path(), &old).expect("open beside");
        assert!(matches!(op.rekey(&new), Err(CoreError::Busy(_))));
        drop(other);
        // Refusals changed nothing; alone, the rekey goes through and the
        // handle keeps its shared lock afterwards.
        assert_eq!(op.rekey(&new).expect("rekey"), LockKind::Passphrase);
        assert!(matches!(
            Outpost::open_with(dir.path(), &old),
            Err(CoreError::WrongPassphrase)
        ));
        let beside = Outpost::open_with(dir.path(), &new).expect("open with the new key");
        assert!(matches!(op.rekey(&old), Err(CoreError::Busy(_))));
        drop(beside);
    }
}
