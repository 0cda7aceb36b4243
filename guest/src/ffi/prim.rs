//! Primitive C types, named by PyPy/`struct`-style type codes, and the
//! conversions between them and Python values. Sizes and signedness come
//! from the host's platform facts.

use std::sync::OnceLock;

use malachite_bigint::Sign;
use num_traits::ToPrimitive;
use rustpython_vm::builtins::{PyBytes, PyFloat, PyInt, PyStr};
use rustpython_vm::{PyObject, PyObjectRef, PyResult, VirtualMachine};

use super::longdouble;
use super::memory::read_string;
use super::platform::facts;
use crate::bindings::types::Scalar;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int {
        signed: bool,
    },
    Bool,
    /// `char`: a 1-byte `bytes`.
    Char,
    /// `wchar_t`: a 1-character `str`.
    WChar,
    Float,
    LongDouble,
    Pointer,
    /// `char *`: `bytes` out, `bytes`/`str`/address in.
    CharP,
    /// `wchar_t *`: `str` out, `str`/address in.
    WCharP,
    Void,
}

impl Kind {
    /// Whether values of this kind are addresses.
    pub fn is_pointer(self) -> bool {
        matches!(self, Kind::Pointer | Kind::CharP | Kind::WCharP)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Prim {
    pub code: char,
    pub kind: Kind,
    pub scalar: Scalar,
    pub size: u32,
    pub align: u32,
}

pub const CODES: &str = "cbBhHiIlLqQnN?fdgPzZuv";

fn c_name(code: char) -> &'static str {
    match code {
        'c' => "char",
        'b' => "signed char",
        'B' => "unsigned char",
        'h' => "short",
        'H' => "unsigned short",
        'i' => "int",
        'I' => "unsigned int",
        'l' => "long",
        'L' => "unsigned long",
        'q' => "long long",
        'Q' => "unsigned long long",
        'n' => "ssize_t",
        'N' => "size_t",
        '?' => "_Bool",
        'f' => "float",
        'd' => "double",
        'g' => "long double",
        'u' => "wchar_t",
        _ => "void *",
    }
}

/// The integer scalar of a given width and signedness.
pub fn int_scalar(size: u32, signed: bool) -> Scalar {
    match (size, signed) {
        (1, true) => Scalar::Sint8,
        (1, false) => Scalar::Uint8,
        (2, true) => Scalar::Sint16,
        (2, false) => Scalar::Uint16,
        (4, true) => Scalar::Sint32,
        (4, false) => Scalar::Uint32,
        (_, true) => Scalar::Sint64,
        (_, false) => Scalar::Uint64,
    }
}

fn build(code: char) -> Prim {
    if code == 'v' {
        return Prim {
            code,
            kind: Kind::Void,
            scalar: Scalar::Void,
            size: 0,
            align: 1,
        };
    }
    let info = facts().c_type(c_name(code));
    let (kind, scalar) = match code {
        'c' => (Kind::Char, int_scalar(1, info.is_signed)),
        '?' => (Kind::Bool, int_scalar(info.size, false)),
        'u' => (Kind::WChar, int_scalar(info.size, info.is_signed)),
        'f' => (Kind::Float, Scalar::Float32),
        'd' => (Kind::Float, Scalar::Float64),
        'g' => (Kind::LongDouble, Scalar::LongDouble),
        'P' => (Kind::Pointer, Scalar::Pointer),
        'z' => (Kind::CharP, Scalar::Pointer),
        'Z' => (Kind::WCharP, Scalar::Pointer),
        _ => (
            Kind::Int {
                signed: info.is_signed,
            },
            int_scalar(info.size, info.is_signed),
        ),
    };
    Prim {
        code,
        kind,
        scalar,
        size: info.size,
        align: info.alignment,
    }
}

/// The primitive for a type code, or `None` for an unknown code.
pub fn prim(code: char) -> Option<Prim> {
    static TABLE: OnceLock<Vec<Prim>> = OnceLock::new();
    let table = TABLE.get_or_init(|| CODES.chars().map(build).collect());
    table.iter().find(|p| p.code == code).copied()
}

pub fn prim_from_str(vm: &VirtualMachine, code: &str) -> PyResult<Prim> {
    let mut chars = code.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => prim(c),
        _ => None,
    }
    .ok_or_else(|| vm.new_value_error(format!("unknown type code {code:?} (known: {CODES})")))
}

/// A Python value converted for native code.
pub enum Encoded {
    /// Integer, pointer or float bits, little end first in `size` bytes.
    Bits(u64),
    /// Raw bytes (`long double`).
    Bytes(Vec<u8>),
    /// A pointer to data that must live somewhere native code can see for
    /// the duration of a call (a string passed by value).
    Temporary(Vec<u8>),
}

