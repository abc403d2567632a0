package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// fgOf is p's objective and gradient as one callback, counting its calls.
func (p mgh) fgOf(calls *int) func([]float64) (float64, []float64) {
	return func(x []float64) (float64, []float64) {
		*calls++
		g := make([]float64, len(x))
		p.grad(g, x)
		return p.fn.Func(x), g
	}
}

// lineSearchDrivers are the plain functions of the line-search methods,
// with gonum's method of the same algorithm.
var lineSearchDrivers = []struct {
	name   string
	run    func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error)
	gonum  func() optimize.Method
	misses map[string]bool // as gradMethods' misses
}{
	{"Lbfgs", func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error) {
		return Lbfgs(fg, x0, 10, maxIter, gtol)
	}, func() optimize.Method { return &optimize.LBFGS{Store: 10} }, nil},
	{"Bfgs", Bfgs, func() optimize.Method { return &optimize.BFGS{} }, nil},
	{"NonlinearCg", NonlinearCg, func() optimize.Method { return &optimize.CG{} },
		map[string]bool{"BrownBadlyScaled": true, "PowellBadlyScaled": true}},
}

// TestDriversMGH calls the plain functions with Go callbacks on the MGH
// problems: the known minimum to ‖∇f‖∞ ≤ gtol, the evaluations reported
// are the callback's calls, x0 is left alone. The log compares iterations
// and evaluations with gonum's method (rows of docs/stdlib.md's table:
// go test -run DriversMGH -v ./stdlib/go/optim | grep -o '| .*').
func TestDriversMGH(t *testing.T) {
	limit := &optimize.Settings{FuncEvaluations: 10000}
	for _, d := range lineSearchDrivers {
		for _, p := range mghProblems() {
			t.Run(d.name+"/"+p.name, func(t *testing.T) {
				gtol := p.driverGtol()
				calls := 0
				x0 := slices.Clone(p.x0)
				x, fx, iters, evals, err := d.run(p.fgOf(&calls), x0, 10000, gtol)
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := optimize.Minimize(p.problem(), p.x0, limit, d.gonum())
				t.Logf("| %s | %s | %d | %d | F = %.3g | %d | %d | %v, F = %.3g |", d.name, p.name, evals, iters, fx, ref.FuncEvaluations, ref.MajorIterations, ref.Status, ref.F)
				if evals != int64(calls) || iters <= 0 || iters > evals {
					t.Errorf("%d iterations, %d evaluations reported, %d callback calls", iters, evals, calls)
				}
				if !slices.Equal(x0, p.x0) {
					t.Errorf("x0 changed to %v", x0)
				}
				if fx != p.fn.Func(x) {
					t.Errorf("f(x) = %g reported, %g at x", fx, p.fn.Func(x))
				}
				if d.misses[p.name] {
					if fx <= 1e-14 || !(fx < 1e-8) {
						t.Errorf("a listed miss reached F = %g (want ≈ 2e-9: update the list)", fx)
					}
					return
				}
				g := make([]float64, len(x))
				p.grad(g, x)
				if n := floats.Norm(g, math.Inf(1)); !(n <= gtol) || !(fx <= 1e-14) || !p.near(x) {
					t.Errorf("F = %g, ‖∇f‖∞ = %g at %v; want 0 at %v", fx, n, x, p.xstar)
				}
			})
		}
	}
}

// boxQuad is f(x) = Σ w[i]·(x[i] − a[i])², whose minimizer over the box
// [lo, hi] is a clipped to it.
func boxQuad(a, w []float64, calls *int) func([]float64) (float64, []float64) {
	return func(x []float64) (float64, []float64) {
		*calls++
		f := 0.0
		g := make([]float64, len(x))
		for i := range x {
			d := x[i] - a[i]
			f += w[i] * d * d
			g[i] = 2 * w[i] * d
		}
		return f, g
	}
}

