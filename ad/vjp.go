package ad

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// rev is the reverse-mode transformation of one function body. The forward
// sweep (fwd) emits the primal computation in A-normal form and records a
// step for every active binding; the backward sweep walks the steps in
// reverse, adding each step's cotangent into its arguments'. Cotangents
// are keyed by the atoms of the generated code.
type rev struct {
	a     *expander
	ren   map[*ir.Var]ir.Expr // original variable -> atom in generated code
	act   map[*ir.Var]bool    // active atoms
	adj   map[*ir.Var]*adjoint
	steps []step
	fresh map[*ir.Var]bool      // cotangent arrays just allocated and used once (see bindFresh)
	tails map[ir.Expr]*letChain // the tails of the let chains being swept (see activeExpr)
}

// adjoint is a cotangent being accumulated: a scalar value, an array
// accumulator (updated in place), per-field cotangents of a tuple, or
// per-column cotangents of an array of tuples (see tupleArray).
type adjoint struct {
	val   ir.Expr
	elems []*adjoint
}

// step is one active binding of the forward sweep: y = e, where e's
// operands have been replaced by the atoms in args.
type step struct {
	y    *ir.Var
	orig ir.Expr   // the original expression (for structure and bodies)
	args []ir.Expr // argument atoms in generated code
	aux  ir.Expr   // extra saved value (loop states, scan prefixes)
	n    ir.Expr   // iteration count of a loop
}

func newRev(a *expander) *rev {
	return &rev{a: a, ren: map[*ir.Var]ir.Expr{}, act: map[*ir.Var]bool{}, adj: map[*ir.Var]*adjoint{}, fresh: map[*ir.Var]bool{}, tails: map[ir.Expr]*letChain{}}
}

// child starts the transformation of a nested body (a lambda, a branch, a
// loop body) that sees the enclosing renaming and activity of the
// variables it uses. (Copying all of them for each nested body made
// reverse mode O(n^2) in a def with many loops.)
func (r *rev) child(body ir.Expr) *rev {
	c := newRev(r.a)
	for _, v := range ir.FreeVars(body) {
		if r.act[v] {
			c.act[v] = true
		}
		a, ok := r.ren[v]
		if !ok {
			continue
		}
		c.ren[v] = a
		if av, ok := a.(*ir.Var); ok && r.act[av] {
			c.act[av] = true
		}
	}
	return c
}

// vjpFunc returns the reverse-mode derivative of f as a function value of
// type (P1..Pk, B) -> (B, A).
func (a *expander) vjpFunc(f fnOf, pos ir.Pos) (ir.Expr, error) {
	if f.def != nil {
		d, err := a.vjpDef(f.def)
		if err != nil {
			return nil, err
		}
		return &ir.Global{Name: d.Name, T: d.Type(), P: pos}, nil
	}
	return a.vjpLambda(f.lam.Params, f.lam.Body, pos)
}

func (a *expander) vjpDef(d *ir.Def) (*ir.Def, error) { return a.vjpDefFor(d, nil) }

// vjpDefFor is vjpDef differentiating only with respect to the parameters
// marked in active (nil: all of them): a call that passes data which
// does not depend on the differentiated input, as in grad(fn(w) =>
// loss(w, data)), gets a version f$vjp_110 that computes no cotangent
// for that data (it returns zeros in its place). Defs with custom rules
// have one version.
func (a *expander) vjpDefFor(d *ir.Def, active []bool) (*ir.Def, error) {
	suffix := ""
	if active != nil && d.Attr("vjp") == nil && d.Attr("jvp") == nil && d.Attr("implicit") == nil {
		var sb []byte
		for i, p := range d.Params {
			switch {
			case !ir.IsDifferentiable(p.T) || !carriesF64(p.T):
				sb = append(sb, '0') // nothing to differentiate anyway
			case active[i]:
				sb = append(sb, '1')
			default:
				sb = append(sb, '0')
				suffix = "_" // some differentiable parameter is not active
			}
		}
		if suffix != "" {
			suffix += string(sb)
		}
	}
	if suffix == "" {
		active = nil
	}
	key := d.Name + suffix
	if g := a.vjps[key]; g != nil {
		return g, nil
	}
	done, err := a.enter(key+"$vjp", d, d.P)
	if err != nil {
		return nil, err
	}
	defer done()
	var lam *ir.Lambda
	switch {
	case d.Attr("vjp") != nil:
		lam, err = a.customVJP(d, d.Attr("vjp"))
	case d.Attr("jvp") != nil:
		lam, err = a.transposedJVP(d)
	case d.Attr("implicit") != nil:
		lam, err = a.implicitVJP(d, d.Attr("implicit"))
	default:
		lam, err = a.vjpLambdaFor(d.Params, d.BodyWithSizes(), d.P, active)
	}
	if err != nil {
		return nil, err
	}
	g := &ir.Def{Name: d.Name + "$vjp" + suffix, Params: lam.Params, HasParams: true, Result: lam.Body.Type(), Body: lam.Body, P: d.P}
	a.vjps[key] = g
	a.out.Add(g)
	return g, nil
}

// carriesF64 reports whether a value of type t has f64 parts.
func carriesF64(t ir.Type) bool {
	switch t := t.(type) {
	case ir.Scalar:
		return t.Kind == ir.F64
	case *ir.Array:
		return carriesF64(t.Elem)
	case *ir.Tuple:
		for _, e := range t.Elems {
			if carriesF64(e) {
				return true
			}
		}
	}
	return false
}

// activeArgs marks which of a call's argument atoms are active.
func (r *rev) activeArgs(args []ir.Expr) []bool {
	out := make([]bool, len(args))
	for i, x := range args {
		out[i] = r.isActive(x)
	}
	return out
}

// customVJP: (x.., ybar) -> (f(x..), rule(x, ybar)).
func (a *expander) customVJP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	rule := a.def(at.Fn)
	if rule == nil {
		return nil, ir.Errorf(at.P, "@vjp(%s): no such def", at.Fn)
	}
	ps := freshParams(fnOf{def: d}, d.P)
	ybar := ir.NewVar("ybar", d.Result, d.P)
	blk := &block{pos: d.P}
	y := blk.bind("y", &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: d.P}, Args: asExprs(ps), T: d.Result, P: d.P})
	xbar := &ir.Call{Fn: &ir.Global{Name: rule.Name, T: rule.Type(), P: at.P}, Args: []ir.Expr{pack(blk, ps), ybar}, T: rule.Result, P: at.P}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: d.P}), P: d.P}, nil
}

