// Forward mode split into a primal pass and a linear map (JAX's
// linearize).

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// A linSplit is a JVP fn(p1..pk, t1..tm) => (y, dy) split in two: prim,
// fn(p1..pk) => (y, res), computes the primal value and the residuals
// the tangent map needs; tan, fn(res, t1..tm) => dy, is a function of the
// tangents given the residuals. tan(prim(p).1, t) = jvp(p, t).1 and
// prim(p).0 = jvp(p, t).0, so several tangents at one point run prim
// once (jacfwd).
type linSplit struct {
	prim, tan *ir.Lambda
}

// linDefs is the split of a generated JVP def, as defs.
type linDefs struct {
	prim, tan *ir.Def
}

// splitJVP splits a JVP lambda whose first k parameters are the primal
// ones. The body's top-level let chain is partitioned by dependence: a
// binding that reads no tangent goes to the primal pass, any other to
// the tangent map; a call of another JVP def with primal arguments from
// the primal pass is itself split (linearizeDef), its primal part going
// to the primal pass. ok is false when the body does not end in the
// (y, dy) pair forward mode builds, or when y needs a tangent (a loop or
// a branch carries primal and tangent together; such a binding stays in
// the tangent map, recomputing its primal part, which y cannot read).
func (a *expander) splitJVP(lam *ir.Lambda, k int) (linSplit, bool) {
	pos := lam.P
	ps, ts := lam.Params[:k], lam.Params[k:]
	var binds []binding
	e := lam.Body
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		binds = append(binds, binding{l.Var, l.Value})
		e = l.Body
	}
	res, ok := e.(*ir.MakeTuple)
	if !ok || len(res.Elems) != 2 {
		return linSplit{}, false
	}
	// An in-place primitive of the tangent map (acc_add on a tangent
	// forward over reverse accumulates into) must not overwrite a
	// residual, which every tangent shares: what flows into one is
	// computed in the tangent map, each time, until none does.
	forced := map[*ir.Var]bool{}
	orig := map[*ir.Var]bool{}
	for _, b := range binds {
		orig[b.v] = true
	}
	var prim, tan *block
	var tanDep map[*ir.Var]bool
	for {
		prim, tan, tanDep = a.partition(binds, ts, forced)
		bound := map[*ir.Var]bool{}
		for _, p := range ps {
			bound[p] = true
		}
		for _, b := range prim.binds {
			bound[b.v] = true
		}
		more := false
		for v := range ir.MutableVars(tan.close(res.Elems[1])) {
			if !bound[v] {
				continue
			}
			if !orig[v] || forced[v] {
				return linSplit{}, false // a parameter, or a split call's primal value
			}
			forced[v], more = true, true
		}
		if !more {
			break
		}
	}
	y, dy := res.Elems[0], res.Elems[1]
	if readsAny(y, tanDep) {
		return linSplit{}, false
	}
	// The residuals: what the tangent map reads of the primal pass and
	// of the primal parameters.
	local := map[*ir.Var]bool{}
	for _, p := range ps {
		local[p] = true
	}
	for _, b := range prim.binds {
		local[b.v] = true
	}
	seen := map[*ir.Var]bool{}
	var resid []*ir.Var
	need := func(x ir.Expr) {
		for _, v := range ir.FreeVars(x) {
			if local[v] && !seen[v] {
				seen[v] = true
				resid = append(resid, v)
			}
		}
	}
	for _, b := range tan.binds {
		need(b.val)
	}
	need(dy)
	// Nor may the primal pass overwrite a residual, or an array a
	// residual may share storage with: in the JVP the tangent code read
	// it before the in-place primitive ran; split, it would read it after.
	overwritten := ir.MutableVars(prim.close(y))
	if len(overwritten) > 0 {
		lets := map[*ir.Var]ir.Expr{}
		for _, b := range prim.binds {
			lets[b.v] = b.val
		}
		for _, v := range resid {
			if sharesWith(v, lets, overwritten) {
				return linSplit{}, false
			}
		}
	}
	elems := make([]ir.Expr, len(resid))
	for i, v := range resid {
		elems[i] = v
	}
	rt := &ir.MakeTuple{Elems: elems, P: pos}
	primBody := prim.close(&ir.MakeTuple{Elems: []ir.Expr{y, rt}, P: pos})
	rp := ir.NewVar("res", rt.Type(), pos)
	tb := &block{pos: pos}
	sub := map[*ir.Var]ir.Expr{}
	for i, v := range resid {
		sub[v] = tb.bindVar(v.Name, &ir.Proj{X: rp, Index: i, P: pos})
	}
	tanBody := tb.close(ir.Subst(tan.close(dy), sub))
	return linSplit{
		prim: ir.Copy(&ir.Lambda{Params: ps, Body: primBody, P: pos}).(*ir.Lambda),
		tan:  ir.Copy(&ir.Lambda{Params: append([]*ir.Var{rp}, ts...), Body: tanBody, P: pos}).(*ir.Lambda),
	}, true
}

