package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// A rule says how one primitive becomes Go. Each rule is a self-contained
// value: elementwise primitives give a scalar Go expression per operand
// kind (lifted over arrays by one loop, and fused with their neighbours),
// the others a lowering that emits statements.
type rule struct {
	// F, I and B build the scalar expression for f64, i64 and bool
	// operands from the operands' Go atoms; nil where the kind is not
	// accepted.
	F, I, B func(a []string) string
	// IGuard, for i64 operations that can fail, gives a condition under
	// which the run fails with message IMsg.
	IGuard func(a []string) string
	IMsg   string
	// IErr, FErr: the expression returns (value, error)
	// (runtime.PowI64, runtime.TruncToI64).
	IErr, FErr bool
	// Lower emits a non-elementwise primitive.
	Lower func(f *fn, e *ir.PrimCall) val
}

func op2(op string) func(a []string) string {
	return func(a []string) string { return a[0] + " " + op + " " + a[1] }
}

// sameOp is an integer or boolean operator whose application to a local
// and itself is the constant same ("" for the operand itself, as in
// b && b): staticcheck rejects identical operands of such operators
// (SA4000), and nabla's n % n is common in indices. For / and % the
// guard against a zero divisor runs first.
func sameOp(op, same string) func(a []string) string {
	return func(a []string) string {
		if a[0] == a[1] && localRE.MatchString(a[0]) {
			if same == "" {
				return a[0]
			}
			return same
		}
		return a[0] + " " + op + " " + a[1]
	}
}

func call1(name string) func(a []string) string {
	return func(a []string) string { return name + "(" + a[0] + ")" }
}

func call2(name string) func(a []string) string {
	return func(a []string) string { return name + "(" + a[0] + ", " + a[1] + ")" }
}

func mathF1(name string) *rule { return &rule{F: call1("math." + name)} }

// callsRuntime reports whether the rule's expression on operands of kind k
// calls a runtime function (not cheap enough to evaluate twice).
func (r *rule) callsRuntime(k ir.ScalarKind) bool {
	tmpl := [...]func([]string) string{ir.F64: r.F, ir.I64: r.I, ir.Bool: r.B}[k]
	return tmpl != nil && strings.Contains(tmpl([]string{"a", "b"}), "runtime.")
}

// rt1 and rt2 call runtime's scalar function name: the one the
// interpreter applies, so both backends give the same bits.
func rt1(name string) func(a []string) string { return call1("runtime." + name) }

func rt2(name string) func(a []string) string { return call2("runtime." + name) }

// rules is the table of lowering rules, keyed by primitive.
var rules map[*ir.Prim]*rule

