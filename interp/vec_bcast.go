package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Broadcast cotangents. Reverse mode turns sum(y) into the cotangent
// `let c = acc_add(zeros_like(y), s) in ... c[i] ...`: a whole array
// whose every element is 0 + s, made only to be read element by element
// (Rosenbrock's reverse loop reads c[i]). When every use of c is such a
// read, broadcastLet makes no array: c[E] becomes `let _ = y[E] in c0`
// with c0 = 0 + s computed once (0 + -0 is +0, as the primitive's add
// into a zero gives). The read of y[E] keeps the index primitive's check,
// position and message (c has y's length); the let still charges the
// steps acc_add charges, at its position. Only the zero array's memory
// is no longer taken.

// broadcastLet compiles such a let; ok is false for other lets.
func (c *fnComp) broadcastLet(e *ir.Let) (evalFn, bool, error) {
	if noVec || plainTyped || e.Var == nil {
		return nil, false, nil
	}
	acc, ok := e.Value.(*ir.PrimCall)
	if !ok || acc.Op != ir.PrimAccAdd || len(acc.Args) != 2 || !ir.Identical(acc.Args[1].Type(), ir.TF64) {
		return nil, false, nil
	}
	z, ok := zerosLikeCall(acc.Args[0])
	if !ok {
		return nil, false, nil
	}
	y, ok := z.Args[0].(*ir.Var)
	if !ok || ir.Rank(y.T) != 1 {
		return nil, false, nil
	}
	if k, ok := ir.Leaf(y.T); !ok || k != ir.F64 {
		return nil, false, nil
	}
	reads := 0
	var count func(x ir.Expr)
	count = func(x ir.Expr) {
		if p, ok := x.(*ir.PrimCall); ok && p.Op == ir.PrimIndex && len(p.Args) == 2 && p.Args[0] == ir.Expr(e.Var) {
			reads++
		}
		for _, k := range ir.Children(x) {
			count(k)
		}
	}
	count(e.Body)
	if reads == 0 || reads != varUses(e.Body, e.Var) {
		return nil, false, nil
	}
	c0 := ir.NewVar(e.Var.Name, ir.TF64, e.P)
	var rec func(x ir.Expr) ir.Expr
	rec = func(x ir.Expr) ir.Expr {
		if p, ok := x.(*ir.PrimCall); ok && p.Op == ir.PrimIndex && len(p.Args) == 2 && p.Args[0] == ir.Expr(e.Var) {
			read := &ir.PrimCall{Op: ir.PrimIndex, Args: []ir.Expr{y, rec(p.Args[1])}, T: ir.TF64, P: p.P}
			return &ir.Let{Var: ir.NewVar("_", ir.TF64, p.P), Value: read, Body: c0, P: p.P}
		}
		return ir.Rebuild(x, rec)
	}
	body := rec(e.Body)
	yv, err := c.compile(y)
	if err != nil {
		return nil, true, err
	}
	sv, err := c.typedF(acc.Args[1])
	if err != nil {
		return nil, true, err
	}
	s := c.alloc(1)
	c.bind(c0, s)
	b, err := c.compile(body)
	delete(c.locals, c0)
	c.depth = s
	if err != nil {
		return nil, true, err
	}
	pos := acc.P
	return func(fr *frame) (runtime.Value, error) {
		v, err := yv(fr)
		if err != nil {
			return v, err
		}
		x := sv(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		a, _ := v.R.(*runtime.Array)
		if a == nil {
			return runtime.Value{}, internalErrorf(pos, "zeros_like of %s", describe(v))
		}
		if err := fr.m.Step(int64(len(a.F))); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		setF(&fr.slots[s], 0+x)
		return b(fr)
	}, true, nil
}
