//! What a session needs from local storage, and how a session fails.

use crate::membership::Key;
use crate::wire::{ChangeSig, DocHeads, Hash, Offer, PROTOCOL_VERSION};
use automerge::AutoCommit;

/// What [`Repo::merge`] did with a peer's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// Not a well-formed document of the community: nothing was kept.
    NotADocument,
    /// Merged, leaving out `refused` changes.
    Merged { refused: usize },
}

/// The signed ops a peer lacks, and the hashes it named that are not held
/// here ([`Repo::ops_missing`]).
pub type OpsMissing = (Vec<Vec<u8>>, Vec<Hash>);

/// What a session needs from local storage.
pub trait Repo {
    type Error: std::fmt::Display;
    /// This device's public key.
    fn device(&self) -> Key;
    /// Communities held here that `peer` is a member of, with digests.
    fn offers_for(&mut self, peer: &Key) -> Result<Vec<Offer>, Self::Error>;
    /// Whether `peer` is currently a member of `community` (false if unknown).
    fn is_member(&mut self, community: &str, peer: &Key) -> Result<bool, Self::Error>;
    /// Whether `peer` was a member of `community` and was removed.
    fn was_removed(&mut self, community: &str, peer: &Key) -> Result<bool, Self::Error>;
    /// This side's checkpoint in `peer`'s feed for `community`.
    fn checkpoint(&mut self, peer: &Key, community: &str) -> Result<u64, Self::Error>;
    fn set_checkpoint(
        &mut self,
        peer: &Key,
        community: &str,
        up_to: u64,
    ) -> Result<(), Self::Error>;
    /// `peer` holds everything in this side's feed for `community` up to
    /// `up_to` (for "pending out" counts).
    fn set_ack(&mut self, peer: &Key, community: &str, up_to: u64) -> Result<(), Self::Error>;
    /// Documents of `community` changed after `since` in the local feed:
    /// at most `limit`, with the feed position they reach and whether that
    /// is the end of the feed.
    fn changed_since(
        &mut self,
        community: &str,
        since: u64,
        limit: usize,
    ) -> Result<(Vec<DocHeads>, u64, bool), Self::Error>;
    /// Sorted heads of a document, if held and part of `community`.
    fn heads(&mut self, community: &str, doc: &str) -> Result<Option<Vec<Hash>>, Self::Error>;
    /// A document of `community`, if held.
    fn load(&mut self, community: &str, doc: &str) -> Result<Option<AutoCommit>, Self::Error>;
    /// Merges Automerge bytes (a whole document or changes) into a document
    /// of `community` received from `peer`, with the signatures `sig_of`
    /// gives for its changes ([`crate::changes::merge_checked`]: a new
    /// change is kept only if validly signed by a member's device, and
    /// refused changes are recorded with their reasons). Must refuse
    /// anything that is not a well-formed document of that community.
    fn merge(
        &mut self,
        peer: &Key,
        community: &str,
        doc: &str,
        bytes: &[u8],
        sig_of: &dyn Fn(&Hash) -> Option<Vec<u8>>,
    ) -> Result<Merged, Self::Error>;
    /// The stored signatures of `doc`'s changes: all of them, or those of
    /// `hashes`.
    fn sigs(&mut self, doc: &str, hashes: Option<&[Hash]>) -> Result<Vec<ChangeSig>, Self::Error>;
    fn sync_state(&mut self, peer: &Key, doc: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    fn set_sync_state(&mut self, peer: &Key, doc: &str, state: &[u8]) -> Result<(), Self::Error>;
    /// The peer holds `heads` of `doc`: record that the item reached another member.
    fn peer_has(&mut self, doc: &str, heads: &[Hash]) -> Result<(), Self::Error>;
    /// Sorted heads of `community`'s membership log held here (empty when
    /// none is held).
    fn op_heads(&mut self, community: &str) -> Result<Vec<Hash>, Self::Error>;
    /// The signed ops of `community`'s log that a peer holding `known` (and
    /// their causal past) lacks ([`crate::membership::not_in_past_of`]),
    /// and the hashes of `known` not held here.
    fn ops_missing(&mut self, community: &str, known: &[Hash]) -> Result<OpsMissing, Self::Error>;
    /// Adds ops received from `peer` to `community`'s log, append-only:
    /// each is verified on its own (signature, community) and kept if new;
    /// membership is recomputed from the whole log. Returns how many were
    /// new.
    fn add_ops(
        &mut self,
        peer: &Key,
        community: &str,
        ops: &[Vec<u8>],
    ) -> Result<usize, Self::Error>;
    /// Changes a peer sent that reuse an (actor, seq) held here with other
    /// contents ([`crate::changes::Equivocation`]): proof that their device
    /// forked document `doc`. The repo keeps the proof where it travels
    /// (a signed `Forked` op in the community's log) and from then on
    /// counts none of that actor's changes to `doc` from the fork on.
    fn report_forks(
        &mut self,
        community: &str,
        doc: &str,
        forks: &[crate::changes::Equivocation],
    ) -> Result<(), Self::Error>;
    /// Redeems a one-time invite secret for `peer`: on success the peer is
    /// now a member (an admin here signed its `Add`).
    fn redeem_invite(
        &mut self,
        community: &str,
        peer: &Key,
        secret: &Hash,
    ) -> Result<Result<(), String>, Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(
        "the peer runs another version of Outpost (sync protocol {0}, this one speaks \
         {PROTOCOL_VERSION}); both must run the same release to sync"
    )]
    Version(u16),
    #[error("peer sent a bad Automerge sync message for {doc}: {reason}")]
    BadSync { doc: String, reason: String },
    #[error("peer sent a document that is not part of community {community}: {doc}")]
    BadDoc { community: String, doc: String },
    #[error("peer sent {0} before Hello")]
    OutOfOrder(&'static str),
    #[error("peer sent a malformed id: {0:?}")]
    BadId(String),
    #[error("peer closed the session: {0}")]
    PeerBye(String),
    #[error("peer sent too much: {0}")]
    Excess(String),
    #[error("storage: {0}")]
    Repo(String),
}
