package solve_test

import (
	"fmt"
	"log"

	"github.com/nabla-lang/nabla/stdlib/go/solve"
)

// Fista solves a lasso: f(x) = ½‖x − s‖² with g = 0.5·‖x‖₁, whose proximal
// map is the soft threshold; the answer is soft(s, 0.5).
func ExampleFista() {
	s := []float64{2, 0.3, 0.8, -1}
	fg := func(x []float64) (float64, []float64) {
		f, g := 0.0, make([]float64, len(x))
		for i := range x {
			f += 0.5 * (x[i] - s[i]) * (x[i] - s[i])
			g[i] = x[i] - s[i]
		}
		return f, g
	}
	prox := func(v []float64, step float64) []float64 { return solve.SoftThreshold(v, 0.5*step) }
	x, err := solve.Fista(fg, prox, make([]float64, 4), 1, 50)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [1.500000 0.000000 0.300000 -0.500000]
}

// Bcd takes Newton steps on one block at a time, the one with the largest
// gradient; hv(x, v) is the Hessian times v. On a separable quadratic
// with blocks of 2, each block is solved exactly when it is picked.
func ExampleBcd() {
	d := []float64{1, 2, 3, 4, 5}
	fg := func(x []float64) (float64, []float64) {
		f, g := 0.0, make([]float64, len(x))
		for i := range x {
			f += 0.5 * d[i] * (x[i] - 1) * (x[i] - 1)
			g[i] = d[i] * (x[i] - 1)
		}
		return f, g
	}
	hv := func(x, v []float64) []float64 {
		out := make([]float64, len(v))
		for i := range v {
			out[i] = d[i] * v[i]
		}
		return out
	}
	x, err := solve.Bcd(fg, hv, make([]float64, 5), 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [1.000000 1.000000 1.000000 1.000000 1.000000]
}

// Auglag minimizes x0² + x1² on the line x0 + x1 = 1: x = (½, ½), and the
// multiplier λ = −1 makes ∇f + λ·∇c = 0.
func ExampleAuglag() {
	fg := func(x []float64) (float64, []float64) {
		return x[0]*x[0] + x[1]*x[1], []float64{2 * x[0], 2 * x[1]}
	}
	c := func(x []float64) []float64 { return []float64{x[0] + x[1] - 1} }
	jac := func(x []float64) []float64 { return []float64{1, 1} }
	x, lam, err := solve.Auglag(fg, c, jac, []float64{0, 0}, 20, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, λ = %.6f\n", x, lam)
	// Output: x = [0.500000 0.500000], λ = [-1.000000]
}

// simplexFg is ½‖x − p‖² with p = (0.2, 0.5, 0.3) in the simplex, so the
// minimum over the simplex is p.
func simplexFg(x []float64) (float64, []float64) {
	p := []float64{0.2, 0.5, 0.3}
	f, g := 0.0, make([]float64, len(x))
	for i := range x {
		f += 0.5 * (x[i] - p[i]) * (x[i] - p[i])
		g[i] = x[i] - p[i]
	}
	return f, g
}

// FrankWolfeSimplex moves towards one vertex of the simplex per step.
func ExampleFrankWolfeSimplex() {
	x, err := solve.FrankWolfeSimplex(simplexFg, []float64{1, 0, 0}, 5000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.2f\n", x)
	// Output: x = [0.20 0.50 0.30]
}

// MirrorDescentSimplex multiplies x by exp(−lr·∇f) and renormalizes.
func ExampleMirrorDescentSimplex() {
	x, err := solve.MirrorDescentSimplex(simplexFg, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 1, 200)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [0.200000 0.500000 0.300000]
}
