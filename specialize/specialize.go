package specialize

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Program returns p with its templates specialized and its function
// values normalized (see the package comment). The input program is not
// modified. Defs keep p's order, callees first; a specialized copy comes
// right before the first def that needs it.
func Program(p *ir.Program) (*ir.Program, error) {
	s := &specializer{
		src:   p,
		out:   ir.NewProgram(nil),
		done:  map[string]*ir.Def{},
		busy:  map[string]bool{},
		specs: map[string][]*spec{},
	}
	s.out.Rules, s.out.Strats = p.Rules, p.Strats
	for _, d := range p.Defs {
		s.def(d.Name)
	}
	if len(s.errs) > 0 {
		return nil, s.errs
	}
	return s.out, nil
}

type specializer struct {
	src   *ir.Program
	out   *ir.Program
	done  map[string]*ir.Def // normalized source defs, by name
	busy  map[string]bool    // source defs being normalized
	specs map[string][]*spec // the copies of each template, by template name
	errs  ir.ErrorList
}

// spec is one specialized copy of a template: the function arguments it
// was made for, in closed form (see closedForm), and the copy.
type spec struct {
	key []ir.Expr
	def *ir.Def
}

// def normalizes the source def name on first use and appends it to the
// output after everything its body needs.
func (s *specializer) def(name string) *ir.Def {
	if d := s.done[name]; d != nil {
		return d
	}
	src := s.src.Def(name)
	if src == nil || s.busy[name] {
		return nil
	}
	s.busy[name] = true
	d := *src
	d.Params = append([]*ir.Var(nil), src.Params...)
	d.Body = s.normalize(src.Body)
	s.done[name] = &d
	s.out.Add(&d)
	delete(s.busy, name)
	return &d
}

// IsTemplate reports whether a def has function-typed parameters.
func IsTemplate(d *ir.Def) bool {
	for _, p := range d.Params {
		if isFuncType(p.T) {
			return true
		}
	}
	return false
}

func isFuncType(t ir.Type) bool { _, ok := t.(*ir.Func); return ok }

// normalize makes the function values in e static (package comment).
func (s *specializer) normalize(e ir.Expr) ir.Expr {
	switch e := e.(type) {
	case *ir.Var, *ir.Const:
		return e
	case *ir.Global:
		d := s.src.Def(e.Name)
		if d != nil && !d.HasParams && isFuncType(d.Type()) {
			// A value def of function type (def g = grad(f)): its body is
			// the function, copied to each use.
			return s.normalize(ir.Copy(d.Body))
		}
		s.def(e.Name)
		return e
	case *ir.Let:
		val := s.normalize(e.Value)
		if isFuncType(val.Type()) {
			return s.normalize(ir.ReplaceVar(e.Body, e.Var, func() ir.Expr { return ir.Copy(val) }))
		}
		return &ir.Let{Var: e.Var, Value: val, Body: s.normalize(e.Body), P: e.P}
	case *ir.Call:
		fn := s.normalize(e.Fn)
		args := s.list(e.Args)
		return s.call(e, fn, args)
	case *ir.PrimCall:
		args := s.list(e.Args)
		var lets []*ir.Let
		for i, a := range args {
			args[i], lets = hoist(a, lets)
		}
		return wrap(lets, &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P})
	}
	return ir.Rebuild(e, s.normalize)
}

func (s *specializer) list(es []ir.Expr) []ir.Expr {
	out := make([]ir.Expr, len(es))
	for i, x := range es {
		out[i] = s.normalize(x)
	}
	return out
}

// call normalizes the call of fn (already normalized) on args.
func (s *specializer) call(e *ir.Call, fn ir.Expr, args []ir.Expr) ir.Expr {
	var lets []*ir.Let
	fn, lets = hoist(fn, lets)
	switch f := fn.(type) {
	case *ir.Lambda:
		return wrap(lets, s.normalize(beta(f.Params, f.Body, args, e.P)))
	case *ir.Global:
		d := s.src.Def(f.Name)
		if d == nil || !d.HasParams {
			break
		}
		if IsTemplate(d) && !isFuncType(d.Result) {
			if c := s.specialize(d, e, args); c != nil {
				return wrap(lets, c)
			}
		}
		if IsTemplate(d) || isFuncType(d.Result) {
			// Returns a function, or takes one not known here: inline.
			lam := ir.Copy(&ir.Lambda{Params: d.Params, Body: d.BodyWithSizeChecks()}).(*ir.Lambda)
			return wrap(lets, s.normalize(beta(lam.Params, lam.Body, args, e.P)))
		}
	}
	return wrap(lets, &ir.Call{Fn: fn, Args: args, T: e.T, P: e.P})
}

// beta applies fn(params) => body to args: function-valued arguments are
// substituted (a fresh copy per use), the others bound by lets.
func beta(params []*ir.Var, body ir.Expr, args []ir.Expr, pos ir.Pos) ir.Expr {
	return ir.Beta(params, body, args, pos, func(p *ir.Var, _ ir.Expr) bool { return isFuncType(p.T) })
}

// hoist takes the lets off a function-valued expression,
// let a = e in fn(x) => a * x, so that what remains is the function
// itself: the lets go ahead of the expression that uses it. Their
// variables are unique, so moving them captures nothing.
func hoist(e ir.Expr, lets []*ir.Let) (ir.Expr, []*ir.Let) {
	if !isFuncType(e.Type()) {
		return e, lets
	}
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			return e, lets
		}
		lets = append(lets, l)
		e = l.Body
	}
}