/// The low 64 bits of an int in two's complement: C's conversion to a
/// narrower unsigned type, and the source of every wrap-around.
pub fn int_bits(int: &PyInt) -> u64 {
    let value = int.as_bigint();
    if let Some(v) = value.to_i64() {
        return v as u64;
    }
    if let Some(v) = value.to_u64() {
        return v;
    }
    let low = value.iter_u64_digits().next().unwrap_or(0);
    if value.sign() == Sign::Minus {
        low.wrapping_neg()
    } else {
        low
    }
}

fn type_name(obj: &PyObjectRef) -> String {
    obj.class().name().to_string()
}

/// An address from an int, `None` (NULL) or an object with an int `buffer`
/// attribute (raw shapes).
pub fn address_of(vm: &VirtualMachine, obj: &PyObjectRef) -> PyResult<Option<u64>> {
    if vm.is_none(obj) {
        return Ok(Some(0));
    }
    if let Some(int) = obj.downcast_ref::<PyInt>() {
        return Ok(Some(int_bits(int)));
    }
    if let Ok(buffer) = obj.get_attr("buffer", vm) {
        if let Some(int) = buffer.downcast_ref::<PyInt>() {
            return Ok(Some(int_bits(int)));
        }
    }
    Ok(None)
}

/// A Python number as a C double: floats, ints (OverflowError beyond the
/// double range) and objects with `__float__`, as CPython's ctypes accepts.
pub fn float_of(vm: &VirtualMachine, obj: &PyObject) -> PyResult<f64> {
    if let Some(f) = obj.downcast_ref::<PyFloat>() {
        return Ok(f.to_f64());
    }
    if let Some(i) = obj.downcast_ref::<PyInt>() {
        return i
            .as_bigint()
            .to_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| vm.new_overflow_error("int too large to convert to float"));
    }
    match obj.get_attr("__float__", vm).ok() {
        Some(method) => {
            let v = method.call((), vm)?;
            v.downcast_ref::<PyFloat>()
                .map(|f| f.to_f64())
                .ok_or_else(|| vm.new_type_error("__float__ returned non-float"))
        }
        None => Err(vm.new_type_error(format!("must be real number, not {}", obj.class().name()))),
    }
}

pub fn encode_wide(vm: &VirtualMachine, text: &PyStr) -> PyResult<Vec<u8>> {
    let text = text.to_str().ok_or_else(|| {
        vm.new_unicode_encode_error("surrogates are not allowed in wchar_t strings")
    })?;
    Ok(match facts().wchar_size() {
        2 => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        _ => text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect(),
    })
}

pub fn decode_wide(vm: &VirtualMachine, bytes: &[u8]) -> PyResult<String> {
    match facts().wchar_size() {
        2 => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|e| vm.new_unicode_decode_error(e.to_string()))
        }
        _ => bytes
            .chunks_exact(4)
            .map(|c| {
                let unit = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                char::from_u32(unit).ok_or_else(|| {
                    vm.new_unicode_decode_error(format!(
                        "wchar_t value {unit:#x} is not a character"
                    ))
                })
            })
            .collect(),
    }
}

/// Convert `obj` to the native value of `prim`.
pub fn encode(vm: &VirtualMachine, prim: Prim, obj: &PyObjectRef) -> PyResult<Encoded> {
    let wrong = || {
        vm.new_type_error(format!(
            "expected {} for type code '{}', got {}",
            expected(prim.kind),
            prim.code,
            type_name(obj)
        ))
    };
    Ok(match prim.kind {
        Kind::Int { .. } => Encoded::Bits(int_bits(obj.downcast_ref::<PyInt>().ok_or_else(wrong)?)),
        Kind::Bool => Encoded::Bits(u64::from(obj.clone().try_to_bool(vm)?)),
        Kind::Char => match (obj.downcast_ref::<PyBytes>(), obj.downcast_ref::<PyInt>()) {
            (Some(b), _) if b.as_bytes().len() == 1 => Encoded::Bits(u64::from(b.as_bytes()[0])),
            (_, Some(i)) => Encoded::Bits(int_bits(i) & 0xff),
            _ => return Err(wrong()),
        },
        Kind::WChar => {
            let s = obj.downcast_ref::<PyStr>().ok_or_else(wrong)?;
            let mut chars = s.as_wtf8().code_points();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Encoded::Bits(u64::from(c.to_u32())),
                _ => return Err(vm.new_type_error("a wchar_t takes a 1-character string")),
            }
        }
        Kind::Float => {
            let value = float_of(vm, obj).map_err(|_| wrong())?;
            if prim.size == 4 {
                Encoded::Bits(u64::from((value as f32).to_bits()))
            } else {
                Encoded::Bits(value.to_bits())
            }
        }
        Kind::LongDouble => {
            Encoded::Bytes(longdouble::encode(float_of(vm, obj).map_err(|_| wrong())?))
        }
        Kind::Pointer => Encoded::Bits(address_of(vm, obj)?.ok_or_else(wrong)?),
        Kind::CharP => {
            if let Some(b) = obj.downcast_ref::<PyBytes>() {
                let mut data = b.as_bytes().to_vec();
                data.push(0);
                Encoded::Temporary(data)
            } else if let Some(s) = obj.downcast_ref::<PyStr>() {
                let mut data = s.as_wtf8().as_bytes().to_vec();
                data.push(0);
                Encoded::Temporary(data)
            } else {
                Encoded::Bits(address_of(vm, obj)?.ok_or_else(wrong)?)
            }
        }
        Kind::WCharP => {
            if let Some(s) = obj.downcast_ref::<PyStr>() {
                let mut data = encode_wide(vm, s)?;
                data.extend(std::iter::repeat_n(0, facts().wchar_size() as usize));
                Encoded::Temporary(data)
            } else {
                Encoded::Bits(address_of(vm, obj)?.ok_or_else(wrong)?)
            }
        }
        Kind::Void => return Err(vm.new_type_error("void has no values")),
    })
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Int { .. } => "int",
        Kind::Bool => "bool",
        Kind::Char => "bytes of length 1 or int",
        Kind::WChar => "str of length 1",
        Kind::Float | Kind::LongDouble => "float",
        Kind::Pointer => "int address or None",
        Kind::CharP => "bytes, str, address or None",
        Kind::WCharP => "str, address or None",
        Kind::Void => "nothing",
    }
}

