package ir_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Values and types for the cases. Expected results are written as the
// JSON that `nabla run` prints (NaN and infinities as "NaN", "+Inf",
// "-Inf"); many are the WANTs of ../shared/conformance/lang.

var (
	tF = ir.TF64
	tI = ir.TI64
	tB = ir.TBool
)

func vec(n int64, elem ir.Type) ir.Type { return ir.ArrayOf(ir.ConstDim(n), elem) }
func vecN(elem ir.Type) ir.Type         { return ir.ArrayOf(ir.SymDim("n"), elem) }
func mat(m, n int64) ir.Type            { return vec(m, vec(n, tF)) }
func fnT(result ir.Type, params ...ir.Type) *ir.Func {
	return &ir.Func{Params: params, Result: result}
}

// arg is one argument of a call: its static type and its value.
type arg struct {
	t ir.Type
	v runtime.Value
}

func f(x float64) arg { return arg{tF, runtime.F64(x)} }
func i(x int64) arg   { return arg{tI, runtime.I64(x)} }
func b(x bool) arg    { return arg{tB, runtime.Bool(x)} }

func fs(xs ...float64) arg {
	return arg{vec(int64(len(xs)), tF), runtime.Arr(runtime.FromF64(append([]float64{}, xs...)))}
}

// fsN is an f64 vector whose static size is a size variable, so that size
// checks happen at run time.
func fsN(xs ...float64) arg {
	return arg{vecN(tF), runtime.Arr(runtime.FromF64(append([]float64{}, xs...)))}
}

func is(xs ...int64) arg {
	return arg{vec(int64(len(xs)), tI), runtime.Arr(runtime.FromI64(append([]int64{}, xs...)))}
}

func bs(xs ...bool) arg {
	a := &runtime.Array{Shape: []int{len(xs)}, Kind: runtime.ElemBool, B: append([]bool{}, xs...)}
	return arg{vec(int64(len(xs)), tB), runtime.Arr(a)}
}

// m2 is an f64 matrix of the given rows; the static sizes are variables.
func m2(rows ...[]float64) arg {
	cols := 0
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	a := &runtime.Array{Shape: []int{len(rows), cols}, Kind: runtime.ElemF64}
	for _, r := range rows {
		a.F = append(a.F, r...)
	}
	if a.F == nil {
		a.F = []float64{}
	}
	return arg{ir.ArrayOf(ir.SymDim("m"), ir.ArrayOf(ir.SymDim("n"), tF)), runtime.Arr(a)}
}

func row(xs ...float64) []float64 { return xs }

// goFunc adapts a Go function to a Nabla function value.
type goFunc func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error)

func (g goFunc) Call(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
	return g(m, args)
}

func fn(t *ir.Func, g func(args []runtime.Value) runtime.Value) arg {
	return arg{t, runtime.Value{R: goFunc(func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		return g(args), nil
	})}}
}

// primFn is a builtin used as a function value: reduce(max, -inf, x).
func primFn(p *ir.Prim, params ...ir.Type) arg {
	s := site(p, nil, params)
	impl, err := p.Eval(s)
	if err != nil {
		panic(err)
	}
	return arg{fnT(s.Result, params...), runtime.Value{R: goFunc(impl)}}
}

// batchFunc is a function value that also accepts whole arrays.
type batchFunc struct {
	goFunc
	batch func(m *runtime.Machine, n int, args []runtime.Value) (runtime.Value, bool, error)
}

func (f batchFunc) CallBatch(m *runtime.Machine, n int, args []runtime.Value) (runtime.Value, bool, error) {
	return f.batch(m, n, args)
}

func site(p *ir.Prim, aux any, types []ir.Type) *ir.Site {
	res, err := p.Type(types, aux)
	if err != nil {
		panic(fmt.Sprintf("%s%v: %v", p.Name, types, err))
	}
	return &ir.Site{Prim: p, Args: types, Result: res, Aux: aux}
}

// call specializes p for the arguments' static types and runs it.
func call(m *runtime.Machine, p *ir.Prim, aux any, args ...arg) (runtime.Value, ir.Type, error) {
	types := make([]ir.Type, len(args))
	vals := make([]runtime.Value, len(args))
	for k, a := range args {
		types[k], vals[k] = a.t, a.v
	}
	s := site(p, aux, types)
	impl, err := p.Eval(s)
	if err != nil {
		return runtime.Value{}, nil, fmt.Errorf("Eval: %w", err)
	}
	v, err := impl(m, vals)
	return v, s.Result, err
}

func machine() *runtime.Machine {
	return runtime.NewMachine(context.Background(), runtime.Limits{})
}

