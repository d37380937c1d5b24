//! Reads the desktop commands out of `src/commands.rs`, the one place they
//! are declared: the names of the `#[tauri::command]` functions, and the
//! names listed in `tauri::generate_handler![...]`.
//!
//! Shared by `build.rs` (which turns the commands into the app manifest,
//! hence the `allow-<command>` permissions) and `tests/command_drift.rs`
//! (which checks the handler list, the capability file, `ui/src/lib/api.ts`
//! and the mock backend against them). A small lexer, not a Rust parser:
//! it drops comments, string and character literals, then looks at the
//! identifiers and punctuation left, so a command named in a doc comment
//! or a string is not a command.

/// A name with the 1-based line it is declared on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub line: usize,
}

/// The permission tauri-build generates for `command` (`foo_bar` →
/// `allow-foo-bar`).
pub fn permission(command: &str) -> String {
    format!("allow-{}", command.replace('_', "-"))
}

/// The functions marked `#[tauri::command]` (with or without arguments,
/// e.g. `#[tauri::command(async)]`), in source order.
pub fn commands(src: &str) -> Result<Vec<Named>, String> {
    let toks = lex(src)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !is_command_attribute(&toks[i..]) {
            i += 1;
            continue;
        }
        let line = toks[i].line;
        // Past this attribute, any others, and the qualifiers before `fn`.
        let mut j = skip_attribute(&toks, i)?;
        loop {
            match toks.get(j).map(|t| &t.kind) {
                Some(Kind::Punct('#')) => j = skip_attribute(&toks, j)?,
                Some(Kind::Ident(w)) if w == "pub" => {
                    j += 1;
                    if matches!(toks.get(j).map(|t| &t.kind), Some(Kind::Punct('('))) {
                        j = skip_group(&toks, j)?;
                    }
                }
                Some(Kind::Ident(w)) if ["async", "const", "unsafe", "extern"].contains(&&**w) => {
                    j += 1
                }
                Some(Kind::Literal) => j += 1, // extern "C"
                _ => break,
            }
        }
        match (toks.get(j), toks.get(j + 1)) {
            (Some(f), Some(n)) if f.kind == Kind::Ident("fn".into()) => match &n.kind {
                Kind::Ident(name) => out.push(Named {
                    name: name.clone(),
                    line: n.line,
                }),
                _ => return Err(format!("line {}: `fn` without a name", n.line)),
            },
            _ => {
                return Err(format!(
                    "line {line}: #[tauri::command] is not followed by a function"
                ));
            }
        }
        i = j + 2;
    }
    Ok(out)
}

/// The last path segment of each entry of the one
/// `tauri::generate_handler![...]` in `src`, in order.
pub fn handler_list(src: &str) -> Result<Vec<Named>, String> {
    let toks = lex(src)?;
    let mut found = None;
    for i in 0..toks.len() {
        let head = toks[i].kind == Kind::Ident("generate_handler".into())
            && toks.get(i + 1).map(|t| &t.kind) == Some(&Kind::Punct('!'));
        if !head {
            continue;
        }
        if found.is_some() {
            return Err(format!(
                "line {}: a second generate_handler! (expected one)",
                toks[i].line
            ));
        }
        let open = i + 2;
        let close = skip_group(&toks, open)? - 1;
        let mut names = Vec::new();
        let mut last: Option<Named> = None;
        for t in &toks[open + 1..close] {
            match &t.kind {
                Kind::Ident(name) => {
                    last = Some(Named {
                        name: name.clone(),
                        line: t.line,
                    })
                }
                Kind::Punct(',') => names.extend(last.take()),
                Kind::Punct(':') => {}
                _ => {
                    return Err(format!(
                        "line {}: unexpected token in generate_handler!",
                        t.line
                    ));
                }
            }
        }
        names.extend(last);
        found = Some(names);
    }
    found.ok_or_else(|| "no tauri::generate_handler![...] found".to_string())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Ident(String),
    Punct(char),
    /// A string, byte string, character or number literal (its text does
    /// not matter here).
    Literal,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    line: usize,
}

