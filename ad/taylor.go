package ad

import (
	"fmt"
	"math"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Taylor mode (SPEC §6: taylor and jet) propagates truncated power series
// through a function in one pass. The transformation mirrors forward mode
// (jvp.go), with a series in place of a tangent:
//
//   - A value of type T that depends on the input (an active value) is
//     represented by its series R(T): for f64 and arrays, the [K]T of its
//     K normalized Taylor coefficients, coefficient-major (coefficient j
//     is s[j], so a series of an [n]f64 is a [K][n]f64 and coefficient-wise
//     work is work on rows); for a tuple, the tuple of its elements'
//     representations. Parts without f64 (i64, bool) are never series: a
//     piecewise constant value has a constant series, so they stay plain
//     values, computed from coefficient 0 of what they depend on.
//   - Inactive values stay plain primal values, constants in t, and cost
//     nothing extra: c·x and x + c are O(K), never a product of series.
//   - Elementwise primitives become the series primitives of package ir
//     (ir/prim_series.go), which run the O(K²) recurrences natively;
//     linear array primitives are applied per coefficient (series_coef),
//     bilinear ones of two series are Cauchy products (series_cauchy),
//     and nonlinear reductions are composed from simpler series.
//   - Control flow branches on coefficient 0 (if, while conditions); loops
//     carry series states; map, build, reduce, scan and fold run a
//     series version of their function over the elements, whose series
//     are obtained by moving the coefficient axis inside (transpose). A
//     map or build of an elementwise function is instead its body applied
//     to the whole arrays' series at once (liftedMap).
//   - Calls of defs call a generated series version f$taylorK (one per
//     def, coefficient count and pattern of active parameters).
//
// taylor(f, x, v, k) seeds the input series [x, v, 0, ..., 0] and jet(f, x,
// vs) the series [x, vs[0], ..., vs[k-1]]; both return the output series
// as a [K]B. Defs with a @jvp rule or an @implicit equation, and
// linsolve, have series built one coefficient at a time from their rules
// (taylor_rules.go). Something that has no series rule is a positioned
// error.

// taylorOp expands taylor and jet.
func (a *expander) taylorOp(pc *ir.PrimCall, f fnOf) (out ir.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, ir.Errorf(pc.P, "%s: internal error in Taylor mode: %v", pc.Op.Name, r)
		}
	}()
	pos := pc.P
	res, ok := pc.T.(*ir.Array)
	if !ok {
		return nil, ir.Errorf(pos, "%s: result type %s is not an array", pc.Op.Name, pc.T)
	}
	blk := &block{pos: pos}
	ps := f.params()
	in := ir.FuncInput(&ir.Func{Params: ps})
	kd := res.Dim
	var k ir.Expr
	var u ir.Expr // the input series, [K]A
	switch pc.Op {
	case ir.PrimTaylor:
		order, ok := pc.Aux.(int64)
		if !ok || order < 0 {
			return nil, ir.Errorf(pos, "taylor: the order must be a non-negative integer constant")
		}
		k = ir.I64Const(order+1, pos)
		u = call(blk, ir.PrimSeries, kd, k, pc.Args[1], pc.Args[2])
	case ir.PrimJet:
		x0 := call(blk, ir.PrimArray, nil, pc.Args[1])
		u = call(blk, ir.PrimConcat, nil, x0, pc.Args[2])
		if kd.Known() {
			k = ir.I64Const(kd.N, pos)
		} else {
			k = call(blk, ir.PrimLen, nil, u)
		}
	default:
		return nil, ir.Errorf(pos, "%s: not a Taylor-mode operator", pc.Op.Name)
	}
	t := newTay(a, kd, k)
	x := t.fromUniform(blk, u, in)
	args := []ir.Expr{x}
	if len(ps) > 1 {
		args = make([]ir.Expr, len(ps))
		for i := range ps {
			args[i] = blk.bind("arg", &ir.Proj{X: x, Index: i, P: pos})
		}
	}
	series := make([]bool, len(ps))
	for i, p := range ps {
		series[i] = carriesF64(p)
	}
	var y ir.Expr
	if f.def != nil {
		y, err = t.callDef(blk, f.def, args, series, pos)
		if err != nil {
			return nil, err
		}
	} else {
		for i, p := range f.lam.Params {
			if series[i] {
				t.ser[p] = args[i]
			} else {
				t.ren[p] = args[i]
			}
		}
		var s bool
		y, s, err = t.expr(blk, f.lam.Body)
		if err != nil {
			return nil, err
		}
		if !s {
			y = t.lift(blk, y)
		}
	}
	b := res.Elem
	return blk.close(t.toUniform(blk, y, b)), nil
}

// tay is the Taylor-mode transformation of one function body. Inactive
// variables are renamed to atoms of the generated code (ren); active ones
// map to their series (ser).
type tay struct {
	a     *expander
	k     ir.Expr // the number of coefficients K, an i64 atom
	kd    ir.Dim  // K as a static dimension
	ren   map[*ir.Var]ir.Expr
	ser   map[*ir.Var]ir.Expr
	prims map[primKey]ir.Expr // coefficient 0 of series, per block
	self  *selfCall           // in the series of a @jvp rule: its def's calls
}

type primKey struct {
	blk *block
	s   ir.Expr
}

func newTay(a *expander, kd ir.Dim, k ir.Expr) *tay {
	return &tay{a: a, k: k, kd: kd, ren: map[*ir.Var]ir.Expr{}, ser: map[*ir.Var]ir.Expr{}, prims: map[primKey]ir.Expr{}}
}