// wrap puts lets taken off by hoist around e, in their order.
func wrap(lets []*ir.Let, e ir.Expr) ir.Expr {
	for i := len(lets) - 1; i >= 0; i-- {
		l := lets[i]
		e = &ir.Let{Var: l.Var, Value: l.Value, Body: e, P: l.P}
	}
	return e
}

// specialize replaces the call e of template d on (normalized) args by a
// call of d's copy for those function arguments, making the copy if it is
// new. It returns nil when a function argument is not static: neither a
// def nor a lambda whose free variables are all first-order values.
func (s *specializer) specialize(d *ir.Def, e *ir.Call, args []ir.Expr) ir.Expr {
	var key []ir.Expr
	var rest, lifted []ir.Expr
	for i, p := range d.Params {
		if !isFuncType(p.T) {
			rest = append(rest, args[i])
			continue
		}
		k, free, ok := closedForm(args[i])
		if !ok {
			return nil
		}
		key = append(key, k)
		for _, v := range free {
			lifted = append(lifted, v)
		}
	}
	sp := s.lookup(d.Name, key)
	if sp == nil {
		sp = s.instantiate(d, key)
	}
	g := &ir.Global{Name: sp.def.Name, T: sp.def.Type(), P: e.P}
	return &ir.Call{Fn: g, Args: append(rest, lifted...), T: e.T, P: e.P}
}

// closedForm turns a static function argument into a term that names it
// independently of the call site: a def stays a Global; a lambda becomes
// fn(v1, ..., vk) => fn(params) => body, its free variables v1..vk
// abstracted (in order of first use) and every size in its types forgotten
// (constant sizes too: the copy serves arrays of any size),
// so that lambdas that differ only in the names of their free variables
// and of their sizes have alpha-equal closed forms. It also returns the
// free variables, the arguments of the lifted parameters.
func closedForm(a ir.Expr) (ir.Expr, []*ir.Var, bool) {
	switch a := a.(type) {
	case *ir.Global:
		return a, nil, true
	case *ir.Lambda:
		free := ir.FreeVars(a)
		sub := map[*ir.Var]ir.Expr{}
		params := make([]*ir.Var, len(free))
		for i, v := range free {
			if isFuncType(v.T) {
				return nil, nil, false
			}
			params[i] = ir.NewVar(v.Name, ir.GeneralizeSizes(v.T), v.P)
			sub[v] = params[i]
		}
		lam := ir.Subst(a, sub).(*ir.Lambda)
		ir.GeneralizeExprSizes(lam)
		return &ir.Lambda{Params: params, Body: lam, P: a.P}, free, true
	}
	return nil, nil, false
}

// lookup finds the copy of template name made for key.
func (s *specializer) lookup(name string, key []ir.Expr) *spec {
	for _, sp := range s.specs[name] {
		if sameKey(sp.key, key) {
			return sp
		}
	}
	return nil
}

func sameKey(a, b []ir.Expr) bool {
	for i := range a {
		if !ir.AlphaEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// instantiate makes the copy of template d for the function arguments
// key (closed forms): d's non-function parameters, then the lifted ones,
// with each function parameter replaced in the body by its argument.
func (s *specializer) instantiate(d *ir.Def, key []ir.Expr) *spec {
	s.def(d.Name) // the template itself stays, for calls with run-time function values
	name := fmt.Sprintf("%s$%d", d.Name, len(s.specs[d.Name])+1)
	nd := &ir.Def{Name: name, HasParams: true, Result: d.Result, Attrs: d.Attrs, P: d.P, Origin: d.Name}
	sub := map[*ir.Var]ir.Expr{}
	index := map[int]int{} // template parameter index -> copy's
	fns := map[*ir.Var]ir.Expr{}
	var lifted []*ir.Var
	k := 0
	for i, p := range d.Params {
		if !isFuncType(p.T) {
			v := ir.NewVar(p.Name, p.T, p.P)
			sub[p] = v
			index[i] = len(nd.Params)
			nd.Params = append(nd.Params, v)
			continue
		}
		closed := key[k]
		k++
		lam, ok := closed.(*ir.Lambda)
		if !ok {
			fns[p] = closed // a def: its name
			continue
		}
		// The closed form's parameters are the lifted ones; a fresh copy
		// gives this def its own.
		c := ir.Copy(lam).(*ir.Lambda)
		lifted = append(lifted, c.Params...)
		fns[p] = c.Body
	}
	nd.Params = append(nd.Params, lifted...)
	for _, sv := range d.SizeVars {
		var nsv ir.SizeVar
		if sv.Param < 0 {
			// An i64 parameter used as a size: the parameter itself.
			nsv = ir.SizeVar{Var: sub[sv.Var].(*ir.Var), Param: -1}
		} else {
			j, ok := index[sv.Param]
			if !ok {
				continue // bound by a function parameter's type: not yet supported by the front end
			}
			v := ir.NewVar(sv.Var.Name, sv.Var.T, sv.Var.P)
			sub[sv.Var] = v
			nsv = ir.SizeVar{Var: v, Param: j, Path: sv.Path, Axis: sv.Axis}
		}
		for _, c := range sv.Checks {
			if j, ok := index[c.Param]; ok {
				nsv.Checks = append(nsv.Checks, ir.DimRef{Param: j, Path: c.Path, Axis: c.Axis, P: c.P})
			}
		}
		nd.SizeVars = append(nd.SizeVars, nsv)
	}
	body := ir.Subst(d.Body, sub)
	for p, f := range fns {
		body = ir.ReplaceVar(body, p, func() ir.Expr { return ir.Copy(f) })
	}
	nd.Body = body
	sp := &spec{key: key, def: nd}
	s.specs[d.Name] = append(s.specs[d.Name], sp)
	nd.Body = s.normalize(nd.Body)
	s.out.Add(nd)
	return sp
}
