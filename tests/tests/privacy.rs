//! Clinical privacy through the real `outpost` binary: the store encrypted
//! at rest, the identifier check before sharing, `outpost scan`, and
//! bundles carried between homes that never connected.

use outpost_tests::{Home, serve};
use serde_json::Value;
use std::path::Path;

const PHRASE: &str = "unexplained nocturnal hypoglycaemia in a shepherd";

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every byte of every file under `dir`.
fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).expect("read file")));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn add_case(home: &Home, community: &str, presenting: &str) -> Value {
    home.json(&[
        "case",
        "add",
        "--community",
        community,
        "--title",
        PHRASE,
        "--presenting",
        presenting,
        "--ask",
        "What would you check next?",
    ])
}

#[test]
fn no_file_in_the_home_reveals_case_text() {
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    add_case(&home, &c, &format!("{PHRASE}, worse after fasting"));
    // Also while `serve` could be running: a WAL checkpoint need not have
    // happened, so the WAL is searched too.
    let files = all_files(home.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("outpost.db")));
    for (path, bytes) in &files {
        for needle in [
            PHRASE.as_bytes(),
            b"shepherd",
            b"Dr Rees",
            b"SQLite format 3",
        ] {
            assert!(
                !contains(bytes, needle),
                "{} reveals {:?}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    // No device key file beside the store: the key lives inside it.
    assert!(!home.path().join("device.key").exists());
    // And the phrase is really there once unlocked.
    let found = home.json(&["search", "shepherd"]);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
}

#[test]
fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    add_case(&home, &c, "fever and rash");
    let before = all_files(home.path());
    let out = home
        .command(&["list"])
        .env("OUTPOST_PASSPHRASE", "not the passphrase")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        all_files(home.path()),
        before,
        "a failed unlock wrote something"
    );
    // No passphrase and no keychain: a clear request for one, no prompt hang.
    let out = home
        .command(&["list"])
        .env_remove("OUTPOST_PASSPHRASE")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("OUTPOST_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
    // The right one still works.
    assert_eq!(home.json(&["list"]).as_array().map(Vec::len), Some(1));
}

#[test]
fn without_a_keychain_init_needs_a_passphrase() {
    let home = Home::new();
    let out = home
        .command(&["init", "--name", "Dr Rees"])
        .env_remove("OUTPOST_PASSPHRASE")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("keychain") && err.contains("OUTPOST_PASSPHRASE"),
        "{err}"
    );
    assert!(
        !home.path().join("home.json").exists(),
        "half a home was set up"
    );
    // Too short a passphrase is refused before anything is written.
    let out = home
        .command(&["init", "--name", "Dr Rees"])
        .env("OUTPOST_PASSPHRASE", "short")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 8"), "{}", stderr(&out));
    assert!(!home.path().join("home.json").exists());
    home.json(&["init", "--name", "Dr Rees"]);
    let header: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("home.json")).expect("home.json"))
            .expect("json");
    assert_eq!(header["key"]["source"], "passphrase");
    assert_eq!(header["key"]["m_cost_kib"], 65536);
}

#[test]
fn rekey_is_refused_while_the_home_is_served() {
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    add_case(&home, &c, "fever and rash");
    let before = std::fs::read(home.path().join("home.json")).expect("home.json");
    let running = serve(&home);
    let out = home
        .command(&["rekey"])
        .env("OUTPOST_NEW_PASSPHRASE", "a brand new passphrase")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("open elsewhere"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(home.path().join("home.json")).expect("home.json"),
        before,
        "a refused rekey changed home.json"
    );
    // The running serve and the CLI beside it still work with the old key.
    add_case(&home, &c, "second case while serving");
    drop(running);
    let out = home
        .command(&["rekey"])
        .env("OUTPOST_NEW_PASSPHRASE", "a brand new passphrase")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home
        .command(&["--json", "list"])
        .env("OUTPOST_PASSPHRASE", "a brand new passphrase")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(2));
}

