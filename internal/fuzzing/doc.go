// Package fuzzing holds the fuzz targets beyond the parser's (issue 15);
// it has no API. FuzzParse, in package lang, covers the parser alone.
//
//   - FuzzFrontEnd compiles mutated programs through every stage (parse,
//     check, elaborate, specialize, AD, rewrite) and runs the defs that
//     compile on small arguments under limits: nothing may panic, hang,
//     or fail without a positioned error, and no error may be an
//     "internal error". Its seeds are every .nab file of the repository
//     and of the shared conformance suite; the fuzz input is a program
//     and a number whose bits choose token-level mutations (a name
//     replaced by another of the program's names, a number by an extreme
//     one, tokens deleted, swapped or duplicated), so that most mutants
//     get past the parser.
//   - FuzzDifferential generates well-typed programs (progen.Random) and
//     checks that the interpreter gives the same results before and
//     after the rewrite stage, that jvp agrees with central finite
//     differences where those are well conditioned, and that vjp agrees
//     with jvp (the dot-product test ⟨ȳ, J·ẋ⟩ = ⟨Jᵀ·ȳ, ẋ⟩). A mismatch
//     at a point where some branch condition compares two values equal
//     to within rounding (a tie, which rounding decides) gets no verdict
//     (tie_test.go).
//   - FuzzGoBackend generates programs the same way and checks that the
//     Go backend (generated, built and run) gives the interpreter's
//     results. It builds a Go program per input, so it is the slow one.
//
// Inputs that failed are kept under testdata/fuzz/<target>/ and replayed
// by every go test, as are the seeds. docs/reliability.md gives the
// commands for longer runs and what they found.
package fuzzing
