package interp

import (
	"context"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestBroadcastReadsInside: a broadcast let's c[j] read inside a closure,
// an inlined build or a loop (the rewritten read names slots of the
// let's frame) gives the general code's values, steps and errors, for
// tape rows in and out of range and indexes past c's end.
func TestBroadcastReadsInside(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	mk := func(name string, mode int) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"m", "s", "n", "q"}, []ir.Type{mat, vec(F), I, I}, func(v []*ir.Var) ir.Expr {
			m, s, n, q := v[0], v[1], v[2], v[3]
			tp := build(&b, p(ir.PrimLen, s), func(j *ir.Var) ir.Expr {
				return b.Tuple(p(ir.PrimIndex, s, j), p(ir.PrimIndex, m, j), p(ir.PrimToF64, j))
			})
			return b.Let("tp", tp, func(tp *ir.Var) ir.Expr {
				f := b.Proj(p(ir.PrimIndex, tp, n), 1)
				cv := p(ir.PrimAccAdd, p(ir.PrimZerosLike, f), p(ir.PrimMul, p(ir.PrimIndex, s, b.I64(0)), b.F64(-0.5)))
				return b.Let("c", cv, func(c *ir.Var) ir.Expr {
					switch mode {
					case 0: // a closure reads c
						lam := b.Lambda([]string{"j"}, []ir.Type{I}, func(w []*ir.Var) ir.Expr { return p(ir.PrimIndex, c, w[0]) })
						return b.Let("g", lam, func(g *ir.Var) ir.Expr {
							return p(ir.PrimAdd, b.Call(g, b.I64(0)), b.Call(g, q))
						})
					case 1: // a build reads c
						return p(ir.PrimSum, build(&b, q, func(j *ir.Var) ir.Expr { return p(ir.PrimMul, p(ir.PrimIndex, c, j), p(ir.PrimToF64, j)) }))
					default: // a loop reads c, and the tape after
						return b.For("st", b.F64(0), "i", q, func(st, i *ir.Var) ir.Expr {
							return p(ir.PrimAdd, st, p(ir.PrimIndex, c, i))
						})
					}
				})
			})
		})
	}
	plain, special := newPlainAndSpecial(t, mk("clo", 0), mk("bld", 1), mk("lp", 2))
	m := runtime.FromF64([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	m.Shape = []int{3, 3}
	for _, name := range []string{"clo", "bld", "lp"} {
		for _, n := range []int64{0, 2, 3} {
			for _, q := range []int64{0, 1, 2, 3} {
				args := []runtime.Value{runtime.Arr(m), f64s(1.5, -2, 4), runtime.I64(n), runtime.I64(q)}
				got, gerr := special.Call(context.Background(), name, args, runtime.Limits{})
				want, werr := plain.Call(context.Background(), name, args, runtime.Limits{})
				if where(gerr) != where(werr) || gerr == nil && !valueBits(got, want) {
					t.Errorf("%s n=%d q=%d: %s %s, the general code gives %s %s", name, n, q, show(got), where(gerr), show(want), where(werr))
				}
				if gerr == nil {
					if sh, sr := stepsUsed(t, special, name, args...), stepsUsed(t, plain, name, args...); sh != sr {
						t.Errorf("%s n=%d q=%d: %d steps, the general code takes %d", name, n, q, sh, sr)
					}
				}
			}
		}
	}
}
