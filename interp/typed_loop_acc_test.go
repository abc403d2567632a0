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

// stepsUsed returns the fewest steps under which name(args) succeeds.
func stepsUsed(t *testing.T, it *Interp, name string, args ...runtime.Value) int64 {
	t.Helper()
	lo, hi := int64(1), int64(1<<20)
	if _, err := it.Call(context.Background(), name, args, runtime.Limits{Steps: hi}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if _, err := it.Call(context.Background(), name, args, runtime.Limits{Steps: mid}); err == nil {
			hi = mid
		} else if !errors.Is(err, runtime.ErrStepLimit) {
			t.Fatalf("%s under %d steps: %v", name, mid, err)
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// matchesRef checks that hot(args) gives ref(args)'s value to the bit
// and takes as many steps; args makes fresh arguments per call, since
// accumulators are updated in place.
func matchesRef(t *testing.T, it *Interp, name, hot, ref string, args func() []runtime.Value) {
	t.Helper()
	got, want := call(t, it, hot, args()...), call(t, it, ref, args()...)
	if !bits(got, want) {
		t.Errorf("%s: got %s, want %s", name, show(got), show(want))
	}
	if sh, sr := stepsUsed(t, it, hot, args()...), stepsUsed(t, it, ref, args()...); sh != sr {
		t.Errorf("%s: %d steps, the primitives take %d", name, sh, sr)
	}
}

// errCase is a call that must fail with msg at line.
type errCase struct {
	name string
	def  string
	args []runtime.Value
	line int
	msg  string
}

func checkErrs(t *testing.T, it *Interp, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		e, err := callErr(t, it, c.def, runtime.Limits{}, c.args...)
		if e.Pos != pos(c.line) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s (%s): %v at %s, want %q at line %d", c.name, c.def, err, e.Pos, c.msg, c.line)
		}
	}
}

// bits compares values bit for bit (the sign of zero included).
func bits(a, b runtime.Value) bool {
	x, y := a.Array(), b.Array()
	if x == nil || y == nil || !runtime.SameShape(x.Shape, y.Shape) {
		return false
	}
	for i := range x.F {
		if math.Float64bits(x.F[i]) != math.Float64bits(y.F[i]) {
			return false
		}
	}
	return true
}

// TestAccOneHot checks acc_add_at(A, i, acc_add_at(zeros_like(L), j, y))
// and its three-level form, run in place (compileAccOneHot), against the
// same chain with the zero bound by a let, which runs through the
// primitives: results to the bit (-0 in the row included), steps, and
// each level's errors at its own position.
func TestAccOneHot(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	m2, m3 := vec(vec(F)), vec(vec(vec(F)))
	// hot2(A, i, L, j, y) = acc_add_at(A, i, acc_add_at(zeros_like(L), j, y)):
	// the outer call on line 1, the inner on line 2, zeros_like on line 3.
	two := func(name string, let bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"A", "i", "L", "j", "y"}, []ir.Type{m2, I, vec(F), I, F}, func(v []*ir.Var) ir.Expr {
			body := func(z ir.Expr) ir.Expr {
				at(&b, 2)
				inner := p(ir.PrimAccAddAt, z, v[3], v[4])
				at(&b, 1)
				return p(ir.PrimAccAddAt, v[0], v[1], inner)
			}
			at(&b, 3)
			z := p(ir.PrimZerosLike, v[2])
			if let {
				return b.Let("z", z, func(z *ir.Var) ir.Expr { return body(z) })
			}
			return body(z)
		})
	}
	three := func(name string, let bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"A", "i", "L2", "j", "L3", "k", "y"}, []ir.Type{m3, I, m2, I, vec(F), I, F}, func(v []*ir.Var) ir.Expr {
			at(&b, 3)
			z2, z3 := p(ir.PrimZerosLike, v[2]), p(ir.PrimZerosLike, v[4])
			body := func(z2, z3 ir.Expr) ir.Expr {
				at(&b, 4)
				in3 := p(ir.PrimAccAddAt, z3, v[5], v[6])
				at(&b, 2)
				in2 := p(ir.PrimAccAddAt, z2, v[3], in3)
				at(&b, 1)
				return p(ir.PrimAccAddAt, v[0], v[1], in2)
			}
			if let {
				return b.Let("z2", z2, func(z2 *ir.Var) ir.Expr {
					return b.Let("z3", z3, func(z3 *ir.Var) ir.Expr { return body(z2, z3) })
				})
			}
			return body(z2, z3)
		})
	}
	// loop2(A, L, y) = loop g = A for i < len(A) do acc_add_at(g, i, acc_add_at(zeros_like(L), i, y)):
	// a step is charged per level and iteration.
	loop := func(name string, let bool) *ir.Def {
		at(&b, 5)
		return b.Def(name, []string{"A", "L", "y"}, []ir.Type{m2, vec(F), F}, func(v []*ir.Var) ir.Expr {
			n := p(ir.PrimLen, v[0])
			return b.For("g", v[0], "i", n, func(g, i *ir.Var) ir.Expr {
				z := p(ir.PrimZerosLike, v[1])
				if let {
					return b.Let("z", z, func(z *ir.Var) ir.Expr {
						return p(ir.PrimAccAddAt, g, i, p(ir.PrimAccAddAt, z, i, v[2]))
					})
				}
				return p(ir.PrimAccAddAt, g, i, p(ir.PrimAccAddAt, z, i, v[2]))
			})
		})
	}
	it := mustNew(t, two("hot2", false), two("ref2", true), three("hot3", false), three("ref3", true), loop("loop", false), loop("refloop", true))
	negz := math.Copysign(0, -1)
	cube := func(xs ...float64) runtime.Value {
		a := runtime.FromF64(xs)
		a.Shape = []int{2, 2, 2}
		return runtime.Arr(a)
	}
	ok := []struct {
		name, hot, ref string
		args           func() []runtime.Value // fresh each call: the accumulator is updated in place
	}{
		{"row 1", "hot2", "ref2", func() []runtime.Value {
			return []runtime.Value{mat(2, 3, 1, 2, 3, 4, 5, 6), runtime.I64(1), f64s(0, 0, 0), runtime.I64(2), runtime.F64(0.5)}
		}},
		{"-0 in the row", "hot2", "ref2", func() []runtime.Value {
			return []runtime.Value{mat(2, 3, negz, negz, negz, negz, negz, negz), runtime.I64(0), f64s(9, 9, 9), runtime.I64(1), runtime.F64(negz)}
		}},
		{"NaN and inf", "hot2", "ref2", func() []runtime.Value {
			return []runtime.Value{mat(1, 3, math.NaN(), math.Inf(1), 1), runtime.I64(0), f64s(0, 0, 0), runtime.I64(2), runtime.F64(math.Inf(-1))}
		}},
		{"three levels", "hot3", "ref3", func() []runtime.Value {
			return []runtime.Value{cube(1, 2, 3, 4, negz, 6, 7, 8), runtime.I64(1), mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(0, 0), runtime.I64(1), runtime.F64(0.25)}
		}},
		{"loop", "loop", "refloop", func() []runtime.Value {
			return []runtime.Value{mat(3, 3, 1, 1, 1, 1, negz, 1, 1, 1, 1), f64s(0, 0, 0), runtime.F64(2)}
		}},
	}
	for _, c := range ok {
		matchesRef(t, it, c.name, c.hot, c.ref, c.args)
	}
	checkErrs(t, it, []errCase{
		{"inner index", "hot2", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(0, 0), runtime.I64(2), runtime.F64(1)}, 2, "index 2 out of range [0, 2)"},
		{"inner index first", "hot2", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(5), f64s(0, 0), runtime.I64(-1), runtime.F64(1)}, 2, "index -1 out of range [0, 2)"},
		{"outer index", "hot2", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(2), f64s(0, 0), runtime.I64(1), runtime.F64(1)}, 1, "index 2 out of range [0, 2)"},
		{"row shape", "hot2", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(0, 0, 0), runtime.I64(1), runtime.F64(1)}, 1, "acc_add_at: row shapes [2] and [3] differ"},
		{"middle index", "hot3", []runtime.Value{cube(0, 0, 0, 0, 0, 0, 0, 0), runtime.I64(0), mat(2, 2, 0, 0, 0, 0), runtime.I64(3), f64s(0, 0), runtime.I64(0), runtime.F64(1)}, 2, "index 3 out of range [0, 2)"},
		{"middle row shape", "hot3", []runtime.Value{cube(0, 0, 0, 0, 0, 0, 0, 0), runtime.I64(0), mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(0, 0, 0), runtime.I64(0), runtime.F64(1)}, 2, "acc_add_at: row shapes [2] and [3] differ"},
		{"innermost index", "hot3", []runtime.Value{cube(0, 0, 0, 0, 0, 0, 0, 0), runtime.I64(0), mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(0, 0), runtime.I64(7), runtime.F64(1)}, 4, "index 7 out of range [0, 2)"},
	})
	// A step limit stops the loop at the loop or a level of the chain, as
	// it stops the primitives.
	for _, name := range []string{"loop", "refloop"} {
		_, err := callErr(t, it, name, runtime.Limits{Steps: 4}, mat(3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0), f64s(0, 0, 0), runtime.F64(1))
		if !errors.Is(err, runtime.ErrStepLimit) {
			t.Errorf("%s: %v does not wrap ErrStepLimit", name, err)
		}
	}
}

