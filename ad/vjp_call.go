// Reverse mode of calls: VJP defs, custom and transposed rules, and the
// reversal of a call site.

package ad

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// vjpFunc returns the reverse-mode derivative of f as a function value of
// type (P1..Pk, B) -> (B, A).
func (a *expander) vjpFunc(f fnOf, pos ir.Pos) (ir.Expr, error) {
	if f.def != nil {
		d, err := a.vjpDef(f.def)
		if err != nil {
			return nil, err
		}
		return &ir.Global{Name: d.Name, T: d.Type(), P: pos}, nil
	}
	defer a.flatTapes(true)()
	return a.vjpLambda(f.lam.Params, f.lam.Body, pos)
}

// flatTapes sets whether the derivative code being generated keeps its
// tapes flat (see flatTape) and returns the function that restores the
// previous setting. Code that may be differentiated again keeps them
// flat: a lambda's VJP, which is inlined into the code that asks for it,
// and the twin of a VJP def that a derivative of higher order reverses
// (vjpDefFor). A VJP def itself may nest tapes: its callers differentiate
// its twin.
func (a *expander) flatTapes(on bool) func() {
	was := a.flat
	a.flat = on
	return func() { a.flat = was }
}

func (a *expander) vjpDef(d *ir.Def) (*ir.Def, error) { return a.vjpDefFor(d, nil) }

// vjpDefFor is vjpDef differentiating only with respect to the parameters
// marked in active (nil: all of them): a call that passes data which
// does not depend on the differentiated input, as in grad(fn(w) =>
// loss(w, data)), gets a version f$vjp_110 that computes no cotangent
// for that data: its second result holds the cotangents of the active
// parameters only (kept says which), so that no zeros are allocated for
// data nobody differentiates. Defs with custom rules have one version.
func (a *expander) vjpDefFor(d *ir.Def, active []bool) (*ir.Def, error) {
	if src, ok := a.vjpSrc[d.Name]; ok && !src.flat {
		// d is a VJP def with nested tapes, which reverse mode cannot
		// represent cotangents of: differentiate its twin with flat tapes,
		// the same function.
		twin, err := a.vjpDefGen(src.def, src.active, true)
		if err != nil {
			return nil, err
		}
		d = twin
	}
	return a.vjpDefGen(d, active, a.vjpSrc[d.Name].flat)
}

// A vjpSource is the def and active parameters a VJP def was generated
// for, and whether its tapes are flat.
type vjpSource struct {
	def    *ir.Def
	active []bool
	flat   bool
}

// vjpDefGen is vjpDefFor generating the version with flat tapes or not.
func (a *expander) vjpDefGen(d *ir.Def, active []bool, flat bool) (*ir.Def, error) {
	orig := active
	suffix := ""
	if active != nil && d.Attr("vjp") == nil && d.Attr("jvp") == nil && d.Attr("implicit") == nil {
		var sb []byte
		for i, p := range d.Params {
			switch {
			case !ir.IsDifferentiable(p.T) || !carriesF64(p.T):
				sb = append(sb, '0') // nothing to differentiate anyway
			case active[i]:
				sb = append(sb, '1')
			default:
				sb = append(sb, '0')
				suffix = "_" // some differentiable parameter is not active
			}
		}
		if suffix != "" {
			suffix += string(sb)
		}
	}
	if suffix == "" {
		active = nil
	} else {
		active = kept(d, active)
	}
	if flat {
		suffix += "$flat"
	}
	key := d.Name + suffix
	if g := a.vjps[key]; g != nil {
		return g, nil
	}
	defer a.flatTapes(flat)()
	done, err := a.enter(key+"$vjp", d, d.P)
	if err != nil {
		return nil, err
	}
	defer done()
	var lam *ir.Lambda
	var notes []ir.RematNote
	switch {
	case d.Attr("vjp") != nil:
		lam, err = a.customVJP(d, d.Attr("vjp"))
	case d.Attr("jvp") != nil:
		lam, err = a.transposedJVP(d)
	case d.Attr("implicit") != nil:
		lam, err = a.implicitVJP(d, d.Attr("implicit"))
	default:
		restore := a.recomputing(d, &notes)
		lam, err = a.vjpLambdaFor(d.Params, d.BodyWithSizes(), d.P, active, true)
		restore()
	}
	if err != nil {
		return nil, err
	}
	g := &ir.Def{Name: d.Name + "$vjp" + suffix, Params: lam.Params, HasParams: true, Result: lam.Body.Type(), Body: lam.Body, P: d.P, Recomputed: notes}
	if at := d.Attr("strategy"); at != nil {
		// The checkpointing policy its strategy names is d's derivatives'
		// too (the rewrite stage looks it up), as jax.checkpoint's policy
		// goes with the function.
		g.Attrs = []ir.Attr{{Name: "checkpoint", Fn: d.Name, P: at.P}}
	}
	a.out.Add(g)
	// Derivatives of g differentiate its code with the checkpointing
	// points resolved (plainDef); the program keeps them.
	g = a.plainDef(g)
	a.vjps[key] = g
	a.vjpSrc[g.Name] = vjpSource{def: d, active: orig, flat: flat}
	return g, nil
}

