// Package stdlib embeds Nabla's standard library, written in Nabla.
//
// A program imports a module by path, `import "std/linalg"`, and uses its
// defs qualified by the last path element: `linalg.cg(matvec, b, x0, 1e-10, 100)`.
// The modules are parsed from FS by the front end (package lang):
//
//   - std/optim: first-order methods (gd … lion, SPEC §11's update table),
//     lbfgs and bfgs with a Moré–Thuente line search, nonlinear_cg, the
//     Newton family, Gauss–Newton and Levenberg–Marquardt, lbfgsb and
//     projected_gradient, neumann_hypergrad.
//   - std/linalg: solve (@implicit), lu_solve, cholesky, cho_solve, cg,
//     pcg, sor, sor_auto, laplacian_stde.
//   - std/solve: fista, admm_lasso, bcd, auglag, frank_wolfe_simplex,
//     mirror_descent_simplex, extragradient, sinkhorn (@implicit),
//     sinkhorn_newton, complete.
//   - std/ode: rk4, dopri5.
//
// Each def's comment states its method, source, defaults and stopping
// rule; docs/stdlib.md lists what is tested and the temporary
// formulations that wait for the compiler. The tests run on the
// interpreter (stdlib_test.go, testdata/problems.nab).
package stdlib
