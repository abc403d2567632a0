package codegen

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// Inlining across calls. A vectorized program splits its per-element
// work into small defs (bench/gradbench/ba.nab: objective calls
// residuals, which calls rotate), and a fused run of elementwise lets
// (group.go) ends at every call: the call's arguments and result are
// whole vectors written to memory and read back. Before a def's body is
// lowered, the calls on its chain of lets (not inside loops, branches or
// lambdas) to small straight-line defs are replaced by fresh copies of
// the callees' bodies, so that a run goes on through them.
//
// The copy keeps the call's behaviour: arguments that are not variables
// are bound by lets in the call's order, the callee's entry checks of
// its sizes come next (ir.Def.BodyWithSizeChecks, the interpreter's
// messages), and every let of the copy is compiled with the call's frame
// ("in rotate (pos), called at pos") on its errors, as the call would
// add it (fn.inl).

const (
	// inlineMaxNodes bounds the size of a def's body that is inlined.
	inlineMaxNodes = 600
	// inlineMaxDepth bounds the nesting of inlined calls.
	inlineMaxDepth = 4
)

// inlineCalls returns body with the calls on its chain of lets to small
// defs inlined; f.inl records the frames of every let of the result.
func (f *fn) inlineCalls(body ir.Expr) ir.Expr {
	f.inl = map[*ir.Let][]string{}
	f.tuples = map[*ir.Var][]*ir.Var{}
	return f.inlineChain(body, nil, 0, func(e ir.Expr, fr []string) ir.Expr {
		if len(fr) == 0 {
			return e
		}
		// The last value of an inlined body: a let gives it its frames
		// (a let per element of a tuple, so that a run goes on through
		// them).
		v := ir.NewVar("r", e.Type(), e.Pos())
		l := &ir.Let{Var: v, Value: e, Body: v, P: e.Pos()}
		if mt, ok := e.(*ir.MakeTuple); ok {
			return f.splitTuple(l, mt, fr, func() ir.Expr { return v })
		}
		f.inl[l] = fr
		return l
	})
}

// inlineChain copies the chain of lets e, whose values are compiled with
// frames, inlining the calls it may, and ends it with k(final value,
// its frames).
func (f *fn) inlineChain(e ir.Expr, frames []string, depth int, k func(ir.Expr, []string) ir.Expr) ir.Expr {
	l, ok := e.(*ir.Let)
	if !ok {
		if c, di := f.inlinable(e, depth); di != nil {
			return f.inlineCall(c, di, frames, depth, k)
		}
		return k(e, frames)
	}
	bind := func(value ir.Expr, fr []string) ir.Expr {
		if mt, ok := value.(*ir.MakeTuple); ok && len(fr) > len(frames) {
			// An inlined def's tuple result: each element its own let,
			// so that a run goes on through them and a projection of the
			// tuple is the element's variable.
			return f.splitTuple(l, mt, fr, func() ir.Expr { return f.inlineChain(l.Body, frames, depth, k) })
		}
		nl := &ir.Let{Var: l.Var, Value: value, Body: f.inlineChain(l.Body, frames, depth, k), P: l.P}
		f.inl[nl] = fr
		return nl
	}
	if c, di := f.inlinable(l.Value, depth); di != nil {
		return f.inlineCall(c, di, frames, depth, bind)
	}
	if split := splitRows(l); split != nil {
		return f.inlineChain(split, frames, depth, k)
	}
	return bind(l.Value, frames)
}

