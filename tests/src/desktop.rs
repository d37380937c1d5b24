//! The real desktop app (`outpost-desktop`, the Tauri binary) in a real
//! window: an Xvfb display, tauri-driver in front of WebKitWebDriver, and a
//! small W3C WebDriver client. `cargo xtask test` installs all three and
//! builds the UI first.
//!
//! The client opens a fresh HTTP connection per command (`Connection:
//! close`): with a kept-alive connection, tauri-driver's proxy was seen to
//! hold a command forever after a click that re-rendered the page.

use base64::Engine;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The desktop binary of this build profile, built on first use. The UI
/// (`ui/dist`) is embedded at build time, so it must be built before.
pub fn desktop_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("OUTPOST_DESKTOP_BIN") {
            return PathBuf::from(p);
        }
        let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
        assert!(
            dist.exists(),
            "the UI is not built ({}); `cargo xtask test` builds it (npm --prefix ui run build)",
            dist.display()
        );
        crate::cargo_build("outpost-desktop", "outpost-desktop")
    })
}

/// Where tests keep screenshots: `target/test-artifacts/desktop`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/desktop");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A virtual X display (Xvfb) of its own, so tests never depend on, or
/// disturb, whatever display the machine has.
pub struct Display {
    child: Child,
    pub name: String,
}

impl Display {
    pub fn start() -> Result<Display> {
        let xvfb = which("Xvfb").ok_or("Xvfb is not installed (apt-get install xvfb)")?;
        let first = 100 + (std::process::id() % 400);
        for n in first..first + 50 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let mut child = Command::new(&xvfb)
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "1280x900x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Ok(Display {
                        child,
                        name: format!(":{n}"),
                    });
                }
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err("could not start Xvfb on any display".into())
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session (W3C protocol over plain HTTP on loopback).
pub struct Session {
    base: String,
    agent: ureq::Agent,
}

