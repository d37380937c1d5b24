//! The rule table, row by row: for each, a change it allows and one it
//! refuses, merged the way every peer merges (`changes::merge_checked`).
//! Devices: A (admin, the author of the items), B (a member), C (another
//! member).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use ed25519_dalek::SigningKey;
use outpost_model::{
    CommunityDoc, ItemDoc, MemberProfile, NewCase, NewCommunity, NewItem, NewProtocol, NewQuestion,
    ProtocolStatus, Role, device_actor, new_community_doc, new_item_doc,
};
use outpost_sync::changes::{self, merge_checked};
use outpost_sync::rules::{BAD_CREATION, NOT_ALLOWED};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}
const A: u8 = 1;
const B: u8 = 2;
const C: u8 = 3;

fn pk(n: u8) -> [u8; 32] {
    key(n).verifying_key().to_bytes()
}

fn actor(n: u8) -> automerge::ActorId {
    device_actor(&pk(n), [n; 8])
}

fn standing() -> outpost_sync::changes::Standing {
    let mut s = outpost_sync::changes::Standing::default();
    for n in [A, B, C] {
        if let Some(r) = role_of(&pk(n)) {
            s.roles.insert(pk(n), r);
        }
    }
    s
}

fn role_of(k: &[u8; 32]) -> Option<Role> {
    if *k == pk(A) {
        Some(Role::Admin)
    } else if *k == pk(B) || *k == pk(C) {
        Some(Role::Member)
    } else {
        None
    }
}

fn profile(n: u8) -> MemberProfile {
    MemberProfile {
        name: format!("Dr {n}"),
        ..Default::default()
    }
}

const CID: &str = "c0000000-0000-0000-0000-000000000001";

/// The id the documents of these tests are signed and merged under.
const DOC: &str = "d0000000-0000-0000-0000-000000000001";

/// `who` edits a copy of `held`; the result of merging it back: Ok, or the
/// reason it was refused.
fn attempt(
    held: &AutoCommit,
    who: u8,
    edit: impl FnOnce(&mut AutoCommit),
) -> Result<(), &'static str> {
    let mut theirs = held.clone().with_actor(actor(who));
    let base = theirs.get_heads();
    edit(&mut theirs);
    theirs.commit();
    let sigs: Vec<_> = theirs
        .get_changes_meta(&base)
        .iter()
        .map(|c| (c.hash.0, changes::sign(&key(who), DOC, &c.hash.0)))
        .collect();
    assert!(!sigs.is_empty(), "the edit changed nothing");
    let bytes = theirs.save_after(&base);
    let mut mine = held.clone();
    let sig_of = |h: &[u8; 32]| sigs.iter().find(|(x, _)| x == h).map(|(_, s)| s.clone());
    let checked = merge_checked(&mut mine, DOC, &bytes, sig_of, &standing()).expect("merge");
    match checked.refused.first() {
        None => Ok(()),
        Some(r) => Err(r.reason),
    }
}

/// A document as it arrives whole at a peer (checked like any other).
fn arrives(doc: &mut AutoCommit, signer: u8) -> Result<(), &'static str> {
    arrives_signed_for(doc, signer, DOC)
}

/// The same, its changes signed for document `signed_for`.
fn arrives_signed_for(
    doc: &mut AutoCommit,
    signer: u8,
    signed_for: &str,
) -> Result<(), &'static str> {
    let bytes = doc.save();
    let sigs: Vec<_> = doc
        .get_changes_meta(&[])
        .iter()
        .map(|c| (c.hash.0, changes::sign(&key(signer), signed_for, &c.hash.0)))
        .collect();
    let mut fresh = AutoCommit::new();
    let sig_of = |h: &[u8; 32]| sigs.iter().find(|(x, _)| x == h).map(|(_, s)| s.clone());
    let checked = merge_checked(&mut fresh, DOC, &bytes, sig_of, &standing()).expect("merge");
    checked.refused.first().map_or(Ok(()), |r| Err(r.reason))
}

