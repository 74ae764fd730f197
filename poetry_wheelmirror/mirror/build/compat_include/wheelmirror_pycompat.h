/* Shims for C API that CPython 3.11 and 3.12 removed or renamed, used by C that builds
 * on 3.10 (old Cython output, older hand-written extensions). Included right after the
 * real Python.h by the Python.h next to this file (wheelmirror's cpython-compat fix).
 *
 * Each shim is guarded by the CPython version that removed its API, so code that
 * compiles without them compiles the same with them; each maps the old spelling to the
 * public API that replaced it, with the same meaning.
 */
#ifndef WHEELMIRROR_PYCOMPAT_H
#define WHEELMIRROR_PYCOMPAT_H

#if PY_VERSION_HEX >= 0x030B0000 && !defined(PYPY_VERSION) && !defined(Py_LIMITED_API)

/* Cython < 0.29.25 output: switch off the fast paths that read CPython internals 3.11
 * changed (longintrepr.h, PyThreadState's exception fields, frame locals). Cython reads
 * these macros after Python.h and keeps values that are already defined; its portable
 * code paths remain. */
#ifndef CYTHON_USE_PYLONG_INTERNALS
#define CYTHON_USE_PYLONG_INTERNALS 0
#endif
#ifndef CYTHON_FAST_THREAD_STATE
#define CYTHON_FAST_THREAD_STATE 0
#endif
#ifndef CYTHON_USE_EXC_INFO_STACK
#define CYTHON_USE_EXC_INFO_STACK 0
#endif
#ifndef CYTHON_FAST_PYCALL
#define CYTHON_FAST_PYCALL 0
#endif

/* PyFrameObject is an opaque type since 3.11; Cython's tracebacks set frame->f_lineno.
 * The full struct is in the internal frame header, read the way Cython >= 0.29.32
 * reads it. */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#define WHEELMIRROR_UNDEF_BUILD_CORE
#endif
#include "internal/pycore_frame.h"
#ifdef WHEELMIRROR_UNDEF_BUILD_CORE
#undef Py_BUILD_CORE
#undef WHEELMIRROR_UNDEF_BUILD_CORE
#endif

/* PyCode_New gained qualname and exceptiontable in 3.11 (17 arguments, 15 before).
 * Calls with 17 arguments reach the real function unchanged. Calls with 15 come from
 * Cython < 0.29.25, always with empty bytecode: for a traceback entry, or to describe a
 * def function's arguments to inspect. A code object with no instructions breaks the
 * traceback module on 3.11 (no positions for the frame's last instruction), so these
 * start from PyCode_NewEmpty, as Cython 0.29.37 does, and take the arguments' fields
 * through code.replace(). */
static inline PyCodeObject *wheelmirror_PyCode_New15(
    int argcount, int kwonlyargcount, int nlocals, int stacksize, int flags,
    PyObject *code, PyObject *consts, PyObject *names, PyObject *varnames,
    PyObject *freevars, PyObject *cellvars, PyObject *filename, PyObject *name,
    int firstlineno, PyObject *linetable)
{
    PyObject *empty_bytes, *replace, *args, *kwds, *changed;
    PyObject *error_type, *error_value, *error_traceback;
    PyCodeObject *result;
    const char *filename_utf8, *name_utf8;
    if (!PyBytes_Check(code) || PyBytes_GET_SIZE(code) != 0) {
        /* Real bytecode: passed through with 3.11's two new fields. */
        empty_bytes = PyBytes_FromStringAndSize("", 0);
        if (empty_bytes == NULL) {
            return NULL;
        }
#if PY_VERSION_HEX >= 0x030C0000
        result = PyUnstable_Code_New(
#else
        result = PyCode_New(
#endif
            argcount, kwonlyargcount, nlocals, stacksize, flags, code, consts, names,
            varnames, freevars, cellvars, filename, name, name, firstlineno, linetable,
            empty_bytes);
        Py_DECREF(empty_bytes);
        return result;
    }
    filename_utf8 = PyUnicode_AsUTF8(filename);
    name_utf8 = filename_utf8 == NULL ? NULL : PyUnicode_AsUTF8(name);
    if (name_utf8 == NULL) {
        return NULL;
    }
    result = PyCode_NewEmpty(filename_utf8, name_utf8, firstlineno);
    if (result == NULL || (argcount == 0 && kwonlyargcount == 0 && nlocals == 0 &&
                           flags == 0 && PyTuple_GET_SIZE(varnames) == 0)) {
        return result; /* a traceback entry: nothing to describe */
    }
    (void)stacksize; /* the empty code's own stack size fits its own instructions */
    (void)linetable;
    changed = NULL;
    /* Called while an exception is being handled, too: keep it, as Cython does. */
    PyErr_Fetch(&error_type, &error_value, &error_traceback);
    replace = PyObject_GetAttrString((PyObject *)result, "replace");
    args = PyTuple_New(0);
    kwds = Py_BuildValue(
        "{s:i,s:i,s:i,s:i,s:O,s:O,s:O,s:O,s:O}", "co_argcount", argcount,
        "co_kwonlyargcount", kwonlyargcount, "co_nlocals", nlocals, "co_flags", flags,
        "co_consts", consts, "co_names", names, "co_varnames", varnames, "co_freevars",
        freevars, "co_cellvars", cellvars);
    if (replace != NULL && args != NULL && kwds != NULL) {
        changed = PyObject_Call(replace, args, kwds);
    }
    Py_XDECREF(replace);
    Py_XDECREF(args);
    Py_XDECREF(kwds);
    Py_DECREF(result);
    if (error_type != NULL) {
        PyErr_Restore(error_type, error_value, error_traceback);
    }
    return (PyCodeObject *)changed;
}
#define WHEELMIRROR_ARG18(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, \
                          _15, _16, _17, NAME, ...) NAME
