package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// fwd is the forward-mode transformation of one function body. Every
// primal variable is renamed to an atom of the generated code (ren), and
// active ones (those depending on the differentiated input) have a tangent
// atom (tan). A variable without a tangent has tangent zero, and no code
// is emitted for it.
type fwd struct {
	a   *expander
	ren map[*ir.Var]ir.Expr
	tan map[*ir.Var]ir.Expr

	// tuples holds the components of the tangent tuples built here, so
	// that a projection of one is its component, and the other
	// components are not needed by it.
	tuples map[*ir.Var][]ir.Expr
	// missing marks the tangents that do not exist: of a call of a def
	// with only a @vjp rule, whose value may still be needed (the primal
	// output of its VJP, under forward over reverse). Each stands in the
	// code as a zero, and is an error (the one given) only if the tangent
	// the transformation returns needs it (needMissing).
	missing map[*ir.Var]error
	inlined int // depth of the calls inlined by inlineCall
}

func newFwd(a *expander) *fwd {
	return &fwd{a: a, ren: map[*ir.Var]ir.Expr{}, tan: map[*ir.Var]ir.Expr{}, tuples: map[*ir.Var][]ir.Expr{}, missing: map[*ir.Var]error{}}
}

// jvpFunc returns the forward-mode derivative of f as a function value of
// type (P1..Pk, dP1..dPk) -> (B, B): a generated def f$jvp for a def, or a
// lambda for a lambda.
func (a *expander) jvpFunc(f fnOf, pos ir.Pos) (ir.Expr, error) {
	if f.def != nil {
		d, err := a.jvpDef(f.def, pos)
		if err != nil {
			return nil, err
		}
		return &ir.Global{Name: d.Name, T: d.Type(), P: pos}, nil
	}
	lam, err := a.jvpLambda(f.lam.Params, f.lam.Body, pos)
	if err != nil {
		return nil, err
	}
	return lam, nil
}

// jvpDef generates (once) the forward-mode derivative of a def, honouring
// its @jvp rule or @implicit equation. pos is where it is needed (a call
// or an operator), for errors.
func (a *expander) jvpDef(d *ir.Def, pos ir.Pos) (*ir.Def, error) {
	return a.jvpDefFor(d, nil, pos)
}

