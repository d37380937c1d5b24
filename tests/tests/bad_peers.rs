//! Hostile or broken peers: malformed, truncated and oversized frames and
//! garbage Automerge sync messages close that one session with a reason;
//! the node never panics or stalls and keeps serving everyone else.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use iroh::endpoint::presets;
use iroh::{Endpoint, EndpointAddr, RelayMode, SecretKey};
use outpost_sync::wire::{Decoder, MAX_FRAME, Msg, PROTOCOL_VERSION, encode};
use outpost_tests::{Peer, join, sync};
use std::time::Duration;

struct Raw {
    _ep: Endpoint,
    send: iroh::endpoint::SendStream,
    recv: iroh::endpoint::RecvStream,
}

/// A bare iroh endpoint on loopback, as a patched client would run;
/// accepting Outpost's ALPN if `alpns` says so.
async fn endpoint(secret: [u8; 32], alpns: Vec<Vec<u8>>) -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .secret_key(SecretKey::from_bytes(&secret))
        .alpns(alpns)
        .relay_mode(RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

async fn raw(secret: [u8; 32], addr: EndpointAddr) -> Raw {
    let ep = endpoint(secret, vec![]).await;
    let conn = ep.connect(addr, outpost_sync::ALPN).await.unwrap();
    let (send, recv) = conn.open_bi().await.unwrap();
    Raw {
        _ep: ep,
        send,
        recv,
    }
}

impl Raw {
    /// Reads until the node ends the stream (or 10 s pass: a stall);
    /// returns the messages received.
    async fn drain(&mut self) -> (Vec<Msg>, bool) {
        let mut d = Decoder::default();
        let mut buf = vec![0u8; 65536];
        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(10), self.recv.read(&mut buf)).await {
                Ok(Ok(Some(n))) => d.push(&buf[..n]),
                Ok(_) => break true,
                Err(_) => break false,
            }
        };
        let mut msgs = Vec::new();
        while let Ok(Some(m)) = d.next_msg() {
            msgs.push(m);
        }
        (msgs, closed)
    }
}