// carriesF64 reports whether a value of type t has f64 parts.
func carriesF64(t ir.Type) bool {
	switch t := t.(type) {
	case ir.Scalar:
		return t.Kind == ir.F64
	case *ir.Array:
		return carriesF64(t.Elem)
	case *ir.Tuple:
		for _, e := range t.Elems {
			if carriesF64(e) {
				return true
			}
		}
	}
	return false
}

// kept marks the parameters of d whose cotangents a version of its VJP
// for the given active arguments returns: the active, differentiable
// ones that hold f64 values.
func kept(d *ir.Def, active []bool) []bool {
	out := make([]bool, len(d.Params))
	for i, p := range d.Params {
		out[i] = active[i] && ir.IsDifferentiable(p.T) && carriesF64(p.T)
	}
	return out
}

// activeArgs marks which of a call's argument atoms are active.
func (r *rev) activeArgs(args []ir.Expr) []bool {
	out := make([]bool, len(args))
	for i, x := range args {
		out[i] = r.isActive(x)
	}
	return out
}

// customVJP: (x.., ybar) -> (f(x..), rule(x, ybar)).
func (a *expander) customVJP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	rule := a.def(at.Fn)
	if rule == nil {
		return nil, ir.Errorf(at.P, "@vjp(%s): no such def", at.Fn)
	}
	ps := freshParams(fnOf{def: d}, d.P)
	ybar := ir.NewVar("ybar", d.Result, d.P)
	blk := &block{pos: d.P}
	y := blk.bind("y", &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: d.P}, Args: asExprs(ps), T: d.Result, P: d.P})
	xbar := &ir.Call{Fn: &ir.Global{Name: rule.Name, T: rule.Type(), P: at.P}, Args: []ir.Expr{pack(blk, ps), ybar}, T: rule.Result, P: at.P}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: d.P}), P: d.P}, nil
}

// transposedJVP gives reverse mode to a def that has only a custom JVP: at
// a fixed x, dx -> jvp(x, dx).1 is linear, so its VJP (taken at dx = 0)
// is its transpose, as in JAX.
func (a *expander) transposedJVP(d *ir.Def) (*ir.Lambda, error) {
	at := d.Attr("jvp")
	rule := a.def(at.Fn)
	if rule == nil {
		return nil, ir.Errorf(at.P, "@jvp(%s): no such def", at.Fn)
	}
	bad, check := verdict(a.linearityOf(rule))
	if bad != nil {
		pos := bad.pos
		if !pos.IsValid() {
			pos = rule.P
		}
		need := ""
		if len(a.ops) > 0 {
			pc := a.ops[len(a.ops)-1]
			need = fmt.Sprintf(" (for %s at %s)", pc.Op.Name, pc.P)
		}
		return nil, ir.Errorf(pos, "the @jvp rule %s of %s is not linear in its tangent: %s; reverse mode%s transposes the rule, so it must be linear (give %s a @vjp rule as well, or fix the rule)",
			at.Fn, d.Name, bad.why, need, d.Name)
	}
	j, err := a.jvpDef(d, d.P)
	if err != nil {
		return nil, err
	}
	pos := d.P
	ps := freshParams(fnOf{def: d}, pos)
	dxs := freshParams(fnOf{def: d}, pos)
	jcall := func(blk *block, dx []ir.Expr) ir.Expr {
		r := blk.bind("r", &ir.Call{Fn: &ir.Global{Name: j.Name, T: j.Type(), P: pos}, Args: append(asExprs(ps), dx...), T: j.Result, P: pos})
		return &ir.Proj{X: r, Index: 1, P: pos}
	}
	// lin(dx..) = jvp(x.., dx..).1 with x free.
	lb := &block{pos: pos}
	lin, err := a.vjpLambda(dxs, lb.close(jcall(lb, asExprs(dxs))), pos)
	if err != nil {
		return nil, err
	}
	ybar := ir.NewVar("ybar", d.Result, pos)
	blk := &block{pos: pos}
	y := blk.bind("y", &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: pos}, Args: asExprs(ps), T: d.Result, P: pos})
	var zeros []ir.Expr
	for _, p := range ps {
		zeros = append(zeros, zero(blk, p))
	}
	t := blk.bind("t", apply(lin, append(zeros, ybar), pos))
	xbar := blk.bind("xbar", &ir.Proj{X: t, Index: 1, P: pos})
	if check {
		cb := &block{pos: at.P}
		msg := fmt.Sprintf("the @jvp rule %s of %s is not linear in its tangent here (%s(x, 0) must be 0, and %s(x, u + v) = %s(x, u) + %s(x, v) on a probe); reverse mode transposes the rule, so it must be linear (give %s a @vjp rule as well, or fix the rule)",
			at.Fn, d.Name, at.Fn, at.Fn, at.Fn, at.Fn, d.Name)
		xbar = linearCheck(cb, jcall, ps, xbar, msg)
		blk.binds = append(blk.binds, cb.binds...)
	}
	return &ir.Lambda{Params: append(ps, ybar), Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, xbar}, P: pos}), P: pos}, nil
}

