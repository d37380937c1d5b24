//! A peer's membership log under arbitrary input: `cargo fuzz run
//! membership` (from crates/outpost-sync). The corpus in
//! `corpus/membership` is replayed by `tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    outpost_sync::testing::fuzz_membership(data);
});
