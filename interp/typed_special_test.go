package interp

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// The specialized typed code (operands read in place, superinstructions)
// must compute what the general code computes, bit for bit, and fail
// where and as it fails. These tests compile each program twice, once
// with plainTyped set, and compare.

// newPlainAndSpecial compiles defs the general way and the specialized way.
func newPlainAndSpecial(t *testing.T, defs ...*ir.Def) (plain, special *Interp) {
	t.Helper()
	plainTyped = true
	plain = mustNew(t, defs...)
	plainTyped = false
	return plain, mustNew(t, defs...)
}

// operandKinds builds one operand of each kind the specializations
// recognize, inside def f(x: [?]f64, y: [?]f64, s: f64, k: i64) and its
// build over i: a slot (the parameter s, or a let-bound scalar), a
// constant, an element x[i], x[i + 1] or y[i - -1], and code.
var operandKinds = []struct {
	name string
	make func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr
}{
	{"slot", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return s }},
	{"const", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.F64(-0.75) }},
	{"negzero", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.F64(math.Copysign(0, -1)) }},
	{"x[i]", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.Prim(ir.PrimIndex, x, i) }},
	{"x[i+1]", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr {
		return b.Prim(ir.PrimIndex, x, b.Prim(ir.PrimAdd, i, b.I64(1)))
	}},
	{"y[i--1]", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr {
		return b.Prim(ir.PrimIndex, y, b.Prim(ir.PrimSub, i, b.I64(-1)))
	}},
	{"pair(k-s)", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.Prim(ir.PrimSub, b.F64(1), s) }},
	{"pair(s*k)", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.Prim(ir.PrimMul, s, b.F64(-3)) }},
	{"pair(s/s)", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr { return b.Prim(ir.PrimDiv, s, s) }},
	{"pair(s+k)", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr {
		return b.Prim(ir.PrimAdd, s, b.F64(math.Copysign(0, -1)))
	}},
	{"code", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr {
		return b.Prim(ir.PrimSin, b.Prim(ir.PrimIndex, y, i))
	}},
	{"code-i64", func(b *ir.Builder, x, y, s, k, i *ir.Var) ir.Expr {
		return b.Prim(ir.PrimMul, b.Prim(ir.PrimToF64, b.Prim(ir.PrimAdd, i, k)), s)
	}},
}

// elementwiseDef makes def name(x, y, s, k) = [body for i < len(x) - 2].
func elementwiseDef(b *ir.Builder, name string, body func(x, y, s, k, i *ir.Var) ir.Expr) *ir.Def {
	return b.Def(name, []string{"x", "y", "s", "k"}, []ir.Type{vec(F), vec(F), F, I}, func(v []*ir.Var) ir.Expr {
		n := b.Prim(ir.PrimSub, b.Prim(ir.PrimLen, v[0]), b.I64(2))
		return build(b, n, func(i *ir.Var) ir.Expr { return body(v[0], v[1], v[2], v[3], i) })
	})
}

