//! Item documents (cases, questions, protocols): creating one, typed edits,
//! and reading one back as a view.

use super::*;

/// Creates the document for a new item. `item` must already be validated.
pub fn new_item_doc(
    actor: ActorId,
    id: &DocId,
    community: &CommunityId,
    author: &MemberProfile,
    now: Millis,
    item: &NewItem,
) -> Result<ItemDoc, SchemaError> {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    let author_hex = device_hex(&actor);
    let r = ROOT;
    doc.put(&r, "schema", SCHEMA)?;
    doc.put(&r, "kind", item.kind().as_str())?;
    doc.put(&r, "id", id.as_str())?;
    doc.put(&r, "community", community.as_str())?;
    doc.put(&r, "title", item.title())?;
    doc.put(&r, "author", author_hex.as_str())?;
    doc.put(&r, "author_name", author.name.as_str())?;
    doc.put(&r, "created_at", now)?;
    doc.put(&r, "updated_at", now)?;
    doc.put_object(&r, "replies", ObjType::List)?;
    doc.put_object(&r, "answers", ObjType::List)?;
    doc.put_object(&r, "comments", ObjType::List)?;
    match item {
        NewItem::Case(c) => {
            put_str_list(&mut doc, &r, "tags", &c.tags)?;
            put_opt(&mut doc, &r, "age_band", c.age_band.map(AgeBand::as_str))?;
            put_opt(&mut doc, &r, "sex", c.sex.map(Sex::as_str))?;
            put_opt(&mut doc, &r, "setting", c.setting.map(Setting::as_str))?;
            doc.put(&r, "status", CaseStatus::Open.as_str())?;
            put_text(&mut doc, &r, "presenting", &c.presenting)?;
            put_text(&mut doc, &r, "history", c.history.as_deref().unwrap_or(""))?;
            put_text(
                &mut doc,
                &r,
                "findings",
                c.findings.as_deref().unwrap_or(""),
            )?;
            put_text(&mut doc, &r, "ask", &c.ask)?;
            put_text(&mut doc, &r, "outcome", "")?;
        }
        NewItem::Question(q) => {
            put_str_list(&mut doc, &r, "tags", &q.tags)?;
            put_text(&mut doc, &r, "body", &q.body)?;
            doc.put(&r, "accepted", ScalarValue::Null)?;
        }
        NewItem::Protocol(p) => {
            put_str_list(&mut doc, &r, "tags", &p.tags)?;
            put_text(&mut doc, &r, "body", &p.body)?;
            doc.put(&r, "status", ProtocolStatus::Draft.as_str())?;
            put_opt(&mut doc, &r, "review_date", p.review_date.as_deref())?;
            put_str_list(&mut doc, &r, "references", &p.references)?;
        }
    }
    commit(&mut doc, &format!("create {}", item.kind()), now);
    Ok(ItemDoc { doc })
}

/// A knowledge item's document with typed edits. Each edit is one Automerge
/// change with a message saying what it did, so history reads naturally.
#[derive(Debug, Clone)]
pub struct ItemDoc {
    doc: AutoCommit,
}

impl ItemDoc {
    /// Wraps a loaded document after checking it is an item of a known kind.
    pub fn new(doc: AutoCommit) -> Result<Self, SchemaError> {
        let kind = req_str(&doc, &ROOT, "kind")?;
        Kind::from_str(&kind).map_err(|_| SchemaError::BadValue {
            field: "kind",
            value: kind,
        })?;
        Ok(Self { doc })
    }

    pub fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn into_automerge(self) -> AutoCommit {
        self.doc
    }

    pub fn kind(&self) -> Result<Kind, SchemaError> {
        let k = req_str(&self.doc, &ROOT, "kind")?;
        Kind::from_str(&k).map_err(|_| SchemaError::BadValue {
            field: "kind",
            value: k,
        })
    }

