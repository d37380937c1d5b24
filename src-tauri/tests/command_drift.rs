//! The desktop commands are declared once, as the `#[tauri::command]` fns
//! of `src/commands.rs` (`build.rs` derives the app manifest, hence the
//! `allow-<command>` permissions, from them). These tests fail when
//! something else that names a command disagrees:
//!
//! - `handler()`'s `generate_handler!` list (a command missing, or an
//!   entry that is no command);
//! - `capabilities/*.json` (`main.json` not allowing a command, or any
//!   capability allowing `allow-…` with no command behind it);
//! - `ui/src/lib/api.ts` invoking a command that does not exist;
//! - `ui/src/mock/backend.ts` (the browser tests' backend) lacking a
//!   command `api.ts` invokes, or handling one that does not exist.
//!
//! The `*_is_caught` tests feed each check a copy of the real files with
//! one entry removed or added, so each check is seen to fail.

#[path = "../command_names.rs"]
mod command_names;

use command_names::{Named, commands, handler_list, permission};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// Relative to the workspace root, as the messages name them.
const COMMANDS: &str = "src-tauri/src/commands.rs";
const CAPABILITIES: &str = "src-tauri/capabilities";
const MAIN_CAPABILITY: &str = "src-tauri/capabilities/main.json";
const API: &str = "ui/src/lib/api.ts";
const MOCK: &str = "ui/src/mock/backend.ts";

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

fn declared(src: &str) -> Vec<Named> {
    let c = commands(src).unwrap_or_else(|e| panic!("{COMMANDS}: {e}"));
    assert!(!c.is_empty(), "{COMMANDS}: no #[tauri::command] fn found");
    c
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

fn names(list: &[Named]) -> BTreeSet<&str> {
    list.iter().map(|n| n.name.as_str()).collect()
}

// ---- the checks --------------------------------------------------------

/// `generate_handler!` lists exactly the `#[tauri::command]` fns.
fn handler_problems(src: &str) -> Vec<String> {
    let commands = declared(src);
    let handler = handler_list(src).unwrap_or_else(|e| panic!("{COMMANDS}: {e}"));
    let (c, h) = (names(&commands), names(&handler));
    let mut out = Vec::new();
    for n in &commands {
        if !h.contains(n.name.as_str()) {
            out.push(format!(
                "{COMMANDS}:{}: #[tauri::command] fn `{}` is not in handler()'s generate_handler! list",
                n.line, n.name
            ));
        }
    }
    for n in &handler {
        if !c.contains(n.name.as_str()) {
            out.push(format!(
                "{COMMANDS}:{}: generate_handler! lists `{}`, which is no #[tauri::command] fn in this file",
                n.line, n.name
            ));
        }
    }
    out
}

/// The identifiers a capability file grants (strings, or objects with an
/// `identifier`).
fn granted(file: &str, json: &Value) -> Vec<String> {
    json.get("permissions")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{file}: no \"permissions\" array"))
        .iter()
        .map(|p| {
            p.as_str()
                .or_else(|| p.get("identifier").and_then(Value::as_str))
                .unwrap_or_else(|| panic!("{file}: a permission without an identifier: {p}"))
                .to_string()
        })
        .collect()
}

/// `file` allows every command.
fn missing_permissions(commands: &[Named], file: &str, json: &Value) -> Vec<String> {
    let granted = granted(file, json);
    commands
        .iter()
        .filter(|c| !granted.contains(&permission(&c.name)))
        .map(|c| {
            format!(
                "{file}: lacks \"{}\", so the window cannot call `{}` ({COMMANDS}:{})",
                permission(&c.name),
                c.name,
                c.line
            )
        })
        .collect()
}

/// `file` allows no app permission but a command's `allow-…`.
fn unknown_permissions(commands: &[Named], file: &str, json: &Value) -> Vec<String> {
    let known: BTreeSet<String> = commands.iter().map(|c| permission(&c.name)).collect();
    granted(file, json)
        .into_iter()
        // Plugins' and core's permissions are `plugin:…`; the app's have no prefix.
        .filter(|p| !p.contains(':') && !known.contains(p))
        .map(|p| format!("{file}: allows \"{p}\", but {COMMANDS} has no command behind it"))
        .collect()
}

