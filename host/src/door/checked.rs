//! Checked memory mode on the call path: before a function of a checked
//! library runs, every pointer it is given must name memory the runtime
//! vouches for; pinned signatures say how much memory, and which results
//! are borrowed memory the guest may then read.
//!
//! What a pointer argument may be, in checked mode:
//! * an address inside a live block from `memory.alloc` (with a pinned
//!   bound, the whole bound must fit before the block's end);
//! * a pointer into the call's own scratch area (strings passed by value);
//! * inside a borrowed region, for a `const` parameter of a pinned signature;
//! * a live callback's address, for a function-pointer parameter;
//! * NULL, for a parameter pinned `nullable`.
//!
//! Everything else (forged integers, freed blocks, out-of-bounds ranges) is
//! `bad-pointer` and no native code runs.

use wasmffi_native::low::memory::{scalar_bits, NativeMemory};
use wasmffi_native::middle::signature::{ArgKind, Done as CallDone, Prepared, Return};
use wasmffi_native::middle::staging::ArgView;
use wasmffi_native::middle::types::scalar_size;
use wasmffi_native::Scalar;

use crate::bindings::FfiError;
use crate::policy::csig::{CParam, CSignature};
use crate::policy::limits::Counters;

/// What checking a function of a checked library needs.
#[derive(Debug)]
pub struct Guard {
    /// `library:symbol`, for messages.
    pub name: String,
    pub pinned: Option<CSignature>,
}

/// Compare the guest's prepared signature with a pinned one.
pub fn matches_pinned(sig: &Prepared, pinned: &CSignature) -> Result<(), String> {
    let describe = |k: &ArgKind| match k {
        ArgKind::Scalar(s) => crate::policy::csig::scalar_name(*s).to_owned(),
        ArgKind::Struct { size, .. } => format!("struct of {size} bytes"),
    };
    let ret_ok = match (sig.ret, pinned.ret.scalar) {
        (Return::Void, Scalar::Void) => true,
        (Return::Scalar(s, _), p) => s == p,
        (Return::Bytes(_), Scalar::LongDouble) => sig.ret_long_double,
        _ => false,
    };
    if !ret_ok {
        return Err(format!(
            "result is {}, pinned {}",
            if sig.ret_long_double {
                "long-double".to_owned()
            } else {
                match sig.ret {
                    Return::Void => "void".to_owned(),
                    Return::Scalar(s, _) => crate::policy::csig::scalar_name(s).to_owned(),
                    Return::Bytes(n) => format!("struct of {n} bytes"),
                }
            },
            crate::policy::csig::scalar_name(pinned.ret.scalar)
        ));
    }
    let fixed = pinned.params.len();
    match (pinned.variadic, sig.fixed_args) {
        (false, None) if sig.kinds.len() != fixed => {
            return Err(format!("{} arguments, pinned {fixed}", sig.kinds.len()))
        }
        (false, Some(_)) => return Err("called as variadic, pinned as not variadic".into()),
        (true, None) => return Err(format!("pinned as variadic after {fixed} fixed arguments")),
        (true, Some(n)) if n as usize != fixed => {
            return Err(format!("{n} fixed arguments, pinned {fixed}"))
        }
        _ => {}
    }
    for (i, (kind, param)) in sig.kinds.iter().zip(&pinned.params).enumerate() {
        if *kind != ArgKind::Scalar(param.ty.scalar) {
            return Err(format!(
                "argument {} is {}, pinned {}",
                i + 1,
                describe(kind),
                crate::policy::csig::scalar_name(param.ty.scalar)
            ));
        }
    }
    if pinned.variadic {
        if let Some((i, k)) = sig.kinds.iter().enumerate().skip(fixed).find(|(_, k)| {
            !matches!(
                k,
                ArgKind::Scalar(
                    Scalar::Sint32
                        | Scalar::Uint32
                        | Scalar::Sint64
                        | Scalar::Uint64
                        | Scalar::Float64
                        | Scalar::Pointer
                        | Scalar::LongDouble
                )
            )
        }) {
            return Err(format!(
                "variadic argument {} is {} (not a promoted C type)",
                i + 1,
                describe(k)
            ));
        }
    }
    Ok(())
}

/// Where a pointer argument points.
struct Target {
    address: u64,
    /// End of the memory it may use.
    end: u64,
    /// Index into the argument buffer when it points into the scratch area.
    scratch: Option<usize>,
    read_only: bool,
}

struct Call<'a> {
    memory: &'a NativeMemory,
    counters: &'a Counters,
    guard: &'a Guard,
    sig: &'a Prepared,
    args: ArgView<'a>,
}

