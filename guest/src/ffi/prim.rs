//! Primitive C types, named by PyPy/`struct`-style type codes, and the
//! conversions between them and Python values. Sizes and signedness come
//! from the host's platform facts.

use std::sync::OnceLock;

use pyo3::exceptions::{
    PyOverflowError, PyTypeError, PyUnicodeDecodeError, PyUnicodeEncodeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString};

use super::errors::type_name;
use super::longdouble;
use super::memory::read_string;
use super::platform::facts;
use super::wit::types::Scalar;

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

pub fn prim_from_str(code: &str) -> PyResult<Prim> {
    let mut chars = code.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => prim(c),
        _ => None,
    }
    .ok_or_else(|| PyValueError::new_err(format!("unknown type code {code:?} (known: {CODES})")))
}

/// A Python `str` as UTF-8; a lone surrogate is a UnicodeEncodeError
/// giving `reason`.
pub fn utf8<'a>(s: &'a Bound<'_, PyString>, reason: &str) -> PyResult<&'a str> {
    s.to_str().map_err(|err| {
        let py = s.py();
        let value = err.value(py);
        let start = value
            .getattr("start")
            .and_then(|v| v.extract::<isize>())
            .unwrap_or(0);
        let end = value
            .getattr("end")
            .and_then(|v| v.extract::<isize>())
            .unwrap_or(start + 1);
        PyUnicodeEncodeError::new_err(("utf-8", s.clone().unbind(), start, end, reason.to_owned()))
    })
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
pub fn int_bits(int: &Bound<'_, PyInt>) -> PyResult<u64> {
    if let Ok(v) = int.extract::<i64>() {
        return Ok(v as u64);
    }
    if let Ok(v) = int.extract::<u64>() {
        return Ok(v);
    }
    // Beyond 64 bits: Python's `&` on a negative int works in two's
    // complement, so masking gives exactly C's low bits.
    int.bitand(u64::MAX)?.extract::<u64>()
}

/// An address from an int, `None` (NULL) or an object with an int `buffer`
/// attribute (raw shapes).
pub fn address_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(Some(0));
    }
    if let Ok(int) = obj.cast::<PyInt>() {
        return int_bits(int).map(Some);
    }
    // Whatever getting `buffer` raises (a freed shape's SegfaultException
    // too) means "not an address": the caller words the TypeError.
    if let Ok(buffer) = obj.getattr("buffer") {
        if let Ok(int) = buffer.cast::<PyInt>() {
            return int_bits(int).map(Some);
        }
    }
    Ok(None)
}

/// A Python number as a C double: floats, ints (OverflowError beyond the
/// double range) and objects with `__float__`, as CPython's ctypes accepts.
pub fn float_of(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(f.value());
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| PyOverflowError::new_err("int too large to convert to float"));
    }
    match obj.getattr("__float__").ok() {
        Some(method) => {
            let v = method.call0()?;
            v.cast::<PyFloat>()
                .map(|f| f.value())
                .map_err(|_| PyTypeError::new_err("__float__ returned non-float"))
        }
        None => Err(PyTypeError::new_err(format!(
            "must be real number, not {}",
            type_name(obj)
        ))),
    }
}

/// A `str` as UTF-8 bytes, lone surrogates included (encoded as WTF-8
/// carries them).
fn str_bytes(s: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
    match s.to_str() {
        Ok(text) => Ok(text.as_bytes().to_vec()),
        Err(_) => Ok(s
            .call_method1("encode", ("utf-8", "surrogatepass"))?
            .cast::<PyBytes>()?
            .as_bytes()
            .to_vec()),
    }
}