// seriesType is R(T), the type of the series of a T.
func (t *tay) seriesType(T ir.Type) ir.Type {
	if !carriesF64(T) {
		return T
	}
	if tt, ok := T.(*ir.Tuple); ok {
		elems := make([]ir.Type, len(tt.Elems))
		for i, e := range tt.Elems {
			elems[i] = t.seriesType(e)
		}
		return ir.TupleOf(elems...)
	}
	return ir.ArrayOf(t.kd, T)
}

// call applies a primitive and binds the result. The arguments are known
// to fit: a type error is a bug, reported by taylorOp as an internal error.
func call(blk *block, p *ir.Prim, aux any, args ...ir.Expr) ir.Expr {
	c, err := p.Call(blk.pos, aux, args...)
	if err != nil {
		panic(err.Error())
	}
	return blk.bind(strings.TrimPrefix(p.Name, "series_"), c)
}

// coef applies p coefficient by coefficient to the arguments flagged in
// series (the others are passed unchanged).
func coef(blk *block, p *ir.Prim, aux any, args []ir.Expr, series []bool) ir.Expr {
	return call(blk, ir.PrimSeriesCoef, &ir.SeriesCoef{Prim: p, Aux: aux, Series: series}, args...)
}

// ---- conversions between representations ----

// lift is the (constant) series of an inactive value x.
func (t *tay) lift(blk *block, x ir.Expr) ir.Expr {
	T := x.Type()
	if !carriesF64(T) {
		return x
	}
	if tt, ok := T.(*ir.Tuple); ok {
		x = blk.bind("tup", x)
		elems := make([]ir.Expr, len(tt.Elems))
		for i := range tt.Elems {
			elems[i] = t.lift(blk, blk.bind("c", &ir.Proj{X: x, Index: i, P: blk.pos}))
		}
		return blk.bind("s", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	return call(blk, ir.PrimSeries, t.kd, t.k, x)
}

// primalOf is coefficient 0 of a series of a T: the primal value.
func (t *tay) primalOf(blk *block, s ir.Expr, T ir.Type) ir.Expr {
	if !carriesF64(T) {
		return s
	}
	key := primKey{blk, s}
	if p := t.prims[key]; p != nil {
		return p
	}
	var p ir.Expr
	if tt, ok := T.(*ir.Tuple); ok {
		elems := make([]ir.Expr, len(tt.Elems))
		for i, e := range tt.Elems {
			elems[i] = t.primalOf(blk, blk.bind("c", &ir.Proj{X: s, Index: i, P: blk.pos}), e)
		}
		p = blk.bind("p", &ir.MakeTuple{Elems: elems, P: blk.pos})
	} else {
		p = call(blk, ir.PrimIndex, nil, s, ir.I64Const(0, blk.pos))
	}
	if ir.IsAtom(s) {
		t.prims[key] = p
	}
	return p
}

// toUniform turns R(T) into the [K]T whose element j is coefficient j of
// every part (zero beyond coefficient 0 for the i64 and bool parts).
func (t *tay) toUniform(blk *block, s ir.Expr, T ir.Type) ir.Expr {
	tt, ok := T.(*ir.Tuple)
	if !ok {
		if !carriesF64(T) {
			return call(blk, ir.PrimSeries, t.kd, t.k, s)
		}
		return s
	}
	s = blk.bind("tup", s)
	cols := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		c := blk.bind("c", &ir.Proj{X: s, Index: i, P: blk.pos})
		cols[i] = t.toUniform(blk, c, e)
	}
	return call(blk, ir.PrimZip, nil, cols...)
}

// fromUniform is the inverse of toUniform.
func (t *tay) fromUniform(blk *block, u ir.Expr, T ir.Type) ir.Expr {
	tt, ok := T.(*ir.Tuple)
	if !ok {
		if !carriesF64(T) {
			return call(blk, ir.PrimIndex, nil, u, ir.I64Const(0, blk.pos))
		}
		return u
	}
	cols := call(blk, ir.PrimUnzip, nil, u)
	elems := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		c := blk.bind("c", &ir.Proj{X: cols, Index: i, P: blk.pos})
		elems[i] = t.fromUniform(blk, c, e)
	}
	return blk.bind("s", &ir.MakeTuple{Elems: elems, P: blk.pos})
}

// uniform is the [K]T of a value of type T, series (in R(T)) or not.
func (t *tay) uniform(blk *block, x ir.Expr, series bool, T ir.Type) ir.Expr {
	if !series {
		return call(blk, ir.PrimSeries, t.kd, t.k, x)
	}
	return t.toUniform(blk, x, T)
}

// toElems turns the series of an array T = [n]E (a [K][n]E) into the
// array of its elements' series, [n]R(E).
func (t *tay) toElems(blk *block, s ir.Expr, T ir.Type) ir.Expr {
	at := T.(*ir.Array)
	tt, ok := at.Elem.(*ir.Tuple)
	if !ok {
		return call(blk, ir.PrimTranspose, nil, s)
	}
	// [K][n](E1, ...) -> [K]([n]E1, ...) -> (R([n]E1), ...) -> ([n]R(E1), ...)
	cols := coef(blk, ir.PrimUnzip, nil, []ir.Expr{s}, []bool{true})
	colT := make([]ir.Type, len(tt.Elems))
	for i, e := range tt.Elems {
		colT[i] = ir.ArrayOf(at.Dim, e)
	}
	parts := t.fromUniform(blk, cols, ir.TupleOf(colT...))
	elems := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		c := blk.bind("c", &ir.Proj{X: parts, Index: i, P: blk.pos})
		if carriesF64(e) {
			c = t.toElems(blk, c, colT[i])
		}
		elems[i] = c
	}
	return call(blk, ir.PrimZip, nil, elems...)
}

