package rewrite

// rowloops: for loops that add, at their own index, an expression
// elementwise in that index to the accumulators of their state become the
// same additions of whole rows.
//
// Reverse mode differentiates a comprehension over the d elements of a
// row into a loop of d iterations whose body adds one element:
//
//	loop rev = (g, h) for i < n do
//	  let g1 = rev.0 in let h1 = rev.1 in
//	  let c = a[i] * s in                         // elementwise in i
//	  let o = acc_add_at(zeros_like(r), i, b[i] * s) in
//	  (acc_add_at(g1, j, o), acc_add_at(h1, i, c))
//
// When n is provably the length of every array read at i (a[i], b[i])
// and of every array updated at i (h, r), the loop is the body run once
// with i standing for the whole row:
//
//	let rev = (g, h) in let g1 = rev.0 in let h1 = rev.1 in
//	let c' = a * s in
//	(acc_add_at(g1, j, acc_add(zeros_like(r), b * s)), acc_add(h1, c'))
//
// Each element receives the same additions of the same values in the
// same order, so the results are the same bits (elementwise kernels
// apply the scalar operation to each element). A body qualifies when
// each of its lets is
//   - a field of the state (rev.k), used once as the target of an update;
//   - an update acc_add_at(t, i, e) of a field's accumulator t at the
//     loop's index by an elementwise scalar e, or acc_add_at(t, j, o) at
//     an index j that does not vary, o a one-hot below;
//   - a one-hot acc_add_at(zeros_like(r), i, e) or acc_add_at(zeros_like(r),
//     j, o) with r not varying;
//   - an f64 scalar elementwise in i: constants, values that do not vary,
//     x[i] of an array x of length n that does not vary, elementwise
//     primitives of those;
//   - a value that does not vary in the loop.
//
// and its result is the tuple of the fields' accumulators. Nothing the
// rewritten term evaluates may fail: every index is proved in range (a
// loop counter or build index below the length of the array it indexes,
// lengths taken from the types and from the builds that made the
// arrays), every shape proved equal, the count and every value that does
// not vary total. That is what lets the loop's values be computed
// whether or not it runs: with n = 0 the rows are empty, nothing is
// added, and no error can arise that the loop would not have raised. The
// one difference is the sign of zeros: with n = 0 an update at a fixed
// index j adds a row of +0.0 that the loop never added, turning a -0.0
// there into +0.0 (as x + 0.0 => x differs only in the sign of a zero).

import (
	"strconv"

	"github.com/nabla-lang/nabla/ir"
)

// rowLoops rewrites every qualifying loop of e; it fails when there is
// none.
func rowLoops(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	r := newRowL(c, "rowloops")
	r.onLoop = r.loop
	return r.run(e)
}

func newRowL(c *ctx, name string) *rowL {
	return &rowL{
		c:      c,
		name:   name,
		below:  map[*ir.Var]ir.Dim{},
		lenOf:  map[*ir.Var]ir.Dim{},
		shapes: map[*ir.Var][]ir.Dim{},
		vals:   map[*ir.Var]ir.Expr{},
		states: map[*ir.Var]*ir.Loop{},
	}
}

// run rewrites every loop of e that onLoop rewrites; it fails when there
// is none.
func (r *rowL) run(e ir.Expr) (ir.Expr, bool, error) {
	c := r.c
	out := r.rw(e)
	if r.err != nil {
		return e, false, r.err
	}
	if r.n == 0 {
		return e, false, nil
	}
	if c.inplace {
		c.mset.Add(out)
		if checkUses {
			for v := range ir.MutableVars(out) {
				c.mutOld[v] = true
			}
		}
	}
	return out, true, nil
}

// rowL holds what is known about sizes while walking a def's body. Each
// variable is bound once, so facts are kept by variable for the whole
// walk.
type rowL struct {
	c      *ctx
	name   string                           // the pass, for traces
	onLoop func(l *ir.Loop) (ir.Expr, bool) // a for loop's rewrite, once its children are rewritten
	below  map[*ir.Var]ir.Dim               // loop counters and build indexes: the size they run below
	lenOf  map[*ir.Var]ir.Dim               // i64 lets holding a size
	shapes map[*ir.Var][]ir.Dim             // array lets: the size of each axis, as far as known
	vals   map[*ir.Var]ir.Expr              // lets of tuples and loops: their values
	states map[*ir.Var]*ir.Loop             // loop states: their loop
	n      int                              // loops rewritten
	err    error
}