#[test]
fn rekey_changes_the_passphrase() {
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    add_case(&home, &c, "fever and rash");
    let new = "a brand new passphrase";
    let out = home
        .command(&["rekey"])
        .env("OUTPOST_NEW_PASSPHRASE", new)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    // The old passphrase no longer opens it; the new one does, with
    // everything still there.
    let old = home.run(&["list"]);
    assert!(!old.status.success());
    assert!(stderr(&old).contains("wrong passphrase"));
    let out = home
        .command(&["--json", "list"])
        .env("OUTPOST_PASSPHRASE", new)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let header: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("home.json")).expect("home.json"))
            .expect("json");
    assert!(
        header.get("previous").is_none(),
        "rekey left a previous key: {header}"
    );
    // A rekey with a wrong current passphrase changes nothing.
    let out = home
        .command(&["rekey"])
        .env("OUTPOST_PASSPHRASE", "not the passphrase")
        .env("OUTPOST_NEW_PASSPHRASE", "another new passphrase")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let still = home
        .command(&["list"])
        .env("OUTPOST_PASSPHRASE", new)
        .output()
        .expect("run");
    assert!(still.status.success());
}

#[test]
fn identifiers_are_refused_unless_allowed() {
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    let out = home.run(&[
        "case",
        "add",
        "--community",
        &c,
        "--title",
        "Chest pain",
        "--presenting",
        "Mrs Okafor, DOB 04/09/1931, NHS 943 476 5919, chest pain at rest",
        "--ask",
        "Admit?",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for expected in [
        "name 'Okafor'",
        "date '04/09/1931'",
        "nhs_number '943 476 5919'",
        "Nothing was shared",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
    assert_eq!(home.json(&["list"]).as_array().map(Vec::len), Some(0));
    // A reply is checked too.
    let case = add_case(&home, &c, "chest pain at rest, BP 150/90, aspirin 300 mg");
    let id = case["id"].as_str().expect("id");
    let out = home.run(&["reply", id, "Call her daughter on 07700 900123"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("phone '07700 900123'"));
    // Allowed explicitly: shared.
    let out = home.run(&[
        "--allow-identifiers",
        "reply",
        id,
        "Dr Foster at the district hospital agreed",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn scan_prints_findings_as_json() {
    let home = Home::new();
    let file = home.path().join("note.txt");
    std::fs::create_dir_all(home.path()).expect("dir");
    std::fs::write(&file, "Sra. Fernández, DNI 12345678Z, TA 140/90.\n").expect("write");
    let found = home.json(&["scan", file.to_str().expect("path")]);
    let list = found.as_array().expect("array");
    assert_eq!(list.len(), 2, "{found}");
    assert_eq!(list[0]["category"], "name");
    assert_eq!(list[0]["text"], "Fernández");
    assert_eq!(list[0]["start"], 5);
    assert_eq!(list[0]["end"], 15);
    assert_eq!(list[1]["category"], "dni_nie");
    // From stdin, and nothing found is an empty array.
    let out = home.run_stdin(&["--json", "scan", "-"], "Hb 98 g/L, BP 120/80");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    // A missing file is a clear error.
    let out = home.run(&["scan", "/nonexistent/note.txt"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot read"));
}

fn export(home: &Home, community: &str, out: &Path) -> std::process::Output {
    home.export_bundle(community, out, "usb stick passphrase")
}

fn import(home: &Home, file: &Path) -> std::process::Output {
    home.import_bundle(file, "usb stick passphrase")
}

#[test]
fn a_bundle_carries_a_community_between_homes_that_never_connected() {
    let a = Home::new();
    let c = a.init_with_community("Dr Rees");
    add_case(&a, &c, "fever and rash after a tick bite");
    let b = Home::new();
    let me_b = b.json(&["init", "--name", "Dr Llewellyn"]);
    let b_id = me_b["id"].as_str().expect("id").to_string();
    let stick = tempfile::tempdir().expect("stick");
    let bundle = stick.path().join("valley.outpost");

    // B is not a member yet: A's bundle is refused, nothing changes.
    let out = export(&a, &c, &bundle);
    assert!(out.status.success(), "{}", stderr(&out));
    let raw = std::fs::read(&bundle).expect("bundle");
    assert!(
        !contains(&raw, PHRASE.as_bytes()),
        "the bundle is not encrypted"
    );
    let out = import(&b, &bundle);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a member"), "{}", stderr(&out));
    assert_eq!(
        b.json(&["community", "list"]).as_array().map(Vec::len),
        Some(0)
    );

    // A adds B by device id (read over the phone), exports again; B imports.
    a.json(&["member", "add", "--community", &c, &b_id]);
    assert!(export(&a, &c, &bundle).status.success());
    let out = import(&b, &bundle);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = b.json(&["search", "tick"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

    // B's reply travels back the same way.
    let case = b.json(&["list"])[0]["id"].as_str().expect("id").to_string();
    b.json(&["reply", &case, "Consider Lyme serology and doxycycline."]);
    let back = stick.path().join("back.outpost");
    assert!(export(&b, &c, &back).status.success());
    let out = import(&a, &back);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = a.json(&["show", &case]);
    assert_eq!(
        shown["replies"][0]["body"],
        "Consider Lyme serology and doxycycline."
    );
    // Importing the same bundle again changes nothing.
    let again: Value = serde_json::from_slice(&import(&a, &back).stdout).expect("json");
    assert_eq!(again["changed"], 0);
}

/// Home A with a community and a case; home B, never connected, added by
/// device id; A's bundle exported onto a "USB stick".
struct Sneakernet {
    a: Home,
    c: String,
    b: Home,
    b_id: String,
    stick: tempfile::TempDir,
    bundle: std::path::PathBuf,
}

impl Sneakernet {
    fn new() -> Self {
        let a = Home::new();
        let c = a.init_with_community("Dr Rees");
        add_case(&a, &c, "fever and rash");
        let b = Home::new();
        let b_id = b.json(&["init", "--name", "Dr Llewellyn"])["id"]
            .as_str()
            .expect("id")
            .to_string();
        a.json(&["member", "add", "--community", &c, &b_id]);
        let stick = tempfile::tempdir().expect("stick");
        let bundle = stick.path().join("valley.outpost");
        assert!(export(&a, &c, &bundle).status.success());
        Self {
            a,
            c,
            b,
            b_id,
            stick,
            bundle,
        }
    }
}

#[test]
fn damaged_bundles_are_refused_and_change_nothing() {
    let Sneakernet {
        b, stick, bundle, ..
    } = Sneakernet::new();
    let good = std::fs::read(&bundle).expect("bundle");
    let before = b.json(&["community", "list"]);

    let truncated = stick.path().join("truncated.outpost");
    std::fs::write(&truncated, &good[..good.len() * 2 / 3]).expect("write");
    let mut flipped = good.clone();
    let at = flipped.len() - 40;
    flipped[at] ^= 0x55;
    let tampered = stick.path().join("tampered.outpost");
    std::fs::write(&tampered, &flipped).expect("write");
    let junk = stick.path().join("junk.outpost");
    std::fs::write(&junk, b"this is not a bundle at all").expect("write");
    for (file, why) in [
        (&truncated, "truncated"),
        (&tampered, "tampered"),
        (&junk, "junk"),
    ] {
        let out = import(&b, file);
        assert!(!out.status.success(), "{why} bundle imported");
        let err = stderr(&out);
        assert!(err.contains("nothing was imported"), "{why}: {err}");
        assert_eq!(
            b.json(&["community", "list"]),
            before,
            "{why} bundle changed the home"
        );
    }
    // The wrong passphrase.
    let out = b.import_bundle(&bundle, "wrong passphrase here");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    // The good one still imports.
    assert!(import(&b, &bundle).status.success());
}

#[test]
fn a_bundle_can_be_written_to_a_relative_path() {
    // `outpost export --out valley.outpost`, as the README shows it.
    let a = Home::new();
    let c = a.init_with_community("Dr Rees");
    let stick = tempfile::tempdir().expect("tmp");
    let out = a
        .command(&["export", "--community", &c, "--out", "valley.outpost"])
        .current_dir(stick.path())
        .env("OUTPOST_BUNDLE_PASSPHRASE", "usb stick passphrase")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<_> = std::fs::read_dir(stick.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("valley.outpost")]);
}

#[test]
fn markdown_export_is_a_readable_copy() {
    let a = Home::new();
    let c = a.init_with_community("Dr Rees");
    add_case(&a, &c, "fever and rash");
    let dir = tempfile::tempdir().expect("dir");
    let out = a.json(&[
        "export",
        "--community",
        &c,
        "--format",
        "markdown",
        "--out",
        dir.path().to_str().expect("path"),
    ]);
    let files = out["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{out}");
    let readme = std::fs::read_to_string(dir.path().join("README.md")).expect("readme");
    assert!(
        readme.contains("## Cases") && readme.contains(PHRASE),
        "{readme}"
    );
    let case = std::fs::read_to_string(files[1].as_str().expect("path")).expect("case");
    assert!(
        case.contains("## Presenting problem\n\nfever and rash"),
        "{case}"
    );
}

#[test]
fn a_home_from_before_encryption_is_encrypted_on_first_open() {
    // Make an old-style home: a plain SQLite store and a device.key file.
    let home = Home::new();
    let c = home.init_with_community("Dr Rees");
    add_case(&home, &c, "fever and rash");
    let id = home.json(&["whoami"])["id"].clone();
    let store = outpost_tests::open_store(home.path()).expect("store");
    let secret = store
        .meta("device_secret")
        .expect("meta")
        .expect("device secret");
    let plain = home.path().join("plain.db");
    let version: i64 = store
        .connection()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("schema version");
    // sqlcipher_export copies the tables, not the schema version.
    store
        .connection()
        .execute_batch(&format!(
            "ATTACH DATABASE '{}' AS plain KEY ''; SELECT sqlcipher_export('plain'); \
             PRAGMA plain.user_version = {version}; \
             DELETE FROM plain.meta WHERE key = 'device_secret'; DETACH DATABASE plain;",
            plain.display()
        ))
        .expect("export a plain copy");
    drop(store);
    for f in ["outpost.db-wal", "outpost.db-shm", "home.json"] {
        let _ = std::fs::remove_file(home.path().join(f));
    }
    std::fs::rename(&plain, home.path().join("outpost.db")).expect("rename");
    std::fs::write(home.path().join("device.key"), format!("{secret}\n")).expect("key file");
    let db = std::fs::read(home.path().join("outpost.db")).expect("db");
    assert!(
        db.starts_with(b"SQLite format 3\0"),
        "the old home is plain"
    );

    // First open with this Outpost: same device, same cases, now encrypted.
    let me = home.json(&["whoami"]);
    assert_eq!(me["id"], id);
    assert_eq!(home.json(&["list"]).as_array().map(Vec::len), Some(1));
    assert!(
        !home.path().join("device.key").exists(),
        "the key file is gone"
    );
    assert!(home.path().join("home.json").exists());
    for (path, bytes) in all_files(home.path()) {
        assert!(
            !contains(&bytes, PHRASE.as_bytes()) && !contains(&bytes, b"SQLite format 3"),
            "{} is still plain",
            path.display()
        );
    }
}

#[test]
fn a_bundle_from_a_removed_member_is_refused() {
    let Sneakernet {
        a,
        c,
        b,
        b_id,
        stick,
        bundle,
    } = Sneakernet::new();
    assert!(import(&b, &bundle).status.success());
    // A removes B; B, not knowing, writes and exports.
    a.json(&["member", "remove", "--community", &c, &b_id[..12]]);
    let case = b.json(&["list"])[0]["id"].as_str().expect("id").to_string();
    b.json(&["comment", &case, "Still following this one."]);
    let back = stick.path().join("back.outpost");
    assert!(export(&b, &c, &back).status.success());
    let before = a.json(&["show", &case]);
    let out = import(&a, &back);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a member"), "{}", stderr(&out));
    assert_eq!(
        a.json(&["show", &case]),
        before,
        "the refused bundle changed A"
    );
}
