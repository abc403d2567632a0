package optim

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize/functions"
)

// lsq is an MGH problem in its least-squares form: residuals r with
// Σ rᵢ² = gonum's Func, and their Jacobian, row by row (m·n values).
type lsq struct {
	name   string
	fn     interface{ Func([]float64) float64 }
	r      func(x []float64) []float64
	jac    func(x []float64) []float64
	x0     []float64
	xstar  []float64
	xscale []float64 // the tolerance on x per coordinate, relative to these
	tol    float64   // the driver's tol on ‖Jᵀr‖∞
}

func lsqProblems() []lsq {
	s90, s10 := math.Sqrt(90), math.Sqrt(10)
	box := func(x []float64, jac bool) []float64 {
		out := make([]float64, 0, 30)
		for i := 1; i <= 10; i++ {
			c := -float64(i) / 10
			y := math.Exp(c) - math.Exp(10*c)
			if jac {
				out = append(out, c*math.Exp(c*x[0]), -c*math.Exp(c*x[1]), -y)
			} else {
				out = append(out, math.Exp(c*x[0])-math.Exp(c*x[1])-x[2]*y)
			}
		}
		return out
	}
	return []lsq{
		{"Rosenbrock", functions.ExtendedRosenbrock{},
			func(x []float64) []float64 { return []float64{10 * (x[1] - x[0]*x[0]), 1 - x[0]} },
			func(x []float64) []float64 { return []float64{-20 * x[0], 10, -1, 0} },
			[]float64{-1.2, 1}, []float64{1, 1}, nil, 1e-12},
		{"Beale", functions.Beale{},
			func(x []float64) []float64 {
				return []float64{1.5 - x[0]*(1-x[1]), 2.25 - x[0]*(1-x[1]*x[1]), 2.625 - x[0]*(1-x[1]*x[1]*x[1])}
			},
			func(x []float64) []float64 {
				return []float64{-(1 - x[1]), x[0], -(1 - x[1]*x[1]), 2 * x[0] * x[1], -(1 - x[1]*x[1]*x[1]), 3 * x[0] * x[1] * x[1]}
			},
			[]float64{1, 1}, []float64{3, 0.5}, nil, 1e-12},
		{"Wood", functions.Wood{},
			func(x []float64) []float64 {
				return []float64{10 * (x[1] - x[0]*x[0]), 1 - x[0], s90 * (x[3] - x[2]*x[2]), 1 - x[2], s10 * (x[1] + x[3] - 2), (x[1] - x[3]) / s10}
			},
			func(x []float64) []float64 {
				return []float64{
					-20 * x[0], 10, 0, 0,
					-1, 0, 0, 0,
					0, 0, -2 * s90 * x[2], s90,
					0, 0, -1, 0,
					0, s10, 0, s10,
					0, 1 / s10, 0, -1 / s10,
				}
			},
			[]float64{-3, -1, -3, -1}, []float64{1, 1, 1, 1}, nil, 1e-12},
		{"HelicalValley", functions.HelicalValley{},
			func(x []float64) []float64 {
				theta := 0.5 * math.Atan(x[1]/x[0]) / math.Pi
				if x[0] < 0 {
					theta += 0.5
				}
				return []float64{10 * (x[2] - 10*theta), 10 * (math.Hypot(x[0], x[1]) - 1), x[2]}
			},
			func(x []float64) []float64 {
				q, h := x[0]*x[0]+x[1]*x[1], math.Hypot(x[0], x[1])
				return []float64{
					100 * x[1] / (2 * math.Pi * q), -100 * x[0] / (2 * math.Pi * q), 10,
					10 * x[0] / h, 10 * x[1] / h, 0,
					0, 0, 1,
				}
			},
			[]float64{-1, 0, 0}, []float64{1, 0, 0}, nil, 1e-12},
		{"Box3D", functions.Box3D{},
			func(x []float64) []float64 { return box(x, false) },
			func(x []float64) []float64 { return box(x, true) },
			[]float64{0, 10, 20}, []float64{1, 10, 1}, nil, 1e-12},
		{"BrownBadlyScaled", functions.BrownBadlyScaled{},
			func(x []float64) []float64 { return []float64{x[0] - 1e6, x[1] - 2e-6, x[0]*x[1] - 2} },
			func(x []float64) []float64 { return []float64{1, 0, 0, 1, x[1], x[0]} },
			[]float64{1, 1}, []float64{1e6, 2e-6}, []float64{1e6, 2e-6}, 1e-10},
		{"PowellBadlyScaled", functions.PowellBadlyScaled{},
			func(x []float64) []float64 {
				return []float64{1e4*x[0]*x[1] - 1, math.Exp(-x[0]) + math.Exp(-x[1]) - 1.0001}
			},
			func(x []float64) []float64 {
				return []float64{1e4 * x[1], 1e4 * x[0], -math.Exp(-x[0]), -math.Exp(-x[1])}
			},
			[]float64{0, 1}, []float64{1.098159329699759e-5, 9.106146739867318}, []float64{1.1e-5, 9.1}, 1e-13},
	}
}

