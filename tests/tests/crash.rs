//! Crash safety: SIGKILL the real `outpost` binary at random moments while it
//! adds cases. After every kill the store must open, pass
//! `PRAGMA integrity_check` and Outpost's own consistency checks, and hold
//! every case whose id the binary printed, complete.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_store::{ListFilter, Store};
use outpost_tests::Home;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

const KILLS: usize = 200;

struct Expected {
    title: String,
    presenting: String,
}

fn verify(home: &Home, acked: &BTreeMap<String, Expected>, ids: &[String]) {
    let store = outpost_tests::open_store(home.path()).expect("store opens after a kill");
    let problems = store.check().expect("check runs");
    assert!(
        problems.is_empty(),
        "store damaged after kill: {problems:?}"
    );
    for id in ids {
        let want = &acked[id];
        let row = store
            .item_row(id)
            .unwrap_or_else(|e| panic!("acknowledged case {id} missing: {e}"));
        assert_eq!(row.title, want.title);
        let item = outpost_model::read_item(&store.load(id).expect("document loads"))
            .expect("document reads");
        let case = item.case.expect("is a case");
        assert_eq!(case.presenting, want.presenting, "case {id} incomplete");
        assert_eq!(item.tags, ["crash-test", "sepsis"]);
        let hits = store
            .search(
                &want.title,
                &ListFilter {
                    limit: Some(5),
                    ..Default::default()
                },
            )
            .expect("search");
        assert!(
            hits.iter().any(|h| h.item.id == id.as_str()),
            "case {id} missing from search"
        );
    }
}

#[test]
fn sigkill_at_random_moments_never_loses_an_acknowledged_case() {
    let home = Home::new();
    let community = home.init_with_community("Dr Crash");
    let add = |i: usize| {
        let title = format!("Crash case {i} febrile child");
        let presenting = format!(
            "Presentation {i}: fever for two days, lethargy, poor feeding. {}",
            "Detail. ".repeat(i % 40)
        );
        // Synthetic case numbers run to seven digits, which the
        // identifier check would (rightly) stop.
        let mut cmd = home.command(&[
            "--json",
            "--allow-identifiers",
            "case",
            "add",
            "--community",
            &community,
            "--title",
            &title,
            "--presenting",
            &presenting,
            "--ask",
            "Transfer now?",
            "--history",
            "Previously well",
            "--tag",
            "crash-test",
            "--tag",
            "sepsis",
        ]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        (
            cmd.spawn().expect("spawn outpost"),
            Expected { title, presenting },
        )
    };

    // Calibrate: how long does one uninterrupted add take here?
    let t = Instant::now();
    for i in 0..3 {
        let (child, _) = add(1_000_000 + i);
        assert!(child.wait_with_output().expect("wait").status.success());
    }
    let typical = t.elapsed() / 3;

    let mut acked: BTreeMap<String, Expected> = BTreeMap::new();
    let mut kills = 0;
    let mut iterations = 0;
    while kills < KILLS {
        iterations += 1;
        assert!(iterations < KILLS * 10, "could not land {KILLS} kills");
        let (mut child, expected) = add(iterations);
        // Uniform over the whole life of the process, startup to exit.
        let delay = typical.mul_f64(fastrand::f64() * 1.3);
        std::thread::sleep(delay);
        if child.try_wait().expect("try_wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reap");
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut stdout)
            .expect("read stdout");
        let mut new_ids = Vec::new();
        if let Some(line) = stdout.lines().next()
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
            && let Some(id) = v["id"].as_str()
        {
            acked.insert(id.to_string(), expected);
            new_ids.push(id.to_string());
        }
        if iterations % 25 == 0 {
            let all: Vec<String> = acked.keys().cloned().collect();
            verify(&home, &acked, &all);
        } else {
            verify(&home, &acked, &new_ids);
        }
    }
    let all: Vec<String> = acked.keys().cloned().collect();
    verify(&home, &acked, &all);
    eprintln!(
        "{kills} kills in {iterations} runs; {} cases acknowledged; typical run {typical:?}",
        acked.len()
    );
}

/// The bulk path (the demo seeds 30 items in one transaction) is all or nothing.
#[test]
fn sigkill_during_bulk_import_leaves_all_or_nothing() {
    let mut seen_partial_runs = 0;
    for round in 0..20 {
        let home = Home::new();
        home.json(&["init", "--name", "Dr Bulk"]);
        let key = outpost_tests::store_key(home.path());
        let mut child = home
            .command(&["demo"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..60 + round * 5)));
        let _ = child.kill();
        let status = child.wait().expect("reap");
        let store = Store::open(home.path().join("outpost.db"), &key).expect("opens");
        assert!(store.check().expect("check").is_empty());
        let communities = store.communities().expect("communities");
        let items = store.item_count().expect("count");
        match communities.len() {
            0 => assert_eq!(items, 0, "items without their community"),
            1 => assert_eq!(items, 30, "a partial demo import"),
            n => panic!("{n} demo communities"),
        }
        if !status.success() {
            seen_partial_runs += 1;
        }
    }
    assert!(
        seen_partial_runs > 0,
        "no run was interrupted; the test proved nothing"
    );
}
