// Package nabla embeds the Nabla language in Go programs.
//
// Nabla is a small, pure, functional array language for numerical code
// that must be differentiated. This package compiles Nabla source and runs
// its defs with an interpreter, converting Go values in and out:
//
//	prog, err := nabla.Compile("model.nab", src)
//	if err != nil {
//		log.Fatal(err) // every problem, as "model.nab:3:7: message" lines
//	}
//	rosen, err := prog.Func("rosen")
//	if err != nil {
//		log.Fatal(err)
//	}
//	y, err := rosen.Call(ctx, []float64{1, 2, 3}) // y is a float64
//
// The shape of the API follows go.starlark.net: compile once, call many
// times, with errors that are values carrying source positions. Compile
// reports all compile errors at once as an ir.ErrorList; Func.Call returns
// errors holding an *ir.Error (see errors.As) with the position of the
// failing expression and a backtrace of the defs that were running.
//
// # Conversions
//
// A def's parameter types drive the conversion of Go arguments, so the
// same []float64 can become an [n]f64 array or, for a tuple parameter,
// is rejected with a message naming the parameter. Scalars are float64,
// int64 and bool; arrays are slices (nested to any depth, rectangular) or
// gonum vectors and matrices; tuples are []any. Results come back as
// float64, int64, bool, slices and []any. Func.Call documents the full
// table; Func.CallValues skips conversion for callers that already hold
// the interpreter's runtime.Value. An argument that does not fit its
// parameter, a nil *mat.Dense included, is an error, never a panic.
//
// # Safety
//
// A Program is immutable once compiled and safe for concurrent use. Each
// call runs under its context, so cancelling the context stops even an
// endless `loop ... while true`, and under the limits given by
// WithLimits: a step budget and a budget of bytes allocated for arrays,
// counted per call. A Nabla program has no access to files, the network
// or the host; the only input it sees is its arguments, and the only
// files Compile reads are the imports a WithReadFile function supplies
// (CompileFile reads imports from disk, beside the importing file), never
// outside the importing file's directory unless WithImportsOutsideRoot
// is given.
//
// # What a program can do
//
// Compile runs the whole pipeline before the interpreter sees the
// program: type checking with sizes, specialization of higher-order defs,
// automatic differentiation (the operators jvp, vjp, grad,
// value_and_grad, jacfwd, jacrev, hessian, hvp, taylor and jet, nested
// freely, with custom @jvp/@vjp rules and @implicit functions) and each
// def's rewrite strategy (its @strategy of user rules, or the standard
// passes). Imports of the standard library ("std/optim", "std/linalg",
// "std/solve", "std/ode") need no file access. The same programs compile
// to Go source with the nabla command's gen subcommand (package codegen).
package nabla
