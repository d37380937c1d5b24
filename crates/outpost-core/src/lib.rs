//! The API both Outpost front ends call. The CLI (`outpost`) and the desktop
//! shell are wiring around [`Outpost`]: every rule about what a user may do,
//! and every write, goes through here.

mod bundle;
mod demo;
mod home;
pub mod keys;
mod node;

pub use bundle::{ExportSummary, ImportSummary, read_bundle, suggested_export_paths};
pub use demo::{DemoSummary, generate_cases};
pub use home::{DeviceKey, KEY_FILE, LOCK_FILE, STORE_FILE, resolve_home, write_atomic};
pub use keys::{HOME_FILE, Unlock};
pub use node::{
    Connectivity, DEFAULT_INVITE_TTL, Joins, MemberInfo, PeerView, Running, Status, SyncProgress,
    SyncRepo, SyncSummary, join_with, parse_invite, sync_once, watch_feed,
};
pub use outpost_model as model;
pub use outpost_net as net;
pub use outpost_scan as scan;
pub use outpost_store as store;
pub use outpost_sync as sync;

use automerge::ActorId;
use outpost_model::{
    CaseStatus, Community, CommunityDoc, HistoryEntry, Item, ItemDoc, Kind, MemberProfile,
    NewCommunity, NewItem, ProtocolStatus, SchemaError, ValidationError, actor_from_key,
    new_community_doc, new_item_doc, validate_body,
};
use outpost_store::{
    CommunityRow, ItemRow, ListFilter, SearchHit, Store, StoreError, StoreKey, Target, Writer,
};
use outpost_sync::membership;
use serde::Serialize;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("Outpost is not set up in {0}; run `outpost init --name \"Your Name\"` first")]
    NotInitialized(PathBuf),
    #[error("Outpost is already set up in {0} (device {1})")]
    AlreadyInitialized(PathBuf, String),
    #[error("{0}")]
    Home(String),
    #[error("device key {path}: {msg}")]
    Key { path: PathBuf, msg: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("'{id}' is {actual}, not {expected}")]
    WrongTarget {
        id: String,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Net(#[from] outpost_net::NetError),
    #[error("membership op: {0}")]
    Op(#[from] membership::OpError),
    /// The home is locked with a passphrase (or needs one chosen) and none
    /// was given.
    #[error("{0}")]
    PassphraseNeeded(String),
    #[error("wrong passphrase: it does not unlock this home (nothing was changed)")]
    WrongPassphrase,
    /// A new passphrase that is too weak to accept.
    #[error("{0}")]
    WeakPassphrase(String),
    #[error("OS keychain: {0}")]
    Keychain(String),
    /// Another process has the home open, or its key is being changed.
    #[error("{0}")]
    Busy(String),
    #[error("bundle: {0}")]
    Bundle(String),
    /// Text about to be shared holds likely patient identifiers.
    #[error("{} likely patient identifier(s) found: {}", .0.len(), .0.iter().map(|f| format!("{} '{}'", f.category, f.text)).collect::<Vec<_>>().join(", "))]
    Identifiers(Vec<outpost_scan::Finding>),
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

const PROFILE_KEY: &str = "profile";
const DEVICE_KEY: &str = "device";
/// The device's secret key (hex), inside the encrypted store.
const DEVICE_SECRET_KEY: &str = "device_secret";
const RELAY_URL_KEY: &str = "relay_url";

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn random_nonce() -> Result<[u8; 16]> {
    let mut n = [0u8; 16];
    getrandom::fill(&mut n).map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
    Ok(n)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Whoami {
    pub id: String,
    #[serde(flatten)]
    pub profile: MemberProfile,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub home: PathBuf,
}

/// A created reply, answer or comment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PostRef {
    pub id: String,
    pub item_id: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kind: &'static str,
}

/// An item with everything `show` displays.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: Item,
    pub community_name: String,
    pub status: String,
    /// Every change held here has reached at least one other member.
    pub synced: bool,
    /// The document's heads (hex) as read: an editor's base for
    /// [`Outpost::protocol_save`].
    pub heads: Vec<String>,
}

/// What [`Outpost::protocol_save`] left: the merged body and heads, and
/// the heads of the save itself (whose body is exactly what was sent).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolSaved {
    pub body: String,
    pub heads: Vec<String>,
    pub mine: Vec<String>,
    pub row: ItemRow,
}

/// A history entry with the author's display name resolved.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct HistoryLine {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    pub author_name: String,
}

