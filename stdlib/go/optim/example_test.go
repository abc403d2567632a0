package optim_test

import (
	"fmt"
	"log"
	"math"

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
