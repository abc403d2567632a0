package ad

import (
	"context"
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/specialize"
)

// Expand returns a program in which every AD operator has been replaced by
// ordinary IR: generated defs such as f$jvp and f$vjp, and code that calls
// them. The input program is not modified. Errors carry positions.
func Expand(p *ir.Program) (*ir.Program, error) {
	return ExpandContext(context.Background(), p)
}

// ExpandContext is Expand, stopped when ctx is done: it then returns, soon
// after, an error wrapping ctx.Err().
func ExpandContext(ctx context.Context, p *ir.Program) (*ir.Program, error) {
	out, err := ExpandMarked(ctx, p)
	if err != nil {
		return nil, err
	}
	return ir.ResolveRematProgram(out)
}

// ExpandMarked is ExpandContext leaving checkpointing to the rewrite
// stage: a comprehension of a VJP def that reverse mode may either save
// or recompute is emitted in both forms, joined by checkpointing points
// (ir.PrimRemat), which the rewrite stage's policy decides (package
// rewrite, pass remat). ExpandContext decides them by the default policy
// instead, for code that is run without the rewrite stage.
func ExpandMarked(ctx context.Context, p *ir.Program) (out *ir.Program, err error) {
	// Function values must be static: specialization makes them so (and
	// does nothing to a program that has been through it already).
	p, err = specialize.Program(p)
	if err != nil {
		return nil, err
	}
	a := &expander{
		src:        p,
		out:        ir.NewProgram(nil),
		jvps:       map[string]*ir.Def{},
		vjps:       map[string]*ir.Def{},
		vjpSrc:     map[string]vjpSource{},
		splits:     map[string]*splitVJP{},
		lins:       map[string]*linDefs{},
		jvpPrimals: map[string]int{},
		shared:     map[*ir.Call]bool{},
		plain:      map[*ir.Def]*ir.Def{},
		exp:        map[string]*ir.Def{},
		state:      map[string]int{},
		ctx:        ctx,
		busy:       map[string]bool{},

		noForward:  map[error]bool{},
		branchFree: map[string]bool{},
	}
	a.out.Rules, a.out.Strats = p.Rules, p.Strats
	defer func() {
		// A bug must not bring down the embedding program: report it
		// where the operator being expanded is.
		if r := recover(); r != nil {
			var pos ir.Pos
			if len(a.ops) > 0 {
				pos = a.ops[len(a.ops)-1].P
			}
			out, err = nil, ir.ErrorList{ir.Errorf(pos, "internal error in automatic differentiation: %v", r)}
		}
	}()
	for _, d := range p.Defs {
		a.def(d.Name)
	}
	if a.cancelled != nil {
		return nil, a.cancelled
	}
	if len(a.errs) > 0 {
		return nil, a.errs
	}
	return dropUnreached(a.out), nil
}

// dropUnreached removes the defs that AD made (names with a '$') and that
// no def of the source reaches through calls, attributes or reverse
// mode's recomputation notes. Derivatives of higher order make such defs
// on the way (a VJP def's flat twin once the def is split, say), and the
// stages after AD would otherwise optimize and check code nothing can
// run: about a quarter of the AD output of grad nested n deep.
func dropUnreached(p *ir.Program) *ir.Program {
	reached := map[string]bool{}
	var stack []*ir.Def
	mark := func(name string) {
		if d := p.Def(name); d != nil && !reached[name] {
			reached[name] = true
			stack = append(stack, d)
		}
	}
	for _, d := range p.Defs {
		if !strings.Contains(d.Name, "$") {
			mark(d.Name)
		}
	}
	visit := func(x ir.Expr, enter bool) {
		if g, ok := x.(*ir.Global); ok && enter {
			mark(g.Name)
		}
	}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ir.Walk(d.Body, visit, nil)
		for _, at := range d.Attrs {
			mark(at.Fn)
		}
		for _, n := range d.Recomputed {
			ir.Walk(n.Expr, visit, nil)
		}
	}
	if len(reached) == len(p.Defs) {
		return p
	}
	kept := make([]*ir.Def, 0, len(reached))
	for _, d := range p.Defs {
		if reached[d.Name] {
			kept = append(kept, d)
		}
	}
	out := ir.NewProgram(kept)
	out.Rules, out.Strats = p.Rules, p.Strats
	return out
}

