package ad

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// Taylor mode through rules (SPEC §6). Series of functions defined by
// their derivative rather than by code are built one coefficient at a
// time, each from the ones before:
//
//   - A def f with @jvp(g): y(t) = f(x(t)) has y' = g(x(t), x'(t)).1, so
//     with y_0 = f(x_0), y_{j+1} = [tʲ] g(x(t), x'(t)).1 / (j+1). The
//     series of x'(t) is read off x(t)'s, (j+1)·x_{j+1}. The rule's
//     series is its Taylor mode, in which a call of f itself at the
//     rule's own argument (SPEC §6: the def's plain value, as JAX users
//     write rules) is the series of y known so far: coefficient j of the
//     tangent only needs y_0..y_j, so the loop fills them in order. A rule
//     whose tangent does not call f is evaluated once.
//   - An @implicit(F) def x(θ): F(x(t), θ(t)) = 0 for all t. Coefficient
//     j ≥ 1 of F(x(t), θ(t)) is ∂F/∂x(x_0, θ_0)·x_j plus terms in
//     x_0..x_{j-1}, so with those known and x_j = 0 the series of F gives
//     the residual r_j, and x_j = -(∂F/∂x)⁻¹ r_j: one linear solve per
//     coefficient, by linsolve on JVPs of F at (x_0, θ_0).
//   - linsolve(A, b), y = A⁻¹b with A = A(t): the same with F(y) = A y - b;
//     with A constant, coefficient by coefficient.
//
// Each costs K series evaluations of the rule, of F or of the action of
// A (O(K³) operations per primitive), where a function with code costs
// one (O(K²)); all are exact.

// selfCall is, in the series of the @jvp rule of def, the series y of
// def's result so far: calls of def at the rule's own argument (x, whose
// parts are tracked through lets by alias) stand for it.
type selfCall struct {
	def   *ir.Def
	rule  string
	y     ir.Expr
	alias map[*ir.Var]leafPath
}

// aliasOf reports whether e is the rule's argument or a part of it.
func (c *selfCall) aliasOf(e ir.Expr) (leafPath, bool) {
	switch e := e.(type) {
	case *ir.Var:
		p, ok := c.alias[e]
		return p, ok
	case *ir.Proj:
		p, ok := c.aliasOf(e.X)
		if !ok {
			return nil, false
		}
		return append(append(leafPath(nil), p...), e.Index), true
	}
	return nil, false
}

// series is the series of the call e of the def in its own rule.
func (c *selfCall) series(e *ir.Call) (ir.Expr, bool, error) {
	at := func(i int, want leafPath) bool {
		p, ok := c.aliasOf(e.Args[i])
		return ok && slices.Equal(p, want)
	}
	ok := true
	if len(e.Args) == 1 {
		ok = at(0, nil)
	} else {
		for i := range e.Args {
			if !at(i, leafPath{i}) {
				ok = false
			}
		}
	}
	if !ok {
		return nil, false, ir.Errorf(e.P, "Taylor mode: the @jvp rule %s calls %s at another point than the rule's own argument; Taylor mode through the rule can use %s's value at its argument only", c.rule, c.def.Name, c.def.Name)
	}
	return c.y, true, nil
}

// seriesOrLift is the series of x (series or not) as R(T).
func (t *tay) seriesOrLift(blk *block, x ir.Expr, series bool) ir.Expr {
	if series {
		return x
	}
	return t.lift(blk, x)
}

// deriv is the series of x'(t) from that of x(t), R(T): coefficient j is
// (j+1)·x_{j+1}, and the last is 0 (never used: coefficient j of a
// tangent only fixes y_{j+1}). Parts without f64 have tangent zero.
func (t *tay) deriv(blk *block, x ir.Expr, T ir.Type) ir.Expr {
	return leafwise(blk, T, []ir.Expr{x}, func(xs []ir.Expr, T ir.Type) ir.Expr { return t.derivLeaf(blk, xs[0], T) })
}

func (t *tay) derivLeaf(blk *block, x ir.Expr, T ir.Type) ir.Expr {
	b := blk.builder()
	if !carriesF64(T) {
		return zero(blk, x)
	}
	j := ir.NewVar("j", ir.TI64, blk.pos)
	ib := &block{pos: blk.pos}
	next := ib.bind("j1", b.Prim(ir.PrimAdd, j, b.I64(1)))
	in := ib.bind("in", b.Prim(ir.PrimLt, next, t.k))
	tb, eb := &block{pos: blk.pos}, &block{pos: blk.pos}
	xj := tb.bind("x", b.Prim(ir.PrimIndex, x, next))
	then := tb.close(b.Prim(ir.PrimMul, xj, tb.bind("c", b.Prim(ir.PrimToF64, next))))
	x0 := eb.bind("x", b.Prim(ir.PrimIndex, x, b.I64(0)))
	els := eb.close(b.Prim(ir.PrimZerosLike, x0))
	body := ib.close(&ir.If{Cond: in, Then: then, Else: els, P: blk.pos})
	lam := &ir.Lambda{Params: []*ir.Var{j}, Body: body, P: blk.pos}
	return blk.bind("d", b.PrimAux(ir.PrimBuild, t.kd, t.k, lam))
}

