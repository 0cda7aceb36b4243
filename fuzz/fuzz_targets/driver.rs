//! The driver shared by the fuzz targets: arbitrary call sequences against
//! the host side of the FFI interfaces, with one oracle for every policy the
//! targets use (none grants raw memory): the memory interface never reads,
//! writes or scans, and `from-address` never makes a function of, an address
//! the runtime did not hand out; and no native code crashes.

use arbitrary::Arbitrary;
use wasmffi::fuzzing::{FfiError, Scalar, Session, Ty, SCALARS};
use wasmffi::Policy;

#[derive(Arbitrary, Debug)]
pub enum Addr {
    /// Inside (or just around) a block the session allocated.
    Block {
        index: u8,
        offset: i16,
    },
    Raw(u64),
    Null,
    /// An address in the host's own stack or data (forged but mapped).
    Host(u16),
}

#[derive(Arbitrary, Debug)]
pub enum Arg {
    Int(u64),
    Ptr(Addr),
    /// Offset into the call's scratch area (a relocated pointer).
    Scratch(u8),
    /// A relocation with a raw offset (may be out of range).
    BadReloc(u32),
}

#[derive(Arbitrary, Debug)]
pub enum Op {
    Alloc {
        size: u16,
        align_log: u8,
    },
    Free(Addr),
    Read(Addr, u16),
    Write(Addr, Vec<u8>),
    Load(Addr, u8),
    Store(Addr, u8, u64),
    Copy(Addr, Addr, u16),
    Fill(Addr, u8, u16),
    StrLen(Addr, u8),
    StructNew {
        fields: Vec<u8>,
        union: bool,
    },
    Prepare {
        args: Vec<u8>,
        ret: u8,
        fixed: Option<u8>,
    },
    PreparePinned {
        symbol: u8,
        extra: Vec<u8>,
    },
    Bind {
        symbol: u8,
        sig: u8,
    },
    FromAddress(Addr, u8),
    Invoke {
        f: u8,
        args: Vec<Arg>,
        scratch: Vec<u8>,
    },
    Symbol(u8),
    DropFunction(u8),
    DropSignature(u8),
}

const SYMBOLS: &[&str] = &[
    "strlen", "memset", "memcpy", "labs", "strncmp", "memcmp", "memchr", "strtol", "snprintf",
    "atoi", "strchr", "getenv", "div", "system", "execve", "qsort", "strnlen", "memmove",
    "isalpha", "toupper", "ldiv", "abs", "strtod", "bsearch",
];

/// The signature each symbol is pinned with, as the guest would prepare it
/// (`extra`: variadic arguments appended after the fixed ones).
fn pinned(symbol: &str) -> Option<(Vec<Scalar>, Scalar, Option<u32>)> {
    use Scalar::*;
    Some(match symbol {
        "strlen" => (vec![Pointer], Uint64, None),
        "strnlen" => (vec![Pointer, Uint64], Uint64, None),
        "memset" => (vec![Pointer, Sint32, Uint64], Pointer, None),
        "memcpy" | "memmove" => (vec![Pointer, Pointer, Uint64], Pointer, None),
        "labs" => (vec![Sint64], Sint64, None),
        "strncmp" => (vec![Pointer, Pointer, Uint64], Sint32, None),
        "memcmp" => (vec![Pointer, Pointer, Uint64], Sint32, None),
        "memchr" => (vec![Pointer, Sint32, Uint64], Pointer, None),
        "strtol" => (vec![Pointer, Pointer, Sint32], Sint64, None),
        "snprintf" => (vec![Pointer, Uint64, Pointer], Sint32, Some(3)),
        "atoi" => (vec![Pointer], Sint32, None),
        "strchr" => (vec![Pointer, Sint32], Pointer, None),
        "getenv" => (vec![Pointer], Pointer, None),
        _ => return None,
    })
}

pub struct Driver {
    s: Session,
    /// Slot offsets (then slot area size) of each function, by index.
    fn_offsets: Vec<Vec<u32>>,
    sig_offsets: Vec<Vec<u32>>,
    libc: usize,
    anchor: [u8; 64],
    /// Bind and call libc's functions (only where the policy checks them:
    /// a trusted libc would run `system` on whatever string the fuzzer made).
    calls: bool,
}