// jvpDefFor is jvpDef with tangents for the parameters marked in active
// only (nil: all of them): a call that passes a zero tangent, as the
// data a closure captures in jvp(grad(fn(c) => loss(data, c)), ...),
// gets a version f$jvp_01 whose tangent parameters are those of the
// active parameters alone, so that the tangent computation of the other
// parameters is not done on zeros (a zero times a matrix is a matrix
// product). Defs with custom rules have one version.
func (a *expander) jvpDefFor(d *ir.Def, active []bool, pos ir.Pos) (*ir.Def, error) {
	suffix := ""
	if active != nil && d.Attr("jvp") == nil && d.Attr("implicit") == nil {
		var sb []byte
		for i, p := range d.Params {
			if active[i] && ir.IsDifferentiable(p.T) {
				sb = append(sb, '1')
			} else {
				sb = append(sb, '0')
				if ir.IsDifferentiable(p.T) {
					suffix = "_"
				}
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
	if g := a.jvps[key]; g != nil {
		return g, nil
	}
	if err := a.forwardAllowed(d, "forward", pos); err != nil {
		return nil, err
	}
	done, err := a.enter(d.Name+"$jvp"+suffix, d, pos)
	if err != nil {
		return nil, err
	}
	defer done()
	var lam *ir.Lambda
	switch {
	case d.Attr("jvp") != nil:
		lam, err = a.customJVP(d, d.Attr("jvp"))
	case d.Attr("implicit") != nil:
		lam, err = a.implicitJVP(d, d.Attr("implicit"))
	default:
		lam, err = a.jvpLambdaFor(d.Params, d.BodyWithSizes(), d.P, active)
	}
	if err != nil {
		return nil, err
	}
	g := &ir.Def{Name: d.Name + "$jvp" + suffix, Params: lam.Params, HasParams: true, Result: lam.Body.Type(), Body: lam.Body, P: d.P}
	a.jvps[key] = g
	if d.Attr("jvp") == nil {
		a.jvpPrimals[g.Name] = len(d.Params)
	}
	a.out.Add(g)
	return g, nil
}

// customJVP wraps a user rule g(x, dx) -> (y, dy) into the k+k parameter
// convention.
func (a *expander) customJVP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	rule := a.def(at.Fn)
	if rule == nil {
		return nil, ir.Errorf(at.P, "@jvp(%s): no such def", at.Fn)
	}
	ps := freshParams(fnOf{def: d}, d.P)
	ts := freshParams(fnOf{def: d}, d.P)
	blk := &block{pos: d.P}
	x, dx := pack(blk, ps), pack(blk, ts)
	body := &ir.Call{Fn: &ir.Global{Name: rule.Name, T: rule.Type(), P: at.P}, Args: []ir.Expr{x, dx}, T: rule.Result, P: at.P}
	return &ir.Lambda{Params: append(ps, ts...), Body: blk.close(body), P: d.P}, nil
}

// pack is the single value A of a function's k parameters.
func pack(blk *block, vs []*ir.Var) ir.Expr {
	if len(vs) == 1 {
		return vs[0]
	}
	return blk.bind("packed", &ir.MakeTuple{Elems: asExprs(vs), P: blk.pos})
}

// jvpLambda transforms fn(params) => body into fn(params, dparams) => (y, dy).
func (a *expander) jvpLambda(params []*ir.Var, body ir.Expr, pos ir.Pos) (*ir.Lambda, error) {
	return a.jvpLambdaFor(params, body, pos, nil)
}

// jvpLambdaFor is jvpLambda with tangent parameters for the params marked
// in active only (nil: all); the others' tangents are zero.
func (a *expander) jvpLambdaFor(params []*ir.Var, body ir.Expr, pos ir.Pos, active []bool) (*ir.Lambda, error) {
	t := newFwd(a)
	ps := make([]*ir.Var, len(params))
	var ts []*ir.Var
	for i, p := range params {
		ps[i] = ir.NewVar(p.Name, p.T, pos)
		t.ren[p] = ps[i]
		if active != nil && !active[i] {
			continue
		}
		dp := ir.NewVar("d"+p.Name, p.T, pos)
		ts = append(ts, dp)
		if ir.IsDifferentiable(p.T) {
			t.tan[p] = dp
		}
	}
	blk := &block{pos: pos}
	y, dy, err := t.expr(blk, body)
	if err != nil {
		return nil, err
	}
	if err := t.needMissing(blk, dy); err != nil {
		return nil, err
	}
	res := &ir.MakeTuple{Elems: []ir.Expr{y, t.materialize(blk, y, dy)}, P: pos}
	return &ir.Lambda{Params: append(ps, ts...), Body: blk.close(res), P: pos}, nil
}

// needMissing returns the error of a missing tangent that dy, computed by
// blk's bindings, needs. Needs are followed through the bindings, and
// through the components of the tangent tuples a projection picks
// (fwd.tuples); a nested value (a branch, a loop, a map) that is needed
// and mentions a missing tangent anywhere needs it.
func (t *fwd) needMissing(blk *block, dy ir.Expr) error {
	if len(t.missing) == 0 {
		return nil
	}
	need := map[*ir.Var]bool{}
	if v, ok := dy.(*ir.Var); ok {
		need[v] = true
	}
	for i := len(blk.binds) - 1; i >= 0; i-- {
		b := blk.binds[i]
		if !need[b.v] {
			continue
		}
		if err := t.missing[b.v]; err != nil {
			return err
		}
		var found error
		ir.Walk(b.val, func(x ir.Expr, enter bool) {
			if v, ok := x.(*ir.Var); ok && enter && found == nil {
				found = t.missing[v]
			}
		}, func(v *ir.Var, bind bool) {
			if found == nil {
				found = t.missing[v]
			}
		})
		if found != nil {
			return found
		}
		for _, v := range ir.FreeVars(b.val) {
			need[v] = true
		}
	}
	return nil
}

// zero is a fresh zero of x's type and shape.
func zero(blk *block, x ir.Expr) ir.Expr {
	switch t := x.Type().(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return ir.F64Const(0, blk.pos)
		case ir.I64:
			return ir.I64Const(0, blk.pos)
		}
		return ir.BoolConst(false, blk.pos)
	}
	return blk.bind("zero", &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{x}, T: x.Type(), P: blk.pos})
}

// materialize turns a possibly-zero tangent into a value.
func (t *fwd) materialize(blk *block, x, dx ir.Expr) ir.Expr {
	if dx != nil {
		return dx
	}
	return zero(blk, x)
}

// primal copies e with the primal renaming applied (for code that needs no
// tangent).
func (t *fwd) primal(e ir.Expr) ir.Expr { return ir.Subst(e, t.ren) }

