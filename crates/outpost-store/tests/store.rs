//! Store behaviour on real SQLite files.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use automerge::ActorId;
use outpost_model::{
    ItemDoc, ItemStatus, Kind, MemberProfile, NewCase, NewItem, NewQuestion, PostId, PostKind,
    QuestionStatus, new_item_doc, read_item,
};
use outpost_store::{ListFilter, Store, StoreError, StoreKey, Target};

fn actor() -> ActorId {
    ActorId::from([7u8; 32].as_slice())
}

fn me() -> MemberProfile {
    MemberProfile {
        name: "Dr Test".into(),
        ..Default::default()
    }
}

fn case(title: &str, presenting: &str, tags: &[&str]) -> NewItem {
    NewItem::Case(NewCase {
        title: title.into(),
        presenting: presenting.into(),
        ask: "What would you do?".into(),
        age_band: None,
        sex: None,
        setting: None,
        history: None,
        findings: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    })
}

fn pid(id: &str) -> PostId {
    id.parse().unwrap()
}

fn add(store: &mut Store, id: &str, item: NewItem, at: i64) {
    let mut doc = new_item_doc(
        actor(),
        &id.parse().unwrap(),
        &"comm".parse().unwrap(),
        &me(),
        at,
        &item,
    )
    .unwrap();
    let kind = item.kind().as_str();
    store
        .write(|w| w.insert(id, kind, doc.automerge_mut()))
        .unwrap();
}

fn edit(store: &mut Store, id: &str, f: impl FnOnce(&mut ItemDoc)) {
    store
        .write(|w| -> Result<(), StoreError> {
            let mut loaded = w.load(id)?;
            let mut d = ItemDoc::new(loaded.doc).unwrap();
            f(&mut d);
            loaded.doc = d.into_automerge();
            w.save(id, &mut loaded)?;
            Ok(())
        })
        .unwrap();
}

fn key() -> StoreKey {
    StoreKey::from_bytes([7; 32])
}

fn open(dir: &tempfile::TempDir) -> Store {
    let mut s = Store::open(dir.path().join("outpost.db"), &key()).unwrap();
    s.set_actor(actor());
    s
}

#[test]
fn reopen_after_writes_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = open(&dir);
        add(
            &mut s,
            "a1",
            case("Febrile infant", "fever and rash", &["sepsis"]),
            1_000,
        );
        add(
            &mut s,
            "a2",
            NewItem::Question(NewQuestion {
                title: "Oxytocin storage".into(),
                body: "fridge?".into(),
                tags: vec![],
            }),
            2_000,
        );
        edit(&mut s, "a1", |d| {
            d.add_reply(&pid("r1"), &me(), 3_000, "give ceftriaxone early")
                .unwrap()
        });
    }
    let s = open(&dir);
    let rows = s.list(&ListFilter::default()).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a1", "a2"],
        "newest first"
    );
    assert_eq!(rows[0].responses, 1);
    let item = read_item(&s.load("a1").unwrap()).unwrap();
    assert_eq!(item.replies[0].body, "give ceftriaxone early");
    assert_eq!(
        s.search("ceftriaxone", &ListFilter::default())
            .unwrap()
            .len(),
        1
    );
    assert!(s.check().unwrap().is_empty());
    // Three writes, three feed entries; positions only grow (they follow
    // the clock, so a restored copy never reuses one).
    let entries: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM feed", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 3);
    assert!(s.feed_head().unwrap() > 1_700_000_000_000_000);
}

