//! Project automation, so a fresh machine needs only `cargo`:
//!
//! * `cargo xtask run`   — install what is missing (Debian packages, the
//!   UI's npm packages), build the UI and the desktop app, and launch it; its
//!   first run offers the demo community. `cargo xtask run ARGS` runs the
//!   `outpost` CLI with ARGS instead.
//! * `cargo xtask check` — the fast loop (about three minutes on a warm
//!   build): formatting, unused dependencies (cargo-machete), the UI's type
//!   check and Vitest, clippy with warnings as errors, rustdoc with warnings
//!   as errors for the library crates, every unit test, and the integration
//!   tests that need nothing beyond cargo and take seconds (see
//!   [`SKIPPED_BY_CHECK`]). Installs no system packages and starts no
//!   display, keyring or browser.
//! * `cargo xtask test`  — everything the project checks: all of `check`,
//!   every Rust test (the real desktop app under Xvfb, the real keychain, the
//!   crash and CLI tests included) and the browser tests.
//! * `cargo xtask bench` — the benchmarks; writes `BENCHMARKS.md`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root()?;
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&root, &args[1..]),
        Some("check") => check(&root),
        Some("test") => test(&root),
        Some("bench") => bench(&root),
        _ => {
            eprintln!("usage: cargo xtask <run|check|test|bench>\n");
            eprintln!(
                "  run         build and launch the desktop app (demo community offered on first run)"
            );
            eprintln!("  run ARGS    run the outpost CLI with ARGS");
            eprintln!(
                "  check       the fast loop: fmt, unused deps, UI checks, clippy, rustdoc, \
                 unit tests and the quick integration tests (no Xvfb, keychain, browsers)"
            );
            eprintln!("  test        everything: all of check, every test, the browser tests");
            eprintln!("  bench       run the benchmarks and record them in BENCHMARKS.md");
            bail!("unknown or missing task")
        }
    }
}

fn root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .and_then(Path::parent)
        .context("xtask lives in crates/xtask")?
        .to_path_buf())
}

/// A cargo command with the variables cargo set for xtask itself removed
/// (CARGO_PKG_*, CARGO_MANIFEST_DIR, ...): build scripts that watch them
/// would otherwise rebuild half the tree between `cargo build` and here.
fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (k, _) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let keep = matches!(k, "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_TERM_COLOR")
            || [
                "CARGO_REGISTRIES",
                "CARGO_NET",
                "CARGO_BUILD",
                "CARGO_PROFILE",
            ]
            .iter()
            .any(|p| k.starts_with(p));
        if k.starts_with("CARGO_") && !keep {
            c.env_remove(k);
        }
    }
    c
}

