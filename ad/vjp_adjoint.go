// Cotangent bookkeeping: accumulating, splitting and materializing the
// adjoints of the reverse sweep.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// adjoint is a cotangent being accumulated: a scalar value, an array
// accumulator (updated in place), per-field cotangents of a tuple, or
// per-column cotangents of an array of tuples (see tupleArray).
type adjoint struct {
	val   ir.Expr
	elems []*adjoint
	// borrowed marks an array cotangent that is another value (a
	// cotangent passed on unchanged): it must be copied before it is
	// updated in place (accOf).
	borrowed bool
	// rows: the cotangent of a short array in row form (vjp_rows.go);
	// val is nil until dense makes the array.
	rows *rowAdjoint
}

// addTo adds the cotangent c (of x's type) to x's.
func (r *rev) addTo(blk *block, x ir.Expr, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil {
		return
	}
	r.adj[v] = r.add(blk, v, r.adj[v], c)
}

func (r *rev) add(blk *block, x ir.Expr, cur *adjoint, c ir.Expr) *adjoint {
	cur = dense(blk, cur)
	b := blk.builder()
	switch t := x.Type().(type) {
	case ir.Scalar:
		if t.Kind != ir.F64 {
			return cur
		}
		if cur == nil {
			return &adjoint{val: blk.bind("g", c)}
		}
		return &adjoint{val: blk.bind("g", b.Prim(ir.PrimAdd, cur.val, c))}
	case *ir.Array:
		if cv, ok := c.(*ir.Var); ok && cur == nil && r.fresh[cv] && ir.Equal(cv.T, t) {
			// A fresh array of x's shape becomes x's accumulator as it is,
			// rather than being copied into a new zero one.
			delete(r.fresh, cv)
			return &adjoint{val: cv}
		}
		if _, ok := tupleArray(t); ok {
			cur = r.splitCols(blk, x, cur)
			out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
			xs, cs := columns(blk, x), columns(blk, blk.bind("c", c))
			for j := range xs {
				out.elems[j] = r.add(blk, xs[j], out.elems[j], cs[j])
			}
			return out
		}
		if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
			r.unsupported(blk, t)
			return cur
		}
		if ir.Equal(c.Type(), t) { // not broadcast: x's shape
			switch {
			case cur == nil:
				// Borrowed: the cotangent is c itself until something
				// would update it in place (accOf copies it then).
				return &adjoint{val: blk.bind("c", c), borrowed: true}
			case cur.borrowed:
				// A new array in one pass, rather than a copy and an add.
				return &adjoint{val: blk.bind("g", b.Prim(ir.PrimAdd, cur.val, c))}
			}
		}
		acc := r.accOf(blk, x, cur)
		return &adjoint{val: blk.bind("acc", b.Prim(ir.PrimAccAdd, acc, blk.bind("c", c)))}
	case *ir.Tuple:
		if cur == nil {
			cur = &adjoint{elems: make([]*adjoint, len(t.Elems))}
		} else if cur.elems == nil {
			cur = r.split(blk, x, cur.val)
		}
		out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
		cv := blk.bind("c", c)
		xv := blk.bind("x", x)
		for i := range t.Elems {
			xi := blk.bind("x", &ir.Proj{X: xv, Index: i, P: blk.pos})
			ci := blk.bind("c", &ir.Proj{X: cv, Index: i, P: blk.pos})
			out.elems[i] = r.add(blk, xi, out.elems[i], ci)
		}
		return out
	}
	return cur
}

// split views a materialized tuple cotangent as per-field cotangents.
func (r *rev) split(blk *block, x ir.Expr, val ir.Expr) *adjoint {
	if _, ok := tupleArray(x.Type()); ok {
		// Columns of a materialized array of tuples (fresh arrays: unzip
		// copies, so they can serve as accumulators).
		vs := columns(blk, val)
		out := &adjoint{elems: make([]*adjoint, len(vs))}
		for j, v := range vs {
			if _, nested := tupleArray(v.Type()); nested {
				out.elems[j] = r.split(blk, v, v)
			} else {
				out.elems[j] = &adjoint{val: v}
			}
		}
		return out
	}
	t := x.Type().(*ir.Tuple)
	out := &adjoint{elems: make([]*adjoint, len(t.Elems))}
	for i, et := range t.Elems {
		f := blk.bind("g", &ir.Proj{X: val, Index: i, P: blk.pos})
		if _, isTuple := et.(*ir.Tuple); isTuple {
			xi := blk.bind("x", &ir.Proj{X: x, Index: i, P: blk.pos})
			out.elems[i] = r.split(blk, xi, f)
		} else {
			out.elems[i] = &adjoint{val: f}
		}
	}
	return out
}