// tick counts one step of the transformation (a node of a sweep), and
// every checkEvery steps looks at the context. Once it is done, every
// tick returns the same error, which the sweeps return as they do their
// own errors.
func (a *expander) tick() error {
	if a.cancelled != nil {
		return a.cancelled
	}
	if a.steps++; a.steps%checkEvery != 0 || a.ctx == nil {
		return nil
	}
	if err := a.ctx.Err(); err != nil {
		a.cancelled = fmt.Errorf("automatic differentiation: %w", err)
		return a.cancelled
	}
	return nil
}

// checkEvery is how many steps pass between looks at the context.
const checkEvery = 1024

// HasADOperators reports whether any def of p uses an AD operator.
func HasADOperators(p *ir.Program) bool {
	found := false
	for _, d := range p.Defs {
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if pc, ok := x.(*ir.PrimCall); ok && enter && pc.Op.AD == ir.ADOperator {
				found = true
			}
		}, nil)
	}
	return found
}

type expander struct {
	src   *ir.Program
	out   *ir.Program
	errs  ir.ErrorList
	jvps  map[string]*ir.Def // generated forward-mode defs, by source def
	vjps  map[string]*ir.Def // generated reverse-mode defs, by source def
	exp   map[string]*ir.Def // expanded defs, by name
	state map[string]int     // 1 while a def is being expanded
	ops   []*ir.PrimCall     // the AD operators being expanded, innermost last
	busy  map[string]bool    // derivative defs being generated

	vjpSrc map[string]vjpSource // what each VJP def was generated from
	splits map[string]*splitVJP // split VJPs of defs, by def and kept parameters
	// jvpPrimals counts the primal parameters of each JVP def, and lins
	// holds their splits (linearize.go; nil: cannot be split).
	jvpPrimals map[string]int
	lins       map[string]*linDefs
	shared     map[*ir.Call]bool   // VJP calls shareForward has looked at
	plain      map[*ir.Def]*ir.Def // defs with their checkpointing points resolved (plainDef)
	remats     int64               // the checkpointing points emitted so far (fwdMapMarked)
	flat       bool                // the reverse-mode code being generated keeps its tapes flat
	// saveViews: the def being differentiated names save_all, so no
	// operation on views is recomputed (vjp_again.go); notes collects
	// those recomputed for the VJP def being generated.
	saveViews bool
	notes     *[]ir.RematNote

	// noForward holds the errors of forwardAllowed, which forward mode
	// recognizes in a callee's failure (fwd.call).
	noForward map[error]bool
	// branchFree caches defCannotBranch, by def.
	branchFree map[string]bool
	// lifts numbers the bodies reverse mode lifts into defs, and
	// decideDefs caches defDecides, by def (vjp_lift.go).
	lifts      int
	decideDefs map[string]bool

	ctx       context.Context
	steps     int
	cancelled error // wraps ctx.Err() once the context is done
}

func (a *expander) errorf(pos ir.Pos, format string, args ...any) {
	a.record(ir.Errorf(pos, format, args...))
}

// record adds e unless the same message at the same position is there
// already: a def expanded or differentiated several times (nested
// derivatives) would otherwise repeat it.
func (a *expander) record(e *ir.Error) {
	for _, old := range a.errs {
		if old.Pos == e.Pos && old.Msg == e.Msg {
			return
		}
	}
	a.errs = append(a.errs, e)
}

// fail records an error, keeping its position if it has one.
func (a *expander) fail(err error) {
	if e, ok := err.(*ir.Error); ok {
		a.record(e)
		return
	}
	a.record(&ir.Error{Msg: err.Error()})
}

// def returns the expanded version of the source def name, expanding it
// (and its callees) on first use.
func (a *expander) def(name string) *ir.Def {
	if d := a.exp[name]; d != nil {
		return d
	}
	src := a.src.Def(name)
	if src == nil || a.state[name] == 1 || a.tick() != nil {
		return nil
	}
	a.state[name] = 1
	d := *src
	d.Params = append([]*ir.Var(nil), src.Params...)
	d.Body = a.expandOps(src.Body, specialize.IsTemplate(src))
	a.exp[name] = &d
	// The program gets the body with shared forward passes; derivatives
	// of d differentiate the plain one, whose VJP calls they can reverse.
	od := d
	od.Body = a.hoistLinear(a.shareForward(d.Params, d.Body))
	a.out.Add(&od)
	a.state[name] = 2
	return &d
}

