// Sharing the forward pass of several VJPs of one function at one point.

package ad

import (
	"maps"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// shareForward rewrites a def body in which two or more calls of the same
// VJP def, f$vjp_K(x.., ybar), take the same primal arguments x.. and
// differ only in their seeds (a Jacobian by rows: vjp(f, x, e_j) for
// several j). Each such call runs f's forward pass and saves its tape for
// its own backward pass; with f's split VJP the forward pass runs once,
// bound before the first of the calls, and each call becomes
// (y, f$split_K$bwd(tape, ybar)). A lone call is split as well when its
// seed has parts written as zeros, for the backward def that skips them
// (bwdFor).
//
// Only calls that run whenever the def's top-level let chain reaches them
// are grouped (not under an if, a loop or a lambda), so the shared forward
// pass runs only where one of the calls would have run it anyway, and x..
// must be bound before the let that holds the first call. params are the
// def's parameters.
func (a *expander) shareForward(params []*ir.Var, body ir.Expr) ir.Expr {
	al := aliases{vars: map[*ir.Var]*ir.Var{}, tuples: map[*ir.Var]*ir.MakeTuple{}, values: map[*ir.Var]ir.Expr{}}
	al.collect(body)
	for {
		g := a.vjpGroup(&al, body)
		if g == nil {
			return body
		}
		out, ok := a.shareGroup(&al, params, body, g)
		if !ok {
			// Nothing to share for this function: mark its calls done.
			a.shareSkip(g)
			continue
		}
		body = out
	}
}

// aliases resolves a variable bound to another variable, or to a
// projection of a tuple bound by a let, to the variable it stands for:
// the VJP expansion binds a call's arguments through such lets
// (arg = (cam, x, w); c = arg.0), and the calls of one group must be seen
// to take the same values.
type aliases struct {
	vars   map[*ir.Var]*ir.Var
	tuples map[*ir.Var]*ir.MakeTuple
	values map[*ir.Var]ir.Expr
}

func (al *aliases) collect(e ir.Expr) {
	if l, ok := e.(*ir.Let); ok {
		al.values[l.Var] = l.Value
		if t, ok := l.Value.(*ir.MakeTuple); ok {
			al.tuples[l.Var] = t
		} else if v := al.root(l.Value); v != nil {
			al.vars[l.Var] = v
		}
	}
	ir.EachChild(e, func(_ int, k ir.Expr) { al.collect(k) })
}

// root is the variable e stands for, or nil.
func (al *aliases) root(e ir.Expr) *ir.Var {
	switch e := e.(type) {
	case *ir.Var:
		if v := al.vars[e]; v != nil {
			return v
		}
		return e
	case *ir.Proj:
		v := al.root(e.X)
		if v == nil {
			return nil
		}
		if t := al.tuples[v]; t != nil && e.Index < len(t.Elems) {
			return al.root(t.Elems[e.Index])
		}
	}
	return nil
}

// A vjpGroup is the calls of one VJP def with the same primal arguments.
type vjpGroup struct {
	src   vjpSource
	name  string
	args  []*ir.Var // the primal arguments, resolved
	calls []*ir.Call
}

// vjpGroup finds the first group in body that has not been looked at and
// has two or more calls, or one whose seed has zero parts; or nil.
func (a *expander) vjpGroup(al *aliases, body ir.Expr) *vjpGroup {
	var groups []*vjpGroup
	var visit func(e ir.Expr)
	visit = func(e ir.Expr) {
		switch e.(type) {
		case *ir.Lambda, *ir.If, *ir.Loop:
			return // may run never, or many times
		}
		ir.EachChild(e, func(_ int, k ir.Expr) { visit(k) })
		c, ok := e.(*ir.Call)
		if !ok || a.shared[c] {
			return
		}
		fn, ok := c.Fn.(*ir.Global)
		if !ok {
			return
		}
		src, ok := a.vjpSrc[fn.Name]
		if !ok || src.flat || len(c.Args) != len(src.def.Params)+1 {
			return
		}
		args := make([]*ir.Var, len(src.def.Params))
		for i, x := range c.Args[:len(args)] {
			if args[i] = al.root(x); args[i] == nil {
				return
			}
		}
		for _, g := range groups {
			if g.name == fn.Name && slices.Equal(g.args, args) {
				g.calls = append(g.calls, c)
				return
			}
		}
		groups = append(groups, &vjpGroup{src: src, name: fn.Name, args: args, calls: []*ir.Call{c}})
	}
	visit(body)
	for _, g := range groups {
		if len(g.calls) >= 2 || al.zeroParts(g.calls[0].Args[len(g.calls[0].Args)-1]) != nil {
			// A lone call gains from the split VJP only when its seed
			// has zero parts that its backward sweep can skip.
			return g
		}
	}
	return nil
}

func (a *expander) shareSkip(g *vjpGroup) {
	for _, c := range g.calls {
		a.shared[c] = true
	}
}

// shareGroup binds the shared forward pass of g before the first let of
// body's top-level chain that holds one of g's calls, and replaces the
// calls; ok is false when g's VJP cannot be split, or an argument is not
// bound there.
func (a *expander) shareGroup(al *aliases, params []*ir.Var, body ir.Expr, g *vjpGroup) (ir.Expr, bool) {
	active := g.src.active
	if active == nil {
		active = make([]bool, len(g.src.def.Params))
		for i := range active {
			active[i] = true
		}
	}
	s, err := a.splitDef(g.src.def, active)
	if s == nil || err != nil {
		return nil, false
	}
	vjpT, ok := g.calls[0].T.(*ir.Tuple)
	fwdT, ok2 := s.fwd.Result.(*ir.Tuple)
	if !ok || !ok2 || len(vjpT.Elems) != 2 || !ir.Equal(vjpT.Elems[0], fwdT.Elems[0]) {
		return nil, false
	}
	// The VJP of a def of one parameter returns its cotangent bare, the
	// backward def a tuple of one.
	bare := false
	if bt, ok := s.bwd.Result.(*ir.Tuple); ok && len(bt.Elems) == 1 && ir.Equal(vjpT.Elems[1], bt.Elems[0]) {
		bare = true
	} else if !ir.Equal(vjpT.Elems[1], s.bwd.Result) {
		return nil, false // a VJP whose cotangents are laid out otherwise
	}
	unwrap := func(x ir.Expr) ir.Expr {
		if bare {
			return &ir.Proj{X: x, Index: 0, P: x.Pos()}
		}
		return x
	}
	inScope := map[*ir.Var]bool{}
	for _, p := range params {
		inScope[p] = true
	}
	calls := map[*ir.Call]bool{}
	for _, c := range g.calls {
		calls[c] = true
	}
	holds := func(e ir.Expr) bool { return containsCall(e, calls) }
	// Walk the chain to the first element that holds a call.
	var chain []*ir.Let
	cur := body
	for {
		l, ok := cur.(*ir.Let)
		if !ok || holds(l.Value) {
			break
		}
		inScope[l.Var] = true
		chain = append(chain, l)
		cur = l.Body
	}
	for _, v := range g.args {
		if !inScope[v] {
			return nil, false
		}
	}
	pos := g.calls[0].P
	args := make([]ir.Expr, len(g.args))
	for i, v := range g.args {
		args[i] = v
	}
	sh := ir.NewVar("shared", s.fwd.Result, pos)
	var tape ir.Expr = &ir.Proj{X: sh, Index: 1, P: pos}
	rest := replaceCalls(cur, calls, func(c *ir.Call) ir.Expr {
		seed := c.Args[len(c.Args)-1]
		y := &ir.Proj{X: sh, Index: 0, P: c.P}
		if zero := al.zeroParts(seed); zero != nil {
			if d, has := a.bwdFor(s, zero); has != nil {
				out := zeroFilled(s, d, has, tape, seed, args, c.P)
				return &ir.MakeTuple{Elems: []ir.Expr{y, unwrap(out)}, P: c.P}
			}
		}
		bwd := &ir.Call{Fn: &ir.Global{Name: s.bwd.Name, T: s.bwd.Type(), P: c.P}, Args: []ir.Expr{tape, seed}, T: s.bwd.Result, P: c.P}
		return &ir.MakeTuple{Elems: []ir.Expr{y, unwrap(bwd)}, P: c.P}
	})
	for _, l := range chain {
		inScope[l.Var] = true
	}
	rest = a.batchBackward(al, s, rest, sh, inScope)
	out := ir.Expr(&ir.Let{Var: sh, Value: &ir.Call{Fn: &ir.Global{Name: s.fwd.Name, T: s.fwd.Type(), P: pos}, Args: args, T: s.fwd.Result, P: pos}, Body: rest, P: pos})
	for i := len(chain) - 1; i >= 0; i-- {
		out = &ir.Let{Var: chain[i].Var, Value: chain[i].Value, Body: out, P: chain[i].P}
	}
	return out, true
}

func containsCall(e ir.Expr, calls map[*ir.Call]bool) bool {
	if c, ok := e.(*ir.Call); ok && calls[c] {
		return true
	}
	found := false
	ir.EachChild(e, func(_ int, k ir.Expr) { found = found || containsCall(k, calls) })
	return found
}

func replaceCalls(e ir.Expr, calls map[*ir.Call]bool, with func(*ir.Call) ir.Expr) ir.Expr {
	if c, ok := e.(*ir.Call); ok && calls[c] {
		return with(c)
	}
	return ir.Rebuild(e, func(x ir.Expr) ir.Expr { return replaceCalls(x, calls, with) })
}

// zeroParts marks the parts of a tuple seed that are zero (zeros, fill of
// zeros, 0.0), or is nil when none is: the VJP of a Jacobian's weight
// rows is seeded with (fill(2, zeros(p)), ones(p)).
func (al *aliases) zeroParts(seed ir.Expr) []bool {
	t := al.tupleOf(seed)
	if t == nil {
		return nil
	}
	zero := make([]bool, len(t.Elems))
	some := false
	for i, x := range t.Elems {
		zero[i] = al.isZero(x, 8)
		some = some || zero[i]
	}
	if !some {
		return nil
	}
	return zero
}

func (al *aliases) tupleOf(e ir.Expr) *ir.MakeTuple {
	if t, ok := e.(*ir.MakeTuple); ok {
		return t
	}
	if v := al.root(e); v != nil {
		return al.tuples[v]
	}
	return nil
}

// isZero reports whether e is certainly zero, looking through at most
// depth variables.
func (al *aliases) isZero(e ir.Expr, depth int) bool {
	if depth == 0 {
		return false
	}
	switch e := e.(type) {
	case *ir.Var:
		x, ok := al.values[e]
		return ok && al.isZero(x, depth-1)
	case *ir.Const:
		return isF64Const(e, 0)
	case *ir.MakeTuple:
		for _, x := range e.Elems {
			if !al.isZero(x, depth) {
				return false
			}
		}
		return true
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimZeros, ir.PrimZerosLike:
			return true
		case ir.PrimFill:
			return al.isZero(e.Args[1], depth)
		}
	}
	return false
}