// fromElems is the inverse of toElems: from [n]R(E) to [K][n]E.
func (t *tay) fromElems(blk *block, u ir.Expr, T ir.Type) ir.Expr {
	at := T.(*ir.Array)
	tt, ok := at.Elem.(*ir.Tuple)
	if !ok {
		return call(blk, ir.PrimTranspose, nil, u)
	}
	parts := call(blk, ir.PrimUnzip, nil, u)
	cols := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		c := blk.bind("c", &ir.Proj{X: parts, Index: i, P: blk.pos})
		colT := ir.ArrayOf(at.Dim, e)
		if carriesF64(e) {
			cols[i] = t.fromElems(blk, c, colT)
		} else {
			cols[i] = call(blk, ir.PrimSeries, t.kd, t.k, c)
		}
	}
	all := make([]bool, len(cols))
	for i := range all {
		all[i] = true
	}
	return coef(blk, ir.PrimZip, nil, cols, all)
}

// firstSeries is an expression for some [K]... array inside a series of
// a T (to read K from).
func firstSeries(blk *block, s ir.Expr, T ir.Type) ir.Expr {
	tt, ok := T.(*ir.Tuple)
	if !ok {
		return s
	}
	for i, e := range tt.Elems {
		if carriesF64(e) {
			return firstSeries(blk, blk.bind("c", &ir.Proj{X: s, Index: i, P: blk.pos}), e)
		}
	}
	return nil
}

// ---- the transformation ----

// active reports whether e uses a variable that has a series.
func (t *tay) active(e ir.Expr) bool {
	for _, v := range ir.FreeVars(e) {
		if t.ser[v] != nil {
			return true
		}
	}
	return false
}

// primalExpr emits e computed on primal values only: its active free
// variables are replaced by their coefficients 0. It is the whole Taylor
// transformation of a value without f64 parts (a piecewise constant
// function of the input) and of an inactive one.
func (t *tay) primalExpr(blk *block, e ir.Expr) ir.Expr {
	return blk.bind("v", t.onPrimals(blk, e))
}

// onPrimals is e with its free variables renamed, the active ones to
// their coefficients 0 (bound in blk).
func (t *tay) onPrimals(blk *block, e ir.Expr) ir.Expr {
	sub := map[*ir.Var]ir.Expr{}
	for _, v := range ir.FreeVars(e) {
		if s := t.ser[v]; s != nil {
			sub[v] = t.primalOf(blk, s, v.T)
		} else if p := t.ren[v]; p != nil {
			sub[v] = p
		}
	}
	return ir.Subst(e, sub)
}

