package interp

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// opsPair compiles defs twice: with the small products and views of
// ops.go, and the general way (plainOps), the reference.
func opsPair(t *testing.T, defs ...*ir.Def) (hot, ref *Interp) {
	t.Helper()
	hot = mustNew(t, defs...)
	plainOps = true
	defer func() { plainOps = false }()
	return hot, mustNew(t, defs...)
}

// sameAsPlain checks a call against the reference: the value to the bit
// (nested tuples and arrays), the steps, and under each step limit in
// lims the same outcome at the same position.
func sameAsPlain(t *testing.T, hot, ref *Interp, name, def string, args func() []runtime.Value, lims ...int64) {
	t.Helper()
	got, want := call(t, hot, def, args()...), call(t, ref, def, args()...)
	if !valueBits(got, want) {
		t.Errorf("%s: got %s, want %s", name, show(got), show(want))
	}
	if sh, sr := stepsUsed(t, hot, def, args()...), stepsUsed(t, ref, def, args()...); sh != sr {
		t.Errorf("%s: %d steps, the general code takes %d", name, sh, sr)
	}
	for _, lim := range lims {
		_, err := hot.Call(context.Background(), def, args(), runtime.Limits{Steps: lim})
		_, errRef := ref.Call(context.Background(), def, args(), runtime.Limits{Steps: lim})
		var e, eRef *ir.Error
		if (err == nil) != (errRef == nil) || err != nil && (!errors.As(err, &e) || !errors.As(errRef, &eRef) || e.Pos != eRef.Pos || err.Error() != errRef.Error()) {
			t.Errorf("%s, %d steps: %v, the general code: %v", name, lim, err, errRef)
		}
	}
}

// ramp is a vector of n elements with signed zeros and awkward values.
func ramp(n int, seed float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Sin(seed+float64(i)*0.7) * math.Pow(10, float64(i%5-2))
	}
	if n > 1 {
		xs[1] = math.Copysign(0, -1)
	}
	return xs
}

func shaped(xs []float64, shape ...int) runtime.Value {
	a := runtime.FromF64(xs)
	a.Shape = shape
	return runtime.Arr(a)
}

