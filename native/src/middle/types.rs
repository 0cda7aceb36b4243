//! C types as libffi lays them out on the architecture this is built for:
//! scalars, and structs and unions described as trees of scalars.

use libffi::low::ffi_abi_FFI_DEFAULT_ABI;
use libffi::middle::Type;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The machine-level types libffi understands (the door's `scalar`, in the
/// same order).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scalar {
    Void,
    Uint8,
    Sint8,
    Uint16,
    Sint16,
    Uint32,
    Sint32,
    Uint64,
    Sint64,
    Float32,
    Float64,
    LongDouble,
    Pointer,
}

impl Scalar {
    pub const ALL: [Scalar; 13] = [
        Scalar::Void,
        Scalar::Uint8,
        Scalar::Sint8,
        Scalar::Uint16,
        Scalar::Sint16,
        Scalar::Uint32,
        Scalar::Sint32,
        Scalar::Uint64,
        Scalar::Sint64,
        Scalar::Float32,
        Scalar::Float64,
        Scalar::LongDouble,
        Scalar::Pointer,
    ];
}

/// A type as it crosses between host and executor: a scalar, or a struct
/// or union of fields in declaration order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ty {
    Scalar(Scalar),
    Aggregate { fields: Vec<Ty>, union: bool },
}

/// Size, alignment and field offsets of a type, as the C compiler of this
/// architecture lays it out; `pointers`: offsets of the pointers inside,
/// nested aggregates included (`None` for a union holding a pointer, whose
/// member in use nobody knows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub size: u32,
    pub alignment: u32,
    pub offsets: Vec<u32>,
    pub pointers: Option<Vec<u32>>,
}

/// A libffi type description. libffi's types are plain heap data with no
/// thread affinity; the wrapper only asserts that to the compiler.
pub struct FfiType(pub Type);
unsafe impl Send for FfiType {}
unsafe impl Sync for FfiType {}

/// Size of an aggregate's description, so a request cannot make the native
/// side build absurdly large libffi types.
pub const MAX_FIELDS: usize = 4096;

/// The libffi type of a scalar.
pub fn scalar_type(kind: Scalar) -> Type {
    match kind {
        Scalar::Void => Type::void(),
        Scalar::Uint8 => Type::u8(),
        Scalar::Sint8 => Type::i8(),
        Scalar::Uint16 => Type::u16(),
        Scalar::Sint16 => Type::i16(),
        Scalar::Uint32 => Type::u32(),
        Scalar::Sint32 => Type::i32(),
        Scalar::Uint64 => Type::u64(),
        Scalar::Sint64 => Type::i64(),
        Scalar::Float32 => Type::f32(),
        Scalar::Float64 => Type::f64(),
        // 32-bit ARM's libffi has no ffi_type_longdouble to link: long double
        // is double there, and its ffi.h says so with a macro.
        #[cfg(target_arch = "arm")]
        Scalar::LongDouble => Type::f64(),
        #[cfg(not(target_arch = "arm"))]
        Scalar::LongDouble => Type::longdouble(),
        Scalar::Pointer => Type::pointer(),
    }
}

/// Size and alignment of a libffi type that is laid out.
fn size_align(t: &Type) -> (usize, usize) {
    // SAFETY: built-in types are initialised; aggregates were laid out by
    // `struct_offsets` before this is asked.
    unsafe {
        let raw = t.as_raw_ptr();
        ((*raw).size, usize::from((*raw).alignment))
    }
}

/// Size in bytes of a scalar on this architecture.
pub fn scalar_size(kind: Scalar) -> usize {
    size_align(&scalar_type(kind)).0
}

/// Size and alignment of a scalar on this architecture.
pub fn scalar_layout(kind: Scalar) -> (usize, usize) {
    size_align(&scalar_type(kind))
}

/// A type laid out: its libffi description and layout.
pub struct Laid {
    pub ffi: FfiType,
    pub layout: Layout,
}