// partition sorts binds into the primal pass and the tangent map: to the
// tangent map what reads a tangent (ts, or what is bound there) and what
// forced holds. It returns the blocks and the variables of the tangent
// map, which reads consults.
func (a *expander) partition(binds []binding, ts []*ir.Var, forced map[*ir.Var]bool) (prim, tan *block, tanDep map[*ir.Var]bool) {
	pos := ir.Pos{}
	if len(binds) > 0 {
		pos = binds[0].v.P
	}
	tanDep = map[*ir.Var]bool{}
	for _, t := range ts {
		tanDep[t] = true
	}
	reads := func(x ir.Expr) bool { return readsAny(x, tanDep) }
	// pairs holds, for a split call's result r, its primal and tangent.
	pairs := map[*ir.Var][2]*ir.Var{}
	prim, tan = &block{pos: pos}, &block{pos: pos}
	for _, b := range binds {
		if forced[b.v] {
			tanDep[b.v] = true
			tan.binds = append(tan.binds, b)
			continue
		}
		if pr, ok := a.splitCall(b, reads, prim, tan); ok {
			pairs[b.v] = pr
			tanDep[b.v] = true
			tan.binds = append(tan.binds, binding{b.v, &ir.MakeTuple{Elems: []ir.Expr{pr[0], pr[1]}, P: pos}})
			continue
		}
		if pj, ok := b.val.(*ir.Proj); ok {
			if r, ok := pj.X.(*ir.Var); ok {
				if pr, ok := pairs[r]; ok && pj.Index < 2 {
					if pj.Index == 0 {
						prim.binds = append(prim.binds, binding{b.v, pr[0]})
					} else {
						tanDep[b.v] = true
						tan.binds = append(tan.binds, binding{b.v, pr[1]})
					}
					continue
				}
			}
		}
		if reads(b.val) {
			tanDep[b.v] = true
			tan.binds = append(tan.binds, b)
		} else {
			prim.binds = append(prim.binds, b)
		}
	}
	return prim, tan, tanDep
}

// splitCall splits a binding r = g$jvp(p.., t..) whose primal arguments
// read no tangent: the primal pass gets g's primal def, the tangent map
// its tangent def; it returns r's primal and tangent variables.
func (a *expander) splitCall(b binding, reads func(ir.Expr) bool, prim, tan *block) ([2]*ir.Var, bool) {
	c, ok := b.val.(*ir.Call)
	if !ok {
		return [2]*ir.Var{}, false
	}
	g, ok := c.Fn.(*ir.Global)
	if !ok {
		return [2]*ir.Var{}, false
	}
	k, ok := a.jvpPrimals[g.Name]
	if !ok || k > len(c.Args) {
		return [2]*ir.Var{}, false
	}
	for _, x := range c.Args[:k] {
		if reads(x) {
			return [2]*ir.Var{}, false
		}
	}
	l := a.linearizeDef(a.out.Def(g.Name), k)
	if l == nil {
		return [2]*ir.Var{}, false
	}
	pos := c.P
	rf := prim.bindVar("lin", &ir.Call{Fn: &ir.Global{Name: l.prim.Name, T: l.prim.Type(), P: pos}, Args: c.Args[:k], T: l.prim.Result, P: pos})
	y := prim.bindVar("y", &ir.Proj{X: rf, Index: 0, P: pos})
	res := prim.bindVar("res", &ir.Proj{X: rf, Index: 1, P: pos})
	args := append([]ir.Expr{res}, c.Args[k:]...)
	dy := tan.bindVar("dy", &ir.Call{Fn: &ir.Global{Name: l.tan.Name, T: l.tan.Type(), P: pos}, Args: args, T: l.tan.Result, P: pos})
	return [2]*ir.Var{y, dy}, true
}

