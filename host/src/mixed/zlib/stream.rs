//! The libz plumbing under `super`: a `z_stream` pinned in a box, and the
//! input and output buffers that `deflate`/`inflate` are fed and drained
//! through, grown as CPython's zlibmodule.c grows them. Every byte libz
//! allocates and every output block is charged to a [`budget::Account`].

use std::ffi::CStr;
use std::os::raw::{c_int, c_uint};
use std::sync::Arc;

use libz_sys as z;

use super::budget::{self, Account, Charge};
use crate::bindings::wasmffi::ffi::zlib::ZlibError;

pub(super) const DEF_MEM_LEVEL: c_int = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Deflate,
    Inflate,
}

/// A z_stream at a fixed address (zlib keeps a pointer back to it), its
/// memory charged to `account`.
pub struct Stream {
    pub(super) strm: Box<z::z_stream>,
    pub(super) kind: Kind,
    pub(super) initialised: bool,
    account: Arc<Account>,
}

// SAFETY: the stream is only used from the thread running the store; the raw
// pointers inside point into memory it owns.
unsafe impl Send for Stream {}

fn new_stream(account: &Arc<Account>) -> Box<z::z_stream> {
    Box::new(z::z_stream {
        next_in: std::ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc: budget::zalloc,
        zfree: budget::zfree,
        opaque: budget::opaque(account),
        data_type: 0,
        adler: 0,
        reserved: 0,
    })
}

impl Stream {
    /// A stream not yet initialised (`deflate_init`/`inflate_init` do that).
    pub(super) fn new(account: &Arc<Account>, kind: Kind) -> Stream {
        account.stream_opened();
        Stream {
            strm: new_stream(account),
            kind,
            initialised: false,
            account: account.clone(),
        }
    }

    pub(super) fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// `Compress.copy()` / `Decompress.copy()`: an independent stream in the
    /// same state, with CPython's errors.
    pub(super) fn duplicate(&mut self) -> Result<Stream, ZlibError> {
        if !self.initialised {
            return Err(ZlibError::Value("Inconsistent stream state".into()));
        }
        let what = match self.kind {
            Kind::Deflate => "compression",
            Kind::Inflate => "decompression",
        };
        let mut copy = Stream::new(&self.account, self.kind);
        // SAFETY: both streams are valid; zlib copies the state, allocating
        // through the source's zalloc and opaque (the same account).
        let err = unsafe {
            match self.kind {
                Kind::Deflate => z::deflateCopy(&mut *copy.strm, &mut *self.strm),
                Kind::Inflate => z::inflateCopy(&mut *copy.strm, &mut *self.strm),
            }
        };
        match err {
            z::Z_OK => {
                copy.initialised = true;
                Ok(copy)
            }
            z::Z_STREAM_ERROR => Err(ZlibError::Value("Inconsistent stream state".into())),
            z::Z_MEM_ERROR => Err(self
                .account
                .exhausted(&format!("Can't allocate memory for {what} object"))),
            _ => Err(zlib_error(
                &self.strm,
                err,
                &format!("while copying {what} object"),
            )),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.initialised {
            unsafe {
                match self.kind {
                    Kind::Deflate => z::deflateEnd(&mut *self.strm),
                    Kind::Inflate => z::inflateEnd(&mut *self.strm),
                };
            }
        }
        self.account.stream_closed();
    }
}

pub(super) fn zlib_error(strm: &z::z_stream, err: c_int, what: &str) -> ZlibError {
    let msg = if err == z::Z_VERSION_ERROR {
        Some("library version mismatch".to_owned())
    } else if !strm.msg.is_null() {
        Some(
            unsafe { CStr::from_ptr(strm.msg) }
                .to_string_lossy()
                .into_owned(),
        )
    } else {
        match err {
            z::Z_BUF_ERROR => Some("incomplete or truncated stream".to_owned()),
            z::Z_STREAM_ERROR => Some("inconsistent stream state".to_owned()),
            z::Z_DATA_ERROR => Some("invalid input data".to_owned()),
            _ => None,
        }
    };
    ZlibError::Zlib(match msg {
        Some(m) => format!("Error {err} {what}: {m}"),
        None => format!("Error {err} {what}"),
    })
}

/// Feeds `input` to the stream in pieces zlib's 32-bit counters can take.
pub(super) struct Input<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Input<'a> {
    /// Point the stream at the next piece; returns how much is left after it.
    pub(super) fn arrange(&mut self, strm: &mut z::z_stream) -> usize {
        let left = self.data.len() - self.pos;
        let n = left.min(c_uint::MAX as usize);
        strm.next_in = self.data[self.pos..].as_ptr() as *mut u8;
        strm.avail_in = n as c_uint;
        self.pos += n;
        left - n
    }