/// `line` without a trailing `// comment` (quotes respected).
fn code_part(line: &str) -> &str {
    let b = line.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'\'' | b'"' | b'`') => quote = Some(b[i]),
            (None, b'/') if b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

/// A quoted string at the start of `s`: its text, or None if `s` does not
/// start with one (or it is a template with `${…}`).
fn literal(s: &str) -> Option<&str> {
    let q = s.chars().next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let body = &s[1..];
    let end = body.find(q)?;
    let text = &body[..end];
    (!text.contains("${") && !text.contains('\\')).then_some(text)
}

/// The command names `api.ts` invokes: the first argument of every
/// `call(…)` / `invoke(…)`, with or without type arguments, that is a
/// string literal.
fn invoked(src: &str) -> Vec<Named> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let code = code_part(line);
        let trimmed = code.trim_start();
        if trimmed.starts_with('*') || trimmed.starts_with("/*") {
            continue;
        }
        for f in ["call", "invoke"] {
            for (at, _) in code.match_indices(f) {
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                    continue;
                }
                let mut rest = code[at + f.len()..].trim_start();
                if rest.starts_with('<') {
                    // Type arguments, which may nest: B.Foo<Bar[]>.
                    let mut depth = 0;
                    let Some(end) = rest.char_indices().find_map(|(i, c)| {
                        match c {
                            '<' => depth += 1,
                            '>' => depth -= 1,
                            _ => {}
                        }
                        (depth == 0).then_some(i)
                    }) else {
                        continue;
                    };
                    rest = rest[end + 1..].trim_start();
                }
                let Some(args) = rest.strip_prefix('(') else {
                    continue;
                };
                if let Some(name) = literal(args.trim_start()) {
                    out.push(Named {
                        name: name.to_string(),
                        line: n + 1,
                    });
                }
            }
        }
    }
    out
}

/// `api.ts` invokes only commands that exist.
fn api_problems(commands: &[Named], invoked: &[Named]) -> Vec<String> {
    let c = names(commands);
    invoked
        .iter()
        .filter(|i| !c.contains(i.name.as_str()))
        .map(|i| {
            format!(
                "{API}:{}: invokes '{}', which is no #[tauri::command] in {COMMANDS}",
                i.line, i.name
            )
        })
        .collect()
}

/// The commands the mock backend handles: its `case '…':` labels.
fn handled(src: &str) -> Vec<Named> {
    let mut out = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let Some(rest) = code_part(line).trim_start().strip_prefix("case ") else {
            continue;
        };
        if let Some(name) = literal(rest.trim_start()) {
            out.push(Named {
                name: name.to_string(),
                line: n + 1,
            });
        }
    }
    out
}

/// The mock handles every command the UI invokes.
fn mock_problems(invoked: &[Named], handled: &[Named]) -> Vec<String> {
    let h = names(handled);
    invoked
        .iter()
        .filter(|i| !h.contains(i.name.as_str()))
        .map(|i| {
            format!(
                "{MOCK}: no `case '{}':`, but the UI calls it ({API}:{}); the browser tests would fail",
                i.name, i.line
            )
        })
        .collect()
}

/// The mock handles no app command that does not exist (plugins'
/// commands, `plugin:…|…`, are the plugins').
fn mock_stale_problems(commands: &[Named], handled: &[Named]) -> Vec<String> {
    let c = names(commands);
    handled
        .iter()
        .filter(|h| !h.name.starts_with("plugin:") && !c.contains(h.name.as_str()))
        .map(|h| {
            format!(
                "{MOCK}:{}: handles '{}', which is no #[tauri::command] in {COMMANDS}",
                h.line, h.name
            )
        })
        .collect()
}

fn api_invoked(src: &str) -> Vec<Named> {
    let i = invoked(src);
    assert!(!i.is_empty(), "{API}: found no invoke/call of a command");
    i
}

