// Reverse mode of ode_dopri5: the continuous adjoint.

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// backODE reverses y1 = ode_dopri5(f, y0, t0, t1, rtol, atol) by the
// continuous adjoint method (Pontryagin; Chen et al., "Neural ordinary
// differential equations", 2018): with a(t) = ∂L/∂y(t) and θ what f
// closes over, the augmented state z = (y, a, g) satisfies
//
//	y' = f(t, y),  a' = −aᵀ∂f/∂y,  g' = −aᵀ∂f/∂θ,
//
// and is integrated backward from z(t1) = (y1, ȳ1, 0) to t0 by a second
// ode_dopri5 with the same tolerances; then ȳ0 = a(t0) and θ̄ = g(t0).
// The times get ∂L/∂t1 = ȳ1·f(t1, y1) and ∂L/∂t0 = −a(t0)·f(t0, y0).
// The right-hand side aᵀ∂f/∂(y, θ) is the reverse pass of f's body at
// (t, y), seeded with a. The state is one flat vector: y, a, then each
// active closed-over value's cotangent flattened (packODE). Nothing of
// the forward solve is kept but y1, so memory does not grow with the
// number of steps; y is recomputed backward instead, which is accurate
// for problems that are not stiff (the method's known limit).
func (r *rev) backODE(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	b := blk.builder()
	lam, err := lambdaOf(st.args[0])
	if err != nil {
		return err
	}
	free := r.freeAtoms(lam)
	y0, t0, t1, rtol, atol := st.args[1], st.args[2], st.args[3], st.args[4], st.args[5]
	if !r.isActive(y0) && !r.isActive(t0) && !r.isActive(t1) && len(free) == 0 {
		return nil
	}
	for _, f := range free {
		if err := packable(f.T, e.P); err != nil {
			return err
		}
	}
	n := blk.bind("n", b.Prim(ir.PrimLen, y0))
	z1 := blk.bind("z", b.Prim(ir.PrimConcat, st.y, ybar))
	for _, f := range free {
		z1 = blk.bind("z", b.Prim(ir.PrimConcat, z1, packODE(blk, zero(blk, f))))
	}
	aug, err := r.adjointRHS(lam, z1.Type(), n, free, e.P)
	if err != nil {
		return err
	}
	z0 := blk.bind("z", b.PrimAux(ir.PrimODE, ir.ODEQuiet, aug, z1, t1, t0, rtol, atol))
	a0 := blk.bind("a", retype(b.Prim(ir.PrimTake, blk.bind("z", b.Prim(ir.PrimDrop, z0, n)), n), y0.Type()))
	r.addTo(blk, y0, a0)
	rest := blk.bind("z", b.Prim(ir.PrimDrop, z0, blk.bind("n", b.Prim(ir.PrimAdd, n, n))))
	for _, f := range free {
		var g ir.Expr
		g, rest = unpackODE(blk, rest, f)
		r.addTo(blk, f, g)
	}
	if r.isActive(t1) {
		f1 := blk.bind("f", apply(ir.Copy(lam), []ir.Expr{t1, st.y}, e.P))
		r.addTo(blk, t1, blk.bind("c", b.Prim(ir.PrimDot, ybar, f1)))
	}
	if r.isActive(t0) {
		f0 := blk.bind("f", apply(ir.Copy(lam), []ir.Expr{t0, y0}, e.P))
		r.addTo(blk, t0, blk.bind("c", b.Prim(ir.PrimNeg, blk.bind("c", b.Prim(ir.PrimDot, a0, f0)))))
	}
	return nil
}

// adjointRHS builds fn(t, z) => concat(f(t, y), −aᵀ∂f/∂y, −aᵀ∂f/∂θ...)
// for the state z of type zt (see backODE); n is the length of y.
func (r *rev) adjointRHS(lam *ir.Lambda, zt ir.Type, n ir.Expr, free []*ir.Var, pos ir.Pos) (*ir.Lambda, error) {
	tv, zv := ir.NewVar("t", ir.TF64, pos), ir.NewVar("z", zt, pos)
	bb := &block{pos: pos}
	b := bb.builder()
	yt := lam.Params[1].T
	y := bb.bindVar("y", retype(b.Prim(ir.PrimTake, zv, n), yt))
	a := bb.bind("a", retype(b.Prim(ir.PrimTake, bb.bind("z", b.Prim(ir.PrimDrop, zv, n)), n), yt))
	c := r.child(lam.Body)
	c.ren[lam.Params[0]] = tv
	c.ren[lam.Params[1]] = y
	c.act[y] = true
	for _, f := range free {
		c.setState(bb, f, zero(bb, f))
	}
	fy, err := c.fwdTail(bb, lam.Body, a)
	if err != nil {
		return nil, err
	}
	c.addTo(bb, fy, a)
	if err := c.backward(bb); err != nil {
		return nil, err
	}
	out := bb.bind("dz", b.Prim(ir.PrimConcat, fy, bb.bind("g", b.Prim(ir.PrimNeg, c.get(bb, y)))))
	for _, f := range free {
		g := packODE(bb, c.state(bb, f))
		out = bb.bind("dz", b.Prim(ir.PrimConcat, out, bb.bind("g", b.Prim(ir.PrimNeg, g))))
	}
	return &ir.Lambda{Params: []*ir.Var{tv, zv}, Body: bb.close(retype(out, zt)), P: pos}, nil
}

