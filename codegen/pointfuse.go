// One loop for a tape build and the reverse loop that reads it, with a
// product of the forward pass kept for the reverse pass's sweep.
//
// Reverse mode writes GMM's gradient as a build over points, saved[i] =
// (the point's forward values), some code that does not read it, and a
// reverse loop over the same points that reads saved[i] at its own index
// only. The reverse body recomputes Q (x − μ) for each component (the
// sweep of trisweep.go does, four rows at a time), although the forward
// pass had it: keeping it for every point would be a tape of n × K × d
// values (gd27 measured that it costs what it saves). Run as one loop —
// point i's forward values computed at the top of iteration i, where the
// reverse body reads saved[i] — the forward products of one point are a
// K × d buffer, in cache, that the sweep reads instead of recomputing
// them.
//
// Legality (matchPointFuse): the build's only readers are that let of
// the loop body (saved[i] at the loop's own index, once, on the body's
// straight path) and lets between build and loop of the form
// c = build(n, fn(i) => saved[i].k) with a scalar element; the code
// between reads such a column only for its shape (zeros_like, len, dim),
// since in the fused loop it is filled as the loop goes. Nothing in the
// build, the code between or the loop may update in place an array made
// before them (see below for why), and none of their lets is inlined code.
//
// Errors: the general code runs the whole build before the code between,
// so its errors come first; the fused code runs the code between first,
// then each point's build and reverse work in turn. So the fused code is
// speculative: it runs inside a labelled switch whose errors break out of
// it, and if it breaks, the general code runs from the start of the build
// and reports what it reports (the same computations fail in both, so
// it fails too, with the error of the general order). This is why no
// array from before may be updated in place: the general code must find
// its inputs as they were. Values: the same operations on the same
// operands, so the same bits.
//
// The kept product (the reason to fuse at all; gd28 measured the fusion
// alone at 0.97): a rank-1 matrix product M[j] @ v(i, j) evaluated on the
// straight path of a build over j inside the point's build, and a product
// in the reverse body, in a loop over the same count with index j', that
// is the same expression with i ↦ the loop's index and j ↦ j' (let-bound
// names resolved, every other name the same binding from before the
// build). The forward product's value is row j of a K × d buffer
// (computed straight into it when the build over j has scalar elements,
// so that the value cannot outlive its element; copied there otherwise);
// trisweep.go's sweep for the reverse product reads its row sums
// from that row instead of computing them, and its finiteness test from
// the row's last element. Both are tri.go's lower-triangular row sums of
// the same terms in the same order, so the same bits (trisweep.go). The
// fused loop runs where the sweep can (M square with 8 to 32 rows): at
// smaller sizes the sweep never runs, nothing would be kept, and the
// general code is left as it is.
package codegen

import (
	"fmt"
	"maps"

	"github.com/nabla-lang/nabla/ir"
)

// pointFuse is a matched build, the lets after it and the loop.
type pointFuse struct {
	build   *ir.Let    // let saved = build(n, fn(i) => ...)
	lam     *ir.Lambda // the build's function
	between []*ir.Let  // the lets between the build and the loop
	cols    map[*ir.Let]int
	loop    *ir.Let // let g = loop ... for i' < n do ...
	lp      *ir.Loop
	tape    *ir.Let // the let of the loop body reading saved[i']
	outs    []*ir.Var

	fwd    *ir.PrimCall // the kept forward product M[j] @ v
	fwdIdx *ir.Var      // j
	mat    *ir.Var      // the rank-3 array M indexes
	rev    *ir.PrimCall // the reverse product the sweep reads it for
	revIdx *ir.Var      // j'
	kcount *ir.Var      // the count of the builds over j and j'
	// direct: the build over j has scalar elements, so the forward
	// product's value cannot outlive its element and the product may be
	// computed straight into its row of the kept buffer (no copy).
	direct bool
	dest   string // the kept row productDest last gave the product

	// xLet is the reverse body's let of the product's vector operand
	// (x[i'] − μ[j'] in GMM) when it is the same expression as the
	// forward's operand: the forward writes its operand to row j of
	// xbuf (K × xcols) and the reverse reads row j' instead of computing
	// it (xStored counts the forward's writes; without one it computes).
	xLet    *ir.Let
	xbuf    string
	xcols   string
	xStored int

	// inner holds the variables bound in the region (a name compared as
	// the same binding from before must not be one of them).
	inner map[*ir.Var]bool

	// Set while the fused code is emitted: the buffer of kept products,
	// its row length, and how many times the forward product is stored.
	buf, rows string
	stored    int
	colBufs   map[int]string // projection k -> its column's buffer
}

