//! `wasmffi:ffi/zlib`: the mixed module `zlib`, done by the host's libz
//! (linked through `libz-sys`, Debian's zlib1g). Mirrors CPython's
//! `Modules/zlibmodule.c` so results, attributes and messages match.
//! What the host holds for the guest is bounded: see [`budget`].

use std::ffi::CStr;
use std::os::raw::{c_int, c_uint};
use std::sync::Arc;

use libz_sys as z;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::zlib::{Host, HostCompressor, HostDecompressor, ZlibError};
use crate::state::HostState;

pub mod budget;
mod stream;

use budget::{Account, Charge};
use stream::{deflate_init, inflate_init, zlib_error, Input, Output, Stream, DEF_MEM_LEVEL};

const COMPRESSING: &str = "Out of memory while compressing data";
const DECOMPRESSING: &str = "Out of memory while decompressing data";

const MODULE: &str = "zlib";

fn check(state: &HostState) -> Result<(), ZlibError> {
    state
        .policy
        .check_module(MODULE)
        .map_err(ZlibError::Refused)
}

/// The run's zlib account, its limit the policy's `limits.linear_memory`.
fn account(state: &HostState) -> Arc<Account> {
    budget::account(state.policy.limits.linear_memory)
}

fn checksum(
    data: &[u8],
    mut value: u32,
    f: unsafe extern "C" fn(z::uLong, *const z::Bytef, z::uInt) -> z::uLong,
) -> u32 {
    if data.is_empty() {
        // zlib still reduces the starting value (adler32 modulo 65521).
        return unsafe { f(value as z::uLong, [0u8].as_ptr(), 0) } as u32;
    }
    for chunk in data.chunks(1 << 30) {
        value = unsafe { f(value as z::uLong, chunk.as_ptr(), chunk.len() as z::uInt) } as u32;
    }
    value
}

fn compress(
    account: &Arc<Account>,
    data: &[u8],
    level: i32,
    wbits: i32,
) -> Result<Vec<u8>, ZlibError> {
    let _input = account.charge(data.len() as u64, COMPRESSING)?;
    let (mut stream, err) = deflate_init(account, level, z::Z_DEFLATED, wbits, DEF_MEM_LEVEL, 0);
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => return Err(account.exhausted(COMPRESSING)),
        z::Z_STREAM_ERROR => return Err(ZlibError::Zlib("Bad compression level".into())),
        _ => return Err(zlib_error(&stream.strm, err, "while compressing data")),
    }
    let strm = &mut *stream.strm;
    let mut out = Output::new(account, None, None, false, COMPRESSING);
    let mut input = Input { data, pos: 0 };
    loop {
        let left = input.arrange(strm);
        let flush = if left == 0 {
            z::Z_FINISH
        } else {
            z::Z_NO_FLUSH
        };
        loop {
            out.arrange(strm)?;
            let err = unsafe { z::deflate(strm, flush) };
            out.commit(strm);
            if err == z::Z_STREAM_ERROR {
                return Err(zlib_error(strm, err, "while compressing data"));
            }
            if strm.avail_out != 0 {
                break;
            }
        }
        if flush == z::Z_FINISH {
            break;
        }
    }
    Ok(out.finish())
}

fn decompress(
    account: &Arc<Account>,
    data: &[u8],
    wbits: i32,
    bufsize: u64,
) -> Result<Vec<u8>, ZlibError> {
    let _input = account.charge(data.len() as u64, DECOMPRESSING)?;
    let (mut stream, err) = inflate_init(account, wbits);
    let strm = &mut *stream.strm;
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => return Err(account.exhausted(DECOMPRESSING)),
        _ => return Err(zlib_error(strm, err, "while preparing to decompress data")),
    }
    let first = bufsize.clamp(1, 1 << 30) as usize;
    let mut out = Output::new(account, Some(first), None, true, DECOMPRESSING);
    let mut input = Input { data, pos: 0 };
    let mut err;
    loop {
        let left = input.arrange(strm);
        let flush = if left == 0 {
            z::Z_FINISH
        } else {
            z::Z_NO_FLUSH
        };
        loop {
            out.arrange(strm)?;
            err = unsafe { z::inflate(strm, flush) };
            out.commit(strm);
            match err {
                z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
                z::Z_MEM_ERROR => return Err(account.exhausted(DECOMPRESSING)),
                _ => return Err(zlib_error(strm, err, "while decompressing data")),
            }
            if strm.avail_out != 0 {
                break;
            }
        }
        if err == z::Z_STREAM_END || left == 0 {
            break;
        }
    }
    if err != z::Z_STREAM_END {
        return Err(zlib_error(strm, err, "while decompressing data"));
    }
    Ok(out.finish())
}

