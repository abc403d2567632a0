package ir

import (
	"fmt"
	"math"

	"github.com/nabla-lang/nabla/runtime"
)

// Elementwise primitives: scalar operations lifted over arrays (SPEC §4,
// §5). Each declaration gives the scalar semantics; the shared type rule,
// hint and evaluator lift them.

var (
	kF   = []ScalarKind{F64}
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
	if p.Class == classUndeclared {
		// Operators come from syntax; named functions are builtins.
		p.Class = Builtin
		if p.Op != "" {
			p.Class = Core
		}
	}
	if p.Fails == failUndeclared {
		p.Fails = FailsOnShapes
	}
	// A new array or a scalar (f64 of an f64 is its argument, which
	// FreshResult knows).
	p.Storage = Fresh
	return Register(p)
}

// unaryF declares an f64 function with derivative d (given x and the
// result y); nil d declares a piecewise-constant function (NoDerivative).
func unaryF(name string, f func(float64) float64, doc string, d func(r rb, x, y Expr) Expr) *Prim {
	p := &Prim{Name: name, Kinds: kF, F1: f, Doc: doc}
	if d == nil {
		p.NoDerivative = true
	} else {
		p.Partials = partials1(d)
	}
	return elementwise(p)
}

// binaryF declares an f64 function of two arguments with partial
// derivatives d (given the arguments and the result y).
func binaryF(name string, f func(a, b float64) float64, doc string, d func(r rb, a, b, y Expr) (Expr, Expr)) *Prim {
	return elementwise(&Prim{Name: name, Kinds: kF, F2: f, Doc: doc, Partials: partials2(d)})
}

// Arithmetic operators.
var (
	PrimAdd = elementwise(&Prim{Name: "add", Op: "+", Kinds: kFI, Doc: "x + y",
		F2:       func(a, b float64) float64 { return a + b },
		I2:       func(a, b int64) (int64, error) { return a + b, nil },
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) { return r.F64(1), r.F64(1) })})
	PrimSub = elementwise(&Prim{Name: "sub", Op: "-", Kinds: kFI, Doc: "x - y",
		F2:       func(a, b float64) float64 { return a - b },
		I2:       func(a, b int64) (int64, error) { return a - b, nil },
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) { return r.F64(1), r.F64(-1) })})
	PrimMul = elementwise(&Prim{Name: "mul", Op: "*", Kinds: kFI, Doc: "x * y",
		F2:       func(a, b float64) float64 { return a * b },
		I2:       func(a, b int64) (int64, error) { return a * b, nil },
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) { return b, a })})
	PrimDiv = elementwise(&Prim{Name: "div", Op: "/", Kinds: kFI, Doc: "x / y; i64 division truncates toward zero",
		Fails: FailsOnShapesOrInt,
		F2:    func(a, b float64) float64 { return a / b },
		I2:    runtime.DivI64,
		// ∂a = 1/b, ∂b = -a/b² = -y/b.
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) { return r.div(r.F64(1), b), r.neg(r.div(y, b)) })})
	PrimMod = elementwise(&Prim{Name: "mod", Op: "%", Kinds: kFI, Doc: "x % y; the sign follows x, as in Go",
		Fails: FailsOnShapesOrInt,
		F2:    math.Mod,
		I2:    runtime.ModI64,
		// y = a - b·trunc(a/b): ∂a = 1, ∂b = -trunc(a/b) = -(a - y)/b.
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) { return r.F64(1), r.neg(r.div(r.sub(a, y), b)) })})
	PrimPow = elementwise(&Prim{Name: "pow", Op: "^", Class: Builtin, Kinds: kFI, Doc: "x ^ y; on i64 the exponent must not be negative",
		Fails:    FailsOnShapesOrInt,
		F2:       math.Pow,
		I2:       runtime.PowI64,
		Partials: partials2(func(r rb, x, e, y Expr) (Expr, Expr) { return powDx(r, x, e), powDe(r, x, y) })})
	PrimNeg = elementwise(&Prim{Name: "neg", Op: "-", Kinds: kFI, Arity: 1, Doc: "-x",
		F1:       func(a float64) float64 { return -a },
		I1:       func(a int64) (int64, error) { return -a, nil },
		Partials: partials1(func(r rb, x, y Expr) Expr { return r.F64(-1) })})
)