// TestLbfgsb: bound-constrained problems with known minimizers, some on
// a bound: a separable quadratic (the minimizer clipped), Rosenbrock with
// x[0] ≤ 0.5 (the KKT point (0.5, 0.25)), infinite bounds (the
// unconstrained minimum), a start outside the box (projected first).
func TestLbfgsb(t *testing.T) {
	inf := math.Inf(1)
	rosen := mghProblems()[0]
	cases := []struct {
		name       string
		fg         func(calls *int) func([]float64) (float64, []float64)
		x0, lo, hi []float64
		xstar      []float64
		tol        float64
		active     []bool // coordinates at a bound at x*
	}{
		{"quadratic", func(c *int) func([]float64) (float64, []float64) {
			return boxQuad([]float64{3, -2, 0.5, 7}, []float64{1, 10, 2, 0.5}, c)
		}, []float64{0, 0, 0, 0}, []float64{-1, -1, -1, -1}, []float64{2, 2, 2, 2}, []float64{2, -1, 0.5, 2}, 1e-12,
			[]bool{true, true, false, true}},
		{"rosenbrock-bound", rosen.fgOf, []float64{-1.2, 1}, []float64{-2, -2}, []float64{0.5, 2}, []float64{0.5, 0.25}, 1e-8,
			[]bool{true, false}},
		{"unbounded", rosen.fgOf, []float64{-1.2, 1}, []float64{-inf, -inf}, []float64{inf, inf}, []float64{1, 1}, 1e-7,
			[]bool{false, false}},
		{"start-outside", func(c *int) func([]float64) (float64, []float64) {
			return boxQuad([]float64{3, -2}, []float64{1, 1}, c)
		}, []float64{10, -10}, []float64{0, 0}, []float64{1, 1}, []float64{1, 0}, 1e-12, []bool{true, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			x, fx, iters, evals, err := Lbfgsb(c.fg(&calls), c.x0, c.lo, c.hi, 10, 500, 1e-10)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d iterations, %d evaluations", iters, evals)
			if evals != int64(calls) {
				t.Errorf("%d evaluations reported, %d callback calls", evals, calls)
			}
			for i := range x {
				if !(math.Abs(x[i]-c.xstar[i]) <= c.tol) || x[i] < c.lo[i] || x[i] > c.hi[i] {
					t.Errorf("x = %v, want %v within [%v, %v]", x, c.xstar, c.lo, c.hi)
					break
				}
				if c.active[i] && x[i] != c.lo[i] && x[i] != c.hi[i] {
					t.Errorf("x[%d] = %v is not on its bound", i, x[i])
				}
			}
			if f, _ := c.fg(new(int))(x); f != fx {
				t.Errorf("f(x) = %g reported, %g at x", fx, f)
			}
		})
	}
}

// TestFixedStep runs each fixed-step method from Go on a quadratic with
// minimizer (3, −1), with a step size its rule converges with: each
// reaches the minimizer, takes exactly steps steps and calls fg steps + 1
// times (once per step and once at the end).
func TestFixedStep(t *testing.T) {
	a, w := []float64{3, -1}, []float64{1, 10}
	type fgFunc = func([]float64) (float64, []float64)
	type stepper = func(fg fgFunc, x0 []float64, steps int64) ([]float64, float64, int64, error)
	// lr1 and lr2 fix the coefficients of a method of one (lr) or two
	// (lr and beta or wd).
	lr1 := func(m func(fgFunc, []float64, float64, int64) ([]float64, float64, int64, error), lr float64) stepper {
		return func(fg fgFunc, x0 []float64, s int64) ([]float64, float64, int64, error) { return m(fg, x0, lr, s) }
	}
	lr2 := func(m func(fgFunc, []float64, float64, float64, int64) ([]float64, float64, int64, error), lr, c float64) stepper {
		return func(fg fgFunc, x0 []float64, s int64) ([]float64, float64, int64, error) { return m(fg, x0, lr, c, s) }
	}
	cases := []struct {
		name  string
		steps int64
		run   stepper
		tol   float64
	}{
		{"Gd", 500, lr1(Gd, 0.04), 1e-12},
		{"Momentum", 500, lr2(Momentum, 0.01, 0.9), 1e-9},
		{"Nesterov", 500, lr2(Nesterov, 0.01, 0.9), 1e-12},
		{"Adagrad", 500, lr1(Adagrad, 1), 1e-12},
		{"Rmsprop", 2000, lr1(Rmsprop, 0.01), 1e-12},
		{"Adam", 2000, lr1(Adam, 0.1), 1e-12},
		{"Adamw", 2000, lr2(Adamw, 0.1, 0), 1e-12},
		{"Adabelief", 2000, lr1(Adabelief, 0.1), 1e-12},
		{"Diffgrad", 2000, lr1(Diffgrad, 0.1), 1e-12},
		{"Adan", 2000, lr1(Adan, 0.1), 1e-12},
		{"Lion", 5000, lr2(Lion, 0.001, 0), 1e-9},
		{"ProjectedGradient", 500, func(fg fgFunc, x0 []float64, s int64) ([]float64, float64, int64, error) {
			return ProjectedGradient(fg, x0, []float64{-10, -10}, []float64{10, 10}, 0.04, s)
		}, 1e-12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			x, fx, k, err := c.run(boxQuad(a, w, &calls), []float64{0, 0}, c.steps)
			if err != nil {
				t.Fatal(err)
			}
			if k != c.steps || calls != int(c.steps)+1 {
				t.Errorf("%d steps reported, %d callback calls; want %d and %d", k, calls, c.steps, c.steps+1)
			}
			if !(math.Abs(x[0]-a[0]) <= c.tol && math.Abs(x[1]-a[1]) <= c.tol) {
				t.Errorf("x = %v (f = %g), want %v", x, fx, a)
			}
		})
	}
}

