//! The host's BLOB and backup handles as app.py's `Blob` and
//! `Connection.backup` use them.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::OrRaise;
use crate::bindings::sqlite as host;

#[pyclass(name = "_Blob", module = "_sqlite3", unsendable)]
pub(crate) struct Blob {
    pub(crate) blob: host::Blob,
}

#[pymethods]
impl Blob {
    fn size(&self) -> i32 {
        self.blob.size()
    }

    fn read<'py>(
        &self,
        py: Python<'py>,
        offset: i32,
        length: i32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = self.blob.read(offset, length).or_raise(py)?;
        Ok(PyBytes::new(py, &data))
    }

    /// `data`: bytes (app.py made them from any buffer).
    fn write(&self, py: Python<'_>, offset: i32, data: &[u8]) -> PyResult<()> {
        self.blob.write(offset, data).or_raise(py)
    }

    fn close(&self) {
        self.blob.close()
    }
}

#[pyclass(name = "_Backup", module = "_sqlite3", unsendable)]
pub(crate) struct Backup {
    pub(crate) backup: host::Backup,
}

#[pymethods]
impl Backup {
    /// (status, remaining, pagecount)
    fn step(&self, py: Python<'_>, pages: i32) -> PyResult<(i32, i32, i32)> {
        let p = self.backup.step(pages).or_raise(py)?;
        Ok((p.status, p.remaining, p.pagecount))
    }

    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        self.backup.finish().or_raise(py)
    }
}