// toGo converts a value of static type t to float64, int64, bool and
// []any, checking that its representation fits t.
func toGo(t ir.Type, v runtime.Value) (any, error) {
	switch tt := t.(type) {
	case ir.Scalar:
		switch tt.Kind {
		case ir.F64:
			return v.F, nil
		case ir.I64:
			return v.I, nil
		}
		if v.I != 0 && v.I != 1 {
			return nil, fmt.Errorf("bool stored as %d", v.I)
		}
		return v.I == 1, nil
	case *ir.Array:
		a := v.Array()
		if a == nil {
			return nil, fmt.Errorf("want an array of type %s, got %#v", t, v)
		}
		if a.Rank() != ir.Rank(t) {
			return nil, fmt.Errorf("array of shape %v for type %s", a.Shape, t)
		}
		want := runtime.ElemBox
		if k, ok := ir.Leaf(t); ok {
			want = map[ir.ScalarKind]runtime.Elem{ir.F64: runtime.ElemF64, ir.I64: runtime.ElemI64, ir.Bool: runtime.ElemBool}[k]
		}
		if a.Kind != want {
			return nil, fmt.Errorf("array of kind %d for type %s", a.Kind, t)
		}
		if n := len(a.F) + len(a.I) + len(a.B) + len(a.Box); n != a.N() {
			return nil, fmt.Errorf("array of shape %v holds %d elements", a.Shape, n)
		}
		out := make([]any, a.Len())
		for k := range out {
			e, err := toGo(tt.Elem, a.At(k))
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case *ir.Tuple:
		tu := v.Tuple()
		if len(tu) != len(tt.Elems) {
			return nil, fmt.Errorf("tuple of %d elements for type %s", len(tu), t)
		}
		out := make([]any, len(tu))
		for k, e := range tu {
			g, err := toGo(tt.Elems[k], e)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot compare values of type %s", t)
}

func parseWant(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var w any
	if err := d.Decode(&w); err != nil {
		panic(fmt.Sprintf("bad WANT %s: %v", s, err))
	}
	return w
}

// match compares a result with a parsed WANT: i64 exactly, f64 to a
// relative 1e-12 (WANTs copied from the conformance suite are printed
// from another machine's libm), NaN and infinities by name.
func match(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(float64)
		switch w {
		case "NaN":
			return ok && math.IsNaN(g)
		case "+Inf":
			return ok && math.IsInf(g, 1)
		case "-Inf":
			return ok && math.IsInf(g, -1)
		}
		return false
	case json.Number:
		switch g := got.(type) {
		case int64:
			n, err := w.Int64()
			return err == nil && n == g
		case float64:
			x, err := w.Float64()
			return err == nil && math.Abs(g-x) <= 1e-12*math.Max(1, math.Abs(x))
		}
		return false
	case bool:
		return got == w
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !match(g[k], w[k]) {
				return false
			}
		}
		return true
	}
	return false
}

type evalCase struct {
	name string
	prim *ir.Prim
	aux  any
	args []arg
	want string // the result as JSON, when err is empty
	err  string // a substring of the expected error
}

func c(name string, p *ir.Prim, want string, args ...arg) evalCase {
	return evalCase{name: name, prim: p, args: args, want: want}
}

func cerr(name string, p *ir.Prim, err string, args ...arg) evalCase {
	return evalCase{name: name, prim: p, args: args, err: err}
}

func (e evalCase) withAux(aux any) evalCase { e.aux = aux; return e }

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, rt, err := call(machine(), tc.prim, tc.aux, tc.args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got, err := toGo(rt, v)
			if err != nil {
				t.Fatalf("result: %v", err)
			}
			if !match(got, parseWant(tc.want)) {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}

var (
	cx = []float64{0.5, -1.25, 2.0, 3.5, -0.75} // the conformance suite's x
	cy = []float64{-0.75, 3.5, 2.0, -1.25, 0.5}
)

func TestElementwise(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	runCases(t, []evalCase{
		// Arithmetic in all four forms.
		c("add ss", ir.PrimAdd, `3.5`, f(1), f(2.5)),
		c("add vv", ir.PrimAdd, `[4, 6]`, fs(1, 2), fs(3, 4)),
		c("add vs", ir.PrimAdd, `[11, 12]`, fs(1, 2), f(10)),
		c("add sv", ir.PrimAdd, `[11, 12]`, f(10), fs(1, 2)),
		c("sub vs", ir.PrimSub, `[-9, -8]`, fs(1, 2), f(10)),
		c("sub sv bcast", ir.PrimSub, `[2.75, 3.625, 2.0, 1.25, 3.375]`, f(3), fs(0.25, -0.625, 1, 1.75, -0.375)),
		c("mul sv", ir.PrimMul, `[-1.0, 2.5, -4.0, -7.0, 1.5]`, f(-2), fs(cx...)),
		c("mul vv sq", ir.PrimMul, `[0.25, 1.5625, 4, 12.25, 0.5625]`, fs(cx...), fs(cx...)),
		c("div vs", ir.PrimDiv, `[0.25, -0.625, 1, 1.75, -0.375]`, fs(cx...), f(2)),
		c("div sv", ir.PrimDiv, `[2, -0.8]`, f(1), fs(0.5, -1.25)),
		c("div vv", ir.PrimDiv, `[0.5, "+Inf", "-Inf", "NaN"]`, fs(1, 1, -1, 0), fs(2, 0, 0, 0)),
		c("f64 div by zero", ir.PrimDiv, `"+Inf"`, f(1), f(0)),
		c("neg", ir.PrimNeg, `[-0.5, 1.25]`, fs(0.5, -1.25)),
		c("mod f64", ir.PrimMod, `[-1, 1.5]`, fs(-7, 7.5), f(2)),
		c("pow", ir.PrimPow, `1.4822280526288794`, f(1.3), f(1.5)),
		c("pow vs", ir.PrimPow, `[0.25, 9]`, fs(0.5, 3), f(2)),
		c("2-D add", ir.PrimAdd, `[[2, 4], [6, 8]]`, m2(row(1, 2), row(3, 4)), m2(row(1, 2), row(3, 4))),
		c("2-D scalar", ir.PrimMul, `[[2, 4], [6, 8]]`, m2(row(1, 2), row(3, 4)), f(2)),
		c("empty", ir.PrimAdd, `[]`, fs(), fs()),
		cerr("shape mismatch", ir.PrimAdd, "shape mismatch in '+': [2] and [3]", fsN(1, 2), fsN(1, 2, 3)),
		cerr("shape mismatch 2-D", ir.PrimMul, "shape mismatch in '*': [1][2] and [2][1]", m2(row(1, 2)), m2(row(1), row(2))),
		cerr("shape mismatch named", ir.PrimAtan2, "shape mismatch in atan2: [1] and [2]", fsN(1), fsN(1, 2)),

		// i64 arithmetic truncates toward zero, like Go.
		c("i64 div", ir.PrimDiv, `-3`, i(-7), i(2)),
		c("i64 mod", ir.PrimMod, `-1`, i(-7), i(2)),
		c("i64 mod neg divisor", ir.PrimMod, `1`, i(7), i(-2)),
		c("i64 div arrays", ir.PrimDiv, `[-3, 3, -3, 3]`, is(-7, 7, 7, -7), is(2, 2, -2, -2)),
		c("i64 add vs", ir.PrimAdd, `[11, 12]`, is(1, 2), i(10)),
		c("i64 sub sv", ir.PrimSub, `[9, 8]`, i(10), is(1, 2)),
		c("i64 mul vv", ir.PrimMul, `[3, -8]`, is(1, 2), is(3, -4)),
		c("i64 pow", ir.PrimPow, `[1, 1024, -27]`, is(7, 2, -3), is(0, 10, 3)),
		c("i64 neg", ir.PrimNeg, `[-3, 4]`, is(3, -4)),
		cerr("i64 div by zero", ir.PrimDiv, "integer division by zero", i(1), i(0)),
		cerr("i64 mod by zero", ir.PrimMod, "integer division by zero", i(1), i(0)),
		cerr("i64 div by zero vv", ir.PrimDiv, "integer division by zero", is(1, 2), is(1, 0)),
		cerr("i64 div by zero vs", ir.PrimDiv, "integer division by zero", is(1, 2), i(0)),
		cerr("i64 div by zero sv", ir.PrimDiv, "integer division by zero", i(1), is(1, 0)),
		cerr("i64 negative power", ir.PrimPow, "negative exponent -1", i(2), i(-1)),

		// Conversions.
		c("f64 of i64", ir.PrimToF64, `[-3, 4]`, is(-3, 4)),
		c("f64 of f64", ir.PrimToF64, `[1.5]`, fs(1.5)),
		c("i64 truncates", ir.PrimToI64, `[-2, 2, 0, 9200000000000000000, -9223372036854775808]`, fs(-2.7, 2.7, -0.5, 9.2e18, -0x1p63)),
		c("i64 of i64", ir.PrimToI64, `7`, i(7)),
		cerr("i64 of NaN", ir.PrimToI64, "cannot convert NaN to i64", f(nan)),
		cerr("i64 of +Inf", ir.PrimToI64, "cannot convert +Inf to i64", fs(1, inf)),
		cerr("i64 of -Inf", ir.PrimToI64, "cannot convert -Inf to i64", f(-inf)),
		cerr("i64 out of range", ir.PrimToI64, "cannot convert 9.223372036854776e+18 to i64", f(0x1p63)),

		// Comparisons and logic.
		c("lt vv", ir.PrimLt, `[true, false, false, false]`, fs(1, 2, 3, nan), fs(2, 2, 1, 1)),
		c("le vs", ir.PrimLe, `[true, true, false, false]`, fs(1, 2, 3, nan), f(2)),
		c("gt sv", ir.PrimGt, `[true, false, false, false]`, f(2), fs(1, 2, 3, nan)),
		c("ge sv", ir.PrimGe, `[true, true, false, false]`, f(2), fs(1, 2, 3, nan)),
		c("eq NaN", ir.PrimEq, `false`, f(nan), f(nan)),
		c("ne NaN", ir.PrimNe, `[true, false]`, fs(nan, 1), f(1)),
		c("lt i64 sv", ir.PrimLt, `[false, false, true]`, i(2), is(1, 2, 3)),
		c("eq i64", ir.PrimEq, `true`, i(2), i(2)),
		c("eq bool", ir.PrimEq, `[true, false, true]`, bs(true, false, false), bs(true, true, false)),
		c("ne bool scalar", ir.PrimNe, `true`, b(true), b(false)),
		c("and", ir.PrimAnd, `[true, false, false]`, bs(true, true, false), bs(true, false, true)),
		c("or vs", ir.PrimOr, `[true, true]`, bs(true, false), b(true)),
		c("not", ir.PrimNot, `[false, true]`, bs(true, false)),

		// Scalar math (conformance builtins.nab).
		c("sigmoid", ir.PrimSigmoid, `[0.07585818002124355, 0.6224593312018546]`, fs(-2.5, 0.5)),
		c("softplus", ir.PrimSoftplus, `[0.07888973429254963, 0.9740769841801067]`, fs(-2.5, 0.5)),
		c("relu", ir.PrimRelu, `[0, 0.5, 0]`, fs(-2.5, 0.5, 0)),
		c("erf", ir.PrimErf, `[-0.999593047982555, 0.5204998778130465]`, fs(-2.5, 0.5)),
		c("atan2", ir.PrimAtan2, `[-0.8960553845713439, 0.24497866312686414]`, fs(-2.5, 0.5), f(2)),
		c("floor", ir.PrimFloor, `[-3, 0]`, fs(-2.5, 0.5)),
		c("ceil", ir.PrimCeil, `[-2, 1]`, fs(-2.5, 0.5)),
		c("abs", ir.PrimAbs, `[2.5, 0.5, 0]`, fs(-2.5, 0.5, 0)),
		c("abs i64", ir.PrimAbs, `[3, 0, 4]`, is(-3, 0, 4)),
		c("log1p", ir.PrimLog1p, `0.832909122935104`, f(1.3)),
		c("expm1", ir.PrimExpm1, `2.6692966676192444`, f(1.3)),
		c("tanh", ir.PrimTanh, `0.8617231593133063`, f(1.3)),
		c("sqrt", ir.PrimSqrt, `[1.140175425099138, "NaN"]`, fs(1.3, -1)),
		c("sinh", ir.PrimSinh, `1.698382437292616`, f(1.3)),
		c("cosh", ir.PrimCosh, `1.9709142303266285`, f(1.3)),
		c("asin", ir.PrimAsin, `0.3310117280892945`, f(0.325)),
		c("acos", ir.PrimAcos, `1.239784598705602`, f(0.325)),
		c("atan", ir.PrimAtan, `0.9151007005533605`, f(1.3)),
		c("tan", ir.PrimTan, `3.6021024479679786`, f(1.3)),
		c("log", ir.PrimLog, `[0.26236426446749106, "-Inf", "NaN"]`, fs(1.3, 0, -1)),
		c("exp", ir.PrimExp, `[1, "+Inf", 0]`, fs(0, 1000, -inf)),
		c("sin cos", ir.PrimCos, `[1, -1]`, fs(0, math.Pi)),
		c("exp(x) lifted", ir.PrimExp, `[1.6487212707001282, 0.28650479686019015, 7.38905609893065, 33.11545195869231, 0.4723665527410147]`, fs(cx...)),
		c("min", ir.PrimMin, `[1, 1.0, "NaN", "NaN"]`, fs(1.3, 1, nan, 1), fs(1, 1, 1, nan)),
		c("max", ir.PrimMax, `[1.3, 1, "NaN", "NaN"]`, fs(1.3, 1, nan, 1), fs(1, 1, 1, nan)),
		c("max i64", ir.PrimMax, `[5, 5]`, is(3, -1), i(5)),
		c("min i64 sv", ir.PrimMin, `[1, 2]`, i(2), is(1, 3)),

		// round halves away from zero.
		c("round", ir.PrimRound, `[3, -3, 1, -1, 2, "NaN", "+Inf", -3]`, fs(2.5, -2.5, 0.5, -0.5, 1.5, nan, inf, -2.5000000001)),
		c("sign", ir.PrimSign, `[-1, 1, 0, "NaN", 1, -1]`, fs(-2.5, 0.5, 0, nan, inf, -inf)),
		c("sign i64", ir.PrimSign, `[-1, 0, 1]`, is(-7, 0, 9)),
	})
}

// withType lets a case override an argument's static type.
func (a arg) withType(t ir.Type) arg { a.t = t; return a }

// TestElementwiseSignedZero checks what JSON cannot show.
func TestElementwiseSignedZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		name string
		p    *ir.Prim
		args []arg
		neg  bool
	}{
		{"sign(-0)", ir.PrimSign, []arg{f(negZero)}, true},
		{"max(-0, 0) keeps x on ties", ir.PrimMax, []arg{f(negZero), f(0)}, true},
		{"min(0, -0) keeps x on ties", ir.PrimMin, []arg{f(0), f(negZero)}, false},
		{"round(-0.4)", ir.PrimRound, []arg{f(-0.4)}, true},
		{"-0 - 0 as array", ir.PrimSub, []arg{fs(negZero), f(0)}, true},
		{"0 - 0 as array", ir.PrimSub, []arg{fs(0), f(0)}, false},
		{"-0 * 2 as array", ir.PrimMul, []arg{f(2), fs(negZero)}, true},
	} {
		v, _, err := call(machine(), tc.p, nil, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		x := v.F
		if a := v.Array(); a != nil {
			x = a.F[0]
		}
		if x != 0 || math.Signbit(x) != tc.neg {
			t.Errorf("%s = %v (sign bit %v), want a zero with sign bit %v", tc.name, x, math.Signbit(x), tc.neg)
		}
	}
}

// TestElementwiseArrayFormsAgree checks every elementwise primitive's
// array forms (and so every fast loop) against its scalar form, element
// by element and bit for bit, on random operands of every kind it takes.
func TestElementwiseArrayFormsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 37
	gen := func(k ir.ScalarKind) runtime.Value {
		switch k {
		case ir.F64:
			x := make([]float64, n)
			for j := range x {
				switch rng.IntN(12) {
				case 0:
					x[j] = math.NaN()
				case 1:
					x[j] = math.Inf(1 - 2*rng.IntN(2))
				case 2:
					x[j] = float64(rng.IntN(5) - 2)
				default:
					x[j] = rng.NormFloat64() * 3
				}
			}
			return runtime.Arr(runtime.FromF64(x))
		case ir.I64:
			x := make([]int64, n)
			for j := range x {
				x[j] = rng.Int64N(11) - 5
				if x[j] == 0 {
					x[j] = 1 // division by zero has its own test
				}
			}
			return runtime.Arr(runtime.FromI64(x))
		}
		a := &runtime.Array{Shape: []int{n}, Kind: runtime.ElemBool, B: make([]bool, n)}
		for j := range a.B {
			a.B[j] = rng.IntN(2) == 1
		}
		return runtime.Arr(a)
	}
	same := func(rk ir.ScalarKind, got runtime.Value, res *runtime.Array, j int) bool {
		switch rk {
		case ir.F64:
			w := res.F[j]
			return math.Float64bits(got.F) == math.Float64bits(w) || (math.IsNaN(got.F) && math.IsNaN(w))
		case ir.I64:
			return got.I == res.I[j]
		}
		return got.AsBool() == res.B[j]
	}
	m := machine()
	for _, p := range ir.Prims() {
		if !p.Elementwise {
			continue
		}
		for _, k := range p.Kinds {
			if p == ir.PrimPow && k == ir.I64 {
				continue // negative exponents are errors; covered by TestElementwise
			}
			st := ir.Scalar{Kind: k}
			at := vec(n, st)
			ops := make([]runtime.Value, p.Arity)
			for j := range ops {
				ops[j] = gen(k)
			}
			elem := func(j, e int) runtime.Value { return ops[j].Array().At(e) }
			scalarImpl, err := p.Eval(site(p, nil, repeat(st, p.Arity)))
			if err != nil {
				t.Fatalf("%s %s: %v", p.Name, st, err)
			}
			var forms [][]ir.Type
			if p.Arity == 1 {
				forms = [][]ir.Type{{at}}
			} else {
				forms = [][]ir.Type{{at, at}, {at, st}, {st, at}}
			}
			for _, form := range forms {
				s := site(p, nil, form)
				impl, err := p.Eval(s)
				if err != nil {
					t.Fatalf("%s%v: %v", p.Name, form, err)
				}
				args := make([]runtime.Value, len(form))
				for j, ft := range form {
					args[j] = ops[j]
					if _, isArr := ft.(*ir.Array); !isArr {
						args[j] = elem(j, 3)
					}
				}
				got, aerr := impl(m, args)
				rk, _ := ir.Leaf(s.Result)
				for e := 0; e < n; e++ {
					sargs := make([]runtime.Value, len(form))
					for j, ft := range form {
						sargs[j] = elem(j, 3)
						if _, isArr := ft.(*ir.Array); isArr {
							sargs[j] = elem(j, e)
						}
					}
					want, err := scalarImpl(m, sargs)
					if err != nil {
						// Conversions of NaN and Inf fail; the array form
						// reports its first failing element's error.
						if aerr == nil || aerr.Error() != err.Error() {
							t.Fatalf("%s%v element %d: scalar error %v, array error %v", p.Name, form, e, err, aerr)
						}
						aerr = nil
						break
					}
					if aerr == nil && !same(rk, want, got.Array(), e) {
						t.Fatalf("%s%v element %d: array form %v, scalar form %+v (operands %+v)", p.Name, form, e, got.Array(), want, sargs)
					}
				}
				if aerr != nil {
					t.Fatalf("%s%v: array error %v, but every element's scalar form succeeds", p.Name, form, aerr)
				}
			}
		}
	}
}