// bindFresh binds a cotangent c. If c certainly evaluates to a newly
// allocated f64 array (elementwise arithmetic on arrays, a matrix or outer
// product, pad_like, or acc_add into a zeros_like: the fill of sum's rule)
// it is marked fresh: add may then adopt it as an accumulator, saving a
// zero array and a copy per cotangent. Values of other primitives (index,
// reshape, ...) may share storage and are never adopted.
func (r *rev) bindFresh(blk *block, c ir.Expr) ir.Expr {
	v := blk.bind("c", c)
	pc, ok := c.(*ir.PrimCall)
	if cv, isVar := v.(*ir.Var); ok && isVar && ir.Rank(pc.T) > 0 {
		if k, f64 := ir.Leaf(pc.T); f64 && k == ir.F64 {
			switch {
			case pc.Op.Storage == ir.Fresh:
				// New storage by declaration: arithmetic, products,
				// pad_like, update (a copy), ...
				r.fresh[cv] = true
			case pc.Op == ir.PrimAccAdd:
				if z, ok := pc.Args[0].(*ir.PrimCall); ok && z.Op == ir.PrimZerosLike {
					r.fresh[cv] = true
					if ir.Rank(pc.Args[1].Type()) == 0 && ir.IsAtom(pc.Args[1]) {
						r.fills[cv] = pc.Args[1] // sum's rule: ybar everywhere
					}
				}
			}
		}
	}
	return v
}

// fillOf returns s when the cotangent c is an array of s everywhere, as
// made by sum's rule (acc_add(zeros_like(x), s)) and not updated since:
// an update binds a new variable.
func (r *rev) fillOf(c ir.Expr) (ir.Expr, bool) {
	v, ok := c.(*ir.Var)
	if !ok {
		return nil, false
	}
	s, ok := r.fills[v]
	return s, ok
}

func isF64Const(e ir.Expr, v float64) bool {
	c, ok := e.(*ir.Const)
	if !ok {
		return false
	}
	f, ok := c.Val.(float64)
	return ok && f == v
}

// accOf returns x's accumulator, which the caller may update in place:
// a fresh zero one if there is none, a copy of a borrowed cotangent.
func (r *rev) accOf(blk *block, x ir.Expr, cur *adjoint) ir.Expr {
	cur = dense(blk, cur)
	if cur != nil && !cur.borrowed {
		return cur.val
	}
	z := blk.bind("acc", &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{x}, T: x.Type(), P: blk.pos})
	if cur == nil {
		return z
	}
	return blk.bind("acc", blk.builder().Prim(ir.PrimAccAdd, z, cur.val))
}

// addAt adds c to element i of array x's cotangent (cost O(|c|)).
func (r *rev) addAt(blk *block, x, i, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil || r.addRow(blk, v, i, c) {
		return
	}
	r.adj[v] = r.addAtAdj(blk, v.T, func() ir.Expr { return v }, r.adj[v], i, blk.bind("c", c))
}

// addAtAdj adds c to row i of cur, the cotangent of an array of type t.
// x gives the array itself, when a fresh accumulator needs its shape (it
// is a function so that the columns of an array of tuples are unzipped
// only then).
func (r *rev) addAtAdj(blk *block, t ir.Type, x func() ir.Expr, cur *adjoint, i, c ir.Expr) *adjoint {
	cur = dense(blk, cur)
	b := blk.builder()
	if tt, ok := tupleArray(t); ok {
		if cur == nil || cur.elems == nil {
			cur = r.splitCols(blk, x(), cur)
		}
		out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
		var xs []ir.Expr
		cs := fields(blk, t, c)
		for j := range tt.Elems {
			col := func() ir.Expr {
				if xs == nil {
					xs = columns(blk, x())
				}
				return xs[j]
			}
			out.elems[j] = r.addAtAdj(blk, colType(t, j), col, out.elems[j], i, cs[j])
		}
		return out
	}
	if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
		r.unsupported(blk, t)
		return cur
	}
	var acc ir.Expr
	if cur != nil && !cur.borrowed {
		acc = cur.val
	} else {
		acc = r.accOf(blk, x(), cur)
	}
	return &adjoint{val: blk.bind("acc", b.Prim(ir.PrimAccAddAt, acc, i, c))}
}