    fn expect(&self, kind: Kind) -> Result<(), SchemaError> {
        let actual = self.kind()?;
        if actual != kind {
            return Err(SchemaError::WrongKind {
                expected: kind.as_str(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }

    fn touch(&mut self, now: Millis) -> Result<(), AutomergeError> {
        self.doc.put(ROOT, "updated_at", now)
    }

    fn push_post(
        &mut self,
        list: &'static str,
        id: &PostId,
        author: &MemberProfile,
        now: Millis,
        body: &str,
    ) -> Result<(), SchemaError> {
        let list_id = child(&self.doc, &ROOT, list)?;
        let at = self.doc.length(&list_id);
        let post = self.doc.insert_object(&list_id, at, ObjType::Map)?;
        let actor = device_hex(self.doc.get_actor());
        self.doc.put(&post, "id", id.as_str())?;
        self.doc.put(&post, "author", actor.as_str())?;
        self.doc.put(&post, "author_name", author.name.as_str())?;
        self.doc.put(&post, "created_at", now)?;
        put_text(&mut self.doc, &post, "body", body)?;
        if list == "answers" {
            self.doc.put_object(&post, "helpful", ObjType::Map)?;
        }
        self.touch(now)?;
        Ok(())
    }

    /// A reply to a case discussion.
    pub fn add_reply(
        &mut self,
        id: &PostId,
        author: &MemberProfile,
        now: Millis,
        body: &str,
    ) -> Result<(), SchemaError> {
        self.expect(Kind::Case)?;
        self.push_post("replies", id, author, now, body)?;
        commit(&mut self.doc, "reply", now);
        Ok(())
    }

    /// A comment, on any kind of item.
    pub fn add_comment(
        &mut self,
        id: &PostId,
        author: &MemberProfile,
        now: Millis,
        body: &str,
    ) -> Result<(), SchemaError> {
        self.push_post("comments", id, author, now, body)?;
        commit(&mut self.doc, "comment", now);
        Ok(())
    }

    pub fn add_answer(
        &mut self,
        id: &PostId,
        author: &MemberProfile,
        now: Millis,
        body: &str,
    ) -> Result<(), SchemaError> {
        self.expect(Kind::Question)?;
        self.push_post("answers", id, author, now, body)?;
        commit(&mut self.doc, "answer", now);
        Ok(())
    }

    fn answer_obj(&self, answer_id: &PostId) -> Result<ObjId, SchemaError> {
        for obj in list_items(&self.doc, &ROOT, "answers")? {
            if opt_str(&self.doc, &obj, "id").as_deref() == Some(answer_id.as_str()) {
                return Ok(obj);
            }
        }
        Err(SchemaError::NoSuchAnswer(answer_id.to_string()))
    }

    pub fn accept_answer(&mut self, answer_id: &PostId, now: Millis) -> Result<(), SchemaError> {
        self.expect(Kind::Question)?;
        self.answer_obj(answer_id)?;
        self.doc.put(ROOT, "accepted", answer_id.as_str())?;
        self.touch(now)?;
        commit(&mut self.doc, "accept answer", now);
        Ok(())
    }

    /// Marks an answer helpful on behalf of this document's actor. Marks are
    /// a set keyed by actor, so marking twice, or on two devices offline,
    /// counts once.
    pub fn mark_helpful(&mut self, answer_id: &PostId, now: Millis) -> Result<bool, SchemaError> {
        self.expect(Kind::Question)?;
        let answer = self.answer_obj(answer_id)?;
        let helpful = child(&self.doc, &answer, "helpful")?;
        let actor = device_hex(self.doc.get_actor());
        if self.doc.get(&helpful, actor.as_str())?.is_some() {
            return Ok(false);
        }
        self.doc.put(&helpful, actor.as_str(), true)?;
        commit(&mut self.doc, "mark helpful", now);
        Ok(true)
    }

    /// Records the outcome / follow-up of a case (the whole new text, merged
    /// as minimal splices).
    pub fn set_outcome(&mut self, outcome: &str, now: Millis) -> Result<(), SchemaError> {
        self.expect(Kind::Case)?;
        let t = child(&self.doc, &ROOT, "outcome")?;
        self.doc.update_text(&t, outcome)?;
        self.touch(now)?;
        commit(&mut self.doc, "record outcome", now);
        Ok(())
    }

    pub fn set_case_status(
        &mut self,
        status: CaseStatus,
        now: Millis,
    ) -> Result<bool, SchemaError> {
        self.expect(Kind::Case)?;
        if enum_field::<CaseStatus>(&self.doc, &ROOT, "status")? == Some(status) {
            return Ok(false);
        }
        self.doc.put(ROOT, "status", status.as_str())?;
        self.touch(now)?;
        commit(&mut self.doc, &format!("mark {status}"), now);
        Ok(true)
    }

    /// Replaces a protocol's body with `body`, as the minimal set of splices,
    /// so a concurrent edit elsewhere in the text survives the merge.
    pub fn set_protocol_body(&mut self, body: &str, now: Millis) -> Result<bool, SchemaError> {
        self.expect(Kind::Protocol)?;
        let t = child(&self.doc, &ROOT, "body")?;
        if self.doc.text(&t)? == body {
            return Ok(false);
        }
        self.doc.update_text(&t, body)?;
        self.touch(now)?;
        commit(&mut self.doc, "edit body", now);
        Ok(true)
    }

    /// Saves an editor's text that was derived from the body as it stood at
    /// `base` (heads the editor loaded or last saved). The edit is made on a
    /// fork at `base` and merged, so changes other members made since then
    /// are kept rather than overwritten. Returns the heads of the edit
    /// itself, whose body is exactly `body`: an editor whose user kept
    /// typing while this was saved continues from there.
    pub fn set_protocol_body_from(
        &mut self,
        base: &[automerge::ChangeHash],
        body: &str,
        now: Millis,
    ) -> Result<Vec<automerge::ChangeHash>, SchemaError> {
        self.expect(Kind::Protocol)?;
        let t = child(&self.doc, &ROOT, "body")?;
        if self.doc.text_at(&t, base)? == body {
            return Ok(base.to_vec());
        }
        let mut fork = self.doc.fork_at(base)?;
        // Same actor: the fork's change is this member's, and `base` holds
        // every earlier change of this actor (it is the editor's latest save).
        fork.set_actor(self.doc.get_actor().clone());
        fork.update_text(&t, body)?;
        let mut forked = ItemDoc { doc: fork };
        forked.touch(now)?;
        commit(&mut forked.doc, "edit body", now);
        let mine = forked.doc.get_heads();
        self.doc.merge(&mut forked.doc)?;
        Ok(mine)
    }

    pub fn set_protocol_status(
        &mut self,
        status: ProtocolStatus,
        now: Millis,
    ) -> Result<bool, SchemaError> {
        self.expect(Kind::Protocol)?;
        if enum_field::<ProtocolStatus>(&self.doc, &ROOT, "status")? == Some(status) {
            return Ok(false);
        }
        self.doc.put(ROOT, "status", status.as_str())?;
        self.touch(now)?;
        commit(&mut self.doc, &format!("mark {status}"), now);
        Ok(true)
    }

    pub fn set_review_date(&mut self, date: Option<&str>, now: Millis) -> Result<(), SchemaError> {
        self.expect(Kind::Protocol)?;
        put_opt(&mut self.doc, &ROOT, "review_date", date)?;
        self.touch(now)?;
        commit(&mut self.doc, "set review date", now);
        Ok(())
    }

    pub fn add_reference(&mut self, reference: &str, now: Millis) -> Result<(), SchemaError> {
        self.expect(Kind::Protocol)?;
        let list = child(&self.doc, &ROOT, "references")?;
        let at = self.doc.length(&list);
        self.doc.insert(&list, at, reference)?;
        self.touch(now)?;
        commit(&mut self.doc, "add reference", now);
        Ok(())
    }

    /// Materializes the whole item.
    pub fn read(&self) -> Result<Item, SchemaError> {
        read_item(&self.doc)
    }
}

/// Materializes an item from any document (checking its shape on the way).
pub fn read_item(d: &AutoCommit) -> Result<Item, SchemaError> {
    let r = ROOT;
    let k = req_str(d, &r, "kind")?;
    let kind = Kind::from_str(&k).map_err(|_| SchemaError::BadValue {
        field: "kind",
        value: k,
    })?;
    let accepted: Option<PostId> = opt_str(d, &r, "accepted").and_then(|a| a.parse().ok());
    let posts = |key: &'static str| -> Result<Vec<Post>, SchemaError> {
        list_items(d, &r, key)?
            .iter()
            .map(|o| read_post(d, o))
            .collect()
    };
    let mut answers = Vec::new();
    for obj in list_items(d, &r, "answers")? {
        let post = read_post(d, &obj)?;
        let helpful = match child(d, &obj, "helpful") {
            Ok(h) => d.keys(&h).filter_map(|k| k.parse().ok()).collect(),
            Err(_) => Vec::new(),
        };
        let accepted = accepted.as_ref() == Some(&post.id);
        answers.push(Answer {
            post,
            helpful,
            accepted,
        });
    }
    let status_err = |field: &'static str| SchemaError::Missing(field);
    Ok(Item {
        id: req_id(d, &r, "id")?,
        kind,
        community: req_id(d, &r, "community")?,
        title: req_str(d, &r, "title")?,
        author: req_id(d, &r, "author")?,
        author_name: opt_str(d, &r, "author_name").unwrap_or_default(),
        created_at: int(d, &r, "created_at")?,
        updated_at: max_int(d, &r, "updated_at")?,
        tags: str_list(d, &r, "tags")?,
        case: match kind {
            Kind::Case => Some(CaseFields {
                age_band: enum_field(d, &r, "age_band")?,
                sex: enum_field(d, &r, "sex")?,
                setting: enum_field(d, &r, "setting")?,
                presenting: text(d, &r, "presenting")?,
                history: text(d, &r, "history")?,
                findings: text(d, &r, "findings")?,
                ask: text(d, &r, "ask")?,
                outcome: text(d, &r, "outcome")?,
                status: enum_field(d, &r, "status")?.ok_or_else(|| status_err("status"))?,
            }),
            _ => None,
        },
        question: match kind {
            Kind::Question => Some(QuestionFields {
                body: text(d, &r, "body")?,
                accepted_answer: accepted.clone(),
            }),
            _ => None,
        },
        protocol: match kind {
            Kind::Protocol => Some(ProtocolFields {
                body: text(d, &r, "body")?,
                status: enum_field(d, &r, "status")?.ok_or_else(|| status_err("status"))?,
                review_date: opt_str(d, &r, "review_date"),
                references: str_list(d, &r, "references")?,
            }),
            _ => None,
        },
        replies: posts("replies")?,
        answers,
        comments: posts("comments")?,
    })
}