// active reports whether e uses a variable that has a tangent.
func (t *fwd) active(e ir.Expr) bool {
	found := false
	for _, v := range ir.FreeVars(e) {
		if t.tan[v] != nil {
			found = true
		}
	}
	return found
}

// expr transforms e, emitting code into blk, and returns atoms for its
// primal value and tangent (nil: zero).
func (t *fwd) expr(blk *block, e ir.Expr) (ir.Expr, ir.Expr, error) {
	if err := t.a.tick(); err != nil {
		return nil, nil, err
	}
	if !t.active(e) {
		return blk.bind("v", t.primal(e)), nil, nil
	}
	switch e := e.(type) {
	case *ir.Var:
		p := t.ren[e]
		if p == nil {
			p = e
		}
		return p, t.tan[e], nil
	case *ir.Let:
		p, dp, err := t.expr(blk, e.Value)
		if err != nil {
			return nil, nil, err
		}
		t.ren[e.Var] = p
		if dp != nil {
			t.tan[e.Var] = dp
		}
		return t.expr(blk, e.Body)
	case *ir.MakeTuple:
		ps := make([]ir.Expr, len(e.Elems))
		dps := make([]ir.Expr, len(e.Elems))
		for i, x := range e.Elems {
			var err error
			if ps[i], dps[i], err = t.expr(blk, x); err != nil {
				return nil, nil, err
			}
		}
		for i := range dps {
			dps[i] = t.materialize(blk, ps[i], dps[i])
		}
		dt := blk.bindVar("dtup", &ir.MakeTuple{Elems: dps, P: e.P})
		t.tuples[dt] = dps
		return blk.bind("tup", &ir.MakeTuple{Elems: ps, P: e.P}), dt, nil
	case *ir.Proj:
		p, dp, err := t.expr(blk, e.X)
		if err != nil {
			return nil, nil, err
		}
		y := blk.bind("f", &ir.Proj{X: p, Index: e.Index, P: e.P})
		if dp == nil {
			return y, nil, nil
		}
		if v, ok := dp.(*ir.Var); ok && t.tuples[v] != nil {
			return y, t.tuples[v][e.Index], nil
		}
		return y, blk.bind("df", &ir.Proj{X: dp, Index: e.Index, P: e.P}), nil
	case *ir.If:
		return t.ifExpr(blk, e)
	case *ir.Loop:
		return t.loop(blk, e)
	case *ir.Call:
		return t.call(blk, e)
	case *ir.PrimCall:
		return t.prim(blk, e)
	}
	return nil, nil, ir.Errorf(e.Pos(), "forward mode: cannot differentiate %T here", e)
}

// atoms transforms arguments.
func (t *fwd) atoms(blk *block, es []ir.Expr) ([]ir.Expr, []ir.Expr, error) {
	ps := make([]ir.Expr, len(es))
	dps := make([]ir.Expr, len(es))
	for i, x := range es {
		var err error
		if ps[i], dps[i], err = t.expr(blk, x); err != nil {
			return nil, nil, err
		}
	}
	return ps, dps, nil
}

func (t *fwd) ifExpr(blk *block, e *ir.If) (ir.Expr, ir.Expr, error) {
	c := blk.bind("c", t.primal(e.Cond))
	tb, eb := &block{pos: e.P}, &block{pos: e.P}
	p1, d1, err := t.expr(tb, e.Then)
	if err != nil {
		return nil, nil, err
	}
	p2, d2, err := t.expr(eb, e.Else)
	if err != nil {
		return nil, nil, err
	}
	if d1 == nil && d2 == nil {
		return blk.bind("y", &ir.If{Cond: c, Then: tb.close(p1), Else: eb.close(p2), P: e.P}), nil, nil
	}
	th := tb.close(&ir.MakeTuple{Elems: []ir.Expr{p1, t.materialize(tb, p1, d1)}, P: e.P})
	el := eb.close(&ir.MakeTuple{Elems: []ir.Expr{p2, t.materialize(eb, p2, d2)}, P: e.P})
	r := blk.bind("yd", &ir.If{Cond: c, Then: th, Else: el, P: e.P})
	return blk.bind("y", &ir.Proj{X: r, Index: 0, P: e.P}), blk.bind("dy", &ir.Proj{X: r, Index: 1, P: e.P}), nil
}