func repeat(t ir.Type, n int) []ir.Type {
	ts := make([]ir.Type, n)
	for j := range ts {
		ts[j] = t
	}
	return ts
}

func TestArrayPrims(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	double := fn(fnT(tF, tF), func(a []runtime.Value) runtime.Value { return runtime.F64(2 * a[0].F) })
	half := fn(fnT(tF, tI), func(a []runtime.Value) runtime.Value { return runtime.F64(float64(a[0].I) * 0.5) })
	add := fn(fnT(tF, tF, tF), func(a []runtime.Value) runtime.Value { return runtime.F64(a[0].F + a[1].F) })
	pair := fn(fnT(vec(2, tF), tF), func(a []runtime.Value) runtime.Value {
		return runtime.Arr(runtime.FromF64([]float64{a[0].F, -a[0].F}))
	})
	ragged := fn(fnT(vecN(tF), tI), func(a []runtime.Value) runtime.Value {
		return runtime.Arr(runtime.FromF64(make([]float64, a[0].I)))
	})
	tup := ir.TupleOf(tF, tI)
	withIndex := fn(fnT(tup, tI), func(a []runtime.Value) runtime.Value {
		return runtime.Tup(runtime.F64(float64(a[0].I)/2), a[0])
	})
	zipped := func() arg {
		v, rt, err := call(machine(), ir.PrimZip, nil, fs(1, 2, 3), is(4, 5, 6))
		if err != nil {
			panic(err)
		}
		return arg{rt, v}
	}()

	runCases(t, []evalCase{
		c("len", ir.PrimLen, `5`, fs(cx...)),
		c("len 2-D", ir.PrimLen, `2`, m2(row(1, 2, 3), row(4, 5, 6))),
		c("dim 1", ir.PrimDim, `3`, m2(row(1, 2, 3), row(4, 5, 6))).withAux(1),
		c("iota", ir.PrimIota, `[0, 1, 2]`, i(3)),
		c("iota 0", ir.PrimIota, `[]`, i(0)),
		cerr("iota negative", ir.PrimIota, "negative size -1", i(-1)),
		c("zeros", ir.PrimZeros, `[0.0, 0.0, 0.0]`, i(3)),
		c("ones", ir.PrimOnes, `[1.0, 1.0, 1.0]`, i(3)),
		cerr("zeros negative", ir.PrimZeros, "negative size -2", i(-2)),
		c("fill", ir.PrimFill, `[2.5, 2.5, 2.5]`, i(3), f(2.5)),
		c("fill i64", ir.PrimFill, `[7, 7]`, i(2), i(7)),
		c("fill bool", ir.PrimFill, `[true, true]`, i(2), b(true)),
		c("fill rows", ir.PrimFill, `[[1, 2], [1, 2], [1, 2]]`, i(3), fs(1, 2)),
		c("fill tuples", ir.PrimFill, `[[1.5, 2], [1.5, 2]]`, i(2), arg{tup, runtime.Tup(runtime.F64(1.5), runtime.I64(2))}),
		c("fill empty rows", ir.PrimFill, `[]`, i(0), fs(1, 2)),
		cerr("fill negative", ir.PrimFill, "negative size -3", i(-3), f(1)),
		c("build", ir.PrimBuild, `[0.0, 0.5, 1.0, 1.5]`, i(4), half),
		c("build rows", ir.PrimBuild, `[[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]`, i(2), fn(fnT(vec(3, tF), tI), func(a []runtime.Value) runtime.Value {
			r := float64(a[0].I * 10)
			return runtime.Arr(runtime.FromF64([]float64{r, r + 1, r + 2}))
		})),
		c("build tuples", ir.PrimBuild, `[[0, 0], [0.5, 1]]`, i(2), withIndex),
		c("build empty", ir.PrimBuild, `[]`, i(0), half),
		cerr("build ragged", ir.PrimBuild, "build: element 1 has shape [1], element 0 has shape [0]", i(3), ragged),
		cerr("build negative", ir.PrimBuild, "negative size -1", i(-1), withIndex),
		c("array literal", ir.PrimArray, `[1.0, 2.0, 3.0]`, f(1), f(2), f(3)),
		c("array literal rows", ir.PrimArray, `[[1, 2], [3, 4]]`, fs(1, 2), fs(3, 4)),
		c("array literal tuples", ir.PrimArray, `[[1, 2]]`, arg{tup, runtime.Tup(runtime.F64(1), runtime.I64(2))}),
		cerr("array literal ragged", ir.PrimArray, "array literal: element 1 has shape [1], element 0 has shape [2]", fsN(1, 2), fsN(1)),

		c("index first", ir.PrimIndex, `0.5`, fs(cx...), i(0)),
		c("index last", ir.PrimIndex, `-0.75`, fs(cx...), i(4)),
		c("index row", ir.PrimIndex, `[4, 5, 6]`, m2(row(1, 2, 3), row(4, 5, 6)), i(1)),
		c("index bool", ir.PrimIndex, `true`, bs(false, true), i(1)),
		c("index tuple", ir.PrimIndex, `[3, 6]`, zipped, i(2)),
		cerr("index past end", ir.PrimIndex, "index 2 out of range [0, 2)", fs(1, 2), i(2)),
		cerr("index negative", ir.PrimIndex, "index -1 out of range [0, 2)", fs(1, 2), i(-1)),
		c("slice", ir.PrimSlice, `[-1.25, 2.0]`, fs(cx...), i(1), i(3)),
		c("slice prefix", ir.PrimSlice, `[0.5, -1.25]`, fs(cx...), i(0), i(2)),
		c("slice suffix", ir.PrimSlice, `[3.5, -0.75]`, fs(cx...), i(3), i(5)),
		c("slice empty", ir.PrimSlice, `[]`, fs(cx...), i(5), i(5)),
		c("slice rows", ir.PrimSlice, `[[3, 4]]`, m2(row(1, 2), row(3, 4)), i(1), i(2)),
		cerr("slice reversed", ir.PrimSlice, "slice [3:2] out of range for length 5", fs(cx...), i(3), i(2)),
		cerr("slice past end", ir.PrimSlice, "slice [0:6] out of range for length 5", fs(cx...), i(0), i(6)),
		cerr("slice negative", ir.PrimSlice, "slice [-1:2] out of range for length 5", fs(cx...), i(-1), i(2)),
		c("take", ir.PrimTake, `[0.5, -1.25]`, fs(cx...), i(2)),
		c("take all", ir.PrimTake, `[1, 2]`, fs(1, 2), i(2)),
		c("drop", ir.PrimDrop, `[3.5, -0.75]`, fs(cx...), i(3)),
		c("drop all", ir.PrimDrop, `[]`, fs(1, 2), i(2)),
		cerr("take too many", ir.PrimTake, "take: count 7 out of range [0, 5]", fs(cx...), i(7)),
		cerr("drop negative", ir.PrimDrop, "drop: count -1 out of range [0, 5]", fs(cx...), i(-1)),
		c("update", ir.PrimUpdate, `[0.5, 100.0, 2.0, 3.5, -0.75]`, fs(cx...), i(1), f(100)),
		c("update row", ir.PrimUpdate, `[[1, 2], [9, 8]]`, m2(row(1, 2), row(3, 4)), i(1), fs(9, 8)),
		cerr("update out of range", ir.PrimUpdate, "index 5 out of range [0, 5)", fs(cx...), i(5), f(1)),
		cerr("update row shape", ir.PrimUpdate, "update: value has shape [3]; elements have shape [2]", m2(row(1, 2)), i(0), fsN(1, 2, 3).withType(vecN(tF))),
		c("gather", ir.PrimGather, `[-0.75, 0.5, 0.5, 2.0]`, fs(cx...), is(4, 0, 0, 2)),
		c("gather rows", ir.PrimGather, `[[3, 4], [3, 4], [1, 2]]`, m2(row(1, 2), row(3, 4)), is(1, 1, 0)),
		c("gather none", ir.PrimGather, `[]`, fs(cx...), is()),
		cerr("gather out of range", ir.PrimGather, "index 5 out of range [0, 5)", fs(cx...), is(0, 5)),

		c("map", ir.PrimMap, `[-0.5, -3.5, -7.0, -0.125, -4.0]`, fn(fnT(tF, tF, tF), func(a []runtime.Value) runtime.Value {
			return runtime.F64(a[0].F*a[1].F - 1)
		}), fs(cx...), fs(1, 2, -3, 0.25, 4)),
		c("map scale", ir.PrimMap, `[1.0, -2.5, 4.0, 7.0, -1.5]`, double, fs(cx...)),
		c("map rows", ir.PrimMap, `[[1, -1], [2, -2]]`, pair, fs(1, 2)),
		c("map over rows", ir.PrimMap, `[3, 7]`, fn(fnT(tF, vecN(tF)), func(a []runtime.Value) runtime.Value {
			return runtime.F64(runtime.Sum(a[0].Array().F))
		}), m2(row(1, 2), row(3, 4))),
		c("map to bool", ir.PrimMap, `[false, true]`, fn(fnT(tB, tF), func(a []runtime.Value) runtime.Value {
			return runtime.Bool(a[0].F > 0)
		}), fs(-1, 1)),
		c("map to tuples", ir.PrimMap, `[[0, 0], [0.5, 1]]`, withIndex, is(0, 1)),
		c("map prim", ir.PrimMap, `[1.6487212707001282, 0.28650479686019015]`, primFn(ir.PrimExp, tF), fs(0.5, -1.25)),
		c("map empty", ir.PrimMap, `[]`, pair, fs()),
		cerr("map sizes", ir.PrimMap, "map: sizes 2 and 3 differ", add, fsN(1, 2), fsN(1, 2, 3)),
		cerr("map ragged", ir.PrimMap, "map: element 1 has shape [2], element 0 has shape [1]", ragged, is(1, 2)),
		c("reduce", ir.PrimReduce, `4.0`, add, f(0), fs(cx...)),
		c("reduce max", ir.PrimReduce, `3.5`, primFn(ir.PrimMax, tF, tF), f(-1e300), fs(cx...)),
		c("reduce empty", ir.PrimReduce, `-7`, add, f(-7), fs()),
		c("reduce rows", ir.PrimReduce, `[4, 6]`, primFn(ir.PrimAdd, vecN(tF), vecN(tF)), fsN(0, 0), m2(row(1, 2), row(3, 4))),
		c("scan", ir.PrimScan, `[0.5, -0.75, 1.25, 4.75, 4.0]`, add, f(0), fs(cx...)),
		c("scan empty", ir.PrimScan, `[]`, add, f(0), fs()),
		c("scan rows", ir.PrimScan, `[[1, 2], [4, 6]]`, primFn(ir.PrimAdd, vecN(tF), vecN(tF)), fsN(0, 0), m2(row(1, 2), row(3, 4))),
		c("fold", ir.PrimFold, `1.375`, fn(fnT(tF, tF, tF), func(a []runtime.Value) runtime.Value {
			return runtime.F64(a[0].F*0.5 + a[1].F)
		}), f(0), fs(cx...)),
		c("fold i64 acc", ir.PrimFold, `3`, fn(fnT(tI, tI, tF), func(a []runtime.Value) runtime.Value {
			if a[1].F > 0 {
				return runtime.I64(a[0].I + 1)
			}
			return a[0]
		}), i(0), fs(cx...)),
		c("zip", ir.PrimZip, `[[1, 4], [2, 5], [3, 6]]`, fs(1, 2, 3), is(4, 5, 6)),
		c("zip rows", ir.PrimZip, `[[[1, 2], true]]`, m2(row(1, 2)), bs(true)),
		cerr("zip sizes", ir.PrimZip, "zip: sizes 2 and 1 differ", fsN(1, 2), fsN(1)),
		c("unzip", ir.PrimUnzip, `[[1, 2, 3], [4, 5, 6]]`, zipped),

		c("sum", ir.PrimSum, `4.0`, fs(cx...)),
		c("sum 2-D", ir.PrimSum, `21`, m2(row(1, 2, 3), row(4, 5, 6))),
		c("sum i64", ir.PrimSum, `-3`, is(1, -4)),
		c("sum empty", ir.PrimSum, `0`, fs()),
		c("prod", ir.PrimProd, `3.28125`, fs(cx...)),
		c("prod i64", ir.PrimProd, `-24`, is(2, -3, 4)),
		c("prod empty", ir.PrimProd, `1`, is()),
		c("maximum", ir.PrimMaximum, `3.5`, fs(cx...)),
		c("minimum", ir.PrimMinimum, `-1.25`, fs(cx...)),
		c("maximum 2-D", ir.PrimMaximum, `6`, m2(row(1, 2, 3), row(4, 6, 5))),
		c("maximum i64", ir.PrimMaximum, `9`, is(3, 9, -1)),
		c("minimum i64", ir.PrimMinimum, `-1`, is(3, 9, -1)),
		c("maximum NaN", ir.PrimMaximum, `"NaN"`, fs(1, nan, 3)),
		c("minimum NaN", ir.PrimMinimum, `"NaN"`, fs(1, 3, nan)),
		c("maximum inf", ir.PrimMaximum, `"+Inf"`, fs(1, inf)),
		c("maximum empty", ir.PrimMaximum, `"-Inf"`, fs()),
		c("minimum empty", ir.PrimMinimum, `"+Inf"`, fs()),
		cerr("maximum empty i64", ir.PrimMaximum, "maximum of an empty i64 array", is()),
		cerr("minimum empty i64", ir.PrimMinimum, "minimum of an empty i64 array", is()),
		c("argmax", ir.PrimArgmax, `3`, fs(cx...)),
		c("argmin", ir.PrimArgmin, `1`, fs(cx...)),
		c("argmax first of ties", ir.PrimArgmax, `1`, fs(1, 3, 3)),
		c("argmin first of ties", ir.PrimArgmin, `0`, is(-2, 5, -2)),
		c("argmax i64", ir.PrimArgmax, `1`, is(-2, 5, -2)),
		c("argmax NaN", ir.PrimArgmax, `1`, fs(1, nan, 3, nan)),
		c("argmin NaN", ir.PrimArgmin, `2`, fs(1, -3, nan)),
		c("argmax NaN first", ir.PrimArgmax, `0`, fs(nan, 3)),
		c("argmax -inf", ir.PrimArgmax, `0`, fs(-inf, -inf)),
		cerr("argmax empty", ir.PrimArgmax, "argmax of an empty array", fs()),
		cerr("argmin empty", ir.PrimArgmin, "argmin of an empty array", is()),
		c("mean", ir.PrimMean, `0.8`, fs(cx...)),
		c("mean 2-D", ir.PrimMean, `3.5`, m2(row(1, 2, 3), row(4, 5, 6))),
		c("mean empty", ir.PrimMean, `"NaN"`, fs()),
		c("norm", ir.PrimNorm, `4.315669125408017`, fs(cx...)),
		c("norm 2-D", ir.PrimNorm, `5`, m2(row(3), row(4))),
		c("norm huge", ir.PrimNorm, `5e300`, fs(3e300, 4e300)),
		c("norm tiny", ir.PrimNorm, `5e-300`, fs(3e-300, -4e-300)),
		c("norm inf", ir.PrimNorm, `"+Inf"`, fs(nan, -inf)),
		c("norm NaN", ir.PrimNorm, `"NaN"`, fs(1, nan)),
		c("norm empty", ir.PrimNorm, `0`, fs()),
		c("logsumexp", ir.PrimLogsumexp, `3.7591538532450124`, fs(cx...)),
		c("logsumexp large", ir.PrimLogsumexp, `1000.6931471805599`, fs(1000, 1000)),
		c("logsumexp all -inf", ir.PrimLogsumexp, `"-Inf"`, fs(-inf, -inf)),
		c("logsumexp some -inf", ir.PrimLogsumexp, `0`, fs(-inf, 0)),
		c("logsumexp +inf", ir.PrimLogsumexp, `"+Inf"`, fs(1, inf)),
		c("logsumexp empty", ir.PrimLogsumexp, `"-Inf"`, fs()),
		c("softmax", ir.PrimSoftmax, `[0.03842089398220248, 0.0066765502581788, 0.17219050063265434, 0.7717042847014066, 0.01100777042555782]`, fs(cx...)),
		c("softmax large", ir.PrimSoftmax, `[0.5, 0.5, 0]`, fs(1000, 1000, -inf)),
		c("softmax empty", ir.PrimSoftmax, `[]`, fs()),

		c("dot", ir.PrimDot, `-5.5`, fs(cx...), fs(cy...)),
		c("dot empty", ir.PrimDot, `0`, fs(), fs()),
		cerr("dot sizes", ir.PrimDot, "dot: sizes 2 and 3 differ", fsN(1, 2), fsN(1, 2, 3)),
		c("outer", ir.PrimOuter, `[[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]`, fs(1, 2), fs(3, 4, 5)),
		c("outer empty", ir.PrimOuter, `[]`, fs(), fs(3, 4, 5)),
		c("matmul mm", ir.PrimMatmul, `[[-4.0, 6.0], [-5.5, 12.0]]`, m2(row(1, 2, 3), row(4, 5, 6)), m2(row(1, -1), row(0.5, 2), row(-2, 1))),
		c("matmul mv", ir.PrimMatmul, `[-1.0, 0.5]`, m2(row(1, 2, 3), row(4, 5, 6)), fsN(1, 0.5, -1)),
		c("matmul vm", ir.PrimMatmul, `[9, 12, 15]`, fsN(1, 2), m2(row(1, 2, 3), row(4, 5, 6))),
		c("matmul vv", ir.PrimMatmul, `-5.5`, fsN(cx...), fsN(cy...)),
		c("matmul inner 0", ir.PrimMatmul, `[[0, 0, 0], [0, 0, 0]]`, m2(row(), row()), m2().withType(mat(0, 3)).withValue(&runtime.Array{Shape: []int{0, 3}, Kind: runtime.ElemF64, F: []float64{}})),
		c("matmul mv inner 0", ir.PrimMatmul, `[0, 0]`, m2(row(), row()), fsN()),
		c("matmul empty rows", ir.PrimMatmul, `[]`, m2(), fsN()),
		cerr("matmul mm sizes", ir.PrimMatmul, "'@': inner sizes differ: [2][3] @ [2][2]", m2(row(1, 2, 3), row(4, 5, 6)), m2(row(1, 2), row(3, 4))),
		cerr("matmul mv sizes", ir.PrimMatmul, "'@': inner sizes differ: [2][3] @ [2]", m2(row(1, 2, 3), row(4, 5, 6)), fsN(1, 2)),
		cerr("matmul vm sizes", ir.PrimMatmul, "'@': inner sizes differ: [3] @ [2][3]", fsN(1, 2, 3), m2(row(1, 2, 3), row(4, 5, 6))),
		cerr("matmul vv sizes", ir.PrimMatmul, "'@': inner sizes differ: [3] @ [2]", fsN(1, 2, 3), fsN(1, 2)),

		c("transpose", ir.PrimTranspose, `[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]`, m2(row(1, 2, 3), row(4, 5, 6))),
		c("transpose empty", ir.PrimTranspose, `[[], [], []]`, m2().withType(mat(0, 3)).withValue(&runtime.Array{Shape: []int{0, 3}, Kind: runtime.ElemF64, F: []float64{}})),
		c("transpose tuples", ir.PrimTranspose, `[[[1, 4]], [[2, 5]], [[3, 6]]]`, arg{vec(1, vec(3, tup)), runtime.Arr(&runtime.Array{Shape: []int{1, 3}, Kind: runtime.ElemBox, Box: zipped.v.Array().Box})}),
		c("transpose 3-D", ir.PrimTranspose, `[[[1, 2], [5, 6]], [[3, 4], [7, 8]]]`, arg{vec(2, vec(2, vec(2, tF))), runtime.Arr(&runtime.Array{Shape: []int{2, 2, 2}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4, 5, 6, 7, 8}})}),
		c("flatten", ir.PrimFlatten, `[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]`, m2(row(1, 2, 3), row(4, 5, 6))),
		c("reshape", ir.PrimReshape, `[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]`, fs(1, 2, 3, 4, 5, 6), i(3), i(2)),
		c("reshape 2-D", ir.PrimReshape, `[[1, 2, 3, 4, 5, 6]]`, m2(row(1, 2, 3), row(4, 5, 6)), i(1), i(6)),
		c("reshape empty", ir.PrimReshape, `[[], []]`, fs(), i(2), i(0)),
		cerr("reshape size", ir.PrimReshape, "cannot reshape 6 elements to [4][2]", fs(1, 2, 3, 4, 5, 6), i(4), i(2)),
		cerr("reshape negative", ir.PrimReshape, "cannot reshape 6 elements to [-2][-3]", fs(1, 2, 3, 4, 5, 6), i(-2), i(-3)),
		cerr("reshape zero cols", ir.PrimReshape, "cannot reshape 1 elements to [1][0]", fs(1), i(1), i(0)),
		c("concat", ir.PrimConcat, `[0.5, -1.25, 2.0, 3.5, -0.75, 9.0, 8.0]`, fs(cx...), fs(9, 8)),
		c("concat rows", ir.PrimConcat, `[[1, 2], [3, 4], [5, 6]]`, m2(row(1, 2)), m2(row(3, 4), row(5, 6))),
		c("concat empty", ir.PrimConcat, `[1]`, is(), is(1)),
		cerr("concat shapes", ir.PrimConcat, "concat: elements have shapes [2] and [3]", m2(row(1, 2)), m2(row(1, 2, 3))),
		c("reverse", ir.PrimReverse, `[-0.75, 3.5, 2.0, -1.25, 0.5]`, fs(cx...)),
		c("reverse rows", ir.PrimReverse, `[[3, 4], [1, 2]]`, m2(row(1, 2), row(3, 4))),
		c("reverse bools", ir.PrimReverse, `[true, false, false]`, bs(false, false, true)),
		c("reverse empty", ir.PrimReverse, `[]`, is()),
		c("stop_gradient", ir.PrimStopGradient, `[1, 2]`, fs(1, 2)),
	})
}