// retype gives a primitive call the type t that is known to be its own
// up to sizes the type rules cannot see (the parts of a packed state).
func retype(e ir.Expr, t ir.Type) ir.Expr {
	if pc, ok := e.(*ir.PrimCall); ok {
		pc.T = t
	}
	return e
}

// packable reports whether a closed-over value of type t can travel in
// the flat state of the adjoint solve: f64, rectangular f64 arrays and
// tuples of those; values with no derivative (i64, bool) are skipped.
func packable(t ir.Type, pos ir.Pos) error {
	switch t := t.(type) {
	case ir.Scalar:
		return nil
	case *ir.Tuple:
		for _, et := range t.Elems {
			if err := packable(et, pos); err != nil {
				return err
			}
		}
		return nil
	case *ir.Array:
		if _, ok := ir.Leaf(t); ok {
			return nil
		}
	}
	return ir.Errorf(pos, "reverse mode: ode_dopri5's f closes over a value of type %s, which the adjoint solve cannot carry (closed-over values must be f64, arrays of f64 or tuples of them)", t)
}

// packODE flattens the f64 parts of x (a cotangent) into one [k]f64;
// parts without a derivative contribute nothing.
func packODE(blk *block, x ir.Expr) ir.Expr {
	b := blk.builder()
	switch t := x.Type().(type) {
	case ir.Scalar:
		if t.Kind != ir.F64 {
			return blk.bind("p", b.Prim(ir.PrimZeros, b.I64(0)))
		}
		return blk.bind("p", b.Prim(ir.PrimArray, x))
	case *ir.Tuple:
		var out ir.Expr
		for i := range t.Elems {
			p := packODE(blk, blk.bind("x", &ir.Proj{X: x, Index: i, P: blk.pos}))
			if out == nil {
				out = p
			} else {
				out = blk.bind("p", b.Prim(ir.PrimConcat, out, p))
			}
		}
		if out == nil {
			return blk.bind("p", b.Prim(ir.PrimZeros, b.I64(0)))
		}
		return out
	case *ir.Array:
		if k, _ := ir.Leaf(t); k != ir.F64 {
			return blk.bind("p", b.Prim(ir.PrimZeros, b.I64(0)))
		}
		for ir.Rank(x.Type()) > 1 {
			x = blk.bind("p", b.Prim(ir.PrimFlatten, x))
		}
		return x
	}
	panic("packODE: unexpected type " + x.Type().String())
}

// unpackODE reads the cotangent of like (whose type and shape it takes)
// from the front of the flat z, as packODE laid it out, and returns it
// with the rest of z. Parts without a derivative are zero.
func unpackODE(blk *block, z ir.Expr, like ir.Expr) (ir.Expr, ir.Expr) {
	b := blk.builder()
	switch t := like.Type().(type) {
	case ir.Scalar:
		if t.Kind != ir.F64 {
			return zero(blk, like), z
		}
		return blk.bind("g", b.Prim(ir.PrimIndex, z, b.I64(0))), blk.bind("z", b.Prim(ir.PrimDrop, z, b.I64(1)))
	case *ir.Tuple:
		elems := make([]ir.Expr, len(t.Elems))
		for i := range t.Elems {
			elems[i], z = unpackODE(blk, z, blk.bind("x", &ir.Proj{X: like, Index: i, P: blk.pos}))
		}
		return blk.bind("g", &ir.MakeTuple{Elems: elems, P: blk.pos}), z
	case *ir.Array:
		if k, _ := ir.Leaf(t); k != ir.F64 {
			return zero(blk, like), z
		}
		flat := like
		for ir.Rank(flat.Type()) > 1 {
			flat = blk.bind("p", b.Prim(ir.PrimFlatten, flat))
		}
		k := blk.bind("k", b.Prim(ir.PrimLen, flat))
		part := blk.bind("g", b.Prim(ir.PrimReshapeLike, blk.bind("g", b.Prim(ir.PrimTake, z, k)), like))
		return part, blk.bind("z", b.Prim(ir.PrimDrop, z, k))
	}
	panic("unpackODE: unexpected type " + like.Type().String())
}