impl Call<'_> {
    fn slot(&self, offset: usize, size: usize) -> Result<&[u8], FfiError> {
        self.args
            .data
            .get(offset..offset + size)
            .ok_or_else(|| FfiError::InvalidArgument("argument buffer too short".into()))
    }

    fn word(&self, offset: usize) -> Result<u64, FfiError> {
        Ok(u64::from_ne_bytes(
            self.slot(offset, 8)?.try_into().expect("8 bytes"),
        ))
    }

    /// The integer value of argument `i` (for bounds).
    fn int_arg(&self, i: usize) -> u64 {
        let (Some(ArgKind::Scalar(kind)), Some(&off)) =
            (self.sig.kinds.get(i), self.sig.arg_offsets.get(i))
        else {
            return u64::MAX;
        };
        let size = scalar_size(*kind);
        self.slot(off as usize, size)
            .map(|b| scalar_bits(*kind, b))
            .unwrap_or(u64::MAX)
    }

    fn err(&self, arg: usize, what: String) -> FfiError {
        FfiError::BadPointer(format!("{}: argument {}: {what}", self.guard.name, arg + 1))
    }

    fn locate(&self, arg: usize, slot_offset: usize, value: u64) -> Result<Target, FfiError> {
        if self.args.relocations.contains(&(slot_offset as u32)) {
            let len = self.args.data.len() as u64;
            if value >= len {
                return Err(FfiError::InvalidArgument(format!(
                    "relocation at {slot_offset} points outside the argument buffer"
                )));
            }
            return Ok(Target {
                address: value,
                end: len,
                scratch: Some(value as usize),
                read_only: false,
            });
        }
        if let Some((_, end)) = self.memory.block_range(value) {
            return Ok(Target {
                address: value,
                end,
                scratch: None,
                read_only: false,
            });
        }
        if let Some((_, end)) = self.memory.borrowed_range(value) {
            return Ok(Target {
                address: value,
                end,
                scratch: None,
                read_only: true,
            });
        }
        Err(match self.memory.freed_block(value) {
            Some(start) => self.err(arg, format!("{value:#x} is in the freed block at {start:#x} (use after free)")),
            None => self.err(
                arg,
                format!("{value:#x} is not memory of this runtime (checked mode refuses foreign addresses)"),
            ),
        })
    }

    /// Bytes from `t.address` up to the first NUL, inside its region.
    fn string_len(&self, arg: usize, t: &Target) -> Result<u64, FfiError> {
        let len = (t.end - t.address) as usize;
        let found = if let Some(at) = t.scratch {
            self.args.data[at..].iter().position(|&b| b == 0)
        } else {
            let mut bytes = vec![0u8; len];
            self.memory.read(t.address, &mut bytes)?;
            bytes.iter().position(|&b| b == 0)
        };
        found.map(|n| n as u64).ok_or_else(|| {
            self.err(
                arg,
                format!(
                    "the string at {:#x} is not NUL-terminated inside its memory",
                    t.address
                ),
            )
        })
    }

    fn string_bytes(&self, t: &Target, len: u64) -> Result<Vec<u8>, FfiError> {
        if let Some(at) = t.scratch {
            return Ok(self.args.data[at..at + len as usize].to_vec());
        }
        let mut bytes = vec![0u8; len as usize];
        self.memory.read(t.address, &mut bytes)?;
        Ok(bytes)
    }

    /// Check one pointer value; returns where it points (None: NULL or a callback).
    fn pointer(
        &self,
        arg: usize,
        slot_offset: usize,
        value: u64,
        param: Option<&CParam>,
    ) -> Result<Option<Target>, FfiError> {
        let pointee = param.and_then(|p| p.ty.pointer.as_ref());
        if value == 0 && !self.args.relocations.contains(&(slot_offset as u32)) {
            return if param.is_some_and(|p| p.nullable) {
                Ok(None)
            } else {
                Err(self.err(
                    arg,
                    "NULL is refused in checked mode (pin the parameter `nullable` to allow it)"
                        .into(),
                ))
            };
        }
        if pointee.is_some_and(|p| p.is_function) {
            return if self.counters.callback_addresses.contains_key(&value) {
                Ok(None)
            } else {
                Err(self.err(
                    arg,
                    format!("{value:#x} is not a live callback of this run"),
                ))
            };
        }
        let t = self.locate(arg, slot_offset, value)?;
        if t.read_only && !pointee.is_some_and(|p| p.is_const) {
            return Err(self.err(
                arg,
                format!("{value:#x} is borrowed read-only memory; only a `const` pinned parameter may take it"),
            ));
        }
        let needed = match (param, pointee) {
            (Some(p), Some(pointee)) => match &p.bound {
                Some(bound) => bound
                    .eval(|k| self.int_arg(k))
                    .and_then(|n| n.checked_mul(pointee.elem_size))
                    .ok_or_else(|| self.err(arg, format!("bound [{bound}] overflows")))?,
                None if pointee.is_char => self.string_len(arg, &t)? + 1,
                None => pointee.elem_size,
            },
            _ => 0,
        };
        if t.address.checked_add(needed).is_none_or(|e| e > t.end) {
            return Err(self.err(
                arg,
                format!(
                    "{needed} bytes at {:#x} run past the end of its memory ({} bytes left)",
                    t.address,
                    t.end - t.address
                ),
            ));
        }
        Ok(Some(t))
    }

    /// Offsets of every pointer slot (top-level and inside structs).
    fn pointer_slots(&self) -> Vec<u32> {
        let mut slots = Vec::new();
        for (kind, &off) in self.sig.kinds.iter().zip(&self.sig.arg_offsets) {
            match kind {
                ArgKind::Scalar(Scalar::Pointer) => slots.push(off),
                ArgKind::Struct {
                    pointers: Some(ptrs),
                    ..
                } => slots.extend(ptrs.iter().map(|p| off + p)),
                _ => {}
            }
        }
        slots
    }

    fn run(&self) -> Result<(), FfiError> {
        // Found by the fuzzer: the host rebases every relocated slot, so a
        // relocation on an integer slot (a length) would turn it into an
        // address-sized number after the bounds were checked.
        if !self.args.relocations.is_empty() {
            let slots = self.pointer_slots();
            if let Some(r) = self.args.relocations.iter().find(|r| !slots.contains(r)) {
                return Err(FfiError::InvalidArgument(format!(
                    "{}: relocation at {r} is not a pointer slot",
                    self.guard.name
                )));
            }
        }
        let pinned = self.guard.pinned.as_ref();
        let mut format: Option<(usize, Target)> = None;
        for (i, kind) in self.sig.kinds.iter().enumerate() {
            let off = self.sig.arg_offsets[i] as usize;
            match kind {
                ArgKind::Scalar(Scalar::Pointer) => {
                    let param = pinned.and_then(|p| p.params.get(i));
                    let t = self.pointer(i, off, self.word(off)?, param)?;
                    if param.is_some_and(|p| p.format) {
                        format = t.map(|t| (i, t));
                    }
                }
                ArgKind::Struct { pointers: Some(ptrs), .. } => {
                    for &p in ptrs {
                        self.pointer(i, off + p as usize, self.word(off + p as usize)?, None)?;
                    }
                }
                ArgKind::Struct { pointers: None, .. } => {
                    return Err(FfiError::NotPermitted(format!(
                        "{}: argument {}: a union holding pointers cannot be passed by value in checked mode",
                        self.guard.name,
                        i + 1
                    )))
                }
                ArgKind::Scalar(_) => {}
            }
        }
        if let (Some((i, t)), Some(pinned)) = (format, pinned) {
            let len = self.string_len(i, &t)?;
            let fmt = self.string_bytes(&t, len)?;
            self.check_format(i, &fmt, pinned.params.len())?;
        }
        Ok(())
    }

    /// A printf format against the variadic arguments starting at `first`.
    fn check_format(&self, fmt_arg: usize, fmt: &[u8], first: usize) -> Result<(), FfiError> {
        let mut next = first;
        let bad = |what: String| {
            FfiError::BadPointer(format!(
                "{}: format (argument {}): {what}",
                self.guard.name,
                fmt_arg + 1
            ))
        };
        let mut take = |want: &str| -> Result<(usize, Scalar), FfiError> {
            let i = next;
            next += 1;
            match self.sig.kinds.get(i) {
                Some(ArgKind::Scalar(s)) => Ok((i, *s)),
                Some(_) => Err(bad(format!("argument {} for {want} is a struct", i + 1))),
                None => Err(bad(format!("needs more arguments ({want} has none)"))),
            }
        };
        let is_int = |s: Scalar| {
            !matches!(
                s,
                Scalar::Float32 | Scalar::Float64 | Scalar::LongDouble | Scalar::Pointer
            )
        };
        let mut i = 0;
        while i < fmt.len() {
            if fmt[i] != b'%' {
                i += 1;
                continue;
            }
            i += 1;
            if fmt.get(i) == Some(&b'%') {
                i += 1;
                continue;
            }
            while i < fmt.len() && b"-+ #0'".contains(&fmt[i]) {
                i += 1;
            }
            for _part in 0..2 {
                if fmt.get(i) == Some(&b'*') {
                    let (a, s) = take("'*'")?;
                    if !is_int(s) {
                        return Err(bad(format!("argument {} for '*' is not an integer", a + 1)));
                    }
                    i += 1;
                } else {
                    while i < fmt.len() && fmt[i].is_ascii_digit() {
                        i += 1;
                    }
                    if fmt.get(i) == Some(&b'$') {
                        return Err(bad("positional arguments (%N$) are not supported".into()));
                    }
                }
                if fmt.get(i) == Some(&b'.') {
                    i += 1;
                } else {
                    break;
                }
            }
            let mut long_double = false;
            let mut wide = false;
            while i < fmt.len() && b"hlLqjzt".contains(&fmt[i]) {
                long_double |= fmt[i] == b'L';
                wide |= fmt[i] == b'l';
                i += 1;
            }
            let Some(&conv) = fmt.get(i) else {
                return Err(bad("ends inside a conversion".into()));
            };
            i += 1;
            match conv {
                b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'c' => {
                    let (a, s) = take("an integer conversion")?;
                    if !is_int(s) {
                        return Err(bad(format!(
                            "%{} needs an integer, argument {} is not",
                            conv as char,
                            a + 1
                        )));
                    }
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
                    let (a, s) = take("a floating conversion")?;
                    let want = if long_double {
                        Scalar::LongDouble
                    } else {
                        Scalar::Float64
                    };
                    if s != want {
                        return Err(bad(format!(
                            "%{} needs a {}, argument {} is not",
                            conv as char,
                            crate::policy::csig::scalar_name(want),
                            a + 1
                        )));
                    }
                }
                b's' if wide => {
                    return Err(bad(
                        "%ls (wide strings) is not supported in checked mode".into()
                    ))
                }
                b's' => {
                    let (a, s) = take("%s")?;
                    if s != Scalar::Pointer {
                        return Err(bad(format!(
                            "%s needs a string, argument {} is not a pointer",
                            a + 1
                        )));
                    }
                    let off = self.sig.arg_offsets[a] as usize;
                    let t = self
                        .pointer(a, off, self.word(off)?, None)?
                        .expect("not NULL");
                    self.string_len(a, &t)?;
                }
                b'p' => {
                    let (a, s) = take("%p")?;
                    if s != Scalar::Pointer {
                        return Err(bad(format!(
                            "%p needs a pointer, argument {} is not",
                            a + 1
                        )));
                    }
                }
                b'n' => return Err(bad("%n is refused in checked mode".into())),
                other => return Err(bad(format!("unsupported conversion %{}", other as char))),
            }
        }
        Ok(())
    }
}

