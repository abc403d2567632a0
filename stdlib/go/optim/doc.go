// Package optim is std/optim, the minimizers of Nabla's standard library,
// for Go programs: the drivers are written in Nabla (stdlib/std/optim.nab),
// compiled to Go by the code generator (optim_nabla.go, generated from
// optim.nab by go generate and checked in), and called with Go callbacks
// for the objective.
//
// A Go callback cannot be differentiated, so a driver takes the objective
// and its gradient together: fg(x) returns f(x) and ∇f(x). Lbfgs is the
// plain call:
//
//	x, fx, iters, evals, err := optim.Lbfgs(fg, x0, 10, 500, 1e-10)
//
// LBFGS is the same driver as a gonum optimize.Method, for
// optimize.Minimize:
//
//	res, err := optimize.Minimize(problem, x0, nil, &optim.LBFGS{})
//
// The other gradient-based drivers of std/optim (bfgs, nonlinear_cg, the
// first-order methods) differentiate their objective themselves and are
// not available from Go yet; docs/stdlib.md ("From Go") says why and what
// is missing. Newton's methods would need a Hessian callback as well and
// are left out.
package optim

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg optim -o optim_nabla.go optim.nab
