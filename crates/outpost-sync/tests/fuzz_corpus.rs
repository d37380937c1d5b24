//! Replays the fuzz corpus (crates/outpost-sync/fuzz/corpus/frames) and a
//! set of hand-made hostile inputs through frame decoding and a session:
//! nothing may panic. Run `cargo fuzz run frames` to grow the corpus.

use automerge::sync::SyncDoc;
use outpost_sync::testing::fuzz_one;
use outpost_sync::wire::{DocHeads, MAX_FRAME, Msg, Offer, PROTOCOL_VERSION, encode};

fn frames(msgs: &[Msg]) -> Vec<u8> {
    msgs.iter()
        .flat_map(|m| encode(m).expect("encodes"))
        .collect()
}

/// Seeds: valid sessions and their mutilations.
fn seeds() -> Vec<Vec<u8>> {
    let hello = Msg::Hello {
        version: PROTOCOL_VERSION,
        offers: vec![Offer {
            community: "c".into(),
            digest: [9; 32],
            feed: 2,
        }],
    };
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "title", "x")
        .expect("put");
    let mut state = automerge::sync::State::new();
    let sync_msg = doc
        .sync()
        .generate_sync_message(&mut state)
        .map(|m| m.encode())
        .unwrap_or_default();
    let valid = vec![
        frames(&[
            hello.clone(),
            Msg::Since {
                community: "c".into(),
                since: 0,
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Changes {
                community: "c".into(),
                docs: vec![DocHeads {
                    id: "d".into(),
                    heads: vec![[7; 32]],
                }],
                up_to: 5,
                last: true,
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Fetch {
                community: "c".into(),
                docs: vec!["d".into(), "nope".into()],
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Sync {
                community: "c".into(),
                id: "d".into(),
                msg: sync_msg.clone(),
                sigs: vec![],
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Sync {
                community: "c".into(),
                id: "new".into(),
                msg: sync_msg,
                sigs: vec![],
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Doc {
                community: "c".into(),
                id: "d".into(),
                bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
                sigs: vec![],
            },
        ]),
        frames(&[
            hello.clone(),
            Msg::Synced {
                community: "c".into(),
            },
            Msg::Bye {
                reason: "done".into(),
            },
        ]),
        frames(&[Msg::Hello {
            version: 99,
            offers: vec![],
        }]),
        frames(&[Msg::Since {
            community: "c".into(),
            since: 0,
        }]),
    ];
    let mut out = valid.clone();
    for v in &valid {
        for cut in [1, 3, 4, 5, v.len() / 2, v.len().saturating_sub(1)] {
            out.push(v[..cut.min(v.len())].to_vec());
        }
        let mut flipped = v.clone();
        for i in (4..flipped.len()).step_by(7) {
            flipped[i] ^= 0xa5;
        }
        out.push(flipped);
    }
    out.push(((MAX_FRAME as u32) + 1).to_be_bytes().to_vec());
    out.push(u32::MAX.to_be_bytes().to_vec());
    out.push(vec![0, 0, 0, 0]);
    out.push(vec![]);
    out
}

#[test]
fn corpus_and_seeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/frames");
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            if let Ok(data) = std::fs::read(e.path()) {
                fuzz_one(&data);
                n += 1;
            }
        }
    }
    assert!(n > 0, "no corpus in {}", dir.display());
    for s in seeds() {
        fuzz_one(&s);
    }
}

/// Writes the seeds into the corpus directory (run once with
/// `OUTPOST_WRITE_CORPUS=1 cargo test -p outpost-sync --test fuzz_corpus`).
#[test]
fn write_seed_corpus_on_request() {
    if std::env::var_os("OUTPOST_WRITE_CORPUS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/frames");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for (i, s) in seeds().into_iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:03}")), s).expect("write seed");
    }
}

/// Seeds for the membership target: real logs (genesis, adds, a role
/// change, a removal, concurrent ops) as `join_ops` input, and mutations.
fn membership_seeds() -> Vec<Vec<u8>> {
    use outpost_sync::membership::{Op, OpKind, Role, genesis, op_hash, sign};
    use outpost_sync::testing::{device_id, device_key, join_ops};
    let founder = device_key(1);
    let (c, g) = genesis(&founder, "Valley", [3; 16], 0).expect("genesis");
    let mut ops = vec![g];
    let mut head = op_hash(&ops[0]);
    let push = |ops: &mut Vec<Vec<u8>>, signer: u8, kind: OpKind, deps: Vec<[u8; 32]>| {
        let bytes = sign(
            &device_key(signer),
            &Op {
                community: c.clone(),
                kind,
                deps,
                time: 0,
            },
        )
        .expect("sign");
        let h = op_hash(&bytes);
        ops.push(bytes);
        h
    };
    head = push(
        &mut ops,
        1,
        OpKind::Add {
            member: device_id(2),
            role: Role::Admin,
        },
        vec![head],
    );
    let base = head;
    let a = push(
        &mut ops,
        2,
        OpKind::Add {
            member: device_id(3),
            role: Role::Member,
        },
        vec![base],
    );
    let b = push(
        &mut ops,
        1,
        OpKind::Remove {
            member: device_id(2),
            covers: vec![],
        },
        vec![base],
    );
    push(
        &mut ops,
        1,
        OpKind::SetRole {
            member: device_id(3),
            role: Role::Admin,
            covers: vec![],
        },
        vec![a, b],
    );
    let mut out = vec![join_ops(&ops), join_ops(&ops[..2]), join_ops(&ops[2..])];
    let mut flipped = join_ops(&ops);
    for i in (9..flipped.len()).step_by(13) {
        flipped[i] ^= 0x5a;
    }
    out.push(flipped);
    out.push(vec![]);
    out
}

/// Seeds for the remote-document target: a real item's bytes whole and as
/// changes, changes made by the fuzz repo's device, and mutations.
fn remote_doc_seeds() -> Vec<Vec<u8>> {
    use automerge::transaction::Transactable;
    let repo = outpost_sync::testing::fuzz_repo();
    let mut doc = repo.docs["d"].doc.clone();
    let whole = doc.save();
    let base = doc.get_heads();
    doc.put(automerge::ROOT, "title", "edited").expect("put");
    doc.commit();
    let after = doc.save_after(&base);
    let mut out = vec![whole.clone(), after.clone()];
    for v in [&whole, &after] {
        let mut flipped = v.clone();
        for i in (8..flipped.len()).step_by(11) {
            flipped[i] ^= 0x33;
        }
        out.push(flipped);
        out.push(v[..v.len() / 2].to_vec());
    }
    out
}

/// Every corpus file of `target`, replayed through `run`.
fn replay(target: &str, run: fn(&[u8]), seeds: Vec<Vec<u8>>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    if std::env::var_os("OUTPOST_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), s).expect("write seed");
        }
    }
    let mut n = 0;
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if let Ok(data) = std::fs::read(e.path()) {
            run(&data);
            n += 1;
        }
    }
    assert!(n > 0, "no corpus in {}", dir.display());
    for s in &seeds {
        run(s);
    }
}

#[test]
fn membership_corpus_never_panics() {
    replay(
        "membership",
        outpost_sync::testing::fuzz_membership,
        membership_seeds(),
    );
}

#[test]
fn remote_doc_corpus_never_panics() {
    replay(
        "remote_doc",
        outpost_sync::testing::fuzz_remote_doc,
        remote_doc_seeds(),
    );
}
