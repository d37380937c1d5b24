//! The commands the UI invokes. Each is a few lines around `outpost-core`.
//!
//! This file is where a command is declared, once: a `#[tauri::command]`
//! fn, named in `handler()`'s `generate_handler!` below. The rest follows
//! from it or is checked against it:
//!
//! - `build.rs` reads this file for the `#[tauri::command]` fns and makes
//!   them the app manifest's commands, so tauri-build generates an
//!   `allow-<command>` permission for each (`foo_bar` → `allow-foo-bar`);
//! - `capabilities/main.json` grants the main window those permissions
//!   (tauri-build rejects one that does not exist);
//! - `tests/command_drift.rs` fails when `generate_handler!`, the
//!   capability, `ui/src/lib/api.ts`'s `invoke`s or the browser tests' mock
//!   backend (`ui/src/mock/backend.ts`) disagree with the fns here; the
//!   mock also fails a browser test at run time on a command it lacks.
//!
//! So a new command is: the fn here, its name in `generate_handler!`, its
//! `allow-…` in `capabilities/main.json`, a wrapper in `api.ts` and a
//! `case` in the mock; the drift test names a missing entry, permission or
//! case, and any left behind by a command removed here.

use crate::{Shell, UiError, start_background, stop_background};
use outpost_core::{
    CaseStatus, Community, CommunityRow, Connectivity, DemoSummary, ExportSummary, HistoryLine,
    HomeState, ImportSummary, Invitation, ItemDetail, ItemRow, Joined, ListFilter, LockKind,
    MemberInfo, MemberProfile, NewCommunity, NewItem, Outpost, PendingInvite, PostRef,
    ProtocolSaved, ProtocolStatus, Role, SearchHit, Sharing, TextFinding, Unlock, Whoami,
};
use outpost_core::{CommunityId, CoreError, DeviceId, DocId, PostId};
use serde::Serialize;
use std::path::PathBuf;
use tauri::State;

type Res<T> = Result<T, UiError>;

/// Ids the window sends are checked for form where they come in; a bad one
/// is a `bad_id` error the window translates.
fn community_id(text: &str) -> Res<CommunityId> {
    Ok(CommunityId::parse(text).map_err(CoreError::from)?)
}

pub(crate) fn doc_id(text: &str) -> Res<DocId> {
    Ok(DocId::parse(text).map_err(CoreError::from)?)
}

fn post_id(text: &str) -> Res<PostId> {
    Ok(PostId::parse(text).map_err(CoreError::from)?)
}

/// What the window needs at launch.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AppInfo {
    /// None until the user has created a profile (first run) or, on a home
    /// locked with a passphrase, until it is unlocked.
    pub me: Option<Whoami>,
    pub communities: Vec<CommunityRow>,
    /// The home is set up but locked: ask for its passphrase.
    pub locked: bool,
    /// On first run: the user must choose a passphrase (no OS keychain can
    /// hold the store key, and `OUTPOST_PASSPHRASE` is not set).
    pub ask_passphrase: bool,
    /// How the open home is locked.
    pub lock: Option<LockKind>,
}

/// A community's home: domain, charter, members, recent activity.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CommunityView {
    pub community: Community,
    pub members: Vec<MemberInfo>,
    pub recent: Vec<ItemRow>,
    /// This device may invite and manage members.
    pub admin: bool,
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_state,
        unlock,
        init_profile,
        scan_text,
        set_profile,
        create_community,
        open_demo,
        join,
        community,
        list_items,
        search,
        show,
        history,
        create_item,
        reply,
        case_outcome,
        case_status,
        answer,
        accept,
        helpful,
        protocol_save,
        protocol_status,
        protocol_review_date,
        protocol_add_reference,
        comment,
        members,
        member_remove,
        member_role,
        invite,
        pending_invites,
        revoke_invite,
        refused_changes,
        forks,
        connectivity,
        set_relay_url,
        exchange_info,
        export_bundle,
        import_bundle,
        export_markdown,
        member_add,
        change_passphrase,
    ]
}

#[tauri::command(async)]
fn app_state(shell: State<'_, Shell>) -> Res<AppInfo> {
    match shell.with(|op| Ok((op.whoami(), op.communities()?, op.locked_with()?))) {
        Ok((me, communities, lock)) => Ok(AppInfo {
            me: Some(me),
            communities,
            locked: false,
            ask_passphrase: false,
            lock: Some(lock),
        }),
        Err(_) => {
            let home = HomeState::of(&shell.home)?;
            if home.lock == Some(LockKind::Keychain) {
                // A passphrase cannot help: say what went wrong instead.
                return Err(shell.open_error.clone().unwrap_or_else(|| {
                    UiError::msg("Outpost could not read this computer's key from the OS keychain")
                }));
            }
            Ok(AppInfo {
                me: None,
                communities: vec![],
                locked: home.set_up,
                ask_passphrase: home.needs_new_passphrase,
                lock: None,
            })
        }
    }
}

