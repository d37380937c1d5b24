//! The Automerge layout of Outpost documents, and typed edits on them.
//!
//! Layout of an item document (root map):
//!
//! ```text
//! schema: 1            kind: "case"|"question"|"protocol"
//! id, community, title, author, author_name: str
//! created_at, updated_at: int (ms)     tags: [str]
//! case fields      age_band, sex, setting, status: str
//!                  presenting, history, findings, ask, outcome: Text
//! question fields  body: Text, accepted: str (answer id)
//! protocol fields  body: Text, status, review_date: str, references: [str]
//! replies, answers, comments: [{id, author, author_name, created_at, body: Text,
//!                               helpful: {actor_hex: true}  (answers only)}]
//! ```
//!
//! Every collection is created when the document is created, by its one
//! author, so concurrent edits never race to create the same object.
//! Collaborative prose is Automerge `Text`; short fields are last-writer-wins.

use crate::Millis;
use crate::ids::{CommunityId, DocId, PostId};
use crate::types::{
    AgeBand, CaseStatus, Kind, MemberProfile, NewCommunity, NewItem, ProtocolStatus, Role, Setting,
    Sex,
};
use crate::view::{
    Answer, CaseFields, Community, HistoryEntry, Item, Member, Post, ProtocolFields, QuestionFields,
};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, AutoCommit, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use std::str::FromStr;

mod community;
mod item;

pub use community::{CommunityDoc, new_community_doc, read_community};
pub use item::{ItemDoc, new_item_doc, read_item};

const SCHEMA: i64 = 1;

/// A document that does not have the shape this version of Outpost expects,
/// or an edit that does not apply to it.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("document is missing field '{0}'")]
    Missing(&'static str),
    #[error("document field '{field}' has an unexpected value '{value}'")]
    BadValue { field: &'static str, value: String },
    #[error("this is a {actual}, not a {expected}")]
    WrongKind {
        expected: &'static str,
        actual: String,
    },
    #[error("no answer {0} on this question")]
    NoSuchAnswer(String),
    #[error("automerge: {0}")]
    Automerge(Box<AutomergeError>),
}

impl From<AutomergeError> for SchemaError {
    fn from(e: AutomergeError) -> Self {
        SchemaError::Automerge(Box::new(e))
    }
}

/// Bytes of an actor id: a device's ed25519 public key, then a nonce.
pub const ACTOR_LEN: usize = 40;

/// Automerge actor id for one opening of a device's home: its ed25519
/// public key (so every change names the device that made it, and its
/// signature can be checked against that key) followed by `nonce`, fresh
/// for each opening, so a home restored from an old copy never reuses an
/// (actor, seq) it already signed.
pub fn device_actor(public_key: &[u8; 32], nonce: [u8; 8]) -> ActorId {
    let mut bytes = [0u8; ACTOR_LEN];
    bytes[..32].copy_from_slice(public_key);
    bytes[32..].copy_from_slice(&nonce);
    ActorId::from(bytes.as_slice())
}

/// The device an actor id belongs to ([`device_actor`]); None for an actor
/// id of another shape (no Outpost device made it).
pub fn device_of(actor: &ActorId) -> Option<crate::DeviceId> {
    let bytes: [u8; 32] = actor.to_bytes().get(..32)?.try_into().ok()?;
    (actor.to_bytes().len() == ACTOR_LEN).then(|| crate::DeviceId::from_bytes(bytes))
}

/// The device id, as hex, that fields like `author` record for this
/// document's actor (the actor's own hex if it is not a device's).
fn device_hex(actor: &ActorId) -> String {
    device_of(actor).map_or_else(|| actor.to_hex_string(), |d| d.to_hex())
}

fn commit(doc: &mut AutoCommit, message: &str, now: Millis) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(now / 1000),
    );
}

fn put_text(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    text: &str,
) -> Result<(), AutomergeError> {
    let t = doc.put_object(obj, key, ObjType::Text)?;
    if !text.is_empty() {
        doc.splice_text(&t, 0, 0, text)?;
    }
    Ok(())
}

