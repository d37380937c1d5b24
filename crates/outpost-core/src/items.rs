//! Items and posts: adding cases, questions and protocols, and the
//! replies, answers, comments, outcomes and marks members add to them.
//! Who may do what (only members write; only the asker accepts) is checked
//! here.

use crate::{Denied, Outpost, Result, Sharing, new_id, now_ms};
use outpost_model::{
    CaseStatus, CommunityId, DocId, ItemDoc, Kind, NewItem, PostId, PostKind, ValidationError,
    new_item_doc, validate_body,
};
use outpost_store::{ItemRow, Writer};
use serde::Serialize;

/// A created reply, answer or comment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PostRef {
    /// The post's id.
    pub id: PostId,
    /// The item it is in.
    pub item_id: DocId,
    /// Reply, answer or comment.
    pub kind: PostKind,
}

impl Outpost {
    /// Adds a case, question or protocol. Returns its list row once the write
    /// has committed.
    pub fn create_item(
        &mut self,
        community: &CommunityId,
        mut item: NewItem,
        sharing: Sharing,
    ) -> Result<ItemRow> {
        item.validate()?;
        sharing.check_item(&item)?;
        let community = self.community(community)?;
        self.check_member(&community)?;
        let id: DocId = new_id();
        let mut doc = new_item_doc(
            self.actor.clone(),
            &id,
            &community.id,
            &self.profile,
            now_ms(),
            &item,
        )?;
        self.store
            .write(|w| w.insert(&id, item.kind().as_str(), doc.automerge_mut()))?;
        Ok(self.store.item_row(&id)?)
    }

    /// Adds many items in one transaction (imports, the demo, benchmarks).
    /// Either all are stored or none. Meant for text already checked (or
    /// generated), so it is not scanned for identifiers.
    pub fn import_items(
        &mut self,
        community: &CommunityId,
        items: Vec<NewItem>,
    ) -> Result<Vec<DocId>> {
        let mut validated = Vec::with_capacity(items.len());
        for (i, mut item) in items.into_iter().enumerate() {
            item.validate()
                .map_err(|e: ValidationError| e.in_context(&format!("item {}", i + 1)))?;
            validated.push(item);
        }
        let community = self.community(community)?;
        self.check_member(&community)?;
        let now = now_ms();
        let (actor, profile) = (self.actor.clone(), self.profile.clone());
        self.store.write(|w| -> Result<Vec<DocId>> {
            let mut ids = Vec::with_capacity(validated.len());
            for item in &validated {
                let id: DocId = new_id();
                let mut doc = new_item_doc(actor.clone(), &id, &community.id, &profile, now, item)?;
                w.insert(&id, item.kind().as_str(), doc.automerge_mut())?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// Loads an item inside a write transaction, applies `f`, and stores the
    /// resulting changes (if any) in the same transaction.
    pub(crate) fn edit<T>(
        &mut self,
        id: &DocId,
        f: impl FnOnce(&mut ItemDoc) -> Result<T>,
    ) -> Result<T> {
        self.store.write(|w: &mut Writer<'_>| -> Result<T> {
            let mut loaded = w.load(id)?;
            let mut item = ItemDoc::new(loaded.doc)?;
            let out = f(&mut item)?;
            loaded.doc = item.into_automerge();
            w.save(id, &mut loaded)?;
            Ok(out)
        })
    }

    /// Replies to a case discussion.
    pub fn reply(&mut self, case: &DocId, body: &str, sharing: Sharing) -> Result<PostRef> {
        validate_body("text", body)?;
        sharing.check(&[("reply", body)])?;
        self.item_of_kind(case, Some(Kind::Case))?;
        let item_id = case.clone();
        let id: PostId = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_reply(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: PostKind::Reply,
        })
    }

    /// A case's outcome and status are its author's (every peer's rules
    /// refuse anyone else's change to them).
    fn check_author(&self, case: &DocId) -> Result<()> {
        let row = self.store.item_row(case)?;
        if row.author.to_hex() == self.key.public_hex() {
            return Ok(());
        }
        Err(Denied::NotAuthor {
            author: row.author_name,
        }
        .into())
    }

    /// Records a case's outcome / follow-up (its author's).
    pub fn case_outcome(
        &mut self,
        case: &DocId,
        outcome: &str,
        sharing: Sharing,
    ) -> Result<ItemRow> {
        validate_body("text", outcome)?;
        sharing.check(&[("outcome", outcome)])?;
        self.item_of_kind(case, Some(Kind::Case))?;
        self.check_author(case)?;
        self.edit(case, |d| Ok(d.set_outcome(outcome, now_ms())?))?;
        Ok(self.store.item_row(case)?)
    }

    /// Marks a case resolved, or reopens it.
    pub fn case_status(&mut self, case: &DocId, status: CaseStatus) -> Result<ItemRow> {
        self.item_of_kind(case, Some(Kind::Case))?;
        self.check_author(case)?;
        self.edit(case, |d| Ok(d.set_case_status(status, now_ms())?))?;
        Ok(self.store.item_row(case)?)
    }

    /// Answers a question.
    pub fn answer(&mut self, question: &DocId, body: &str, sharing: Sharing) -> Result<PostRef> {
        validate_body("text", body)?;
        sharing.check(&[("answer", body)])?;
        self.item_of_kind(question, Some(Kind::Question))?;
        let item_id = question.clone();
        let id: PostId = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_answer(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: PostKind::Answer,
        })
    }

    /// Accepts an answer. Only the member who asked the question may.
    pub fn accept(&mut self, answer: &PostId) -> Result<PostRef> {
        let (id, item_id) = self.answer_in(answer)?;
        let me = self.key.id();
        self.edit(&item_id, |d| {
            let q = d.read()?;
            if q.author != me {
                return Err(Denied::NotAsker {
                    asker: q.author_name,
                }
                .into());
            }
            Ok(d.accept_answer(&id, now_ms())?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: PostKind::Answer,
        })
    }

    /// Marks an answer helpful. Returns false if this device already had.
    pub fn helpful(&mut self, answer: &PostId) -> Result<bool> {
        let (id, item_id) = self.answer_in(answer)?;
        self.edit(&item_id, |d| Ok(d.mark_helpful(&id, now_ms())?))
    }

    /// Comments on any item.
    pub fn comment(&mut self, item: &DocId, body: &str, sharing: Sharing) -> Result<PostRef> {
        validate_body("text", body)?;
        sharing.check(&[("comment", body)])?;
        self.item_of_kind(item, None)?;
        let item_id = item.clone();
        let id: PostId = new_id();
        let profile = self.profile.clone();
        self.edit(&item_id, |d| {
            Ok(d.add_comment(&id, &profile, now_ms(), body)?)
        })?;
        Ok(PostRef {
            id,
            item_id,
            kind: PostKind::Comment,
        })
    }
}