// TestSmallMatmul checks the products of ops.go against the general
// code: matrix-vector and vector-matrix, on rows of a stack of matrices
// (read in place) and on whole and fresh operands, small and past
// smallMatWork; x[i] - mu[k] on rows; acc_add(_at)(acc, -(a @ b)) in
// place; and the same inside a build of tuples (the tape arena). Then
// the errors, each at its own node. dot(a, b) likewise.
func TestSmallMatmul(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat, cube := vec(vec(F)), vec(vec(vec(F)))
	at(&b, 1)
	// def mv(qs: [?][?][?]f64, x: [?][?]f64, mu: [?][?]f64, i, k) =
	//   qs[k] @ (x[i] - mu[k])       (@ on line 2, x[i] on line 3, qs[k] on line 4)
	mvBody := func(v []*ir.Var) ir.Expr {
		at(&b, 3)
		xi := p(ir.PrimIndex, v[1], v[3])
		at(&b, 4)
		q := p(ir.PrimIndex, v[0], v[4])
		at(&b, 5)
		d := p(ir.PrimSub, xi, p(ir.PrimIndex, v[2], v[4]))
		at(&b, 2)
		return p(ir.PrimMatmul, q, d)
	}
	mv := b.Def("mv", []string{"qs", "x", "mu", "i", "k"}, []ir.Type{cube, mat, mat, I, I}, mvBody)
	// def vm(c: [?]f64, qs, k) = c @ qs[k]; def whole(a, x) = a @ x; def fresh(a, x) = a @ (x * x)
	vm := b.Def("vm", []string{"c", "qs", "k"}, []ir.Type{vec(F), cube, I}, func(v []*ir.Var) ir.Expr {
		at(&b, 4)
		q := p(ir.PrimIndex, v[1], v[2])
		at(&b, 2)
		return p(ir.PrimMatmul, v[0], q)
	})
	whole := b.Def("whole", []string{"a", "x"}, []ir.Type{mat, vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		return p(ir.PrimMatmul, v[0], v[1])
	})
	fresh := b.Def("fresh", []string{"x", "a"}, []ir.Type{vec(F), mat}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		return p(ir.PrimMatmul, p(ir.PrimMul, v[0], v[0]), v[1])
	})
	// def accat(g: [?][?]f64, i, c, qs) = acc_add_at(g, i, -(c @ qs[i]))   (acc on line 1, - on line 6)
	accat := b.Def("accat", []string{"g", "i", "c", "qs"}, []ir.Type{mat, I, vec(F), cube}, func(v []*ir.Var) ir.Expr {
		at(&b, 4)
		q := p(ir.PrimIndex, v[3], v[1])
		at(&b, 2)
		prod := p(ir.PrimMatmul, v[2], q)
		at(&b, 6)
		neg := p(ir.PrimNeg, prod)
		at(&b, 1)
		return p(ir.PrimAccAddAt, v[0], v[1], neg)
	})
	// def accself(g: [?]f64, a) = acc_add(g, -(a @ g)): the product reads the accumulator.
	accself := b.Def("accself", []string{"g", "a"}, []ir.Type{vec(F), mat}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		prod := p(ir.PrimMatmul, v[1], v[0])
		at(&b, 6)
		neg := p(ir.PrimNeg, prod)
		at(&b, 1)
		return p(ir.PrimAccAdd, v[0], neg)
	})
	// def tape(qs, x, mu, i) = [ let d = x[i] - mu[k] in let y = qs[k] @ d in (sum(y), y, d) for k < len(mu) ]
	tape := b.Def("tape", []string{"qs", "x", "mu", "i"}, []ir.Type{cube, mat, mat, I}, func(v []*ir.Var) ir.Expr {
		at(&b, 1)
		return build(&b, p(ir.PrimLen, v[2]), func(k *ir.Var) ir.Expr {
			at(&b, 5)
			d := p(ir.PrimSub, p(ir.PrimIndex, v[1], v[3]), p(ir.PrimIndex, v[2], k))
			return b.Let("d", d, func(d *ir.Var) ir.Expr {
				at(&b, 2)
				y := p(ir.PrimMatmul, p(ir.PrimIndex, v[0], k), d)
				at(&b, 1)
				return b.Let("y", y, func(y *ir.Var) ir.Expr { return b.Tuple(p(ir.PrimSum, y), y, d) })
			})
		})
	})
	// def dots(x: [?][?]f64, mu: [?][?]f64, i, k) = dot(x[i], mu[k]) + dot(x[i] * x[i], mu[k])   (dot on line 2, x[i] on line 3)
	dots := b.Def("dots", []string{"x", "mu", "i", "k"}, []ir.Type{mat, mat, I, I}, func(v []*ir.Var) ir.Expr {
		at(&b, 3)
		xi := p(ir.PrimIndex, v[0], v[2])
		at(&b, 4)
		mk := p(ir.PrimIndex, v[1], v[3])
		at(&b, 2)
		d1 := p(ir.PrimDot, xi, mk)
		d2 := p(ir.PrimDot, p(ir.PrimMul, xi, xi), mk)
		at(&b, 1)
		return p(ir.PrimAdd, d1, d2)
	})
	hot, ref := opsPair(t, mv, vm, whole, fresh, accat, accself, tape, dots)

	stack := func(k, r, c int, seed float64) runtime.Value { return shaped(ramp(k*r*c, seed), k, r, c) }
	for _, sz := range []struct{ k, d, rows int }{{3, 2, 2}, {2, 3, 5}, {2, 1, 1}, {1, 0, 2}, {2, 70, 70}, {2, 64, 64}, {2, 33, 124}, {1, 5, 0}, {1, 1, 1}} {
		k, d, rows := sz.k, sz.d, sz.rows
		name := func(s string) string { return s + " " + runtime.ShapeString([]int{k, rows, d}) }
		sameAsPlain(t, hot, ref, name("mv"), "mv", func() []runtime.Value {
			return []runtime.Value{stack(k, rows, d, 1), shaped(ramp(3*d, 2), 3, d), shaped(ramp(k*d, 3), k, d), runtime.I64(2), runtime.I64(int64(k - 1))}
		}, 1, 3, int64(d), int64(d+rows*d))
		sameAsPlain(t, hot, ref, name("vm"), "vm", func() []runtime.Value {
			return []runtime.Value{f64s(ramp(rows, 4)...), stack(k, rows, d, 5), runtime.I64(int64(k - 1))}
		}, 1, int64(rows*d))
		sameAsPlain(t, hot, ref, name("whole"), "whole", func() []runtime.Value {
			return []runtime.Value{shaped(ramp(rows*d, 6), rows, d), f64s(ramp(d, 7)...)}
		})
		sameAsPlain(t, hot, ref, name("fresh"), "fresh", func() []runtime.Value {
			return []runtime.Value{f64s(ramp(rows, 8)...), shaped(ramp(rows*d, 9), rows, d)}
		})
		sameAsPlain(t, hot, ref, name("accat"), "accat", func() []runtime.Value {
			return []runtime.Value{shaped(ramp(k*d, 10), k, d), runtime.I64(int64(k - 1)), f64s(ramp(rows, 11)...), stack(k, rows, d, 12)}
		}, 1, int64(rows*d), int64(rows*d+d), int64(rows*d+2*d))
		sameAsPlain(t, hot, ref, name("tape"), "tape", func() []runtime.Value {
			return []runtime.Value{stack(k, d, d, 13), shaped(ramp(3*d, 14), 3, d), shaped(ramp(k*d, 15), k, d), runtime.I64(1)}
		}, 2, 5, 9)
	}
	for _, d := range []int{0, 1, 2, 7, 40} {
		sameAsPlain(t, hot, ref, "dots", "dots", func() []runtime.Value {
			return []runtime.Value{shaped(ramp(2*d, 18), 2, d), shaped(ramp(3*d, 19), 3, d), runtime.I64(1), runtime.I64(2)}
		}, 1, int64(d), int64(d+1), int64(2*d+1))
	}
	sameAsPlain(t, hot, ref, "accself", "accself", func() []runtime.Value {
		return []runtime.Value{f64s(ramp(3, 16)...), shaped(ramp(9, 17), 3, 3)}
	}, 1, 9, 12)

	v := func(xs ...float64) runtime.Value { return f64s(xs...) }
	bad := []errCase{
		{"inner sizes", "mv", []runtime.Value{stack(1, 2, 3, 1), shaped(ramp(2, 1), 1, 2), shaped(ramp(2, 1), 1, 2), runtime.I64(0), runtime.I64(0)}, 2, "inner sizes differ: [2][3] @ [2]"},
		{"row index", "mv", []runtime.Value{stack(1, 2, 2, 1), shaped(ramp(2, 1), 1, 2), shaped(ramp(2, 1), 1, 2), runtime.I64(1), runtime.I64(0)}, 3, "index 1 out of range [0, 1)"},
		{"matrix index", "mv", []runtime.Value{stack(1, 2, 2, 1), shaped(ramp(2, 1), 1, 2), shaped(ramp(2, 1), 1, 2), runtime.I64(0), runtime.I64(-1)}, 4, "index -1 out of range [0, 1)"},
		{"sub shapes", "mv", []runtime.Value{stack(1, 2, 2, 1), shaped(ramp(2, 1), 1, 2), shaped(ramp(3, 1), 1, 3), runtime.I64(0), runtime.I64(0)}, 5, "[2] and [3]"},
		{"vm inner", "vm", []runtime.Value{v(1, 2, 3), stack(1, 2, 2, 1), runtime.I64(0)}, 2, "inner sizes differ: [3] @ [2][2]"},
		{"acc index", "accat", []runtime.Value{shaped(ramp(2, 1), 1, 2), runtime.I64(1), v(1, 2), stack(2, 2, 2, 1)}, 1, "index 1 out of range [0, 1)"},
		{"acc row shape", "accat", []runtime.Value{shaped(ramp(3, 1), 1, 3), runtime.I64(0), v(1, 2), stack(1, 2, 2, 1)}, 1, "acc_add_at: row shapes [3] and [2] differ"},
		{"acc product", "accat", []runtime.Value{shaped(ramp(2, 1), 1, 2), runtime.I64(0), v(1, 2, 3), stack(1, 2, 2, 1)}, 2, "inner sizes differ"},
		{"dot sizes", "dots", []runtime.Value{shaped(ramp(2, 1), 1, 2), shaped(ramp(3, 1), 1, 3), runtime.I64(0), runtime.I64(0)}, 2, "dot: sizes 2 and 3 differ"},
		{"dot index", "dots", []runtime.Value{shaped(ramp(2, 1), 1, 2), shaped(ramp(2, 1), 1, 2), runtime.I64(0), runtime.I64(3)}, 4, "index 3 out of range [0, 1)"},
		{"acc shape", "accself", []runtime.Value{v(1, 2), shaped(ramp(6, 1), 3, 2)}, 1, "acc_add: shapes [2] and [3] differ"},
	}
	checkErrs(t, hot, bad)
	for _, c := range bad { // the general code fails alike, with the same message
		_, err := callErr(t, hot, c.def, runtime.Limits{}, c.args...)
		_, errRef := callErr(t, ref, c.def, runtime.Limits{}, c.args...)
		if err.Error() != errRef.Error() && !strings.Contains(errRef.Error(), c.msg) {
			t.Errorf("%s: %v, the general code: %v", c.name, err, errRef)
		}
	}
}
