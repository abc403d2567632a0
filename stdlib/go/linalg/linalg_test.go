package linalg

import (
	"context"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/nabla-lang/nabla/stdlib/go/internal/stdgen"
)

func TestGeneratedUpToDate(t *testing.T) {
	if err := stdgen.Stale(context.Background(), "linalg.nab", "linalg", "linalg_nabla.go"); err != nil {
		t.Error(err)
	}
}

// laplacian is the n×n matrix of −u″ on a uniform grid: 2 on the
// diagonal, −1 beside it (symmetric positive definite).
func laplacian(n int) [][]float64 {
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n)
		a[i][i] = 2
		if i > 0 {
			a[i][i-1] = -1
		}
		if i+1 < n {
			a[i][i+1] = -1
		}
	}
	return a
}

func matvecOf(a [][]float64) func([]float64) []float64 {
	return func(v []float64) []float64 {
		out := make([]float64, len(a))
		for i, row := range a {
			for j, x := range row {
				out[i] += x * v[j]
			}
		}
		return out
	}
}

// gonumSolve is the reference solution of A·x = b.
func gonumSolve(t *testing.T, a [][]float64, b []float64) []float64 {
	n := len(a)
	am := mat.NewDense(n, n, nil)
	for i := range a {
		am.SetRow(i, a[i])
	}
	var x mat.VecDense
	if err := x.SolveVec(am, mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
		t.Fatal(err)
	}
	return x.RawVector().Data
}

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s = %v\nwant %v", what, got, want)
		}
	}
}

func TestSolvers(t *testing.T) {
	// A zero leading entry: elimination without pivoting would divide by 0.
	pivot := [][]float64{{0, 2, 1}, {1, 1, 1}, {3, -1, 2}}
	spd := laplacian(30)
	b3 := []float64{1, 2, 3}
	b30 := make([]float64, 30)
	for i := range b30 {
		b30[i] = math.Sin(float64(i))
	}
	jacobi := func(r []float64) []float64 {
		z := make([]float64, len(r))
		for i := range r {
			z[i] = r[i] / spd[i][i]
		}
		return z
	}
	cases := []struct {
		name string
		a    [][]float64
		b    []float64
		tol  float64
		run  func(a [][]float64, b []float64) ([]float64, error)
	}{
		{"Solve", pivot, b3, 1e-14, Solve},
		{"SolveSPD", spd, b30, 1e-12, Solve},
		{"ChoSolve", spd, b30, 1e-12, func(a [][]float64, b []float64) ([]float64, error) {
			l, err := Cholesky(a)
			if err != nil {
				return nil, err
			}
			return ChoSolve(l, b)
		}},
		{"Cg", spd, b30, 1e-9, func(a [][]float64, b []float64) ([]float64, error) {
			return Cg(matvecOf(a), b, make([]float64, len(b)), 1e-12, 100)
		}},
		{"Pcg", spd, b30, 1e-9, func(a [][]float64, b []float64) ([]float64, error) {
			return Pcg(matvecOf(a), jacobi, b, make([]float64, len(b)), 1e-12, 100)
		}},
		{"Sor", laplacian(8), []float64{1, 0, 0, 0, 0, 0, 0, 1}, 1e-9, func(a [][]float64, b []float64) ([]float64, error) { return Sor(a, b, 1.5, 500) }},
		{"SorAuto", spd, b30, 1e-9, func(a [][]float64, b []float64) ([]float64, error) { return SorAuto(a, b, 300) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := c.run(c.a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "x", x, gonumSolve(t, c.a, c.b), c.tol)
		})
	}
}

// TestCholesky: L·Lᵀ = A for a positive definite A; NaN otherwise.
func TestCholesky(t *testing.T) {
	a := [][]float64{{4, 2, 0.4}, {2, 5, 1}, {0.4, 1, 3}}
	l, err := Cholesky(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for j := range a {
			s := 0.0
			for k := range a {
				s += l[i][k] * l[j][k]
			}
			if math.Abs(s-a[i][j]) > 1e-14 || (j > i && l[i][j] != 0) {
				t.Fatalf("L = %v is not A's lower Cholesky factor", l)
			}
		}
	}
	l, err = Cholesky([][]float64{{1, 2}, {2, 1}})
	if err != nil || !math.IsNaN(l[0][0]) {
		t.Errorf("Cholesky of an indefinite matrix = %v, %v; want NaN", l, err)
	}
}

// TestErrors: bad Go arguments and callbacks are errors, not panics.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"ragged", func() error { _, err := Solve([][]float64{{1, 2}, {3}}, []float64{1, 2}); return err }, "not rectangular"},
		{"size", func() error { _, err := Solve([][]float64{{1, 0}, {0, 1}}, []float64{1, 2, 3}); return err }, "size"},
		{"callback", func() error {
			_, err := Cg(func(v []float64) []float64 { return v[:1] }, []float64{1, 2}, []float64{0, 0}, 1e-10, 10)
			return err
		}, "matvec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}
