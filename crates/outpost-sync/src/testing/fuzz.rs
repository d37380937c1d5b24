//! The fuzz target's body, shared with the corpus replay test.

use super::MemRepo;
use crate::membership::{Key, Membership, Role};
use crate::session::Session;
use crate::wire::Msg;

/// The peer key fuzz inputs speak as (a member of community "c").
pub const FUZZ_PEER: Key = [1; 32];

/// A repo holding community "c" (with `FUZZ_PEER` as a member) and one
/// item document "d" of it, so fuzzed messages reach the interesting code.
/// "c" has no genesis (fuzz inputs name it literally), so its membership
/// row is written directly.
pub fn fuzz_repo() -> MemRepo {
    let mut repo = MemRepo::default();
    let mut m = Membership::default();
    m.members.insert(FUZZ_PEER, Role::Member);
    repo.members.insert("c".into(), m);
    let item = outpost_model::new_item_doc(
        repo.actor(),
        &outpost_model::DocId::parse("d").expect("id"),
        &outpost_model::CommunityId::parse("c").expect("id"),
        &outpost_model::MemberProfile {
            name: "fuzz".into(),
            profession: None,
            region: None,
            expertise: vec![],
        },
        0,
        &outpost_model::NewItem::Question(outpost_model::NewQuestion {
            title: "hello".into(),
            body: "hello".into(),
            tags: vec![],
        }),
    )
    .expect("item document");
    repo.put("c", "d", item.into_automerge());
    repo
}

/// Decodes `data` as frames and feeds every message to a session: any
/// input may be refused, none may panic. (The fuzz target and the corpus
/// replay test both call this.)
pub fn fuzz_one(data: &[u8]) {
    let mut repo = fuzz_repo();
    let mut session = Session::new(FUZZ_PEER);
    let _ = session.start(&mut repo, &[]);
    let mut d = crate::wire::Decoder::default();
    d.push(data);
    let mut first = true;
    loop {
        match d.next_msg() {
            Ok(Some(msg)) => {
                // Let the fuzzer skip the handshake half the time.
                if first
                    && !matches!(msg, Msg::Hello { .. })
                    && data.first().is_some_and(|b| b & 1 == 1)
                {
                    let _ = session.handle(
                        &mut repo,
                        Msg::Hello {
                            version: crate::wire::PROTOCOL_VERSION,
                            offers: vec![],
                        },
                    );
                }
                first = false;
                if session.handle(&mut repo, msg).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}
