//! Membership: invitations (one-time tickets, with lifetime limits),
//! members as every peer computes them from the signed ops, and the admin
//! operations that sign new ops (add by device id, remove, change role).

use crate::sync::repo::append_op;
use crate::{CoreError, Denied, Outpost, Result, now_ms};
use outpost_model::{CommunityId, DeviceId, Member, Problem, Role, ValidationError};
use outpost_net::Ticket;
use outpost_store::PendingInvite;
use outpost_store::RefusedChange;
use outpost_sync::membership::OpKind;
use serde::Serialize;
use std::time::Duration;

/// The shortest invitation lifetime accepted.
pub const MIN_INVITE_TTL: Duration = Duration::from_secs(10 * 60);
/// The longest invitation lifetime accepted: a ticket is a secret, and an
/// old one lying in a chat history should not still open the community.
pub const MAX_INVITE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// How long an invitation stays valid unless told otherwise.
pub const DEFAULT_INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A one-time invitation, as the inviter shows it (text and QR code).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    /// The ticket to hand the invitee.
    pub ticket: String,
    /// What the invitation is listed and revoked by (not a secret).
    pub id: String,
    /// The community's id.
    pub community: CommunityId,
    /// The community's name.
    pub community_name: String,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
}

/// A member as `member list` shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberInfo {
    /// The member, with their role and profile.
    #[serde(flatten)]
    pub member: Member,
    /// This device.
    pub you: bool,
}

impl Outpost {
    /// Creates a one-time invitation to `community`, valid for `ttl`
    /// ([`DEFAULT_INVITE_TTL`] when `None`; between [`MIN_INVITE_TTL`] and
    /// [`MAX_INVITE_TTL`]). Only admins can invite (they sign the invitee's
    /// `Add`).
    pub fn invite(&self, community: &CommunityId, ttl: Option<Duration>) -> Result<Invitation> {
        let ttl = ttl.unwrap_or(DEFAULT_INVITE_TTL);
        if !(MIN_INVITE_TTL..=MAX_INVITE_TTL).contains(&ttl) {
            let show = |d: Duration| humantime::format_duration(d).to_string();
            return Err(ValidationError::new(
                "expires",
                Problem::OutOfRange {
                    value: show(ttl),
                    min: show(MIN_INVITE_TTL),
                    max: show(MAX_INVITE_TTL),
                },
            )
            .into());
        }
        self.invite_for(community, ttl)
    }

    /// [`Outpost::invite`] without the lifetime limits.
    pub(crate) fn invite_for(&self, community: &CommunityId, ttl: Duration) -> Result<Invitation> {
        let c = self.community(community)?;
        if !self.is_admin(&c.id)? {
            return Err(Denied::NotAdmin { community: c.name }.into());
        }
        let secret: [u8; 32] = crate::random_bytes()?;
        let now = now_ms();
        let expires_at = now + ttl.as_millis() as i64;
        self.store.create_invite(&secret, &c.id, now, expires_at)?;
        let ticket = outpost_net::InviteTicket {
            community: c.id.to_string(),
            name: c.name.clone(),
            inviter: self.node_addr()?,
            secret,
            expires_at,
        };
        Ok(Invitation {
            ticket: ticket.encode_string(),
            id: outpost_store::invite_id(&secret),
            community: c.id,
            community_name: c.name,
            expires_at,
        })
    }

    /// The invitations to `community` not yet redeemed, revoked or
    /// expired (admins only).
    pub fn pending_invites(&self, community: &CommunityId) -> Result<Vec<PendingInvite>> {
        self.check_admin(community)?;
        Ok(self.store.pending_invites(community, now_ms())?)
    }

    /// Changes peers offered in `community` that this device refused, and
    /// why: not signed by the device they claim, or by a device that is not
    /// a member (admins only), newest first.
    pub fn refused_changes(&self, community: &CommunityId) -> Result<Vec<RefusedChange>> {
        self.check_admin(community)?;
        Ok(self.store.refused_changes(community)?)
    }

    /// Devices proven to have forked a document's history in `community`
    /// (admins only): each refused from the fork on by every peer that
    /// holds the proof.
    pub fn forks(&self, community: &CommunityId) -> Result<Vec<outpost_store::ForkRow>> {
        self.check_admin(community)?;
        Ok(self.store.forks(community)?)
    }

