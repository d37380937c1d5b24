//! Communities, members, invitations and the demo, as people read them.

use super::{Human, indent, short, when};
use outpost_core::{Community, CommunityRow, DemoSummary, Invitation, MemberInfo};
use serde::Serialize;
use std::io::{Result, Write};

impl Human for CommunityRow {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "{}  {}  ({} members, {} items)",
            short(&self.id),
            self.name,
            self.members,
            self.items
        )
    }
}

impl Human for Community {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "{}  ({})\n\nDomain:\n{}",
            self.name,
            self.id,
            indent(&self.domain)
        )?;
        if !self.charter.is_empty() {
            writeln!(w, "Charter:\n{}", indent(&self.charter))?;
        }
        writeln!(w, "Members:")?;
        for m in &self.members {
            let about: Vec<&str> = [m.profession.as_deref(), m.region.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            writeln!(
                w,
                "    {} [{}] {}  {}",
                m.name,
                m.role,
                about.join(", "),
                m.expertise.join(" ")
            )?;
        }
        Ok(())
    }
}

impl Human for MemberInfo {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let m = &self.member;
        let about: Vec<&str> = [m.profession.as_deref(), m.region.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let you = if self.you { " (you)" } else { "" };
        writeln!(
            w,
            "{}  {:<7} {}{you}  {}  {}",
            short(&m.id.to_hex()),
            m.role,
            m.name,
            about.join(", "),
            m.expertise.join(" ")
        )
    }
}

/// A membership change: who, and their role now ("removed" when removed).
#[derive(Serialize)]
pub struct MemberChanged<'a> {
    pub id: &'a str,
    pub role: &'a str,
}

impl Human for MemberChanged<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        if self.role == "removed" {
            writeln!(
                w,
                "Removed {}. They keep what they already had, and receive nothing new.",
                short(self.id)
            )
        } else {
            writeln!(w, "{} is now {}.", short(self.id), self.role)
        }
    }
}

impl Human for outpost_core::PendingInvite {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "{}  made {}  valid until {}",
            self.id,
            when(self.created_at),
            when(self.expires_at)
        )
    }
}

impl Human for outpost_core::RefusedChange {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let device = self.device.as_deref().map_or("no device", |d| short(d));
        let from = self.origin.as_deref().map_or("?", |o| short(o));
        writeln!(
            w,
            "{}  change {} to {} as device {}, from {}: refused because {}",
            when(self.at),
            short(&self.hash),
            self.doc_id,
            device,
            from,
            self.reason
        )
    }
}

impl Human for outpost_core::ForkRow {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "device {} forked the history of {} at change {} (reported by {}): its changes there are refused from that point on",
            short(&self.device),
            self.doc,
            self.seq,
            short(&self.reporter)
        )
    }
}

/// What `outpost refused` shows admins: devices proven to have forked,
/// then the refused changes.
#[derive(Serialize)]
pub struct Trust<'a> {
    pub forks: &'a [outpost_core::ForkRow],
    pub refused: &'a [outpost_core::RefusedChange],
}

impl Human for Trust<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        if !self.forks.is_empty() {
            writeln!(w, "Devices that forked their history:")?;
            self.forks.human(w)?;
            writeln!(w)?;
        }
        if self.refused.is_empty() {
            writeln!(w, "No refused changes.")?;
        }
        self.refused.human(w)
    }
}

/// A revoked invitation.
#[derive(Serialize)]
pub struct Revoked<'a> {
    pub id: &'a str,
}

impl Human for Revoked<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "Revoked invitation {}: its ticket no longer works.",
            self.id
        )
    }
}

/// An invitation, with the community's name where the JSON has always had it.
#[derive(Serialize)]
pub struct Invited<'a> {
    pub ticket: &'a str,
    pub id: &'a str,
    pub community: &'a str,
    pub name: &'a str,
    pub expires_at: i64,
}

impl<'a> From<&'a Invitation> for Invited<'a> {
    fn from(i: &'a Invitation) -> Self {
        Invited {
            ticket: &i.ticket,
            id: &i.id,
            community: &i.community,
            name: &i.community_name,
            expires_at: i.expires_at,
        }
    }
}

impl Human for Invited<'_> {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        writeln!(
            w,
            "Invitation to '{}' (valid until {}, one use):\n\n{}\n",
            self.name,
            when(self.expires_at),
            self.ticket
        )?;
        writeln!(
            w,
            "The invitee runs `outpost join` and pastes it when asked. \
             List pending invitations with `outpost invites`; revoke this one with \
             `outpost revoke-invite {}`.",
            self.id
        )?;
        writeln!(
            w,
            "Keep `outpost serve` running so they can reach you (on a LAN it is found by mDNS)."
        )
    }
}

impl Human for DemoSummary {
    fn human(&self, w: &mut dyn Write) -> Result<()> {
        let verb = if self.created { "Created" } else { "Opened" };
        writeln!(
            w,
            "{verb} the demo community '{}' ({}) with {} items.",
            self.name, self.community, self.items
        )?;
        writeln!(
            w,
            "Try: outpost list --community {}   or   outpost search sepsis",
            short(&self.community)
        )
    }
}