// TestAccAddFused checks acc_add(acc, e) and acc_add_at(acc, i, e) with e
// an elementwise chain, added piece by piece without an array for e
// (compileAccAddFused), against the same with e bound by a let: results
// to the bit, a chain that reads the accumulator, rows longer than a
// piece, steps, and the chain's and the accumulator's errors at their
// positions, the chain's first.
func TestAccAddFused(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	m := vec(vec(F))
	// Each def's accumulation is on line 1, its chain on line 2.
	def := func(name string, let bool, types []ir.Type, chain func(v []*ir.Var) ir.Expr, acc func(v []*ir.Var, e ir.Expr) ir.Expr) *ir.Def {
		at(&b, 1)
		names := []string{"a", "b", "c", "d"}[:len(types)]
		return b.Def(name, names, types, func(v []*ir.Var) ir.Expr {
			at(&b, 2)
			e := chain(v)
			at(&b, 1)
			if let {
				return b.Let("e", e, func(x *ir.Var) ir.Expr { return acc(v, x) })
			}
			return acc(v, e)
		})
	}
	add := func(v []*ir.Var, e ir.Expr) ir.Expr { return p(ir.PrimAccAdd, v[0], e) }
	addAt := func(v []*ir.Var, e ir.Expr) ir.Expr { return p(ir.PrimAccAddAt, v[0], v[1], e) }
	mul := func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[1], v[2]) }
	chain := func(v []*ir.Var) ir.Expr { return p(ir.PrimAdd, p(ir.PrimMul, v[2], v[3]), v[3]) }
	// acc_add_at(a, i, a[0] * 2.0 - a[i]): the chain reads the accumulator.
	self := func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSub, p(ir.PrimMul, p(ir.PrimIndex, v[0], b.I64(0)), b.F64(2)), p(ir.PrimIndex, v[0], v[1]))
	}
	var defs []*ir.Def
	for _, let := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "_ref"}[let]
		defs = append(defs,
			def("mul"+suffix, let, []ir.Type{vec(F), vec(F), vec(F)}, mul, add),
			def("chain"+suffix, let, []ir.Type{m, I, m, m}, func(v []*ir.Var) ir.Expr { return p(ir.PrimAdd, p(ir.PrimMul, v[2], v[3]), v[3]) }, add),
			def("at"+suffix, let, []ir.Type{m, I, vec(F), vec(F)}, chain, addAt),
			def("self"+suffix, let, []ir.Type{m, I}, self, addAt))
	}
	it := mustNew(t, defs...)
	negz := math.Copysign(0, -1)
	long := func(rows, n int, f func(i int) float64) runtime.Value {
		xs := make([]float64, rows*n)
		for i := range xs {
			xs[i] = f(i)
		}
		return mat(rows, n, xs...)
	}
	ok := []struct {
		name string
		def  string
		args func() []runtime.Value
	}{
		{"one op", "mul", func() []runtime.Value {
			return []runtime.Value{f64s(1, negz, 3), f64s(2, 0, -1), f64s(0.5, negz, 7)}
		}},
		{"matrix", "chain", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), runtime.I64(0), mat(2, 2, 5, 6, 7, 8), mat(2, 2, 0.1, 0.2, 0.3, 0.4)}
		}},
		{"row", "at", func() []runtime.Value {
			return []runtime.Value{mat(2, 3, 1, 2, 3, negz, negz, 6), runtime.I64(1), f64s(1, negz, 3), f64s(negz, 0, 0.5)}
		}},
		{"reads the accumulator", "self", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), runtime.I64(1)}
		}},
		{"reads the row it adds to", "self", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), runtime.I64(0)}
		}},
		{"rows of several pieces", "self", func() []runtime.Value {
			return []runtime.Value{long(2, 3*runtime.SumPiece+5, func(i int) float64 { return float64(i%7) - 3 }), runtime.I64(0)}
		}},
	}
	for _, c := range ok {
		matchesRef(t, it, c.name, c.def, c.def+"_ref", c.args)
	}
	bad := []errCase{
		{"chain shapes first", "at", []runtime.Value{mat(1, 2, 0, 0), runtime.I64(5), f64s(1, 2, 3), f64s(1, 2)}, 2, "shape mismatch"},
		{"index", "at", []runtime.Value{mat(1, 2, 0, 0), runtime.I64(1), f64s(1, 2), f64s(1, 2)}, 1, "index 1 out of range [0, 1)"},
		{"row shape", "at", []runtime.Value{mat(1, 2, 0, 0), runtime.I64(0), f64s(1, 2, 3), f64s(1, 2, 3)}, 1, "acc_add_at: row shapes [2] and [3] differ"},
		{"shape", "mul", []runtime.Value{f64s(0, 0), f64s(1, 2, 3), f64s(1, 2, 3)}, 1, "acc_add: shapes [2] and [3] differ"},
		{"index in the chain", "self", []runtime.Value{mat(1, 2, 0, 0), runtime.I64(1)}, 2, "index 1 out of range [0, 1)"},
	}
	checkErrs(t, it, bad)
	for i := range bad { // the primitives fail alike
		bad[i].def += "_ref"
	}
	checkErrs(t, it, bad)
	// Steps run out in the chain or at the add, as with the primitives.
	for _, lim := range []int64{1, 3, 5} {
		args := func() []runtime.Value { return []runtime.Value{f64s(1, 2, 3), f64s(1, 2, 3), f64s(1, 2, 3)} }
		_, err := it.Call(context.Background(), "mul", args(), runtime.Limits{Steps: lim})
		_, errRef := it.Call(context.Background(), "mul_ref", args(), runtime.Limits{Steps: lim})
		var e, eRef *ir.Error
		if (err == nil) != (errRef == nil) || err != nil && (!errors.Is(err, runtime.ErrStepLimit) || !errors.As(err, &e) || !errors.As(errRef, &eRef) || e.Pos != eRef.Pos) {
			t.Errorf("%d steps: %v, the primitives: %v", lim, err, errRef)
		}
	}
}

