package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// The binary operations typed code applies inline (see typed.go), and
// their semantics, which are the primitives' F2, I2, CmpF, CmpI and B2.

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
