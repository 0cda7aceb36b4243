//! `_probe`: platform probing in the manner of PyPy's ctypes_configure,
//! answered by the host's C compiler through `wasmffi:ffi/probe` (see
//! wit/probe.wit). Off unless the policy allows it (`--allow-probe`). The
//! Rust part carries queries and answers; `app.py` is the user-facing API
//! (sizeof, offsetof, constants, configure(CConfig), struct layouts for
//! `_rawffi.Structure` and `ctypes.Structure`).

pub(crate) use _probe::module_def;

#[rustpython_vm::pymodule]
mod _probe {
    use rustpython_vm::builtins::{PyModule, PyStrRef, PyTupleRef};
    use rustpython_vm::{Py, PyObjectRef, PyResult, VirtualMachine};

    use crate::bindings::probe as host;
    use crate::bindings::probe::{Answer, Kind, Query};
    use crate::ffi::errors::{utf8, OrRaise};

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        crate::mixed::enable(vm, "_probe", "probe")?;
        __module_exec(vm, module);
        let code = rustpython_vm::py_compile!(file = "app.py");
        let scope = rustpython_vm::scope::Scope::with_builtins(None, module.dict(), vm);
        vm.run_code_obj(vm.ctx.new_code(code), scope)?;
        Ok(())
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

    fn text(vm: &VirtualMachine, obj: &PyObjectRef) -> PyResult<String> {
        let s: PyStrRef = obj.clone().try_into_value(vm)?;
        Ok(utf8(vm, &s)?.to_owned())
    }

    /// `_run(headers, queries)`: queries are ("type", T), ("field", T, member),
    /// ("constant", NAME), ("defined", NAME); answers are tuples
    /// ("type", size, alignment, kind), ("field", offset, size, kind),
    /// ("constant", int or None), ("defined", bool), ("failed", message).
    #[pyfunction]
    fn _run(
        headers: Vec<PyStrRef>,
        queries: Vec<PyTupleRef>,
        vm: &VirtualMachine,
    ) -> PyResult<Vec<PyObjectRef>> {
        let headers = headers
            .iter()
            .map(|h| utf8(vm, h).map(str::to_owned))
            .collect::<PyResult<Vec<_>>>()?;
        let mut qs = Vec::with_capacity(queries.len());
        for q in &queries {
            let items = q.as_slice();
            let tag = items
                .first()
                .map(|t| text(vm, t))
                .transpose()?
                .unwrap_or_default();
            qs.push(match (tag.as_str(), items.len()) {
                ("type", 2) => Query::TypeLayout(text(vm, &items[1])?),
                ("field", 3) => Query::Field((text(vm, &items[1])?, text(vm, &items[2])?)),
                ("constant", 2) => Query::Constant(text(vm, &items[1])?),
                ("defined", 2) => Query::Defined(text(vm, &items[1])?),
                _ => return Err(vm.new_value_error(format!("bad probe query {tag:?}"))),
            });
        }
        let answers = host::run(&headers, &qs).or_raise(vm)?;
        Ok(answers
            .into_iter()
            .map(|a| -> PyObjectRef {
                let items: Vec<PyObjectRef> = match a {
                    Answer::TypeLayout(l) => vec![
                        vm.ctx.new_str("type").into(),
                        vm.ctx.new_int(l.size).into(),
                        vm.ctx.new_int(l.alignment).into(),
                        vm.ctx.new_str(kind_name(l.kind)).into(),
                    ],
                    Answer::Field(f) => vec![
                        vm.ctx.new_str("field").into(),
                        vm.ctx.new_int(f.offset).into(),
                        vm.ctx.new_int(f.size).into(),
                        vm.ctx.new_str(kind_name(f.kind)).into(),
                    ],
                    Answer::Constant(v) => vec![
                        vm.ctx.new_str("constant").into(),
                        match v {
                            Some(i) if i.negative => vm.ctx.new_int(-(i.magnitude as i128)).into(),
                            Some(i) => vm.ctx.new_int(i.magnitude).into(),
                            None => vm.ctx.none(),
                        },
                    ],
                    Answer::Defined(d) => {
                        vec![vm.ctx.new_str("defined").into(), vm.ctx.new_bool(d).into()]
                    }
                    Answer::Failed(m) => {
                        vec![vm.ctx.new_str("failed").into(), vm.ctx.new_str(m).into()]
                    }
                };
                vm.ctx.new_tuple(items).into()
            })
            .collect())
    }
}
