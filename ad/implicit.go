package ad

import "github.com/nabla-lang/nabla/ir"

// Implicit differentiation (SPEC §6). For @implicit(F) on
// solve: P -> X with F(solve(θ), θ) = 0, the implicit function theorem
// gives, at x* = solve(θ),
//
//	dx = -(∂F/∂x)⁻¹ (∂F/∂θ) dθ            (forward)
//	θbar = -(∂F/∂θ)ᵀ λ, (∂F/∂x)ᵀ λ = xbar   (reverse)
//
// The linear systems are solved matrix-free by linsolve (GMRES), whose
// matrix-vector products are JVPs or VJPs of F: the solver's own
// iterations are never differentiated. Implicit functions nest: when the
// derivative code itself is differentiated (a Hessian, or an F that calls
// another implicit function), the matrix of a linsolve depends on the
// input, and linsolve is differentiated by the same theorem applied to
// A y = b (jvp.go and vjp.go, linsolve).

// implicitParts checks the shapes and returns F's forward and reverse
// derivatives.
func (a *expander) implicitParts(d *ir.Def, at *ir.Attr) (*ir.Def, *ir.Def, error) {
	if len(d.Params) != 1 {
		return nil, nil, ir.Errorf(at.P, "@implicit: %s must take one parameter (a tuple for several)", d.Name)
	}
	if !isVectorOrScalar(d.Result) {
		return nil, nil, ir.Errorf(at.P, "@implicit: the solution of %s must be f64 or [n]f64, not %s", d.Name, d.Result)
	}
	F := a.lookup(at.Fn)
	if F == nil {
		return nil, nil, ir.Errorf(at.P, "@implicit(%s): no such def", at.Fn)
	}
	j, err := a.jvpDef(F, at.P)
	if err != nil {
		return nil, nil, err
	}
	v, err := a.vjpDef(F)
	if err != nil {
		return nil, nil, err
	}
	return j, v, nil
}

func isVectorOrScalar(t ir.Type) bool {
	if ir.Identical(t, ir.TF64) {
		return true
	}
	arr, ok := t.(*ir.Array)
	return ok && ir.Identical(arr.Elem, ir.TF64)
}

func globalOf(d *ir.Def, pos ir.Pos) ir.Expr { return &ir.Global{Name: d.Name, T: d.Type(), P: pos} }

func callDef(fn *ir.Def, pos ir.Pos, args ...ir.Expr) ir.Expr {
	return &ir.Call{Fn: globalOf(fn, pos), Args: args, T: fn.Result, P: pos}
}

// implicitJVP is fn(θ, dθ) => (x*, dx).
func (a *expander) implicitJVP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	fj, _, err := a.implicitParts(d, at)
	if err != nil {
		return nil, err
	}
	pos := at.P
	theta := ir.NewVar("theta", d.Params[0].T, pos)
	dtheta := ir.NewVar("dtheta", d.Params[0].T, pos)
	blk := &block{pos: pos}
	b := blk.builder()
	x := blk.bind("x", callDef(d, pos, theta))
	// rhs = -(∂F/∂θ) dθ
	r := blk.bind("r", callDef(fj, pos, x, theta, zero(blk, x), dtheta))
	rhs := blk.bind("rhs", b.Prim(ir.PrimNeg, b.Proj(r, 1)))
	// matvec(v) = (∂F/∂x) v
	vv := ir.NewVar("v", d.Result, pos)
	mb := &block{pos: pos}
	mr := mb.bind("r", callDef(fj, pos, x, theta, vv, zero(mb, theta)))
	matvec := &ir.Lambda{Params: []*ir.Var{vv}, Body: mb.close(&ir.Proj{X: mr, Index: 1, P: pos}), P: pos}
	dx := blk.bind("dx", b.Prim(ir.PrimLinsolve, matvec, rhs))
	return &ir.Lambda{Params: []*ir.Var{theta, dtheta}, Body: blk.close(b.Tuple(x, dx)), P: pos}, nil
}

// implicitVJP is fn(θ, xbar) => (x*, θbar).
func (a *expander) implicitVJP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	_, fv, err := a.implicitParts(d, at)
	if err != nil {
		return nil, err
	}
	pos := at.P
	theta := ir.NewVar("theta", d.Params[0].T, pos)
	xbar := ir.NewVar("xbar", d.Result, pos)
	blk := &block{pos: pos}
	b := blk.builder()
	x := blk.bind("x", callDef(d, pos, theta))
	// matvec(v) = (∂F/∂x)ᵀ v, the x part of F's VJP.
	vv := ir.NewVar("v", d.Result, pos)
	mb := &block{pos: pos}
	mr := mb.bind("r", callDef(fv, pos, x, theta, vv))
	grads := mb.bind("g", &ir.Proj{X: mr, Index: 1, P: pos})
	matvec := &ir.Lambda{Params: []*ir.Var{vv}, Body: mb.close(&ir.Proj{X: grads, Index: 0, P: pos}), P: pos}
	lambda := blk.bind("lambda", b.Prim(ir.PrimLinsolve, matvec, xbar))
	// θbar = -(∂F/∂θ)ᵀ λ, the θ part of F's VJP with cotangent -λ (θ may
	// be a tuple, which has no negation).
	r := blk.bind("r", callDef(fv, pos, x, theta, blk.bind("nl", b.Prim(ir.PrimNeg, lambda))))
	tbar := blk.bind("tbar", b.Proj(blk.bind("g", b.Proj(r, 1)), 1))
	return &ir.Lambda{Params: []*ir.Var{theta, xbar}, Body: blk.close(b.Tuple(x, tbar)), P: pos}, nil
}