// specialCases are the programs whose specialized code is compared with
// the general code: every f64 operation on every pair of operand kinds,
// the square of a let, negation, and lets of each kind of value.
func specialCases(b *ir.Builder) []*ir.Def {
	var defs []*ir.Def
	ops := []*ir.Prim{ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimDiv}
	for _, op := range ops {
		for _, l := range operandKinds {
			for _, r := range operandKinds {
				name := fmt.Sprintf("%s(%s,%s)", op.Name, l.name, r.name)
				defs = append(defs, elementwiseDef(b, name, func(x, y, s, k, i *ir.Var) ir.Expr {
					return b.Prim(op, l.make(b, x, y, s, k, i), r.make(b, x, y, s, k, i))
				}))
			}
		}
	}
	for _, l := range operandKinds {
		for _, r := range operandKinds {
			// The squared difference, and k * a + b both ways round.
			defs = append(defs, elementwiseDef(b, "sqdiff("+l.name+","+r.name+")", func(x, y, s, k, i *ir.Var) ir.Expr {
				d := b.Prim(ir.PrimSub, l.make(b, x, y, s, k, i), r.make(b, x, y, s, k, i))
				return b.Let("v", d, func(v *ir.Var) ir.Expr { return b.Prim(ir.PrimMul, v, v) })
			}))
			for _, c := range []float64{100, math.Copysign(0, -1)} {
				defs = append(defs, elementwiseDef(b, fmt.Sprintf("kadd(%g,%s,%s)", c, l.name, r.name), func(x, y, s, k, i *ir.Var) ir.Expr {
					return b.Prim(ir.PrimAdd, b.Prim(ir.PrimMul, b.F64(c), l.make(b, x, y, s, k, i)), r.make(b, x, y, s, k, i))
				}))
				defs = append(defs, elementwiseDef(b, fmt.Sprintf("addk(%g,%s,%s)", c, l.name, r.name), func(x, y, s, k, i *ir.Var) ir.Expr {
					return b.Prim(ir.PrimAdd, l.make(b, x, y, s, k, i), b.Prim(ir.PrimMul, b.F64(c), r.make(b, x, y, s, k, i)))
				}))
			}
		}
	}
	for _, o := range operandKinds {
		// let v = o in v * v, and with v also used elsewhere.
		defs = append(defs, elementwiseDef(b, "square("+o.name+")", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", o.make(b, x, y, s, k, i), func(v *ir.Var) ir.Expr { return b.Prim(ir.PrimMul, v, v) })
		}))
		defs = append(defs, elementwiseDef(b, "let("+o.name+")", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", o.make(b, x, y, s, k, i), func(v *ir.Var) ir.Expr {
				return b.Prim(ir.PrimAdd, b.Prim(ir.PrimMul, v, v), b.Prim(ir.PrimNeg, v))
			})
		}))
		defs = append(defs, elementwiseDef(b, "neg("+o.name+")", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Prim(ir.PrimNeg, o.make(b, x, y, s, k, i))
		}))
		// A let in ordinary code (its body is a tuple) stores its value
		// with store.
		defs = append(defs, elementwiseDef(b, "store("+o.name+")", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Proj(b.Let("v", o.make(b, x, y, s, k, i), func(v *ir.Var) ir.Expr {
				return b.Tuple(b.Prim(ir.PrimSub, v, s), v)
			}), 0)
		}))
	}
	// i64 lets: j = i + 1 in typed code and in ordinary code.
	defs = append(defs, elementwiseDef(b, "leti", func(x, y, s, k, i *ir.Var) ir.Expr {
		return b.Let("j", b.Prim(ir.PrimAdd, i, b.I64(1)), func(j *ir.Var) ir.Expr {
			return b.Prim(ir.PrimMul, b.Prim(ir.PrimIndex, x, j), b.Prim(ir.PrimToF64, j))
		})
	}))
	defs = append(defs, elementwiseDef(b, "storei", func(x, y, s, k, i *ir.Var) ir.Expr {
		return b.Proj(b.Let("j", b.Prim(ir.PrimSub, i, b.I64(-2)), func(j *ir.Var) ir.Expr {
			return b.Tuple(b.Prim(ir.PrimIndex, y, b.Prim(ir.PrimSub, j, b.I64(1))), j)
		}), 0)
	}))
	return defs
}

// specialInputs are arguments with the values whose arithmetic is
// easiest to get wrong: signed zeros, infinities, NaN, subnormals.
func specialInputs() [][]runtime.Value {
	x := []float64{1.5, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 5e-324, 1e308, -3.25, 0.1, 7, 0, -1e-300}
	y := []float64{-2, 3e307, 0.3, math.Copysign(0, -1), 1e-310, math.Inf(1), 2, -0.1, math.NaN(), 4, -1e308, 9}
	return [][]runtime.Value{
		{f64s(x...), f64s(y...), runtime.F64(-2.5), runtime.I64(3)},
		{f64s(y...), f64s(x...), runtime.F64(math.Copysign(0, -1)), runtime.I64(-7)},
		{f64s(x...), f64s(x...), runtime.F64(math.Inf(-1)), runtime.I64(0)},
	}
}

// sameBits reports whether x and y are the same float64 bit for bit, or
// both NaN: which NaN an operation on two NaNs returns depends on the
// order of the operands in the machine instruction, which Go's compiler
// chooses freely for + and *, in the general code too.
func sameBits(x, y float64) bool {
	return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
}

func TestTypedSpecializedBitIdentical(t *testing.T) {
	var b ir.Builder
	defs := specialCases(&b)
	plain, special := newPlainAndSpecial(t, defs...)
	for _, d := range defs {
		for j, args := range specialInputs() {
			want := call(t, plain, d.Name, args...).Array().F
			got := call(t, special, d.Name, args...).Array().F
			if len(got) != len(want) || len(got) != len(args[0].Array().F)-2 {
				t.Fatalf("%s, inputs %d: %d elements, general code %d", d.Name, j, len(got), len(want))
			}
			for e := range want {
				if !sameBits(got[e], want[e]) {
					t.Errorf("%s, inputs %d, element %d: %v (%#x), general code %v (%#x)", d.Name, j, e, got[e], math.Float64bits(got[e]), want[e], math.Float64bits(want[e]))
				}
			}
		}
	}
}