/// `zlib.Compress`.
pub struct Compressor {
    stream: Stream,
}

/// `zlib.Decompress`.
pub struct Decompressor {
    stream: Stream,
    zdict: Option<Vec<u8>>,
    eof: bool,
    unused_data: Vec<u8>,
    unconsumed_tail: Vec<u8>,
    /// The copies above, charged to the account.
    kept: Charge,
}

impl Decompressor {
    fn kept_bytes(&self) -> u64 {
        (self.zdict.as_ref().map_or(0, Vec::len)
            + self.unused_data.len()
            + self.unconsumed_tail.len()) as u64
    }

    /// Bring the charge for the kept copies up to date (they exist already,
    /// so over the limit or not; the next allocation sees them).
    fn keep(&mut self) {
        let n = self.kept_bytes();
        self.kept.set(n);
    }

    fn set_zdict(&mut self) -> Result<(), ZlibError> {
        let Some(zdict) = &self.zdict else {
            return Ok(());
        };
        if zdict.len() > c_uint::MAX as usize {
            return Err(ZlibError::Value(
                "zdict length does not fit in an unsigned int".into(),
            ));
        }
        let err = unsafe {
            z::inflateSetDictionary(
                &mut *self.stream.strm,
                zdict.as_ptr(),
                zdict.len() as c_uint,
            )
        };
        if err != z::Z_OK {
            return Err(zlib_error(&self.stream.strm, err, "while setting zdict"));
        }
        Ok(())
    }

    /// CPython's `save_unconsumed_input`, quirk included: at the end of the
    /// stream the leftover goes to `unused_data`, and if a tail was pending
    /// it also becomes the new `unconsumed_tail` (CPython measures the tail
    /// from `next_in`, which the end of the stream does not move).
    fn save_unconsumed(&mut self, rest: &[u8], err: c_int) {
        let mut avail_in = rest.len();
        if err == z::Z_STREAM_END && !rest.is_empty() {
            self.unused_data.extend_from_slice(rest);
            avail_in = 0;
        }
        if avail_in > 0 || !self.unconsumed_tail.is_empty() {
            self.unconsumed_tail = rest.to_vec();
        }
    }

    /// The call's output; the kept copies are charged as they are now.
    fn output(&mut self, data: Vec<u8>) -> Result<Vec<u8>, ZlibError> {
        self.keep();
        Ok(data)
    }

    /// `unused_data` or `unconsumed_tail` for the guest: the host's copy and
    /// the guest's are charged while they are made.
    fn hand_out(&self, kept: &[u8]) -> Result<Vec<u8>, ZlibError> {
        let _copies = self
            .stream
            .account()
            .charge(2 * kept.len() as u64, DECOMPRESSING)?;
        Ok(kept.to_vec())
    }