/// Opens a home locked with a passphrase, then starts the node. A wrong
/// passphrase is an error at the passphrase field and changes nothing.
#[tauri::command(async)]
fn unlock(app: tauri::AppHandle, shell: State<'_, Shell>, passphrase: String) -> Res<AppInfo> {
    let mut slot = shell.slot()?;
    if slot.is_none() {
        let op = Outpost::open_with(&shell.home, &Unlock::passphrase(&passphrase))?;
        *slot = Some(op);
        drop(slot);
        start_background(&app);
    } else {
        drop(slot);
    }
    app_state(shell)
}

/// First run: creates the device key, the encrypted store and the
/// profile, then starts the node. `passphrase` is needed only when the OS
/// keychain cannot hold the store key.
#[tauri::command(async)]
fn init_profile(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    profile: MemberProfile,
    passphrase: Option<String>,
) -> Res<Whoami> {
    let mut slot = shell.slot()?;
    if slot.is_some() {
        return Err(UiError::msg("a profile already exists on this computer"));
    }
    let unlock = match passphrase.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Unlock::passphrase(p),
        None => Unlock::Auto,
    };
    let op = Outpost::init_with(&shell.home, profile, &unlock)?;
    let me = op.whoami();
    *slot = Some(op);
    drop(slot);
    start_background(&app);
    Ok(me)
}

/// Scans each text the user is about to share (a form's free-text
/// fields) for patient identifiers: one list of findings per text.
#[tauri::command(async)]
fn scan_text(texts: Vec<String>) -> Vec<Vec<TextFinding>> {
    outpost_core::scan_text(&texts)
}

#[tauri::command(async)]
fn set_profile(shell: State<'_, Shell>, profile: MemberProfile) -> Res<Whoami> {
    // Also republishes the profile in every community this member is in.
    shell.with(|op| op.set_profile(profile))
}

#[tauri::command(async)]
fn create_community(shell: State<'_, Shell>, community: NewCommunity) -> Res<CommunityRow> {
    shell.with(|op| op.create_community(community))
}

#[tauri::command(async)]
fn open_demo(shell: State<'_, Shell>) -> Res<DemoSummary> {
    shell.with(|op| op.demo())
}

/// Redeems an invitation over the running node, on a handle of its own
/// (the window's keeps answering while the inviter is reached).
#[tauri::command]
async fn join(shell: State<'_, Shell>, ticket: String) -> Res<Joined> {
    let running = shell
        .running()
        .ok_or_else(|| UiError::msg("the sync node is not running yet; try again in a moment"))?;
    let mut op = shell.with(|op| op.reopen())?;
    Ok(op.join(&running, &ticket).await?)
}

#[tauri::command(async)]
fn community(shell: State<'_, Shell>, id: String) -> Res<CommunityView> {
    let id = community_id(&id)?;
    shell.with(|op| {
        let community = op.community(&id)?;
        let admin = op.is_admin(&community.id)?;
        let recent = op.list(&ListFilter {
            community: Some(community.id.clone()),
            limit: Some(12),
            ..ListFilter::default()
        })?;
        Ok(CommunityView {
            members: op.members(&community.id)?,
            community,
            recent,
            admin,
        })
    })
}

#[tauri::command(async)]
fn list_items(shell: State<'_, Shell>, filter: ListFilter) -> Res<Vec<ItemRow>> {
    shell.with(|op| op.list(&filter))
}

#[tauri::command(async)]
fn search(shell: State<'_, Shell>, query: String, filter: ListFilter) -> Res<Vec<SearchHit>> {
    shell.with(|op| op.search(&query, &filter))
}

#[tauri::command(async)]
fn show(shell: State<'_, Shell>, id: String) -> Res<ItemDetail> {
    let id = doc_id(&id)?;
    shell.with(|op| op.show(&id))
}

#[tauri::command(async)]
fn history(shell: State<'_, Shell>, id: String) -> Res<Vec<HistoryLine>> {
    let id = doc_id(&id)?;
    shell.with(|op| op.history(&id))
}

#[tauri::command(async)]
fn create_item(
    shell: State<'_, Shell>,
    community: String,
    item: NewItem,
    share: Sharing,
) -> Res<ItemRow> {
    let community = community_id(&community)?;
    shell.with(|op| op.create_item(&community, item, share))
}

#[tauri::command(async)]
fn reply(shell: State<'_, Shell>, case: String, body: String, share: Sharing) -> Res<PostRef> {
    let case = doc_id(&case)?;
    shell.with(|op| op.reply(&case, &body, share))
}

#[tauri::command(async)]
fn case_outcome(
    shell: State<'_, Shell>,
    case: String,
    outcome: String,
    share: Sharing,
) -> Res<ItemRow> {
    let case = doc_id(&case)?;
    shell.with(|op| op.case_outcome(&case, &outcome, share))
}

