//! Sync benchmarks for the targets in the sync issue: real stores, real
//! iroh endpoints on 127.0.0.1. Run with `cargo xtask bench`.

use outpost_core::testing::{invite_parts, sync_once, watch_feed};
use outpost_core::{
    CommunityId, DocId, ListFilter, MemberProfile, NewCommunity, Outpost, Sharing, generate_cases,
};
use outpost_net::{Mode, NetConfig, Node, Report};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bench homes are locked with a passphrase (no OS keychain here), so
/// opening one includes the Argon2id key derivation a real user waits for.
const BENCH_PASSPHRASE: &str = "bench passphrase, not secret";

struct P {
    _dir: tempfile::TempDir,
    op: Outpost,
}

fn peer(name: &str) -> P {
    let dir = tempfile::tempdir().expect("tmp");
    let op = Outpost::init_with(
        dir.path(),
        MemberProfile {
            name: name.into(),
            ..Default::default()
        },
        &outpost_core::Unlock::passphrase(BENCH_PASSPHRASE),
    )
    .expect("init");
    P { _dir: dir, op }
}

async fn node(p: &P) -> Node {
    outpost_core::testing::node(&p.op, &NetConfig::loopback())
        .await
        .expect("node")
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn kb(b: u64) -> String {
    format!("{:.1} KB", b as f64 / 1024.0)
}

async fn once(from: &Node, to: &Node) -> (Duration, Report) {
    let t = Instant::now();
    let s = sync_once(from, vec![(to.addr(), vec![])]).await;
    let e = t.elapsed();
    assert!(s.converged, "{:?}", s.peers);
    (e, s.peers.into_iter().next().expect("report"))
}

struct Setup {
    a: P,
    b: P,
    na: Node,
    nb: Node,
    community: CommunityId,
    ids: Vec<DocId>,
    initial: Duration,
    initial_bytes: u64,
    saved_bytes: u64,
}

/// A holds `n` cases; B joins and pulls them all (the initial sync).
async fn setup(n: usize) -> Setup {
    let (mut a, b) = (peer("A"), peer("B"));
    let community =
        a.op.create_community(NewCommunity {
            name: "Bench".into(),
            domain: "Benchmarks".into(),
            charter: None,
        })
        .expect("community")
        .id;
    let mut ids = Vec::new();
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(2000);
        ids.extend(
            a.op.import_items(&community, generate_cases(batch, done as u64))
                .expect("import"),
        );
        done += batch;
    }
    let saved_bytes: i64 =
        a.op.store()
            .connection()
            .query_row(
                "SELECT SUM(LENGTH(snapshot)) FROM docs WHERE kind = 'case'",
                [],
                |r| r.get(0),
            )
            .expect("sizes");
    let (na, nb) = (node(&a).await, node(&b).await);
    let t =
        a.op.invite(&community, Some(Duration::from_secs(3600)))
            .expect("invite");
    let (joining, secret, inviter) = invite_parts(&t.ticket).expect("ticket");
    let start = Instant::now();
    let s = sync_once(&nb, vec![(inviter, vec![(joining, secret)])]).await;
    let initial = start.elapsed();
    assert!(s.converged, "{:?}", s.peers);
    let got = b.op.store().item_count().expect("count") as usize;
    assert_eq!(got, n, "B has every case");
    let initial_bytes = s.peers[0].bytes_in;
    Setup {
        a,
        b,
        na,
        nb,
        community,
        ids,
        initial,
        initial_bytes,
        saved_bytes: saved_bytes as u64,
    }
}