fn capabilities() -> Vec<(String, Value)> {
    let dir = path(CAPABILITIES);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("capabilities entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = format!(
                "{CAPABILITIES}/{}",
                p.file_name().expect("a file name").to_string_lossy()
            );
            assert!(
                name.ends_with(".json"),
                "{name}: only JSON capabilities are checked here"
            );
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, json)
        })
        .collect()
}

// ---- the files agree ---------------------------------------------------

#[test]
fn handler_lists_every_command_and_nothing_else() {
    assert_none(handler_problems(&read(COMMANDS)));
}

#[test]
fn main_capability_allows_every_command() {
    let commands = declared(&read(COMMANDS));
    let caps = capabilities();
    let (file, json) = caps
        .iter()
        .find(|(f, _)| f == MAIN_CAPABILITY)
        .expect("capabilities/main.json");
    assert_none(missing_permissions(&commands, file, json));
}

#[test]
fn capabilities_allow_no_command_that_does_not_exist() {
    let commands = declared(&read(COMMANDS));
    for (file, json) in capabilities() {
        assert_none(unknown_permissions(&commands, &file, &json));
    }
}

#[test]
fn api_ts_invokes_only_existing_commands() {
    let commands = declared(&read(COMMANDS));
    assert_none(api_problems(&commands, &api_invoked(&read(API))));
}

#[test]
fn mock_backend_handles_every_command_the_ui_calls() {
    assert_none(mock_problems(
        &api_invoked(&read(API)),
        &handled(&read(MOCK)),
    ));
}

#[test]
fn mock_backend_handles_only_existing_commands() {
    let commands = declared(&read(COMMANDS));
    assert_none(mock_stale_problems(&commands, &handled(&read(MOCK))));
}

// ---- each check fails on drift ----------------------------------------

const GHOST: &str = "ghost_command";

fn one_of(problems: Vec<String>, want: &str) {
    assert!(
        problems.iter().any(|p| p.contains(want)),
        "expected a problem mentioning {want:?}, got {problems:#?}"
    );
}

#[test]
fn a_command_missing_from_the_handler_is_caught() {
    let src = read(COMMANDS) + "\n#[tauri::command]\nfn ghost_command() {}\n";
    one_of(handler_problems(&src), &format!("fn `{GHOST}` is not in"));
}

#[test]
fn a_handler_entry_without_a_command_is_caught() {
    let src = read(COMMANDS).replacen(
        "generate_handler![",
        &format!("generate_handler![\n{GHOST},"),
        1,
    );
    one_of(handler_problems(&src), &format!("lists `{GHOST}`"));
}

#[test]
fn a_command_the_capability_lacks_is_caught() {
    let commands = declared(&read(COMMANDS));
    let first = permission(&commands[0].name);
    let (_, mut json) = capabilities()
        .into_iter()
        .find(|(f, _)| f == MAIN_CAPABILITY)
        .expect("capabilities/main.json");
    let list = json["permissions"].as_array_mut().expect("permissions");
    let before = list.len();
    list.retain(|p| p.as_str() != Some(&first));
    assert_eq!(list.len(), before - 1, "{first} was granted");
    one_of(
        missing_permissions(&commands, MAIN_CAPABILITY, &json),
        &format!("lacks \"{first}\""),
    );
    // A granted command that is then removed from commands.rs.
    let fewer = &commands[1..];
    let (_, real) = capabilities()
        .into_iter()
        .find(|(f, _)| f == MAIN_CAPABILITY)
        .expect("capabilities/main.json");
    one_of(
        unknown_permissions(fewer, MAIN_CAPABILITY, &real),
        &format!("allows \"{first}\""),
    );
}

#[test]
fn a_capability_allowing_no_command_is_caught() {
    let commands = declared(&read(COMMANDS));
    let (_, mut json) = capabilities()
        .into_iter()
        .find(|(f, _)| f == MAIN_CAPABILITY)
        .expect("capabilities/main.json");
    json["permissions"]
        .as_array_mut()
        .expect("permissions")
        .push(Value::from(permission(GHOST)));
    one_of(
        unknown_permissions(&commands, MAIN_CAPABILITY, &json),
        "allows \"allow-ghost-command\"",
    );
}