// TestLsqProblems checks the test problems themselves: Σ rᵢ² is gonum's
// Func and jac is the Jacobian of r (central differences), at x0 and at a
// point off it.
func TestLsqProblems(t *testing.T) {
	for _, p := range lsqProblems() {
		for _, x := range [][]float64{p.x0, []float64{0.7, 1.3, 0.4, 2.1}[:len(p.x0)]} {
			r := p.r(x)
			if got, want := floats.Dot(r, r), p.fn.Func(x); math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Errorf("%s: Σr² = %v at %v, gonum's Func %v", p.name, got, x, want)
			}
			n, m := len(x), len(r)
			j := p.jac(x)
			if len(j) != m*n {
				t.Fatalf("%s: jac has %d values, want %d·%d", p.name, len(j), m, n)
			}
			for c := range n {
				h := 1e-4 * (1 + math.Abs(x[c]))
				xp, xm := slices.Clone(x), slices.Clone(x)
				xp[c] += h
				xm[c] -= h
				rp, rm := p.r(xp), p.r(xm)
				for i := range m {
					fd := (rp[i] - rm[i]) / (2 * h)
					if math.Abs(j[i*n+c]-fd) > 1e-5*(1+math.Abs(fd)) {
						t.Errorf("%s: J[%d, %d] = %v at %v, differences give %v", p.name, i, c, j[i*n+c], x, fd)
					}
				}
			}
		}
	}
}

// TestLeastSquaresDriversMGH calls GaussNewton and LevenbergMarquardt with
// Go callbacks on the MGH problems in least-squares form: the known
// minimum (½‖r‖² ≤ 1e-14 near x*), evaluations reported = calls of r, x0
// left alone. The log gives rows of docs/stdlib.md's table (go test -run
// DriversMGH -v ./stdlib/go/optim | grep -o '| .*').
func TestLeastSquaresDriversMGH(t *testing.T) {
	type lsqDriver = func(r, jac func([]float64) []float64, x0 []float64, maxIter int64, tol float64) ([]float64, float64, int64, int64, error)
	for _, d := range []struct {
		name string
		run  lsqDriver
	}{{"GaussNewton", GaussNewton}, {"LevenbergMarquardt", LevenbergMarquardt}} {
		for _, p := range lsqProblems() {
			t.Run(d.name+"/"+p.name, func(t *testing.T) {
				rcalls, jcalls := 0, 0
				r := func(x []float64) []float64 { rcalls++; return p.r(x) }
				jac := func(x []float64) []float64 { jcalls++; return p.jac(x) }
				x0 := slices.Clone(p.x0)
				x, fx, iters, evals, err := d.run(r, jac, x0, 1000, p.tol)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("| %s | %s | %d/%d | %d | F = %.3g |", d.name, p.name, evals, jcalls, iters, fx)
				if evals != int64(rcalls) || iters <= 0 {
					t.Errorf("%d iterations, %d evaluations reported, %d calls of r", iters, evals, rcalls)
				}
				if !slices.Equal(x0, p.x0) {
					t.Errorf("x0 changed to %v", x0)
				}
				if rx := p.r(x); math.Abs(fx-0.5*floats.Dot(rx, rx)) > 1e-12*fx {
					t.Errorf("½‖r(x)‖² = %g reported, %g at x", fx, 0.5*floats.Dot(rx, rx))
				}
				m := mgh{xstar: p.xstar, xscale: p.xscale}
				if !(fx <= 1e-14) || !m.near(x) {
					t.Errorf("½‖r‖² = %g at %v after %d iterations; want 0 at %v", fx, x, iters, p.xstar)
				}
			})
		}
	}
}