// transposedJVP gives reverse mode to a def that has only a custom JVP: at
// a fixed x, dx -> jvp(x, dx).1 is linear, so its VJP (taken at dx = 0)
// is its transpose, as in JAX.
func (a *expander) transposedJVP(d *ir.Def) (*ir.Lambda, error) {
	at := d.Attr("jvp")
	rule := a.def(at.Fn)
	if rule == nil {
		return nil, ir.Errorf(at.P, "@jvp(%s): no such def", at.Fn)
	}
	bad, check := verdict(a.linearityOf(rule))
	if bad != nil {
		pos := bad.pos
		if !pos.IsValid() {
			pos = rule.P
		}
		need := ""
		if len(a.ops) > 0 {
			pc := a.ops[len(a.ops)-1]
			need = fmt.Sprintf(" (for %s at %s)", pc.Op.Name, pc.P)
		}
		return nil, ir.Errorf(pos, "the @jvp rule %s of %s is not linear in its tangent: %s; reverse mode%s transposes the rule, so it must be linear (give %s a @vjp rule as well, or fix the rule)",
			at.Fn, d.Name, bad.why, need, d.Name)
	}
	j, err := a.jvpDef(d, d.P)
	if err != nil {
		return nil, err
	}
	pos := d.P
	ps := freshParams(fnOf{def: d}, pos)
	dxs := freshParams(fnOf{def: d}, pos)
	jcall := func(blk *block, dx []ir.Expr) ir.Expr {
		r := blk.bind("r", &ir.Call{Fn: &ir.Global{Name: j.Name, T: j.Type(), P: pos}, Args: append(asExprs(ps), dx...), T: j.Result, P: pos})
		return &ir.Proj{X: r, Index: 1, P: pos}
	}
	// lin(dx..) = jvp(x.., dx..).1 with x free.
	lb := &block{pos: pos}
	lin, err := a.vjpLambda(dxs, lb.close(jcall(lb, asExprs(dxs))), pos)
	if err != nil {
		return nil, err
	}
	ybar := ir.NewVar("ybar", d.Result, pos)
	blk := &block{pos: pos}
	y := blk.bind("y", &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: pos}, Args: asExprs(ps), T: d.Result, P: pos})
	var zeros []ir.Expr
	for _, p := range ps {
		zeros = append(zeros, zero(blk, p))
	}
	t := blk.bind("t", apply(lin, append(zeros, ybar), pos))
	xbar := blk.bind("xbar", &ir.Proj{X: t, Index: 1, P: pos})
	if check {
		cb := &block{pos: at.P}
		msg := fmt.Sprintf("the @jvp rule %s of %s is not linear in its tangent here (%s(x, 0) must be 0, and %s(x, u + v) = %s(x, u) + %s(x, v) on a probe); reverse mode transposes the rule, so it must be linear (give %s a @vjp rule as well, or fix the rule)",
			at.Fn, d.Name, at.Fn, at.Fn, at.Fn, at.Fn, d.Name)
		xbar = linearCheck(cb, jcall, ps, xbar, msg)
		blk.binds = append(blk.binds, cb.binds...)
	}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: pos}), P: pos}, nil
}

// vjpLambda transforms fn(params) => body into fn(params, ybar) => (y, xbar).
func (a *expander) vjpLambda(params []*ir.Var, body ir.Expr, pos ir.Pos) (*ir.Lambda, error) {
	return a.vjpLambdaFor(params, body, pos, nil)
}

// vjpLambdaFor is vjpLambda with respect to the parameters marked in
// active (nil: all); the others get zero cotangents.
func (a *expander) vjpLambdaFor(params []*ir.Var, body ir.Expr, pos ir.Pos, active []bool) (*ir.Lambda, error) {
	r := newRev(a)
	ps := make([]*ir.Var, len(params))
	for i, p := range params {
		ps[i] = ir.NewVar(p.Name, p.T, pos)
		r.ren[p] = ps[i]
		if ir.IsDifferentiable(p.T) && (active == nil || active[i]) {
			r.act[ps[i]] = true
		}
	}
	ybar := ir.NewVar("ybar", body.Type(), pos)
	blk := &block{pos: pos}
	y, err := r.fwdTail(blk, body, ybar)
	if err != nil {
		return nil, err
	}
	r.addTo(blk, y, ybar)
	if err := r.backward(blk); err != nil {
		return nil, err
	}
	var bars []ir.Expr
	for _, p := range ps {
		bars = append(bars, r.get(blk, p))
	}
	xbar := bars[0]
	if len(bars) > 1 {
		xbar = blk.bind("xbar", &ir.MakeTuple{Elems: bars, P: pos})
	}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: pos}), P: pos}, nil
}

// ---- cotangent bookkeeping ----

// atomOf is the generated-code atom of a variable: its renaming, or
// itself for variables of code that is already generated (the lambdas of
// map and build, rewritten into generated names by the forward sweep).
func (r *rev) atomOf(v *ir.Var) ir.Expr {
	if a, ok := r.ren[v]; ok {
		return a
	}
	return v
}

func (r *rev) isActive(x ir.Expr) bool {
	v, ok := x.(*ir.Var)
	return ok && r.act[v]
}

// activeExpr reports whether e uses an active variable.
//
// The forward sweep asks it of every tail of a let chain as it goes down
// the chain; listing the free variables of each tail made the sweep
// O(n^2) in the chain's length. The tails of a chain are answered from
// one pass over it instead (letChain).
func (r *rev) activeExpr(e ir.Expr) bool {
	if ch := r.tails[e]; ch != nil {
		return ch.reach >= ch.index[e]
	}
	if l, ok := e.(*ir.Let); ok {
		return r.newChain(l).reach >= 0
	}
	for _, v := range ir.FreeVars(e) {
		if r.isActive(r.atomOf(v)) {
			return true
		}
	}
	return false
}

// A letChain answers activeExpr for the tails of a chain
// let v0 = e0 in let v1 = e1 in ... in body as the sweep goes down it.
// The tail from v_i on uses an active variable exactly when some active
// variable bound before v_i (outside the chain, or v_k with k < i) is
// used at v_i or later. last holds the index of each variable's last use
// (the body's index is the number of lets); reach is the largest last
// use of the active variables bound so far, so the tail at index i uses
// an active variable when reach >= i.
type letChain struct {
	index map[ir.Expr]int
	last  map[*ir.Var]int
	reach int
}

// newChain records the chain that starts at l, at the start of its
// sweep: the variables from outside are already renamed.
func (r *rev) newChain(l *ir.Let) *letChain {
	ch := &letChain{index: map[ir.Expr]int{}, last: map[*ir.Var]int{}, reach: -1}
	bound := map[*ir.Var]bool{}
	var e ir.Expr = l
	for i := 0; ; i++ {
		use := e
		if l, ok := e.(*ir.Let); ok {
			use = l.Value
			bound[l.Var] = true
		}
		if !ir.IsAtom(e) {
			ch.index[e] = i
			r.tails[e] = ch
		}
		for _, v := range ir.FreeVars(use) {
			ch.last[v] = i
		}
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		e = l.Body
	}
	for v, i := range ch.last {
		if !bound[v] && r.isActive(r.atomOf(v)) {
			ch.reach = max(ch.reach, i)
		}
	}
	return ch
}

