package tests

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gmmCases are the three ADBench instance sizes of the benchmarks.
var gmmCases = []struct {
	name    string
	d, k, n int
}{
	{"gmm_1k_d2_K5", 2, 5, 1000},
	{"gmm_1k_d10_K5", 10, 5, 1000},
	{"gmm_10k_d2_K5", 2, 5, 10000},
}

// TestGMMObjective compares testdata/gmm.nab with the README's formula
// computed directly in Go, on the ADBench instances (or random ones of the
// same sizes when the data directory is missing) and on random instances
// with a non-zero Wishart m.
func TestGMMObjective(t *testing.T) {
	prog := compile(t, "gmm.nab", readTestdata(t, "gmm.nab"))
	f := fn(t, prog, "gmm")
	check := func(g *gmmInstance) {
		t.Helper()
		got := call(t, f, g.args()...).(float64)
		want := gmmObjective(g.alphas, g.means, g.icf, g.x, g.gamma, g.m)
		if math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%s: gmm = %.17g, Go reference %.17g", g.name, got, want)
		}
	}
	for _, c := range gmmCases {
		if testing.Short() && c.n > 1000 {
			continue
		}
		g, how := loadGMM(c.name, c.d, c.k, c.n)
		t.Logf("%s: %s", c.name, how)
		check(g)
	}
	rng := rand.New(rand.NewPCG(11, 11))
	for _, d := range []int{1, 3, 7} {
		g := randomGMM(rng, d, 4, 30)
		g.gamma, g.m = 0.7, 3
		check(g)
	}
}

// TestGMMGradient checks gmm_grad, the gradient with respect to (alphas,
// means, icf), against central differences of the Go reference, on small
// random instances in full and on the ADBench 1k instance along random
// directions.
func TestGMMGradient(t *testing.T) {
	prog := compile(t, "gmm.nab", readTestdata(t, "gmm.nab"))
	gr := fn(t, prog, "gmm_grad")
	rng := rand.New(rand.NewPCG(5, 5))
	params := func(g *gmmInstance) []any { return []any{g.alphas, g.means, g.icf} }
	objective := func(g *gmmInstance) func(x []float64) float64 {
		return func(x []float64) float64 {
			p := shaped(params(g), x, false).([]any)
			return gmmObjective(p[0].([]float64), p[1].([][]float64), p[2].([][]float64), g.x, g.gamma, g.m)
		}
	}
	for _, d := range []int{1, 2, 3, 4} {
		g := randomGMM(rng, d, 3, 7)
		g.gamma, g.m = 1.3, 2
		got := flat(call(t, gr, g.args()...))
		want := fdGradient(objective(g), flat(params(g)), central4.Step)
		checkClose(t, g.name, got, want, fdTol)
	}
	g, how := loadGMM("gmm_1k_d2_K5", 2, 5, 1000)
	t.Logf("gmm_1k_d2_K5: %s", how)
	got := flat(call(t, gr, g.args()...))
	x0 := flat(params(g))
	obj := objective(g)
	for k := range 4 {
		v := make([]float64, len(x0))
		for i := range v {
			v[i] = 2*rng.Float64() - 1
		}
		col := fdJacobian(1, func(out, s []float64) {
			x := append([]float64(nil), x0...)
			for i := range x {
				x[i] += s[0] * v[i]
			}
			out[0] = obj(x)
		}, []float64{0}, central4.Step)
		checkClose(t, g.name+": directional derivative "+string(rune('0'+k)), []float64{dot(got, v)}, []float64{col[0]}, fdTol)
	}
}
