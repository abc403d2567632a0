// Saving instead of recomputing: a nested body's reverse pass cut into
// the forward code, which runs once with the primal and records a tape
// of the values the backward code reads, and the backward code, which
// reads them from the tape.

package ad

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// A cut is the reverse pass of a nested body (a comprehension's lambda)
// cut in two. fwd binds the body's primal computation with result y;
// bwd, a closed expression apart from its placeholders, the tape and
// the enclosing code's variables, computes the tuple of the threaded
// cotangent states after the body's reverse pass. The placeholders are
// seed (the cotangent of y), states (the threaded states before) and
// index (the iteration's index, given again by the reverse loop). tape
// lists the variables bound by fwd (or by the lambda's parameters) that
// bwd reads: the values the forward sweep saves for it.
type cut struct {
	fwd    *block
	y      ir.Expr
	tape   []*ir.Var
	seed   *ir.Var
	states []*ir.Var
	index  *ir.Var
	views  map[*ir.Var]ir.Expr // forward values bwd reads again from index (elements of mapped arrays)
	bwd    ir.Expr
	// ownSeed: seed is an owned cotangent (a loop's threaded state, see
	// owned), which the body's result takes as it is rather than
	// borrowing it, so that its arrays are updated in place.
	ownSeed bool
	// decides: fwd calls a split forward def that takes decisions, which
	// the forward sweep must run as fwd does (rev.decides).
	decides bool
}

// cutBody transforms body (code in generated names) in a child of r, or
// returns nil when its tape could not be stacked (vjp_ragged.go). bind
// sets up the child and may bind the parameters' values in the forward
// block; own lists the variables of the forward side that bind does not
// put in the block (the lambda's parameters). finish may change the
// list of results after the child's backward sweep (adding the element
// cotangents of mapped arrays, or the loop state's cotangent).
func (r *rev) cutBody(pos ir.Pos, body ir.Expr, index *ir.Var, own []*ir.Var, bind func(c *rev, k *cut), free []*ir.Var, finish func(c *rev, bb *block, out []ir.Expr) []ir.Expr) (*cut, error) {
	c := r.child(body)
	k := &cut{fwd: &block{pos: pos}, index: index, views: map[*ir.Var]ir.Expr{}}
	bind(c, k)
	y, err := c.fwd(k.fwd, body)
	if err != nil {
		return nil, err
	}
	k.y = y
	k.decides = c.decides
	r.decides = r.decides || c.decides
	bb := &block{pos: pos}
	k.seed = ir.NewVar("yb", body.Type(), pos)
	for _, f := range free {
		ph := ir.NewVar("g", stateType(f.T), pos)
		k.states = append(k.states, ph)
		c.setState(bb, f, ph)
	}
	if yv, ok := y.(*ir.Var); ok && k.ownSeed && c.adj[yv] == nil && slices.ContainsFunc(c.steps, func(s step) bool { return s.y == yv }) {
		c.adj[yv] = fromState(bb, yv.T, k.seed)
	} else {
		c.addTo(bb, y, k.seed)
	}
	if err := c.backward(bb); err != nil {
		return nil, err
	}
	out := make([]ir.Expr, len(free))
	for i, f := range free {
		out[i] = c.state(bb, f)
	}
	if finish != nil {
		out = finish(c, bb, out)
	}
	k.bwd, k.tape = recomputeInactive(c, k, own, bb.close(tupleOf(pos, out)))
	if k.mayBeRagged(own) {
		return nil, nil // recompute the body instead (vjp_ragged.go)
	}
	return k, nil
}

// recomputeInactive returns bwd with the inactive forward values it reads
// recomputed in front of it, and the tape: the active forward values it
// reads. Inactive values (functions of the index and of data nobody
// differentiates) are not saved: read from a tape they would look active
// to a derivative of this code (forward over reverse), which would then
// differentiate, for instance, x^p with respect to a constant p.
func recomputeInactive(c *rev, k *cut, own []*ir.Var, bwd ir.Expr) (ir.Expr, []*ir.Var) {
	bwd, tape, _ := recomputeDeciding(c, k, own, bwd, false)
	return bwd, tape
}