func (r *rowL) rw(e ir.Expr) ir.Expr {
	if r.err != nil {
		return e
	}
	switch x := e.(type) {
	case *ir.Let:
		v := r.rw(x.Value)
		r.learn(x.Var, v)
		b := r.rw(x.Body)
		if v == x.Value && b == x.Body {
			return e
		}
		return &ir.Let{Var: x.Var, Value: v, Body: b, P: x.P}
	case *ir.Loop:
		r.states[x.State] = x
		if x.Index != nil {
			if d := r.dimOf(x.Count); known(d) {
				r.below[x.Index] = d
			}
		}
		out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return r.rw(k), nil })
		if l, ok := out.(*ir.Loop); ok && l.Index != nil {
			if v, ok := r.onLoop(l); ok {
				if err := r.c.fireText(r.name, r.c.posOf(x), func() (string, string) { return short(l), short(v) }); err != nil {
					r.err = err
					return e
				}
				r.n++
				return v
			}
		}
		return out
	case *ir.PrimCall:
		if lam, ok := lastLambda(x, ir.PrimBuild, 1); ok {
			if d := r.dimOf(x.Args[0]); known(d) {
				r.below[lam.Params[0]] = d
			}
		}
	}
	out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return r.rw(k), nil })
	return out
}

// learn records the size v holds or the shape of the array it is.
func (r *rowL) learn(v *ir.Var, val ir.Expr) {
	switch val.(type) {
	case *ir.MakeTuple, *ir.Loop:
		r.vals[v] = val
	}
	if ir.Rank(v.T) > 0 {
		r.shapes[v] = r.shapeOf(val)
		return
	}
	if d := r.dimOf(val); known(d) {
		r.lenOf[v] = d
	}
}

func known(d ir.Dim) bool { return d.Known() || d.Sym != "" }

// shapeOf is the size of each axis of the array e, Unknown where not
// known: the type's sizes, completed from the builds that made it.
func (r *rowL) shapeOf(e ir.Expr) []ir.Dim {
	ds := append([]ir.Dim(nil), ir.Dims(e.Type())...)
	full := true
	for _, d := range ds {
		full = full && known(d)
	}
	if full {
		return ds
	}
	var st []ir.Dim
	switch x := e.(type) {
	case *ir.Var:
		st = r.shapes[x]
	case *ir.Let:
		st = r.shapeOf(x.Body)
	case *ir.Proj:
		if f := r.fieldInit(x); f != nil {
			st = r.shapeOf(f)
		}
	case *ir.PrimCall:
		switch x.Op {
		case ir.PrimIndex:
			if len(x.Args) == 2 {
				if s := r.shapeOf(x.Args[0]); len(s) > 0 {
					st = s[1:]
				}
			}
		case ir.PrimBuild:
			if lam, ok := lastLambda(x, ir.PrimBuild, 1); ok {
				st = append([]ir.Dim{r.dimOf(x.Args[0])}, r.shapeOf(lam.Body)...)
			}
		case ir.PrimZerosLike, ir.PrimAccAdd, ir.PrimAccAddAt:
			if len(x.Args) > 0 {
				st = r.shapeOf(x.Args[0])
			}
		case ir.PrimZeros:
			if len(x.Args) == 1 {
				st = []ir.Dim{r.dimOf(x.Args[0])}
			}
		}
	}
	for i := range ds {
		if !known(ds[i]) && i < len(st) {
			ds[i] = st[i]
		}
	}
	return ds
}

// fieldInit is, for a field p of a tuple let or of a loop's state or
// result that the loop only updates in place, the expression that gave
// that field its shape (nil when there is none).
func (r *rowL) fieldInit(p *ir.Proj) ir.Expr {
	v, ok := p.X.(*ir.Var)
	if !ok {
		return nil
	}
	l := r.states[v]
	if l == nil {
		switch x := r.vals[v].(type) {
		case *ir.MakeTuple:
			if p.Index < len(x.Elems) {
				return x.Elems[p.Index]
			}
			return nil
		case *ir.Loop:
			l = x
		default:
			return nil
		}
	}
	init, ok := l.Init.(*ir.MakeTuple)
	if !ok || p.Index >= len(init.Elems) || !r.preserves(l, p.Index, 0) {
		return nil
	}
	return init.Elems[p.Index]
}