/// Write an encoded value into a `size`-byte native slot.
pub fn write_slot(slot: &mut [u8], value: &Encoded) {
    match value {
        Encoded::Bits(bits) => {
            let n = slot.len().min(8);
            slot[..n].copy_from_slice(&bits.to_le_bytes()[..n]);
        }
        Encoded::Bytes(bytes) => {
            let n = slot.len().min(bytes.len());
            slot[..n].copy_from_slice(&bytes[..n]);
        }
        Encoded::Temporary(_) => unreachable!("temporaries are placed by the caller"),
    }
}

/// Python value of a scalar given as its 64 bits (sign-extended when signed).
pub fn decode_bits(vm: &VirtualMachine, prim: Prim, bits: u64) -> PyResult<PyObjectRef> {
    let mask = |v: u64| {
        if prim.size >= 8 {
            v
        } else {
            v & ((1u64 << (prim.size * 8)) - 1)
        }
    };
    Ok(match prim.kind {
        Kind::Int { signed: true } => {
            let shift = 64 - prim.size * 8;
            vm.ctx.new_int(((bits << shift) as i64) >> shift).into()
        }
        Kind::Int { signed: false } => vm.ctx.new_int(mask(bits)).into(),
        Kind::Bool => vm.ctx.new_bool(mask(bits) != 0).into(),
        Kind::Char => vm.ctx.new_bytes(vec![bits as u8]).into(),
        Kind::WChar => {
            let unit = mask(bits) as u32;
            let c = char::from_u32(unit).ok_or_else(|| {
                vm.new_value_error(format!("wchar_t value {unit:#x} is not a character"))
            })?;
            vm.ctx.new_str(c.to_string()).into()
        }
        Kind::Float if prim.size == 4 => vm
            .ctx
            .new_float(f64::from(f32::from_bits(bits as u32)))
            .into(),
        Kind::Float => vm.ctx.new_float(f64::from_bits(bits)).into(),
        Kind::Pointer => vm.ctx.new_int(bits).into(),
        Kind::CharP if bits == 0 => vm.ctx.none(),
        Kind::CharP => vm.ctx.new_bytes(read_string(vm, bits, 1, None)?).into(),
        Kind::WCharP if bits == 0 => vm.ctx.none(),
        Kind::WCharP => {
            let bytes = read_string(vm, bits, facts().wchar_size(), None)?;
            vm.ctx.new_str(decode_wide(vm, &bytes)?).into()
        }
        Kind::LongDouble => return Err(vm.new_type_error("long double crosses as bytes")),
        Kind::Void => vm.ctx.none(),
    })
}

/// Python value of a scalar given as its native bytes.
pub fn decode_bytes(vm: &VirtualMachine, prim: Prim, bytes: &[u8]) -> PyResult<PyObjectRef> {
    if prim.kind == Kind::LongDouble {
        return Ok(vm.ctx.new_float(longdouble::decode(bytes)).into());
    }
    let mut raw = [0u8; 8];
    let n = bytes.len().min(8);
    raw[..n].copy_from_slice(&bytes[..n]);
    decode_bits(vm, prim, u64::from_le_bytes(raw))
}
