//! The membership log: each community's signed membership ops, stored
//! append-only (the table refuses updates and deletes), each verified once
//! when it arrives and never again. Who is a member (the `members` rows) is
//! recomputed from the whole log whenever it grows; no document edit can
//! touch either.

use crate::{Cached, Result, Store, StoreError, Writer};
use outpost_sync::changes::Standing;
use outpost_sync::membership::{self, Held, Membership};
use outpost_sync::membership::{Key, Role};
use outpost_sync::session::OpsMissing;
use outpost_sync::wire::Hash;
use outpost_sync::{op_digest_entry, xor};
use rusqlite::{Connection, OptionalExtension, params};

/// The most ops one community's log keeps: far beyond any real community
/// (every admin action is one op), and a bound on what members who sign
/// junk can make every peer store.
pub const MAX_LOG_OPS: i64 = 100_000;

/// Every op of `community`'s log, in arrival order.
pub(crate) fn load_log(conn: &Connection, community: &str) -> Result<Vec<Held>> {
    let mut st =
        conn.prepare_cached("SELECT op FROM member_ops WHERE community_id = ?1 ORDER BY rowid")?;
    let rows = st.query_map([community], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for bytes in rows {
        let bytes = bytes?;
        let held = membership::decode_held(&bytes).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "an op of community {community}'s log cannot be read"
            ))
        })?;
        out.push(held);
    }
    Ok(out)
}