// fwdTail is fwd for the body of the function being differentiated, whose
// result has the cotangent seed and nothing else. A call in tail position
// (after lets) runs the callee's VJP at once with that seed: it computes
// the call's value as well, so the callee's forward pass runs once rather
// than twice (the call now, its VJP recomputing it in the backward sweep).
// This is the shape of grad(fn(w) => loss(w, data)).
func (r *rev) fwdTail(blk *block, e ir.Expr, seed ir.Expr) (ir.Expr, error) {
	if !r.activeExpr(e) {
		return r.fwd(blk, e)
	}
	switch e := e.(type) {
	case *ir.Let:
		p, err := r.fwd(blk, e.Value)
		if err != nil {
			return nil, err
		}
		r.ren[e.Var] = p
		r.bound(e)
		return r.fwdTail(blk, e.Body, seed)
	case *ir.Call:
		g, ok := e.Fn.(*ir.Global)
		if !ok {
			break
		}
		d := r.a.lookup(g.Name)
		if d == nil {
			break
		}
		args, err := r.atoms(blk, e.Args)
		if err != nil {
			return nil, err
		}
		v, err := r.a.vjpDefFor(d, r.activeArgs(args))
		if err != nil {
			return nil, err
		}
		res := blk.bind("r", &ir.Call{Fn: &ir.Global{Name: v.Name, T: v.Type(), P: e.P}, Args: append(append([]ir.Expr(nil), args...), seed), T: v.Result, P: e.P})
		y := r.record(blk, "y", &ir.Proj{X: res, Index: 0, P: e.P}, e, args)
		r.steps[len(r.steps)-1].aux = res // backCall takes the cotangents from res
		r.steps[len(r.steps)-1].vjpName = v.Name
		return y, nil
	}
	return r.fwd(blk, e)
}

func (r *rev) backCall(blk *block, st step, e *ir.Call, ybar ir.Expr) error {
	if st.split != nil {
		r.backCallSplit(blk, st, e, ybar)
		return nil
	}
	res := st.aux // a tail call's VJP, already run (fwdTail)
	if res == nil {
		d := r.a.lookup(e.Fn.(*ir.Global).Name)
		if d == nil {
			return ir.Errorf(e.P, "reverse mode: unknown def")
		}
		v, err := r.a.vjpDefFor(d, r.activeArgs(st.args))
		if err != nil {
			return err
		}
		st.vjpName = v.Name
		res = blk.bind("r", &ir.Call{Fn: &ir.Global{Name: v.Name, T: v.Type(), P: e.P}, Args: append(append([]ir.Expr(nil), st.args...), ybar), T: v.Result, P: e.P})
	}
	xbar := blk.bind("xbar", &ir.Proj{X: res, Index: 1, P: e.P})
	if st.vjpName != e.Fn.(*ir.Global).Name+"$vjp" {
		// A version with the active parameters' cotangents only.
		k := 0
		for i, keep := range kept(r.a.lookup(e.Fn.(*ir.Global).Name), r.activeArgs(st.args)) {
			if keep {
				r.addTo(blk, st.args[i], blk.bind("g", &ir.Proj{X: xbar, Index: k, P: e.P}))
				k++
			}
		}
		return nil
	}
	if len(st.args) == 1 {
		r.addTo(blk, st.args[0], xbar)
		return nil
	}
	for i, x := range st.args {
		if r.isActive(x) {
			r.addTo(blk, x, blk.bind("g", &ir.Proj{X: xbar, Index: i, P: e.P}))
		}
	}
	return nil
}

