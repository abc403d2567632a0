// Forward mode of ode_dopri5: the forward sensitivity equations.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// ode differentiates y1 = ode_dopri5(f, y0, t0, t1, rtol, atol) by the
// forward sensitivity equations: the tangent u of y satisfies
//
//	u' = ∂f/∂y·u + ∂f/∂θ·θ̇,  u(t0) = ẏ0 − f(t0, y0)·ṫ0,
//
// θ what f closes over, and ẏ1 = u(t1) + f(t1, y1)·ṫ1. The pair (y, u)
// is integrated by a second ode_dopri5 with the same tolerances, whose
// right-hand side is the tangent of f's body at (t, y) in the direction
// (u, θ̇); its error control covers u too. The primal result is the plain
// solve's, so that it equals the undifferentiated value. Like the reverse
// mode (backODE) this never differentiates the solver's steps.
func (t *fwd) ode(blk *block, e *ir.PrimCall) (ir.Expr, ir.Expr, error) {
	b := blk.builder()
	lam, err := lambdaOf(e.Args[0])
	if err != nil {
		return nil, nil, err
	}
	ps, dps, err := t.atoms(blk, e.Args[1:])
	if err != nil {
		return nil, nil, err
	}
	y0, t0, t1, rtol, atol := ps[0], ps[1], ps[2], ps[3], ps[4]
	dy0, dt0, dt1 := dps[0], dps[1], dps[2]
	mv := t.primal(lam)
	y := blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{mv, y0, t0, t1, rtol, atol}, Aux: ir.ODEQuiet, T: e.T, P: e.P})
	if !t.active(lam) && dy0 == nil && dt0 == nil && dt1 == nil {
		return y, nil, nil
	}
	u0 := dy0
	if u0 == nil {
		u0 = zero(blk, y0)
	}
	if dt0 != nil {
		f0 := blk.bind("f", apply(ir.Copy(mv), []ir.Expr{t0, y0}, e.P))
		u0 = blk.bind("u", b.Prim(ir.PrimSub, u0, blk.bind("f", b.Prim(ir.PrimMul, f0, dt0))))
	}
	n := blk.bind("n", b.Prim(ir.PrimLen, y0))
	w0 := blk.bind("w", b.Prim(ir.PrimConcat, y0, u0))

	// The right-hand side fn(t, w) => concat(f(t, y), tangent of f).
	tv, wv := ir.NewVar("t", ir.TF64, e.P), ir.NewVar("w", w0.Type(), e.P)
	bb := &block{pos: e.P}
	bl := bb.builder()
	yt := lam.Params[1].T
	yv := bb.bind("y", retype(bl.Prim(ir.PrimTake, wv, n), yt))
	uv := bb.bind("u", retype(bl.Prim(ir.PrimTake, bb.bind("w", bl.Prim(ir.PrimDrop, wv, n)), n), yt))
	t.ren[lam.Params[0]], t.ren[lam.Params[1]] = tv, yv
	delete(t.tan, lam.Params[0])
	t.tan[lam.Params[1]] = uv
	fy, du, err := t.expr(bb, lam.Body)
	if err != nil {
		return nil, nil, err
	}
	if du == nil {
		du = zero(bb, fy)
	}
	dw := retype(bl.Prim(ir.PrimConcat, fy, du), w0.Type())
	aug := &ir.Lambda{Params: []*ir.Var{tv, wv}, Body: bb.close(dw), P: e.P}

	w1 := blk.bind("w", b.PrimAux(ir.PrimODE, ir.ODEQuiet, aug, w0, t0, t1, rtol, atol))
	dy := blk.bind("dy", retype(b.Prim(ir.PrimTake, blk.bind("w", b.Prim(ir.PrimDrop, w1, n)), n), e.T))
	if dt1 != nil {
		f1 := blk.bind("f", apply(ir.Copy(mv), []ir.Expr{t1, y}, e.P))
		dy = blk.bind("dy", b.Prim(ir.PrimAdd, dy, blk.bind("f", b.Prim(ir.PrimMul, f1, dt1))))
	}
	return y, dy, nil
}

// quietAux is the Aux of a primitive call in differentiated code:
// ode_dopri5's solves there do not report their steps (the primal run
// did), like progress.
func quietAux(e *ir.PrimCall) any {
	if e.Op == ir.PrimODE {
		return ir.ODEQuiet
	}
	return e.Aux
}
