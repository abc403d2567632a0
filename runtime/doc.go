// Package runtime holds what Nabla programs need when they run, shared by
// the interpreter and by generated Go code: flat row-major arrays
// (Array), the interpreter's values (Value), a Machine that carries a
// call's context, step and memory limits, and numeric kernels.
//
// It depends on no compiler package: generated code imports it alone.
package runtime
