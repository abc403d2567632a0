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
// the interpreter's runtime.Value.
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
// (CompileFile reads imports from disk, beside the importing file).
//
// # Status
//
// This package runs programs with the interpreter. Automatic
// differentiation, rewriting strategies and generated Go code are
// described in the language specification and are being built; until
// they land, a program that uses an AD operator compiles but reports an
// error with its position when the operator runs.
package nabla
