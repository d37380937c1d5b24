//! Project automation, so a fresh machine needs only `cargo`:
//!
//! * `cargo xtask run`   — install what is missing (Debian packages, the
//!   UI's npm packages), build the UI and the desktop app, and launch it; its
//!   first run offers the demo community. `cargo xtask run ARGS` runs the
//!   `outpost` CLI with ARGS instead.
//! * `cargo xtask test`  — everything the project checks: formatting, clippy
//!   with warnings as errors, the UI's type check, Vitest, every Rust test
//!   (the real desktop app under Xvfb included) and the browser tests.
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
        Some("test") => test(&root),
        Some("bench") => bench(&root),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench>\n");
            eprintln!(
                "  run         build and launch the desktop app (demo community offered on first run)"
            );
            eprintln!("  run ARGS    run the outpost CLI with ARGS");
            eprintln!("  test        fmt check, clippy -D warnings, UI checks, every test");
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
/// app's tests, Chromium for the browser tests, Node.js for the UI.
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

/// tauri-driver (pinned to 2.x: crates.io's newest is a 3.0 alpha), the
/// WebDriver front for the real app's tests.
fn ensure_tauri_driver() -> Result<()> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin/tauri-driver"));
    if has_command("tauri-driver") || cargo_bin.is_some_and(|p| p.is_file()) {
        return Ok(());
    }
    step(
        "cargo install tauri-driver",
        cargo().args(["install", "tauri-driver", "--version", "^2", "--locked"]),
    )
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
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    npm(root, "svelte-check (ui types)", &["run", "check"])?;
    npm(root, "vitest (ui components)", &["test"])?;
    // The desktop crate embeds ui/dist, so the UI is built before any cargo step.
    npm(root, "build the UI", &["run", "build"])?;
    npm(
        root,
        "build the UI for browser tests",
        &["run", "build:e2e"],
    )?;
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
