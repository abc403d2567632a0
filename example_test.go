package nabla_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

func Example() {
	src := []byte(`
// The n-dimensional Rosenbrock function; its minimum 0 is at (1, ..., 1).
def rosen(x: [n]f64): f64 =
  sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
`)
	prog, err := nabla.Compile("rosen.nab", src)
	if err != nil {
		log.Fatal(err)
	}
	rosen, err := prog.Func("rosen")
	if err != nil {
		log.Fatal(err)
	}
	y, err := rosen.Call(context.Background(), []float64{1, 2, 3})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rosen.Signature(), y)
	// Output: ([n]f64) -> f64 201
}

// Gonum matrices and vectors convert to [m][n]f64 and [n]f64; results
// come back as slices.
func ExampleFunc_Call() {
	prog, err := nabla.Compile("affine.nab", []byte(`
def affine(a: [m][n]f64, x: [n]f64, b: [m]f64): [m]f64 = a @ x + b
`))
	if err != nil {
		log.Fatal(err)
	}
	affine, err := prog.Func("affine")
	if err != nil {
		log.Fatal(err)
	}
	a := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	x := mat.NewVecDense(3, []float64{1, 0, -1})
	y, err := affine.Call(context.Background(), a, x, []float64{0.5, 0.5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y)
	// Output: [-1.5 -1.5]
}

// CallInto writes the result into a buffer the caller reuses, here a
// gradient step x ← x - η∇f(x) done in place: a warm call allocates
// nothing, and the destination may be an argument.
func ExampleFunc_CallInto() {
	prog, err := nabla.Compile("step.nab", []byte(`
def f(x: [n]f64): f64 = sum((x - 3.0)^2)
def step(eta: f64, x: [n]f64): [n]f64 = x - eta * grad(f)(x)
`))
	if err != nil {
		log.Fatal(err)
	}
	step, err := prog.Func("step")
	if err != nil {
		log.Fatal(err)
	}
	x := []float64{0, 1, 5}
	args := []any{0.25, x} // built once: x is read in place at each call
	for range 10 {
		if err := step.CallInto(context.Background(), x, args...); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%.4f\n", x)
	// A destination of the wrong size is an error, not a panic.
	fmt.Println(step.CallInto(context.Background(), make([]float64, 2), args...))
	// Output:
	// [2.9971 2.9980 3.0020]
	// step.nab:3:5: destination of step: want []float64 or *mat.VecDense for [n]f64, got []float64 of length 2; the result has shape [3]
}

// Errors carry the source position; an argument that does not fit is
// reported at the parameter it was meant for.
func ExampleFunc_Call_errors() {
	prog, err := nabla.Compile("div.nab", []byte(`
def div(a: i64, b: i64): i64 =
  a / b
`))
	if err != nil {
		log.Fatal(err)
	}
	div, err := prog.Func("div")
	if err != nil {
		log.Fatal(err)
	}
	_, err = div.Call(context.Background(), 1, 0)
	fmt.Println(err)
	_, err = div.Call(context.Background(), 1, 2.5)
	fmt.Println(err)
	// Output:
	// div.nab:3:5: integer division by zero
	// 	in div (div.nab:2:5)
	// div.nab:2:17: argument 2 of div: want i64, got float64
}

// A step limit stops a call that runs too long; the error tells which
// limit was hit.
func ExampleWithLimits() {
	prog, err := nabla.Compile("spin.nab", []byte(`
def spin(x: f64): f64 = loop y = x while y > 0.0 do y + 1.0
`), nabla.WithLimits(10000, 1<<20))
	if err != nil {
		log.Fatal(err)
	}
	spin, err := prog.Func("spin")
	if err != nil {
		log.Fatal(err)
	}
	_, err = spin.Call(context.Background(), 1.0)
	fmt.Println(errors.Is(err, runtime.ErrStepLimit))
	// Output: true
}
