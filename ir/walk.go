package ir

// Generic traversal and rebuilding of expressions. Every pass that
// rewrites IR builds on these four functions instead of its own switch
// over the node kinds, so a new node kind is added here once.

// Children lists e's immediate subexpressions in evaluation order: a
// let's value then body; a call's function then arguments; a loop's
// Init, then Count or Cond (whichever it has), then Body.
func Children(e Expr) []Expr {
	switch e := e.(type) {
	case *Let:
		return []Expr{e.Value, e.Body}
	case *Lambda:
		return []Expr{e.Body}
	case *Call:
		return append([]Expr{e.Fn}, e.Args...)
	case *PrimCall:
		return e.Args
	case *MakeTuple:
		return e.Elems
	case *Proj:
		return []Expr{e.X}
	case *If:
		return []Expr{e.Cond, e.Then, e.Else}
	case *Loop:
		out := []Expr{e.Init}
		if e.Count != nil {
			out = append(out, e.Count)
		}
		if e.Cond != nil {
			out = append(out, e.Cond)
		}
		return append(out, e.Body)
	}
	return nil
}

// EachChild calls f with each of e's children, numbered as Children
// numbers them, without allocating the list: for analyses that visit
// every node of large terms.
func EachChild(e Expr, f func(i int, k Expr)) {
	switch e := e.(type) {
	case *Let:
		f(0, e.Value)
		f(1, e.Body)
	case *Lambda:
		f(0, e.Body)
	case *Call:
		f(0, e.Fn)
		for i, a := range e.Args {
			f(i+1, a)
		}
	case *PrimCall:
		for i, a := range e.Args {
			f(i, a)
		}
	case *MakeTuple:
		for i, a := range e.Elems {
			f(i, a)
		}
	case *Proj:
		f(0, e.X)
	case *If:
		f(0, e.Cond)
		f(1, e.Then)
		f(2, e.Else)
	case *Loop:
		i := 0
		f(i, e.Init)
		i++
		if e.Count != nil {
			f(i, e.Count)
			i++
		}
		if e.Cond != nil {
			f(i, e.Cond)
			i++
		}
		f(i, e.Body)
	}
}

// WithChildren rebuilds e with new children (in the order Children lists
// them). It returns e itself when every child is unchanged, so untouched
// subtrees keep their identity. Binders are kept.
func WithChildren(e Expr, kids []Expr) Expr {
	old := Children(e)
	same := true
	for i := range old {
		if old[i] != kids[i] {
			same = false
			break
		}
	}
	if same {
		return e
	}
	switch e := e.(type) {
	case *Let:
		return &Let{Var: e.Var, Value: kids[0], Body: kids[1], P: e.P}
	case *Lambda:
		return &Lambda{Params: e.Params, Body: kids[0], P: e.P}
	case *Call:
		return &Call{Fn: kids[0], Args: kids[1:], T: e.T, P: e.P}
	case *PrimCall:
		return &PrimCall{Op: e.Op, Args: kids, Aux: e.Aux, T: e.T, P: e.P}
	case *MakeTuple:
		return &MakeTuple{Elems: kids, P: e.P}
	case *Proj:
		return &Proj{X: kids[0], Index: e.Index, P: e.P}
	case *If:
		return &If{Cond: kids[0], Then: kids[1], Else: kids[2], P: e.P}
	case *Loop:
		l := *e
		i := 0
		l.Init = kids[i]
		i++
		if e.Count != nil {
			l.Count = kids[i]
			i++
		}
		if e.Cond != nil {
			l.Cond = kids[i]
			i++
		}
		l.Body = kids[i]
		return &l
	}
	return e
}