fn check<T>(r: Result<T, FfiError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(FfiError::Crashed(c)) => panic!("native code crashed: {c:?}"),
        Err(_) => None,
    }
}

/// The oracle: an access through the memory interface to an address the
/// runtime did not hand out must fail.
#[track_caller]
fn refused<T: std::fmt::Debug>(what: &str, foreign: bool, r: Result<T, FfiError>) {
    if foreign {
        if let Ok(v) = &r {
            panic!("{what} of an address the runtime did not hand out succeeded: {v:?}");
        }
    }
    check(r);
}

impl Driver {
    /// A session under `policy`, with libc open when the policy allows it.
    pub fn new(policy: Policy, calls: bool) -> Driver {
        let mut driver = Driver {
            s: Session::new(policy),
            fn_offsets: Vec::new(),
            sig_offsets: Vec::new(),
            libc: usize::MAX,
            anchor: [0x41; 64],
            calls,
        };
        if let Ok(libc) = driver.s.open(Some("libc.so.6")) {
            driver.libc = libc;
        }
        driver
    }

    pub fn run(&mut self, ops: &[Op]) {
        let debug = std::env::var_os("WASMFFI_FUZZ_DEBUG").is_some();
        for op in ops.iter().take(64) {
            if debug {
                eprintln!("{op:?}");
            }
            self.op(op);
        }
    }

    /// Whether `a` names memory the runtime did not hand out: the host's
    /// own memory, or a raw integer outside every block the session made.
    fn foreign(&self, a: &Addr) -> bool {
        match a {
            Addr::Host(_) => true,
            Addr::Raw(v) => !self
                .s
                .blocks
                .iter()
                .any(|&(start, size)| *v >= start && *v < start + size.max(1)),
            Addr::Block { .. } | Addr::Null => false,
        }
    }

    fn addr(&self, a: &Addr) -> u64 {
        match a {
            Addr::Block { index, offset } => {
                if self.s.blocks.is_empty() {
                    return 0x1000;
                }
                let (start, _) = self.s.blocks[*index as usize % self.s.blocks.len()];
                start.wrapping_add(*offset as i64 as u64)
            }
            Addr::Raw(v) => *v,
            Addr::Null => 0,
            Addr::Host(off) => self.anchor.as_ptr() as u64 + u64::from(*off % 64),
        }
    }

    fn ty(&self, code: u8) -> Ty {
        if code >= 200 {
            Ty::Struct(usize::from(code - 200))
        } else {
            Ty::Scalar(SCALARS[usize::from(code) % SCALARS.len()])
        }
    }

