//! Sync bookkeeping: community digests, per-community feed, membership rows
//! (computed from the log in `log.rs`), checkpoints, Automerge sync states, peers and
//! invitations. The protocol itself lives in `outpost-sync`; this is its
//! storage.

use crate::{Cached, Result, Store, StoreError, Writer, decode_heads, load_doc};
use automerge::AutoCommit;
use outpost_model::CommunityId;
use outpost_sync::membership::{self, Role};
use outpost_sync::{digest_entry, xor};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

fn entry(doc_id: &str, heads_blob: &[u8]) -> [u8; 32] {
    let heads: Vec<[u8; 32]> = heads_blob
        .chunks(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok())
        .collect();
    digest_entry(doc_id, &heads)
}

pub(crate) fn digest(conn: &Connection, community: &str) -> Result<[u8; 32]> {
    let d: Option<Vec<u8>> = conn
        .row(
            "SELECT digest FROM digests WHERE community_id = ?1",
            [community],
            |r| r.get(0),
        )
        .optional()?;
    Ok(d.and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
        .unwrap_or([0; 32]))
}

/// The next position in the feed: past every position used, and never
/// below the clock in microseconds, so a home restored from an older copy
/// does not hand out positions its peers already hold checkpoints past
/// (they would never ask for what is written under them).
pub(crate) const NEXT_FEED_SEQ: &str = "MAX((SELECT COALESCE(MAX(seq), 0) + 1 FROM feed), \
     CAST(unixepoch('subsec') * 1000000 AS INTEGER))";

/// Called by every write: keeps the digest, the document's community and
/// the feed current.
pub(crate) fn after_change(
    tx: &Connection,
    id: &str,
    community: &str,
    old_heads: Option<&[u8]>,
    heads: &[u8],
    origin: Option<&str>,
) -> Result<()> {
    if let Some(old) = old_heads {
        toggle_digest(tx, id, community, old)?;
    }
    toggle_digest(tx, id, community, heads)?;
    tx.exec(
        "UPDATE docs SET community_id = ?2 WHERE id = ?1",
        params![id, community],
    )?;
    tx.exec(
        &format!(
            "INSERT INTO feed(seq, doc_id, heads, at, community_id, origin)
             VALUES ({NEXT_FEED_SEQ}, ?1, ?2, unixepoch('subsec') * 1000, ?3, ?4)"
        ),
        params![id, heads, community, origin],
    )?;
    Ok(())
}

/// XORs a document's entry at `heads` into its community's digest: takes
/// it out when it was in, puts it in when it was not.
pub(crate) fn toggle_digest(
    tx: &Connection,
    id: &str,
    community: &str,
    heads: &[u8],
) -> Result<()> {
    let mut d = digest(tx, community)?;
    xor(&mut d, &entry(id, heads));
    tx.exec(
        "INSERT INTO digests(community_id, digest) VALUES (?1, ?2)
         ON CONFLICT(community_id) DO UPDATE SET digest = excluded.digest",
        params![community, d.to_vec()],
    )?;
    Ok(())
}

/// Rebuilds every digest (migration from a store that had none).
pub(crate) fn recompute_all(tx: &Connection) -> Result<()> {
    tx.exec("DELETE FROM digests", [])?;
    let mut st = tx.prepare("SELECT id, community_id, heads FROM docs")?;
    let rows: Vec<(String, String, Vec<u8>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut by: std::collections::HashMap<String, [u8; 32]> = Default::default();
    for (id, c, heads) in rows {
        xor(by.entry(c).or_insert([0; 32]), &entry(&id, &heads));
    }
    for (c, d) in by {
        tx.exec(
            "INSERT INTO digests(community_id, digest) VALUES (?1, ?2)",
            params![c, d.to_vec()],
        )?;
    }
    Ok(())
}

/// Documents changed since a checkpoint, each with its current heads; the
/// feed position reached; and whether that is the end of the feed.
pub type FeedPage = (Vec<(String, Vec<[u8; 32]>)>, u64, bool);

/// A known peer, for `outpost peers` / `status`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerRow {
    pub id: String,
    pub addr: Option<String>,
    pub last_seen: Option<i64>,
    pub last_synced: Option<i64>,
    pub bytes_in: i64,
    pub bytes_out: i64,
    /// Documents the peer announced that were not yet reconciled here.
    pub pending_in: i64,
    /// Documents of shared communities changed here after the point in
    /// this store's feed the peer is known to hold.
    pub pending_out: i64,
}