// matchPointFuse recognizes the region starting at e (see above).
func (f *fn) matchPointFuse(e *ir.Let) *pointFuse {
	// Not with step counting: a fused attempt stopped by the limit would
	// have charged steps the general code then charges again.
	if f.g.opts.noPointFuse || f.g.opts.Steps || f.pfNo[e] || f.pf != nil || f.di == nil ||
		f.loops > 0 || f.dryRun > 0 || f.errHook != nil || f.framed(e) {
		return nil
	}
	bc, ok := e.Value.(*ir.PrimCall)
	if !ok || bc.Op != ir.PrimBuild || len(bc.Args) != 2 {
		return nil
	}
	count, ok := bc.Args[0].(*ir.Var)
	if !ok {
		return nil
	}
	lam, ok := bc.Args[1].(*ir.Lambda)
	if !ok || len(lam.Params) != 1 {
		return nil
	}
	p := &pointFuse{build: e, lam: lam, cols: map[*ir.Let]int{}}
	saved := e.Var
	only := map[*ir.Var]bool{saved: true}
	var colVars []*ir.Var
	// The lets up to the loop.
	x := e.Body
	for {
		l, ok := x.(*ir.Let)
		if !ok || f.framed(l) {
			return nil
		}
		if lp, ok := l.Value.(*ir.Loop); ok && lp.Index != nil && lp.Count == ir.Expr(count) && ir.Mentions(lp.Body, only) {
			p.loop, p.lp = l, lp
			break
		}
		if k, ok := columnOf(l.Value, count, saved); ok {
			p.cols[l] = k
			colVars = append(colVars, l.Var)
		} else {
			if ir.Mentions(l.Value, only) {
				return nil
			}
			for _, c := range colVars {
				if !shapeOnly(l.Value, c) {
					return nil
				}
			}
		}
		p.between = append(p.between, l)
		x = l.Body
	}
	lp := p.lp
	cv := map[*ir.Var]bool{}
	for _, c := range colVars {
		cv[c] = true
	}
	// The loop: its initial state reads a column for its shape at most,
	// its body no column, and saved only as saved[i'] once.
	for _, c := range colVars {
		if !shapeOnly(lp.Init, c) {
			return nil
		}
	}
	if ir.Mentions(lp.Init, only) || ir.Mentions(lp.Body, cv) {
		return nil
	}
	if n, _ := ir.VarUses(lp.Body, saved); n != 1 {
		return nil
	}
	for b := lp.Body; ; {
		l, ok := b.(*ir.Let)
		if !ok {
			return nil
		}
		if ix, ok := l.Value.(*ir.PrimCall); ok && ix.Op == ir.PrimIndex && ix.Args[0] == ir.Expr(saved) && ix.Args[1] == ir.Expr(lp.Index) {
			if f.framed(l) {
				return nil
			}
			p.tape = l
			break
		}
		b = l.Body
	}
	rest := p.loop.Body
	if ir.Mentions(rest, only) {
		return nil
	}
	// The region's values the rest reads.
	for _, l := range append(append([]*ir.Let(nil), p.between...), p.loop) {
		if ir.Mentions(rest, map[*ir.Var]bool{l.Var: true}) {
			p.outs = append(p.outs, l.Var)
		}
	}
	if !f.noOuterUpdates(p) || !f.matchKept(p) {
		return nil
	}
	return p
}

// columnOf recognizes build(n, fn(i) => saved[i].k) with a scalar
// element and returns k.
func columnOf(e ir.Expr, count, saved *ir.Var) (int, bool) {
	b, ok := e.(*ir.PrimCall)
	if !ok || b.Op != ir.PrimBuild || b.Args[0] != ir.Expr(count) || ir.Rank(b.T) != 1 || !f64Leaf(b.T) {
		return 0, false
	}
	lam, ok := b.Args[1].(*ir.Lambda)
	if !ok || len(lam.Params) != 1 {
		return 0, false
	}
	pj, ok := lam.Body.(*ir.Proj)
	if !ok {
		return 0, false
	}
	ix, ok := pj.X.(*ir.PrimCall)
	if !ok || ix.Op != ir.PrimIndex || ix.Args[0] != ir.Expr(saved) || ix.Args[1] != ir.Expr(lam.Params[0]) {
		return 0, false
	}
	return pj.Index, true
}