// bound tells l's chain, if l is in one, that the sweep has renamed l's
// variable.
func (r *rev) bound(l *ir.Let) {
	if ch := r.tails[l]; ch != nil && r.isActive(r.atomOf(l.Var)) {
		if i, ok := ch.last[l.Var]; ok {
			ch.reach = max(ch.reach, i)
		}
	}
}

func (r *rev) primal(e ir.Expr) ir.Expr { return ir.Subst(e, r.ren) }

// addTo adds the cotangent c (of x's type) to x's.
func (r *rev) addTo(blk *block, x ir.Expr, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil {
		return
	}
	r.adj[v] = r.add(blk, v, r.adj[v], c)
}

func (r *rev) add(blk *block, x ir.Expr, cur *adjoint, c ir.Expr) *adjoint {
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
			switch pc.Op {
			case ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimDiv, ir.PrimNeg, ir.PrimMatmul, ir.PrimOuter, ir.PrimPadLike:
				r.fresh[cv] = true
			case ir.PrimAccAdd:
				if z, ok := pc.Args[0].(*ir.PrimCall); ok && z.Op == ir.PrimZerosLike {
					r.fresh[cv] = true
				}
			}
		}
	}
	return v
}

func isF64Const(e ir.Expr, v float64) bool {
	c, ok := e.(*ir.Const)
	if !ok {
		return false
	}
	f, ok := c.Val.(float64)
	return ok && f == v
}

// accOf returns x's accumulator, creating a fresh zero one if need be.
func (r *rev) accOf(blk *block, x ir.Expr, cur *adjoint) ir.Expr {
	if cur != nil {
		return cur.val
	}
	return blk.bind("acc", &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{x}, T: x.Type(), P: blk.pos})
}

// addAt adds c to element i of array x's cotangent (cost O(|c|)).
func (r *rev) addAt(blk *block, x, i, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil {
		return
	}
	r.adj[v] = r.addAtAdj(blk, v.T, func() ir.Expr { return v }, r.adj[v], i, blk.bind("c", c))
}

// addAtAdj adds c to row i of cur, the cotangent of an array of type t.
// x gives the array itself, when a fresh accumulator needs its shape (it
// is a function so that the columns of an array of tuples are unzipped
// only then).
func (r *rev) addAtAdj(blk *block, t ir.Type, x func() ir.Expr, cur *adjoint, i, c ir.Expr) *adjoint {
	b := blk.builder()
	if tt, ok := tupleArray(t); ok {
		if cur == nil || cur.elems == nil {
			cur = r.splitCols(blk, x(), cur)
		}
		out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
		var xs []ir.Expr
		for j, et := range tt.Elems {
			col := func() ir.Expr {
				if xs == nil {
					xs = columns(blk, x())
				}
				return xs[j]
			}
			cj := blk.bind("c", &ir.Proj{X: c, Index: j, P: blk.pos})
			out.elems[j] = r.addAtAdj(blk, ir.ArrayOf(t.(*ir.Array).Dim, et), col, out.elems[j], i, cj)
		}
		return out
	}
	if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
		r.unsupported(blk, t)
		return cur
	}
	var acc ir.Expr
	if cur != nil {
		acc = cur.val
	} else {
		xv := x()
		acc = blk.bind("acc", &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{xv}, T: xv.Type(), P: blk.pos})
	}
	return &adjoint{val: blk.bind("acc", b.Prim(ir.PrimAccAddAt, acc, i, c))}
}

// tupleArray reports whether t is an array of tuples, [n](T1, ..., Tk),
// and returns the tuple type. The cotangent of such an array is kept as
// the cotangents of its k columns, the fields of unzip(x) of types
// [n]T1, ..., [n]Tk, so that adding into one element stays O(1) with
// accumulators, which hold arrays of f64 only.
func tupleArray(t ir.Type) (*ir.Tuple, bool) {
	a, ok := t.(*ir.Array)
	if !ok {
		return nil, false
	}
	tt, ok := a.Elem.(*ir.Tuple)
	return tt, ok
}

// columns binds unzip(x) for an array of tuples and returns its fields.
func columns(blk *block, x ir.Expr) []ir.Expr {
	tt, _ := tupleArray(x.Type())
	u := blk.bind("cols", &ir.PrimCall{Op: ir.PrimUnzip, Args: []ir.Expr{x}, T: unzipType(x.Type()), P: blk.pos})
	out := make([]ir.Expr, len(tt.Elems))
	for j := range out {
		out[j] = blk.bind("col", &ir.Proj{X: u, Index: j, P: blk.pos})
	}
	return out
}

// zipCols is the array of tuples t with the given columns: zip, or for
// one column (zip needs two) a map making 1-tuples.
func zipCols(blk *block, t ir.Type, cols []ir.Expr) ir.Expr {
	if len(cols) == 1 {
		a := ir.NewVar("a", cols[0].Type().(*ir.Array).Elem, blk.pos)
		one := &ir.Lambda{Params: []*ir.Var{a}, Body: &ir.MakeTuple{Elems: []ir.Expr{a}, P: blk.pos}, P: blk.pos}
		return blk.bind("g", &ir.PrimCall{Op: ir.PrimMap, Args: []ir.Expr{one, cols[0]}, T: t, P: blk.pos})
	}
	return blk.bind("g", &ir.PrimCall{Op: ir.PrimZip, Args: cols, T: t, P: blk.pos})
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
// represent (arrays of arrays of tuples) rather than dropping it.
func (r *rev) unsupported(blk *block, t ir.Type) {
	if k, ok := ir.Leaf(t); ok && k != ir.F64 {
		return // i64 and bool arrays have no cotangent
	}
	r.a.errorf(blk.pos, "reverse mode: cannot differentiate through a value of type %s (an array of arrays of tuples): zip or unzip it into arrays", t)
}

// addComp adds c to field i of tuple x's cotangent.
func (r *rev) addComp(blk *block, x ir.Expr, i int, c ir.Expr) {
	v, ok := x.(*ir.Var)
	if !ok || !r.act[v] || c == nil {
		return
	}
	cur := r.adj[v]
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
		cur = r.adj[v]
	}
	return r.materialize(blk, x, cur)
}

func (r *rev) materialize(blk *block, x ir.Expr, cur *adjoint) ir.Expr {
	if cur != nil && cur.elems == nil {
		return cur.val
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
	if tt, ok := tupleArray(t); ok {
		if cur == nil || cur.elems == nil {
			cur = r.splitCols(blk, x(), cur)
		}
		out := &adjoint{elems: append([]*adjoint(nil), cur.elems...)}
		var xs []ir.Expr
		elems := make([]ir.Expr, len(tt.Elems))
		for j, et := range tt.Elems {
			col := func() ir.Expr {
				if xs == nil {
					xs = columns(blk, x())
				}
				return xs[j]
			}
			elems[j], out.elems[j] = r.stateForm(blk, ir.ArrayOf(t.(*ir.Array).Dim, et), col, out.elems[j])
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos}), out
	}
	if _, isArr := t.(*ir.Array); isArr && cur == nil {
		cur = &adjoint{val: r.accOf(blk, x(), nil)}
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
		for j, et := range tt.Elems {
			out.elems[j] = fromState(blk, ir.ArrayOf(t.(*ir.Array).Dim, et), blk.bind("g", &ir.Proj{X: val, Index: j, P: blk.pos}))
		}
		return out
	}
	return &adjoint{val: val}
}

