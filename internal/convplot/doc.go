// Package convplot draws convergence plots from the standard library's
// progress reports (SPEC §11): the objective and the gradient norm per
// iteration, on log scales side by side, one line per method. It is what
// `nabla run --plot FILE.png|.svg` writes. It keeps gonum.org/v1/plot, a
// heavy dependency, out of the core packages.
package convplot
