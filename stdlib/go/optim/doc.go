// Package optim is std/optim, the minimizers of Nabla's standard library,
// for Go programs: the drivers are written in Nabla (stdlib/std/optim.nab),
// compiled to Go by the code generator (optim_nabla.go, generated from
// optim.nab by go generate and checked in), and called with Go callbacks
// for the objective.
//
// A Go callback cannot be differentiated, so a driver takes the objective
// and its gradient together: fg(x) returns f(x) and ∇f(x), and each
// evaluation the algorithm makes is one call of fg.
//
// The line-search methods stop when ‖∇f‖∞ ≤ gtol (the projected gradient
// for Lbfgsb), after maxiter iterations, or when the line search finds no
// decrease, and return (x, f(x), iterations, evaluations):
//
//	x, fx, iters, evals, err := optim.Lbfgs(fg, x0, 10, 500, 1e-10)   // limited-memory BFGS, m = 10
//	x, fx, iters, evals, err := optim.Bfgs(fg, x0, 500, 1e-10)        // dense BFGS
//	x, fx, iters, evals, err := optim.NonlinearCg(fg, x0, 500, 1e-10) // PR+ conjugate gradients
//	x, fx, iters, evals, err := optim.Lbfgsb(fg, x0, lo, hi, 10, 500, 1e-10) // lo ≤ x ≤ hi
//
// Newton's methods take f and its gradient g as two callbacks, as a gonum
// optimize.Problem has them (their line search needs values only: f is
// called at x0 and each trial point, g at x0 and each iterate), and the
// Hessian as a third, n·n values row by row (a callback cannot return a
// matrix), or, for NewtonCg, its products with vectors,
// hv(x, v) = ∇²f(x)·v; they return the evaluations of f:
//
//	x, fx, iters, evals, err := optim.Newton(f, g, hess, x0, 100, 1e-10)
//	x, fx, iters, evals, err := optim.NewtonCg(f, g, hv, x0, 100, 1e-10)
//	x, fx, iters, evals, err := optim.LazyNewton(f, g, hess, x0, 5, 100, 1e-10) // a Hessian every 5 iterations
//	x, fx, iters, evals, err := optim.DampedNewton(f, g, hess, x0, 100, 1e-10)
//
// The least-squares methods minimize ½‖r(x)‖² with a callback for the m
// residuals and one for their Jacobian, m·n values row by row, and count
// the evaluations of r:
//
//	x, fx, iters, evals, err := optim.GaussNewton(r, jac, x0, 100, 1e-12)
//	x, fx, iters, evals, err := optim.LevenbergMarquardt(r, jac, x0, 100, 1e-12)
//
// The fixed-step methods (Gd, Momentum, Nesterov, Adagrad, Rmsprop, Adam,
// Adamw, Adabelief, Diffgrad, Adan, Lion, ProjectedGradient) take a step
// size and a number of steps and return (x, f(x), steps):
//
//	x, fx, steps, err := optim.Adam(fg, x0, 1e-3, 1000)
//
// Every function has an ...Into form that writes x into a caller's
// buffer. A bad argument (a negative count or tolerance, lengths of x0,
// lo and hi that differ, lo > hi, a nil callback, a gradient, Hessian or
// Jacobian of the wrong length) is an error, never a panic.
//
// LBFGS, BFGS, CG, AdamMethod and NewtonMethod are the same drivers as
// gonum optimize.Methods, for optimize.Minimize in place of gonum's own
// (NewtonMethod needs the problem's Hess):
//
//	res, err := optimize.Minimize(problem, x0, nil, &optim.LBFGS{})
//
// Lbfgsb has no Method: gonum's problems have no bounds. docs/stdlib.md
// ("From Go") compares evaluations with gonum's methods.
package optim

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg optim -o optim_nabla.go optim.nab
