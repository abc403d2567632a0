package interp

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

func build(b *ir.Builder, n ir.Expr, body func(i *ir.Var) ir.Expr) ir.Expr {
	return b.Prim(ir.PrimBuild, n, b.Lambda([]string{"i"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr { return body(v[0]) }))
}

// TestTypedErrors checks that failures inside typed code (comprehension
// bodies, index chains, fused sums) are the errors the primitives report,
// at the failing node, and that the first failure in evaluation order
// wins.
func TestTypedErrors(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	at(&b, 1)
	// def diag(m: [?][?]f64) = sum([m[i][i + 1] for i < len(m)])   (inner index at line 2)
	diag := b.Def("diag", []string{"m"}, []ir.Type{mat}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, build(&b, p(ir.PrimLen, v[0]), func(i *ir.Var) ir.Expr {
			row := p(ir.PrimIndex, v[0], i)
			at(&b, 2)
			e := p(ir.PrimIndex, row, p(ir.PrimAdd, i, b.I64(1)))
			at(&b, 1)
			return e
		}))
	})
	// def order(x: [?]f64, k: i64) = [x[5] + f64(k / 0) for i < 3]   (index at 11, division at 12)
	at(&b, 10)
	order := b.Def("order", []string{"x", "k"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
		return build(&b, b.I64(3), func(i *ir.Var) ir.Expr {
			at(&b, 11)
			l := p(ir.PrimIndex, v[0], b.I64(5))
			at(&b, 12)
			r := p(ir.PrimToF64, p(ir.PrimDiv, v[1], b.I64(0)))
			at(&b, 10)
			return p(ir.PrimAdd, l, r)
		})
	})
	// def late(x: [?]i64) = [10 / x[i] for i < len(x)]: fails at the first zero (line 21)
	at(&b, 20)
	late := b.Def("late", []string{"x"}, []ir.Type{vec(I)}, func(v []*ir.Var) ir.Expr {
		return build(&b, p(ir.PrimLen, v[0]), func(i *ir.Var) ir.Expr {
			at(&b, 21)
			e := p(ir.PrimDiv, b.I64(10), p(ir.PrimIndex, v[0], i))
			at(&b, 20)
			return e
		})
	})
	// def neg(n: i64) = sum([1.0 for i < n])  (build at line 30)
	at(&b, 30)
	neg := b.Def("neg", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, build(&b, v[0], func(*ir.Var) ir.Expr { return b.F64(1) }))
	})
	it := mustNew(t, diag, order, late, neg)
	m := runtime.Arr(&runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4}})
	cases := []struct {
		name string
		args []runtime.Value
		pos  ir.Pos
		msg  string
	}{
		{"diag", []runtime.Value{m}, pos(2), "index 2 out of range [0, 2)"},
		{"order", []runtime.Value{f64s(1, 2), runtime.I64(1)}, pos(11), "index 5 out of range [0, 2)"},
		{"order", []runtime.Value{f64s(1, 2, 3, 4, 5, 6), runtime.I64(1)}, pos(12), "integer division by zero"},
		{"late", []runtime.Value{i64s(1, 2, 0, 4)}, pos(21), "integer division by zero"},
		{"neg", []runtime.Value{runtime.I64(-1)}, pos(30), "negative size -1"},
	}
	for _, c := range cases {
		e, _ := callErr(t, it, c.name, runtime.Limits{}, c.args...)
		if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: error %q at %s, want %q at %s", c.name, e.Msg, e.Pos, c.msg, c.pos)
		}
	}
	if v := call(t, it, "late", i64s(1, 2, 5)); !same(v, i64s(10, 5, 2)) {
		t.Errorf("late = %s", show(v))
	}
	// A fused sum over a million elements stops at the step limit, at the
	// comprehension.
	_, err := callErr(t, it, "neg", runtime.Limits{Steps: 5000}, runtime.I64(1_000_000))
	if !errors.Is(err, runtime.ErrStepLimit) {
		t.Errorf("neg under a step limit: %v", err)
	}
}