// addAtState adds c to row i of a cotangent in state form.
func addAtState(blk *block, t ir.Type, state, i, c ir.Expr) ir.Expr {
	if tt, ok := tupleArray(t); ok {
		elems := make([]ir.Expr, len(tt.Elems))
		for j, et := range tt.Elems {
			sj := blk.bind("g", &ir.Proj{X: state, Index: j, P: blk.pos})
			cj := blk.bind("c", &ir.Proj{X: c, Index: j, P: blk.pos})
			elems[j] = addAtState(blk, ir.ArrayOf(t.(*ir.Array).Dim, et), sj, i, cj)
		}
		return blk.bind("acc", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	if k, ok := ir.Leaf(t); !ok || k != ir.F64 {
		return state
	}
	return blk.bind("acc", blk.builder().Prim(ir.PrimAccAddAt, state, i, c))
}

// ---- forward sweep ----

func (r *rev) record(blk *block, name string, e ir.Expr, orig ir.Expr, args []ir.Expr) *ir.Var {
	y := blk.bindVar(name, e)
	r.act[y] = true
	r.steps = append(r.steps, step{y: y, orig: orig, args: args})
	return y
}

func (r *rev) atoms(blk *block, es []ir.Expr) ([]ir.Expr, error) {
	out := make([]ir.Expr, len(es))
	for i, x := range es {
		var err error
		if out[i], err = r.fwd(blk, x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fwd emits e's primal computation and returns its atom.
func (r *rev) fwd(blk *block, e ir.Expr) (ir.Expr, error) {
	if err := r.a.tick(); err != nil {
		return nil, err
	}
	if !r.activeExpr(e) {
		return blk.bind("v", r.primal(e)), nil
	}
	switch e := e.(type) {
	case *ir.Var:
		return r.atomOf(e), nil
	case *ir.Let:
		p, err := r.fwd(blk, e.Value)
		if err != nil {
			return nil, err
		}
		r.ren[e.Var] = p
		r.bound(e)
		return r.fwd(blk, e.Body)
	case *ir.MakeTuple:
		args, err := r.atoms(blk, e.Elems)
		if err != nil {
			return nil, err
		}
		return r.record(blk, "tup", &ir.MakeTuple{Elems: args, P: e.P}, e, args), nil
	case *ir.Proj:
		x, err := r.fwd(blk, e.X)
		if err != nil {
			return nil, err
		}
		return r.record(blk, "f", &ir.Proj{X: x, Index: e.Index, P: e.P}, e, []ir.Expr{x}), nil
	case *ir.If:
		c := blk.bind("c", r.primal(e.Cond))
		y := r.record(blk, "y", &ir.If{Cond: c, Then: r.primal(e.Then), Else: r.primal(e.Else), P: e.P}, e, []ir.Expr{c})
		return y, nil
	case *ir.Loop:
		return r.fwdLoop(blk, e)
	case *ir.Call:
		args, err := r.atoms(blk, e.Args)
		if err != nil {
			return nil, err
		}
		if _, ok := e.Fn.(*ir.Global); !ok {
			return nil, ir.Errorf(e.P, "reverse mode: cannot differentiate a call of a function chosen at run time")
		}
		return r.record(blk, "y", &ir.Call{Fn: e.Fn, Args: args, T: e.T, P: e.P}, e, args), nil
	case *ir.PrimCall:
		return r.fwdPrim(blk, e)
	}
	return nil, ir.Errorf(e.Pos(), "reverse mode: cannot differentiate %T here", e)
}

// fwdTail is fwd for the body of the function being differentiated, whose
// result has the cotangent seed and nothing else. A call in tail position
// (after lets) runs the callee's VJP at once with that seed: it computes
// the call's value as well, so the callee's forward pass runs once rather
// than twice (the call now, its VJP recomputing it in the backward sweep).
// This is the shape of grad(fn(w) => loss(w, data)).
func (r *rev) fwdTail(blk *block, e ir.Expr, seed ir.Expr) (ir.Expr, error) {
	if !r.activeExpr(e) {
		return r.fwd(blk, e)
	}
	switch e := e.(type) {
	case *ir.Let:
		p, err := r.fwd(blk, e.Value)
		if err != nil {
			return nil, err
		}
		r.ren[e.Var] = p
		r.bound(e)
		return r.fwdTail(blk, e.Body, seed)
	case *ir.Call:
		g, ok := e.Fn.(*ir.Global)
		if !ok {
			break
		}
		d := r.a.lookup(g.Name)
		if d == nil {
			break
		}
		args, err := r.atoms(blk, e.Args)
		if err != nil {
			return nil, err
		}
		v, err := r.a.vjpDefFor(d, r.activeArgs(args))
		if err != nil {
			return nil, err
		}
		res := blk.bind("r", &ir.Call{Fn: &ir.Global{Name: v.Name, T: v.Type(), P: e.P}, Args: append(append([]ir.Expr(nil), args...), seed), T: v.Result, P: e.P})
		y := r.record(blk, "y", &ir.Proj{X: res, Index: 0, P: e.P}, e, args)
		r.steps[len(r.steps)-1].aux = res // backCall takes the cotangents from res
		return y, nil
	}
	return r.fwd(blk, e)
}

func (r *rev) fwdPrim(blk *block, e *ir.PrimCall) (ir.Expr, error) {
	if low, ok, err := lowerSeries(e); ok {
		if err != nil {
			return nil, err
		}
		return r.fwd(blk, low)
	}
	switch e.Op {
	case ir.PrimProgress:
		// Differentiated code does not report: the primal run did.
		return r.fwd(blk, e.Args[4])
	case ir.PrimStopGradient:
		// A fresh variable, even for an atom: stop_gradient(x) must not
		// return the active x itself. It keeps its stop_gradient, so that
		// an outer transform of this code does not differentiate through
		// it either.
		return blk.bindVar("v", &ir.PrimCall{Op: ir.PrimStopGradient, Args: []ir.Expr{r.primal(e.Args[0])}, T: e.T, P: e.P}), nil
	}
	switch e.Op {
	case ir.PrimMap, ir.PrimBuild, ir.PrimReduce, ir.PrimScan, ir.PrimFold, ir.PrimLinsolve, ir.PrimLoopSave, ir.PrimWhileSave:
		// Function arguments stay as they are (in primal form); the arrays
		// and initial values become atoms.
		args := make([]ir.Expr, len(e.Args))
		for i, x := range e.Args {
			if isFuncType(x.Type()) {
				args[i] = r.primal(x)
				continue
			}
			var err error
			if args[i], err = r.fwd(blk, x); err != nil {
				return nil, err
			}
		}
		y := r.record(blk, "y", &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}, e, args)
		return y, nil
	}
	args, err := r.atoms(blk, e.Args)
	if err != nil {
		return nil, err
	}
	pc := &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}
	if e.Op.NoDerivative {
		return blk.bind("v", pc), nil
	}
	if e.Op == ir.PrimAccAdd || e.Op == ir.PrimAccAddAt {
		// Reverse mode over reverse mode: accumulators are linear (see back).
		return r.record(blk, "acc", pc, e, args), nil
	}
	if e.Op.Partials == nil && e.Op.VJP == nil {
		return nil, ir.Errorf(e.P, "reverse mode: %s has no derivative rule", e.Op.Name)
	}
	return r.record(blk, "y", pc, e, args), nil
}

// fwdLoop runs an active loop saving its states, for the backward sweep.
func (r *rev) fwdLoop(blk *block, e *ir.Loop) (ir.Expr, error) {
	init, err := r.fwd(blk, e.Init)
	if err != nil {
		return nil, err
	}
	b := blk.builder()
	st := e.State.T
	s := ir.NewVar(e.State.Name, st, e.P)
	var states, n ir.Expr
	if e.Count != nil {
		count := blk.bind("n", r.primal(e.Count))
		i := ir.NewVar(e.Index.Name, ir.TI64, e.P)
		body := ir.Subst(e.Body, r.renaming(e.Body, map[*ir.Var]ir.Expr{e.State: s, e.Index: i}))
		states = blk.bind("states", b.Prim(ir.PrimLoopSave, count, init, &ir.Lambda{Params: []*ir.Var{i, s}, Body: body, P: e.P}))
		n = blk.bind("n", b.Prim(ir.PrimMax, count, b.I64(0)))
	} else {
		cs := ir.NewVar(e.State.Name, st, e.P)
		cond := ir.Subst(e.Cond, r.renaming(e.Cond, map[*ir.Var]ir.Expr{e.State: cs}))
		body := ir.Subst(e.Body, r.renaming(e.Body, map[*ir.Var]ir.Expr{e.State: s}))
		states = blk.bind("states", b.Prim(ir.PrimWhileSave, init,
			&ir.Lambda{Params: []*ir.Var{cs}, Body: cond, P: e.P},
			&ir.Lambda{Params: []*ir.Var{s}, Body: body, P: e.P}))
		n = blk.bind("n", b.Prim(ir.PrimSub, blk.bind("len", b.Prim(ir.PrimLen, states)), b.I64(1)))
	}
	y := r.record(blk, "y", b.Prim(ir.PrimIndex, states, n), e, []ir.Expr{init})
	r.steps[len(r.steps)-1].aux = states
	r.steps[len(r.steps)-1].n = n
	return y, nil
}

// renaming is the renaming of e's free variables, with extra: all that
// Subst(e, ...) reads of r.ren, which is too large to copy for every
// loop of a long def.
func (r *rev) renaming(e ir.Expr, extra map[*ir.Var]ir.Expr) map[*ir.Var]ir.Expr {
	out := map[*ir.Var]ir.Expr{}
	for _, v := range ir.FreeVars(e) {
		if a, ok := r.ren[v]; ok {
			out[v] = a
		}
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// ---- backward sweep ----

func (r *rev) backward(blk *block) error {
	for i := len(r.steps) - 1; i >= 0; i-- {
		st := r.steps[i]
		if r.adj[st.y] == nil {
			continue
		}
		ybar := r.get(blk, st.y)
		if err := r.back(blk, st, ybar); err != nil {
			return err
		}
	}
	return nil
}

func (r *rev) back(blk *block, st step, ybar ir.Expr) error {
	if err := r.a.tick(); err != nil {
		return err
	}
	b := blk.builder()
	switch e := st.orig.(type) {
	case *ir.MakeTuple:
		for i, x := range st.args {
			if r.isActive(x) {
				r.addTo(blk, x, blk.bind("g", &ir.Proj{X: ybar, Index: i, P: blk.pos}))
			}
		}
	case *ir.Proj:
		r.addComp(blk, st.args[0], e.Index, ybar)
	case *ir.Call:
		return r.backCall(blk, st, e, ybar)
	case *ir.If:
		return r.backIf(blk, st, e, ybar)
	case *ir.Loop:
		return r.backLoop(blk, st, e, ybar)
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimMap, ir.PrimBuild:
			return r.backMap(blk, st, e, ybar)
		case ir.PrimReduce, ir.PrimFold:
			return r.backFold(blk, st, e, ybar)
		case ir.PrimScan:
			return r.backScan(blk, st, e, ybar)
		case ir.PrimLoopSave, ir.PrimWhileSave:
			return r.backSave(blk, st, e, ybar)
		case ir.PrimLinsolve:
			return r.backLinsolve(blk, st, e, ybar)
		case ir.PrimIndex:
			r.addAt(blk, st.args[0], st.args[1], ybar)
			return nil
		case ir.PrimAccAdd:
			// acc_add(acc, v) = acc + v, v an array or a scalar added to
			// every element. Its partials need no primal values, so that
			// the in-place update of acc does not matter here.
			r.addTo(blk, st.args[0], ybar)
			if ir.Rank(st.args[1].Type()) == 0 {
				r.addTo(blk, st.args[1], blk.bind("c", b.Prim(ir.PrimSum, ybar)))
			} else {
				r.addTo(blk, st.args[1], ybar)
			}
			return nil
		case ir.PrimAccAddAt:
			// acc_add_at(acc, i, v) = acc with v added to row i.
			r.addTo(blk, st.args[0], ybar)
			r.addTo(blk, st.args[2], blk.bind("c", b.Prim(ir.PrimIndex, ybar, st.args[1])))
			return nil
		}
		if e.Op.Partials != nil {
			partials := e.Op.Partials(b, st.args, st.y)
			for i, x := range st.args {
				if !r.isActive(x) || partials[i] == nil {
					continue
				}
				var c ir.Expr
				switch {
				case isF64Const(partials[i], 1): // x + y, x - y, ...
					c = ybar
				case isF64Const(partials[i], -1):
					c = r.bindFresh(blk, b.Prim(ir.PrimNeg, ybar))
				default:
					c = r.bindFresh(blk, b.Prim(ir.PrimMul, blk.bind("dp", partials[i]), ybar))
				}
				if ir.Rank(x.Type()) == 0 && ir.Rank(c.Type()) > 0 {
					c = blk.bind("c", b.Prim(ir.PrimSum, c))
				}
				r.addTo(blk, x, c)
			}
			return nil
		}
		cs := e.Op.VJP(b, st.args, st.y, ybar)
		for i, x := range st.args {
			if i < len(cs) && cs[i] != nil && r.isActive(x) {
				r.addTo(blk, x, r.bindFresh(blk, cs[i]))
			}
		}
	}
	return nil
}

func (r *rev) backCall(blk *block, st step, e *ir.Call, ybar ir.Expr) error {
	res := st.aux // a tail call's VJP, already run (fwdTail)
	if res == nil {
		d := r.a.lookup(e.Fn.(*ir.Global).Name)
		if d == nil {
			return ir.Errorf(e.P, "reverse mode: unknown def")
		}
		v, err := r.a.vjpDefFor(d, r.activeArgs(st.args))
		if err != nil {
			return err
		}
		res = blk.bind("r", &ir.Call{Fn: &ir.Global{Name: v.Name, T: v.Type(), P: e.P}, Args: append(append([]ir.Expr(nil), st.args...), ybar), T: v.Result, P: e.P})
	}
	xbar := blk.bind("xbar", &ir.Proj{X: res, Index: 1, P: e.P})
	if len(st.args) == 1 {
		r.addTo(blk, st.args[0], xbar)
		return nil
	}
	for i, x := range st.args {
		if r.isActive(x) {
			r.addTo(blk, x, blk.bind("g", &ir.Proj{X: xbar, Index: i, P: e.P}))
		}
	}
	return nil
}

// freeActive lists the active atoms (variables of the generated code) that
// the original expressions use freely.
func (r *rev) freeActive(es ...ir.Expr) []*ir.Var {
	var out []*ir.Var
	seen := map[*ir.Var]bool{}
	for _, e := range es {
		for _, v := range ir.FreeVars(e) {
			if a, ok := r.atomOf(v).(*ir.Var); ok && r.act[a] && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// nested runs the reverse pass of body in a child transformation: the
// child recomputes body's forward code, seeds its result with seed, and
// accumulates into the threaded cotangents of free (given as values in
// states). It returns the child (to read cotangents of its binders) and
// the updated states.
func (r *rev) nested(blk *block, body ir.Expr, bind func(c *rev), seed ir.Expr, free []*ir.Var, states []ir.Expr) (*rev, []ir.Expr, error) {
	c := r.child(body)
	bind(c)
	for i, f := range free {
		c.setState(blk, f, states[i])
	}
	y, err := c.fwdTail(blk, body, seed)
	if err != nil {
		return nil, nil, err
	}
	c.addTo(blk, y, seed)
	if err := c.backward(blk); err != nil {
		return nil, nil, err
	}
	out := make([]ir.Expr, len(free))
	for i, f := range free {
		out[i] = c.state(blk, f)
	}
	return c, out, nil
}

func tupleOf(pos ir.Pos, es []ir.Expr) ir.Expr { return &ir.MakeTuple{Elems: es, P: pos} }

func projs(blk *block, t ir.Expr, from, n int) []ir.Expr {
	out := make([]ir.Expr, n)
	for i := range out {
		out[i] = blk.bind("g", &ir.Proj{X: t, Index: from + i, P: blk.pos})
	}
	return out
}

// backIf reverses each branch (recomputing it), threading the cotangents
// of the branches' free active variables through both.
func (r *rev) backIf(blk *block, st step, e *ir.If, ybar ir.Expr) error {
	free := r.freeActive(e.Then, e.Else)
	if len(free) == 0 {
		return nil
	}
	states := make([]ir.Expr, len(free))
	for i, f := range free {
		states[i] = r.state(blk, f)
	}
	branch := func(body ir.Expr) (ir.Expr, error) {
		bb := &block{pos: e.P}
		_, out, err := r.nested(bb, body, func(*rev) {}, ybar, free, states)
		if err != nil {
			return nil, err
		}
		return bb.close(tupleOf(e.P, out)), nil
	}
	th, err := branch(e.Then)
	if err != nil {
		return err
	}
	el, err := branch(e.Else)
	if err != nil {
		return err
	}
	res := blk.bind("gif", &ir.If{Cond: st.args[0], Then: th, Else: el, P: e.P})
	for i, g := range projs(blk, res, 0, len(free)) {
		r.setState(blk, free[i], g)
	}
	return nil
}

// backLoop reverses a loop iteration by iteration from its saved states;
// the reverse loop carries the state's cotangent and the cotangents of the
// body's free active variables.
func (r *rev) backLoop(blk *block, st step, e *ir.Loop, ybar ir.Expr) error {
	free := r.freeActive(e.Body)
	b := blk.builder()
	init := []ir.Expr{ybar}
	for _, f := range free {
		init = append(init, r.state(blk, f))
	}
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init}).Type(), e.P)
	t := ir.NewVar("t", ir.TI64, e.P)
	bb := &block{pos: e.P}
	i := bb.bind("i", b.Prim(ir.PrimSub, b.Prim(ir.PrimSub, st.n, t), b.I64(1)))
	s := bb.bindVar(e.State.Name, b.Prim(ir.PrimIndex, st.aux, i))
	comps := projs(bb, R, 0, len(init))
	c, out, err := r.nested(bb, e.Body, func(c *rev) {
		c.ren[e.State] = s
		c.act[s] = true
		if e.Index != nil {
			c.ren[e.Index] = i
		}
	}, comps[0], free, comps[1:])
	if err != nil {
		return err
	}
	sbar := c.get(bb, s)
	loop := &ir.Loop{State: R, Init: tupleOf(e.P, init), Index: t, Count: st.n, Body: bb.close(tupleOf(e.P, append([]ir.Expr{sbar}, out...))), P: e.P}
	res := blk.bind("grev", loop)
	gs := projs(blk, res, 0, len(init))
	for k, f := range free {
		r.setState(blk, f, gs[1+k])
	}
	// After the threaded states: the initial state may be one of them
	// (loop y = s for i < n do y * s).
	r.addTo(blk, st.args[0], gs[0])
	return nil
}

// backMap reverses map and build element by element: for each element the
// body is recomputed and reversed; element cotangents go into the arrays'
// accumulators at that index, and free variables' cotangents are threaded.
func (r *rev) backMap(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	b := blk.builder()
	var lam *ir.Lambda
	var arrays []ir.Expr
	if e.Op == ir.PrimBuild {
		lam = st.args[1].(*ir.Lambda)
	} else {
		l, err := lambdaOf(st.args[0])
		if err != nil {
			return err
		}
		lam = l
		arrays = st.args[1:]
	}
	// The lambda in st.args is already in the generated code's names; its
	// free variables are atoms of the generated code. The reverse loop
	// threads one cotangent state per variable: the lambda's free active
	// variables and the active arrays mapped over, each once (an array
	// may be mapped twice, or mapped and read by the lambda).
	free := r.freeAtoms(lam)
	var activeArr []int
	for k, x := range arrays {
		if r.isActive(x) {
			activeArr = append(activeArr, k)
			free = addVar(free, x.(*ir.Var))
		}
	}
	if len(free) == 0 {
		return nil
	}
	var init []ir.Expr
	for _, f := range free {
		init = append(init, r.state(blk, f))
	}
	var n ir.Expr
	if e.Op == ir.PrimBuild {
		n = st.args[0]
	} else {
		n = blk.bind("n", b.Prim(ir.PrimLen, arrays[0]))
	}
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init}).Type(), e.P)
	i := ir.NewVar("i", ir.TI64, e.P)
	bb := &block{pos: e.P}
	comps := projs(bb, R, 0, len(init))
	yb := bb.bind("yb", b.Prim(ir.PrimIndex, ybar, i))
	elems := make([]*ir.Var, len(lam.Params))
	c, out, err := r.nested(bb, lam.Body, func(c *rev) {
		for k, p := range lam.Params {
			if e.Op == ir.PrimBuild {
				c.ren[p] = i
				continue
			}
			elems[k] = bb.bindVar(p.Name, b.Prim(ir.PrimIndex, arrays[k], i))
			c.ren[p] = elems[k]
			c.act[elems[k]] = r.isActive(arrays[k])
		}
	}, yb, free, comps)
	if err != nil {
		return err
	}
	for _, k := range activeArr {
		j := slices.Index(free, arrays[k].(*ir.Var))
		out[j] = addAtState(bb, arrays[k].Type(), out[j], i, c.get(bb, elems[k]))
	}
	loop := &ir.Loop{State: R, Init: tupleOf(e.P, init), Index: i, Count: n, Body: bb.close(tupleOf(e.P, out)), P: e.P}
	res := blk.bind("grev", loop)
	gs := projs(blk, res, 0, len(init))
	for j, f := range free {
		r.setState(blk, f, gs[j])
	}
	return nil
}

// addVar appends v to vs unless it is there already.
func addVar(vs []*ir.Var, v *ir.Var) []*ir.Var {
	if slices.Contains(vs, v) {
		return vs
	}
	return append(vs, v)
}

// freeAtoms lists the active atoms a generated-code lambda uses freely.
func (r *rev) freeAtoms(lam *ir.Lambda) []*ir.Var {
	var out []*ir.Var
	for _, v := range ir.FreeVars(lam) {
		if r.act[v] {
			out = append(out, v)
		}
	}
	return out
}

// isAddOp and isMaxOp recognize reduce(fn(a, b) => a + b, ...) and
// reduce(max, ...) for their direct adjoints.
func opIs(lam *ir.Lambda, p *ir.Prim) bool {
	pc, ok := lam.Body.(*ir.PrimCall)
	return ok && len(lam.Params) == 2 && pc.Op == p && len(pc.Args) == 2 && pc.Args[0] == lam.Params[0] && pc.Args[1] == lam.Params[1]
}

// backFold reverses reduce and fold. A sum spreads the cotangent over the
// elements and max/min send it to the extreme; any other operator is
// reversed as the left fold it is evaluated as, from saved prefixes.
func (r *rev) backFold(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	b := blk.builder()
	lam, err := lambdaOf(st.args[0])
	if err != nil {
		return err
	}
	ne, xs := st.args[1], st.args[2]
	scalarElems := ir.Rank(xs.Type()) == 1 && ir.Identical(xs.Type().(*ir.Array).Elem, ir.TF64)
	free := r.freeAtoms(lam)
	if e.Op == ir.PrimReduce && scalarElems && len(free) == 0 {
		switch {
		case opIs(lam, ir.PrimAdd):
			r.addTo(blk, ne, ybar)
			if r.isActive(xs) {
				acc := r.accOf(blk, xs, r.adj[xs.(*ir.Var)])
				r.adj[xs.(*ir.Var)] = &adjoint{val: blk.bind("acc", b.Prim(ir.PrimAccAdd, acc, ybar))}
			}
			return nil
		case opIs(lam, ir.PrimMax), opIs(lam, ir.PrimMin):
			arg := ir.PrimArgmax
			if opIs(lam, ir.PrimMin) {
				arg = ir.PrimArgmin
			}
			n := blk.bind("n", b.Prim(ir.PrimLen, xs))
			k := blk.bind("k", b.If(b.Prim(ir.PrimGt, n, b.I64(0)), b.Prim(arg, xs), b.I64(0)))
			hit := blk.bind("hit", b.If(b.Prim(ir.PrimGt, n, b.I64(0)), b.Prim(ir.PrimEq, b.Prim(ir.PrimIndex, xs, k), st.y), b.Bool(false)))
			if r.isActive(xs) {
				acc := r.accOf(blk, xs, r.adj[xs.(*ir.Var)])
				r.adj[xs.(*ir.Var)] = &adjoint{val: blk.bind("acc", b.If(hit, b.Prim(ir.PrimAccAddAt, acc, k, ybar), acc))}
			}
			r.addTo(blk, ne, blk.bind("g", b.If(hit, b.F64(0), ybar)))
			return nil
		}
	}
	// General: states[i] is the accumulator before element i.
	accT := ne.Type()
	n := blk.bind("n", b.Prim(ir.PrimLen, xs))
	a := ir.NewVar("a", accT, e.P)
	j := ir.NewVar("j", ir.TI64, e.P)
	stepBody := &ir.Call{Fn: ir.Copy(lam), Args: []ir.Expr{a, b.Prim(ir.PrimIndex, xs, j)}, T: accT, P: e.P}
	states := blk.bind("states", b.Prim(ir.PrimLoopSave, n, ne, &ir.Lambda{Params: []*ir.Var{j, a}, Body: beta(stepBody.Fn.(*ir.Lambda).Params, stepBody.Fn.(*ir.Lambda).Body, stepBody.Args, e.P), P: e.P}))
	return r.backSequential(blk, lam, ne, xs, n, ybar, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("prev", b.Prim(ir.PrimIndex, states, i))
	}, nil, free)
}

