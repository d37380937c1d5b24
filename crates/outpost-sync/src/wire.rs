//! Wire format of `outpost/sync/1`: length-delimited frames (u32 big-endian
//! length, then a postcard-encoded [`Msg`]), each capped at [`MAX_FRAME`].
//! A length prefix from a peer is never trusted: anything over the cap is
//! refused before a byte of it is buffered.

pub use crate::changes::ChangeSig;
use serde::{Deserialize, Serialize};

/// Version of the message set below. Peers with another version get a
/// `Bye` naming both and the session ends. 2: membership is a log of its
/// own (`OpHeads`, `Ops`), no longer a list inside the community document.
/// 3: every change travels with its signature. 4: `Gone`, and fork
/// proofs in the log. 5: change signatures name their document.
/// 6: `Unshared`, a first copy for a member added by device id, and
/// `DocPart` for documents bigger than a frame.
pub const PROTOCOL_VERSION: u16 = 6;
/// The largest frame accepted or sent.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;
/// A document whose bytes and signatures come to more than this is sent
/// as `DocPart`s of at most this much each (a change is at most
/// [`crate::changes::MAX_CHANGE`], so every part fits a frame).
pub const PART: usize = 4 * 1024 * 1024;
/// What one change's signature adds to a frame, about (hash, signature,
/// lengths).
pub const SIG_BYTES: usize = 100;
/// Documents announced per `Changes` page.
pub const PAGE: usize = 500;

pub type Hash = [u8; 32];

/// A community offered in `Hello`, with its digest: equal digests mean
/// "nothing to do" in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub community: String,
    pub digest: Hash,
    /// The sender's feed position for this community, read in the same
    /// snapshot as the digest: with equal digests, the receiver holds
    /// everything up to here and can move its checkpoint.
    pub feed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    pub id: String,
    pub heads: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// First message each way: the communities the sender will share with
    /// this peer (only those the peer is a member of).
    Hello { version: u16, offers: Vec<Offer> },
    /// Invitee → inviter: the one-time secret from a ticket.
    Join { community: String, secret: Hash },
    /// Inviter → invitee: the outcome of `Join`.
    Joined {
        community: String,
        ok: bool,
        reason: String,
    },
    /// "Tell me which of your documents changed after `since` in your feed."
    Since { community: String, since: u64 },
    /// One page of the answer to `Since`. `up_to` is the feed position the
    /// whole answer covers; `last` marks the final page.
    Changes {
        community: String,
        docs: Vec<DocHeads>,
        up_to: u64,
        last: bool,
    },
    /// "Send me these documents whole" (ones I do not have at all).
    Fetch {
        community: String,
        docs: Vec<String>,
    },
    /// A whole document (Automerge `save()` bytes), with the signature of
    /// every change in it.
    Doc {
        community: String,
        id: String,
        bytes: Vec<u8>,
        sigs: Vec<ChangeSig>,
    },
    /// An Automerge sync message for one document, with the signatures of
    /// the changes it carries.
    Sync {
        community: String,
        id: String,
        msg: Vec<u8>,
        sigs: Vec<ChangeSig>,
    },
    /// The sender holds everything the receiver announced for `community`.
    Synced { community: String },
    /// The sender is closing the session, with a reason.
    Bye { reason: String },
    /// The heads of the sender's membership log for `community`: the
    /// receiver sends the ops not in their past (`Ops`), and announces its
    /// own heads if some of these are new to it.
    OpHeads { community: String, heads: Vec<Hash> },
    /// Signed membership ops (`membership::SignedOp` bytes) the receiver
    /// lacks; each is verified on its own before it is kept.
    Ops {
        community: String,
        ops: Vec<Vec<u8>>,
    },
    /// Documents a `Fetch` named that the sender no longer holds (its
    /// membership changed and nothing of them counts any more): the
    /// receiver stops waiting for them.
    Gone {
        community: String,
        docs: Vec<String>,
    },
    /// Part of a document too big for one `Doc` frame, sent in answer to a
    /// `Fetch`: a causally closed run of its changes (Automerge change
    /// chunks, in the order `get_changes` gives, so each part merges on
    /// its own) with their signatures; `last` marks the final part.
    DocPart {
        community: String,
        id: String,
        bytes: Vec<u8>,
        sigs: Vec<ChangeSig>,
        last: bool,
    },
    /// In answer to `Hello`: the sender will not share `community`, which
    /// the receiver offered (it holds none of it and will not take it, or
    /// does not hold the receiver as a member). The receiver stops waiting
    /// for it.
    Unshared { community: String },
}

impl Msg {
    /// A one-line description for logs: the kind, the document and the
    /// sizes, never the content.
    pub fn summary(&self) -> String {
        let short = |id: &str| id.chars().take(12).collect::<String>();
        match self {
            Msg::Hello { offers, .. } => format!("Hello ({} offers)", offers.len()),
            Msg::Join { .. } => "Join".into(),
            Msg::Joined { ok, .. } => format!("Joined ok={ok}"),
            Msg::Since { since, .. } => format!("Since {since}"),
            Msg::Changes {
                docs, up_to, last, ..
            } => format!("Changes {} docs up_to={up_to} last={last}", docs.len()),
            Msg::Fetch { docs, .. } => format!("Fetch {} docs", docs.len()),
            Msg::Doc { id, bytes, .. } => format!("Doc {} ({} B)", short(id), bytes.len()),
            Msg::Sync { id, msg, .. } => format!("Sync {} ({} B)", short(id), msg.len()),
            Msg::Synced { .. } => "Synced".into(),
            Msg::Bye { reason } => format!("Bye {reason}"),
            Msg::OpHeads { heads, .. } => format!("OpHeads ({} heads)", heads.len()),
            Msg::Ops { ops, .. } => format!("Ops ({} ops)", ops.len()),
            Msg::Gone { docs, .. } => format!("Gone {} docs", docs.len()),
            Msg::Unshared { .. } => "Unshared".into(),
            Msg::DocPart {
                id, bytes, last, ..
            } => {
                format!("DocPart {} ({} B, last={last})", short(id), bytes.len())
            }
        }
    }