func init() {
	rules = map[*ir.Prim]*rule{
		ir.PrimAdd: {F: op2("+"), I: op2("+")},
		ir.PrimSub: {F: op2("-"), I: sameOp("-", "int64(0)")},
		ir.PrimMul: {F: op2("*"), I: op2("*")},
		ir.PrimDiv: {F: op2("/"), I: sameOp("/", "int64(1)"), IGuard: func(a []string) string { return a[1] + " == 0" }, IMsg: "integer division by zero"},
		ir.PrimMod: {F: call2("math.Mod"), I: sameOp("%", "int64(0)"), IGuard: func(a []string) string { return a[1] + " == 0" }, IMsg: "integer division by zero"},
		ir.PrimPow: {F: call2("math.Pow"), I: rt2("PowI64"), IErr: true},
		ir.PrimNeg: {F: negF, I: func(a []string) string { return "-" + a[0] }},
		ir.PrimEq:  {F: op2("=="), I: sameOp("==", "true"), B: sameOp("==", "true")},
		ir.PrimNe:  {F: op2("!="), I: sameOp("!=", "false"), B: sameOp("!=", "false")},
		ir.PrimLt:  {F: op2("<"), I: sameOp("<", "false")},
		ir.PrimLe:  {F: op2("<="), I: sameOp("<=", "true")},
		ir.PrimGt:  {F: op2(">"), I: sameOp(">", "false")},
		ir.PrimGe:  {F: op2(">="), I: sameOp(">=", "true")},
		ir.PrimAnd: {B: sameOp("&&", "")},
		ir.PrimOr:  {B: sameOp("||", "")},
		ir.PrimNot: {B: func(a []string) string { return "!" + a[0] }},
		ir.PrimToF64: {F: func(a []string) string { return a[0] },
			I: call1("float64")},
		ir.PrimToI64: {F: rt1("TruncToI64"), FErr: true, I: func(a []string) string { return a[0] }},
		ir.PrimExp:   mathF1("Exp"),
		ir.PrimLog:   mathF1("Log"),
		ir.PrimSqrt:  mathF1("Sqrt"),
		ir.PrimSin:   mathF1("Sin"),
		ir.PrimCos:   mathF1("Cos"),
		ir.PrimTan:   mathF1("Tan"),
		ir.PrimTanh:  mathF1("Tanh"),
		ir.PrimSinh:  mathF1("Sinh"),
		ir.PrimCosh:  mathF1("Cosh"),
		ir.PrimAsin:  mathF1("Asin"),
		ir.PrimAcos:  mathF1("Acos"),
		ir.PrimAtan:  mathF1("Atan"),
		ir.PrimFloor: mathF1("Floor"),
		ir.PrimCeil:  mathF1("Ceil"),
		ir.PrimRound: mathF1("Round"),
		ir.PrimLog1p: mathF1("Log1p"),
		ir.PrimExpm1: mathF1("Expm1"),
		ir.PrimErf:   mathF1("Erf"),
		ir.PrimAtan2: {F: call2("math.Atan2")},
		// Scalar functions with Nabla's semantics live in runtime.
		ir.PrimRelu:     {F: rt1("Relu")},
		ir.PrimSigmoid:  {F: rt1("Sigmoid")},
		ir.PrimSoftplus: {F: rt1("Softplus")},
		ir.PrimAbs:      {F: call1("math.Abs"), I: rt1("AbsI64")},
		ir.PrimSign:     {F: rt1("Sign"), I: rt1("SignI64")},
		ir.PrimMin:      {F: rt2("Min2"), I: call2("min")},
		ir.PrimMax:      {F: rt2("Max2"), I: call2("max")},
		ir.PrimIndGt:    {F: rt2("IndGt")},

		ir.PrimLen:          {Lower: lowerLen},
		ir.PrimDim:          {Lower: lowerDim},
		ir.PrimIota:         {Lower: lowerIota},
		ir.PrimZeros:        {Lower: lowerFillConst("0")},
		ir.PrimOnes:         {Lower: lowerFillConst("1")},
		ir.PrimFill:         {Lower: lowerFill},
		ir.PrimBuild:        {Lower: lowerBuild},
		ir.PrimArray:        {Lower: lowerArrayLit},
		ir.PrimIndex:        {Lower: lowerIndex},
		ir.PrimSlice:        {Lower: lowerSlice},
		ir.PrimTake:         {Lower: lowerTakeDrop(true)},
		ir.PrimDrop:         {Lower: lowerTakeDrop(false)},
		ir.PrimUpdate:       {Lower: lowerUpdate},
		ir.PrimGather:       {Lower: lowerGather},
		ir.PrimMap:          {Lower: lowerMap},
		ir.PrimReduce:       {Lower: lowerFold},
		ir.PrimFold:         {Lower: lowerFold},
		ir.PrimScan:         {Lower: lowerScan},
		ir.PrimZip:          {Lower: lowerZip},
		ir.PrimUnzip:        {Lower: lowerUnzip},
		ir.PrimSum:          {Lower: lowerReduction("sum")},
		ir.PrimProd:         {Lower: lowerReduction("prod")},
		ir.PrimMaximum:      {Lower: lowerReduction("maximum")},
		ir.PrimMinimum:      {Lower: lowerReduction("minimum")},
		ir.PrimMean:         {Lower: lowerReduction("mean")},
		ir.PrimNorm:         {Lower: lowerReduction("norm")},
		ir.PrimLogsumexp:    {Lower: lowerReduction("logsumexp")},
		ir.PrimArgmax:       {Lower: lowerArg("argmax")},
		ir.PrimArgmin:       {Lower: lowerArg("argmin")},
		ir.PrimSoftmax:      {Lower: lowerSoftmax},
		ir.PrimDot:          {Lower: lowerDot},
		ir.PrimOuter:        {Lower: lowerOuter},
		ir.PrimMatmul:       {Lower: lowerMatmul},
		ir.PrimTranspose:    {Lower: lowerTranspose},
		ir.PrimFlatten:      {Lower: lowerFlatten},
		ir.PrimReshape:      {Lower: lowerReshape},
		ir.PrimConcat:       {Lower: lowerConcatTree},
		ir.PrimReverse:      {Lower: lowerReverse},
		ir.PrimZerosLike:    {Lower: lowerZerosLike},
		ir.PrimAccAdd:       {Lower: lowerAccAdd},
		ir.PrimAccAddAt:     {Lower: lowerAccAddAt},
		ir.PrimAccZeroAt:    {Lower: lowerAccZeroAt},
		ir.PrimLoopSave:     {Lower: lowerLoopSave},
		ir.PrimWhileSave:    {Lower: lowerWhileSave},
		ir.PrimStopGradient: {Lower: func(f *fn, e *ir.PrimCall) val { return f.compile(e.Args[0]) }},
		ir.PrimCheckDim:     {Lower: lowerCheckDim},
		ir.PrimLinearCheck:  {Lower: lowerLinearCheck},
		ir.PrimAssert:       {Lower: lowerLinearCheck},
		ir.PrimProgress:     {Lower: lowerProgress},
		ir.PrimReshapeLike:  {Lower: lowerReshapeLike},
		ir.PrimPadLike:      {Lower: lowerPadLike},
		ir.PrimLinsolve:     {Lower: lowerLinsolve},
		ir.PrimODE:          {Lower: lowerODE},
		// The rewrite stage resolves every checkpointing point.
		ir.PrimRemat: {Lower: func(f *fn, e *ir.PrimCall) val {
			f.g.fail("%s: internal error: a remat checkpointing point reached code generation", e.P)
			return val{}
		}},
	}
}