// expr transforms e, emitting code into blk. It returns an atom: the
// series of e (series = true) or its primal value (e is inactive).
func (t *tay) expr(blk *block, e ir.Expr) (ir.Expr, bool, error) {
	if err := t.a.tick(); err != nil {
		return nil, false, err
	}
	if v, ok := e.(*ir.Var); ok {
		if s := t.ser[v]; s != nil {
			return s, true, nil
		}
		if p := t.ren[v]; p != nil {
			return p, false, nil
		}
		return v, false, nil
	}
	if _, isFn := e.Type().(*ir.Func); isFn && t.active(e) {
		return nil, false, ir.Errorf(e.Pos(), "Taylor mode: cannot differentiate a function value (%T) here", e)
	}
	if !carriesF64(e.Type()) || !t.active(e) {
		return t.primalExpr(blk, e), false, nil
	}
	switch e := e.(type) {
	case *ir.Let:
		if t.self != nil {
			if p, ok := t.self.aliasOf(e.Value); ok {
				t.self.alias[e.Var] = p
			}
		}
		x, s, err := t.expr(blk, e.Value)
		if err != nil {
			return nil, false, err
		}
		if s {
			t.ser[e.Var] = x
		} else {
			t.ren[e.Var] = x
		}
		return t.expr(blk, e.Body)
	case *ir.MakeTuple:
		xs, ss, err := t.atoms(blk, e.Elems)
		if err != nil {
			return nil, false, err
		}
		if !anyTrue(ss) {
			return blk.bind("tup", &ir.MakeTuple{Elems: xs, P: e.P}), false, nil
		}
		for i, x := range xs {
			if !ss[i] {
				xs[i] = t.lift(blk, x)
			}
		}
		return blk.bind("tup", &ir.MakeTuple{Elems: xs, P: e.P}), true, nil
	case *ir.Proj:
		x, s, err := t.expr(blk, e.X)
		if err != nil {
			return nil, false, err
		}
		y := blk.bind("f", &ir.Proj{X: x, Index: e.Index, P: e.P})
		return y, s && carriesF64(e.Type()), nil
	case *ir.If:
		return t.ifExpr(blk, e)
	case *ir.Loop:
		return t.loop(blk, e)
	case *ir.Call:
		return t.call(blk, e)
	case *ir.PrimCall:
		return t.prim(blk, e)
	}
	return nil, false, ir.Errorf(e.Pos(), "Taylor mode: cannot differentiate %T here", e)
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// atoms transforms arguments.
func (t *tay) atoms(blk *block, es []ir.Expr) ([]ir.Expr, []bool, error) {
	xs := make([]ir.Expr, len(es))
	ss := make([]bool, len(es))
	for i, e := range es {
		var err error
		if xs[i], ss[i], err = t.expr(blk, e); err != nil {
			return nil, nil, err
		}
	}
	return xs, ss, nil
}

// value transforms e and returns its primal value.
func (t *tay) value(blk *block, e ir.Expr) (ir.Expr, error) {
	x, s, err := t.expr(blk, e)
	if err != nil || !s {
		return x, err
	}
	return t.primalOf(blk, x, e.Type()), nil
}

func (t *tay) ifExpr(blk *block, e *ir.If) (ir.Expr, bool, error) {
	c, err := t.value(blk, e.Cond)
	if err != nil {
		return nil, false, err
	}
	tb, eb := &block{pos: e.P}, &block{pos: e.P}
	x1, s1, err := t.expr(tb, e.Then)
	if err != nil {
		return nil, false, err
	}
	x2, s2, err := t.expr(eb, e.Else)
	if err != nil {
		return nil, false, err
	}
	if !s1 && !s2 {
		return blk.bind("y", &ir.If{Cond: c, Then: tb.close(x1), Else: eb.close(x2), P: e.P}), false, nil
	}
	if !s1 {
		x1 = t.lift(tb, x1)
	}
	if !s2 {
		x2 = t.lift(eb, x2)
	}
	return blk.bind("y", &ir.If{Cond: c, Then: tb.close(x1), Else: eb.close(x2), P: e.P}), true, nil
}

// loop carries the series of the state through the iterations.
func (t *tay) loop(blk *block, e *ir.Loop) (ir.Expr, bool, error) {
	x0, s0, err := t.expr(blk, e.Init)
	if err != nil {
		return nil, false, err
	}
	if !s0 {
		x0 = t.lift(blk, x0)
	}
	st := ir.NewVar(e.State.Name, t.seriesType(e.State.T), e.P)
	l := &ir.Loop{State: st, Init: x0, P: e.P}
	if e.Count != nil {
		if l.Count, err = t.value(blk, e.Count); err != nil {
			return nil, false, err
		}
		l.Index = ir.NewVar(e.Index.Name, ir.TI64, e.Index.P)
		t.ren[e.Index] = l.Index
	}
	delete(t.ren, e.State)
	t.ser[e.State] = st
	if e.Cond != nil {
		cb := &block{pos: e.P}
		c, err := t.value(cb, e.Cond)
		if err != nil {
			return nil, false, err
		}
		l.Cond = cb.close(c)
	}
	bb := &block{pos: e.P}
	y, s, err := t.expr(bb, e.Body)
	if err != nil {
		return nil, false, err
	}
	if !s {
		y = t.lift(bb, y)
	}
	l.Body = bb.close(y)
	return blk.bind("loop", l), true, nil
}

// call calls the series version of the callee.
func (t *tay) call(blk *block, e *ir.Call) (ir.Expr, bool, error) {
	g, ok := e.Fn.(*ir.Global)
	if !ok {
		return nil, false, ir.Errorf(e.P, "Taylor mode: cannot differentiate a call of a function chosen at run time")
	}
	d := t.a.lookup(g.Name)
	if d == nil {
		return nil, false, ir.Errorf(e.P, "Taylor mode: unknown def %s", g.Name)
	}
	if t.self != nil && g.Name == t.self.def.Name {
		return t.self.series(e)
	}
	xs, ss, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, false, err
	}
	y, err := t.callDef(blk, d, xs, ss, e.P)
	return y, true, err
}

// callDef calls the series version of d on args (series where flagged)
// and returns the series of the result.
func (t *tay) callDef(blk *block, d *ir.Def, args []ir.Expr, series []bool, pos ir.Pos) (ir.Expr, error) {
	g, err := t.a.taylorDef(d, series, t.kd, pos)
	if err != nil {
		return nil, err
	}
	return blk.bind("r", &ir.Call{Fn: &ir.Global{Name: g.Name, T: g.Type(), P: pos}, Args: args, T: g.Result, P: pos}), nil
}

// taylorDef generates (once) the series version of a def for K = kd
// coefficients, with series for the parameters flagged in series and
// plain values for the others. It returns the series of the result.
func (a *expander) taylorDef(d *ir.Def, series []bool, kd ir.Dim, pos ir.Pos) (*ir.Def, error) {
	if err := a.forwardAllowed(d, "Taylor", pos); err != nil {
		return nil, err
	}
	name := d.Name + "$taylor"
	if kd.Known() {
		name += fmt.Sprint(kd.N)
	} else {
		name += "k"
	}
	if anyFalse(series) {
		name += "_"
		for _, s := range series {
			if s {
				name += "s"
			} else {
				name += "c"
			}
		}
	}
	if g := a.out.Def(name); g != nil {
		return g, nil
	}
	done, err := a.enter(name, d, pos)
	if err != nil {
		return nil, err
	}
	defer done()
	blk := &block{pos: d.P}
	t := newTay(a, kd, nil)
	params := make([]*ir.Var, len(d.Params))
	for i, p := range d.Params {
		if series[i] {
			params[i] = ir.NewVar(p.Name, t.seriesType(p.T), d.P)
			t.ser[p] = params[i]
			if t.k == nil {
				if kd.Known() {
					t.k = ir.I64Const(kd.N, d.P)
				} else {
					t.k = call(blk, ir.PrimLen, nil, firstSeries(blk, params[i], p.T))
				}
			}
			continue
		}
		params[i] = ir.NewVar(p.Name, p.T, d.P)
		t.ren[p] = params[i]
	}
	if t.k == nil {
		return nil, ir.Errorf(pos, "Taylor mode: internal error: %s called without series arguments", d.Name)
	}
	var y ir.Expr
	var s bool
	switch {
	case d.Attr("jvp") != nil:
		y, s, err = t.ruleSeries(blk, d, params, series)
	case d.Attr("implicit") != nil:
		y, s, err = t.implicitSeries(blk, d, params, series)
	default:
		y, s, err = t.expr(blk, d.BodyWithSizes())
	}
	if err != nil {
		return nil, err
	}
	if !s {
		y = t.lift(blk, y)
	}
	body := blk.close(y)
	g := &ir.Def{Name: name, Params: params, HasParams: true, Result: body.Type(), Body: body, P: d.P}
	a.out.Add(g)
	return g, nil
}

