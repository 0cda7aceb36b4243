//! `_sqlite3`, done by the host's libsqlite3 through the typed interface
//! `wasmffi:ffi/sqlite` (see wit/sqlite.wit). The standard library's
//! `sqlite3` package (`from _sqlite3 import *`) sits on top unchanged. The
//! Rust part moves rows and parameters across; `app.py` is the DB-API in
//! CPython's shape.

#[pyo3::pymodule]
pub(crate) mod _sqlite3 {
    use pyo3::exceptions::{PyOverflowError, PyUnicodeEncodeError};
    use pyo3::prelude::*;
    use pyo3::types::{
        PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
    };

    use crate::bindings::sqlite as host;
    use crate::bindings::sqlite::{OpenOptions, SqliteError, Value};

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        crate::mixed::enable(module.py(), "_sqlite3", "sqlite3")?;
        crate::mixed::run_app(module, crate::app_code::SQLITE3)
    }

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
            SqliteError::Sqlite(e) => match (e.code, e.name, e.message).into_pyobject(py) {
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

    /// A `str` as UTF-8; lone surrogates cannot reach sqlite.
    fn utf8(s: &Bound<'_, PyString>) -> PyResult<String> {
        s.to_str()
            .map(str::to_owned)
            .map_err(|_| PyUnicodeEncodeError::new_err("surrogates are not allowed here"))
    }

    #[pyfunction]
    fn _open(path: &Bound<'_, PyString>, timeout_ms: u32, uri: bool) -> PyResult<Db> {
        let options = OpenOptions { timeout_ms, uri };
        let conn = host::Connection::open(&utf8(path)?, options).or_raise(path.py())?;
        Ok(Db { conn })
    }

    #[pyclass(name = "_Db", module = "_sqlite3", unsendable)]
    struct Db {
        conn: host::Connection,
    }

    #[pymethods]
    impl Db {
        /// (statement or None, more statements follow)
        fn prepare(
            &self,
            py: Python<'_>,
            sql: &Bound<'_, PyString>,
        ) -> PyResult<(Option<Stmt>, bool)> {
            let (stmt, more) = self.conn.prepare(&utf8(sql)?).or_raise(py)?;
            Ok((stmt.map(|st| Stmt { st }), more))
        }

        fn executescript(&self, py: Python<'_>, sql: &Bound<'_, PyString>) -> PyResult<()> {
            self.conn.execute_script(&utf8(sql)?).or_raise(py)
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
    }

    #[pyclass(name = "_Stmt", module = "_sqlite3", unsendable)]
    struct Stmt {
        st: host::Statement,
    }

    /// A parameter as sqlite takes it: exactly the types CPython's module
    /// binds without an adapter; anything else is app.py's error.
    fn to_value(index: usize, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if obj.is_none() {
            return Ok(Value::Null);
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            return i.extract::<i64>().map(Value::Integer).map_err(|_| {
                PyOverflowError::new_err("Python int too large to convert to SQLite INTEGER")
            });
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return Ok(Value::Real(f.value()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Value::Text(utf8(s)?));
        }
        if obj.is_instance_of::<PyBytes>()
            || obj.is_instance_of::<PyByteArray>()
            || obj.is_instance_of::<PyMemoryView>()
        {
            let buffer = pyo3::buffer::PyBuffer::<u8>::get(obj)?;
            return Ok(Value::Blob(buffer.to_vec(obj.py())?));
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

    /// (rows as a list of tuples, done, changes, lastrowid)
    fn rows(py: Python<'_>, r: host::Rows) -> PyResult<Bound<'_, PyTuple>> {
        let rows = PyList::empty(py);
        for row in r.rows {
            let values = row
                .into_iter()
                .map(|v| from_value(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            rows.append(PyTuple::new(py, values)?)?;
        }
        (rows, r.done, r.changes, r.last_insert_rowid).into_pyobject(py)
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
            rows(py, self.st.run(&values, max_rows).or_raise(py)?)
        }

        fn fetch<'py>(&self, py: Python<'py>, max_rows: u32) -> PyResult<Bound<'py, PyTuple>> {
            rows(py, self.st.fetch(max_rows).or_raise(py)?)
        }

        fn reset(&self) {
            self.st.reset()
        }
    }
}
