//! CPython's `PyCArgObject`: an argument converted ahead of the call, by
//! `byref()` or by a simple type's `from_param`, and passed as it is.

use rustpython_vm::types::Representable;
use rustpython_vm::{
    pyclass, AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
};

use super::cdata::cdata;
use super::info::SimpleCode;
use crate::ffi::prim::{self, Prim};

/// CPython's `PyCArgObject`: an argument converted ahead of the call, by
/// `byref()` or a simple type's `from_param`. It is passed as it is, whatever
/// the declared argument type.
#[pyclass(name = "CArgObject", module = "_ctypes")]
#[derive(Debug, PyPayload)]
pub struct CArgObject {
    /// `_obj`: what the argument was made from, kept alive with it.
    pub obj: PyObjectRef,
    pub kind: CArgKind,
}

#[derive(Debug)]
pub enum CArgKind {
    /// `byref(obj, offset)`: the address of `obj`'s memory plus `offset`.
    ByRef { offset: i64 },
    /// A value of the simple type with code `code`, as it would be stored
    /// (bits, or bytes for `long double`); `_host` owns the host copy of a
    /// string a `z`/`Z` value points at.
    Value {
        code: char,
        prim: Prim,
        bits: u64,
        bytes: Option<Vec<u8>>,
        _host: Option<PyObjectRef>,
    },
}

impl Representable for CArgObject {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let (code, bits) = match &zelf.kind {
            CArgKind::ByRef { .. } => ('P', zelf.address()),
            CArgKind::Value { code, bits, .. } => (*code, *bits),
        };
        // As CPython's PyCArg_repr, which prints the C union member for the
        // tag: signed for both signednesses.
        let signed = |size: u32| {
            let shift = 64 - size * 8;
            ((bits << shift) as i64) >> shift
        };
        Ok(match code {
            'b' | 'B' => format!("<cparam '{code}' ({})>", signed(1)),
            'h' | 'H' => format!("<cparam '{code}' ({})>", signed(2)),
            'i' | 'I' => format!("<cparam '{code}' ({})>", signed(4)),
            'l' | 'L' | 'q' | 'Q' => {
                let size = prim::prim(code).map_or(8, |p| p.size);
                format!("<cparam '{code}' ({})>", signed(size))
            }
            'd' | 'f' => {
                let v = if code == 'f' {
                    f64::from(f32::from_bits(bits as u32))
                } else {
                    f64::from_bits(bits)
                };
                format!("<cparam '{code}' ({})>", float_repr(v))
            }
            'c' => {
                let c = bits as u8;
                if c.is_ascii_graphic() || c == b' ' {
                    format!("<cparam 'c' ('{}')>", c as char)
                } else {
                    format!("<cparam 'c' ('\\x{c:02x}')>")
                }
            }
            'z' | 'Z' | 'P' => format!("<cparam '{code}' ({bits:#x})>"),
            _ => format!("<cparam '{code}' at {:#x}>", zelf.get_id()),
        })
    }
}

/// Python's `repr(float)`, which Rust's `{}` differs from (`1e300`).
fn float_repr(v: f64) -> String {
    let plain = format!("{v:?}");
    match plain.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp:0>2}"),
        Some((mantissa, exp)) => format!("{mantissa}e-{:0>2}", &exp[1..]),
        None => plain,
    }
}

#[pyclass(with(Representable))]
impl CArgObject {
    #[pygetset]
    fn _obj(&self) -> PyObjectRef {
        self.obj.clone()
    }
}

impl CArgObject {
    /// The pointer this argument passes: `byref`'s target address, or the
    /// value of a pointer-typed one (0 for other values).
    pub fn address(&self) -> u64 {
        match &self.kind {
            CArgKind::ByRef { offset } => cdata(&self.obj)
                .map_or(0, |c| c.addr())
                .wrapping_add(*offset as u64),
            CArgKind::Value { prim, bits, .. } if prim.kind.is_pointer() => *bits,
            CArgKind::Value { .. } => 0,
        }
    }

    /// `from_param`'s result for a simple type: `value` converted for `sc`.
    pub fn value(
        vm: &VirtualMachine,
        sc: SimpleCode,
        obj: PyObjectRef,
        stored: super::info::Stored,
    ) -> PyRef<Self> {
        let kind = CArgKind::Value {
            code: sc.code,
            prim: sc.prim,
            bits: stored.bits.unwrap_or(0),
            bytes: stored.bytes,
            _host: stored.keep,
        };
        CArgObject { obj, kind }.into_ref(&vm.ctx)
    }
}

pub fn byref_obj(
    vm: &VirtualMachine,
    obj: PyObjectRef,
    offset: i64,
) -> PyResult<PyRef<CArgObject>> {
    if cdata(&obj).is_none() {
        return Err(vm.new_type_error(format!(
            "byref() argument must be a ctypes instance, not '{}'",
            obj.class().name()
        )));
    }
    let kind = CArgKind::ByRef { offset };
    Ok(CArgObject { obj, kind }.into_ref(&vm.ctx))
}
