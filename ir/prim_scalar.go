package ir

import (
	"fmt"
	"math"
)

// Elementwise primitives: scalar operations lifted over arrays (SPEC §4,
// §5). Each declaration gives the scalar semantics; the shared type rule,
// hint and evaluator lift them.

var (
	kF   = []ScalarKind{F64}
	kI   = []ScalarKind{I64}
	kFI  = []ScalarKind{F64, I64}
	kB   = []ScalarKind{Bool}
	kFIB = []ScalarKind{F64, I64, Bool}
)

func kindPtr(k ScalarKind) *ScalarKind { return &k }

// elementwise completes an elementwise declaration and registers it.
func elementwise(p *Prim) *Prim {
	p.Elementwise = true
	if p.Arity == 0 {
		switch {
		case p.F2 != nil || p.I2 != nil || p.B2 != nil || p.CmpF != nil || p.CmpI != nil:
			p.Arity = 2
		default:
			p.Arity = 1
		}
	}
	p.Type = func(args []Type, _ any) (Type, error) { return elementwiseType(p, args) }
	p.Hint = elementwiseHint
	p.Eval = evalElementwise
	return Register(p)
}

func unaryF(name string, f func(float64) float64, doc string) *Prim {
	return elementwise(&Prim{Name: name, Kinds: kF, F1: f, Doc: doc})
}

func binaryF(name string, f func(a, b float64) float64, doc string) *Prim {
	return elementwise(&Prim{Name: name, Kinds: kF, F2: f, Doc: doc})
}

// Arithmetic operators.
var (
	PrimAdd = elementwise(&Prim{Name: "add", Op: "+", Kinds: kFI, Doc: "x + y",
		F2: func(a, b float64) float64 { return a + b },
		I2: func(a, b int64) (int64, error) { return a + b, nil }})
	PrimSub = elementwise(&Prim{Name: "sub", Op: "-", Kinds: kFI, Doc: "x - y",
		F2: func(a, b float64) float64 { return a - b },
		I2: func(a, b int64) (int64, error) { return a - b, nil }})
	PrimMul = elementwise(&Prim{Name: "mul", Op: "*", Kinds: kFI, Doc: "x * y",
		F2: func(a, b float64) float64 { return a * b },
		I2: func(a, b int64) (int64, error) { return a * b, nil }})
	PrimDiv = elementwise(&Prim{Name: "div", Op: "/", Kinds: kFI, Doc: "x / y; i64 division truncates toward zero",
		F2: func(a, b float64) float64 { return a / b },
		I2: func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, errIntDivZero
			}
			return a / b, nil
		}})
	PrimMod = elementwise(&Prim{Name: "mod", Op: "%", Kinds: kFI, Doc: "x % y; the sign follows x, as in Go",
		F2: math.Mod,
		I2: func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, errIntDivZero
			}
			return a % b, nil
		}})
	PrimPow = elementwise(&Prim{Name: "pow", Op: "^", Kinds: kFI, Doc: "x ^ y; on i64 the exponent must not be negative",
		F2: math.Pow,
		I2: func(a, b int64) (int64, error) {
			if b < 0 {
				return 0, fmt.Errorf("negative exponent %d in integer power", b)
			}
			r := int64(1)
			for ; b > 0; b >>= 1 {
				if b&1 == 1 {
					r *= a
				}
				a *= a
			}
			return r, nil
		}})
	PrimNeg = elementwise(&Prim{Name: "neg", Op: "-", Kinds: kFI, Arity: 1, Doc: "-x",
		F1: func(a float64) float64 { return -a },
		I1: func(a int64) (int64, error) { return -a, nil }})
)

