package optim

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/stdlib/go/internal/stdgen"
)

// TestGeneratedUpToDate checks that go generate would not change
// optim_nabla.go.
func TestGeneratedUpToDate(t *testing.T) {
	if err := stdgen.Stale(context.Background(), "optim.nab", "optim", "optim_nabla.go"); err != nil {
		t.Error(err)
	}
}

// rosenbrock is f(x) = Σ 100(x[i+1] − x[i]²)² + (1 − x[i])² with its
// gradient, counting its calls.
func rosenbrock(calls *int) func([]float64) (float64, []float64) {
	return func(x []float64) (float64, []float64) {
		*calls++
		f := 0.0
		g := make([]float64, len(x))
		for i := 0; i+1 < len(x); i++ {
			a, b := x[i], x[i+1]-x[i]*x[i]
			f += 100*b*b + (1-a)*(1-a)
			g[i] += -400*x[i]*b - 2*(1-a)
			g[i+1] += 200 * b
		}
		return f, g
	}
}

func TestLbfgsCallbacks(t *testing.T) {
	cases := []struct {
		name  string
		x0    []float64
		m     int64
		xstar []float64
	}{
		{"rosenbrock2", []float64{-1.2, 1}, 10, []float64{1, 1}},
		{"rosenbrock6", []float64{-1.2, 1, -1.2, 1, -1.2, 1}, 5, []float64{1, 1, 1, 1, 1, 1}},
		{"memory1", []float64{-1.2, 1}, 1, []float64{1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			x0 := append([]float64(nil), c.x0...)
			x, fx, iters, evals, err := Lbfgs(rosenbrock(&calls), x0, c.m, 1000, 1e-10)
			if err != nil {
				t.Fatal(err)
			}
			for i := range x {
				if math.Abs(x[i]-c.xstar[i]) > 1e-8 {
					t.Errorf("x = %v, want %v", x, c.xstar)
					break
				}
			}
			if fx > 1e-18 {
				t.Errorf("f(x) = %g, want 0", fx)
			}
			if iters <= 0 || evals != int64(calls) {
				t.Errorf("%d iterations, %d evaluations reported, %d callback calls", iters, evals, calls)
			}
			if !slices.Equal(x0, c.x0) {
				t.Errorf("x0 changed to %v", x0)
			}
		})
	}
}

// TestLbfgsStops checks the stopping rules of SPEC §11 from Go: a start
// that passes the gradient test returns x0 after one evaluation; max_iter
// caps the iterations.
func TestLbfgsStops(t *testing.T) {
	calls := 0
	x, _, iters, _, err := Lbfgs(rosenbrock(&calls), []float64{1, 1}, 10, 100, 1e-10)
	if err != nil || iters != 0 || calls != 1 || !slices.Equal(x, []float64{1, 1}) {
		t.Errorf("at the minimum: x = %v, %d iterations, %d calls, err %v", x, iters, calls, err)
	}
	_, _, iters, _, err = Lbfgs(rosenbrock(&calls), []float64{-1.2, 1}, 10, 3, 0)
	if err != nil || iters != 3 {
		t.Errorf("max_iter = 3: %d iterations, err %v", iters, err)
	}
}

// TestLbfgsBadCallback: a callback whose gradient has the wrong length is
// an error naming it, not a panic.
func TestLbfgsBadCallback(t *testing.T) {
	short := func(x []float64) (float64, []float64) { return x[0] * x[0], []float64{2 * x[0]} }
	_, _, _, _, err := Lbfgs(short, []float64{1, 2}, 5, 10, 0)
	if err == nil || !strings.Contains(err.Error(), "fg") {
		t.Errorf("err = %v, want an error about the result of fg", err)
	}
}
