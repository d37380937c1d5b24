//! The sync workflow through the real `outpost` binary: two homes,
//! `community create`, `invite`, `serve`, `join`, `sync`, live push
//! between two `serve`s, and a sync killed mid-way then resumed.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::{Home, NET, id_of, serve};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn titles(home: &Home) -> Vec<String> {
    let v = home.json(&["list", "--limit", "100000"]);
    let mut t: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn add_case(home: &Home, community: &str, title: &str) -> String {
    id_of(&home.json(&[
        "case",
        "add",
        "--community",
        community,
        "--title",
        title,
        "--presenting",
        "p",
        "--ask",
        "a",
    ]))
}

#[test]
fn invite_serve_join_sync_and_live_push() {
    let (a, b) = (Home::new(), Home::new());
    let community = a.init_with_community("Dr A");
    add_case(&a, &community, "A1 chest pain");
    let sa = serve(&a);
    assert_eq!(sa.first_line["id"].as_str().unwrap().len(), 64);
    let addr_ticket = sa.first_line["ticket"].as_str().unwrap().to_string();

    let invite = a.json(&["invite", "--community", &community, "--expires", "1h"]);
    let ticket = invite["ticket"].as_str().unwrap().to_string();
    let pending = a.json(&["invites", "--community", &community]);
    assert_eq!(pending[0]["id"], invite["id"]);
    b.json(&["init", "--name", "Dr B", "--profession", "Nurse"]);
    // The safe form: the ticket on standard input, not in the arguments.
    let mut join = vec!["--json", "join"];
    join.extend(NET);
    let out = b.run_stdin(&join, &format!("{ticket}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let joined: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(joined["community"], community.as_str());
    assert_eq!(titles(&b), ["A1 chest pain"]);
    let pending = a.json(&["invites", "--community", &community]);
    assert_eq!(pending.as_array().map(Vec::len), Some(0));
    // An invitation revoked by its id opens nothing.
    let second = a.json(&["invite", "--community", &community, "--expires", "1h"]);
    let id = second["id"].as_str().unwrap();
    a.json(&["revoke-invite", "--community", &community, id]);
    let pending = a.json(&["invites", "--community", &community]);
    assert_eq!(pending.as_array().map(Vec::len), Some(0));
    assert!(
        !a.run(&["revoke-invite", "--community", &community, id])
            .status
            .success()
    );
    let d = Home::new();
    d.json(&["init", "--name", "Dr D"]);
    let mut join_revoked = vec!["join", second["ticket"].as_str().unwrap()];
    join_revoked.extend(NET);
    assert!(!d.run(&join_revoked).status.success());
    // The same ticket cannot be used twice (here as an argument).
    let mut join = vec!["join", ticket.as_str()];
    join.extend(NET);
    let c = Home::new();
    c.json(&["init", "--name", "Dr C"]);
    let out = c.run(&join);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already used"));

    // B writes, syncs with its known peer; A (still serving) has it, and the
    // CLI works on A's home while serve runs.
    add_case(&b, &community, "B1 snakebite");
    let mut sync = vec!["--json", "sync"];
    sync.extend(NET);
    let summary = b.json(&sync[1..]);
    assert_eq!(summary["converged"], true);
    assert_eq!(titles(&a), ["A1 chest pain", "B1 snakebite"]);
    // Nothing was refused (B signs what it writes); only admins may look.
    let refused = a.json(&["refused", "--community", &community]);
    assert_eq!(refused["refused"].as_array().map(Vec::len), Some(0));
    assert_eq!(refused["forks"].as_array().map(Vec::len), Some(0));
    assert!(
        !b.run(&["refused", "--community", &community])
            .status
            .success()
    );
    let members = a.json(&["member", "list", "--community", &community]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Dr B"),
        "B's profile reached A: {members}"
    );
    let listed = b.json(&["list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["synced"] == true),
        "{listed}"
    );
    let shown = b.json(&["show", listed[0]["id"].as_str().unwrap()]);
    assert_eq!(shown["synced"], true);

    // Membership: only admins change it; names resolve members.
    let a_id = sa.first_line["id"].as_str().unwrap().to_string();
    let denied = b.run(&["member", "remove", "--community", &community, &a_id[..10]]);
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("only an admin"));
    let bad_role = a.run(&["member", "role", "--community", &community, "Dr B", "owner"]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("role"));
    let unknown = a.run(&[
        "member",
        "role",
        "--community",
        &community,
        "Dr Nobody",
        "admin",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no member"));
    a.json(&["member", "role", "--community", &community, "Dr B", "admin"]);
    let members = a.json(&["member", "list", "--community", &community]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Dr B" && m["role"] == "admin"),
        "{members}"
    );
    a.json(&[
        "member",
        "role",
        "--community",
        &community,
        "Dr B",
        "member",
    ]);

    // Syncing by address ticket works too.
    add_case(&a, &community, "A2 burns");
    let mut by_ticket = vec!["sync", "--peer", addr_ticket.as_str()];
    by_ticket.extend(NET);
    b.json(&by_ticket);
    assert_eq!(titles(&b), ["A1 chest pain", "A2 burns", "B1 snakebite"]);
    let peers = b.json(&["peers"]);
    assert_eq!(peers[0]["id"], sa.first_line["id"]);
    assert!(peers[0]["bytes_in"].as_i64().unwrap() > 0);
    assert_eq!(peers[0]["pending_out"], 0, "{peers}");
    assert_eq!(peers[0]["pending_in"], 0, "{peers}");
    let status = b.json(&["status"]);
    assert_eq!(status["unsynced_items"], 0);
    add_case(&b, &community, "B3 not yet shared");
    let peers = b.json(&["peers"]);
    assert_eq!(peers[0]["pending_out"], 1, "{peers}");
    assert_eq!(b.json(&["status"])["unsynced_items"], 1);

    // Both serving: B dials A (a known peer) and keeps a live session; a
    // case added on A appears on B with no command run on B.
    let _sb = serve(&b);
    std::thread::sleep(Duration::from_millis(500));
    add_case(&a, &community, "A3 live");
    wait_for("A's new case to reach B live", || {
        titles(&b).contains(&"A3 live".to_string())
    });
    add_case(&b, &community, "B2 live");
    wait_for("B's new case to reach A live", || {
        titles(&a).contains(&"B2 live".to_string())
    });
}

#[test]
fn a_sync_killed_midway_resumes_without_loss_or_duplicates() {
    let (a, b) = (Home::new(), Home::new());
    let community = a.init_with_community("Dr A");
    let sa = serve(&a);
    b.init_and_join("Dr B", &a, &community);
    // A gains many cases; B's sync is killed part-way, several times.
    {
        let mut op =
            outpost_core::Outpost::open_with(a.path(), &outpost_tests::test_unlock()).unwrap();
        op.import_items(
            &community.parse().unwrap(),
            outpost_core::generate_cases(3000, 5),
        )
        .unwrap();
    }
    let peer = sa.first_line["ticket"].as_str().unwrap().to_string();
    let mut args = vec!["sync", "--peer", peer.as_str()];
    args.extend(NET);
    let key = outpost_tests::store_key(b.path());
    let count = || -> i64 {
        outpost_store::Store::open(b.path().join("outpost.db"), &key)
            .and_then(|s| s.item_count())
            .unwrap_or(0)
    };
    let mut kills = 0;
    for threshold in [200, 1200, 2200] {
        let mut child = b
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while count() < threshold
            && child.try_wait().unwrap().is_none()
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        let store = outpost_store::Store::open(b.path().join("outpost.db"), &key).unwrap();
        assert!(
            store.check().unwrap().is_empty(),
            "B's store damaged by the kill"
        );
    }
    assert!(kills >= 2, "the sync finished before it could be killed");
    let partial = titles(&b).len();
    let out = b.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ta, tb) = (titles(&a), titles(&b));
    assert_eq!(ta.len(), 3000);
    assert_eq!(ta, tb, "converged, nothing lost");
    let mut unique = tb.clone();
    unique.dedup();
    assert_eq!(unique.len(), tb.len(), "no duplicates");
    assert!(
        (2200..3000).contains(&partial),
        "B held {partial} of 3000 after the kills"
    );
}

/// A member added by device id (`member add`, the id read over the phone)
/// takes its first copy in an ordinary sync: as the dialer of
/// `sync --once --peer`, and as a running `serve` that the admin dials.
#[test]
fn a_member_added_by_device_id_syncs_its_first_copy() {
    let a = Home::new();
    let community = a.init_with_community("Dr A");
    add_case(&a, &community, "A1 chest pain");
    add_case(&a, &community, "A2 burns");
    let sa = serve(&a);
    let a_ticket = sa.first_line["ticket"].as_str().unwrap().to_string();

    // B dials A.
    let b = Home::new();
    let b_id = b.json(&["init", "--name", "Dr B"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.json(&["member", "add", "--community", &community, &b_id]);
    let mut sync = vec!["sync", "--peer", a_ticket.as_str()];
    sync.extend(NET);
    let summary = b.json(&sync);
    assert_eq!(summary["converged"], true, "{summary}");
    assert!(
        summary["peers"][0]["docs_in"].as_u64().unwrap() >= 3,
        "{summary}"
    );
    assert_eq!(titles(&b), ["A1 chest pain", "A2 burns"]);
    let listed = b.json(&["community", "list"]);
    assert_eq!(listed[0]["id"], community.as_str(), "{listed}");
    // ... and writes as a member from then on.
    add_case(&b, &community, "B1 snakebite");
    b.json(&sync);
    assert!(titles(&a).contains(&"B1 snakebite".to_string()));

    // C serves; A dials it and C takes its first copy as the acceptor.
    let c = Home::new();
    let c_id = c.json(&["init", "--name", "Dr C"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.json(&["member", "add", "--community", &community, &c_id]);
    let sc = serve(&c);
    let c_ticket = sc.first_line["ticket"].as_str().unwrap().to_string();
    let mut dial = vec!["sync", "--peer", c_ticket.as_str()];
    dial.extend(NET);
    drop(sa);
    let summary = a.json(&dial);
    assert_eq!(summary["converged"], true, "{summary}");
    wait_for("C's first copy", || {
        titles(&c) == ["A1 chest pain", "A2 burns", "B1 snakebite"]
    });
}