// splitRows rewrites let v = a op b, an elementwise operation on arrays
// [k][...]f64 of a few rows (k constant) of one type, as v = [a[0] op
// b[0], ..., a[k-1] op b[k-1]], the operands that are not variables or
// constants bound first, in order, so that the rows can be members of a
// run (x + cross(r, x) in ba.nab's rotate). Each element is the same
// operation on the same numbers. The operands' types being the same
// (dimension for dimension), their shapes agree, so the operation's
// shape check has nothing to report; nil if e is not such a let.
func splitRows(l *ir.Let) ir.Expr {
	pc, ok := l.Value.(*ir.PrimCall)
	if !ok || !pc.Op.Elementwise || pc.Op.InPlace() || pc.Op.AD != ir.NotAD || ir.Rank(pc.T) < 2 {
		return nil
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
		return nil
	}
	switch pc.Op.Fails {
	case ir.NeverFails, ir.FailsOnShapes:
	default:
		return nil
	}
	at := pc.T.(*ir.Array)
	if !at.Dim.Known() || at.Dim.N < 1 || at.Dim.N > 16 {
		return nil
	}
	for _, d := range ir.Dims(pc.T) {
		if !d.Known() && d.Sym == "" {
			return nil
		}
	}
	for _, a := range pc.Args {
		if ir.Rank(a.Type()) != 0 && !ir.Identical(a.Type(), pc.T) {
			return nil
		}
	}
	var lets []*ir.Let
	args := make([]ir.Expr, len(pc.Args))
	for i, a := range pc.Args {
		if ir.IsAtom(a) {
			args[i] = a
			continue
		}
		v := ir.NewVar(l.Var.Name, a.Type(), a.Pos())
		lets = append(lets, &ir.Let{Var: v, Value: a, P: l.P})
		args[i] = v
	}
	rows := make([]ir.Expr, at.Dim.N)
	for j := range rows {
		ra := make([]ir.Expr, len(args))
		for i, a := range args {
			ra[i] = a
			if ir.Rank(a.Type()) != 0 {
				ra[i] = &ir.PrimCall{Op: ir.PrimIndex, Args: []ir.Expr{a, ir.I64Const(int64(j), pc.P)}, T: at.Elem, P: pc.P}
			}
		}
		rows[j] = &ir.PrimCall{Op: pc.Op, Args: ra, Aux: pc.Aux, T: at.Elem, P: pc.P}
	}
	var e ir.Expr = &ir.Let{Var: l.Var, Value: &ir.PrimCall{Op: ir.PrimArray, Args: rows, T: pc.T, P: pc.P}, Body: l.Body, P: l.P}
	for i := len(lets) - 1; i >= 0; i-- {
		lets[i].Body = e
		e = lets[i]
	}
	return e
}

// splitTuple binds the elements of tuple mt, the value of let l, to
// fresh variables, and then l's variable to the tuple of them.
func (f *fn) splitTuple(l *ir.Let, mt *ir.MakeTuple, fr []string, body func() ir.Expr) ir.Expr {
	vars := make([]*ir.Var, len(mt.Elems))
	elems := make([]ir.Expr, len(mt.Elems))
	for i, x := range mt.Elems {
		vars[i] = ir.NewVar(l.Var.Name, x.Type(), x.Pos())
		elems[i] = vars[i]
	}
	f.tuples[l.Var] = vars
	out := &ir.Let{Var: l.Var, Value: &ir.MakeTuple{Elems: elems, P: mt.P}, Body: body(), P: l.P}
	f.inl[out] = fr
	var e ir.Expr = out
	for i := len(vars) - 1; i >= 0; i-- {
		nl := &ir.Let{Var: vars[i], Value: mt.Elems[i], Body: e, P: l.P}
		f.inl[nl] = fr
		e = nl
	}
	return e
}

