//! The one API both Outpost front ends call. The CLI (`outpost`) and the
//! desktop shell depend on this crate alone: they parse, call an operation
//! on [`Outpost`] (or one of the free functions here), and render what it
//! returns. Every rule about what a user may do, and every write, lives
//! here once:
//!
//! * opening a home and its keys — [`Outpost::init_with`],
//!   [`Outpost::open_with`], [`HomeState`], [`Outpost::rekey`];
//! * communities and profiles — [`Outpost::create_community`],
//!   [`Outpost::set_profile`];
//! * membership, invitations and joining — [`Outpost::invite`],
//!   [`Outpost::join`], [`Outpost::member_remove`];
//! * items and posts, each share checked for patient identifiers unless the
//!   caller says [`Sharing::AsWritten`] — [`Outpost::create_item`],
//!   [`Outpost::reply`], [`Outpost::protocol_save`];
//! * reading and search — [`Outpost::list`], [`Outpost::search`],
//!   [`Outpost::show`];
//! * sync — [`Outpost::start`] (the running node), [`Outpost::sync_known`],
//!   [`Outpost::connectivity`];
//! * USB-stick bundles and the readable copy — [`Outpost::export_bundle_to`],
//!   [`Outpost::import_bundle`], [`Outpost::export_markdown`].
//!
//! Errors are [`CoreError`]: a kind with data and a stable
//! [`CoreError::code`] for front ends to translate.

#![warn(missing_docs)]

mod bundle;
mod communities;
mod connectivity;
mod dates;
mod demo;
mod error;
mod home;
mod items;
mod join;
mod keys;
mod markdown;
mod membership;
mod open;
mod protocols;
mod read;
mod running;
mod sharing;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;

pub use bundle::{ExportSummary, ImportSummary, read_bundle, suggested_export_paths};
pub use connectivity::{Connectivity, PeerView, Status, SyncProgress};
pub use dates::{INVALID_DATE, display_date, display_time};
pub use demo::{DemoSummary, generate_cases};
pub use error::{Busy, CoreError, Denied, FieldFinding, Result, TargetKind};
pub use home::resolve_home;
pub use items::PostRef;
pub use join::Joined;
pub use keys::{MIN_PASSPHRASE, Unlock, check_new_passphrase};
pub use membership::{
    DEFAULT_INVITE_TTL, Invitation, MAX_INVITE_TTL, MIN_INVITE_TTL, MemberInfo, parse_device_id,
};
pub use open::{HomeState, LockKind};
pub use protocols::ProtocolSaved;
pub use read::{HistoryLine, ItemDetail};
pub use running::{ChangedDoc, RelayOptions, Running, SyncSummary};
pub use sharing::{Sharing, TextFinding, scan, scan_text};

// The plain types front ends send and receive, from the crates below.
pub use outpost_model::{
    AgeBand, Answer, BadId, CaseFields, CaseStatus, Community, CommunityId, DeviceId, DocId,
    HistoryEntry, Item, ItemStatus, Kind, Member, MemberProfile, NewCase, NewCommunity, NewItem,
    NewProtocol, NewQuestion, Post, PostId, PostKind, Problem, ProtocolFields, ProtocolStatus,
    QuestionFields, QuestionStatus, Role, Setting, Sex, ValidationError, limits,
};
pub use outpost_net::{NetConfig, RelayTls};

/// The log filter front ends use unless the user sets one: warnings, but
/// not the QUIC stack's notes about paths that close on every outage
/// (`failed closing path err=LastOpenPath`), which are expected.
pub const LOG_FILTER: &str = "warn,noq_proto=error";
pub use outpost_scan::{Category, Finding};
pub use outpost_store::{
    CommunityRow, ForkRow, ItemRow, ListFilter, PeerRow, PendingInvite, RefusedChange, SNIPPET_END,
    SNIPPET_START, SearchHit,
};

use automerge::ActorId;
use home::DeviceKey;
use outpost_store::{Store, StoreKey};
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut n = [0u8; N];
    getrandom::fill(&mut n).map_err(|e| CoreError::Home(format!("no system randomness: {e}")))?;
    Ok(n)
}

/// A fresh random id (a UUID) of any of the id types.
fn new_id<T: TryFrom<String>>() -> T {
    T::try_from(uuid::Uuid::new_v4().to_string())
        .unwrap_or_else(|_| unreachable!("a UUID is a well-formed id"))
}

/// This device and its profile.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Whoami {
    /// The device id (hex ed25519 public key): what an admin adds by hand.
    pub id: DeviceId,
    /// The profile other members see.
    #[serde(flatten)]
    pub profile: MemberProfile,
    /// The home folder.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub home: PathBuf,
}

/// An open Outpost home: the device key, the profile and the encrypted
/// store. Every operation a user can do is a method on it.
pub struct Outpost {
    home: PathBuf,
    key: DeviceKey,
    actor: ActorId,
    profile: MemberProfile,
    store: Store,
    store_key: StoreKey,
    lock: Arc<File>,
}

impl Outpost {
    /// This device's profile.
    pub fn profile(&self) -> &MemberProfile {
        &self.profile
    }

    /// This device's id: the public key members know it by.
    pub fn device_id(&self) -> DeviceId {
        self.key.id()
    }

    /// The home folder.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// This device, its profile and its home.
    pub fn whoami(&self) -> Whoami {
        Whoami {
            id: self.key.id(),
            profile: self.profile.clone(),
            home: self.home.clone(),
        }
    }

    /// The store, for tests that inspect what an operation wrote.
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, for tests that write what a modified client would.
    #[cfg(feature = "testing")]
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The device's signing key, for tests that forge or sign by hand.
    #[cfg(feature = "testing")]
    pub fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        self.key.signing()
    }
}