// loop carries (state, tangent) pairs through the iterations.
func (t *fwd) loop(blk *block, e *ir.Loop) (ir.Expr, ir.Expr, error) {
	p0, d0, err := t.expr(blk, e.Init)
	if err != nil {
		return nil, nil, err
	}
	st := e.State.T
	pair := ir.NewVar(e.State.Name, ir.TupleOf(st, st), e.P)
	l := &ir.Loop{State: pair, P: e.P}
	l.Init = &ir.MakeTuple{Elems: []ir.Expr{p0, t.materialize(blk, p0, d0)}, P: e.P}
	if e.Count != nil {
		l.Count = blk.bind("n", t.primal(e.Count))
		l.Index = ir.NewVar(e.Index.Name, ir.TI64, e.Index.P)
		t.ren[e.Index] = l.Index
	}
	if e.Cond != nil {
		cb := &block{pos: e.P}
		t.ren[e.State] = cb.bind(e.State.Name, &ir.Proj{X: pair, Index: 0, P: e.P})
		l.Cond = cb.close(t.primal(e.Cond))
	}
	bb := &block{pos: e.P}
	t.ren[e.State] = bb.bind(e.State.Name, &ir.Proj{X: pair, Index: 0, P: e.P})
	t.tan[e.State] = bb.bind("d"+e.State.Name, &ir.Proj{X: pair, Index: 1, P: e.P})
	pb, db, err := t.expr(bb, e.Body)
	if err != nil {
		return nil, nil, err
	}
	l.Body = bb.close(&ir.MakeTuple{Elems: []ir.Expr{pb, t.materialize(bb, pb, db)}, P: e.P})
	r := blk.bind("loop", l)
	return blk.bind("y", &ir.Proj{X: r, Index: 0, P: e.P}), blk.bind("dy", &ir.Proj{X: r, Index: 1, P: e.P}), nil
}

func (t *fwd) call(blk *block, e *ir.Call) (ir.Expr, ir.Expr, error) {
	ps, dps, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, nil, err
	}
	g, ok := e.Fn.(*ir.Global)
	if !ok {
		return nil, nil, ir.Errorf(e.P, "forward mode: cannot differentiate a call of a function chosen at run time")
	}
	d := t.a.lookup(g.Name)
	if d == nil {
		return nil, nil, ir.Errorf(e.P, "forward mode: unknown def %s", g.Name)
	}
	if err := t.a.forwardAllowed(d, "forward", e.P); err != nil {
		// No forward mode (SPEC §6): the value, plainly, and a missing
		// tangent, an error where it is needed.
		y := blk.bind("y", &ir.Call{Fn: g, Args: ps, T: e.T, P: e.P})
		dy := blk.bindVar("dy", t.materialize(blk, y, nil))
		t.missing[dy] = err
		return y, dy, nil
	}
	active := make([]bool, len(dps))
	for i, dp := range dps {
		active[i] = dp != nil
	}
	j, err := t.a.jvpDefFor(d, active, e.P)
	if t.a.noForward[err] && t.inlined < maxInline {
		// The callee's derivative needs a missing tangent in its result
		// tuple. Its body, differentiated here, may need only the other
		// parts (forward over reverse through a VJP def, whose primal
		// output calls the def without forward mode).
		return t.inlineCall(blk, d, ps, dps, e.P)
	}
	if err != nil {
		return nil, nil, err
	}
	args := append([]ir.Expr(nil), ps...)
	for i := range dps {
		if len(j.Params) == 2*len(ps) || dps[i] != nil {
			args = append(args, t.materialize(blk, ps[i], dps[i]))
		}
	}
	r := blk.bind("r", &ir.Call{Fn: &ir.Global{Name: j.Name, T: j.Type(), P: e.P}, Args: args, T: j.Result, P: e.P})
	return blk.bind("y", &ir.Proj{X: r, Index: 0, P: e.P}), blk.bind("dy", &ir.Proj{X: r, Index: 1, P: e.P}), nil
}

// maxInline bounds the nesting of inlineCall.
const maxInline = 32

// inlineCall differentiates a call of d by differentiating d's body in
// place, on the arguments' atoms and tangents.
func (t *fwd) inlineCall(blk *block, d *ir.Def, ps, dps []ir.Expr, pos ir.Pos) (ir.Expr, ir.Expr, error) {
	sub := map[*ir.Var]ir.Expr{}
	for i, p := range d.Params {
		q := ir.NewVar(p.Name, p.T, pos)
		sub[p] = q
		t.ren[q] = ps[i]
		if dps[i] != nil {
			t.tan[q] = dps[i]
		}
	}
	t.inlined++
	defer func() { t.inlined-- }()
	return t.expr(blk, ir.Subst(d.BodyWithSizes(), sub))
}

