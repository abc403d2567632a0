package runtime

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDopri5Solutions(t *testing.T) {
	decay := func(t float64, y []float64) ([]float64, error) { return []float64{-0.8 * y[0]}, nil }
	// The oscillator returns one buffer it reuses: Dopri5 must copy it.
	buf := make([]float64, 2)
	osc := func(t float64, y []float64) ([]float64, error) {
		buf[0], buf[1] = y[1], -y[0]
		return buf, nil
	}
	for _, c := range []struct {
		name   string
		f      func(float64, []float64) ([]float64, error)
		y0     []float64
		t0, t1 float64
		rtol   float64
		want   []float64
	}{
		{"decay", decay, []float64{1.5}, 0, 2, 1e-10, []float64{1.5 * math.Exp(-1.6)}},
		{"decay backward", decay, []float64{1.5 * math.Exp(-1.6)}, 2, 0, 1e-10, []float64{1.5}},
		{"oscillator", osc, []float64{1, 0}, 0, 10, 1e-10, []float64{math.Cos(10), -math.Sin(10)}},
		{"oscillator loose", osc, []float64{1, 0}, 0, 10, 1e-5, []float64{math.Cos(10), -math.Sin(10)}},
		{"empty span", decay, []float64{3}, 1, 1, 1e-8, []float64{3}},
		{"empty state", decay, []float64{}, 0, 1, 1e-8, []float64{}},
	} {
		var its []int64
		y, err := Dopri5(c.f, c.y0, c.t0, c.t1, c.rtol, c.rtol/100, func(it int64, t, e, h float64) { its = append(its, it) })
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(y) != len(c.want) {
			t.Fatalf("%s: %d values, want %d", c.name, len(y), len(c.want))
		}
		for i := range y {
			if math.Abs(y[i]-c.want[i]) > 100*c.rtol*math.Max(1, math.Abs(c.want[i])) {
				t.Errorf("%s: y = %v, want %v", c.name, y, c.want)
				break
			}
		}
		for i, it := range its {
			if it != int64(i+1) {
				t.Errorf("%s: report %d numbered %d", c.name, i, it)
				break
			}
		}
		if len(c.y0) > 0 && &y[0] == &c.y0[0] {
			t.Errorf("%s: the result is y0's storage", c.name)
		}
	}
}

func TestDopri5Errors(t *testing.T) {
	fErr := errors.New("from f")
	ok := func(t float64, y []float64) ([]float64, error) { return []float64{-y[0]}, nil }
	for _, c := range []struct {
		name           string
		f              func(float64, []float64) ([]float64, error)
		t1, rtol, atol float64
		want           string
		wantIs         error
	}{
		{"negative rtol", ok, 1, -1, 1e-8, "tolerances must be non-negative", nil},
		{"NaN atol", ok, 1, 1e-8, math.NaN(), "tolerances must be non-negative", nil},
		{"both zero", ok, 1, 0, 0, "must not both be 0", nil},
		{"infinite t1", ok, math.Inf(1), 1e-8, 1e-10, "times must be finite", nil},
		{"f fails", func(float64, []float64) ([]float64, error) { return nil, fErr }, 1, 1e-8, 1e-10, "", fErr},
		{"short result", func(float64, []float64) ([]float64, error) { return []float64{}, nil }, 1, 1e-8, 1e-10, "f returned 0 values for 1", nil},
		{"blow-up", func(t float64, y []float64) ([]float64, error) { return []float64{y[0] / (1 - t)}, nil }, 2, 1e-8, 1e-10, "too small", nil},
		{"NaN", func(t float64, y []float64) ([]float64, error) { return []float64{math.NaN()}, nil }, 1, 1e-8, 1e-10, "f is not finite near t0", nil},
		{"NaN later", func(t float64, y []float64) ([]float64, error) { return []float64{math.Log(0.5 - t)}, nil }, 1, 1e-8, 1e-10, "is NaN at t", nil},
		{"step limit", func(t float64, y []float64) ([]float64, error) { return []float64{math.Cos(1000 * t)}, nil }, 1e6, 1e-10, 1e-12, "100000 steps", nil},
	} {
		_, err := Dopri5(c.f, []float64{1}, 0, c.t1, c.rtol, c.atol, nil)
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.name)
		case c.wantIs != nil && !errors.Is(err, c.wantIs):
			t.Errorf("%s: error %v, want %v", c.name, err, c.wantIs)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %q, want one containing %q", c.name, err, c.want)
		}
	}
}
