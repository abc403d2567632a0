package ad

import "github.com/nabla-lang/nabla/ir"

// Implicit differentiation is not built yet; programs that use it get a
// positioned error saying so.

func (a *expander) implicitJVP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	return nil, ir.Errorf(at.P, "@implicit: implicit differentiation is not available yet in this build")
}

func (a *expander) implicitVJP(d *ir.Def, at *ir.Attr) (*ir.Lambda, error) {
	return nil, ir.Errorf(at.P, "@implicit: implicit differentiation is not available yet in this build")
}