/// How merges into `doc` of `community` judge who wrote a change: the
/// members, what removals and demotions cover of that document, and its
/// proven forks, as the log says (kept by [`write_members`]).
pub(crate) fn standing(conn: &Connection, community: &str, doc: &str) -> Result<Standing> {
    let mut s = Standing::default();
    let mut st = conn.prepare_cached("SELECT key, role FROM members WHERE community_id = ?1")?;
    let rows = st.query_map([community], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (key, role) = row?;
        let Some(key) = hex::decode(&key)
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
        else {
            continue;
        };
        match role.parse::<Role>() {
            Ok(role) => {
                s.roles.insert(key, role);
            }
            Err(_) => {
                s.removed.insert(key);
            }
        }
    }
    let mut st = conn.prepare_cached(
        "SELECT device, actor, seq, prior FROM member_covers WHERE community_id = ?1 AND doc_id = ?2",
    )?;
    let rows = st.query_map(params![community, doc], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (device, actor, seq, prior) = row?;
        if let (Ok(device), Ok(prior)) = (<[u8; 32]>::try_from(device), prior.parse::<Role>()) {
            s.cover(device, actor, seq as u64, prior);
        }
    }
    let mut st = conn.prepare_cached(
        "SELECT actor, seq, kept FROM forks WHERE community_id = ?1 AND doc_id = ?2",
    )?;
    let rows = st.query_map(params![community, doc], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    for row in rows {
        let (actor, seq, kept) = row?;
        // Written by `write_members` from a checked proof: 32 bytes.
        let kept = <Hash>::try_from(kept).unwrap_or([0; 32]);
        s.forked.insert(actor, (seq as u64, kept));
    }
    Ok(s)
}

/// Recomputes who is a member of a community from its log.
pub(crate) fn write_members(tx: &Connection, community: &str) -> Result<Membership> {
    let m = membership::compute_held(community, &load_log(tx, community)?);
    tx.exec(
        "DELETE FROM member_covers WHERE community_id = ?1",
        [community],
    )?;
    let mut st = tx.prepare_cached(
        "INSERT INTO member_covers(community_id, device, doc_id, actor, seq, prior)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (key, lowered) in &m.lowered {
        for l in lowered {
            for c in &l.covers {
                st.execute(params![
                    community,
                    key.to_vec(),
                    c.doc,
                    c.actor,
                    c.seq.min(i64::MAX as u64) as i64,
                    l.prior.as_str()
                ])?;
            }
        }
    }
    tx.exec("DELETE FROM forks WHERE community_id = ?1", [community])?;
    let mut st = tx.prepare_cached(
        "INSERT INTO forks(community_id, doc_id, actor, seq, device, reporter, kept)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for f in m.forks.values() {
        st.execute(params![
            community,
            f.doc,
            f.actor,
            f.seq.min(i64::MAX as u64) as i64,
            f.device.to_vec(),
            f.reporter.to_vec(),
            f.kept.to_vec()
        ])?;
    }
    tx.exec("DELETE FROM members WHERE community_id = ?1", [community])?;
    let mut st =
        tx.prepare_cached("INSERT INTO members(community_id, key, role) VALUES (?1, ?2, ?3)")?;
    for (key, role) in &m.members {
        st.execute(params![community, hex::encode(key), role.as_str()])?;
    }
    for key in &m.removed {
        st.execute(params![community, hex::encode(key), "removed"])?;
    }
    tx.exec(
        "UPDATE communities SET members = ?2 WHERE id = ?1",
        params![community, m.members.len() as i64],
    )?;
    Ok(m)
}

impl Writer<'_> {
    /// Adds signed ops to `community`'s log: each is verified (signature,
    /// and that it is an op of this community) and kept if not held yet;
    /// anything else is dropped. When the log grew, membership is
    /// recomputed, the ops enter the community's digest, and the feed gets
    /// an entry for the community document (so running sessions pass the
    /// ops on). `origin` is the peer they came from (None: signed here).
    /// Returns how many were new.
    pub fn add_ops(
        &mut self,
        community: &str,
        ops: &[Vec<u8>],
        origin: Option<&str>,
    ) -> Result<usize> {
        let mut held: i64 = self.c().row(
            "SELECT COUNT(*) FROM member_ops WHERE community_id = ?1",
            [community],
            |r| r.get(0),
        )?;
        let before = self.membership(community)?;
        let mut digest_change = [0u8; 32];
        let mut new = 0;
        for bytes in ops {
            let Some(op) = membership::verify_held(bytes) else {
                tracing::debug!(community, "dropped a membership op that does not verify");
                continue;
            };
            if !op.belongs_to(community) {
                tracing::debug!(community, "dropped a membership op of another community");
                continue;
            }
            if held >= MAX_LOG_OPS {
                tracing::warn!(community, "membership log full: dropped an op");
                break;
            }
            let inserted = self.c().exec(
                "INSERT INTO member_ops(hash, community_id, op, origin, arrived)
                 VALUES (?1, ?2, ?3, ?4, unixepoch('subsec') * 1000)
                 ON CONFLICT(hash) DO NOTHING",
                params![op.hash.to_vec(), community, bytes, origin],
            )?;
            if inserted > 0 {
                new += 1;
                held += 1;
                xor(&mut digest_change, &op_digest_entry(&op.hash));
            }
        }
        if new == 0 {
            return Ok(0);
        }
        let m = write_members(self.c(), community)?;
        let mut narrowed = membership::narrowed(&before, &m);
        // This device's own writing stays in its own home, removed or not.
        let me = self
            .actor
            .as_ref()
            .and_then(outpost_sync::changes::device_of);
        if let Some(me) = me {
            narrowed.remove(&me);
        }
        if !narrowed.is_empty() {
            self.recheck(community, &narrowed)?;
        }
        // The variant of a fork that counts may be one no honest peer
        // holds (the forker chose whom to send it): take it from the proof.
        for (at, f) in &m.forks {
            if Some(f.device) == me || before.forks.get(at).is_some_and(|o| o.kept == f.kept) {
                continue;
            }
            self.take_kept(community, f)?;
        }
        let mut d = crate::sync::digest(self.c(), community)?;
        xor(&mut d, &digest_change);
        self.c().exec(
            "INSERT INTO digests(community_id, digest) VALUES (?1, ?2)
             ON CONFLICT(community_id) DO UPDATE SET digest = excluded.digest",
            params![community, d.to_vec()],
        )?;
        self.c().exec(
            &format!(
                "INSERT INTO feed(seq, doc_id, heads, at, community_id, origin)
                 SELECT {}, id, heads, unixepoch('subsec') * 1000, ?1, ?2 FROM docs WHERE id = ?1",
                crate::sync::NEXT_FEED_SEQ
            ),
            params![community, origin],
        )?;
        Ok(new)
    }

    /// After membership narrowed for `devices` (removed, demoted, or
    /// proven to have forked): every document of `community` they wrote to
    /// is checked again as a newcomer would check it, and rebuilt without
    /// what no longer counts (recorded as refused), so that every peer
    /// holds the same changes whatever order it learned things in.
    fn recheck(
        &mut self,
        community: &str,
        devices: &std::collections::BTreeSet<Key>,
    ) -> Result<()> {
        let mut docs: Vec<String> = Vec::new();
        {
            let mut st = self.c().prepare_cached(
                "SELECT DISTINCT cs.doc_id FROM change_sigs cs JOIN docs d ON d.id = cs.doc_id
                 WHERE d.community_id = ?1 AND cs.device = ?2",
            )?;
            for device in devices {
                let rows = st.query_map(params![community, device.to_vec()], |r| r.get(0))?;
                for row in rows {
                    docs.push(row?);
                }
            }
        }
        docs.sort();
        docs.dedup();
        for id in docs {
            let mut loaded = self.load(&id)?;
            let standing = standing(self.c(), community, &id)?;
            let conn = self.c();
            let sig_of = |h: &Hash| -> Option<Vec<u8>> {
                conn.row(
                    "SELECT sig FROM change_sigs WHERE hash = ?1",
                    [h.to_vec()],
                    |r| r.get(0),
                )
                .ok()
            };
            let rebuilt =
                match outpost_sync::changes::recheck(&id, &mut loaded.doc, sig_of, &standing) {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(doc = %id, "could not check a document again: {e}");
                        continue;
                    }
                };
            let (mut doc, checked) = rebuilt;
            tracing::info!(
                doc = %id,
                dropped = checked.refused.len(),
                "membership changed: dropped changes that no longer count"
            );
            self.record_refused(community, &id, "membership", &checked.refused)?;
            for r in &checked.refused {
                self.c()
                    .exec("DELETE FROM change_sigs WHERE hash = ?1", [r.hash.to_vec()])?;
            }
            self.replace_doc(&id, &mut doc)?;
        }
        Ok(())
    }

    /// Merges the variant of fork `f` that counts, from its proof, into its
    /// document (creating the document if that variant is its first
    /// change); nothing when it is held or its parents are not.
    fn take_kept(&mut self, community: &str, f: &membership::Fork) -> Result<()> {
        let prior = self.origin.clone();
        let (kept, sig) = (f.kept, f.kept_sig.clone());
        let merged = self.merge_remote(community, &f.doc, &f.kept_change, "fork proof", &|h| {
            (*h == kept).then(|| sig.clone())
        });
        self.origin = prior;
        merged.map(|_| ())
    }

    /// Forks a peer's changes revealed (`outpost_sync::changes::
    /// Equivocation`): each proven one is signed here as a `Forked` op
    /// and added to the log (which passes it on and checks documents
    /// again). Without a key, or when the proof is incomplete, the forked
    /// change is refused here and nothing is reported.
    pub fn report_forks(
        &mut self,
        community: &str,
        doc: &str,
        forks: &[outpost_sync::changes::Equivocation],
    ) -> Result<()> {
        let me = self
            .actor
            .as_ref()
            .and_then(outpost_sync::changes::device_of);
        let Some(key) = self
            .signers
            .iter()
            .find(|k| Some(k.verifying_key().to_bytes()) == me)
            .cloned()
        else {
            return Ok(());
        };
        let m = self.membership(community)?;
        let mut reported = std::collections::BTreeSet::new();
        let mut ops = Vec::new();
        for e in forks {
            let Ok(held) = automerge::Change::from_bytes(e.held.clone()) else {
                continue;
            };
            // One report per document and actor: none once a fork at or
            // before this seq is proven, or reported in this batch.
            let at = (doc.to_string(), held.actor_id().to_bytes().to_vec());
            if m.forks.get(&at).is_some_and(|f| f.seq <= held.seq()) || !reported.insert(at) {
                continue;
            }
            let sig: Option<Vec<u8>> = self
                .c()
                .row(
                    "SELECT sig FROM change_sigs WHERE hash = ?1",
                    [held.hash().0.to_vec()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(proof) = outpost_sync::changes::fork_proof(doc, e, sig) else {
                continue;
            };
            tracing::warn!(doc, "a device forked a document's history: reporting it");
            let op = membership::Op {
                community: community.to_string(),
                kind: membership::OpKind::Forked { proof },
                deps: m.heads.clone(),
                time: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64),
            };
            match membership::sign(&key, &op) {
                Ok(bytes) => ops.push(bytes),
                Err(e) => tracing::warn!("could not sign a fork report: {e}"),
            }
        }
        if !ops.is_empty() {
            self.add_ops(community, &ops, None)?;
        }
        Ok(())
    }

    /// Membership of `community` as its log here says, inside the
    /// transaction.
    pub fn membership(&self, community: &str) -> Result<Membership> {
        Ok(membership::compute_held(
            community,
            &load_log(self.c(), community)?,
        ))
    }
}

