//! Synced nodes left alone go quiet: real `serve`s, each in a network
//! namespace of its own, every pair linked through a counting proxy
//! (`outpost_tests::netlab`). Cases are added while all of them run (the
//! normal case: a colleague writes while everyone is connected), every
//! node takes its copy, and then nobody does anything: what crosses each
//! link and what each process burns is measured from outside.
//!
//! The bounds here are generous (a loaded CI machine); the targets (≤ 2 KB
//! per minute per pair, ≤ 1 % of a core) and the exact figures are in
//! BENCHMARKS.md, from `cargo xtask bench`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::netlab::{Mesh, cpu_time};
use std::time::{Duration, Instant};

/// Per pair and minute, and per node, at most (generous: ~10× the target).
const BYTES_PER_PAIR_MINUTE: f64 = 20_000.0;
const CPU_SHARE: f64 = 0.05;

fn idle(n: usize, cases: usize, quiet: Duration) {
    let mesh = Mesh::new(n);
    // Cases arrive at home 0 while every serve runs, in a few batches.
    {
        let mut op =
            outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
                .unwrap();
        let c: outpost_core::CommunityId = mesh.community.parse().unwrap();
        for batch in 0..4 {
            op.import_items(&c, outpost_core::generate_cases(cases / 4, batch))
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let took = mesh.converge(Duration::from_secs(60)).unwrap();
    println!("{n} nodes: {cases} cases everywhere after {took:?}");
    // Let the last exchanges finish, then measure.
    std::thread::sleep(Duration::from_secs(5));
    let bytes0: Vec<u64> = mesh.lab.links().map(|(_, l)| l.bytes()).collect();
    let cpu0: Vec<Duration> = (0..n).map(|i| cpu_time(mesh.pid(i).unwrap())).collect();
    let t0 = Instant::now();
    std::thread::sleep(quiet);
    let minutes = t0.elapsed().as_secs_f64() / 60.0;
    let per_pair: Vec<f64> = mesh
        .lab
        .links()
        .zip(&bytes0)
        .map(|((_, l), b0)| (l.bytes() - b0) as f64 / minutes)
        .collect();
    let cpu: Vec<f64> = (0..n)
        .map(|i| {
            (cpu_time(mesh.pid(i).unwrap()) - cpu0[i]).as_secs_f64() / t0.elapsed().as_secs_f64()
        })
        .collect();
    println!("{n} nodes idle, bytes per pair per minute: {per_pair:.0?}");
    println!("{n} nodes idle, CPU share per node: {cpu:.4?}");
    for b in &per_pair {
        assert!(
            *b <= BYTES_PER_PAIR_MINUTE,
            "a pair kept talking: {per_pair:?} B/min"
        );
    }
    for c in &cpu {
        assert!(*c <= CPU_SHARE, "a node kept busy: {cpu:?}");
    }
    // Still converged, and still connected: a live edit arrives.
    let mut op =
        outpost_core::Outpost::open_with(mesh.homes[0].path(), &outpost_tests::test_unlock())
            .unwrap();
    let c: outpost_core::CommunityId = mesh.community.parse().unwrap();
    op.import_items(&c, outpost_core::generate_cases(1, 99))
        .unwrap();
    drop(op);
    let took = mesh.converge(Duration::from_secs(30)).unwrap();
    println!("{n} nodes: a live edit everywhere after {took:?}");
}

#[test]
fn two_synced_serves_go_quiet() {
    idle(2, 200, Duration::from_secs(60));
}

#[test]
fn five_synced_serves_go_quiet() {
    idle(5, 200, Duration::from_secs(60));
}
