//! Outpost's desktop shell. Each command is wiring around `outpost-core`;
//! the shell adds only what a window needs: the background sync node (the
//! same one `outpost serve` runs), and events that tell open views a
//! document changed or the connectivity picture moved.

pub mod bindings;
mod commands;

use outpost_core::{ChangedDoc, CoreError, NetConfig, Outpost, Running};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tauri::{Emitter, Manager};

/// Event names the UI listens to.
pub const EVENT_CHANGED: &str = "outpost://changed";
pub const EVENT_STATUS: &str = "outpost://status";

/// An error as the UI receives it: a stable `code` it translates through
/// its locale files (filling `params`), the English `message` as a
/// fallback, and the form field it is about, if any.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct UiError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub params: BTreeMap<String, String>,
}

impl From<CoreError> for UiError {
    fn from(e: CoreError) -> Self {
        UiError {
            code: e.code().to_string(),
            message: e.to_string(),
            field: e.field().map(str::to_string),
            params: e
                .params()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }
}

impl UiError {
    /// An error of the shell itself (no core code applies).
    fn msg(message: impl Into<String>) -> Self {
        UiError {
            code: "app".into(),
            message: message.into(),
            field: None,
            params: BTreeMap::new(),
        }
    }

    /// An error about the form field `field`.
    fn at(field: &str, code: &str, message: &str) -> Self {
        UiError {
            code: code.into(),
            message: message.into(),
            field: Some(field.into()),
            params: BTreeMap::new(),
        }
    }

    /// The same error, about the form field `field`.
    fn at_field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Documents that changed (here, in another process on this home, or
/// from a peer), as `EVENT_CHANGED` carries them.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Changed {
    pub docs: Vec<ChangedDoc>,
}

/// What the window holds: the open home (none until the user has created
/// a profile) and the background node.
pub struct Shell {
    home: PathBuf,
    op: Mutex<Option<Outpost>>,
    running: Mutex<Option<Arc<Running>>>,
    /// The event pumps started with the node (each holds the home open).
    pumps: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
    net: NetConfig,
    /// Why the home did not open at launch (shown when it is set up but
    /// neither open nor waiting for a passphrase, e.g. the keychain is
    /// unavailable).
    open_error: Option<UiError>,
}

impl Shell {
    fn new(home: PathBuf, net: NetConfig) -> Self {
        let (op, open_error) = match Outpost::open(&home) {
            Ok(op) => (Some(op), None),
            Err(e) => (None, Some(UiError::from(e))),
        };
        Shell {
            home,
            op: Mutex::new(op),
            running: Mutex::new(None),
            pumps: Mutex::new(Vec::new()),
            net,
            open_error,
        }
    }

    /// The slot holding the open home (none before first run or unlock).
    pub(crate) fn slot(&self) -> Result<MutexGuard<'_, Option<Outpost>>, UiError> {
        self.op
            .lock()
            .map_err(|_| UiError::msg("the app's state is unusable; restart Outpost"))
    }

    /// Runs `f` on the open home; an error if the profile is not made yet.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Outpost) -> outpost_core::Result<T>,
    ) -> Result<T, UiError> {
        let mut guard = self.slot()?;
        let op = guard
            .as_mut()
            .ok_or_else(|| UiError::msg("create your profile first"))?;
        Ok(f(op)?)
    }

    pub(crate) fn running(&self) -> Option<Arc<Running>> {
        self.running.lock().ok().and_then(|r| r.clone())
    }
}

/// Starts the background node and the event pumps for an open home. Called
/// at launch and when the profile is first created.
pub(crate) fn start_background(app: &tauri::AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || {
        let shell = app.state::<Shell>();
        // The relay URL set in the home applies (core fills it in).
        let config = shell.net.clone();
        // A second handle on the home for the node: the window's keeps
        // serving commands while the node starts.
        let op = match shell.with(|op| op.reopen()) {
            Ok(op) => op,
            Err(e) => {
                tracing::error!("opening the home for the sync node: {}", e.message);
                return;
            }
        };
        let running = match tauri::async_runtime::block_on(op.start(&config, None)) {
            Ok(r) => Arc::new(r),
            Err(e) => {
                // Everything local still works; the indicator shows offline.
                tracing::error!("starting the sync node: {e}");
                return;
            }
        };
        if let Ok(mut slot) = shell.running.lock() {
            *slot = Some(running);
        }
        let events = app.clone();
        let watch = op.watch_changes(std::time::Duration::from_millis(150), move |docs| {
            let changed = Changed {
                docs: docs.to_vec(),
            };
            if let Err(e) = events.emit(EVENT_CHANGED, changed) {
                tracing::warn!("emitting a change event: {e}");
            }
        });
        let status_op = op.reopen();
        drop(op);
        let feed = tauri::async_runtime::spawn(watch);
        let status = app.clone();
        let pump = tauri::async_runtime::spawn(async move {
            // Its own handle on the home, so working out the picture never
            // holds up a command the user is waiting for.
            let op = match status_op {
                Ok(op) => op,
                Err(e) => {
                    tracing::error!("opening the home for status: {e}");
                    return;
                }
            };
            let mut last = None;
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(750)).await;
                let running = status.state::<Shell>().running();
                let Ok(now) = op.connectivity(running.as_deref()) else {
                    continue;
                };
                if last.as_ref() != Some(&now) {
                    if let Err(e) = status.emit(EVENT_STATUS, &now) {
                        tracing::warn!("emitting a status event: {e}");
                    }
                    last = Some(now);
                }
            }
        });
        if let Ok(mut pumps) = shell.pumps.lock() {
            pumps.extend([feed, pump]);
        }
    });
}