// preserves reports whether l's body returns field k of its state as that
// field updated in place (acc_add, acc_add_at, through inner loops that
// do the same), so that the field keeps its initial shape.
func (r *rowL) preserves(l *ir.Loop, k, depth int) bool {
	if depth > 8 {
		return false
	}
	defs := map[*ir.Var]ir.Expr{}
	e := l.Body
	for {
		let, ok := e.(*ir.Let)
		if !ok {
			break
		}
		defs[let.Var] = let.Value
		e = let.Body
	}
	t, ok := e.(*ir.MakeTuple)
	if !ok || k >= len(t.Elems) {
		return false
	}
	x := t.Elems[k]
	for range len(defs) + 2 {
		switch y := x.(type) {
		case *ir.Var:
			v, ok := defs[y]
			if !ok {
				return false
			}
			x = v
		case *ir.Proj:
			s, ok := y.X.(*ir.Var)
			if !ok {
				return false
			}
			if s == l.State {
				return y.Index == k
			}
			inner, ok := defs[s].(*ir.Loop)
			if !ok {
				return false
			}
			init, ok := inner.Init.(*ir.MakeTuple)
			if !ok || y.Index >= len(init.Elems) || !r.preserves(inner, y.Index, depth+1) {
				return false
			}
			x = init.Elems[y.Index]
		case *ir.PrimCall:
			if (y.Op != ir.PrimAccAdd && y.Op != ir.PrimAccAddAt) || len(y.Args) == 0 {
				return false
			}
			x = y.Args[0]
		default:
			return false
		}
	}
	return false
}

// dimOf is the size the i64 expression n certainly equals, or Unknown.
func (r *rowL) dimOf(n ir.Expr) ir.Dim {
	switch n := n.(type) {
	case *ir.Const:
		if v, ok := n.Val.(int64); ok && v >= 0 {
			return ir.ConstDim(v)
		}
	case *ir.Var:
		if d, ok := r.lenOf[n]; ok {
			return d
		}
	case *ir.PrimCall:
		axis := -1
		switch n.Op {
		case ir.PrimLen:
			axis = 0
		case ir.PrimDim:
			axis, _ = n.Aux.(int)
		}
		if axis < 0 || len(n.Args) != 1 {
			break
		}
		if ds := r.shapeOf(n.Args[0]); axis < len(ds) && known(ds[axis]) {
			return ds[axis]
		}
	}
	return ir.Unknown
}

// inBounds reports whether i is certainly an index of a's first axis.
func (r *rowL) inBounds(a, i ir.Expr) bool {
	ds := r.shapeOf(a)
	if len(ds) == 0 || !known(ds[0]) {
		return false
	}
	switch i := i.(type) {
	case *ir.Var:
		d, ok := r.below[i]
		return ok && d == ds[0]
	case *ir.Const:
		v, ok := i.Val.(int64)
		return ok && ds[0].Known() && v >= 0 && v < ds[0].N
	}
	return false
}

// safe reports whether e certainly evaluates without error and without
// making an array that anything may update in place: variables,
// constants, projections, sizes, indexes proved in range, and total
// elementwise primitives of those.
func (r *rowL) safe(e ir.Expr) bool {
	switch x := e.(type) {
	case *ir.Var, *ir.Const:
		return true
	case *ir.Proj:
		return r.safe(x.X)
	case *ir.PrimCall:
		for _, a := range x.Args {
			if !r.safe(a) {
				return false
			}
		}
		switch {
		case x.Op == ir.PrimIndex:
			return len(x.Args) == 2 && r.inBounds(x.Args[0], x.Args[1])
		case x.Op == ir.PrimDim || x.Op == ir.PrimLen:
			return true
		case x.Op.Elementwise && ir.Rank(x.T) == 0:
			// The primitive on variables of its arguments' types: Total
			// then judges the primitive alone (i64 division fails).
			args := make([]ir.Expr, len(x.Args))
			for i, a := range x.Args {
				args[i] = ir.NewVar("_", a.Type(), x.P)
			}
			return ir.Total(&ir.PrimCall{Op: x.Op, Args: args, Aux: x.Aux, T: x.T, P: x.P})
		}
	}
	return false
}