// leafwise applies leaf to the parts of the values xs (all of type T, or
// series of it) that are not tuples, and rebuilds the tuples around them.
func leafwise(blk *block, T ir.Type, xs []ir.Expr, leaf func(xs []ir.Expr, T ir.Type) ir.Expr) ir.Expr {
	tt, ok := T.(*ir.Tuple)
	if !ok {
		return leaf(xs, T)
	}
	b := blk.builder()
	elems := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		fs := make([]ir.Expr, len(xs))
		for k, x := range xs {
			fs[k] = blk.bind("f", b.Proj(x, i))
		}
		elems[i] = leafwise(blk, e, fs, leaf)
	}
	return blk.bind("t", b.Tuple(elems...))
}

// coefAt is coefficient j of a series R(T): a T (parts without f64 are
// their plain values).
func coefAt(blk *block, s, j ir.Expr, T ir.Type) ir.Expr {
	return leafwise(blk, T, []ir.Expr{s}, func(xs []ir.Expr, T ir.Type) ir.Expr {
		if !carriesF64(T) {
			return xs[0]
		}
		return blk.bind("c", blk.builder().Prim(ir.PrimIndex, xs[0], j))
	})
}

// setCoef is the series s with coefficient j replaced by v (a T).
func setCoef(blk *block, s, j, v ir.Expr, T ir.Type) ir.Expr {
	return leafwise(blk, T, []ir.Expr{s, v}, func(xs []ir.Expr, T ir.Type) ir.Expr {
		if !carriesF64(T) {
			return xs[0]
		}
		return blk.bind("s", blk.builder().Prim(ir.PrimUpdate, xs[0], j, xs[1]))
	})
}

// scaleCoef multiplies the f64 parts of v (a T) by c.
func scaleCoef(blk *block, v, c ir.Expr, T ir.Type) ir.Expr {
	return leafwise(blk, T, []ir.Expr{v}, func(xs []ir.Expr, T ir.Type) ir.Expr {
		b := blk.builder()
		if !carriesF64(T) {
			return xs[0]
		}
		if at, ok := T.(*ir.Array); ok && !ir.IsF64Tensor(T) {
			// An array of tuples: element by element.
			e := ir.NewVar("e", at.Elem, blk.pos)
			eb := &block{pos: blk.pos}
			lam := &ir.Lambda{Params: []*ir.Var{e}, Body: eb.close(scaleCoef(eb, e, c, at.Elem)), P: blk.pos}
			return blk.bind("v", b.Prim(ir.PrimMap, lam, xs[0]))
		}
		return blk.bind("v", b.Prim(ir.PrimMul, xs[0], c))
	})
}

// coefLoop runs j = 1..K-1 over a series state s0, each step computing
// the next state from the current one and j.
func (t *tay) coefLoop(blk *block, s0 ir.Expr, step func(bb *block, s, j ir.Expr) (ir.Expr, error)) (ir.Expr, error) {
	b := blk.builder()
	n := blk.bind("n", b.Prim(ir.PrimSub, t.k, b.I64(1)))
	st := ir.NewVar("ys", s0.Type(), blk.pos)
	i := ir.NewVar("i", ir.TI64, blk.pos)
	bb := &block{pos: blk.pos}
	j := bb.bind("j", b.Prim(ir.PrimAdd, i, b.I64(1)))
	next, err := step(bb, st, j)
	if err != nil {
		return nil, err
	}
	l := &ir.Loop{State: st, Init: s0, Index: i, Count: n, Body: bb.close(next), P: blk.pos}
	return blk.bind("ys", l), nil
}