/// A `str` as native `wchar_t` units, in native code's byte order.
pub fn encode_wide(text: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
    let text = utf8(text, "surrogates are not allowed in wchar_t strings")?;
    let (unit16, unit32): (fn(u16) -> [u8; 2], fn(u32) -> [u8; 4]) = match facts().big_endian() {
        true => (u16::to_be_bytes, u32::to_be_bytes),
        false => (u16::to_le_bytes, u32::to_le_bytes),
    };
    Ok(match facts().wchar_size() {
        2 => text.encode_utf16().flat_map(unit16).collect(),
        _ => text.chars().flat_map(|c| unit32(c as u32)).collect(),
    })
}

fn wide_decode_error(py: Python<'_>, bytes: &[u8], reason: String) -> PyErr {
    let encoding = match (facts().wchar_size(), facts().big_endian()) {
        (2, false) => "utf-16-le",
        (2, true) => "utf-16-be",
        (_, false) => "utf-32-le",
        (_, true) => "utf-32-be",
    };
    PyUnicodeDecodeError::new_err((
        encoding,
        PyBytes::new(py, bytes).unbind(),
        0usize,
        bytes.len(),
        reason,
    ))
}

/// Native `wchar_t` units (in native code's byte order) as a `str`.
pub fn decode_wide(py: Python<'_>, bytes: &[u8]) -> PyResult<String> {
    let (unit16, unit32): (fn([u8; 2]) -> u16, fn([u8; 4]) -> u32) = match facts().big_endian() {
        true => (u16::from_be_bytes, u32::from_be_bytes),
        false => (u16::from_le_bytes, u32::from_le_bytes),
    };
    match facts().wchar_size() {
        2 => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| unit16([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|e| wide_decode_error(py, bytes, e.to_string()))
        }
        _ => bytes
            .chunks_exact(4)
            .map(|c| {
                let unit = unit32([c[0], c[1], c[2], c[3]]);
                char::from_u32(unit).ok_or_else(|| {
                    wide_decode_error(
                        py,
                        bytes,
                        format!("wchar_t value {unit:#x} is not a character"),
                    )
                })
            })
            .collect(),
    }
}