// shapeOnly reports whether e reads v only for its shape.
func shapeOnly(e ir.Expr, v *ir.Var) bool {
	ok := true
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		if !ok {
			return
		}
		if x == ir.Expr(v) {
			ok = false
			return
		}
		if pc, isPC := x.(*ir.PrimCall); isPC && pc.Args != nil && pc.Args[0] == ir.Expr(v) {
			switch pc.Op {
			case ir.PrimZerosLike, ir.PrimLen, ir.PrimDim:
				return
			}
		}
		ir.EachChild(x, func(_ int, k ir.Expr) { walk(k) })
	}
	walk(e)
	return ok
}

// noOuterUpdates reports whether nothing in the region updates in place
// an array bound before it: an in-place primitive's first argument or a
// loop's initial state (a loop may take it as its accumulator) must be
// made in the region. (The general code that runs after a failed fused
// attempt must find its inputs unchanged.)
func (f *fn) noOuterUpdates(p *pointFuse) bool {
	inner := map[*ir.Var]bool{}
	var exprs []ir.Expr
	exprs = append(exprs, p.build.Value)
	for _, l := range p.between {
		exprs = append(exprs, l.Value)
	}
	exprs = append(exprs, p.loop.Value)
	for _, l := range append(append([]*ir.Let{p.build}, p.between...), p.loop) {
		inner[l.Var] = true
	}
	for _, e := range exprs {
		maps.Copy(inner, ir.Binders(e))
	}
	p.inner = inner
	ok := true
	outer := func(x ir.Expr) bool {
		v, isVar := x.(*ir.Var)
		return isVar && ir.Rank(v.T) > 0 && !inner[v]
	}
	for _, e := range exprs {
		ir.Walk(e, func(x ir.Expr, enter bool) {
			if !enter || !ok {
				return
			}
			switch x := x.(type) {
			case *ir.PrimCall:
				if x.Op.InPlace() && len(x.Args) > 0 && outer(x.Args[0]) {
					ok = false
				}
			case *ir.Loop:
				for _, r := range returned(x.Init) {
					if outer(r) {
						ok = false
					}
				}
			}
		}, func(*ir.Var, bool) {})
	}
	return ok
}

// returned lists the expressions e's value may be, part for part:
// through tuples, lets, ifs and projections.
func returned(e ir.Expr) []ir.Expr {
	switch e := e.(type) {
	case *ir.MakeTuple:
		var out []ir.Expr
		for _, x := range e.Elems {
			out = append(out, returned(x)...)
		}
		return out
	case *ir.Let:
		return returned(e.Body)
	case *ir.If:
		return append(returned(e.Then), returned(e.Else)...)
	case *ir.Proj:
		return returned(e.X)
	}
	return []ir.Expr{e}
}

// matchKept finds the forward product to keep and the reverse product
// that is the same (see above); without one the fusion is not done.
func (f *fn) matchKept(p *pointFuse) bool {
	// A build over j on the straight path of the point's build.
	for _, jb := range straightPrims(p.lam.Body, ir.PrimBuild) {
		jl, ok := jb.Args[1].(*ir.Lambda)
		jc, okc := jb.Args[0].(*ir.Var)
		if !ok || !okc || len(jl.Params) != 1 || p.inner[jc] {
			continue
		}
		if _, bound := f.env[jc]; !bound {
			continue
		}
		prods := straightPrims(jl.Body, ir.PrimMatmul)
		if len(prods) != 1 || ir.Rank(prods[0].T) != 1 {
			continue
		}
		fwd := prods[0]
		m, ok := fwd.Args[0].(*ir.PrimCall)
		if !ok || m.Op != ir.PrimIndex || m.Args[1] != ir.Expr(jl.Params[0]) {
			continue
		}
		mat, ok := m.Args[0].(*ir.Var)
		if !ok || ir.Rank(mat.T) != 3 || !f64Leaf(mat.T) || !f.isLowerTri(m) {
			continue
		}
		// The reverse: a loop over the same count on the body's straight
		// path, with the same product in its straight path.
		for _, il := range straightLoops(p.tape.Body) {
			if il.Index == nil || il.Count != ir.Expr(jc) {
				continue
			}
			lets := chainValues(il.Body)
			for _, rv := range straightPrims(il.Body, ir.PrimMatmul) {
				pairs := map[*ir.Var]*ir.Var{p.lam.Params[0]: p.lp.Index, jl.Params[0]: il.Index}
				if f.sameUnder(fwd, rv, chainValues(jl.Body), lets, pairs, p.inner) {
					p.fwd, p.fwdIdx, p.mat, p.rev, p.revIdx, p.kcount = fwd, jl.Params[0], mat, rv, il.Index, jc
					p.direct = ir.Rank(jb.T) == 1 && f64Leaf(jb.T) && !f.g.opts.noKeptDirect
					if v, ok := rv.Args[1].(*ir.Var); ok && !f.g.opts.noKeptOperand {
						if xl := chainLet(il.Body, v); xl != nil && !f.framed(xl) && ir.Rank(v.T) == 1 && f64Leaf(v.T) && !updated(il.Body, v) &&
							f.sameUnder(fwd.Args[1], xl.Value, chainValues(jl.Body), lets, pairs, p.inner) {
							p.xLet = xl
						}
					}
					return true
				}
			}
		}
	}
	return false
}