// ruleSeries is the series of a def with a @jvp rule (see above).
func (t *tay) ruleSeries(blk *block, d *ir.Def, params []*ir.Var, series []bool) (ir.Expr, bool, error) {
	b := blk.builder()
	at := d.Attr("jvp")
	rule := t.a.def(at.Fn)
	if rule == nil {
		return nil, false, ir.Errorf(at.P, "@jvp(%s): no such def", at.Fn)
	}
	k := len(d.Params)
	xs := make([]ir.Expr, k)
	x0 := make([]ir.Expr, k)
	for i, p := range d.Params {
		xs[i] = t.seriesOrLift(blk, params[i], series[i])
		x0[i] = params[i]
		if series[i] {
			x0[i] = t.primalOf(blk, params[i], p.T)
		}
	}
	y0 := blk.bind("y0", &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: d.P}, Args: x0, T: d.Result, P: d.P})
	B := d.Result
	if !carriesF64(B) {
		return y0, false, nil
	}
	A := ir.FuncInput(d.Type().(*ir.Func))
	X := xs[0]
	if k > 1 {
		X = blk.bind("x", &ir.MakeTuple{Elems: xs, P: blk.pos})
	}
	DX := t.deriv(blk, X, A)
	g, usesY, err := t.a.ruleSeriesDef(d, rule, t.kd)
	if err != nil {
		return nil, false, err
	}
	Y0 := t.lift(blk, y0)
	tangent := func(bb *block, Y ir.Expr) ir.Expr {
		return bb.bind("g", &ir.Call{Fn: &ir.Global{Name: g.Name, T: g.Type(), P: at.P}, Args: []ir.Expr{X, DX, Y}, T: g.Result, P: at.P})
	}
	var G ir.Expr
	if !usesY {
		G = tangent(blk, Y0)
	}
	Y, err := t.coefLoop(blk, Y0, func(bb *block, Y, j ir.Expr) (ir.Expr, error) {
		Gj := G
		if Gj == nil {
			Gj = tangent(bb, Y)
		}
		prev := bb.bind("i", b.Prim(ir.PrimSub, j, b.I64(1)))
		c := bb.bind("c", b.Prim(ir.PrimDiv, b.F64(1), bb.bind("c", b.Prim(ir.PrimToF64, j))))
		v := scaleCoef(bb, coefAt(bb, Gj, prev, B), c, B)
		return setCoef(bb, Y, j, v, B), nil
	})
	return Y, true, err
}

// ruleSeriesDef generates (once) the series of the tangent of d's @jvp
// rule: a def of (X, DX, Y), the series of the rule's argument, of its
// tangent and of d's result so far, returning the series of the rule's
// tangent output. It reports whether that uses Y (the rule calls d).
func (a *expander) ruleSeriesDef(d, rule *ir.Def, kd ir.Dim) (*ir.Def, bool, error) {
	name := fmt.Sprintf("%s$taylor_%s", rule.Name, d.Name)
	if kd.Known() {
		name += fmt.Sprint(kd.N)
	} else {
		name += "k"
	}
	A := ir.FuncInput(d.Type().(*ir.Func))
	B := d.Result
	if g := a.out.Def(name); g != nil {
		return g, mentions(g.Body, g.Params[2]), nil
	}
	done, err := a.enter(name, rule, rule.P)
	if err != nil {
		return nil, false, err
	}
	defer done()
	pos := rule.P
	blk := &block{pos: pos}
	t := newTay(a, kd, nil)
	X := ir.NewVar("x", t.seriesType(A), pos)
	DX := ir.NewVar("dx", t.seriesType(A), pos)
	Y := ir.NewVar("y", t.seriesType(B), pos)
	if kd.Known() {
		t.k = ir.I64Const(kd.N, pos)
	} else {
		t.k = call(blk, ir.PrimLen, nil, firstSeries(blk, Y, B))
	}
	for i, p := range []*ir.Var{X, DX} {
		if carriesF64(A) {
			t.ser[rule.Params[i]] = p
		} else {
			t.ren[rule.Params[i]] = p
		}
	}
	t.self = &selfCall{def: d, rule: rule.Name, y: Y, alias: map[*ir.Var]leafPath{rule.Params[0]: nil}}
	r, s, err := t.expr(blk, rule.BodyWithSizes())
	if err != nil {
		return nil, false, err
	}
	dy := blk.bind("dy", &ir.Proj{X: r, Index: 1, P: pos})
	if !s {
		dy = t.lift(blk, dy)
	}
	body := blk.close(dy)
	g := &ir.Def{Name: name, Params: []*ir.Var{X, DX, Y}, HasParams: true, Result: body.Type(), Body: body, P: pos}
	a.out.Add(g)
	return g, mentions(body, Y), nil
}

// mentions reports whether e uses v.
func mentions(e ir.Expr, v *ir.Var) bool { return ir.Mentions(e, map[*ir.Var]bool{v: true}) }

