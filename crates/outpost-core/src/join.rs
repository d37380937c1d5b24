//! Joining a community with an invitation: one flow both front ends call.
//! The invitee proves the ticket's secret to the inviter over the
//! authenticated connection, an admin there signs the `Add`, the community
//! arrives, and the newcomer introduces themselves (publishes a profile).

use crate::running::{SyncSummary, sync_once};
use crate::{CoreError, Outpost, Result, now_ms};
use outpost_model::{CommunityId, Problem, ValidationError};
use outpost_net::{InviteTicket, NetConfig, Node, Ticket};
use serde::Serialize;

/// A community joined.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Joined {
    /// The community's id.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// Documents received.
    pub docs_in: u64,
    /// Bytes received.
    pub bytes_in: u64,
}

/// An invitation ticket a user pasted, checked.
struct Invite {
    ticket: InviteTicket,
    community: CommunityId,
}

/// Checks an invitation ticket a user pasted.
fn parse_invite(ticket: &str) -> Result<Invite> {
    let not_one = || ValidationError::new("ticket", Problem::NotAnInvitation);
    let t = InviteTicket::decode_string(ticket.trim()).map_err(|_| not_one())?;
    let community = CommunityId::parse(&t.community).map_err(|_| not_one())?;
    if t.expires_at < now_ms() {
        return Err(ValidationError::new("ticket", Problem::InvitationExpired).into());
    }
    Ok(Invite {
        ticket: t,
        community,
    })
}

/// Redeems an invitation with the inviter over `node`: proves the secret,
/// is added, and receives the community.
async fn redeem(node: &Node, ticket: &InviteTicket) -> Result<SyncSummary> {
    let joins = vec![(ticket.community.clone(), ticket.secret)];
    let summary = sync_once(node, vec![(ticket.inviter.clone(), joins)]).await;
    if !summary.converged {
        let reasons = summary.failures();
        return Err(CoreError::JoinFailed {
            name: ticket.name.clone(),
            reason: if reasons.is_empty() {
                "the inviter did not answer".to_string()
            } else {
                reasons
            },
        });
    }
    Ok(summary)
}

impl Outpost {
    /// Joins over a node that is already running (the desktop app's): the
    /// profile reaches the community at that node's next session.
    pub async fn join(&mut self, running: &crate::Running, ticket: &str) -> Result<Joined> {
        let invite = parse_invite(ticket)?;
        let summary = redeem(running.node(), &invite.ticket).await?;
        self.after_join(&invite)?;
        Ok(joined(&invite, &summary))
    }

    /// Joins with a node of its own (the CLI): redeems, introduces this
    /// member, and sends the profile back before closing the node.
    pub async fn join_once(&mut self, config: &NetConfig, ticket: &str) -> Result<Joined> {
        let invite = parse_invite(ticket)?;
        let node = self.node(config).await?;
        let redeemed = redeem(&node, &invite.ticket).await;
        node.shutdown().await;
        let summary = redeemed?;
        self.after_join(&invite)?;
        let node = self.node(config).await?;
        let pushed = sync_once(&node, vec![(invite.ticket.inviter.clone(), vec![])]).await;
        node.shutdown().await;
        if !pushed.converged {
            tracing::warn!("joined, but the profile will reach the community at the next sync");
        }
        Ok(joined(&invite, &summary))
    }

    /// Remembers the inviter as a peer and publishes this member's profile
    /// in the community (sent at the next sync).
    fn after_join(&mut self, invite: &Invite) -> Result<()> {
        self.remember_peer(&invite.ticket.inviter)?;
        self.publish_profile(&invite.community)
    }
}

fn joined(invite: &Invite, s: &SyncSummary) -> Joined {
    Joined {
        community: invite.community.clone(),
        name: invite.ticket.name.clone(),
        docs_in: s.peers.iter().map(|p| p.docs_in).sum(),
        bytes_in: s.peers.iter().map(|p| p.bytes_in).sum(),
    }
}
