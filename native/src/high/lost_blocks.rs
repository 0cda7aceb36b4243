//! Blocks of native memory that died with a helper process.
//!
//! When a helper crashes, the guest may still hold addresses of blocks it
//! allocated there. A fresh helper can map the very same addresses again
//! (always, without address randomisation: qemu-user, `setarch -R`), so a
//! stale free or store would otherwise land in one of the new helper's live
//! blocks. The client therefore remembers every block of a dead helper,
//! refuses any memory request that touches one, and never hands the guest a
//! new block overlapping one (such a block is kept allocated, unused).

use std::collections::BTreeMap;

use crate::high::protocol::Request;
use crate::Error as FfiError;

/// How many overlapping blocks an allocation may set aside before giving up.
const MAX_SET_ASIDE: usize = 64;

#[derive(Default)]
pub struct LostBlocks {
    /// The current helper's blocks: address → size (at least 1).
    live: BTreeMap<u64, u64>,
    /// Blocks of helpers that died: disjoint, address → size.
    lost: BTreeMap<u64, u64>,
}

impl LostBlocks {
    /// The current helper died: its blocks are lost.
    pub fn helper_died(&mut self) {
        let live = std::mem::take(&mut self.live);
        self.lost.extend(live);
    }

    pub fn allocated(&mut self, address: u64, size: u64) {
        self.live.insert(address, size.max(1));
    }

    pub fn freed(&mut self, address: u64) {
        self.live.remove(&address);
    }

    /// Whether a fresh block would overlap a lost one (and must be set aside).
    pub fn overlaps_lost(&self, address: u64, size: u64) -> bool {
        self.touches(address, size.max(1))
    }

    pub fn max_set_aside(&self) -> usize {
        MAX_SET_ASIDE
    }

    /// Refuse a request that reaches memory of a dead helper.
    pub fn check(&self, request: &Request) -> Result<(), FfiError> {
        if self.lost.is_empty() {
            return Ok(());
        }
        let touched = match request {
            Request::Free { address } => [Some((*address, 1)), None],
            Request::Read { address, len } => [Some((*address, u64::from(*len))), None],
            Request::Write { address, data } => [Some((*address, data.len() as u64)), None],
            Request::Load { address, .. } | Request::Store { address, .. } => {
                [Some((*address, 1)), None]
            }
            Request::Copy { dst, src, len } => [Some((*dst, *len)), Some((*src, *len))],
            Request::Fill { dst, len, .. } => [Some((*dst, *len)), None],
            Request::StringLength { address, .. } => [Some((*address, 1)), None],
            _ => [None, None],
        };
        for (address, len) in touched.into_iter().flatten() {
            if self.touches(address, len.max(1)) {
                return Err(FfiError::BadPointer(format!(
                    "{address:#x} is memory of a native helper that crashed: \
                     it was lost with that process"
                )));
            }
        }
        Ok(())
    }

    /// Whether `[address, address + len)` overlaps a lost block. Lost blocks
    /// are disjoint, so the one starting last before the range's end decides.
    fn touches(&self, address: u64, len: u64) -> bool {
        let end = address.saturating_add(len);
        self.lost
            .range(..end)
            .next_back()
            .is_some_and(|(&start, &size)| start.saturating_add(size) > address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_blocks_refuse_every_touch_and_only_those() {
        let mut blocks = LostBlocks::default();
        blocks.allocated(0x1000, 16);
        blocks.allocated(0x2000, 0);
        assert!(blocks.check(&Request::Free { address: 0x1000 }).is_ok());
        blocks.helper_died();
        blocks.allocated(0x3000, 8);

        let refused = |r: Request| blocks.check(&r).is_err();
        assert!(refused(Request::Free { address: 0x1000 }));
        assert!(refused(Request::Free { address: 0x2000 }));
        assert!(refused(Request::Read {
            address: 0xff8,
            len: 9
        }));
        assert!(!refused(Request::Read {
            address: 0xff8,
            len: 8
        }));
        assert!(refused(Request::Copy {
            dst: 0x3000,
            src: 0x100f,
            len: 1
        }));
        assert!(!refused(Request::Fill {
            dst: 0x1010,
            byte: 0,
            len: 0xff0
        }));
        assert!(!refused(Request::Free { address: 0x3000 }));
        assert!(blocks.overlaps_lost(0x0ff0, 0x20));
        assert!(!blocks.overlaps_lost(0x1010, 0x10));
    }
}
