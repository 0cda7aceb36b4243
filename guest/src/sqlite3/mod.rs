//! `_sqlite3`, done by the host's libsqlite3 through the typed interface
//! `wasmffi:ffi/sqlite` (see wit/sqlite.wit). The standard library's
//! `sqlite3` package (`from _sqlite3 import *`) sits on top unchanged, so
//! `import sqlite3` gives this. The Rust part moves rows and parameters
//! across; `app.py` is the DB-API (Connection, Cursor, Row, exceptions,
//! transactions) in CPython's shape.

pub(crate) use _sqlite3::module_def;

#[rustpython_vm::pymodule]
mod _sqlite3 {
    use num_traits::ToPrimitive;
    use rustpython_vm::builtins::{
        PyBaseExceptionRef, PyByteArray, PyBytes, PyFloat, PyInt, PyModule, PyStr, PyStrRef,
    };
    use rustpython_vm::convert::TryFromBorrowedObject;
    use rustpython_vm::function::ArgBytesLike;
    use rustpython_vm::{pyclass, AsObject, Py, PyObjectRef, PyPayload, PyResult, VirtualMachine};

    use crate::bindings::sqlite as host;
    use crate::bindings::sqlite::{OpenOptions, SqliteError, Value};
    use crate::ffi::errors::utf8;

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        crate::mixed::enable(vm, "_sqlite3", "sqlite3")?;
        __module_exec(vm, module);
        let code = rustpython_vm::py_compile!(file = "app.py");
        let scope = rustpython_vm::scope::Scope::with_builtins(None, module.dict(), vm);
        vm.run_code_obj(vm.ctx.new_code(code), scope)?;
        Ok(())
    }

    /// Build an exception with a factory of app.py.
    fn app_error(
        vm: &VirtualMachine,
        factory: &'static str,
        args: Vec<PyObjectRef>,
    ) -> PyBaseExceptionRef {
        let made = vm
            .import("_sqlite3", 0)
            .and_then(|m| m.get_attr(factory, vm))
            .and_then(|f| f.call(args, vm));
        match made.map(|e| e.downcast::<rustpython_vm::builtins::PyBaseException>()) {
            Ok(Ok(exc)) => exc,
            Ok(Err(_)) => vm.new_runtime_error("_sqlite3: bad exception factory"),
            Err(exc) => exc,
        }
    }

    fn raise(vm: &VirtualMachine, err: SqliteError) -> PyBaseExceptionRef {
        match err {
            SqliteError::Sqlite(e) => app_error(
                vm,
                "_db_error",
                vec![
                    vm.ctx.new_int(e.code).into(),
                    vm.ctx.new_str(e.name).into(),
                    vm.ctx.new_str(e.message).into(),
                ],
            ),
            SqliteError::Refused(e) => crate::ffi::errors::to_py(vm, e),
        }
    }

    trait OrRaise<T> {
        fn or_raise(self, vm: &VirtualMachine) -> PyResult<T>;
    }

    impl<T> OrRaise<T> for Result<T, SqliteError> {
        fn or_raise(self, vm: &VirtualMachine) -> PyResult<T> {
            self.map_err(|e| raise(vm, e))
        }
    }

    #[pyfunction]
    fn _open(path: PyStrRef, timeout_ms: u32, uri: bool, vm: &VirtualMachine) -> PyResult<Db> {
        let options = OpenOptions { timeout_ms, uri };
        let conn = host::Connection::open(utf8(vm, &path)?, options).or_raise(vm)?;
        Ok(Db { conn })
    }

    #[pyattr]
    #[pyclass(name = "_Db")]
    #[derive(Debug, PyPayload)]
    struct Db {
        conn: host::Connection,
    }

    #[pyclass]
    impl Db {
        /// (statement or None, more statements follow)
        #[pymethod]
        fn prepare(&self, sql: PyStrRef, vm: &VirtualMachine) -> PyResult {
            let (stmt, more) = self.conn.prepare(utf8(vm, &sql)?).or_raise(vm)?;
            let stmt: PyObjectRef = match stmt {
                Some(st) => Stmt { st }.into_ref(&vm.ctx).into(),
                None => vm.ctx.none(),
            };
            Ok(vm
                .ctx
                .new_tuple(vec![stmt, vm.ctx.new_bool(more).into()])
                .into())
        }

        #[pymethod]
        fn executescript(&self, sql: PyStrRef, vm: &VirtualMachine) -> PyResult<()> {
            self.conn.execute_script(utf8(vm, &sql)?).or_raise(vm)
        }

        #[pymethod]
        fn autocommit(&self) -> bool {
            self.conn.autocommit()
        }

        #[pymethod]
        fn total_changes(&self) -> i64 {
            self.conn.total_changes()
        }

        #[pymethod]
        fn close(&self, vm: &VirtualMachine) -> PyResult<()> {
            self.conn.close().or_raise(vm)
        }

        #[pymethod]
        fn interrupt(&self) {
            self.conn.interrupt()
        }
    }

    #[pyattr]
    #[pyclass(name = "_Stmt")]
    #[derive(Debug, PyPayload)]
    struct Stmt {
        st: host::Statement,
    }

    fn to_value(vm: &VirtualMachine, index: usize, obj: &PyObjectRef) -> PyResult<Value> {
        if vm.is_none(obj) {
            return Ok(Value::Null);
        }
        let cls = obj.class();
        if let Some(i) = obj.downcast_ref::<PyInt>() {
            return match i.as_bigint().to_i64() {
                Some(v) => Ok(Value::Integer(v)),
                None => {
                    Err(vm.new_overflow_error("Python int too large to convert to SQLite INTEGER"))
                }
            };
        }
        if let Some(f) = obj.downcast_ref::<PyFloat>() {
            return Ok(Value::Real(f.to_f64()));
        }
        if let Some(s) = obj.downcast_ref::<PyStr>() {
            return Ok(Value::Text(utf8(vm, s)?.to_owned()));
        }
        if obj.downcast_ref::<PyBytes>().is_some()
            || obj.downcast_ref::<PyByteArray>().is_some()
            || cls.is(vm.ctx.types.memoryview_type)
        {
            let bytes = ArgBytesLike::try_from_borrowed_object(vm, obj)?;
            return Ok(Value::Blob(bytes.borrow_buf().to_vec()));
        }
        Err(app_error(
            vm,
            "_unsupported",
            vec![vm.ctx.new_int(index + 1).into(), obj.clone()],
        ))
    }

    fn from_value(vm: &VirtualMachine, v: Value) -> PyObjectRef {
        match v {
            Value::Null => vm.ctx.none(),
            Value::Integer(i) => vm.ctx.new_int(i).into(),
            Value::Real(f) => vm.ctx.new_float(f).into(),
            Value::Text(s) => vm.ctx.new_str(s).into(),
            Value::TextBytes(b) | Value::Blob(b) => vm.ctx.new_bytes(b).into(),
        }
    }

    /// (rows as a list of tuples, done, changes, lastrowid)
    fn rows(vm: &VirtualMachine, r: host::Rows) -> PyObjectRef {
        let rows: Vec<PyObjectRef> = r
            .rows
            .into_iter()
            .map(|row| {
                vm.ctx
                    .new_tuple(row.into_iter().map(|v| from_value(vm, v)).collect())
                    .into()
            })
            .collect();
        vm.ctx
            .new_tuple(vec![
                vm.ctx.new_list(rows).into(),
                vm.ctx.new_bool(r.done).into(),
                vm.ctx.new_int(r.changes).into(),
                vm.ctx.new_int(r.last_insert_rowid).into(),
            ])
            .into()
    }

    #[pyclass]
    impl Stmt {
        /// (column names, declared types, parameter names, readonly)
        #[pymethod]
        fn info(&self, vm: &VirtualMachine) -> PyObjectRef {
            let info = self.st.info();
            let opt = |s: Option<String>| -> PyObjectRef {
                match s {
                    Some(s) => vm.ctx.new_str(s).into(),
                    None => vm.ctx.none(),
                }
            };
            vm.ctx
                .new_tuple(vec![
                    vm.ctx
                        .new_tuple(
                            info.column_names
                                .into_iter()
                                .map(|s| vm.ctx.new_str(s).into())
                                .collect(),
                        )
                        .into(),
                    vm.ctx
                        .new_tuple(info.decltypes.into_iter().map(opt).collect())
                        .into(),
                    vm.ctx
                        .new_tuple(info.parameters.into_iter().map(opt).collect())
                        .into(),
                    vm.ctx.new_bool(info.readonly).into(),
                ])
                .into()
        }

        #[pymethod]
        fn run(&self, params: Vec<PyObjectRef>, max_rows: u32, vm: &VirtualMachine) -> PyResult {
            let values = params
                .iter()
                .enumerate()
                .map(|(i, p)| to_value(vm, i, p))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(rows(vm, self.st.run(&values, max_rows).or_raise(vm)?))
        }

        #[pymethod]
        fn fetch(&self, max_rows: u32, vm: &VirtualMachine) -> PyResult {
            Ok(rows(vm, self.st.fetch(max_rows).or_raise(vm)?))
        }

        #[pymethod]
        fn reset(&self) {
            self.st.reset()
        }
    }
}
