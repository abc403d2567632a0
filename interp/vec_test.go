package interp

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// newVecAndClosure compiles defs twice: with the block executor (vec.go)
// and without it (noVec), so that the closure path is the reference.
func newVecAndClosure(t *testing.T, defs ...*ir.Def) (closure, vec *Interp) {
	t.Helper()
	noVec = true
	closure = mustNew(t, defs...)
	noVec = false
	return closure, mustNew(t, defs...)
}

// vecDefs are bodies the executor takes: Rosenbrock's objective and its
// reverse loop, the forward build alone, a body of every instruction
// (division, negation, a math function of one and of two arguments,
// f64(i), a scalar parameter and a scalar-only subexpression), and a
// reverse loop that adds into the array it reads (state initialised with
// x itself), which must run the closure path.
func vecDefs(b *ir.Builder) []*ir.Def {
	p := b.Prim
	// term(x, i) = 100 * (let x1 = x[i+1] - (let x2 = x[i] in x2*x2) in x1*x1) + (let x3 = 1 - x[i] in x3*x3)  (x[i+1] on line 2)
	term := func(x, i *ir.Var) ir.Expr {
		at(b, 2)
		next := p(ir.PrimIndex, x, p(ir.PrimAdd, i, b.I64(1)))
		at(b, 3)
		x1 := p(ir.PrimSub, next, b.Let("x2", p(ir.PrimIndex, x, i), func(x2 *ir.Var) ir.Expr { return p(ir.PrimMul, x2, x2) }))
		sq1 := b.Let("x1", x1, func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		sq3 := b.Let("x3", p(ir.PrimSub, b.F64(1), p(ir.PrimIndex, x, i)), func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		return p(ir.PrimAdd, p(ir.PrimMul, b.F64(100), sq1), sq3)
	}
	count := func(x *ir.Var, d int64) ir.Expr { return p(ir.PrimSub, p(ir.PrimLen, x), b.I64(d)) }
	at(b, 1)
	obj := b.Def("obj", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, build(b, count(v[0], 1), func(i *ir.Var) ir.Expr { return term(v[0], i) }))
	})
	at(b, 1)
	// objAll runs one element too far: x[i+1] fails on the last.
	objAll := b.Def("objAll", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, build(b, count(v[0], 0), func(i *ir.Var) ir.Expr { return term(v[0], i) }))
	})
	at(b, 1)
	terms := b.Def("terms", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return build(b, count(v[0], 1), func(i *ir.Var) ir.Expr { return term(v[0], i) })
	})
	at(b, 1)
	termsAll := b.Def("termsAll", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return build(b, count(v[0], 0), func(i *ir.Var) ir.Expr { return term(v[0], i) })
	})
	at(b, 1)
	every := b.Def("every", []string{"x", "s"}, []ir.Type{vec(F), F}, func(v []*ir.Var) ir.Expr {
		x, s := v[0], v[1]
		return build(b, p(ir.PrimLen, x), func(i *ir.Var) ir.Expr {
			xi := p(ir.PrimIndex, x, i)
			k := p(ir.PrimMul, s, b.F64(0.5)) // the same for every element
			q := p(ir.PrimDiv, p(ir.PrimNeg, xi), p(ir.PrimAdd, p(ir.PrimSin, xi), k))
			r := p(ir.PrimAtan2, p(ir.PrimToF64, p(ir.PrimSub, i, b.I64(3))), p(ir.PrimSub, xi, s))
			return p(ir.PrimAdd, q, r)
		})
	})
	// vjp is Rosenbrock's reverse pass as reverse mode writes it: the
	// terms kept for their sum and for the cotangent's shape (line 8).
	vjpDef := func(name string, d int64) *ir.Def {
		at(b, 1)
		return b.Def(name, []string{"x", "ybar"}, []ir.Type{vec(F), F}, func(v []*ir.Var) ir.Expr {
			x := v[0]
			return b.Let("v", count(x, d), func(n *ir.Var) ir.Expr {
				at(b, 8)
				return b.Let("y", build(b, n, func(i *ir.Var) ir.Expr { return term(x, i) }), func(y *ir.Var) ir.Expr {
					at(b, 7)
					c := p(ir.PrimAccAdd, p(ir.PrimZerosLike, y), v[1])
					return b.Let("c", c, func(c *ir.Var) ir.Expr {
						return b.Let("grev", revLoop(b, x, c, n, false), func(g *ir.Var) ir.Expr {
							at(b, 9)
							return b.Tuple(p(ir.PrimSum, y), b.Proj(g, 0))
						})
					})
				})
			})
		})
	}
	at(b, 1)
	// bare has no scalar at all: atan2 of two elements.
	bare := b.Def("bare", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return build(b, count(v[0], 1), func(i *ir.Var) ir.Expr {
			return p(ir.PrimAtan2, p(ir.PrimIndex, v[0], i), p(ir.PrimIndex, v[0], p(ir.PrimAdd, i, b.I64(1))))
		})
	})
	return []*ir.Def{obj, objAll, terms, termsAll, every, bare, revDef(b, "rev", false), revDef(b, "revAlias", true), revBcastDef(b), revConstDef(b),
		vjpDef("vjp", 1), vjpDef("vjpAll", 0)}
}