// prim applies a primitive's rule, or the structural rules of the
// function-valued primitives.
func (t *fwd) prim(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	if low, ok, err := lowerForAD(e); ok {
		if err != nil {
			return nil, nil, err
		}
		return t.expr(blk, low)
	}
	switch e.Op {
	case ir.PrimProgress:
		// Differentiated code does not report: the primal run did.
		return t.expr(blk, e.Args[4])
	case ir.PrimStopGradient:
		// The primal keeps its stop_gradient: an outer transform of this
		// code must not differentiate through it either.
		p, _, err := t.expr(blk, e.Args[0])
		if err != nil {
			return nil, nil, err
		}
		return blk.bind("v", &ir.PrimCall{Op: ir.PrimStopGradient, Args: []ir.Expr{p}, T: e.T, P: e.P}), nil, nil
	case ir.PrimMap, ir.PrimBuild:
		return t.mapLike(blk, e)
	case ir.PrimReduce, ir.PrimScan, ir.PrimFold:
		return t.reduceLike(blk, e)
	case ir.PrimLoopSave, ir.PrimWhileSave:
		return t.saveLoop(blk, e)
	case ir.PrimAccAdd, ir.PrimAccAddAt:
		return t.accum(blk, e)
	case ir.PrimLinsolve:
		return t.linsolve(blk, e)
	case ir.PrimODE:
		return t.ode(blk, e)
	}
	ps, dps, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, nil, err
	}
	y := blk.bind("y", &ir.PrimCall{Op: e.Op, Args: ps, Aux: e.Aux, T: e.T, P: e.P})
	if e.Op.NoDerivative || allNil(dps) {
		return y, nil, nil
	}
	b := &ir.Builder{Pos: e.P}
	var dy ir.Expr
	switch {
	case e.Op.Partials != nil:
		partials := e.Op.Partials(b, ps, y)
		for i, d := range dps {
			if d == nil || partials[i] == nil {
				continue
			}
			term := blk.bind("t", b.Prim(ir.PrimMul, blk.bind("dp", partials[i]), d))
			if dy == nil {
				dy = term
			} else {
				dy = blk.bind("s", b.Prim(ir.PrimAdd, dy, term))
			}
		}
	case e.Op.JVP != nil:
		dy = e.Op.JVP(b, ps, dps, e.Aux, y)
	default:
		return nil, nil, ir.Errorf(e.P, "forward mode: %s has no derivative rule", e.Op.Name)
	}
	if dy == nil {
		return y, nil, nil
	}
	if _, scalar := dy.Type().(ir.Scalar); scalar {
		if _, arr := y.Type().(*ir.Array); arr {
			// Only a broadcast scalar operand has a tangent (zeros(n) +
			// x): the tangent takes the result's shape.
			dy = b.Prim(ir.PrimAdd, zero(blk, y), blk.bind("dy", dy))
		}
	}
	return y, blk.bind("dy", dy), nil
}

func allNil(es []ir.Expr) bool {
	for _, e := range es {
		if e != nil {
			return false
		}
	}
	return true
}

// asLambda views a function argument (a lambda or a def) as a lambda.
func (t *fwd) asLambda(f ir.Expr) (*ir.Lambda, error) { return lambdaOf(f) }

// lambdaTangent builds fn(params, dparams of active params) => body's
// result, in the enclosing renaming (so free variables keep their
// tangents): its tangent alone, or the pair (primal, tangent) when pair
// is set. activeParam[i] says which parameters get a tangent; ok is false
// when the body has no tangent.
func (t *fwd) lambdaTangent(lam *ir.Lambda, activeParam []bool, pair bool, pos ir.Pos) (*ir.Lambda, bool, error) {
	var ps, ts []*ir.Var
	for i, p := range lam.Params {
		np := ir.NewVar(p.Name, p.T, pos)
		ps = append(ps, np)
		t.ren[p] = np
		delete(t.tan, p)
		if activeParam[i] {
			tp := ir.NewVar("d"+p.Name, p.T, pos)
			ts = append(ts, tp)
			t.tan[p] = tp
		}
	}
	bb := &block{pos: pos}
	y, dy, err := t.expr(bb, lam.Body)
	if err != nil || dy == nil {
		return nil, false, err
	}
	res := dy
	if pair {
		res = &ir.MakeTuple{Elems: []ir.Expr{y, dy}, P: pos}
	}
	return &ir.Lambda{Params: append(ps, ts...), Body: bb.close(res), P: pos}, true, nil
}