#define PyCode_New(...)                                                               \
    WHEELMIRROR_ARG18(__VA_ARGS__, PyCode_New, PyCode_New_takes_15_or_17_arguments,  \
                      wheelmirror_PyCode_New15)(__VA_ARGS__)

/* Py_TYPE() and Py_SIZE() are no longer lvalues since 3.11; the fields are. */
#undef Py_TYPE
#define Py_TYPE(ob) (((PyObject *)(ob))->ob_type)
#undef Py_SIZE
#define Py_SIZE(ob) (((PyVarObject *)(ob))->ob_size)

/* The private float packers became public (and took char pointers) in 3.11. */
#define _PyFloat_Pack2(x, p, le) PyFloat_Pack2((x), (char *)(p), (le))
#define _PyFloat_Pack4(x, p, le) PyFloat_Pack4((x), (char *)(p), (le))
#define _PyFloat_Pack8(x, p, le) PyFloat_Pack8((x), (char *)(p), (le))
#define _PyFloat_Unpack2(p, le) PyFloat_Unpack2((const char *)(p), (le))
#define _PyFloat_Unpack4(p, le) PyFloat_Unpack4((const char *)(p), (le))
#define _PyFloat_Unpack8(p, le) PyFloat_Unpack8((const char *)(p), (le))

/* PyUnicode_EncodeUTF8 (from a Py_UNICODE buffer) was removed in 3.11. Py_UNICODE is
 * wchar_t on CPython 3. */
static inline PyObject *wheelmirror_PyUnicode_EncodeUTF8(
    const wchar_t *s, Py_ssize_t size, const char *errors)
{
    PyObject *result;
    PyObject *text = PyUnicode_FromWideChar(s, size);
    if (text == NULL) {
        return NULL;
    }
    result = PyUnicode_AsEncodedString(text, "utf-8", errors);
    Py_DECREF(text);
    return result;
}
#define PyUnicode_EncodeUTF8 wheelmirror_PyUnicode_EncodeUTF8

/* PyUnicode_EncodeUTF16 (from a Py_UNICODE buffer) was removed in 3.11. byteorder 0:
 * native order with a BOM (the "utf-16" codec), -1: little endian, 1: big endian. */
static inline PyObject *wheelmirror_PyUnicode_EncodeUTF16(
    const wchar_t *s, Py_ssize_t size, const char *errors, int byteorder)
{
    PyObject *result;
    PyObject *text = PyUnicode_FromWideChar(s, size);
    if (text == NULL) {
        return NULL;
    }
    result = PyUnicode_AsEncodedString(
        text, byteorder < 0 ? "utf-16-le" : byteorder > 0 ? "utf-16-be" : "utf-16", errors);
    Py_DECREF(text);
    return result;
}
#define PyUnicode_EncodeUTF16 wheelmirror_PyUnicode_EncodeUTF16

#endif /* CPython >= 3.11 */
#endif /* WHEELMIRROR_PYCOMPAT_H */
