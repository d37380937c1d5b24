//! The ids Outpost passes around, each its own type so a community id
//! cannot be handed where an item id is wanted, and each checked for form
//! once where it enters (a user's argument, a file, a peer's message, a
//! document field) so an id never carries control characters, escapes or
//! multi-byte text into storage, logs, paths or a terminal.
//!
//! Outpost makes community, item and post ids as UUIDs; [`is_valid_id`] is
//! the form any of them may take. A [`DeviceId`] is an ed25519 public key,
//! written as 64 lowercase hex digits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest id accepted (a UUID is 36 characters).
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` is a well-formed id: 1 to [`MAX_ID_LEN`] ASCII letters,
/// digits, `-` or `_`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Text that is not a well-formed id of the kind wanted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown:?} is not a valid id")]
pub struct BadId {
    /// Which kind of id was wanted ("community", "item", "post", "device").
    pub what: &'static str,
    /// The text, cut to a readable length.
    pub shown: String,
}

impl BadId {
    fn new(what: &'static str, text: &str) -> Self {
        BadId {
            what,
            shown: text.chars().take(80).collect(),
        }
    }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::try_from(text).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// Checks `text`'s form.
            pub fn parse(text: &str) -> Result<Self, BadId> {
                if is_valid_id(text) {
                    Ok($name(text.to_owned()))
                } else {
                    Err(BadId::new($what, text))
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(text: &str) -> Result<Self, BadId> {
                Self::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = BadId;
            fn try_from(text: String) -> Result<Self, BadId> {
                if is_valid_id(&text) {
                    Ok($name(text))
                } else {
                    Err(BadId::new($what, &text))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_id!(
    /// A community's id: also the id of its community document.
    CommunityId,
    "community"
);
text_id!(
    /// A case's, question's or protocol's id: also its document's id.
    DocId,
    "item"
);
text_id!(
    /// A reply's, answer's or comment's id, unique within its item.
    PostId,
    "post"
);

/// A device (and so a member): its ed25519 public key.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId([u8; 32]);

impl Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DeviceId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl DeviceId {
    /// The id of the device with this public key.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        DeviceId(bytes)
    }

    /// The public key.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Checks `text` is 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, BadId> {
        let bad = || BadId::new("device", text);
        let raw = text.as_bytes();
        if raw.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in raw.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(bad)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(bad)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(DeviceId(out))
    }

    /// The id as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({self})")
    }
}

impl FromStr for DeviceId {
    type Err = BadId;
    fn from_str(text: &str) -> Result<Self, BadId> {
        Self::parse(text)
    }
}

impl TryFrom<String> for DeviceId {
    type Error = BadId;
    fn try_from(text: String) -> Result<Self, BadId> {
        Self::parse(&text)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.to_string()
    }
}

impl PartialEq<str> for DeviceId {
    fn eq(&self, other: &str) -> bool {
        DeviceId::parse(other).is_ok_and(|o| o == *self)
    }
}

impl PartialEq<&str> for DeviceId {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_pass_and_odd_text_does_not() {
        assert!(is_valid_id("3f2b8c1e-7d4a-4e5b-9c6d-1a2b3c4d5e6f"));
        assert!(is_valid_id("q-8a88e3-00002"));
        for bad in [
            "",
            "caña",
            "a b",
            "a/b",
            "..",
            "x\u{1b}[31m",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
            assert!(DocId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_cross_json_as_text_and_are_checked_there() {
        let id = CommunityId::parse("c-1").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"c-1\"");
        let back: CommunityId = serde_json::from_str("\"c-1\"").unwrap();
        assert_eq!(back, id);
        let err = serde_json::from_str::<CommunityId>("\"a/b\"").unwrap_err();
        assert!(err.to_string().contains("not a valid id"), "{err}");
    }

    #[test]
    fn device_ids_are_64_hex_digits() {
        let hex = "00ff".repeat(16);
        let id = DeviceId::parse(&hex).unwrap();
        assert_eq!(id.as_bytes()[1], 0xff);
        assert_eq!(id.to_string(), hex);
        assert_eq!(DeviceId::parse(&hex.to_uppercase()).unwrap(), id);
        assert!(id == hex.as_str());
        for bad in ["", "00", &"zz".repeat(32), &"0".repeat(63), &"é".repeat(32)] {
            assert!(DeviceId::parse(bad).is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<DeviceId>(&json).unwrap(), id);
    }
}