// tupleArray reports whether t is an array of tuples, [n](T1, ..., Tk),
// or an array of such arrays at any depth, [n][m]...(T1, ..., Tk), and
// returns the tuple type. The cotangent of such an array is kept as the
// cotangents of its k columns, of types [n]...T1, ..., [n]...Tk (unzip(x)
// for one level), so that adding into one element stays O(1) with
// accumulators, which hold arrays of f64 only. Reverse mode makes the
// nested form itself: a comprehension saving, per element, an inner
// loop's tape of tuples.
func tupleArray(t ir.Type) (*ir.Tuple, bool) {
	a, ok := t.(*ir.Array)
	if !ok {
		return nil, false
	}
	if tt, ok := a.Elem.(*ir.Tuple); ok {
		return tt, true
	}
	return tupleArray(a.Elem)
}

// colType is the type of column j of t, an array of tuples (tupleArray):
// t with its tuples replaced by their field j.
func colType(t ir.Type, j int) ir.Type {
	a := t.(*ir.Array)
	if tt, ok := a.Elem.(*ir.Tuple); ok {
		return ir.ArrayOf(a.Dim, tt.Elems[j])
	}
	return ir.ArrayOf(a.Dim, colType(a.Elem, j))
}

// fields returns the parts of c, an element of an array of tuples of type
// t, that go to t's columns: a tuple's fields, an inner array's columns.
func fields(blk *block, t ir.Type, c ir.Expr) []ir.Expr {
	tt, _ := tupleArray(t)
	if _, ok := t.(*ir.Array).Elem.(*ir.Tuple); !ok {
		return columns(blk, c)
	}
	out := make([]ir.Expr, len(tt.Elems))
	for j := range out {
		out[j] = blk.bind("c", &ir.Proj{X: c, Index: j, P: blk.pos})
	}
	return out
}

// columns binds the columns of x, an array of tuples, and returns them:
// unzip(x) for one level, and for [n]U, U an array of tuples,
// unzip(map(u => U's columns as a tuple, x)).
func columns(blk *block, x ir.Expr) []ir.Expr {
	t := x.Type().(*ir.Array)
	tt, _ := tupleArray(t)
	arr := x
	if _, ok := t.Elem.(*ir.Tuple); !ok {
		u := ir.NewVar("u", t.Elem, blk.pos)
		inner := &block{pos: blk.pos}
		body := inner.close(&ir.MakeTuple{Elems: columns(inner, u), P: blk.pos})
		rowT := make([]ir.Type, len(tt.Elems))
		for j := range rowT {
			rowT[j] = colType(t.Elem, j)
		}
		lam := &ir.Lambda{Params: []*ir.Var{u}, Body: body, P: blk.pos}
		arr = blk.bind("rows", &ir.PrimCall{Op: ir.PrimMap, Args: []ir.Expr{lam, x}, T: ir.ArrayOf(t.Dim, ir.TupleOf(rowT...)), P: blk.pos})
	}
	u := blk.bind("cols", &ir.PrimCall{Op: ir.PrimUnzip, Args: []ir.Expr{arr}, T: unzipType(arr.Type()), P: blk.pos})
	out := make([]ir.Expr, len(tt.Elems))
	for j := range out {
		out[j] = blk.bind("col", &ir.Proj{X: u, Index: j, P: blk.pos})
	}
	return out
}

// zipCols is the array of tuples t with the given columns: zip, or for
// one column (zip needs two) a map making 1-tuples; for arrays of arrays
// of tuples a map zipping the rows of the columns.
func zipCols(blk *block, t ir.Type, cols []ir.Expr) ir.Expr {
	a := t.(*ir.Array)
	if _, ok := a.Elem.(*ir.Tuple); ok && len(cols) > 1 {
		return blk.bind("g", &ir.PrimCall{Op: ir.PrimZip, Args: cols, T: t, P: blk.pos})
	}
	params := make([]*ir.Var, len(cols))
	elems := make([]ir.Expr, len(cols))
	for j, c := range cols {
		params[j] = ir.NewVar("a", c.Type().(*ir.Array).Elem, blk.pos)
		elems[j] = params[j]
	}
	var body ir.Expr = &ir.MakeTuple{Elems: elems, P: blk.pos}
	if _, ok := a.Elem.(*ir.Tuple); !ok {
		inner := &block{pos: blk.pos}
		body = inner.close(zipCols(inner, a.Elem, elems))
	}
	lam := &ir.Lambda{Params: params, Body: body, P: blk.pos}
	return blk.bind("g", &ir.PrimCall{Op: ir.PrimMap, Args: append([]ir.Expr{lam}, cols...), T: t, P: blk.pos})
}

