//! Checks on the Bloom filters in a peer's Automerge sync messages.

use automerge::sync::Message as SyncMessage;

/// Probes a peer's Bloom filter may ask for; automerge uses 7.
const MAX_PROBES: u64 = 64;

fn leb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut v: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

/// automerge (0.12) trusts the Bloom filter parameters in a sync message: a
/// filter with entries but no bits divides by zero, and a huge probe count
/// allocates without bound. Both come from the peer, so they are checked
/// here before automerge sees them. (Found by `cargo fuzz run frames`.)
pub(super) fn check_blooms(m: &SyncMessage) -> Result<(), String> {
    for have in &m.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue;
        }
        let bad = || "malformed Bloom filter".to_string();
        let (entries, rest) = leb128(&bytes).ok_or_else(bad)?;
        let (bits_per_entry, rest) = leb128(rest).ok_or_else(bad)?;
        let (probes, bits) = leb128(rest).ok_or_else(bad)?;
        if entries > 0
            && (bits_per_entry == 0 || bits.is_empty() || probes == 0 || probes > MAX_PROBES)
        {
            return Err(format!(
                "Bloom filter with {entries} entries, {bits_per_entry} bits each, {probes} probes, {} bytes",
                bits.len()
            ));
        }
    }
    Ok(())
}
