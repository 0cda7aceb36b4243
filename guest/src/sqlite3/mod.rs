//! `_sqlite3`, done by the host's libsqlite3 through the typed interface
//! `wasmffi:ffi/sqlite` (see wit/sqlite.wit). The standard library's
//! `sqlite3` package (`from _sqlite3 import *`) sits on top unchanged. The
//! Rust part moves rows and parameters across and drives the host's steps:
//! when sqlite calls a Python callback, a step comes back as `callback`,
//! app.py's `_dispatch` runs the callable, and its answer resumes sqlite.
//! app_*.py are the DB-API in CPython's shape.

mod objects;

use pyo3::exceptions::{PyOverflowError, PyUnicodeEncodeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyFloat, PyInt, PyString, PyTuple};

use crate::bindings::sqlite as host;
use crate::bindings::sqlite::{CallbackReply, SqliteError, Step, Value};

/// An exception made by one of app.py's factories.
fn app_error(py: Python<'_>, factory: &str, args: Bound<'_, PyTuple>) -> PyErr {
    let made = py
        .import("_sqlite3")
        .and_then(|m| m.getattr(factory))
        .and_then(|f| f.call1(args));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn raise(py: Python<'_>, err: SqliteError) -> PyErr {
    match err {
        SqliteError::Sqlite(e) => match (e.code, e.message).into_pyobject(py) {
            Ok(args) => app_error(py, "_db_error", args),
            Err(err) => err,
        },
        SqliteError::Refused(e) => crate::ffi::errors::to_py(py, e),
    }
}

trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, SqliteError> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| raise(py, e))
    }
}

/// A `str` as UTF-8; lone surrogates cannot reach sqlite (the
/// UnicodeEncodeError is the one `str.encode` raises, as in CPython).
fn utf8(s: &Bound<'_, PyString>) -> PyResult<String> {
    match s.to_str() {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => match s.call_method0("encode") {
            Err(err) => Err(err),
            Ok(_) => Err(PyUnicodeEncodeError::new_err((
                "utf-8",
                "",
                0,
                0,
                "surrogates not allowed",
            ))),
        },
    }
}

/// The bytes of any object with the buffer protocol, as CPython's
/// `PyBUF_SIMPLE` takes them; None when it has none.
fn buffer_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    let py = obj.py();
    let Ok(view) = py.import("builtins")?.getattr("memoryview")?.call1((obj,)) else {
        return Ok(None);
    };
    if !view.getattr("c_contiguous")?.extract::<bool>()? {
        return Err(pyo3::exceptions::PyBufferError::new_err(
            "underlying buffer is not C-contiguous",
        ));
    }
    let bytes = view.call_method0("tobytes")?;
    Ok(Some(bytes.cast::<PyBytes>()?.as_bytes().to_vec()))
}

/// A Python value as sqlite takes it: exactly the types CPython's module
/// binds without an adapter; `None` for anything else.
fn plain_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
    if obj.is_none() {
        return Ok(Some(Value::Null));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return i
            .extract::<i64>()
            .map(|v| Some(Value::Integer(v)))
            .map_err(|_| {
                PyOverflowError::new_err("Python int too large to convert to SQLite INTEGER")
            });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Some(Value::Real(f.value())));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Value::Text(utf8(s)?)));
    }
    Ok(buffer_bytes(obj)?.map(Value::Blob))
}

/// A parameter; anything CPython would not bind is app.py's error.
fn to_value(index: usize, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Some(v) = plain_value(obj)? {
        return Ok(v);
    }
    match (index + 1, obj).into_pyobject(obj.py()) {
        Ok(args) => Err(app_error(obj.py(), "_unsupported", args)),
        Err(err) => Err(err),
    }
}

fn from_value(py: Python<'_>, v: Value) -> PyResult<Bound<'_, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        Value::Real(f) => f.into_pyobject(py)?.into_any(),
        Value::Text(s) => PyString::new(py, &s).into_any(),
        Value::TextBytes(b) | Value::Blob(b) => PyBytes::new(py, &b).into_any(),
    })
}