fn is_command_attribute(t: &[Tok]) -> bool {
    let want = [
        Kind::Punct('#'),
        Kind::Punct('['),
        Kind::Ident("tauri".into()),
        Kind::Punct(':'),
        Kind::Punct(':'),
        Kind::Ident("command".into()),
    ];
    t.len() > want.len()
        && t.iter().zip(&want).all(|(t, w)| t.kind == *w)
        && matches!(t[want.len()].kind, Kind::Punct('(') | Kind::Punct(']'))
}

/// `toks[at]` is `#`: the index just past the attribute's closing `]`.
fn skip_attribute(toks: &[Tok], at: usize) -> Result<usize, String> {
    let mut j = at + 1;
    if matches!(toks.get(j).map(|t| &t.kind), Some(Kind::Punct('!'))) {
        j += 1;
    }
    skip_group(toks, j)
}

/// `toks[at]` opens a `(`, `[` or `{` group: the index just past its close.
fn skip_group(toks: &[Tok], at: usize) -> Result<usize, String> {
    let line = toks.get(at).map_or(0, |t| t.line);
    if !matches!(
        toks.get(at).map(|t| &t.kind),
        Some(Kind::Punct('(' | '[' | '{'))
    ) {
        return Err(format!("line {line}: expected a bracket"));
    }
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(at) {
        match t.kind {
            Kind::Punct('(' | '[' | '{') => depth += 1,
            Kind::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
    }
    Err(format!("line {line}: unclosed bracket"))
}

/// Identifiers, punctuation and literals, without comments or whitespace.
fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let s: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let unclosed = |what: &str, line: usize| format!("line {line}: unclosed {what}");
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let start = line;
            let mut depth = 0;
            loop {
                match (s.get(i), s.get(i + 1)) {
                    (Some('/'), Some('*')) => (depth, i) = (depth + 1, i + 2),
                    (Some('*'), Some('/')) => {
                        (depth, i) = (depth - 1, i + 2);
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(ch), _) => {
                        line += usize::from(*ch == '\n');
                        i += 1;
                    }
                    (None, _) => return Err(unclosed("block comment", start)),
                }
            }
        } else if c == '"' {
            let start = line;
            i += 1;
            loop {
                match s.get(i) {
                    Some('\\') => {
                        line += usize::from(s.get(i + 1) == Some(&'\n'));
                        i += 2;
                    }
                    Some('"') => break,
                    Some(ch) => {
                        line += usize::from(*ch == '\n');
                        i += 1;
                    }
                    None => return Err(unclosed("string", start)),
                }
            }
            i += 1;
            toks.push(Tok {
                kind: Kind::Literal,
                line: start,
            });
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 3; // past the escaped character, which may be '
                while j < s.len() && s[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                toks.push(Tok {
                    kind: Kind::Literal,
                    line,
                });
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3;
                toks.push(Tok {
                    kind: Kind::Literal,
                    line,
                });
            } else {
                i += 1; // a lifetime: its name lexes as an identifier
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            let raw_prefix = matches!(&*word, "r" | "br" | "cr");
            if raw_prefix && matches!(s.get(i), Some('#' | '"')) {
                let mut hashes = 0;
                while s.get(i + hashes) == Some(&'#') {
                    hashes += 1;
                }
                if s.get(i + hashes) == Some(&'"') {
                    // A raw string: ends at `"` and as many `#`.
                    let start_line = line;
                    i += hashes + 1;
                    loop {
                        match s.get(i) {
                            Some('"') if (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) => {
                                i += hashes + 1;
                                break;
                            }
                            Some(ch) => {
                                line += usize::from(*ch == '\n');
                                i += 1;
                            }
                            None => return Err(unclosed("raw string", start_line)),
                        }
                    }
                    toks.push(Tok {
                        kind: Kind::Literal,
                        line: start_line,
                    });
                    continue;
                }
                if word == "r" && hashes == 1 {
                    // A raw identifier, r#name: the next word is the name.
                    i += 1;
                    continue;
                }
            }
            if matches!(&*word, "b" | "c") && matches!(s.get(i), Some('"' | '\'')) {
                continue; // b"…", c"…", b'…': the literal follows
            }
            toks.push(Tok {
                kind: Kind::Ident(word),
                line,
            });
        } else if c.is_ascii_digit() {
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Literal,
                line,
            });
        } else {
            toks.push(Tok {
                kind: Kind::Punct(c),
                line,
            });
            i += 1;
        }
    }
    Ok(toks)
}
