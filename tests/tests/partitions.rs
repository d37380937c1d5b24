//! Many peers, partitions, restarts: five homes, each running the real
//! `serve` in its own network namespace, every pair linked through a
//! proxy the test controls (`outpost_tests::netlab`). While links
//! partition and heal and serves are SIGKILLed and restarted at random,
//! members keep writing — new cases on their own, replies to one shared
//! case, online or not. At the end every home holds the same heads for
//! every document (equal digests) and every edit a command acknowledged is
//! on every home. Nobody runs a sync by hand.
//!
//! `OUTPOST_CHAOS_SECS` sets how long the storm lasts (CI: 60 s; the
//! 30-minute run is a benchmark), `OUTPOST_CHAOS_SEED` replays one.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::netlab::{Impair, Mesh};
use outpost_tests::{Home, id_of};
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn add_case(home: &Home, community: &str, title: &str) -> Option<String> {
    let out = home.run(&[
        "--json",
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
    ]);
    out.status
        .success()
        .then(|| id_of(&serde_json::from_slice(&out.stdout).unwrap()))
}

fn titles(home: &Home) -> Vec<String> {
    home.json(&["list", "--limit", "100000"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

fn replies(home: &Home, case: &str) -> Vec<String> {
    home.json(&["show", case])["replies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["body"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn five_homes_converge_through_partitions_and_kills() {
    let storm = Duration::from_secs(env_u64("OUTPOST_CHAOS_SECS", 60));
    let seed = env_u64("OUTPOST_CHAOS_SEED", fastrand::u64(..));
    println!("seed {seed} (OUTPOST_CHAOS_SEED replays it)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let n = 5;
    let mut mesh = Mesh::new(n);
    mesh.lab.set_all(Impair {
        delay: Duration::from_millis(20),
        loss: 0.01,
        ..Impair::default()
    });
    let c = mesh.community.clone();
    let shared = add_case(&mesh.homes[0], &c, "shared case").unwrap();
    mesh.converge(Duration::from_secs(90)).unwrap();

    let mut cases = Vec::new();
    let mut said = Vec::new();
    let (mut partitions, mut kills, mut edits) = (0, 0, 0);
    let mut restarts: Vec<(Instant, usize)> = Vec::new();
    let start = Instant::now();
    while start.elapsed() < storm {
        let i = rng.usize(..n);
        match rng.u32(..100) {
            0..40 => {
                let title = format!("case {edits} by {i}");
                if add_case(&mesh.homes[i], &c, &title).is_some() {
                    cases.push(title);
                }
                edits += 1;
            }
            40..60 => {
                let body = format!("reply {edits} by {i}");
                if mesh.homes[i]
                    .run(&["reply", &shared, &body])
                    .status
                    .success()
                {
                    said.push(body);
                }
                edits += 1;
            }
            60..75 => {
                let group: Vec<usize> = (0..n).filter(|_| rng.bool()).collect();
                mesh.lab.partition(&group);
                partitions += 1;
            }
            75..87 => mesh.lab.heal(),
            _ => {
                if mesh.running(i) {
                    mesh.kill(i);
                    kills += 1;
                    let back = Duration::from_millis(rng.u64(500..5000));
                    restarts.push((Instant::now() + back, i));
                }
            }
        }
        let now = Instant::now();
        restarts.retain(|(when, who)| {
            if *when <= now {
                mesh.start(*who);
                false
            } else {
                true
            }
        });
        std::thread::sleep(Duration::from_millis(rng.u64(200..1200)));
    }
    mesh.lab.heal();
    for (_, who) in restarts.drain(..) {
        mesh.start(who);
    }
    let healed = Instant::now();
    let converged = mesh.converge(Duration::from_secs(180));
    println!(
        "{:?} storm: {edits} edits ({} cases, {} replies acknowledged), {partitions} \
         partitions, {kills} kills; converged {:?} after the last heal",
        storm,
        cases.len(),
        said.len(),
        converged.as_ref().map(|_| healed.elapsed())
    );
    converged.unwrap();
    for (i, home) in mesh.homes.iter().enumerate() {
        let have = titles(home);
        let lost: Vec<&String> = cases.iter().filter(|t| !have.contains(t)).collect();
        assert!(
            lost.is_empty(),
            "home {i} lacks acknowledged cases {lost:?}"
        );
        let have = replies(home, &shared);
        let lost: Vec<&String> = said.iter().filter(|r| !have.contains(r)).collect();
        assert!(
            lost.is_empty(),
            "home {i} lacks acknowledged replies {lost:?}"
        );
    }
}

/// A partition longer than QUIC's idle timeout ends the connection; once
/// it heals, the two serves find each other again by themselves.
#[test]
fn serves_reconnect_by_themselves_after_a_long_partition() {
    let mesh = Mesh::new(2);
    let c = mesh.community.clone();
    add_case(&mesh.homes[0], &c, "before").unwrap();
    mesh.converge(Duration::from_secs(60)).unwrap();
    mesh.lab.partition(&[0]);
    // Longer than the connection's idle timeout (30 s) and the path's (15 s).
    std::thread::sleep(Duration::from_secs(40));
    add_case(&mesh.homes[0], &c, "during").unwrap();
    mesh.lab.heal();
    let healed = Instant::now();
    let took = mesh.converge(Duration::from_secs(120)).unwrap();
    println!("reconnected and converged {took:?} after a 40 s partition healed");
    assert!(titles(&mesh.homes[1]).contains(&"during".to_string()));
    let _ = healed;
}
