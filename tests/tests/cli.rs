//! The `outpost` CLI, driven as a user would: the happy path of every
//! command, and for each a bad input that must fail with a message naming
//! the problem and change nothing.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::{Home, id_of};
use serde_json::Value;

/// Asserts `args` fails, stderr mentions `needle`, and nothing changed.
fn rejected(home: &Home, args: &[&str], needle: &str) {
    let before = home.run(&["--json", "list", "--limit", "1000"]).stdout;
    let feed_before = feed_head(home);
    let out = home.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "outpost {args:?} should fail but printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "outpost {args:?}: expected '{needle}' in stderr, got: {stderr}"
    );
    assert!(out.stdout.is_empty(), "a failed command printed to stdout");
    assert_eq!(
        home.run(&["--json", "list", "--limit", "1000"]).stdout,
        before,
        "list changed after {args:?}"
    );
    assert_eq!(feed_head(home), feed_before, "store changed after {args:?}");
}

fn feed_head(home: &Home) -> i64 {
    if !home.path().join("home.json").exists() {
        return 0;
    }
    outpost_tests::open_store(home.path())
        .and_then(|s| s.feed_head())
        .unwrap_or(-1)
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn text(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn init_and_whoami() {
    let home = Home::new();
    rejected(&home, &["whoami"], "not set up");
    rejected(&home, &["init", "--name", "  "], "name");
    rejected(&home, &["init"], "--name");
    let me = home.json(&[
        "init",
        "--name",
        "Dr Ana Ruiz",
        "--profession",
        "GP",
        "--region",
        "Sierra",
        "--expertise",
        "Paeds",
    ]);
    assert_eq!(
        me["id"].as_str().map(str::len),
        Some(64),
        "device id is the ed25519 public key in hex"
    );
    assert_eq!(me["expertise"], serde_json::json!(["Paeds"]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The device key lives inside the encrypted store; the one
        // plaintext file, the key header, is its owner's only.
        assert!(!home.path().join("device.key").exists());
        let mode = std::fs::metadata(home.path().join("home.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "home.json readable by its owner only");
        let dir = std::fs::metadata(home.path()).unwrap().permissions().mode();
        assert_eq!(dir & 0o777, 0o700, "home readable by its owner only");
    }
    let again = home.json(&["whoami"]);
    assert_eq!(again["id"], me["id"]);
    assert_eq!(again["name"], "Dr Ana Ruiz");
    assert!(text(&home.run(&["whoami"])).contains("Dr Ana Ruiz"));
    rejected(&home, &["init", "--name", "Someone Else"], "already set up");
    // $OUTPOST_HOME is honoured when --home is absent.
    let out = std::process::Command::new(outpost_tests::outpost_bin())
        .args(["--json", "whoami"])
        .env("OUTPOST_HOME", home.path())
        .env("OUTPOST_PASSPHRASE", outpost_tests::TEST_PASSPHRASE)
        .env("OUTPOST_KEYCHAIN", "off")
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"],
        me["id"]
    );
}

#[test]
fn communities() {
    let home = Home::new();
    home.json(&["init", "--name", "Dr A"]);
    rejected(
        &home,
        &["community", "create", "Rural", "--domain", ""],
        "domain",
    );
    rejected(&home, &["community", "create", "", "--domain", "x"], "name");
    let c = home.json(&[
        "community",
        "create",
        "Rural emergencies",
        "--domain",
        "Emergencies far from hospital",
        "--charter",
        "Be kind",
    ]);
    let id = id_of(&c);
    let list = home.json(&["community", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let shown = home.json(&["community", "show", &id[..8]]);
    assert_eq!(shown["charter"], "Be kind");
    assert_eq!(shown["members"][0]["role"], "admin");
    assert!(text(&home.run(&["community", "show", &id])).contains("Emergencies far from hospital"));
    rejected(
        &home,
        &["community", "show", "00000000-dead"],
        "no item, answer or community",
    );
}

#[test]
fn cases_replies_outcomes() {
    let home = Home::new();
    let comm = home.init_with_community("Dr Case");
    let base = [
        "case",
        "add",
        "--community",
        comm.as_str(),
        "--title",
        "Snakebite",
        "--ask",
        "Observe how long?",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };

    rejected(&home, &args(&with(&["--presenting", ""])), "presenting");
    rejected(
        &home,
        &args(&with(&["--presenting", "bite", "--sex", "maybe"])),
        "sex",
    );
    rejected(
        &home,
        &args(&with(&["--presenting", "bite", "--age-band", "old"])),
        "age-band",
    );
    rejected(
        &home,
        &args(&with(&["--presenting", "bite", "--setting", "moon"])),
        "setting",
    );
    rejected(
        &home,
        &args(&with(&["--presenting", "bite", "--tag", "two words"])),
        "tag",
    );
    rejected(
        &home,
        &[
            "case",
            "add",
            "--community",
            &comm,
            "--presenting",
            "x",
            "--ask",
            "y",
        ],
        "--title",
    );
    rejected(
        &home,
        &[
            "case",
            "add",
            "--community",
            "ffffffff",
            "--title",
            "t",
            "--presenting",
            "x",
            "--ask",
            "y",
        ],
        "no item, answer or community",
    );

    let case = home.json(&args(&with(&[
        "--presenting",
        "Bitten on the ankle",
        "--age-band",
        "18-29",
        "--sex",
        "male",
        "--setting",
        "emergency",
        "--history",
        "No allergies",
        "--findings",
        "Two puncture marks",
        "--tag",
        "Toxicology",
    ])));
    let id = id_of(&case);
    for key in ["id", "kind", "title", "updated_at"] {
        assert!(case.get(key).is_some(), "created case lacks {key}");
    }
    assert_eq!(case["kind"], "case");
    assert_eq!(case["status"], "open");

    // Long text from stdin.
    let from_stdin = home.run_stdin(
        &[
            "--json",
            "case",
            "add",
            "--community",
            &comm,
            "--title",
            "Long history",
            "--presenting",
            "-",
            "--ask",
            "Advice?",
        ],
        "Line one\nLine two\n",
    );
    let v: Value = serde_json::from_slice(&from_stdin.stdout).unwrap();
    assert_eq!(
        home.json(&["show", &id_of(&v)])["case"]["presenting"],
        "Line one\nLine two"
    );
    rejected(
        &home,
        &[
            "case",
            "add",
            "--community",
            &comm,
            "--title",
            "t",
            "--presenting",
            "-",
            "--ask",
            "-",
        ],
        "stdin",
    );

    let reply = home.json(&["reply", &id, "Observe for 12 hours with clotting tests"]);
    assert_eq!(reply["item_id"], id.as_str());
    rejected(&home, &["reply", &id, ""], "text");
    rejected(&home, &["reply", "ffffffff", "x"], "no item");

    home.json(&[
        "case",
        "outcome",
        &id,
        "No envenomation; discharged after 12 h",
    ]);
    rejected(&home, &["case", "outcome", &id, " "], "text");
    rejected(&home, &["case", "outcome", "nonexistent", "x"], "no item");
    let resolved = home.json(&["case", "resolve", &id]);
    assert_eq!(resolved["status"], "resolved");
    rejected(&home, &["case", "resolve", "abcdef12"], "no item");

    let shown = home.json(&["show", &id]);
    assert_eq!(
        shown["case"]["outcome"],
        "No envenomation; discharged after 12 h"
    );
    assert_eq!(shown["case"]["age_band"], "18-29");
    assert_eq!(shown["tags"], serde_json::json!(["toxicology"]));
    assert_eq!(
        shown["replies"][0]["body"],
        "Observe for 12 hours with clotting tests"
    );
    let human = text(&home.run(&["show", &id]));
    assert!(
        human.contains("Outcome / follow-up") && human.contains("Two puncture marks"),
        "{human}"
    );
    let reopened = home.json(&["case", "reopen", &id[..6]]);
    assert_eq!(reopened["status"], "open");
}

#[test]
fn questions_answers_accept_helpful() {
    let home = Home::new();
    let comm = home.init_with_community("Dr Q");
    rejected(
        &home,
        &[
            "question",
            "ask",
            "--community",
            &comm,
            "--title",
            "Oxytocin",
            "--body",
            "",
        ],
        "body",
    );
    let q = home.json(&[
        "question",
        "ask",
        "--community",
        &comm,
        "--title",
        "Storing oxytocin",
        "--body",
        "No fridge: what do you do?",
        "--tag",
        "obstetrics",
    ]);
    let qid = id_of(&q);
    assert_eq!(q["kind"], "question");
    rejected(&home, &["answer", &qid, ""], "text");
    rejected(&home, &["answer", "0000aaaa", "Use carbetocin"], "no item");
    let a = home.json(&["answer", &qid, "Heat-stable carbetocin"]);
    let aid = id_of(&a);
    rejected(&home, &["accept", &qid], "not an answer");
    rejected(&home, &["accept", "deadbeef"], "no item");
    // Answered, none accepted: its own status, found by its filter.
    assert_eq!(home.json(&["show", &qid])["status"], "answered");
    let answered = home.json(&["list", "--kind", "question", "--status", "answered"]);
    assert_eq!(answered[0]["id"], qid.as_str(), "{answered}");
    let accepted = home.json(&["accept", &aid]);
    assert_eq!(accepted["item_id"], qid.as_str());
    assert_eq!(home.json(&["helpful", &aid])["marked"], true);
    assert_eq!(
        home.json(&["helpful", &aid])["marked"],
        false,
        "one mark per member"
    );
    rejected(&home, &["helpful", &qid], "not an answer");
    let shown = home.json(&["show", &qid]);
    assert_eq!(shown["question"]["accepted_answer"], aid.as_str());
    assert_eq!(shown["answers"][0]["accepted"], true);
    assert_eq!(shown["answers"][0]["helpful"].as_array().unwrap().len(), 1);
    assert_eq!(shown["status"], "accepted");
    assert_eq!(
        home.json(&["list", "--status", "accepted"])[0]["id"],
        qid.as_str()
    );
    assert_eq!(
        home.json(&["list", "--status", "answered"]),
        serde_json::json!([])
    );
}

#[test]
fn protocols_edit_status_history() {
    let home = Home::new();
    let comm = home.init_with_community("Dr P");
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1.md");
    std::fs::write(&v1, "# Sepsis\n\n1. Oxygen\n2. Antibiotics\n").unwrap();
    rejected(
        &home,
        &[
            "protocol",
            "new",
            "--community",
            &comm,
            "--title",
            "Sepsis",
            "--body-file",
            "/nonexistent/x.md",
        ],
        "body-file",
    );
    rejected(
        &home,
        &[
            "protocol",
            "new",
            "--community",
            &comm,
            "--title",
            "Sepsis",
            "--body-file",
            v1.to_str().unwrap(),
            "--review-date",
            "soon",
        ],
        "review-date",
    );
    let p = home.json(&[
        "protocol",
        "new",
        "--community",
        &comm,
        "--title",
        "Sepsis first hour",
        "--body-file",
        v1.to_str().unwrap(),
        "--review-date",
        "2027-06-01",
        "--reference",
        "WHO Pocket Book",
    ]);
    let pid = id_of(&p);
    assert_eq!(p["status"], "draft");
    let v2 = dir.path().join("v2.md");
    std::fs::write(&v2, "# Sepsis\n\n1. Oxygen\n2. Fluids\n3. Antibiotics\n").unwrap();
    home.json(&[
        "protocol",
        "edit",
        &pid,
        "--body-file",
        v2.to_str().unwrap(),
    ]);
    rejected(
        &home,
        &[
            "protocol",
            "edit",
            &pid,
            "--body-file",
            dir.path().to_str().unwrap(),
        ],
        "body-file",
    );
    // Body from stdin.
    let out = home.run_stdin(
        &["--json", "protocol", "edit", &pid, "--body-file", "-"],
        "# Sepsis\n\n1. Oxygen\n2. Fluids\n3. Antibiotics within 1 h\n",
    );
    assert!(out.status.success());
    rejected(&home, &["protocol", "status", &pid, "approved"], "status");
    assert_eq!(
        home.json(&["protocol", "status", &pid, "endorsed"])["status"],
        "endorsed"
    );
    let shown = home.json(&["show", &pid]);
    assert_eq!(
        shown["protocol"]["body"],
        "# Sepsis\n\n1. Oxygen\n2. Fluids\n3. Antibiotics within 1 h"
    );
    assert_eq!(
        shown["protocol"]["references"],
        serde_json::json!(["WHO Pocket Book"])
    );
    let history = home.json(&["history", &pid]);
    let messages: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["create protocol", "edit body", "edit body", "mark endorsed"]
    );
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["author_name"] == "Dr P")
    );
    rejected(&home, &["history", "feedface"], "no item");
    let case = home.json(&[
        "case",
        "add",
        "--community",
        &comm,
        "--title",
        "t",
        "--presenting",
        "p",
        "--ask",
        "a",
    ]);
    rejected(
        &home,
        &["protocol", "status", &id_of(&case), "draft"],
        "not a protocol",
    );
}

#[test]
fn comments_list_show_search() {
    let home = Home::new();
    let comm = home.init_with_community("Dr L");
    let q = home.json(&[
        "question",
        "ask",
        "--community",
        &comm,
        "--title",
        "Rabies vaccine stock-out",
        "--body",
        "What now?",
        "--tag",
        "rabies",
    ]);
    let c = home.json(&[
        "case",
        "add",
        "--community",
        &comm,
        "--title",
        "Dog bite on the hand",
        "--presenting",
        "Bitten by a stray",
        "--ask",
        "PEP?",
    ]);
    rejected(&home, &["comment", &id_of(&q), ""], "text");
    rejected(&home, &["comment", "12345678", "hello"], "no item");
    let com = home.json(&[
        "comment",
        &id_of(&c),
        "Wash the wound for 15 minutes with soap",
    ]);
    assert_eq!(com["kind"], "comment");

    let list = home.json(&["list"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        for key in ["id", "kind", "title", "updated_at"] {
            assert!(row.get(key).is_some(), "list row lacks {key}");
        }
    }
    assert_eq!(rows[0]["id"], c["id"], "newest (last updated) first");
    assert_eq!(
        home.json(&["list", "--kind", "question"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        home.json(&["list", "--limit", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        home.json(&["list", "--community", &comm[..8], "--tag", "rabies"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    rejected(&home, &["list", "--kind", "article"], "kind");
    rejected(&home, &["list", "--community", "ffffffff"], "no item");
    rejected(&home, &["list", "--limit", "many"], "--limit");

    let hits = home.json(&["search", "soap"]);
    assert_eq!(hits[0]["id"], c["id"], "comments are searchable");
    for key in ["id", "kind", "title", "updated_at", "snippet"] {
        assert!(hits[0].get(key).is_some(), "search hit lacks {key}");
    }
    assert!(hits[0]["snippet"].as_str().unwrap().contains("soap"));
    assert_eq!(
        home.json(&["search", "rabies", "--kind", "question"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        home.json(&["search", "rabies", "--kind", "case"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    rejected(&home, &["search", "  "], "word");
    rejected(&home, &["search", "x", "--kind", "nope"], "kind");
    rejected(&home, &["show", "99999999"], "no item");
    assert!(text(&home.run(&["search", "stray"])).contains("Dog bite"));
}

#[test]
fn relay_url_config() {
    let home = Home::new();
    home.json(&["init", "--name", "Dr R"]);
    assert_eq!(home.json(&["config"])["relay_url"], Value::Null);
    rejected(&home, &["config", "--relay-url", "not a url"], "relay-url");
    let set = home.json(&[
        "config",
        "--relay-url",
        "https://relay.district.example:3340",
    ]);
    assert!(
        set["relay_url"]
            .as_str()
            .unwrap()
            .starts_with("https://relay.district.example:3340"),
        "{set}"
    );
    assert_eq!(
        home.json(&["config", "--clear-relay-url"])["relay_url"],
        Value::Null
    );
}

#[test]
fn demo_seeds_a_realistic_community_once() {
    let home = Home::new();
    rejected(&home, &["demo"], "not set up");
    home.json(&["init", "--name", "Dr Demo"]);
    let d = home.json(&["demo"]);
    assert_eq!(d["created"], true);
    let comm = d["community"].as_str().unwrap().to_string();
    let items = home.json(&["list", "--community", &comm, "--limit", "500"]);
    let items = items.as_array().unwrap();
    assert!(items.len() >= 30, "demo has {} items", items.len());
    for kind in ["case", "question", "protocol"] {
        assert!(
            items.iter().filter(|i| i["kind"] == kind).count() >= 5,
            "too few {kind}s"
        );
    }
    assert!(items.iter().any(|i| i["responses"].as_i64().unwrap() > 0));
    assert!(
        !home
            .json(&["search", "sepsis"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let again = home.json(&["demo"]);
    assert_eq!(again["created"], false);
    assert_eq!(again["community"], comm.as_str());
    assert_eq!(
        home.json(&["community", "show", &comm])["members"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
