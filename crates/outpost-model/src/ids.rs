//! What a community, item or post id may look like. Outpost makes them as
//! UUIDs; anything a peer or a file names is checked against this before
//! it is used, so an id never carries control characters, escapes or
//! multi-byte text into storage, logs, paths or a terminal.

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
        }
    }
}