// implicitSeries is the series of an @implicit(F) def (see above).
func (t *tay) implicitSeries(blk *block, d *ir.Def, params []*ir.Var, series []bool) (ir.Expr, bool, error) {
	b := blk.builder()
	at := d.Attr("implicit")
	if len(d.Params) != 1 || !isVectorOrScalar(d.Result) {
		return nil, false, ir.Errorf(at.P, "@implicit: %s must take one parameter and return f64 or [n]f64", d.Name)
	}
	F := t.a.lookup(at.Fn)
	if F == nil {
		return nil, false, ir.Errorf(at.P, "@implicit(%s): no such def", at.Fn)
	}
	P := d.Params[0].T
	theta := t.seriesOrLift(blk, params[0], series[0])
	var theta0 ir.Expr = params[0]
	if series[0] {
		theta0 = t.primalOf(blk, params[0], P)
	}
	x0 := blk.bind("x0", callDef(d, at.P, theta0))
	fj, err := t.a.jvpDef(F, at.P)
	if err != nil {
		return nil, false, err
	}
	ft, err := t.a.taylorDef(F, []bool{true, carriesF64(P)}, t.kd, at.P)
	if err != nil {
		return nil, false, err
	}
	// matvec(v) = ∂F/∂x(x_0, θ_0) v
	v := ir.NewVar("v", d.Result, at.P)
	mb := &block{pos: at.P}
	mr := mb.bind("r", callDef(fj, at.P, x0, theta0, v, zero(mb, theta0)))
	matvec := &ir.Lambda{Params: []*ir.Var{v}, Body: mb.close(&ir.Proj{X: mr, Index: 1, P: at.P}), P: at.P}
	X, err := t.coefLoop(blk, t.lift(blk, x0), func(bb *block, X, j ir.Expr) (ir.Expr, error) {
		R := bb.bind("r", callDef(ft, at.P, X, theta))
		r := bb.bind("r", b.Prim(ir.PrimNeg, bb.bind("r", b.Prim(ir.PrimIndex, R, j))))
		xj := bb.bind("xj", &ir.PrimCall{Op: ir.PrimLinsolve, Args: []ir.Expr{ir.Copy(matvec), r}, T: d.Result, P: at.P})
		return bb.bind("xs", b.Prim(ir.PrimUpdate, X, j, xj)), nil
	})
	return X, true, err
}

// linsolve is the series of y = A⁻¹b (see above).
func (t *tay) linsolve(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	b := blk.builder()
	lam, err := lambdaOf(e.Args[0])
	if err != nil {
		return nil, false, err
	}
	bx, bs, err := t.expr(blk, e.Args[1])
	if err != nil {
		return nil, false, err
	}
	active := t.active(lam)
	mv0 := t.onPrimals(blk, lam).(*ir.Lambda)
	if !active && !bs {
		return blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{mv0, bx}, T: e.T, P: e.P}), false, nil
	}
	B := t.seriesOrLift(blk, bx, bs)
	if !active {
		// A constant: y_j = A⁻¹ b_j.
		j := ir.NewVar("j", ir.TI64, e.P)
		ib := &block{pos: e.P}
		bj := ib.bind("b", b.Prim(ir.PrimIndex, B, j))
		yj := &ir.PrimCall{Op: e.Op, Args: []ir.Expr{ir.Copy(mv0), bj}, T: e.T, P: e.P}
		lamj := &ir.Lambda{Params: []*ir.Var{j}, Body: ib.close(yj), P: e.P}
		return blk.bind("y", b.PrimAux(ir.PrimBuild, t.kd, t.k, lamj)), true, nil
	}
	b0 := blk.bind("b", b.Prim(ir.PrimIndex, B, b.I64(0)))
	y0 := blk.bind("y0", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{mv0, b0}, T: e.T, P: e.P})
	v := lam.Params[0]
	Y, err := t.coefLoop(blk, t.lift(blk, y0), func(bb *block, Y, j ir.Expr) (ir.Expr, error) {
		delete(t.ren, v)
		t.ser[v] = Y
		S, s, err := t.expr(bb, lam.Body)
		delete(t.ser, v)
		if err != nil {
			return nil, err
		}
		if !s {
			S = t.lift(bb, S)
		}
		// r_j = [tʲ](A(t) y(t) - b(t)) with y_j = 0
		sj := bb.bind("s", b.Prim(ir.PrimIndex, S, j))
		bj := bb.bind("b", b.Prim(ir.PrimIndex, B, j))
		r := bb.bind("r", b.Prim(ir.PrimSub, bj, sj))
		yj := bb.bind("yj", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{ir.Copy(mv0), r}, T: e.T, P: e.P})
		return bb.bind("ys", b.Prim(ir.PrimUpdate, Y, j, yj)), nil
	})
	return Y, true, err
}