/// The one code point of a 1-character `str`, surrogates included.
fn single_code_point(s: &Bound<'_, PyString>) -> PyResult<Option<u32>> {
    if s.len()? != 1 {
        return Ok(None);
    }
    if let Ok(text) = s.to_str() {
        return Ok(text.chars().next().map(u32::from));
    }
    let raw = s.call_method1("encode", ("utf-32-le", "surrogatepass"))?;
    let raw = raw.cast::<PyBytes>()?.as_bytes();
    Ok(raw
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Convert `obj` to the native value of `prim`.
pub fn encode(prim: Prim, obj: &Bound<'_, PyAny>) -> PyResult<Encoded> {
    let wrong = || {
        PyTypeError::new_err(format!(
            "expected {} for type code '{}', got {}",
            expected(prim.kind),
            prim.code,
            type_name(obj)
        ))
    };
    Ok(match prim.kind {
        Kind::Int { .. } => Encoded::Bits(int_bits(obj.cast::<PyInt>().map_err(|_| wrong())?)?),
        Kind::Bool => Encoded::Bits(u64::from(obj.is_truthy()?)),
        Kind::Char => {
            if let Some(b) = obj
                .cast::<PyBytes>()
                .ok()
                .filter(|b| b.as_bytes().len() == 1)
            {
                Encoded::Bits(u64::from(b.as_bytes()[0]))
            } else if let Ok(i) = obj.cast::<PyInt>() {
                Encoded::Bits(int_bits(i)? & 0xff)
            } else {
                return Err(wrong());
            }
        }
        Kind::WChar => {
            let s = obj.cast::<PyString>().map_err(|_| wrong())?;
            match single_code_point(s)? {
                Some(c) => Encoded::Bits(u64::from(c)),
                None => return Err(PyTypeError::new_err("a wchar_t takes a 1-character string")),
            }
        }
        Kind::Float => {
            let value = float_of(obj).map_err(|_| wrong())?;
            if prim.size == 4 {
                Encoded::Bits(u64::from((value as f32).to_bits()))
            } else {
                Encoded::Bits(value.to_bits())
            }
        }
        Kind::LongDouble => Encoded::Bytes(longdouble::encode(float_of(obj).map_err(|_| wrong())?)),
        Kind::Pointer => Encoded::Bits(address_of(obj)?.ok_or_else(wrong)?),
        Kind::CharP => {
            if let Ok(b) = obj.cast::<PyBytes>() {
                let mut data = b.as_bytes().to_vec();
                data.push(0);
                Encoded::Temporary(data)
            } else if let Ok(s) = obj.cast::<PyString>() {
                let mut data = str_bytes(s)?;
                data.push(0);
                Encoded::Temporary(data)
            } else {
                Encoded::Bits(address_of(obj)?.ok_or_else(wrong)?)
            }
        }
        Kind::WCharP => {
            if let Ok(s) = obj.cast::<PyString>() {
                let mut data = encode_wide(s)?;
                data.extend(std::iter::repeat_n(0, facts().wchar_size() as usize));
                Encoded::Temporary(data)
            } else {
                Encoded::Bits(address_of(obj)?.ok_or_else(wrong)?)
            }
        }
        Kind::Void => return Err(PyTypeError::new_err("void has no values")),
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

/// Write an encoded value into a `size`-byte native slot. Temporaries are
/// placed by the caller (they need the scratch area); here they write nothing.
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
        Encoded::Temporary(_) => {}
    }
}

/// Python value of a scalar given as its 64 bits (sign-extended when signed).
pub fn decode_bits<'py>(py: Python<'py>, prim: Prim, bits: u64) -> PyResult<Bound<'py, PyAny>> {
    let mask = |v: u64| {
        if prim.size >= 8 {
            v
        } else {
            v & ((1u64 << (prim.size * 8)) - 1)
        }
    };
    Ok(match prim.kind {
        Kind::Int { signed: true } => {
            let shift = 64 - prim.size.clamp(1, 8) * 8;
            PyInt::new(py, ((bits << shift) as i64) >> shift).into_any()
        }
        Kind::Int { signed: false } => PyInt::new(py, mask(bits)).into_any(),
        Kind::Bool => PyBool::new(py, mask(bits) != 0).to_owned().into_any(),
        Kind::Char => PyBytes::new(py, &[bits as u8]).into_any(),
        Kind::WChar => {
            let unit = mask(bits) as u32;
            let c = char::from_u32(unit).ok_or_else(|| {
                PyValueError::new_err(format!("wchar_t value {unit:#x} is not a character"))
            })?;
            PyString::new(py, c.encode_utf8(&mut [0; 4])).into_any()
        }
        Kind::Float if prim.size == 4 => {
            PyFloat::new(py, f64::from(f32::from_bits(bits as u32))).into_any()
        }
        Kind::Float => PyFloat::new(py, f64::from_bits(bits)).into_any(),
        Kind::Pointer => PyInt::new(py, bits).into_any(),
        Kind::CharP | Kind::WCharP if bits == 0 => py.None().into_bound(py),
        Kind::CharP => PyBytes::new(py, &read_string(py, bits, 1, None)?).into_any(),
        Kind::WCharP => {
            let bytes = read_string(py, bits, facts().wchar_size(), None)?;
            PyString::new(py, &decode_wide(py, &bytes)?).into_any()
        }
        Kind::LongDouble => return Err(PyTypeError::new_err("long double crosses as bytes")),
        Kind::Void => py.None().into_bound(py),
    })
}

/// Python value of a scalar given as its native bytes.
pub fn decode_bytes<'py>(py: Python<'py>, prim: Prim, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    if prim.kind == Kind::LongDouble {
        return Ok(PyFloat::new(py, longdouble::decode(bytes)).into_any());
    }
    let mut raw = [0u8; 8];
    let n = bytes.len().min(8);
    raw[..n].copy_from_slice(&bytes[..n]);
    decode_bits(py, prim, u64::from_le_bytes(raw))
}