// Comparisons and logic.
var (
	PrimEq = elementwise(&Prim{Name: "eq", Op: "==", Kinds: kFIB, ResultKind: kindPtr(Bool), Doc: "x == y",
		CmpF: func(a, b float64) bool { return a == b }, CmpI: func(a, b int64) bool { return a == b },
		NoDerivative: true})
	PrimNe = elementwise(&Prim{Name: "ne", Op: "!=", Kinds: kFIB, ResultKind: kindPtr(Bool), Doc: "x != y",
		CmpF: func(a, b float64) bool { return a != b }, CmpI: func(a, b int64) bool { return a != b },
		NoDerivative: true})
	PrimLt = elementwise(&Prim{Name: "lt", Op: "<", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x < y",
		CmpF: func(a, b float64) bool { return a < b }, CmpI: func(a, b int64) bool { return a < b },
		NoDerivative: true})
	PrimLe = elementwise(&Prim{Name: "le", Op: "<=", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x <= y",
		CmpF: func(a, b float64) bool { return a <= b }, CmpI: func(a, b int64) bool { return a <= b },
		NoDerivative: true})
	PrimGt = elementwise(&Prim{Name: "gt", Op: ">", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x > y",
		CmpF: func(a, b float64) bool { return a > b }, CmpI: func(a, b int64) bool { return a > b },
		NoDerivative: true})
	PrimGe = elementwise(&Prim{Name: "ge", Op: ">=", Kinds: kFI, ResultKind: kindPtr(Bool), Doc: "x >= y",
		CmpF: func(a, b float64) bool { return a >= b }, CmpI: func(a, b int64) bool { return a >= b },
		NoDerivative: true})
	PrimAnd = elementwise(&Prim{Name: "and", Op: "&&", Kinds: kB, Doc: "x && y (both sides are evaluated; use if to short-circuit)",
		B2:           func(a, b bool) bool { return a && b },
		NoDerivative: true})
	PrimOr = elementwise(&Prim{Name: "or", Op: "||", Kinds: kB, Doc: "x || y (both sides are evaluated; use if to short-circuit)",
		B2:           func(a, b bool) bool { return a || b },
		NoDerivative: true})
	PrimNot = elementwise(&Prim{Name: "not", Op: "!", Kinds: kB, Arity: 1, Doc: "!x",
		B1:           func(a bool) bool { return !a },
		NoDerivative: true})
)

// Conversions.
var (
	PrimToF64 = elementwise(&Prim{Name: "f64", Kinds: kFI, ResultKind: kindPtr(F64), Arity: 1, Doc: "conversion to f64",
		F1:       func(a float64) float64 { return a },
		Partials: partials1(func(r rb, x, y Expr) Expr { return r.F64(1) })}) // f64(i) of an i64 has none
	PrimToI64 = elementwise(&Prim{Name: "i64", Kinds: kFI, ResultKind: kindPtr(I64), Arity: 1, Doc: "conversion to i64, truncating toward zero",
		I1:           func(a int64) (int64, error) { return a, nil },
		NoDerivative: true})
)

