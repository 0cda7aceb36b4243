/*
 * libwasmffi_pystub.so: stand-ins for the few CPython C-API symbols that
 * CPython 3.11's _ctypes_test extension module references
 * (`nm -D --undefined-only _ctypes_test.cpython-311-x86_64-linux-gnu.so`).
 *
 * _ctypes_test.so is a CPython extension, so dlopen fails outside CPython
 * with "undefined symbol: _Py_NoneStruct". The guest's test runner
 * (tests/cpython_ctypes/run_suite.py) loads this library with RTLD_GLOBAL
 * first; the symbols then resolve and the plain C test functions of
 * _ctypes_test.so (everything ctypes' tests call through CDLL) work.
 *
 * Nothing here is a working C API: the functions that use it
 * (PyInit__ctypes_test, py_func_si, py_func, _testfunc_pylist_append) are
 * only reached through CPython's module machinery or PyDLL, whose tests are
 * skipped as not applicable. Each stand-in reports the call on stderr and
 * returns the C API's failure value.
 */
#include <stdio.h>

/* PyObject's header on a 64-bit build: refcount, type. */
struct wasmffi_pyobject {
    long ob_refcnt;
    void *ob_type;
};

/* Py_None (immortal-looking refcount, no type). */
struct wasmffi_pyobject _Py_NoneStruct = { 1L << 30, 0 };

static void not_available(const char *name) {
    fprintf(stderr, "wasmffi pystub: %s called: there is no Python C API here\n", name);
}

/* Returns 0: "parsing failed". */
int PyArg_ParseTuple(void *args, const char *format, ...) {
    (void)args;
    (void)format;
    not_available("PyArg_ParseTuple");
    return 0;
}

/* Returns -1: "append failed". */
int PyList_Append(void *list, void *item) {
    (void)list;
    (void)item;
    not_available("PyList_Append");
    return -1;
}

/* Returns NULL: "module initialisation failed". */
void *PyModuleDef_Init(void *def) {
    (void)def;
    not_available("PyModuleDef_Init");
    return 0;
}
