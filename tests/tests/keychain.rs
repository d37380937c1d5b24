//! The OS keychain path with a real Secret Service: a private D-Bus session
//! bus and gnome-keyring-daemon, its login keyring unlocked from stdin as a
//! desktop session does at login, and the real `outpost` binary.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::Home;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A session bus with an unlocked gnome-keyring on it, for this test only.
struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
    dir: tempfile::TempDir,
}

impl SecretService {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon; `cargo xtask test` installs it)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", dir.path().join("run"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring; `cargo xtask test` installs it)");
        // The login keyring's password, as a display manager passes it.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"login password")
            .unwrap();
        let service = SecretService {
            bus,
            keyring,
            address,
            dir,
        };
        service.wait_for_secrets();
        service
    }

    /// Waits until the keyring owns org.freedesktop.secrets on the bus.
    fn wait_for_secrets(&self) {
        let start = Instant::now();
        loop {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .expect("dbus-send (Debian package dbus-bin)");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "gnome-keyring never took org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `outpost` on `home` with this keychain and no passphrase.
    fn outpost(&self, home: &Home, args: &[&str]) -> Command {
        let mut c = home.command(args);
        c.env_remove("OUTPOST_PASSPHRASE")
            .env_remove("OUTPOST_KEYCHAIN")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"));
        c
    }

    fn run(&self, home: &Home, args: &[&str]) -> Output {
        self.outpost(home, args).output().unwrap()
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn key_source(home: &Home) -> Value {
    let header: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("home.json")).unwrap()).unwrap();
    header["key"]["source"].clone()
}

fn titles(service: &SecretService, home: &Home, passphrase: Option<&str>) -> Output {
    let mut c = service.outpost(home, &["--json", "list"]);
    if let Some(p) = passphrase {
        c.env("OUTPOST_PASSPHRASE", p);
    }
    c.output().unwrap()
}

#[test]
fn a_home_keyed_in_the_os_keychain_opens_without_a_passphrase() {
    let service = SecretService::start();
    let home = Home::new();
    // Set up with no passphrase: the key goes into the keychain.
    let out = service.run(&home, &["init", "--name", "Dr Keychain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "keychain");
    let out = service.run(
        &home,
        &[
            "--json",
            "community",
            "create",
            "Valley GPs",
            "--domain",
            "General practice",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let community: Value = serde_json::from_slice(&out.stdout).unwrap();
    let community = community["id"].as_str().unwrap().to_string();
    let out = service.run(
        &home,
        &[
            "case",
            "add",
            "--community",
            &community,
            "--title",
            "Wheeze in a shearer",
            "--presenting",
            "Recurrent wheeze at shearing time.",
            "--ask",
            "Occupational asthma?",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = titles(&service, &home, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wheeze in a shearer"));
    let db = std::fs::read(home.path().join("outpost.db")).unwrap();
    assert!(
        !db.windows(7).any(|w| w == b"shearer"),
        "case text in the clear"
    );

    // The keychain turned off: a clear error, nothing changed.
    let before = std::fs::read(home.path().join("home.json")).unwrap();
    let out = service
        .outpost(&home, &["list"])
        .env("OUTPOST_KEYCHAIN", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("keychain"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(home.path().join("home.json")).unwrap(),
        before
    );

    // Out of the keychain into a passphrase, and back.
    let out = service
        .outpost(&home, &["rekey"])
        .env("OUTPOST_NEW_PASSPHRASE", "a passphrase for the laptop")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "passphrase");
    let out = titles(&service, &home, None);
    assert!(!out.status.success(), "opened without its new passphrase");
    let out = titles(&service, &home, Some("a passphrase for the laptop"));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = service
        .outpost(&home, &["rekey", "--keychain"])
        .env("OUTPOST_PASSPHRASE", "a passphrase for the laptop")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(key_source(&home), "keychain");
    let out = titles(&service, &home, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wheeze in a shearer"));
}