// A splitVJP is a def's reverse mode cut in two defs: fwd computes the
// def's value and the tape of values its reverse pass reads, (y, tape);
// bwd maps (tape, ybar) to the tuple of the kept parameters' cotangents.
type splitVJP struct {
	fwd, bwd *ir.Def
	kept     []bool
	decides  bool // bwd reads decisions fwd took (see recomputeDeciding)
	// What bwdFor needs to sweep back again for other seeds: the reverse
	// transformation as the forward sweep left it, the body's result, the
	// forward code, the parameters and the tape's variables.
	pre      *rev
	y        ir.Expr
	cut      *cut
	ps, tape []*ir.Var
	variants map[string]*bwdVariant
	batches  map[string]*ir.Def // backward defs for several seeds (batchDef)
}

// splitDef returns d's split VJP for the given active arguments, or nil
// for a def whose VJP cannot be split (custom rules). A call that is not
// in tail position uses it, so that the callee's primal runs once, in the
// forward sweep, instead of again inside its VJP in the backward sweep.
func (a *expander) splitDef(d *ir.Def, active []bool) (*splitVJP, error) {
	if d.Attr("vjp") != nil || d.Attr("jvp") != nil || d.Attr("implicit") != nil {
		return nil, nil
	}
	if src, ok := a.vjpSrc[d.Name]; ok && !src.flat {
		// d is a VJP def whose own calls are split: split its twin with
		// flat tapes, the same function, which calls plainly (as
		// vjpDefFor reverses it). Splitting d itself would split the
		// halves of its calls' split VJPs in turn, two new defs for each
		// at every level of nesting: grad nested n deep made 2^n defs,
		// each with a longer tape (docs/benchmarks.md, stop 26).
		twin, err := a.vjpDefGen(src.def, src.active, true)
		if err != nil {
			return nil, err
		}
		d = twin
	}
	keep := kept(d, active)
	var sb []byte
	for _, k := range keep {
		sb = append(sb, '0')
		if k {
			sb[len(sb)-1] = '1'
		}
	}
	key := d.Name + "$split_" + string(sb)
	if s := a.splits[key]; s != nil {
		return s, nil
	}
	done, err := a.enter(key, d, d.P)
	if err != nil {
		return nil, err
	}
	defer done()
	// Nested tapes, but for a body lifted (vjp_lift.go) in code with flat
	// tapes, which may be differentiated again.
	defer a.flatTapes(a.flat && d.Attr(liftedAttr) != nil)()
	// A split def's backward code may run once per seed (a Jacobian's
	// rows): it recomputes no operation on views (vjp_again.go).
	defer a.savingViews()()
	pos := d.P
	r := newRev(a)
	ps := make([]*ir.Var, len(d.Params))
	for i, p := range d.Params {
		ps[i] = ir.NewVar(p.Name, p.T, pos)
		r.ren[p] = ps[i]
		if ir.IsDifferentiable(p.T) && keep[i] {
			r.act[ps[i]] = true
		}
	}
	body := d.BodyWithSizes()
	k := &cut{fwd: &block{pos: pos}, views: map[*ir.Var]ir.Expr{}}
	y, err := r.fwd(k.fwd, body)
	if err != nil {
		return nil, err
	}
	pre := r.snapshot()
	bb := &block{pos: pos}
	ybar := ir.NewVar("ybar", body.Type(), pos)
	r.addTo(bb, y, ybar)
	if err := r.backward(bb); err != nil {
		return nil, err
	}
	var bars []ir.Expr
	for i, p := range ps {
		if keep[i] {
			bars = append(bars, r.get(bb, p))
		}
	}
	for _, st := range r.steps {
		if v, ok := st.aux.(*ir.Var); ok && st.split != nil {
			// The tape of a split call in d's body goes on d's tape, as
			// the VJP def keeps it: recomputed (an inactive value to
			// recomputeDeciding) it would run the callee's forward pass
			// again in every bwd, which costs most when several bwds
			// share one fwd (shareForward).
			r.act[v] = true
			pre.act[v] = true
		}
	}
	bwd, tape, decs := recomputeDeciding(r, k, ps, bb.close(&ir.MakeTuple{Elems: bars, P: pos}), true)
	tape = append(tape, decs...)
	elems := make([]ir.Expr, len(tape))
	for i, v := range tape {
		elems[i] = v
	}
	tt := &ir.MakeTuple{Elems: elems, P: pos}
	fwdBody := k.fwd.close(&ir.MakeTuple{Elems: []ir.Expr{y, tt}, P: pos})
	fwd := &ir.Def{Name: key + "$fwd", Params: ps, HasParams: true, Result: fwdBody.Type(), Body: fwdBody, P: pos}
	decides := len(decs) > 0 || comparesNumbers(bwd)
	if decides {
		// The forward sweep calls fwd, and a comprehension's reverse pass
		// calls it again to recompute the tape it did not save. Inlined,
		// each copy would be rewritten in its own context (log(1 + x*x)
		// lowered to log1p(x*x) in one and not the other), and at a tie
		// bwd would follow the branch the forward sweep did not take.
		// Called, both run the one rewritten body and get the same
		// decisions and tape (saving them instead cost 5 times the
		// time), and bwd's own comparisons of tape values (the
		// derivative of max, abs, relu) agree with fwd's.
		fwd.Attrs = []ir.Attr{{Name: "noinline", P: pos}}
	}
	tp := ir.NewVar("tape", tt.Type(), pos)
	tb := &block{pos: pos}
	sub := map[*ir.Var]ir.Expr{}
	for i, v := range tape {
		sub[v] = tb.bindVar(v.Name, &ir.Proj{X: tp, Index: i, P: pos})
	}
	bwdBody := tb.close(ir.Subst(bwd, sub))
	back := &ir.Def{Name: key + "$bwd", Params: []*ir.Var{tp, ybar}, HasParams: true, Result: bwdBody.Type(), Body: bwdBody, P: pos}
	s := &splitVJP{fwd: fwd, bwd: back, kept: keep, decides: decides, pre: pre, y: y, cut: k, ps: ps, tape: tape}
	a.splits[key] = s
	a.out.Add(fwd)
	a.out.Add(back)
	return s, nil
}