// sameDims reports whether a and b are certainly the same sizes.
func sameDims(a, b []ir.Dim) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !known(a[i]) || a[i] != b[i] {
			return false
		}
	}
	return true
}

// rowBody is one loop body being rewritten.
type rowBody struct {
	r       *rowL
	l       *ir.Loop
	n       ir.Dim
	variant map[*ir.Var]bool     // the index, the state, and the lets below that vary
	field   map[*ir.Var]int      // a field's accumulator, not yet updated: its field
	onehot  map[*ir.Var]ir.Expr  // one-hot lets not yet added to a field: their row
	ohShape map[*ir.Var][]ir.Dim // one-hot lets: their shape
	elem    map[*ir.Var]*ir.Var  // elementwise lets: the variable of their row
}

// loop returns l as whole-row additions, or false when l does not
// qualify (see the file comment).
func (r *rowL) loop(l *ir.Loop) (ir.Expr, bool) {
	n := r.dimOf(l.Count)
	if !known(n) || !ir.Total(l.Count) {
		return nil, false
	}
	st, ok := l.State.T.(*ir.Tuple)
	if !ok {
		return nil, false
	}
	var lets []*ir.Let
	e := l.Body
	for {
		let, ok := e.(*ir.Let)
		if !ok {
			break
		}
		lets = append(lets, let)
		e = let.Body
	}
	final, ok := e.(*ir.MakeTuple)
	if !ok || len(final.Elems) != len(st.Elems) {
		return nil, false
	}
	b := &rowBody{
		r: r, l: l, n: n,
		variant: map[*ir.Var]bool{l.Index: true, l.State: true},
		field:   map[*ir.Var]int{},
		onehot:  map[*ir.Var]ir.Expr{},
		ohShape: map[*ir.Var][]ir.Dim{},
		elem:    map[*ir.Var]*ir.Var{},
	}
	// The fields' shapes, from the initial state where it is a tuple.
	shapes := make([][]ir.Dim, len(st.Elems))
	for k, t := range st.Elems {
		shapes[k] = ir.Dims(t)
	}
	if init, ok := l.Init.(*ir.MakeTuple); ok && len(init.Elems) == len(shapes) {
		for k, x := range init.Elems {
			if ir.Rank(x.Type()) > 0 {
				shapes[k] = r.shapeOf(x)
			}
		}
	}
	used := uses(l.Body)
	// An update written in the result itself is read as a let of it.
	finals := append([]ir.Expr(nil), final.Elems...)
	for k, x := range finals {
		if pc, ok := x.(*ir.PrimCall); ok && pc.Op == ir.PrimAccAddAt {
			v := ir.NewVar(l.State.Name+"_"+strconv.Itoa(k), x.Type(), pc.P)
			lets = append(lets, &ir.Let{Var: v, Value: x, P: pc.P})
			used[v] = 1
			finals[k] = v
		}
	}
	var out []*ir.Let
	for _, let := range lets {
		nl, ok := b.let(let, shapes, used)
		if !ok {
			return nil, false
		}
		if nl != nil {
			out = append(out, nl)
		}
	}
	// The result is each field's last accumulator, or the field itself.
	elems := make([]ir.Expr, len(finals))
	for k, x := range finals {
		switch x := x.(type) {
		case *ir.Var:
			if f, ok := b.field[x]; !ok || f != k {
				return nil, false
			}
			delete(b.field, x)
		case *ir.Proj:
			if v, ok := x.X.(*ir.Var); !ok || v != l.State || x.Index != k {
				return nil, false
			}
		default:
			return nil, false
		}
		elems[k] = x
	}
	// Every field read and every one-hot is used exactly once.
	if len(b.field) > 0 || len(b.onehot) > 0 {
		return nil, false
	}
	// A tuple of initial values is not built: each field is bound to its
	// own variable (in the tuple's order, first), which the field reads
	// and the result then name.
	var pre []*ir.Let
	var fields []ir.Expr
	if init, ok := l.Init.(*ir.MakeTuple); ok {
		for k, x := range init.Elems {
			v, ok := x.(*ir.Var)
			if !ok {
				v = ir.NewVar(l.State.Name+"_"+strconv.Itoa(k), x.Type(), l.P)
				pre = append(pre, &ir.Let{Var: v, Value: x, P: l.P})
			}
			fields = append(fields, v)
		}
		field := func(x ir.Expr) ir.Expr {
			if p, ok := x.(*ir.Proj); ok {
				if s, ok := p.X.(*ir.Var); ok && s == l.State {
					return fields[p.Index]
				}
			}
			return x
		}
		for _, let := range out {
			let.Value = field(let.Value)
		}
		for k := range elems {
			elems[k] = field(elems[k])
		}
	} else {
		pre = []*ir.Let{{Var: l.State, Value: l.Init, P: l.P}}
	}
	out = append(pre, out...)
	var body ir.Expr = &ir.MakeTuple{Elems: elems, P: final.P}
	for i := len(out) - 1; i >= 0; i-- {
		body = &ir.Let{Var: out[i].Var, Value: out[i].Value, Body: body, P: out[i].P}
	}
	return body, true
}