// linearizeDef splits (once) the generated JVP def j, whose first k
// parameters are the primal ones, into the defs j$lin$prim and j$lin$tan;
// nil when it cannot be split.
func (a *expander) linearizeDef(j *ir.Def, k int) *linDefs {
	if j == nil {
		return nil
	}
	if l, ok := a.lins[j.Name]; ok {
		return l
	}
	a.lins[j.Name] = nil // a recursive def is not split
	lam := &ir.Lambda{Params: j.Params, Body: j.Body, P: j.P}
	s, ok := a.splitJVP(lam, k)
	if !ok {
		return nil
	}
	l := &linDefs{
		prim: &ir.Def{Name: j.Name + "$lin$prim", Params: s.prim.Params, HasParams: true, Result: s.prim.Body.Type(), Body: s.prim.Body, P: j.P},
		tan:  &ir.Def{Name: j.Name + "$lin$tan", Params: s.tan.Params, HasParams: true, Result: s.tan.Body.Type(), Body: s.tan.Body, P: j.P},
	}
	a.out.Add(l.prim)
	a.out.Add(l.tan)
	a.lins[j.Name] = l
	return l
}

// linearFunc splits the JVP j of a k-parameter function (jvpFunc's
// result) into its primal and tangent functions, as function values.
func (a *expander) linearFunc(j ir.Expr, k int) (prim, tan ir.Expr, ok bool) {
	switch j := j.(type) {
	case *ir.Global:
		l := a.linearizeDef(a.out.Def(j.Name), k)
		if l == nil {
			return nil, nil, false
		}
		return &ir.Global{Name: l.prim.Name, T: l.prim.Type(), P: j.P}, &ir.Global{Name: l.tan.Name, T: l.tan.Type(), P: j.P}, true
	case *ir.Lambda:
		s, ok := a.splitJVP(j, k)
		if !ok {
			return nil, nil, false
		}
		return s.prim, s.tan, true
	}
	return nil, nil, false
}

// hoistLinear moves the primal pass of a JVP out of the comprehensions
// that call it at one point with several tangents: in build(n, fn(i) =>
// .. g$jvp(p.., t..) ..) where the primal arguments p.. do not depend on
// i, the call becomes (r.0, g$lin$tan(r.1, t..)) with r = g$lin$prim(p..)
// bound once ahead of the build. The arguments may reach the call through
// lets, projections and tuples inside the body (the way the jvp operator
// binds them); nothing else is moved. Only builds of a constant, positive
// size are rewritten, so the hoisted primal pass runs only where the
// build would have run it.
func (a *expander) hoistLinear(body ir.Expr) ir.Expr {
	if len(a.jvpPrimals) == 0 {
		return body
	}
	var walk func(e ir.Expr) ir.Expr
	walk = func(e ir.Expr) ir.Expr {
		e = ir.Rebuild(e, walk)
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimBuild || len(pc.Args) != 2 {
			return e
		}
		d, ok := pc.Aux.(ir.Dim)
		lam, ok2 := pc.Args[1].(*ir.Lambda)
		if !ok || !ok2 || !d.Known() || d.N <= 0 {
			return e
		}
		pre := &block{pos: pc.P}
		nb := a.hoistCalls(lam, pre)
		if len(pre.binds) == 0 {
			return e
		}
		return pre.close(&ir.PrimCall{Op: pc.Op, Args: []ir.Expr{pc.Args[0], &ir.Lambda{Params: lam.Params, Body: nb, P: lam.P}}, Aux: pc.Aux, T: pc.T, P: pc.P})
	}
	return walk(body)
}