#[test]
fn compaction_keeps_heads_and_content() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    add(&mut s, "c1", case("Burns", "hand burn", &[]), 1_000);
    for n in 0..10 {
        edit(&mut s, "c1", |d| {
            d.add_reply(
                &pid(&format!("r{n}")),
                &me(),
                2_000 + n,
                &format!("reply number {n}"),
            )
            .unwrap()
        });
    }
    let chunks = |s: &Store| -> i64 {
        s.connection()
            .query_row("SELECT COUNT(*) FROM chunks WHERE doc_id = 'c1'", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(chunks(&s), 10);
    let before_heads = s.heads("c1").unwrap();
    let before = read_item(&s.load("c1").unwrap()).unwrap();
    assert_eq!(s.compact_all().unwrap(), 1);
    assert_eq!(chunks(&s), 0);
    let mut after_doc = s.load("c1").unwrap();
    let mut heads = after_doc.get_heads();
    heads.sort();
    assert_eq!(heads, before_heads);
    assert_eq!(read_item(&after_doc).unwrap(), before);
    // Automatic compaction after COMPACT_AFTER_CHUNKS edits.
    for n in 0..outpost_store::COMPACT_AFTER_CHUNKS {
        edit(&mut s, "c1", |d| {
            d.add_comment(&pid(&format!("k{n}")), &me(), 9_000 + n, "noted")
                .unwrap()
        });
    }
    assert_eq!(chunks(&s), 0, "compacted automatically");
    assert_eq!(
        read_item(&s.load("c1").unwrap()).unwrap().comments.len() as i64,
        outpost_store::COMPACT_AFTER_CHUNKS
    );
    drop(s);
    let s = open(&dir);
    assert_eq!(read_item(&s.load("c1").unwrap()).unwrap().replies.len(), 10);
}

#[test]
fn migrates_an_empty_store_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outpost.db");
    std::fs::write(&path, b"").unwrap();
    let s = Store::open(&path, &key()).unwrap();
    let version: i64 = s
        .connection()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert!(version >= 1);
    let mode: String = s
        .connection()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = s
        .connection()
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    assert!(s.list(&ListFilter::default()).unwrap().is_empty());
    s.connection()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    drop(s);
    assert!(matches!(
        Store::open(&path, &key()),
        Err(StoreError::NewerSchema { found: 999, .. })
    ));
}

#[test]
fn search_covers_titles_bodies_replies_and_tags_and_ranks_titles_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    add(
        &mut s,
        "body",
        case(
            "Leg ulcer review",
            "Patient with cellulitis around a diabetic ulcer",
            &[],
        ),
        1_000,
    );
    add(
        &mut s,
        "title",
        case("Cellulitis after a bite", "Red swollen arm", &[]),
        2_000,
    );
    add(
        &mut s,
        "tagged",
        case("Wound check", "Healing well", &["dressings"]),
        3_000,
    );
    add(&mut s, "other", case("Asthma", "Wheeze", &[]), 4_000);
    edit(&mut s, "other", |d| {
        d.add_reply(&pid("rep"), &me(), 5_000, "consider magnesium sulphate")
            .unwrap()
    });

    let f = ListFilter::default();
    let ids = |s: &Store, q: &str| {
        s.search(q, &f)
            .unwrap()
            .into_iter()
            .map(|h| h.item.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&s, "cellulitis"),
        ["title", "body"],
        "title hit ranks above a body-only hit"
    );
    assert_eq!(ids(&s, "dressings"), ["tagged"]);
    assert_eq!(ids(&s, "magnesium"), ["other"]);
    assert_eq!(ids(&s, "ulcer"), ["body"]);
    assert_eq!(
        ids(&s, "magnes"),
        ["other"],
        "last word matches as a prefix"
    );
    // One or two letters still typing: ranked among the newest matches,
    // with or without a filter.
    assert_eq!(ids(&s, "ce"), ["title", "body"]);
    assert_eq!(ids(&s, "leg c"), ["body"]);
    let in_cases = ListFilter {
        kind: Some(Kind::Case),
        ..Default::default()
    };
    let cased: Vec<String> = s
        .search("w", &in_cases)
        .unwrap()
        .into_iter()
        .map(|h| h.item.id.to_string())
        .collect();
    assert!(
        cased.contains(&"tagged".to_string()) && cased.contains(&"other".to_string()),
        "{cased:?}"
    );
    let questions = ListFilter {
        kind: Some(Kind::Question),
        ..Default::default()
    };
    assert!(s.search("w", &questions).unwrap().is_empty());
    let hit = &s.search("magnesium", &f).unwrap()[0];
    assert!(hit.snippet.contains("«magnesium»"), "{}", hit.snippet);
    assert!(
        s.search("\"unbalanced AND (", &f).is_ok(),
        "user punctuation is not FTS syntax"
    );
    assert!(matches!(s.search(" ", &f), Err(StoreError::BadQuery(_))));
    let only_cases = ListFilter {
        kind: Some(Kind::Question),
        ..Default::default()
    };
    assert!(s.search("cellulitis", &only_cases).unwrap().is_empty());
    // A reply that later changes is re-indexed, not duplicated.
    edit(&mut s, "other", |d| {
        d.add_comment(&pid("com"), &me(), 6_000, "magnesium helped")
            .unwrap()
    });
    assert_eq!(ids(&s, "magnesium"), ["other"]);
}