func unzipType(t ir.Type) ir.Type {
	a := t.(*ir.Array)
	tt := a.Elem.(*ir.Tuple)
	cols := make([]ir.Type, len(tt.Elems))
	for j, e := range tt.Elems {
		cols[j] = ir.ArrayOf(a.Dim, e)
	}
	return ir.TupleOf(cols...)
}

// splitCols returns cur, the cotangent of an array of tuples x, in
// per-column form.
func (r *rev) splitCols(blk *block, x ir.Expr, cur *adjoint) *adjoint {
	switch {
	case cur == nil:
		tt, _ := tupleArray(x.Type())
		return &adjoint{elems: make([]*adjoint, len(tt.Elems))}
	case cur.elems == nil:
		return r.split(blk, x, cur.val)
	}
	return cur
}

// unsupported reports an array type whose cotangent reverse mode cannot
// represent rather than dropping it. Arrays of f64, of tuples and of
// arrays of tuples at any depth all have one, so this is a guard against
// leaf types added later.
func (r *rev) unsupported(blk *block, t ir.Type) {
	if k, ok := ir.Leaf(t); ok && k != ir.F64 {
		return // i64 and bool arrays have no cotangent
	}
	r.a.errorf(blk.pos, "reverse mode: cannot differentiate through a value of type %s", t)
}

// addComp adds c to field i of tuple x's cotangent.
func (r *rev) addComp(blk *block, x ir.Expr, i int, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil {
		return
	}
	cur := dense(blk, r.adj[v])
	t := v.T.(*ir.Tuple)
	if cur == nil {
		cur = &adjoint{elems: make([]*adjoint, len(t.Elems))}
	} else if cur.elems == nil {
		cur = r.split(blk, v, cur.val)
	}
	out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
	xi := blk.bind("x", &ir.Proj{X: v, Index: i, P: blk.pos})
	out.elems[i] = r.add(blk, xi, out.elems[i], c)
	r.adj[v] = out
}

// get materializes x's cotangent (zero if none).
func (r *rev) get(blk *block, x ir.Expr) ir.Expr {
	v, _ := x.(*ir.Var)
	var cur *adjoint
	if v != nil {
		cur = dense(blk, r.adj[v])
		if cur != nil {
			r.adj[v] = cur // made once
		}
	}
	return r.materialize(blk, x, cur)
}

