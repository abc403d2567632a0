// Reverse mode of loops and of the loop_save/while_save primitives.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// fwdLoop runs an active loop saving its states, for the backward sweep.
func (r *rev) fwdLoop(blk *block, e *ir.Loop) (ir.Expr, error) {
	init, err := r.fwd(blk, e.Init)
	if err != nil {
		return nil, err
	}
	if y, err := r.fwdLoopSaving(blk, e, init); y != nil || err != nil {
		return y, err
	}
	b := blk.builder()
	st := e.State.T
	s := ir.NewVar(e.State.Name, st, e.P)
	own, ownActive := loopOwn(e)
	l, err := r.lift("loop", own, ownActive, e.Body, e.P)
	if err != nil {
		return nil, err
	}
	var states, n ir.Expr
	if e.Count != nil {
		count := blk.bind("n", r.primal(e.Count))
		i := ir.NewVar(e.Index.Name, ir.TI64, e.P)
		body := &ir.Lambda{Params: []*ir.Var{i, s}, Body: ir.Subst(e.Body, r.renaming(e.Body, map[*ir.Var]ir.Expr{e.State: s, e.Index: i})), P: e.P}
		if l != nil {
			body = l.lambda(r, own, e.P)
		}
		states = blk.bind("states", b.Prim(ir.PrimLoopSave, count, init, body))
		n = blk.bind("n", b.Prim(ir.PrimMax, count, b.I64(0)))
	} else {
		cs := ir.NewVar(e.State.Name, st, e.P)
		cond := ir.Subst(e.Cond, r.renaming(e.Cond, map[*ir.Var]ir.Expr{e.State: cs}))
		body := &ir.Lambda{Params: []*ir.Var{s}, Body: ir.Subst(e.Body, r.renaming(e.Body, map[*ir.Var]ir.Expr{e.State: s})), P: e.P}
		if l != nil {
			body = l.lambda(r, own, e.P)
		}
		states = blk.bind("states", b.Prim(ir.PrimWhileSave, init,
			&ir.Lambda{Params: []*ir.Var{cs}, Body: cond, P: e.P}, body))
		n = blk.bind("n", b.Prim(ir.PrimSub, blk.bind("len", b.Prim(ir.PrimLen, states)), b.I64(1)))
	}
	y := r.record(blk, "y", b.Prim(ir.PrimIndex, states, n), e, []ir.Expr{init})
	rec := &r.steps[len(r.steps)-1]
	rec.aux, rec.n = states, n
	if l != nil {
		rec.lift = []*lifted{l}
	}
	return y, nil
}

// loopOwn lists the variables a loop binds for its body, in the order of
// the parameters of loop_save's or while_save's function (the index, if
// counted, then the state), with their activity.
func loopOwn(e *ir.Loop) ([]*ir.Var, []bool) {
	if e.Count != nil {
		return []*ir.Var{e.Index, e.State}, []bool{false, true}
	}
	return []*ir.Var{e.State}, []bool{true}
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
	var l *lifted
	if st.lift != nil {
		l = st.lift[0]
	}
	own, _ := loopOwn(e)
	c, out, err := r.reverseBody(bb, e.Body, l, own, func(c *rev) {
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