// lookup finds a def by name: a source def (expanded on demand) or one
// generated by this expansion (f$jvp, f$vjp).
func (a *expander) lookup(name string) *ir.Def {
	if d := a.def(name); d != nil {
		return d
	}
	if d := a.out.Def(name); d != nil {
		return a.plainDef(d)
	}
	return nil
}

// plainDef is d with its checkpointing points (ir.PrimRemat) resolved by
// the default policy, the code transformations of this package read:
// the rewrite stage decides them in the program, after AD, and a
// derivative of derivative code differentiates what runs by default.
func (a *expander) plainDef(d *ir.Def) *ir.Def {
	if p := a.plain[d]; p != nil {
		return p
	}
	p := d
	if d.Body != nil && ir.HasRemat(d.Body) {
		body, err := ir.ResolveRematDefault(d.Body)
		if err != nil {
			a.fail(err)
		} else {
			nd := *d
			nd.Body = body
			p = &nd
		}
	}
	a.plain[d] = p
	return p
}

func isFuncType(t ir.Type) bool { _, ok := t.(*ir.Func); return ok }

// beta applies fn(params) => body to args: function-valued arguments are
// substituted (a fresh copy per use), the others bound by lets.
func beta(params []*ir.Var, body ir.Expr, args []ir.Expr, pos ir.Pos) ir.Expr {
	return ir.Beta(params, body, args, pos, func(p *ir.Var, _ ir.Expr) bool { return isFuncType(p.T) })
}

// ---- expansion of AD operators ----

// expandOps replaces AD operators in e, innermost first. In a template
// (a def with function parameters) an operator applied to a parameter is
// left alone: it is expanded where the template is inlined.
func (a *expander) expandOps(e ir.Expr, template bool) ir.Expr {
	switch e := e.(type) {
	case *ir.Let:
		return &ir.Let{Var: e.Var, Value: a.expandOps(e.Value, template), Body: a.expandOps(e.Body, template), P: e.P}
	case *ir.Lambda:
		return &ir.Lambda{Params: e.Params, Body: a.expandOps(e.Body, template), P: e.P}
	case *ir.Call:
		args := make([]ir.Expr, len(e.Args))
		for i, x := range e.Args {
			args[i] = a.expandOps(x, template)
		}
		fn := a.expandOps(e.Fn, template)
		if lam, ok := fn.(*ir.Lambda); ok {
			return beta(lam.Params, lam.Body, args, e.P)
		}
		if g, ok := fn.(*ir.Global); ok {
			a.ensure(g.Name)
		}
		return &ir.Call{Fn: fn, Args: args, T: e.T, P: e.P}
	case *ir.Global:
		a.ensure(e.Name)
		return e
	case *ir.PrimCall:
		args := make([]ir.Expr, len(e.Args))
		for i, x := range e.Args {
			args[i] = a.expandOps(x, template)
		}
		pc := &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}
		if e.Op.AD != ir.ADOperator {
			return pc
		}
		if template && mentionsFuncVar(args[0]) {
			// An operator on a function parameter of a template, or on a
			// lambda that calls one: expanded in the template's
			// specialized copies, where the function is known. It is
			// expanded in the template as well when that needs no
			// derivative of the unknown function (its calls are
			// inactive, as under stop_gradient), so that code calling the
			// template with a function chosen at run time (the Go
			// packages' callbacks) has the operator expanded too.
			if out, err := a.operator(pc); err == nil {
				return out
			}
			return pc
		}
		out, err := a.operator(pc)
		if err != nil {
			a.fail(err)
			return pc
		}
		return out
	case *ir.MakeTuple:
		elems := make([]ir.Expr, len(e.Elems))
		for i, x := range e.Elems {
			elems[i] = a.expandOps(x, template)
		}
		return &ir.MakeTuple{Elems: elems, P: e.P}
	case *ir.Proj:
		return &ir.Proj{X: a.expandOps(e.X, template), Index: e.Index, P: e.P}
	case *ir.If:
		return &ir.If{Cond: a.expandOps(e.Cond, template), Then: a.expandOps(e.Then, template), Else: a.expandOps(e.Else, template), P: e.P}
	case *ir.Loop:
		l := *e
		l.Init = a.expandOps(e.Init, template)
		if e.Count != nil {
			l.Count = a.expandOps(e.Count, template)
		}
		if e.Cond != nil {
			l.Cond = a.expandOps(e.Cond, template)
		}
		l.Body = a.expandOps(e.Body, template)
		return &l
	}
	return e
}

