//! Project automation, so a fresh machine needs only `cargo`:
//!
//! * `cargo xtask run`   — install what is missing, build, and launch Outpost
//!   with the demo community on first run.
//! * `cargo xtask test`  — everything the project checks: formatting, clippy
//!   with warnings as errors, and every test.
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
        Some("test") => test(),
        Some("bench") => bench(&root),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench>\n");
            eprintln!("  run [ARGS]  build and launch Outpost (demo community on first run)");
            eprintln!("  test        fmt check, clippy -D warnings, every test");
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

/// Debian packages the build needs, each with a command that shows it is
/// installed. (bundled SQLite is compiled from C.)
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    ("cc", "build-essential"),
    ("make", "make"),
    ("perl", "perl"),
];

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
        .filter(|(cmd, _)| !has_command(cmd))
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

fn run(root: &Path, extra: &[String]) -> Result<()> {
    ensure_system_packages()?;
    step(
        "build outpost",
        cargo().args(["build", "--release", "-p", "outpost-cli"]),
    )?;
    let bin = root.join("target/release/outpost");
    let home = std::env::var_os("OUTPOST_HOME").map(PathBuf::from);
    let outpost = |args: &[&str]| {
        let mut c = Command::new(&bin);
        if let Some(h) = &home {
            c.arg("--home").arg(h);
        }
        c.args(args);
        c
    };
    if !extra.is_empty() {
        let args: Vec<&str> = extra.iter().map(String::as_str).collect();
        return step("outpost", &mut outpost(&args));
    }
    let initialized = outpost(&["whoami"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !initialized {
        let name = std::env::var("USER")
            .map(|u| format!("Demo user ({u})"))
            .unwrap_or_else(|_| "Demo user".into());
        step(
            "outpost init",
            &mut outpost(&[
                "init",
                "--name",
                &name,
                "--profession",
                "General practitioner",
            ]),
        )?;
    }
    step("outpost demo", &mut outpost(&["demo"]))?;
    step("outpost list", &mut outpost(&["list", "--limit", "15"]))?;
    eprintln!(
        "\nOutpost is ready. Try `target/release/outpost search sepsis` or `target/release/outpost --help`."
    );
    Ok(())
}

fn test() -> Result<()> {
    ensure_system_packages()?;
    ensure_components()?;
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
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
        "build the outpost binary",
        cargo().args(["build", "--locked", "-p", "outpost-cli"]),
    )?;
    step(
        "cargo test",
        cargo().args(["test", "--workspace", "--locked"]),
    )?;
    Ok(())
}

fn bench(root: &Path) -> Result<()> {
    ensure_system_packages()?;
    let mut report = String::new();
    for bench in ["store", "sync"] {
        let out = root.join(format!("target/bench-{bench}.md"));
        step(
            &format!("{bench} benchmarks"),
            cargo()
                .args([
                    "bench",
                    "--locked",
                    "-p",
                    "outpost-core",
                    "--bench",
                    bench,
                    "--",
                ])
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