// revDef is Rosenbrock's reverse loop over i < n with cotangents c:
// loop st = (init,) for i < n do let g = st.0 in let yb = c[i] in
// let v1 = i + 1 in let y1 = x[i] in
// let a = acc_add_at(g, i, -(2 * (1 - y1) * yb)) in             (line 4)
// let c1 = 2 * (x[v1] - y1 * y1) * (100 * yb) in                (x[v1] on line 5)
// let a1 = acc_add_at(a, i, 2 * y1 * -c1) in
// let a2 = acc_add_at(a1, v1, c1) in (a2,)                       (line 6)
// with init zeros_like(x), or x itself (alias).
//
// revBcast(x, y, s, n) is the same loop with c = acc_add(zeros_like(y), s)
// bound by a let (line 7), as reverse mode writes the cotangent of sum(y).
func revDef(b *ir.Builder, name string, alias bool) *ir.Def {
	at(b, 1)
	return b.Def(name, []string{"x", "c", "n"}, []ir.Type{vec(F), vec(F), I}, func(v []*ir.Var) ir.Expr {
		return revLoop(b, v[0], v[1], v[2], alias)
	})
}

func revBcastDef(b *ir.Builder) *ir.Def {
	at(b, 1)
	return b.Def("revBcast", []string{"x", "y", "s", "n"}, []ir.Type{vec(F), vec(F), F, I}, func(v []*ir.Var) ir.Expr {
		at(b, 7)
		c := b.Prim(ir.PrimAccAdd, b.Prim(ir.PrimZerosLike, v[1]), v[2])
		return b.Let("c", c, func(c *ir.Var) ir.Expr { return revLoop(b, v[0], c, v[3], false) })
	})
}

// revConstDef(x, s, n) adds the same s at i + 1, then x[i] * s at i:
// a scatter of a value that is the same for every iteration.
func revConstDef(b *ir.Builder) *ir.Def {
	p := b.Prim
	at(b, 1)
	return b.Def("revConst", []string{"x", "s", "n"}, []ir.Type{vec(F), F, I}, func(v []*ir.Var) ir.Expr {
		x, s := v[0], v[1]
		return b.For("st", b.Tuple(p(ir.PrimZerosLike, x)), "i", v[2], func(st, i *ir.Var) ir.Expr {
			return b.Let("g", b.Proj(st, 0), func(g *ir.Var) ir.Expr {
				return b.Let("a", p(ir.PrimAccAddAt, g, p(ir.PrimAdd, i, b.I64(1)), s), func(a *ir.Var) ir.Expr {
					return b.Let("a1", p(ir.PrimAccAddAt, a, i, p(ir.PrimMul, p(ir.PrimIndex, x, i), s)), func(a1 *ir.Var) ir.Expr {
						return b.Tuple(a1)
					})
				})
			})
		})
	})
}