#[test]
fn the_ui_invoking_no_command_is_caught() {
    let commands = declared(&read(COMMANDS));
    let api = read(API)
        + "export const ghost = () => call<B.PostRef>('ghost_command', { id: 1 });\n\
           export const raw = () => invoke('ghost_raw');\n";
    let problems = api_problems(&commands, &api_invoked(&api));
    one_of(problems.clone(), &format!("invokes '{GHOST}'"));
    one_of(problems, "invokes 'ghost_raw'");
}

#[test]
fn the_mock_lacking_a_command_the_ui_calls_is_caught() {
    let invoked = api_invoked(&read(API));
    let missing = &invoked[0].name;
    let mock = read(MOCK).replace(&format!("case '{missing}':"), "case 'renamed_away':");
    let handled = handled(&mock);
    one_of(
        mock_problems(&invoked, &handled),
        &format!("no `case '{missing}':`"),
    );
    let commands = declared(&read(COMMANDS));
    one_of(
        mock_stale_problems(&commands, &handled),
        "handles 'renamed_away'",
    );
}

// ---- the readers -------------------------------------------------------

#[test]
fn commands_are_read_past_comments_strings_and_qualifiers() {
    let src = r####"
//! Talks about #[tauri::command] fn not_this() in a doc comment.
/* and #[tauri::command] fn nor_this() in a /* nested */ block comment */
const S: &str = "#[tauri::command] fn not_a_string()";
const R: &str = r#"#[tauri::command] fn "nor_raw()"#;
const C: char = '"';
const E: char = '\'';

#[tauri::command]
fn plain(x: State<'_, Shell>) {}

/// Documented.
#[tauri::command(async, rename_all = "snake_case")]
#[allow(clippy::needless_pass_by_value)]
/// More docs after the attributes.
pub(crate) async fn qualified() {}

#[tauri::command] pub async fn r#type() {}

fn not_a_command() {}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool {
    // generate_handler![in_a_comment]
    tauri::generate_handler![plain, crate::commands::qualified, r#type,]
}
"####;
    let got: Vec<_> = commands(src)
        .expect("parses")
        .into_iter()
        .map(|n| (n.name, n.line))
        .collect();
    assert_eq!(
        got,
        [
            ("plain".to_string(), 10),
            ("qualified".to_string(), 16),
            ("type".to_string(), 18)
        ]
    );
    let handler: Vec<_> = handler_list(src)
        .expect("parses")
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(handler, ["plain", "qualified", "type"]);
    assert!(commands("#[tauri::command]\nstruct NotAFn;").is_err());
    assert!(handler_list("fn handler() {}").is_err());
    assert_eq!(
        permission("protocol_add_reference"),
        "allow-protocol-add-reference"
    );
}

#[test]
fn invokes_and_cases_are_read_with_type_arguments_and_without_comments() {
    let api = "\
// call('in_a_comment')
/** invoke('in_jsdoc') */
async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  return await invoke<T>(cmd, args);
}
export const api = {
  a: () => call<B.AppInfo>('app_state'),
  b: (x: string) => call<Map<string, B.Foo[]>>(\"two_words\", { x }), // call('trailing')
  c: () => invoke('direct'),
  d: () => recall('not_mine'),
  e: () => call<string | null>('url', { url: 'https://x' }),
};";
    let got: Vec<_> = invoked(api).into_iter().map(|n| n.name).collect();
    assert_eq!(got, ["app_state", "two_words", "direct", "url"]);
    let mock = "\
  switch (cmd) {
    case 'app_state':
      return 1;
    // case 'commented_out':
    case 'accept':
    case \"helpful\": { return 2; }
    case 'plugin:dialog|open':
    default:";
    let got: Vec<_> = handled(mock).into_iter().map(|n| n.name).collect();
    assert_eq!(
        got,
        ["app_state", "accept", "helpful", "plugin:dialog|open"]
    );
}
