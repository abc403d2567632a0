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

// newRowSumAndTyped compiles defs twice: with the row fast path
// (typed_dot.go) and without it (noRowSum), the typed path as reference.
func newRowSumAndTyped(t *testing.T, defs ...*ir.Def) (typed, fast *Interp) {
	t.Helper()
	noRowSum = true
	typed = mustNew(t, defs...)
	noRowSum = false
	return typed, mustNew(t, defs...)
}

// rowDefs are sums and builds over rows read in place, as the GMM
// objective writes them: q is a matrix, q3 a rank-3 array, v a vector,
// j and r rows, n the count. The rows' reads are on line 2, v's on
// line 3, the comprehensions on line 4.
func rowDefs(b *ir.Builder) []*ir.Def {
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	cube := ir.ArrayOf(ir.Unknown, mat)
	rowOf := func(q, j, c *ir.Var) ir.Expr {
		at(b, 2)
		return p(ir.PrimIndex, p(ir.PrimIndex, q, j), c)
	}
	elem := func(v, c *ir.Var) ir.Expr {
		at(b, 3)
		return p(ir.PrimIndex, v, c)
	}
	comp := func(n *ir.Var, body func(c *ir.Var) ir.Expr) ir.Expr {
		lam := b.Lambda([]string{"c"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr { return body(v[0]) })
		at(b, 4)
		return b.Prim(ir.PrimBuild, n, lam)
	}
	var defs []*ir.Def
	for _, op := range []struct {
		name string
		prim *ir.Prim
	}{{"Mul", ir.PrimMul}, {"Add", ir.PrimAdd}, {"Sub", ir.PrimSub}} {
		at(b, 1)
		defs = append(defs, b.Def("dot"+op.name, []string{"q", "j", "v", "n"}, []ir.Type{mat, I, vec(F), I}, func(a []*ir.Var) ir.Expr {
			return p(ir.PrimSum, comp(a[3], func(c *ir.Var) ir.Expr { return p(op.prim, rowOf(a[0], a[1], c), elem(a[2], c)) }))
		}))
		at(b, 1)
		defs = append(defs, b.Def("row"+op.name, []string{"q", "j", "v", "n"}, []ir.Type{mat, I, vec(F), I}, func(a []*ir.Var) ir.Expr {
			return comp(a[3], func(c *ir.Var) ir.Expr { return p(op.prim, rowOf(a[0], a[1], c), elem(a[2], c)) })
		}))
	}
	at(b, 1)
	defs = append(defs, b.Def("rowSum", []string{"q", "j", "n"}, []ir.Type{mat, I, I}, func(a []*ir.Var) ir.Expr {
		return p(ir.PrimSum, comp(a[2], func(c *ir.Var) ir.Expr { return rowOf(a[0], a[1], c) }))
	}))
	at(b, 1)
	defs = append(defs, b.Def("square", []string{"v", "n"}, []ir.Type{vec(F), I}, func(a []*ir.Var) ir.Expr {
		return p(ir.PrimSum, comp(a[1], func(c *ir.Var) ir.Expr { return p(ir.PrimMul, elem(a[0], c), elem(a[0], c)) }))
	}))
	// cube: [sum([q3[j][r][c] * v[c] for c < n]) for r < n], the GMM's
	// triangular product; the outer build's body is the sum.
	at(b, 1)
	defs = append(defs, b.Def("cube", []string{"q3", "j", "v", "n"}, []ir.Type{cube, I, vec(F), I}, func(a []*ir.Var) ir.Expr {
		return comp(a[3], func(r *ir.Var) ir.Expr {
			return p(ir.PrimSum, comp(a[3], func(c *ir.Var) ir.Expr {
				at(b, 2)
				qc := p(ir.PrimIndex, p(ir.PrimIndex, p(ir.PrimIndex, a[0], a[1]), r), c)
				return p(ir.PrimMul, qc, elem(a[2], c))
			}))
		})
	}))
	return defs
}

// rowSumRan reports whether calling f ran the fast path.
func rowSumRan(f func()) bool {
	countRowSums = true
	defer func() { countRowSums = false }()
	before := rowSumRuns.Load()
	f()
	return rowSumRuns.Load() > before
}

// TestRowSumBitIdentical checks the fast path against the typed path
// over hostile values and counts on both sides of 4, 16 and smallSum
// (the sum's order changes there): values to the bit (vecSame: which NaN
// comes out of an operation on two NaNs is the Go compiler's choice, on
// either path) and steps.
func TestRowSumBitIdentical(t *testing.T) {
	var b ir.Builder
	typed, fast := newRowSumAndTyped(t, rowDefs(&b)...)
	for _, vals := range []func(int) []float64{hostile, finite} {
		for _, n := range []int{0, 1, 3, 4, 5, 10, 15, 16, 17, 31, 32, 33, 40} {
			const rows = 3
			q := &runtime.Array{Shape: []int{rows, n}, Kind: runtime.ElemF64, F: vals(rows * n)}
			q3 := &runtime.Array{Shape: []int{rows, n, n}, Kind: runtime.ElemF64, F: vals(rows * n * n)}
			v := f64s(vals(n + 5)[5:]...)
			j, nn := runtime.I64(2), runtime.I64(int64(n))
			cases := []struct {
				name string
				args []runtime.Value
			}{
				{"dotMul", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"dotAdd", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"dotSub", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"rowMul", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"rowAdd", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"rowSub", []runtime.Value{runtime.Arr(q), j, v, nn}},
				{"rowSum", []runtime.Value{runtime.Arr(q), j, nn}},
				{"square", []runtime.Value{v, nn}},
				{"cube", []runtime.Value{runtime.Arr(q3), runtime.I64(1), v, nn}},
			}
			for _, tc := range cases {
				var got runtime.Value
				ran := rowSumRan(func() { got = call(t, fast, tc.name, tc.args...) })
				// Sums and builds of up to smallSum terms take the fast path
				// (cube's outer build runs no comprehension when n is 0).
				if expect := n <= smallSum && (tc.name != "cube" || n > 0); ran != expect {
					t.Errorf("%s n=%d: fast path ran %v", tc.name, n, ran)
				}
				want := call(t, typed, tc.name, tc.args...)
				if !vecSame(got, want) {
					t.Errorf("%s n=%d: %s, the typed path %s", tc.name, n, show(got), show(want))
				}
				if sf, st := stepsUsed(t, fast, tc.name, tc.args...), stepsUsed(t, typed, tc.name, tc.args...); sf != st {
					t.Errorf("%s n=%d: %d steps, the typed path takes %d", tc.name, n, sf, st)
				}
			}
		}
	}
}

// finite is n finite values of both signs and magnitudes from 1e-9 to
// 1e9, so that the order of a sum shows in its last bits.
func finite(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Pow(10, float64((i*7)%19-9)) * (1 + float64(i%5)/7)
		if i%3 == 1 {
			xs[i] = -xs[i]
		}
	}
	return xs
}

