// Package solve is std/solve, the structured solvers of Nabla's standard
// library (lasso by ADMM and FISTA, block coordinate descent, the
// augmented Lagrangian method, entropic optimal transport, matrix
// completion, monotone operators), for Go programs: written in Nabla
// (stdlib/std/solve.nab), compiled to Go by the code generator
// (solve_nabla.go, generated from solve.nab by go generate and checked
// in).
//
// Fista, Bcd and Auglag take Go callbacks for the derivatives a Go
// function cannot get from the compiler: fg(x) = (f(x), ∇f(x)) for the
// objective, hv(x, v) = ∇²f(x)·v for Bcd's block Hessians, and for
// Auglag the constraints c(x) and their Jacobian, p·n values row by row;
// FrankWolfeSimplex and MirrorDescentSimplex take fg too.
package solve

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg solve -o solve_nabla.go solve.nab