// backSequential is the reverse loop shared by fold-like and scan: from i
// = n-1 down to 0 it reverses acc' = op(prev(i), xs[i]) with the carried
// cotangent (plus extra(i), scan's per-output cotangent), adding element
// cotangents into xs's accumulator and finally the carry into ne's.
func (r *rev) backSequential(blk *block, lam *ir.Lambda, ne, xs, n, seed ir.Expr, prev func(bb *block, i ir.Expr) ir.Expr, extra func(bb *block, i ir.Expr) ir.Expr, free []*ir.Var) error {
	b := blk.builder()
	pos := blk.pos
	xsActive := r.isActive(xs)
	if xsActive {
		// One state per variable: xs may also be read by the operator.
		free = addVar(slices.Clone(free), xs.(*ir.Var))
	}
	init := []ir.Expr{seed}
	for _, f := range free {
		init = append(init, r.state(blk, f))
	}
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init}).Type(), pos)
	t := ir.NewVar("t", ir.TI64, pos)
	bb := &block{pos: pos}
	i := bb.bind("i", b.Prim(ir.PrimSub, b.Prim(ir.PrimSub, n, t), b.I64(1)))
	comps := projs(bb, R, 0, len(init))
	carry := comps[0]
	if extra != nil {
		carry = addCot(bb, carry, extra(bb, i))
	}
	av := bb.bindVar("a", prev(bb, i))
	xv := bb.bindVar("x", b.Prim(ir.PrimIndex, xs, i))
	c, out, err := r.nested(bb, lam.Body, func(c *rev) {
		c.ren[lam.Params[0]] = av
		c.ren[lam.Params[1]] = xv
		c.act[av] = true
		c.act[xv] = xsActive
	}, carry, free, comps[1:])
	if err != nil {
		return err
	}
	if xsActive {
		j := slices.Index(free, xs.(*ir.Var))
		out[j] = addAtState(bb, xs.Type(), out[j], i, c.get(bb, xv))
	}
	next := append([]ir.Expr{c.get(bb, av)}, out...)
	loop := &ir.Loop{State: R, Init: tupleOf(pos, init), Index: t, Count: n, Body: bb.close(tupleOf(pos, next)), P: pos}
	res := blk.bind("grev", loop)
	gs := projs(blk, res, 0, len(init))
	for j, f := range free {
		r.setState(blk, f, gs[1+j])
	}
	// After the threaded states: ne may be one of them.
	r.addTo(blk, ne, gs[0])
	return nil
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