/// Check a call to a function of a checked library before it runs.
pub fn check_call(
    memory: &NativeMemory,
    counters: &Counters,
    guard: &Guard,
    sig: &Prepared,
    args: ArgView<'_>,
) -> Result<(), FfiError> {
    if args.data.len() < sig.slots_size as usize {
        // `stage` reports this one.
        return Ok(());
    }
    Call {
        memory,
        counters,
        guard,
        sig,
        args,
    }
    .run()
}

/// Record what a pinned signature says the result borrows.
pub fn after_call(
    memory: &mut NativeMemory,
    guard: &Guard,
    args: ArgView<'_>,
    sig: &Prepared,
    done: &CallDone,
) {
    let Some(pinned) = &guard.pinned else { return };
    let Some(pointee) = &pinned.ret.pointer else {
        return;
    };
    if !pointee.is_const || pointee.is_function || done.value == 0 {
        return;
    }
    match &pinned.ret_bound {
        None if pointee.is_char => {
            memory.borrow_string(done.value);
        }
        bound => {
            let call = |k: usize| {
                let (Some(ArgKind::Scalar(kind)), Some(&off)) =
                    (sig.kinds.get(k), sig.arg_offsets.get(k))
                else {
                    return u64::MAX;
                };
                let size = scalar_size(*kind);
                args.data
                    .get(off as usize..off as usize + size)
                    .map(|b| scalar_bits(*kind, b))
                    .unwrap_or(u64::MAX)
            };
            let n = bound.as_ref().map_or(Some(1), |b| b.eval(call));
            if let Some(len) = n.and_then(|n| n.checked_mul(pointee.elem_size)) {
                if len <= 1 << 30 {
                    memory.borrow(done.value, len);
                }
            }
        }
    }
}

/// Checked mode refuses callbacks whose result native code would use as a
/// pointer: the guest could hand it any address.
pub fn check_callback(checked: bool, sig: &Prepared) -> Result<(), FfiError> {
    if !checked {
        return Ok(());
    }
    let pointer_result = matches!(sig.ret, Return::Scalar(Scalar::Pointer, _));
    if pointer_result {
        return Err(FfiError::NotPermitted(
            "a callback returning a pointer is refused in checked memory mode".into(),
        ));
    }
    Ok(())
}
