package interp

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestAccChainLoop checks reverse loops with array state (accChain)
// against the same loops compiled the general way (plainTyped): values to
// the bit, steps, the index error's position and message, and the step
// limit. Bodies the chain does not take (an array read after its update,
// a scalar field) are checked the same way.
func TestAccChainLoop(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	// rev(x, c, n) = loop st = (zeros_like(x), zeros_like(c)) for i < n do
	//   let g = st.0 in let h = st.1 in let yb = c[i] in let v1 = i + 1 in let y1 = x[i] in
	//   let a = acc_add_at(g, i, -(2 * (1 - y1) * yb)) in               (line 4)
	//   let c1 = 2 * (x[v1] - y1 * y1) * yb in                          (x[v1] on line 5)
	//   let a1 = acc_add_at(a, i, 2 * y1 * c1) in                       (line 4)
	//   let h1 = acc_add_at(h, v1, c1) in                               (line 6)
	//   let a2 = acc_add_at(a1, v1, c1) in (a2, h1)                     (line 4)
	// readAfter reads g after its update; scalar keeps a scalar field too.
	def := func(name, variant string) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"x", "c", "n"}, []ir.Type{vec(F), vec(F), I}, func(v []*ir.Var) ir.Expr {
			x, c := v[0], v[1]
			init := []ir.Expr{p(ir.PrimZerosLike, x), p(ir.PrimZerosLike, c)}
			if variant == "scalar" {
				init = append(init, b.F64(0))
			}
			at(&b, 2)
			return b.For("st", b.Tuple(init...), "i", v[2], func(st, i *ir.Var) ir.Expr {
				at(&b, 3)
				return b.Let("g", b.Proj(st, 0), func(g *ir.Var) ir.Expr {
					return b.Let("h", b.Proj(st, 1), func(h *ir.Var) ir.Expr {
						return b.Let("yb", p(ir.PrimIndex, c, i), func(yb *ir.Var) ir.Expr {
							return b.Let("v1", p(ir.PrimAdd, i, b.I64(1)), func(v1 *ir.Var) ir.Expr {
								return b.Let("y1", p(ir.PrimIndex, x, i), func(y1 *ir.Var) ir.Expr {
									at(&b, 4)
									d := p(ir.PrimNeg, p(ir.PrimMul, p(ir.PrimMul, b.F64(2), p(ir.PrimSub, b.F64(1), y1)), yb))
									return b.Let("a", p(ir.PrimAccAddAt, g, i, d), func(a *ir.Var) ir.Expr {
										at(&b, 5)
										xv := p(ir.PrimIndex, x, v1)
										c1v := p(ir.PrimMul, p(ir.PrimMul, b.F64(2), p(ir.PrimSub, xv, p(ir.PrimMul, y1, y1))), yb)
										if variant == "readAfter" {
											c1v = p(ir.PrimAdd, c1v, p(ir.PrimIndex, g, i))
										}
										return b.Let("c1", c1v, func(c1 *ir.Var) ir.Expr {
											at(&b, 4)
											return b.Let("a1", p(ir.PrimAccAddAt, a, i, p(ir.PrimMul, p(ir.PrimMul, b.F64(2), y1), c1)), func(a1 *ir.Var) ir.Expr {
												at(&b, 6)
												return b.Let("h1", p(ir.PrimAccAddAt, h, v1, c1), func(h1 *ir.Var) ir.Expr {
													at(&b, 4)
													return b.Let("a2", p(ir.PrimAccAddAt, a1, v1, c1), func(a2 *ir.Var) ir.Expr {
														if variant == "scalar" {
															return b.Tuple(a2, h1, p(ir.PrimAdd, b.Proj(st, 2), c1))
														}
														return b.Tuple(a2, h1)
													})
												})
											})
										})
									})
								})
							})
						})
					})
				})
			})
		})
	}
	variants := []string{"chain", "readAfter", "scalar"}
	var defs []*ir.Def
	for _, v := range variants {
		defs = append(defs, def(v, v))
	}
	plain, special := newPlainAndSpecial(t, defs...)
	negz := math.Copysign(0, -1)
	x := []float64{1.5, negz, -2, 0.25, 3, 1e-300, 7}
	cs := []float64{1, negz, 0.5, -3, 2.25, 1e300, 0}
	args := func(n int64) []runtime.Value { return []runtime.Value{f64s(x...), f64s(cs...), runtime.I64(n)} }
	for _, v := range variants {
		for _, n := range []int64{0, 1, 3, 6} {
			got, want := call(t, special, v, args(n)...), call(t, plain, v, args(n)...)
			gt, wt := got.R.(runtime.Tuple), want.R.(runtime.Tuple)
			for j := range wt {
				if j < 2 && !bits(gt[j], wt[j]) || j == 2 && math.Float64bits(gt[j].F) != math.Float64bits(wt[j].F) {
					t.Errorf("%s n=%d: field %d is %s, the general code gives %s", v, n, j, show(gt[j]), show(wt[j]))
				}
			}
			if sh, sr := stepsUsed(t, special, v, args(n)...), stepsUsed(t, plain, v, args(n)...); sh != sr {
				t.Errorf("%s n=%d: %d steps, the general code takes %d", v, n, sh, sr)
			}
		}
		// c one shorter than x: h's update at v1 = 6 fails on the last iteration, at line 6.
		for _, it := range []*Interp{special, plain} {
			e, err := callErr(t, it, v, runtime.Limits{}, f64s(x...), f64s(cs[:6]...), runtime.I64(6))
			if e.Pos != pos(6) || !strings.Contains(err.Error(), "index 6 out of range [0, 6)") {
				t.Errorf("%s (general code %v): %v at %s, want the index error at line 6", v, it == plain, err, e.Pos)
			}
			_, err = callErr(t, it, v, runtime.Limits{Steps: 3}, args(6)...)
			if !errors.Is(err, runtime.ErrStepLimit) {
				t.Errorf("%s (general code %v): %v does not wrap ErrStepLimit", v, it == plain, err)
			}
		}
	}
}