func anyFalse(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return true
		}
	}
	return false
}

// ---- primitives ----

// taylorRule says how Taylor mode treats a primitive: prim dispatches on
// it, and a test checks that every primitive has one, so a primitive
// added without a Taylor rule is found by the tests, not by a user.
type taylorRule uint8

const (
	taylorNone        taylorRule = iota
	taylorStructural             // function-valued, control or accumulator primitives, handled by their own method
	taylorConstant               // NoDerivative: every coefficient beyond 0 is zero
	taylorElementwise            // the primitive's series primitive (Prim.Series)
	taylorBilinear               // per coefficient with one series operand, a Cauchy product with two
	taylorLinear                 // applied per coefficient to its data arguments (Prim.Linear)
	taylorComposite              // composed from simpler series (prod, maximum, norm, ...)
)

func taylorRuleOf(p *ir.Prim) taylorRule {
	switch p {
	case ir.PrimStopGradient, ir.PrimMap, ir.PrimBuild, ir.PrimReduce, ir.PrimScan, ir.PrimFold,
		ir.PrimLoopSave, ir.PrimWhileSave, ir.PrimAccAdd, ir.PrimAccAddAt, ir.PrimLinsolve, ir.PrimODE, ir.PrimLinearCheck, ir.PrimAssert, ir.PrimProgress,
		ir.PrimAccZeroAt: // lowered to update first (lowerForAD)
		return taylorStructural
	case ir.PrimProd, ir.PrimMaximum, ir.PrimMinimum, ir.PrimNorm, ir.PrimLogsumexp, ir.PrimSoftmax:
		return taylorComposite
	}
	switch {
	case p.NoDerivative:
		return taylorConstant
	case p.Elementwise:
		if p.Series != nil || p == ir.PrimToF64 || p == ir.PrimNeg {
			return taylorElementwise
		}
	case p.Bilinear:
		return taylorBilinear
	case p.IsLinear():
		return taylorLinear
	}
	return taylorNone
}

func (t *tay) prim(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	if low, ok, err := lowerForAD(e); ok {
		if err != nil {
			return nil, false, err
		}
		return t.expr(blk, low)
	}
	rule := taylorRuleOf(e.Op)
	if rule == taylorStructural {
		return t.structural(blk, e)
	}
	for _, x := range e.Args {
		if _, isFn := x.Type().(*ir.Func); isFn {
			return nil, false, ir.Errorf(e.P, "Taylor mode: %s is not supported", e.Op.Name)
		}
	}
	xs, ss, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, false, err
	}
	if !anyTrue(ss) {
		return blk.bind("y", &ir.PrimCall{Op: e.Op, Args: xs, Aux: e.Aux, T: e.T, P: e.P}), false, nil
	}
	var y ir.Expr
	switch rule {
	case taylorConstant:
		ps := make([]ir.Expr, len(xs))
		for i, x := range xs {
			ps[i] = x
			if ss[i] {
				ps[i] = t.primalOf(blk, x, e.Args[i].Type())
			}
		}
		return blk.bind("y", &ir.PrimCall{Op: e.Op, Args: ps, Aux: e.Aux, T: e.T, P: e.P}), false, nil
	case taylorElementwise:
		y, err = t.elementwise(blk, e, xs, ss)
	case taylorBilinear:
		if ss[0] && ss[1] {
			y = call(blk, ir.PrimSeriesCauchy, &ir.SeriesCoef{Prim: e.Op, Aux: e.Aux, Series: ss}, xs...)
		} else {
			y = coef(blk, e.Op, e.Aux, xs, ss)
		}
	case taylorComposite:
		y = t.composite(blk, e, xs)
	case taylorLinear:
		y = t.linear(blk, e, xs, ss)
	default:
		return nil, false, ir.Errorf(e.P, "Taylor mode: %s is not supported", e.Op.Name)
	}
	if err != nil {
		return nil, false, err
	}
	return y, true, nil
}

// structural applies the Taylor rules of the primitives that take
// functions, carry control or update accumulators.
func (t *tay) structural(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	switch e.Op {
	case ir.PrimProgress:
		// Taylor-mode code does not report: the primal run did.
		return t.expr(blk, e.Args[4])
	case ir.PrimStopGradient:
		// Kept on the primal, for transforms of this code (as in jvp.go).
		p := t.primalExpr(blk, e.Args[0])
		return blk.bind("v", &ir.PrimCall{Op: ir.PrimStopGradient, Args: []ir.Expr{p}, T: e.T, P: e.P}), false, nil
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
	case ir.PrimLinearCheck, ir.PrimAssert:
		ok, err := t.value(blk, e.Args[0])
		if err != nil {
			return nil, false, err
		}
		x, s, err := t.expr(blk, e.Args[1])
		if err != nil {
			return nil, false, err
		}
		return blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{ok, x}, Aux: e.Aux, T: x.Type(), P: e.P}), s, nil
	}
	return nil, false, ir.Errorf(e.P, "Taylor mode: internal error: no structural rule for %s", e.Op.Name)
}