// backScan reverses an inclusive scan: output i depends on output i-1 and
// element i, so the carried cotangent at i is ybar[i] plus what flows back
// from i+1.
func (r *rev) backScan(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	b := blk.builder()
	lam, err := lambdaOf(st.args[0])
	if err != nil {
		return err
	}
	ne, xs := st.args[1], st.args[2]
	n := blk.bind("n", b.Prim(ir.PrimLen, xs))
	zeroSeed := zero(blk, ne)
	return r.backSequential(blk, lam, ne, xs, n, zeroSeed, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("prev", b.If(b.Prim(ir.PrimEq, i, b.I64(0)), ne, b.Prim(ir.PrimIndex, st.y, b.Prim(ir.PrimSub, i, b.I64(1)))))
	}, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("yb", b.Prim(ir.PrimIndex, ybar, i))
	}, r.freeAtoms(lam))
}

// backLinsolve: for y = A⁻¹b, bbar = λ = A⁻ᵀ ybar, where Aᵀ's action is
// the VJP of the (linear) action v -> A v taken at 0. When the action
// depends on active values θ (nested implicit differentiation, SPEC §6),
// differentiating A y = b gives θbar += -(∂(A(θ) y)/∂θ)ᵀ λ: the reverse
// pass of the action's body at v = y, v held fixed, seeded with -λ.
func (r *rev) backLinsolve(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	lam, err := lambdaOf(st.args[0])
	if err != nil {
		return err
	}
	free := r.freeAtoms(lam)
	if !r.isActive(st.args[1]) && len(free) == 0 {
		return nil
	}
	v, err := r.a.vjpLambda(lam.Params, lam.Body, e.P)
	if err != nil {
		return err
	}
	w := ir.NewVar("w", e.T, e.P)
	tb := &block{pos: e.P}
	res := tb.bind("r", apply(v, []ir.Expr{zero(tb, w), w}, e.P))
	transposed := &ir.Lambda{Params: []*ir.Var{w}, Body: tb.close(&ir.Proj{X: res, Index: 1, P: e.P}), P: e.P}
	lambda := blk.bind("lambda", &ir.PrimCall{Op: ir.PrimLinsolve, Args: []ir.Expr{transposed, ybar}, T: e.T, P: e.P})
	r.addTo(blk, st.args[1], lambda)
	if len(free) == 0 {
		return nil
	}
	states := make([]ir.Expr, len(free))
	for i, f := range free {
		states[i] = r.state(blk, f)
	}
	seed := blk.bind("seed", blk.builder().Prim(ir.PrimNeg, lambda))
	_, out, err := r.nested(blk, lam.Body, func(c *rev) {
		// v is y, held fixed: a fresh inactive atom.
		c.ren[lam.Params[0]] = blk.bindVar("v", st.y)
	}, seed, free, states)
	if err != nil {
		return err
	}
	for i, f := range free {
		r.setState(blk, f, out[i])
	}
	return nil
}

