//! The demo community: realistic rural-practice content so a new user sees
//! what a living community of practice looks like, and the generator the
//! benchmarks and crash tests use to make many plausible cases.
//!
//! All content is fictional and de-identified (age bands, no names, no dates).

use crate::{Outpost, Result, now_ms};
use automerge::ActorId;
use outpost_model::{
    CaseStatus, CommunityId, DocId, ItemDoc, MemberProfile, NewCase, NewCommunity, NewItem,
    NewProtocol, NewQuestion, PostId, ProtocolStatus, new_community_doc, new_item_doc,
};
use outpost_sync::membership::{Op, OpKind, Role};
use serde::Serialize;

const DEMO_META: &str = "demo_community";
const DAY: i64 = 86_400_000;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
/// The demo community, as [`Outpost::demo`] left it.
pub struct DemoSummary {
    /// Its id.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// Items in it.
    pub items: usize,
    /// Made now (false: it was already here).
    pub created: bool,
}

mod content;

use content::{CASES, COLLEAGUES, Colleague, OUTCOMES, PROTOCOLS, QUESTIONS, REPLIES};

/// Demo colleague `i`'s key. They are not real devices: their keys are
/// fixed and public (anyone can derive them), which is fine for made-up
/// people in a community only this device founded; their changes are
/// signed with them like any device's.
fn colleague_key(i: usize) -> ed25519_dalek::SigningKey {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(b"outpost demo    ");
    seed[31] = i as u8 + 1;
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

fn actor_for(i: usize) -> ActorId {
    outpost_model::device_actor(&colleague_key(i).verifying_key().to_bytes(), [0; 8])
}

fn profile_of(c: &Colleague) -> MemberProfile {
    MemberProfile {
        name: c.name.into(),
        profession: Some(c.profession.into()),
        region: Some(c.region.into()),
        expertise: c.expertise.iter().map(|s| s.to_string()).collect(),
    }
}

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

impl Outpost {
    /// Seeds the demo community (once; later calls return the existing one).
    pub fn demo(&mut self) -> Result<DemoSummary> {
        if let Some(id) = self.store.meta(DEMO_META)?
            && let Ok(id) = CommunityId::parse(&id)
            && let Ok(c) = self.community(&id)
        {
            let items = self.store.list(&outpost_store::ListFilter {
                community: Some(id.clone()),
                limit: Some(10_000),
                ..Default::default()
            })?;
            return Ok(DemoSummary {
                community: id,
                name: c.name,
                items: items.len(),
                created: false,
            });
        }
        let now = now_ms();
        let me = self.actor.clone();
        let my_profile = self.profile.clone();
        let mut nonce = [0u8; 16];
        nonce.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..]);
        let (community_id, genesis) = outpost_sync::membership::genesis(
            self.key.signing(),
            "Remote & Rural Emergency Care",
            nonce,
            now - 60 * DAY,
        )?;
        let community_id = CommunityId::try_from(community_id)?;
        let colleagues: Vec<(ActorId, MemberProfile)> = COLLEAGUES
            .iter()
            .enumerate()
            .map(|(i, c)| (actor_for(i), profile_of(c)))
            .collect();
        let mut community = new_community_doc(
            me.clone(),
            &community_id,
            &my_profile,
            now - 60 * DAY,
            &NewCommunity {
                name: "Remote & Rural Emergency Care".into(),
                domain: "Recognising and stabilising emergencies far from a hospital: what to do in the first hours, \
                         when to transfer, and how to keep patients safe on the way."
                    .into(),
                charter: Some(
                    "1. Share cases de-identified: age bands, no names, no dates, no places smaller than a district.\n\
                     2. Ask early; there are no silly questions.\n\
                     3. Close the loop: post the outcome of every case you share.\n\
                     4. Protocols are drafts until two members from different sites endorse them."
                        .into(),
                ),
            },
        )?;
        // The founder (this device) adds each colleague with a signed op;
        // each colleague then publishes a profile.
        let mut deps = vec![outpost_sync::membership::op_hash(&genesis)];
        let mut ops = vec![genesis];
        for (i, (actor, profile)) in colleagues.iter().enumerate() {
            let at = now - (55 - i as i64) * DAY;
            let key = colleague_key(i).verifying_key().to_bytes();
            let role = if i == 2 { Role::Admin } else { Role::Member };
            let op = outpost_sync::membership::sign(
                self.key.signing(),
                &Op {
                    community: community_id.to_string(),
                    kind: OpKind::Add { member: key, role },
                    deps: deps.clone(),
                    time: at,
                },
            )?;
            deps = vec![outpost_sync::membership::op_hash(&op)];
            ops.push(op);
            community.automerge_mut().set_actor(actor.clone());
            community.set_own_profile(profile, at)?;
        }
        let mut docs: Vec<(DocId, &'static str, ItemDoc)> = Vec::new();
        let colleague = |n: usize| &colleagues[n % colleagues.len()];
        let mut t = now - 70 * DAY;
        let mut next = |step: i64| {
            t += step;
            t
        };
        for (n, (title, presenting, history, findings, age, sex, setting, ask, tg)) in
            CASES.iter().enumerate()
        {
            let (author, profile) = if n % 3 == 0 {
                (&me, &my_profile)
            } else {
                (&colleague(n).0, &colleague(n).1)
            };
            let item = NewItem::Case(NewCase {
                title: title.to_string(),
                presenting: presenting.to_string(),
                ask: ask.to_string(),
                age_band: Some(*age),
                sex: Some(*sex),
                setting: Some(*setting),
                history: Some(history.to_string()),
                findings: Some(findings.to_string()),
                tags: tags(tg),
            });
            let id: DocId = crate::new_id();
            let mut doc = new_item_doc(
                author.clone(),
                &id,
                &community_id,
                profile,
                next(2 * DAY),
                &item,
            )?;
            for r in 0..(n % 3 + 1) {
                let (a, p) = colleague(n + r + 1);
                doc.automerge_mut().set_actor(a.clone());
                doc.add_reply(
                    &crate::new_id(),
                    p,
                    next(DAY / 6),
                    REPLIES[(n + r) % REPLIES.len()],
                )?;
            }
            if let Some(outcome) = OUTCOMES.get(n) {
                doc.automerge_mut().set_actor(author.clone());
                doc.set_outcome(outcome, next(DAY))?;
                doc.set_case_status(CaseStatus::Resolved, next(DAY / 24))?;
            }
            docs.push((id, "case", doc));
        }
        for (n, (title, body, tg, answers)) in QUESTIONS.iter().enumerate() {
            let (author, profile) = if n % 4 == 1 {
                (&me, &my_profile)
            } else {
                (&colleague(n + 2).0, &colleague(n + 2).1)
            };
            let item = NewItem::Question(NewQuestion {
                title: title.to_string(),
                body: body.to_string(),
                tags: tags(tg),
            });
            let id: DocId = crate::new_id();
            let mut doc = new_item_doc(
                author.clone(),
                &id,
                &community_id,
                profile,
                next(DAY * 3 / 2),
                &item,
            )?;
            let mut first_answer = None;
            for (k, text) in answers.iter().enumerate() {
                let pick = if author == &me {
                    colleague(n + k)
                } else {
                    colleague(n + k + 3)
                };
                let (a, p) = if &pick.0 == author {
                    colleague(n + k + 1)
                } else {
                    pick
                };
                let aid: PostId = crate::new_id();
                doc.automerge_mut().set_actor(a.clone());
                doc.add_answer(&aid, p, next(DAY / 8), text)?;
                first_answer.get_or_insert(aid.clone());
                doc.automerge_mut()
                    .set_actor(colleague(n + k + 2).0.clone());
                doc.mark_helpful(&aid, next(DAY / 24))?;
            }
            if let Some(aid) = first_answer.filter(|_| n % 2 == 0) {
                doc.automerge_mut().set_actor(author.clone());
                doc.accept_answer(&aid, next(DAY / 4))?;
            }
            docs.push((id, "question", doc));
        }
        for (n, (title, body, status, tg, refs)) in PROTOCOLS.iter().enumerate() {
            let (author, profile) = if n % 2 == 0 {
                (&me, &my_profile)
            } else {
                (&colleague(n).0, &colleague(n).1)
            };
            let item = NewItem::Protocol(NewProtocol {
                title: title.to_string(),
                body: body.to_string(),
                review_date: Some(format!("2027-{:02}-01", n + 2)),
                references: refs.iter().map(|s| s.to_string()).collect(),
                tags: tags(tg),
            });
            let id: DocId = crate::new_id();
            let mut doc = new_item_doc(
                author.clone(),
                &id,
                &community_id,
                profile,
                next(DAY),
                &item,
            )?;
            let (a, p) = colleague(n + 1);
            doc.automerge_mut().set_actor(a.clone());
            doc.set_protocol_body(
                &format!(
                    "{body}\n_Reviewed by {} for use in {}._\n",
                    p.name,
                    p.region.as_deref().unwrap_or("")
                ),
                next(DAY / 2),
            )?;
            doc.add_comment(
                &crate::new_id(),
                p,
                next(DAY / 8),
                "Checked the doses against our formulary; they match. Happy to endorse after one more reviewer.",
            )?;
            if *status != ProtocolStatus::Draft {
                // Endorsing is an admin's: the founder's (this device).
                doc.automerge_mut().set_actor(me.clone());
                doc.set_protocol_status(*status, next(DAY / 4))?;
            }
            docs.push((id, "protocol", doc));
        }
        let items = docs.len();
        let cid = community_id.clone();
        let mut signers = vec![self.key.signing().clone()];
        signers.extend((0..colleagues.len()).map(colleague_key));
        let own = self.store.set_signers(signers);
        let written = self.store.write(|w| -> Result<()> {
            w.add_ops(&cid, &ops, None)?;
            w.insert(&cid, "community", community.automerge_mut())?;
            for (id, kind, doc) in &mut docs {
                w.insert(id, kind, doc.automerge_mut())?;
            }
            Ok(())
        });
        self.store.set_signers(own);
        written?;
        self.store.set_meta(DEMO_META, &community_id)?;
        let name = self.community(&community_id)?.name;
        Ok(DemoSummary {
            community: community_id,
            name,
            items,
            created: true,
        })
    }
}

/// `n` plausible, varied case presentations (deterministic for a seed), for
/// benchmarks and stress tests. Each is about `CASES`' typical size.
pub fn generate_cases(n: usize, seed: u64) -> Vec<NewItem> {
    let mut rng = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    (0..n)
        .map(|i| {
            let a = &CASES[(next() % CASES.len() as u64) as usize];
            let b = &CASES[(next() % CASES.len() as u64) as usize];
            let r = REPLIES[(next() % REPLIES.len() as u64) as usize];
            NewItem::Case(NewCase {
                title: format!("{} (case {i})", a.0),
                presenting: format!("{} {}", a.1, b.1),
                ask: format!("{} {}", a.7, r),
                age_band: Some(a.4),
                sex: Some(a.5),
                setting: Some(b.6),
                history: Some(format!("{} {}", a.2, b.2)),
                findings: Some(format!("{} {}", a.3, b.3)),
                tags: tags(a.8),
            })
        })
        .collect()
}