/// An invitation not yet redeemed, as its admin lists it. Its secret is
/// not shown again: `id` names it (the first 8 bytes of the secret's
/// BLAKE3 hash, in hex) for revoking.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PendingInvite {
    pub id: String,
    pub community: CommunityId,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What redeeming an invitation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// A valid invitation, now used up: the redeemer is to be added.
    Fresh,
    /// The redeemer is already a member (a join retried after its answer
    /// was lost): nothing to add.
    AlreadyMember,
}

/// The id an invitation is listed and revoked by.
pub fn invite_id(secret: &[u8]) -> String {
    hex::encode(&membership::op_hash(secret)[..8])
}

impl Store {
    /// Communities held here that `peer` (hex key) is a member of, with
    /// their digests and feed positions (read in one snapshot).
    pub fn offers_for(&self, peer: &str) -> Result<Vec<(String, [u8; 32], u64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT m.community_id, d.digest,
                    (SELECT COALESCE(MAX(f.seq), 0) FROM feed f WHERE f.community_id = m.community_id)
             FROM members m
             JOIN communities c ON c.id = m.community_id
             LEFT JOIN digests d ON d.community_id = m.community_id
             WHERE m.key = ?1 AND m.role != 'removed'",
        )?;
        let rows = st.query_map([peer], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, d, feed) = row?;
            let d = d
                .and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
                .unwrap_or([0; 32]);
            out.push((c, d, feed.max(0) as u64));
        }
        Ok(out)
    }

    /// A key's role in a community; None for a removed member or a
    /// stranger.
    pub fn role(&self, community: &str, key: &str) -> Result<Option<Role>> {
        let role: Option<String> = self
            .conn
            .prepare_cached("SELECT role FROM members WHERE community_id = ?1 AND key = ?2")?
            .query_row(params![community, key], |r| r.get(0))
            .optional()?;
        Ok(role.and_then(|r| r.parse().ok()))
    }

    pub fn is_member(&self, community: &str, key: &str) -> Result<bool> {
        Ok(self.role(community, key)?.is_some())
    }

    /// (key, role) of every current member.
    pub fn members(&self, community: &str) -> Result<Vec<(String, Role)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT key, role FROM members WHERE community_id = ?1 AND role != 'removed'",
        )?;
        let rows = st.query_map([community], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, role) = row?;
            if let Ok(role) = role.parse() {
                out.push((key, role));
            }
        }
        Ok(out)
    }

    pub fn digest(&self, community: &str) -> Result<[u8; 32]> {
        digest(&self.conn, community)
    }

    pub fn checkpoint(&self, peer: &str, community: &str) -> Result<u64> {
        let v: Option<i64> = self
            .conn
            .prepare_cached("SELECT since FROM checkpoints WHERE peer = ?1 AND community_id = ?2")?
            .query_row(params![peer, community], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }

    /// `peer` holds this store's feed for `community` up to `seq`.
    pub fn set_ack(&self, peer: &str, community: &str, seq: u64) -> Result<()> {
        self.conn.exec(
            "INSERT INTO acks(peer, community_id, seq) VALUES (?1, ?2, ?3)
             ON CONFLICT(peer, community_id) DO UPDATE SET seq = MAX(acks.seq, excluded.seq)",
            params![peer, community, seq as i64],
        )?;
        Ok(())
    }

    pub fn set_checkpoint(&self, peer: &str, community: &str, since: u64) -> Result<()> {
        self.conn.exec(
            "INSERT INTO checkpoints(peer, community_id, since) VALUES (?1, ?2, ?3)
             ON CONFLICT(peer, community_id) DO UPDATE SET since = excluded.since",
            params![peer, community, since as i64],
        )?;
        Ok(())
    }

    /// Documents of `community` changed after `since` in this store's feed,
    /// each once with its current heads, oldest change first; the feed
    /// position reached; whether that is the end.
    pub fn changed_in(&self, community: &str, since: u64, limit: usize) -> Result<FeedPage> {
        let mut st = self.conn.prepare_cached(
            "SELECT MAX(f.seq) AS s, f.doc_id, d.heads FROM feed f JOIN docs d ON d.id = f.doc_id
             WHERE f.community_id = ?1 AND f.seq > ?2 GROUP BY f.doc_id ORDER BY s LIMIT ?3",
        )?;
        let rows: Vec<(i64, String, Vec<u8>)> = st
            .query_map(params![community, since as i64, limit as i64 + 1], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let last = rows.len() <= limit;
        let mut out = Vec::with_capacity(rows.len().min(limit));
        let mut up_to = since;
        for (seq, id, heads) in rows.into_iter().take(limit) {
            up_to = seq as u64;
            let heads = decode_heads(&id, &heads)?
                .into_iter()
                .map(|h| h.0)
                .collect();
            out.push((id, heads));
        }
        if last {
            up_to = up_to.max(self.feed_head()?.max(0) as u64);
        }
        Ok((out, up_to, last))
    }

    /// Sorted heads of `doc` if it is held and belongs to `community`.
    pub fn heads_in(&self, community: &str, doc: &str) -> Result<Option<Vec<[u8; 32]>>> {
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT heads FROM docs WHERE id = ?1 AND community_id = ?2")?
            .query_row(params![doc, community], |r| r.get(0))
            .optional()?;
        match blob {
            Some(b) => Ok(Some(
                decode_heads(doc, &b)?.into_iter().map(|h| h.0).collect(),
            )),
            None => Ok(None),
        }
    }

    /// `doc` if it is held and belongs to `community`.
    pub fn load_in(&self, community: &str, doc: &str) -> Result<Option<AutoCommit>> {
        let found: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM docs WHERE id = ?1 AND community_id = ?2)",
            )?
            .query_row(params![doc, community], |r| r.get(0))?;
        if !found {
            return Ok(None);
        }
        Ok(Some(load_doc(&self.conn, doc, self.actor.as_ref())?.doc))
    }

    /// Every document of `community` (id, kind), the community document
    /// first.
    pub fn docs_in(&self, community: &str) -> Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, kind FROM docs WHERE community_id = ?1 ORDER BY kind != 'community', id",
        )?;
        let rows = st.query_map([community], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The community a document belongs to.
    pub fn community_of(&self, doc: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT community_id FROM docs WHERE id = ?1")?
            .query_row([doc], |r| r.get(0))
            .optional()?)
    }

    pub fn sync_state(&self, peer: &str, doc: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM sync_states WHERE peer = ?1 AND doc_id = ?2")?
            .query_row(params![peer, doc], |r| r.get(0))
            .optional()?)
    }

    pub fn set_sync_state(&self, peer: &str, doc: &str, state: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_states(peer, doc_id, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT(peer, doc_id) DO UPDATE SET state = excluded.state",
            )?
            .execute(params![peer, doc, state])?;
        Ok(())
    }

    /// Another member holds `heads` of `doc`; if that is all of ours, the
    /// item counts as synced.
    pub fn peer_has(&self, doc: &str, sorted_heads: &[[u8; 32]]) -> Result<()> {
        let blob: Vec<u8> = sorted_heads.iter().flatten().copied().collect();
        self.conn
            .prepare_cached("UPDATE docs SET synced_heads = ?2 WHERE id = ?1 AND heads = ?2")?
            .execute(params![doc, blob])?;
        Ok(())
    }

    /// Whether every change of `doc` held here has reached another member.
    pub fn is_synced(&self, doc: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(synced_heads = heads, 0) FROM docs WHERE id = ?1")?
            .query_row([doc], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    pub fn create_invite(
        &self,
        secret: &[u8; 32],
        community: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.conn
            .exec("DELETE FROM invites WHERE expires_at < ?1", [now])?;
        self.conn.exec(
            "INSERT INTO invites(secret, community_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![secret.to_vec(), community, now, expires_at],
        )?;
        Ok(())
    }

    /// The invitations to `community` not yet redeemed, revoked or expired
    /// (expired ones are deleted), oldest first.
    pub fn pending_invites(&self, community: &str, now: i64) -> Result<Vec<PendingInvite>> {
        self.conn
            .exec("DELETE FROM invites WHERE expires_at < ?1", [now])?;
        let mut st = self.conn.prepare_cached(
            "SELECT secret, community_id, created_at, expires_at FROM invites
             WHERE community_id = ?1 ORDER BY created_at",
        )?;
        let rows = st.query_map([community], |r| {
            let secret: Vec<u8> = r.get(0)?;
            Ok(PendingInvite {
                id: invite_id(&secret),
                community: crate::index::parsed(r, 1, str::parse)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes the pending invitation `id` of `community` (see
    /// [`PendingInvite::id`]): its ticket stops working. False if there is
    /// none by that id.
    pub fn revoke_invite(&self, community: &str, id: &str) -> Result<bool> {
        let secrets: Vec<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT secret FROM invites WHERE community_id = ?1")?
            .query_map([community], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let wanted = id.trim().to_ascii_lowercase();
        let mut revoked = false;
        for secret in secrets.iter().filter(|s| invite_id(s) == wanted) {
            self.conn
                .exec("DELETE FROM invites WHERE secret = ?1", [secret])?;
            revoked = true;
        }
        Ok(revoked)
    }

    pub fn peer_seen(&self, peer: &str, addr: Option<&str>, now: i64) -> Result<()> {
        self.conn.exec(
            "INSERT INTO peers(id, addr, last_seen) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, addr = COALESCE(excluded.addr, peers.addr)",
            params![peer, addr, now],
        )?;
        Ok(())
    }

    pub fn peer_synced(&self, peer: &str, now: i64) -> Result<()> {
        self.conn.exec(
            "UPDATE peers SET last_synced = ?2 WHERE id = ?1",
            params![peer, now],
        )?;
        Ok(())
    }

    pub fn peer_bytes(&self, peer: &str, bytes_in: u64, bytes_out: u64) -> Result<()> {
        self.conn.exec(
            "UPDATE peers SET bytes_in = bytes_in + ?2, bytes_out = bytes_out + ?3 WHERE id = ?1",
            params![peer, bytes_in as i64, bytes_out as i64],
        )?;
        Ok(())
    }

    /// Known peers, with how many documents changed here since each one's
    /// last completed pull (pending out).
    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        let mut st = self.conn.prepare(
            "SELECT p.id, p.addr, p.last_seen, p.last_synced, p.bytes_in, p.bytes_out, p.pending_in FROM peers p
             ORDER BY p.last_seen DESC",
        )?;
        let rows: Vec<PeerRow> = st
            .query_map([], |r| {
                Ok(PeerRow {
                    id: r.get(0)?,
                    addr: r.get(1)?,
                    last_seen: r.get(2)?,
                    last_synced: r.get(3)?,
                    bytes_in: r.get(4)?,
                    bytes_out: r.get(5)?,
                    pending_in: r.get(6)?,
                    pending_out: 0,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for mut p in rows {
            p.pending_out = self.conn.row(
                "SELECT COUNT(DISTINCT f.doc_id) FROM feed f
                 JOIN members m ON m.community_id = f.community_id AND m.key = ?1 AND m.role != 'removed'
                 WHERE f.seq > COALESCE(
                     (SELECT a.seq FROM acks a WHERE a.peer = ?1 AND a.community_id = f.community_id), 0)
                   AND (f.origin IS NULL OR f.origin != ?1)",
                [&p.id],
                |r| r.get(0),
            )?;
            out.push(p);
        }
        Ok(out)
    }

    /// Items with changes that no other member is known to hold.
    pub fn unsynced_items(&self) -> Result<i64> {
        Ok(self.conn.row(
            "SELECT COUNT(*) FROM items i JOIN docs d ON d.id = i.id
             WHERE d.synced_heads IS NULL OR d.synced_heads != d.heads",
            [],
            |r| r.get(0),
        )?)
    }

    /// Whether `key` is a current member of any community held here.
    pub fn shares_a_community(&self, key: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM members WHERE key = ?1 AND role != 'removed')",
            [key],
            |r| r.get(0),
        )?)
    }

    /// Whether `key` is, or was, a member of a community held here (a
    /// peer this node serves; a removed member may still heal a log).
    pub fn knows_key(&self, key: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM members WHERE key = ?1)",
            [key],
            |r| r.get(0),
        )?)
    }

    /// Whether an invitation with `secret` for `community` is held here
    /// (neither redeemed nor revoked; it may have expired).
    pub fn invite_held(&self, secret: &[u8; 32], community: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM invites WHERE secret = ?1 AND community_id = ?2)",
            params![secret.to_vec(), community],
            |r| r.get(0),
        )?)
    }

    /// Whether an invitation held here is still unexpired at `now`.
    pub fn invitations_open(&self, now: i64) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM invites WHERE expires_at > ?1)",
            [now],
            |r| r.get(0),
        )?)
    }

    /// Whether any of `community`'s membership log is held here.
    pub fn holds_log(&self, community: &str) -> Result<bool> {
        Ok(self.conn.row(
            "SELECT EXISTS(SELECT 1 FROM member_ops WHERE community_id = ?1)",
            [community],
            |r| r.get(0),
        )?)
    }

    pub fn set_pending_in(&self, peer: &str, pending: usize) -> Result<()> {
        self.conn.exec(
            "UPDATE peers SET pending_in = ?2 WHERE id = ?1",
            params![peer, pending as i64],
        )?;
        Ok(())
    }
}

