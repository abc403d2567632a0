package interp

import (
	"math"
	goruntime "runtime"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestTapeTupleHeaders: the tuples of a tape built with an arena carry
// headers carved from it (tupleValue). They are tuples to every reader
// (a type assertion, fields, the general code's values bit for bit),
// survive collections while the tape lives, and cost no allocation each.
func TestTapeTupleHeaders(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	// def tape(x: [?]f64, k: i64) = [ (x[j % len(x)] * 2, [x[c] + f64(j) for c < len(x)], (f64(j), -0.0)) for j < k ]
	def := b.Def("tape", []string{"x", "k"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
		x := v[0]
		return build(&b, v[1], func(j *ir.Var) ir.Expr {
			row := build(&b, p(ir.PrimLen, x), func(c *ir.Var) ir.Expr {
				return p(ir.PrimAdd, p(ir.PrimIndex, x, c), p(ir.PrimToF64, j))
			})
			first := p(ir.PrimMul, p(ir.PrimIndex, x, p(ir.PrimMod, j, p(ir.PrimLen, x))), b.F64(2))
			return b.Tuple(first, row, b.Tuple(p(ir.PrimToF64, j), b.F64(math.Copysign(0, -1))))
		})
	})
	plain, special := newPlainAndSpecial(t, def)
	x := f64s(1.5, math.Copysign(0, -1), -2, 1e-300)
	for _, k := range []int64{0, 1, 7, 300} {
		got, want := call(t, special, "tape", x, runtime.I64(k)), call(t, plain, "tape", x, runtime.I64(k))
		goruntime.GC()
		goruntime.GC()
		if !valueBits(got, want) {
			t.Fatalf("k=%d: %s, the general code gives %s", k, show(got), show(want))
		}
		a := got.R.(*runtime.Array)
		for j, e := range a.Box {
			tu, ok := e.R.(runtime.Tuple)
			if !ok || len(tu) != 3 {
				t.Fatalf("k=%d: element %d is %s, want a tuple of 3", k, j, show(e))
			}
			if in, ok := tu[2].R.(runtime.Tuple); !ok || in[0].F != float64(j) {
				t.Fatalf("k=%d: element %d's inner tuple is %s", k, j, show(tu[2]))
			}
		}
	}
	allocs := func(it *Interp, k int64) float64 {
		return testing.AllocsPerRun(20, func() { call(t, it, "tape", x, runtime.I64(k)) })
	}
	s40, s80, g40, g80 := allocs(special, 40), allocs(special, 80), allocs(plain, 40), allocs(plain, 80)
	t.Logf("allocations per element: %.2f (arena), %.2f (general code)", (s80-s40)/40, (g80-g40)/40)
	if (s80-s40)/40 >= 1 || (g80-g40)/40 < 2 {
		t.Errorf("allocations per element: %.2f with the arena (want under 1), %.2f in the general code", (s80-s40)/40, (g80-g40)/40)
	}
}
