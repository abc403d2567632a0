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
	// def views(a, x, y) = x[1:len(x)] * a + y[0:len(y) - 1]: slices read in place
	views := b.Def("views", params, types, func(v []*ir.Var) ir.Expr {
		n := p(ir.PrimLen, v[1])
		return p(ir.PrimAdd, p(ir.PrimMul, p(ir.PrimSlice, v[1], b.I64(1), n), v[0]),
			p(ir.PrimSlice, v[2], b.I64(0), p(ir.PrimSub, p(ir.PrimLen, v[2]), b.I64(1))))
	})
	// y + x*a: the product on the right of the sum, with its scalar last.
	yxa := b.Def("yxa", params, types, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimAdd, v[2], p(ir.PrimMul, v[1], v[0]))
	})
	it := mustNew(t, axpy, chain, sumc, views, yxa)
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
		yw := make([]float64, n)
		runtime.ScaleTo(yw, a, x)
		runtime.AddTo(yw, y, yw)
		if v := call(t, it, "yxa", args...); !same(v, f64s(yw...)) {
			t.Errorf("yxa n=%d differs from the kernels", n)
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
		if n == 0 {
			continue
		}
		vw := make([]float64, n-1)
		runtime.ScaleTo(vw, a, x[1:])
		runtime.AddTo(vw, vw, y[:n-1])
		if v := call(t, it, "views", args...); !same(v, f64s(vw...)) {
			t.Errorf("views n=%d differs from the kernels", n)
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
	// def g(x, m) = x[0:3] * 2 + m[1]   (slice at line 5, row at line 6)
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	at(&b, 1)
	g := b.Def("g", []string{"x", "m"}, []ir.Type{vec(F), mat}, func(v []*ir.Var) ir.Expr {
		at(&b, 5)
		sl := p(ir.PrimSlice, v[0], b.I64(0), b.I64(3))
		at(&b, 6)
		row := p(ir.PrimIndex, v[1], b.I64(1))
		at(&b, 1)
		return p(ir.PrimAdd, p(ir.PrimMul, sl, b.F64(2)), row)
	})
	it := mustNew(t, f, g)
	m := func(rows int) runtime.Value {
		return runtime.Arr(&runtime.Array{Shape: []int{rows, 3}, Kind: runtime.ElemF64, F: make([]float64, 3*rows)})
	}
	for _, c := range []struct {
		args []runtime.Value
		pos  ir.Pos
		msg  string
	}{
		{[]runtime.Value{f64s(1, 2), m(2)}, pos(5), "slice [0:3] out of range for length 2"},
		{[]runtime.Value{f64s(1, 2, 3), m(1)}, pos(6), "index 1 out of range [0, 1)"},
		{[]runtime.Value{f64s(1, 2, 3, 4), m(2)}, pos(1), "[3] and [3]"},
	} {
		if c.pos == pos(1) {
			if v := call(t, it, "g", c.args...); !same(v, f64s(2, 4, 6)) {
				t.Errorf("g = %s", show(v))
			}
			continue
		}
		e, _ := callErr(t, it, "g", runtime.Limits{}, c.args...)
		if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("g: error %q at %s, want %q at %s", e.Msg, e.Pos, c.msg, c.pos)
		}
	}
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
	// def boxed(m) = let t = (let v = m[0] in [(v, f64(i)) for i < 2]) in (t, m[1] * 2):
	// the row v lives on inside the array of tuples
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	boxed := b.Def("boxed", []string{"m"}, []ir.Type{mat}, func(v []*ir.Var) ir.Expr {
		inner := b.Let("v", p(ir.PrimIndex, v[0], b.I64(0)), func(row *ir.Var) ir.Expr {
			return build(&b, b.I64(2), func(i *ir.Var) ir.Expr { return b.Tuple(row, p(ir.PrimToF64, i)) })
		})
		return b.Let("t", inner, func(tv *ir.Var) ir.Expr {
			return b.Tuple(tv, scale(p(ir.PrimIndex, v[0], b.I64(1)), 2))
		})
	})
	// def upd(x) = (x, update(update(x * 1.0, 0, 5.0), 1, 6.0), update(x, 2, 7.0)):
	// the fresh copy is updated in place, the parameter never
	upd := b.Def("upd", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		twice := p(ir.PrimUpdate, p(ir.PrimUpdate, scale(v[0], 1), b.I64(0), b.F64(5)), b.I64(1), b.F64(6))
		return b.Tuple(v[0], twice, p(ir.PrimUpdate, v[0], b.I64(2), b.F64(7)))
	})
	it := mustNew(t, kept, twice, captured, sameState, boxed, upd)
	if v := call(t, it, "upd", f64s(1, 2, 3)).Tuple(); !same(v[0], f64s(1, 2, 3)) || !same(v[1], f64s(5, 6, 3)) || !same(v[2], f64s(1, 2, 7)) {
		t.Errorf("upd = %s", show(runtime.Tup(v...)))
	}
	m := runtime.Arr(&runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4}})
	if v := call(t, it, "boxed", m).Tuple(); !same(v[0].Array().At(1).Tuple()[0], f64s(1, 2)) || !same(v[1], f64s(6, 8)) {
		t.Errorf("boxed = %s", show(runtime.Tup(v...)))
	}
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