fn bye(msgs: &[Msg]) -> String {
    msgs.iter()
        .find_map(|m| match m {
            Msg::Bye { reason } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn hello() -> Vec<u8> {
    encode(&Msg::Hello {
        version: PROTOCOL_VERSION,
        offers: vec![],
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_close_only_that_session() {
    let (mut a, mut b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    let case = a.case(&x, "X case");
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    let stranger = [3u8; 32];
    let member = b.op.signing_key().to_bytes();

    // A peer that sends half a frame and then goes quiet holds its own
    // session open, and nobody else's.
    let mut stalled = raw(member, na.addr()).await;
    stalled.send.write_all(&100u32.to_be_bytes()).await.unwrap();
    stalled.send.write_all(&[1, 2, 3]).await.unwrap();

    let mut malformed = 6u32.to_be_bytes().to_vec();
    malformed.extend_from_slice(&[0xff; 6]);
    let oversized = ((MAX_FRAME as u32) + 1).to_be_bytes().to_vec();
    let mut truncated = hello();
    truncated.truncate(truncated.len() - 1);

    // A stranger is judged from its first bytes, before it has a session:
    // whatever it sends, the connection closes with no reply at all.
    for bytes in [&malformed, &oversized, &truncated, &hello()] {
        let mut r = raw(stranger, na.addr()).await;
        r.send.write_all(bytes).await.unwrap();
        let (msgs, closed) = r.drain().await;
        assert!(closed, "a stranger's connection stalled");
        assert!(msgs.is_empty(), "a stranger was answered: {msgs:?}");
    }

    // A member's malformed body closes its session with the reason.
    let mut r = raw(member, na.addr()).await;
    r.send.write_all(&malformed).await.unwrap();
    let (msgs, closed) = r.drain().await;
    assert!(closed, "session with a malformed frame stalled");
    assert!(bye(&msgs).contains("malformed"), "{msgs:?}");

    // Oversized length prefix: refused before any body is read.
    let mut r = raw(member, na.addr()).await;
    r.send.write_all(&oversized).await.unwrap();
    let (msgs, closed) = r.drain().await;
    assert!(closed);
    assert!(bye(&msgs).contains("exceeds"), "{msgs:?}");

    // Truncated: the stream ends inside a frame.
    let mut r = raw(member, na.addr()).await;
    r.send.write_all(&truncated).await.unwrap();
    r.send.finish().unwrap();
    let (msgs, closed) = r.drain().await;
    assert!(closed);
    assert!(bye(&msgs).contains("inside a frame"), "{msgs:?}");

    // A member sending a garbage Automerge sync message.
    let mut r = raw(member, na.addr()).await;
    r.send.write_all(&hello()).await.unwrap();
    let garbage = Msg::Sync {
        community: x.to_string(),
        id: case.to_string(),
        msg: vec![0x42, 0x01, 0xff, 0x00, 0x13],
        sigs: vec![],
    };
    r.send.write_all(&encode(&garbage).unwrap()).await.unwrap();
    let (msgs, closed) = r.drain().await;
    assert!(closed);
    assert!(
        bye(&msgs).contains("bad Automerge sync message"),
        "{msgs:?}"
    );

    // Meanwhile the node keeps serving members, with the stalled peer
    // still connected.
    b.case(&x, "after the attacks");
    sync(&nb, &na).await;
    assert!(a.titles().contains(&"after the attacks".to_string()));
    assert!(a.op.store().check().unwrap().is_empty(), "store damaged");
    drop(stalled);
}

/// A peer that takes the connection and then says nothing: a one-off sync
/// ends with a clear error instead of waiting for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_ends_a_one_off_sync_with_a_clear_error() {
    let silent = endpoint([7u8; 32], vec![outpost_sync::ALPN.to_vec()]).await;
    let addr = silent.addr();
    // Accepts, opens nothing back, reads nothing: holds the connection.
    let holder = tokio::spawn(async move {
        let conn = silent.accept().await.unwrap().await.unwrap();
        let _streams = conn.accept_bi().await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(conn);
    });
    let me = Peer::new("Dr A");
    let config = outpost_net::NetConfig {
        once_silence: Duration::from_secs(2),
        ..outpost_net::NetConfig::loopback()
    };
    let node = outpost_core::testing::node(&me.op, &config).await.unwrap();
    let report = outpost_tests::within(
        "a sync with a silent peer",
        node.sync_with(addr, vec![], outpost_net::Mode::Once),
    )
    .await
    .unwrap();
    assert!(!report.converged);
    let error = report.error.unwrap_or_default();
    assert!(error.contains("sent nothing"), "{error}");
    holder.abort();
}

/// A member's modified client against membership: it writes what it likes
/// into the community document (an `ops` list with no genesis, as the old
/// layout kept membership) and sends raw `Ops` frames — its own op making
/// an outsider admin, a forgery under the founder's key, a tampered op,
/// and a removed admin's backdated ops — and claims to hold no log at all.
/// The honest node keeps its log, counts none of it, and serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_modified_client_cannot_rewrite_membership() {
    use outpost_sync::membership::{self, NOT_ADMIN, Op, OpKind, Role, SignedOp, op_hash, sign};
    let (mut a, mut b, d) = (Peer::new("Dr A"), Peer::new("Dr B"), Peer::new("Dr D"));
    let x = a.community("X");
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    // D was an admin, and was removed; D kept the heads from before.
    let dk = a.op.resolve_member(&x, &d.key().to_hex());
    assert!(dk.is_err(), "not a member yet");
    a.op.member_add(&x, d.key()).unwrap();
    a.op.member_role(&x, d.key(), Role::Admin).unwrap();
    let before_removal = a.op.store().membership(&x).unwrap().heads;
    a.op.member_remove(&x, d.key()).unwrap();
    let log_before: Vec<_> = a.op.store().op_log(&x).unwrap();
    sync(&nb, &na).await;

    // 1. The old attack: rewrite membership through the community document.
    b.op.store_mut()
        .write(|w| -> Result<(), outpost_core::CoreError> {
            use automerge::transaction::Transactable;
            let mut loaded = w.load(&x)?;
            let ops = loaded
                .doc
                .put_object(automerge::ROOT, "ops", automerge::ObjType::List)
                .unwrap();
            loaded.doc.insert(&ops, 0, vec![1u8, 2, 3]).unwrap();
            loaded.doc.commit();
            w.save(&x, &mut loaded)?;
            Ok(())
        })
        .unwrap();
    sync(&nb, &na).await;
    assert_eq!(a.op.members(&x).unwrap().len(), 2);

    // 2. Raw op frames, over B's own authenticated connection.
    let outsider = [42u8; 32];
    let heads = a.op.store().membership(&x).unwrap().heads;
    let op = |kind: OpKind, deps: Vec<[u8; 32]>| Op {
        community: x.to_string(),
        kind,
        deps,
        time: 0,
    };
    let by_member = sign(
        b.op.signing_key(),
        &op(
            OpKind::Add {
                member: outsider,
                role: Role::Admin,
            },
            heads.clone(),
        ),
    )
    .unwrap();
    let mut forged: SignedOp = postcard::from_bytes(&by_member).unwrap();
    forged.signer = a.key().as_bytes().to_owned();
    let forged = postcard::to_allocvec(&forged).unwrap();
    let mut tampered = by_member.clone();
    let n = tampered.len() / 2;
    tampered[n] ^= 0x55;
    let backdated_add = sign(
        d.op.signing_key(),
        &op(
            OpKind::Add {
                member: outsider,
                role: Role::Admin,
            },
            before_removal,
        ),
    )
    .unwrap();
    let backdated_remove = sign(
        d.op.signing_key(),
        &op(
            OpKind::Remove {
                member: a.key().as_bytes().to_owned(),
                covers: vec![],
            },
            vec![op_hash(&backdated_add)],
        ),
    )
    .unwrap();
    let mut r = raw(b.op.signing_key().to_bytes(), na.addr()).await;
    r.send.write_all(&hello()).await.unwrap();
    for m in [
        Msg::Ops {
            community: x.to_string(),
            ops: vec![
                by_member.clone(),
                forged.clone(),
                tampered.clone(),
                backdated_add.clone(),
                backdated_remove.clone(),
            ],
        },
        // "I hold nothing": the node answers with its log, and forgets
        // nothing.
        Msg::OpHeads {
            community: x.to_string(),
            heads: vec![],
        },
    ] {
        r.send.write_all(&encode(&m).unwrap()).await.unwrap();
    }
    r.send.finish().unwrap();
    let (msgs, _) = r.drain().await;
    let sent_back: usize = msgs
        .iter()
        .map(|m| match m {
            Msg::Ops { ops, .. } => ops.len(),
            _ => 0,
        })
        .sum();
    assert!(sent_back >= log_before.len(), "{msgs:?}");

    let m = a.op.store().membership(&x).unwrap();
    let log: Vec<[u8; 32]> =
        a.op.store()
            .op_log(&x)
            .unwrap()
            .iter()
            .map(|h| h.hash)
            .collect();
    for held in &log_before {
        assert!(log.contains(&held.hash), "an op was forgotten");
    }
    // Verified ops are kept (evidence) but do not count; forgeries are not kept.
    assert!(log.contains(&op_hash(&by_member)) && log.contains(&op_hash(&backdated_add)));
    assert!(!log.contains(&op_hash(&forged)) && !log.contains(&op_hash(&tampered)));
    assert_eq!(m.refused.get(&op_hash(&by_member)), Some(&NOT_ADMIN));
    assert_eq!(
        m.refused.get(&op_hash(&backdated_add)),
        Some(&membership::AFTER_REMOVAL)
    );
    assert!(m.is_admin(a.key().as_bytes()));
    assert!(!m.is_member(&outsider) && !m.is_member(d.key().as_bytes()));
    assert_eq!(a.op.members(&x).unwrap().len(), 2);

    // And the node still serves B, whose honest copy agrees.
    b.case(&x, "after the attack");
    sync(&nb, &na).await;
    assert!(a.titles().contains(&"after the attack".to_string()));
    assert_eq!(b.op.store().membership(&x).unwrap().members, m.members);
}

/// A member's modified client writes changes to a colleague's cases as
/// that colleague (their actor id: one change with no signature, one
/// signed with its own key), and syncs with the real node: the node keeps
/// the cases as their author wrote them, lists the refusals with the rule
/// each broke, and still takes the member's honest work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_modified_client_cannot_write_as_a_colleague() {
    use automerge::transaction::Transactable;
    let (mut a, mut b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    let cases = [
        a.case(&x, "Chest pain, 54"),
        a.case(&x, "Wheeze, 7"),
        a.case(&x, "Snakebite, 30"),
    ];
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    let a_actor = outpost_model::device_actor(a.key().as_bytes(), [9; 8]);
    let before: Vec<_> = cases
        .iter()
        .map(|c| a.op.store().heads(c).unwrap())
        .collect();
    // The patched binary skips signing and writes as A.
    let own = b.op.store_mut().set_signers(vec![]);
    let mut forge = |case: &outpost_core::DocId, title: &str| {
        b.op.store_mut()
            .write(|w| -> Result<[u8; 32], outpost_core::CoreError> {
                let mut loaded = w.load(case)?;
                let base = loaded.doc.get_heads();
                loaded.doc.set_actor(a_actor.clone());
                loaded.doc.put(automerge::ROOT, "title", title).unwrap();
                loaded.doc.commit();
                let hash = loaded.doc.get_changes_meta(&base)[0].hash.0;
                w.save(case, &mut loaded)?;
                Ok(hash)
            })
            .unwrap()
    };
    let unsigned = forge(&cases[0], "Chest pain: discharge, no ECG needed");
    let mis_signed = forge(&cases[1], "Wheeze: no steroids");
    b.op.store()
        .connection()
        .execute(
            "INSERT INTO change_sigs(hash, doc_id, sig) VALUES (?1, ?2, ?3)",
            (
                mis_signed.to_vec(),
                cases[1].to_string(),
                outpost_sync::changes::sign(b.op.signing_key(), cases[1].as_str(), &mis_signed),
            ),
        )
        .unwrap();
    b.op.store_mut().set_signers(own);
    // Signed by B as B, but a case's outcome is its author's to record.
    let unauthorized =
        b.op.store_mut()
            .write(|w| -> Result<[u8; 32], outpost_core::CoreError> {
                let mut loaded = w.load(&cases[2])?;
                let base = loaded.doc.get_heads();
                let mut item = outpost_model::ItemDoc::new(loaded.doc)?;
                item.set_outcome("Discharged with paracetamol", 5)?;
                loaded.doc = item.into_automerge();
                let hash = loaded.doc.get_changes_meta(&base)[0].hash.0;
                w.save(&cases[2], &mut loaded)?;
                Ok(hash)
            })
            .unwrap();
    // (The real client refuses to do that at all.)
    assert!(matches!(
        b.op.case_outcome(&cases[2], "x", outpost_core::Sharing::AsWritten),
        Err(outpost_core::CoreError::Denied(_))
    ));
    b.case(&x, "B's honest case");
    sync(&nb, &na).await;
    for (c, was) in cases.iter().zip(&before) {
        assert_eq!(a.op.store().heads(c).unwrap(), *was, "a forgery merged");
    }
    let mut refused = a.op.refused_changes(&x).unwrap();
    refused.sort_by(|p, q| p.doc_id.cmp(&q.doc_id));
    let mut want = vec![
        (
            cases[0].to_string(),
            hex::encode(unsigned),
            outpost_sync::changes::UNSIGNED,
        ),
        (
            cases[1].to_string(),
            hex::encode(mis_signed),
            outpost_sync::changes::BAD_SIGNATURE,
        ),
        (
            cases[2].to_string(),
            hex::encode(unauthorized),
            outpost_sync::rules::NOT_ALLOWED,
        ),
    ];
    want.sort();
    let got: Vec<_> = refused
        .iter()
        .map(|r| (r.doc_id.clone(), r.hash.clone(), r.reason.as_str()))
        .collect();
    assert_eq!(got, want);
    for r in &refused {
        let claimed = if r.doc_id == cases[2].as_str() {
            b.key()
        } else {
            a.key()
        };
        assert_eq!(r.device.as_deref(), Some(claimed.to_hex().as_str()));
    }
    assert!(a.titles().contains(&"B's honest case".to_string()));
    assert_eq!(
        a.op.show(&cases[0]).unwrap().item.title,
        "Chest pain, 54",
        "A's case reads as A wrote it"
    );
    // Later sessions stay clean.
    b.case(&x, "B's second case");
    sync(&nb, &na).await;
    assert!(a.titles().contains(&"B's second case".to_string()));
}

/// A removed member's client keeps writing, and a colleague who has not
/// heard of the removal yet takes it; once that colleague hears, the
/// writing no removal covers is gone from their home too (listed as
/// refused), while what the admin held when removing stays everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_members_later_writing_is_dropped_once_the_removal_arrives() {
    let (mut a, mut b, mut c) = (Peer::new("Dr A"), Peer::new("Dr B"), Peer::new("Dr C"));
    let x = a.community("X");
    let (na, nb, nc) = (a.node().await, b.node().await, c.node().await);
    join(&a, &nb, &x).await;
    join(&a, &nc, &x).await;
    let early = b.case(&x, "B's early case");
    sync(&nb, &na).await;
    a.op.member_remove(&x, b.key()).unwrap();
    // B has not heard; its client writes on.
    let late = b.case(&x, "B's late case");
    b.op.comment(&early, "B's late comment", outpost_core::Sharing::AsWritten)
        .unwrap();
    sync(&nc, &nb).await;
    assert!(c.titles().contains(&"B's late case".to_string()));
    // C answers B's late comment: its reply builds on writing that will
    // not count.
    c.op.comment(
        &early,
        "C's reply to the late comment",
        outpost_core::Sharing::AsWritten,
    )
    .unwrap();
    let last_actor = |p: &Peer| {
        let mut d = p.op.store().load(&early).unwrap();
        let heads = d.get_heads();
        d.get_change_by_hash(&heads[0]).unwrap().actor_id().clone()
    };
    let spent = last_actor(&c);
    // C meets A: it learns of the removal.
    sync(&nc, &na).await;
    assert!(!c.titles().contains(&"B's late case".to_string()));
    assert!(!a.titles().contains(&"B's late case".to_string()));
    for p in [&a, &c] {
        let shown = p.op.show(&early).unwrap();
        assert_eq!(shown.item.title, "B's early case");
        assert!(shown.item.comments.is_empty(), "the late comment stays out");
        assert!(p.op.show(&late).is_err());
    }
    assert_eq!(
        a.op.store().heads(&early).unwrap(),
        c.op.store().heads(&early).unwrap()
    );
    let refused = c.op.store().refused_changes(&x).unwrap();
    assert!(
        refused
            .iter()
            .any(|r| r.reason == outpost_sync::changes::AFTER_REMOVAL && r.doc_id == late.as_str()),
        "{refused:?}"
    );
    // C's reply went with what it built on; C's next writing there is
    // under a new actor, so no peer still holding the dropped reply sees
    // the same (actor, seq) twice (a fork).
    assert!(
        refused.iter().any(|r| r.doc_id == early.as_str() && r.reason == outpost_sync::changes::AFTER_REFUSED),
        "{refused:?}"
    );
    c.op.comment(
        &early,
        "C's comment after the removal",
        outpost_core::Sharing::AsWritten,
    )
    .unwrap();
    assert_ne!(last_actor(&c), spent);
    sync(&nc, &na).await;
    assert_eq!(
        a.op.store().heads(&early).unwrap(),
        c.op.store().heads(&early).unwrap()
    );
}

/// B's patched client signs two different comments with the same actor
/// and seq, one for A and one for C. When A and C meet, the fork is
/// proven and reported; both keep the same one variant (the lower hash)
/// and keep syncing the rest; the proof reaches D, which never saw either
/// variant, and D keeps that variant too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forking_device_is_proven_reported_and_refused() {
    let (mut a, mut b, mut c, d) = (
        Peer::new("Dr A"),
        Peer::new("Dr B"),
        Peer::new("Dr C"),
        Peer::new("Dr D"),
    );
    let x = a.community("X");
    let (na, nb, nc, nd) = (
        a.node().await,
        b.node().await,
        c.node().await,
        d.node().await,
    );
    for n in [&nb, &nc, &nd] {
        join(&a, n, &x).await;
    }
    let case = a.case(&x, "Chest pain, 54");
    sync(&nb, &na).await;
    sync(&nc, &na).await;
    // Variant one, written and signed as B normally writes; variant two
    // from the same state with the same actor, which B hands to C as its
    // node would (the bytes and signature C's merge receives).
    let key = b.op.signing_key().clone();
    let variant_two = {
        let mut doc = b.op.store().load(&case).unwrap();
        let base = doc.get_heads();
        b.op.comment(&case, "variant one: 5 mg", outpost_core::Sharing::AsWritten)
            .unwrap();
        let mut after = b.op.store().load(&case).unwrap();
        doc.set_actor(after.get_changes_meta(&base)[0].actor.clone().into_owned());
        let mut item = outpost_model::ItemDoc::new(doc).unwrap();
        let profile = outpost_model::MemberProfile {
            name: "Dr B".into(),
            ..Default::default()
        };
        item.add_comment(
            &"c-fork-2".parse().unwrap(),
            &profile,
            1,
            "variant two: 50 mg",
        )
        .unwrap();
        let mut doc = item.into_automerge();
        doc.commit();
        let bytes = doc.save_after(&base);
        let hash = doc.get_changes_meta(&base)[0].hash.0;
        (
            bytes,
            hash,
            outpost_sync::changes::sign(&key, case.as_str(), &hash),
        )
    };
    sync(&nb, &na).await;
    let (bytes, hash, sig) = variant_two;
    c.op.store_mut()
        .write(|w| {
            w.merge_remote(x.as_str(), case.as_str(), &bytes, &b.key().to_hex(), &|h| {
                (*h == hash).then(|| sig.clone())
            })
        })
        .unwrap();
    assert_eq!(c.op.show(&case).unwrap().item.comments.len(), 1);
    // Both write other things; then A and C meet.
    a.case(&x, "A's other case");
    c.case(&x, "C's other case");
    // One session: the one holding the variant that does not count takes
    // the other from the proof itself.
    sync(&nc, &na).await;
    let comments = |p: &Peer| -> Vec<String> {
        let shown = p.op.show(&case).unwrap();
        shown.item.comments.into_iter().map(|c| c.body).collect()
    };
    // Every peer keeps the same one of the two variants.
    let kept = comments(&a);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("variant "), "{kept:?}");
    for p in [&a, &c] {
        assert!(p.titles().contains(&"A's other case".to_string()));
        assert!(p.titles().contains(&"C's other case".to_string()));
        assert_eq!(comments(p), kept);
        let forks = p.op.store().forks(&x).unwrap();
        assert_eq!(forks.len(), 1);
        assert_eq!(forks[0].device, b.key().to_hex());
    }
    assert_eq!(a.op.forks(&x).unwrap().len(), 1, "admins see it");
    assert_eq!(
        a.op.store().heads(&case).unwrap(),
        c.op.store().heads(&case).unwrap()
    );
    // D meets only C: the proof reaches it; then B's variant is refused.
    sync(&nd, &nc).await;
    assert_eq!(d.op.store().forks(&x).unwrap().len(), 1);
    sync(&nd, &nb).await;
    assert_eq!(comments(&d), kept);
}

/// An Automerge compressed-change chunk whose few megabytes inflate to
/// `inflated` bytes of zeros (a "deflate bomb"): magic, a checksum (any:
/// it is checked only after inflating), type 2, the LEB128 length, then
/// the DEFLATE stream.
fn deflate_bomb(inflated: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..inflated / block.len() {
        z.write_all(&block).unwrap();
    }
    let body = z.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut n = body.len();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            chunk.push(byte);
            break;
        }
        chunk.push(byte | 0x80);
    }
    chunk.extend(body);
    chunk
}