/// An open Outpost home.
pub struct Outpost {
    home: PathBuf,
    key: DeviceKey,
    actor: ActorId,
    profile: MemberProfile,
    store: Store,
    store_key: StoreKey,
    lock: Arc<File>,
}

/// Where a home's store is and the key that opens it: what background
/// tasks need to open their own connection.
#[derive(Clone, Debug)]
pub struct DbHandle {
    pub path: PathBuf,
    key: StoreKey,
    /// Keeps the home's shared lock while a background task holds a handle.
    _lock: Arc<File>,
}

impl DbHandle {
    pub fn open(&self) -> Result<Store> {
        Ok(Store::open(&self.path, &self.key)?)
    }
}

/// How a home is locked, without unlocking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    Keychain,
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
        Err(TryLockError::WouldBlock) => Err(CoreError::Busy(
            "this home's key is being changed (`outpost rekey`); try again when it has finished"
                .into(),
        )),
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
            return Err(CoreError::AlreadyInitialized(home.to_path_buf(), h.device));
        }
        let legacy = home.join(KEY_FILE);
        if legacy.exists() {
            let existing = DeviceKey::load(&legacy)
                .map(|k| k.public_hex())
                .unwrap_or_default();
            return Err(CoreError::AlreadyInitialized(home.to_path_buf(), existing));
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
        let actor = actor_from_key(&key.public());
        store.set_actor(actor.clone());
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
        const OPEN_ELSEWHERE: &str = "this home is open elsewhere (the Outpost app or `outpost serve`); close it, then change the key";
        if Arc::strong_count(&self.lock) > 1 {
            return Err(CoreError::Busy(OPEN_ELSEWHERE.into()));
        }
        self.lock.unlock()?;
        let exclusive = self.lock.try_lock();
        let result = match exclusive {
            Ok(()) => self.rekey_alone(unlock),
            Err(TryLockError::WouldBlock) => Err(CoreError::Busy(OPEN_ELSEWHERE.into())),
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
        store.set_actor(self.actor.clone());
        Ok(Self {
            home: self.home.clone(),
            key: self.key.clone(),
            actor: self.actor.clone(),
            profile: self.profile.clone(),
            store,
            store_key: self.store_key.clone(),
            lock: self.lock.clone(),
        })
    }

    /// The store's path and key, for a background task's own connection.
    pub fn db(&self) -> DbHandle {
        DbHandle {
            path: self.home.join(STORE_FILE),
            key: self.store_key.clone(),
            _lock: self.lock.clone(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn profile(&self) -> &MemberProfile {
        &self.profile
    }

    pub fn device_key(&self) -> &DeviceKey {
        &self.key
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn whoami(&self) -> Whoami {
        Whoami {
            id: self.key.public_hex(),
            profile: self.profile.clone(),
            home: self.home.clone(),
        }
    }

    /// Changes this device's profile, here and in every community it belongs to.
    pub fn set_profile(&mut self, profile: MemberProfile) -> Result<Whoami> {
        profile.validate()?;
        let ids: Vec<String> = self
            .store
            .communities()?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let json = serde_json::to_string(&profile).map_err(|e| CoreError::Home(e.to_string()))?;
        let me = self.key.public_hex();
        self.store.write(|w| -> Result<()> {
            for id in &ids {
                let mut loaded = w.load(id)?;
                let mut c = CommunityDoc::new(loaded.doc)?;
                if c.read()?.members.iter().any(|m| m.id == me) || w.is_member(id, &me)? {
                    c.set_own_profile(&profile, now_ms())?;
                }
                loaded.doc = c.into_automerge();
                w.save(id, &mut loaded)?;
            }
            Ok(())
        })?;
        self.store.set_meta(PROFILE_KEY, &json)?;
        self.profile = profile;
        Ok(self.whoami())
    }

    // ------------------------------------------------------------ communities

    /// Founds a community: a genesis op signed by this device (from which
    /// the community id derives) makes it the first admin.
    pub fn create_community(&mut self, c: NewCommunity) -> Result<CommunityRow> {
        c.validate()?;
        let now = now_ms();
        let (id, genesis) = membership::genesis(self.key.signing(), &c.name, random_nonce()?, now)?;
        let mut doc = new_community_doc(self.actor.clone(), &id, &genesis, &self.profile, now, &c)?;
        self.store
            .write(|w| w.insert(&id, "community", doc.automerge_mut()))?;
        self.community_row(&id)
    }

    pub fn communities(&self) -> Result<Vec<CommunityRow>> {
        Ok(self.store.communities()?)
    }

    fn community_row(&self, id: &str) -> Result<CommunityRow> {
        self.store
            .communities()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| StoreError::NotFound(id.to_string()).into())
    }

    /// Resolves a community id or unique prefix.
    pub fn resolve_community(&self, id: &str) -> Result<String> {
        match self.store.resolve(id)? {
            Target::Community(id) => Ok(id),
            other => Err(wrong(id, "a community", &other)),
        }
    }

    /// A community with its current members: who is a member (and with
    /// which role) comes from the verified membership ops; names and
    /// professions from the profiles members published.
    pub fn community(&self, id: &str) -> Result<Community> {
        let id = self.resolve_community(id)?;
        let mut c = CommunityDoc::new(self.store.load(&id)?)?.read()?;
        let profiles: std::collections::HashMap<String, outpost_model::Member> =
            c.members.drain(..).map(|m| (m.id.clone(), m)).collect();
        for (key, role) in self.store.members(&id)? {
            let role = match role.as_str() {
                "admin" => outpost_model::Role::Admin,
                "member" => outpost_model::Role::Member,
                _ => continue,
            };
            let mut m = profiles
                .get(&key)
                .cloned()
                .unwrap_or_else(|| outpost_model::Member {
                    id: key.clone(),
                    name: format!("member {}", &key[..8.min(key.len())]),
                    profession: None,
                    region: None,
                    expertise: vec![],
                    role,
                    joined_at: 0,
                });
            m.role = role;
            c.members.push(m);
        }
        c.members.sort_by_key(|m| m.joined_at);
        Ok(c)
    }

    fn check_member(&self, community: &Community) -> Result<()> {
        let me = self.key.public_hex();
        if self.store.is_member(&community.id, &me)? {
            Ok(())
        } else {
            Err(CoreError::NotAllowed(format!(
                "you are not a member of the community '{}'",
                community.name
            )))
        }
    }

    // ------------------------------------------------------------ items

    /// Adds a case, question or protocol. Returns its list row once the write
    /// has committed.
    pub fn create_item(&mut self, community: &str, mut item: NewItem) -> Result<ItemRow> {
        item.validate()?;
        let community = self.community(community)?;
        self.check_member(&community)?;
        let id = new_id();
        let mut doc = new_item_doc(
            self.actor.clone(),
            &id,
            &community.id,
            &self.profile,
            now_ms(),
            &item,
        )?;
        self.store
            .write(|w| w.insert(&id, item.kind().as_str(), doc.automerge_mut()))?;
        Ok(self.store.item_row(&id)?)
    }

    /// Adds many items in one transaction (imports, the demo, benchmarks).
    /// Either all are stored or none.
    pub fn import_items(&mut self, community: &str, items: Vec<NewItem>) -> Result<Vec<String>> {
        let mut validated = Vec::with_capacity(items.len());
        for (i, mut item) in items.into_iter().enumerate() {
            item.validate().map_err(|e| {
                ValidationError::new(e.field, format!("item {}: {}", i + 1, e.message))
            })?;
            validated.push(item);
        }
        let community = self.community(community)?;
        self.check_member(&community)?;
        let now = now_ms();
        let (actor, profile) = (self.actor.clone(), self.profile.clone());
        self.store.write(|w| -> Result<Vec<String>> {
            let mut ids = Vec::with_capacity(validated.len());
            for item in &validated {
                let id = new_id();
                let mut doc = new_item_doc(actor.clone(), &id, &community.id, &profile, now, item)?;
                w.insert(&id, item.kind().as_str(), doc.automerge_mut())?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// Resolves an item id (or unique prefix), checking its kind if given.
    pub fn resolve_item(&self, id: &str, kind: Option<Kind>) -> Result<(String, Kind)> {
        let target = self.store.resolve(id)?;
        let Target::Item { id: full, kind: k } = &target else {
            let expected = kind.map_or("an item".to_string(), |k| format!("a {k}"));
            return Err(wrong(id, &expected, &target));
        };
        let k: Kind = k.parse()?;
        if let Some(want) = kind
            && want != k
        {
            return Err(CoreError::WrongTarget {
                id: id.into(),
                expected: format!("a {want}"),
                actual: format!("a {k}"),
            });
        }
        Ok((full.clone(), k))
    }

    fn resolve_answer(&self, id: &str) -> Result<(String, String)> {
        match self.store.resolve(id)? {
            Target::Sub { id, item_id, kind } if kind == "answer" => Ok((id, item_id)),
            other => Err(wrong(id, "an answer", &other)),
        }
    }

    /// Loads an item inside a write transaction, applies `f`, and stores the
    /// resulting changes (if any) in the same transaction.
    fn edit<T>(&mut self, id: &str, f: impl FnOnce(&mut ItemDoc) -> Result<T>) -> Result<T> {
        self.store.write(|w: &mut Writer<'_>| -> Result<T> {
            let mut loaded = w.load(id)?;
            let mut item = ItemDoc::new(loaded.doc)?;
            let out = f(&mut item)?;
            loaded.doc = item.into_automerge();
            w.save(id, &mut loaded)?;
            Ok(out)
        })
    }

    pub fn reply(&mut self, case: &str, body: &str) -> Result<PostRef> {
        validate_body("text", body)?;
        let (item_id, _) = self.resolve_item(case, Some(Kind::Case))?;
        let id = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_reply(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: "reply",
        })
    }

    pub fn case_outcome(&mut self, case: &str, outcome: &str) -> Result<ItemRow> {
        validate_body("text", outcome)?;
        let (id, _) = self.resolve_item(case, Some(Kind::Case))?;
        self.edit(&id, |d| Ok(d.set_outcome(outcome, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    pub fn case_status(&mut self, case: &str, status: CaseStatus) -> Result<ItemRow> {
        let (id, _) = self.resolve_item(case, Some(Kind::Case))?;
        self.edit(&id, |d| Ok(d.set_case_status(status, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    pub fn answer(&mut self, question: &str, body: &str) -> Result<PostRef> {
        validate_body("text", body)?;
        let (item_id, _) = self.resolve_item(question, Some(Kind::Question))?;
        let id = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_answer(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: "answer",
        })
    }

    /// Accepts an answer. Only the member who asked the question may.
    pub fn accept(&mut self, answer: &str) -> Result<PostRef> {
        let (id, item_id) = self.resolve_answer(answer)?;
        let me = self.key.public_hex();
        self.edit(&item_id, |d| {
            let q = d.read()?;
            if q.author != me {
                return Err(CoreError::NotAllowed(format!(
                    "only the member who asked the question ({}) can accept an answer",
                    q.author_name
                )));
            }
            Ok(d.accept_answer(&id, now_ms())?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: "answer",
        })
    }

    /// Marks an answer helpful. Returns false if this device already had.
    pub fn helpful(&mut self, answer: &str) -> Result<bool> {
        let (id, item_id) = self.resolve_answer(answer)?;
        self.edit(&item_id, |d| Ok(d.mark_helpful(&id, now_ms())?))
    }

    pub fn protocol_edit(&mut self, protocol: &str, body: &str) -> Result<ItemRow> {
        outpost_model::validate_protocol_body(body)?;
        let (id, _) = self.resolve_item(protocol, Some(Kind::Protocol))?;
        self.edit(&id, |d| Ok(d.set_protocol_body(body, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    /// Saves an editor's text, derived from the body at `base` (hex heads
    /// from [`ItemDetail::heads`] or the last [`ProtocolSaved::mine`]),
    /// merging it with whatever other members changed since.
    pub fn protocol_save(
        &mut self,
        protocol: &str,
        base: &[String],
        body: &str,
    ) -> Result<ProtocolSaved> {
        outpost_model::validate_protocol_body(body)?;
        let (id, _) = self.resolve_item(protocol, Some(Kind::Protocol))?;
        let base = base
            .iter()
            .map(|h| h.parse::<automerge::ChangeHash>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| ValidationError::new("base", "not a list of change hashes"))?;
        let (mine, body, heads) = self.edit(&id, |d| {
            if !base
                .iter()
                .all(|h| d.automerge_mut().get_change_by_hash(h).is_some())
            {
                return Err(CoreError::NotAllowed(
                    "this protocol changed in a way the editor cannot follow; reopen it".into(),
                ));
            }
            let mine = d.set_protocol_body_from(&base, body, now_ms())?;
            let merged = d.read()?.protocol.map(|p| p.body).unwrap_or_default();
            let heads = d.automerge_mut().get_heads();
            Ok((mine, merged, heads))
        })?;
        let hex = |hs: &[automerge::ChangeHash]| hs.iter().map(|h| h.to_string()).collect();
        Ok(ProtocolSaved {
            body,
            heads: hex(&heads),
            mine: hex(&mine),
            row: self.store.item_row(&id)?,
        })
    }

    /// Sets or clears a protocol's review date (YYYY-MM-DD).
    pub fn protocol_review_date(&mut self, protocol: &str, date: Option<&str>) -> Result<ItemRow> {
        let date = date.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = date {
            outpost_model::validate_review_date(d)?;
        }
        let (id, _) = self.resolve_item(protocol, Some(Kind::Protocol))?;
        self.edit(&id, |d| Ok(d.set_review_date(date, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    /// Adds a reference (citation or guideline) to a protocol.
    pub fn protocol_add_reference(&mut self, protocol: &str, reference: &str) -> Result<ItemRow> {
        let reference = reference.trim();
        validate_body("reference", reference)?;
        let (id, _) = self.resolve_item(protocol, Some(Kind::Protocol))?;
        self.edit(&id, |d| Ok(d.add_reference(reference, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    /// The self-hosted relay URL set with `config --relay-url` or in the
    /// app's settings.
    pub fn relay_url(&self) -> Result<Option<String>> {
        Ok(self.store.meta(RELAY_URL_KEY)?)
    }

    /// Sets (checked and normalized) or clears the relay URL.
    pub fn set_relay_url(&mut self, url: Option<&str>) -> Result<Option<String>> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let parsed: outpost_net::RelayUrl = url.parse().map_err(|e| {
                    ValidationError::new("relay-url", format!("'{url}' is not a relay URL: {e}"))
                })?;
                self.store.set_meta(RELAY_URL_KEY, &parsed.to_string())?;
            }
            None => self.store.delete_meta(RELAY_URL_KEY)?,
        }
        self.relay_url()
    }

    pub fn protocol_status(&mut self, protocol: &str, status: ProtocolStatus) -> Result<ItemRow> {
        let (id, _) = self.resolve_item(protocol, Some(Kind::Protocol))?;
        self.edit(&id, |d| Ok(d.set_protocol_status(status, now_ms())?))?;
        Ok(self.store.item_row(&id)?)
    }

    pub fn comment(&mut self, item: &str, body: &str) -> Result<PostRef> {
        validate_body("text", body)?;
        let (item_id, _) = self.resolve_item(item, None)?;
        let id = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_comment(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: "comment",
        })
    }

    // ------------------------------------------------------------ reading

    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ItemRow>> {
        let filter = self.resolve_filter(filter)?;
        Ok(self.store.list(&filter)?)
    }

    pub fn search(&self, query: &str, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        let filter = self.resolve_filter(filter)?;
        Ok(self.store.search(query, &filter)?)
    }

    fn resolve_filter(&self, filter: &ListFilter) -> Result<ListFilter> {
        let mut f = filter.clone();
        if let Some(c) = &filter.community {
            f.community = Some(self.resolve_community(c)?);
        }
        if let Some(k) = &filter.kind {
            f.kind = Some(k.parse::<Kind>()?.as_str().to_string());
        }
        Ok(f)
    }

    pub fn show(&self, id: &str) -> Result<ItemDetail> {
        let (id, _) = self.resolve_item(id, None)?;
        let mut doc = self.store.load(&id)?;
        let heads = doc.get_heads().iter().map(|h| h.to_string()).collect();
        let item = ItemDoc::new(doc)?.read()?;
        let community_name = self
            .community(&item.community)
            .map(|c| c.name)
            .unwrap_or_default();
        let status = item.status().to_string();
        let synced = self.store.is_synced(&id)?;
        Ok(ItemDetail {
            item,
            community_name,
            status,
            synced,
            heads,
        })
    }

    /// Who changed what, when, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryLine>> {
        let (id, _) = self.resolve_item(id, None)?;
        let mut doc = self.store.load(&id)?;
        let item = ItemDoc::new(doc.clone())?.read()?;
        let members = self
            .community(&item.community)
            .map(|c| c.members)
            .unwrap_or_default();
        let mut names: std::collections::HashMap<String, String> =
            members.into_iter().map(|m| (m.id, m.name)).collect();
        for p in item
            .replies
            .iter()
            .chain(item.comments.iter())
            .chain(item.answers.iter().map(|a| &a.post))
        {
            names
                .entry(p.author.clone())
                .or_insert_with(|| p.author_name.clone());
        }
        names.entry(item.author.clone()).or_insert(item.author_name);
        Ok(outpost_model::history(&mut doc)
            .into_iter()
            .map(|entry| {
                let author_name = names
                    .get(&entry.actor)
                    .cloned()
                    .unwrap_or_else(|| entry.actor.chars().take(8).collect());
                HistoryLine { entry, author_name }
            })
            .collect())
    }
}

fn wrong(id: &str, expected: &str, target: &Target) -> CoreError {
    let actual = match target {
        Target::Community(_) => "a community".to_string(),
        Target::Item { kind, .. } => format!("a {kind}"),
        Target::Sub { kind, .. } => format!("a {kind}"),
    };
    CoreError::WrongTarget {
        id: id.to_string(),
        expected: expected.to_string(),
        actual,
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
