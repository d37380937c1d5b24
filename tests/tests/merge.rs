//! Property: two replicas editing the same case and the same protocol while
//! offline converge to the same state whichever way they merge, and keep both
//! sides' edits.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use automerge::{ActorId, AutoCommit};
use outpost_model::{
    CaseStatus, ItemDoc, MemberProfile, NewCase, NewItem, NewProtocol, ProtocolStatus,
    new_item_doc, read_item,
};
use proptest::prelude::*;

const OPEN: char = '⟦';
const CLOSE: char = '⟧';

#[derive(Debug, Clone)]
enum TextOp {
    /// Insert a unique marker at a fraction of the current length.
    Insert(f64),
    /// Delete up to `len` characters starting at a fraction of the length,
    /// never touching a marker.
    Delete(f64, usize),
}

#[derive(Debug, Clone)]
enum CaseOp {
    Reply,
    Outcome,
    Status(bool),
    Comment,
}

fn text_op() -> impl Strategy<Value = TextOp> {
    prop_oneof![
        3 => (0.0..=1.0f64).prop_map(TextOp::Insert),
        1 => (0.0..=1.0f64, 1..6usize).prop_map(|(p, l)| TextOp::Delete(p, l)),
    ]
}

fn case_op() -> impl Strategy<Value = CaseOp> {
    prop_oneof![
        Just(CaseOp::Reply),
        Just(CaseOp::Outcome),
        any::<bool>().prop_map(CaseOp::Status),
        Just(CaseOp::Comment)
    ]
}

fn profile(name: &str) -> MemberProfile {
    MemberProfile {
        name: name.into(),
        ..Default::default()
    }
}

fn inside_marker(chars: &[char], i: usize) -> bool {
    // A character is protected if an OPEN precedes it with no CLOSE in between.
    let before = &chars[..=i.min(chars.len() - 1)];
    let last_open = before.iter().rposition(|c| *c == OPEN);
    let last_close = before.iter().rposition(|c| *c == CLOSE);
    chars[i] == CLOSE
        || matches!((last_open, last_close), (Some(o), None) if o <= i)
        || matches!((last_open, last_close), (Some(o), Some(c)) if o > c)
}

/// Applies text ops as whole-text replacements (what an editor or the CLI
/// sends), returning the markers this replica inserted.
fn edit_text(doc: &mut ItemDoc, side: &str, ops: &[TextOp], now: i64) -> Vec<String> {
    let mut markers = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        let mut chars: Vec<char> = doc.read().unwrap().protocol.unwrap().body.chars().collect();
        match op {
            TextOp::Insert(f) => {
                // Never split a marker: move to just after one if inside.
                let mut at = (chars.len() as f64 * f) as usize;
                while at > 0
                    && at < chars.len()
                    && inside_marker(&chars, at - 1)
                    && chars[at - 1] != CLOSE
                {
                    at += 1;
                }
                let marker = format!("{OPEN}{side}{n}{CLOSE}");
                for (k, c) in marker.chars().enumerate() {
                    chars.insert(at + k, c);
                }
                markers.push(marker);
            }
            TextOp::Delete(f, len) => {
                let start = (chars.len() as f64 * f) as usize;
                let mut end = start;
                while end < chars.len()
                    && end - start < *len
                    && !inside_marker(&chars, end)
                    && chars[end] != OPEN
                {
                    end += 1;
                }
                chars.drain(start..end);
            }
        }
        let text: String = chars.into_iter().collect();
        doc.set_protocol_body(&text, now + n as i64).unwrap();
    }
    markers
}

fn edit_case(
    doc: &mut ItemDoc,
    side: &str,
    ops: &[CaseOp],
    now: i64,
) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut outcome_words = Vec::new();
    let who = profile(side);
    for (n, op) in ops.iter().enumerate() {
        let t = now + n as i64;
        match op {
            CaseOp::Reply => {
                let id = format!("reply-{side}-{n}");
                doc.add_reply(
                    &id.parse().unwrap(),
                    &who,
                    t,
                    &format!("reply {n} from {side}"),
                )
                .unwrap();
                ids.push(id);
            }
            CaseOp::Comment => {
                let id = format!("comment-{side}-{n}");
                doc.add_comment(&id.parse().unwrap(), &who, t, "a comment")
                    .unwrap();
                ids.push(id);
            }
            CaseOp::Outcome => {
                let mut text = doc.read().unwrap().case.unwrap().outcome;
                let word = format!("{OPEN}{side}{n}{CLOSE}");
                text.push_str(&word);
                doc.set_outcome(&text, t).unwrap();
                outcome_words.push(word);
            }
            CaseOp::Status(resolved) => {
                let s = if *resolved {
                    CaseStatus::Resolved
                } else {
                    CaseStatus::Open
                };
                doc.set_case_status(s, t).unwrap();
            }
        }
    }
    (ids, outcome_words)
}

