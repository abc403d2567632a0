// Package pipeline is Nabla's compiler driver: it owns the ordered stages
// that turn source into a program ready to run, and hands the result to a
// backend.
//
//	core        lang.Load: parse, check, elaborate to the core IR
//	specialize  specialize.Program: one copy of each template per function
//	            argument, function values made static
//	ad          rewrite.Vectorize: element-wise comprehensions become
//	            array operations (Options.NoVectorize: not); then
//	            ad.Expand: AD operators become ordinary IR
//	opt         rewrite: each def's strategy (its @strategy, or default)
//
// ir.Validate runs after every stage, so a stage that breaks the IR's
// invariants is caught where it happens, as an internal error naming the
// stage. Every stage honours the context given to Compile.
//
// A Backend runs the optimized program: Interp, the embedded interpreter,
// today; generated Go next. The root package nabla, and every command of
// cmd/nabla, compile through this package, so they see the same program
// at each stage.
package pipeline
