//! `wasmffi:ffi/types`: C struct and union layouts, computed by libffi so
//! that they match the host's ABI exactly.

use std::sync::Arc;

use libffi::low::ffi_abi_FFI_DEFAULT_ABI;
use libffi::middle::Type;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::types::{Host, HostStructType};
use crate::bindings::{FfiError, Scalar, StructLayout, ValueType};
use crate::isolate::{scalar_code, Ty};
use crate::state::HostState;

/// A C aggregate type as libffi sees it. Shared (`Arc`) by every signature
/// that uses it, so dropping the guest's handle early is harmless.
pub struct StructType(pub Arc<Aggregate>);

pub struct Aggregate {
    pub ffi: FfiType,
    pub layout: StructLayout,
    /// Offsets of the pointers inside, nested structs included (checked
    /// mode checks them); `None` for a union with a pointer member.
    pub pointers: Option<Vec<u32>>,
    /// The type as the --isolate-native helper receives it.
    pub tree: crate::isolate::Ty,
}

/// A libffi type description. libffi's types are plain heap data with no
/// thread affinity; the wrapper only asserts that to the compiler.
pub struct FfiType(pub Type);
unsafe impl Send for FfiType {}
unsafe impl Sync for FfiType {}

/// Size of an aggregate's description, so a guest cannot make the host build
/// absurdly large libffi types.
const MAX_FIELDS: usize = 4096;

/// The libffi type, size and alignment of a scalar.
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
        Scalar::LongDouble => Type::longdouble(),
        Scalar::Pointer => Type::pointer(),
    }
}

/// Size in bytes of a scalar on this host.
pub fn scalar_size(kind: Scalar) -> usize {
    unsafe { (*scalar_type(kind).as_raw_ptr()).size }
}

/// Resolve a guest type description to a libffi type and its size/alignment.
pub fn resolve(state: &HostState, ty: &ValueType) -> Result<(Type, usize, usize), FfiError> {
    match ty {
        ValueType::Scalar(kind) => {
            let t = scalar_type(*kind);
            let (size, align) = unsafe { ((*t.as_raw_ptr()).size, (*t.as_raw_ptr()).alignment) };
            Ok((t, size, usize::from(align)))
        }
        ValueType::Structure(handle) => {
            let agg = aggregate(state, handle)?;
            Ok((
                agg.ffi.0.clone(),
                agg.layout.size as usize,
                agg.layout.alignment as usize,
            ))
        }
    }
}

pub fn aggregate(
    state: &HostState,
    handle: &Resource<StructType>,
) -> Result<Arc<Aggregate>, FfiError> {
    state
        .table
        .get(handle)
        .map(|s| s.0.clone())
        .map_err(|e| FfiError::InvalidArgument(format!("struct type handle: {e}")))
}