// compilePrim emits a primitive call.
func (f *fn) compilePrim(e *ir.PrimCall) val {
	r := rules[e.Op]
	if r == nil {
		f.g.fail("%s: primitive %s has no Go lowering", e.P, e.Op.Name)
	}
	if r.Lower != nil {
		return r.Lower(f, e)
	}
	args := make([]val, len(e.Args))
	for i, a := range e.Args {
		args[i] = f.compileL(a)
	}
	return f.elementwise(e, r, args)
}

// scalarExpr builds the scalar expression of an elementwise rule for
// operands of kind k, emitting guards; it returns an atom or expression.
func (f *fn) scalarExpr(e *ir.PrimCall, r *rule, k ir.ScalarKind, ops []string) string {
	var tmpl func([]string) string
	fallible := false
	switch k {
	case ir.F64:
		tmpl, fallible = r.F, r.FErr
	case ir.I64:
		tmpl, fallible = r.I, r.IErr
		if r.IGuard != nil {
			f.failIf(r.IGuard(ops), e.P, fmt.Sprintf("%q", r.IMsg))
		}
	default:
		tmpl = r.B
	}
	if tmpl == nil {
		f.g.fail("%s: %s is not defined on %s", e.P, e.Op.Name, scalarGo(k))
	}
	x := tmpl(ops)
	if fallible {
		v, errv := f.fresh("x"), f.fresh("err")
		f.line("%s, %s := %s", v, errv, x)
		f.line("if %s != nil {", errv)
		f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(e.P), errv))
		f.line("}")
		return v
	}
	return x
}

// elementwise lowers a lifted scalar primitive: on scalars one
// expression, on arrays one loop over the flat storage.
func (f *fn) elementwise(e *ir.PrimCall, r *rule, args []val) val {
	k, _ := ir.Leaf(e.Args[0].Type())
	rk, _ := ir.Leaf(e.T)
	arr := -1
	for i, a := range args {
		if ir.Rank(a.t) > 0 {
			if arr < 0 {
				arr = i
			}
		}
	}
	if arr < 0 {
		ops := partsOf(args)
		x := f.def("x", f.scalarExpr(e, r, k, ops))
		if k == ir.I64 && len(ops) == 2 {
			f.noteArith(e.Op, x, ops[0], ops[1])
		}
		return valOf(e.T, x)
	}
	return f.lazyElementwise(e, r, args, k, rk)
}

func partsOf(vs []val) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.parts...)
	}
	return out
}

// negF negates an f64 operand. A literal operand is negated here: Go's
// constant arithmetic has no negative zero, so -0.0 would be +0 where
// the interpreter gives -0.
func negF(a []string) string {
	// A literal starts with a digit (an identifier such as nan or inf
	// would parse too).
	if a[0] != "" && a[0][0] >= '0' && a[0][0] <= '9' {
		v, err := strconv.ParseFloat(a[0], 64)
		if err == nil {
			return constGo(-v)
		}
	}
	return "-" + a[0]
}
