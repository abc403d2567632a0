package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Scalar code. An elementwise primitive whose operands and result are
// scalars is compiled here instead of through Prim.Eval: it applies the
// primitive's declared scalar semantics (F1, F2, I2, CmpF, ...) to the
// operands directly, with no argument slice and no Impl call. These are
// the per-element costs of scalar loops, so the commonest operations get
// more: the operation is a code for one switch (binApply) instead of a
// call through a function value, and an operand that is a local variable
// or a constant is read in place instead of through a closure of its
// own. In `s + f64(i) * 0.5` the add reads s from its slot, the mul
// takes 0.5 as a Go constant, and f64 reads i from its slot: three
// closures for the expression instead of six.

// operand is how a scalar operation gets one operand: from a slot of the
// frame, as a constant, or by evaluating code.
type operand struct {
	slot  int // >= 0: read this slot
	konst bool
	c     runtime.Value // the constant, when konst
	fn    evalFn        // otherwise
}

func (c *fnComp) operand(e ir.Expr) (operand, error) {
	switch x := e.(type) {
	case *ir.Var:
		if s, ok := c.locals[x]; ok {
			return operand{slot: s}, nil
		}
	case *ir.Const:
		v, err := constValue(x)
		return operand{slot: -1, konst: true, c: v}, err
	}
	fn, err := c.compile(e)
	return operand{slot: -1, fn: fn}, err
}

// eval returns code that evaluates the operand.
func (o operand) eval() evalFn {
	switch {
	case o.slot >= 0:
		i := o.slot
		return func(fr *frame) (runtime.Value, error) { return fr.slots[i], nil }
	case o.konst:
		v := o.c
		return func(*frame) (runtime.Value, error) { return v, nil }
	}
	return o.fn
}