fn build(state: &HostState, fields: &[ValueType], is_union: bool) -> Result<Aggregate, FfiError> {
    if fields.is_empty() {
        return Err(FfiError::InvalidArgument(
            "a struct or union needs at least one field".into(),
        ));
    }
    if fields.len() > MAX_FIELDS {
        return Err(FfiError::LimitExceeded(format!(
            "{} fields (at most {MAX_FIELDS})",
            fields.len()
        )));
    }
    let mut members = Vec::with_capacity(fields.len());
    // Pointers of each field relative to the field's start.
    let mut field_pointers: Vec<Option<Vec<u32>>> = Vec::with_capacity(fields.len());
    let mut trees = Vec::with_capacity(fields.len());
    for field in fields {
        if matches!(field, ValueType::Scalar(Scalar::Void)) {
            return Err(FfiError::InvalidArgument("a field cannot be void".into()));
        }
        members.push(resolve(state, field)?);
        trees.push(match field {
            ValueType::Scalar(kind) => Ty::Scalar(scalar_code(*kind)),
            ValueType::Structure(h) => aggregate(state, h)?.tree.clone(),
        });
        field_pointers.push(match field {
            ValueType::Scalar(Scalar::Pointer) => Some(vec![0]),
            ValueType::Scalar(_) => Some(Vec::new()),
            ValueType::Structure(h) => aggregate(state, h)?.pointers.clone(),
        });
    }
    let tree = Ty::Aggregate {
        fields: trees,
        union: is_union,
    };
    if is_union {
        let mut agg = union_of(members, tree);
        agg.pointers = field_pointers
            .iter()
            .all(|p| p.as_ref().is_some_and(Vec::is_empty))
            .then(Vec::new);
        Ok(agg)
    } else {
        let (ffi, size, alignment, offsets) = struct_of(members.into_iter().map(|(t, _, _)| t))?;
        let pointers = field_pointers
            .iter()
            .zip(&offsets)
            .map(|(p, &at)| {
                p.as_ref()
                    .map(|p| p.iter().map(|o| o + at).collect::<Vec<_>>())
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
        Ok(Aggregate {
            ffi,
            layout: StructLayout {
                size: size as u32,
                alignment: alignment as u32,
                offsets,
            },
            pointers,
            tree,
        })
    }
}

/// A libffi struct of `fields`: the type, its size, alignment and offsets.
fn struct_of(
    fields: impl ExactSizeIterator<Item = Type>,
) -> Result<(FfiType, usize, usize, Vec<u32>), FfiError> {
    let mut ffi = Type::structure(fields);
    let offsets = ffi
        .struct_offsets(ffi_abi_FFI_DEFAULT_ABI)
        .map_err(|e| FfiError::InvalidArgument(format!("libffi rejected the struct: {e:?}")))?;
    // SAFETY: struct_offsets laid the type out.
    let (size, alignment) = unsafe { ((*ffi.as_raw_ptr()).size, (*ffi.as_raw_ptr()).alignment) };
    let offsets = offsets.into_iter().map(|o| o as u32).collect();
    Ok((FfiType(ffi), size, usize::from(alignment), offsets))
}

/// Rebuild a type the host described (the --isolate-native helper's side):
/// the libffi type, its size and alignment.
pub fn from_tree(tree: &Ty) -> Result<(Type, usize, usize), FfiError> {
    match tree {
        Ty::Scalar(code) => {
            let kind = crate::isolate::scalar_of(*code)
                .ok_or_else(|| FfiError::InvalidArgument(format!("scalar code {code}")))?;
            let t = scalar_type(kind);
            // SAFETY: built-in libffi types are initialised.
            let (size, align) = unsafe { ((*t.as_raw_ptr()).size, (*t.as_raw_ptr()).alignment) };
            Ok((t, size, usize::from(align)))
        }
        Ty::Aggregate { fields, union } => {
            if fields.is_empty() || fields.len() > MAX_FIELDS {
                return Err(FfiError::InvalidArgument(
                    "bad aggregate description".into(),
                ));
            }
            let members = fields
                .iter()
                .map(from_tree)
                .collect::<Result<Vec<_>, _>>()?;
            if *union {
                let agg = union_of(members, tree.clone());
                let (size, align) = (agg.layout.size as usize, agg.layout.alignment as usize);
                Ok((agg.ffi.0, size, align))
            } else {
                let (ffi, size, align, _) = struct_of(members.into_iter().map(|(t, _, _)| t))?;
                Ok((ffi.0, size, align))
            }
        }
    }
}

/// libffi has no unions. Lay one out by hand (every member at 0, size of the
/// largest rounded to the strictest alignment) and describe it to libffi as a
/// struct of the most-aligned member padded with bytes to the same size, which
/// gives the same size, alignment and, for the common cases, the same class
/// in the calling convention.
fn union_of(members: Vec<(Type, usize, usize)>, tree: Ty) -> Aggregate {
    let alignment = members.iter().map(|m| m.2).max().unwrap_or(1);
    let largest = members.iter().map(|m| m.1).max().unwrap_or(0);
    let size = largest.div_ceil(alignment) * alignment;
    let count = members.len();
    let (anchor, anchor_size, _) = members
        .into_iter()
        .max_by_key(|m| (m.2, m.1))
        .expect("at least one member");
    let mut elements = vec![anchor];
    elements.extend((anchor_size..size).map(|_| Type::u8()));
    let mut ffi = Type::structure(elements);
    // Fills in libffi's size/alignment; the offsets are ours.
    let _ = ffi.struct_offsets(ffi_abi_FFI_DEFAULT_ABI);
    Aggregate {
        ffi: FfiType(ffi),
        layout: StructLayout {
            size: size as u32,
            alignment: alignment as u32,
            offsets: vec![0; count],
        },
        pointers: None,
        tree,
    }
}

impl HostStructType for HostState {
    fn new(
        &mut self,
        fields: Vec<ValueType>,
        is_union: bool,
    ) -> Result<(Resource<StructType>, StructLayout), FfiError> {
        let aggregate = build(self, &fields, is_union)?;
        let layout = aggregate.layout.clone();
        self.counts.acquire(crate::limits::Handle::StructType)?;
        let handle = self
            .table
            .push(StructType(Arc::new(aggregate)))
            .map_err(|e| FfiError::LimitExceeded(format!("struct types: {e}")))?;
        Ok((handle, layout))
    }

    fn drop(&mut self, rep: Resource<StructType>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts.release(crate::limits::Handle::StructType);
        Ok(())
    }
}

impl Host for HostState {}
