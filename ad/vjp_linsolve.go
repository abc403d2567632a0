// Reverse mode of linsolve (implicit differentiation).

package ad

import (
	"github.com/nabla-lang/nabla/ir"
)

// backLinsolve: for y = A⁻¹b, bbar = λ = A⁻ᵀ ybar, where Aᵀ's action is
// the VJP of the (linear) action v -> A v taken at 0. When the action
// depends on active values θ (nested implicit differentiation, SPEC §6),
// differentiating A y = b gives θbar += -(∂(A(θ) y)/∂θ)ᵀ λ: the reverse
// pass of the action's body at v = y, v held fixed, seeded with -λ.
func (r *rev) backLinsolve(blk *block, st step, e *ir.PrimCall, ybar ir.Expr) error {
	lam, err := lambdaOf(st.args[0])
	if err != nil {
		return err
	}
	free := r.freeAtoms(lam)
	if !r.isActive(st.args[1]) && len(free) == 0 {
		return nil
	}
	v, err := r.a.vjpLambda(lam.Params, lam.Body, e.P)
	if err != nil {
		return err
	}
	w := ir.NewVar("w", e.T, e.P)
	tb := &block{pos: e.P}
	res := tb.bind("r", apply(v, []ir.Expr{zero(tb, w), w}, e.P))
	transposed := &ir.Lambda{Params: []*ir.Var{w}, Body: tb.close(&ir.Proj{X: res, Index: 1, P: e.P}), P: e.P}
	lambda := blk.bind("lambda", &ir.PrimCall{Op: ir.PrimLinsolve, Args: []ir.Expr{transposed, ybar}, T: e.T, P: e.P})
	r.addTo(blk, st.args[1], lambda)
	if len(free) == 0 {
		return nil
	}
	states := make([]ir.Expr, len(free))
	for i, f := range free {
		states[i] = r.state(blk, f)
	}
	seed := blk.bind("seed", blk.builder().Prim(ir.PrimNeg, lambda))
	_, out, err := r.nested(blk, lam.Body, func(c *rev) {
		// v is y, held fixed: a fresh inactive atom.
		c.ren[lam.Params[0]] = blk.bindVar("v", st.y)
	}, seed, free, states)
	if err != nil {
		return err
	}
	for i, f := range free {
		r.setState(blk, f, out[i])
	}
	return nil
}