// recomputeDeciding is recomputeInactive which, when decide is set, also
// sets apart the decisions: the forward values bwd reads that have a
// discrete part (a bool, an integer) and depend on an active value, as
// the condition of an if on a primal value does. They are neither
// recomputed nor put on the tape but returned apart: a split call
// (splitDef) saves them with its tape, so that bwd follows the branches
// fwd took rather than deciding again.
func recomputeDeciding(c *rev, k *cut, own []*ir.Var, bwd ir.Expr, decide bool) (ir.Expr, []*ir.Var, []*ir.Var) {
	val := map[*ir.Var]ir.Expr{}
	order := map[*ir.Var]int{}
	for i, b := range k.fwd.binds {
		val[b.v], order[b.v] = b.val, i
	}
	// taint: the value depends on the numbers of the differentiated
	// input, not only on its sizes (len and dim of an active array are
	// not decisions).
	taint := map[*ir.Var]bool{}
	for _, b := range k.fwd.binds {
		t := c.act[b.v]
		if pc, ok := b.val.(*ir.PrimCall); !ok || pc.Op != ir.PrimLen && pc.Op != ir.PrimDim {
			for _, u := range ir.FreeVars(b.val) {
				t = t || c.act[u] || taint[u]
			}
		}
		taint[b.v] = t
	}
	var tape, again, decisions []*ir.Var
	ops := map[*ir.Var]bool{}
	seen := map[*ir.Var]bool{}
	var need func(vs []*ir.Var)
	need = func(vs []*ir.Var) {
		for _, v := range vs {
			if seen[v] || v == k.index {
				continue
			}
			seen[v] = true
			if _, view := k.views[v]; view {
				continue
			}
			x, bound := val[v]
			switch {
			case bound && decide && taint[v] && hasIntLeaf(v.T):
				decisions = append(decisions, v)
			case bound && !c.act[v], bound && isView(x):
				// A view (a row, a slice) is read again from its array,
				// which bwd can read as cheaply: a view on the tape costs
				// a header per iteration, while read again it is a view
				// of an elementwise chain's operand, which costs nothing.
				again = append(again, v)
				need(ir.FreeVars(x))
			case bound && !decide && c.recomputesViews() && viewOp(x, val, own):
				// (Not in a split def's backward code, which a Jacobian
				// runs once per seed.)
				// Operations on views: recomputed from them
				// (vjp_again.go).
				again = append(again, v)
				ops[v] = true
				need(ir.FreeVars(x))
			case bound || slices.Contains(own, v):
				tape = append(tape, v)
			}
		}
	}
	need(ir.FreeVars(bwd))
	if len(again) == 0 {
		return bwd, tape, decisions
	}
	slices.SortFunc(again, func(a, b *ir.Var) int { return order[a] - order[b] })
	pre := &block{pos: k.fwd.pos}
	sub := map[*ir.Var]ir.Expr{}
	show := map[*ir.Var]ir.Expr{} // the values again, for the trace
	for _, v := range again {
		if ops[v] {
			c.a.note("remat.view_op", val[v].(*ir.PrimCall).P, ir.Subst(val[v], show))
		}
		show[v] = ir.Subst(val[v], show)
		sub[v] = pre.bindVar(v.Name, ir.Subst(val[v], sub))
	}
	return pre.close(ir.Subst(bwd, sub)), tape, decisions
}

// flatTape reports whether a tape holds only numbers and arrays of
// numbers. A saved array of such rows has a cotangent reverse mode can
// represent cheaply when it differentiates its own output (reverse over
// reverse); a row holding a nested comprehension's saved rows would make
// an array of arrays of tuples, whose cotangent is kept in column form
// (vjp_adjoint.go) at the cost of a map and an unzip per column read, so
// such comprehensions recompute instead.
func flatTape(tape []*ir.Var) bool {
	for _, v := range tape {
		if _, ok := ir.Leaf(v.T); !ok {
			return false
		}
	}
	return true
}

// backward binds, in bb, the cut's backward code for iteration i: sub
// gives the placeholders' values, and the tape's variables are read from
// row i of saved (fields 1, 2, ...; field 0 is the body's result).
func (k *cut) backward(bb *block, saved, i ir.Expr, sub map[*ir.Var]ir.Expr) ir.Expr {
	if len(k.tape) > 0 {
		row := bb.bind("tape", bb.builder().Prim(ir.PrimIndex, saved, i))
		for j, v := range k.tape {
			sub[v] = bb.bindVar(v.Name, &ir.Proj{X: row, Index: j + 1, P: bb.pos})
		}
	}
	return bb.bind("g", ir.Subst(k.bwd, sub))
}

