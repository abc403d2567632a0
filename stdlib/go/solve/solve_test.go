package solve

import (
	"context"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/stdlib/go/internal/stdgen"
)

func TestGeneratedUpToDate(t *testing.T) {
	if err := stdgen.Stale(context.Background(), "solve.nab", "solve", "solve_nabla.go"); err != nil {
		t.Error(err)
	}
}

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol) {
			t.Fatalf("%s = %v\nwant %v", what, got, want)
		}
	}
}

// TestAdmmLasso: with an orthonormal design the lasso's solution is the
// soft threshold of Aᵀb, with a known support.
func TestAdmmLasso(t *testing.T) {
	c, s := math.Cos(0.3), math.Sin(0.3)
	// A rotation of the first two axes stacked over a zero row: AᵀA = I.
	a := [][]float64{{c, -s, 0}, {s, c, 0}, {0, 0, 1}, {0, 0, 0}}
	b := []float64{2, -0.2, 0.5, 7}
	lam := 0.6
	atb := []float64{c*b[0] + s*b[1], -s*b[0] + c*b[1], b[2]}
	want := SoftThreshold(atb, lam)
	near(t, "SoftThreshold", want, []float64{math.Max(atb[0]-lam, 0), -math.Max(-atb[1]-lam, 0), 0}, 1e-15)
	z, err := AdmmLasso(a, b, lam, 1, 300)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AdmmLasso", z, want, 1e-10)
	if z[0] == 0 || z[1] == 0 || z[2] != 0 {
		t.Errorf("support of %v, want {0, 1}", z)
	}
}

// TestExtragradient: the bilinear game min_x max_y (x − 2)·(y − ½), whose
// field F(x, y) = (y − ½, −(x − 2)) plain gradient steps circle away
// from, reaches its equilibrium (2, ½) by extragradient.
func TestExtragradient(t *testing.T) {
	calls := 0
	op := func(z []float64) []float64 { calls++; return []float64{z[1] - 0.5, -(z[0] - 2)} }
	z, err := Extragradient(op, []float64{1, 1}, 0.5, 200)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "z", z, []float64{2, 0.5}, 1e-9)
	if calls < 400 {
		t.Errorf("%d calls of op for 200 steps, want at least 2 per step", calls)
	}
}

// TestSinkhorn: the 2×2 plan for C = [[0, 1], [1, 0]] and uniform
// marginals is P = [[p, ½ − p], [½ − p, p]] with p = 1/(2(1 + e^(−1/eps))).
func TestSinkhorn(t *testing.T) {
	for _, eps := range []float64{1, 0.2} {
		p, err := Sinkhorn([][]float64{{0, 1}, {1, 0}}, []float64{0.5, 0.5}, []float64{0.5, 0.5}, eps, 50)
		if err != nil {
			t.Fatal(err)
		}
		d := 1 / (2 * (1 + math.Exp(-1/eps)))
		near(t, "P[0]", p[0], []float64{d, 0.5 - d}, 1e-12)
		near(t, "P[1]", p[1], []float64{0.5 - d, d}, 1e-12)
	}
}

// TestComplete recovers a planted rank-2 matrix from 70 % of its entries.
func TestComplete(t *testing.T) {
	const m, n = 9, 7
	full := make([][]float64, m)
	mm := make([][]float64, m)
	mask := make([][]float64, m)
	for i := range full {
		full[i] = make([]float64, n)
		mm[i] = make([]float64, n)
		mask[i] = make([]float64, n)
		for j := range full[i] {
			full[i][j] = math.Sin(float64(i+1))*float64(j-3) + float64(i%3)*math.Cos(float64(j))
			if (3*i+5*j)%10 < 7 {
				mask[i][j] = 1
				mm[i][j] = full[i][j]
			} else {
				mm[i][j] = 1e9 // ignored where mask is 0
			}
		}
	}
	got, err := Complete(mm, mask, 2, 200)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		near(t, "row", got[i], full[i], 1e-6)
	}
}
