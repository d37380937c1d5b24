//! Materialized rows (lists), FTS5 rows (search) and the queries over them.
//! Nothing here loads an Automerge document except `reindex`, which is handed
//! the one document that just changed.

use crate::{Cached, Result, Store, StoreError};
use automerge::AutoCommit;
use outpost_model::{
    CommunityId, DeviceId, DocId, ItemStatus, Kind, SchemaError, read_community, read_item,
};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

/// At most this many of a query's matches (the newest) are ranked.
pub const RANK_CANDIDATES: usize = 20_000;
/// While the last word is only one or two letters long (someone is still
/// typing it), its prefix matches most of the store; it is ranked among its
/// newest this-many matches, and the next keystroke narrows it anyway.
pub const SHORT_PREFIX_CANDIDATES: usize = 2_000;

/// Marks around matched words in search snippets.
pub const SNIPPET_START: &str = "«";
pub const SNIPPET_END: &str = "»";

/// One row of a list view.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRow {
    pub id: DocId,
    pub kind: Kind,
    pub community: CommunityId,
    pub title: String,
    pub status: ItemStatus,
    pub author: DeviceId,
    pub author_name: String,
    pub tags: Vec<String>,
    /// Replies, answers and comments.
    pub responses: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Every change held here has reached at least one other member.
    pub synced: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub item: ItemRow,
    /// A short excerpt with matches between `SNIPPET_START` and `SNIPPET_END`.
    pub snippet: String,
    /// bm25 score: lower is better.
    pub score: f64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityRow {
    pub id: CommunityId,
    pub name: String,
    pub domain: String,
    pub members: i64,
    pub items: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ListFilter {
    pub community: Option<CommunityId>,
    pub kind: Option<Kind>,
    /// Only items with this status (which also implies its kind).
    pub status: Option<ItemStatus>,
    pub tag: Option<String>,
    pub limit: Option<usize>,
}

impl ListFilter {
    fn where_clause(&self, params: &mut Vec<Value>) -> String {
        let mut conds = Vec::new();
        if let Some(c) = &self.community {
            params.push(Value::Text(c.to_string()));
            conds.push(format!("i.community_id = ?{}", params.len()));
        }
        if let Some(k) = self.kind {
            params.push(Value::Text(k.as_str().into()));
            conds.push(format!("i.kind = ?{}", params.len()));
        }
        if let Some(s) = self.status {
            params.push(Value::Text(s.kind().as_str().into()));
            conds.push(format!("i.kind = ?{}", params.len()));
            params.push(Value::Text(s.as_str().into()));
            conds.push(format!("i.status = ?{}", params.len()));
        }
        if let Some(t) = &self.tag {
            params.push(Value::Text(format!("% {} %", t.trim().to_lowercase())));
            conds.push(format!("i.tags LIKE ?{}", params.len()));
        }
        conds.iter().map(|c| format!(" AND {c}")).collect()
    }

    fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).min(10_000) as i64
    }
}

const ROW_COLUMNS: &str = "i.id, i.kind, i.community_id, i.title, i.status, i.author, i.author_name, i.tags, i.responses, i.created_at, i.updated_at,
    COALESCE((SELECT d.synced_heads = d.heads FROM docs d WHERE d.id = i.id), 0)";

/// A text column holding one of a typed set of words, or an id.
pub(crate) fn parsed<T, E: std::error::Error + Send + Sync + 'static>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    let tags: String = r.get(7)?;
    let kind: Kind = parsed(r, 1, str::parse)?;
    Ok(ItemRow {
        id: parsed(r, 0, str::parse)?,
        kind,
        community: parsed(r, 2, str::parse)?,
        title: r.get(3)?,
        status: parsed(r, 4, |s| ItemStatus::parse(kind, s))?,
        author: parsed(r, 5, str::parse)?,
        author_name: r.get(6)?,
        tags: tags.split_whitespace().map(str::to_string).collect(),
        responses: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        synced: r.get(11)?,
    })
}

/// The kind of a document received from a peer, if it is one Outpost knows.
pub(crate) fn kind_of(doc: &AutoCommit) -> Option<String> {
    if read_community(doc).is_ok() {
        return Some("community".into());
    }
    read_item(doc).ok().map(|i| i.kind.as_str().to_string())
}

