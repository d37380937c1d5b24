//! Benchmarks (ignored by `cargo test`; run by `cargo xtask bench` or by
//! hand with `--ignored --nocapture`): a first sync through the network
//! lab's proxy on an emulated district WAN (256 kbit/s, 300 ms RTT, 2 %
//! loss) and a harsh link (64 kbit/s, 600 ms RTT, 10 % loss), as the share
//! of the link's capacity the transfer used; and the idle cost of synced
//! serves at a size set by the environment.

#![allow(clippy::unwrap_used)] // benchmarks: a panic is the failure report

use outpost_tests::netlab::{Impair, Mesh, cpu_time};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn first_sync_share(impair: Impair, cases: usize) {
    let mut mesh = Mesh::stopped(2);
    {
        let mut op =
            outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
                .unwrap();
        let c: outpost_core::CommunityId = mesh.community.parse().unwrap();
        op.import_items(&c, outpost_core::generate_cases(cases, 1))
            .unwrap();
    }
    mesh.lab.set_all(impair);
    mesh.start(0);
    mesh.start(1);
    let started = Instant::now();
    let took = mesh.converge(Duration::from_secs(1800)).unwrap();
    let link = mesh.lab.link(0, 1);
    let [out, back] = link.bytes_each_way();
    let rate = impair.rate.unwrap() as f64 / 8.0;
    // The transfer runs from home 0 to home 1: the share of that
    // direction's capacity it used (the way back carries acknowledgements).
    let share = out as f64 / (rate * took.as_secs_f64());
    println!(
        "{cases} cases over {impair:?}: {took:.1?} from both serves starting ({:.1?} incl. \
         start), {out} B out and {back} B back through the proxy, {} packets dropped, \
         {:.0} % of the link's capacity one way",
        started.elapsed(),
        link.dropped(),
        share * 100.0
    );
}

#[test]
#[ignore = "benchmark: minutes on an emulated WAN"]
fn first_sync_on_a_district_wan() {
    first_sync_share(Impair::wan(), env_usize("OUTPOST_WAN_CASES", 1000));
}

#[test]
#[ignore = "benchmark: minutes on an emulated harsh link"]
fn first_sync_on_a_harsh_link() {
    first_sync_share(Impair::harsh(), env_usize("OUTPOST_HARSH_CASES", 300));
}

/// Idle cost at a size the environment sets: OUTPOST_IDLE_NODES (2),
/// OUTPOST_IDLE_CASES (10,000), OUTPOST_IDLE_SECS (600).
#[test]
#[ignore = "benchmark: ten minutes or more"]
fn idle_cost_at_scale() {
    let n = env_usize("OUTPOST_IDLE_NODES", 2);
    let cases = env_usize("OUTPOST_IDLE_CASES", 10_000);
    let quiet = Duration::from_secs(env_usize("OUTPOST_IDLE_SECS", 600) as u64);
    let mut mesh = Mesh::stopped(n);
    let c: outpost_core::CommunityId = mesh.community.parse().unwrap();
    {
        let mut op =
            outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
                .unwrap();
        op.import_items(&c, outpost_core::generate_cases(cases / 2, 1))
            .unwrap();
    }
    for i in 0..n {
        mesh.start(i);
    }
    // Half before, half while all run (the live-session case).
    {
        let mut op =
            outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
                .unwrap();
        op.import_items(&c, outpost_core::generate_cases(cases - cases / 2, 2))
            .unwrap();
    }
    let took = mesh.converge(Duration::from_secs(1800)).unwrap();
    println!("{n} nodes, {cases} cases everywhere after {took:.1?}");
    std::thread::sleep(Duration::from_secs(10));
    let bytes0: Vec<u64> = mesh.lab.links().map(|(_, l)| l.bytes()).collect();
    let cpu0: Vec<Duration> = (0..n).map(|i| cpu_time(mesh.pid(i).unwrap())).collect();
    let t0 = Instant::now();
    std::thread::sleep(quiet);
    let secs = t0.elapsed().as_secs_f64();
    let per_pair: Vec<f64> = mesh
        .lab
        .links()
        .zip(&bytes0)
        .map(|((_, l), b0)| (l.bytes() - b0) as f64 * 60.0 / secs)
        .collect();
    let cpu: Vec<f64> = (0..n)
        .map(|i| (cpu_time(mesh.pid(i).unwrap()) - cpu0[i]).as_secs_f64() / secs)
        .collect();
    println!("{n} nodes, {cases} cases, idle {secs:.0} s: B per pair per minute {per_pair:.0?}");
    println!("{n} nodes, {cases} cases, idle: CPU share per node {cpu:.4?}");
    // A live edit while they idle: commit on home 0 to listed everywhere.
    let mut op =
        outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
            .unwrap();
    let committed = Instant::now();
    op.import_items(&c, outpost_core::generate_cases(1, 99))
        .unwrap();
    drop(op);
    let target = cases as i64 + 1;
    while mesh.counts().iter().any(|&k| k < target) {
        assert!(
            committed.elapsed() < Duration::from_secs(60),
            "{:?}",
            mesh.counts()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "{n} nodes, {cases} cases: a live edit listed everywhere {:.0?} after its commit",
        committed.elapsed()
    );
}