// mentionsFuncVar reports whether e is, or uses freely, a variable of
// function type (a function parameter of a template).
func mentionsFuncVar(e ir.Expr) bool {
	for _, v := range ir.FreeVars(e) {
		if isFuncType(v.T) {
			return true
		}
	}
	return false
}

// ensure makes sure a referenced def is expanded (and so in the output).
func (a *expander) ensure(name string) {
	if a.src.Def(name) != nil {
		a.def(name)
	}
}

// fnOf is the function an AD operator differentiates, once known: a def
// or a lambda.
type fnOf struct {
	def *ir.Def    // a def with parameters, or
	lam *ir.Lambda // a lambda (its free variables are constants)
}

func (f fnOf) params() []ir.Type {
	var ps []ir.Type
	if f.def != nil {
		for _, p := range f.def.Params {
			ps = append(ps, p.T)
		}
		return ps
	}
	for _, p := range f.lam.Params {
		ps = append(ps, p.T)
	}
	return ps
}

// static resolves an operator's function argument.
func (a *expander) static(e ir.Expr) (fnOf, error) {
	switch f := e.(type) {
	case *ir.Global:
		if d := a.def(f.Name); d != nil && d.HasParams {
			return fnOf{def: d}, nil
		}
	case *ir.Lambda:
		return fnOf{lam: f}, nil
	}
	return fnOf{}, ir.Errorf(e.Pos(), "cannot differentiate a function chosen at run time: pass a def or a lambda")
}

// apply calls a derivative function (a Global or a Lambda) on arguments.
func apply(fn ir.Expr, args []ir.Expr, pos ir.Pos) ir.Expr {
	ft := fn.Type().(*ir.Func)
	if lam, ok := fn.(*ir.Lambda); ok {
		return beta(lam.Params, lam.Body, args, pos)
	}
	return &ir.Call{Fn: fn, Args: args, T: ft.Result, P: pos}
}

// spread turns the point (or tangent) of a k-parameter function into k
// arguments: itself when k = 1, else the fields of the tuple, bound once.
func spread(blk *block, x ir.Expr, k int) []ir.Expr {
	if k == 1 {
		return []ir.Expr{x}
	}
	t := blk.bind("arg", x)
	out := make([]ir.Expr, k)
	for i := range out {
		out[i] = blk.bind("arg", &ir.Proj{X: t, Index: i, P: blk.pos})
	}
	return out
}

// operator expands one AD operator call whose function argument has
// already been expanded.
func (a *expander) operator(pc *ir.PrimCall) (ir.Expr, error) {
	a.ops = append(a.ops, pc)
	defer func() { a.ops = a.ops[:len(a.ops)-1] }()
	f, err := a.static(pc.Args[0])
	if err != nil {
		return nil, err
	}
	blk := &block{pos: pc.P}
	b := blk.builder()
	k := len(f.params())
	switch pc.Op {
	case ir.PrimJVP:
		j, err := a.jvpFunc(f, pc.P)
		if err != nil {
			return nil, err
		}
		args := append(spread(blk, pc.Args[1], k), spread(blk, pc.Args[2], k)...)
		return blk.close(apply(j, args, pc.P)), nil
	case ir.PrimVJP:
		v, err := a.vjpFunc(f, pc.P)
		if err != nil {
			return nil, err
		}
		args := append(spread(blk, pc.Args[1], k), pc.Args[2])
		return blk.close(apply(v, args, pc.P)), nil
	case ir.PrimGrad, ir.PrimValueAndGrad:
		v, err := a.vjpFunc(f, pc.P)
		if err != nil {
			return nil, err
		}
		ps := freshParams(f, pc.P)
		args := append(asExprs(ps), b.F64(1))
		r := &block{pos: pc.P}
		res := r.bind("vg", apply(v, args, pc.P))
		body := ir.Expr(&ir.Proj{X: res, Index: 1, P: pc.P})
		if pc.Op == ir.PrimValueAndGrad {
			body = res
		}
		return &ir.Lambda{Params: ps, Body: r.close(body), P: pc.P}, nil
	case ir.PrimJacfwd, ir.PrimJacrev, ir.PrimHessian:
		return a.jacobian(pc, f)
	case ir.PrimHVP:
		g, err := a.gradLambda(f, pc.P)
		if err != nil {
			return nil, err
		}
		j, err := a.jvpFunc(fnOf{lam: g}, pc.P)
		if err != nil {
			return nil, err
		}
		args := append(spread(blk, pc.Args[1], k), spread(blk, pc.Args[2], k)...)
		r := blk.bind("hv", apply(j, args, pc.P))
		return blk.close(&ir.Proj{X: r, Index: 1, P: pc.P}), nil
	case ir.PrimTaylor, ir.PrimJet:
		return a.taylorOp(pc, f)
	}
	return nil, ir.Errorf(pc.P, "%s: unknown AD operator", pc.Op.Name)
}

