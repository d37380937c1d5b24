//! The session's storage: the `Repo` an `outpost_sync::Session` reads and
//! writes through, over this home's store, and the signed membership ops
//! this device appends.

use crate::{CoreError, Denied, Result, now_ms};
use automerge::AutoCommit;
use outpost_model::CommunityDoc;
use outpost_store::MergeOutcome;
use outpost_store::Store;
use outpost_sync::membership::{self, Op, OpKind, Role};
use outpost_sync::session::{Merged, OpsMissing, Repo};
use outpost_sync::wire::{ChangeSig, DocHeads, Hash, Offer};

fn hex(k: &[u8; 32]) -> String {
    hex::encode(k)
}

/// Why a merge of peer bytes did not happen: refused (rolled back), or
/// the store failed.
enum MergeError {
    Refused,
    Store(outpost_store::StoreError),
}

impl From<outpost_store::StoreError> for MergeError {
    fn from(e: outpost_store::StoreError) -> Self {
        MergeError::Store(e)
    }
}

/// The session's view of the store, for one peer.
pub(crate) struct SyncRepo<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) key: &'a ed25519_dalek::SigningKey,
}

/// Signs `kind` about a community with this device's key, on top of the
/// membership ops it knows, and appends it to the community's log, all
/// inside the caller's write transaction.
pub(crate) fn append_op(
    w: &mut outpost_store::Writer<'_>,
    key: &ed25519_dalek::SigningKey,
    community: &str,
    kind: OpKind,
) -> Result<()> {
    let m = w.membership(community)?;
    if !m.is_admin(&key.verifying_key().to_bytes()) {
        let loaded = w.load(community)?;
        return Err(Denied::NotAdmin {
            community: CommunityDoc::new(loaded.doc)?.read()?.name,
        }
        .into());
    }
    let op = membership::sign(
        key,
        &Op {
            community: community.to_string(),
            kind,
            deps: m.heads,
            time: now_ms(),
        },
    )?;
    w.add_ops(community, &[op], None)?;
    Ok(())
}

impl Repo for SyncRepo<'_> {
    type Error = CoreError;

    fn device(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn offers_for(&mut self, peer: &[u8; 32]) -> Result<Vec<Offer>> {
        Ok(self
            .store
            .offers_for(&hex(peer))?
            .into_iter()
            .map(|(community, digest, feed)| Offer {
                community,
                digest,
                feed,
            })
            .collect())
    }

    fn is_member(&mut self, community: &str, peer: &[u8; 32]) -> Result<bool> {
        Ok(self.store.is_member(community, &hex(peer))?)
    }

    fn was_removed(&mut self, community: &str, peer: &[u8; 32]) -> Result<bool> {
        Ok(self.store.was_removed(community, &hex(peer))?)
    }

    fn checkpoint(&mut self, peer: &[u8; 32], community: &str) -> Result<u64> {
        Ok(self.store.checkpoint(&hex(peer), community)?)
    }

    fn set_checkpoint(&mut self, peer: &[u8; 32], community: &str, up_to: u64) -> Result<()> {
        Ok(self.store.set_checkpoint(&hex(peer), community, up_to)?)
    }

    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool)> {
        let (docs, up_to, last) = self.store.changed_in(community, since, limit)?;
        Ok((
            docs.into_iter()
                .map(|(id, heads)| DocHeads { id, heads })
                .collect(),
            up_to,
            last,
        ))
    }

    fn set_ack(&mut self, peer: &[u8; 32], community: &str, up_to: u64) -> Result<()> {
        Ok(self.store.set_ack(&hex(peer), community, up_to)?)
    }

    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>> {
        Ok(self.store.heads_in(community, doc)?)
    }

    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>> {
        Ok(self.store.load_in(community, doc)?)
    }

    fn merge(
        &mut self,
        peer: &[u8; 32],
        community: &str,
        doc: &str,
        bytes: &[u8],
        sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
    ) -> Result<Merged> {
        let from = hex(peer);
        let r = self.store.write(|w| -> Result<usize, MergeError> {
            match w.merge_remote(community, doc, bytes, &from, sig_of)? {
                MergeOutcome::Merged { refused } => Ok(refused),
                // Rolls the transaction back.
                MergeOutcome::NotADocument => Err(MergeError::Refused),
            }
        });
        match r {
            Ok(refused) => Ok(Merged::Merged { refused }),
            Err(MergeError::Refused) => Ok(Merged::NotADocument),
            Err(MergeError::Store(e @ outpost_store::StoreError::Schema { .. })) => {
                tracing::warn!("refused a document from a peer: {e}");
                Ok(Merged::NotADocument)
            }
            Err(MergeError::Store(e)) => Err(e.into()),
        }
    }

    fn sigs(&mut self, doc: &str, hashes: Option<&[Hash]>) -> Result<Vec<ChangeSig>> {
        Ok(self.store.sigs(doc, hashes)?)
    }

    fn sync_state(&mut self, peer: &[u8; 32], doc: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.store.sync_state(&hex(peer), doc)?)
    }

    fn set_sync_state(&mut self, peer: &[u8; 32], doc: &str, state: &[u8]) -> Result<()> {
        Ok(self.store.set_sync_state(&hex(peer), doc, state)?)
    }

    fn peer_has(&mut self, doc: &str, heads: &[Hash]) -> Result<()> {
        Ok(self.store.peer_has(doc, heads)?)
    }

    fn op_heads(&mut self, community: &str) -> Result<Vec<Hash>> {
        Ok(self.store.op_heads(community)?)
    }

    fn ops_missing(&mut self, community: &str, known: &[Hash]) -> Result<OpsMissing> {
        Ok(self.store.ops_missing(community, known)?)
    }

    fn add_ops(&mut self, peer: &[u8; 32], community: &str, ops: &[Vec<u8>]) -> Result<usize> {
        let from = hex(peer);
        Ok(self
            .store
            .write(|w| w.add_ops(community, ops, Some(&from)))?)
    }

    fn report_forks(
        &mut self,
        community: &str,
        doc: &str,
        forks: &[outpost_sync::changes::Equivocation],
    ) -> Result<()> {
        Ok(self
            .store
            .write(|w| w.report_forks(community, doc, forks))?)
    }

    fn redeem_invite(
        &mut self,
        community: &str,
        peer: &[u8; 32],
        secret: &Hash,
    ) -> Result<Result<(), String>> {
        let key = self.key;
        let peer_hex = hex(peer);
        let r = self.store.write(|w| -> Result<Result<(), String>> {
            match w.redeem_invite(secret, community, &peer_hex, now_ms())? {
                Err(reason) => return Ok(Err(reason)),
                Ok(outpost_store::Redeemed::AlreadyMember) => return Ok(Ok(())),
                Ok(outpost_store::Redeemed::Fresh) => {}
            }
            append_op(
                w,
                key,
                community,
                OpKind::Add {
                    member: *peer,
                    role: Role::Member,
                },
            )?;
            Ok(Ok(()))
        });
        match r {
            // This node is not (or no longer) an admin: say why, and roll
            // back the redeemed invitation with the rest.
            Err(CoreError::Denied(d)) => Ok(Err(d.to_string())),
            other => other,
        }
    }
}