    fn decompress(&mut self, data: &[u8], max_length: u64) -> Result<Vec<u8>, ZlibError> {
        let limit = (max_length > 0).then(|| max_length.min(isize::MAX as u64) as usize);
        let account = self.stream.account().clone();
        let _input = account.charge(data.len() as u64, DECOMPRESSING)?;
        let mut out = Output::new(&account, None, limit, true, DECOMPRESSING);
        let mut input = Input { data, pos: 0 };
        // Once flush() has ended the stream, inflate() fails on it (its state
        // is gone: Z_STREAM_ERROR) and the input is saved, as in CPython.
        let mut err = z::Z_OK;
        'outer: loop {
            let left = input.arrange(&mut self.stream.strm);
            loop {
                let strm = &mut *self.stream.strm;
                if !out.arrange(strm)? {
                    break 'outer;
                }
                err = unsafe { z::inflate(strm, z::Z_SYNC_FLUSH) };
                out.commit(strm);
                let full = strm.avail_out == 0;
                match err {
                    z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
                    z::Z_MEM_ERROR => return Err(account.exhausted(DECOMPRESSING)),
                    z::Z_NEED_DICT if self.zdict.is_some() => self.set_zdict()?,
                    _ => break 'outer,
                }
                if !full && err != z::Z_NEED_DICT {
                    break;
                }
            }
            if err == z::Z_STREAM_END || left == 0 {
                break;
            }
        }
        let rest = input.unconsumed(&self.stream.strm);
        self.save_unconsumed(rest, err);
        if err == z::Z_STREAM_END {
            self.eof = true;
        } else if err != z::Z_OK && err != z::Z_BUF_ERROR {
            return Err(zlib_error(
                &self.stream.strm,
                err,
                "while decompressing data",
            ));
        }
        self.output(out.finish())
    }

    fn flush(&mut self, length: u64) -> Result<Vec<u8>, ZlibError> {
        if length == 0 {
            return Err(ZlibError::Value("length must be greater than zero".into()));
        }
        if !self.stream.initialised {
            return self.output(Vec::new());
        }
        let account = self.stream.account().clone();
        let first = length.min(1 << 30) as usize;
        let mut out = Output::new(&account, Some(first), None, true, DECOMPRESSING);
        let tail = std::mem::take(&mut self.unconsumed_tail);
        let mut inflate_tail = || -> Result<(c_int, usize), ZlibError> {
            let mut input = Input {
                data: &tail,
                pos: 0,
            };
            let mut err;
            'outer: loop {
                let left = input.arrange(&mut self.stream.strm);
                let flush = if left == 0 {
                    z::Z_FINISH
                } else {
                    z::Z_NO_FLUSH
                };
                loop {
                    let strm = &mut *self.stream.strm;
                    out.arrange(strm)?;
                    err = unsafe { z::inflate(strm, flush) };
                    out.commit(strm);
                    let full = strm.avail_out == 0;
                    match err {
                        z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
                        z::Z_MEM_ERROR => return Err(account.exhausted(DECOMPRESSING)),
                        z::Z_NEED_DICT if self.zdict.is_some() => self.set_zdict()?,
                        _ => break 'outer,
                    }
                    if !full && err != z::Z_NEED_DICT {
                        break;
                    }
                }
                if err == z::Z_STREAM_END || left == 0 {
                    break;
                }
            }
            Ok((err, input.unconsumed(&self.stream.strm).len()))
        };
        let (err, rest_len) = match inflate_tail() {
            Ok(done) => done,
            Err(e) => {
                // As CPython: an error leaves the tail as it was.
                self.unconsumed_tail = tail;
                return Err(e);
            }
        };
        let rest = tail[tail.len() - rest_len..].to_vec();
        // As CPython: the old tail is replaced by what is left of it.
        self.unconsumed_tail = tail;
        self.save_unconsumed(&rest, err);
        if err == z::Z_STREAM_END {
            self.eof = true;
            unsafe { z::inflateEnd(&mut *self.stream.strm) };
            self.stream.initialised = false;
        }
        self.output(out.finish())
    }
}

impl Host for HostState {
    fn crc32(&mut self, data: Vec<u8>, value: u32) -> Result<u32, ZlibError> {
        check(self)?;
        Ok(checksum(&data, value, z::crc32))
    }

    fn adler32(&mut self, data: Vec<u8>, value: u32) -> Result<u32, ZlibError> {
        check(self)?;
        Ok(checksum(&data, value, z::adler32))
    }