/// Peak resident memory of a process, from /proc (kB).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A member's patched client sends the real `outpost serve` (in a process
/// capped at 4 GiB of address space) a document of 3 MiB that inflates to
/// 3 GiB — unasked, then announced so that the node fetches it — and the
/// same bytes as a change in a sync message: the node refuses them all,
/// stays up within a few hundred megabytes, and keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_from_a_member_leaves_the_node_up() {
    let a = outpost_tests::Home::new();
    let community = a.init_with_community("Dr A");
    let secret = [7u8; 32];
    let attacker = hex::encode(SecretKey::from_bytes(&secret).public().as_bytes());
    a.json(&["member", "add", "--community", &community, &attacker]);
    let mut node = outpost_tests::serve_within(&a, Some(4 << 20));
    let ticket = node.first_line["ticket"].as_str().unwrap().to_string();
    let (addr, _) = outpost_net::parse_peer(&ticket).unwrap();
    let bomb = deflate_bomb(3 << 30);
    assert!(bomb.len() < MAX_FRAME, "{} bytes", bomb.len());
    let case = "0b9d1f4e-7a3c-4d2b-9e8f-1a2b3c4d5e6f".to_string();
    let doc = Msg::Doc {
        community: community.clone(),
        id: case.clone(),
        bytes: bomb.clone(),
        sigs: vec![],
    };
    let announce = Msg::Changes {
        community: community.clone(),
        docs: vec![outpost_sync::wire::DocHeads {
            id: case.clone(),
            heads: vec![[9; 32]],
        }],
        up_to: 1,
        last: true,
    };
    // Unasked, a whole document is not even read.
    let mut raw_client = raw(secret, addr.clone()).await;
    raw_client.send.write_all(&hello()).await.unwrap();
    raw_client
        .send
        .write_all(&encode(&doc).unwrap())
        .await
        .unwrap();
    raw_client.send.finish().unwrap();
    let _ = raw_client.drain().await;
    assert!(node.child.try_wait().unwrap().is_none(), "serve is up");
    let sessions = [
        vec![announce, doc],
        vec![Msg::Sync {
            community: community.clone(),
            id: case.clone(),
            msg: automerge::sync::Message {
                heads: vec![],
                need: vec![],
                have: vec![],
                changes: vec![bomb.clone()].into(),
                flags: None,
                version: automerge::sync::MessageVersion::V1,
            }
            .encode(),
            sigs: vec![],
        }],
    ];
    for frames in sessions {
        let mut raw = raw(secret, addr.clone()).await;
        raw.send.write_all(&hello()).await.unwrap();
        for frame in frames {
            raw.send.write_all(&encode(&frame).unwrap()).await.unwrap();
        }
        let (msgs, closed) = raw.drain().await;
        assert!(closed, "the session ended");
        assert!(!bye(&msgs).is_empty(), "with a reason: {msgs:?}");
        assert!(node.child.try_wait().unwrap().is_none(), "serve is up");
    }
    let peak = peak_rss_kib(node.child.id());
    println!("peak memory of serve under the worst frames: {peak} kB");
    assert!(peak < 300 << 10, "peak memory {peak} kB");
    // And it still answers.
    let mut raw = raw(secret, addr).await;
    raw.send.write_all(&hello()).await.unwrap();
    raw.send.finish().unwrap();
    let (msgs, _) = raw.drain().await;
    assert!(
        msgs.iter().any(|m| matches!(m, Msg::Hello { .. })),
        "{msgs:?}"
    );
}