/// The key W3C uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// Starts a session on the driver at `url`, retrying while it comes up.
    pub fn start(url: &str, capabilities: Value, wait: Duration) -> Result<Session> {
        let agent = Self::agent();
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let deadline = Instant::now() + wait;
        loop {
            let attempt = agent
                .post(&format!("{url}/session"))
                .header("Connection", "close")
                .send_json(&body);
            match attempt {
                Ok(mut resp) => {
                    let v: Value = resp.body_mut().read_json()?;
                    let id = v["value"]["sessionId"]
                        .as_str()
                        .ok_or_else(|| format!("no session: {v}"))?;
                    return Ok(Session {
                        base: format!("{url}/session/{id}"),
                        agent,
                    });
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("WebDriver session at {url}: {e}").into()),
            }
        }
    }

    /// Runs one command; returns its `value`, or the driver's error.
    /// tauri-driver's proxy sometimes loses a request on a connection
    /// WebKitWebDriver already closed (it answers by dropping ours); such a
    /// request never reached the app, so it is sent again.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        let mut resp = loop {
            attempt += 1;
            let sent = match method {
                "GET" => self.agent.get(&url).header("Connection", "close").call(),
                "DELETE" => self.agent.delete(&url).header("Connection", "close").call(),
                _ => self
                    .agent
                    .post(&url)
                    .header("Connection", "close")
                    .send_json(body.clone().unwrap_or_else(|| json!({}))),
            };
            match sent {
                Ok(r) => break r,
                Err(ureq::Error::Io(e)) if attempt < 4 => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("WebDriver {method} {path}: {e}").into()),
            }
        };
        let ok = resp.status().is_success();
        let v: Value = resp.body_mut().read_json()?;
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "WebDriver {method} {path}: {} {}",
                v["value"]["error"], v["value"]["message"]
            )
            .into())
        }
    }

    /// Element ids matching a locator (`css selector` or `xpath`).
    pub fn find_all(&self, using: &str, value: &str) -> Result<Vec<String>> {
        let v = self.cmd(
            "POST",
            "/elements",
            Some(json!({ "using": using, "value": value })),
        )?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn click(&self, element: &str) -> Result<()> {
        self.cmd("POST", &format!("/element/{element}/click"), None)?;
        Ok(())
    }

    pub fn send_keys(&self, element: &str, text: &str) -> Result<()> {
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    pub fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.cmd("GET", "/screenshot", None)?;
        let b64 = v.as_str().ok_or("screenshot: not a string")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    pub fn close(&self) {
        let _ = self.cmd("DELETE", "", None);
    }
}

/// One running desktop app on its own home, and a WebDriver session on it.
pub struct App {
    pub session: Session,
    driver: Child,
    pub name: String,
}

impl App {
    /// Launches the app on `home` (loopback networking, no mDNS) and waits
    /// for its window.
    pub fn launch(display: &Display, home: &Path, name: &str) -> Result<App> {
        Self::launch_with(display, home, name, Some(crate::TEST_PASSPHRASE))
    }

    /// [`App::launch`], with `OUTPOST_PASSPHRASE` set to `passphrase` (or
    /// unset: the app then asks for it).
    pub fn launch_with(
        display: &Display,
        home: &Path,
        name: &str,
        passphrase: Option<&str>,
    ) -> Result<App> {
        Self::launch_env(
            display,
            home,
            name,
            &[("OUTPOST_PASSPHRASE".into(), passphrase.unwrap_or("").into())],
        )
    }

    /// Launches the app on `home` with `env` over the test defaults
    /// (`OUTPOST_KEYCHAIN=off`, loopback only, no mDNS, English).
    pub fn launch_env(
        display: &Display,
        home: &Path,
        name: &str,
        env: &[(String, String)],
    ) -> Result<App> {
        let driver_bin = which("tauri-driver")
            .ok_or("tauri-driver is not installed (cargo install tauri-driver --version ^2)")?;
        let port = free_port()?;
        let native = free_port()?;
        let log = std::fs::File::create(artifacts_dir().join(format!("{name}-driver.log")))?;
        let mut driver = Command::new(driver_bin)
            // Its own process group, so stopping it also stops
            // WebKitWebDriver and the app it launched.
            .process_group(0)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display.name)
            .env("OUTPOST_HOME", home)
            .env("OUTPOST_PASSPHRASE", "")
            .env("OUTPOST_KEYCHAIN", "off")
            .env("OUTPOST_BIND", "127.0.0.1:0")
            .env("OUTPOST_NO_MDNS", "1")
            .env("LANG", "C.UTF-8")
            .env("LANGUAGE", "en")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": desktop_bin() },
        });
        // The window keeps the size tauri.conf.json gives it: resizing
        // through WebDriver waits for a window manager Xvfb does not have.
        let session = Session::start(
            &format!("http://127.0.0.1:{port}"),
            caps,
            Duration::from_secs(30),
        );
        match session {
            Ok(session) => Ok(App {
                session,
                driver,
                name: name.to_string(),
            }),
            Err(e) => {
                stop_group(&mut driver);
                Err(e)
            }
        }
    }

    /// Waits (up to 20 s) for an element; returns its id.
    fn wait_for(&self, using: &str, value: &str, what: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(id) = self.session.find_all(using, value)?.into_iter().next() {
                return Ok(id);
            }
            if Instant::now() > deadline {
                return Err(self.failed(&format!("waiting for {what}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Keeps a screenshot and the page source of a failure, and says where.
    fn failed(&self, what: &str) -> Error {
        let shot = self.screenshot(&format!("{}-failure", self.name));
        let source = self
            .session
            .cmd("GET", "/source", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let page = artifacts_dir().join(format!("{}-failure.html", self.name));
        let _ = std::fs::write(&page, source);
        format!(
            "{}: {what} (screenshot {:?}, page {})",
            self.name,
            shot.ok(),
            page.display()
        )
        .into()
    }

    /// Waits for a button with exactly this (trimmed) text and clicks it.
    pub fn click_button(&self, text: &str) -> Result<()> {
        let xpath = format!("//button[normalize-space()='{text}']");
        let el = self.wait_for("xpath", &xpath, &format!("button '{text}'"))?;
        self.session.click(&el)
    }

    /// Opens the case form from a community's home, fills its required
    /// fields (and `tags`, if any) and presses "Share case".
    pub fn present_case(&self, title: &str, presenting: &str, ask: &str, tags: &str) -> Result<()> {
        self.click_button("Present a case")?;
        self.type_into("#case-title", title)?;
        self.type_into("#case-presenting", presenting)?;
        self.type_into("#case-ask", ask)?;
        if !tags.is_empty() {
            self.type_into("#case-tags", tags)?;
        }
        self.click_button("Share case")
    }

    /// Empties a text field.
    pub fn clear(&self, selector: &str) -> Result<()> {
        let el = self.wait_for("css selector", selector, selector)?;
        self.session
            .cmd("POST", &format!("/element/{el}/clear"), Some(json!({})))?;
        Ok(())
    }

    pub fn type_into(&self, selector: &str, text: &str) -> Result<()> {
        let el = self.wait_for("css selector", selector, selector)?;
        self.session.click(&el)?;
        self.session.send_keys(&el, text)
    }

    /// The text of the first element matching `selector`.
    pub fn text(&self, selector: &str) -> Result<String> {
        self.wait_for("css selector", selector, selector)?;
        Ok(self.texts(selector)?.into_iter().next().unwrap_or_default())
    }

    /// The rendered text of every element matching `selector`, read in one
    /// script call (element handles go stale while the UI re-renders).
    pub fn texts(&self, selector: &str) -> Result<Vec<String>> {
        let v = self.session.execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)",
            vec![selector.into()],
        )?;
        Ok(serde_json::from_value(v)?)
    }

    /// Polls until an element's text contains `needle`; returns the time
    /// it took. Nothing is reloaded or clicked meanwhile.
    pub fn wait_for_text(
        &self,
        selector: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<Duration> {
        let start = Instant::now();
        loop {
            if self
                .texts(selector)
                .is_ok_and(|ts| ts.iter().any(|t| t.contains(needle)))
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(self.failed(&format!(
                    "'{needle}' did not appear in '{selector}' within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.session.screenshot()?;
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub fn quit(self) {
        self.session.close();
        // Drop stops the driver's process group.
    }
}

impl Drop for App {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

/// Stops a child started in its own process group, with everything it
/// started.
fn stop_group(child: &mut Child) {
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.wait();
}