    fn compress(&mut self, data: Vec<u8>, level: i32, wbits: i32) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        compress(&account(self), &data, level, wbits)
    }

    fn decompress(
        &mut self,
        data: Vec<u8>,
        wbits: i32,
        bufsize: u64,
    ) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        decompress(&account(self), &data, wbits, bufsize)
    }

    fn versions(&mut self) -> (String, String) {
        let runtime = unsafe { CStr::from_ptr(z::zlibVersion()) }
            .to_string_lossy()
            .into_owned();
        // libz-sys links the system library; the header it was built
        // against is the same package.
        (runtime.clone(), runtime)
    }
}

fn push<T: Send + 'static>(state: &mut HostState, value: T) -> Result<Resource<T>, ZlibError> {
    state.table.push(value).map_err(|e| {
        ZlibError::Refused(crate::bindings::FfiError::LimitExceeded(format!(
            "zlib handles: {e}"
        )))
    })
}

fn stale(e: impl std::fmt::Display) -> ZlibError {
    ZlibError::Value(format!("zlib handle: {e}"))
}

impl HostCompressor for HostState {
    fn create(
        &mut self,
        level: i32,
        method: i32,
        wbits: i32,
        mem_level: i32,
        strategy: i32,
        zdict: Option<Vec<u8>>,
    ) -> Result<Resource<Compressor>, ZlibError> {
        check(self)?;
        let account = account(self);
        let (mut stream, err) = deflate_init(&account, level, method, wbits, mem_level, strategy);
        match err {
            z::Z_OK => {}
            z::Z_MEM_ERROR => {
                return Err(account.exhausted("Can't allocate memory for compression object"))
            }
            z::Z_STREAM_ERROR => {
                return Err(ZlibError::Value("Invalid initialization option".into()))
            }
            _ => {
                return Err(zlib_error(
                    &stream.strm,
                    err,
                    "while creating compression object",
                ))
            }
        }
        if let Some(zdict) = zdict {
            let err = unsafe {
                z::deflateSetDictionary(&mut *stream.strm, zdict.as_ptr(), zdict.len() as c_uint)
            };
            if err != z::Z_OK {
                return Err(ZlibError::Value("Invalid dictionary".into()));
            }
        }
        push(self, Compressor { stream })
    }

    fn compress(
        &mut self,
        this: Resource<Compressor>,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        let account = account(self);
        let c = self.table.get_mut(&this).map_err(stale)?;
        let strm = &mut *c.stream.strm;
        if !c.stream.initialised {
            return Err(ZlibError::Zlib(
                "Error -2 while compressing data: inconsistent stream state".into(),
            ));
        }
        let _input = account.charge(data.len() as u64, COMPRESSING)?;
        let mut out = Output::new(&account, None, None, false, COMPRESSING);
        let mut input = Input {
            data: &data,
            pos: 0,
        };
        loop {
            let left = input.arrange(strm);
            loop {
                out.arrange(strm)?;
                let err = unsafe { z::deflate(strm, z::Z_NO_FLUSH) };
                out.commit(strm);
                if err == z::Z_STREAM_ERROR {
                    return Err(zlib_error(strm, err, "while compressing data"));
                }
                if strm.avail_out != 0 {
                    break;
                }
            }
            if left == 0 {
                break;
            }
        }
        Ok(out.finish())
    }

