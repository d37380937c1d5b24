//! The dependency direction ARCHITECTURE.md documents, checked against the
//! workspace's manifests (`cargo metadata --no-deps`):
//! model ← sync ← store/net ← core ← cli/src-tauri, with `outpost-scan` a
//! leaf only core uses. Only normal dependencies count (dev and build
//! dependencies may reach anywhere a test or build script needs).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;

const MODEL: &str = "outpost-model";
const SYNC: &str = "outpost-sync";
const STORE: &str = "outpost-store";
const NET: &str = "outpost-net";
const SCAN: &str = "outpost-scan";
const CORE: &str = "outpost-core";
const CLI: &str = "outpost-cli";
const DESKTOP: &str = "outpost-desktop";

/// The crates the layering is about.
const LAYERED: &[&str] = &[MODEL, SYNC, STORE, NET, SCAN, CORE, CLI, DESKTOP];
/// Workspace members outside the layering: they may depend on anything.
const UNLAYERED: &[&str] = &["outpost-tests", "xtask"];
const FRONT_ENDS: &[&str] = &[CLI, DESKTOP];
/// Everything below `outpost-core`.
const BELOW_CORE: &[&str] = &[MODEL, SYNC, STORE, NET, SCAN];

/// One workspace crate as the architecture sees it.
#[derive(Debug, Default)]
struct Krate {
    /// Every normal (not dev, not build) dependency by package name,
    /// target-specific ones included.
    deps: BTreeSet<String>,
    /// The features each normal dependency is declared with.
    dep_features: BTreeMap<String, Vec<String>>,
    /// This crate's own `[features]`: name → what each enables.
    features: BTreeMap<String, Vec<String>>,
}

impl Krate {
    /// The normal dependencies that are workspace crates.
    fn workspace_deps(&self) -> BTreeSet<&str> {
        let members = &workspace().members;
        self.deps
            .iter()
            .map(String::as_str)
            .filter(|d| members.contains(*d))
            .collect()
    }
}

struct Workspace {
    members: BTreeSet<String>,
    crates: BTreeMap<String, Krate>,
}

fn workspace() -> &'static Workspace {
    static WS: OnceLock<Workspace> = OnceLock::new();
    WS.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(root)
            .output()
            .expect("run cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut crates = BTreeMap::new();
        for package in meta["packages"].as_array().expect("packages") {
            let name = package["name"].as_str().expect("package name").to_string();
            let mut krate = Krate::default();
            for dep in package["dependencies"].as_array().expect("dependencies") {
                // `kind` is null for [dependencies], "dev" or "build" otherwise.
                if !dep["kind"].is_null() {
                    continue;
                }
                let dep_name = dep["name"].as_str().expect("dependency name").to_string();
                krate
                    .dep_features
                    .entry(dep_name.clone())
                    .or_default()
                    .extend(strings(&dep["features"]));
                krate.deps.insert(dep_name);
            }
            if let Some(features) = package["features"].as_object() {
                for (feature, enables) in features {
                    krate.features.insert(feature.clone(), strings(enables));
                }
            }
            crates.insert(name, krate);
        }
        Workspace {
            members: crates.keys().cloned().collect(),
            crates,
        }
    })
}

fn krate(name: &str) -> &'static Krate {
    workspace()
        .crates
        .get(name)
        .unwrap_or_else(|| panic!("no workspace crate named {name} (renamed? update this test)"))
}

/// Fails with every violation of `rule`, one line each.
fn check(rule: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "architecture rule broken: {rule}\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn every_workspace_crate_is_placed() {
    let known: BTreeSet<&str> = LAYERED.iter().chain(UNLAYERED).copied().collect();
    let violations = workspace()
        .members
        .iter()
        .filter(|m| !known.contains(m.as_str()))
        .map(|m| format!("{m} is a workspace crate this test does not know: place it in a layer"))
        .chain(
            LAYERED
                .iter()
                .filter(|k| !workspace().members.contains(**k))
                .map(|k| format!("{k} is not in the workspace (renamed or removed?)")),
        )
        .collect();
    check(
        "every workspace crate has a place in the layering",
        violations,
    );
}

#[test]
fn front_ends_depend_only_on_core() {
    let violations = FRONT_ENDS
        .iter()
        .flat_map(|fe| {
            krate(fe)
                .workspace_deps()
                .into_iter()
                .filter(|d| *d != CORE)
                .map(move |d| format!("{fe} depends on {d}; front ends reach it through {CORE}"))
        })
        .collect();
    check(
        "front ends (outpost-cli, outpost-desktop) depend on no workspace crate but outpost-core",
        violations,
    );
}

#[test]
fn front_ends_do_not_enable_core_testing() {
    let mut violations = Vec::new();
    for fe in FRONT_ENDS {
        let k = krate(fe);
        if let Some(features) = k.dep_features.get(CORE)
            && features.iter().any(|f| f == "testing")
        {
            violations.push(format!(
                "{fe} enables features = [\"testing\"] on its {CORE} dependency"
            ));
        }
        for (feature, enables) in &k.features {
            for e in enables {
                if e == "outpost-core/testing" || e == "outpost-core?/testing" {
                    violations.push(format!("{fe}'s feature `{feature}` enables {e}"));
                }
            }
        }
    }
    check(
        "front ends never enable outpost-core's `testing` feature (test-only API stays out of shipped binaries)",
        violations,
    );
}

