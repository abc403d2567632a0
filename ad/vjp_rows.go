// Cotangents of short arrays kept row by row.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// maxRows bounds the static length of an array whose cotangent is kept
// row by row (a 3-vector of points, the 11 parameters of a camera).
const maxRows = 16

// rowAdjoint is the cotangent of an array of static length that only
// constant rows have been added to: rows[k] is row k's cotangent, nil
// for a zero row. Reverse mode reads a[0], a[1], a[2] of small arrays
// (a cross product, a rotation): accumulating the rows apart and making
// the array once, as a literal when every row has a cotangent, starts
// each row from its first contribution, where a zero accumulator costs
// an addition per row (acc_add_at into zeros_like) and its zero fill.
type rowAdjoint struct {
	x    *ir.Var // the array
	rows []ir.Expr
}

// addRow adds c to row i of x's cotangent in row form and reports
// whether it could: x is an f64 array of static length at most maxRows
// whose cotangent is zero, borrowed or in row form, i is a constant row of it, and
// c is a row's cotangent that is not a padded slice (acc_add_at adds
// pad_like(...) without making it, which row form would lose).
func (r *rev) addRow(blk *block, x *ir.Var, i, c ir.Expr) bool {
	cur := r.adj[x]
	if cur != nil && cur.rows == nil && !(cur.borrowed && cur.val != nil && cur.elems == nil) {
		return false
	}
	t, ok := x.T.(*ir.Array)
	if !ok || !t.Dim.Known() || t.Dim.N < 1 || t.Dim.N > maxRows {
		return false
	}
	if _, cols := tupleArray(t); cols {
		return false
	}
	if k, f64 := ir.Leaf(t); !f64 || k != ir.F64 || !ir.Equal(c.Type(), t.Elem) {
		return false
	}
	k, ok := i.(*ir.Const)
	if !ok {
		return false
	}
	n, ok := k.Val.(int64)
	if !ok || n < 0 || n >= t.Dim.N {
		return false
	}
	if pc, ok := c.(*ir.PrimCall); ok && pc.Op == ir.PrimPadLike {
		return false
	}
	out := &rowAdjoint{x: x, rows: make([]ir.Expr, t.Dim.N)}
	switch {
	case cur == nil:
	case cur.rows != nil:
		copy(out.rows, cur.rows.rows)
	default:
		// A borrowed cotangent (another value, which accOf would copy
		// whole before adding the row): its rows, read as they are.
		for k := range out.rows {
			out.rows[k] = blk.bind("c", blk.builder().Prim(ir.PrimIndex, cur.val, ir.I64Const(int64(k), blk.pos)))
		}
	}
	cv := blk.bind("c", c)
	if prev := out.rows[n]; prev != nil {
		// A new value: the rows may be cotangents passed on unchanged.
		cv = blk.bind("c", blk.builder().Prim(ir.PrimAdd, prev, cv))
	}
	out.rows[n] = cv
	r.adj[x] = &adjoint{rows: out}
	return true
}

// dense returns cur with a cotangent in row form made an array: the
// literal of the rows when each has one (each row is copied once), else
// the rows added into a zero array. Anything but addRow reads an adjoint
// through it.
func dense(blk *block, cur *adjoint) *adjoint {
	if cur == nil || cur.rows == nil {
		return cur
	}
	b := blk.builder()
	rows := cur.rows.rows
	full := true
	for _, c := range rows {
		full = full && c != nil
	}
	if full {
		return &adjoint{val: blk.bind("acc", b.Prim(ir.PrimArray, rows...))}
	}
	acc := blk.bind("acc", b.Prim(ir.PrimZerosLike, cur.rows.x))
	for k, c := range rows {
		if c != nil {
			acc = blk.bind("acc", b.Prim(ir.PrimAccAddAt, acc, ir.I64Const(int64(k), blk.pos), c))
		}
	}
	return &adjoint{val: acc}
}
