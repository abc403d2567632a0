// Package solve is std/solve, the structured solvers of Nabla's standard
// library (lasso by ADMM, entropic optimal transport, matrix completion,
// monotone operators), for Go programs: written in Nabla
// (stdlib/std/solve.nab), compiled to Go by the code generator
// (solve_nabla.go, generated from solve.nab by go generate and checked
// in).
//
// The solvers of std/solve that differentiate a function they are given
// (fista, bcd, auglag, frank_wolfe_simplex, mirror_descent_simplex) are
// not available from Go yet: a Go callback cannot be differentiated, and
// docs/stdlib.md ("From Go") says what is missing.
package solve

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg solve -o solve_nabla.go solve.nab
