package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Builds kept only for their sum. The reverse pass of sum(build(n, f))
// keeps the terms, `let y = build(n, f) in ... zeros_like(y) ... sum(y)`,
// for the primal's sum and for the shape of the cotangent: an array of n
// elements allocated per call and read back once. When every use of y is
// sum(y) or zeros_like(y), sumLet adds the terms as the block executor
// makes them (vprog.sumF, in Sum's order) and binds y, for the body, to a
// read-only zero vector of y's length that takes no memory. zeros_like
// reads only its shape; broadcastLet's bounds checks read its elements
// and discard them; each sum(y) becomes S + sum(y): the zeros' sum, +0,
// charges the steps the sum of y charged, at its position, and S + 0 is S
// (Sum never returns -0: its partial sums start at +0). The build's own
// steps are charged while it runs, as an inlined build charges them.

// zeroPad is the storage of the read-only zero vectors; longer builds get
// a zero vector of their own. Sums of up to smallSum terms are added as
// runtime.Sum adds them (their order differs from the pieces').
var zeroPad [1 << 16]float64

// sumLet compiles such a let; ok is false for other lets.
func (c *fnComp) sumLet(e *ir.Let) (evalFn, bool, error) {
	if noVec || plainTyped || e.Var == nil || ir.Rank(e.Var.T) != 1 {
		return nil, false, nil
	}
	bd, ok := e.Value.(*ir.PrimCall)
	if !ok || bd.Op != ir.PrimBuild || len(bd.Args) != 2 {
		return nil, false, nil
	}
	if k, ok := ir.Leaf(e.Var.T); !ok || k != ir.F64 {
		return nil, false, nil
	}
	sums, likes := 0, 0
	var count func(x ir.Expr)
	count = func(x ir.Expr) {
		if p, ok := x.(*ir.PrimCall); ok && len(p.Args) == 1 && p.Args[0] == ir.Expr(e.Var) {
			switch p.Op {
			case ir.PrimSum:
				sums++
			case ir.PrimZerosLike:
				likes++
			}
		}
		for _, k := range ir.Children(x) {
			count(k)
		}
	}
	count(e.Body)
	if sums == 0 || sums+likes != varUses(e.Body, e.Var) {
		return nil, false, nil
	}
	cp, ok, err := c.comprehension(bd)
	if !ok || err != nil {
		return nil, ok, err
	}
	bodyF, err := c.typedF(cp.body)
	var vp *vprog
	if err == nil {
		vp = c.vecComp(cp)
	}
	c.end(cp)
	if err != nil || vp == nil {
		return nil, err != nil, err
	}
	sv := ir.NewVar(e.Var.Name+"$sum", ir.TF64, e.P)
	var rec func(x ir.Expr) ir.Expr
	rec = func(x ir.Expr) ir.Expr {
		if p, ok := x.(*ir.PrimCall); ok && p.Op == ir.PrimSum && len(p.Args) == 1 && p.Args[0] == ir.Expr(e.Var) {
			return &ir.PrimCall{Op: ir.PrimAdd, Args: []ir.Expr{sv, p}, T: ir.TF64, P: p.P}
		}
		return ir.Rebuild(x, rec)
	}
	ys, ss := c.alloc(1), c.alloc(1)
	c.bind(e.Var, ys)
	c.bind(sv, ss)
	body, err := c.compile(rec(e.Body))
	delete(c.locals, e.Var)
	delete(c.locals, sv)
	c.depth = ys
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) (runtime.Value, error) {
		n := cp.start(fr)
		if n < 0 {
			return runtime.Value{}, fr.takeErr()
		}
		cp.prepare(fr)
		var s float64
		if n <= smallSum {
			s = sumFew(fr, cp, bodyF, n)
		} else {
			s = vp.sumF(fr, cp, bodyF, n, cp.steps)
		}
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		zeros := &runtime.Array{Shape: []int{n}, Kind: runtime.ElemF64, F: zeroPad[:min(n, len(zeroPad))]}
		if n > len(zeroPad) {
			// Too long for the shared zeros: a zero vector as long as y.
			z, err := runtime.NewVec(fr.m, runtime.ElemF64, n)
			if err != nil {
				return runtime.Value{}, errAt(cp.pos, err)
			}
			zeros = z
		}
		fr.slots[ys] = runtime.Arr(zeros)
		setF(&fr.slots[ss], s)
		r, err := body(fr)
		fr.slots[ys] = runtime.Value{}
		return r, err
	}, true, nil
}

// sumFew adds the n <= smallSum terms of build cp as the sum of the
// built array adds them (runtime.Sum), computing them as the build does:
// steps charged first, then element by element until one fails.
func sumFew(fr *frame, cp *comp, body fcode, n int) float64 {
	if !compStep(fr, cp, 0, n, cp.steps) {
		return 0
	}
	piece := getPiece()
	defer putPiece(piece)
	for i := range n {
		cp.bind(fr, i)
		if piece[i] = body(fr); fr.err != nil {
			return 0
		}
	}
	return runtime.Sum(piece[:n])
}