// Comparisons and logic.
var (
	PrimEq = elementwise(&Prim{Name: "eq", Op: "==", Kinds: kFIB, ResultKind: kindPtr(Bool), Doc: "x == y",
		CmpF: func(a, b float64) bool { return a == b }, CmpI: func(a, b int64) bool { return a == b }})
	PrimNe = elementwise(&Prim{Name: "ne", Op: "!=", Kinds: kFIB, ResultKind: kindPtr(Bool), Doc: "x != y",
		CmpF: func(a, b float64) bool { return a != b }, CmpI: func(a, b int64) bool { return a != b }})
	PrimLt = elementwise(&Prim{Name: "lt", Op: "<", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x < y",
		CmpF: func(a, b float64) bool { return a < b }, CmpI: func(a, b int64) bool { return a < b }})
	PrimLe = elementwise(&Prim{Name: "le", Op: "<=", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x <= y",
		CmpF: func(a, b float64) bool { return a <= b }, CmpI: func(a, b int64) bool { return a <= b }})
	PrimGt = elementwise(&Prim{Name: "gt", Op: ">", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x > y",
		CmpF: func(a, b float64) bool { return a > b }, CmpI: func(a, b int64) bool { return a > b }})
	PrimGe = elementwise(&Prim{Name: "ge", Op: ">=", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x >= y",
		CmpF: func(a, b float64) bool { return a >= b }, CmpI: func(a, b int64) bool { return a >= b }})
	PrimAnd = elementwise(&Prim{Name: "and", Op: "&&", Kinds: kB, Doc: "x && y (both sides are evaluated; use if to short-circuit)",
		B2: func(a, b bool) bool { return a && b }})
	PrimOr = elementwise(&Prim{Name: "or", Op: "||", Kinds: kB, Doc: "x || y (both sides are evaluated; use if to short-circuit)",
		B2: func(a, b bool) bool { return a || b }})
	PrimNot = elementwise(&Prim{Name: "not", Op: "!", Kinds: kB, Arity: 1, Doc: "!x",
		B1: func(a bool) bool { return !a }})
)

// Conversions.
var (
	PrimToF64 = elementwise(&Prim{Name: "f64", Kinds: kFI, ResultKind: kindPtr(F64), Arity: 1, Doc: "conversion to f64",
		F1: func(a float64) float64 { return a }})
	PrimToI64 = elementwise(&Prim{Name: "i64", Kinds: kFI, ResultKind: kindPtr(I64), Arity: 1, Doc: "conversion to i64, truncating toward zero",
		I1: func(a int64) (int64, error) { return a, nil }})
)

// Scalar math (SPEC §5).
var (
	PrimExp   = unaryF("exp", math.Exp, "e^x")
	PrimLog   = unaryF("log", math.Log, "natural logarithm")
	PrimSqrt  = unaryF("sqrt", math.Sqrt, "square root")
	PrimSin   = unaryF("sin", math.Sin, "sine")
	PrimCos   = unaryF("cos", math.Cos, "cosine")
	PrimTan   = unaryF("tan", math.Tan, "tangent")
	PrimTanh  = unaryF("tanh", math.Tanh, "hyperbolic tangent")
	PrimSinh  = unaryF("sinh", math.Sinh, "hyperbolic sine")
	PrimCosh  = unaryF("cosh", math.Cosh, "hyperbolic cosine")
	PrimAsin  = unaryF("asin", math.Asin, "arcsine")
	PrimAcos  = unaryF("acos", math.Acos, "arccosine")
	PrimAtan  = unaryF("atan", math.Atan, "arctangent")
	PrimFloor = unaryF("floor", math.Floor, "largest integer value ≤ x; derivative 0")
	PrimCeil  = unaryF("ceil", math.Ceil, "smallest integer value ≥ x; derivative 0")
	PrimRound = unaryF("round", math.Round, "nearest integer value, halves away from zero; derivative 0")
	PrimLog1p = unaryF("log1p", math.Log1p, "log(1 + x), accurate near 0")
	PrimExpm1 = unaryF("expm1", math.Expm1, "exp(x) - 1, accurate near 0")
	PrimErf   = unaryF("erf", math.Erf, "error function")
	PrimRelu  = unaryF("relu", func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0
	}, "max(x, 0); relu'(0) = 0")
	PrimSigmoid  = unaryF("sigmoid", Sigmoid, "1 / (1 + e^-x), computed stably")
	PrimSoftplus = unaryF("softplus", Softplus, "log(1 + e^x), computed stably")
	PrimAtan2    = binaryF("atan2", math.Atan2, "atan2(y, x), the angle of the point (x, y)")

	PrimAbs = elementwise(&Prim{Name: "abs", Kinds: kFI, Arity: 1, Doc: "|x|; abs'(0) = 0",
		F1: math.Abs,
		I1: func(a int64) (int64, error) {
			if a < 0 {
				return -a, nil
			}
			return a, nil
		}})
	PrimSign = elementwise(&Prim{Name: "sign", Kinds: kFI, Arity: 1, Doc: "-1, 0 or 1 (NaN for NaN); derivative 0",
		F1: func(a float64) float64 {
			switch {
			case a > 0:
				return 1
			case a < 0:
				return -1
			}
			return a // 0, -0 or NaN
		},
		I1: func(a int64) (int64, error) {
			switch {
			case a > 0:
				return 1, nil
			case a < 0:
				return -1, nil
			}
			return 0, nil
		}})
	PrimMin = elementwise(&Prim{Name: "min", Kinds: kFI, Doc: "the smaller of x and y (x on ties; NaN if either is NaN)",
		F2: func(a, b float64) float64 {
			if b < a || math.IsNaN(b) {
				return b
			}
			return a
		},
		I2: func(a, b int64) (int64, error) { return min(a, b), nil }})
	PrimMax = elementwise(&Prim{Name: "max", Kinds: kFI, Doc: "the larger of x and y (x on ties; NaN if either is NaN)",
		F2: func(a, b float64) float64 {
			if b > a || math.IsNaN(b) {
				return b
			}
			return a
		},
		I2: func(a, b int64) (int64, error) { return max(a, b), nil }})
)

