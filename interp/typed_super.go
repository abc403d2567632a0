package interp

import (
	"github.com/nabla-lang/nabla/ir"
)

// Superinstructions: shapes of typed f64 code frequent enough (in the
// bodies reverse mode and the simplifier produce) to be worth one closure
// instead of several. Each computes exactly what the general code
// computes, in the same order, with the same roundings.

// isSquareOf reports whether e is v * v.
func isSquareOf(e ir.Expr, v *ir.Var) bool {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimMul || len(pc.Args) != 2 {
		return false
	}
	a, okA := pc.Args[0].(*ir.Var)
	b, okB := pc.Args[1].(*ir.Var)
	return okA && okB && a == v && b == v
}

// squareLet compiles let v = x in v * v, the square that the simplifier
// leaves of x^2, as one closure that squares x without storing v: v is
// read nowhere else. ok is false for other lets.
func (c *fnComp) squareLet(e *ir.Let) (fcode, bool, error) {
	if e.Var == nil || !ir.Identical(e.Var.T, ir.TF64) || !isSquareOf(e.Body, e.Var) {
		return nil, false, nil
	}
	if f, ok, err := c.squaredDiff(e); ok || err != nil {
		return f, ok, err
	}
	x, err := c.foperand(e.Value)
	if err != nil {
		return nil, true, err
	}
	switch x.kind {
	case oSlot:
		s := x.slot
		return func(fr *frame) float64 {
			t := fr.slots[s].F
			return t * t
		}, true, nil
	case oKonst:
		t := x.c * x.c
		return func(*frame) float64 { return t }, true, nil
	case oLoad:
		ld := x.ld
		return func(fr *frame) float64 {
			t, ok := ld.at(fr)
			if !ok {
				t = ld.slow(fr)
			}
			return t * t
		}, true, nil
	case oPair:
		pr := x.pr
		return func(fr *frame) float64 {
			t := pr.get(fr)
			return t * t
		}, true, nil
	}
	f := x.code
	return func(fr *frame) float64 {
		t := f(fr)
		return t * t
	}, true, nil
}

// letF compiles a let of a scalar value with an f64 body: the value is
// stored and the body run by one closure, with no closure for the store
// (typedLet's general form calls one).
func (c *fnComp) letF(e *ir.Let) (fcode, bool, error) {
	if plainTyped {
		return nil, false, nil
	}
	if f, ok, err := c.squareLet(e); ok || err != nil {
		return f, ok, err
	}
	k, scalar := scalarKind(e.Value.Type())
	if e.Var == nil || !scalar || c.it.letDead(e) != deadNone {
		return nil, false, nil
	}
	s := c.alloc(1)
	var x foperand
	var xi icode
	var err error
	if k == ir.F64 {
		x, err = c.foperand(e.Value)
	} else {
		xi, err = c.typedI(e.Value)
	}
	if err != nil {
		return nil, true, err
	}
	c.bind(e.Var, s)
	b, err := c.typedF(e.Body)
	delete(c.locals, e.Var)
	c.depth = s
	if err != nil {
		return nil, true, err
	}
	if k != ir.F64 {
		return func(fr *frame) float64 {
			setI(&fr.slots[s], xi(fr))
			return b(fr)
		}, true, nil
	}
	if x.kind == oLoad {
		ld := x.ld
		return func(fr *frame) float64 {
			v, ok := ld.at(fr)
			if !ok {
				v = ld.slow(fr)
			}
			setF(&fr.slots[s], v)
			return b(fr)
		}, true, nil
	}
	f := x.fcode()
	return func(fr *frame) float64 {
		setF(&fr.slots[s], f(fr))
		return b(fr)
	}, true, nil
}

// negF compiles -x, reading a slot or an element itself.
func negF(x foperand) fcode {
	switch x.kind {
	case oSlot:
		s := x.slot
		return func(fr *frame) float64 { return -fr.slots[s].F }
	case oKonst:
		v := -x.c
		return func(*frame) float64 { return v }
	case oLoad:
		ld := x.ld
		return func(fr *frame) float64 {
			v, ok := ld.at(fr)
			if !ok {
				v = ld.slow(fr)
			}
			return -v
		}
	case oPair:
		pr := x.pr
		return func(fr *frame) float64 { return -pr.get(fr) }
	}
	f := x.code
	return func(fr *frame) float64 { return -f(fr) }
}

// squaredDiff compiles let v = a - b in v * v, the squared difference of
// least squares and of Rosenbrock's function, as one closure when an
// operand is an element; ok is false otherwise (squareLet then squares
// the sub's own code).
func (c *fnComp) squaredDiff(e *ir.Let) (fcode, bool, error) {
	pc, isCall := e.Value.(*ir.PrimCall)
	if !isCall || pc.Op != ir.PrimSub || len(pc.Args) != 2 || !ir.Identical(pc.T, ir.TF64) || !ir.Identical(pc.Args[0].Type(), ir.TF64) {
		return nil, false, nil
	}
	x, err := c.foperand(pc.Args[0])
	if err != nil {
		return nil, true, err
	}
	y, err := c.foperand(pc.Args[1])
	if err != nil {
		return nil, true, err
	}
	if x.kind == oLoad || y.kind == oLoad {
		return loadArithF(fSub, x, y, true), true, nil
	}
	f, err := arithOperands(fSub, x, y, pc.P)
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) float64 {
		t := f(fr)
		return t * t
	}, true, nil
}

// scaledAdd compiles k * a + b and b + k * a, with k a constant, as one
// closure; ok is false for other operations. The product is rounded
// before the add (float64(...)): no fused multiply-add, whose single
// rounding would differ from the general code's.
func (c *fnComp) scaledAdd(e *ir.PrimCall) (fcode, bool, error) {
	if plainTyped || e.Op != ir.PrimAdd || len(e.Args) != 2 || !ir.Identical(e.T, ir.TF64) {
		return nil, false, nil
	}
	left := true
	m, ok := scaledBy(e.Args[0])
	if !ok {
		if m, ok = scaledBy(e.Args[1]); !ok {
			return nil, false, nil
		}
		left = false
	}
	k := m.Args[0].(*ir.Const).Val.(float64)
	if left {
		a, b, err := c.typedF2(m.Args[1], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		return func(fr *frame) float64 { return float64(k*a(fr)) + b(fr) }, true, nil
	}
	b, a, err := c.typedF2(e.Args[0], m.Args[1])
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) float64 {
		x := b(fr)
		return x + float64(k*a(fr))
	}, true, nil
}

// scaledBy returns e if it is k * a with k an f64 constant.
func scaledBy(e ir.Expr) (*ir.PrimCall, bool) {
	m, ok := e.(*ir.PrimCall)
	if !ok || m.Op != ir.PrimMul || len(m.Args) != 2 || !ir.Identical(m.T, ir.TF64) {
		return nil, false
	}
	k, ok := m.Args[0].(*ir.Const)
	if !ok {
		return nil, false
	}
	_, ok = k.Val.(float64)
	return m, ok
}