// TestFixedStepIterates checks exact iterates, so that the callback's
// gradient is what the rule sees: gradient descent on a quadratic is
// x_k − a = (1 − 2·lr·w)ᵏ·(x0 − a); Adam's first step is lr·g/(|g| + 1e-8)
// (the bias-corrected moments are g and g²).
func TestFixedStepIterates(t *testing.T) {
	a, w := []float64{3, -1}, []float64{1, 10}
	x, _, _, err := Gd(boxQuad(a, w, new(int)), []float64{0, 0}, 0.01, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		want := a[i] + math.Pow(1-2*0.01*w[i], 7)*(0-a[i])
		if math.Abs(x[i]-want) > 1e-14*math.Abs(want) {
			t.Errorf("gd: x[%d] = %.17g, want %.17g", i, x[i], want)
		}
	}
	x, _, _, err = Adam(boxQuad(a, w, new(int)), []float64{0, 0}, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		g := 2 * w[i] * (0 - a[i])
		want := -0.5 * g / (math.Abs(g) + 1e-8)
		if math.Abs(x[i]-want) > 1e-15 {
			t.Errorf("adam: x[%d] = %.17g, want %.17g", i, x[i], want)
		}
	}
}

// TestAdamRosenbrock: Adam from Go on Rosenbrock, plain and through
// Minimize (AdamMethod, stopped by its step count, by gonum's default
// Converger and by its gradient test; every evaluation is a major
// iteration).
func TestAdamRosenbrock(t *testing.T) {
	rosen := mghProblems()[0]
	calls := 0
	x, fx, _, err := Adam(rosen.fgOf(&calls), rosen.x0, 0.01, 5000)
	if err != nil || !(math.Abs(x[0]-1) < 1e-3 && math.Abs(x[1]-1) < 1e-3) {
		t.Errorf("Adam: x = %v, f = %g, err %v", x, fx, err)
	}
	res, err := optimize.Minimize(rosen.problem(), rosen.x0, nil, &AdamMethod{LearnRate: 0.01, MaxIterations: 5000})
	if err != nil || res.Status != optimize.IterationLimit || !slices.Equal(res.X, x) || res.FuncEvaluations != 5001 {
		t.Errorf("AdamMethod: %v, x = %v, %d evaluations, err %v; want x = %v", res.Status, res.X, res.FuncEvaluations, err, x)
	}
	res, err = optimize.Minimize(rosen.problem(), rosen.x0, nil, &AdamMethod{LearnRate: 0.01})
	t.Logf("AdamMethod, no step cap: %v, F = %.3g after %d evaluations", res.Status, res.F, res.FuncEvaluations)
	if err != nil || res.Status != optimize.FunctionConvergence || !(res.F < 1e-8) {
		t.Errorf("AdamMethod without a step cap: %v, F = %g, err %v", res.Status, res.F, err)
	}
	// GradStopThreshold ends the run at the first iterate that passes it.
	rec := &recorder{}
	res, err = optimize.Minimize(rosen.problem(), rosen.x0, &optimize.Settings{Recorder: rec}, &AdamMethod{LearnRate: 0.01, GradStopThreshold: 1e-3})
	if n := floats.Norm(res.Gradient, math.Inf(1)); err != nil || res.Status != optimize.GradientThreshold || !(n <= 1e-3) ||
		res.MajorIterations != res.FuncEvaluations || len(rec.fs) != res.MajorIterations {
		t.Errorf("AdamMethod{GradStopThreshold: 1e-3}: %v, ‖∇f‖∞ = %g, %d major iterations, %d evaluations, %d recorded, err %v",
			res.Status, n, res.MajorIterations, res.FuncEvaluations, len(rec.fs), err)
	}
}