// stateType is the type of the value state returns for a variable of
// type t: t, or for an array of tuples the tuple of its columns' states.
func stateType(t ir.Type) ir.Type {
	tt, ok := tupleArray(t)
	if !ok {
		return t
	}
	cols := make([]ir.Type, len(tt.Elems))
	for j := range tt.Elems {
		cols[j] = stateType(colType(t, j))
	}
	return ir.TupleOf(cols...)
}

// fwdMapSaving emits an active map or build whose forward pass saves,
// for every element, the values its reverse pass reads: the lambda's
// forward code runs once per element, in the forward sweep, returning
// the element and its tape, and backMapSaved reads the tapes. It returns
// nil when the lambda has nothing to differentiate.
func (r *rev) fwdMapSaving(blk *block, e *ir.PrimCall, args []ir.Expr) (ir.Expr, error) {
	b := blk.builder()
	var lam *ir.Lambda
	var arrays []ir.Expr
	if e.Op == ir.PrimBuild {
		l, ok := args[1].(*ir.Lambda)
		if !ok {
			return nil, nil
		}
		lam = l
	} else {
		l, err := lambdaOf(args[0])
		if err != nil {
			return nil, err
		}
		lam, arrays = l, args[1:]
	}
	free, activeArr := r.mapFree(lam, arrays)
	if len(free) == 0 {
		return nil, nil
	}
	i := ir.NewVar("i", ir.TI64, e.P)
	elems := make([]*ir.Var, len(lam.Params))
	k, err := r.cutBody(e.P, lam.Body, i, []*ir.Var{i}, func(c *rev, k *cut) {
		for j, p := range lam.Params {
			if e.Op == ir.PrimBuild {
				c.ren[p] = i
				continue
			}
			elems[j] = k.fwd.bindVar(p.Name, b.Prim(ir.PrimIndex, arrays[j], i))
			k.views[elems[j]] = k.fwd.binds[len(k.fwd.binds)-1].val
			c.ren[p] = elems[j]
			c.act[elems[j]] = r.isActive(arrays[j])
		}
	}, free, func(c *rev, bb *block, out []ir.Expr) []ir.Expr {
		for _, j := range activeArr {
			s := slices.Index(free, arrays[j].(*ir.Var))
			out[s] = addAtState(bb, arrays[j].Type(), out[s], i, c.get(bb, elems[j]))
		}
		return out
	})
	if k == nil || err != nil {
		return nil, err
	}
	var n ir.Expr
	if e.Op == ir.PrimBuild {
		n = args[0]
	} else {
		n = blk.bind("n", b.Prim(ir.PrimLen, arrays[0]))
	}
	var y *ir.Var
	var saved ir.Expr
	if r.a.flat && !flatTape(k.tape) {
		return nil, nil // the old way: backMap recomputes the lambda
	}
	if r.marks && !k.decides && plainCode(lam.Body) {
		return r.fwdMapMarked(blk, e, args, k, n, free), nil
	}
	if ir.CheapForward(k.fwd.close(k.y)) {
		return nil, nil // the checkpointing policy of nested code: recompute
	}
	switch {
	case len(k.tape) == 0 && k.decides:
		// Nothing to save, but the reverse pass calls a split forward
		// def again: the forward sweep calls it too, rather than the
		// plain def, whose inlined copy the rewrite stage may round
		// otherwise and which may then decide otherwise.
		y = r.record(blk, "y", k.forward(e, n, i, elems, arrays), e, args)
	case len(k.tape) == 0:
		y = r.record(blk, "y", &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}, e, args)
	default:
		elems := []ir.Expr{k.y}
		for _, v := range k.tape {
			elems = append(elems, v)
		}
		row := &ir.MakeTuple{Elems: elems, P: e.P}
		dim := e.T.(*ir.Array).Dim
		sv := blk.bindVar("saved", &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{n, &ir.Lambda{Params: []*ir.Var{i}, Body: k.fwd.close(row), P: e.P}}, T: ir.ArrayOf(dim, row.Type()), P: e.P})
		// The tapes depend on the differentiated input: marked active, an
		// enclosing comprehension saves them rather than recomputing them
		// (recomputeInactive). Nothing adds to their cotangent.
		r.act[sv] = true
		saved = sv
		j := ir.NewVar("i", ir.TI64, e.P)
		first := &ir.Proj{X: b.Prim(ir.PrimIndex, saved, j), Index: 0, P: e.P}
		y = r.record(blk, "y", &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{n, &ir.Lambda{Params: []*ir.Var{j}, Body: first, P: e.P}}, T: e.T, P: e.P}, e, args)
	}
	st := &r.steps[len(r.steps)-1]
	st.aux, st.n, st.cut, st.free = saved, n, k, free
	return y, nil
}

