package ir

import "fmt"

// Subst returns a copy of e in which free variables in sub are replaced by
// their expressions, and every binder inside e is a fresh *Var (so the
// copy can be placed anywhere without capturing or sharing binders).
// Expressions substituted in are shared, not copied: they must not bind
// variables that the copy binds again, which fresh binders guarantee.
func Subst(e Expr, sub map[*Var]Expr) Expr {
	s := &substituter{base: sub, sub: map[*Var]Expr{}}
	return s.expr(e)
}

// Copy returns e with fresh binders throughout.
func Copy(e Expr) Expr { return Subst(e, nil) }

// substituter holds the caller's substitution (base, read only) and the
// renaming of the binders it copies (sub). Keeping them apart, rather
// than copying base, makes a small Subst cheap however large the
// caller's map: reverse mode calls it for every expression of a def with
// a renaming of every variable bound so far, which was O(n^2).
type substituter struct{ base, sub map[*Var]Expr }

func (s *substituter) fresh(v *Var) *Var {
	nv := &Var{Name: v.Name, T: v.T, P: v.P}
	s.sub[v] = nv
	return nv
}

func (s *substituter) exprs(es []Expr) []Expr {
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = s.expr(e)
	}
	return out
}

func (s *substituter) expr(e Expr) Expr {
	switch e := e.(type) {
	case *Var:
		if r, ok := s.sub[e]; ok {
			return r
		}
		if r, ok := s.base[e]; ok {
			return r
		}
		return e
	case *Const, *Global:
		return e
	case *Let:
		val := s.expr(e.Value)
		return &Let{Var: s.fresh(e.Var), Value: val, Body: s.expr(e.Body), P: e.P}
	case *Lambda:
		ps := make([]*Var, len(e.Params))
		for i, p := range e.Params {
			ps[i] = s.fresh(p)
		}
		return &Lambda{Params: ps, Body: s.expr(e.Body), P: e.P}
	case *Call:
		return &Call{Fn: s.expr(e.Fn), Args: s.exprs(e.Args), T: e.T, P: e.P}
	case *PrimCall:
		return &PrimCall{Op: e.Op, Args: s.exprs(e.Args), Aux: e.Aux, T: e.T, P: e.P}
	case *MakeTuple:
		return &MakeTuple{Elems: s.exprs(e.Elems), P: e.P}
	case *Proj:
		return &Proj{X: s.expr(e.X), Index: e.Index, P: e.P}
	case *If:
		return &If{Cond: s.expr(e.Cond), Then: s.expr(e.Then), Else: s.expr(e.Else), P: e.P}
	case *Loop:
		l := &Loop{Init: s.expr(e.Init), P: e.P}
		if e.Count != nil {
			l.Count = s.expr(e.Count)
		}
		l.State = s.fresh(e.State)
		if e.Cond != nil {
			l.Cond = s.expr(e.Cond)
		}
		if e.Index != nil {
			l.Index = s.fresh(e.Index)
		}
		l.Body = s.expr(e.Body)
		return l
	}
	panic("ir.Subst: unknown expression")
}