fn fork(doc: &ItemDoc, actor: u8) -> ItemDoc {
    let bytes = doc.automerge().clone().save();
    let am = AutoCommit::load(&bytes)
        .unwrap()
        .with_actor(ActorId::from([actor; 32].as_slice()));
    ItemDoc::new(am).unwrap()
}

fn merged(a: &ItemDoc, b: &ItemDoc) -> AutoCommit {
    let mut x = a.automerge().clone();
    let mut y = b.automerge().clone();
    x.merge(&mut y).unwrap();
    x
}

fn converge(a: &ItemDoc, b: &ItemDoc) -> AutoCommit {
    let mut ab = merged(a, b);
    let mut ba = merged(b, a);
    assert_eq!(
        ab.get_heads(),
        ba.get_heads(),
        "heads differ by merge order"
    );
    assert_eq!(
        read_item(&ab).unwrap(),
        read_item(&ba).unwrap(),
        "content differs by merge order"
    );
    ab
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_edits_converge_and_keep_both_sides(
        base in "[a-z ]{0,40}( ñé 😀)?[a-z ]{0,20}",
        text_a in prop::collection::vec(text_op(), 1..8),
        text_b in prop::collection::vec(text_op(), 1..8),
        case_a in prop::collection::vec(case_op(), 1..8),
        case_b in prop::collection::vec(case_op(), 1..8),
    ) {
        let origin = ActorId::from([9u8; 32].as_slice());
        let protocol = new_item_doc(origin.clone(), &"p1".parse().unwrap(), &"c1".parse().unwrap(), &profile("origin"), 1_000, &NewItem::Protocol(NewProtocol {
            title: "Protocol".into(), body: base, review_date: None, references: vec![], tags: vec![],
        })).unwrap();
        let case = new_item_doc(origin, &"c1x".parse().unwrap(), &"c1".parse().unwrap(), &profile("origin"), 1_000, &NewItem::Case(NewCase {
            title: "Case".into(), presenting: "p".into(), ask: "a".into(), age_band: None, sex: None,
            setting: None, history: None, findings: None, tags: vec![],
        })).unwrap();

        // Offline, each replica edits its own copy.
        let (mut pa, mut pb) = (fork(&protocol, 1), fork(&protocol, 2));
        let markers_a = edit_text(&mut pa, "A", &text_a, 2_000);
        let markers_b = edit_text(&mut pb, "B", &text_b, 2_000);
        pa.set_protocol_status(ProtocolStatus::Endorsed, 3_000).unwrap();
        let (mut ca, mut cb) = (fork(&case, 1), fork(&case, 2));
        let (ids_a, words_a) = edit_case(&mut ca, "A", &case_a, 2_000);
        let (ids_b, words_b) = edit_case(&mut cb, "B", &case_b, 2_000);

        // Merged either way round: identical, and nothing lost.
        let p = read_item(&converge(&pa, &pb)).unwrap();
        let body = p.protocol.unwrap().body;
        for m in markers_a.iter().chain(markers_b.iter()) {
            prop_assert!(body.contains(m.as_str()), "lost insertion {m} in {body:?}");
        }
        let c = read_item(&converge(&ca, &cb)).unwrap();
        let have: Vec<String> = c.sub_ids().map(|(id, _)| id.to_string()).collect();
        for id in ids_a.iter().chain(ids_b.iter()) {
            prop_assert!(have.contains(id), "lost {id}");
        }
        prop_assert_eq!(have.len(), ids_a.len() + ids_b.len());
        let outcome = c.case.unwrap().outcome;
        for w in words_a.iter().chain(words_b.iter()) {
            prop_assert!(outcome.contains(w.as_str()), "lost outcome text {w} in {outcome:?}");
        }
    }
}
