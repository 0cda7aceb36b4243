//! The low layer: raw native memory, fault containment, the dynamic loader.

pub mod fault;
pub mod library;
pub mod memory;
