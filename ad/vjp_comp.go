// Reverse mode of comprehensions: map, build, reduce, fold and scan.

package ad

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// backMap reverses map and build element by element: for each element the
// body is recomputed and reversed; element cotangents go into the arrays'
// accumulators at that index, and free variables' cotangents are threaded.
func (r *rev) backMap(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	lam, arrays, err := mapLambda(st, e)
	if err != nil {
		return err
	}
	// The lambda in st.args is already in the generated code's names; its
	// free variables are atoms of the generated code. The reverse loop
	// threads one cotangent state per variable: the lambda's free active
	// variables and the active arrays mapped over, each once (an array
	// may be mapped twice, or mapped and read by the lambda).
	free, _ := r.mapFree(lam, arrays)
	if len(free) == 0 {
		return nil
	}
	var init []ir.Expr
	for _, f := range free {
		init = append(init, r.state(blk, f))
	}
	loop, err := r.mapLoop(blk, st, e, ybar, free, init)
	if err != nil {
		return err
	}
	res := blk.bind("grev", loop)
	gs := projs(blk, res, 0, len(init))
	for j, f := range free {
		r.setState(blk, f, gs[j])
	}
	return nil
}

// mapLambda is the lambda of the map or build e, and the arrays a map
// maps over.
func mapLambda(st step, e *ir.PrimCall) (*ir.Lambda, []ir.Expr, error) {
	if e.Op == ir.PrimBuild {
		return st.args[1].(*ir.Lambda), nil, nil
	}
	l, err := lambdaOf(st.args[0])
	return l, st.args[1:], err
}

// mapLoop is backMap's loop, which recomputes the lambda's body element
// by element, from the cotangent states init of free; the element count
// is bound in blk.
func (r *rev) mapLoop(blk *block, st step, e *ir.PrimCall, ybar ir.Expr, free []*ir.Var, init []ir.Expr) (*ir.Loop, error) {
	b := blk.builder()
	lam, arrays, err := mapLambda(st, e)
	if err != nil {
		return nil, err
	}
	_, activeArr := r.mapFree(lam, arrays)
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
		return nil, err
	}
	for _, k := range activeArr {
		j := slices.Index(free, arrays[k].(*ir.Var))
		out[j] = addAtState(bb, arrays[k].Type(), out[j], i, c.get(bb, elems[k]))
	}
	return &ir.Loop{State: R, Init: tupleOf(e.P, init), Index: i, Count: n, Body: bb.close(tupleOf(e.P, out)), P: e.P}, nil
}

// mapFree lists the variables whose cotangents the reverse loop of a map
// threads: lam's free active atoms and the active arrays mapped over
// (whose indices in arrays it returns as well).
func (r *rev) mapFree(lam *ir.Lambda, arrays []ir.Expr) (free []*ir.Var, activeArr []int) {
	free = r.freeAtoms(lam)
	for k, x := range arrays {
		if r.isActive(x) {
			activeArr = append(activeArr, k)
			free = addVar(free, x.(*ir.Var))
		}
	}
	return free, activeArr
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
	free := r.freeAtoms(lam)
	if r.foldByRule(e, st.args) {
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
	// General: states[i] is the accumulator before element i, saved by
	// the forward pass (fwdFoldSaving).
	return r.backSequential(blk, lam, st.lift, ne, xs, st.n, ybar, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("prev", b.Prim(ir.PrimIndex, st.aux, i))
	}, nil, free)
}

// foldByRule reports whether reduce or fold e (on argument atoms args)
// has a reverse rule of its own in backFold: a sum, maximum or minimum
// of scalars, which needs no saved accumulators.
func (r *rev) foldByRule(e *ir.PrimCall, args []ir.Expr) bool {
	if e.Op != ir.PrimReduce {
		return false
	}
	lam, err := lambdaOf(args[0])
	if err != nil {
		return false
	}
	xs := args[2]
	scalarElems := ir.Rank(xs.Type()) == 1 && ir.Identical(xs.Type().(*ir.Array).Elem, ir.TF64)
	return scalarElems && len(r.freeAtoms(lam)) == 0 && (opIs(lam, ir.PrimAdd) || opIs(lam, ir.PrimMax) || opIs(lam, ir.PrimMin))
}

// fwdFoldSaving emits an active fold (or a reduce backFold has no rule
// for) as the loop_save of its accumulators, states[i] before element i,
// whose last is the result: the reverse pass reads the same states
// rather than running the fold a second time to save them.
func (r *rev) fwdFoldSaving(blk *block, e *ir.PrimCall, args []ir.Expr) (ir.Expr, error) {
	b := blk.builder()
	lam, err := lambdaOf(args[0])
	if err != nil {
		return nil, err
	}
	ne, xs := args[1], args[2]
	accT := ne.Type()
	n := blk.bind("n", b.Prim(ir.PrimLen, xs))
	a := ir.NewVar("a", accT, e.P)
	j := ir.NewVar("j", ir.TI64, e.P)
	l, err := r.liftOperator(lam, xs, e.P)
	if err != nil {
		return nil, err
	}
	var body ir.Expr
	if l != nil {
		body = l[0].value(r, []ir.Expr{a, b.Prim(ir.PrimIndex, xs, j)}, e.P)
	} else {
		step := ir.Copy(lam).(*ir.Lambda)
		body = beta(step.Params, step.Body, []ir.Expr{a, b.Prim(ir.PrimIndex, xs, j)}, e.P)
	}
	states := blk.bind("states", b.Prim(ir.PrimLoopSave, n, ne, &ir.Lambda{Params: []*ir.Var{j, a}, Body: body, P: e.P}))
	y := r.record(blk, "y", b.Prim(ir.PrimIndex, states, n), e, args)
	rec := &r.steps[len(r.steps)-1]
	rec.aux, rec.n, rec.lift = states, n, l
	return y, nil
}

// liftOperator lifts the operator lam of a fold or a scan over xs
// (lift), returning it as a step's lift, or nil.
func (r *rev) liftOperator(lam *ir.Lambda, xs ir.Expr, pos ir.Pos) ([]*lifted, error) {
	l, err := r.lift("op", lam.Params, []bool{true, r.isActive(xs)}, lam.Body, pos)
	if l == nil || err != nil {
		return nil, err
	}
	return []*lifted{l}, nil
}

// backSequential is the reverse loop shared by fold-like and scan: from i
// = n-1 down to 0 it reverses acc' = op(prev(i), xs[i]) with the carried
// cotangent (plus extra(i), scan's per-output cotangent), adding element
// cotangents into xs's accumulator and finally the carry into ne's.
func (r *rev) backSequential(blk *block, lam *ir.Lambda, lift []*lifted, ne, xs, n, seed ir.Expr, prev func(bb *block, i ir.Expr) ir.Expr, extra func(bb *block, i ir.Expr) ir.Expr, free []*ir.Var) error {
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
	var l *lifted
	if lift != nil {
		l = lift[0]
	}
	c, out, err := r.reverseBody(bb, lam.Body, l, lam.Params, func(c *rev) {
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
	return r.backSequential(blk, lam, st.lift, ne, xs, n, zeroSeed, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("prev", b.If(b.Prim(ir.PrimEq, i, b.I64(0)), ne, b.Prim(ir.PrimIndex, st.y, b.Prim(ir.PrimSub, i, b.I64(1)))))
	}, func(bb *block, i ir.Expr) ir.Expr {
		return bb.bind("yb", b.Prim(ir.PrimIndex, ybar, i))
	}, r.freeAtoms(lam))
}
