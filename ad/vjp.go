package ad

import (
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
	fresh map[*ir.Var]bool       // cotangent arrays just allocated and used once (see bindFresh)
	fills map[*ir.Var]ir.Expr    // cotangent arrays that are a number everywhere: that number (see bindFresh)
	rows  map[*ir.Var][2]ir.Expr // rows a[i] of active arrays: (a, i) (see addToRow)
	tails map[ir.Expr]*letChain  // the tails of the let chains being swept (see activeExpr)
	// decides: the forward code emitted calls a split forward def that
	// takes decisions (splitDef), which the code's reverse pass must not
	// take again in code of its own.
	decides bool
	// marks: the code is a VJP def's own body, whose two sweeps stay in
	// one def, so its top-level comprehensions leave checkpointing to the
	// rewrite stage (fwdMapMarked). Nested bodies (child) decide here.
	marks bool
}

// step is one active binding of the forward sweep: y = e, where e's
// operands have been replaced by the atoms in args.
type step struct {
	y    *ir.Var
	orig ir.Expr   // the original expression (for structure and bodies)
	args []ir.Expr // argument atoms in generated code
	aux  ir.Expr   // extra saved value (loop states, scan prefixes)
	n    ir.Expr   // iteration count of a loop
	cut  *cut      // a saving comprehension's backward code (see fwdMapSaving)
	free []*ir.Var // the cotangents cut threads
	// vjpName is the VJP def a call's cotangents come from.
	vjpName string
	split   *splitVJP // a call's split VJP, whose tape is aux (fwdCallSplit)
	// lift holds the lifted bodies (vjp_lift.go) of an if's two branches,
	// or of a loop's body, a fold's or a scan's operator; nil where the
	// body is plain code.
	lift []*lifted
	// remat is the checkpointing point of a comprehension emitted in both
	// forms (fwdMapMarked); 0 where there is none.
	remat int64
}

func newRev(a *expander) *rev {
	return &rev{a: a, ren: map[*ir.Var]ir.Expr{}, act: map[*ir.Var]bool{}, adj: map[*ir.Var]*adjoint{}, fresh: map[*ir.Var]bool{}, fills: map[*ir.Var]ir.Expr{}, rows: map[*ir.Var][2]ir.Expr{}, tails: map[ir.Expr]*letChain{}}
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

// vjpLambda transforms fn(params) => body into fn(params, ybar) => (y, xbar).
func (a *expander) vjpLambda(params []*ir.Var, body ir.Expr, pos ir.Pos) (*ir.Lambda, error) {
	return a.vjpLambdaFor(params, body, pos, nil, false)
}

// vjpLambdaFor is vjpLambda with respect to the parameters marked in
// active (nil: all); the others get zero cotangents. marks: the lambda
// is a VJP def's body (rev.marks).
func (a *expander) vjpLambdaFor(params []*ir.Var, body ir.Expr, pos ir.Pos, active []bool, marks bool) (*ir.Lambda, error) {
	r := newRev(a)
	r.marks = marks
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
	for i, p := range ps {
		if active == nil || active[i] {
			bars = append(bars, r.get(blk, p))
		}
	}
	if active != nil {
		// A version for some active arguments (vjpDefFor): the tuple of
		// their cotangents, whatever their number.
		xbar := blk.bind("xbar", &ir.MakeTuple{Elems: bars, P: pos})
		return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: pos}), P: pos}, nil
	}
	xbar := bars[0]
	if len(bars) > 1 {
		xbar = blk.bind("xbar", &ir.MakeTuple{Elems: bars, P: pos})
	}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: pos}), P: pos}, nil
}

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
		branches := []ir.Expr{e.Then, e.Else}
		lifts := make([]*lifted, 2)
		for i, br := range branches {
			l, err := r.lift("if", nil, nil, br, br.Pos())
			if err != nil {
				return nil, err
			}
			if branches[i] = r.primal(br); l != nil {
				lifts[i], branches[i] = l, l.value(r, nil, br.Pos())
			}
		}
		y := r.record(blk, "y", &ir.If{Cond: c, Then: branches[0], Else: branches[1], P: e.P}, e, []ir.Expr{c})
		r.steps[len(r.steps)-1].lift = lifts
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
		if y, err := r.fwdCallSplit(blk, e, args); y != nil || err != nil {
			return y, err
		}
		return r.record(blk, "y", &ir.Call{Fn: e.Fn, Args: args, T: e.T, P: e.P}, e, args), nil
	case *ir.PrimCall:
		return r.fwdPrim(blk, e)
	}
	return nil, ir.Errorf(e.Pos(), "reverse mode: cannot differentiate %T here", e)
}

