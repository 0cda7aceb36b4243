//! The high layer: the executor serving a host over the helper protocol,
//! the protocol, the host's client of a helper process, platform facts.

pub mod client;
pub mod executor;
pub mod facts;
pub mod lost_blocks;
pub mod protocol;