// TestTypedSpecializedErrors checks that an operand that fails inside
// specialized code reports the index primitive's error at its position,
// and that when both operands fail the left one, evaluated first, wins.
func TestTypedSpecializedErrors(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	// The index i + c at line 10 + c is out of range from some i on; the
	// code operand f64(k / 0) fails at line 20.
	far := func(x, i *ir.Var, c int64) ir.Expr {
		at(&b, 10+int(c))
		e := p(ir.PrimIndex, x, p(ir.PrimAdd, i, b.I64(c)))
		at(&b, 1)
		return e
	}
	bad := func(k *ir.Var) ir.Expr {
		at(&b, 20)
		e := p(ir.PrimToF64, p(ir.PrimDiv, k, b.I64(0)))
		at(&b, 1)
		return e
	}
	at(&b, 1)
	cases := []struct {
		def  *ir.Def
		line int
		msg  string
	}{
		{elementwiseDef(&b, "LC", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimSub, far(x, i, 5), bad(k)) }), 15, "index 5 out of range [0, 4)"},
		{elementwiseDef(&b, "CL", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimSub, bad(k), far(x, i, 5)) }), 20, "integer division by zero"},
		{elementwiseDef(&b, "LL", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimMul, far(y, i, 3), far(x, i, 2)) }), 13, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "KL", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimDiv, b.F64(1), far(x, i, 3)) }), 13, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "SL", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimAdd, s, far(y, i, 4)) }), 14, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "LS", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimAdd, far(y, i, 4), s) }), 14, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "neg", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimNeg, far(x, i, 6)) }), 16, "index 6 out of range [0, 4)"},
		{elementwiseDef(&b, "square", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", far(x, i, 3), func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		}), 13, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "let", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", far(x, i, 5), func(v *ir.Var) ir.Expr { return p(ir.PrimAdd, v, bad(k)) })
		}), 15, "index 5 out of range [0, 4)"},
		{elementwiseDef(&b, "store", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Proj(b.Let("v", far(y, i, 3), func(v *ir.Var) ir.Expr { return b.Tuple(v, v) }), 1)
		}), 13, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "sqdiffLC", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", p(ir.PrimSub, far(x, i, 5), bad(k)), func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		}), 15, "index 5 out of range [0, 4)"},
		{elementwiseDef(&b, "sqdiffCL", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", p(ir.PrimSub, bad(k), far(x, i, 5)), func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		}), 20, "integer division by zero"},
		{elementwiseDef(&b, "sqdiffKL", func(x, y, s, k, i *ir.Var) ir.Expr {
			return b.Let("v", p(ir.PrimSub, b.F64(1), far(y, i, 3)), func(v *ir.Var) ir.Expr { return p(ir.PrimMul, v, v) })
		}), 13, "index 4 out of range [0, 4)"},
		{elementwiseDef(&b, "kadd", func(x, y, s, k, i *ir.Var) ir.Expr {
			return p(ir.PrimAdd, p(ir.PrimMul, b.F64(2), far(x, i, 3)), bad(k))
		}), 20, "integer division by zero"},
		{elementwiseDef(&b, "addk", func(x, y, s, k, i *ir.Var) ir.Expr {
			return p(ir.PrimAdd, far(y, i, 7), p(ir.PrimMul, b.F64(2), bad(k)))
		}), 17, "index 7 out of range [0, 4)"},
		{elementwiseDef(&b, "below", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimMul, s, far(x, i, -1)) }), 9, "index -1 out of range [0, 4)"},
	}
	defs := make([]*ir.Def, len(cases))
	for j, c := range cases {
		defs[j] = c.def
	}
	plain, special := newPlainAndSpecial(t, defs...)
	args := []runtime.Value{f64s(1, 2, 3, 4), f64s(5, 6, 7, 8), runtime.F64(0.5), runtime.I64(1)}
	for _, c := range cases {
		for _, it := range []*Interp{plain, special} {
			e, _ := callErr(t, it, c.def.Name, runtime.Limits{}, args...)
			if e.Pos != pos(c.line) || e.Msg != c.msg {
				t.Errorf("%s (general code %v): %v: %s, want %v: %s", c.def.Name, it == plain, e.Pos, e.Msg, pos(c.line), c.msg)
			}
		}
	}
	// And no error when every index is in range.
	ok := elementwiseDef(&b, "ok", func(x, y, s, k, i *ir.Var) ir.Expr { return p(ir.PrimSub, far(x, i, 2), s) })
	it := mustNew(t, ok)
	if _, err := it.Call(context.Background(), "ok", args, runtime.Limits{}); err != nil {
		t.Errorf("ok: %v", err)
	}
}
