package rewrite

// Sizes and bounds known while walking a def's body, for the passes that
// move code across loops (licm.go) and rewrite comprehensions
// (vectorize.go): the size each loop counter and build
// index runs below, the sizes that i64 lets hold, and the shape of each
// array let, taken from its type and completed from the builds that made
// it (y = build(k, fn(j) => build(d, ...)) has rows of d elements even
// where its type says [k][?]f64). With them, safe tells whether a value
// certainly evaluates without error: an index is safe where it is a
// counter running below the length of the array it indexes.
//
// A second pass, rowloops (element updates of whole rows as row
// additions), was built on the same walk in stop 26 and removed: it did
// not pay in the interpreter (docs/benchmarks.md, "Element-wise GMM
// reverse loops, stop 26"); it is in commit 76f736a.

import (
	"github.com/nabla-lang/nabla/ir"
)

func newSizeWalk(c *ctx, name string) *sizeWalk {
	return &sizeWalk{
		c:         c,
		name:      name,
		sizeFacts: newSizeFacts(),
		shapes:    map[*ir.Var][]ir.Dim{},
		vals:      map[*ir.Var]ir.Expr{},
		states:    map[*ir.Var]*ir.Loop{},
	}
}

// run rewrites every loop of e that onLoop rewrites; it fails when there
// is none.
func (r *sizeWalk) run(e ir.Expr) (ir.Expr, bool, error) {
	c := r.c
	out := r.rw(e)
	if r.err != nil {
		return e, false, r.err
	}
	if r.n == 0 {
		return e, false, nil
	}
	c.addMutable(out)
	return out, true, nil
}

// sizeWalk holds what is known about sizes while walking a def's body. Each
// variable is bound once, so facts are kept by variable for the whole
// walk.
type sizeWalk struct {
	c      *ctx
	name   string                           // the pass, for traces
	onLoop func(l *ir.Loop) (ir.Expr, bool) // a for loop's rewrite, once its children are rewritten
	// onBuild, when set, is a build's rewrite once its children are
	// rewritten, with the name of the rule that made it (for traces).
	onBuild func(b *ir.PrimCall) (ir.Expr, string, bool)
	sizeFacts
	shapes map[*ir.Var][]ir.Dim // array lets: the size of each axis, as far as known
	vals   map[*ir.Var]ir.Expr  // lets of tuples and loops: their values
	states map[*ir.Var]*ir.Loop // loop states: their loop
	n      int                  // loops rewritten
	err    error
	// callShape, when set, gives the shape of a call's value (vectorize.go
	// sets it; licm does not use it).
	callShape func(*ir.Call) []ir.Dim
}

func (r *sizeWalk) rw(e ir.Expr) ir.Expr {
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
		if l, ok := out.(*ir.Loop); ok && l.Index != nil && r.onLoop != nil {
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
	if b, ok := out.(*ir.PrimCall); ok && b.Op == ir.PrimBuild && r.onBuild != nil {
		if y, rule, ok := r.onBuild(b); ok {
			if err := r.c.fireText(rule, b.P, func() (string, string) { return short(b), short(y) }); err != nil {
				r.err = err
				return e
			}
			r.n++
			return y
		}
	}
	return out
}

// learn records the size v holds or the shape of the array it is.
func (r *sizeWalk) learn(v *ir.Var, val ir.Expr) {
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
func (r *sizeWalk) shapeOf(e ir.Expr) []ir.Dim {
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
	case *ir.Call:
		if r.callShape != nil {
			st = r.callShape(x)
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
func (r *sizeWalk) fieldInit(p *ir.Proj) ir.Expr {
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
func (r *sizeWalk) preserves(l *ir.Loop, k, depth int) bool {
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
func (r *sizeWalk) dimOf(n ir.Expr) ir.Dim { return r.sizeFacts.dimOf(n, r.shapeOf) }

// inBounds reports whether i is certainly an index of a's first axis.
func (r *sizeWalk) inBounds(a, i ir.Expr) bool { return r.sizeFacts.inBounds(a, i, r.shapeOf) }

// sizeFacts is what a walk knows about i64 variables: the sizes lets
// hold and the sizes counters run below. Passes that prove sizes and
// indexes (sizeWalk, shapeZ) share it and differ in how they find the
// shape of an array.
type sizeFacts struct {
	lenOf map[*ir.Var]ir.Dim // i64 lets holding a size: let v = dim[a](x) or len(x)
	below map[*ir.Var]ir.Dim // loop counters and build indexes: the size they run below
}

func newSizeFacts() sizeFacts {
	return sizeFacts{lenOf: map[*ir.Var]ir.Dim{}, below: map[*ir.Var]ir.Dim{}}
}

// dimOf is the size the i64 expression n certainly equals, or Unknown;
// shapeOf gives an array's sizes as far as known.
func (f *sizeFacts) dimOf(n ir.Expr, shapeOf func(ir.Expr) []ir.Dim) ir.Dim {
	switch n := n.(type) {
	case *ir.Const:
		if v, ok := n.Val.(int64); ok && v >= 0 {
			return ir.ConstDim(v)
		}
	case *ir.Var:
		if d, ok := f.lenOf[n]; ok {
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
		if ds := shapeOf(n.Args[0]); axis < len(ds) && known(ds[axis]) {
			return ds[axis]
		}
	}
	return ir.Unknown
}

// inBounds reports whether i is certainly an index of a's first axis: a
// counter running below a's length, or a constant below a constant one.
func (f *sizeFacts) inBounds(a, i ir.Expr, shapeOf func(ir.Expr) []ir.Dim) bool {
	ds := shapeOf(a)
	if len(ds) == 0 || !known(ds[0]) {
		return false
	}
	switch i := i.(type) {
	case *ir.Var:
		d, ok := f.below[i]
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
func (r *sizeWalk) safe(e ir.Expr) bool {
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
