package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

// steps returns the number of evaluation steps (loop iterations, calls
// and array elements processed, as counted for nabla.WithLimits) of one
// call of def name, found by bisection on the step limit.
func steps(t *testing.T, src []byte, name string, args ...any) int64 {
	t.Helper()
	ok := func(limit int64) bool {
		p, err := nabla.Compile("steps.nab", src, nabla.WithLimits(limit, 0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = fn(t, p, name).Call(context.Background(), args...)
		if err != nil && !errors.Is(err, runtime.ErrStepLimit) {
			t.Fatal(err)
		}
		return err == nil
	}
	hi := int64(1024)
	for !ok(hi) {
		hi *= 4
	}
	lo := hi / 4 // fails, or is 256 < any real count
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// TestCheapGradientSteps checks the cheap-gradient property (SPEC §6)
// without timing: the interpreter's step count of grad(f) is at most 5
// times that of f (SPEC's bound; tighter per program, at what reverse mode
// achieves now that comprehensions save their forward values and sums'
// cotangents stay numbers: 1.6 for Rosenbrock, 3.1 for the GMM), and the
// ratio stays flat while the size grows 100-fold.
// A reverse pass that touched a whole array per element read (O(n²))
// would fail it at once. cmd/nablabench measures the same in time.
func TestCheapGradientSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("bisects step limits (a few seconds)")
	}
	rosen := []byte(rosenbrockSrc)
	gmm := readTestdata(t, "gmm.nab")
	type point struct {
		size   string
		ratio  float64
		fs, gs int64
	}
	check := func(name string, bound float64, pts []point) {
		lo, hi := pts[0].ratio, pts[0].ratio
		for _, p := range pts {
			t.Logf("%s %s: f %d steps, grad %d steps, ratio %.2f", name, p.size, p.fs, p.gs, p.ratio)
			if p.ratio > bound {
				t.Errorf("%s %s: grad takes %.2f times the steps of f (> %g)", name, p.size, p.ratio, bound)
			}
			lo, hi = min(lo, p.ratio), max(hi, p.ratio)
		}
		if hi > 1.5*lo {
			t.Errorf("%s: the step ratio grad/f varies from %.2f to %.2f across sizes", name, lo, hi)
		}
	}
	var pts []point
	for _, n := range []int{100, 1000, 10000} {
		rng := rand.New(rand.NewPCG(2, uint64(n)))
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		fs, gs := steps(t, rosen, "rosen", x), steps(t, rosen, "rosen_grad", x)
		pts = append(pts, point{fmt.Sprintf("n=%d", n), float64(gs) / float64(fs), fs, gs})
	}
	check("rosenbrock", 1.6, pts)
	pts = nil
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{20, 200, 2000} {
		g := randomGMM(rng, 2, 5, n)
		fs, gs := steps(t, gmm, "gmm", g.args()...), steps(t, gmm, "gmm_grad", g.args()...)
		pts = append(pts, point{fmt.Sprintf("n=%d d=2 K=5", n), float64(gs) / float64(fs), fs, gs})
	}
	// 3.1: the reverse pass recomputes x[i] - mu[k] and its product
	// instead of saving them (ad/vjp_again.go), a step per element.
	check("gmm", 3.1, pts)
}