fn edit(p: &mut P, ids: &[DocId], text: &str) {
    for id in ids {
        p.op.comment(id, text, Sharing::AsWritten).expect("comment");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let out_path = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut r = String::new();
    let mut row = |name: &str, target: &str, measured: String| {
        println!("{name}: {measured} (target {target})");
        let _ = writeln!(r, "| {name} | {target} | {measured} |");
    };

    let mut small = setup(1_000).await;
    row(
        "initial sync of 1,000 cases A→B (join + pull)",
        "≤ 2 s; wire ≤ 1.5× saved size",
        format!(
            "{}; {} on the wire for {} saved = {:.2}×",
            ms(small.initial),
            kb(small.initial_bytes),
            kb(small.saved_bytes),
            small.initial_bytes as f64 / small.saved_bytes as f64
        ),
    );
    let initial_1k = small.initial;
    // Let both sides finish the initial sync's bookkeeping first (a real
    // reconnect comes minutes or days later).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (t1k, r1k) = once(&small.nb, &small.na).await;

    // Live: both keep a session and watch their feeds; A edits 10 documents.
    let na = Arc::new(std::mem::replace(&mut small.na, node(&small.a).await));
    let nb = Arc::new(std::mem::replace(&mut small.nb, node(&small.b).await));
    let push_a = na.clone();
    let wa = tokio::spawn(watch_feed(
        &small.a.op,
        Duration::from_millis(150),
        move |docs| {
            for d in docs {
                push_a.notify(&d.community, &d.doc);
            }
        },
    ));
    let push_b = nb.clone();
    let wb = tokio::spawn(watch_feed(
        &small.b.op,
        Duration::from_millis(150),
        move |docs| {
            for d in docs {
                push_b.notify(&d.community, &d.doc);
            }
        },
    ));
    let (na2, nb2) = (na.clone(), nb.clone());
    let live = tokio::spawn(async move { nb2.sync_with(na2.addr(), vec![], Mode::Live).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let targets: Vec<DocId> = small.ids.iter().take(10).cloned().collect();
    let mut worst = Duration::ZERO;
    for (i, id) in targets.iter().enumerate() {
        let text = format!("live edit {i}");
        let t = Instant::now();
        small
            .a
            .op
            .comment(id, &text, Sharing::AsWritten)
            .expect("comment");
        loop {
            let shown = small.b.op.show(id).expect("show");
            if shown.item.comments.iter().any(|c| c.body == text) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "live edit never arrived"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        worst = worst.max(t.elapsed());
    }
    row(
        "10 documents edited while connected: commit → visible on the other side",
        "≤ 1 s",
        format!("worst {}", ms(worst)),
    );
    live.abort();
    wa.abort();
    wb.abort();
    drop(small);

    let mut big = setup(10_000).await;
    row(
        "initial sync of 10,000 cases A→B",
        "≤ 20 s, linear",
        format!(
            "{} ({:.2}× the 1,000-case time per case); wire {:.2}× saved size",
            ms(big.initial),
            (big.initial.as_secs_f64() / 10.0) / initial_1k.as_secs_f64().max(1e-9),
            big.initial_bytes as f64 / big.saved_bytes as f64
        ),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (t10k, r10k) = once(&big.nb, &big.na).await;
    row(
        "reconnect with nothing new, 1,000 documents",
        "≤ 100 ms, ≤ 8 KB each way",
        format!(
            "{}; {} B in, {} B out",
            ms(t1k),
            r1k.bytes_in,
            r1k.bytes_out
        ),
    );
    row(
        "reconnect with nothing new, 10,000 documents",
        "≤ 100 ms, ≤ 8 KB each way, ≈ the 1,000 figure",
        format!(
            "{}; {} B in, {} B out",
            ms(t10k),
            r10k.bytes_in,
            r10k.bytes_out
        ),
    );
    let (a_ids, b_ids): (Vec<DocId>, Vec<DocId>) =
        (big.ids[..20].to_vec(), big.ids[20..40].to_vec());
    edit(&mut big.a, &a_ids, "edited on A while offline");
    edit(&mut big.b, &b_ids, "edited on B while offline");
    let (t_edit, r_edit) = once(&big.nb, &big.na).await;
    let f = ListFilter {
        limit: Some(100),
        ..Default::default()
    };
    let _ = big.b.op.list(&f);
    row(
        "reconnect after both sides edited 20 documents offline, 10,000 documents",
        "≤ 500 ms",
        format!(
            "{}; {} in, {} out",
            ms(t_edit),
            kb(r_edit.bytes_in),
            kb(r_edit.bytes_out)
        ),
    );
    let _ = &big.community;

    let report = format!(
        "## Sync (issue 3)\n\nReal stores and iroh endpoints on 127.0.0.1 in one process (both peers share the 2 cores). Reconnects are measured 2 s after the initial sync finished (its WAL checkpoint and peer bookkeeping done), as a real reconnect would be.\n\n| what | target | measured |\n|---|---|---|\n{r}"
    );
    if let Some(p) = out_path {
        std::fs::write(p, report).expect("write report");
    }
}
