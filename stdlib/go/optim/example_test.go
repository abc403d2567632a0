package optim_test

import (
	"fmt"
	"log"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/nabla-lang/nabla/stdlib/go/optim"
)

// A gonum user passes LBFGS to optimize.Minimize as any gonum Method.
func ExampleLBFGS() {
	rosen := functions.ExtendedRosenbrock{}
	p := optimize.Problem{Func: rosen.Func, Grad: rosen.Grad}
	res, err := optimize.Minimize(p, []float64{-1.2, 1}, nil, &optim.LBFGS{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f < 1e-20: %t, %v\n", res.X, res.F < 1e-20, res.Status)
	// Output: x = [1.000000 1.000000], f < 1e-20: true, GradientThreshold
}

// Lbfgs takes the objective and its gradient in one Go callback.
func ExampleLbfgs() {
	// f(x) = (x0 − 3)² + 10·(x1 + 1)²
	fg := func(x []float64) (float64, []float64) {
		a, b := x[0]-3, x[1]+1
		return a*a + 10*b*b, []float64{2 * a, 20 * b}
	}
	x, fx, _, _, err := optim.Lbfgs(fg, []float64{0, 0}, 10, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t\n", x, fx < 1e-20)
	// Output: x = [3.000000 -1.000000], f(x) < 1e-20: true
}

// bowl is f(x) = (x0 − 3)² + 10·(x1 + 1)² and its gradient: the minimum
// is 0 at (3, −1).
func bowl(x []float64) (float64, []float64) {
	a, b := x[0]-3, x[1]+1
	return a*a + 10*b*b, []float64{2 * a, 20 * b}
}

// Bfgs keeps a dense inverse-Hessian approximation; it reports its
// iterations and the evaluations of fg.
func ExampleBfgs() {
	x, fx, iters, evals, err := optim.Bfgs(bowl, []float64{0, 0}, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t, %d iterations, %d evaluations\n", x, fx < 1e-20, iters, evals)
	// Output: x = [3.000000 -1.000000], f(x) < 1e-20: true, 11 iterations, 12 evaluations
}

// BfgsInto writes x into a buffer the caller keeps from run to run.
func ExampleBfgsInto() {
	x := make([]float64, 2)
	fx, _, _, err := optim.BfgsInto(x, bowl, []float64{0, 0}, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t\n", x, fx < 1e-20)
	// Output: x = [3.000000 -1.000000], f(x) < 1e-20: true
}

// NonlinearCg needs no matrix: O(n) memory, like Lbfgs.
func ExampleNonlinearCg() {
	x, fx, _, _, err := optim.NonlinearCg(bowl, []float64{0, 0}, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t\n", x, fx < 1e-20)
	// Output: x = [3.000000 -1.000000], f(x) < 1e-20: true
}

func ExampleNonlinearCgInto() {
	x := make([]float64, 2)
	_, _, _, err := optim.NonlinearCgInto(x, bowl, []float64{0, 0}, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

// Lbfgsb with the box [0, 2] × [0, 2]: the minimizer (3, −1) of the bowl
// lies outside, and the constrained minimizer (2, 0) sits on two bounds.
// Use ±Inf for a side without a bound.
func ExampleLbfgsb() {
	lo, hi := []float64{0, 0}, []float64{2, 2}
	x, fx, _, _, err := optim.Lbfgsb(bowl, []float64{1, 1}, lo, hi, 10, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) = %.6f\n", x, fx)
	// Output: x = [2.000000 0.000000], f(x) = 11.000000
}

func ExampleLbfgsbInto() {
	x := make([]float64, 2)
	_, _, _, err := optim.LbfgsbInto(x, bowl, []float64{1, 1}, []float64{0, math.Inf(-1)}, []float64{2, math.Inf(1)}, 10, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [2.000000 -1.000000]
}

// The fixed-step methods take a step size and a number of steps; they
// return the last iterate, f there and the number of steps.
func ExampleAdam() {
	x, _, steps, err := optim.Adam(bowl, []float64{0, 0}, 0.1, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f after %d steps\n", x, steps)
	// Output: x = [3.000000 -1.000000] after 2000 steps
}

func ExampleAdamInto() {
	x := make([]float64, 2)
	if _, _, err := optim.AdamInto(x, bowl, []float64{0, 0}, 0.1, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

// A bad argument is an error, not a panic.
func ExampleAdam_error() {
	_, _, _, err := optim.Adam(bowl, []float64{0, 0}, -0.1, 100)
	fmt.Println(err != nil)
	_, _, _, err = optim.Adam(nil, []float64{0, 0}, 0.1, 100)
	fmt.Println(err)
	// Output:
	// true
	// adam: argument fg is a nil function
}

func ExampleGd() {
	x, _, _, err := optim.Gd(bowl, []float64{0, 0}, 0.04, 500)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleGdInto() {
	x := make([]float64, 2)
	if _, _, err := optim.GdInto(x, bowl, []float64{0, 0}, 0.04, 500); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleMomentum() {
	x, _, _, err := optim.Momentum(bowl, []float64{0, 0}, 0.01, 0.9, 500)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleMomentumInto() {
	x := make([]float64, 2)
	if _, _, err := optim.MomentumInto(x, bowl, []float64{0, 0}, 0.01, 0.9, 500); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleNesterov() {
	x, _, _, err := optim.Nesterov(bowl, []float64{0, 0}, 0.01, 0.9, 500)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleNesterovInto() {
	x := make([]float64, 2)
	if _, _, err := optim.NesterovInto(x, bowl, []float64{0, 0}, 0.01, 0.9, 500); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdagrad() {
	x, _, _, err := optim.Adagrad(bowl, []float64{0, 0}, 1, 500)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdagradInto() {
	x := make([]float64, 2)
	if _, _, err := optim.AdagradInto(x, bowl, []float64{0, 0}, 1, 500); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleRmsprop() {
	x, _, _, err := optim.Rmsprop(bowl, []float64{0, 0}, 0.01, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleRmspropInto() {
	x := make([]float64, 2)
	if _, _, err := optim.RmspropInto(x, bowl, []float64{0, 0}, 0.01, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

// Adamw with wd = 0 takes Adam's steps; wd > 0 also pulls x towards 0.
func ExampleAdamw() {
	x, _, _, err := optim.Adamw(bowl, []float64{0, 0}, 0.1, 0, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdamwInto() {
	x := make([]float64, 2)
	if _, _, err := optim.AdamwInto(x, bowl, []float64{0, 0}, 0.1, 0, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdabelief() {
	x, _, _, err := optim.Adabelief(bowl, []float64{0, 0}, 0.1, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdabeliefInto() {
	x := make([]float64, 2)
	if _, _, err := optim.AdabeliefInto(x, bowl, []float64{0, 0}, 0.1, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleDiffgrad() {
	x, _, _, err := optim.Diffgrad(bowl, []float64{0, 0}, 0.1, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleDiffgradInto() {
	x := make([]float64, 2)
	if _, _, err := optim.DiffgradInto(x, bowl, []float64{0, 0}, 0.1, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdan() {
	x, _, _, err := optim.Adan(bowl, []float64{0, 0}, 0.1, 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleAdanInto() {
	x := make([]float64, 2)
	if _, _, err := optim.AdanInto(x, bowl, []float64{0, 0}, 0.1, 2000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

// Lion moves every coordinate by ±lr per step: the step size bounds its
// accuracy.
func ExampleLion() {
	x, _, _, err := optim.Lion(bowl, []float64{0, 0}, 0.001, 0, 5000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

func ExampleLionInto() {
	x := make([]float64, 2)
	if _, _, err := optim.LionInto(x, bowl, []float64{0, 0}, 0.001, 0, 5000); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [3.000000 -1.000000]
}

// ProjectedGradient keeps every iterate in the box.
func ExampleProjectedGradient() {
	x, fx, _, err := optim.ProjectedGradient(bowl, []float64{1, 1}, []float64{0, 0}, []float64{2, 2}, 0.04, 500)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) = %.6f\n", x, fx)
	// Output: x = [2.000000 0.000000], f(x) = 11.000000
}

func ExampleProjectedGradientInto() {
	x := make([]float64, 2)
	if _, _, err := optim.ProjectedGradientInto(x, bowl, []float64{1, 1}, []float64{0, 0}, []float64{2, 2}, 0.04, 500); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f\n", x)
	// Output: x = [2.000000 0.000000]
}

// BFGS replaces gonum's optimize.BFGS in optimize.Minimize.
func ExampleBFGS() {
	wood := functions.Wood{}
	p := optimize.Problem{Func: wood.Func, Grad: wood.Grad}
	res, err := optimize.Minimize(p, []float64{-3, -1, -3, -1}, nil, &optim.BFGS{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %v\n", res.X, res.Status)
	// Output: x = [1.000000 1.000000 1.000000 1.000000], GradientThreshold
}

// CG replaces gonum's optimize.CG in optimize.Minimize.
func ExampleCG() {
	rosen := functions.ExtendedRosenbrock{}
	p := optimize.Problem{Func: rosen.Func, Grad: rosen.Grad}
	res, err := optimize.Minimize(p, []float64{-1.2, 1}, nil, &optim.CG{GradStopThreshold: 1e-8})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %v\n", res.X, res.Status)
	// Output: x = [1.000000 1.000000], GradientThreshold
}

// AdamMethod runs Adam under optimize.Minimize: here gonum's default
// Converger ends the run once F stops decreasing.
func ExampleAdamMethod() {
	p := optimize.Problem{
		Func: func(x []float64) float64 { f, _ := bowl(x); return f },
		Grad: func(g, x []float64) { _, d := bowl(x); copy(g, d) },
	}
	res, err := optimize.Minimize(p, []float64{0, 0}, nil, &optim.AdamMethod{LearnRate: 0.1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %v\n", res.X, res.Status)
	// Output: x = [3.000000 -1.000000], FunctionConvergence
}

// bowlF, bowlG and bowlHess are bowl's value, gradient and Hessian (row
// by row: diag(2, 20)) apart, as Newton's methods take them.
func bowlF(x []float64) float64 { f, _ := bowl(x); return f }

func bowlG(x []float64) []float64 { _, g := bowl(x); return g }

func bowlHess(x []float64) []float64 { return []float64{2, 0, 0, 20} }

// Newton takes f, its gradient and its Hessian (n·n values, row by row)
// as three callbacks, like a gonum optimize.Problem. On a quadratic the
// first step is exact.
func ExampleNewton() {
	x, fx, iters, evals, err := optim.Newton(bowlF, bowlG, bowlHess, []float64{0, 0}, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t, %d iteration, %d evaluations\n", x, fx < 1e-20, iters, evals)
	// Output: x = [3.000000 -1.000000], f(x) < 1e-20: true, 1 iteration, 2 evaluations
}

// NewtonCg needs Hessian-vector products only: hv(x, v) = ∇²f(x)·v. On
// Rosenbrock's function, with its Hessian written out.
func ExampleNewtonCg() {
	f := func(x []float64) float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		return a*a + 100*b*b
	}
	g := func(x []float64) []float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		return []float64{-2*a - 400*x[0]*b, 200 * b}
	}
	hv := func(x, v []float64) []float64 {
		h00, h01, h11 := 2-400*(x[1]-x[0]*x[0])+800*x[0]*x[0], -400*x[0], 200.0
		return []float64{h00*v[0] + h01*v[1], h01*v[0] + h11*v[1]}
	}
	x, fx, _, _, err := optim.NewtonCg(f, g, hv, []float64{-1.2, 1}, 200, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) < 1e-20: %t\n", x, fx < 1e-20)
	// Output: x = [1.000000 1.000000], f(x) < 1e-20: true
}

// LazyNewton calls hess every `every` iterations only.
func ExampleLazyNewton() {
	hcalls := 0
	hess := func(x []float64) []float64 { hcalls++; return bowlHess(x) }
	x, _, iters, _, err := optim.LazyNewton(bowlF, bowlG, hess, []float64{0, 0}, 5, 100, 1e-10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %d iteration, %d Hessian\n", x, iters, hcalls)
	// Output: x = [3.000000 -1.000000], 1 iteration, 1 Hessian
}

// DampedNewton on a self-concordant function, f(x) = Σ xᵢ − log xᵢ
// (minimum at xᵢ = 1), from far away: damped steps, then full ones.
func ExampleDampedNewton() {
	f := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v - math.Log(v)
		}
		return s
	}
	g := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = 1 - 1/v
		}
		return out
	}
	hess := func(x []float64) []float64 {
		n := len(x)
		h := make([]float64, n*n)
		for i, v := range x {
			h[i*n+i] = 1 / (v * v)
		}
		return h
	}
	x, fx, _, _, err := optim.DampedNewton(f, g, hess, []float64{20, 0.01}, 100, 1e-12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f(x) = %.6f\n", x, fx)
	// Output: x = [1.000000 1.000000], f(x) = 2.000000
}

// GaussNewton fits y = a·exp(b·t) to exact data: r(x) are the residuals,
// jac(x) their Jacobian, m·n values row by row.
func ExampleGaussNewton() {
	ts := []float64{0, 0.5, 1, 1.5, 2}
	ys := make([]float64, len(ts))
	for i, t := range ts {
		ys[i] = 2 * math.Exp(-0.7*t)
	}
	r := func(x []float64) []float64 {
		out := make([]float64, len(ts))
		for i, t := range ts {
			out[i] = x[0]*math.Exp(x[1]*t) - ys[i]
		}
		return out
	}
	jac := func(x []float64) []float64 {
		out := make([]float64, 0, 2*len(ts))
		for _, t := range ts {
			e := math.Exp(x[1] * t)
			out = append(out, e, x[0]*t*e)
		}
		return out
	}
	x, fx, _, _, err := optim.GaussNewton(r, jac, []float64{1, 0}, 100, 1e-12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("a = %.6f, b = %.6f, ½‖r‖² < 1e-20: %t\n", x[0], x[1], fx < 1e-20)
	// Output: a = 2.000000, b = -0.700000, ½‖r‖² < 1e-20: true
}

// LevenbergMarquardt on Rosenbrock's residuals r = (10(x1 − x0²), 1 − x0).
func ExampleLevenbergMarquardt() {
	r := func(x []float64) []float64 { return []float64{10 * (x[1] - x[0]*x[0]), 1 - x[0]} }
	jac := func(x []float64) []float64 { return []float64{-20 * x[0], 10, -1, 0} }
	x, fx, _, _, err := optim.LevenbergMarquardt(r, jac, []float64{-1.2, 1}, 100, 1e-12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, ½‖r‖² < 1e-20: %t\n", x, fx < 1e-20)
	// Output: x = [1.000000 1.000000], ½‖r‖² < 1e-20: true
}

// NewtonMethod is Newton as a gonum optimize.Method; the problem gives
// the Hessian.
func ExampleNewtonMethod() {
	p := optimize.Problem{
		Func: functions.Beale{}.Func,
		Grad: functions.Beale{}.Grad,
		Hess: func(dst *mat.SymDense, x []float64) {
			// Beale's Hessian (gonum's Beale.Hess is not right, v0.17.0).
			t1, t2, t3 := 1-x[1], 1-x[1]*x[1], 1-x[1]*x[1]*x[1]
			f1, f2, f3 := 1.5-x[0]*t1, 2.25-x[0]*t2, 2.625-x[0]*t3
			dst.SetSym(0, 0, 2*(t1*t1+t2*t2+t3*t3))
			dst.SetSym(0, 1, 2*(f1+2*x[1]*f2+3*x[1]*x[1]*f3)-2*x[0]*(t1+2*x[1]*t2+3*x[1]*x[1]*t3))
			dst.SetSym(1, 1, 2*x[0]*(x[0]+2*f2+6*x[1]*f3)+2*x[0]*x[0]*(4*x[1]*x[1]+9*x[1]*x[1]*x[1]*x[1]))
		},
	}
	res, err := optimize.Minimize(p, []float64{1, 1}, nil, &optim.NewtonMethod{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %v, %d Hessians\n", res.X, res.Status, res.HessEvaluations)
	// Output: x = [3.000000 0.500000], GradientThreshold, 8 Hessians
}