/// A question with answers but none accepted has its own status, and the
/// status filter finds it (it was "open", which no filter knew).
#[test]
fn every_question_status_is_found_by_its_filter() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let q = |title: &str| {
        NewItem::Question(NewQuestion {
            title: title.into(),
            body: "?".into(),
            tags: vec![],
        })
    };
    add(&mut s, "q-none", q("Nobody answered"), 1);
    add(&mut s, "q-some", q("Answered, none accepted"), 2);
    add(&mut s, "q-done", q("Answer accepted"), 3);
    edit(&mut s, "q-some", |d| {
        d.add_answer(&pid("a1"), &me(), 4, "try this").unwrap()
    });
    edit(&mut s, "q-done", |d| {
        d.add_answer(&pid("a2"), &me(), 5, "this").unwrap();
        d.accept_answer(&pid("a2"), 6).unwrap();
    });
    let with = |status: QuestionStatus| -> Vec<String> {
        s.list(&ListFilter {
            status: Some(ItemStatus::Question(status)),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect()
    };
    assert_eq!(with(QuestionStatus::Unanswered), ["q-none"]);
    assert_eq!(with(QuestionStatus::Answered), ["q-some"]);
    assert_eq!(with(QuestionStatus::Accepted), ["q-done"]);
    let all = s.list(&ListFilter::default()).unwrap();
    assert!(
        all.iter()
            .all(|r| ItemStatus::all(r.kind).contains(&r.status)),
        "every listed status is one its kind's filter offers: {all:?}"
    );
}

/// Stores written before question statuses were typed ("open" for answers
/// none accepted, "answered" for accepted) are migrated on open.
#[test]
fn old_question_statuses_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = open(&dir);
        for (id, at) in [("q-some", 1), ("q-done", 2)] {
            let q = NewItem::Question(NewQuestion {
                title: id.into(),
                body: "?".into(),
                tags: vec![],
            });
            add(&mut s, id, q, at);
        }
        let c = s.connection();
        c.execute("UPDATE items SET status = 'open' WHERE id = 'q-some'", [])
            .unwrap();
        c.execute(
            "UPDATE items SET status = 'answered' WHERE id = 'q-done'",
            [],
        )
        .unwrap();
        c.pragma_update(None, "user_version", 4).unwrap();
    }
    let s = open(&dir);
    assert_eq!(
        s.item_row("q-some").unwrap().status,
        ItemStatus::Question(QuestionStatus::Answered)
    );
    assert_eq!(
        s.item_row("q-done").unwrap().status,
        ItemStatus::Question(QuestionStatus::Accepted)
    );
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    add(&mut s, "abcd1111", case("One", "x", &[]), 1);
    add(&mut s, "abcd2222", case("Two", "x", &[]), 2);
    edit(&mut s, "abcd1111", |d| {
        d.add_reply(&pid("eeee9999"), &me(), 3, "hi").unwrap()
    });
    assert_eq!(
        s.resolve("abcd1").unwrap(),
        Target::Item {
            id: "abcd1111".parse().unwrap(),
            kind: Kind::Case
        }
    );
    assert!(matches!(
        s.resolve("abcd"),
        Err(StoreError::Ambiguous { count: 2, .. })
    ));
    assert!(matches!(s.resolve("ffff"), Err(StoreError::NotFound(_))));
    assert_eq!(
        s.resolve("eeee").unwrap(),
        Target::Sub {
            id: "eeee9999".parse().unwrap(),
            item_id: "abcd1111".parse().unwrap(),
            kind: PostKind::Reply
        }
    );
}

