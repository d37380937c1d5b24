//! How long verifying a community's membership log takes as it grows, for
//! logs of 1,000 to 20,000 ops (five admins adding members, removing one in
//! fifty, and now and then demoting an admin, whom the founder restores):
//! what a peer runs whenever its log grows (the stored ops read back and
//! the rules applied: each signature was checked once, when its op
//! arrived), the one-off signature checks, and both together (a log
//! received whole). Prints a Markdown section; with a path argument, also
//! writes it there, which is how `cargo xtask bench` fills BENCHMARKS.md.

use ed25519_dalek::SigningKey;
use outpost_sync::membership::{
    Held, Key, Op, OpKind, Role, compute, compute_held, decode_held, genesis, op_hash, sign,
    verify_held,
};
use outpost_sync::wire::Hash;
use std::time::Instant;

fn key(n: u32) -> SigningKey {
    let mut seed = [7u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    SigningKey::from_bytes(&seed)
}

fn pk(n: u32) -> Key {
    key(n).verifying_key().to_bytes()
}

struct Log {
    id: String,
    ops: Vec<Vec<u8>>,
    head: Hash,
}

impl Log {
    fn push(&mut self, signer: u32, kind: OpKind) {
        let op = Op {
            community: self.id.clone(),
            kind,
            deps: vec![self.head],
            time: 0,
        };
        let bytes = sign(&key(signer), &op).expect("sign");
        self.head = op_hash(&bytes);
        self.ops.push(bytes);
    }
}

/// A log of `n` ops: admins 0..5 (0 the founder) add members in turn on
/// top of the latest op; every 50th op removes a member; every 1,000th
/// demotes an admin, whom the founder makes admin again next.
fn log(n: usize) -> Log {
    let (id, g) = genesis(&key(0), "bench", [1; 16], 0).expect("genesis");
    let head = op_hash(&g);
    let mut log = Log {
        id,
        ops: vec![g],
        head,
    };
    for a in 1..5 {
        log.push(
            0,
            OpKind::Add {
                member: pk(a),
                role: Role::Admin,
            },
        );
    }
    let mut next = 100u32;
    while log.ops.len() < n {
        let i = log.ops.len();
        let signer = (i % 5) as u32;
        if i.is_multiple_of(1000) {
            let demote = OpKind::SetRole {
                member: pk(4),
                role: Role::Member,
                covers: vec![],
            };
            log.push(0, demote);
            let restore = OpKind::SetRole {
                member: pk(4),
                role: Role::Admin,
                covers: vec![],
            };
            log.push(0, restore);
        } else if i.is_multiple_of(50) {
            log.push(
                signer,
                OpKind::Remove {
                    member: pk(next - 3),
                    covers: vec![],
                },
            );
        } else {
            log.push(
                signer,
                OpKind::Add {
                    member: pk(next),
                    role: Role::Member,
                },
            );
            next += 1;
        }
    }
    log
}

fn best_of_three(mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        f();
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rows = String::new();
    let mut per_op = Vec::new();
    let mut at_10k = f64::MAX;
    let mut at_100k = f64::MAX;
    for n in [1_000usize, 10_000, 20_000, 100_000] {
        let log = log(n);
        let held: Vec<Held> = log.ops.iter().filter_map(|b| verify_held(b)).collect();
        if let Some((_, why)) = compute_held(&log.id, &held).refused.iter().next() {
            return Err(format!("an op of the benchmark log was refused: {why}").into());
        }
        // Each time the log grows: the stored (verified) ops decoded and
        // the rules applied.
        let recompute = best_of_three(|| {
            let ops: Vec<Held> = log.ops.iter().filter_map(|b| decode_held(b)).collect();
            std::hint::black_box(compute_held(&log.id, &ops));
        });
        let checks = best_of_three(|| {
            for op in &log.ops {
                std::hint::black_box(verify_held(op));
            }
        });
        let cold = best_of_three(|| {
            std::hint::black_box(compute(&log.id, &log.ops));
        });
        if n == 10_000 {
            at_10k = recompute;
        }
        if n == 100_000 {
            at_100k = recompute;
        }
        per_op.push(recompute * 1e3 / n as f64);
        rows.push_str(&format!(
            "| {n} | {recompute:.1} ms | {:.1} µs | {checks:.1} ms | {cold:.1} ms |\n",
            recompute * 1e3 / n as f64
        ));
    }
    let growth = per_op[3] / per_op[0];
    // Hostile logs: what one frame of junk can cost every peer. A member
    // (not an admin) signs 40,000 ops all on the same heads (each void);
    // an admin signs 40,000 concurrent adds (a log 40,000 heads wide).
    let mut hostile = String::new();
    for (what, signer) in [
        ("40,000 concurrent ops by a member", 900u32),
        ("40,000 concurrent adds by an admin", 1),
    ] {
        let mut l = log(1_000);
        l.push(
            0,
            OpKind::Add {
                member: pk(900),
                role: Role::Member,
            },
        );
        let base = l.head;
        for m in 0..40_000u32 {
            l.head = base;
            l.push(
                signer,
                OpKind::Add {
                    member: pk(100_000 + m),
                    role: Role::Member,
                },
            );
        }
        let t = best_of_three(|| {
            let ops: Vec<Held> = l.ops.iter().filter_map(|b| decode_held(b)).collect();
            std::hint::black_box(compute_held(&l.id, &ops));
        });
        hostile.push_str(&format!("| {what} | {} | {t:.1} ms |\n", l.ops.len()));
    }
    let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
    let section = format!(
        "## Membership log\n\n\
         `cargo bench -p outpost-sync --bench membership`, best of three. *Verify* is what a \
         peer runs whenever its log grows: every stored op read back (`decode_held`) and the rules \
         applied (`compute_held`); each signature was checked once, when its op arrived. \
         *Signatures* is that one-off cost for the whole log, *received whole* both together \
         (`compute` over raw ops: a newcomer's first log).\n\n\
         | Ops | Verify | Per op | Signatures (once) | Received whole |\n|---|---|---|---|---|\n{rows}\n\
         Hostile logs (verify, as above):\n\n| Log | Ops | Verify |\n|---|---|---|\n{hostile}\n\
         - Verifying a 10,000-op log: {at_10k:.0} ms (target ≤ 200 ms: {}); 100,000 ops: \
         {at_100k:.0} ms (target < 1 s: {}); the cost per op at 100,000 ops is {growth:.2}× \
         that at 1,000 (linear growth is about 1×).\n",
        verdict(at_10k <= 200.0),
        verdict(at_100k < 1000.0),
    );
    print!("{section}");
    if let Some(path) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) {
        std::fs::write(path, &section)?;
    }
    Ok(())
}
