package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// Expand returns a program in which every AD operator has been replaced by
// ordinary IR: generated defs such as f$jvp and f$vjp, and code that calls
// them. The input program is not modified. Errors carry positions.
func Expand(p *ir.Program) (*ir.Program, error) {
	a := &expander{
		src:   p,
		out:   ir.NewProgram(nil),
		jvps:  map[string]*ir.Def{},
		vjps:  map[string]*ir.Def{},
		exp:   map[string]*ir.Def{},
		state: map[string]int{},
	}
	a.out.Rules, a.out.Strats = p.Rules, p.Strats
	for _, d := range p.Defs {
		a.def(d.Name)
	}
	if len(a.errs) > 0 {
		return nil, a.errs
	}
	return a.out, nil
}

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
}

func (a *expander) errorf(pos ir.Pos, format string, args ...any) {
	a.errs = append(a.errs, ir.Errorf(pos, format, args...))
}

// fail records an error, keeping its position if it has one.
func (a *expander) fail(err error) {
	if e, ok := err.(*ir.Error); ok {
		a.errs = append(a.errs, e)
		return
	}
	a.errs = append(a.errs, &ir.Error{Msg: err.Error()})
}

// def returns the expanded version of the source def name, expanding it
// (and its callees) on first use.
func (a *expander) def(name string) *ir.Def {
	if d := a.exp[name]; d != nil {
		return d
	}
	src := a.src.Def(name)
	if src == nil || a.state[name] == 1 {
		return nil
	}
	a.state[name] = 1
	d := *src
	d.Params = append([]*ir.Var(nil), src.Params...)
	body := a.normalize(src.Body)
	d.Body = a.expandOps(body, takesFunctions(src))
	a.exp[name] = &d
	a.out.Add(&d)
	a.state[name] = 2
	return &d
}

// takesFunctions reports whether a def has function-typed parameters: such
// a def is a template, specialized at each call by inlining.
func takesFunctions(d *ir.Def) bool {
	for _, p := range d.Params {
		if _, ok := p.T.(*ir.Func); ok {
			return true
		}
	}
	return false
}

func isFuncType(t ir.Type) bool { _, ok := t.(*ir.Func); return ok }

// ---- normalization of function values ----

// normalize inlines what makes functions dynamic: calls of defs with
// function parameters, value defs of function type, lambdas applied
// directly, and let-bound functions. Nabla has no recursion, so this
// terminates.
func (a *expander) normalize(e ir.Expr) ir.Expr {
	switch e := e.(type) {
	case *ir.Var, *ir.Const:
		return e
	case *ir.Global:
		if d := a.src.Def(e.Name); d != nil && !d.HasParams && isFuncType(d.Type()) {
			return a.normalize(ir.Copy(d.Body))
		}
		return e
	case *ir.Let:
		val := a.normalize(e.Value)
		if isFuncType(val.Type()) {
			return a.normalize(substFresh(e.Body, e.Var, val))
		}
		return &ir.Let{Var: e.Var, Value: val, Body: a.normalize(e.Body), P: e.P}
	case *ir.Lambda:
		return &ir.Lambda{Params: e.Params, Body: a.normalize(e.Body), P: e.P}
	case *ir.Call:
		fn := a.normalize(e.Fn)
		args := make([]ir.Expr, len(e.Args))
		for i, x := range e.Args {
			args[i] = a.normalize(x)
		}
		switch f := fn.(type) {
		case *ir.Lambda:
			return a.normalize(beta(f.Params, f.Body, args, e.P))
		case *ir.Global:
			if d := a.src.Def(f.Name); d != nil && d.HasParams && (takesFunctions(d) || isFuncType(d.Result)) {
				if len(d.SizeVars) > 0 {
					// Size variables are bound from the arguments by a let of
					// dim(...) each, as the interpreter would on entry.
					lam := ir.Copy(&ir.Lambda{Params: d.Params, Body: withSizes(d)}).(*ir.Lambda)
					return a.normalize(beta(lam.Params, lam.Body, args, e.P))
				}
				lam := ir.Copy(&ir.Lambda{Params: d.Params, Body: d.Body}).(*ir.Lambda)
				return a.normalize(beta(lam.Params, lam.Body, args, e.P))
			}
		}
		return &ir.Call{Fn: fn, Args: args, T: e.T, P: e.P}
	case *ir.PrimCall:
		args := make([]ir.Expr, len(e.Args))
		for i, x := range e.Args {
			args[i] = a.normalize(x)
		}
		return &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}
	case *ir.MakeTuple:
		elems := make([]ir.Expr, len(e.Elems))
		for i, x := range e.Elems {
			elems[i] = a.normalize(x)
		}
		return &ir.MakeTuple{Elems: elems, P: e.P}
	case *ir.Proj:
		return &ir.Proj{X: a.normalize(e.X), Index: e.Index, P: e.P}
	case *ir.If:
		return &ir.If{Cond: a.normalize(e.Cond), Then: a.normalize(e.Then), Else: a.normalize(e.Else), P: e.P}
	case *ir.Loop:
		l := *e
		l.Init = a.normalize(e.Init)
		if e.Count != nil {
			l.Count = a.normalize(e.Count)
		}
		if e.Cond != nil {
			l.Cond = a.normalize(e.Cond)
		}
		l.Body = a.normalize(e.Body)
		return &l
	}
	return e
}