func freshParams(f fnOf, pos ir.Pos) []*ir.Var {
	var src []*ir.Var
	if f.def != nil {
		src = f.def.Params
	} else {
		src = f.lam.Params
	}
	out := make([]*ir.Var, len(src))
	for i, p := range src {
		out[i] = ir.NewVar(p.Name, p.T, pos)
	}
	return out
}

func asExprs(vs []*ir.Var) []ir.Expr {
	out := make([]ir.Expr, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// gradLambda is fn(params) => vjp(f)(params, 1.0).1.
func (a *expander) gradLambda(f fnOf, pos ir.Pos) (*ir.Lambda, error) {
	v, err := a.vjpFunc(f, pos)
	if err != nil {
		return nil, err
	}
	ps := freshParams(f, pos)
	r := &block{pos: pos}
	res := r.bind("vg", apply(v, append(asExprs(ps), ir.F64Const(1, pos)), pos))
	return &ir.Lambda{Params: ps, Body: r.close(&ir.Proj{X: res, Index: 1, P: pos}), P: pos}, nil
}

// expr is the function as a value.
func (f fnOf) expr() ir.Expr {
	if f.def != nil {
		return &ir.Global{Name: f.def.Name, T: f.def.Type(), P: f.def.P}
	}
	return ir.Copy(f.lam)
}

// forwardAllowed reports the error of SPEC §6 for a def whose only rule is
// @vjp: it has no forward or Taylor mode, and its body must not be
// differentiated in its place. The error is positioned at the operator
// that needs the derivative, and names the call that reaches the def.
func (a *expander) forwardAllowed(d *ir.Def, mode string, pos ir.Pos) error {
	at := d.Attr("vjp")
	if at == nil || d.Attr("jvp") != nil || d.Attr("implicit") != nil {
		return nil
	}
	where := pos
	op := ""
	if len(a.ops) > 0 {
		pc := a.ops[len(a.ops)-1]
		where, op = pc.P, pc.Op.Name+": "
	}
	via := ""
	if pos.IsValid() && pos != where {
		via = fmt.Sprintf(" (needed at %s)", pos)
	}
	err := ir.Errorf(where, "%s%s mode of %s%s: %s has a @vjp(%s) rule and no @jvp rule, and a def with only a @vjp rule has no forward or Taylor mode (give it a @jvp rule as well)",
		op, mode, d.Name, via, d.Name, at.Fn)
	a.noForward[err] = true
	return err
}

// enter marks the generation of a derivative def (key) as under way, and
// reports the derivative that needs itself: a rule or an implicit
// equation that differentiates, in the same mode, the def it belongs to.
// Without it the expansion would never end; the program's derivative
// would call itself forever.
func (a *expander) enter(key string, d *ir.Def, pos ir.Pos) (func(), error) {
	if a.busy[key] {
		where := pos
		if len(a.ops) > 0 {
			where = a.ops[len(a.ops)-1].P
		}
		return nil, ir.Errorf(where, "cannot differentiate %s: its derivative needs itself (a rule or an implicit equation of %s differentiates %s again in the same mode)", d.Name, d.Name, d.Name)
	}
	a.busy[key] = true
	return func() { delete(a.busy, key) }, nil
}
