package interp

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestOneHotLets: a one-hot chain whose levels are bound by lets (the
// reverse pass of a[i][j][c] and of m[i][c]) runs in place like the
// nested chain (joinOneHotLets), with the general code's values bit for
// bit, errors at the same positions and the same steps; a level used
// twice is left to the primitives.
func TestOneHotLets(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	cube, mat := ir.ArrayOf(ir.Unknown, ir.ArrayOf(ir.Unknown, vec(F))), ir.ArrayOf(ir.Unknown, vec(F))
	at(&b, 1)
	// def name(g0: [?][?][?]f64, m0: [?][?]f64, w: [?]f64, n: i64) =
	//   loop (g, m) = (copy of g0, copy of m0) for c < n do
	//     let a10 = acc_add_at(zeros_like(g0[0][0]), c % 3, w[c] * -0.0 + w[c])   (line 2; w[c] at line 5)
	//     let a11 = acc_add_at(zeros_like(g0[0]), c % 2, a10)                      (line 3)
	//     let a12 = acc_add_at(g, c % 4, a11)                                      (line 4)
	//     let b1 = acc_add_at(zeros_like(m0[0]), c % 3, w[c])                      (line 6)
	//     let b2 = acc_add_at(m, c % 5, b1)                                        (line 7)
	//     in (a12, b2)
	// twice uses a10 twice (a12 adds it into m's row as well), which keeps
	// that let as it is.
	chain := func(st, c, r1, r2, mr, w *ir.Var, twice bool) ir.Expr {
		mod := func(k int64) ir.Expr { return p(ir.PrimMod, c, b.I64(k)) }
		return b.Let("i3", mod(3), func(i3 *ir.Var) ir.Expr {
			return b.Let("i2", mod(2), func(i2 *ir.Var) ir.Expr {
				return b.Let("i4", mod(4), func(i4 *ir.Var) ir.Expr {
					return b.Let("i5", mod(5), func(i5 *ir.Var) ir.Expr {
						at(&b, 5)
						wc := p(ir.PrimIndex, w, c)
						at(&b, 2)
						y := p(ir.PrimAdd, p(ir.PrimMul, wc, b.F64(math.Copysign(0, -1))), wc)
						a10v := p(ir.PrimAccAddAt, p(ir.PrimZerosLike, r2), i3, y)
						return b.Let("a10", a10v, func(a10 *ir.Var) ir.Expr {
							at(&b, 3)
							return b.Let("a11", p(ir.PrimAccAddAt, p(ir.PrimZerosLike, r1), i2, a10), func(a11 *ir.Var) ir.Expr {
								at(&b, 4)
								return b.Let("a12", p(ir.PrimAccAddAt, b.Proj(st, 0), i4, a11), func(a12 *ir.Var) ir.Expr {
									at(&b, 6)
									b1v := p(ir.PrimAccAddAt, p(ir.PrimZerosLike, mr), i3, p(ir.PrimIndex, w, c))
									if twice {
										b1v = p(ir.PrimAccAdd, b1v, a10)
									}
									return b.Let("b1", b1v, func(b1 *ir.Var) ir.Expr {
										at(&b, 7)
										return b.Let("b2", p(ir.PrimAccAddAt, b.Proj(st, 1), i5, b1), func(b2 *ir.Var) ir.Expr {
											return b.Tuple(a12, b2)
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
	def := func(name string, twice bool) *ir.Def {
		return b.Def(name, []string{"g0", "m0", "w", "n"}, []ir.Type{cube, mat, vec(F), I}, func(v []*ir.Var) ir.Expr {
			g0, m0, w, n := v[0], v[1], v[2], v[3]
			at(&b, 1)
			copyOf := func(x *ir.Var) ir.Expr { return p(ir.PrimAccAdd, p(ir.PrimZerosLike, x), x) }
			init := b.Tuple(copyOf(g0), copyOf(m0))
			row := func(x ir.Expr) ir.Expr { return p(ir.PrimIndex, x, b.I64(0)) }
			return b.Let("r1", row(g0), func(r1 *ir.Var) ir.Expr {
				return b.Let("r2", row(r1), func(r2 *ir.Var) ir.Expr {
					return b.Let("mr", row(m0), func(mr *ir.Var) ir.Expr {
						return b.For("st", init, "c", n, func(st, c *ir.Var) ir.Expr {
							return chain(st, c, r1, r2, mr, w, twice)
						})
					})
				})
			})
		})
	}
	plain, special := newPlainAndSpecial(t, def("joined", false), def("twice", true))
	negz := math.Copysign(0, -1)
	cube0 := runtime.FromF64(make([]float64, 4*2*3))
	cube0.Shape = []int{4, 2, 3}
	mat0 := runtime.FromF64(make([]float64, 5*3))
	mat0.Shape = []int{5, 3}
	for i := range cube0.F {
		cube0.F[i] = []float64{negz, 1.5, -2}[i%3]
	}
	for i := range mat0.F {
		mat0.F[i] = []float64{0.25, negz}[i%2]
	}
	w := []float64{1, negz, 0.5, math.Inf(1), -3, 1e-300, 7, 2}
	args := func(w []float64, n int64) []runtime.Value {
		return []runtime.Value{runtime.Arr(cube0), runtime.Arr(mat0), f64s(w...), runtime.I64(n)}
	}
	for _, name := range []string{"joined", "twice"} {
		for _, n := range []int64{0, 1, 5, 8} {
			got, want := call(t, special, name, args(w, n)...), call(t, plain, name, args(w, n)...)
			if !valueBits(got, want) {
				t.Errorf("%s n=%d: %s, the general code gives %s", name, n, show(got), show(want))
			}
			if sh, sr := stepsUsed(t, special, name, args(w, n)...), stepsUsed(t, plain, name, args(w, n)...); sh != sr {
				t.Errorf("%s n=%d: %d steps, the general code takes %d", name, n, sh, sr)
			}
		}
		for _, it := range []*Interp{special, plain} {
			// w one short: w[c] fails at c = 7, at line 5.
			e, err := callErr(t, it, name, runtime.Limits{}, args(w[:7], 8)...)
			if e.Pos != pos(5) || !strings.Contains(err.Error(), "index 7 out of range") {
				t.Errorf("%s (general code %v): %v at %s, want the index error at line 5", name, it == plain, err, e.Pos)
			}
			_, err = callErr(t, it, name, runtime.Limits{Steps: 20}, args(w, 8)...)
			if !errors.Is(err, runtime.ErrStepLimit) {
				t.Errorf("%s (general code %v): %v does not wrap ErrStepLimit", name, it == plain, err)
			}
		}
	}
	// The lets are joined into whole chains, but for a10 used twice.
	for _, c := range []struct {
		name         string
		twice        bool
		a12, b2, a10 int // levels of a12's and b2's chains (0: not a chain); lets named a10
	}{{"joined", false, 3, 2, 0}, {"twice", true, 0, 0, 1}} {
		levels, lets := map[string]int{}, 0
		walk(joinOneHotLets(def(c.name, c.twice).Body), func(e ir.Expr) {
			if l, ok := e.(*ir.Let); ok {
				if pc, ok := l.Value.(*ir.PrimCall); ok {
					levels[l.Var.Name] = len(oneHotChain(pc))
				}
				if l.Var.Name == "a10" {
					lets++
				}
			}
		})
		if levels["a12"] != c.a12 || levels["b2"] != c.b2 || lets != c.a10 {
			t.Errorf("%s: chains of %d and %d levels, %d lets a10; want %d, %d and %d", c.name, levels["a12"], levels["b2"], lets, c.a12, c.b2, c.a10)
		}
	}
}

// TestAccAddConst: acc_add(zeros_like(x), s), the cotangent of sum, is
// the general code's vector of 0 + s bit for bit (-0 and NaN included),
// with the same steps, and fails where s fails.
func TestAccAddConst(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	// def f(x: [?]f64, w: [?]f64, k: i64) = acc_add(zeros_like(x), w[k])   (w[k] at line 2)
	def := b.Def("f", []string{"x", "w", "k"}, []ir.Type{vec(F), vec(F), I}, func(v []*ir.Var) ir.Expr {
		z := p(ir.PrimZerosLike, v[0])
		at(&b, 2)
		wk := p(ir.PrimIndex, v[1], v[2])
		at(&b, 1)
		return p(ir.PrimAccAdd, z, wk)
	})
	plain, special := newPlainAndSpecial(t, def)
	w := []float64{math.Copysign(0, -1), math.NaN(), 1.5, -2e300}
	for _, n := range []int{0, 1, 7} {
		x := make([]float64, n)
		for k := range w {
			a := []runtime.Value{f64s(x...), f64s(w...), runtime.I64(int64(k))}
			got, want := call(t, special, "f", a...), call(t, plain, "f", a...)
			if !valueBits(got, want) {
				t.Errorf("n=%d s=%v: %s, the general code gives %s", n, w[k], show(got), show(want))
			}
			if sh, sr := stepsUsed(t, special, "f", a...), stepsUsed(t, plain, "f", a...); sh != sr {
				t.Errorf("n=%d s=%v: %d steps, the general code takes %d", n, w[k], sh, sr)
			}
		}
	}
	for _, it := range []*Interp{special, plain} {
		e, err := callErr(t, it, "f", runtime.Limits{}, f64s(1, 2), f64s(w...), runtime.I64(4))
		if e.Pos != pos(2) || !strings.Contains(err.Error(), "index 4 out of range") {
			t.Errorf("general code %v: %v at %s, want the index error at line 2", it == plain, err, e.Pos)
		}
	}
}