    /// Revokes a pending invitation by its id (admins only): its ticket no
    /// longer opens the community, and its secret is deleted.
    pub fn revoke_invite(&self, community: &CommunityId, invitation: &str) -> Result<()> {
        self.check_admin(community)?;
        let wanted = invitation.trim();
        if wanted.len() != 16 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ValidationError::new(
                "invitation",
                Problem::NotOneOf {
                    value: wanted.chars().take(40).collect(),
                    allowed: vec!["the 16-digit id `invite list` shows".into()],
                },
            )
            .into());
        }
        if self.store.revoke_invite(community, wanted)? {
            Ok(())
        } else {
            Err(CoreError::NotFound(wanted.to_string()))
        }
    }

    pub(crate) fn check_admin(&self, community: &CommunityId) -> Result<()> {
        if self.is_admin(community)? {
            return Ok(());
        }
        let name = self.community(community)?.name;
        Err(Denied::NotAdmin { community: name }.into())
    }

    /// Whether this device is an admin of the community `id`.
    pub fn is_admin(&self, id: &CommunityId) -> Result<bool> {
        let me = self.key.public_hex();
        Ok(self.store.role(id, &me)? == Some(Role::Admin))
    }

    /// A community's current members, with this device marked.
    pub fn members(&self, community: &CommunityId) -> Result<Vec<MemberInfo>> {
        let me = self.key.id();
        Ok(self
            .community(community)?
            .members
            .into_iter()
            .map(|m| MemberInfo {
                you: m.id == me,
                member: m,
            })
            .collect())
    }

    /// Resolves what a user typed for a member of `community` (their
    /// display name, or a unique prefix of at least 4 digits of their
    /// device id) to their device id.
    pub fn resolve_member(&self, community: &CommunityId, who: &str) -> Result<DeviceId> {
        let current: Vec<DeviceId> = self
            .store
            .members(community)?
            .iter()
            .filter_map(|(k, _)| DeviceId::parse(k).ok())
            .collect();
        let profiles = self.community(community)?.members;
        let wanted = who.trim().to_lowercase();
        let found: Vec<DeviceId> = current
            .into_iter()
            .filter(|k| {
                k.to_hex().starts_with(&wanted) && wanted.len() >= 4
                    || profiles
                        .iter()
                        .any(|p| p.id == *k && p.name.to_lowercase() == wanted)
            })
            .collect();
        match found.as_slice() {
            [k] => Ok(*k),
            [] => Err(Denied::NoSuchMember { who: who.into() }.into()),
            more => Err(Denied::AmbiguousMember {
                who: who.into(),
                count: more.len(),
            }
            .into()),
        }
    }

    /// Adds a member by their device id (admins only), for someone who
    /// cannot redeem an invitation over a network: they read their id
    /// (`outpost whoami`) to an admin, who adds them and hands them a bundle
    /// (`outpost export`) on a USB stick.
    pub fn member_add(&mut self, c: &CommunityId, member: DeviceId) -> Result<DeviceId> {
        let key = self.key.signing().clone();
        self.store.write(|w| {
            append_op(
                w,
                &key,
                c,
                OpKind::Add {
                    member: *member.as_bytes(),
                    role: Role::Member,
                },
            )
        })?;
        Ok(member)
    }

    /// Removes a member (admins only). They keep what they already have but
    /// receive nothing new from any peer that has learned of the removal.
    /// The removal vouches for what this home holds of their writing: every
    /// peer keeps that, and refuses anything else they wrote.
    pub fn member_remove(&mut self, c: &CommunityId, member: DeviceId) -> Result<DeviceId> {
        let key = self.key.signing().clone();
        let op = OpKind::Remove {
            member: *member.as_bytes(),
            covers: self.store.covers(c.as_str(), member.as_bytes())?,
        };
        self.store.write(|w| append_op(w, &key, c, op))?;
        Ok(member)
    }

    /// Makes a member an admin, or an admin a member (admins only). A
    /// demotion vouches, as a removal does, for what this home holds of
    /// their writing as an admin.
    pub fn member_role(
        &mut self,
        c: &CommunityId,
        member: DeviceId,
        role: Role,
    ) -> Result<DeviceId> {
        let key = self.key.signing().clone();
        let op = OpKind::SetRole {
            member: *member.as_bytes(),
            role,
            covers: self.store.covers(c.as_str(), member.as_bytes())?,
        };
        self.store.write(|w| append_op(w, &key, c, op))?;
        Ok(member)
    }
}

/// Reads a device id as typed (64 hex digits), for adding a member by hand.
pub fn parse_device_id(text: &str) -> Result<DeviceId> {
    DeviceId::parse(text.trim()).map_err(|_| {
        ValidationError::new(
            "device",
            Problem::NotADeviceId {
                value: text.trim().chars().take(80).collect(),
            },
        )
        .into()
    })
}
