//! Helpers for the cross-crate tests: find (and build) the real `outpost`
//! binary, and run it against throwaway homes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub mod desktop;
pub mod keychain;
pub mod netlab;

/// The `outpost` binary of this build profile, built on first use so tests
/// never run a stale binary.
/// The passphrase every test home is locked with (the machines tests run
/// on have no OS keychain; `OUTPOST_KEYCHAIN=off` makes sure of it).
pub const TEST_PASSPHRASE: &str = "correct horse battery staple";

pub fn test_unlock() -> outpost_core::Unlock {
    outpost_core::Unlock::passphrase(TEST_PASSPHRASE)
}

/// The store key of a test home (derived once: Argon2id is slow on purpose).
pub fn store_key(home: &Path) -> outpost_store::StoreKey {
    outpost_core::testing::store_key(home, &test_unlock()).expect("test passphrase")
}

/// Opens a test home's store directly, as a second process would.
pub fn open_store(home: &Path) -> Result<outpost_store::Store, outpost_store::StoreError> {
    outpost_store::Store::open(home.join("outpost.db"), &store_key(home))
}

pub fn outpost_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("OUTPOST_BIN") {
            return PathBuf::from(p);
        }
        cargo_build("outpost-cli", "outpost")
    })
}

/// Builds `bin` of `package` in this test's profile and returns its path.
pub fn cargo_build(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", bin]);
    // The test process carries the variables cargo sets for the test
    // (CARGO_PKG_*, CARGO_MANIFEST_DIR, ...). Build scripts that watch
    // them would see a different environment than a plain
    // `cargo build` and rebuild half the tree each time.
    for (k, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        let keep = matches!(
            k.as_str(),
            "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_TERM_COLOR"
        ) || k.starts_with("CARGO_REGISTRIES")
            || k.starts_with("CARGO_NET")
            || k.starts_with("CARGO_BUILD")
            || k.starts_with("CARGO_PROFILE");
        if k.starts_with("CARGO_") && !keep {
            cmd.env_remove(&k);
        }
    }
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "building {bin} failed");
    let path = profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "no {bin} binary at {}", path.display());
    path
}

/// A throwaway Outpost home driven through the real binary.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(outpost_bin());
        c.arg("--home").arg(self.path()).args(args);
        c.env_remove("OUTPOST_HOME").stdin(Stdio::null());
        c.env("OUTPOST_PASSPHRASE", TEST_PASSPHRASE)
            .env("OUTPOST_KEYCHAIN", "off");
        c
    }

    /// Runs `outpost --home H ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run outpost")
    }

    /// Runs with `stdin` piped in.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn outpost");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for outpost")
    }

    /// Runs with `--json`, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "outpost {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "outpost {args:?} printed invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `outpost --json export` of `community` to the bundle `out`, with
    /// `passphrase` for the bundle.
    pub fn export_bundle(&self, community: &str, out: &Path, passphrase: &str) -> Output {
        let out = out.to_str().expect("a UTF-8 path");
        self.command(&["--json", "export", "--community", community, "--out", out])
            .env("OUTPOST_BUNDLE_PASSPHRASE", passphrase)
            .output()
            .expect("run outpost export")
    }

    /// `outpost --json import` of the bundle `file`.
    pub fn import_bundle(&self, file: &Path, passphrase: &str) -> Output {
        let file = file.to_str().expect("a UTF-8 path");
        self.command(&["--json", "import", file])
            .env("OUTPOST_BUNDLE_PASSPHRASE", passphrase)
            .output()
            .expect("run outpost import")
    }

    /// `init` as `name`, then `join` `community` with a fresh invitation
    /// from `inviter` (whose `serve` must be running).
    pub fn init_and_join(&self, name: &str, inviter: &Home, community: &str) {
        let ticket = inviter.json(&["invite", "--community", community])["ticket"]
            .as_str()
            .expect("ticket")
            .to_string();
        self.json(&["init", "--name", name]);
        let mut join = vec!["join", ticket.as_str()];
        join.extend(NET);
        self.json(&join);
    }

    /// `init` with a name, then `community create`; returns the community id.
    pub fn init_with_community(&self, name: &str) -> String {
        self.json(&[
            "init",
            "--name",
            name,
            "--profession",
            "GP",
            "--region",
            "North Valley",
        ]);
        let c = self.json(&[
            "community",
            "create",
            "Rural emergencies",
            "--domain",
            "Emergency care far from hospital",
        ]);
        c["id"].as_str().expect("community id").to_string()
    }
}

/// `outpost serve` and `join`/`sync` flags for tests: loopback only, no mDNS.
pub const NET: [&str; 3] = ["--bind", "127.0.0.1:0", "--no-mdns"];