    /// Every community and document id the message names.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Msg::Hello { offers, .. } => offers.iter().map(|o| o.community.as_str()).collect(),
            Msg::Bye { .. } => vec![],
            Msg::Join { community, .. }
            | Msg::Joined { community, .. }
            | Msg::Since { community, .. }
            | Msg::Synced { community }
            | Msg::Unshared { community }
            | Msg::OpHeads { community, .. }
            | Msg::Ops { community, .. } => vec![community],
            Msg::Changes {
                community, docs, ..
            } => std::iter::once(community.as_str())
                .chain(docs.iter().map(|d| d.id.as_str()))
                .collect(),
            Msg::Fetch { community, docs } | Msg::Gone { community, docs } => {
                std::iter::once(community.as_str())
                    .chain(docs.iter().map(String::as_str))
                    .collect()
            }
            Msg::Doc { community, id, .. }
            | Msg::Sync { community, id, .. }
            | Msg::DocPart { community, id, .. } => {
                vec![community, id]
            }
        }
    }

    /// The community whose data the message carries (None for the
    /// handshake: `Hello`, `Unshared`, `Bye`); what the wire counters count
    /// as community bytes.
    pub fn community(&self) -> Option<&str> {
        match self {
            Msg::Hello { .. } | Msg::Bye { .. } => None,
            Msg::Join { community, .. }
            | Msg::Joined { community, .. }
            | Msg::Since { community, .. }
            | Msg::Changes { community, .. }
            | Msg::Fetch { community, .. }
            | Msg::Gone { community, .. }
            | Msg::Doc { community, .. }
            | Msg::DocPart { community, .. }
            | Msg::Sync { community, .. }
            | Msg::Synced { community }
            | Msg::OpHeads { community, .. }
            | Msg::Ops { community, .. } => Some(community),
            // Names only a community the peer itself offered, and carries
            // nothing of it: handshake, like `Hello`.
            Msg::Unshared { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    Oversized(usize),
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Encodes one message as a frame.
pub fn encode(msg: &Msg) -> Result<Vec<u8>, FrameError> {
    let body = postcard::to_allocvec(msg).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(FrameError::Oversized(body.len()));
    }
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Incremental frame decoder: feed bytes as they arrive, take messages out.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The length of the next frame's body, once its prefix has arrived;
    /// an oversized prefix is an error before any body is buffered.
    pub fn wanted(&self) -> Result<Option<usize>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_FRAME {
            return Err(FrameError::Oversized(len));
        }
        Ok(Some(len))
    }

    /// The next complete message, if one has arrived.
    pub fn next_msg(&mut self) -> Result<Option<Msg>, FrameError> {
        let Some(len) = self.wanted()? else {
            return Ok(None);
        };
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let msg = postcard::from_bytes(&self.buf[4..4 + len])
            .map_err(|e| FrameError::Malformed(e.to_string()));
        self.buf.drain(..4 + len);
        msg.map(Some)
    }

    /// Bytes received but not yet part of a whole frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Decodes exactly one frame from a complete buffer (for fuzzing and tests).
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Msg>, FrameError> {
    let mut d = Decoder::default();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(m) = d.next_msg()? {
        out.push(m);
    }
    if d.pending() > 0 {
        return Err(FrameError::Malformed(format!(
            "{} trailing bytes",
            d.pending()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_split_anywhere() {
        let msgs = vec![
            Msg::Hello {
                version: PROTOCOL_VERSION,
                offers: vec![Offer {
                    community: "c".into(),
                    digest: [7; 32],
                    feed: 3,
                }],
            },
            Msg::Sync {
                community: "c".into(),
                id: "d".into(),
                msg: vec![1, 2, 3],
                sigs: vec![],
            },
        ];
        let bytes: Vec<u8> = msgs.iter().flat_map(|m| encode(m).unwrap()).collect();
        for split in 0..bytes.len() {
            let mut d = Decoder::default();
            d.push(&bytes[..split]);
            let mut got = Vec::new();
            while let Some(m) = d.next_msg().unwrap() {
                got.push(m);
            }
            d.push(&bytes[split..]);
            while let Some(m) = d.next_msg().unwrap() {
                got.push(m);
            }
            assert_eq!(got, msgs);
        }
    }

    #[test]
    fn refuses_oversized_prefix_before_buffering() {
        let mut d = Decoder::default();
        d.push(&u32::MAX.to_be_bytes());
        assert!(matches!(d.next_msg(), Err(FrameError::Oversized(_))));
    }

    #[test]
    fn refuses_garbage() {
        let mut frame = 5u32.to_be_bytes().to_vec();
        frame.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(decode_all(&frame), Err(FrameError::Malformed(_))));
        assert!(decode_all(&[0, 0]).is_err(), "truncated prefix");
    }
}