// updated reports whether e may update v's array in place: v as an
// in-place primitive's first argument or a loop's initial state (the
// kept operand's row must stay as the forward wrote it).
func updated(e ir.Expr, v *ir.Var) bool {
	found := false
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if !enter || found {
			return
		}
		switch x := x.(type) {
		case *ir.PrimCall:
			found = x.Op.InPlace() && len(x.Args) > 0 && x.Args[0] == ir.Expr(v)
		case *ir.Loop:
			for _, r := range returned(x.Init) {
				if r == ir.Expr(v) {
					found = true
				}
			}
		}
	}, func(*ir.Var, bool) {})
	return found
}

// chainLet is the let of e's let chain that binds v, or nil.
func chainLet(e ir.Expr, v *ir.Var) *ir.Let {
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			return nil
		}
		if l.Var == v {
			return l
		}
		e = l.Body
	}
}

// straightPrims lists the calls of op in e that run whenever e does:
// not under an if's branch, a loop or a function.
func straightPrims(e ir.Expr, op *ir.Prim) []*ir.PrimCall {
	var out []*ir.PrimCall
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		switch x := x.(type) {
		case *ir.If:
			walk(x.Cond)
			return
		case *ir.Loop, *ir.Lambda:
			return
		case *ir.PrimCall:
			if x.Op == op {
				out = append(out, x)
			}
			if x.Op == ir.PrimBuild || x.Op == ir.PrimMap {
				// The function's body runs once per element; a build's
				// over j is what the caller looks into.
				walk(x.Args[0])
				return
			}
		}
		ir.EachChild(x, func(_ int, k ir.Expr) { walk(k) })
	}
	walk(e)
	return out
}

// straightLoops lists the loops bound by the lets of e's let chain.
func straightLoops(e ir.Expr) []*ir.Loop {
	var out []*ir.Loop
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			return out
		}
		if lp, ok := l.Value.(*ir.Loop); ok {
			out = append(out, lp)
		}
		e = l.Body
	}
}

// chainValues maps the variables of e's let chain to their values.
func chainValues(e ir.Expr) map[*ir.Var]ir.Expr {
	m := map[*ir.Var]ir.Expr{}
	for {
		switch l := e.(type) {
		case *ir.Let:
			m[l.Var] = l.Value
			e = l.Body
		case *ir.PrimCall:
			// sum(let x = ... in ...): a let under a reduction's argument.
			if len(l.Args) == 1 {
				e = l.Args[0]
				continue
			}
			return m
		default:
			return m
		}
	}
}

// sameUnder reports whether a and b are the same expression once the
// variables of la and lb are replaced by their values and a's variables
// in pairs by b's; any other variable must be the same one, bound before
// the region (in f.env) and not again in it (inner).
func (f *fn) sameUnder(a, b ir.Expr, la, lb map[*ir.Var]ir.Expr, pairs map[*ir.Var]*ir.Var, inner map[*ir.Var]bool) bool {
	for range 8 {
		v, ok := a.(*ir.Var)
		if !ok || la[v] == nil {
			break
		}
		a = la[v]
	}
	for range 8 {
		v, ok := b.(*ir.Var)
		if !ok || lb[v] == nil {
			break
		}
		b = lb[v]
	}
	switch a := a.(type) {
	case *ir.Var:
		bv, ok := b.(*ir.Var)
		if !ok {
			return false
		}
		if w, ok := pairs[a]; ok {
			return w == bv
		}
		_, bound := f.env[a]
		return a == bv && bound && !inner[a]
	case *ir.Const:
		bc, ok := b.(*ir.Const)
		return ok && ir.SameConst(a.Val, bc.Val)
	case *ir.PrimCall:
		bc, ok := b.(*ir.PrimCall)
		if !ok || bc.Op != a.Op || !ir.SameAux(a.Aux, bc.Aux) || len(a.Args) != len(bc.Args) || !ir.Equal(a.T, bc.T) {
			return false
		}
		for i := range a.Args {
			if !f.sameUnder(a.Args[i], bc.Args[i], la, lb, pairs, inner) {
				return false
			}
		}
		return true
	}
	return false
}