// scalarOp compiles e if it is an elementwise operation on scalars; ok
// reports whether it was.
func (c *fnComp) scalarOp(e *ir.PrimCall) (fn evalFn, ok bool, err error) {
	op := e.Op
	if !op.Elementwise {
		return nil, false, nil
	}
	rt, isScalar := e.T.(ir.Scalar)
	if !isScalar {
		return nil, false, nil
	}
	kinds := make([]ir.ScalarKind, len(e.Args))
	for i, a := range e.Args {
		if a == nil {
			return nil, false, nil
		}
		s, isScalar := a.Type().(ir.Scalar)
		if !isScalar {
			return nil, false, nil
		}
		kinds[i] = s.Kind
	}
	switch len(kinds) {
	case 1:
		mk := unaryCode(op, kinds[0], rt.Kind, e.P)
		if mk == nil {
			return nil, false, nil
		}
		x, err := c.operand(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		return mk(x), true, nil
	case 2:
		if kinds[0] != kinds[1] {
			return nil, false, nil
		}
		bop, isBin := binOpOf(op, kinds[0], rt.Kind)
		var mk func(x, y evalFn) evalFn
		if !isBin {
			if mk = binaryFunc(op, kinds[0], rt.Kind, e.P); mk == nil {
				return nil, false, nil
			}
		}
		x, err := c.operand(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		y, err := c.operand(e.Args[1])
		if err != nil {
			return nil, true, err
		}
		if isBin {
			return binCode(bop, x, y), true, nil
		}
		return mk(x.eval(), y.eval()), true, nil
	}
	return nil, false, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// binOp names the binary operations binApply implements.
type binOp uint8

const (
	fAdd binOp = iota
	fSub
	fMul
	fDiv
	fLt
	fLe
	fGt
	fGe
	fEq
	fNe
	iAdd
	iSub
	iMul
	iLt
	iLe
	iGt
	iGe
	iEq
	iNe
	bAnd
	bOr
)

// binOps maps primitives to their codes for f64 operands, i64 operands
// and bool operands, in that order (-1: none).
var binOps = map[*ir.Prim][3]int{
	ir.PrimAdd: {int(fAdd), int(iAdd), -1},
	ir.PrimSub: {int(fSub), int(iSub), -1},
	ir.PrimMul: {int(fMul), int(iMul), -1},
	ir.PrimDiv: {int(fDiv), -1, -1}, // i64 division can fail: binaryFunc
	ir.PrimLt:  {int(fLt), int(iLt), -1},
	ir.PrimLe:  {int(fLe), int(iLe), -1},
	ir.PrimGt:  {int(fGt), int(iGt), -1},
	ir.PrimGe:  {int(fGe), int(iGe), -1},
	ir.PrimEq:  {int(fEq), int(iEq), int(iEq)},
	ir.PrimNe:  {int(fNe), int(iNe), int(iNe)},
	ir.PrimAnd: {-1, -1, int(bAnd)},
	ir.PrimOr:  {-1, -1, int(bOr)},
}

func binOpOf(op *ir.Prim, k, r ir.ScalarKind) (binOp, bool) {
	codes, ok := binOps[op]
	if !ok || int(k) > 2 {
		return 0, false
	}
	c := codes[k]
	if c < 0 {
		return 0, false
	}
	// The result kind must be what the code produces.
	want := k
	if binOp(c) >= fLt && binOp(c) <= fNe || binOp(c) >= iLt {
		want = ir.Bool
	}
	if r != want {
		return 0, false
	}
	return binOp(c), true
}

// binApply is the arithmetic of the binary operations, with the same
// semantics as the primitives' F2, I2, CmpF, CmpI and B2.
func binApply(op binOp, a, b runtime.Value) runtime.Value {
	switch op {
	case fAdd:
		return runtime.Value{F: a.F + b.F}
	case fSub:
		return runtime.Value{F: a.F - b.F}
	case fMul:
		return runtime.Value{F: a.F * b.F}
	case fDiv:
		return runtime.Value{F: a.F / b.F}
	case fLt:
		return runtime.Value{I: b2i(a.F < b.F)}
	case fLe:
		return runtime.Value{I: b2i(a.F <= b.F)}
	case fGt:
		return runtime.Value{I: b2i(a.F > b.F)}
	case fGe:
		return runtime.Value{I: b2i(a.F >= b.F)}
	case fEq:
		return runtime.Value{I: b2i(a.F == b.F)}
	case fNe:
		return runtime.Value{I: b2i(a.F != b.F)}
	case iAdd:
		return runtime.Value{I: a.I + b.I}
	case iSub:
		return runtime.Value{I: a.I - b.I}
	case iMul:
		return runtime.Value{I: a.I * b.I}
	case iLt:
		return runtime.Value{I: b2i(a.I < b.I)}
	case iLe:
		return runtime.Value{I: b2i(a.I <= b.I)}
	case iGt:
		return runtime.Value{I: b2i(a.I > b.I)}
	case iGe:
		return runtime.Value{I: b2i(a.I >= b.I)}
	case iEq:
		return runtime.Value{I: b2i(a.I == b.I)}
	case iNe:
		return runtime.Value{I: b2i(a.I != b.I)}
	case bAnd:
		return runtime.Value{I: b2i(a.I != 0 && b.I != 0)}
	default: // bOr
		return runtime.Value{I: b2i(a.I != 0 || b.I != 0)}
	}
}

// binCode specializes a binary operation on where its operands come from.
// Both operands are always evaluated, left first (an error in either
// stops the evaluation, as for any primitive).
func binCode(op binOp, x, y operand) evalFn {
	switch {
	case x.konst && y.konst:
		v := binApply(op, x.c, y.c)
		return func(*frame) (runtime.Value, error) { return v, nil }
	case x.slot >= 0 && y.konst:
		i, k := x.slot, y.c
		return func(fr *frame) (runtime.Value, error) { return binApply(op, fr.slots[i], k), nil }
	case x.konst && y.slot >= 0:
		k, j := x.c, y.slot
		return func(fr *frame) (runtime.Value, error) { return binApply(op, k, fr.slots[j]), nil }
	case x.slot >= 0 && y.slot >= 0:
		i, j := x.slot, y.slot
		return func(fr *frame) (runtime.Value, error) { return binApply(op, fr.slots[i], fr.slots[j]), nil }
	case x.slot >= 0:
		i, g := x.slot, y.fn
		return func(fr *frame) (runtime.Value, error) {
			v, err := g(fr)
			if err != nil {
				return v, err
			}
			return binApply(op, fr.slots[i], v), nil
		}
	case y.slot >= 0:
		f, j := x.fn, y.slot
		return func(fr *frame) (runtime.Value, error) {
			u, err := f(fr)
			if err != nil {
				return u, err
			}
			return binApply(op, u, fr.slots[j]), nil
		}
	case y.konst:
		f, k := x.fn, y.c
		return func(fr *frame) (runtime.Value, error) {
			u, err := f(fr)
			if err != nil {
				return u, err
			}
			return binApply(op, u, k), nil
		}
	case x.konst:
		k, g := x.c, y.fn
		return func(fr *frame) (runtime.Value, error) {
			v, err := g(fr)
			if err != nil {
				return v, err
			}
			return binApply(op, k, v), nil
		}
	}
	f, g := x.fn, y.fn
	return func(fr *frame) (runtime.Value, error) {
		u, err := f(fr)
		if err != nil {
			return u, err
		}
		v, err := g(fr)
		if err != nil {
			return v, err
		}
		return binApply(op, u, v), nil
	}
}

// unaryCode returns the code maker for a unary scalar operation, or nil.
// Operations that cannot fail are folded when their operand is constant.
func unaryCode(op *ir.Prim, k, r ir.ScalarKind, pos ir.Pos) func(operand) evalFn {
	var pure func(runtime.Value) runtime.Value // an operation that cannot fail
	switch {
	case op == ir.PrimToF64 && k == ir.I64 && r == ir.F64:
		pure = func(v runtime.Value) runtime.Value { return runtime.Value{F: float64(v.I)} }
		return func(x operand) evalFn {
			if x.slot >= 0 {
				i := x.slot
				return func(fr *frame) (runtime.Value, error) { return runtime.Value{F: float64(fr.slots[i].I)}, nil }
			}
			return unaryPure(pure, x)
		}
	case op == ir.PrimNeg && k == ir.F64 && r == ir.F64:
		pure = func(v runtime.Value) runtime.Value { return runtime.Value{F: -v.F} }
		return func(x operand) evalFn {
			if x.slot >= 0 {
				i := x.slot
				return func(fr *frame) (runtime.Value, error) { return runtime.Value{F: -fr.slots[i].F}, nil }
			}
			return unaryPure(pure, x)
		}
	case k == ir.F64 && r == ir.F64 && op.F1 != nil:
		f := op.F1
		return func(x operand) evalFn {
			if x.slot >= 0 {
				i := x.slot
				return func(fr *frame) (runtime.Value, error) { return runtime.Value{F: f(fr.slots[i].F)}, nil }
			}
			return unaryPure(func(v runtime.Value) runtime.Value { return runtime.Value{F: f(v.F)} }, x)
		}
	case k == ir.Bool && r == ir.Bool && op.B1 != nil:
		f := op.B1
		return func(x operand) evalFn {
			return unaryPure(func(v runtime.Value) runtime.Value { return runtime.Value{I: b2i(f(v.I != 0))} }, x)
		}
	case k == ir.I64 && r == ir.I64 && op.I1 != nil:
		f := op.I1
		return func(x operand) evalFn {
			g := x.eval()
			return func(fr *frame) (runtime.Value, error) {
				v, err := g(fr)
				if err != nil {
					return v, err
				}
				i, err := f(v.I)
				if err != nil {
					return runtime.Value{}, errAt(pos, err)
				}
				return runtime.Value{I: i}, nil
			}
		}
	}
	return nil
}

func unaryPure(f func(runtime.Value) runtime.Value, x operand) evalFn {
	if x.konst {
		v := f(x.c)
		return func(*frame) (runtime.Value, error) { return v, nil }
	}
	g := x.eval()
	return func(fr *frame) (runtime.Value, error) {
		v, err := g(fr)
		if err != nil {
			return v, err
		}
		return f(v), nil
	}
}

// binaryFunc covers the binary scalar operations binApply does not: they
// call the primitive's scalar function.
func binaryFunc(op *ir.Prim, k, r ir.ScalarKind, pos ir.Pos) func(x, y evalFn) evalFn {
	switch {
	case k == ir.F64 && r == ir.F64 && op.F2 != nil:
		f := op.F2
		return func(x, y evalFn) evalFn {
			return func(fr *frame) (runtime.Value, error) {
				u, err := x(fr)
				if err != nil {
					return u, err
				}
				v, err := y(fr)
				if err != nil {
					return v, err
				}
				return runtime.Value{F: f(u.F, v.F)}, nil
			}
		}
	case k == ir.I64 && r == ir.I64 && op.I2 != nil:
		f := op.I2
		return func(x, y evalFn) evalFn {
			return func(fr *frame) (runtime.Value, error) {
				u, err := x(fr)
				if err != nil {
					return u, err
				}
				v, err := y(fr)
				if err != nil {
					return v, err
				}
				i, err := f(u.I, v.I)
				if err != nil {
					return runtime.Value{}, errAt(pos, err)
				}
				return runtime.Value{I: i}, nil
			}
		}
	case k == ir.F64 && r == ir.Bool && op.CmpF != nil:
		f := op.CmpF
		return func(x, y evalFn) evalFn {
			return func(fr *frame) (runtime.Value, error) {
				u, err := x(fr)
				if err != nil {
					return u, err
				}
				v, err := y(fr)
				if err != nil {
					return v, err
				}
				return runtime.Value{I: b2i(f(u.F, v.F))}, nil
			}
		}
	case (k == ir.I64 || k == ir.Bool) && r == ir.Bool && op.CmpI != nil:
		f := op.CmpI
		return func(x, y evalFn) evalFn {
			return func(fr *frame) (runtime.Value, error) {
				u, err := x(fr)
				if err != nil {
					return u, err
				}
				v, err := y(fr)
				if err != nil {
					return v, err
				}
				return runtime.Value{I: b2i(f(u.I, v.I))}, nil
			}
		}
	case k == ir.Bool && r == ir.Bool && op.B2 != nil:
		f := op.B2
		return func(x, y evalFn) evalFn {
			return func(fr *frame) (runtime.Value, error) {
				u, err := x(fr)
				if err != nil {
					return u, err
				}
				v, err := y(fr)
				if err != nil {
					return v, err
				}
				return runtime.Value{I: b2i(f(u.I != 0, v.I != 0))}, nil
			}
		}
	}
	return nil
}
