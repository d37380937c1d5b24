//! Values a peer wrote, shown and written without harm: a member's
//! modified client puts a year-20000 time, the extremes of an i64 and
//! terminal escape sequences into its own (validly signed) case; an honest
//! member syncs it and then lists, shows, searches and exports it with the
//! real binary. Nothing panics, times no calendar holds read "invalid
//! date", and no control character from the peer reaches the terminal.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use outpost_tests::{Home, NET, id_of, serve};

const HOSTILE_TITLE: &str = "Rash \u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mred\u{202e}txt \u{9b}31m";

fn text_of(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?}: {text:?}");
}

#[test]
fn a_peers_hostile_values_render_safely_everywhere() {
    let (a, b) = (Home::new(), Home::new());
    let community = a.init_with_community("Dr A");
    let sa = serve(&a);
    b.init_and_join("Dr B", &a, &community);
    let case = id_of(&b.json(&[
        "case",
        "add",
        "--community",
        &community,
        "--title",
        "Rash",
        "--presenting",
        "p",
        "--ask",
        "a",
        "--tag",
        "skin",
    ]));

    // B's modified client rewrites its own case (signed as its device).
    {
        use automerge::transaction::Transactable;
        let mut op =
            outpost_core::Outpost::open_with(b.path(), &outpost_tests::test_unlock()).unwrap();
        op.store_mut()
            .write(|w| -> Result<(), outpost_core::CoreError> {
                let mut loaded = w.load(&case)?;
                let doc = std::mem::replace(&mut loaded.doc, automerge::AutoCommit::new());
                let mut item = outpost_model::ItemDoc::new(doc).unwrap();
                let name = outpost_model::MemberProfile {
                    name: "Dr \u{1b}[5mB".into(),
                    ..Default::default()
                };
                let post = outpost_model::PostId::parse("reply-1").unwrap();
                item.add_reply(&post, &name, i64::MIN, "See \u{1b}[8mhidden")
                    .unwrap();
                loaded.doc = item.into_automerge();
                let d = &mut loaded.doc;
                d.put(automerge::ROOT, "updated_at", 568_000_000_000_000_i64)
                    .unwrap();
                d.put(automerge::ROOT, "title", HOSTILE_TITLE).unwrap();
                d.commit();
                w.save(&case, &mut loaded)?;
                Ok(())
            })
            .unwrap();
    }
    let mut sync = vec!["sync", "--peer", sa.first_line["ticket"].as_str().unwrap()];
    sync.extend(NET);
    b.json(&sync);
    drop(sa);

    // A reads what arrived, as people do.
    let listed = text_of(&a.run(&["list"]));
    assert_inert("list", &listed);
    assert!(listed.contains("invalid date"), "{listed}");
    assert!(listed.contains("Rash"), "{listed}");
    assert_inert("show", &text_of(&a.run(&["show", &case])));
    assert_inert("search", &text_of(&a.run(&["search", "rash"])));
    assert_inert("history", &text_of(&a.run(&["history", &case])));
    // JSON keeps the values as they are (a script decides what to do).
    let row = &a.json(&["list"])[0];
    assert_eq!(row["updated_at"], 568_000_000_000_000_i64);
    assert_eq!(row["title"], HOSTILE_TITLE);

    // The Markdown export writes every item, with the dates as invalid.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("md");
    text_of(&a.run(&[
        "export",
        "--community",
        &community,
        "--format",
        "markdown",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let cases: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cases.len(), 1);
    let md = std::fs::read_to_string(&cases[0]).unwrap();
    assert!(md.contains("invalid date"), "{md}");
}
