package interp

import (
	"context"
	"errors"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestAccAddPadFused checks acc_add(acc, pad_like(e, lo, like)) and
// acc_add_at(acc, i, pad_like(e, lo, like)) with e an elementwise chain,
// added into the accumulator piece by piece (compileAccAddFused with a
// pad), against the same with e bound by a let (compileAccAddPad): results
// to the bit, a chain that reads the elements it adds to, rows longer than
// a piece, steps, and the chain's, pad_like's and the accumulator's errors
// at their own positions.
func TestAccAddPadFused(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	m := vec(vec(F))
	// Each def's accumulation is on line 1, its pad_like on line 2, its
	// chain on line 3.
	var defs []*ir.Def
	for _, let := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "_ref"}[let]
		wrap := func(chain func(v []*ir.Var) ir.Expr, add func(v []*ir.Var, pad ir.Expr) ir.Expr) func(v []*ir.Var) ir.Expr {
			return func(v []*ir.Var) ir.Expr {
				at(&b, 3)
				e := chain(v)
				n := len(v)
				mk := func(x ir.Expr) ir.Expr {
					at(&b, 2)
					pad := p(ir.PrimPadLike, x, v[n-2], v[n-1])
					at(&b, 1)
					return add(v, pad)
				}
				if let {
					at(&b, 3)
					return b.Let("e", e, func(x *ir.Var) ir.Expr { return mk(x) })
				}
				return mk(e)
			}
		}
		add := func(v []*ir.Var, pad ir.Expr) ir.Expr { return p(ir.PrimAccAdd, v[0], pad) }
		addAt := func(v []*ir.Var, pad ir.Expr) ir.Expr { return p(ir.PrimAccAddAt, v[0], v[1], pad) }
		mul := func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[1], v[2]) }
		chainAt := func(v []*ir.Var) ir.Expr { return p(ir.PrimAdd, p(ir.PrimMul, v[2], v[3]), v[3]) }
		// 2.0 * acc[0:hi]: the chain reads the elements it adds to.
		self := func(v []*ir.Var) ir.Expr {
			return p(ir.PrimMul, b.F64(2), b.PrimAux(ir.PrimSlice, ir.Unknown, v[0], b.I64(0), v[1]))
		}
		mk := func(name string, names []string, types []ir.Type, body func(v []*ir.Var) ir.Expr) {
			at(&b, 1)
			defs = append(defs, b.Def(name+suffix, names, types, body))
		}
		mk("mul", []string{"a", "x", "y", "lo", "like"}, []ir.Type{vec(F), vec(F), vec(F), I, vec(F)}, wrap(mul, add))
		mk("rows", []string{"a", "x", "y", "lo", "like"}, []ir.Type{m, m, m, I, m}, wrap(mul, add))
		mk("at", []string{"a", "i", "x", "y", "lo", "like"}, []ir.Type{m, I, vec(F), vec(F), I, vec(F)}, wrap(chainAt, addAt))
		mk("self", []string{"a", "hi", "lo", "like"}, []ir.Type{vec(F), I, I, vec(F)}, wrap(self, add))
	}
	it := mustNew(t, defs...)
	long := func(n int) runtime.Value {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i%7) - 3
		}
		return f64s(xs...)
	}
	ok := []struct {
		name string
		def  string
		args func() []runtime.Value
	}{
		{"vector", "mul", func() []runtime.Value {
			return []runtime.Value{f64s(1, 1, 1, 1, 1), f64s(2, 3), f64s(0.5, -0.25), runtime.I64(1), f64s(0, 0, 0, 0, 0)}
		}},
		{"empty", "mul", func() []runtime.Value {
			return []runtime.Value{f64s(1, 1), f64s(), f64s(), runtime.I64(2), f64s(0, 0)}
		}},
		{"rows", "rows", func() []runtime.Value {
			return []runtime.Value{mat(3, 2, 1, 1, 1, 1, 1, 1), mat(1, 2, 5, 6), mat(1, 2, 0.1, 0.3), runtime.I64(2), mat(3, 2, 0, 0, 0, 0, 0, 0)}
		}},
		{"row of acc", "at", func() []runtime.Value {
			return []runtime.Value{mat(2, 4, 1, 2, 3, 4, 5, 6, 7, 8), runtime.I64(1), f64s(7, 8), f64s(0.1, 0.7), runtime.I64(2), f64s(0, 0, 0, 0)}
		}},
		{"reads the accumulator", "self", func() []runtime.Value {
			return []runtime.Value{f64s(1, 2, 3), runtime.I64(2), runtime.I64(1), f64s(0, 0, 0)}
		}},
		{"several pieces", "self", func() []runtime.Value {
			n := 3*runtime.SumPiece + 5
			return []runtime.Value{long(n), runtime.I64(int64(n - 1)), runtime.I64(1), long(n)}
		}},
	}
	for _, c := range ok {
		matchesRef(t, it, c.name, c.def, c.def+"_ref", c.args)
	}
	bad := []errCase{
		{"chain shapes first", "at", []runtime.Value{mat(1, 2, 0, 0), runtime.I64(5), f64s(1, 2, 3), f64s(1, 2), runtime.I64(0), f64s(0, 0)}, 3, "shape mismatch"},
		{"rows out of range", "mul", []runtime.Value{f64s(0, 0, 0), f64s(1, 2), f64s(1, 2), runtime.I64(2), f64s(0, 0, 0)}, 2, "pad_like: rows [2:4] out of range for length 3"},
		{"negative lo", "mul", []runtime.Value{f64s(0, 0, 0), f64s(1), f64s(1), runtime.I64(-1), f64s(0, 0, 0)}, 2, "pad_like: rows [-1:0] out of range for length 3"},
		{"row shapes", "rows", []runtime.Value{mat(2, 2, 0, 0, 0, 0), mat(1, 3, 1, 2, 3), mat(1, 3, 1, 2, 3), runtime.I64(0), mat(2, 2, 0, 0, 0, 0)}, 2, "pad_like: rows have shapes [3] and [2]"},
		{"acc shape", "mul", []runtime.Value{f64s(0, 0), f64s(1), f64s(1), runtime.I64(0), f64s(0, 0, 0)}, 1, "acc_add: shapes [2] and [3] differ"},
		{"index", "at", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(2), f64s(1), f64s(1), runtime.I64(0), f64s(0, 0)}, 1, "index 2 out of range [0, 2)"},
		{"row shape", "at", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(1), f64s(1), runtime.I64(0), f64s(0, 0, 0)}, 1, "acc_add_at: row shapes [2] and [3] differ"},
		{"slice in the chain", "self", []runtime.Value{f64s(0, 0), runtime.I64(3), runtime.I64(0), f64s(0, 0)}, 3, "out of range"},
	}
	checkErrs(t, it, bad)
	for i := range bad { // the primitives fail alike
		bad[i].def += "_ref"
	}
	checkErrs(t, it, bad)
	// Steps run out in the chain or at the add, as with the primitives.
	sameStepLimits(t, it, "mul", []int64{1, 2, 3, 4}, func() []runtime.Value {
		return []runtime.Value{f64s(1, 2, 3), f64s(1, 2), f64s(1, 2), runtime.I64(1), f64s(0, 0, 0)}
	})
}

// sameStepLimits checks that def and def+"_ref" run out of steps alike
// under each limit: both or neither, at the same position.
func sameStepLimits(t *testing.T, it *Interp, def string, lims []int64, args func() []runtime.Value) {
	t.Helper()
	for _, lim := range lims {
		_, err := it.Call(context.Background(), def, args(), runtime.Limits{Steps: lim})
		_, errRef := it.Call(context.Background(), def+"_ref", args(), runtime.Limits{Steps: lim})
		var e, eRef *ir.Error
		if (err == nil) != (errRef == nil) || err != nil && (!errors.Is(err, runtime.ErrStepLimit) || !errors.As(err, &e) || !errors.As(errRef, &eRef) || e.Pos != eRef.Pos) {
			t.Errorf("%s, %d steps: %v, the primitives: %v", def, lim, err, errRef)
		}
	}
}