// inlineCall replaces call c of di by a copy of di's body, continued by
// k with the body's last value.
func (f *fn) inlineCall(c *ir.Call, di *defInfo, frames []string, depth int, k func(ir.Expr, []string) ir.Expr) ir.Expr {
	d := di.def
	lam := ir.Copy(&ir.Lambda{Params: d.Params, Body: d.BodyWithSizeChecks(), P: d.P}).(*ir.Lambda)
	inner := append(slices.Clone(frames), frameArgs(di, c.P))
	sub := map[*ir.Var]ir.Expr{}
	var binds []*ir.Let
	for i, p := range lam.Params {
		switch a := c.Args[i].(type) {
		case *ir.Var:
			sub[p] = a
			continue
		case *ir.Proj:
			if v, ok := a.X.(*ir.Var); ok && f.tuples[v] != nil {
				sub[p] = f.tuples[v][a.Index]
				continue
			}
		}
		binds = append(binds, &ir.Let{Var: p, Value: c.Args[i], P: c.P})
	}
	body := lam.Body
	if len(sub) > 0 {
		body = ir.ReplaceVars(body, func(v *ir.Var) (ir.Expr, bool) {
			x, ok := sub[v]
			return x, ok
		})
	}
	out := f.inlineChain(body, inner, depth+1, k)
	for i := len(binds) - 1; i >= 0; i-- {
		nl := &ir.Let{Var: binds[i].Var, Value: binds[i].Value, Body: out, P: c.P}
		var e ir.Expr = nl
		if split := splitRows(nl); split != nil {
			e = split
		}
		// The lets up to out are the argument's: the caller's frames.
		for l, ok := e.(*ir.Let); ok && ir.Expr(l) != out; l, ok = l.Body.(*ir.Let) {
			f.inl[l] = frames
		}
		out = e
	}
	return out
}

// inlinable reports whether e is a call that inlineCalls inlines: of a
// def other than f's, with parameters of no function type and sizes
// bound by them, whose body is small, straight-line (no loop, branch or
// lambda but the function of a build of a few rows) and computes arrays
// of f64 with no array of tuples.
func (f *fn) inlinable(e ir.Expr, depth int) (*ir.Call, *defInfo) {
	c, ok := e.(*ir.Call)
	if !ok || depth >= inlineMaxDepth || f.g.opts.Steps {
		return nil, nil
	}
	g, ok := c.Fn.(*ir.Global)
	if !ok {
		return nil, nil
	}
	di := f.g.defs[g.Name]
	if di == nil || di.value || di.skip != nil || di == f.di || f.g.cols[g.Name] != nil || di.lambda != nil || !di.def.HasParams || len(di.def.Params) != len(c.Args) {
		return nil, nil
	}
	for _, p := range di.def.Params {
		if _, isFn := p.T.(*ir.Func); isFn {
			return nil, nil
		}
	}
	for _, sv := range di.def.SizeVars {
		if sv.Param < 0 {
			return nil, nil
		}
	}
	for _, l := range mustLeaves(di.def.Result) {
		if l.kind != ir.F64 || l.rank == 0 {
			return nil, nil
		}
	}
	if !straightLine(di.def.Body) {
		return nil, nil
	}
	return c, di
}

// straightLine reports whether e is small and has no loop, branch, array
// of tuples or lambda but the function of a build of a few rows.
func straightLine(e ir.Expr) bool {
	nodes, ok := 0, true
	lambdas := map[*ir.Lambda]bool{}
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		nodes++
		switch x := x.(type) {
		case *ir.Loop, *ir.If:
			ok = false
		case *ir.Lambda:
			ok = ok && lambdas[x]
		case *ir.PrimCall:
			if x.Op == ir.PrimBuild && unrollCount(x) > 0 {
				if lam, isLam := x.Args[1].(*ir.Lambda); isLam {
					lambdas[lam] = true
				}
			}
			if x.Op == ir.PrimLoopSave || x.Op == ir.PrimBuild && len(mustLeaves(x.T)) > 1 {
				ok = false
			}
		}
	}, nil)
	return ok && nodes <= inlineMaxNodes
}

// letFrames sets the frames for compiling let e's value, when e is a let
// of inlined code, and returns what restores them.
func (f *fn) letFrames(e *ir.Let) func() {
	fr, ok := f.inl[e]
	if !ok {
		return func() {}
	}
	save, saveFacts := f.frames, f.facts
	f.frames = fr
	if pc, ok := e.Value.(*ir.PrimCall); ok && pc.Op == ir.PrimCheckDim {
		// An inlined def's entry check, on the body's chain of lets: what
		// it proves holds from here on.
		f.facts = true
	}
	return func() { f.frames, f.facts = save, saveFacts }
}
