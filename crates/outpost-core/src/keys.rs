//! Encryption at rest: where a home's store key comes from.
//!
//! The store (and with it the device's secret key, kept inside it) is
//! encrypted with SQLCipher under a random or derived 256-bit key. That key
//! lives in the OS keychain (Secret Service, macOS Keychain, Windows
//! Credential Manager) when one is available, else it is derived from a
//! passphrase with Argon2id. `home.json` says which, and holds the salt and
//! cost parameters; it holds nothing secret.

use crate::{CoreError, Result};
use outpost_store::StoreKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The home's plaintext header: present exactly when the home is set up.
pub const HOME_FILE: &str = "home.json";
const KEYCHAIN_SERVICE: &str = "outpost";
/// Shortest passphrase accepted for a new or changed key.
pub const MIN_PASSPHRASE: usize = 8;

/// How the front end wants the store unlocked.
#[derive(Clone)]
pub enum Unlock {
    /// `OUTPOST_PASSPHRASE` if set, else the OS keychain.
    Auto,
    /// A passphrase the user typed.
    Passphrase(Zeroizing<String>),
    /// The OS keychain (a new home: a random key stored there).
    Keychain,
}

impl Unlock {
    /// A passphrase typed by the user.
    pub fn passphrase(p: &str) -> Self {
        Unlock::Passphrase(Zeroizing::new(p.to_string()))
    }

    pub(crate) fn env_passphrase() -> Option<Zeroizing<String>> {
        std::env::var("OUTPOST_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new)
    }
}

/// Where one store key comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum KeySpec {
    /// A random key in the OS keychain under (`outpost`, `account`).
    Keychain { account: String },
    /// Argon2id(passphrase, salt) with these costs.
    Passphrase {
        salt: String,
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HomeFile {
    pub version: u32,
    /// This device's public key (hex): not secret, it is its network id.
    pub device: String,
    pub key: KeySpec,
    /// While a rekey is in progress: the key the store had before. A crash
    /// mid-rekey leaves a store that one of the two opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<KeySpec>,
}

impl HomeFile {
    pub fn path(home: &Path) -> PathBuf {
        home.join(HOME_FILE)
    }

    pub fn load(home: &Path) -> Result<Option<Self>> {
        let path = Self::path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| CoreError::Home(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes atomically (temp file, fsync, rename, fsync the directory).
    pub fn save(&self, home: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| CoreError::Home(e.to_string()))?;
        crate::home::write_atomic(&Self::path(home), &json)
    }
}

/// Whether the OS keychain may be used: `OUTPOST_KEYCHAIN=off` turns it off
/// (a shared machine, or tests).
fn keychain_allowed() -> bool {
    !matches!(
        std::env::var("OUTPOST_KEYCHAIN").as_deref(),
        Ok("off" | "0" | "no" | "false")
    )
}

fn keychain_entry(account: &str) -> Result<keyring::Entry> {
    if !keychain_allowed() {
        return Err(CoreError::Keychain(
            "the OS keychain is turned off (OUTPOST_KEYCHAIN=off)".into(),
        ));
    }
    keyring::Entry::new(KEYCHAIN_SERVICE, account).map_err(|e| CoreError::Keychain(e.to_string()))
}

/// Stores a new random key in the keychain and reads it back; fails when
/// there is no working keychain.
fn keychain_create(account: &str) -> Result<StoreKey> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *bytes)
        .map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
    let entry = keychain_entry(account)?;
    entry
        .set_secret(&*bytes)
        .map_err(|e| CoreError::Keychain(e.to_string()))?;
    let back = keychain_get(account)?;
    if back.as_bytes() != &*bytes {
        return Err(CoreError::Keychain(
            "the keychain did not keep the key".into(),
        ));
    }
    Ok(back)
}

fn keychain_get(account: &str) -> Result<StoreKey> {
    let secret = Zeroizing::new(
        keychain_entry(account)?
            .get_secret()
            .map_err(|e| CoreError::Keychain(e.to_string()))?,
    );
    let bytes: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| CoreError::Keychain("the keychain entry is not an Outpost key".into()))?;
    Ok(StoreKey::from_bytes(bytes))
}

fn keychain_delete(account: &str) {
    if let Ok(entry) = keychain_entry(account) {
        let _ = entry.delete_credential();
    }
}

