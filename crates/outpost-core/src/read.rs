//! Reading: lists, search, one item in full, its history, and resolving
//! the ids (or unique prefixes) users type. Nothing here writes.

use crate::{CoreError, Outpost, Result, TargetKind};
use outpost_model::{DeviceId, DocId, HistoryEntry, Item, ItemDoc, ItemStatus, Kind, PostId};
use outpost_store::{ItemRow, ListFilter, SearchHit, Target};
use serde::Serialize;

/// An item with everything `show` displays.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    /// The item as its document holds it.
    #[serde(flatten)]
    pub item: Item,
    /// The name of its community.
    pub community_name: String,
    /// Its status.
    pub status: ItemStatus,
    /// Every change held here has reached at least one other member.
    pub synced: bool,
    /// The document's heads (hex) as read: an editor's base for
    /// [`Outpost::protocol_save`].
    pub heads: Vec<String>,
    /// Those of the item's author and posters who have been removed from
    /// the community (what they wrote stays, marked as theirs).
    pub left: Vec<DeviceId>,
}

/// A history entry with the author's display name resolved.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct HistoryLine {
    /// The change.
    #[serde(flatten)]
    pub entry: HistoryEntry,
    /// Who made it, by display name.
    pub author_name: String,
}

impl Outpost {
    /// Resolves what a user typed (an item id or a unique prefix of one)
    /// to the item's id and kind, checking the kind if one is wanted.
    /// Front ends call this once, where the text comes in.
    pub fn resolve_item(&self, text: &str, kind: Option<Kind>) -> Result<(DocId, Kind)> {
        let target = self.store.resolve(text)?;
        let expected = kind.map_or(TargetKind::Item, TargetKind::from);
        let Target::Item { id: full, kind: k } = target else {
            return Err(wrong(text, expected, &target));
        };
        if kind.is_some_and(|want| want != k) {
            return Err(wrong(text, expected, &Target::Item { id: full, kind: k }));
        }
        Ok((full, k))
    }

    /// Resolves what a user typed (an answer id or a unique prefix) to
    /// the answer's id.
    pub fn resolve_answer(&self, text: &str) -> Result<PostId> {
        self.answer_in(text).map(|(id, _)| id)
    }

    /// An answer and the question it answers.
    pub(crate) fn answer_in(&self, text: &str) -> Result<(PostId, DocId)> {
        match self.store.resolve(text)? {
            Target::Sub {
                id,
                item_id,
                kind: outpost_model::PostKind::Answer,
            } => Ok((id, item_id)),
            other => Err(wrong(text, TargetKind::Answer, &other)),
        }
    }

    /// An item's kind, checked against the one an operation needs.
    pub(crate) fn item_of_kind(&self, id: &DocId, kind: Option<Kind>) -> Result<Kind> {
        self.resolve_item(id, kind).map(|(_, k)| k)
    }

    /// Items newest first, filtered.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ItemRow>> {
        Ok(self.store.list(filter)?)
    }

    /// Full-text search, best match first. A query with no word in it is
    /// refused (`bad_query`); the desktop's search box does not ask then.
    pub fn search(&self, query: &str, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        Ok(self.store.search(query, filter)?)
    }

    /// An item with its replies, answers and comments.
    pub fn show(&self, id: &DocId) -> Result<ItemDetail> {
        let mut doc = self.store.load(id)?;
        let heads = doc.get_heads().iter().map(|h| h.to_string()).collect();
        let item = ItemDoc::new(doc)?.read()?;
        let community_name = self
            .community(&item.community)
            .map(|c| c.name)
            .unwrap_or_default();
        let status = item.status();
        let synced = self.store.is_synced(id)?;
        let mut left: Vec<DeviceId> = Vec::new();
        let authors = std::iter::once(&item.author).chain(
            item.replies
                .iter()
                .chain(item.comments.iter())
                .chain(item.answers.iter().map(|a| &a.post))
                .map(|p| &p.author),
        );
        for a in authors {
            if !left.contains(a) && self.store.was_removed(&item.community, &a.to_hex())? {
                left.push(*a);
            }
        }
        Ok(ItemDetail {
            item,
            community_name,
            status,
            synced,
            heads,
            left,
        })
    }

    /// Who changed what, when, oldest first.
    pub fn history(&self, id: &DocId) -> Result<Vec<HistoryLine>> {
        let mut doc = self.store.load(id)?;
        let item = ItemDoc::new(doc.clone())?.read()?;
        let members = self
            .community(&item.community)
            .map(|c| c.members)
            .unwrap_or_default();
        let mut names: std::collections::HashMap<DeviceId, String> =
            members.into_iter().map(|m| (m.id, m.name)).collect();
        for p in item
            .replies
            .iter()
            .chain(item.comments.iter())
            .chain(item.answers.iter().map(|a| &a.post))
        {
            names
                .entry(p.author)
                .or_insert_with(|| p.author_name.clone());
        }
        names.entry(item.author).or_insert(item.author_name);
        Ok(outpost_model::history(&mut doc)
            .into_iter()
            .map(|entry| {
                let author_name = DeviceId::parse(&entry.actor)
                    .ok()
                    .and_then(|a| names.get(&a))
                    .cloned()
                    .unwrap_or_else(|| entry.actor.chars().take(8).collect());
                HistoryLine { entry, author_name }
            })
            .collect())
    }
}

pub(crate) fn wrong(id: &str, expected: TargetKind, target: &Target) -> CoreError {
    let actual = match target {
        Target::Community(_) => TargetKind::Community,
        Target::Item { kind, .. } => (*kind).into(),
        Target::Sub { kind, .. } => (*kind).into(),
    };
    CoreError::WrongTarget {
        id: id.to_string(),
        expected,
        actual,
    }
}