fn put_str_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    items: &[String],
) -> Result<(), AutomergeError> {
    let list = doc.put_object(obj, key, ObjType::List)?;
    for (i, s) in items.iter().enumerate() {
        doc.insert(&list, i, s.as_str())?;
    }
    Ok(())
}

fn put_opt(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    v: Option<&str>,
) -> Result<(), AutomergeError> {
    match v {
        Some(v) => doc.put(obj, key, v),
        None => doc.put(obj, key, ScalarValue::Null),
    }
}

// ---------------------------------------------------------------- reading

fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
        _ => None,
    }
}

fn opt_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match scalar(doc, obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn req_str(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<String, SchemaError> {
    opt_str(doc, obj, key).ok_or(SchemaError::Missing(key))
}

/// A required id field, checked for form.
fn req_id<T: FromStr>(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<T, SchemaError> {
    let s = req_str(doc, obj, key)?;
    s.parse().map_err(|_| SchemaError::BadValue {
        field: key,
        value: s.chars().take(80).collect(),
    })
}

fn int(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<i64, SchemaError> {
    match scalar(doc, obj, key) {
        Some(ScalarValue::Int(i)) => Ok(i),
        Some(ScalarValue::Uint(u)) => Ok(i64::try_from(u).unwrap_or(i64::MAX)),
        Some(ScalarValue::Timestamp(t)) => Ok(t),
        _ => Err(SchemaError::Missing(key)),
    }
}

/// The largest of all concurrently written values: `updated_at` merges as a max.
fn max_int(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<i64, SchemaError> {
    let all = doc.get_all(obj, key)?;
    all.into_iter()
        .filter_map(|(v, _)| match v {
            Value::Scalar(s) => s.as_i64(),
            _ => None,
        })
        .max()
        .ok_or(SchemaError::Missing(key))
}

fn child(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<ObjId, SchemaError> {
    match doc.get(obj, key)? {
        Some((Value::Object(_), id)) => Ok(id),
        _ => Err(SchemaError::Missing(key)),
    }
}

fn text(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<String, SchemaError> {
    match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Text), id)) => Ok(doc.text(&id)?),
        Some((Value::Scalar(s), _)) => Ok(s.as_str().unwrap_or_default().to_string()),
        _ => Err(SchemaError::Missing(key)),
    }
}

fn enum_field<T: FromStr>(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &'static str,
) -> Result<Option<T>, SchemaError> {
    match opt_str(doc, obj, key) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| SchemaError::BadValue {
            field: key,
            value: s,
        }),
    }
}

fn str_list(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<Vec<String>, SchemaError> {
    let list = child(doc, obj, key)?;
    Ok(doc
        .values(&list)
        .filter_map(|(v, _)| match v {
            Value::Scalar(s) => s.as_str().map(str::to_string),
            _ => None,
        })
        .collect())
}

fn list_items(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<Vec<ObjId>, SchemaError> {
    let list = child(doc, obj, key)?;
    Ok(doc
        .values(&list)
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect())
}

fn read_post(doc: &AutoCommit, obj: &ObjId) -> Result<Post, SchemaError> {
    Ok(Post {
        id: req_id(doc, obj, "id")?,
        author: req_id(doc, obj, "author")?,
        author_name: opt_str(doc, obj, "author_name").unwrap_or_default(),
        created_at: int(doc, obj, "created_at")?,
        body: text(doc, obj, "body")?,
    })
}

// ---------------------------------------------------------------- items

/// Who changed what, when: one entry per Automerge change, oldest first.
pub fn history(doc: &mut AutoCommit) -> Vec<HistoryEntry> {
    let mut out: Vec<HistoryEntry> = doc
        .get_changes_meta(&[])
        .into_iter()
        .map(|c| HistoryEntry {
            hash: c.hash.to_string(),
            actor: device_hex(&c.actor),
            time: c.timestamp,
            message: c.message.map(|m| m.into_owned()).unwrap_or_default(),
        })
        .collect();
    // Changes come in causal order; a stable sort by time keeps that order
    // among changes made in the same second.
    out.sort_by_key(|e| e.time);
    out
}
