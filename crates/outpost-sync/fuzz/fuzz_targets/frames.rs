//! Frame decoding and message handling under arbitrary input:
//! `cargo fuzz run frames` (from crates/outpost-sync). The corpus in
//! `corpus/frames` is replayed by an ordinary test (`tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    outpost_sync::testing::fuzz_one(data);
});
