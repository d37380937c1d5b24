//! A peer's bytes for a document, through the merge path, under arbitrary
//! input: `cargo fuzz run remote_doc` (from crates/outpost-sync). The
//! corpus in `corpus/remote_doc` is replayed by `tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    outpost_sync::testing::fuzz_remote_doc(data);
});