// TestRowSumErrors checks that sums whose terms would fail (a short row,
// a short vector, a row index out of range, a matrix where a rank-3
// array is expected is ruled out by types) fail at the same element,
// place and message as the typed path, and stop at the same step limits.
func TestRowSumErrors(t *testing.T) {
	var b ir.Builder
	typed, fast := newRowSumAndTyped(t, rowDefs(&b)...)
	q := &runtime.Array{Shape: []int{2, 10}, Kind: runtime.ElemF64, F: hostile(20)}
	cases := []struct {
		name string
		args []runtime.Value
		pos  ir.Pos
		msg  string
	}{
		// n past the row: q[j][10] fails on line 2.
		{"dotMul", []runtime.Value{runtime.Arr(q), runtime.I64(1), f64s(hostile(12)...), runtime.I64(12)}, pos(2), "index 10 out of range [0, 10)"},
		{"rowSub", []runtime.Value{runtime.Arr(q), runtime.I64(1), f64s(hostile(12)...), runtime.I64(12)}, pos(2), "index 10 out of range [0, 10)"},
		{"rowSum", []runtime.Value{runtime.Arr(q), runtime.I64(0), runtime.I64(11)}, pos(2), "index 10 out of range [0, 10)"},
		// v short: v[7] fails on line 3.
		{"dotAdd", []runtime.Value{runtime.Arr(q), runtime.I64(0), f64s(hostile(7)...), runtime.I64(10)}, pos(3), "index 7 out of range [0, 7)"},
		{"rowMul", []runtime.Value{runtime.Arr(q), runtime.I64(0), f64s(hostile(7)...), runtime.I64(10)}, pos(3), "index 7 out of range [0, 7)"},
		{"square", []runtime.Value{f64s(hostile(3)...), runtime.I64(4)}, pos(3), "index 3 out of range [0, 3)"},
		// j out of range, either side: q[j] fails on line 2.
		{"dotSub", []runtime.Value{runtime.Arr(q), runtime.I64(2), f64s(hostile(10)...), runtime.I64(10)}, pos(2), "index 2 out of range [0, 2)"},
		{"rowAdd", []runtime.Value{runtime.Arr(q), runtime.I64(-1), f64s(hostile(10)...), runtime.I64(10)}, pos(2), "index -1 out of range [0, 2)"},
		// A negative count fails at the comprehension, line 4.
		{"dotMul", []runtime.Value{runtime.Arr(q), runtime.I64(0), f64s(hostile(10)...), runtime.I64(-1)}, pos(4), "negative"},
	}
	for _, tc := range cases {
		for _, it := range []*Interp{fast, typed} {
			e, err := callErr(t, it, tc.name, runtime.Limits{}, tc.args...)
			if e.Pos != tc.pos || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s (typed path %v): %v at %s, want %q at %s", tc.name, it == typed, err, e.Pos, tc.msg, tc.pos)
			}
		}
		ef, errF := callErr(t, fast, tc.name, runtime.Limits{}, tc.args...)
		et, errT := callErr(t, typed, tc.name, runtime.Limits{}, tc.args...)
		if ef.Pos != et.Pos || errF.Error() != errT.Error() {
			t.Errorf("%s: %v, the typed path %v", tc.name, errF, errT)
		}
	}
	// Step limits inside the sums and builds: the same failures.
	q3 := &runtime.Array{Shape: []int{1, 20, 20}, Kind: runtime.ElemF64, F: hostile(400)}
	args := []runtime.Value{runtime.Arr(q3), runtime.I64(0), f64s(hostile(20)...), runtime.I64(20)}
	total := stepsUsed(t, fast, "cube", args...)
	for _, steps := range []int64{1, 5, total / 3, total / 2, total - 1} {
		ef, errF := callErr(t, fast, "cube", runtime.Limits{Steps: steps}, args...)
		et, errT := callErr(t, typed, "cube", runtime.Limits{Steps: steps}, args...)
		if !errors.Is(errF, runtime.ErrStepLimit) || ef.Pos != et.Pos || errF.Error() != errT.Error() {
			t.Errorf("cube under %d steps: %v at %s, the typed path %v at %s", steps, errF, ef.Pos, errT, et.Pos)
		}
	}
	// A NaN row index cannot happen (indexes are i64), but a huge one can.
	e, err := callErr(t, fast, "rowSum", runtime.Limits{}, runtime.Arr(q), runtime.I64(math.MaxInt64), runtime.I64(3))
	if want := fmt.Sprintf("index %d out of range [0, 2)", int64(math.MaxInt64)); e.Pos != pos(2) || !strings.Contains(err.Error(), want) {
		t.Errorf("rowSum at MaxInt64: %v at %s, want %q at line 2", err, e.Pos, want)
	}
}