impl Writer<'_> {
    /// Redeems a one-time invitation for `peer` (hex key): checks it is
    /// this community's, unexpired and unused, and deletes it, so neither
    /// the invitee nor anyone who intercepted the ticket can use it again.
    /// A removed member is refused whatever invitation it shows; a current
    /// member (a join retried) is told so and nothing is used.
    /// Err(reason) when refused.
    pub fn redeem_invite(
        &mut self,
        secret: &[u8; 32],
        community: &str,
        peer: &str,
        now: i64,
    ) -> Result<std::result::Result<Redeemed, String>> {
        let role: Option<String> = self
            .c()
            .row(
                "SELECT role FROM members WHERE community_id = ?1 AND key = ?2",
                params![community, peer],
                |r| r.get(0),
            )
            .optional()?;
        match role.as_deref() {
            Some("admin" | "member") => return Ok(Ok(Redeemed::AlreadyMember)),
            Some(_) => {
                return Ok(Err(
                    "this device was removed from the community; an admin must add it back by hand"
                        .into(),
                ));
            }
            None => {}
        }
        let row: Option<(String, i64)> = self
            .c()
            .row(
                "SELECT community_id, expires_at FROM invites WHERE secret = ?1",
                [secret.to_vec()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let unknown = "this invitation is unknown here: revoked, or already used";
        let Some((c, expires_at)) = row else {
            return Ok(Err(unknown.into()));
        };
        if c != community {
            return Ok(Err(unknown.into()));
        }
        self.c()
            .exec("DELETE FROM invites WHERE secret = ?1", [secret.to_vec()])?;
        if now > expires_at {
            return Ok(Err("this invitation has expired".into()));
        }
        Ok(Ok(Redeemed::Fresh))
    }
}

impl From<membership::OpError> for StoreError {
    fn from(e: membership::OpError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

impl Writer<'_> {
    /// Membership check inside a write transaction.
    pub fn is_member(&self, community: &str, key: &str) -> Result<bool> {
        let role: Option<String> = self
            .c()
            .row(
                "SELECT role FROM members WHERE community_id = ?1 AND key = ?2",
                params![community, key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(matches!(role.as_deref(), Some("admin" | "member")))
    }
}

/// A change a merge refused, for the admins' "refused changes" view.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RefusedChange {
    /// The Automerge change hash (hex).
    pub hash: String,
    pub doc_id: String,
    /// The actor id the change claims (hex).
    pub actor: String,
    /// The device that actor names, if any (hex).
    pub device: Option<String>,
    /// Why it was refused.
    pub reason: String,
    /// The peer (or `bundle:<device>`) it came from.
    pub origin: Option<String>,
    /// When (ms since the epoch).
    pub at: i64,
}

impl Store {
    /// Changes refused in `community`, newest first.
    pub fn refused_changes(&self, community: &str) -> Result<Vec<RefusedChange>> {
        let mut st = self.conn.prepare_cached(
            "SELECT hash, doc_id, actor, device, reason, origin, at FROM refused_changes
             WHERE community_id = ?1 ORDER BY at DESC",
        )?;
        let rows = st.query_map([community], |r| {
            Ok(RefusedChange {
                hash: hex::encode(r.get::<_, Vec<u8>>(0)?),
                doc_id: r.get(1)?,
                actor: r.get(2)?,
                device: r.get(3)?,
                reason: r.get(4)?,
                origin: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stored signatures of `doc`'s changes: all, or those of `hashes`.
    pub fn sigs(
        &self,
        doc: &str,
        hashes: Option<&[[u8; 32]]>,
    ) -> Result<Vec<outpost_sync::changes::ChangeSig>> {
        let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(Vec<u8>, Vec<u8>)> {
            Ok((r.get(0)?, r.get(1)?))
        };
        let rows: Vec<(Vec<u8>, Vec<u8>)> = match hashes {
            None => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT hash, sig FROM change_sigs WHERE doc_id = ?1")?;
                st.query_map([doc], row)?.collect::<rusqlite::Result<_>>()?
            }
            Some(hashes) => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT hash, sig FROM change_sigs WHERE hash = ?1")?;
                let mut out = Vec::new();
                for h in hashes {
                    if let Some(r) = st.query_row([h.to_vec()], row).optional()? {
                        out.push(r);
                    }
                }
                out
            }
        };
        Ok(rows
            .into_iter()
            .filter_map(|(h, sig)| {
                Some(outpost_sync::changes::ChangeSig {
                    hash: h.try_into().ok()?,
                    sig,
                })
            })
            .collect())
    }
}