// TestTypedLoops checks loops with scalar and tuple states compiled as
// typed code: results, and the step limit of an endless while loop.
func TestTypedLoops(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	// def fib(n: i64) = (loop ab = (0, 1) for i < n do (ab.1, ab.0 + ab.1)).0
	fib := b.Def("fib", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return b.Proj(b.For("ab", b.Tuple(b.I64(0), b.I64(1)), "i", v[0], func(s, _ *ir.Var) ir.Expr {
			return b.Tuple(b.Proj(s, 1), p(ir.PrimAdd, b.Proj(s, 0), b.Proj(s, 1)))
		}), 0)
	})
	// def hist(x: [?]i64, k: i64) = (loop st = (zeros(k), 0.0) for i < len(x) do
	//   (acc_add_at(st.0, x[i], 1.0), st.1 + f64(x[i]))): a vector updated in place
	hist := b.Def("hist", []string{"x", "k"}, []ir.Type{vec(I), I}, func(v []*ir.Var) ir.Expr {
		return b.For("st", b.Tuple(p(ir.PrimZeros, v[1]), b.F64(0)), "i", p(ir.PrimLen, v[0]), func(s, i *ir.Var) ir.Expr {
			xi := p(ir.PrimIndex, v[0], i)
			return b.Tuple(p(ir.PrimAccAddAt, b.Proj(s, 0), xi, b.F64(1)), p(ir.PrimAdd, b.Proj(s, 1), p(ir.PrimToF64, xi)))
		})
	})
	// def spin(x: f64) = loop s = x while s < 1.0 do s * 1.0   (line 5)
	at(&b, 5)
	spin := b.Def("spin", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.While("s", v[0], func(s *ir.Var) ir.Expr { return p(ir.PrimLt, s, b.F64(1)) },
			func(s *ir.Var) ir.Expr { return p(ir.PrimMul, s, b.F64(1)) })
	})
	it := mustNew(t, fib, hist, spin)
	if v := call(t, it, "fib", runtime.I64(50)); v.I != 12586269025 {
		t.Errorf("fib(50) = %d", v.I)
	}
	v := call(t, it, "hist", i64s(0, 2, 2, 1, 2), runtime.I64(3))
	if tu := v.Tuple(); len(tu) != 2 || !same(tu[0], f64s(1, 1, 3)) || tu[1].F != 7 {
		t.Errorf("hist = %s", show(v))
	}
	e, err := callErr(t, it, "spin", runtime.Limits{Steps: 10000}, runtime.F64(0))
	if !errors.Is(err, runtime.ErrStepLimit) || e.Pos != pos(5) {
		t.Errorf("spin: %v at %s", err, e.Pos)
	}
	if _, err := callErr(t, it, "hist", runtime.Limits{}, i64s(0, 3), runtime.I64(3)); err == nil || !strings.Contains(err.Error(), "index 3 out of range [0, 3)") {
		t.Errorf("hist out of range: %v", err)
	}
}

// TestFusionMatchesPrimitives checks fused elementwise chains and fused
// sums against the kernels the primitives run, to the bit, on lengths
// around the piece size.
func TestFusionMatchesPrimitives(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	params := []string{"a", "x", "y"}
	types := []ir.Type{F, vec(F), vec(F)}
	axpy := b.Def("axpy", params, types, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimAdd, p(ir.PrimMul, v[0], v[1]), v[2])
	})
	chain := b.Def("chain", params, types, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSub, p(ir.PrimMul, p(ir.PrimExp, v[1]), v[2]), p(ir.PrimDiv, v[1], v[0]))
	})
	sumc := b.Def("sumc", params, types, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, p(ir.PrimAdd, p(ir.PrimMul, v[1], v[2]), v[0]))
	})
	it := mustNew(t, axpy, chain, sumc)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, runtime.SumPiece - 1, runtime.SumPiece, runtime.SumPiece + 1, 3*runtime.SumPiece + 5} {
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		a := 1.7
		args := []runtime.Value{runtime.F64(a), f64s(x...), f64s(y...)}
		want := make([]float64, n)
		runtime.ScaleTo(want, a, x)
		runtime.AddTo(want, want, y)
		if v := call(t, it, "axpy", args...); !same(v, f64s(want...)) {
			t.Errorf("axpy n=%d differs from the kernels", n)
		}
		e, q := make([]float64, n), make([]float64, n)
		runtime.ExpTo(e, x)
		runtime.MulTo(e, e, y)
		runtime.DivConstTo(q, x, a)
		runtime.SubTo(e, e, q)
		if v := call(t, it, "chain", args...); !same(v, f64s(e...)) {
			t.Errorf("chain n=%d differs from the kernels", n)
		}
		s := make([]float64, n)
		runtime.MulTo(s, x, y)
		runtime.AddConstTo(s, s, a)
		if v := call(t, it, "sumc", args...); math.Float64bits(v.F) != math.Float64bits(runtime.Sum(s)) {
			t.Errorf("sumc n=%d = %v, Sum of the kernels' array %v", n, v.F, runtime.Sum(s))
		}
	}
}