func (a arg) withValue(x *runtime.Array) arg { a.v = runtime.Arr(x); return a }

// TestEvalCoversPrims: every primitive the interpreter can meet has an
// evaluator; only AD operators, which the ad package expands away, have
// none.
func TestEvalCoversPrims(t *testing.T) {
	for _, p := range ir.Prims() {
		if p.AD == ir.ADOperator {
			if p.Eval != nil {
				t.Errorf("AD operator %s has an evaluator; it should be expanded before evaluation", p.Name)
			}
			continue
		}
		if p.Eval == nil {
			t.Errorf("primitive %s has no evaluator", p.Name)
		}
	}
}

// TestViewsDoNotAlias: arrays are immutable values, so an update must not
// show through a view or the original.
func TestViewsDoNotAlias(t *testing.T) {
	m := machine()
	x := m2(row(1, 2), row(3, 4))
	r, _, err := call(m, ir.PrimIndex, nil, x, i(1))
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := call(m, ir.PrimUpdate, nil, x, i(1), arg{vecN(tF), runtime.Arr(runtime.FromF64([]float64{9, 9}))})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Array().F; got[0] != 3 || got[1] != 4 {
		t.Errorf("row view changed to %v after update", got)
	}
	if got := x.v.Array().F; got[2] != 3 {
		t.Errorf("original changed to %v after update", got)
	}
	if got := u.Array().F; got[2] != 9 || got[3] != 9 {
		t.Errorf("update = %v", got)
	}
}

