package optim

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"
)

// mgh is a Moré–Garbow–Hillstrom problem with its standard starting point
// and known minimizer (all these minima are 0).
type mgh struct {
	name   string
	fn     interface{ Func([]float64) float64 }
	grad   func(grad, x []float64)
	x0     []float64
	xstar  []float64
	xscale []float64 // the tolerance on x per coordinate, relative to these
	gtol   float64   // LBFGS.GradStopThreshold (0: the default)
}

func mghProblems() []mgh {
	rosen10x0 := make([]float64, 10)
	ones10 := make([]float64, 10)
	for i := range rosen10x0 {
		rosen10x0[i] = -1.2
		if i%2 == 1 {
			rosen10x0[i] = 1
		}
		ones10[i] = 1
	}
	return []mgh{
		{"Rosenbrock", functions.ExtendedRosenbrock{}, functions.ExtendedRosenbrock{}.Grad, []float64{-1.2, 1}, []float64{1, 1}, nil, 0},
		{"Rosenbrock10", functions.ExtendedRosenbrock{}, functions.ExtendedRosenbrock{}.Grad, rosen10x0, ones10, nil, 0},
		{"Beale", functions.Beale{}, functions.Beale{}.Grad, []float64{1, 1}, []float64{3, 0.5}, nil, 0},
		{"Wood", functions.Wood{}, functions.Wood{}.Grad, []float64{-3, -1, -3, -1}, []float64{1, 1, 1, 1}, nil, 0},
		{"HelicalValley", functions.HelicalValley{}, functions.HelicalValley{}.Grad, []float64{-1, 0, 0}, []float64{1, 0, 0}, nil, 0},
		{"Box3D", functions.Box3D{}, functions.Box3D{}.Grad, []float64{0, 10, 20}, []float64{1, 10, 1}, nil, 0},
		{"BrownBadlyScaled", functions.BrownBadlyScaled{}, functions.BrownBadlyScaled{}.Grad, []float64{1, 1}, []float64{1e6, 2e-6}, []float64{1e6, 2e-6}, 0},
		{"PowellBadlyScaled", functions.PowellBadlyScaled{}, functions.PowellBadlyScaled{}.Grad, []float64{0, 1}, []float64{1.098159329699759e-5, 9.106146739867318}, []float64{1.1e-5, 9.1}, 5e-11},
	}
}

func (p mgh) problem() optimize.Problem {
	return optimize.Problem{Func: p.fn.Func, Grad: p.grad}
}

// near reports whether x is within 1e-4 of the minimizer (relative to
// xscale where given, else to 1 + |x*|).
func (p mgh) near(x []float64) bool {
	for i := range x {
		s := 1 + math.Abs(p.xstar[i])
		if p.xscale != nil {
			s = p.xscale[i]
		}
		if !(math.Abs(x[i]-p.xstar[i]) <= 1e-4*s) {
			return false
		}
	}
	return true
}

// TestMinimizeMGH passes LBFGS to optimize.Minimize, unchanged from how a
// gonum user passes gonum's own LBFGS, and checks that it reaches the known
// minimum; the log compares its evaluations with gonum's LBFGS.
func TestMinimizeMGH(t *testing.T) {
	for _, p := range mghProblems() {
		t.Run(p.name, func(t *testing.T) {
			res, err := optimize.Minimize(p.problem(), p.x0, nil, &LBFGS{GradStopThreshold: p.gtol})
			if err != nil {
				t.Fatalf("Minimize: %v (status %v, F = %g at %v)", err, res.Status, res.F, res.X)
			}
			if !(res.F <= 1e-14) || !p.near(res.X) {
				t.Errorf("F = %g at %v (status %v); want 0 at %v", res.F, res.X, res.Status, p.xstar)
			}
			g := make([]float64, len(res.X))
			p.grad(g, res.X)
			if !equal(g, res.Gradient) {
				t.Errorf("Result.Gradient %v is not the gradient at Result.X %v", res.Gradient, g)
			}
			ref, err := optimize.Minimize(p.problem(), p.x0, nil, &optimize.LBFGS{Store: 10})
			refF := "failed: " + fmt.Sprint(err)
			if err == nil {
				refF = fmt.Sprintf("F = %.3g", ref.F)
			}
			t.Logf("nabla: %v, F = %.3g, %d evaluations, %d major iterations; gonum: %v, %s, %d evaluations, %d major iterations",
				res.Status, res.F, res.FuncEvaluations, res.MajorIterations, ref.Status, refF, ref.FuncEvaluations, ref.MajorIterations)
		})
	}
}
