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