// mapLike: the primal map (or build), then a map of the body's tangent
// over the elements and their tangents. When the body cannot branch
// (cannotBranch) the tangent map recomputes the primal inside, which
// keeps both maps elementwise and batchable. Otherwise (an if, a loop, a
// comparison, a jump) one map computes each element's primal and
// tangent together: two copies of the primal could round differently
// once the rewrite stage has changed one of them, and then at a tie the
// tangent would follow the branch that the primal did not take.
func (t *fwd) mapLike(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	fnAt, first := 0, 1
	if e.Op == ir.PrimBuild {
		fnAt, first = 1, 0
	}
	lam, err := t.asLambda(e.Args[fnAt])
	if err != nil {
		return nil, nil, err
	}
	var arrays []ir.Expr
	if e.Op == ir.PrimMap {
		arrays = e.Args[first:]
	} else {
		arrays = e.Args[:1]
	}
	ps, dps, err := t.atoms(blk, arrays)
	if err != nil {
		return nil, nil, err
	}
	withFn := func(fn ir.Expr, extra []ir.Expr) []ir.Expr {
		if e.Op == ir.PrimBuild {
			return []ir.Expr{ps[0], fn}
		}
		return append(append([]ir.Expr{fn}, ps...), extra...)
	}
	primal := &ir.PrimCall{Op: e.Op, Args: withFn(t.primal(lam), nil), Aux: e.Aux, T: e.T, P: e.P}
	activeParam := make([]bool, len(lam.Params))
	var targs []ir.Expr
	if e.Op == ir.PrimMap {
		for i := range lam.Params {
			if dps[i] != nil {
				activeParam[i] = true
				targs = append(targs, dps[i])
			}
		}
	}
	pair := !t.a.cannotBranch(lam.Body)
	tl, ok, err := t.lambdaTangent(lam, activeParam, pair, e.P)
	if err != nil || !ok {
		return blk.bind("y", primal), nil, err
	}
	if pair {
		at := e.T.(*ir.Array)
		b := &ir.Builder{Pos: e.P}
		r := blk.bind("yd", &ir.PrimCall{Op: e.Op, Args: withFn(tl, targs), Aux: e.Aux, T: ir.ArrayOf(at.Dim, ir.TupleOf(at.Elem, at.Elem)), P: e.P})
		u := blk.bind("u", b.Prim(ir.PrimUnzip, r))
		return blk.bind("y", b.Proj(u, 0)), blk.bind("dy", b.Proj(u, 1)), nil
	}
	y := blk.bind("y", primal)
	dy := &ir.PrimCall{Op: e.Op, Args: withFn(tl, targs), Aux: e.Aux, T: e.T, P: e.P}
	return y, blk.bind("dy", dy), nil
}

// cannotBranch reports whether e is built only from lets, variables,
// constants, tuples, calls of such defs and lambdas, and primitives that
// have derivatives and are continuous: code whose two copies may round
// differently but cannot take different branches. An if, a loop, a
// comparison, a conversion to i64 or any primitive without a derivative
// could.
func (a *expander) cannotBranch(e ir.Expr) bool {
	switch e := e.(type) {
	case *ir.Const, *ir.Var, *ir.Global:
		return true
	case *ir.Let:
		return a.cannotBranch(e.Value) && a.cannotBranch(e.Body)
	case *ir.Lambda:
		return a.cannotBranch(e.Body)
	case *ir.Proj:
		return a.cannotBranch(e.X)
	case *ir.MakeTuple:
		return a.allCannotBranch(e.Elems)
	case *ir.Call:
		g, ok := e.Fn.(*ir.Global)
		return ok && a.defCannotBranch(g.Name) && a.allCannotBranch(e.Args)
	case *ir.PrimCall:
		return !e.Op.NoDerivative && !jumps[e.Op] && a.allCannotBranch(e.Args)
	}
	return false
}

func (a *expander) allCannotBranch(es []ir.Expr) bool {
	for _, x := range es {
		if !a.cannotBranch(x) {
			return false
		}
	}
	return true
}