func (r *rev) materialize(blk *block, x ir.Expr, cur *adjoint) ir.Expr {
	cur = dense(blk, cur)
	if cur != nil && cur.elems == nil {
		if cur.val != nil {
			return cur.val
		}
		cur = nil // an adjoint nothing was added to: zero
	}
	if t, ok := x.Type().(*ir.Tuple); ok {
		xv := blk.bind("x", x)
		elems := make([]ir.Expr, len(t.Elems))
		for i := range t.Elems {
			var ci *adjoint
			if cur != nil {
				ci = cur.elems[i]
			}
			elems[i] = r.materialize(blk, blk.bind("x", &ir.Proj{X: xv, Index: i, P: blk.pos}), ci)
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	if _, ok := tupleArray(x.Type()); ok && cur != nil {
		xs := columns(blk, x)
		cols := make([]ir.Expr, len(xs))
		for j := range xs {
			cols[j] = r.materialize(blk, xs[j], cur.elems[j])
		}
		return zipCols(blk, x.Type(), cols)
	}
	return zero(blk, x)
}

// state returns x's cotangent as one value that can be threaded through a
// loop or a branch, creating zeros if need be: an array's accumulator, for
// an array of tuples the tuple of its columns' states, else the value.
func (r *rev) state(blk *block, x *ir.Var) ir.Expr {
	s, cur := r.stateForm(blk, x.T, func() ir.Expr { return x }, r.adj[x])
	r.adj[x] = cur
	return s
}

func (r *rev) stateForm(blk *block, t ir.Type, x func() ir.Expr, cur *adjoint) (ir.Expr, *adjoint) {
	cur = dense(blk, cur)
	if tt, ok := tupleArray(t); ok {
		if cur == nil || cur.elems == nil {
			cur = r.splitCols(blk, x(), cur)
		}
		out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
		var xs []ir.Expr
		elems := make([]ir.Expr, len(tt.Elems))
		for j := range tt.Elems {
			col := func() ir.Expr {
				if xs == nil {
					xs = columns(blk, x())
				}
				return xs[j]
			}
			elems[j], out.elems[j] = r.stateForm(blk, colType(t, j), col, out.elems[j])
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos}), out
	}
	if tt, ok := t.(*ir.Tuple); ok && cur != nil && cur.elems != nil {
		// Field by field, so that no field of a state borrows: the
		// state's arrays are updated in place where it is threaded.
		out := &adjoint{elems: make([]*adjoint, len(tt.Elems))}
		elems := make([]ir.Expr, len(tt.Elems))
		var xv ir.Expr
		for i, et := range tt.Elems {
			xi := func() ir.Expr {
				if xv == nil {
					xv = blk.bind("x", x())
				}
				return blk.bind("x", &ir.Proj{X: xv, Index: i, P: blk.pos})
			}
			elems[i], out.elems[i] = r.stateForm(blk, et, xi, cur.elems[i])
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos}), out
	}
	if _, isArr := t.(*ir.Array); isArr && (cur == nil || cur.borrowed) {
		// The state is updated in place where it is threaded.
		cur = &adjoint{val: r.accOf(blk, x(), cur)}
	}
	return r.materialize(blk, x(), cur), cur
}

// setState makes val, a value in the form state returns, x's cotangent.
func (r *rev) setState(blk *block, x *ir.Var, val ir.Expr) {
	r.adj[x] = fromState(blk, x.T, blk.bind("g", val))
}

func fromState(blk *block, t ir.Type, val ir.Expr) *adjoint {
	if tt, ok := tupleArray(t); ok {
		out := &adjoint{elems: make([]*adjoint, len(tt.Elems))}
		for j := range tt.Elems {
			out.elems[j] = fromState(blk, colType(t, j), blk.bind("g", &ir.Proj{X: val, Index: j, P: blk.pos}))
		}
		return out
	}
	return &adjoint{val: val}
}

// addAtState adds c to row i of a cotangent in state form.
func addAtState(blk *block, t ir.Type, state, i, c ir.Expr) ir.Expr {
	if tt, ok := tupleArray(t); ok {
		elems := make([]ir.Expr, len(tt.Elems))
		cs := fields(blk, t, c)
		for j := range tt.Elems {
			sj := blk.bind("g", &ir.Proj{X: state, Index: j, P: blk.pos})
			elems[j] = addAtState(blk, colType(t, j), sj, i, cs[j])
		}
		return blk.bind("acc", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
		return state
	}
	return blk.bind("acc", blk.builder().Prim(ir.PrimAccAddAt, state, i, c))
}

// addCot is the sum of two cotangent values of one type, field by field
// for tuples and column by column for arrays of tuples (+ takes numbers
// and arrays of numbers only); i64 and bool parts stay zero.
func addCot(blk *block, a, c ir.Expr) ir.Expr {
	b := blk.builder()
	switch t := a.Type().(type) {
	case *ir.Tuple:
		elems := make([]ir.Expr, len(t.Elems))
		for i := range t.Elems {
			elems[i] = addCot(blk, blk.bind("g", &ir.Proj{X: a, Index: i, P: blk.pos}), blk.bind("g", &ir.Proj{X: c, Index: i, P: blk.pos}))
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos})
	case *ir.Array:
		if _, ok := tupleArray(t); ok {
			as, cs := columns(blk, a), columns(blk, c)
			for j := range as {
				as[j] = addCot(blk, as[j], cs[j])
			}
			return zipCols(blk, t, as)
		}
	}
	if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 {
		return a
	}
	return blk.bind("g", b.Prim(ir.PrimAdd, a, c))
}

// ---- owned cotangents ----
//
// An adjoint that is neither borrowed nor split is owned: an accumulator
// made for its variable (a zero, a copy, an adopted fresh array) or a
// state threaded through a loop or a branch, whose arrays nothing else
// holds (stateForm makes them so). Once its variable's step is reversed
// nothing reads it again, so the step may hand its arrays on to the
// arguments as accumulators (passOwned) or update them in place
// (backUpdate), instead of the arguments borrowing them and copying on
// the first update.