// hoistCalls rewrites the JVP calls of lam's body that run on every
// iteration (not under a branch, a loop or a lambda) and whose primal
// arguments do not depend on lam's parameters, binding their primal
// passes in pre.
func (a *expander) hoistCalls(lam *ir.Lambda, pre *block) ir.Expr {
	local := map[*ir.Var]ir.Expr{}
	for _, p := range lam.Params {
		local[p] = nil
	}
	var collect func(e ir.Expr)
	collect = func(e ir.Expr) {
		switch e := e.(type) {
		case *ir.Lambda, *ir.If, *ir.Loop:
			return
		case *ir.Let:
			local[e.Var] = e.Value
		}
		ir.EachChild(e, func(_ int, k ir.Expr) { collect(k) })
	}
	collect(lam.Body)
	// outside is e rebuilt from variables bound outside lam, if it is made
	// of them by projections and tuples only.
	var outside func(e ir.Expr) (ir.Expr, bool)
	outside = func(e ir.Expr) (ir.Expr, bool) {
		switch e := e.(type) {
		case *ir.Var:
			v, in := local[e]
			if !in {
				return e, true
			}
			if v == nil {
				return nil, false
			}
			return outside(v)
		case *ir.Proj:
			x, ok := outside(e.X)
			if !ok {
				return nil, false
			}
			return &ir.Proj{X: x, Index: e.Index, P: e.P}, true
		case *ir.MakeTuple:
			elems := make([]ir.Expr, len(e.Elems))
			for i, x := range e.Elems {
				var ok bool
				if elems[i], ok = outside(x); !ok {
					return nil, false
				}
			}
			return &ir.MakeTuple{Elems: elems, P: e.P}, true
		}
		return nil, false
	}
	var walk func(e ir.Expr) ir.Expr
	walk = func(e ir.Expr) ir.Expr {
		switch e.(type) {
		case *ir.Lambda, *ir.If, *ir.Loop:
			return e
		}
		e = ir.Rebuild(e, walk)
		c, ok := e.(*ir.Call)
		if !ok {
			return e
		}
		g, ok := c.Fn.(*ir.Global)
		if !ok {
			return e
		}
		k, ok := a.jvpPrimals[g.Name]
		if !ok || k > len(c.Args) {
			return e
		}
		args := make([]ir.Expr, k)
		for i, x := range c.Args[:k] {
			if args[i], ok = outside(x); !ok {
				return e
			}
		}
		l := a.linearizeDef(a.out.Def(g.Name), k)
		if l == nil {
			return e
		}
		pos := c.P
		rf := pre.bindVar("lin", &ir.Call{Fn: &ir.Global{Name: l.prim.Name, T: l.prim.Type(), P: pos}, Args: args, T: l.prim.Result, P: pos})
		targs := append([]ir.Expr{&ir.Proj{X: rf, Index: 1, P: pos}}, c.Args[k:]...)
		dy := &ir.Call{Fn: &ir.Global{Name: l.tan.Name, T: l.tan.Type(), P: pos}, Args: targs, T: l.tan.Result, P: pos}
		return &ir.MakeTuple{Elems: []ir.Expr{&ir.Proj{X: rf, Index: 0, P: pos}, dy}, P: pos}
	}
	return walk(lam.Body)
}

// readsAny reports whether x reads a variable of vs.
func readsAny(x ir.Expr, vs map[*ir.Var]bool) bool {
	for _, v := range ir.FreeVars(x) {
		if vs[v] {
			return true
		}
	}
	return false
}

// sharesWith reports whether v's value may be, or be part of, the value
// of a variable in vs: following v's let (lets) and then the children
// whose value may be part of their parent's (ir.FlowKids), it meets one.
func sharesWith(v *ir.Var, lets map[*ir.Var]ir.Expr, vs map[*ir.Var]bool) bool {
	seen := map[ir.Expr]bool{}
	todo := []ir.Expr{v}
	for len(todo) > 0 {
		e := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[e] {
			continue
		}
		seen[e] = true
		if x, ok := e.(*ir.Var); ok {
			if vs[x] {
				return true
			}
			if val, ok := lets[x]; ok {
				todo = append(todo, val)
			}
			continue
		}
		todo = append(todo, ir.FlowKids(e)...)
	}
	return false
}