// forward is the map or build e computing its elements with the cut's
// forward code, n elements indexed by i, the elements of arrays bound to
// elems. A map stays a map (which the interpreter applies to whole
// arrays) when the forward code reads the index only through elems.
func (k *cut) forward(e *ir.PrimCall, n ir.Expr, i *ir.Var, elems []*ir.Var, arrays []ir.Expr) ir.Expr {
	build := &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{n, &ir.Lambda{Params: []*ir.Var{i}, Body: k.fwd.close(k.y), P: e.P}}, T: e.T, P: e.P}
	if e.Op != ir.PrimMap {
		return build
	}
	params := make([]*ir.Var, len(elems))
	sub := map[*ir.Var]ir.Expr{}
	for j, el := range elems {
		params[j] = ir.NewVar(el.Name, el.T, e.P)
		sub[el] = params[j]
	}
	rest := &block{pos: k.fwd.pos, binds: k.fwd.binds[len(elems):]}
	body := ir.Subst(rest.close(k.y), sub)
	if slices.Contains(ir.FreeVars(body), i) {
		return build
	}
	return &ir.PrimCall{Op: ir.PrimMap, Args: append([]ir.Expr{&ir.Lambda{Params: params, Body: body, P: e.P}}, arrays...), T: e.T, P: e.P}
}

// plainCode reports whether a comprehension's body has no call, lambda,
// loop or branch: reverse mode can then emit its reverse loop in both
// forms (fwdMapMarked) without generating a def (a split call, a lifted
// body) for the form the rewrite stage drops.
func plainCode(e ir.Expr) bool {
	plain := true
	ir.Walk(e, func(x ir.Expr, enter bool) {
		switch x.(type) {
		case *ir.Call, *ir.Lambda, *ir.Loop, *ir.If:
			plain = false
		}
	}, nil)
	return plain
}

// fwdMapMarked emits an active map or build that fwdMapSaving could save
// in both forms, for the rewrite stage to choose between (ir.PrimRemat;
// its pass remat recomputes cheap forward code and saves the rest):
//
//	saved = remat(id, build(n, fn(i) => ...; (y_i, tape...)))
//	y = remat(id, map(f, xs), build(n, fn(j) => saved[j].0))
//
// and, in the backward sweep (backMapMarked), the reverse loop that
// recomputes the body and the one that reads the tape. The tape is
// emitted even when empty: its code is what the policy looks at.
func (r *rev) fwdMapMarked(blk *block, e *ir.PrimCall, args []ir.Expr, k *cut, n ir.Expr, free []*ir.Var) *ir.Var {
	b := blk.builder()
	r.a.remats++
	id := r.a.remats
	elems := []ir.Expr{k.y}
	for _, v := range k.tape {
		elems = append(elems, v)
	}
	row := &ir.MakeTuple{Elems: elems, P: e.P}
	dim := e.T.(*ir.Array).Dim
	i := k.index
	sv := blk.bindVar("saved", rematPoint(id, e.P, &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{n, &ir.Lambda{Params: []*ir.Var{i}, Body: k.fwd.close(row), P: e.P}}, T: ir.ArrayOf(dim, row.Type()), P: e.P}))
	r.act[sv] = true // as in fwdMapSaving
	again := &ir.PrimCall{Op: e.Op, Args: args, Aux: quietAux(e), T: e.T, P: e.P}
	var keep ir.Expr
	var aux ir.Expr
	if len(k.tape) == 0 {
		keep = ir.Copy(&ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P})
	} else {
		j := ir.NewVar("i", ir.TI64, e.P)
		first := &ir.Proj{X: b.Prim(ir.PrimIndex, sv, j), Index: 0, P: e.P}
		keep = &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{n, &ir.Lambda{Params: []*ir.Var{j}, Body: first, P: e.P}}, T: e.T, P: e.P}
		aux = sv
	}
	y := r.record(blk, "y", rematPoint(id, e.P, again, keep), e, args)
	st := &r.steps[len(r.steps)-1]
	st.aux, st.n, st.cut, st.free, st.remat = aux, n, k, free, id
	return y
}

