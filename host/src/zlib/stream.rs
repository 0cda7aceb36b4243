//! The libz plumbing under `super`: a `z_stream` pinned in a box, and the
//! input and output buffers that `deflate`/`inflate` are fed and drained
//! through, grown as CPython's zlibmodule.c grows them.

use std::ffi::CStr;
use std::os::raw::{c_int, c_uint};

use libz_sys as z;

use crate::bindings::wasmffi::ffi::zlib::ZlibError;

pub(super) const DEF_MEM_LEVEL: c_int = 8;

unsafe extern "C" fn zalloc(_: z::voidpf, items: z::uInt, size: z::uInt) -> z::voidpf {
    libc::calloc(items as usize, size as usize)
}

unsafe extern "C" fn zfree(_: z::voidpf, address: z::voidpf) {
    libc::free(address)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Deflate,
    Inflate,
}

/// A z_stream at a fixed address (zlib keeps a pointer back to it).
pub struct Stream {
    pub(super) strm: Box<z::z_stream>,
    pub(super) kind: Kind,
    pub(super) initialised: bool,
}

// SAFETY: the stream is only used from the thread running the store; the raw
// pointers inside point into memory it owns.
unsafe impl Send for Stream {}

pub(super) fn new_stream() -> Box<z::z_stream> {
    Box::new(z::z_stream {
        next_in: std::ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc,
        zfree,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    })
}

impl Stream {
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
        let mut strm = new_stream();
        // SAFETY: both streams are valid; zlib copies the state.
        let err = unsafe {
            match self.kind {
                Kind::Deflate => z::deflateCopy(&mut *strm, &mut *self.strm),
                Kind::Inflate => z::inflateCopy(&mut *strm, &mut *self.strm),
            }
        };
        match err {
            z::Z_OK => Ok(Stream {
                strm,
                kind: self.kind,
                initialised: true,
            }),
            z::Z_STREAM_ERROR => Err(ZlibError::Value("Inconsistent stream state".into())),
            z::Z_MEM_ERROR => Err(ZlibError::Memory(format!(
                "Can't allocate memory for {what} object"
            ))),
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

/// Output under construction, grown block by block.
pub(super) struct Output {
    pub(super) buf: Vec<u8>,
    /// Bytes of output space handed out so far (the blocks' total).
    pub(super) allocated: usize,
    pub(super) blocks: usize,
    /// The first block's size (CPython's "init with size"), if not the table's.
    pub(super) first: Option<usize>,
    pub(super) limit: Option<usize>,
}

impl Output {
    pub(super) fn new(first: Option<usize>, limit: Option<usize>) -> Output {
        Output {
            buf: Vec::new(),
            allocated: 0,
            blocks: 0,
            first,
            limit,
        }
    }

    /// Point the stream at free output space; false once `limit` is reached.
    pub(super) fn arrange(&mut self, strm: &mut z::z_stream) -> bool {
        let len = self.buf.len();
        if len >= self.allocated {
            let mut block = match (self.blocks, self.first) {
                (0, Some(first)) => first.max(1),
                (n, _) => BLOCK_SIZES[n.min(BLOCK_SIZES.len() - 1)],
            };
            if let Some(limit) = self.limit {
                if len >= limit {
                    return false;
                }
                block = block.min(limit - len);
            }
            self.allocated = len + block;
            self.blocks += 1;
        }
        let room = (self.allocated - len).min(c_uint::MAX as usize);
        self.buf.reserve(room);
        strm.next_out = unsafe { self.buf.as_mut_ptr().add(len) };
        strm.avail_out = room as c_uint;
        true
    }

    /// Account for what zlib wrote after `arrange`.
    pub(super) fn commit(&mut self, strm: &z::z_stream) {
        let written = strm.next_out as usize - self.buf.as_ptr() as usize;
        debug_assert!(written <= self.buf.capacity());
        unsafe { self.buf.set_len(written) };
    }
}

pub(super) fn deflate_init(
    level: i32,
    method: i32,
    wbits: i32,
    mem_level: i32,
    strategy: i32,
) -> (Box<z::z_stream>, c_int) {
    let mut strm = new_stream();
    let err = unsafe {
        z::deflateInit2_(
            &mut *strm,
            level,
            method,
            wbits,
            mem_level,
            strategy,
            z::zlibVersion(),
            std::mem::size_of::<z::z_stream>() as c_int,
        )
    };
    (strm, err)
}

pub(super) fn inflate_init(wbits: i32) -> (Box<z::z_stream>, c_int) {
    let mut strm = new_stream();
    let err = unsafe {
        z::inflateInit2_(
            &mut *strm,
            wbits,
            z::zlibVersion(),
            std::mem::size_of::<z::z_stream>() as c_int,
        )
    };
    (strm, err)
}
