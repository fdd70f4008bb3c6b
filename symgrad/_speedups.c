/* symgrad._speedups: the one test a gradient's default call makes that pure Python cannot
 * make fast.
 *
 * Two forms of it: floats(*args), called from a gradient's first line, and Checked, the
 * object a gradient is called through (the callable inside its functools.partial), which
 * tests the arguments it is given before the gradient's frame exists.
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
#include <structmember.h>

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

/* ------------------------------------------------------------------ Checked
 *
 * Checked(fast, slow, positions): calling it with positional arguments only, at least
 * max(positions) + 1 of them, each at a position in `positions` exactly a float, calls
 * fast with the same arguments; any other call (a keyword, a missing argument, an int, a
 * bool, a str, an array ...) goes to slow, with its keywords.  Both are called with the
 * caller's own argument array (vectorcall): no tuple, no copy.
 */

typedef struct {
    PyObject_HEAD
    PyObject *fast;
    PyObject *slow;
    Py_ssize_t n;               /* tested positions */
    Py_ssize_t need;            /* the positional arguments a fast call needs */
    Py_ssize_t *pos;
    vectorcallfunc vectorcall;
} Checked;

static PyObject *
checked_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Checked *self = (Checked *)op;
    if (kwnames == NULL && (Py_ssize_t)PyVectorcall_NARGS(nargsf) >= self->need) {
        const Py_ssize_t *pos = self->pos;
        Py_ssize_t i = 0;
        for (; i < self->n; i++) {
            if (!PyFloat_CheckExact(args[pos[i]])) {
                break;
            }
        }
        if (i == self->n) {
            return PyObject_Vectorcall(self->fast, args, nargsf, NULL);
        }
    }
    return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
}

static int
checked_traverse(PyObject *op, visitproc visit, void *arg)
{
    Checked *self = (Checked *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->fast);
    Py_VISIT(self->slow);
    return 0;
}

static int
checked_clear(PyObject *op)
{
    Checked *self = (Checked *)op;
    Py_CLEAR(self->fast);
    Py_CLEAR(self->slow);
    return 0;
}

static void
checked_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    checked_clear(op);
    PyMem_Free(((Checked *)op)->pos);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef checked_members[] = {
    {"fast", T_OBJECT, offsetof(Checked, fast), READONLY,
     "called when every tested argument is a float"},
    {"slow", T_OBJECT, offsetof(Checked, slow), READONLY, "called otherwise"},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Checked, vectorcall), READONLY, NULL},
    {NULL}
};

PyDoc_STRVAR(checked_type_doc,
"A gradient's checked call: the float test of its arguments, then the gradient.");

static PyType_Slot checked_slots[] = {
    {Py_tp_doc, (void *)checked_type_doc},
    {Py_tp_call, (void *)PyVectorcall_Call},
    {Py_tp_traverse, (void *)checked_traverse},
    {Py_tp_clear, (void *)checked_clear},
    {Py_tp_dealloc, (void *)checked_dealloc},
    {Py_tp_members, checked_members},
    {0, NULL}
};

static PyType_Spec checked_spec = {
    .name = "symgrad._speedups.Checked",
    .basicsize = sizeof(Checked),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
             | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = checked_slots,
};

PyDoc_STRVAR(checked_doc,
"checked(fast, slow, positions) -> Checked\n\n"
"A callable that calls fast(*args) when it gets positional arguments only and the\n"
"argument at each index in positions is exactly a float, else slow(*args, **kwargs).");

static PyObject *
checked(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "checked(fast, slow, positions: tuple)");
        return NULL;
    }
    PyObject *positions = args[2];
    Py_ssize_t n = PyTuple_GET_SIZE(positions);
    Py_ssize_t *pos = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(Py_ssize_t));
    if (pos == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t need = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t k = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, i));
        if (k < 0) {
            PyMem_Free(pos);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "a position must be >= 0");
            }
            return NULL;
        }
        pos[i] = k;
        if (k + 1 > need) {
            need = k + 1;
        }
    }
    PyTypeObject *tp = (PyTypeObject *)PyObject_GetAttrString(module, "Checked");
    if (tp == NULL) {
        PyMem_Free(pos);
        return NULL;
    }
    Checked *self = (Checked *)tp->tp_alloc(tp, 0);
    Py_DECREF(tp);
    if (self == NULL) {
        PyMem_Free(pos);
        return NULL;
    }
    self->fast = Py_NewRef(args[0]);
    self->slow = Py_NewRef(args[1]);
    self->n = n;
    self->need = need;
    self->pos = pos;
    self->vectorcall = checked_vectorcall;
    return (PyObject *)self;
}

static int
speedups_exec(PyObject *module)
{
    PyObject *tp = PyType_FromModuleAndSpec(module, &checked_spec, NULL);
    if (tp == NULL) {
        return -1;
    }
    int rc = PyModule_AddObject(module, "Checked", tp);
    if (rc < 0) {
        Py_DECREF(tp);
    }
    return rc;
}

static PyMethodDef speedups_methods[] = {
    {"floats", (PyCFunction)(void (*)(void))floats, METH_FASTCALL, floats_doc},
    {"checked", (PyCFunction)(void (*)(void))checked, METH_FASTCALL, checked_doc},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, (void *)speedups_exec},
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
