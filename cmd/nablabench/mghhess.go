package main

import (
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/functions"
)

// hessFunc writes the Hessian of an objective at x into dst, as gonum's
// optimize.Problem.Hess does.
type hessFunc func(dst *mat.SymDense, x []float64)

// hessianOf is the Hessian both libraries' Newton methods get for p:
// gonum's own where it is right, a closed form here for Beale (gonum
// v0.17.0's Beale.Hess is wrong; stdlib/go/optim's TestGonumBealeHessian)
// and for Rosenbrock (gonum has none), nil for the other problems.
func hessianOf(p optProblem) hessFunc {
	switch p.fn.(type) {
	case functions.Beale:
		return bealeHess
	case functions.ExtendedRosenbrock:
		return rosenbrockHess
	}
	if h, ok := p.fn.(gonumHess); ok {
		return h.Hess
	}
	return nil
}

// bealeHess is the Hessian of Beale's f = Σ_{i=1..3} r_i², with
// r_i = c_i − x·(1 − y^i): H = 2 Σ (∇r_i ∇r_iᵀ + r_i ∇²r_i).
func bealeHess(dst *mat.SymDense, v []float64) {
	x, y := v[0], v[1]
	terms := [3]struct{ c, t, dy, dxy, dyy float64 }{
		// c_i, t_i = 1 − y^i, ∂r_i/∂y, ∂²r_i/∂x∂y, ∂²r_i/∂y²; ∂r_i/∂x = −t_i.
		{1.5, 1 - y, x, 1, 0},
		{2.25, 1 - y*y, 2 * x * y, 2 * y, 2 * x},
		{2.625, 1 - y*y*y, 3 * x * y * y, 3 * y * y, 6 * x * y},
	}
	var hxx, hxy, hyy float64
	for _, k := range terms {
		r := k.c - x*k.t
		hxx += k.t * k.t
		hxy += -k.t*k.dy + r*k.dxy
		hyy += k.dy*k.dy + r*k.dyy
	}
	dst.SetSym(0, 0, 2*hxx)
	dst.SetSym(0, 1, 2*hxy)
	dst.SetSym(1, 1, 2*hyy)
}

// rosenbrockHess is the Hessian of gonum's ExtendedRosenbrock,
// Σ_{i<n−1} (1 − x_i)² + 100(x_{i+1} − x_i²)².
func rosenbrockHess(dst *mat.SymDense, x []float64) {
	n := len(x)
	for i := range n {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0)
		}
	}
	for i := 0; i+1 < n; i++ {
		dst.SetSym(i, i, dst.At(i, i)+2-400*x[i+1]+1200*x[i]*x[i])
		dst.SetSym(i, i+1, -400*x[i])
		dst.SetSym(i+1, i+1, dst.At(i+1, i+1)+200)
	}
}