    /// What the stream has not consumed, from the current piece on.
    pub(super) fn unconsumed(&self, strm: &z::z_stream) -> &'a [u8] {
        &self.data[self.pos - strm.avail_in as usize..]
    }
}

/// CPython's `_BlocksOutputBuffer`: output grows in blocks of these sizes,
/// and zlib sees one block at a time. Deflate's stored blocks (level 0) are
/// cut where the output space ends, so matching CPython byte for byte
/// means handing zlib the same amounts of space.
pub(super) const BLOCK_SIZES: [usize; 17] = [
    32 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    16 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    64 << 20,
    64 << 20,
    128 << 20,
    128 << 20,
    256 << 20,
];

/// Output under construction, grown block by block. Each block is charged
/// twice to the account (the host buffer and the copy the guest receives)
/// before zlib may write into it.
pub(super) struct Output {
    buf: Vec<u8>,
    /// Bytes of output space handed out so far (the blocks' total).
    allocated: usize,
    blocks: usize,
    /// The first block's size (CPython's "init with size"), if not the table's.
    first: Option<usize>,
    limit: Option<usize>,
    /// Shrink a block to what the account has room for (inflate: the bytes
    /// out do not depend on the block sizes) rather than fail at once
    /// (deflate: stored blocks are cut where the space ends, so its blocks
    /// must stay CPython's).
    shrink: bool,
    charge: Charge,
    /// The MemoryError's words ("Out of memory while decompressing data").
    what: &'static str,
}

impl Output {
    pub(super) fn new(
        account: &Arc<Account>,
        first: Option<usize>,
        limit: Option<usize>,
        shrink: bool,
        what: &'static str,
    ) -> Output {
        Output {
            buf: Vec::new(),
            allocated: 0,
            blocks: 0,
            first,
            limit,
            shrink,
            charge: Charge::empty(account),
            what,
        }
    }

    /// Point the stream at free output space; `Ok(false)` once `limit` is
    /// reached, a MemoryError when the account has no room for more.
    pub(super) fn arrange(&mut self, strm: &mut z::z_stream) -> Result<bool, ZlibError> {
        let len = self.buf.len();
        if len >= self.allocated {
            let mut block = match (self.blocks, self.first) {
                (0, Some(first)) => first.max(1),
                (n, _) => BLOCK_SIZES[n.min(BLOCK_SIZES.len() - 1)],
            };
            if let Some(limit) = self.limit {
                if len >= limit {
                    return Ok(false);
                }
                block = block.min(limit - len);
            }
            if !self.charge.grow(2 * block as u64) {
                let account = self.charge.account().clone();
                let room = (account.room() / 2).min(usize::MAX as u64) as usize;
                if !self.shrink || room == 0 || !self.charge.grow(2 * room as u64) {
                    return Err(account.exhausted(self.what));
                }
                block = room;
            }
            self.allocated = len + block;
            self.blocks += 1;
            self.buf.reserve_exact(self.allocated - len);
        }
        let room = (self.allocated - len).min(c_uint::MAX as usize);
        strm.next_out = unsafe { self.buf.as_mut_ptr().add(len) };
        strm.avail_out = room as c_uint;
        Ok(true)
    }

    /// Account for what zlib wrote after `arrange`.
    pub(super) fn commit(&mut self, strm: &z::z_stream) {
        let written = strm.next_out as usize - self.buf.as_ptr() as usize;
        debug_assert!(written <= self.buf.capacity());
        unsafe { self.buf.set_len(written) };
    }

    /// The output; its charge ends here, as the host copy is about to be
    /// handed to the guest and freed.
    pub(super) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// `deflateInit2`; the stream is initialised if the code is `Z_OK`.
pub(super) fn deflate_init(
    account: &Arc<Account>,
    level: i32,
    method: i32,
    wbits: i32,
    mem_level: i32,
    strategy: i32,
) -> (Stream, c_int) {
    let mut stream = Stream::new(account, Kind::Deflate);
    let err = unsafe {
        z::deflateInit2_(
            &mut *stream.strm,
            level,
            method,
            wbits,
            mem_level,
            strategy,
            z::zlibVersion(),
            std::mem::size_of::<z::z_stream>() as c_int,
        )
    };
    stream.initialised = err == z::Z_OK;
    (stream, err)
}

/// `inflateInit2`; the stream is initialised if the code is `Z_OK`.
pub(super) fn inflate_init(account: &Arc<Account>, wbits: i32) -> (Stream, c_int) {
    let mut stream = Stream::new(account, Kind::Inflate);
    let err = unsafe {
        z::inflateInit2_(
            &mut *stream.strm,
            wbits,
            z::zlibVersion(),
            std::mem::size_of::<z::z_stream>() as c_int,
        )
    };
    stream.initialised = err == z::Z_OK;
    (stream, err)
}
