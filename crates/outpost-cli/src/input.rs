//! What the CLI reads from the user: `-` arguments from stdin, and
//! passphrases from the environment or the terminal.

use anyhow::{Context, Result, bail};
use outpost_core::{CoreError, Outpost, Unlock};
use std::io::Read;
use std::path::PathBuf;

/// Reads `-` from stdin (once per command).
#[derive(Default)]
pub struct Input {
    stdin_used: bool,
}

impl Input {
    pub fn text(&mut self, field: &str, value: String) -> Result<String> {
        if value != "-" {
            return Ok(value);
        }
        if self.stdin_used {
            bail!("{field}: only one argument can be read from stdin (`-`)");
        }
        self.stdin_used = true;
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .with_context(|| format!("{field}: cannot read stdin"))?;
        Ok(s.trim_end_matches(['\n', '\r']).to_string())
    }

    pub fn opt(&mut self, field: &str, value: Option<String>) -> Result<Option<String>> {
        value.map(|v| self.text(field, v)).transpose()
    }

    pub fn file(&mut self, field: &str, path: &PathBuf) -> Result<String> {
        if path.as_os_str() == "-" {
            return self.text(field, "-".into());
        }
        std::fs::read_to_string(path)
            .with_context(|| format!("{field}: cannot read {}", path.display()))
    }
}

/// A passphrase from the environment variable `var`, else asked for on
/// the terminal (twice when `confirm`).
pub fn passphrase(var: &str, prompt: &str, confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var(var)
        && !p.is_empty()
    {
        return Ok(p);
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .with_context(|| format!("no terminal to ask for a passphrase: set {var}"))
    };
    let p = ask(prompt)?;
    if confirm && ask("Again, to confirm: ")? != p {
        bail!("the two passphrases differ; nothing was changed");
    }
    Ok(p)
}

/// Opens the home, asking for its passphrase when it has one and
/// $OUTPOST_PASSPHRASE is not set.
pub fn open_home(home: &std::path::Path) -> Result<Outpost> {
    match Outpost::open(home) {
        Err(CoreError::PassphraseNeeded(_)) => {
            let p = passphrase(
                "OUTPOST_PASSPHRASE",
                &format!("Passphrase for {}: ", home.display()),
                false,
            )?;
            Ok(Outpost::open_with(home, &Unlock::passphrase(&p))?)
        }
        other => Ok(other?),
    }
}

/// An invitation ticket from standard input, or asked for without echo
/// when standard input is a terminal.
pub fn ticket() -> Result<String> {
    use std::io::IsTerminal;
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Invitation ticket (paste it; it is not shown): ")
            .context("no terminal to ask for the ticket: pass it on standard input")?
    } else {
        let mut s = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut s)
            .context("reading the ticket from standard input")?;
        s
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        bail!("no invitation ticket given");
    }
    Ok(text)
}