// Sigmoid is 1/(1+e^-x) without overflow for large |x|.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus is log(1+e^x) without overflow for large x.
func Softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// errIntDivZero is the run-time error of i64 division or remainder by zero.
var errIntDivZero = fmt.Errorf("integer division by zero")

func kindAllowed(k ScalarKind, ks []ScalarKind) bool {
	for _, a := range ks {
		if a == k {
			return true
		}
	}
	return false
}

func kindNames(ks []ScalarKind) string {
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += " or "
		}
		s += Scalar{k}.String()
	}
	return s
}

// elementwiseType is the type rule shared by lifted scalar operations:
// operands are scalars or arrays of one scalar kind; arrays must have the
// same shape (checked here when known, otherwise at run time) and scalars
// broadcast over them.
func elementwiseType(p *Prim, args []Type) (Type, error) {
	var shape Type // the first array operand
	var kind ScalarKind
	for i, a := range args {
		k, ok := Leaf(a)
		if !ok {
			return nil, fmt.Errorf("%s: operand %d has type %s; want %s or an array of it", p.displayName(), i+1, a, kindNames(p.Kinds))
		}
		if !kindAllowed(k, p.Kinds) {
			return nil, fmt.Errorf("%s: operand has type %s; want %s or an array of it", p.displayName(), a, kindNames(p.Kinds))
		}
		if i == 0 {
			kind = k
		} else if k != kind {
			return nil, fmt.Errorf("mismatched types %s and %s in %s (convert with f64() or i64())", args[0], a, p.displayName())
		}
		if _, isArr := a.(*Array); isArr {
			if shape == nil {
				shape = a
			} else if !Equal(WithLeaf(shape, k), a) {
				return nil, fmt.Errorf("shape mismatch in %s: %s and %s", p.displayName(), shape, a)
			}
		}
	}
	rk := kind
	if p.ResultKind != nil {
		rk = *p.ResultKind
	}
	if shape == nil {
		return Scalar{rk}, nil
	}
	return WithLeaf(shape, rk), nil
}

// elementwiseHint expects f64 for an operand when another operand is f64
// (so the literal in 2 * x is an f64).
func elementwiseHint(args []Type, i int) Type {
	for j, a := range args {
		if j == i || a == nil {
			continue
		}
		if k, ok := Leaf(a); ok && k == F64 {
			return TF64
		}
	}
	return nil
}

func (p *Prim) displayName() string {
	if p.Op != "" {
		return "'" + p.Op + "'"
	}
	return p.Name
}