fn community() -> AutoCommit {
    let c = new_community_doc(
        actor(A),
        &CID.parse().unwrap(),
        &profile(A),
        1,
        &NewCommunity {
            name: "Valley".into(),
            domain: "Rural care".into(),
            charter: None,
        },
    )
    .unwrap();
    c.into_automerge()
}

fn item(kind: &str) -> AutoCommit {
    let new = match kind {
        "case" => NewItem::Case(NewCase {
            title: "Chest pain".into(),
            presenting: "54M".into(),
            ask: "ECG?".into(),
            age_band: None,
            sex: None,
            setting: None,
            history: None,
            findings: None,
            tags: vec![],
        }),
        "question" => NewItem::Question(NewQuestion {
            title: "Dosing?".into(),
            body: "In renal failure".into(),
            tags: vec![],
        }),
        _ => NewItem::Protocol(NewProtocol {
            title: "Sepsis".into(),
            body: "Give antibiotics".into(),
            review_date: None,
            references: vec![],
            tags: vec![],
        }),
    };
    new_item_doc(
        actor(A),
        &format!("{kind}-1").parse().unwrap(),
        &CID.parse().unwrap(),
        &profile(A),
        1,
        &new,
    )
    .unwrap()
    .into_automerge()
}

fn with_item(d: &mut AutoCommit, f: impl FnOnce(&mut ItemDoc)) {
    let mut i = ItemDoc::new(d.clone()).unwrap();
    f(&mut i);
    *d = i.into_automerge();
}

/// `held` after `who` made `edit` (accepted).
fn after(held: &AutoCommit, who: u8, edit: impl FnOnce(&mut AutoCommit)) -> AutoCommit {
    let mut d = held.clone().with_actor(actor(who));
    edit(&mut d);
    d.commit();
    d
}

#[test]
fn a_signature_counts_only_for_the_document_it_names() {
    // A's own case, with A's signatures made for another document: a
    // relaying peer cannot pass one document's signed changes off as
    // another's.
    let other = "d0000000-0000-0000-0000-000000000002";
    assert_eq!(
        arrives_signed_for(&mut item("case"), A, other),
        Err(changes::BAD_SIGNATURE)
    );
    assert_eq!(arrives_signed_for(&mut item("case"), A, DOC), Ok(()));
}

#[test]
fn creating_a_document_under_another_author_is_refused() {
    assert_eq!(arrives(&mut item("case"), A), Ok(()));
    assert_eq!(arrives(&mut community(), A), Ok(()));
    // B's key signing A's document: the signature is not the actor's.
    assert!(arrives(&mut item("case"), B).is_err());
    // B creating a case that names A as its author.
    let mut forged = AutoCommit::new().with_actor(actor(B));
    for (k, v) in [
        ("schema", "1"),
        ("kind", "case"),
        ("id", "case-9"),
        ("community", CID),
    ] {
        forged.put(ROOT, k, v).unwrap();
    }
    forged.put(ROOT, "author", hex::encode(pk(A))).unwrap();
    forged.commit();
    assert_eq!(arrives(&mut forged, B), Err(BAD_CREATION));
    // A community document made by a plain member.
    let mut by_member = new_community_doc(
        actor(B),
        &CID.parse().unwrap(),
        &profile(B),
        1,
        &NewCommunity {
            name: "Mine".into(),
            domain: "d".into(),
            charter: None,
        },
    )
    .unwrap()
    .into_automerge();
    assert_eq!(arrives(&mut by_member, B), Err(BAD_CREATION));
}

