package ad

import "github.com/nabla-lang/nabla/ir"

// taylorOp expands taylor and jet (being written).
func (a *expander) taylorOp(pc *ir.PrimCall, _ fnOf) (ir.Expr, error) {
	return nil, ir.Errorf(pc.P, "%s: Taylor mode is not available yet in this build", pc.Op.Name)
}
