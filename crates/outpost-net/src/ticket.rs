//! Invitation tickets: everything an invitee needs to join, as one string
//! (and a QR code in the app). `outpostinvite` + base32 of postcard bytes.

use iroh::EndpointAddr;
use iroh_tickets::{ParseError, Ticket};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteTicket {
    pub community: String,
    /// The community's name, so the invitee sees what they are joining.
    pub name: String,
    /// Where the inviter (or the hub that holds the invitation) listens.
    pub inviter: EndpointAddr,
    /// One-time secret, proven over the authenticated connection.
    pub secret: [u8; 32],
    /// Unix milliseconds after which the invitation is refused.
    pub expires_at: i64,
}

impl Ticket for InviteTicket {
    const KIND: &'static str = "outpostinvite";

    fn encode_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    fn decode_bytes(bytes: &[u8]) -> Result<Self, ParseError> {
        postcard::from_bytes(bytes)
            .map_err(|_| ParseError::verification_failed("not an Outpost invitation"))
    }
}

/// Parses what a user pasted: an invitation or a node's address ticket.
pub fn parse_peer(text: &str) -> Result<(EndpointAddr, Option<InviteTicket>), String> {
    let text = text.trim();
    if let Ok(t) = InviteTicket::decode_string(text) {
        return Ok((t.inviter.clone(), Some(t)));
    }
    if let Ok(t) = iroh_tickets::endpoint::EndpointTicket::decode_string(text) {
        return Ok((t.endpoint_addr().clone(), None));
    }
    Err(format!(
        "'{}' is not an Outpost invitation or a node address ticket",
        text.chars().take(24).collect::<String>()
    ))
}

/// A node's address as a ticket string others can paste.
pub fn addr_ticket(addr: &EndpointAddr) -> String {
    iroh_tickets::endpoint::EndpointTicket::new(addr.clone()).encode_string()
}
