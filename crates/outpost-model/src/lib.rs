//! Outpost's domain model: communities, case discussions, questions and
//! protocols, their validation rules, and how each is laid out as an
//! Automerge document.
//!
//! This crate does no I/O. Callers pass in ids, actors and clocks; functions
//! return documents, views and errors. That keeps every rule testable byte
//! for byte and lets the store, the sync engine and the UI share one schema.

mod doc;
mod ids;
mod types;
mod view;

pub use doc::{
    ACTOR_LEN, CommunityDoc, ItemDoc, SchemaError, device_actor, device_of, history,
    new_community_doc, new_item_doc, read_community, read_item,
};
pub use ids::{BadId, CommunityId, DeviceId, DocId, MAX_ID_LEN, PostId, is_valid_id};
pub use types::{
    AgeBand, CaseStatus, ItemStatus, Kind, MemberProfile, NewCase, NewCommunity, NewItem,
    NewProtocol, NewQuestion, PostKind, Problem, ProtocolStatus, QuestionStatus, Role, Setting,
    Sex, ValidationError, limits, normalize_tags, validate_body, validate_protocol_body,
    validate_review_date,
};
pub use view::{
    Answer, CaseFields, Community, HistoryEntry, Item, Member, Post, ProtocolFields, QuestionFields,
};

/// Milliseconds since the Unix epoch, the unit of every time stored in a document.
pub type Millis = i64;