    fn flush(&mut self, this: Resource<Compressor>, mode: i32) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        let account = account(self);
        let c = self.table.get_mut(&this).map_err(stale)?;
        if mode == z::Z_NO_FLUSH {
            return Ok(Vec::new());
        }
        let mut out = Output::new(&account, None, None, false, COMPRESSING);
        if !c.stream.initialised {
            return Err(ZlibError::Zlib(
                "Error -2 while flushing: inconsistent stream state".into(),
            ));
        }
        let strm = &mut *c.stream.strm;
        strm.avail_in = 0;
        let mut err;
        loop {
            out.arrange(strm)?;
            err = unsafe { z::deflate(strm, mode) };
            out.commit(strm);
            if err == z::Z_STREAM_ERROR {
                return Err(zlib_error(strm, err, "while flushing"));
            }
            if strm.avail_out != 0 {
                break;
            }
        }
        if err == z::Z_STREAM_END && mode == z::Z_FINISH {
            let err = unsafe { z::deflateEnd(strm) };
            c.stream.initialised = false;
            if err != z::Z_OK {
                return Err(zlib_error(
                    &c.stream.strm,
                    err,
                    "while finishing compression",
                ));
            }
        } else if err != z::Z_OK && err != z::Z_BUF_ERROR {
            return Err(zlib_error(strm, err, "while flushing"));
        }
        Ok(out.finish())
    }

    fn copy(&mut self, this: Resource<Compressor>) -> Result<Resource<Compressor>, ZlibError> {
        check(self)?;
        account(self);
        let c = self.table.get_mut(&this).map_err(stale)?;
        let copy = Compressor {
            stream: c.stream.duplicate()?,
        };
        push(self, copy)
    }

    fn drop(&mut self, this: Resource<Compressor>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostDecompressor for HostState {
    fn create(
        &mut self,
        wbits: i32,
        zdict: Option<Vec<u8>>,
    ) -> Result<Resource<Decompressor>, ZlibError> {
        check(self)?;
        const CREATING: &str = "Can't allocate memory for decompression object";
        let account = account(self);
        let mut kept = Charge::empty(&account);
        if !kept.grow(zdict.as_ref().map_or(0, Vec::len) as u64) {
            return Err(account.exhausted(CREATING));
        }
        let (stream, err) = inflate_init(&account, wbits);
        let mut d = Decompressor {
            stream,
            zdict,
            eof: false,
            unused_data: Vec::new(),
            unconsumed_tail: Vec::new(),
            kept,
        };
        match err {
            z::Z_OK => {}
            z::Z_STREAM_ERROR => {
                return Err(ZlibError::Value("Invalid initialization option".into()))
            }
            z::Z_MEM_ERROR => return Err(account.exhausted(CREATING)),
            _ => {
                return Err(zlib_error(
                    &d.stream.strm,
                    err,
                    "while creating decompression object",
                ))
            }
        }
        if d.zdict.is_some() && wbits < 0 {
            d.set_zdict()?;
        }
        push(self, d)
    }

    fn decompress(
        &mut self,
        this: Resource<Decompressor>,
        data: Vec<u8>,
        max_length: u64,
    ) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        account(self);
        let d = self.table.get_mut(&this).map_err(stale)?;
        d.decompress(&data, max_length)
    }

    fn flush(&mut self, this: Resource<Decompressor>, length: u64) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        account(self);
        let d = self.table.get_mut(&this).map_err(stale)?;
        d.flush(length)
    }

    fn eof(&mut self, this: Resource<Decompressor>) -> bool {
        self.table.get(&this).is_ok_and(|d| d.eof)
    }

    fn unused_data(&mut self, this: Resource<Decompressor>) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        account(self);
        let d = self.table.get(&this).map_err(stale)?;
        d.hand_out(&d.unused_data)
    }

    fn unconsumed_tail(&mut self, this: Resource<Decompressor>) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        account(self);
        let d = self.table.get(&this).map_err(stale)?;
        d.hand_out(&d.unconsumed_tail)
    }

    fn copy(&mut self, this: Resource<Decompressor>) -> Result<Resource<Decompressor>, ZlibError> {
        check(self)?;
        let account = account(self);
        let d = self.table.get_mut(&this).map_err(stale)?;
        let mut kept = Charge::empty(&account);
        if !kept.grow(d.kept_bytes()) {
            return Err(account.exhausted("Can't allocate memory for decompression object"));
        }
        let copy = Decompressor {
            stream: d.stream.duplicate()?,
            zdict: d.zdict.clone(),
            eof: d.eof,
            unused_data: d.unused_data.clone(),
            unconsumed_tail: d.unconsumed_tail.clone(),
            kept,
        };
        push(self, copy)
    }

    fn drop(&mut self, this: Resource<Decompressor>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