#[tauri::command(async)]
fn case_status(shell: State<'_, Shell>, case: String, status: CaseStatus) -> Res<ItemRow> {
    let case = doc_id(&case)?;
    shell.with(|op| op.case_status(&case, status))
}

#[tauri::command(async)]
fn answer(shell: State<'_, Shell>, question: String, body: String, share: Sharing) -> Res<PostRef> {
    let question = doc_id(&question)?;
    shell.with(|op| op.answer(&question, &body, share))
}

#[tauri::command(async)]
fn accept(shell: State<'_, Shell>, answer: String) -> Res<PostRef> {
    let answer = post_id(&answer)?;
    shell.with(|op| op.accept(&answer))
}

#[tauri::command(async)]
fn helpful(shell: State<'_, Shell>, answer: String) -> Res<bool> {
    let answer = post_id(&answer)?;
    shell.with(|op| op.helpful(&answer))
}

#[tauri::command(async)]
fn protocol_save(
    shell: State<'_, Shell>,
    id: String,
    base: Vec<String>,
    body: String,
    share: Sharing,
) -> Res<ProtocolSaved> {
    let id = doc_id(&id)?;
    shell.with(|op| op.protocol_save(&id, &base, &body, share))
}

#[tauri::command(async)]
fn protocol_status(shell: State<'_, Shell>, id: String, status: ProtocolStatus) -> Res<ItemRow> {
    let id = doc_id(&id)?;
    shell.with(|op| op.protocol_status(&id, status))
}

#[tauri::command(async)]
fn protocol_review_date(shell: State<'_, Shell>, id: String, date: Option<String>) -> Res<ItemRow> {
    let id = doc_id(&id)?;
    shell.with(|op| op.protocol_review_date(&id, date.as_deref()))
}

#[tauri::command(async)]
fn protocol_add_reference(
    shell: State<'_, Shell>,
    id: String,
    reference: String,
    share: Sharing,
) -> Res<ItemRow> {
    let id = doc_id(&id)?;
    shell.with(|op| op.protocol_add_reference(&id, &reference, share))
}

#[tauri::command(async)]
fn comment(shell: State<'_, Shell>, item: String, body: String, share: Sharing) -> Res<PostRef> {
    let item = doc_id(&item)?;
    shell.with(|op| op.comment(&item, &body, share))
}

#[tauri::command(async)]
fn members(shell: State<'_, Shell>, community: String) -> Res<Vec<MemberInfo>> {
    let community = community_id(&community)?;
    shell.with(|op| op.members(&community))
}

#[tauri::command(async)]
fn member_remove(shell: State<'_, Shell>, community: String, member: String) -> Res<DeviceId> {
    let community = community_id(&community)?;
    shell.with(|op| {
        let member = op.resolve_member(&community, &member)?;
        op.member_remove(&community, member)
    })
}

#[tauri::command(async)]
fn member_role(
    shell: State<'_, Shell>,
    community: String,
    member: String,
    role: Role,
) -> Res<DeviceId> {
    let community = community_id(&community)?;
    shell.with(|op| {
        let member = op.resolve_member(&community, &member)?;
        op.member_role(&community, member, role)
    })
}

/// A one-time invitation, valid for `days` (core's default when absent).
#[tauri::command(async)]
fn invite(shell: State<'_, Shell>, community: String, days: Option<u32>) -> Res<Invitation> {
    let ttl = days.map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400));
    let community = community_id(&community)?;
    shell.with(|op| op.invite(&community, ttl))
}

/// The community's invitations not yet redeemed, revoked or expired
/// (admins).
#[tauri::command(async)]
fn pending_invites(shell: State<'_, Shell>, community: String) -> Res<Vec<PendingInvite>> {
    let community = community_id(&community)?;
    shell.with(|op| op.pending_invites(&community))
}

/// Changes a merge refused in the community, newest first, with the
/// device and the rule (admins).
#[tauri::command(async)]
fn refused_changes(
    shell: State<'_, Shell>,
    community: String,
) -> Res<Vec<outpost_core::RefusedChange>> {
    let community = community_id(&community)?;
    shell.with(|op| op.refused_changes(&community))
}

/// Devices proven to have forked a document's history (admins).
#[tauri::command(async)]
fn forks(shell: State<'_, Shell>, community: String) -> Res<Vec<outpost_core::ForkRow>> {
    let community = community_id(&community)?;
    shell.with(|op| op.forks(&community))
}

/// Revokes a pending invitation: its ticket stops working.
#[tauri::command(async)]
fn revoke_invite(shell: State<'_, Shell>, community: String, invitation: String) -> Res<()> {
    let community = community_id(&community)?;
    shell.with(|op| op.revoke_invite(&community, &invitation))
}

