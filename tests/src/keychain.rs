//! A real OS keychain for tests: a private D-Bus session bus and
//! gnome-keyring-daemon, its login keyring unlocked from stdin as a desktop
//! session does at login.

use crate::Home;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A session bus with an unlocked gnome-keyring on it, for one test.
pub struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
    dir: tempfile::TempDir,
}

impl SecretService {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("setting up the test keychain");
        for sub in ["home", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("setting up the test keychain");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )
            .expect("setting up the test keychain");
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon; `cargo xtask test` installs it)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("setting up the test keychain"))
            .read_line(&mut address)
            .expect("setting up the test keychain");
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
            .expect("setting up the test keychain")
            .write_all(b"login password")
            .expect("setting up the test keychain");
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
    pub fn outpost(&self, home: &Home, args: &[&str]) -> Command {
        let mut c = home.command(args);
        c.env_remove("OUTPOST_PASSPHRASE")
            .env_remove("OUTPOST_KEYCHAIN")
            .envs(self.env());
        c
    }

    /// What a process needs to reach this keychain: the bus, and the
    /// session's home and runtime folders.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            (
                "HOME".into(),
                self.dir.path().join("home").display().to_string(),
            ),
            (
                "XDG_RUNTIME_DIR".into(),
                self.dir.path().join("run").display().to_string(),
            ),
        ]
    }

    pub fn run(&self, home: &Home, args: &[&str]) -> Output {
        self.outpost(home, args)
            .output()
            .expect("setting up the test keychain")
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
