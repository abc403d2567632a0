// Lifted bodies: an if's branch, a while loop's body, a fold's or scan's
// operator that decides on numbers, run by both sweeps as one def.

package ad

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// A lifted body is code that reverse mode would otherwise run twice as
// two copies: once as plain code in the forward sweep (the branch the if
// takes, the body while_save iterates, the operator of a fold or a scan)
// and once more in the reverse pass, recomputed from its saved inputs
// (nested). The rewrite stage may round two copies differently
// (log(1 + x*x) lowered to log1p(x*x) in one of them only), and a
// decision on a tie inside them would then go one way in the forward
// sweep and the other in the reverse pass: the gradient of a branch the
// function did not take. Lifted, the body becomes a def of its own
// parameters and free variables, whose split forward def (kept out of
// line) both sweeps call on the same arguments: the forward sweep for
// the value, the reverse pass again for the tape its backward def reads.
// Only code that decides on numbers is lifted (decidesOnNumbers); other
// code keeps the cheaper plain copies.
type lifted struct {
	split *splitVJP
	own   int       // the leading parameters, bound by the construct (a loop's state, an operator's operands)
	free  []*ir.Var // the others: the body's free variables, in the names the body was lifted in
}

// liftedAttr marks the defs lift makes (never part of the program: only
// their split halves are), so that splitDef keeps the caller's flat
// tapes for them.
const liftedAttr = "lifted"

// lift returns body lifted as a def of own (whose activity ownActive
// gives) and its free variables, or nil to keep it as plain copies when
// it decides on no numbers or has nothing to differentiate. In code
// with flat tapes the split has flat tapes too (splitDef).
func (r *rev) lift(kind string, own []*ir.Var, ownActive []bool, body ir.Expr, pos ir.Pos) (*lifted, error) {
	if !r.a.decidesOnNumbers(body) {
		return nil, nil
	}
	params := slices.Clone(own)
	active := slices.Clone(ownActive)
	var free []*ir.Var
	for _, v := range ir.FreeVars(body) {
		if slices.Contains(own, v) {
			continue
		}
		if isFuncType(v.T) {
			return nil, nil // a def takes no function values here
		}
		free = append(free, v)
		params = append(params, v)
		active = append(active, r.isActive(r.atomOf(v)))
	}
	if !slices.Contains(active, true) {
		return nil, nil // nothing to differentiate: no tape, no reverse pass
	}
	r.a.lifts++
	d := &ir.Def{Name: fmt.Sprintf("%s$%d", kind, r.a.lifts), Params: params, HasParams: true, Result: body.Type(), Body: body, P: pos,
		Attrs: []ir.Attr{{Name: liftedAttr, P: pos}}}
	s, err := r.a.splitDef(d, active)
	if s == nil || err != nil {
		return nil, err
	}
	// Out of line even when the backward def reads no decision: both
	// sweeps must get the one rewritten body.
	if s.fwd.Attr("noinline") == nil {
		s.fwd.Attrs = append(s.fwd.Attrs, ir.Attr{Name: "noinline", P: pos})
	}
	r.decides = true
	return &lifted{split: s, own: len(own), free: free}, nil
}

// args are the arguments of a call of l's defs: own's atoms, then the
// free variables' atoms in r.
func (l *lifted) args(r *rev, own []ir.Expr) []ir.Expr {
	out := slices.Clone(own)
	for _, v := range l.free {
		out = append(out, r.atomOf(v))
	}
	return out
}

// value is the body's value computed by l's forward def: the plain code
// of the forward sweep.
func (l *lifted) value(r *rev, own []ir.Expr, pos ir.Pos) ir.Expr {
	fwd := l.split.fwd
	call := &ir.Call{Fn: &ir.Global{Name: fwd.Name, T: fwd.Type(), P: pos}, Args: l.args(r, own), T: fwd.Result, P: pos}
	return &ir.Proj{X: call, Index: 0, P: pos}
}