// uses counts each variable's occurrences in e.
func uses(e ir.Expr) map[*ir.Var]int {
	n := map[*ir.Var]int{}
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if v, ok := x.(*ir.Var); ok && enter {
			n[v]++
		}
	}, nil)
	return n
}

// let classifies one let of the body and returns its rewritten form (nil
// to drop it), or false when the loop does not qualify.
func (b *rowBody) let(let *ir.Let, shapes [][]ir.Dim, used map[*ir.Var]int) (*ir.Let, bool) {
	r, v := b.r, let.Value
	if p, ok := v.(*ir.Proj); ok {
		if s, ok := p.X.(*ir.Var); ok && s == b.l.State {
			if used[let.Var] != 1 {
				return nil, false
			}
			b.field[let.Var] = p.Index
			b.variant[let.Var] = true
			return &ir.Let{Var: let.Var, Value: ir.Copy(let.Value), P: let.P}, true
		}
	}
	if pc, ok := v.(*ir.PrimCall); ok && pc.Op == ir.PrimAccAddAt && len(pc.Args) == 3 {
		return b.update(let, pc, shapes, used)
	}
	if !ir.Mentions(v, b.variant) {
		// Does not vary: kept where it is, evaluated once (or dropped
		// when unused: it cannot fail). A read of an array that
		// something updates in place might see the loop's updates.
		if !r.safe(v) || ir.Mentions(v, r.c.mutable) {
			return nil, false
		}
		r.learn(let.Var, v)
		if used[let.Var] == 0 {
			return nil, true
		}
		return &ir.Let{Var: let.Var, Value: ir.Copy(let.Value), P: let.P}, true
	}
	if !ir.Identical(let.Var.T, ir.TF64) {
		return nil, false
	}
	b.variant[let.Var] = true
	if used[let.Var] == 0 {
		return nil, true // cannot fail (vec would have to prove it): dropped
	}
	row, ok := b.vec(v)
	if !ok {
		return nil, false
	}
	nv := ir.NewVar(let.Var.Name+"_row", row.Type(), let.Var.P)
	b.elem[let.Var] = nv
	return &ir.Let{Var: nv, Value: row, P: let.P}, true
}

