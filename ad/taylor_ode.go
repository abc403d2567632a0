// Taylor mode of ode_dopri5.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// ode is the series of y1 = ode_dopri5(f, y0, t0, t1, rtol, atol) along
// the input's curve s: the solution's series Y(t) = Σ y_j(t) sʲ satisfies
// the same equation in the algebra of truncated series, Y' = F(t, Y),
// with F the series of f's body (closed-over values carrying their own
// series). That system is integrated by one ode_dopri5 on the flattened
// coefficients; forward mode (fwd.ode) is its first-order case. t0 and t1
// must not depend on the input.
func (t *tay) ode(blk *block, e *ir.PrimCall) (ir.Expr, bool, error) {
	b := blk.builder()
	lam, err := lambdaOf(e.Args[0])
	if err != nil {
		return nil, false, err
	}
	y0, ys, err := t.expr(blk, e.Args[1])
	if err != nil {
		return nil, false, err
	}
	var rest [4]ir.Expr
	for i := range rest {
		x, s, err := t.expr(blk, e.Args[2+i])
		if err != nil {
			return nil, false, err
		}
		if s && i < 2 {
			return nil, false, ir.Errorf(e.P, "Taylor mode: the times t0 and t1 of ode_dopri5 must not depend on the input")
		}
		if s {
			x = t.primalOf(blk, x, e.Args[2+i].Type())
		}
		rest[i] = x
	}
	active := t.active(lam)
	mv0 := t.onPrimals(blk, lam).(*ir.Lambda)
	if !active && !ys {
		return blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{mv0, y0, rest[0], rest[1], rest[2], rest[3]}, Aux: ir.ODEQuiet, T: e.T, P: e.P}), false, nil
	}
	Y0 := t.seriesOrLift(blk, y0, ys)
	w0 := blk.bind("w", b.Prim(ir.PrimFlatten, Y0))

	tv, wv := ir.NewVar("t", ir.TF64, e.P), ir.NewVar("w", w0.Type(), e.P)
	bb := &block{pos: e.P}
	bl := bb.builder()
	tp, yp := lam.Params[0], lam.Params[1]
	delete(t.ser, tp)
	t.ren[tp] = tv
	delete(t.ren, yp)
	t.ser[yp] = bb.bind("Y", bl.Prim(ir.PrimReshapeLike, wv, Y0))
	S, s, err := t.expr(bb, lam.Body)
	delete(t.ser, yp)
	if err != nil {
		return nil, false, err
	}
	if !s {
		S = t.lift(bb, S)
	}
	aug := &ir.Lambda{Params: []*ir.Var{tv, wv}, Body: bb.close(retype(bl.Prim(ir.PrimFlatten, S), w0.Type())), P: e.P}
	w1 := blk.bind("w", b.PrimAux(ir.PrimODE, ir.ODEQuiet, aug, w0, rest[0], rest[1], rest[2], rest[3]))
	Y1 := blk.bind("Y", b.Prim(ir.PrimReshapeLike, w1, Y0))
	// Coefficient 0 is the plain solve's, as in forward mode, so that it
	// equals the undifferentiated value.
	y1 := blk.bind("y", &ir.PrimCall{Op: e.Op, Args: []ir.Expr{ir.Copy(mv0), blk.bind("y", b.Prim(ir.PrimIndex, Y0, b.I64(0))), rest[0], rest[1], rest[2], rest[3]}, Aux: ir.ODEQuiet, T: e.T, P: e.P})
	return blk.bind("Y", b.Prim(ir.PrimUpdate, Y1, b.I64(0), y1)), true, nil
}
