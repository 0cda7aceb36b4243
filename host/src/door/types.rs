//! `wasmffi:ffi/types`: C struct and union layouts, computed by libffi where
//! native code runs, so that they match that ABI exactly.

use std::sync::Arc;

use wasmffi_native::middle::types::Layout;
use wasmffi_native::Ty;
use wasmtime::component::Resource;

use crate::bindings::wasmffi::ffi::types::{Host, HostStructType};
use crate::bindings::{FfiError, StructLayout, ValueType};
use crate::state::HostState;

/// A C aggregate type. Shared (`Arc`) by every signature that uses it, so
/// dropping the guest's handle early is harmless.
pub struct StructType(pub Arc<Aggregate>);

pub struct Aggregate {
    pub layout: StructLayout,
    /// Offsets of the pointers inside, nested structs included (checked
    /// mode checks them); `None` for a union with a pointer member.
    pub pointers: Option<Vec<u32>>,
    /// The type as the native executor receives it.
    pub tree: Ty,
}

/// The type as the native executor receives it.
pub fn tree(state: &HostState, ty: &ValueType) -> Result<Ty, FfiError> {
    Ok(match ty {
        ValueType::Scalar(kind) => Ty::Scalar(super::scalar(*kind)),
        ValueType::Structure(handle) => aggregate(state, handle)?.tree.clone(),
    })
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

impl HostStructType for HostState {
    fn new(
        &mut self,
        fields: Vec<ValueType>,
        is_union: bool,
    ) -> Result<(Resource<StructType>, StructLayout), FfiError> {
        if fields.len() > wasmffi_native::middle::types::MAX_FIELDS {
            return Err(FfiError::LimitExceeded(format!(
                "{} fields (at most {})",
                fields.len(),
                wasmffi_native::middle::types::MAX_FIELDS
            )));
        }
        let fields = fields
            .iter()
            .map(|field| tree(self, field))
            .collect::<Result<Vec<_>, _>>()?;
        let tree = Ty::Aggregate {
            fields,
            union: is_union,
        };
        let Layout {
            size,
            alignment,
            offsets,
            pointers,
        } = self.lay_out(&tree)?;
        let layout = StructLayout {
            size,
            alignment,
            offsets,
        };
        self.counts
            .acquire(crate::policy::limits::Handle::StructType)?;
        let aggregate = Aggregate {
            layout: layout.clone(),
            pointers,
            tree,
        };
        let handle = self
            .table
            .push(StructType(Arc::new(aggregate)))
            .map_err(|e| FfiError::LimitExceeded(format!("struct types: {e}")))?;
        Ok((handle, layout))
    }

    fn drop(&mut self, rep: Resource<StructType>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.counts
            .release(crate::policy::limits::Handle::StructType);
        Ok(())
    }
}

impl Host for HostState {}