// composite is the series of a nonlinear reduction, composed from
// simpler series.
func (t *tay) composite(blk *block, e *ir.PrimCall, xs []ir.Expr) ir.Expr {
	switch e.Op {
	case ir.PrimProd:
		return call(blk, ir.PrimSeriesProd, nil, xs[0])
	case ir.PrimMaximum, ir.PrimMinimum:
		return t.extreme(blk, e, xs[0])
	case ir.PrimNorm:
		return t.norm(blk, xs[0])
	case ir.PrimLogsumexp:
		return t.logsumexp(blk, xs[0])
	}
	// softmax
	lse := t.logsumexp(blk, xs[0])
	z := call(blk, ir.PrimSeriesSub, ir.SeriesSS, xs[0], lse)
	return call(blk, ir.PrimSeriesExp, nil, z)
}

// linear applies a primitive linear in its data arguments per
// coefficient: data arguments become series (of the uniform kind, [K]T),
// the others are read at coefficient 0.
func (t *tay) linear(blk *block, e *ir.PrimCall, xs []ir.Expr, ss []bool) ir.Expr {
	isData := make([]bool, len(xs))
	for i := range isData {
		isData[i] = e.Op.IsLinearIn(i)
	}
	args := make([]ir.Expr, len(xs))
	for i, x := range xs {
		T := e.Args[i].Type()
		switch {
		case isData[i]:
			args[i] = t.uniform(blk, x, ss[i], T)
		case ss[i]:
			args[i] = t.primalOf(blk, x, T)
		default:
			args[i] = x
		}
	}
	y := coef(blk, e.Op, e.Aux, args, isData)
	return t.fromUniform(blk, y, e.T)
}

// elementwise maps an elementwise primitive to its series primitive.
func (t *tay) elementwise(blk *block, e *ir.PrimCall, xs []ir.Expr, ss []bool) (ir.Expr, error) {
	switch e.Op {
	case ir.PrimToF64:
		return xs[0], nil
	case ir.PrimNeg:
		return call(blk, ir.PrimNeg, nil, xs[0]), nil
	case ir.PrimAdd, ir.PrimSub:
		if ss[0] && ss[1] && ir.Rank(xs[0].Type()) == ir.Rank(xs[1].Type()) {
			return call(blk, e.Op, nil, xs[0], xs[1]), nil
		}
	}
	sp := ir.SeriesOf(e.Op)
	if sp == nil {
		return nil, ir.Errorf(e.P, "Taylor mode: %s has no series rule", e.Op.Name)
	}
	if len(xs) == 1 {
		return call(blk, sp, nil, xs[0]), nil
	}
	mode := ir.SeriesSS
	switch {
	case !ss[0]:
		mode = ir.SeriesCS
	case !ss[1]:
		mode = ir.SeriesSC
	}
	return call(blk, sp, mode, xs[0], xs[1]), nil
}

// flatSeries flattens each coefficient of a series to a vector.
func flatSeries(blk *block, s ir.Expr) ir.Expr {
	for ir.Rank(s.Type()) > 2 {
		s = coef(blk, ir.PrimFlatten, nil, []ir.Expr{s}, []bool{true})
	}
	return s
}

// extreme is the series of maximum or minimum: that of the first extreme
// element of coefficient 0 (argmax and argmin pick it).
func (t *tay) extreme(blk *block, e *ir.PrimCall, s ir.Expr) ir.Expr {
	arg, empty := ir.PrimArgmax, math.Inf(-1)
	if e.Op == ir.PrimMinimum {
		arg, empty = ir.PrimArgmin, math.Inf(1)
	}
	fl := flatSeries(blk, s)
	p := t.primalOf(blk, fl, fl.Type().(*ir.Array).Elem)
	n := call(blk, ir.PrimLen, nil, p)
	isEmpty := call(blk, ir.PrimEq, nil, n, ir.I64Const(0, blk.pos))
	tb, eb := &block{pos: blk.pos}, &block{pos: blk.pos}
	y1 := t.lift(tb, ir.F64Const(empty, blk.pos))
	i := call(eb, arg, nil, p)
	y2 := coef(eb, ir.PrimIndex, nil, []ir.Expr{fl, i}, []bool{true, false})
	return blk.bind("ext", &ir.If{Cond: isEmpty, Then: tb.close(y1), Else: eb.close(y2), P: blk.pos})
}

// norm is sqrt(sum(x²)), with the zero series where the norm is zero (as
// the derivative rule of norm has it there).
func (t *tay) norm(blk *block, s ir.Expr) ir.Expr {
	sq := call(blk, ir.PrimSeriesMul, ir.SeriesSS, s, s)
	ssum := coef(blk, ir.PrimSum, nil, []ir.Expr{sq}, []bool{true})
	s0 := t.primalOf(blk, ssum, ir.TF64)
	zero := call(blk, ir.PrimEq, nil, s0, ir.F64Const(0, blk.pos))
	tb, eb := &block{pos: blk.pos}, &block{pos: blk.pos}
	y1 := t.lift(tb, ir.F64Const(0, blk.pos))
	y2 := call(eb, ir.PrimSeriesSqrt, nil, ssum)
	return blk.bind("norm", &ir.If{Cond: zero, Then: tb.close(y1), Else: eb.close(y2), P: blk.pos})
}