// rematPoint is a checkpointing marker of point id (ir.PrimRemat).
func rematPoint(id int64, pos ir.Pos, forms ...ir.Expr) *ir.PrimCall {
	return &ir.PrimCall{Op: ir.PrimRemat, Args: append([]ir.Expr{ir.I64Const(id, pos)}, forms...), T: forms[0].Type(), P: pos}
}

// backMapMarked is the reverse loop of a comprehension fwdMapMarked
// emitted: the loop that recomputes the body (backMap's) and the one
// that reads the tape (backMapSaved's), joined by a marker of the same
// point, both threading the same cotangent states.
func (r *rev) backMapMarked(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	init := make([]ir.Expr, len(st.free))
	for j, f := range st.free {
		init[j] = r.state(blk, f)
	}
	pre := &block{pos: blk.pos}
	again, err := r.mapLoop(pre, st, e, ybar, st.free, init)
	if err != nil {
		return err
	}
	keep := r.savedLoop(st, ybar, init, blk.pos)
	res := blk.bind("grev", rematPoint(st.remat, e.P, pre.close(again), keep))
	gs := projs(blk, res, 0, len(init))
	for j, f := range st.free {
		r.setState(blk, f, gs[j])
	}
	return nil
}

// backMapSaved is the reverse loop of a map or build emitted by
// fwdMapSaving: element by element it runs the lambda's backward code on
// the element's tape, threading the free variables' cotangent states.
func (r *rev) backMapSaved(blk *block, st step, ybar ir.Expr) error {
	init := make([]ir.Expr, len(st.free))
	for j, f := range st.free {
		init[j] = r.state(blk, f)
	}
	gs := projs(blk, blk.bind("grev", r.savedLoop(st, ybar, init, blk.pos)), 0, len(init))
	for j, f := range st.free {
		r.setState(blk, f, gs[j])
	}
	return nil
}

// savedLoop is backMapSaved's loop, from the cotangent states init.
func (r *rev) savedLoop(st step, ybar ir.Expr, init []ir.Expr, pos ir.Pos) *ir.Loop {
	b := &ir.Builder{Pos: pos}
	k := st.cut
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init}).Type(), pos)
	i := ir.NewVar("i", ir.TI64, pos)
	bb := &block{pos: pos}
	comps := projs(bb, R, 0, len(init))
	sub := map[*ir.Var]ir.Expr{k.seed: bb.bind("yb", b.Prim(ir.PrimIndex, ybar, i)), k.index: i}
	for j, s := range k.states {
		sub[s] = comps[j]
	}
	for v, x := range k.views {
		sub[v] = bb.bindVar(v.Name, ir.Subst(x, map[*ir.Var]ir.Expr{k.index: i}))
	}
	res := k.backward(bb, st.aux, i, sub)
	out := projs(bb, res, 0, len(init))
	return &ir.Loop{State: R, Init: tupleOf(pos, init), Index: i, Count: st.n, Body: bb.close(tupleOf(pos, out)), P: pos}
}