// TestBatchFunc: map and build hand whole arrays to a BatchFunc, and fall
// back to element-by-element calls when it declines.
func TestBatchFunc(t *testing.T) {
	var batched, single int
	// square is x² of an f64 (or of an i64, for build), batchable unless
	// it declines.
	square := func(param ir.Type, decline bool) arg {
		get := func(v runtime.Value) float64 { return v.F }
		if param == tI {
			get = func(v runtime.Value) float64 { return float64(v.I) }
		}
		one := goFunc(func(_ *runtime.Machine, a []runtime.Value) (runtime.Value, error) {
			single++
			x := get(a[0])
			return runtime.F64(x * x), nil
		})
		many := func(m *runtime.Machine, n int, args []runtime.Value) (runtime.Value, bool, error) {
			if decline {
				return runtime.Value{}, false, nil
			}
			batched++
			in := args[0].Array()
			out, err := runtime.NewF64(m, n)
			if err != nil {
				return runtime.Value{}, false, err
			}
			for k := range out.F {
				x := get(in.At(k))
				out.F[k] = x * x
			}
			return runtime.Arr(out), true, nil
		}
		return arg{fnT(tF, param), runtime.Value{R: batchFunc{one, many}}}
	}
	m := machine()
	v, _, err := call(m, ir.PrimMap, nil, square(tF, false), fs(1, 2, 3))
	if err != nil || batched != 1 || single != 0 {
		t.Fatalf("batched map: err %v, %d batches, %d single calls", err, batched, single)
	}
	if got := v.Array().F; got[2] != 9 {
		t.Errorf("batched map = %v", got)
	}
	v, _, err = call(m, ir.PrimMap, nil, square(tF, true), fs(1, 2, 3))
	if err != nil || single != 3 {
		t.Fatalf("declined batch: err %v, %d single calls, want 3", err, single)
	}
	if got := v.Array().F; got[1] != 4 {
		t.Errorf("declined map = %v", got)
	}
	v, _, err = call(m, ir.PrimBuild, nil, i(4), square(tI, false))
	if err != nil || batched != 2 {
		t.Fatalf("batched build: err %v, %d batches", err, batched)
	}
	if got := v.Array().F; got[3] != 9 {
		t.Errorf("batched build = %v", got)
	}
	failing := arg{fnT(tF, tF), runtime.Value{R: batchFunc{nil, func(*runtime.Machine, int, []runtime.Value) (runtime.Value, bool, error) {
		return runtime.Value{}, false, errors.New("boom")
	}}}}
	if _, _, err := call(m, ir.PrimMap, nil, failing, fs(1)); err == nil || err.Error() != "boom" {
		t.Errorf("batch error = %v, want boom", err)
	}
}