fn step(name: &str, cmd: &mut Command) -> Result<()> {
    eprintln!("==> {name}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start: {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

/// How a prerequisite is recognised as installed.
enum Probe {
    /// A command on PATH.
    Command(&'static str),
    /// A Debian package (dpkg says it is installed).
    Package,
}

/// Debian packages the build and the tests need: a C toolchain (bundled
/// SQLite), Tauri's WebKitGTK stack, Xvfb and WebKitWebDriver for the real
/// app's tests, Chromium for the browser tests, iproute2 for the network
/// lab, Node.js for the UI.
const SYSTEM_PACKAGES: &[(Probe, &str)] = &[
    (Probe::Command("cc"), "build-essential"),
    (Probe::Command("make"), "make"),
    (Probe::Command("perl"), "perl"),
    (Probe::Command("pkg-config"), "pkg-config"),
    (Probe::Package, "libssl-dev"),
    (Probe::Package, "libwebkit2gtk-4.1-dev"),
    (Probe::Package, "libsoup-3.0-dev"),
    (Probe::Package, "libayatana-appindicator3-dev"),
    (Probe::Package, "librsvg2-dev"),
    // The OS keychain (Secret Service over D-Bus) that holds the store key.
    (Probe::Package, "libdbus-1-dev"),
    // A real Secret Service for the keychain test: a private session bus
    // and gnome-keyring.
    (Probe::Command("dbus-daemon"), "dbus-daemon"),
    (Probe::Command("dbus-send"), "dbus-bin"),
    (Probe::Command("gnome-keyring-daemon"), "gnome-keyring"),
    (Probe::Command("Xvfb"), "xvfb"),
    (Probe::Command("WebKitWebDriver"), "webkit2gtk-driver"),
    (Probe::Command("chromium"), "chromium"),
    // Network namespaces and veth pairs for the many-node tests (netlab).
    (Probe::Command("ip"), "iproute2"),
    (Probe::Command("node"), "nodejs"),
    (Probe::Command("npm"), "npm"),
];

fn has_package(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn has_command(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Installs missing system packages with apt-get (as root, or through sudo).
fn ensure_system_packages() -> Result<()> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(probe, package)| match probe {
            Probe::Command(cmd) => !has_command(cmd),
            Probe::Package => !has_package(package),
        })
        .map(|(_, p)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !has_command("apt-get") {
        bail!("missing system packages {missing:?}: install them with your package manager");
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root {
            c.arg("apt-get");
        }
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        c
    };
    step("apt-get update", &mut apt(&["update"]))?;
    let mut install = apt(&["install", "-y", "--no-install-recommends"]);
    install.args(&missing);
    step(
        &format!("apt-get install {}", missing.join(" ")),
        &mut install,
    )
}

/// rustfmt and clippy come with rustup's default profile; add them if a
/// minimal toolchain lacks them.
fn ensure_components() -> Result<()> {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        let ok = cargo()
            .args([probe, "--version"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            step(
                &format!("install {component}"),
                Command::new("rustup").args(["component", "add", component]),
            )?;
        }
    }
    Ok(())
}

/// The UI's npm packages, exactly as `ui/package-lock.json` pins them.
fn ensure_npm_packages(root: &Path) -> Result<()> {
    let ui = root.join("ui");
    let installed = ui.join("node_modules/.package-lock.json");
    let lock = ui.join("package-lock.json");
    let fresh = match (installed.metadata(), lock.metadata()) {
        (Ok(i), Ok(l)) => i.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        step(
            "npm ci (ui)",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&ui),
        )?;
    }
    Ok(())
}

fn npm(root: &Path, name: &str, args: &[&str]) -> Result<()> {
    step(
        name,
        Command::new("npm").args(args).current_dir(root.join("ui")),
    )
}

/// Installs `tool` from crates.io (`cargo install ARGS --locked`) unless it
/// is on PATH or in cargo's bin directory already.
fn ensure_cargo_tool(tool: &str, args: &[&str]) -> Result<()> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin").join(tool));
    if has_command(tool) || cargo_bin.is_some_and(|p| p.is_file()) {
        return Ok(());
    }
    step(
        &format!("cargo install {tool}"),
        cargo().arg("install").args(args).arg("--locked"),
    )
}

/// tauri-driver (pinned to 2.x: crates.io's newest is a 3.0 alpha), the
/// WebDriver front for the real app's tests.
fn ensure_tauri_driver() -> Result<()> {
    ensure_cargo_tool("tauri-driver", &["tauri-driver", "--version", "^2"])
}

/// cargo-machete, which finds dependencies no source file uses. False
/// positives (a crate used only through a macro, a dependency only a
/// feature enables) are listed in that crate's
/// `[package.metadata.cargo-machete] ignored = [...]`.
fn ensure_cargo_machete() -> Result<()> {
    ensure_cargo_tool("cargo-machete", &["cargo-machete"])
}

/// Debian packages only the tests `check` skips need (a real window, a real
/// keychain, a browser); the rest are needed to build.
const TEST_ONLY_PACKAGES: &[&str] = &[
    "dbus-daemon",
    "dbus-bin",
    "gnome-keyring",
    "xvfb",
    "webkit2gtk-driver",
    "chromium",
];

/// `check` installs nothing system-wide; on a Debian system it says up front
/// which build prerequisites are missing (the build would fail later with a
/// less helpful message).
fn warn_missing_build_packages() {
    if !has_command("dpkg-query") {
        return;
    }
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(_, package)| !TEST_ONLY_PACKAGES.contains(package))
        .filter(|(probe, package)| match probe {
            Probe::Command(cmd) => !has_command(cmd),
            Probe::Package => !has_package(package),
        })
        .map(|(_, p)| *p)
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: missing system packages {missing:?}; the build may fail \
             (`cargo xtask test` or `cargo xtask run` installs them)"
        );
    }
}

