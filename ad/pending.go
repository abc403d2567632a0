package ad

import "github.com/nabla-lang/nabla/ir"

// Taylor mode and implicit differentiation are not built yet; programs
// that use them get a positioned error saying so.

func (a *expander) taylorOp(pc *ir.PrimCall, _ fnOf) (ir.Expr, error) {
	return nil, ir.Errorf(pc.P, "%s: Taylor mode is not available yet in this build", pc.Op.Name)
}

func (a *expander) implicitJVP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	return nil, ir.Errorf(at.P, "@implicit: implicit differentiation is not available yet in this build")
}

func (a *expander) implicitVJP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	return nil, ir.Errorf(at.P, "@implicit: implicit differentiation is not available yet in this build")
}