// lambda is fn(params) => the body's value by l's forward def, the
// operand of while_save, loop_save, fold or scan in the forward sweep.
func (l *lifted) lambda(r *rev, params []*ir.Var, pos ir.Pos) *ir.Lambda {
	ps := make([]*ir.Var, len(params))
	own := make([]ir.Expr, len(params))
	for i, p := range params {
		ps[i] = ir.NewVar(p.Name, p.T, pos)
		own[i] = ps[i]
	}
	return &ir.Lambda{Params: ps, Body: l.value(r, own, pos), P: pos}
}

// reverseBody is the reverse pass of a nested body, as nested runs it:
// when l is set, by calling l's forward def again (the same values and
// decisions as the forward sweep's call) and its backward def on the
// tape, with own the variables bind binds to the construct's parameters.
func (r *rev) reverseBody(blk *block, body ir.Expr, l *lifted, own []*ir.Var, bind func(c *rev), seed ir.Expr, free []*ir.Var, states []ir.Expr) (*rev, []ir.Expr, error) {
	if l == nil {
		return r.nested(blk, body, bind, seed, free, states)
	}
	c := r.child(body)
	bind(c)
	for i, f := range free {
		c.setState(blk, f, states[i])
	}
	ownAtoms := make([]ir.Expr, len(own))
	for i, v := range own {
		ownAtoms[i] = c.atomOf(v)
	}
	args := l.args(c, ownAtoms)
	s, pos := l.split, blk.pos
	t := blk.bind("t", &ir.Call{Fn: &ir.Global{Name: s.fwd.Name, T: s.fwd.Type(), P: pos}, Args: args, T: s.fwd.Result, P: pos})
	tape := blk.bind("tape", &ir.Proj{X: t, Index: 1, P: pos})
	xbar := blk.bind("xbar", &ir.Call{Fn: &ir.Global{Name: s.bwd.Name, T: s.bwd.Type(), P: pos}, Args: []ir.Expr{tape, seed}, T: s.bwd.Result, P: pos})
	k := 0
	for i, keep := range s.kept {
		if keep {
			c.addTo(blk, args[i], blk.bind("g", &ir.Proj{X: xbar, Index: k, P: pos}))
			k++
		}
	}
	out := make([]ir.Expr, len(free))
	for i, f := range free {
		out[i] = c.state(blk, f)
	}
	return c, out, nil
}

// decidesOnNumbers reports whether e makes a decision on numbers: a
// comparison or another primitive whose value jumps as its f64 operands
// move (comparesNumbers, %), directly or in a def it calls.
func (a *expander) decidesOnNumbers(e ir.Expr) bool {
	if comparesNumbers(e) {
		return true
	}
	var walk func(e ir.Expr) bool
	walk = func(e ir.Expr) bool {
		switch e := e.(type) {
		case *ir.Call:
			if g, ok := e.Fn.(*ir.Global); ok && a.defDecides(g.Name) {
				return true
			}
		case *ir.PrimCall:
			// % of integers is exact; of numbers it jumps.
			if jumps[e.Op] && slices.ContainsFunc(e.Args, func(x ir.Expr) bool { return carriesF64(x.Type()) }) {
				return true
			}
		}
		return slices.ContainsFunc(ir.Children(e), walk)
	}
	return walk(e)
}

// defDecides is decidesOnNumbers of a def's body, decided once per def;
// a def met again while it is being decided counts as one that does not
// (its body is being looked at already).
func (a *expander) defDecides(name string) bool {
	if a.decideDefs == nil {
		a.decideDefs = map[string]bool{}
	}
	if v, ok := a.decideDefs[name]; ok {
		return v
	}
	d := a.lookup(name)
	if d == nil || d.Body == nil {
		return false
	}
	a.decideDefs[name] = false
	v := a.decidesOnNumbers(d.Body)
	a.decideDefs[name] = v
	return v
}