    fn scalar(code: u8) -> Scalar {
        SCALARS[usize::from(code) % SCALARS.len()]
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Alloc { size, align_log } => {
                check(self.s.alloc(u64::from(*size), 1 << (align_log % 13)));
            }
            Op::Free(a) => {
                check(self.s.free(self.addr(a)));
            }
            Op::Read(a, n) => {
                let foreign = self.foreign(a) && *n > 0;
                refused("read", foreign, self.s.read(self.addr(a), u32::from(*n)));
            }
            Op::Write(a, d) => {
                let foreign = self.foreign(a) && !d.is_empty();
                refused("write", foreign, self.s.write(self.addr(a), d.clone()));
            }
            Op::Load(a, k) => {
                refused(
                    "load",
                    self.foreign(a),
                    self.s.load(self.addr(a), Self::scalar(*k)),
                );
            }
            Op::Store(a, k, v) => {
                let r = self.s.store(self.addr(a), Self::scalar(*k), *v);
                refused("store", self.foreign(a), r);
            }
            Op::Copy(d, src, n) => {
                let foreign = (self.foreign(d) || self.foreign(src)) && *n > 0;
                let r = self.s.copy(self.addr(d), self.addr(src), u64::from(*n));
                refused("copy", foreign, r);
            }
            Op::Fill(d, b, n) => {
                let foreign = self.foreign(d) && *n > 0;
                refused(
                    "fill",
                    foreign,
                    self.s.fill(self.addr(d), *b, u64::from(*n)),
                );
            }
            Op::StrLen(a, e) => {
                let r = self.s.string_length(self.addr(a), u32::from(*e % 5));
                refused("string-length", self.foreign(a), r);
            }
            Op::StructNew { fields, union } => {
                let fields: Vec<Ty> = fields.iter().take(16).map(|c| self.ty(*c)).collect();
                check(self.s.struct_new(&fields, *union));
            }
            Op::Prepare { args, ret, fixed } => {
                let args: Vec<Ty> = args.iter().take(12).map(|c| self.ty(*c)).collect();
                let fixed = fixed.map(|f| u32::from(f) % (args.len() as u32 + 1));
                if let Some((_, offsets)) = check(self.s.prepare(&args, self.ty(*ret), fixed)) {
                    self.sig_offsets.push(offsets);
                }
            }
            Op::PreparePinned { symbol, extra } => {
                let name = SYMBOLS[usize::from(*symbol) % SYMBOLS.len()];
                if let Some((args, ret, fixed)) = pinned(name) {
                    let mut args: Vec<Ty> = args.into_iter().map(Ty::Scalar).collect();
                    if fixed.is_some() {
                        let promoted = [
                            Scalar::Sint32,
                            Scalar::Sint64,
                            Scalar::Float64,
                            Scalar::Pointer,
                            Scalar::Uint64,
                        ];
                        args.extend(
                            extra
                                .iter()
                                .take(6)
                                .map(|c| Ty::Scalar(promoted[usize::from(*c) % promoted.len()])),
                        );
                    }
                    if let Some((_, offsets)) = check(self.s.prepare(&args, Ty::Scalar(ret), fixed))
                    {
                        self.sig_offsets.push(offsets);
                    }
                }
            }
            Op::Bind { symbol, sig } => {
                if self.sig_offsets.is_empty() {
                    return;
                }
                let sig = usize::from(*sig) % self.sig_offsets.len();
                let name = SYMBOLS[usize::from(*symbol) % SYMBOLS.len()];
                if self.libc == usize::MAX || !self.calls {
                    return;
                }
                if check(self.s.bind(self.libc, name, sig)).is_some() {
                    self.fn_offsets.push(self.sig_offsets[sig].clone());
                }
            }
            Op::FromAddress(a, sig) => {
                if self.sig_offsets.is_empty() {
                    return;
                }
                let sig = usize::from(*sig) % self.sig_offsets.len();
                if check(self.s.from_address(self.addr(a), sig)).is_some() {
                    panic!("an integer became a function without a raw-memory grant");
                }
            }
            Op::Invoke { f, args, scratch } => {
                if self.fn_offsets.is_empty() {
                    return;
                }
                let f = usize::from(*f) % self.fn_offsets.len();
                let offsets = &self.fn_offsets[f];
                let slots = *offsets.last().unwrap_or(&0) as usize;
                let mut data = vec![0u8; slots];
                let mut relocs = Vec::new();
                for (i, &off) in offsets[..offsets.len() - 1].iter().enumerate() {
                    let off = off as usize;
                    let value = match args.get(i) {
                        None => 0,
                        Some(Arg::Int(v)) => *v,
                        Some(Arg::Ptr(a)) => self.addr(a),
                        Some(Arg::Scratch(o)) => {
                            relocs.push(off as u32);
                            (slots + usize::from(*o) % (scratch.len().max(1))) as u64
                        }
                        Some(Arg::BadReloc(o)) => {
                            relocs.push(*o);
                            u64::from(*o)
                        }
                    };
                    let room = data.len() - off;
                    let bytes = value.to_ne_bytes();
                    data[off..off + room.min(8)].copy_from_slice(&bytes[..room.min(8)]);
                }
                data.extend_from_slice(scratch);
                check(self.s.invoke(f, data, relocs));
            }
            Op::Symbol(k) if self.libc != usize::MAX => {
                check(
                    self.s
                        .symbol(self.libc, SYMBOLS[usize::from(*k) % SYMBOLS.len()]),
                );
            }
            Op::Symbol(_) => {}
            Op::DropFunction(f) => {
                if !self.fn_offsets.is_empty() {
                    let f = usize::from(*f) % self.fn_offsets.len();
                    self.s.drop_function(f);
                    self.fn_offsets.swap_remove(f);
                }
            }
            Op::DropSignature(k) => {
                if !self.sig_offsets.is_empty() {
                    let k = usize::from(*k) % self.sig_offsets.len();
                    self.s.drop_signature(k);
                    self.sig_offsets.swap_remove(k);
                }
            }
        }
    }
}
