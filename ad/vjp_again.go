// Recomputing cheap vector values in the reverse pass: a checkpointing
// rule of nested bodies, beside the views that are read again.

package ad

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// viewOp reports whether x, bound in a body's forward code, is an f64
// array made by one addition, subtraction, multiplication, negation,
// power by a constant or matrix-vector product whose operands are views
// (isView) bound in that code, values viewOp accepts, variables of the
// enclosing code or constants: x[i] - mu[k], Q[k] @ (x[i] - mu[k]) and its
// square in the vectorized GMM. Such a value is recomputed in the reverse
// pass instead of saved: recomputing reads operands that are there
// anyway (rows of the inputs), while on the tape the value costs an array
// per iteration, written in the forward sweep, kept alive until the
// reverse pass and then collected (docs/decisions.md, "Recomputing
// operations on views"). The same operation on the same operands gives
// the same bits, and it cannot fail where the forward one did not. val
// gives the forward code's bindings; own, the body's own parameters (the
// index, a loop's state), which the reverse pass would read from the tape.
func viewOp(x ir.Expr, val map[*ir.Var]ir.Expr, own []*ir.Var) bool {
	if disableViewOp {
		return false
	}
	pc, ok := x.(*ir.PrimCall)
	if !ok || ir.Rank(pc.T) == 0 {
		return false
	}
	if l, ok := ir.Leaf(pc.T); !ok || l != ir.F64 {
		return false
	}
	switch pc.Op {
	case ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimNeg:
	case ir.PrimPow:
		if _, ok := pc.Args[1].(*ir.Const); !ok {
			return false
		}
	case ir.PrimMatmul:
		if ir.Rank(pc.T) != 1 {
			return false
		}
	default:
		return false
	}
	for _, a := range pc.Args {
		switch a := a.(type) {
		case *ir.Const:
		case *ir.Var:
			if v, bound := val[a]; bound {
				if !isView(v) && !viewOp(v, val, own) {
					return false
				}
			} else if slices.Contains(own, a) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// recomputesViews reports whether c's reverse pass may recompute
// operations on views: not when the def being differentiated asks to
// save everything (its strategy names save_all).
func (c *rev) recomputesViews() bool { return !c.a.saveViews }

// recomputing sets up the generation of d's VJP: the notes of the values
// its reverse pass recomputes go to notes, and none is recomputed when
// d's strategy names save_all. The returned function restores the state
// before (VJPs of callees are generated meanwhile).
func (a *expander) recomputing(d *ir.Def, notes *[]ir.RematNote) func() {
	saveViews, old := a.saveViews, a.notes
	a.saveViews, a.notes = namesSaveAll(a.src, d), notes
	return func() { a.saveViews, a.notes = saveViews, old }
}

// savingViews turns the recomputation of operations on views off until
// the returned function restores it.
func (a *expander) savingViews() func() {
	old := a.saveViews
	a.saveViews = true
	return func() { a.saveViews = old }
}

// note records that v, computed by x at pos, is recomputed by rule.
func (a *expander) note(rule string, pos ir.Pos, x ir.Expr) {
	if a.notes != nil {
		*a.notes = append(*a.notes, ir.RematNote{Rule: rule, Pos: pos, Expr: x})
	}
}

// namesSaveAll reports whether d's @strategy names save_all, itself or
// through the program's declared strategies.
func namesSaveAll(p *ir.Program, d *ir.Def) bool {
	at := d.Attr("strategy")
	if at == nil || at.Strategy == nil {
		return false
	}
	seen := map[string]bool{}
	var has func(s ir.Strat) bool
	has = func(s ir.Strat) bool {
		switch s := s.(type) {
		case *ir.StratName:
			if s.Name == "save_all" {
				return true
			}
			if !seen[s.Name] && p != nil {
				seen[s.Name] = true
				for _, st := range p.Strats {
					if st.Name == s.Name && st.Body != nil && has(st.Body) {
						return true
					}
				}
			}
			return slices.ContainsFunc(s.Args, has)
		case *ir.StratSeq:
			return slices.ContainsFunc(s.Steps, has)
		case *ir.StratChoice:
			return slices.ContainsFunc(s.Alts, has)
		}
		return false
	}
	return has(at.Strategy)
}

// disableViewOp turns viewOp off, for tests that compare the gradients
// with and without the rule.
var disableViewOp = false
