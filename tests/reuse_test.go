package tests

import (
	"context"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

// descentSrc is gradient descent on least squares: every step makes
// arrays of the same shapes (the residual, the gradient, the cotangents
// of the closed-over data, the next iterate).
const descentSrc = `
def loss(w: [n]f64, x: [m][n]f64, y: [m]f64): f64 = sum((x @ w - y)^2)
def descend(w0: [n]f64, x: [m][n]f64, y: [m]f64, steps: i64): [n]f64 =
  loop w = w0 for t < steps do w - 0.001 * grad(fn(v) => loss(v, x, y))(w)
`

// TestDescentAllocatesO1PerStep checks buffer reuse with the runtime's
// allocation counters (not timers): once warm, a gradient-descent step on
// fixed-shape data allocates a few small objects (tuples, frames' shapes)
// and none of its arrays, so the bytes per step neither depend on the
// problem's size nor come near one array's size.
func TestDescentAllocatesO1PerStep(t *testing.T) {
	p, err := nabla.Compile("descent.nab", []byte(descentSrc))
	if err != nil {
		t.Fatal(err)
	}
	f := fn(t, p, "descend")
	perStep := func(m, n int) float64 {
		rng := rand.New(rand.NewPCG(uint64(m), uint64(n)))
		x := make([]float64, m*n)
		for i := range x {
			x[i] = rng.Float64() - 0.5
		}
		y := make([]float64, m)
		for i := range y {
			y[i] = rng.Float64()
		}
		args := func(steps int64) []runtime.Value {
			return []runtime.Value{runtime.Arr(runtime.FromF64(make([]float64, n))),
				runtime.Arr(&runtime.Array{Shape: []int{m, n}, Kind: runtime.ElemF64, F: x}),
				runtime.Arr(runtime.FromF64(y)), runtime.I64(steps)}
		}
		bytes := func(steps int64) float64 {
			a := args(steps)
			var before, after goruntime.MemStats
			goruntime.GC()
			goruntime.ReadMemStats(&before)
			v, err := f.CallValues(context.Background(), a)
			goruntime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range v.Array().F {
				if math.IsNaN(w) {
					t.Fatal("descent diverged")
				}
			}
			return float64(after.TotalAlloc - before.TotalAlloc)
		}
		bytes(2) // warm the interpreter's pools
		return (bytes(400) - bytes(200)) / 200
	}
	small, large := perStep(50, 40), perStep(200, 160)
	t.Logf("bytes per step: %.0f (m=50, n=40), %.0f (m=200, n=160)", small, large)
	// One array of the large problem is 200*160*8 = 256000 bytes (the
	// data's cotangent), the smallest 160*8; a step without reuse makes
	// several of each.
	if large > 1024 {
		t.Errorf("a step allocates %.0f bytes for m=200, n=160: arrays are not reused", large)
	}
	if large > small+256 {
		t.Errorf("bytes per step grow with the problem: %.0f for m=50, n=40, %.0f for m=200, n=160", small, large)
	}
}