// logsumexp is m + log(sum(exp(x - m))) with m the largest element of
// coefficient 0 (0 when that is infinite or there are none).
func (t *tay) logsumexp(blk *block, s ir.Expr) ir.Expr {
	p := t.primalOf(blk, s, s.Type().(*ir.Array).Elem)
	m := call(blk, ir.PrimMaximum, nil, p)
	finite := call(blk, ir.PrimLt, nil, call(blk, ir.PrimAbs, nil, m), ir.F64Const(math.Inf(1), blk.pos))
	m = blk.bind("m", &ir.If{Cond: finite, Then: m, Else: ir.F64Const(0, blk.pos), P: blk.pos})
	z := call(blk, ir.PrimSeriesSub, ir.SeriesSC, s, m)
	ez := call(blk, ir.PrimSeriesExp, nil, z)
	sum := coef(blk, ir.PrimSum, nil, []ir.Expr{ez}, []bool{true})
	l := call(blk, ir.PrimSeriesLog, nil, sum)
	return call(blk, ir.PrimSeriesAdd, ir.SeriesSC, l, m)
}

// ---- function-valued primitives ----

// lambdaOf views a function argument (a lambda or a def) as a lambda.
func lambdaOf(f ir.Expr) (*ir.Lambda, error) {
	switch f := f.(type) {
	case *ir.Lambda:
		return f, nil
	case *ir.Global:
		ft := f.T.(*ir.Func)
		ps := make([]*ir.Var, len(ft.Params))
		for i, p := range ft.Params {
			ps[i] = ir.NewVar("a", p, f.P)
		}
		return &ir.Lambda{Params: ps, Body: &ir.Call{Fn: f, Args: asExprs(ps), T: ft.Result, P: f.P}, P: f.P}, nil
	}
	return nil, ir.Errorf(f.Pos(), "cannot differentiate through a function chosen at run time")
}

// seriesLambda transforms fn(params) => body into a lambda over the
// parameters' series (where series[i]) or values, returning the body's
// series (or, with result = false allowed and an inactive body, its
// value). It reports whether the result is a series.
func (t *tay) seriesLambda(lam *ir.Lambda, series []bool, mustSeries bool, pos ir.Pos) (*ir.Lambda, bool, error) {
	ps := make([]*ir.Var, len(lam.Params))
	for i, p := range lam.Params {
		delete(t.ren, p)
		delete(t.ser, p)
		if series[i] {
			ps[i] = ir.NewVar(p.Name, t.seriesType(p.T), pos)
			t.ser[p] = ps[i]
		} else {
			ps[i] = ir.NewVar(p.Name, p.T, pos)
			t.ren[p] = ps[i]
		}
	}
	bb := &block{pos: pos}
	y, s, err := t.expr(bb, lam.Body)
	if err != nil {
		return nil, false, err
	}
	if !s && (mustSeries || anyTrue(series)) {
		y, s = t.lift(bb, y), true
	}
	return &ir.Lambda{Params: ps, Body: bb.close(y), P: pos}, s, nil
}

// mapLike maps a series version of the function over the elements'
// series, with the coefficient axis moved inside and back.
func (t *tay) mapLike(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	fnAt := 0
	if e.Op == ir.PrimBuild {
		fnAt = 1
	}
	lam, err := lambdaOf(e.Args[fnAt])
	if err != nil {
		return nil, false, err
	}
	var args []ir.Expr
	series := make([]bool, len(lam.Params))
	if e.Op == ir.PrimBuild {
		n, err := t.value(blk, e.Args[0])
		if err != nil {
			return nil, false, err
		}
		args = []ir.Expr{n}
	} else {
		xs, ss, err := t.atoms(blk, e.Args[1:])
		if err != nil {
			return nil, false, err
		}
		args, series = xs, ss
	}
	if y, s, ok, err := t.liftedMap(blk, e, lam, args, series); ok || err != nil {
		return y, s, err
	}
	if e.Op == ir.PrimMap {
		for i, x := range args {
			if series[i] {
				args[i] = t.toElems(blk, x, e.Args[1+i].Type())
			}
		}
	}
	sl, s, err := t.seriesLambda(lam, series, false, e.P)
	if err != nil {
		return nil, false, err
	}
	var r ir.Expr
	if e.Op == ir.PrimBuild {
		r = call(blk, ir.PrimBuild, e.Aux, args[0], sl)
	} else {
		r = call(blk, ir.PrimMap, e.Aux, append([]ir.Expr{sl}, args...)...)
	}
	if !s {
		return r, false, nil
	}
	return t.fromElems(blk, r, e.T), true, nil
}

// liftedMap handles a map or build whose function is elementwise: built
// from lets and elementwise primitives of its parameters and of scalar
// free variables only. Such a map is its body applied to whole arrays,
// and the series of that is the body's series applied to the arrays'
// series, coefficient-major as they are: one pass of series primitives
// over all elements, with no per-element calls. args are the arrays'
// series (where series) or values (for build, the count).
func (t *tay) liftedMap(blk *block, e *ir.PrimCall, lam *ir.Lambda, args []ir.Expr, series []bool) (ir.Expr, bool, bool, error) {
	vars := make([]*ir.Var, len(lam.Params))
	sub := map[*ir.Var]ir.Expr{}
	pre := &block{pos: blk.pos}
	for i, p := range lam.Params {
		var T ir.Type
		if e.Op == ir.PrimBuild {
			T = ir.ArrayOf(outerDimOf(e.T), ir.TI64)
		} else {
			T = e.Args[1+i].Type()
		}
		vars[i] = ir.NewVar(p.Name, T, lam.P)
		sub[p] = vars[i]
	}
	body, ok := liftElementwise(lam.Body, sub)
	if !ok || !ir.Equal(body.Type(), e.T) || ir.Rank(body.Type()) != ir.Rank(e.T) {
		return nil, false, false, nil
	}
	for i, v := range vars {
		switch {
		case e.Op == ir.PrimBuild:
			t.ren[v] = call(pre, ir.PrimIota, outerDimOf(e.T), args[0])
		case series[i]:
			t.ser[v] = args[i]
		default:
			t.ren[v] = args[i]
		}
	}
	blk.binds = append(blk.binds, pre.binds...)
	y, s, err := t.expr(blk, body)
	return y, s, true, err
}

