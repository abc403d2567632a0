package optim_test

import (
	"fmt"
	"log"

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
