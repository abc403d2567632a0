package interp

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Short sums over rows read in place. The element-wise GMM objective
// spends its time in sums like sum([qs[j][r][c] * diff[c] for c < d])
// with d = 10: each term costs the typed path a bind of c and two or
// three closure calls, and a sum of ten terms a few more. When the body
// of such a sum is a row element, or two row elements combined by +, -
// or *, where each row element is a[i]...[j][c] of an f64 array and
// variables a, i, ..., j bound outside the sum and c its index, the rows
// are fixed slices of the arrays for the whole sum. rowSum then adds the
// terms straight from the slices, in the order sumF's own loop adds
// them, so the result is the typed path's to the bit (each term is the
// same IEEE operation, rounded and stored, before it is added).
//
// The fast path runs only when no term can fail: every array is there,
// of the expected rank, every prefix index is in range, and the count is
// at most the rows' length. Otherwise, and for counts above smallSum
// (left to sumF's other paths), the sum runs as before and fails where
// and as that path fails. Steps are charged as sumF charges them, before
// the first term.

// noRowSum, set by tests, turns the fast path off to compare with the
// typed path.
var noRowSum bool

// countRowSums, set by tests, makes the fast path count its runs in
// rowSumRuns (a counter on every run would cost the sums it speeds up).
var (
	countRowSums bool
	rowSumRuns   atomic.Int64
)

// rowRef is a[i]...[j][c] with every slot bound outside the sum: the
// array's slot and the prefix indexes' slots.
type rowRef struct {
	arr int
	pre []int
}

// rowSum is a sum's body: the single row x, or x op y.
type rowSum struct {
	x, y rowRef
	two  bool
	op   binOp // fAdd, fSub or fMul when two
}

// rowRefOf recognizes a row element in e, the body of comprehension cp.
func (c *fnComp) rowRefOf(cp *comp, e ir.Expr) (rowRef, bool) {
	var idx []ir.Expr
	x := e
	for {
		pc, ok := x.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex || len(pc.Args) != 2 {
			break
		}
		idx = append(idx, pc.Args[1])
		x = pc.Args[0]
	}
	if len(idx) == 0 || !ir.Identical(e.Type(), ir.TF64) {
		return rowRef{}, false
	}
	// outside is the slot of a variable bound outside the comprehension.
	outside := func(x ir.Expr) (int, bool) {
		v, ok := x.(*ir.Var)
		if !ok {
			return 0, false
		}
		s, ok := c.locals[v]
		return s, ok && s < cp.base
	}
	a, ok := outside(x)
	if !ok {
		return rowRef{}, false
	}
	// idx is innermost first: idx[0] is the last index, the sum's own.
	if v, ok := idx[0].(*ir.Var); !ok || len(cp.params) != 1 || v != cp.params[0] || cp.ix < 0 {
		return rowRef{}, false
	}
	r := rowRef{arr: a}
	for k := len(idx) - 1; k >= 1; k-- {
		s, ok := outside(idx[k])
		if !ok {
			return rowRef{}, false
		}
		r.pre = append(r.pre, s)
	}
	return r, true
}

// rowSumOf recognizes the body of build comprehension cp as a rowSum;
// nil if it is not one.
func (c *fnComp) rowSumOf(cp *comp) *rowSum {
	if noRowSum || plainTyped {
		return nil
	}
	if r, ok := c.rowRefOf(cp, cp.body); ok {
		return &rowSum{x: r}
	}
	pc, ok := cp.body.(*ir.PrimCall)
	if !ok || len(pc.Args) != 2 || !ir.Identical(pc.T, ir.TF64) {
		return nil
	}
	op, ok := binOpOf(pc.Op, ir.F64, ir.F64)
	if !ok || (op != fAdd && op != fSub && op != fMul) {
		return nil
	}
	x, ok := c.rowRefOf(cp, pc.Args[0])
	if !ok {
		return nil
	}
	y, ok := c.rowRefOf(cp, pc.Args[1])
	if !ok {
		return nil
	}
	return &rowSum{x: x, y: y, two: true, op: op}
}

// row returns the row of r that the sum reads, n elements long; ok is
// false if it is not there or shorter than n (the typed path then
// reports what is wrong).
func (r *rowRef) row(fr *frame, n int) ([]float64, bool) {
	a, _ := fr.slots[r.arr].R.(*runtime.Array)
	if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != len(r.pre)+1 {
		return nil, false
	}
	off := 0
	for k, s := range r.pre {
		i, m := fr.slots[s].I, a.Shape[k]
		if uint64(i) >= uint64(m) {
			return nil, false
		}
		off = off*m + int(i)
	}
	w := a.Shape[len(r.pre)]
	if n > w {
		return nil, false
	}
	off *= w
	return a.F[off : off+n : off+n], true
}

// terms computes the n <= smallSum terms into t[:n], after charging
// perElem steps per term as the typed path does; ok is false, with
// nothing done, if a term could fail. A step failure is recorded in fr
// and reported with ok true, as the typed path records it.
func (rs *rowSum) terms(fr *frame, cp *comp, n int, perElem int64, t []float64) bool {
	if n > smallSum {
		return false
	}
	x, ok := rs.x.row(fr, n)
	if !ok {
		return false
	}
	var y []float64
	if rs.two {
		if y, ok = rs.y.row(fr, n); !ok {
			return false
		}
	}
	if countRowSums {
		rowSumRuns.Add(1)
	}
	if !compStep(fr, cp, 0, n, perElem) {
		return true
	}
	t = t[:n]
	// Each term rounded and stored by itself: float64(...) keeps the
	// compiler from fusing a product into an addition.
	switch {
	case !rs.two:
		copy(t, x)
	case rs.op == fAdd:
		for k := range t {
			t[k] = float64(x[k] + y[k])
		}
	case rs.op == fSub:
		for k := range t {
			t[k] = float64(x[k] - y[k])
		}
	default:
		for k := range t {
			t[k] = float64(x[k] * y[k])
		}
	}
	return true
}

// sum adds the n terms as sumF's loop does; ok as for terms.
func (rs *rowSum) sum(fr *frame, cp *comp, n int) (float64, bool) {
	var buf [smallSum]float64
	if !rs.terms(fr, cp, n, cp.steps+1, buf[:]) {
		return 0, false
	}
	if fr.err != nil {
		return 0, true
	}
	t := buf[:n]
	if n < 16 {
		// sumF's order for fewer than 16 terms.
		var a0, a1, a2, a3 float64
		k := 0
		for ; n-k >= 4; k += 4 {
			a0 += t[k]
			a1 += t[k+1]
			a2 += t[k+2]
			a3 += t[k+3]
		}
		r := (a0 + a2) + (a1 + a3)
		for ; k < n; k++ {
			r += t[k]
		}
		return r, true
	}
	acc := runtime.NewSumAcc(n)
	return acc.Sum(t), true
}
