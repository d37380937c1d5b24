//! Protocols and articles: the collaboratively edited Markdown body
//! (merged with concurrent edits, never losing the user's typing), status,
//! review date and references.

use crate::{Denied, Outpost, Result, Sharing, now_ms};
use outpost_model::{
    DocId, Kind, Problem, ProtocolStatus, ValidationError, validate_body, validate_protocol_body,
    validate_review_date,
};
use outpost_store::ItemRow;
use serde::Serialize;

/// What [`Outpost::protocol_save`] left: the merged body and heads, and
/// the heads of the save itself (whose body is exactly what was sent).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolSaved {
    /// The body after merging.
    pub body: String,
    /// The document's heads after the save (hex).
    pub heads: Vec<String>,
    /// The heads of the save alone: the base of the editor's next save.
    pub mine: Vec<String>,
    /// The protocol's list row.
    pub row: ItemRow,
}

impl Outpost {
    /// Replaces a protocol's body with a whole new text (merged as minimal
    /// edits).
    pub fn protocol_edit(
        &mut self,
        protocol: &DocId,
        body: &str,
        sharing: Sharing,
    ) -> Result<ItemRow> {
        validate_protocol_body(body)?;
        sharing.check(&[("body", body)])?;
        let id = protocol;
        self.item_of_kind(id, Some(Kind::Protocol))?;
        self.edit(id, |d| Ok(d.set_protocol_body(body, now_ms())?))?;
        Ok(self.store.item_row(id)?)
    }

    /// Saves an editor's text, derived from the body at `base` (hex heads
    /// from [`crate::ItemDetail::heads`] or the last [`ProtocolSaved::mine`]),
    /// merging it with whatever other members changed since.
    pub fn protocol_save(
        &mut self,
        protocol: &DocId,
        base: &[String],
        body: &str,
        sharing: Sharing,
    ) -> Result<ProtocolSaved> {
        validate_protocol_body(body)?;
        sharing.check(&[("body", body)])?;
        let id = protocol;
        self.item_of_kind(id, Some(Kind::Protocol))?;
        let base = base
            .iter()
            .map(|h| h.parse::<automerge::ChangeHash>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| ValidationError::new("base", Problem::NotChangeHashes))?;
        let (mine, body, heads) = self.edit(id, |d| {
            if !base
                .iter()
                .all(|h| d.automerge_mut().get_change_by_hash(h).is_some())
            {
                return Err(Denied::EditorLost.into());
            }
            let mine = d.set_protocol_body_from(&base, body, now_ms())?;
            let merged = d.read()?.protocol.map(|p| p.body).unwrap_or_default();
            let heads = d.automerge_mut().get_heads();
            Ok((mine, merged, heads))
        })?;
        let hex = |hs: &[automerge::ChangeHash]| hs.iter().map(|h| h.to_string()).collect();
        Ok(ProtocolSaved {
            body,
            heads: hex(&heads),
            mine: hex(&mine),
            row: self.store.item_row(id)?,
        })
    }

    /// Sets or clears a protocol's review date (YYYY-MM-DD; admins).
    pub fn protocol_review_date(
        &mut self,
        protocol: &DocId,
        date: Option<&str>,
    ) -> Result<ItemRow> {
        let date = date.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = date {
            validate_review_date(d)?;
        }
        let id = protocol;
        self.item_of_kind(id, Some(Kind::Protocol))?;
        self.check_admin(&self.store.item_row(id)?.community)?;
        self.edit(id, |d| Ok(d.set_review_date(date, now_ms())?))?;
        Ok(self.store.item_row(id)?)
    }

    /// Adds a reference (citation or guideline) to a protocol.
    pub fn protocol_add_reference(
        &mut self,
        protocol: &DocId,
        reference: &str,
        sharing: Sharing,
    ) -> Result<ItemRow> {
        let reference = reference.trim();
        validate_body("reference", reference)?;
        sharing.check(&[("reference", reference)])?;
        let id = protocol;
        self.item_of_kind(id, Some(Kind::Protocol))?;
        self.edit(id, |d| Ok(d.add_reference(reference, now_ms())?))?;
        Ok(self.store.item_row(id)?)
    }

    /// Sets a protocol's status: draft, endorsed or superseded (admins).
    pub fn protocol_status(&mut self, protocol: &DocId, status: ProtocolStatus) -> Result<ItemRow> {
        let id = protocol;
        self.item_of_kind(id, Some(Kind::Protocol))?;
        self.check_admin(&self.store.item_row(id)?.community)?;
        self.edit(id, |d| Ok(d.set_protocol_status(status, now_ms())?))?;
        Ok(self.store.item_row(id)?)
    }
}