/// Stops the node and the event pumps, so that only the window's handle
/// holds the home open (for a key change); [`start_background`] starts
/// them again.
pub(crate) async fn stop_background(shell: &Shell) -> Result<(), UiError> {
    // A command or the status pump may hold the node for a moment.
    let mut tries = 0;
    let running = loop {
        let taken = shell.running.lock().ok().and_then(|mut r| r.take());
        match taken.map(Arc::try_unwrap) {
            None => break None,
            Some(Ok(r)) => break Some(r),
            Some(Err(still_used)) => {
                if let Ok(mut slot) = shell.running.lock() {
                    *slot = Some(still_used);
                }
                tries += 1;
                if tries == 40 {
                    return Err(UiError::msg("the sync node is busy; try again in a moment"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    let pumps: Vec<_> = shell
        .pumps
        .lock()
        .map(|mut p| p.drain(..).collect())
        .unwrap_or_default();
    for p in &pumps {
        p.abort();
    }
    for p in pumps {
        let _ = p.await;
    }
    if let Some(r) = running {
        r.shutdown().await;
    }
    Ok(())
}

/// Where the app keeps its home: `OUTPOST_HOME`, else the platform's data
/// directory (the same home the CLI uses).
fn home() -> anyhow::Result<PathBuf> {
    Ok(outpost_core::resolve_home(None)?)
}

/// The node's network settings. `OUTPOST_BIND` (e.g. `127.0.0.1:0`) and
/// `OUTPOST_NO_MDNS=1` exist for tests and for machines that must not
/// advertise themselves on the LAN.
fn net_config() -> anyhow::Result<NetConfig> {
    let mut config = NetConfig::default();
    if let Ok(bind) = std::env::var("OUTPOST_BIND") {
        config.bind = bind
            .parse()
            .map_err(|e| anyhow::anyhow!("OUTPOST_BIND '{bind}': {e}"))?;
    }
    if std::env::var("OUTPOST_NO_MDNS").is_ok_and(|v| v == "1") {
        config.mdns = false;
    }
    Ok(config)
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| format!("{},outpost=info", outpost_core::LOG_FILTER).into()),
        )
        .init();
    if let Err(e) = run_app() {
        eprintln!("outpost: {e:#}");
        std::process::exit(1);
    }
}

fn run_app() -> anyhow::Result<()> {
    let shell = Shell::new(home()?, net_config()?);
    let app = tauri::Builder::default()
        .manage(shell)
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let opened = app
                .state::<Shell>()
                .op
                .lock()
                .map(|op| op.is_some())
                .unwrap_or(false);
            if opened {
                start_background(app.handle());
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            let running = app
                .state::<Shell>()
                .running
                .lock()
                .ok()
                .and_then(|mut r| r.take());
            if let Some(r) = running.and_then(Arc::into_inner) {
                tauri::async_runtime::block_on(r.shutdown());
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_errors_land_at_the_passphrase_field() {
        for e in [
            CoreError::WrongPassphrase,
            CoreError::WeakPassphrase { min: 8 },
            CoreError::PassphraseNeeded("choose one".into()),
        ] {
            let ui = UiError::from(e);
            assert_eq!(ui.field.as_deref(), Some("passphrase"), "{}", ui.message);
        }
        assert_eq!(UiError::from(CoreError::Home("x".into())).field, None);
    }

    /// The codes a `fn code` in `file` (relative to the workspace) returns.
    fn codes_in(file: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(file);
        let text = std::fs::read_to_string(&path).expect("source file");
        let mut codes = vec![];
        for (at, _) in text.match_indices("fn code(&self) -> &'static str {") {
            let body = &text[at..];
            let body = &body[..body.find("\n    }").unwrap_or(body.len())];
            for part in body.split("=> \"").skip(1) {
                if let Some(code) = part.split('"').next() {
                    codes.push(code.to_string());
                }
            }
        }
        assert!(!codes.is_empty(), "no codes found in {file}");
        codes
    }

    /// Every error code the backend can send has a sentence in every
    /// locale, so a Spanish user never reads the backend's English one.
    #[test]
    fn every_error_code_is_translated_in_every_locale() {
        let mut codes = codes_in("crates/outpost-core/src/error.rs");
        codes.extend(codes_in("crates/outpost-model/src/types/validation.rs"));
        let shell = include_str!("commands.rs");
        for part in shell.split("UiError::at(").skip(1) {
            if let Some(code) = part.split(',').nth(1) {
                codes.push(code.trim().trim_matches('"').to_string());
            }
        }
        for (name, text) in [
            ("en", include_str!("../../ui/src/locales/en.json")),
            ("es", include_str!("../../ui/src/locales/es.json")),
        ] {
            let locale: BTreeMap<String, String> = serde_json::from_str(text).expect("locale");
            let missing: Vec<&String> = codes
                .iter()
                .filter(|c| !locale.contains_key(&format!("error.{c}")))
                .collect();
            assert!(missing.is_empty(), "{name} has no sentence for {missing:?}");
        }
    }

    #[test]
    fn a_malformed_id_from_the_window_is_a_bad_id_error() {
        let ui = crate::commands::doc_id("a/b").expect_err("refused");
        assert_eq!(ui.code, "bad_id");
        assert_eq!(ui.params.get("id").map(String::as_str), Some("a/b"));
    }

    #[test]
    fn errors_carry_a_code_and_the_values_a_translation_needs() {
        let ui = UiError::from(CoreError::NotFound("3f2a".into()));
        assert_eq!(ui.code, "not_found");
        assert_eq!(ui.params.get("id").map(String::as_str), Some("3f2a"));
    }
}