/// The guest's answer to a callback: app.py's `_dispatch` gives
/// (0, value) | (1, message) | (2, None: MemoryError) | (3, None: too big).
fn reply_of(answer: &Bound<'_, PyAny>) -> PyResult<CallbackReply> {
    let (tag, payload): (u8, Bound<'_, PyAny>) = answer.extract()?;
    Ok(match tag {
        0 => match plain_value(&payload) {
            Ok(Some(v)) => CallbackReply::Value(v),
            Ok(None) => CallbackReply::Error("user-defined function raised exception".into()),
            Err(e) if e.is_instance_of::<PyOverflowError>(answer.py()) => CallbackReply::Toobig,
            Err(_) => CallbackReply::Error("user-defined function raised exception".into()),
        },
        1 => CallbackReply::Error(payload.extract()?),
        2 => CallbackReply::Nomem,
        _ => CallbackReply::Toobig,
    })
}

/// Runs `step` to its end, running every Python callback sqlite calls on
/// the way (a callback's exceptions are its answer, never raised here).
fn drive(py: Python<'_>, first: Result<Step, SqliteError>) -> PyResult<Step> {
    let mut step = first.or_raise(py)?;
    loop {
        let Step::Callback(call) = step else {
            return Ok(step);
        };
        let args = call
            .args
            .into_iter()
            .map(|v| from_value(py, v))
            .collect::<PyResult<Vec<_>>>()
            .and_then(|args| PyTuple::new(py, args));
        let reply = args
            .and_then(|args| {
                static DISPATCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
                let dispatch = DISPATCH.import(py, "_sqlite3", "_dispatch")?;
                let answer = dispatch.call1((call.kind as u8, call.id, call.instance, args))?;
                reply_of(&answer)
            })
            .unwrap_or_else(|e| CallbackReply::Error(e.to_string()));
        step = host::resume(&reply).or_raise(py)?;
    }
}

/// (rows as a list of tuples, done, changes, lastrowid, reprepared, whether
/// some TEXT is not UTF-8: app.py's `_BadText`)
fn rows<'py>(py: Python<'py>, step: Step) -> PyResult<Bound<'py, PyTuple>> {
    let Step::Rows(r) = step else {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "sqlite: unexpected step from the host",
        ));
    };
    let rows = pyo3::types::PyList::empty(py);
    let mut bad_text = false;
    for row in r.rows {
        let values = row
            .into_iter()
            .map(|v| match v {
                Value::TextBytes(b) => {
                    bad_text = true;
                    bad_text_of(py, &b)
                }
                v => from_value(py, v),
            })
            .collect::<PyResult<Vec<_>>>()?;
        rows.append(PyTuple::new(py, values)?)?;
    }
    (
        rows,
        r.done,
        r.changes,
        r.last_insert_rowid,
        r.reprepared,
        bad_text,
    )
        .into_pyobject(py)
}

fn bad_text_of<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    static BAD_TEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    BAD_TEXT
        .import(py, "_sqlite3", "_BadText")?
        .call1((PyBytes::new(py, bytes),))
}

#[pyo3::pymodule]
pub(crate) mod _sqlite3 {
    use pyo3::prelude::*;
    use pyo3::types::{PyString, PyTuple};

