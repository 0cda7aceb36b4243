//! `_probe`: platform probing in the manner of PyPy's ctypes_configure,
//! answered by the host's C compiler through `wasmffi:ffi/probe` (see
//! wit/probe.wit). Off unless the policy allows it (`--allow-probe`). The
//! Rust part carries queries and answers; `app.py` is the user-facing API
//! (sizeof, offsetof, constants, configure(CConfig), struct layouts for
//! `_rawffi.Structure` and `ctypes.Structure`).

pub(crate) mod host_platform;

#[pyo3::pymodule]
pub(crate) mod _probe {

    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::types::{PyString, PyTuple};

    use crate::bindings::probe as host;
    use crate::bindings::probe::{Answer, Kind, Query};

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        crate::mixed::enable(module.py(), "_probe", "probe")?;
        crate::mixed::run_app(module, crate::app_code::PROBE)
    }

    fn kind_name(k: Kind) -> &'static str {
        match k {
            Kind::SignedInteger => "signed",
            Kind::UnsignedInteger => "unsigned",
            Kind::Floating => "float",
            Kind::Pointer => "pointer",
            Kind::Other => "other",
        }
    }

    /// A name as UTF-8: a `str` with lone surrogates is refused with
    /// UnicodeEncodeError rather than sent to the host mangled.
    fn text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(obj.cast::<PyString>()?.to_str()?.to_owned())
    }

    /// `_run(headers, queries)`: queries are ("type", T), ("field", T, member),
    /// ("constant", NAME), ("defined", NAME); answers are tuples
    /// ("type", size, alignment, kind), ("field", offset, size, kind),
    /// ("constant", int or None), ("defined", bool), ("failed", message).
    #[pyfunction]
    fn _run<'py>(
        py: Python<'py>,
        headers: &Bound<'py, PyAny>,
        queries: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        // Any iterable (PyO3's Vec would refuse a `str` of headers instead
        // of checking each name).
        let headers = headers
            .try_iter()?
            .map(|h| text(&h?))
            .collect::<PyResult<Vec<_>>>()?;
        let mut qs = Vec::new();
        for q in queries.try_iter()? {
            let q = q?;
            let items: Vec<Bound<'py, PyAny>> = q.cast::<PyTuple>()?.iter().collect();
            let tag = items.first().map(text).transpose()?.unwrap_or_default();
            qs.push(match (tag.as_str(), items.as_slice()) {
                ("type", [_, t]) => Query::TypeLayout(text(t)?),
                ("field", [_, t, m]) => Query::Field((text(t)?, text(m)?)),
                ("constant", [_, n]) => Query::Constant(text(n)?),
                ("defined", [_, n]) => Query::Defined(text(n)?),
                _ => return Err(PyValueError::new_err(format!("bad probe query {tag:?}"))),
            });
        }
        let answers = host::run(&headers, &qs).map_err(|e| crate::ffi::errors::to_py(py, e))?;
        answers.into_iter().map(|a| answer(py, a)).collect()
    }

    fn answer(py: Python<'_>, a: Answer) -> PyResult<Bound<'_, PyTuple>> {
        match a {
            Answer::TypeLayout(l) => {
                ("type", l.size, l.alignment, kind_name(l.kind)).into_pyobject(py)
            }
            Answer::Field(f) => ("field", f.offset, f.size, kind_name(f.kind)).into_pyobject(py),
            Answer::Constant(v) => {
                let value = v.map(|i| {
                    if i.negative {
                        -(i128::from(i.magnitude))
                    } else {
                        i128::from(i.magnitude)
                    }
                });
                ("constant", value).into_pyobject(py)
            }
            Answer::Defined(d) => ("defined", d).into_pyobject(py),
            Answer::Failed(m) => ("failed", m).into_pyobject(py),
        }
    }
}