/// Strangers (fresh keys, members of nothing here) hold a thousand
/// connections open to a node: none of them costs a worker or a store
/// connection, they are turned away within the handshake deadline (or at
/// once past the cap), no peer row is written for any of them, and a
/// member's sync goes through meanwhile in its normal time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_flood_does_not_keep_members_out() {
    let (mut a, mut b) = (Peer::new("Dr A"), Peer::new("Dr B"));
    let x = a.community("X");
    a.case(&x, "before the flood");
    let (na, nb) = (a.node().await, b.node().await);
    join(&a, &nb, &x).await;
    let peers_before = a.op.store().peers().unwrap().len();

    // A thousand strangers connect and stay connected; half of them also
    // send a Hello (with no invitation), the rest say nothing.
    let addr = na.addr();
    let mut floods = tokio::task::JoinSet::new();
    for i in 0..1000u32 {
        let addr = addr.clone();
        floods.spawn(async move {
            let mut secret = [0u8; 32];
            secret[..4].copy_from_slice(&i.to_be_bytes());
            secret[31] = 0x5a;
            let ep = endpoint(secret, vec![]).await;
            let Ok(conn) = ep.connect(addr, outpost_sync::ALPN).await else {
                return (ep, None);
            };
            if i % 2 == 0
                && let Ok((mut send, recv)) = conn.open_bi().await
            {
                let _ = send.write_all(&hello()).await;
                return (ep, Some((conn, Some((send, recv)))));
            }
            (ep, Some((conn, None)))
        });
    }
    let mut held = Vec::new();
    while let Some(r) = floods.join_next().await {
        held.push(r.unwrap());
    }
    let connected = held.iter().filter(|(_, c)| c.is_some()).count();
    assert!(connected > 0, "no stranger got a connection at all");

    // With all of them still holding their connections, a member syncs.
    b.case(&x, "during the flood");
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        outpost_core::testing::sync_once(&nb, vec![(na.addr(), vec![])]),
    )
    .await
    .expect("a member's sync did not finish while strangers held connections");
    let took = started.elapsed();
    assert!(report.converged, "{:?}", report.peers);
    assert!(a.titles().contains(&"during the flood".to_string()));
    println!("member sync with 1,000 strangers connected: {took:?}");

    assert!(
        na.refused() >= 500,
        "strangers were not turned away: {}",
        na.refused()
    );
    let (judged, probation) = na.unknown();
    assert!(judged <= outpost_net::MAX_UNKNOWN && probation == 0);
    assert_eq!(
        a.op.store().peers().unwrap().len(),
        peers_before,
        "strangers left peer rows"
    );
    drop(held);
}