// withSizes binds a def's size variables at the top of its body, for
// inlining: n = dim(x, axis). (The entry checks of the sizes are not
// repeated: the call's arguments were checked against the types.)
func withSizes(d *ir.Def) ir.Expr {
	body := d.Body
	for i := len(d.SizeVars) - 1; i >= 0; i-- {
		sv := d.SizeVars[i]
		if sv.Param < 0 {
			continue
		}
		dim := &ir.PrimCall{Op: ir.PrimDim, Args: []ir.Expr{d.Params[sv.Param]}, Aux: sv.Axis, T: ir.TI64, P: d.P}
		body = &ir.Let{Var: sv.Var, Value: dim, Body: body, P: d.P}
	}
	return body
}

// beta applies fn(params) => body to args: function-valued arguments are
// substituted (a fresh copy per use), the others bound by lets.
func beta(params []*ir.Var, body ir.Expr, args []ir.Expr, pos ir.Pos) ir.Expr {
	var lets []binding
	for i, p := range params {
		if isFuncType(p.T) {
			body = substFresh(body, p, args[i])
			continue
		}
		lets = append(lets, binding{p, args[i]})
	}
	for i := len(lets) - 1; i >= 0; i-- {
		body = &ir.Let{Var: lets[i].v, Value: lets[i].val, Body: body, P: pos}
	}
	return body
}

// substFresh replaces each use of v in e by a fresh copy of val.
func substFresh(e ir.Expr, v *ir.Var, val ir.Expr) ir.Expr {
	return replaceVar(e, v, func() ir.Expr { return ir.Copy(val) })
}