// update classifies acc_add_at(t, j, e): an update of a field's
// accumulator or a one-hot.
func (b *rowBody) update(let *ir.Let, pc *ir.PrimCall, shapes [][]ir.Dim, used map[*ir.Var]int) (*ir.Let, bool) {
	r := b.r
	t, j, e := pc.Args[0], pc.Args[1], pc.Args[2]
	var target []ir.Dim // the shape of what is updated
	var into ir.Expr    // the updated array in the rewritten term
	k, isField := -1, false
	switch t := t.(type) {
	case *ir.Var:
		f, ok := b.field[t]
		if !ok {
			return nil, false
		}
		delete(b.field, t)
		k, isField = f, true
		target, into = shapes[f], t
	case *ir.PrimCall:
		if t.Op != ir.PrimZerosLike || len(t.Args) != 1 || ir.Mentions(t.Args[0], b.variant) || !r.safe(t.Args[0]) {
			return nil, false
		}
		target = r.shapeOf(t.Args[0])
		z, err := ir.PrimZerosLike.Call(t.P, t.Aux, ir.Copy(t.Args[0]))
		if err != nil {
			return nil, false
		}
		into = z
	default:
		return nil, false
	}
	var val ir.Expr
	if jv, ok := j.(*ir.Var); ok && jv == b.l.Index {
		// Every element of a row: the row must be the whole of target.
		if len(target) != 1 || target[0] != b.n || !ir.Identical(e.Type(), ir.TF64) {
			return nil, false
		}
		if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
			return nil, false
		}
		row, ok := b.vec(e)
		if !ok {
			return nil, false
		}
		if !isField {
			// A one-hot row: the row itself, added where the one-hot
			// is (the zero row around it only adds +0.0).
			if used[let.Var] != 1 {
				return nil, false
			}
			b.variant[let.Var] = true
			b.onehot[let.Var] = row
			b.ohShape[let.Var] = target
			return nil, true
		}
		add, err := ir.PrimAccAdd.Call(pc.P, nil, into, row)
		if err != nil {
			return nil, false
		}
		val = add
	} else {
		// A fixed index of a field: e is a one-hot row of it.
		ov, ok := e.(*ir.Var)
		if !ok || !isField || ir.Mentions(j, b.variant) || !r.safe(j) || len(target) == 0 || !r.inBoundsDim(target[0], j) {
			return nil, false
		}
		row, isOne := b.onehot[ov]
		if !isOne || !sameDims(target[1:], b.ohShape[ov]) {
			return nil, false
		}
		delete(b.onehot, ov)
		at, err := ir.PrimAccAddAt.Call(pc.P, pc.Aux, into, ir.Copy(j), row)
		if err != nil {
			return nil, false
		}
		val = at
	}
	if used[let.Var] != 1 {
		return nil, false
	}
	b.variant[let.Var] = true
	b.field[let.Var] = k
	return &ir.Let{Var: let.Var, Value: val, P: let.P}, true
}

// inBoundsDim reports whether j is certainly below the size d.
func (r *rowL) inBoundsDim(d ir.Dim, j ir.Expr) bool {
	if !known(d) {
		return false
	}
	switch j := j.(type) {
	case *ir.Var:
		bd, ok := r.below[j]
		return ok && bd == d
	case *ir.Const:
		v, ok := j.Val.(int64)
		return ok && d.Known() && v >= 0 && v < d.N
	}
	return false
}

// vec is the row of the f64 scalar e, elementwise in the loop's index:
// e with x[i] read as x and each elementwise let as its row; parts that
// do not vary stay scalars (an elementwise primitive broadcasts them).
func (b *rowBody) vec(e ir.Expr) (ir.Expr, bool) {
	r := b.r
	if !ir.Mentions(e, b.variant) {
		if ir.Rank(e.Type()) != 0 || !r.safe(e) || ir.Mentions(e, r.c.mutable) {
			return nil, false
		}
		return ir.Copy(e), true
	}
	switch x := e.(type) {
	case *ir.Var:
		if nv, ok := b.elem[x]; ok {
			return nv, true
		}
	case *ir.PrimCall:
		if x.Op == ir.PrimIndex && len(x.Args) == 2 {
			i, ok := x.Args[1].(*ir.Var)
			a := x.Args[0]
			if !ok || i != b.l.Index || ir.Mentions(a, b.variant) || ir.Mentions(a, r.c.mutable) || !r.safe(a) || ir.Rank(a.Type()) != 1 {
				return nil, false
			}
			if s := r.shapeOf(a); s[0] != b.n {
				return nil, false
			}
			return ir.Copy(a), true
		}
		if !x.Op.Elementwise || !ir.Identical(x.T, ir.TF64) {
			return nil, false
		}
		args := make([]ir.Expr, len(x.Args))
		for k, a := range x.Args {
			if !ir.Identical(a.Type(), ir.TF64) {
				return nil, false
			}
			v, ok := b.vec(a)
			if !ok {
				return nil, false
			}
			args[k] = v
		}
		out, err := x.Op.Call(x.P, x.Aux, args...)
		if err != nil {
			return nil, false
		}
		return out, true
	}
	return nil, false
}
