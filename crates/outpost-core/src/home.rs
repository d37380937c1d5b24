//! The home directory and the device key (kept inside the encrypted store;
//! homes from before encryption had it in `device.key`).

use crate::{CoreError, Result};
use std::fs;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "device.key";
pub const STORE_FILE: &str = "outpost.db";
/// Empty; every process with the home open holds a shared lock on it.
pub const LOCK_FILE: &str = "outpost.lock";

/// Where Outpost keeps its files: `--home`, else `$OUTPOST_HOME`, else the
/// platform data directory (`~/.local/share/outpost` on Linux).
pub fn resolve_home(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("OUTPOST_HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    dirs::data_dir()
        .map(|d| d.join("outpost"))
        .ok_or_else(|| CoreError::Home("no home directory: pass --home or set OUTPOST_HOME".into()))
}

/// The device's ed25519 key. Its public half is this device's identity: the
/// Automerge actor of every change it makes and (with sync) its iroh
/// endpoint id.
#[derive(Clone)]
pub struct DeviceKey {
    signing: ed25519_dalek::SigningKey,
}

impl DeviceKey {
    pub fn generate() -> Result<Self> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
        Ok(Self {
            signing: ed25519_dalek::SigningKey::from_bytes(&secret),
        })
    }

    pub fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.public())
    }

    /// The id members know this device by.
    pub fn id(&self) -> outpost_model::DeviceId {
        outpost_model::DeviceId::from_bytes(self.public())
    }

    pub fn signing(&self) -> &ed25519_dalek::SigningKey {
        &self.signing
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// A key from its secret in hex.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| "not a device key (expected 64 hex digits)".to_string())?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "not a device key (expected 64 hex digits)".to_string())?;
        Ok(Self {
            signing: ed25519_dalek::SigningKey::from_bytes(&secret),
        })
    }

    /// Reads a key file from an Outpost that kept the key beside the
    /// store: one line, the secret key in hex.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |msg: String| CoreError::Key {
            path: path.to_path_buf(),
            msg,
        };
        let text = fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        Self::from_hex(&text).map_err(bad)
    }
}

/// Writes `bytes` to `path` readable by its owner only, atomically (temp
/// file, fsync, rename, fsync the directory): a crash leaves the old file
/// or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    });
    if let Err(e) = written {
        // A full or pulled-out USB stick: leave no half-written file behind.
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    // Makes the rename itself durable (Windows cannot open a folder as a
    // file; its rename is already journaled).
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
