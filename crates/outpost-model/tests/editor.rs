#![allow(clippy::unwrap_used)]
//! The protocol editor's save path: an editor's text, derived from the body
//! at some heads, merges with what other members changed since.

use automerge::ChangeHash;
use outpost_model::{ItemDoc, MemberProfile, NewItem, NewProtocol, device_actor, new_item_doc};

fn profile(name: &str) -> MemberProfile {
    MemberProfile {
        name: name.into(),
        ..MemberProfile::default()
    }
}

fn protocol(body: &str) -> ItemDoc {
    let item = NewItem::Protocol(NewProtocol {
        title: "Sepsis".into(),
        body: body.into(),
        review_date: None,
        references: vec![],
        tags: vec![],
    });
    new_item_doc(
        device_actor(&[1; 32], [0; 8]),
        &"p1".parse().unwrap(),
        &"c1".parse().unwrap(),
        &profile("Ana"),
        1,
        &item,
    )
    .unwrap()
}

fn body(d: &ItemDoc) -> String {
    d.read().unwrap().protocol.unwrap().body
}

fn heads(d: &mut ItemDoc) -> Vec<ChangeHash> {
    d.automerge_mut().get_heads()
}

/// Another member's copy: same document, their own actor.
fn other_member(d: &mut ItemDoc) -> ItemDoc {
    let fork = d
        .automerge_mut()
        .fork()
        .with_actor(device_actor(&[2; 32], [0; 8]));
    ItemDoc::new(fork).unwrap()
}

#[test]
fn a_concurrent_edit_merges_into_the_open_editor() {
    let mut mine = protocol("Step one.\nStep two.\n");
    let base = heads(&mut mine);
    // Another member appends a line and it arrives while we type.
    let mut theirs = other_member(&mut mine);
    theirs
        .set_protocol_body("Step one.\nStep two.\nStep three (Tomás).\n", 2)
        .unwrap();
    mine.automerge_mut().merge(theirs.automerge_mut()).unwrap();
    // The editor still shows the old text plus what the user typed.
    let typed = "Step one — check lactate.\nStep two.\n";
    mine.set_protocol_body_from(&base, typed, 3).unwrap();
    assert_eq!(
        body(&mine),
        "Step one — check lactate.\nStep two.\nStep three (Tomás).\n"
    );
}

#[test]
fn typing_during_a_save_continues_from_the_saves_own_heads() {
    let mut d = protocol("Dose: ");
    let base = heads(&mut d);
    let mut theirs = other_member(&mut d);
    theirs
        .set_protocol_body("Check allergies.\nDose: ", 2)
        .unwrap();
    d.automerge_mut().merge(theirs.automerge_mut()).unwrap();
    // First save: "Dose: 30" (sent), while the user goes on typing "ml/kg".
    let mine = d.set_protocol_body_from(&base, "Dose: 30", 3).unwrap();
    assert_eq!(body(&d), "Check allergies.\nDose: 30");
    // Second save from `mine`, with the text the editor now holds.
    d.set_protocol_body_from(&mine, "Dose: 30 ml/kg", 4)
        .unwrap();
    assert_eq!(body(&d), "Check allergies.\nDose: 30 ml/kg");
}

#[test]
fn saving_unchanged_text_changes_nothing() {
    let mut d = protocol("Same.");
    let base = heads(&mut d);
    let out = d.set_protocol_body_from(&base, "Same.", 2).unwrap();
    assert_eq!(out, base);
    assert_eq!(heads(&mut d), base);
}

#[test]
fn unknown_base_heads_are_an_error_not_a_panic() {
    let mut d = protocol("Text.");
    let bogus = vec![ChangeHash([7; 32])];
    assert!(d.set_protocol_body_from(&bogus, "Other.", 2).is_err());
    assert_eq!(body(&d), "Text.");
}