/// Whether a document received for `community` is a well-formed `kind`
/// document of it, named `id`.
pub(crate) fn belongs(doc: &AutoCommit, id: &str, kind: &str, community: &str) -> bool {
    if kind == "community" {
        return id == community && read_community(doc).is_ok_and(|c| c.id == id);
    }
    read_item(doc).is_ok_and(|i| i.id == id && i.community == community && i.kind.as_str() == kind)
}

/// Rebuilds the rows derived from one document; returns its community.
pub(crate) fn reindex(tx: &Connection, id: &str, kind: &str, doc: &AutoCommit) -> Result<String> {
    let schema = |source: SchemaError| StoreError::Schema {
        id: id.to_string(),
        source: Box::new(source),
    };
    if kind == "community" {
        let c = read_community(doc).map_err(schema)?;
        tx.exec(
            "INSERT INTO communities(id, name, domain, members, created_at, updated_at)
             VALUES (?1, ?2, ?3,
                (SELECT COUNT(*) FROM members WHERE community_id = ?1 AND role != 'removed'),
                ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, domain = excluded.domain,
                members = excluded.members, updated_at = excluded.updated_at",
            params![c.id.as_str(), c.name, c.domain, c.created_at, c.updated_at],
        )?;
        return Ok(c.id.into());
    }
    let item = read_item(doc).map_err(schema)?;
    if item.id != id {
        return Err(StoreError::Corrupt(format!(
            "document {id} calls itself {}",
            item.id
        )));
    }
    let tags = format!(" {} ", item.tags.join(" "));
    let (body, discussion) = (item.body_text(), item.discussion_text());
    let text = crate::snippet::pack(&body, &discussion);
    let rid: i64 = tx.row(
        "INSERT INTO items(id, community_id, kind, title, status, author, author_name, tags, responses, created_at, updated_at, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, status = excluded.status, tags = excluded.tags,
            responses = excluded.responses, updated_at = excluded.updated_at, text = excluded.text
         RETURNING rid",
        params![
            item.id.as_str(),
            item.community.as_str(),
            item.kind.as_str(),
            item.title,
            item.status().as_str(),
            item.author.to_string(),
            item.author_name,
            tags,
            item.response_count() as i64,
            item.created_at,
            item.updated_at,
            text
        ],
        |r| r.get(0),
    )?;
    tx.exec("DELETE FROM fts WHERE rowid = ?1", [rid])?;
    tx.exec(
        "INSERT INTO fts(rowid, title, body, discussion, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            rid,
            item.title,
            item.body_text(),
            item.discussion_text(),
            item.tags.join(" ")
        ],
    )?;
    tx.exec("DELETE FROM subitems WHERE item_id = ?1", [id])?;
    let mut st = tx
        .prepare_cached("INSERT OR REPLACE INTO subitems(id, item_id, kind) VALUES (?1, ?2, ?3)")?;
    for (sub, kind) in item.sub_ids() {
        st.execute(params![sub, id, kind.as_str()])?;
    }
    Ok(item.community.into())
}

/// Turns what a user typed into a safe FTS5 query: every word quoted (so
/// punctuation and FTS operators are plain text), all words required, the
/// last one as a prefix so results follow typing.
pub fn fts_query(input: &str) -> Result<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    if words.is_empty() {
        return Err(StoreError::BadQuery(
            "type at least one word to search for".into(),
        ));
    }
    let mut q = words.join(" ");
    if !input.ends_with(char::is_whitespace) {
        q.push('*');
    }
    Ok(q)
}