#[test]
fn only_core_depends_on_both_store_and_net() {
    let violations = LAYERED
        .iter()
        .filter(|c| **c != CORE)
        .filter(|c| {
            let deps = krate(c).workspace_deps();
            deps.contains(STORE) && deps.contains(NET)
        })
        .map(|c| format!("{c} depends on both {STORE} and {NET}"))
        .collect();
    check(
        "outpost-core is the only crate that depends on both outpost-store and outpost-net",
        violations,
    );
}

#[test]
fn store_and_net_never_depend_on_each_other() {
    let mut violations = Vec::new();
    for (a, b) in [(STORE, NET), (NET, STORE)] {
        if krate(a).workspace_deps().contains(b) {
            violations.push(format!("{a} depends on {b}"));
        }
    }
    check(
        "outpost-store and outpost-net never depend on each other",
        violations,
    );
}

/// `krate`'s workspace dependencies must all be in `allowed`.
fn only(krate_name: &str, allowed: &[&str]) -> Vec<String> {
    krate(krate_name)
        .workspace_deps()
        .into_iter()
        .filter(|d| !allowed.contains(d))
        .map(|d| format!("{krate_name} depends on {d}"))
        .collect()
}

#[test]
fn model_depends_on_no_workspace_crate() {
    check(
        "outpost-model depends on no workspace crate",
        only(MODEL, &[]),
    );
}

#[test]
fn sync_depends_only_on_model() {
    check(
        "outpost-sync depends on no workspace crate but outpost-model",
        only(SYNC, &[MODEL]),
    );
}

#[test]
fn scan_depends_on_no_workspace_crate() {
    check(
        "outpost-scan is a leaf: it depends on no workspace crate",
        only(SCAN, &[]),
    );
}

#[test]
fn only_core_uses_scan() {
    let violations = LAYERED
        .iter()
        .filter(|c| **c != CORE && krate(c).workspace_deps().contains(SCAN))
        .map(|c| format!("{c} depends on {SCAN}"))
        .collect();
    check("outpost-scan is used by outpost-core alone", violations);
}

#[test]
fn nothing_below_core_depends_on_core_or_front_ends() {
    let violations = BELOW_CORE
        .iter()
        .flat_map(|c| {
            krate(c)
                .workspace_deps()
                .into_iter()
                .filter(|d| [CORE, CLI, DESKTOP].contains(d))
                .map(move |d| format!("{c} depends on {d}"))
        })
        .collect();
    check(
        "nothing below outpost-core depends on outpost-core, outpost-cli or outpost-desktop",
        violations,
    );
}

#[test]
fn model_and_sync_do_no_io() {
    let io = |d: &str| d == "tokio" || d == "rusqlite" || d == "iroh" || d.starts_with("iroh-");
    let violations = [MODEL, SYNC]
        .iter()
        .flat_map(|c| {
            krate(c)
                .deps
                .iter()
                .filter(|d| io(d))
                .map(move |d| format!("{c} depends on {d}"))
        })
        .collect();
    check(
        "outpost-model and outpost-sync do no I/O: no tokio, iroh (or iroh-*) or rusqlite",
        violations,
    );
}

/// The public signatures in `outpost-core`'s sources (`pub fn` and
/// `pub async fn`, up to their body), by file and function name.
fn core_signatures() -> Vec<(String, String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/outpost-core/src");
    let mut files = vec![];
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for (at, _) in text
            .match_indices("pub fn ")
            .chain(text.match_indices("pub async fn "))
        {
            let sig = &text[at..];
            let sig = &sig[..sig.find('{').unwrap_or(sig.len())];
            let sig: String = sig.split_whitespace().collect::<Vec<_>>().join(" ");
            let fname = sig
                .split("fn ")
                .nth(1)
                .and_then(|s| s.split(['(', '<']).next())
                .unwrap_or_default()
                .to_string();
            out.push((name.clone(), fname, sig));
        }
    }
    out
}

/// Core's operations take ids as their types (`CommunityId`, `DocId`,
/// `PostId`, `DeviceId`), so one kind of id cannot be passed for another
/// and text is checked once where it enters: only the `resolve_*` and
/// `parse_*` functions, which turn what a user typed into an id, take it
/// as text.
#[test]
fn core_operations_take_typed_ids() {
    let id_params = [
        "community",
        "id",
        "item",
        "case",
        "question",
        "answer",
        "protocol",
        "member",
        "device",
    ];
    let mut violations = vec![];
    for (file, fname, sig) in core_signatures() {
        if fname.starts_with("resolve_") || fname.starts_with("parse_") || file == "testing.rs" {
            continue;
        }
        for p in id_params {
            for ty in ["&str", "String", "&String"] {
                let pat = format!("{p}: {ty}");
                if sig.contains(&format!("({pat}")) || sig.contains(&format!(" {pat}")) {
                    violations.push(format!("{file}: {fname} takes `{pat}`"));
                }
            }
        }
    }
    check(
        "outpost-core's public operations take typed ids, not text",
        violations,
    );
}
