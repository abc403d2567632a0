package rewrite

// Cotangent-only VJPs: calls of a VJP def whose caller reads only the
// cotangents.
//
// A VJP def f$vjp(x.., ybar) returns (f(x..), cotangents), and most of its
// callers read only the second field: grad's expansion
// (rosen$vjp(x, 1.0).1) and the reverse pass of a call inside
// differentiated code. The primal result then costs whatever the forward
// sweep computes for it alone (the LSTM's per-step loss, GMM's per-point
// log-likelihoods), and deadfield cannot remove that work across the call.
//
// simplify's rule cot_only rewrites such a call D(a..).1 to D$cot(a..).1,
// where D$cot, D's twin, is made on first use from D as reverse mode
// produced it: the same parameters and the body let r = <D's body> in
// (0, r.1), the same cotangents with a constant in place of the primal.
// The twin is rewritten at once with the default strategy (and D's
// checkpointing policy), so that the primal-only work goes (simplify,
// deadfield and dce drop it, keeping whatever might fail, as they do
// everywhere), and it is placed in the program before the def that first
// called it. Values, errors and their positions are D's: D$cot evaluates
// D's body, and backtraces name the twin D (ir.Def.Origin). D itself
// stays, for callers that read the primal and for the Go API.
//
// Only defs made by reverse mode (a $vjp name, no size variables or
// @strategy of their own) whose result is a pair with a scalar first
// field have twins, and only when the defs are rewritten with their own
// strategies: under an explicit one (Options.Strategy, nabla opt
// --strategy) the rule does nothing, so a strategy under test sees the
// program as reverse mode made it.

import (
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// cotSuffix names a VJP def's cotangent-only twin.
const cotSuffix = "$cot"

// cotState is the rewrite's bookkeeping of twins: the twins made (nil
// while one is being rewritten, so that a recursive call finds its name),
// those whose rewrite failed, and those made during the current def, to
// be placed before it.
type cotState struct {
	opts   Options
	trace  *Trace
	twins  map[string]*ir.Def
	failed map[string]bool
	fresh  []*ir.Def
}

func newCotState(opts Options, trace *Trace) *cotState {
	return &cotState{opts: opts, trace: trace, twins: map[string]*ir.Def{}, failed: map[string]bool{}}
}

// cotOnly is simplify's rule cot_only: D(a..).1 => D$cot(a..).1. The
// value is the same array, computed afresh either way.
var cotOnly = goRule{name: "cot_only", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
	pj, ok := e.(*ir.Proj)
	if !ok || pj.Index != 1 || c.env.cot == nil {
		return nil, false
	}
	call, ok := pj.X.(*ir.Call)
	if !ok {
		return nil, false
	}
	g, ok := call.Fn.(*ir.Global)
	if !ok {
		return nil, false
	}
	name, ok := c.env.twin(g.Name)
	if !ok {
		return nil, false
	}
	ng := &ir.Global{Name: name, T: g.T, P: g.P}
	return &ir.Proj{X: &ir.Call{Fn: ng, Args: call.Args, T: call.T, P: call.P}, Index: 1, P: pj.P}, true
}}

// twin returns the name of the twin of the def called name, making and
// rewriting the twin on first use; ok is false when the def has none.
func (e *env) twin(name string) (string, bool) {
	tn := name + cotSuffix
	if e.cot.failed[tn] {
		return "", false
	}
	if _, made := e.cot.twins[tn]; made {
		return tn, true // done, or being rewritten (a recursive call)
	}
	d := e.prog.Def(name)
	if d == nil || !twinnable(d) || e.prog.Def(tn) != nil {
		return "", false
	}
	e.cot.twins[tn] = nil
	nd, err := e.applyDef(cotDef(d), nil, "", e.cot.trace, e.cot.opts)
	if err != nil {
		// The call keeps D, which is correct; only the pruning is lost.
		delete(e.cot.twins, tn)
		e.cot.failed[tn] = true
		return "", false
	}
	e.cot.twins[tn] = nd
	e.done[tn] = nd
	e.cot.fresh = append(e.cot.fresh, nd)
	return tn, true
}

// twinnable reports whether d is a VJP def whose primal result can be
// replaced by a constant: made by reverse mode and returning (scalar,
// cotangents).
func twinnable(d *ir.Def) bool {
	if d.Body == nil || !d.HasParams || len(d.SizeVars) != 0 || d.Attr("strategy") != nil ||
		!strings.Contains(d.Name, "$vjp") || strings.HasSuffix(d.Name, cotSuffix) {
		return false
	}
	tt, ok := d.Result.(*ir.Tuple)
	if !ok || len(tt.Elems) != 2 {
		return false
	}
	_, ok = zeroOf(tt.Elems[0])
	return ok
}

// zeroOf is a constant of scalar type t.
func zeroOf(t ir.Type) (any, bool) {
	switch t {
	case ir.TF64:
		return float64(0), true
	case ir.TI64:
		return int64(0), true
	case ir.TBool:
		return false, true
	}
	return nil, false
}

// cotDef makes d's twin: fresh parameters, and the body
// let r = body in (0, r.1).
func cotDef(d *ir.Def) *ir.Def {
	sub := map[*ir.Var]ir.Expr{}
	ps := make([]*ir.Var, len(d.Params))
	for i, p := range d.Params {
		ps[i] = ir.NewVar(p.Name, p.T, p.P)
		sub[p] = ps[i]
	}
	body := ir.Subst(d.Body, sub)
	zero, _ := zeroOf(d.Result.(*ir.Tuple).Elems[0])
	r := ir.NewVar("r", d.Result, d.P)
	nd := *d
	nd.Name = d.Name + cotSuffix
	nd.Params = ps
	nd.Body = &ir.Let{Var: r, Value: body, P: d.P,
		Body: &ir.MakeTuple{Elems: []ir.Expr{&ir.Const{Val: zero, P: d.P}, &ir.Proj{X: r, Index: 1, P: d.P}}, P: d.P}}
	nd.Origin = d.FrameName()
	return &nd
}