impl Store {
    /// `community`'s whole log, in arrival order.
    pub fn op_log(&self, community: &str) -> Result<Vec<Held>> {
        load_log(&self.conn, community)
    }

    /// Membership of `community`, with the ops that do not count and why.
    pub fn membership(&self, community: &str) -> Result<Membership> {
        Ok(membership::compute_held(
            community,
            &self.op_log(community)?,
        ))
    }

    /// Sorted heads of `community`'s log ([`membership::set_heads`]).
    pub fn op_heads(&self, community: &str) -> Result<Vec<Hash>> {
        Ok(membership::set_heads(&self.op_log(community)?))
    }

    /// The ops a peer holding `known` lacks, and the hashes of `known` not
    /// held here.
    pub fn ops_missing(&self, community: &str, known: &[Hash]) -> Result<OpsMissing> {
        Ok(membership::missing_for(&self.op_log(community)?, known))
    }

    /// What this home holds of `member`'s changes in `community`: per
    /// document and actor, the highest seq (what a removal or demotion
    /// signed here covers).
    pub fn covers(&self, community: &str, member: &Key) -> Result<Vec<membership::Covered>> {
        let mut st = self.conn.prepare_cached(
            "SELECT cs.doc_id, cs.actor, MAX(cs.seq) FROM change_sigs cs JOIN docs d ON d.id = cs.doc_id
             WHERE d.community_id = ?1 AND cs.device = ?2 GROUP BY cs.doc_id, cs.actor
             ORDER BY cs.doc_id, cs.actor",
        )?;
        let rows = st.query_map(params![community, member.to_vec()], |r| {
            Ok(membership::Covered {
                doc: r.get(0)?,
                actor: r.get(1)?,
                seq: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Proven forks in `community`: (document, device, first forked seq,
    /// reporter).
    pub fn forks(&self, community: &str) -> Result<Vec<ForkRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT doc_id, device, seq, reporter FROM forks WHERE community_id = ?1 ORDER BY doc_id",
        )?;
        let rows = st.query_map([community], |r| {
            Ok(ForkRow {
                doc: r.get(0)?,
                device: hex::encode(r.get::<_, Vec<u8>>(1)?),
                seq: r.get::<_, i64>(2)?.max(0) as u64,
                reporter: hex::encode(r.get::<_, Vec<u8>>(3)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `key` was a member of `community` and was removed.
    pub fn was_removed(&self, community: &str, key: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM members WHERE community_id = ?1 AND key = ?2 AND role = 'removed')",
            params![community, key],
            |r| r.get(0),
        )?)
    }
}

/// A proven fork ([`Store::forks`]), for the admins' trust view.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct ForkRow {
    pub doc: String,
    /// Hex key of the device that forked.
    pub device: String,
    pub seq: u64,
    /// Hex key of the member who reported it first.
    pub reporter: String,
}