#[tauri::command(async)]
fn connectivity(shell: State<'_, Shell>) -> Res<Connectivity> {
    let running = shell.running();
    shell.with(|op| op.connectivity(running.as_deref()))
}

/// Sets or clears the relay URL; the node uses it from the next launch.
#[tauri::command(async)]
fn set_relay_url(shell: State<'_, Shell>, url: Option<String>) -> Res<Option<String>> {
    shell.with(|op| op.set_relay_url(url.as_deref()))
}

/// What the "USB stick" screen needs: this computer's id (read to an admin
/// who adds it by hand) and where copies go unless the user chooses.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ExchangeInfo {
    pub device: DeviceId,
    pub bundle_path: String,
    pub markdown_dir: String,
    /// This device may add members by id.
    pub admin: bool,
}

#[tauri::command(async)]
fn exchange_info(shell: State<'_, Shell>, community: String) -> Res<ExchangeInfo> {
    let community = community_id(&community)?;
    shell.with(|op| {
        let c = op.community(&community)?;
        let (bundle, markdown) = outpost_core::suggested_export_paths(&c.name);
        Ok(ExchangeInfo {
            admin: op.is_admin(&c.id)?,
            device: op.device_id(),
            bundle_path: bundle.display().to_string(),
            markdown_dir: markdown.display().to_string(),
        })
    })
}

/// A path the user typed or chose, for the form field `field`: `~/` is
/// their home folder; anything else must be a full path.
fn user_path(text: &str, field: &str) -> Res<PathBuf> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UiError::at(field, "required", "This is required."));
    }
    let path = match text.strip_prefix("~/") {
        Some(rest) => dirs::home_dir()
            .ok_or_else(|| {
                UiError::at(
                    field,
                    "no_home_folder",
                    "this computer has no home folder; give the full path",
                )
            })?
            .join(rest),
        None => PathBuf::from(text),
    };
    if !path.is_absolute() {
        return Err(UiError::at(
            field,
            "not_a_full_path",
            "give the full path (or press Choose…)",
        ));
    }
    Ok(path)
}

/// Writes an encrypted, signed bundle of `community` to `path`.
#[tauri::command(async)]
fn export_bundle(
    shell: State<'_, Shell>,
    community: String,
    path: String,
    passphrase: String,
) -> Res<ExportSummary> {
    let path = user_path(&path, "path")?;
    let community = community_id(&community)?;
    // Its own handle: seconds of work for a large community, while the
    // window's handle keeps answering.
    let op = shell.with(|op| op.reopen())?;
    Ok(op.export_bundle_to(&community, &passphrase, &path)?)
}

/// Merges a bundle from `path`; a bad file, passphrase or signer changes
/// nothing.
#[tauri::command(async)]
fn import_bundle(shell: State<'_, Shell>, path: String, passphrase: String) -> Res<ImportSummary> {
    let path = user_path(&path, "path")?;
    let bytes = outpost_core::read_bundle(&path).map_err(|e| UiError::from(e).at_field("path"))?;
    let mut op = shell.with(|op| op.reopen())?;
    Ok(op.import_bundle(&bytes, &passphrase)?)
}

/// Writes the readable Markdown copy of `community` into `dir`; returns
/// how many files.
#[tauri::command(async)]
fn export_markdown(shell: State<'_, Shell>, community: String, dir: String) -> Res<usize> {
    let dir = user_path(&dir, "dir")?;
    if dir.is_file() {
        return Err(UiError::at(
            "dir",
            "not_a_folder",
            "this is a file; choose a folder",
        ));
    }
    let community = community_id(&community)?;
    let op = shell.with(|op| op.reopen())?;
    Ok(op.export_markdown(&community, &dir)?.len())
}

/// Adds a member by their device id (an admin, for a site that joins by
/// USB stick); returns the full id.
#[tauri::command(async)]
fn member_add(shell: State<'_, Shell>, community: String, device: String) -> Res<DeviceId> {
    let community = community_id(&community)?;
    let device = outpost_core::parse_device_id(&device)?;
    shell.with(|op| op.member_add(&community, device))
}

/// Changes the passphrase the home is locked with (or sets one, for a
/// home keyed in the OS keychain): checks `current`, stops the sync node
/// so nothing else holds the home open, re-encrypts, starts it again. A
/// wrong current passphrase or a refused new one changes nothing.
#[tauri::command]
async fn change_passphrase(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    current: String,
    new: String,
) -> Res<()> {
    shell.with(|op| op.check_passphrase(&current))?;
    outpost_core::check_new_passphrase(&new).map_err(|e| UiError::from(e).at_field("new"))?;
    stop_background(&shell).await?;
    let changed = shell.with(|op| op.rekey(&Unlock::passphrase(&new)).map(|_| ()));
    start_background(&app);
    changed
}