// fwdCallSplit emits a call that is not in tail position as a call of
// the callee's split forward def, saving its tape for backCall.
func (r *rev) fwdCallSplit(blk *block, e *ir.Call, args []ir.Expr) (ir.Expr, error) {
	if r.a.flat {
		return nil, nil // code that may be differentiated again calls plainly
	}
	d := r.a.lookup(e.Fn.(*ir.Global).Name)
	if d == nil {
		return nil, nil
	}
	s, err := r.a.splitDef(d, r.activeArgs(args))
	if s == nil || err != nil {
		return nil, err
	}
	r.decides = r.decides || s.decides
	t := blk.bind("t", &ir.Call{Fn: &ir.Global{Name: s.fwd.Name, T: s.fwd.Type(), P: e.P}, Args: args, T: s.fwd.Result, P: e.P})
	tape := blk.bind("tape", &ir.Proj{X: t, Index: 1, P: e.P})
	y := r.record(blk, "y", &ir.Proj{X: t, Index: 0, P: e.P}, e, args)
	st := &r.steps[len(r.steps)-1]
	st.aux, st.split = tape, s
	return y, nil
}

// backCallSplit runs the split backward def of a call on its tape.
func (r *rev) backCallSplit(blk *block, st step, e *ir.Call, ybar ir.Expr) {
	s := st.split
	xbar := blk.bind("xbar", &ir.Call{Fn: &ir.Global{Name: s.bwd.Name, T: s.bwd.Type(), P: e.P}, Args: []ir.Expr{st.aux, ybar}, T: s.bwd.Result, P: e.P})
	k := 0
	for i, keep := range s.kept {
		if keep {
			r.addTo(blk, st.args[i], blk.bind("g", &ir.Proj{X: xbar, Index: k, P: e.P}))
			k++
		}
	}
}

// comparesNumbers reports whether e calls a primitive whose result jumps
// as its f64 operands move (a comparison, sign, floor, argmax, the
// indicators of the derivatives of max, min and relu): a decision on
// numbers. Primitives that read only an array's sizes, or pass a value
// on (stop_gradient), do not decide.
func comparesNumbers(e ir.Expr) bool {
	if pc, ok := e.(*ir.PrimCall); ok && pc.Op.NoDerivative && !sizesOnly[pc.Op] {
		for _, a := range pc.Args {
			if carriesF64(a.Type()) {
				return true
			}
		}
	}
	return slices.ContainsFunc(ir.Children(e), comparesNumbers)
}

// sizesOnly are the primitives without derivative that do not decide on
// their f64 operands' values.
var sizesOnly = map[*ir.Prim]bool{
	ir.PrimLen: true, ir.PrimDim: true, ir.PrimZerosLike: true, ir.PrimStopGradient: true,
	ir.PrimLoopSave: true, ir.PrimWhileSave: true,
}
