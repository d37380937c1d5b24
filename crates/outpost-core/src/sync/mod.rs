//! Sync wiring between the store and the network: the session's storage
//! ([`repo`]) and the per-connection handler ([`handler`]).

pub(crate) mod handler;
pub(crate) mod repo;