// MapChildren rebuilds e with f applied to each child (numbered as
// Children numbers them), sharing e when nothing changes. It allocates
// only for what it rebuilds, and stops at the first error.
func MapChildren(e Expr, f func(i int, x Expr) (Expr, error)) (Expr, error) {
	switch e := e.(type) {
	case *Let:
		v, err := f(0, e.Value)
		if err != nil {
			return nil, err
		}
		b, err := f(1, e.Body)
		if err != nil {
			return nil, err
		}
		if v == e.Value && b == e.Body {
			return e, nil
		}
		return &Let{Var: e.Var, Value: v, Body: b, P: e.P}, nil
	case *Lambda:
		b, err := f(0, e.Body)
		if err != nil || b == e.Body {
			return e, err
		}
		return &Lambda{Params: e.Params, Body: b, P: e.P}, nil
	case *Call:
		fn, err := f(0, e.Fn)
		if err != nil {
			return nil, err
		}
		args, changed, err := mapList(e.Args, 1, f)
		if err != nil {
			return nil, err
		}
		if fn == e.Fn && !changed {
			return e, nil
		}
		return &Call{Fn: fn, Args: args, T: e.T, P: e.P}, nil
	case *PrimCall:
		args, changed, err := mapList(e.Args, 0, f)
		if err != nil || !changed {
			return e, err
		}
		return &PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}, nil
	case *MakeTuple:
		elems, changed, err := mapList(e.Elems, 0, f)
		if err != nil || !changed {
			return e, err
		}
		return &MakeTuple{Elems: elems, P: e.P}, nil
	case *Proj:
		x, err := f(0, e.X)
		if err != nil || x == e.X {
			return e, err
		}
		return &Proj{X: x, Index: e.Index, P: e.P}, nil
	case *If:
		c, err := f(0, e.Cond)
		if err != nil {
			return nil, err
		}
		t, err := f(1, e.Then)
		if err != nil {
			return nil, err
		}
		el, err := f(2, e.Else)
		if err != nil {
			return nil, err
		}
		if c == e.Cond && t == e.Then && el == e.Else {
			return e, nil
		}
		return &If{Cond: c, Then: t, Else: el, P: e.P}, nil
	case *Loop:
		kids := Children(e)
		out := make([]Expr, len(kids))
		for i, k := range kids {
			y, err := f(i, k)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return WithChildren(e, out), nil
	}
	return e, nil
}

// Rebuild is MapChildren for a function that cannot fail.
func Rebuild(e Expr, f func(x Expr) Expr) Expr {
	out, _ := MapChildren(e, func(_ int, x Expr) (Expr, error) { return f(x), nil })
	return out
}

// mapList applies f to a list of children numbered from base.
func mapList(es []Expr, base int, f func(i int, x Expr) (Expr, error)) ([]Expr, bool, error) {
	var out []Expr
	for i, x := range es {
		y, err := f(base+i, x)
		if err != nil {
			return nil, false, err
		}
		if y != x && out == nil {
			out = make([]Expr, len(es))
			copy(out, es[:i])
		}
		if out != nil {
			out[i] = y
		}
	}
	if out == nil {
		return es, false, nil
	}
	return out, true, nil
}

// Size counts the nodes of e.
func Size(e Expr) int {
	n := 0
	Walk(e, func(_ Expr, enter bool) {
		if enter {
			n++
		}
	}, nil)
	return n
}

// Depth is the height of e's tree.
func Depth(e Expr) int {
	d, deepest := 0, 0
	Walk(e, func(_ Expr, enter bool) {
		if enter {
			d++
			deepest = max(deepest, d)
		} else {
			d--
		}
	}, nil)
	return deepest
}

// Binders is the set of variables e binds: its lets', lambdas' and
// loops' variables (not e's free variables).
func Binders(e Expr) map[*Var]bool {
	out := map[*Var]bool{}
	Walk(e, nil, func(v *Var, bind bool) {
		if bind {
			out[v] = true
		}
	})
	return out
}

// Mentions reports whether any variable in vars occurs in e.
func Mentions(e Expr, vars map[*Var]bool) bool {
	if len(vars) == 0 {
		return false
	}
	found := false
	Walk(e, func(x Expr, enter bool) {
		if v, ok := x.(*Var); ok && enter && vars[v] {
			found = true
		}
	}, nil)
	return found
}

// VarUses counts the uses of v in e and reports whether any is in a lazy
// position relative to e: inside a lambda's body, a loop's body or
// condition, or a branch of an if. A use in a lazy position may run any
// number of times, including none.
func VarUses(e Expr, v *Var) (n int, lazy bool) {
	var rec func(e Expr, lz bool)
	rec = func(e Expr, lz bool) {
		switch e := e.(type) {
		case *Var:
			if e == v {
				n++
				lazy = lazy || lz
			}
			return
		case *Lambda:
			rec(e.Body, true)
			return
		case *If:
			rec(e.Cond, lz)
			rec(e.Then, true)
			rec(e.Else, true)
			return
		case *Loop:
			rec(e.Init, lz)
			if e.Count != nil {
				rec(e.Count, lz)
			}
			if e.Cond != nil {
				rec(e.Cond, true)
			}
			rec(e.Body, true)
			return
		}
		for _, k := range Children(e) {
			rec(k, lz)
		}
	}
	rec(e, false)
	return n, lazy
}