/// A running `outpost serve`, killed when dropped.
pub struct Serve {
    pub child: std::process::Child,
    /// What it printed first (`--json`): its id and ticket.
    pub first_line: Value,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `outpost serve` on `home` and waits until it is listening.
pub fn serve(home: &Home) -> Serve {
    serve_within(home, None)
}

/// `serve`, in a process whose address space `ulimit -v` caps at
/// `memory_kib` (None: no cap), as a node on a small machine: an
/// allocation past it aborts the process, which a test then sees.
pub fn serve_within(home: &Home, memory_kib: Option<u64>) -> Serve {
    use std::io::{BufRead, BufReader};
    let mut args = vec!["--json", "serve"];
    args.extend(NET);
    let mut command = home.command(&args);
    if let Some(kib) = memory_kib {
        let direct = command;
        command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
            .arg(direct.get_program())
            .args(direct.get_args())
            .envs(
                direct
                    .get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .env_remove("OUTPOST_HOME")
            .stdin(Stdio::null());
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start outpost serve");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .expect("read serve's first line");
    }
    let first_line: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
    Serve { child, first_line }
}

/// The `id` field of a JSON object.
pub fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// An in-process peer: a real home (SQLite file) and, when asked, a real
/// iroh endpoint on 127.0.0.1 with relays and mDNS off.
pub struct Peer {
    pub dir: tempfile::TempDir,
    pub op: outpost_core::Outpost,
}

/// Logs of the code under test, printed with a failing test's output:
/// `RUST_LOG=outpost_net=trace cargo test ...` shows every frame.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

impl Peer {
    pub fn new(name: &str) -> Self {
        logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = outpost_core::MemberProfile {
            name: name.into(),
            ..Default::default()
        };
        let op =
            outpost_core::Outpost::init_with(dir.path(), profile, &test_unlock()).expect("init");
        Self { dir, op }
    }

    pub async fn node(&self) -> outpost_net::Node {
        outpost_core::testing::node(&self.op, &outpost_net::NetConfig::loopback())
            .await
            .expect("node")
    }

    pub fn key(&self) -> outpost_core::DeviceId {
        self.op.device_id()
    }

    pub fn community(&mut self, name: &str) -> outpost_core::CommunityId {
        let c = self
            .op
            .create_community(outpost_core::NewCommunity {
                name: name.into(),
                domain: format!("{name}: shared concerns"),
                charter: None,
            })
            .expect("community");
        c.id
    }

    pub fn case(
        &mut self,
        community: &outpost_core::CommunityId,
        title: &str,
    ) -> outpost_core::DocId {
        let item = outpost_core::NewItem::Case(outpost_core::NewCase {
            title: title.into(),
            presenting: format!("{title}: presenting problem"),
            ask: "What would you do?".into(),
            age_band: None,
            sex: None,
            setting: None,
            history: None,
            findings: None,
            tags: vec![],
        });
        self.op
            .create_item(community, item, outpost_core::Sharing::Checked)
            .expect("case")
            .id
    }

    pub fn titles(&self) -> Vec<String> {
        let f = outpost_core::ListFilter {
            limit: Some(100_000),
            ..Default::default()
        };
        let mut t: Vec<String> = self
            .op
            .list(&f)
            .expect("list")
            .into_iter()
            .map(|r| r.title)
            .collect();
        t.sort();
        t
    }
}

/// The peer behind `node_b` joins `a`'s community through an invitation,
/// over a real connection (`a`'s node must be running).
pub async fn join(a: &Peer, node_b: &outpost_net::Node, community: &outpost_core::CommunityId) {
    let t =
        a.op.invite(community, Some(std::time::Duration::from_secs(3600)))
            .expect("invite");
    let (community, secret, inviter) =
        outpost_core::testing::invite_parts(&t.ticket).expect("ticket");
    let s = within(
        "join",
        outpost_core::testing::sync_once(node_b, vec![(inviter, vec![(community, secret)])]),
    )
    .await;
    assert!(s.converged, "join failed: {:?}", s.peers);
}

/// Awaits `f`, failing the test if it takes longer than two minutes (far
/// beyond any sync a test makes: a hang is a bug to report, not to wait out).
pub async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(std::time::Duration::from_secs(120), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within 120 s"),
    }
}

/// Waits (up to 10 s) for `cond` to hold: for bookkeeping the serving side
/// finishes just after the dialling side's sync has returned.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{what}: still not true after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// One `sync` from `from` to `to`'s node; asserts it converged.
pub async fn sync(from: &outpost_net::Node, to: &outpost_net::Node) -> outpost_net::Report {
    let s = within(
        "sync",
        outpost_core::testing::sync_once(from, vec![(to.addr(), vec![])]),
    )
    .await;
    assert!(s.converged, "sync did not converge: {:?}", s.peers);
    s.peers.into_iter().next().expect("one report")
}