// TestBadArguments: bad counts and tolerances, lengths that disagree and
// nil callbacks are Go errors naming the argument, never panics.
func TestBadArguments(t *testing.T) {
	fg := boxQuad([]float64{1, 2}, []float64{1, 1}, new(int))
	x0, lo, hi := []float64{0, 0}, []float64{-1, -1}, []float64{1, 1}
	checkErrors(t, []errCase{
		{"Lbfgs gtol", func() error { _, _, _, _, err := Lbfgs(fg, x0, 10, 10, -1); return err }, "argument 5 (gtol) must be non-negative"},
		{"Lbfgs NaN gtol", func() error { _, _, _, _, err := Lbfgs(fg, x0, 10, 10, math.NaN()); return err }, "argument 5 (gtol) must be non-negative"},
		{"Lbfgs m", func() error { _, _, _, _, err := Lbfgs(fg, x0, 0, 10, 0); return err }, "argument 3 (m) must be at least 1"},
		{"Lbfgs max_iter", func() error { _, _, _, _, err := Lbfgs(fg, x0, 5, -1, 0); return err }, "argument 4 (max_iter) must be non-negative"},
		{"Lbfgs nil", func() error { _, _, _, _, err := Lbfgs(nil, x0, 5, 1, 0); return err }, "lbfgs: argument fg is a nil function"},
		{"Bfgs gtol", func() error { _, _, _, _, err := Bfgs(fg, x0, 10, -1e-8); return err }, "optim.Bfgs: argument 4 (gtol) must be non-negative"},
		{"Bfgs max_iter", func() error { _, _, _, _, err := Bfgs(fg, x0, -3, 0); return err }, "optim.Bfgs: argument 3 (max_iter) must be non-negative"},
		{"Bfgs nil", func() error { _, _, _, _, err := Bfgs(nil, x0, 10, 0); return err }, "bfgs: argument fg is a nil function"},
		{"NonlinearCg gtol", func() error { _, _, _, _, err := NonlinearCg(fg, x0, 10, -1); return err }, "optim.NonlinearCg: argument 4 (gtol) must be non-negative"},
		{"NonlinearCg nil", func() error { _, _, _, _, err := NonlinearCg(nil, x0, 10, 0); return err }, "nonlinear_cg: argument fg is a nil function"},
		{"NonlinearCgInto nil", func() error { _, _, _, err := NonlinearCgInto(make([]float64, 2), nil, x0, 10, 0); return err }, "nonlinear_cg: argument fg is a nil function"},
		{"Lbfgsb gtol", func() error { _, _, _, _, err := Lbfgsb(fg, x0, lo, hi, 5, 10, -1); return err }, "optim.Lbfgsb: argument 7 (gtol) must be non-negative"},
		{"Lbfgsb m", func() error { _, _, _, _, err := Lbfgsb(fg, x0, lo, hi, 0, 10, 0); return err }, "optim.Lbfgsb: argument 5 (m) must be at least 1"},
		{"Lbfgsb lo > hi", func() error { _, _, _, _, err := Lbfgsb(fg, x0, hi, lo, 5, 10, 0); return err }, "arguments 3 and 4 (lo, hi) must have lo ≤ hi"},
		{"Lbfgsb short lo", func() error { _, _, _, _, err := Lbfgsb(fg, x0, lo[:1], hi, 5, 10, 0); return err }, "n is 2 (x0) but lo has size 1"},
		{"Lbfgsb long hi", func() error { _, _, _, _, err := Lbfgsb(fg, x0, lo, []float64{1, 1, 1}, 5, 10, 0); return err }, "n is 2 (x0) but hi has size 3"},
		{"Lbfgsb nil", func() error { _, _, _, _, err := Lbfgsb(nil, x0, lo, hi, 5, 10, 0); return err }, "lbfgsb: argument fg is a nil function"},
		{"LbfgsbInto short dst", func() error { _, _, _, err := LbfgsbInto(make([]float64, 1), fg, x0, lo, hi, 5, 10, 0); return err }, "dst0 does not have the result's shape [2]"},
		{"Adam lr", func() error { _, _, _, err := Adam(fg, x0, -0.1, 10); return err }, "optim.adam: argument 3 (lr) must be non-negative"},
		{"Adam steps", func() error { _, _, _, err := Adam(fg, x0, 0.1, -1); return err }, "optim.adam: argument 4 (steps) must be non-negative"},
		{"Adam nil", func() error { _, _, _, err := Adam(nil, x0, 0.1, 1); return err }, "adam: argument fg is a nil function"},
		{"Momentum beta", func() error { _, _, _, err := Momentum(fg, x0, 0.1, -0.9, 1); return err }, "optim.momentum: argument 4 (beta) must be non-negative"},
		{"Lion wd", func() error { _, _, _, err := Lion(fg, x0, 0.1, -1, 1); return err }, "optim.lion: argument 4 (wd) must be non-negative"},
		{"ProjectedGradient lo > hi", func() error { _, _, _, err := ProjectedGradient(fg, x0, hi, lo, 0.1, 1); return err }, "(lo, hi) must have lo ≤ hi"},
		{"ProjectedGradient short hi", func() error { _, _, _, err := ProjectedGradient(fg, x0, lo, hi[:1], 0.1, 1); return err }, "hi has size 1"},
		{"short gradient", func() error {
			_, _, _, _, err := Bfgs(func(x []float64) (float64, []float64) { return 0, []float64{1} }, x0, 10, 0)
			return err
		}, "the result of fg"},
	})
}

// errCase is a call that must fail with an error containing want.
type errCase struct {
	name string
	call func() error
	want string
}

// checkErrors runs each case as a subtest and checks its error.
func checkErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}