// defCannotBranch is cannotBranch of a def's body, decided once per def.
// A def met again while it is being decided (a rule that calls its own
// def) counts as one that could branch.
func (a *expander) defCannotBranch(name string) bool {
	if v, ok := a.branchFree[name]; ok {
		return v
	}
	d := a.lookup(name)
	if d == nil || d.Body == nil || d.Attr("jvp") != nil || d.Attr("vjp") != nil || d.Attr("implicit") != nil {
		return false
	}
	a.branchFree[name] = false
	v := a.cannotBranch(d.Body)
	a.branchFree[name] = v
	return v
}

// jumps lists the differentiable elementwise primitives whose value jumps
// (the primitives without a derivative are left out already). Kinks
// (abs, relu, min, max) are continuous, and keep the batchable form: two
// copies on either side of a kink give one-sided derivatives of the same
// function.
var jumps = map[*ir.Prim]bool{ir.PrimMod: true}

// reduceLike differentiates reduce, scan and fold over (value, tangent)
// pairs: the pushforward of an associative operator is associative on
// pairs, with neutral element (ne, 0), so reduce and scan stay what they
// are.
func (t *fwd) reduceLike(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	lam, err := t.asLambda(e.Args[0])
	if err != nil {
		return nil, nil, err
	}
	ps, dps, err := t.atoms(blk, e.Args[1:])
	if err != nil {
		return nil, nil, err
	}
	accT := ps[0].Type()
	elemT := ps[1].Type().(*ir.Array).Elem
	pos := e.P
	pa := ir.NewVar("p", ir.TupleOf(accT, accT), pos)
	pb := ir.NewVar("q", ir.TupleOf(elemT, elemT), pos)
	// The pair operator: unpack, differentiate the body, pack.
	bb := &block{pos: pos}
	a0, b0 := lam.Params[0], lam.Params[1]
	t.ren[a0] = bb.bind(a0.Name, &ir.Proj{X: pa, Index: 0, P: pos})
	t.tan[a0] = bb.bind("d"+a0.Name, &ir.Proj{X: pa, Index: 1, P: pos})
	t.ren[b0] = bb.bind(b0.Name, &ir.Proj{X: pb, Index: 0, P: pos})
	t.tan[b0] = bb.bind("d"+b0.Name, &ir.Proj{X: pb, Index: 1, P: pos})
	y, dy, err := t.expr(bb, lam.Body)
	if err != nil {
		return nil, nil, err
	}
	op := &ir.Lambda{Params: []*ir.Var{pa, pb}, Body: bb.close(&ir.MakeTuple{Elems: []ir.Expr{y, t.materialize(bb, y, dy)}, P: pos}), P: pos}
	init := blk.bind("init", &ir.MakeTuple{Elems: []ir.Expr{ps[0], t.materialize(blk, ps[0], dps[0])}, P: pos})
	xs := blk.bind("xs", &ir.PrimCall{Op: ir.PrimZip, Args: []ir.Expr{ps[1], t.materialize(blk, ps[1], dps[1])}, T: ir.ArrayOf(ps[1].Type().(*ir.Array).Dim, ir.TupleOf(elemT, elemT)), P: pos})
	b := &ir.Builder{Pos: pos}
	r := blk.bind("r", b.PrimAux(e.Op, e.Aux, op, init, xs))
	if e.Op == ir.PrimScan {
		u := blk.bind("u", b.Prim(ir.PrimUnzip, r))
		return blk.bind("y", b.Proj(u, 0)), blk.bind("dy", b.Proj(u, 1)), nil
	}
	return blk.bind("y", b.Proj(r, 0)), blk.bind("dy", b.Proj(r, 1)), nil
}