#[test]
fn feed_lists_each_changed_document_once_since_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    add(&mut s, "f1", case("One", "x", &[]), 1);
    let checkpoint = s.feed_head().unwrap();
    add(&mut s, "f2", case("Two", "x", &[]), 2);
    edit(&mut s, "f1", |d| {
        d.add_reply(&pid("r"), &me(), 3, "a").unwrap()
    });
    edit(&mut s, "f1", |d| {
        d.add_reply(&pid("r2"), &me(), 4, "b").unwrap()
    });
    let changed = s.changed_since(checkpoint, 100).unwrap();
    let ids: Vec<&str> = changed.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["f2", "f1"]);
    assert!(changed[0].0 < changed[1].0);
    assert!(
        s.changed_since(s.feed_head().unwrap(), 100)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    add(&mut s, "x1", case("One", "x", &[]), 1);
    let head = s.feed_head().unwrap();
    let r: Result<(), StoreError> = s.write(|w| {
        let mut doc = new_item_doc(
            actor(),
            &"x2".parse().unwrap(),
            &"comm".parse().unwrap(),
            &me(),
            2,
            &case("Two", "y", &[]),
        )
        .unwrap();
        w.insert("x2", "case", doc.automerge_mut())?;
        Err(StoreError::NotFound("simulated failure".into()))
    });
    assert!(r.is_err());
    assert_eq!(s.list(&ListFilter::default()).unwrap().len(), 1);
    assert_eq!(s.feed_head().unwrap(), head);
    assert!(s.search("Two", &ListFilter::default()).unwrap().is_empty());
}

#[test]
fn a_store_is_encrypted_and_only_its_key_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outpost.db");
    let s = open(&dir);
    s.set_meta("note", "the quick brown fox of Tullamore")
        .unwrap();
    drop(s);
    let raw = std::fs::read(&path).unwrap();
    assert!(!raw.starts_with(b"SQLite format 3"), "plain SQLite header");
    assert!(
        !raw.windows(9).any(|w| w == b"Tullamore"),
        "plaintext in the file"
    );
    assert!(matches!(
        Store::open(&path, &StoreKey::from_bytes([8; 32])),
        Err(StoreError::WrongKey)
    ));
    // The wrong key changed nothing: the right one still opens it.
    let s = Store::open(&path, &key()).unwrap();
    assert_eq!(
        s.meta("note").unwrap().as_deref(),
        Some("the quick brown fox of Tullamore")
    );
    // Rekeyed: the old key no longer opens it, the new one does.
    let new = StoreKey::from_bytes([9; 32]);
    s.rekey(&new).unwrap();
    drop(s);
    assert!(matches!(
        Store::open(&path, &key()),
        Err(StoreError::WrongKey)
    ));
    let s = Store::open(&path, &new).unwrap();
    assert!(s.meta("note").unwrap().is_some());
}

#[test]
fn a_plain_store_from_an_older_outpost_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outpost.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE legacy(note TEXT NOT NULL); \
             INSERT INTO legacy VALUES ('Ballinasloe');",
        )
        .unwrap();
    }
    assert!(outpost_store::is_plaintext(&path));
    assert!(Store::encrypt_plaintext(&path, &key()).unwrap());
    assert!(!outpost_store::is_plaintext(&path));
    let raw = std::fs::read(&path).unwrap();
    assert!(!raw.windows(11).any(|w| w == b"Ballinasloe"));
    let s = Store::open(&path, &key()).unwrap();
    let note: String = s
        .connection()
        .query_row("SELECT note FROM legacy", [], |r| r.get(0))
        .unwrap();
    assert_eq!(note, "Ballinasloe");
    // Already encrypted: nothing to do.
    drop(s);
    assert!(!Store::encrypt_plaintext(&path, &key()).unwrap());
}