    use super::objects::{Backup, Blob};
    use super::{drive, rows, to_value, utf8, OrRaise};
    use crate::bindings::sqlite as host;
    use crate::bindings::sqlite::{FunctionKind, OpenOptions, Step};

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        crate::mixed::enable(module.py(), "_sqlite3", "sqlite3")?;
        crate::mixed::run_app(module, crate::app_code::SQLITE3)
    }

    #[pyfunction]
    fn _open(path: &Bound<'_, PyString>, timeout_ms: u32, uri: bool) -> PyResult<Db> {
        let options = OpenOptions { timeout_ms, uri };
        let conn = host::Connection::open(&utf8(path)?, options).or_raise(path.py())?;
        Ok(Db { conn })
    }

    /// `PyErr_WriteUnraisable(obj)` with `exc` (enable_callback_tracebacks).
    #[pyfunction]
    fn _write_unraisable(exc: Bound<'_, PyAny>, obj: Bound<'_, PyAny>) {
        PyErr::from_value(exc).write_unraisable(obj.py(), Some(&obj));
    }

    #[pyclass(name = "_Db", module = "_sqlite3", unsendable)]
    pub(crate) struct Db {
        pub(crate) conn: host::Connection,
    }

    #[pymethods]
    impl Db {
        /// (statement or None, more statements follow)
        fn prepare(
            &self,
            py: Python<'_>,
            sql: &Bound<'_, PyString>,
        ) -> PyResult<(Option<Stmt>, bool)> {
            match drive(py, self.conn.prepare(&utf8(sql)?))? {
                Step::Prepared((st, more)) => Ok((st.map(|st| Stmt { st }), more)),
                _ => Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "sqlite: unexpected step from the host",
                )),
            }
        }

        fn executescript(&self, py: Python<'_>, sql: &Bound<'_, PyString>) -> PyResult<()> {
            drive(py, self.conn.execute_script(&utf8(sql)?)).map(drop)
        }

        fn autocommit(&self) -> bool {
            self.conn.autocommit()
        }

        fn total_changes(&self) -> i64 {
            self.conn.total_changes()
        }

        fn close(&self, py: Python<'_>) -> PyResult<()> {
            self.conn.close().or_raise(py)
        }

        fn interrupt(&self) {
            self.conn.interrupt()
        }

        /// kind: 0 scalar, 1 aggregate, 2 window; id None removes.
        fn create_function(
            &self,
            py: Python<'_>,
            name: &Bound<'_, PyString>,
            nargs: i32,
            kind: u8,
            id: Option<u32>,
            deterministic: bool,
        ) -> PyResult<()> {
            let kind = match kind {
                0 => FunctionKind::Scalar,
                1 => FunctionKind::Aggregate,
                _ => FunctionKind::Window,
            };
            self.conn
                .create_function(&utf8(name)?, nargs, kind, id, deterministic)
                .or_raise(py)
        }

        fn create_collation(
            &self,
            py: Python<'_>,
            name: &Bound<'_, PyString>,
            id: Option<u32>,
        ) -> PyResult<()> {
            self.conn.create_collation(&utf8(name)?, id).or_raise(py)
        }

        fn set_authorizer(&self, py: Python<'_>, id: Option<u32>) -> PyResult<()> {
            self.conn.set_authorizer(id).or_raise(py)
        }

        fn set_progress_handler(&self, py: Python<'_>, id: Option<u32>, n: i32) -> PyResult<()> {
            self.conn.set_progress_handler(id, n).or_raise(py)
        }

        fn set_trace_callback(&self, py: Python<'_>, id: Option<u32>) -> PyResult<()> {
            self.conn.set_trace_callback(id).or_raise(py)
        }

        fn limit(&self, category: i32, value: i32) -> i32 {
            self.conn.limit(category, value)
        }

        fn blob_open(
            &self,
            py: Python<'_>,
            schema: &Bound<'_, PyString>,
            table: &Bound<'_, PyString>,
            column: &Bound<'_, PyString>,
            row: i64,
            readonly: bool,
        ) -> PyResult<Blob> {
            let blob = self
                .conn
                .blob_open(&utf8(schema)?, &utf8(table)?, &utf8(column)?, row, readonly)
                .or_raise(py)?;
            Ok(Blob { blob })
        }

        fn serialize<'py>(
            &self,
            py: Python<'py>,
            schema: &Bound<'_, PyString>,
        ) -> PyResult<Option<Bound<'py, pyo3::types::PyBytes>>> {
            let data = self.conn.serialize(&utf8(schema)?).or_raise(py)?;
            Ok(data.map(|d| pyo3::types::PyBytes::new(py, &d)))
        }

        fn deserialize(
            &self,
            py: Python<'_>,
            schema: &Bound<'_, PyString>,
            data: &Bound<'_, PyAny>,
        ) -> PyResult<()> {
            let bytes = super::buffer_bytes(data)?.ok_or_else(|| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "a bytes-like object is required, not '{}'",
                    data.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            self.conn.deserialize(&utf8(schema)?, &bytes).or_raise(py)
        }

        fn backup_to(
            &self,
            py: Python<'_>,
            name: &Bound<'_, PyString>,
            target: PyRef<'_, Db>,
            target_name: &Bound<'_, PyString>,
        ) -> PyResult<Backup> {
            let backup = self
                .conn
                .backup_to(&utf8(name)?, &target.conn, &utf8(target_name)?)
                .or_raise(py)?;
            Ok(Backup { backup })
        }
    }

    #[pyclass(name = "_Stmt", module = "_sqlite3", unsendable)]
    struct Stmt {
        st: host::Statement,
    }

    #[pymethods]
    impl Stmt {
        /// (column names, declared types, parameter names, readonly)
        fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            let info = self.st.info();
            (
                PyTuple::new(py, info.column_names)?,
                PyTuple::new(py, info.decltypes)?,
                PyTuple::new(py, info.parameters)?,
                info.readonly,
            )
                .into_pyobject(py)
        }

        fn run<'py>(
            &self,
            py: Python<'py>,
            params: Vec<Bound<'py, PyAny>>,
            max_rows: u32,
        ) -> PyResult<Bound<'py, PyTuple>> {
            let values = params
                .iter()
                .enumerate()
                .map(|(i, p)| to_value(i, p))
                .collect::<PyResult<Vec<_>>>()?;
            rows(py, drive(py, self.st.run(&values, max_rows))?)
        }

        fn fetch<'py>(&self, py: Python<'py>, max_rows: u32) -> PyResult<Bound<'py, PyTuple>> {
            rows(py, drive(py, self.st.fetch(max_rows))?)
        }

        fn reset(&self) {
            self.st.reset()
        }
    }
}