// A bwdVariant is a split VJP's backward def for seeds with zero parts:
// it returns the cotangents of the kept parameters marked in has only
// (nil def: none of them).
type bwdVariant struct {
	def *ir.Def
	has []bool
}

// bwdFor returns the backward def of s for seeds whose top-level tuple
// parts marked in zero are zero: the backward sweep starts from the other
// parts only, so what only the zero parts' cotangents flow through is not
// computed (a zero cotangent stays symbolic, as in JAX, rather than being
// multiplied through the partials). It reads s's tape. has marks, among
// the parameters, those whose cotangent the def returns (in order); the
// others' cotangents are zero. has is nil when no such def can be made
// (the result is not a tuple, or the sweep needs a value that is not on
// s's tape).
func (a *expander) bwdFor(s *splitVJP, zero []bool) (*ir.Def, []bool) {
	var sb []byte
	for _, z := range zero {
		sb = append(sb, "10"[b2i(z)])
	}
	key := string(sb)
	if v, ok := s.variants[key]; ok {
		return v.def, v.has
	}
	d, has := a.genBwdFor(s, zero, key)
	if s.variants == nil {
		s.variants = map[string]*bwdVariant{}
	}
	s.variants[key] = &bwdVariant{def: d, has: has}
	return d, has
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (a *expander) genBwdFor(s *splitVJP, zero []bool, key string) (d *ir.Def, has []bool) {
	defer func() {
		// The variant only saves work: should its sweep fail where the
		// full one did not, the call keeps the full backward def.
		if recover() != nil {
			d, has = nil, nil
		}
	}()
	yv, ok := s.y.(*ir.Var)
	if !ok || s.pre == nil {
		return nil, nil
	}
	var tup *step
	for i := len(s.pre.steps) - 1; i >= 0; i-- {
		if s.pre.steps[i].y == yv {
			tup = &s.pre.steps[i]
			break
		}
	}
	if tup == nil {
		return nil, nil
	}
	if _, ok := tup.orig.(*ir.MakeTuple); !ok || len(tup.args) != len(zero) {
		return nil, nil
	}
	pos := s.bwd.P
	r := s.pre.snapshot()
	bb := &block{pos: pos}
	ybar := ir.NewVar("ybar", yv.T, pos)
	for i, x := range tup.args {
		if !zero[i] && r.isActive(x) {
			r.addTo(bb, x, bb.bind("g", &ir.Proj{X: ybar, Index: i, P: pos}))
		}
	}
	if err := r.backward(bb); err != nil {
		return nil, nil
	}
	has = make([]bool, len(s.ps))
	var bars []ir.Expr
	for i, p := range s.ps {
		if s.kept[i] && r.adj[p] != nil {
			has[i] = true
			bars = append(bars, r.get(bb, p))
		}
	}
	if len(bars) == 0 {
		return nil, has
	}
	bwd, tape, decs := recomputeDeciding(r, s.cut, s.ps, bb.close(&ir.MakeTuple{Elems: bars, P: pos}), true)
	tp := ir.NewVar("tape", s.bwd.Params[0].T, pos)
	tb := &block{pos: pos}
	sub := map[*ir.Var]ir.Expr{}
	for _, v := range append(tape, decs...) {
		k := slices.Index(s.tape, v)
		if k < 0 {
			return nil, nil
		}
		sub[v] = tb.bindVar(v.Name, &ir.Proj{X: tp, Index: k, P: pos})
	}
	body := tb.close(ir.Subst(bwd, sub))
	d = &ir.Def{Name: s.bwd.Name + "_" + key, Params: []*ir.Var{tp, ybar}, HasParams: true, Result: body.Type(), Body: body, P: pos}
	a.out.Add(d)
	return d, has
}

// zeroFilled is the kept parameters' cotangents from a call of the
// variant d of s's backward def, zeros_like(x) for those d does not
// return.
func zeroFilled(s *splitVJP, d *ir.Def, has []bool, tape, seed ir.Expr, args []ir.Expr, pos ir.Pos) ir.Expr {
	var xb *ir.Var
	if d != nil {
		xb = ir.NewVar("xbar", d.Result, pos)
	}
	var bars []ir.Expr
	k := 0
	for i, keep := range s.kept {
		switch {
		case !keep:
		case has[i]:
			bars = append(bars, &ir.Proj{X: xb, Index: k, P: pos})
			k++
		default:
			bars = append(bars, &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{args[i]}, T: args[i].Type(), P: pos})
		}
	}
	out := ir.Expr(&ir.MakeTuple{Elems: bars, P: pos})
	if d != nil {
		call := &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: pos}, Args: []ir.Expr{tape, seed}, T: d.Result, P: pos}
		out = &ir.Let{Var: xb, Value: call, Body: out, P: pos}
	}
	return out
}

// snapshot copies r as its forward sweep left it, for another backward
// sweep (bwdFor): the steps are shared (the sweeps only read them), the
// maps copied.
func (r *rev) snapshot() *rev {
	c := newRev(r.a)
	maps.Copy(c.ren, r.ren)
	maps.Copy(c.act, r.act)
	maps.Copy(c.adj, r.adj)
	maps.Copy(c.fresh, r.fresh)
	maps.Copy(c.fills, r.fills)
	maps.Copy(c.rows, r.rows)
	c.steps, c.tails, c.decides = r.steps, r.tails, r.decides
	return c
}
