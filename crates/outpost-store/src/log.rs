//! The membership log: each community's signed membership ops, stored
//! append-only (the table refuses updates and deletes), each verified once
//! when it arrives and never again. Who is a member (the `members` rows) is
//! recomputed from the whole log whenever it grows; no document edit can
//! touch either.

use crate::{Cached, Result, Store, StoreError, Writer};
use outpost_sync::membership::{self, Held, Membership};
use outpost_sync::session::OpsMissing;
use outpost_sync::wire::Hash;
use outpost_sync::{op_digest_entry, xor};
use rusqlite::{Connection, params};

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

/// Recomputes who is a member of a community from its log.
pub(crate) fn write_members(tx: &Connection, community: &str) -> Result<Membership> {
    let m = membership::compute_held(community, &load_log(tx, community)?);
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
        write_members(self.c(), community)?;
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

    /// Whether `key` was a member of `community` and was removed.
    pub fn was_removed(&self, community: &str, key: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM members WHERE community_id = ?1 AND key = ?2 AND role = 'removed')",
            params![community, key],
            |r| r.get(0),
        )?)
    }
}