func (r *rev) fwdPrim(blk *block, e *ir.PrimCall) (ir.Expr, error) {
	if low, ok, err := lowerForAD(e); ok {
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
	case ir.PrimMap, ir.PrimBuild, ir.PrimReduce, ir.PrimScan, ir.PrimFold, ir.PrimLinsolve, ir.PrimODE, ir.PrimLoopSave, ir.PrimWhileSave:
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
		if e.Op == ir.PrimMap || e.Op == ir.PrimBuild {
			if y, err := r.fwdMapSaving(blk, e, args); y != nil || err != nil {
				return y, err
			}
		}
		if (e.Op == ir.PrimFold || e.Op == ir.PrimReduce) && !r.foldByRule(e, args) {
			return r.fwdFoldSaving(blk, e, args)
		}
		var lift []*lifted
		if e.Op == ir.PrimScan {
			lam, err := lambdaOf(args[0])
			if err != nil {
				return nil, err
			}
			if lift, err = r.liftOperator(lam, args[2], e.P); err != nil {
				return nil, err
			}
			if lift != nil {
				// The forward scan and backScan's lambda both call the
				// lifted forward def.
				args[0] = lift[0].lambda(r, lam.Params, e.P)
			}
		}
		y := r.record(blk, "y", &ir.PrimCall{Op: e.Op, Args: args, Aux: quietAux(e), T: e.T, P: e.P}, e, args)
		r.steps[len(r.steps)-1].lift = lift
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
	y := r.record(blk, "y", pc, e, args)
	if e.Op == ir.PrimIndex && ir.Rank(pc.T) > 0 && r.isActive(args[0]) {
		r.rows[y] = [2]ir.Expr{args[0], args[1]}
	}
	return y, nil
}

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
		cur := r.adj[st.y]
		for i, x := range st.args {
			if r.isActive(x) {
				g := blk.bind("g", &ir.Proj{X: ybar, Index: i, P: blk.pos})
				r.passOwned(g, ownedField(cur, i))
				r.addTo(blk, x, g)
			}
		}
	case *ir.Proj:
		r.passOwned(ybar, owned(r.adj[st.y]))
		r.addComp(blk, st.args[0], e.Index, ybar)
	case *ir.Call:
		return r.backCall(blk, st, e, ybar)
	case *ir.If:
		return r.backIf(blk, st, e, ybar)
	case *ir.Loop:
		if st.cut != nil {
			return r.backLoopSaved(blk, st, ybar)
		}
		return r.backLoop(blk, st, e, ybar)
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimUpdate:
			if r.backUpdate(blk, st) {
				return nil
			}
		case ir.PrimMap, ir.PrimBuild:
			if st.remat != 0 {
				return r.backMapMarked(blk, st, e, ybar)
			}
			if st.cut != nil {
				return r.backMapSaved(blk, st, ybar)
			}
			return r.backMap(blk, st, e, ybar)
		case ir.PrimReduce, ir.PrimFold:
			return r.backFold(blk, st, e, ybar)
		case ir.PrimScan:
			return r.backScan(blk, st, e, ybar)
		case ir.PrimLoopSave, ir.PrimWhileSave:
			return r.backSave(blk, st, e, ybar)
		case ir.PrimLinsolve:
			return r.backLinsolve(blk, st, e, ybar)
		case ir.PrimODE:
			return r.backODE(blk, st, e, ybar)
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
					dp, yb := blk.bind("dp", partials[i]), ybar
					if s, ok := r.fillOf(ybar); ok && ir.Rank(dp.Type()) == ir.Rank(st.y.T) {
						// ybar is s everywhere and dp has y's shape: dp * s
						// without reading (or keeping) the filled array.
						yb = s
					}
					c = r.bindFresh(blk, b.Prim(ir.PrimMul, dp, yb))
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
			if i < len(cs) && cs[i] != nil && r.isActive(x) && !r.addToRow(blk, x, cs[i]) {
				r.addTo(blk, x, r.bindFresh(blk, cs[i]))
			}
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
	branch := func(body ir.Expr, l *lifted) (ir.Expr, error) {
		bb := &block{pos: e.P}
		_, out, err := r.reverseBody(bb, body, l, nil, func(*rev) {}, ybar, free, states)
		if err != nil {
			return nil, err
		}
		return bb.close(tupleOf(e.P, out)), nil
	}
	lift := st.lift
	if lift == nil {
		lift = make([]*lifted, 2)
	}
	th, err := branch(e.Then, lift[0])
	if err != nil {
		return err
	}
	el, err := branch(e.Else, lift[1])
	if err != nil {
		return err
	}
	res := blk.bind("gif", &ir.If{Cond: st.args[0], Then: th, Else: el, P: e.P})
	for i, g := range projs(blk, res, 0, len(free)) {
		r.setState(blk, free[i], g)
	}
	return nil
}