// Scalar math (SPEC §5).
var (
	PrimExp      = unaryF("exp", math.Exp, "e^x", func(r rb, x, y Expr) Expr { return y })
	PrimLog      = unaryF("log", math.Log, "natural logarithm", func(r rb, x, y Expr) Expr { return r.div(r.F64(1), x) })
	PrimSqrt     = unaryF("sqrt", math.Sqrt, "square root", func(r rb, x, y Expr) Expr { return r.div(r.F64(0.5), y) })
	PrimSin      = unaryF("sin", math.Sin, "sine", func(r rb, x, y Expr) Expr { return r.op("cos", x) })
	PrimCos      = unaryF("cos", math.Cos, "cosine", func(r rb, x, y Expr) Expr { return r.neg(r.op("sin", x)) })
	PrimTan      = unaryF("tan", math.Tan, "tangent", func(r rb, x, y Expr) Expr { return r.add(r.F64(1), r.sq(y)) })
	PrimTanh     = unaryF("tanh", math.Tanh, "hyperbolic tangent", func(r rb, x, y Expr) Expr { return r.sub(r.F64(1), r.sq(y)) })
	PrimSinh     = unaryF("sinh", math.Sinh, "hyperbolic sine", func(r rb, x, y Expr) Expr { return r.op("cosh", x) })
	PrimCosh     = unaryF("cosh", math.Cosh, "hyperbolic cosine", func(r rb, x, y Expr) Expr { return r.op("sinh", x) })
	PrimAsin     = unaryF("asin", math.Asin, "arcsine", func(r rb, x, y Expr) Expr { return r.div(r.F64(1), r.op("sqrt", r.sub(r.F64(1), r.sq(x)))) })
	PrimAcos     = unaryF("acos", math.Acos, "arccosine", func(r rb, x, y Expr) Expr { return r.div(r.F64(-1), r.op("sqrt", r.sub(r.F64(1), r.sq(x)))) })
	PrimAtan     = unaryF("atan", math.Atan, "arctangent", func(r rb, x, y Expr) Expr { return r.div(r.F64(1), r.add(r.F64(1), r.sq(x))) })
	PrimFloor    = unaryF("floor", math.Floor, "largest integer value ≤ x; derivative 0", nil)
	PrimCeil     = unaryF("ceil", math.Ceil, "smallest integer value ≥ x; derivative 0", nil)
	PrimRound    = unaryF("round", math.Round, "nearest integer value, halves away from zero; derivative 0", nil)
	PrimLog1p    = unaryF("log1p", math.Log1p, "log(1 + x), accurate near 0", func(r rb, x, y Expr) Expr { return r.div(r.F64(1), r.add(r.F64(1), x)) })
	PrimExpm1    = unaryF("expm1", math.Expm1, "exp(x) - 1, accurate near 0", func(r rb, x, y Expr) Expr { return r.add(y, r.F64(1)) })
	PrimErf      = unaryF("erf", math.Erf, "error function", func(r rb, x, y Expr) Expr { return r.mul(r.F64(2/math.SqrtPi), r.op("exp", r.neg(r.sq(x)))) })
	PrimRelu     = unaryF("relu", runtime.Relu, "max(x, 0); relu'(0) = 0", func(r rb, x, y Expr) Expr { return r.op("ind_gt", x, r.F64(0)) })
	PrimSigmoid  = unaryF("sigmoid", runtime.Sigmoid, "1 / (1 + e^-x), computed stably", func(r rb, x, y Expr) Expr { return r.mul(y, r.sub(r.F64(1), y)) })
	PrimSoftplus = unaryF("softplus", runtime.Softplus, "log(1 + e^x), computed stably", func(r rb, x, y Expr) Expr { return r.op("sigmoid", x) })
	// atan2(y, x): ∂y = x/(x²+y²), ∂x = -y/(x²+y²).
	PrimAtan2 = binaryF("atan2", math.Atan2, "atan2(y, x), the angle of the point (x, y)", func(r rb, a, b, y Expr) (Expr, Expr) {
		return r.div(b, r.add(r.sq(a), r.sq(b))), r.neg(r.div(a, r.add(r.sq(a), r.sq(b))))
	})

	PrimAbs = elementwise(&Prim{Name: "abs", Kinds: kFI, Arity: 1, Doc: "|x|; abs'(0) = 0",
		F1:       math.Abs,
		Partials: partials1(func(r rb, x, y Expr) Expr { return r.op("sign", x) }), // sign(0) = 0
		I1:       func(a int64) (int64, error) { return runtime.AbsI64(a), nil }})
	PrimSign = elementwise(&Prim{Name: "sign", Kinds: kFI, Arity: 1, Doc: "-1, 0 or 1 (NaN for NaN); derivative 0",
		F1:           runtime.Sign,
		I1:           func(a int64) (int64, error) { return runtime.SignI64(a), nil },
		NoDerivative: true})
	PrimMin = elementwise(&Prim{Name: "min", Kinds: kFI, Doc: "the smaller of x and y (x on ties; NaN if either is NaN)",
		// The derivative goes to y only where y < x: to x on ties.
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) {
			return r.sub(r.F64(1), r.op("ind_gt", a, b)), r.op("ind_gt", a, b)
		}),
		F2: runtime.Min2,
		I2: func(a, b int64) (int64, error) { return min(a, b), nil }})
	PrimMax = elementwise(&Prim{Name: "max", Kinds: kFI, Doc: "the larger of x and y (x on ties; NaN if either is NaN)",
		// The derivative goes to y only where y > x: to x on ties.
		Partials: partials2(func(r rb, a, b, y Expr) (Expr, Expr) {
			return r.sub(r.F64(1), r.op("ind_gt", b, a)), r.op("ind_gt", b, a)
		}),
		F2: runtime.Max2,
		I2: func(a, b int64) (int64, error) { return max(a, b), nil }})
)

// powDx is ∂(x^e)/∂x = e·x^(e-1), with no log(x) term, so it is exact for
// negative x. A constant exponent is folded (x^2 gives 2·x); elsewhere
// x^(e-1) is written x^(e - |sign(e)|), which is x^0 = 1 where e = 0, so
// that ∂x of x^0 is 0 also at x = 0 (as in JAX), not 0·0^-1 = NaN.
func powDx(r rb, x, e Expr) Expr {
	if c, ok := e.(*Const); ok {
		switch v := c.Val.(float64); v {
		case 0:
			return nil
		case 1:
			return r.F64(1)
		case 2:
			return r.mul(r.F64(2), x)
		default:
			return r.mul(e, r.op("pow", x, r.F64(v-1)))
		}
	}
	return r.mul(e, r.op("pow", x, r.sub(e, r.op("abs", r.op("sign", e)))))
}

// powDe is ∂(x^e)/∂e = log(x)·x^e. Where x = 0 it is 0, as in JAX (0^e is
// 0 for every e > 0): log reads x + (1 - |sign(x)|), which is 1 there and
// x elsewhere. A constant base is folded (2^e gives log(2)·y).
func powDe(r rb, x, y Expr) Expr {
	if c, ok := x.(*Const); ok {
		v := c.Val.(float64)
		if v == 0 {
			return nil
		}
		return r.mul(r.F64(math.Log(v)), y)
	}
	safe := r.add(x, r.sub(r.F64(1), r.op("abs", r.op("sign", x))))
	return r.mul(r.op("log", safe), y)
}

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