/// The crates whose API docs must build without warnings (broken intra-doc
/// links and the like): the libraries, not the front ends.
const DOC_CRATES: &[&str] = &[
    "outpost-model",
    "outpost-sync",
    "outpost-store",
    "outpost-net",
    "outpost-scan",
    "outpost-core",
];

/// Integration test targets `check` leaves to `test`, and why: two need
/// more than cargo (a display and browser driver, a D-Bus session with a
/// keyring); three drive the real `outpost` binary hundreds of times, and
/// each run derives an Argon2id key (about half a second in a debug
/// build), which takes minutes. Every other test target runs in `check`.
const SKIPPED_BY_CHECK: &[(&str, &str)] = &[
    (
        "desktop",
        "needs Xvfb, tauri-driver and WebKitWebDriver (the real app)",
    ),
    (
        "keychain",
        "needs a private D-Bus session and gnome-keyring",
    ),
    ("crash", "slow: 200+ SIGKILLs of the real binary (~5 min)"),
    (
        "cli",
        "slow: every command through the real binary (~2 min)",
    ),
    (
        "cli_sync",
        "slow: real `serve`s syncing through the binary (~1.5 min)",
    ),
];

/// Every integration test target of the workspace's crates (`tests/*.rs`
/// and `tests/*/main.rs` of each member), by name.
fn integration_tests(root: &Path) -> Result<Vec<String>> {
    let mut members = vec![root.join("src-tauri"), root.join("tests")];
    for entry in std::fs::read_dir(root.join("crates"))? {
        members.push(entry?.path());
    }
    let mut names = Vec::new();
    for member in members {
        let Ok(entries) = std::fs::read_dir(member.join("tests")) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let target = if path.is_dir() {
                path.join("main.rs").is_file()
            } else {
                path.extension().is_some_and(|e| e == "rs")
            };
            let name = path.file_stem().and_then(|n| n.to_str());
            if let (true, Some(name)) = (target, name) {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Steps `check` and `test` share, in order: formatting, unused
/// dependencies, the UI's type check and Vitest, the UI build the desktop
/// crate embeds, clippy, rustdoc.
fn common_checks(root: &Path, always_build_ui: bool) -> Result<()> {
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    step(
        "cargo machete (unused dependencies)",
        cargo().arg("machete"),
    )?;
    npm(root, "svelte-check (ui types)", &["run", "check"])?;
    npm(root, "vitest (ui components)", &["test"])?;
    // The desktop crate embeds ui/dist, so the UI is built before any cargo
    // step; the fast loop reuses an existing build.
    if always_build_ui || !root.join("ui/dist/index.html").is_file() {
        npm(root, "build the UI", &["run", "build"])?;
    }
    step(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let mut rustdocflags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
    rustdocflags.push_str(" -D warnings");
    let mut doc = cargo();
    doc.args(["doc", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", rustdocflags.trim());
    for c in DOC_CRATES {
        doc.args(["-p", c]);
    }
    step("cargo doc -D warnings (library crates)", &mut doc)
}

fn check(root: &Path) -> Result<()> {
    warn_missing_build_packages();
    ensure_components()?;
    ensure_npm_packages(root)?;
    ensure_cargo_machete()?;
    common_checks(root, false)?;
    // Tests that run the real binary (privacy) find it built here rather
    // than each building it under cargo's lock.
    step(
        "build the outpost binary",
        cargo().args(["build", "--locked", "-p", "outpost-cli"]),
    )?;
    let mut test = cargo();
    test.args(["test", "--workspace", "--locked", "--lib", "--bins"]);
    for name in integration_tests(root)? {
        if let Some((_, why)) = SKIPPED_BY_CHECK.iter().find(|(skip, _)| *skip == name) {
            eprintln!("    skipping test target `{name}` ({why}); `cargo xtask test` runs it");
        } else {
            test.args(["--test", &name]);
        }
    }
    step("cargo test (unit and cheap integration tests)", &mut test)
}

fn run(root: &Path, extra: &[String]) -> Result<()> {
    ensure_system_packages()?;
    if !extra.is_empty() {
        step(
            "build outpost",
            cargo().args(["build", "--release", "-p", "outpost-cli"]),
        )?;
        let mut c = Command::new(root.join("target/release/outpost"));
        c.args(extra);
        return step("outpost", &mut c);
    }
    ensure_npm_packages(root)?;
    npm(root, "build the UI", &["run", "build"])?;
    step(
        "build the desktop app",
        cargo().args(["build", "--release", "-p", "outpost-desktop"]),
    )?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!(
            "no display to open a window on; run it in a desktop session, or under Xvfb: \
             `xvfb-run cargo xtask run`"
        );
    }
    eprintln!("==> launching Outpost (the first run offers the demo community)");
    step(
        "outpost-desktop",
        &mut Command::new(root.join("target/release/outpost-desktop")),
    )
}

fn test(root: &Path) -> Result<()> {
    ensure_system_packages()?;
    ensure_components()?;
    ensure_npm_packages(root)?;
    ensure_tauri_driver()?;
    ensure_cargo_machete()?;
    common_checks(root, true)?;
    npm(
        root,
        "build the UI for browser tests",
        &["run", "build:e2e"],
    )?;
    step(
        "build the outpost and desktop binaries",
        cargo().args([
            "build",
            "--locked",
            "-p",
            "outpost-cli",
            "-p",
            "outpost-desktop",
        ]),
    )?;
    step(
        "cargo test",
        cargo().args(["test", "--workspace", "--locked"]),
    )?;
    npm(root, "browser tests (playwright + axe)", &["run", "e2e"])?;
    Ok(())
}

fn bench(root: &Path) -> Result<()> {
    ensure_system_packages()?;
    let mut report = String::new();
    ensure_npm_packages(root)?;
    ensure_tauri_driver()?;
    npm(root, "build the UI", &["run", "build"])?;
    for (package, bench) in [
        ("outpost-scan", "corpus"),
        ("outpost-sync", "membership"),
        ("outpost-core", "store"),
        ("outpost-core", "sync"),
        ("outpost-tests", "desktop"),
    ] {
        let out = root.join(format!("target/bench-{bench}.md"));
        step(
            &format!("{bench} benchmarks"),
            cargo()
                .args(["bench", "--locked", "-p", package, "--bench", bench, "--"])
                .arg(&out),
        )?;
        report.push_str(&std::fs::read_to_string(&out)?);
        report.push('\n');
    }
    let machine = machine();
    let doc = format!(
        "# Benchmarks\n\nRecorded by `cargo xtask bench` (release build). Targets come from the issues; \
         these are measurements, not test assertions.\n\n## Machine\n\n{machine}\n\n{report}"
    );
    std::fs::write(root.join("BENCHMARKS.md"), doc)?;
    eprintln!("wrote BENCHMARKS.md");
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "- CPU: {cpu}, {cores} cores available\n- Memory: {mem}\n- {rustc}\n- Date: {date}\n- Storage: the machine's root filesystem (fsync on every commit: `synchronous=FULL`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The targets `check` skips exist (a renamed test file would otherwise
    /// quietly join the fast loop), and discovery finds test targets.
    #[test]
    fn skipped_test_targets_exist() {
        let root = root().expect("workspace root");
        let targets = integration_tests(&root).expect("list test targets");
        for (name, _) in SKIPPED_BY_CHECK {
            assert!(
                targets.iter().any(|t| t == name),
                "`check` skips test target `{name}`, which no crate has: {targets:?}"
            );
        }
        assert!(targets.iter().any(|t| t == "architecture"), "{targets:?}");
    }
}