// fwdLoopSaving emits an active counted loop whose iterations save the
// values their reverse pass reads: the body's forward code returns the
// next state and the iteration's tape, and backLoopSaved reads the tapes
// in reverse order. The states form loop_save(n - 1, step(0, init), fn(j,
// st) => step(j + 1, st.0)), so that iteration k's row holds the state
// after it and its tape; n <= 0 gives an empty array (its build never
// runs step). It returns nil when the loop keeps the old way: a while
// loop, or code that must keep flat tapes.
func (r *rev) fwdLoopSaving(blk *block, e *ir.Loop, init ir.Expr) (ir.Expr, error) {
	if e.Count == nil || r.a.flat {
		return nil, nil
	}
	b := blk.builder()
	free := r.freeActive(e.Body)
	s := ir.NewVar(e.State.Name, e.State.T, e.P)
	i := ir.NewVar(e.Index.Name, ir.TI64, e.P)
	own := plainCot(e.State.T)
	k, err := r.cutBody(e.P, e.Body, i, []*ir.Var{i, s}, func(c *rev, k *cut) {
		c.ren[e.State] = s
		c.act[s] = true
		c.ren[e.Index] = i
		k.ownSeed = own
	}, free, func(c *rev, bb *block, out []ir.Expr) []ir.Expr {
		if own {
			// The next iteration's seed: owned, as the first one.
			return append([]ir.Expr{c.state(bb, s)}, out...)
		}
		return append([]ir.Expr{c.get(bb, s)}, out...)
	})
	if k == nil || err != nil {
		return nil, err
	}
	count := blk.bind("n", r.primal(e.Count))
	n := blk.bind("n", b.Prim(ir.PrimMax, count, b.I64(0)))
	elems := []ir.Expr{k.y}
	for _, v := range k.tape {
		elems = append(elems, v)
	}
	row := &ir.MakeTuple{Elems: elems, P: e.P}
	step := &ir.Lambda{Params: []*ir.Var{i, s}, Body: k.fwd.close(row), P: e.P}
	call := func(j, st ir.Expr) ir.Expr {
		cp := ir.Copy(step).(*ir.Lambda) // fresh binders for each copy
		return beta(cp.Params, cp.Body, []ir.Expr{j, st}, e.P)
	}
	j := ir.NewVar("j", ir.TI64, e.P)
	st := ir.NewVar("st", row.Type(), e.P)
	more := &ir.Lambda{Params: []*ir.Var{j, st}, Body: call(b.Prim(ir.PrimAdd, j, b.I64(1)), &ir.Proj{X: st, Index: 0, P: e.P}), P: e.P}
	loop := b.Prim(ir.PrimLoopSave, b.Prim(ir.PrimSub, n, b.I64(1)), call(b.I64(0), init), more)
	z := ir.NewVar("j", ir.TI64, e.P)
	none := &ir.PrimCall{Op: ir.PrimBuild, Args: []ir.Expr{b.I64(0), &ir.Lambda{Params: []*ir.Var{z}, Body: call(b.I64(0), init), P: e.P}}, T: loop.Type(), P: e.P}
	some := blk.bind("some", b.Prim(ir.PrimGt, n, b.I64(0)))
	sv := blk.bindVar("saved", &ir.If{Cond: some, Then: loop, Else: none, P: e.P})
	r.act[sv] = true // as in fwdMapSaving
	last := &ir.Proj{X: b.Prim(ir.PrimIndex, sv, b.Prim(ir.PrimSub, n, b.I64(1))), Index: 0, P: e.P}
	y := r.record(blk, "y", &ir.If{Cond: some, Then: last, Else: init, P: e.P}, e, []ir.Expr{init})
	rec := &r.steps[len(r.steps)-1]
	rec.aux, rec.n, rec.cut, rec.free = sv, n, k, free
	return y, nil
}

// backLoopSaved is the reverse loop of a loop emitted by fwdLoopSaving:
// from the last iteration to the first it runs the body's backward code
// on the iteration's tape, carrying the state's cotangent and threading
// the free variables' cotangent states.
func (r *rev) backLoopSaved(blk *block, st step, ybar ir.Expr) error {
	b := blk.builder()
	k := st.cut
	init := []ir.Expr{ybar}
	if k.ownSeed {
		init[0] = r.state(blk, st.y)
	}
	for _, f := range st.free {
		init = append(init, r.state(blk, f))
	}
	pos := blk.pos
	R := ir.NewVar("rev", (&ir.MakeTuple{Elems: init}).Type(), pos)
	t := ir.NewVar("t", ir.TI64, pos)
	bb := &block{pos: pos}
	i := bb.bind("i", b.Prim(ir.PrimSub, b.Prim(ir.PrimSub, st.n, t), b.I64(1)))
	comps := projs(bb, R, 0, len(init))
	sub := map[*ir.Var]ir.Expr{k.seed: comps[0], k.index: i}
	for j, s := range k.states {
		sub[s] = comps[1+j]
	}
	res := k.backward(bb, st.aux, i, sub)
	loop := &ir.Loop{State: R, Init: tupleOf(pos, init), Index: t, Count: st.n, Body: bb.close(res), P: pos}
	gs := projs(blk, blk.bind("grev", loop), 0, len(init))
	for j, f := range st.free {
		r.setState(blk, f, gs[1+j])
	}
	// After the threaded states: the initial state may be one of them.
	r.addTo(blk, st.args[0], gs[0])
	return nil
}

// isView reports whether x is a row a[i] of an array of rank at least 2
// or a slice of a vector, which share their array's storage: values that
// are as cheap to read again as to save.
func isView(x ir.Expr) bool {
	pc, ok := x.(*ir.PrimCall)
	if !ok || len(pc.Args) == 0 {
		return false
	}
	switch pc.Op {
	case ir.PrimIndex:
		return len(pc.Args) == 2 && ir.Rank(pc.T) >= 1
	case ir.PrimSlice:
		return len(pc.Args) == 3 && ir.Rank(pc.T) == 1
	}
	return false
}
