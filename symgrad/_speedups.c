/* symgrad._speedups: the one test a gradient's default call makes that pure Python cannot
 * make fast.
 *
 * A gradient's checked entry refuses a bool or a str where a number is differentiated (a
 * bool behaves as 0 or 1 in every arithmetic operation, so only its type tells it from a
 * number).  In Python that test is one type(x) per argument, 180 machine instructions
 * each: for the 201-argument neuron it costs half as much as the whole gradient.  Here it
 * is a pointer comparison per argument, passed on the interpreter's own stack.
 *
 * Optional: symgrad.entry falls back to the same test written in Python when this module
 * was not built (no C compiler at install time) or SYMGRAD_PURE_PYTHON is set.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyDoc_STRVAR(floats_doc,
"floats(*args) -> bool\n\n"
"True when every argument is exactly a float (not a subclass, not an int or a bool).");

static PyObject *
floats(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (!PyFloat_CheckExact(args[i])) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

static PyMethodDef speedups_methods[] = {
    {"floats", (PyCFunction)(void (*)(void))floats, METH_FASTCALL, floats_doc},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef_Slot speedups_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "symgrad._speedups",
    .m_doc = "The argument test of a gradient's default call, in C (optional).",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
