package ir

// Subst returns a copy of e in which free variables in sub are replaced by
// their expressions, and every binder inside e is a fresh *Var (so the
// copy can be placed anywhere without capturing or sharing binders).
// Expressions substituted in are shared, not copied: they must not bind
// variables that the copy binds again, which fresh binders guarantee.
func Subst(e Expr, sub map[*Var]Expr) Expr {
	s := &substituter{sub: map[*Var]Expr{}}
	for k, v := range sub {
		s.sub[k] = v
	}
	return s.expr(e)
}

// Copy returns e with fresh binders throughout.
func Copy(e Expr) Expr { return Subst(e, nil) }

type substituter struct{ sub map[*Var]Expr }

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