func outerDimOf(t ir.Type) ir.Dim {
	if a, ok := t.(*ir.Array); ok {
		return a.Dim
	}
	return ir.Unknown
}

// liftElementwise rewrites an elementwise function body over whole
// arrays: the parameters (and let-bound variables) become the variables
// in sub, and the types are computed anew. It fails on anything but lets,
// constants, elementwise primitives and scalar free variables.
func liftElementwise(e ir.Expr, sub map[*ir.Var]ir.Expr) (ir.Expr, bool) {
	switch e := e.(type) {
	case *ir.Var:
		if r, ok := sub[e]; ok {
			return r, true
		}
		_, isScalar := e.T.(ir.Scalar)
		return e, isScalar
	case *ir.Const:
		return e, true
	case *ir.Let:
		v, ok := liftElementwise(e.Value, sub)
		if !ok {
			return nil, false
		}
		nv := ir.NewVar(e.Var.Name, v.Type(), e.Var.P)
		sub[e.Var] = nv
		b, ok := liftElementwise(e.Body, sub)
		if !ok {
			return nil, false
		}
		return &ir.Let{Var: nv, Value: v, Body: b, P: e.P}, true
	case *ir.PrimCall:
		if !e.Op.Elementwise {
			return nil, false
		}
		args := make([]ir.Expr, len(e.Args))
		for i, a := range e.Args {
			var ok bool
			if args[i], ok = liftElementwise(a, sub); !ok {
				return nil, false
			}
		}
		c, err := e.Op.Call(e.P, e.Aux, args...)
		if err != nil {
			return nil, false
		}
		return c, true
	}
	return nil, false
}

// reduceLike runs reduce, scan and fold with a series version of the
// operator: the Taylor expansion of an associative operator is associative
// on series, with neutral element the series of ne.
func (t *tay) reduceLike(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	lam, err := lambdaOf(e.Args[0])
	if err != nil {
		return nil, false, err
	}
	xs, ss, err := t.atoms(blk, e.Args[1:])
	if err != nil {
		return nil, false, err
	}
	init := xs[0]
	if !ss[0] {
		init = t.lift(blk, init)
	}
	arrT := e.Args[2].Type()
	arr, arrSeries := xs[1], ss[1]
	if e.Op != ir.PrimFold && !arrSeries {
		arr, arrSeries = t.lift(blk, arr), true
	}
	if arrSeries {
		arr = t.toElems(blk, arr, arrT)
	}
	op, _, err := t.seriesLambda(lam, []bool{true, arrSeries}, true, e.P)
	if err != nil {
		return nil, false, err
	}
	r := call(blk, e.Op, e.Aux, op, init, arr)
	if e.Op == ir.PrimScan {
		return t.fromElems(blk, r, e.T), true, nil
	}
	return r, true, nil
}

// saveLoop runs the state-saving loops of reverse mode (for Taylor over
// reverse) on series states.
func (t *tay) saveLoop(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	initAt := 0
	if e.Op == ir.PrimLoopSave {
		initAt = 1
	}
	x0, s0, err := t.expr(blk, e.Args[initAt])
	if err != nil {
		return nil, false, err
	}
	if !s0 {
		x0 = t.lift(blk, x0)
	}
	body, err := lambdaOf(e.Args[2])
	if err != nil {
		return nil, false, err
	}
	var r ir.Expr
	if e.Op == ir.PrimLoopSave {
		n, err := t.value(blk, e.Args[0])
		if err != nil {
			return nil, false, err
		}
		bl, _, err := t.seriesLambda(body, []bool{false, true}, true, e.P)
		if err != nil {
			return nil, false, err
		}
		r = call(blk, ir.PrimLoopSave, e.Aux, n, x0, bl)
	} else {
		cond, err := lambdaOf(e.Args[1])
		if err != nil {
			return nil, false, err
		}
		cl, _, err := t.seriesLambda(cond, []bool{true}, false, e.P)
		if err != nil {
			return nil, false, err
		}
		bl, _, err := t.seriesLambda(body, []bool{true}, true, e.P)
		if err != nil {
			return nil, false, err
		}
		r = call(blk, ir.PrimWhileSave, e.Aux, x0, cl, bl)
	}
	return t.fromElems(blk, r, e.T), true, nil
}

// accum runs the in-place accumulators of reverse mode on series: a
// constant value is added to coefficient 0 only.
func (t *tay) accum(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	xs, ss, err := t.atoms(blk, e.Args)
	if err != nil {
		return nil, false, err
	}
	vi := len(xs) - 1
	if !ss[0] && !ss[vi] {
		return blk.bind("acc", &ir.PrimCall{Op: e.Op, Args: xs, Aux: e.Aux, T: e.T, P: e.P}), false, nil
	}
	acc := xs[0]
	if !ss[0] {
		acc = t.lift(blk, acc) // a fresh copy, updated in place from here on
	}
	mode := ir.SeriesSS
	if !ss[vi] {
		mode = ir.SeriesSC
	}
	if e.Op == ir.PrimAccAdd {
		return call(blk, ir.PrimSeriesAccAdd, mode, acc, xs[1]), true, nil
	}
	i := xs[1]
	if ss[1] {
		i = t.primalOf(blk, i, e.Args[1].Type())
	}
	return call(blk, ir.PrimSeriesAccAddAt, mode, acc, i, xs[2]), true, nil
}