/// Argon2id costs for new passphrase keys: 64 MiB, 3 passes (well above
/// OWASP's minimum of 19 MiB × 2).
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;

fn derive(passphrase: &str, spec: &KeySpec) -> Result<StoreKey> {
    let KeySpec::Passphrase {
        salt,
        m_cost_kib,
        t_cost,
        p_cost,
    } = spec
    else {
        return Err(CoreError::Home("not a passphrase key".into()));
    };
    let salt = hex::decode(salt).map_err(|_| CoreError::Home("home.json: bad salt".into()))?;
    let params = argon2::Params::new(*m_cost_kib, *t_cost, *p_cost, Some(32))
        .map_err(|e| CoreError::Home(format!("home.json: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), &salt, &mut *out)
        .map_err(|e| CoreError::Home(format!("key derivation: {e}")))?;
    Ok(StoreKey::from_bytes(*out))
}

fn new_passphrase_spec() -> Result<KeySpec> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
    Ok(KeySpec::Passphrase {
        salt: hex::encode(salt),
        m_cost_kib: M_COST_KIB,
        t_cost: T_COST,
        p_cost: 1,
    })
}

/// Refuses a new passphrase that is too short.
pub fn check_new_passphrase(p: &str) -> Result<()> {
    if p.chars().count() < MIN_PASSPHRASE {
        return Err(CoreError::WeakPassphrase {
            min: MIN_PASSPHRASE,
        });
    }
    Ok(())
}

/// A new key for a home: from `unlock`, for device `account`.
pub fn create(unlock: &Unlock, account: &str) -> Result<(KeySpec, StoreKey)> {
    let pass = match unlock {
        Unlock::Passphrase(p) => Some(p.clone()),
        Unlock::Auto => Unlock::env_passphrase(),
        Unlock::Keychain => None,
    };
    if let Some(p) = pass {
        check_new_passphrase(&p)?;
        let spec = new_passphrase_spec()?;
        let key = derive(&p, &spec)?;
        return Ok((spec, key));
    }
    match keychain_create(account) {
        Ok(key) => Ok((
            KeySpec::Keychain {
                account: account.to_string(),
            },
            key,
        )),
        Err(e) if matches!(unlock, Unlock::Auto) => Err(CoreError::PassphraseNeeded(format!(
            "no OS keychain is available ({e}); choose a passphrase"
        ))),
        Err(e) => Err(e),
    }
}

/// The key `spec` describes, with what `unlock` supplies.
pub fn resolve(spec: &KeySpec, unlock: &Unlock) -> Result<StoreKey> {
    match spec {
        KeySpec::Keychain { account } => keychain_get(account),
        KeySpec::Passphrase { .. } => {
            let pass = match unlock {
                Unlock::Passphrase(p) => p.clone(),
                _ => Unlock::env_passphrase().ok_or_else(|| {
                    CoreError::PassphraseNeeded(
                        "this home is locked with a passphrase: enter it (or set OUTPOST_PASSPHRASE)"
                            .into(),
                    )
                })?,
            };
            derive(&pass, spec)
        }
    }
}

/// Forgets a key that is no longer used (a keychain entry after a rekey).
pub fn forget(spec: &KeySpec) {
    if let KeySpec::Keychain { account } = spec {
        keychain_delete(account);
    }
}

/// Whether an OS keychain can be used right now (for the first-run
/// screen: ask for a passphrase only when it cannot).
pub fn keychain_available() -> bool {
    if !keychain_allowed() {
        return false;
    }
    let probe = "outpost-probe";
    let ok = keychain_entry(probe)
        .and_then(|e| {
            e.set_password("probe")
                .map_err(|e| CoreError::Keychain(e.to_string()))?;
            e.get_password()
                .map_err(|e| CoreError::Keychain(e.to_string()))
        })
        .is_ok_and(|p| p == "probe");
    keychain_delete(probe);
    ok
}

/// A new key for a rekey: a passphrase, or the keychain.
pub fn create_for_rekey(unlock: &Unlock, account: &str) -> Result<(KeySpec, StoreKey)> {
    if let Unlock::Passphrase(p) = unlock {
        check_new_passphrase(p)?;
    }
    // A keychain rekey needs its own entry so the old one stays valid
    // until the store is re-encrypted.
    let account = format!("{account}-{}", crate::now_ms());
    create(unlock, &account)
}