// backSave reverses loop_save and while_save, which reverse mode emits and
// meets again when it differentiates its own output (reverse over
// reverse). states[0] is the initial state and states[k+1] = body(k,
// states[k]); going back from the last state, the cotangent of states[k]
// is ybar[k] plus what flows back through the body from states[k+1]. The
// body is recomputed from the saved states, as in backLoop.
func (r *rev) backSave(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	b := blk.builder()
	init := st.args[0]
	if e.Op == ir.PrimLoopSave {
		init = st.args[1]
	}
	lam, err := lambdaOf(st.args[2])
	if err != nil {
		return err
	}
	free := r.freeAtoms(lam)
	if len(free) == 0 && !r.isActive(init) {
		return nil
	}
	n := blk.bind("n", b.Prim(ir.PrimSub, blk.bind("len", b.Prim(ir.PrimLen, st.y)), b.I64(1)))
	init0 := []ir.Expr{blk.bind("g", b.Prim(ir.PrimIndex, ybar, n))}
	for _, f := range free {
		init0 = append(init0, r.state(blk, f))
	}
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init0}).Type(), e.P)
	t := ir.NewVar("t", ir.TI64, e.P)
	bb := &block{pos: e.P}
	k := bb.bind("i", b.Prim(ir.PrimSub, b.Prim(ir.PrimSub, n, t), b.I64(1)))
	comps := projs(bb, R, 0, len(init0))
	sv := lam.Params[len(lam.Params)-1]
	s := bb.bindVar(sv.Name, b.Prim(ir.PrimIndex, st.y, k))
	c, out, err := r.nested(bb, lam.Body, func(c *rev) {
		c.ren[sv] = s
		c.act[s] = true
		if e.Op == ir.PrimLoopSave {
			c.ren[lam.Params[0]] = k
		}
	}, comps[0], free, comps[1:])
	if err != nil {
		return err
	}
	c.addTo(bb, s, bb.bind("yb", b.Prim(ir.PrimIndex, ybar, k)))
	sbar := c.get(bb, s)
	loop := &ir.Loop{State: R, Init: tupleOf(e.P, init0), Index: t, Count: n, Body: bb.close(tupleOf(e.P, append([]ir.Expr{sbar}, out...))), P: e.P}
	res := blk.bind("grev", loop)
	gs := projs(blk, res, 0, len(init0))
	for j, f := range free {
		r.setState(blk, f, gs[1+j])
	}
	r.addTo(blk, init, gs[0]) // after the threaded states, as in backLoop
	return nil
}
