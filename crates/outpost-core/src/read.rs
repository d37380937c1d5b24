//! Reading: lists, search, one item in full, its history, and resolving
//! the ids (or unique prefixes) users type. Nothing here writes.

use crate::{CoreError, Outpost, Result, TargetKind};
use outpost_model::{HistoryEntry, Item, ItemDoc, ItemStatus, Kind};
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
    /// Resolves an item id (or unique prefix), checking its kind if given.
    pub fn resolve_item(&self, id: &str, kind: Option<Kind>) -> Result<(String, Kind)> {
        let target = self.store.resolve(id)?;
        let expected = kind.map_or(TargetKind::Item, TargetKind::from);
        let Target::Item { id: full, kind: k } = target else {
            return Err(wrong(id, expected, &target));
        };
        if kind.is_some_and(|want| want != k) {
            return Err(wrong(id, expected, &Target::Item { id: full, kind: k }));
        }
        Ok((full, k))
    }

    pub(crate) fn resolve_answer(&self, id: &str) -> Result<(String, String)> {
        match self.store.resolve(id)? {
            Target::Sub {
                id,
                item_id,
                kind: outpost_model::PostKind::Answer,
            } => Ok((id, item_id)),
            other => Err(wrong(id, TargetKind::Answer, &other)),
        }
    }

    /// Items newest first, filtered.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ItemRow>> {
        let filter = self.resolve_filter(filter)?;
        Ok(self.store.list(&filter)?)
    }

    /// Full-text search, best match first. A query with no word in it is
    /// refused (`bad_query`); the desktop's search box does not ask then.
    pub fn search(&self, query: &str, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        let filter = self.resolve_filter(filter)?;
        Ok(self.store.search(query, &filter)?)
    }

    fn resolve_filter(&self, filter: &ListFilter) -> Result<ListFilter> {
        let mut f = filter.clone();
        if let Some(c) = &filter.community {
            f.community = Some(self.resolve_community(c)?);
        }
        Ok(f)
    }

    /// An item with its replies, answers and comments.
    pub fn show(&self, id: &str) -> Result<ItemDetail> {
        let (id, _) = self.resolve_item(id, None)?;
        let mut doc = self.store.load(&id)?;
        let heads = doc.get_heads().iter().map(|h| h.to_string()).collect();
        let item = ItemDoc::new(doc)?.read()?;
        let community_name = self
            .community(&item.community)
            .map(|c| c.name)
            .unwrap_or_default();
        let status = item.status();
        let synced = self.store.is_synced(&id)?;
        Ok(ItemDetail {
            item,
            community_name,
            status,
            synced,
            heads,
        })
    }

    /// Who changed what, when, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryLine>> {
        let (id, _) = self.resolve_item(id, None)?;
        let mut doc = self.store.load(&id)?;
        let item = ItemDoc::new(doc.clone())?.read()?;
        let members = self
            .community(&item.community)
            .map(|c| c.members)
            .unwrap_or_default();
        let mut names: std::collections::HashMap<String, String> =
            members.into_iter().map(|m| (m.id, m.name)).collect();
        for p in item
            .replies
            .iter()
            .chain(item.comments.iter())
            .chain(item.answers.iter().map(|a| &a.post))
        {
            names
                .entry(p.author.clone())
                .or_insert_with(|| p.author_name.clone());
        }
        names.entry(item.author.clone()).or_insert(item.author_name);
        Ok(outpost_model::history(&mut doc)
            .into_iter()
            .map(|entry| {
                let author_name = names
                    .get(&entry.actor)
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