// saveLoop differentiates the state-saving loops of reverse mode (for
// forward over reverse): they run on (state, tangent) pairs.
func (t *fwd) saveLoop(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	pos := e.P
	b := &ir.Builder{Pos: pos}
	var initIdx int
	if e.Op == ir.PrimLoopSave {
		initIdx = 1
	}
	p0, d0, err := t.expr(blk, e.Args[initIdx])
	if err != nil {
		return nil, nil, err
	}
	st := p0.Type()
	pairT := ir.TupleOf(st, st)
	init := blk.bind("init", &ir.MakeTuple{Elems: []ir.Expr{p0, t.materialize(blk, p0, d0)}, P: pos})
	// bodyPair transforms fn(..., s) => body into fn(..., pair) => (s', ds').
	bodyPair := func(f ir.Expr, withIndex bool) (*ir.Lambda, error) {
		lam, err := t.asLambda(f)
		if err != nil {
			return nil, err
		}
		pair := ir.NewVar("s", pairT, pos)
		bb := &block{pos: pos}
		var params []*ir.Var
		sv := lam.Params[len(lam.Params)-1]
		if withIndex {
			i := ir.NewVar("i", ir.TI64, pos)
			t.ren[lam.Params[0]] = i
			params = append(params, i)
		}
		params = append(params, pair)
		t.ren[sv] = bb.bind(sv.Name, &ir.Proj{X: pair, Index: 0, P: pos})
		t.tan[sv] = bb.bind("d"+sv.Name, &ir.Proj{X: pair, Index: 1, P: pos})
		y, dy, err := t.expr(bb, lam.Body)
		if err != nil {
			return nil, err
		}
		return &ir.Lambda{Params: params, Body: bb.close(&ir.MakeTuple{Elems: []ir.Expr{y, t.materialize(bb, y, dy)}, P: pos}), P: pos}, nil
	}
	var r ir.Expr
	if e.Op == ir.PrimLoopSave {
		body, err := bodyPair(e.Args[2], true)
		if err != nil {
			return nil, nil, err
		}
		r = blk.bind("states", b.Prim(ir.PrimLoopSave, blk.bind("n", t.primal(e.Args[0])), init, body))
	} else {
		clam, err := t.asLambda(e.Args[1])
		if err != nil {
			return nil, nil, err
		}
		pair := ir.NewVar("s", pairT, pos)
		cb := &block{pos: pos}
		t.ren[clam.Params[0]] = cb.bind("s", &ir.Proj{X: pair, Index: 0, P: pos})
		cond := &ir.Lambda{Params: []*ir.Var{pair}, Body: cb.close(t.primal(clam.Body)), P: pos}
		body, err := bodyPair(e.Args[2], false)
		if err != nil {
			return nil, nil, err
		}
		r = blk.bind("states", b.Prim(ir.PrimWhileSave, init, cond, body))
	}
	u := blk.bind("u", b.Prim(ir.PrimUnzip, r))
	return blk.bind("y", b.Proj(u, 0)), blk.bind("dy", b.Proj(u, 1)), nil
}

// accum differentiates the in-place accumulators: they are linear, and the
// tangent accumulator is threaded like the primal one.
func (t *fwd) accum(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	ps, dps, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, nil, err
	}
	b := &ir.Builder{Pos: e.P}
	vi := len(ps) - 1
	var dy ir.Expr
	switch {
	case dps[vi] == nil:
		dy = dps[0]
	default:
		dacc := dps[0]
		if dacc == nil {
			dacc = blk.bind("dacc", b.Prim(ir.PrimZerosLike, ps[0]))
		}
		args := append([]ir.Expr{dacc}, ps[1:vi]...)
		dy = blk.bind("dacc", b.Prim(e.Op, append(args, dps[vi])...))
	}
	y := blk.bind("acc", &ir.PrimCall{Op: e.Op, Args: ps, Aux: e.Aux, T: e.T, P: e.P})
	return y, dy, nil
}

// linsolve differentiates y = A⁻¹b, A given by its action v -> A v (a
// lambda). With A constant, dy = A⁻¹ db. When the action depends on the
// input (it closes over active values: nested implicit differentiation,
// SPEC §6), A y = b gives dA y + A dy = db, so dy = A⁻¹(db - dA y), where
// dA y is the tangent of the action's body at v = y, v held fixed.
func (t *fwd) linsolve(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	b := &ir.Builder{Pos: e.P}
	lam, err := lambdaOf(e.Args[0])
	if err != nil {
		return nil, nil, err
	}
	mv := t.primal(lam)
	bp, db, err := t.expr(blk, e.Args[1])
	if err != nil {
		return nil, nil, err
	}
	y := blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{mv, bp}, T: e.T, P: e.P})
	rhs := db
	if t.active(lam) {
		v := lam.Params[0]
		t.ren[v] = y
		delete(t.tan, v)
		_, dAy, err := t.expr(blk, lam.Body)
		if err != nil {
			return nil, nil, err
		}
		if dAy != nil {
			if rhs == nil {
				rhs = blk.bind("rhs", b.Prim(ir.PrimNeg, dAy))
			} else {
				rhs = blk.bind("rhs", b.Prim(ir.PrimSub, rhs, dAy))
			}
		}
	}
	if rhs == nil {
		return y, nil, nil
	}
	return y, blk.bind("dy", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{ir.Copy(mv), rhs}, T: e.T, P: e.P}), nil
}