#[test]
fn pages_are_8_kib() {
    // Document snapshots are 1-3 KB rows: 8 KiB pages waste far less than 4.
    // (SQLCipher answers these pragmas as text.)
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for pragma in ["page_size", "cipher_page_size"] {
        let v: rusqlite::types::Value = s
            .connection()
            .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .unwrap();
        let n = match v {
            rusqlite::types::Value::Integer(n) => n,
            rusqlite::types::Value::Text(t) => t.parse().unwrap(),
            other => panic!("{pragma}: {other:?}"),
        };
        assert_eq!(n, 8192, "{pragma}");
    }
}

/// A community founded here: its genesis in the log, its document stored.
fn found(store: &mut Store, name: &str) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let (id, genesis) = outpost_sync::membership::genesis(&key, name, [1; 16], 1).unwrap();
    let mut doc = outpost_model::new_community_doc(
        ActorId::from(key.verifying_key().to_bytes().as_slice()),
        &id.parse().unwrap(),
        &me(),
        1,
        &outpost_model::NewCommunity {
            name: name.into(),
            domain: "testing".into(),
            charter: None,
        },
    )
    .unwrap();
    store
        .write(|w| -> Result<(), StoreError> {
            w.add_ops(&id, &[genesis], None)?;
            w.insert(&id, "community", doc.automerge_mut())
        })
        .unwrap();
    id
}

#[test]
fn the_membership_log_only_grows_and_keeps_only_ops_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let c = found(&mut s, "Valley");
    let founder = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    assert!(
        s.membership(&c)
            .unwrap()
            .is_admin(&founder.verifying_key().to_bytes())
    );
    let add = outpost_sync::membership::sign(
        &founder,
        &outpost_sync::membership::Op {
            community: c.clone(),
            kind: outpost_sync::membership::OpKind::Add {
                member: [9; 32],
                role: outpost_model::Role::Member,
            },
            deps: s.op_heads(&c).unwrap(),
            time: 2,
        },
    )
    .unwrap();
    let mut tampered = add.clone();
    tampered[10] ^= 1;
    let digest = s.digest(&c).unwrap();
    let new = s
        .write(|w| {
            w.add_ops(
                &c,
                &[add.clone(), add.clone(), tampered, vec![0; 8]],
                Some("peer"),
            )
        })
        .unwrap();
    assert_eq!(new, 1, "one new op; the duplicate and the bad ones dropped");
    assert_eq!(s.op_log(&c).unwrap().len(), 2);
    assert!(s.is_member(&c, &hex::encode([9u8; 32])).unwrap());
    assert_ne!(
        s.digest(&c).unwrap(),
        digest,
        "the log is part of the digest"
    );
    // Nothing, not even this process with the key, edits or deletes an op.
    for sql in ["DELETE FROM member_ops", "UPDATE member_ops SET op = x'00'"] {
        let err = s.connection().execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    drop(s);
    let s = open(&dir);
    assert_eq!(s.op_log(&c).unwrap().len(), 2);
}

#[test]
fn a_home_with_communities_from_before_the_log_gets_a_clear_error() {
    // 5: before the log; 8: before signatures named their document.
    for version in [5, 8] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = open(&dir);
            found(&mut s, "Old valley");
            s.connection()
                .pragma_update(None, "user_version", version)
                .unwrap();
        }
        let Err(err) = Store::open(dir.path().join("outpost.db"), &key()) else {
            panic!("a home of schema {version} opened");
        };
        assert!(matches!(err, StoreError::OlderFormat), "{err}");
        assert!(err.to_string().contains("older Outpost"), "{err}");
    }
}