// TestFusionErrors: with operands of different shapes, a fused chain
// fails as its first failing primitive would, at that primitive.
func TestFusionErrors(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	// def f(x, y, z, k) = (x + y) * z - f64(k)  with + at line 2 and * at line 3
	f := b.Def("f", []string{"x", "y", "z", "w"}, []ir.Type{vec(F), vec(F), vec(F), vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		s := p(ir.PrimAdd, v[0], v[1])
		at(&b, 3)
		m := p(ir.PrimMul, s, v[2])
		at(&b, 4)
		idx := p(ir.PrimIndex, v[3], b.I64(9))
		at(&b, 1)
		return p(ir.PrimSub, m, idx)
	})
	it := mustNew(t, f)
	cases := []struct {
		args []runtime.Value
		pos  ir.Pos
		msg  string
	}{
		{[]runtime.Value{f64s(1, 2), f64s(1), f64s(1, 2), f64s(1)}, pos(2), "[2] and [1]"},
		{[]runtime.Value{f64s(1, 2), f64s(1, 2), f64s(1), f64s(1)}, pos(3), "[2] and [1]"},
		{[]runtime.Value{f64s(1, 2), f64s(1, 2), f64s(1, 2), f64s(1)}, pos(4), "index 9 out of range [0, 1)"},
		// The add fails before the index is evaluated.
		{[]runtime.Value{f64s(1, 2), f64s(1), f64s(1, 2), f64s(1)}, pos(2), "[2] and [1]"},
	}
	for _, c := range cases {
		e, _ := callErr(t, it, "f", runtime.Limits{}, c.args...)
		if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("error %q at %s, want %q at %s", e.Msg, e.Pos, c.msg, c.pos)
		}
	}
}

// TestReuseKeepsLiveArrays builds values that look like temporaries but
// stay reachable, then allocates arrays of the same size: were any of
// them recycled, the later arrays would overwrite them.
func TestReuseKeepsLiveArrays(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	scale := func(x ir.Expr, c float64) ir.Expr { return p(ir.PrimMul, x, b.F64(c)) }
	// def kept(x) = let pr = (let t = x*2 in (t, sum(t))) in (pr.0, x*3, pr.1)
	kept := b.Def("kept", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		inner := b.Let("t", scale(v[0], 2), func(tv *ir.Var) ir.Expr { return b.Tuple(tv, p(ir.PrimSum, tv)) })
		return b.Let("pr", inner, func(pr *ir.Var) ir.Expr { return b.Tuple(b.Proj(pr, 0), scale(v[0], 3), b.Proj(pr, 1)) })
	})
	// def twice(x) = let a = (let z = x*2 in (z, z)).1 in (a, x*5): z is both fields
	twice := b.Def("twice", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		pair := b.Let("z", scale(v[0], 2), func(z *ir.Var) ir.Expr { return b.Tuple(z, z) })
		return b.Let("a", b.Proj(pair, 1), func(a *ir.Var) ir.Expr { return b.Tuple(a, scale(v[0], 5)) })
	})
	// def captured(x) = let f = (let t = x*2 in fn(i) => t[i]) in let u = x*7 in f(0) + u[0]
	captured := b.Def("captured", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		fv := b.Let("t", scale(v[0], 2), func(tv *ir.Var) ir.Expr {
			return b.Lambda([]string{"i"}, []ir.Type{I}, func(i []*ir.Var) ir.Expr { return p(ir.PrimIndex, tv, i[0]) })
		})
		return b.Let("f", fv, func(f *ir.Var) ir.Expr {
			return b.Let("u", scale(v[0], 7), func(u *ir.Var) ir.Expr {
				return p(ir.PrimAdd, b.Call(f, b.I64(0)), p(ir.PrimIndex, u, b.I64(0)))
			})
		})
	})
	// def same_state(x) = loop w = x*1 for i < 4 do if i == 1 then w else w + 1: the
	// body may return the state itself, so states are not recycled
	sameState := b.Def("same_state", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		return b.For("w", scale(v[0], 1), "i", b.I64(4), func(w, i *ir.Var) ir.Expr {
			return b.If(p(ir.PrimEq, i, b.I64(1)), w, p(ir.PrimAdd, w, b.F64(1)))
		})
	})
	it := mustNew(t, kept, twice, captured, sameState)
	x := f64s(1, 2, 3)
	if v := call(t, it, "kept", x).Tuple(); !same(v[0], f64s(2, 4, 6)) || !same(v[1], f64s(3, 6, 9)) || v[2].F != 12 {
		t.Errorf("kept = %s", show(runtime.Tup(v...)))
	}
	if v := call(t, it, "twice", x).Tuple(); !same(v[0], f64s(2, 4, 6)) || !same(v[1], f64s(5, 10, 15)) {
		t.Errorf("twice = %s", show(runtime.Tup(v...)))
	}
	if v := call(t, it, "captured", x); v.F != 9 {
		t.Errorf("captured = %v, want 9", v.F)
	}
	if v := call(t, it, "same_state", x); !same(v, f64s(4, 5, 6)) {
		t.Errorf("same_state = %s", show(v))
	}
}
