package ode

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/stdlib/go/internal/stdgen"
)

func TestGeneratedUpToDate(t *testing.T) {
	if err := stdgen.Stale(context.Background(), "ode.nab", "ode", "ode_nabla.go"); err != nil {
		t.Error(err)
	}
}

// decay is y' = −y, y(t) = y0·e^(−t).
func decay(_ float64, y []float64) []float64 { return []float64{-y[0]} }

// oscillator is y″ = −y as a system: y(t) = (cos t, −sin t) from (1, 0).
func oscillator(_ float64, y []float64) []float64 { return []float64{y[1], -y[0]} }

// forced is y' = cos t, y(t) = sin t from 0: f depends on t.
func forced(t float64, _ []float64) []float64 { return []float64{math.Cos(t)} }

func TestRk4Order(t *testing.T) {
	// The global error of a fourth-order method falls 16-fold when the
	// step halves.
	var errs []float64
	for _, steps := range []int64{10, 20, 40} {
		y, err := Rk4(decay, []float64{1}, 0, 1, steps)
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, math.Abs(y[0]-math.Exp(-1)))
	}
	for i := 1; i < len(errs); i++ {
		if r := errs[i-1] / errs[i]; r < 14 || r > 18 {
			t.Errorf("error ratio %.2f (errors %v), want about 16", r, errs)
		}
	}
	if y, err := Rk4(decay, []float64{2}, 0, 1, 0); err != nil || y[0] != 2 {
		t.Errorf("steps = 0: %v, %v; want y0", y, err)
	}
}

func TestSolutions(t *testing.T) {
	cases := []struct {
		name string
		f    func(float64, []float64) []float64
		y0   []float64
		t1   float64
		want []float64
		run  func(f func(float64, []float64) []float64, y0 []float64, t1 float64) ([]float64, error)
		tol  float64
	}{
		{"rk4/oscillator", oscillator, []float64{1, 0}, 10, []float64{math.Cos(10), -math.Sin(10)}, rk4With(1000), 1e-9},
		{"rk4/forced", forced, []float64{0}, 2, []float64{math.Sin(2)}, rk4With(200), 1e-10},
		{"dopri5/oscillator", oscillator, []float64{1, 0}, 10, []float64{math.Cos(10), -math.Sin(10)}, dopri5With(1e-10), 1e-8},
		{"dopri5/loose", oscillator, []float64{1, 0}, 10, []float64{math.Cos(10), -math.Sin(10)}, dopri5With(1e-5), 1e-3},
		{"dopri5/decay", decay, []float64{3}, 5, []float64{3 * math.Exp(-5)}, dopri5With(1e-10), 1e-9},
		{"dopri5/forced", forced, []float64{0}, 2, []float64{math.Sin(2)}, dopri5With(1e-10), 1e-9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y, err := c.run(c.f, c.y0, c.t1)
			if err != nil {
				t.Fatal(err)
			}
			for i := range y {
				if !(math.Abs(y[i]-c.want[i]) <= c.tol) {
					t.Fatalf("y(%g) = %v, want %v within %g", c.t1, y, c.want, c.tol)
				}
			}
		})
	}
}

func rk4With(steps int64) func(func(float64, []float64) []float64, []float64, float64) ([]float64, error) {
	return func(f func(float64, []float64) []float64, y0 []float64, t1 float64) ([]float64, error) {
		return Rk4(f, y0, 0, t1, steps)
	}
}

func dopri5With(rtol float64) func(func(float64, []float64) []float64, []float64, float64) ([]float64, error) {
	return func(f func(float64, []float64) []float64, y0 []float64, t1 float64) ([]float64, error) {
		return Dopri5(f, y0, 0, t1, rtol, rtol/100)
	}
}

// TestBadCallback: a right-hand side of the wrong size is an error.
func TestBadCallback(t *testing.T) {
	bad := func(_ float64, y []float64) []float64 { return append(y, 0) }
	if _, err := Dopri5(bad, []float64{1}, 0, 1, 1e-6, 1e-8); err == nil {
		t.Error("Dopri5 with a bad f: no error")
	}
	if _, err := Rk4(bad, []float64{1}, 0, 1, 3); err == nil {
		t.Error("Rk4 with a bad f: no error")
	}
}

// TestDopri5Failures: a solve that cannot finish is an error naming why.
func TestDopri5Failures(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(float64, []float64) []float64
		t1   float64
		want string
	}{
		{"blow-up", func(t float64, y []float64) []float64 { return []float64{y[0] / (1 - t)} }, 2, "too small"},
		{"not finite", func(t float64, y []float64) []float64 { return []float64{math.NaN()} }, 1, "not finite"},
		{"step limit", func(t float64, y []float64) []float64 { return []float64{math.Cos(1000 * t)} }, 1e6, "100000 steps"},
	} {
		_, err := Dopri5(c.f, []float64{1}, 0, c.t1, 1e-10, 1e-12)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestDopri5AllocsPerCall: a solve's allocations do not depend on its
// number of steps (the solver's buffers are allocated once per call).
func TestDopri5AllocsPerCall(t *testing.T) {
	buf := make([]float64, 2)
	osc := func(_ float64, y []float64) []float64 {
		buf[0], buf[1] = y[1], -y[0]
		return buf
	}
	dst := make([]float64, 2)
	allocs := func(t1 float64) float64 {
		return testing.AllocsPerRun(5, func() {
			if err := Dopri5Into(dst, osc, []float64{1, 0}, 0, t1, 1e-8, 1e-10); err != nil {
				t.Fatal(err)
			}
		})
	}
	if short, long := allocs(10), allocs(1000); short != long {
		t.Errorf("allocations per call: %v for t1 = 10, %v for t1 = 1000 (a hundred times the steps)", short, long)
	}
}