// compilePointFuse emits the fused loop, speculatively, and the general
// code after it for when the fused code fails; then goes on with the
// loop let's body.
func (f *fn) compilePointFuse(p *pointFuse) val {
	var outT []ir.Type
	var outE []ir.Expr
	for _, v := range p.outs {
		outT = append(outT, v.T)
		outE = append(outE, v)
	}
	tup := &ir.MakeTuple{Elems: outE, P: p.loop.P}
	res := f.declare("pf", &ir.Tuple{Elems: outT})
	mv := f.env[p.mat]
	rows, cols := mv.parts[2], mv.parts[3]
	ok := f.fresh("fused")
	f.line("%s := false", ok)
	// Where the sweep may run (trisweep.go): elsewhere nothing is kept.
	f.line("if %s == %s && %s >= 8 && %s <= 32 {", rows, cols, rows, rows)
	label := f.fresh("Fused")
	// A labelled switch, left by "break label" on an error.
	f.line("%s:", label)
	f.line("switch {")
	f.line("default:")
	saveHook, saveEnv, saveFenv := f.errHook, f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	f.errHook = func(string) string { return "break " + label }
	{
		// The kept products' buffer: K rows of the product's length.
		kn, err := f.fresh("kn"), f.fresh("err")
		f.line("%s, %s := runtime.CheckSize(%s)", kn, err, f.env[p.kcount].parts[0])
		f.line("if %s != nil || %s > 1<<20 {", err, kn)
		f.line("break %s", label)
		f.line("}")
		p.buf = f.def("kept", fmt.Sprintf("ar.F64w(%s * %s)", kn, rows))
		p.rows = rows
		if p.xLet != nil {
			p.xbuf = f.def("keptx", fmt.Sprintf("ar.F64w(%s * %s)", kn, cols))
			p.xcols = cols
		}
		// The columns of the tape the code between and after reads,
		// filled by the fused loop.
		cn, cerr := f.fresh("cn"), f.fresh("err")
		f.line("%s, %s := runtime.CheckSize(%s)", cn, cerr, f.env[p.build.Value.(*ir.PrimCall).Args[0].(*ir.Var)].parts[0])
		f.line("if %s != nil {", cerr)
		f.line("break %s", label)
		f.line("}")
		p.colBufs = map[int]string{}
		for l, k := range p.cols {
			b, seen := p.colBufs[k]
			if !seen {
				b = f.def("col", fmt.Sprintf("ar.F64w(%s)", cn))
				p.colBufs[k] = b
			}
			f.env[l.Var] = val{t: l.Var.T, parts: []string{b, cn}}
		}
		// The code between (the columns are bound already), then the loop.
		body := ir.Expr(&ir.Let{Var: p.loop.Var, Value: p.loop.Value, Body: tup, P: p.loop.P})
		for i := len(p.between) - 1; i >= 0; i-- {
			l := p.between[i]
			if _, col := p.cols[l]; col {
				continue
			}
			body = &ir.Let{Var: l.Var, Value: l.Value, Body: body, P: l.P}
		}
		f.pf = p
		v := f.compile(body)
		f.pf = nil
		if p.stored == 0 {
			f.g.fail("%s: internal error: the fused loop did not keep the forward product", p.build.P)
		}
		f.assign(res, v)
	}
	f.errHook, f.env, f.fenv = saveHook, saveEnv, saveFenv
	f.line("%s = true", ok)
	f.line("}")
	f.line("}")
	// The general code: the build, the lets between and the loop as they
	// are (also what reports the error when the fused code failed).
	f.line("if !%s {", ok)
	gen := ir.Expr(&ir.Let{Var: p.loop.Var, Value: p.loop.Value, Body: tup, P: p.loop.P})
	for i := len(p.between) - 1; i >= 0; i-- {
		l := p.between[i]
		gen = &ir.Let{Var: l.Var, Value: l.Value, Body: gen, P: l.P}
	}
	first := &ir.Let{Var: p.build.Var, Value: p.build.Value, Body: gen, P: p.build.P}
	if f.pfNo == nil {
		f.pfNo = map[*ir.Let]bool{}
	}
	f.pfNo[first] = true
	f.branch(first, res)
	f.line("}")
	for k, v := range p.outs {
		f.env[v] = projVal(res, k)
	}
	return f.compileL(p.loop.Body)
}

