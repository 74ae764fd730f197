/* Python.h as seen by a build with wheelmirror's cpython-compat fix.
 *
 * This folder comes first on the compiler's include path (-I in CFLAGS/CXXFLAGS), so a
 * source's own `#include "Python.h"` lands here, with whatever it defined before (such
 * as PY_SSIZE_T_CLEAN) still in force. The real Python.h is included next, then the
 * shims for C API that newer CPythons removed or renamed.
 */
#include_next <Python.h>
#include "wheelmirror_pycompat.h"