impl Store {
    /// Newest-first list of items; reads only index rows.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ItemRow>> {
        let mut p = Vec::new();
        let cond = filter.where_clause(&mut p);
        p.push(Value::Integer(filter.limit()));
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM items i WHERE 1 = 1{cond} ORDER BY i.updated_at DESC, i.rid DESC LIMIT ?{}",
            p.len()
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(params_from_iter(p), row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn item_row(&self, id: &str) -> Result<ItemRow> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM items i WHERE i.id = ?1");
        self.conn.row(&sql, [id], row).map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(id.to_string()),
            e => e.into(),
        })
    }

    /// Full-text search, best match first (bm25; a title match outweighs a
    /// match in the body, which outweighs one in the discussion).
    ///
    /// Two steps: rank on the FTS index alone (FTS5's fast `ORDER BY rank`
    /// path), then fetch rows and snippets for the top hits only, so a
    /// common word matching half the store costs little more than a rare one.
    pub fn search(&self, query: &str, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        let fts = fts_query(query)?;
        let mut p = vec![Value::Text(fts.clone())];
        let cond = filter.where_clause(&mut p);
        p.push(Value::Integer(filter.limit().min(200)));
        let short_prefix = !query.ends_with(char::is_whitespace)
            && query
                .split(|c: char| !c.is_alphanumeric())
                .rfind(|w| !w.is_empty())
                .is_some_and(|w| w.chars().count() <= 2);
        let sql = if short_prefix {
            format!(
                "SELECT rowid, r FROM (SELECT fts.rowid AS rowid, fts.rank AS r FROM fts
                                       JOIN items i ON i.rid = fts.rowid
                                       WHERE fts MATCH ?1{cond}
                                       ORDER BY fts.rowid DESC LIMIT {SHORT_PREFIX_CANDIDATES})
                 ORDER BY r LIMIT ?{}",
                p.len()
            )
        } else if cond.is_empty() {
            // bm25 costs time per matching row. A word found in most of a
            // very large store ("patient") is ranked among its newest
            // RANK_CANDIDATES matches, so search stays fast as the store grows.
            format!(
                "SELECT rowid, r FROM (SELECT rowid, rank AS r FROM fts WHERE fts MATCH ?1
                                       ORDER BY rowid DESC LIMIT {RANK_CANDIDATES})
                 ORDER BY r LIMIT ?{}",
                p.len()
            )
        } else {
            format!(
                "SELECT fts.rowid, fts.rank FROM fts JOIN items i ON i.rid = fts.rowid
                 WHERE fts MATCH ?1{cond} ORDER BY fts.rank LIMIT ?{}",
                p.len()
            )
        };
        let ranked: Vec<(i64, f64)> = {
            let mut st = self.conn.prepare_cached(&sql)?;
            st.query_map(params_from_iter(p), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let detail = format!("SELECT {ROW_COLUMNS}, i.text FROM items i WHERE i.rid = ?1");
        let mut st = self.conn.prepare_cached(&detail)?;
        let words = crate::snippet::query_words(query);
        let mut hits = Vec::with_capacity(ranked.len());
        for (rid, score) in ranked {
            let hit = st.query_row(params![rid], |r| {
                let item = row(r)?;
                let packed: Vec<u8> = r.get(12)?;
                let snippet = crate::snippet::snippet(&item.title, &packed, &item.tags, &words);
                Ok(SearchHit {
                    item,
                    snippet,
                    score,
                })
            });
            match hit {
                Ok(h) => hits.push(h),
                Err(rusqlite::Error::QueryReturnedNoRows) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(hits)
    }

    pub fn communities(&self) -> Result<Vec<CommunityRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT c.id, c.name, c.domain, c.members, (SELECT COUNT(*) FROM items i WHERE i.community_id = c.id),
                    c.created_at, c.updated_at
             FROM communities c ORDER BY c.name COLLATE NOCASE",
        )?;
        let rows = st.query_map([], |r| {
            Ok(CommunityRow {
                id: parsed(r, 0, str::parse)?,
                name: r.get(1)?,
                domain: r.get(2)?,
                members: r.get(3)?,
                items: r.get(4)?,
                created_at: r.get(5)?,
                updated_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn item_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn queries_are_quoted_and_prefixed() {
        assert_eq!(fts_query("chest pain").unwrap(), "\"chest\" \"pain\"*");
        assert_eq!(fts_query("sepsis ").unwrap(), "\"sepsis\"");
        assert_eq!(
            fts_query("NOT \"x\" OR y:").unwrap(),
            "\"NOT\" \"x\" \"OR\" \"y\"*"
        );
        assert!(fts_query("  -- ").is_err());
    }
}
