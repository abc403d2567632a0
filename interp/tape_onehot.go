package interp

import "github.com/nabla-lang/nabla/ir"

// One-hot chains split by lets. The reverse pass of a read a[i][j][c]
// inside loops comes out of AD with each level bound by its own let:
//
//	let acc_10 = acc_add_at(zeros_like(y_21), c, ybar) in
//	let acc_11 = acc_add_at(zeros_like(y_20), j, acc_10) in
//	let acc_12 = acc_add_at(g, i, acc_11) in ...
//
// which compileAccOneHot, matching nested calls only, leaves to the
// primitives: a zero matrix and a zero vector per element, and two generic
// calls. joinOneHotLets substitutes such a let into its only use when that
// use is the innermost value of the next let's acc_add_at chain, giving
// acc_add_at(g, i, acc_add_at(zeros_like(y_20), j, acc_add_at(...))). The
// levels outside the substituted value have arguments that cannot fail or
// charge anything (variables, constants, zeros_like of a variable: the
// chain never makes the zero), so evaluating the value after them instead
// of before changes no value, error or step count.

// joinOneHotLets rewrites e, sharing whatever it does not change.
func joinOneHotLets(e ir.Expr) ir.Expr {
	if e == nil {
		return nil
	}
	out, _ := ir.MapChildren(e, func(_ int, x ir.Expr) (ir.Expr, error) { return joinOneHotLets(x), nil })
	if l, ok := out.(*ir.Let); ok && !plainTyped {
		if j, ok := joinOneHotLet(l); ok {
			return j
		}
	}
	return out
}

// joinOneHotLet substitutes l's value into the next let's chain, and the
// result into the next, as far as it can (see joinOneHotLets). ok is true
// when that ends in a whole chain that compileAccOneHot runs in place;
// otherwise nothing is substituted.
func joinOneHotLet(l *ir.Let) (ir.Expr, bool) {
	if l.Var == nil || !isOneHotLevel(l.Value) {
		return l, false
	}
	next, ok := l.Body.(*ir.Let)
	if !ok || next.Var == nil || varUses(l.Body, l.Var) != 1 {
		return l, false
	}
	val, ok := substInChain(next.Value, l.Var, l.Value)
	if !ok {
		return l, false
	}
	r := &ir.Let{Var: next.Var, Value: val, Body: next.Body, P: next.P}
	if j, ok := joinOneHotLet(r); ok {
		return j, true
	}
	if oneHotChain(val.(*ir.PrimCall)) != nil {
		return r, true
	}
	return l, false
}

// isOneHotLevel reports whether e is acc_add_at(zeros_like(x), i, y).
func isOneHotLevel(e ir.Expr) bool {
	p, ok := e.(*ir.PrimCall)
	if !ok || p.Op != ir.PrimAccAddAt || len(p.Args) != 3 {
		return false
	}
	_, ok = zerosLikeCall(p.Args[0])
	return ok
}

// zerosLikeCall is e as a call zeros_like(x), if it is one: the start of
// the cotangents reverse mode accumulates.
func zerosLikeCall(e ir.Expr) (*ir.PrimCall, bool) {
	z, ok := e.(*ir.PrimCall)
	if !ok || z.Op != ir.PrimZerosLike || len(z.Args) != 1 {
		return nil, false
	}
	return z, true
}

// substInChain returns e with v replaced by val when e is a chain
// acc_add_at(A, i, acc_add_at(zeros_like(L), j, ... v)) whose A, i, L, j
// are inert (see inert).
func substInChain(e ir.Expr, v *ir.Var, val ir.Expr) (ir.Expr, bool) {
	p, ok := e.(*ir.PrimCall)
	if !ok || p.Op != ir.PrimAccAddAt || len(p.Args) != 3 || !inert(p.Args[0], v) || !inert(p.Args[1], v) {
		return nil, false
	}
	var inner ir.Expr
	if x, ok := p.Args[2].(*ir.Var); ok && x == v {
		inner = val
	} else if !isOneHotLevel(p.Args[2]) {
		return nil, false
	} else if inner, ok = substInChain(p.Args[2], v, val); !ok {
		return nil, false
	}
	return &ir.PrimCall{Op: p.Op, Args: []ir.Expr{p.Args[0], p.Args[1], inner}, Aux: p.Aux, T: p.T, P: p.P}, true
}

// inert reports whether evaluating e can neither fail nor charge a step
// nor read v: a variable other than v or a field of one, a constant, or
// zeros_like of such a variable (an operand of a one-hot chain, which only reads its shape).
func inert(e ir.Expr, v *ir.Var) bool {
	switch e := e.(type) {
	case *ir.Var:
		return e != v
	case *ir.Const:
		return true
	case *ir.Proj: // a field of a tuple variable (a loop's state)
		x, ok := e.X.(*ir.Var)
		return ok && x != v
	case *ir.PrimCall:
		if e.Op == ir.PrimZerosLike && len(e.Args) == 1 {
			x, ok := e.Args[0].(*ir.Var)
			return ok && x != v
		}
	}
	return false
}
