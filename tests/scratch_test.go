package tests

import (
	"context"
	"testing"
	"time"
	"math/rand/v2"

	"github.com/nabla-lang/nabla"
)

func TestScratch(t *testing.T) {
	src := `
def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def drosen(x: [n]f64) = grad(rosen)(x)
`
	p, err := nabla.Compile("s.nab", []byte(src))
	if err != nil { t.Fatal(err) }
	f, _ := p.Func("rosen")
	g, _ := p.Func("drosen")
	for _, n := range []int{100, 1000, 10000, 100000} {
		x := make([]float64, n)
		for i := range x { x[i] = rand.Float64() }
		ctx := context.Background()
		tm := func(fn *nabla.Func) time.Duration {
			best := time.Hour
			for k := 0; k < 5; k++ {
				s := time.Now()
				fn.Call(ctx, x)
				if d := time.Since(s); d < best { best = d }
			}
			return best
		}
		tf, tg := tm(f), tm(g)
		t.Logf("n=%d f=%v g=%v ratio=%.2f", n, tf, tg, float64(tg)/float64(tf))
	}
}