// FreeVars lists the variables used in e but bound outside it, in order of
// first use.
func FreeVars(e Expr) []*Var {
	var out []*Var
	seen := map[*Var]bool{}
	bound := map[*Var]int{}
	Walk(e, func(x Expr, enter bool) {
		switch x := x.(type) {
		case *Var:
			if enter && bound[x] == 0 && !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}, func(v *Var, bind bool) {
		if bind {
			bound[v]++
		} else {
			bound[v]--
		}
	})
	return out
}

// Walk visits e depth first: visit(x, true) before x's children and
// visit(x, false) after; binder(v, true) when v comes into scope and
// binder(v, false) when it leaves. Either callback may be nil.
func Walk(e Expr, visit func(x Expr, enter bool), binder func(v *Var, bind bool)) {
	if visit == nil {
		visit = func(Expr, bool) {}
	}
	if binder == nil {
		binder = func(*Var, bool) {}
	}
	var walk func(e Expr)
	walk = func(e Expr) {
		visit(e, true)
		switch e := e.(type) {
		case *Let:
			walk(e.Value)
			binder(e.Var, true)
			walk(e.Body)
			binder(e.Var, false)
		case *Lambda:
			for _, p := range e.Params {
				binder(p, true)
			}
			walk(e.Body)
			for _, p := range e.Params {
				binder(p, false)
			}
		case *Call:
			walk(e.Fn)
			for _, a := range e.Args {
				walk(a)
			}
		case *PrimCall:
			for _, a := range e.Args {
				walk(a)
			}
		case *MakeTuple:
			for _, a := range e.Elems {
				walk(a)
			}
		case *Proj:
			walk(e.X)
		case *If:
			walk(e.Cond)
			walk(e.Then)
			walk(e.Else)
		case *Loop:
			walk(e.Init)
			if e.Count != nil {
				walk(e.Count)
			}
			binder(e.State, true)
			if e.Cond != nil {
				walk(e.Cond)
			}
			if e.Index != nil {
				binder(e.Index, true)
			}
			walk(e.Body)
			if e.Index != nil {
				binder(e.Index, false)
			}
			binder(e.State, false)
		}
		visit(e, false)
	}
	walk(e)
}

// IsAtom reports whether e is a variable or a constant: something a pass
// may use several times without repeating work.
func IsAtom(e Expr) bool {
	switch e.(type) {
	case *Var, *Const:
		return true
	}
	return false
}

// ReplaceVars rebuilds e with each use of a variable v for which
// f(v) returns (r, true) replaced by r. Binders are kept and unchanged
// subtrees shared; nothing is copied, so a replacement used more than
// once must be an atom or be made fresh by f.
func ReplaceVars(e Expr, f func(v *Var) (Expr, bool)) Expr {
	var rec func(e Expr) Expr
	rec = func(e Expr) Expr {
		if v, ok := e.(*Var); ok {
			if r, ok := f(v); ok {
				return r
			}
			return e
		}
		return Rebuild(e, rec)
	}
	return rec(e)
}

// ReplaceVarN is ReplaceVar for a v that occurs n times in e: it stops
// at the n-th use, so the cost is the part of e up to the last use (and
// the path to it), not all of e. A pass that inlines a let into its
// single use near the let's start must not pay for the whole rest of a
// long let chain each time.
func ReplaceVarN(e Expr, v *Var, n int, mk func() Expr) Expr {
	var rec func(e Expr) Expr
	rec = func(e Expr) Expr {
		if n <= 0 {
			return e
		}
		if x, ok := e.(*Var); ok {
			if x == v {
				n--
				return mk()
			}
			return e
		}
		return Rebuild(e, rec)
	}
	return rec(e)
}

// ReplaceUseNear replaces the use of v in e, where v is used once, by x,
// if that use is near the start of e: among the first maxVisits nodes of
// e in evaluation order, none of which lies under more than maxDepth
// nodes other than lets (a let chain does not count as nesting). It
// reports whether it found the use there; where it did not, it returns
// e. It visits at most maxVisits nodes.
func ReplaceUseNear(e Expr, v *Var, x Expr, maxVisits, maxDepth int) (Expr, bool) {
	visits, found, stop := 0, false, false
	var rec func(e Expr, depth int) Expr
	rec = func(e Expr, depth int) Expr {
		if found || stop {
			return e
		}
		if visits++; visits > maxVisits || depth > maxDepth {
			stop = true
			return e
		}
		if u, ok := e.(*Var); ok {
			if u == v {
				found = true
				return x
			}
			return e
		}
		_, isLet := e.(*Let)
		out, _ := MapChildren(e, func(i int, k Expr) (Expr, error) {
			if isLet && i == 1 {
				return rec(k, depth), nil
			}
			return rec(k, depth+1), nil
		})
		return out
	}
	out := rec(e, 0)
	if !found {
		return e, false
	}
	return out, true
}

// ReplaceVar rebuilds e with each use of v replaced by mk().
func ReplaceVar(e Expr, v *Var, mk func() Expr) Expr {
	return ReplaceVars(e, func(x *Var) (Expr, bool) {
		if x == v {
			return mk(), true
		}
		return nil, false
	})
}

// Beta applies fn(params) => body to args. An argument for which
// inline(param, arg) holds is substituted for its parameter: the argument
// itself at its first use and a fresh copy (Copy) at every other, so no
// binder appears twice. Every other argument is bound by a let, in order,
// whose variable is the parameter, so it is still evaluated once and
// before the body. body must not be shared with the lambda it comes from
// if that lambda is kept.
func Beta(params []*Var, body Expr, args []Expr, pos Pos, inline func(p *Var, arg Expr) bool) Expr {
	type binding struct {
		v   *Var
		val Expr
	}
	var lets []binding
	for i, p := range params {
		a := args[i]
		if !inline(p, a) {
			lets = append(lets, binding{p, a})
			continue
		}
		first := true
		body = ReplaceVar(body, p, func() Expr {
			if first || IsAtom(a) {
				first = false
				return a
			}
			return Copy(a)
		})
	}
	for i := len(lets) - 1; i >= 0; i-- {
		body = &Let{Var: lets[i].v, Value: lets[i].val, Body: body, P: pos}
	}
	return body
}

// BodyWithSizes is d's body with its size variables bound ahead of it, as
// the interpreter binds them on entry (n = dim(x, axis)), for inlining d.
// The entry checks that sizes agree are not repeated.
func (d *Def) BodyWithSizes() Expr {
	body := d.Body
	for i := len(d.SizeVars) - 1; i >= 0; i-- {
		sv := d.SizeVars[i]
		if sv.Param < 0 {
			continue
		}
		dim := &PrimCall{Op: PrimDim, Args: []Expr{PathExpr(d.Params[sv.Param], sv.Path, d.P)}, Aux: sv.Axis, T: TI64, P: d.P}
		body = &Let{Var: sv.Var, Value: dim, Body: body, P: d.P}
	}
	return body
}

// BodyWithSizeChecks is BodyWithSizes with the entry checks too: each
// further place of a size variable, and each constant dimension of a
// parameter, is checked by check_dim ahead of the body, so that code
// inlined in place of a call keeps the errors the call would give.
func (d *Def) BodyWithSizeChecks() Expr {
	type check struct {
		param int
		path  []int
		axis  int
		size  Expr
		name  string
		pos   Pos
	}
	var checks []check
	for _, sv := range d.SizeVars {
		for _, r := range sv.Checks {
			checks = append(checks, check{r.Param, r.Path, r.Axis, sv.Var, sv.Var.Name, r.P})
		}
	}
	for i, p := range d.Params {
		for axis, dim := range Dims(p.T) {
			if dim.Known() {
				checks = append(checks, check{i, nil, axis, I64Const(dim.N, p.P), dim.String(), p.P})
			}
		}
	}
	body := d.Body
	for i := len(checks) - 1; i >= 0; i-- {
		ck := checks[i]
		p := d.Params[ck.param]
		what := p.Name
		for _, f := range ck.path {
			what = fmt.Sprintf("field %d of %s", f, what)
		}
		pos := ck.pos
		if !pos.IsValid() {
			pos = d.P
		}
		x := PathExpr(p, ck.path, pos)
		aux := DimCheck{Axis: ck.axis, What: what, Type: PathType(p.T, ck.path).String(), Size: ck.name}
		chk := &PrimCall{Op: PrimCheckDim, Args: []Expr{x, ck.size}, Aux: aux, T: x.Type(), P: pos}
		body = &Let{Var: NewVar("_", chk.T, pos), Value: chk, Body: body, P: pos}
	}
	withChecks := *d
	withChecks.Body = body
	return withChecks.BodyWithSizes()
}
