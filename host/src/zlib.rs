//! `wasmffi:ffi/zlib`: the mixed module `zlib`, done by the host's libz
//! (linked through `libz-sys`, Debian's zlib1g). Mirrors CPython's
//! `Modules/zlibmodule.c` so results, attributes and messages match.

use std::ffi::CStr;
use std::os::raw::{c_int, c_uint};

use libz_sys as z;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::zlib::{
    Decompressed, Host, HostCompressor, HostDecompressor, ZlibError,
};
use crate::state::HostState;

mod stream;

use stream::{deflate_init, inflate_init, zlib_error, Input, Kind, Output, Stream, DEF_MEM_LEVEL};

const MODULE: &str = "zlib";

fn check(state: &HostState) -> Result<(), ZlibError> {
    state
        .policy
        .check_module(MODULE)
        .map_err(ZlibError::Refused)
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

fn compress(data: &[u8], level: i32, wbits: i32) -> Result<Vec<u8>, ZlibError> {
    let (mut strm, err) = deflate_init(level, z::Z_DEFLATED, wbits, DEF_MEM_LEVEL, 0);
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => {
            return Err(ZlibError::Memory(
                "Out of memory while compressing data".into(),
            ))
        }
        z::Z_STREAM_ERROR => return Err(ZlibError::Zlib("Bad compression level".into())),
        _ => {
            let e = zlib_error(&strm, err, "while compressing data");
            unsafe { z::deflateEnd(&mut *strm) };
            return Err(e);
        }
    }
    let stream = Stream {
        strm,
        kind: Kind::Deflate,
        initialised: true,
    };
    let mut stream = stream;
    let strm = &mut *stream.strm;
    let mut out = Output::new(None, None);
    let mut input = Input { data, pos: 0 };
    loop {
        let left = input.arrange(strm);
        let flush = if left == 0 {
            z::Z_FINISH
        } else {
            z::Z_NO_FLUSH
        };
        loop {
            out.arrange(strm);
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
    Ok(out.buf)
}

fn decompress(data: &[u8], wbits: i32, bufsize: u64) -> Result<Vec<u8>, ZlibError> {
    let (strm, err) = inflate_init(wbits);
    let mut stream = Stream {
        strm,
        kind: Kind::Inflate,
        initialised: err == z::Z_OK,
    };
    let strm = &mut *stream.strm;
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => {
            return Err(ZlibError::Memory(
                "Out of memory while decompressing data".into(),
            ))
        }
        _ => return Err(zlib_error(strm, err, "while preparing to decompress data")),
    }
    let mut out = Output::new(Some(bufsize.clamp(1, 1 << 30) as usize), None);
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
            out.arrange(strm);
            err = unsafe { z::inflate(strm, flush) };
            out.commit(strm);
            match err {
                z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
                z::Z_MEM_ERROR => {
                    return Err(ZlibError::Memory(
                        "Out of memory while decompressing data".into(),
                    ))
                }
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
    Ok(out.buf)
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
}

impl Decompressor {
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

    fn state(&self, data: Vec<u8>) -> Decompressed {
        Decompressed {
            data,
            eof: self.eof,
            unused_data: self.unused_data.clone(),
            unconsumed_tail: self.unconsumed_tail.clone(),
        }
    }

    fn decompress(&mut self, data: &[u8], max_length: u64) -> Result<Decompressed, ZlibError> {
        let limit = (max_length > 0).then(|| max_length.min(isize::MAX as u64) as usize);
        let mut out = Output::new(None, limit);
        let mut input = Input { data, pos: 0 };
        let mut err = z::Z_OK;
        if !self.stream.initialised {
            // flush() ended the stream; CPython's inflate then fails.
            return Err(ZlibError::Zlib(
                "Error -2 while decompressing data: inconsistent stream state".into(),
            ));
        }
        'outer: loop {
            let left = input.arrange(&mut self.stream.strm);
            loop {
                let strm = &mut *self.stream.strm;
                if !out.arrange(strm) {
                    break 'outer;
                }
                err = unsafe { z::inflate(strm, z::Z_SYNC_FLUSH) };
                out.commit(strm);
                let full = strm.avail_out == 0;
                match err {
                    z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
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
        Ok(self.state(out.buf))
    }

    fn flush(&mut self, length: u64) -> Result<Decompressed, ZlibError> {
        if length == 0 {
            return Err(ZlibError::Value("length must be greater than zero".into()));
        }
        let mut out = Output::new(Some(length.min(1 << 30) as usize), None);
        if !self.stream.initialised {
            return Ok(self.state(out.buf));
        }
        let tail = std::mem::take(&mut self.unconsumed_tail);
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
                out.arrange(strm);
                err = unsafe { z::inflate(strm, flush) };
                out.commit(strm);
                let full = strm.avail_out == 0;
                match err {
                    z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END => {}
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
        let rest = input.unconsumed(&self.stream.strm).to_vec();
        // As CPython: the old tail is replaced by what is left of it.
        self.unconsumed_tail = tail.clone();
        self.save_unconsumed(&rest, err);
        if err == z::Z_STREAM_END {
            self.eof = true;
            unsafe { z::inflateEnd(&mut *self.stream.strm) };
            self.stream.initialised = false;
        }
        Ok(self.state(out.buf))
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
        compress(&data, level, wbits)
    }

    fn decompress(
        &mut self,
        data: Vec<u8>,
        wbits: i32,
        bufsize: u64,
    ) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        decompress(&data, wbits, bufsize)
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
        let (mut strm, err) = deflate_init(level, method, wbits, mem_level, strategy);
        match err {
            z::Z_OK => {}
            z::Z_MEM_ERROR => {
                return Err(ZlibError::Memory(
                    "Can't allocate memory for compression object".into(),
                ))
            }
            z::Z_STREAM_ERROR => {
                return Err(ZlibError::Value("Invalid initialization option".into()))
            }
            _ => {
                let e = zlib_error(&strm, err, "while creating compression object");
                unsafe { z::deflateEnd(&mut *strm) };
                return Err(e);
            }
        }
        let mut stream = Stream {
            strm,
            kind: Kind::Deflate,
            initialised: true,
        };
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
        let c = self.table.get_mut(&this).map_err(stale)?;
        let strm = &mut *c.stream.strm;
        if !c.stream.initialised {
            return Err(ZlibError::Zlib(
                "Error -2 while compressing data: inconsistent stream state".into(),
            ));
        }
        let mut out = Output::new(None, None);
        let mut input = Input {
            data: &data,
            pos: 0,
        };
        loop {
            let left = input.arrange(strm);
            loop {
                out.arrange(strm);
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
        Ok(out.buf)
    }

    fn flush(&mut self, this: Resource<Compressor>, mode: i32) -> Result<Vec<u8>, ZlibError> {
        check(self)?;
        let c = self.table.get_mut(&this).map_err(stale)?;
        let mut out = Output::new(None, None);
        if mode == z::Z_NO_FLUSH {
            return Ok(out.buf);
        }
        if !c.stream.initialised {
            return Err(ZlibError::Zlib(
                "Error -2 while flushing: inconsistent stream state".into(),
            ));
        }
        let strm = &mut *c.stream.strm;
        strm.avail_in = 0;
        let mut err;
        loop {
            out.arrange(strm);
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
        Ok(out.buf)
    }

    fn copy(&mut self, this: Resource<Compressor>) -> Result<Resource<Compressor>, ZlibError> {
        check(self)?;
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
        let (strm, err) = inflate_init(wbits);
        let initialised = err == z::Z_OK;
        let mut d = Decompressor {
            stream: Stream {
                strm,
                kind: Kind::Inflate,
                initialised,
            },
            zdict,
            eof: false,
            unused_data: Vec::new(),
            unconsumed_tail: Vec::new(),
        };
        match err {
            z::Z_OK => {}
            z::Z_STREAM_ERROR => {
                return Err(ZlibError::Value("Invalid initialization option".into()))
            }
            z::Z_MEM_ERROR => {
                return Err(ZlibError::Memory(
                    "Can't allocate memory for decompression object".into(),
                ))
            }
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
    ) -> Result<Decompressed, ZlibError> {
        check(self)?;
        let d = self.table.get_mut(&this).map_err(stale)?;
        d.decompress(&data, max_length)
    }

    fn flush(
        &mut self,
        this: Resource<Decompressor>,
        length: u64,
    ) -> Result<Decompressed, ZlibError> {
        check(self)?;
        let d = self.table.get_mut(&this).map_err(stale)?;
        d.flush(length)
    }

    fn copy(&mut self, this: Resource<Decompressor>) -> Result<Resource<Decompressor>, ZlibError> {
        check(self)?;
        let d = self.table.get_mut(&this).map_err(stale)?;
        let copy = Decompressor {
            stream: d.stream.duplicate()?,
            zdict: d.zdict.clone(),
            eof: d.eof,
            unused_data: d.unused_data.clone(),
            unconsumed_tail: d.unconsumed_tail.clone(),
        };
        push(self, copy)
    }

    fn drop(&mut self, this: Resource<Decompressor>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