// TestFunctionErrorsPropagate: an error from the function stops map,
// reduce, scan, fold and build at once.
func TestFunctionErrorsPropagate(t *testing.T) {
	calls := 0
	bad := errors.New("bad element")
	g := func(args []runtime.Value) (runtime.Value, error) {
		calls++
		if calls == 2 {
			return runtime.Value{}, bad
		}
		return args[len(args)-1], nil
	}
	mk := func(t *ir.Func) arg {
		return arg{t, runtime.Value{R: goFunc(func(_ *runtime.Machine, a []runtime.Value) (runtime.Value, error) { return g(a) })}}
	}
	for _, tc := range []struct {
		p    *ir.Prim
		args []arg
	}{
		{ir.PrimMap, []arg{mk(fnT(tF, tF)), fs(1, 2, 3)}},
		{ir.PrimReduce, []arg{mk(fnT(tF, tF, tF)), f(0), fs(1, 2, 3)}},
		{ir.PrimScan, []arg{mk(fnT(tF, tF, tF)), f(0), fs(1, 2, 3)}},
		{ir.PrimFold, []arg{mk(fnT(tF, tF, tF)), f(0), fs(1, 2, 3)}},
		{ir.PrimBuild, []arg{i(3), mk(fnT(tI, tI))}},
	} {
		calls = 0
		_, _, err := call(machine(), tc.p, nil, tc.args...)
		if !errors.Is(err, bad) || calls != 2 {
			t.Errorf("%s: error %v after %d calls, want %v after 2", tc.p.Name, err, calls, bad)
		}
	}
}