// owned reports whether cur is an owned cotangent.
func owned(cur *adjoint) bool { return cur != nil && !cur.borrowed && cur.elems == nil }

// ownedField reports whether field i of a tuple's cotangent cur is owned:
// the whole is, or the field's own adjoint is.
func ownedField(cur *adjoint, i int) bool {
	if owned(cur) {
		return true
	}
	return cur != nil && cur.elems != nil && owned(cur.elems[i])
}

// passOwned marks c, part of an owned cotangent whose step is being
// reversed, as fresh: an argument without a cotangent yet adopts it.
func (r *rev) passOwned(c ir.Expr, ok bool) {
	if v, isVar := c.(*ir.Var); ok && isVar && ir.Rank(v.T) > 0 {
		if k, f64 := ir.Leaf(v.T); f64 && k == ir.F64 {
			r.fresh[v] = true
		}
	}
}

// backUpdate reverses y = update(a, i, v) when y's cotangent is an owned
// f64 array: v's cotangent is its row i, read first (copied when v has
// no cotangent yet, which would otherwise borrow the row), and a's is the
// same array with row i cleared in place, O(len(v)) where the rule's
// update(ybar, i, 0) copies all of ybar. It returns false to leave the
// other cases to the rule.
func (r *rev) backUpdate(blk *block, st step) bool {
	cur := dense(blk, r.adj[st.y])
	r.adj[st.y] = cur
	t := st.y.T
	if !owned(cur) {
		return false
	}
	if _, ok := tupleArray(t); ok {
		return false
	}
	if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
		return false
	}
	b := blk.builder()
	a, i, v := st.args[0], st.args[1], st.args[2]
	acc := cur.val
	if r.isActive(v) {
		row := b.Prim(ir.PrimIndex, acc, i)
		vv, _ := v.(*ir.Var)
		switch cv := dense(blk, r.adj[vv]); {
		case ir.Rank(v.Type()) == 0:
			r.addTo(blk, v, blk.bind("c", row)) // a number, not a view
		case owned(cv):
			// Added in place, in order: no pure expression reads the row
			// (one could be moved past the clearing below).
			r.addTo(blk, v, row)
		default:
			// A copy, written inside acc_add unbound so that the rewrite
			// rule acc_fresh, which drops a copy into a zero, sees that
			// it reads an accumulator (rewrite/passes.go).
			r.addTo(blk, v, r.bindFresh(blk, b.Prim(ir.PrimAccAdd, b.Prim(ir.PrimZerosLike, v), row)))
		}
	}
	if r.isActive(a) {
		z := blk.bind("acc", b.Prim(ir.PrimAccZeroAt, acc, i))
		r.passOwned(z, true)
		r.addTo(blk, a, z)
	}
	return true
}

// plainCot reports whether a cotangent of type t is numbers, arrays and
// tuples of them, so that state gives it in t's own form (an array of
// tuples has its columns' instead).
func plainCot(t ir.Type) bool {
	switch t := t.(type) {
	case *ir.Array:
		_, cols := tupleArray(t)
		return !cols
	case *ir.Tuple:
		for _, e := range t.Elems {
			if !plainCot(e) {
				return false
			}
		}
	}
	return true
}

// addToRow adds c, a slice's cotangent pad_like(v, lo, x), straight into
// row i of a's cotangent when x is the row a[i]: acc_add_at(acc, i,
// pad_like(...)) adds v alone (the interpreter and the Go backend make
// no padded array), where x's own accumulator would cost a row per slice
// and another to add it into a's. Cotangents are sums, so the part of
// x's that goes to a now and the part its own step adds later give the
// same total. An LSTM slices each weight row into its four gates.
func (r *rev) addToRow(blk *block, x, c ir.Expr) bool {
	pc, ok := c.(*ir.PrimCall)
	v, isVar := x.(*ir.Var)
	if !ok || pc.Op != ir.PrimPadLike || !isVar {
		return false
	}
	row, ok := r.rows[v]
	if !ok {
		return false
	}
	t := row[0].Type()
	if _, cols := tupleArray(t); cols {
		return false
	}
	if k, f64 := ir.Leaf(t); !f64 || k != ir.F64 {
		return false
	}
	r.addAt(blk, row[0], row[1], c)
	return true
}