// TestInlinedComprehensions checks builds and maps compiled into their
// function, with elements of every kind: scalars, rows, tuples and
// functions (each closure keeps its own index).
func TestInlinedComprehensions(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	// def kinds(n: i64) = ([f64(i) for i < n], [[i, 2 * i] for i < n], [(i, i == 1) for i < n],
	//                      [fn(x: f64) => x + f64(i) for i < n][n - 1](0.5))
	kinds := b.Def("kinds", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		fs := build(&b, v[0], func(i *ir.Var) ir.Expr {
			return b.Lambda([]string{"x"}, []ir.Type{F}, func(x []*ir.Var) ir.Expr { return p(ir.PrimAdd, x[0], p(ir.PrimToF64, i)) })
		})
		return b.Tuple(
			build(&b, v[0], func(i *ir.Var) ir.Expr { return p(ir.PrimToF64, i) }),
			build(&b, v[0], func(i *ir.Var) ir.Expr { return p(ir.PrimArray, i, p(ir.PrimMul, b.I64(2), i)) }),
			build(&b, v[0], func(i *ir.Var) ir.Expr { return b.Tuple(i, p(ir.PrimEq, i, b.I64(1))) }),
			b.Call(p(ir.PrimIndex, fs, p(ir.PrimSub, v[0], b.I64(1))), b.F64(0.5)))
	})
	it := mustNew(t, kinds)
	got := show(call(t, it, "kinds", runtime.I64(3)))
	want := "([0 1 2], [[0 0] [0|1 0|2] [0|2 0|4]], [(0, 0) (0|1, 0|1) (0|2, 0)], 2.5)"
	if got != want {
		t.Errorf("kinds(3) = %s, want %s", got, want)
	}
}

// TestHoistedIndexes checks a[k][j] in a comprehension over j, whose
// prefix a[k] is computed once: values, an out-of-range k reported at its
// index when an element is computed, and no error without elements.
func TestHoistedIndexes(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	at(&b, 1)
	// def rowsums(m) = [sum([m[i][j] for j < len(m[i])]) for i < len(m)]
	rowsums := b.Def("rowsums", []string{"m"}, []ir.Type{mat}, func(v []*ir.Var) ir.Expr {
		return build(&b, p(ir.PrimLen, v[0]), func(i *ir.Var) ir.Expr {
			return p(ir.PrimSum, build(&b, p(ir.PrimLen, p(ir.PrimIndex, v[0], i)), func(j *ir.Var) ir.Expr {
				return p(ir.PrimIndex, p(ir.PrimIndex, v[0], i), j)
			}))
		})
	})
	// def row(m, k, n) = [m[k][j] * 2.0 for j < n]   (m[k] at line 11, [j] at line 12)
	row := b.Def("row", []string{"m", "k", "n"}, []ir.Type{mat, I, I}, func(v []*ir.Var) ir.Expr {
		return build(&b, v[2], func(j *ir.Var) ir.Expr {
			at(&b, 11)
			r := p(ir.PrimIndex, v[0], v[1])
			at(&b, 12)
			e := p(ir.PrimIndex, r, j)
			at(&b, 1)
			return p(ir.PrimMul, e, b.F64(2))
		})
	})
	it := mustNew(t, rowsums, row)
	m := runtime.Arr(&runtime.Array{Shape: []int{2, 3}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4, 5, 6}})
	if v := call(t, it, "rowsums", m); !same(v, f64s(6, 15)) {
		t.Errorf("rowsums = %s", show(v))
	}
	if v := call(t, it, "row", m, runtime.I64(1), runtime.I64(3)); !same(v, f64s(8, 10, 12)) {
		t.Errorf("row = %s", show(v))
	}
	if v := call(t, it, "row", m, runtime.I64(5), runtime.I64(0)); !same(v, f64s()) {
		t.Errorf("row without elements = %s", show(v))
	}
	for _, c := range []struct {
		k, n int64
		pos  ir.Pos
		msg  string
	}{{5, 2, pos(11), "index 5 out of range [0, 2)"}, {1, 4, pos(12), "index 3 out of range [0, 3)"}} {
		e, _ := callErr(t, it, "row", runtime.Limits{}, m, runtime.I64(c.k), runtime.I64(c.n))
		if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("row(k=%d, n=%d): %q at %s, want %q at %s", c.k, c.n, e.Msg, e.Pos, c.msg, c.pos)
		}
	}
}

// TestComprehensionSumOrder checks sum([x[i] * y[i] for i < n]), added
// without an array, against runtime.Sum of the array, to the bit, for
// the short, stacked and pieced paths.
func TestComprehensionSumOrder(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	dot := b.Def("dot", []string{"x", "y"}, []ir.Type{vec(F), vec(F)}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSum, build(&b, p(ir.PrimLen, v[0]), func(i *ir.Var) ir.Expr {
			return p(ir.PrimMul, p(ir.PrimIndex, v[0], i), p(ir.PrimIndex, v[1], i))
		}))
	})
	it := mustNew(t, dot)
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 31, 32, 33, 100, runtime.SumPiece + 3} {
		x, y, xy := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i] = math.Ldexp(rng.NormFloat64(), rng.IntN(30)-15), rng.NormFloat64()
			xy[i] = x[i] * y[i]
		}
		if v := call(t, it, "dot", f64s(x...), f64s(y...)); math.Float64bits(v.F) != math.Float64bits(runtime.Sum(xy)) {
			t.Errorf("n=%d: %v, runtime.Sum %v", n, v.F, runtime.Sum(xy))
		}
	}
}