// replaceVar rebuilds e with every use of v replaced by mk().
func replaceVar(e ir.Expr, v *ir.Var, mk func() ir.Expr) ir.Expr {
	var rec func(e ir.Expr) ir.Expr
	recs := func(es []ir.Expr) []ir.Expr {
		out := make([]ir.Expr, len(es))
		for i, x := range es {
			out[i] = rec(x)
		}
		return out
	}
	rec = func(e ir.Expr) ir.Expr {
		switch e := e.(type) {
		case *ir.Var:
			if e == v {
				return mk()
			}
			return e
		case *ir.Let:
			return &ir.Let{Var: e.Var, Value: rec(e.Value), Body: rec(e.Body), P: e.P}
		case *ir.Lambda:
			return &ir.Lambda{Params: e.Params, Body: rec(e.Body), P: e.P}
		case *ir.Call:
			return &ir.Call{Fn: rec(e.Fn), Args: recs(e.Args), T: e.T, P: e.P}
		case *ir.PrimCall:
			return &ir.PrimCall{Op: e.Op, Args: recs(e.Args), Aux: e.Aux, T: e.T, P: e.P}
		case *ir.MakeTuple:
			return &ir.MakeTuple{Elems: recs(e.Elems), P: e.P}
		case *ir.Proj:
			return &ir.Proj{X: rec(e.X), Index: e.Index, P: e.P}
		case *ir.If:
			return &ir.If{Cond: rec(e.Cond), Then: rec(e.Then), Else: rec(e.Else), P: e.P}
		case *ir.Loop:
			l := *e
			l.Init = rec(e.Init)
			if e.Count != nil {
				l.Count = rec(e.Count)
			}
			if e.Cond != nil {
				l.Cond = rec(e.Cond)
			}
			l.Body = rec(e.Body)
			return &l
		}
		return e
	}
	return rec(e)
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
		if template {
			if _, isVar := args[0].(*ir.Var); isVar {
				return pc
			}
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

func (f fnOf) name() string {
	if f.def != nil {
		return f.def.Name
	}
	return "lambda"
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
	return fnOf{}, ir.Errorf(e.Pos(), "cannot differentiate a function chosen at run time (%T): pass a def or a lambda", e)
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

// jacobian expands jacfwd, jacrev and hessian for functions from f64 or
// [n]f64 to f64 or [m]f64: one JVP per input (forward) or one VJP per
// output (reverse) with one-hot seeds.
func (a *expander) jacobian(pc *ir.PrimCall, f fnOf) (ir.Expr, error) {
	pos := pc.P
	if pc.Op == ir.PrimHessian {
		g, err := a.gradLambda(f, pos)
		if err != nil {
			return nil, err
		}
		f = fnOf{lam: g}
	}
	ps := f.params()
	if len(ps) != 1 {
		return nil, ir.Errorf(pos, "%s needs a function of one parameter", pc.Op.Name)
	}
	in := ps[0]
	if ir.Rank(in) > 1 {
		return nil, ir.Errorf(pos, "%s: inputs of rank %d are not supported (flatten them to a vector)", pc.Op.Name, ir.Rank(in))
	}
	x := ir.NewVar("x", in, pos)
	blk := &block{pos: pos}
	b := blk.builder()
	var body ir.Expr
	if pc.Op == ir.PrimJacrev {
		v, err := a.vjpFunc(f, pos)
		if err != nil {
			return nil, err
		}
		out := v.Type().(*ir.Func).Result.(*ir.Tuple).Elems[0]
		if ir.Rank(out) > 1 {
			return nil, ir.Errorf(pos, "jacrev: outputs of rank %d are not supported", ir.Rank(out))
		}
		if ir.Rank(out) == 0 {
			r := blk.bind("vj", apply(v, []ir.Expr{x, b.F64(1)}, pos))
			body = &ir.Proj{X: r, Index: 1, P: pos}
		} else {
			seedT := out
			y := blk.bind("y", apply(f.expr(), []ir.Expr{x}, pos))
			m := blk.bind("m", b.Prim(ir.PrimLen, y))
			body = b.PrimAux(ir.PrimBuild, pc.T.(*ir.Func).Result.(*ir.Array).Dim, m, b.Lambda([]string{"i"}, []ir.Type{ir.TI64}, func(i []*ir.Var) ir.Expr {
				ib := &block{pos: pos}
				seed := ib.bind("seed", oneHot(ib, m, i[0], seedT))
				r := ib.bind("vj", apply(ir.Copy(v), []ir.Expr{x, seed}, pos))
				return ib.close(&ir.Proj{X: r, Index: 1, P: pos})
			}))
		}
	} else {
		j, err := a.jvpFunc(f, pos)
		if err != nil {
			return nil, err
		}
		out := j.Type().(*ir.Func).Result.(*ir.Tuple).Elems[0]
		if ir.Rank(in) == 0 {
			r := blk.bind("jv", apply(j, []ir.Expr{x, b.F64(1)}, pos))
			body = &ir.Proj{X: r, Index: 1, P: pos}
		} else {
			if ir.Rank(out) > 1 {
				return nil, ir.Errorf(pos, "%s: outputs of rank %d are not supported", pc.Op.Name, ir.Rank(out))
			}
			n := blk.bind("n", b.Prim(ir.PrimLen, x))
			cols := b.PrimAux(ir.PrimBuild, in.(*ir.Array).Dim, n, b.Lambda([]string{"j"}, []ir.Type{ir.TI64}, func(jv []*ir.Var) ir.Expr {
				ib := &block{pos: pos}
				seed := ib.bind("seed", oneHot(ib, n, jv[0], in))
				r := ib.bind("jv", apply(ir.Copy(j), []ir.Expr{x, seed}, pos))
				return ib.close(&ir.Proj{X: r, Index: 1, P: pos})
			}))
			body = cols
			if ir.Rank(out) == 1 {
				body = b.Prim(ir.PrimTranspose, blk.bind("cols", cols))
			}
		}
	}
	return &ir.Lambda{Params: []*ir.Var{x}, Body: blk.close(body), P: pos}, nil
}

// expr is the function as a value.
func (f fnOf) expr() ir.Expr {
	if f.def != nil {
		return &ir.Global{Name: f.def.Name, T: f.def.Type(), P: f.def.P}
	}
	return ir.Copy(f.lam)
}

// oneHot is the vector of length n with a 1 at i (t is its type).
func oneHot(blk *block, n ir.Expr, i *ir.Var, t ir.Type) ir.Expr {
	b := blk.builder()
	return b.PrimAux(ir.PrimBuild, t.(*ir.Array).Dim, n, b.Lambda([]string{"k"}, []ir.Type{ir.TI64}, func(k []*ir.Var) ir.Expr {
		return b.If(b.Prim(ir.PrimEq, k[0], i), b.F64(1), b.F64(0))
	}))
}