/// Lay out `tree` with libffi.
pub fn lay_out(tree: &Ty) -> Result<Laid, Error> {
    match tree {
        Ty::Scalar(kind) => {
            let t = scalar_type(*kind);
            let (size, alignment) = size_align(&t);
            let pointers = if *kind == Scalar::Pointer {
                vec![0]
            } else {
                Vec::new()
            };
            Ok(Laid {
                ffi: FfiType(t),
                layout: Layout {
                    size: size as u32,
                    alignment: alignment as u32,
                    offsets: Vec::new(),
                    pointers: Some(pointers),
                },
            })
        }
        Ty::Aggregate { fields, union } => {
            if fields.is_empty() {
                return Err(Error::InvalidArgument(
                    "a struct or union needs at least one field".into(),
                ));
            }
            if fields.len() > MAX_FIELDS {
                return Err(Error::LimitExceeded(format!(
                    "{} fields (at most {MAX_FIELDS})",
                    fields.len()
                )));
            }
            if fields.contains(&Ty::Scalar(Scalar::Void)) {
                return Err(Error::InvalidArgument("a field cannot be void".into()));
            }
            let members = fields.iter().map(lay_out).collect::<Result<Vec<_>, _>>()?;
            if *union {
                Ok(union_of(members))
            } else {
                struct_of(members)
            }
        }
    }
}

/// A libffi struct of `members`.
fn struct_of(members: Vec<Laid>) -> Result<Laid, Error> {
    let pointers: Vec<_> = members.iter().map(|m| m.layout.pointers.clone()).collect();
    let mut ffi = Type::structure(members.into_iter().map(|m| m.ffi.0));
    let offsets: Vec<u32> = ffi
        .struct_offsets(ffi_abi_FFI_DEFAULT_ABI)
        .map_err(|e| Error::InvalidArgument(format!("libffi rejected the struct: {e:?}")))?
        .into_iter()
        .map(|o| o as u32)
        .collect();
    let (size, alignment) = size_align(&ffi);
    let pointers = pointers
        .iter()
        .zip(&offsets)
        .map(|(p, &at)| {
            p.as_ref()
                .map(|p| p.iter().map(|o| o + at).collect::<Vec<_>>())
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| v.concat());
    Ok(Laid {
        ffi: FfiType(ffi),
        layout: Layout {
            size: size as u32,
            alignment: alignment as u32,
            offsets,
            pointers,
        },
    })
}

/// libffi has no unions. Lay one out by hand (every member at 0, size of the
/// largest rounded to the strictest alignment) and describe it to libffi as a
/// struct of the most-aligned member padded with bytes to the same size, which
/// gives the same size, alignment and, for the common cases, the same class
/// in the calling convention.
fn union_of(members: Vec<Laid>) -> Laid {
    let alignment = members
        .iter()
        .map(|m| m.layout.alignment)
        .max()
        .unwrap_or(1);
    let largest = members.iter().map(|m| m.layout.size).max().unwrap_or(0);
    let size = largest.div_ceil(alignment) * alignment;
    let count = members.len();
    let no_pointers = members
        .iter()
        .all(|m| m.layout.pointers.as_ref().is_some_and(Vec::is_empty));
    let anchor = members
        .into_iter()
        .max_by_key(|m| (m.layout.alignment, m.layout.size))
        .expect("at least one member");
    let anchor_size = anchor.layout.size;
    let mut elements = vec![anchor.ffi.0];
    elements.extend((anchor_size..size).map(|_| Type::u8()));
    let mut ffi = Type::structure(elements);
    // Fills in libffi's size/alignment; the offsets are ours.
    let _ = ffi.struct_offsets(ffi_abi_FFI_DEFAULT_ABI);
    Laid {
        ffi: FfiType(ffi),
        layout: Layout {
            size,
            alignment,
            offsets: vec![0; count],
            pointers: no_pointers.then(Vec::new),
        },
    }
}
