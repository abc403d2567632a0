package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// f64 arithmetic, the commonest typed code, specialized on where each
// operand comes from: a slot of the frame, a constant or code. In
// s + f64(i) * 0.5 the add reads s from its slot and the mul takes 0.5 as
// a Go constant: fewer closure calls per element. Both operands are
// always evaluated, left first.

// foperand is one operand of an f64 operation.
type foperand struct {
	slot  int // >= 0: read this slot
	konst bool
	c     float64 // the constant, when konst
	code  fcode   // otherwise
}

func (c *fnComp) foperand(e ir.Expr) (foperand, error) {
	switch x := e.(type) {
	case *ir.Var:
		if s, ok := c.locals[x]; ok {
			return foperand{slot: s}, nil
		}
	case *ir.Const:
		if v, ok := x.Val.(float64); ok {
			return foperand{slot: -1, konst: true, c: v}, nil
		}
	}
	f, err := c.typedF(e)
	return foperand{slot: -1, code: f}, err
}

// arithF compiles a + - * / of f64 operands.
func (c *fnComp) arithF(op binOp, a, b ir.Expr) (fcode, error) {
	x, err := c.foperand(a)
	if err != nil {
		return nil, err
	}
	y, err := c.foperand(b)
	if err != nil {
		return nil, err
	}
	if x.konst && y.konst {
		v := binApply(op, runtime.Value{F: x.c}, runtime.Value{F: y.c}).F
		return func(*frame) float64 { return v }, nil
	}
	switch op {
	case fAdd:
		return addF(x, y), nil
	case fSub:
		return subF(x, y), nil
	case fMul:
		return mulF(x, y), nil
	case fDiv:
		return divF(x, y), nil
	}
	return nil, ir.Errorf(a.Pos(), "arithF: operation %d", op)
}

func addF(x, y foperand) fcode {
	switch {
	case x.slot >= 0 && y.konst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F + k }
	case x.konst && y.slot >= 0:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k + fr.slots[j].F }
	case x.slot >= 0 && y.slot >= 0:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F + fr.slots[j].F }
	case x.slot >= 0:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F + g(fr) }
	case y.slot >= 0:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) + fr.slots[j].F }
	case y.konst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) + k }
	case x.konst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k + g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) + g(fr) }
}

func subF(x, y foperand) fcode {
	switch {
	case x.slot >= 0 && y.konst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F - k }
	case x.konst && y.slot >= 0:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k - fr.slots[j].F }
	case x.slot >= 0 && y.slot >= 0:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F - fr.slots[j].F }
	case x.slot >= 0:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F - g(fr) }
	case y.slot >= 0:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) - fr.slots[j].F }
	case y.konst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) - k }
	case x.konst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k - g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) - g(fr) }
}

func mulF(x, y foperand) fcode {
	switch {
	case x.slot >= 0 && y.konst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F * k }
	case x.konst && y.slot >= 0:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k * fr.slots[j].F }
	case x.slot >= 0 && y.slot >= 0:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F * fr.slots[j].F }
	case x.slot >= 0:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F * g(fr) }
	case y.slot >= 0:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) * fr.slots[j].F }
	case y.konst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) * k }
	case x.konst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k * g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) * g(fr) }
}

func divF(x, y foperand) fcode {
	switch {
	case x.slot >= 0 && y.konst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F / k }
	case x.konst && y.slot >= 0:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k / fr.slots[j].F }
	case x.slot >= 0 && y.slot >= 0:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F / fr.slots[j].F }
	case x.slot >= 0:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F / g(fr) }
	case y.slot >= 0:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) / fr.slots[j].F }
	case y.konst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) / k }
	case x.konst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k / g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) / g(fr) }
}
