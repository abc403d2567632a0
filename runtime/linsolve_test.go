package runtime_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// dense is the matvec of a row-major n×n matrix.
func dense(a []float64, n int) func(v []float64) ([]float64, error) {
	return func(v []float64) ([]float64, error) {
		y := make([]float64, n)
		runtime.MatVec(y, a, v, n, n)
		return y, nil
	}
}

func residual(a, x, b []float64) float64 {
	n := len(b)
	ax := make([]float64, n)
	runtime.MatVec(ax, a, x, n, n)
	runtime.SubTo(ax, b, ax)
	return runtime.Norm2(ax) / math.Max(runtime.Norm2(b), 1e-300)
}

func TestGMRES(t *testing.T) {
	rng := newRand()
	random := func(n int, diag float64) []float64 {
		a := randVec(rng, n*n)
		for i := 0; i < n; i++ {
			a[i*n+i] += diag
		}
		return a
	}
	for _, c := range []struct {
		name    string
		a       []float64
		restart int
	}{
		{"1×1", []float64{4}, 30},
		{"identity", []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, 30},
		{"nonsymmetric", []float64{4, 1, 0.5, -1, 3, 0.2, 0.5, -2, 2}, 30},
		{"random, restarts every 5", random(40, 30), 5},
		{"random, no restart", random(60, 40), 100},
	} {
		n := int(math.Sqrt(float64(len(c.a))))
		b := randVec(rng, n)
		x, err := runtime.GMRES(dense(c.a, n), b, 1e-13, c.restart, 20*n+100)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if r := residual(c.a, x, b); r > 1e-11 {
			t.Errorf("%s: relative residual %g", c.name, r)
		}
	}

	// b = 0 and n = 0 need no product.
	never := func([]float64) ([]float64, error) { t.Fatal("matvec called"); return nil, nil }
	if x, err := runtime.GMRES(never, []float64{0, 0}, 1e-13, 30, 100); err != nil || len(x) != 2 || x[0] != 0 || x[1] != 0 {
		t.Errorf("b = 0: %v, %v", x, err)
	}
	if x, err := runtime.GMRES(never, nil, 1e-13, 30, 100); err != nil || len(x) != 0 {
		t.Errorf("n = 0: %v, %v", x, err)
	}

	// Failures.
	zero := func(v []float64) ([]float64, error) { return make([]float64, len(v)), nil }
	if _, err := runtime.GMRES(zero, []float64{1, 2}, 1e-13, 30, 100); errString(err) != "linsolve: the linear system is singular" {
		t.Errorf("singular: %v", err)
	}
	rot := []float64{0, -1, 1, 0} // GMRES stalls on a rotation with one step per restart
	_, err := runtime.GMRES(dense(rot, 2), []float64{1, 0}, 1e-13, 1, 10)
	if err == nil || !strings.HasPrefix(err.Error(), "linsolve: GMRES did not converge in 10 products (relative residual ") {
		t.Errorf("no convergence: %v", err)
	}
	errMV := errors.New("matvec failed")
	failing := func([]float64) ([]float64, error) { return nil, errMV }
	if _, err := runtime.GMRES(failing, []float64{1}, 1e-13, 30, 100); err != errMV {
		t.Errorf("matvec's error: %v", err)
	}
	nanMV := func(v []float64) ([]float64, error) { return []float64{math.NaN()}, nil }
	if _, err := runtime.GMRES(nanMV, []float64{1}, 1e-13, 30, 100); err == nil {
		t.Error("a NaN product: no error")
	}
}
