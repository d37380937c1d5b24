//! Helpers for tests and benchmarks (the `testing` feature): what a test
//! needs beneath the API — a raw node, one-shot sessions, the store key —
//! to play a modified client or to check what an operation wrote. Front
//! ends never enable this feature (an architecture test checks).

use crate::keys::{self, HomeFile, Unlock};
use crate::{CoreError, Outpost, Result};
use outpost_net::{EndpointAddr, NetConfig, Node};
use outpost_store::StoreKey;
use std::path::Path;

pub use crate::running::{ChangedDoc, SyncSummary};

/// Invitations to redeem in a session: (community, one-time secret).
pub type Joins = Vec<(String, [u8; 32])>;

/// Starts `op`'s network node without dialling or pushing, and records
/// its address (so invitations carry it).
pub async fn node(op: &Outpost, config: &NetConfig) -> Result<Node> {
    let node = op.node(config).await?;
    op.set_node_addr(&node.addr())?;
    Ok(node)
}

/// Runs one session with each peer in turn until reconciled.
pub async fn sync_once(node: &Node, peers: Vec<(EndpointAddr, Joins)>) -> SyncSummary {
    crate::running::sync_once(node, peers).await
}

/// Watches `op`'s change feed (see [`Outpost::watch_changes`]).
pub fn watch_feed(
    op: &Outpost,
    every: std::time::Duration,
    on_change: impl FnMut(&[ChangedDoc]) + Send + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    op.watch_changes(every, on_change)
}

/// The key that opens the store of `home`, unlocked with `unlock`.
pub fn store_key(home: &Path, unlock: &Unlock) -> Result<StoreKey> {
    let spec = HomeFile::load(home)?.ok_or_else(|| CoreError::NotInitialized(home.into()))?;
    keys::resolve(&spec.key, unlock)
}

/// The parts of an invitation ticket (community, secret, inviter): what a
/// test redeems by hand, without the rest of the join flow.
pub fn invite_parts(ticket: &str) -> Result<(String, [u8; 32], EndpointAddr)> {
    use outpost_net::Ticket;
    let t = outpost_net::InviteTicket::decode_string(ticket.trim())
        .map_err(|e| CoreError::Home(e.to_string()))?;
    Ok((t.community, t.secret, t.inviter))
}

/// An invitation with any lifetime (an already expired one, say), past the
/// limits [`Outpost::invite`] enforces.
pub fn invite_with_ttl(
    op: &Outpost,
    community: &outpost_model::CommunityId,
    ttl: std::time::Duration,
) -> Result<crate::Invitation> {
    op.invite_for(community, ttl)
}

/// Records `addr` as where `op`'s node listens (what invitations carry).
pub fn set_node_addr(op: &Outpost, addr: &EndpointAddr) -> Result<()> {
    op.set_node_addr(addr)
}
