//! Test support, behind the `testing` feature: an in-memory [`Repo`] with
//! the store's rules ([`MemRepo`]), a deterministic harness that pumps
//! messages between sessions ([`Harness`]), and the fuzz entry point
//! ([`fuzz_one`]). Nothing here is used by the app.
//!
//! ```
//! use outpost_sync::membership::Role;
//! use outpost_sync::testing::{Faults, Harness, MemRepo};
//!
//! let mut ana = MemRepo::device(1);
//! let mut ben = MemRepo::device(2);
//! let c = ana.found_community("Valley clinicians");
//! ana.add_member(&c, ben.id(), Role::Member);
//! ana.share_community(&mut ben, &c);
//! let q = ana.new_item(&c, "Dosing in renal failure?");
//!
//! let mut h = Harness::new(vec![ana, ben]);
//! h.set_faults(Faults::seeded(42).duplicate(20));
//! let link = h.connect(1, 0);
//! h.run(1_000).expect("falls silent");
//! assert!(h.links[link].converged());
//! assert_eq!(h.nodes[0].snapshot(&c), h.nodes[1].snapshot(&c));
//!
//! // An edit while the session runs: the harness tells the sessions, as
//! // the app's feed watcher does.
//! h.nodes[0].comment(&q, "Dosing in renal failure (eGFR < 30)?");
//! h.run(1_000).expect("falls silent");
//! assert_eq!(h.nodes[1].heads_of(&q), h.nodes[0].heads_of(&q));
//! let from_ana = h.links[link].from(0);
//! println!("{} messages, {} bytes from Ana", from_ana.msgs, from_ana.bytes);
//! ```
//!
//! [`Repo`]: crate::session::Repo

mod fuzz;
mod harness;
mod repo;

pub use fuzz::{
    FUZZ_PEER, fuzz_membership, fuzz_one, fuzz_remote_doc, fuzz_repo, join_ops, split_ops,
};
pub use harness::{
    Chatter, Envelope, Fate, Faults, Harness, Link, Mark, Rng, Sent, Traffic, carries_changes,
    doc_of, id_of, kind,
};
pub use repo::{FeedEntry, Invite, MemRepo, Stored, device_id, device_key};