#[test]
fn the_community_is_its_admins_and_each_profile_its_members() {
    let c = community();
    // Row: name, domain, charter — admins.
    assert_eq!(
        attempt(&c, A, |d| {
            d.put(ROOT, "name", "Valley GPs").unwrap();
        }),
        Ok(())
    );
    assert_eq!(
        attempt(&c, B, |d| {
            d.put(ROOT, "name", "B's club").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    // Row: each member's profile — that member only.
    let own = attempt(&c, B, |d| {
        let mut cd = CommunityDoc::new(d.clone()).unwrap();
        cd.set_own_profile(&profile(B), 2).unwrap();
        *d = cd.into_automerge();
    });
    assert_eq!(own, Ok(()));
    let members = c.get(ROOT, "members").unwrap().unwrap().1;
    let a_profile = c.get(&members, hex::encode(pk(A))).unwrap().unwrap().1;
    assert_eq!(
        attempt(&c, B, |d| {
            d.put(&a_profile, "name", "Dr Quack").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    // Row: updated_at — any member.
    assert_eq!(
        attempt(&c, C, |d| {
            d.put(ROOT, "updated_at", 9).unwrap();
        }),
        Ok(())
    );
    // Fields written once, at creation: nobody.
    assert_eq!(
        attempt(&c, A, |d| {
            d.put(ROOT, "created_by", "x").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
}

#[test]
fn a_case_is_its_authors_and_a_post_its_posters() {
    let case = item("case");
    // Row: presentation, tags, outcome, status — its author.
    assert_eq!(
        attempt(&case, A, |d| with_item(d, |i| i
            .set_outcome("Recovered", 2)
            .unwrap())),
        Ok(())
    );
    assert_eq!(
        attempt(&case, B, |d| with_item(d, |i| i
            .set_outcome("Died", 2)
            .unwrap())),
        Err(NOT_ALLOWED)
    );
    assert_eq!(
        attempt(&case, B, |d| {
            d.put(ROOT, "title", "B's case now").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    // Row: adding a reply — any member.
    let reply = |d: &mut AutoCommit| {
        with_item(d, |i| {
            i.add_reply(&"r-1".parse().unwrap(), &profile(B), 2, "Do an ECG")
                .unwrap()
        })
    };
    assert_eq!(attempt(&case, B, reply), Ok(()));
    let with_reply = after(&case, B, reply);
    let replies = with_reply.get(ROOT, "replies").unwrap().unwrap().1;
    let post = with_reply.get(&replies, 0).unwrap().unwrap().1;
    let body = with_reply.get(&post, "body").unwrap().unwrap().1;
    // Row: a post's contents — its author only.
    assert_eq!(
        attempt(&with_reply, B, |d| {
            d.splice_text(&body, 0, 0, "Please: ").unwrap();
        }),
        Ok(())
    );
    assert_eq!(
        attempt(&with_reply, C, |d| {
            d.splice_text(&body, 0, 0, "Don't: ").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    // Removing someone's reply from the list is not adding one.
    assert_eq!(
        attempt(&with_reply, C, |d| {
            d.delete(&replies, 0).unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    assert_eq!(
        attempt(&with_reply, B, |d| {
            d.delete(&replies, 0).unwrap();
        }),
        Ok(())
    );
    // Row: updated_at — anyone who posts.
    assert_eq!(
        attempt(&case, C, |d| {
            d.put(ROOT, "updated_at", 5).unwrap();
        }),
        Ok(())
    );
}

#[test]
fn a_question_is_its_askers_and_helpful_marks_their_markers() {
    let q = item("question");
    let answered = after(&q, B, |d| {
        with_item(d, |i| {
            i.add_answer(&"a-1".parse().unwrap(), &profile(B), 2, "Halve it")
                .unwrap()
        })
    });
    // Row: which answer is accepted — its asker.
    assert_eq!(
        attempt(&answered, A, |d| with_item(d, |i| i
            .accept_answer(&"a-1".parse().unwrap(), 3)
            .unwrap())),
        Ok(())
    );
    assert_eq!(
        attempt(&answered, B, |d| with_item(d, |i| i
            .accept_answer(&"a-1".parse().unwrap(), 3)
            .unwrap())),
        Err(NOT_ALLOWED)
    );
    // Row: helpful marks — each member their own.
    assert_eq!(
        attempt(&answered, C, |d| with_item(d, |i| {
            i.mark_helpful(&"a-1".parse().unwrap(), 3).unwrap();
        })),
        Ok(())
    );
    let answers = answered.get(ROOT, "answers").unwrap().unwrap().1;
    let answer = answered.get(&answers, 0).unwrap().unwrap().1;
    let helpful = answered.get(&answer, "helpful").unwrap().unwrap().1;
    assert_eq!(
        attempt(&answered, C, |d| {
            d.put(&helpful, hex::encode(pk(A)), true).unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    assert_eq!(
        attempt(&answered, B, |d| {
            d.put(ROOT, "body", "edited by B").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
}

#[test]
fn a_protocols_text_is_everyones_and_its_status_the_admins() {
    let p = item("protocol");
    let by_b = after(&p, B, |_| {});
    let _ = by_b;
    // Row: body and references — any member.
    assert_eq!(
        attempt(&p, C, |d| with_item(d, |i| {
            i.set_protocol_body("Give antibiotics within the hour", 2)
                .unwrap();
        })),
        Ok(())
    );
    assert_eq!(
        attempt(&p, B, |d| with_item(d, |i| i
            .add_reference("NICE NG51", 2)
            .unwrap())),
        Ok(())
    );
    // Row: status and review date — admins.
    assert_eq!(
        attempt(&p, A, |d| with_item(d, |i| {
            i.set_protocol_status(ProtocolStatus::Endorsed, 2).unwrap();
        })),
        Ok(())
    );
    assert_eq!(
        attempt(&p, B, |d| with_item(d, |i| {
            i.set_protocol_status(ProtocolStatus::Endorsed, 2).unwrap();
        })),
        Err(NOT_ALLOWED)
    );
    assert_eq!(
        attempt(&p, B, |d| with_item(d, |i| i
            .set_review_date(Some("2027-01-01"), 2)
            .unwrap())),
        Err(NOT_ALLOWED)
    );
    // Row: title and tags — its author.
    assert_eq!(
        attempt(&p, C, |d| {
            d.put(ROOT, "title", "C's protocol").unwrap();
        }),
        Err(NOT_ALLOWED)
    );
    assert_eq!(
        attempt(&p, A, |d| {
            d.put(ROOT, "title", "Sepsis (adults)").unwrap();
        }),
        Ok(())
    );
}

#[test]
fn the_kind_a_peer_sends_does_not_choose_the_rules() {
    let mut q = item("question");
    let base = q.get_heads();
    // Two concurrent changes by B: one relabels the question a protocol
    // (whose body any member may edit), one edits the question's body.
    let mut relabel = q.clone().with_actor(device_actor(&pk(B), [1; 8]));
    relabel.put(ROOT, "kind", "protocol").unwrap();
    relabel.commit();
    let mut edit = q.clone().with_actor(device_actor(&pk(B), [2; 8]));
    let body = edit.get(ROOT, "body").unwrap().unwrap().1;
    edit.splice_text(&body, 0, 0, "B says: ").unwrap();
    edit.commit();
    relabel.merge(&mut edit).unwrap();
    let sigs: Vec<_> = relabel
        .get_changes_meta(&base)
        .iter()
        .map(|c| (c.hash.0, changes::sign(&key(B), DOC, &c.hash.0)))
        .collect();
    let bytes = relabel.save_after(&base);
    let mut mine = q.clone();
    let sig_of = |h: &[u8; 32]| sigs.iter().find(|(x, _)| x == h).map(|(_, s)| s.clone());
    let checked = merge_checked(&mut mine, DOC, &bytes, sig_of, &standing()).unwrap();
    assert_eq!(checked.refused.len(), 2, "{:?}", checked.refused);
    assert!(checked.accepted.is_empty());
}

#[test]
fn a_post_names_its_real_author() {
    let case = item("case");
    let as_a = attempt(&case, B, |d| {
        with_item(d, |i| {
            i.add_reply(&"r-9".parse().unwrap(), &profile(A), 2, "Discharge him")
                .unwrap()
        });
        let replies = d.get(ROOT, "replies").unwrap().unwrap().1;
        let post = d.get(&replies, 0).unwrap().unwrap().1;
        d.put(&post, "author", hex::encode(pk(A))).unwrap();
    });
    assert_eq!(as_a, Err(NOT_ALLOWED));
}