// TestLetTupleLoop checks let r = loop ... in ... r.0 ... r.1 with the
// loop's result kept in slots (letTupleLoop), at the top of a def and in
// the body of another tuple loop, against the same loop whose result is
// also used whole (a tuple made as before): results, steps, an error in
// the inner loop at its position, and zeros_like of a vector (NewVec).
func TestLetTupleLoop(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	// inner(x, n, g, s) = loop (g, s) for i < n do (acc_add_at(g, i, 2.0 * x[i]), s + x[i]) (x[i] on line 3)
	inner := func(x, n, g, s ir.Expr) ir.Expr {
		at(&b, 2)
		return b.For("st", b.Tuple(g, s), "i", n, func(st, i *ir.Var) ir.Expr {
			at(&b, 3)
			xi := p(ir.PrimIndex, x, i)
			at(&b, 2)
			return b.Tuple(p(ir.PrimAccAddAt, b.Proj(st, 0), i, p(ir.PrimMul, b.F64(2), xi)), p(ir.PrimAdd, b.Proj(st, 1), xi))
		})
	}
	// use(r) is (r.0, 3.0 * r.1), or (r.0, 3.0 * r.1 + 0.0 * q.1) with q = r whole.
	use := func(whole bool, k func(g, s ir.Expr) ir.Expr) func(*ir.Var) ir.Expr {
		return func(r *ir.Var) ir.Expr {
			if whole {
				return b.Let("q", r, func(q *ir.Var) ir.Expr {
					return k(b.Proj(r, 0), p(ir.PrimAdd, p(ir.PrimMul, b.F64(3), b.Proj(r, 1)), p(ir.PrimMul, b.F64(0), b.Proj(q, 1))))
				})
			}
			return k(b.Proj(r, 0), p(ir.PrimMul, b.F64(3), b.Proj(r, 1)))
		}
	}
	top := func(name string, whole bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"x", "n"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
			at(&b, 4)
			z := p(ir.PrimZerosLike, v[0])
			return b.Let("r", inner(v[0], v[1], z, b.F64(0)), use(whole, func(g, s ir.Expr) ir.Expr { return b.Tuple(g, s) }))
		})
	}
	// nested(x, n) = loop (g, s) = (zeros_like(x), 0.0) for j < 3 do
	//   let r = inner(x, n, g, s) in (r.0, 3.0 * r.1)
	nested := func(name string, whole bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"x", "n"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
			at(&b, 5)
			return b.For("o", b.Tuple(p(ir.PrimZerosLike, v[0]), b.F64(0)), "j", b.I64(3), func(o, _ *ir.Var) ir.Expr {
				return b.Let("r", inner(v[0], v[1], b.Proj(o, 0), b.Proj(o, 1)), use(whole, func(g, s ir.Expr) ir.Expr { return b.Tuple(g, s) }))
			})
		})
	}
	// dies(x, n) = (let r = inner(x, n, zeros_like(x), 0.0) in sum(r.0) + r.1, 1.0):
	// r.0 is the loop's own array and dies with the let (releaseFields).
	dies := func(name string, whole bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"x", "n"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
			at(&b, 4)
			z := p(ir.PrimZerosLike, v[0])
			return b.Tuple(b.Let("r", inner(v[0], v[1], z, b.F64(0)), use(whole, func(g, s ir.Expr) ir.Expr { return p(ir.PrimAdd, p(ir.PrimSum, g), s) })), b.F64(1))
		})
	}
	it := mustNew(t, top("top", false), top("top_ref", true), nested("nested", false), nested("nested_ref", true), dies("dies", false), dies("dies_ref", true))
	if !it.loopFieldFresh(it.defs["dies"].def.Body.(*ir.MakeTuple).Elems[0].(*ir.Let).Value.(*ir.Loop), 0) {
		t.Errorf("dies: the loop's field 0 is not seen as fresh")
	}
	for range 3 { // again: storage recycled by the last call
		got, want := call(t, it, "dies", f64s(1, 2, 3), runtime.I64(3)), call(t, it, "dies_ref", f64s(1, 2, 3), runtime.I64(3))
		if !same(got, want) {
			t.Errorf("dies: got %s, want %s", show(got), show(want))
		}
	}
	negz := math.Copysign(0, -1)
	for _, def := range []string{"top", "nested"} {
		args := func() []runtime.Value { return []runtime.Value{f64s(1.5, negz, -2, 0.25), runtime.I64(4)} }
		got, want := call(t, it, def, args()...), call(t, it, def+"_ref", args()...)
		if !same(got, want) || !bits(got.R.(runtime.Tuple)[0], want.R.(runtime.Tuple)[0]) {
			t.Errorf("%s: got %s, want %s", def, show(got), show(want))
		}
		if sh, sr := stepsUsed(t, it, def, args()...), stepsUsed(t, it, def+"_ref", args()...); sh != sr {
			t.Errorf("%s: %d steps, the tuple loop takes %d", def, sh, sr)
		}
		e, err := callErr(t, it, def, runtime.Limits{}, f64s(1, 2), runtime.I64(3))
		if e.Pos != pos(3) || !strings.Contains(err.Error(), "index 2 out of range [0, 2)") {
			t.Errorf("%s: %v at %s, want the index error at line 3", def, err, e.Pos)
		}
		_, err = callErr(t, it, def, runtime.Limits{Steps: 2}, f64s(1, 2, 3, 4), runtime.I64(4))
		if !errors.Is(err, runtime.ErrStepLimit) {
			t.Errorf("%s: %v does not wrap ErrStepLimit", def, err)
		}
	}
}

// TestZerosLikeVector checks zeros_like of a vector (compileZerosLike):
// zeros of the length, also when its argument is a fresh array whose
// storage the zero takes, and an error in the argument at its position.
func TestZerosLikeVector(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	at(&b, 1)
	z := b.Def("z", []string{"x", "i"}, []ir.Type{vec(vec(F)), I}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		row := p(ir.PrimIndex, v[0], v[1])
		at(&b, 1)
		return p(ir.PrimZerosLike, p(ir.PrimMul, row, b.F64(2)))
	})
	it := mustNew(t, z)
	for i := 0; i < 3; i++ { // again: the storage recycled by the last call
		if got := call(t, it, "z", mat(2, 3, 1, 2, 3, 4, 5, 6), runtime.I64(1)); !bits(got, f64s(0, 0, 0)) {
			t.Errorf("zeros_like: got %s", show(got))
		}
	}
	e, err := callErr(t, it, "z", runtime.Limits{}, mat(1, 3, 1, 2, 3), runtime.I64(1))
	if e.Pos != pos(2) || !strings.Contains(err.Error(), "index 1 out of range [0, 1)") {
		t.Errorf("zeros_like: %v at %s, want the index error at line 2", err, e.Pos)
	}
}
