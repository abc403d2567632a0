// Package specialize makes every function value of a program static, the
// stage between the front end and AD (SPEC §3: "the compiler specializes
// each call site, so compiled code never needs a closure at run time").
//
// A def with function-typed parameters (a template, such as linalg.cg or
// optim.lbfgs) is copied once per distinct function argument, not once per
// call site: the call cg(fn(v) => A @ v, b, x0, tol, k) becomes
// cg$1(b, x0, tol, k, A), where cg$1 is cg with matvec replaced by the
// lambda and the lambda's free variables (here A) lifted to extra
// parameters. Two call sites share a copy when their function arguments
// are the same up to the renaming of those free variables and of the
// sizes in their types, so ten calls with three different matvecs make
// three copies. The copies are ordinary first-order defs: AD
// differentiates through them, and with respect to their lifted
// parameters, like any other def.
//
// The stage also normalizes the remaining function values: calls of defs
// that return functions are inlined, value defs of function type
// (def g = grad(f)) are inlined at each use, lambdas applied on the spot
// are beta-reduced, let-bound functions are substituted, and lets that
// wrap a function value are hoisted out of it, so that every AD operator
// and every call sees a def or a lambda. Nabla has no recursion, so this
// terminates.
//
// A function argument that is not known at compile time (a function-typed
// parameter of a template that is itself called with a run-time function
// value, or if c then f else g) is left to the interpreter: such a call is
// inlined as before, and calls of it stay dynamic.
//
// Program is idempotent: running it on its own output changes nothing.
package specialize
