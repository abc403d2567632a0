// Tests of grad nested several deep (internal/progen.Nested): the values
// of the derivatives, and the size of what AD makes for them, which grew
// as 2^depth defs once calls ran split VJPs (docs/benchmarks.md, "Nested
// derivatives compile again, stop 26").

package tests

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
)

// nestedClosed is the n-th derivative of progen.Nested's d0(x) = sin(x)
// exp(x) + x³: (sin·exp)⁽ⁿ⁾ = 2^(n/2) exp(x) sin(x + nπ/4), and x³'s.
func nestedClosed(n int, x float64) float64 {
	v := math.Pow(2, float64(n)/2) * math.Exp(x) * math.Sin(x+float64(n)*math.Pi/4)
	switch n {
	case 0:
		v += x * x * x
	case 1:
		v += 3 * x * x
	case 2:
		v += 6 * x
	case 3:
		v += 6
	}
	return v
}

// TestNestedGradValues checks grad nested 1 to 6 deep against the closed
// form and against Taylor mode (taylor(d0, x, 1, 6), whose j-th
// coefficient is the j-th derivative over j!), which does not nest.
func TestNestedGradValues(t *testing.T) {
	const depth = 6
	src := progen.Nested(depth) + fmt.Sprintf("def series(x: f64): [%d]f64 = taylor(d0, x, 1.0, %d)\n", depth+1, depth)
	p, err := nabla.Compile("nested.nab", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	series, err := p.Func("series")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, x := range []float64{-1.3, -0.2, 0, 0.7, 1.9} {
		s, err := series.Call(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		coef := s.([]float64)
		fact := 1.0
		for n := 1; n <= depth; n++ {
			fact *= float64(n)
			t.Run(fmt.Sprintf("depth%d/x=%g", n, x), func(t *testing.T) {
				f, err := p.Func(fmt.Sprintf("d%d", n))
				if err != nil {
					t.Fatal(err)
				}
				got, err := f.Call(ctx, x)
				if err != nil {
					t.Fatal(err)
				}
				g := got.(float64)
				want := nestedClosed(n, x)
				tol := 1e-12 * math.Max(1, math.Abs(want)) * float64(n)
				if math.Abs(g-want) > tol {
					t.Errorf("d%d(%g) = %v, closed form %v", n, x, g, want)
				}
				if ty := coef[n] * fact; math.Abs(g-ty) > tol {
					t.Errorf("d%d(%g) = %v, Taylor mode %v", n, x, g, ty)
				}
			})
		}
	}
}

// nestedWork is what AD makes for grad nested n deep: the number of defs
// of the program after the AD stage and their total size in IR nodes.
func nestedWork(t *testing.T, n int) (defs, size int) {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), "gen.nab", []byte(progen.Nested(n)), pipeline.Options{Last: pipeline.AD})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.AD.Defs {
		defs++
		size += ir.Size(d.Body)
	}
	return defs, size
}

// TestNestedGradWork guards the compile cost of grad nested 3 to 7 deep
// without a timer: from one depth to the next, the AD stage's output may
// grow at most growth times in IR nodes and the number of defs at most
// defGrowth times, and the whole pipeline may allocate at most
// allocGrowth times the bytes. On 12-04 the output grew about 2.5 times a
// level; split VJPs made it 10 to 17 times, with twice the defs a level
// (a7562a7: depth 5 took 4 s and depth 6 failed).
func TestNestedGradWork(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles grad nested 7 deep")
	}
	const growth, defGrowth, allocGrowth = 3.5, 1.8, 4.5
	var prevDefs, prevSize int
	var prevAlloc uint64
	for n := 3; n <= 7; n++ {
		defs, size := nestedWork(t, n)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		before := m.TotalAlloc
		if _, err := pipeline.Compile(context.Background(), "gen.nab", []byte(progen.Nested(n)), pipeline.Options{}); err != nil {
			t.Fatalf("depth %d: %v", n, err)
		}
		runtime.ReadMemStats(&m)
		alloc := m.TotalAlloc - before
		t.Logf("depth %d: %d defs, %d nodes after AD, %d bytes allocated by the pipeline", n, defs, size, alloc)
		if n > 3 {
			if r := float64(size) / float64(prevSize); r > growth {
				t.Errorf("depth %d: %.1f times the IR nodes of depth %d (%d, %d)", n, r, n-1, prevSize, size)
			}
			if r := float64(defs) / float64(prevDefs); r > defGrowth {
				t.Errorf("depth %d: %.1f times the defs of depth %d (%d, %d)", n, r, n-1, prevDefs, defs)
			}
			if r := float64(alloc) / float64(prevAlloc); r > allocGrowth {
				t.Errorf("depth %d: %.1f times the bytes of depth %d (%d, %d)", n, r, n-1, prevAlloc, alloc)
			}
		}
		if t.Failed() {
			return // deeper would take minutes
		}
		prevDefs, prevSize, prevAlloc = defs, size, alloc
	}
}