// compilePointTape compiles the let of the fused loop's body that reads
// saved[i]: the point's build body instead, its columns stored.
func (f *fn) compilePointTape(p *pointFuse, l *ir.Let) val {
	v := f.compile(&ir.Let{Var: p.lam.Params[0], Value: p.lp.Index, Body: p.lam.Body, P: p.build.P})
	i := f.env[p.lp.Index].parts[0]
	for k, b := range p.colBufs {
		x := projVal(v, k)
		if len(x.parts) != 1 || x.parts[0] == deadAtom {
			f.g.fail("%s: internal error: the fused loop's column %d has no value", p.build.P, k)
		}
		f.line("%s[%s] = %s", b, i, x.parts[0])
	}
	f.env[l.Var] = v
	return f.compileL(l.Body)
}

// productDest is the destination of the matrix-vector product e with
// rows rows: the kept row of component j when e is the kept forward
// product and its value cannot outlive its element (p.direct), else a
// new buffer.
func (f *fn) productDest(e *ir.PrimCall, rows string) string {
	p := f.pf
	if p == nil || e != p.fwd || !p.direct || rows != p.rows {
		return f.allocW(ir.F64, e.P, rows)
	}
	j := f.env[p.fwdIdx].parts[0]
	p.dest = f.def("kr", fmt.Sprintf("%s[int(%s)*%s:][:%s:%s]", p.buf, j, rows, rows, rows))
	return p.dest
}

// keepOperand, for the kept forward product e with k columns, writes
// its vector operand lz to the component's row of the kept operands and
// returns a recipe that reads it there (the same values: lz's own
// elements, computed once).
func (f *fn) keepOperand(e *ir.PrimCall, k string, lz *lazy) *lazy {
	p := f.pf
	if p == nil || e != p.fwd || p.xLet == nil || k != p.xcols || lz.outer != nil {
		return lz
	}
	j := f.env[p.fwdIdx].parts[0]
	xr := f.def("kx", fmt.Sprintf("%s[int(%s)*%s:][:%s:%s]", p.xbuf, j, k, k, k))
	f.writeLazy(xr, lz)
	if f.dryRun == 0 {
		p.xStored++
	}
	return &lazy{kind: lz.kind, dims: lz.dims, arrays: []string{xr},
		elem: func(i string) string { return xr + "[" + i + "]" }, cheap: true, safe: true}
}

// compileKeptOperand binds the reverse body's let of the product's
// operand to the component's row of the kept operands, which the forward
// pass of the same point and component wrote (its errors, if any, came
// there first), and goes on with the let's body.
func (f *fn) compileKeptOperand(p *pointFuse, l *ir.Let) val {
	j := f.env[p.revIdx].parts[0]
	xr := f.def("kx", fmt.Sprintf("%s[int(%s)*%s:][:%s:%s]", p.xbuf, j, p.xcols, p.xcols, p.xcols))
	f.env[l.Var] = val{t: l.Var.T, parts: []string{xr, p.xcols}}
	return f.compileL(l.Body)
}

// keepProduct stores the forward product's value v in its row of the
// kept products, unless productDest made that row its destination.
func (f *fn) keepProduct(p *pointFuse, v val) {
	if f.dryRun == 0 {
		p.stored++
	}
	if p.dest != "" && v.parts[0] == p.dest {
		return
	}
	j := f.env[p.fwdIdx].parts[0]
	f.line("copy(%s[int(%s)*%s:(int(%s)+1)*%s], %s)", p.buf, j, p.rows, j, p.rows, v.parts[0])
}

// framed reports whether l is a let of inlined code with a frame of its
// own (a copy made here would lose it).
func (f *fn) framed(l *ir.Let) bool { return len(f.inl[l]) > 0 }