// TestLimits: array operations charge a step per element before they
// allocate, and allocate through the machine's memory budget.
func TestLimits(t *testing.T) {
	big := make([]float64, 1000)
	for _, tc := range []struct {
		name string
		p    *ir.Prim
		args []arg
	}{
		{"add", ir.PrimAdd, []arg{fs(big...), fs(big...)}},
		{"exp", ir.PrimExp, []arg{fs(big...)}},
		{"lt", ir.PrimLt, []arg{fs(big...), f(0)}},
		{"zeros", ir.PrimZeros, []arg{i(1000)}},
		{"iota", ir.PrimIota, []arg{i(1000)}},
		{"sum", ir.PrimSum, []arg{fs(big...)}},
		{"map", ir.PrimMap, []arg{primFn(ir.PrimExp, tF), fs(big...)}},
		{"outer", ir.PrimOuter, []arg{fs(big[:40]...), fs(big[:40]...)}},
	} {
		m := runtime.NewMachine(context.Background(), runtime.Limits{Steps: 500})
		if _, _, err := call(m, tc.p, nil, tc.args...); !errors.Is(err, runtime.ErrStepLimit) {
			t.Errorf("%s under a 500-step limit: %v", tc.name, err)
		}
	}
	m := runtime.NewMachine(context.Background(), runtime.Limits{Memory: 4000})
	if _, _, err := call(m, ir.PrimZeros, nil, i(1000)); !errors.Is(err, runtime.ErrMemoryLimit) {
		t.Errorf("zeros(1000) under a 4000-byte limit: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m = runtime.NewMachine(ctx, runtime.Limits{})
	if _, _, err := call(m, ir.PrimAdd, nil, fs(make([]float64, 5000)...), f(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("add after cancel: %v", err)
	}
}

// TestMatmulLarge compares the BLAS-backed product with a naive one on a
// size where gonum blocks and parallelizes.
func TestMatmulLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const m, k, n = 70, 130, 90
	a := make([]float64, m*k)
	bm := make([]float64, k*n)
	for j := range a {
		a[j] = rng.NormFloat64()
	}
	for j := range bm {
		bm[j] = rng.NormFloat64()
	}
	A := arg{mat(m, k), runtime.Arr(&runtime.Array{Shape: []int{m, k}, Kind: runtime.ElemF64, F: a})}
	B := arg{mat(k, n), runtime.Arr(&runtime.Array{Shape: []int{k, n}, Kind: runtime.ElemF64, F: bm})}
	v, _, err := call(machine(), ir.PrimMatmul, nil, A, B)
	if err != nil {
		t.Fatal(err)
	}
	got := v.Array()
	if len(got.Shape) != 2 || got.Shape[0] != m || got.Shape[1] != n {
		t.Fatalf("shape %v", got.Shape)
	}
	for r := 0; r < m; r++ {
		for c := 0; c < n; c++ {
			s := 0.0
			for j := 0; j < k; j++ {
				s += a[r*k+j] * bm[j*n+c]
			}
			if d := math.Abs(got.F[r*n+c] - s); d > 1e-12*float64(k) {
				t.Fatalf("[%d][%d] = %v, want %v", r, c, got.F[r*n+c], s)
			}
		}
	}
	// transpose(transpose(A)) is A, also past one tile.
	tr, _, err := call(machine(), ir.PrimTranspose, nil, A)
	if err != nil {
		t.Fatal(err)
	}
	tt, _, err := call(machine(), ir.PrimTranspose, nil, arg{mat(k, m), tr})
	if err != nil {
		t.Fatal(err)
	}
	for j := range a {
		if tt.Array().F[j] != a[j] {
			t.Fatalf("transpose twice differs at %d", j)
		}
	}
	if tr.Array().F[5*m+7] != a[7*k+5] {
		t.Fatalf("transpose [5][7] = %v, want %v", tr.Array().F[5*m+7], a[7*k+5])
	}
}

// TestElementwiseStatic checks the errors Eval itself reports.
func TestElementwiseStatic(t *testing.T) {
	s := &ir.Site{Prim: ir.PrimAdd, Args: []ir.Type{tF}, Result: tF}
	if _, err := ir.PrimAdd.Eval(s); err == nil {
		t.Error("Eval of '+' with one operand succeeded")
	}
	s = &ir.Site{Prim: ir.PrimAdd, Args: []ir.Type{tF, tI}, Result: tF}
	if _, err := ir.PrimAdd.Eval(s); err == nil {
		t.Error("Eval of f64 + i64 succeeded")
	}
}

// BenchmarkEvalAdd measures a specialized elementwise call: the kernel
// plus the Impl's shape check, step charge and allocation.
func BenchmarkEvalAdd(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		x := fs(make([]float64, n)...)
		s := site(ir.PrimAdd, nil, []ir.Type{x.t, x.t})
		impl, err := ir.PrimAdd.Eval(s)
		if err != nil {
			b.Fatal(err)
		}
		m := machine()
		args := []runtime.Value{x.v, x.v}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := impl(m, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalMap measures map's per-element overhead around a trivial
// function.
func BenchmarkEvalMap(b *testing.B) {
	x := fs(make([]float64, 1000)...)
	g := primFn(ir.PrimNeg, tF)
	s := site(ir.PrimMap, nil, []ir.Type{g.t, x.t})
	impl, err := ir.PrimMap.Eval(s)
	if err != nil {
		b.Fatal(err)
	}
	m := machine()
	args := []runtime.Value{g.v, x.v}
	for b.Loop() {
		if _, err := impl(m, args); err != nil {
			b.Fatal(err)
		}
	}
}