func revLoop(b *ir.Builder, x, c, n *ir.Var, alias bool) ir.Expr {
	p := b.Prim
	{
		init := p(ir.PrimZerosLike, x)
		if alias {
			init = x
		}
		return b.For("st", b.Tuple(init), "i", n, func(st, i *ir.Var) ir.Expr {
			at(b, 3)
			return b.Let("g", b.Proj(st, 0), func(g *ir.Var) ir.Expr {
				return b.Let("yb", p(ir.PrimIndex, c, i), func(yb *ir.Var) ir.Expr {
					return b.Let("v1", p(ir.PrimAdd, i, b.I64(1)), func(v1 *ir.Var) ir.Expr {
						return b.Let("y1", p(ir.PrimIndex, x, i), func(y1 *ir.Var) ir.Expr {
							at(b, 4)
							d := p(ir.PrimNeg, p(ir.PrimMul, p(ir.PrimMul, b.F64(2), p(ir.PrimSub, b.F64(1), y1)), yb))
							return b.Let("a", p(ir.PrimAccAddAt, g, i, d), func(a *ir.Var) ir.Expr {
								at(b, 5)
								xv := p(ir.PrimIndex, x, v1)
								at(b, 3)
								c1v := p(ir.PrimMul, p(ir.PrimMul, b.F64(2), p(ir.PrimSub, xv, p(ir.PrimMul, y1, y1))), p(ir.PrimMul, b.F64(100), yb))
								return b.Let("c1", c1v, func(c1 *ir.Var) ir.Expr {
									at(b, 4)
									return b.Let("a1", p(ir.PrimAccAddAt, a, i, p(ir.PrimMul, p(ir.PrimMul, b.F64(2), y1), p(ir.PrimNeg, c1))), func(a1 *ir.Var) ir.Expr {
										at(b, 6)
										return b.Let("a2", p(ir.PrimAccAddAt, a1, v1, c1), func(a2 *ir.Var) ir.Expr {
											return b.Tuple(a2)
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
}

// hostile is n values cycling through signed zeros, infinities, NaN,
// subnormals, huge and ordinary numbers.
func hostile(n int) []float64 {
	vals := []float64{0, math.Copysign(0, -1), math.Inf(1), 1.5, math.Inf(-1), math.NaN(), 5e-324, -2.5e-308,
		1e308, -1e308, 0.75, -3.25, 2, 1, 1e-160, -7}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = vals[(i*7+i/len(vals))%len(vals)]
	}
	return xs
}

// vecSame compares results to the bit (sameBits: any two NaNs are the
// same) as scalars, arrays and tuples.
func vecSame(a, b runtime.Value) bool {
	switch r := a.R.(type) {
	case nil:
		return b.R == nil && sameBits(a.F, b.F) && a.I == b.I
	case runtime.Tuple:
		s, ok := b.R.(runtime.Tuple)
		if !ok || len(s) != len(r) {
			return false
		}
		for j := range r {
			if !vecSame(r[j], s[j]) {
				return false
			}
		}
		return true
	}
	x, y := a.Array(), b.Array()
	if x == nil || y == nil || !runtime.SameShape(x.Shape, y.Shape) {
		return false
	}
	for i := range x.F {
		if !sameBits(x.F[i], y.F[i]) {
			return false
		}
	}
	return true
}

// TestVecBitIdentical checks the executor against the closure path over
// hostile values and lengths around the block (256), step block (1024)
// and sum piece (1024) boundaries: values to the bit and steps.
func TestVecBitIdentical(t *testing.T) {
	var b ir.Builder
	closure, vec := newVecAndClosure(t, vecDefs(&b)...)
	for _, n := range []int{0, 1, 2, 31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 2100} {
		x := hostile(n + 1)
		c := hostile(n + 3)[2:]
		cases := []struct {
			name string
			args []runtime.Value
		}{
			{"obj", []runtime.Value{f64s(x...)}},
			{"terms", []runtime.Value{f64s(x...)}},
			{"bare", []runtime.Value{f64s(x...)}},
			{"every", []runtime.Value{f64s(x...), runtime.F64(math.Copysign(0, -1))}},
			{"every", []runtime.Value{f64s(x...), runtime.F64(math.Inf(1))}},
			{"every", []runtime.Value{f64s(x...), runtime.F64(1.25)}},
			{"rev", []runtime.Value{f64s(x...), f64s(c...), runtime.I64(int64(n))}},
			{"revAlias", []runtime.Value{f64s(x...), f64s(c...), runtime.I64(int64(n))}},
			{"vjp", []runtime.Value{f64s(x...), runtime.F64(math.Copysign(0, -1))}},
			{"vjp", []runtime.Value{f64s(x...), runtime.F64(1)}},
			{"vjp", []runtime.Value{f64s(append([]float64{1, 2}, hostile(n)...)...), runtime.F64(0.5)}},
			{"revBcast", []runtime.Value{f64s(x...), f64s(c[:n]...), runtime.F64(math.Copysign(0, -1)), runtime.I64(int64(n))}},
			{"revBcast", []runtime.Value{f64s(x...), f64s(c[:n]...), runtime.F64(math.NaN()), runtime.I64(int64(n))}},
			{"revBcast", []runtime.Value{f64s(x...), f64s(c[:n]...), runtime.F64(-1.75), runtime.I64(int64(n))}},
			{"revConst", []runtime.Value{f64s(x...), runtime.F64(-1e-300), runtime.I64(int64(n))}},
			{"revConst", []runtime.Value{f64s(x...), runtime.F64(math.Inf(-1)), runtime.I64(int64(n))}},
		}
		for _, tc := range cases {
			before := vecBlocks.Load()
			got := call(t, vec, tc.name, tc.args...)
			// Runs of vecMin iterations or more are vectorized; sums of
			// up to smallSum terms keep their own order; revAlias adds
			// into the x it reads: never.
			count := n
			switch tc.name {
			case "every":
				count = n + 1
			case "vjp":
				count = tc.args[0].Array().Len() - 1
			}
			expect := count >= vecMin && tc.name != "revAlias" && (tc.name != "obj" || count > smallSum)
			if ran := vecBlocks.Load() > before; ran != expect {
				t.Errorf("%s n=%d: vectorized %v", tc.name, n, ran)
			}
			want := call(t, closure, tc.name, tc.args...)
			if !vecSame(got, want) {
				t.Errorf("%s n=%d: results differ from the closure path's", tc.name, n)
			}
			if n <= 33 || n == 257 || n == 1025 {
				if sv, sc := stepsUsed(t, vec, tc.name, tc.args...), stepsUsed(t, closure, tc.name, tc.args...); sv != sc {
					t.Errorf("%s n=%d: %d steps, the closure path takes %d", tc.name, n, sv, sc)
				}
			}
		}
	}
}

// TestVecErrors checks that a body that fails in the middle of a block
// fails at the same element, place and message as the closure path, and
// that step limits stop the executor.
func TestVecErrors(t *testing.T) {
	var b ir.Builder
	closure, vec := newVecAndClosure(t, vecDefs(&b)...)
	for _, n := range []int{1, 200, 256, 300, 1500} {
		x := hostile(n)
		cases := []struct {
			name string
			args []runtime.Value
			pos  ir.Pos
			msg  string
		}{
			{"objAll", []runtime.Value{f64s(x...)}, pos(2), fmt.Sprintf("index %d out of range [0, %d)", n, n)},
			{"termsAll", []runtime.Value{f64s(x...)}, pos(2), fmt.Sprintf("index %d out of range [0, %d)", n, n)},
			// c shorter than n: yb = c[i] fails first, at i = n - 2, on line 3.
			{"rev", []runtime.Value{f64s(hostile(n + 1)...), f64s(hostile(n - 1)[:max(n-2, 0)]...), runtime.I64(int64(n))}, pos(3), fmt.Sprintf("index %d out of range [0, %d)", max(n-2, 0), max(n-2, 0))},
			// y shorter than n: the read c[i] fails at i = n - 1 on line 3, as y[i] would.
			{"revBcast", []runtime.Value{f64s(hostile(n + 1)...), f64s(hostile(n - 1)...), runtime.F64(2), runtime.I64(int64(n))}, pos(3), fmt.Sprintf("index %d out of range [0, %d)", n-1, n-1)},
			// vjpAll's build fails at its last term, before the loop.
			{"vjpAll", []runtime.Value{f64s(x...), runtime.F64(1)}, pos(2), fmt.Sprintf("index %d out of range [0, %d)", n, n)},
			// x one short: the scatter at v1 = n - 1... fails after x[v1] on line 5.
			{"rev", []runtime.Value{f64s(x...), f64s(hostile(n)...), runtime.I64(int64(n))}, pos(5), fmt.Sprintf("index %d out of range [0, %d)", n, n)},
		}
		for _, tc := range cases {
			for _, it := range []*Interp{vec, closure} {
				e, err := callErr(t, it, tc.name, runtime.Limits{}, tc.args...)
				if e.Pos != tc.pos || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("%s n=%d (closure path %v): %v at %s, want %q at %s", tc.name, n, it == closure, err, e.Pos, tc.msg, tc.pos)
				}
			}
			ev, errV := callErr(t, vec, tc.name, runtime.Limits{}, tc.args...)
			ec, errC := callErr(t, closure, tc.name, runtime.Limits{}, tc.args...)
			if ev.Pos != ec.Pos || errV.Error() != errC.Error() {
				t.Errorf("%s n=%d: %v, the closure path %v", tc.name, n, errV, errC)
			}
		}
	}
	x := hostile(3000)
	for _, name := range []string{"obj", "terms"} {
		for _, steps := range []int64{5, 1500, 4000} {
			_, err := callErr(t, vec, name, runtime.Limits{Steps: steps}, f64s(x...))
			if !errors.Is(err, runtime.ErrStepLimit) {
				t.Errorf("%s under %d steps: %v does not wrap ErrStepLimit", name, steps, err)
			}
		}
	}
	_, err := callErr(t, vec, "rev", runtime.Limits{Steps: 1500}, f64s(x...), f64s(x...), runtime.I64(2999))
	if !errors.Is(err, runtime.ErrStepLimit) {
		t.Errorf("rev under 1500 steps: %v does not wrap ErrStepLimit", err)
	}
	// Steps run out in the build, the broadcast, the loop or the sum:
	// the same failures.
	vargs := []runtime.Value{f64s(x...), runtime.F64(1)}
	total := stepsUsed(t, vec, "vjp", vargs...)
	if tc := stepsUsed(t, closure, "vjp", vargs...); tc != total {
		t.Fatalf("vjp: %d steps, the closure path takes %d", total, tc)
	}
	for _, steps := range []int64{3, total / 4, total / 2, total/2 + 300, 3 * total / 4, total - 3000, total - 2} {
		args := vargs
		ev, errV := callErr(t, vec, "vjp", runtime.Limits{Steps: steps}, args...)
		ec, errC := callErr(t, closure, "vjp", runtime.Limits{Steps: steps}, args...)
		if !errors.Is(errV, runtime.ErrStepLimit) || ev.Pos != ec.Pos || errV.Error() != errC.Error() {
			t.Errorf("vjp under %d steps: %v at %s, the closure path %v at %s", steps, errV, ev.Pos, errC, ec.Pos)
		}
	}
	// The broadcast's steps, then the loop's: the same failures.
	for _, steps := range []int64{5, 2999, 3200, 5000} {
		args := []runtime.Value{f64s(x...), f64s(x[1:]...), runtime.F64(1), runtime.I64(2999)}
		ev, errV := callErr(t, vec, "revBcast", runtime.Limits{Steps: steps}, args...)
		ec, errC := callErr(t, closure, "revBcast", runtime.Limits{Steps: steps}, args...)
		if !errors.Is(errV, runtime.ErrStepLimit) || ev.Pos != ec.Pos || errV.Error() != errC.Error() {
			t.Errorf("revBcast under %d steps: %v at %s, the closure path %v at %s", steps, errV, ev.Pos, errC, ec.Pos)
		}
	}
}
