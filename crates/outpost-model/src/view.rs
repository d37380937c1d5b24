//! Read-only views materialized from documents. These are what lists,
//! `show`, search indexing and the UI consume.

use crate::Millis;
use crate::ids::{CommunityId, DeviceId, DocId, PostId};
use crate::types::{
    AgeBand, CaseStatus, ItemStatus, Kind, PostKind, ProtocolStatus, QuestionStatus, Role, Setting,
    Sex,
};
use serde::Serialize;

/// A reply, answer or comment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Post {
    pub id: PostId,
    pub author: DeviceId,
    pub author_name: String,
    pub created_at: Millis,
    pub body: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    #[serde(flatten)]
    pub post: Post,
    /// Actor ids (hex) of the members who marked this answer helpful.
    pub helpful: Vec<DeviceId>,
    pub accepted: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseFields {
    pub age_band: Option<AgeBand>,
    pub sex: Option<Sex>,
    pub setting: Option<Setting>,
    pub presenting: String,
    pub history: String,
    pub findings: String,
    pub ask: String,
    pub outcome: String,
    pub status: CaseStatus,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionFields {
    pub body: String,
    pub accepted_answer: Option<PostId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolFields {
    pub body: String,
    pub status: ProtocolStatus,
    pub review_date: Option<String>,
    pub references: Vec<String>,
}

/// One knowledge item, fully materialized.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: DocId,
    pub kind: Kind,
    pub community: CommunityId,
    pub title: String,
    pub author: DeviceId,
    pub author_name: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub case: Option<CaseFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub question: Option<QuestionFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub protocol: Option<ProtocolFields>,
    pub replies: Vec<Post>,
    pub answers: Vec<Answer>,
    pub comments: Vec<Post>,
}

impl Item {
    /// The status shown in lists: open/resolved, draft/endorsed/superseded,
    /// or answered/unanswered.
    pub fn status(&self) -> ItemStatus {
        if let Some(c) = &self.case {
            return ItemStatus::Case(c.status);
        }
        if let Some(p) = &self.protocol {
            return ItemStatus::Protocol(p.status);
        }
        ItemStatus::Question(match &self.question {
            Some(q) if q.accepted_answer.is_some() => QuestionStatus::Accepted,
            _ if !self.answers.is_empty() => QuestionStatus::Answered,
            _ => QuestionStatus::Unanswered,
        })
    }

    /// The main text, for search: everything the author wrote except the title.
    pub fn body_text(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(c) = &self.case {
            parts.extend([
                c.presenting.as_str(),
                c.history.as_str(),
                c.findings.as_str(),
                c.ask.as_str(),
                c.outcome.as_str(),
            ]);
        }
        if let Some(q) = &self.question {
            parts.push(&q.body);
        }
        if let Some(p) = &self.protocol {
            parts.push(&p.body);
            parts.extend(p.references.iter().map(String::as_str));
        }
        join(parts)
    }

    /// What others wrote in reply: replies, answers and comments.
    pub fn discussion_text(&self) -> String {
        let parts = self
            .replies
            .iter()
            .chain(self.answers.iter().map(|a| &a.post))
            .chain(self.comments.iter())
            .map(|p| p.body.as_str());
        join(parts)
    }

    /// Ids of the replies, answers and comments, with their kind.
    pub fn sub_ids(&self) -> impl Iterator<Item = (&str, PostKind)> {
        self.replies
            .iter()
            .map(|p| (p.id.as_str(), PostKind::Reply))
            .chain(
                self.answers
                    .iter()
                    .map(|a| (a.post.id.as_str(), PostKind::Answer)),
            )
            .chain(
                self.comments
                    .iter()
                    .map(|p| (p.id.as_str(), PostKind::Comment)),
            )
    }

    /// Number of replies, answers and comments.
    pub fn response_count(&self) -> usize {
        self.replies.len() + self.answers.len() + self.comments.len()
    }
}

fn join<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(p);
    }
    out
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: DeviceId,
    pub name: String,
    pub profession: Option<String>,
    pub region: Option<String>,
    pub expertise: Vec<String>,
    pub role: Role,
    pub joined_at: Millis,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Community {
    pub id: CommunityId,
    pub name: String,
    pub domain: String,
    pub charter: String,
    pub created_by: DeviceId,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Profiles members published. Who *is* a member, and with which role,
    /// is decided by the signed membership log (see
    /// `outpost_sync::membership`).
    pub members: Vec<Member>,
}

/// One change in an item's history: who, when, what.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub hash: String,
    pub actor: String,
    /// Unix seconds, as recorded by the author's clock.
    pub time: i64,
    pub message: String,
}
