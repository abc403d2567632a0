package ir_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Structural tests of the derivative rules and their conventions at kinks,
// ties and edges (SPEC §5), checked exactly. rules_fd_test.go checks the
// rules against finite differences.

// TestRulesCoverPrims: adding a primitive means writing its rules. Every
// primitive is an AD operator, one package ad differentiates itself, has
// NoDerivative, or has Partials (elementwise) or both JVP and VJP.
func TestRulesCoverPrims(t *testing.T) {
	for _, p := range ir.Prims() {
		if !ruleCovered(p) {
			t.Errorf("primitive %s has no derivative rules", p.Name)
		}
		rules := p.Partials != nil || p.JVP != nil || p.VJP != nil
		switch {
		case p.NoDerivative && rules:
			t.Errorf("%s has NoDerivative and derivative rules", p.Name)
		case p.Elementwise && (p.JVP != nil || p.VJP != nil):
			t.Errorf("elementwise %s has JVP or VJP; it should have Partials", p.Name)
		case !p.Elementwise && p.Partials != nil:
			t.Errorf("%s has Partials but is not elementwise", p.Name)
		case (p.JVP == nil) != (p.VJP == nil):
			t.Errorf("%s has only one of JVP and VJP", p.Name)
		}
	}
}

// TestNoDerivativeElementwise pins the elementwise primitives that are
// piecewise constant, so that a smooth one is not marked by mistake.
func TestNoDerivativeElementwise(t *testing.T) {
	want := []string{"and", "ceil", "eq", "floor", "ge", "gt", "i64", "ind_gt", "le", "lt", "ne", "not", "or", "round", "sign"}
	var got []string
	for _, p := range ir.Prims() {
		if p.Elementwise && p.NoDerivative {
			got = append(got, p.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("elementwise primitives with NoDerivative: %v; want %v", got, want)
	}
}

// ruleEval builds def t(params) = body and runs it.
func ruleEval(t *testing.T, args []rarg, body func(b *ir.Builder, ps []ir.Expr) ir.Expr) runtime.Value {
	t.Helper()
	var b ir.Builder
	names := make([]string, len(args))
	types := make([]ir.Type, len(args))
	vals := make([]runtime.Value, len(args))
	for i, a := range args {
		names[i], types[i], vals[i] = "a", a.t, a.v
	}
	d := b.SizedDef("t", names, types, func(ps, _ []*ir.Var) ir.Expr {
		es := make([]ir.Expr, len(ps))
		for i, p := range ps {
			es[i] = p
		}
		return body(&b, es)
	})
	prog := ir.NewProgram([]*ir.Def{d})
	if err := ir.Validate(prog); err != nil {
		t.Fatalf("invalid IR: %v", err)
	}
	it, err := interp.New(prog)
	if err != nil {
		t.Fatalf("interp.New: %v", err)
	}
	v, err := it.Call(context.Background(), "t", vals, runtime.Limits{})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	return v
}

// partialsAt evaluates p's partials at args; a nil partial reads as 0
// and is reported in isNil.
func partialsAt(t *testing.T, p *ir.Prim, args ...rarg) (parts []runtime.Value, isNil []bool) {
	t.Helper()
	isNil = make([]bool, len(args))
	v := ruleEval(t, args, func(b *ir.Builder, ps []ir.Expr) ir.Expr {
		return b.Let("y", b.Prim(p, ps...), func(y *ir.Var) ir.Expr {
			out := p.Partials(b, ps, y)
			for i, e := range out {
				if e == nil {
					isNil[i] = true
					out[i] = b.F64(0)
				}
			}
			return b.Tuple(out...)
		})
	})
	return v.Tuple(), isNil
}

// jvpAt evaluates p's JVP at args with tangents tans (nil: none).
func jvpAt(t *testing.T, p *ir.Prim, args []rarg, tans []*rarg) runtime.Value {
	t.Helper()
	all := slices.Clone(args)
	for _, tn := range tans {
		if tn != nil {
			all = append(all, *tn)
		}
	}
	return ruleEval(t, all, func(b *ir.Builder, ps []ir.Expr) ir.Expr {
		ts := make([]ir.Expr, len(args))
		k := len(args)
		for i, tn := range tans {
			if tn != nil {
				ts[i] = ps[k]
				k++
			}
		}
		return b.Let("y", b.Prim(p, ps[:len(args)]...), func(y *ir.Var) ir.Expr {
			dy := p.JVP(b, ps[:len(args)], ts, nil, y)
			if dy == nil {
				t.Fatalf("%s: JVP is nil", p.Name)
			}
			return dy
		})
	})
}

// vjpAt evaluates p's VJP contribution to argument i at args.
func vjpAt(t *testing.T, p *ir.Prim, args []rarg, ybar rarg, i int) runtime.Value {
	t.Helper()
	return ruleEval(t, append(slices.Clone(args), ybar), func(b *ir.Builder, ps []ir.Expr) ir.Expr {
		n := len(args)
		return b.Let("y", b.Prim(p, ps[:n]...), func(y *ir.Var) ir.Expr {
			ct := p.VJP(b, ps[:n], y, ps[n])[i]
			if ct == nil {
				t.Fatalf("%s: VJP contribution %d is nil", p.Name, i)
			}
			return ct
		})
	})
}

func flatFloats(v runtime.Value) []float64 {
	if a := v.Array(); a != nil {
		return a.F
	}
	return []float64{v.F}
}

// sameFloats compares exactly, NaN equal to NaN and 0 equal to -0.
func sameFloatsExact(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return false
		}
	}
	return true
}

func rptr(a rarg) *rarg { return &a }

func TestPartialsAtKinks(t *testing.T) {
	type kink struct {
		name string
		p    *ir.Prim
		args []rarg
		want [][]float64 // per argument: the partial's elements (nil: the partial is nil)
	}
	nan := math.NaN()
	kinks := []kink{
		{"abs'(0) = 0", ir.PrimAbs, []rarg{rF(0)}, [][]float64{{0}}},
		{"abs'(-0) = 0", ir.PrimAbs, []rarg{rF(math.Copysign(0, -1))}, [][]float64{{0}}},
		{"abs' elementwise", ir.PrimAbs, []rarg{rV(-2, 0, 3)}, [][]float64{{-1, 0, 1}}},
		{"relu'(0) = 0", ir.PrimRelu, []rarg{rF(0)}, [][]float64{{0}}},
		{"relu' elementwise", ir.PrimRelu, []rarg{rV(-2, 0, 3)}, [][]float64{{0, 0, 1}}},
		{"max tie goes to the first argument", ir.PrimMax, []rarg{rF(2), rF(2)}, [][]float64{{1}, {0}}},
		{"min tie goes to the first argument", ir.PrimMin, []rarg{rF(2), rF(2)}, [][]float64{{1}, {0}}},
		{"max elementwise", ir.PrimMax, []rarg{rV(1, 2, 3), rV(2, 2, 2)}, [][]float64{{0, 1, 1}, {1, 0, 0}}},
		{"min elementwise", ir.PrimMin, []rarg{rV(1, 2, 3), rV(2, 2, 2)}, [][]float64{{1, 1, 0}, {0, 0, 1}}},
		{"max broadcast tie", ir.PrimMax, []rarg{rF(2), rV(1, 2, 3)}, [][]float64{{1, 1, 0}, {0, 0, 1}}},
		{"min of infinities tie", ir.PrimMin, []rarg{rF(math.Inf(1)), rF(math.Inf(1))}, [][]float64{{1}, {0}}},
		{"max of -inf tie", ir.PrimMax, []rarg{rF(math.Inf(-1)), rF(math.Inf(-1))}, [][]float64{{1}, {0}}},
		{"x^0 at x = 0", ir.PrimPow, []rarg{rF(0), rF(0)}, [][]float64{{0}, {0}}},
		{"∂e of 0^e is 0", ir.PrimPow, []rarg{rF(0), rF(2)}, [][]float64{{0}, {0}}},
		{"pow negative base integer exponent", ir.PrimPow, []rarg{rF(-2), rF(3)}, [][]float64{{12}, {nan}}},
		{"sqrt'(0) = +inf", ir.PrimSqrt, []rarg{rF(0)}, [][]float64{{math.Inf(1)}}},
		{"f64 of f64", ir.PrimToF64, []rarg{rF(3)}, [][]float64{{1}}},
		{"f64 of i64 has no derivative", ir.PrimToF64, []rarg{rI(3)}, [][]float64{nil}},
		{"sigmoid' at large x", ir.PrimSigmoid, []rarg{rF(800)}, [][]float64{{0}}},
		{"softplus' at large x", ir.PrimSoftplus, []rarg{rF(800)}, [][]float64{{1}}},
		{"tanh' at large x", ir.PrimTanh, []rarg{rF(800)}, [][]float64{{0}}},
	}
	for _, k := range kinks {
		parts, isNil := partialsAt(t, k.p, k.args...)
		for i, w := range k.want {
			if w == nil {
				if !isNil[i] {
					t.Errorf("%s: partial %d is %v; want nil", k.name, i, flatFloats(parts[i]))
				}
				continue
			}
			if isNil[i] {
				t.Errorf("%s: partial %d is nil; want %v", k.name, i, w)
				continue
			}
			got := flatFloats(parts[i])
			if len(got) == 1 && len(w) > 1 {
				got = slices.Repeat(got, len(w))
			}
			if !sameFloatsExact(got, w) {
				t.Errorf("%s: partial %d = %v; want %v", k.name, i, got, w)
			}
		}
	}
}

// TestPartialsI64: operands of kind i64 have no partials.
func TestPartialsI64(t *testing.T) {
	for _, p := range ir.Prims() {
		if p.Partials == nil || !slices.Contains(p.Kinds, ir.I64) {
			continue
		}
		args := make([]rarg, p.Arity)
		for i := range args {
			args[i] = rI(int64(i + 2))
		}
		_, isNil := partialsAt(t, p, args...)
		for i, n := range isNil {
			if !n {
				t.Errorf("%s on i64: partial %d is not nil", p.Name, i)
			}
		}
	}
}

// TestPowConstantExponent: a constant exponent is folded into the rule,
// and an exponent 0 has a nil partial.
func TestPowConstantExponent(t *testing.T) {
	var b ir.Builder
	x := b.Var("x", ir.TF64)
	y := b.Var("y", ir.TF64)
	if p := ir.PrimPow.Partials(&b, []ir.Expr{x, b.F64(0)}, y); p[0] != nil {
		t.Errorf("∂x of x^0 is %v; want nil", p[0])
	}
	if p := ir.PrimPow.Partials(&b, []ir.Expr{b.F64(0), x}, y); p[1] != nil {
		t.Errorf("∂e of 0^e is %v; want nil", p[1])
	}
	for _, c := range []float64{1, 2, 3, -0.5} {
		d := ir.PrimPow.Partials(&b, []ir.Expr{x, b.F64(c)}, y)[0]
		var logs func(e ir.Expr) bool
		logs = func(e ir.Expr) bool {
			pc, ok := e.(*ir.PrimCall)
			if !ok {
				return false
			}
			if pc.Op == ir.PrimLog || pc.Op == ir.PrimSign {
				return true
			}
			return slices.ContainsFunc(pc.Args, logs)
		}
		if logs(d) {
			t.Errorf("∂x of x^%g uses log or sign; want a plain power", c)
		}
	}
}

func TestExtremeConventions(t *testing.T) {
	nan := math.NaN()
	type ext struct {
		name string
		p    *ir.Prim
		x    rarg
		want []float64 // the cotangent for ybar = 1
	}
	for _, e := range []ext{
		{"maximum ties: first", ir.PrimMaximum, rV(1, 3, 3, 2), []float64{0, 1, 0, 0}},
		{"minimum ties: first", ir.PrimMinimum, rV(2, -1, 5, -1), []float64{0, 1, 0, 0}},
		{"maximum of a matrix", ir.PrimMaximum, rM([]float64{1, 3}, []float64{3, 2}), []float64{0, 1, 0, 0}},
		{"minimum of a matrix", ir.PrimMinimum, rM([]float64{1, 3}, []float64{-3, -3}), []float64{0, 0, 1, 0}},
		{"maximum with NaN picks it", ir.PrimMaximum, rV(1, nan, 3), []float64{0, 1, 0}},
		{"minimum all equal", ir.PrimMinimum, rV(7, 7, 7), []float64{1, 0, 0}},
		{"maximum of -inf", ir.PrimMaximum, rV(math.Inf(-1), math.Inf(-1)), []float64{1, 0}},
		{"maximum of nothing", ir.PrimMaximum, rV(), []float64{}},
		{"minimum of nothing", ir.PrimMinimum, rVu(), []float64{}},
	} {
		got := flatFloats(vjpAt(t, e.p, []rarg{e.x}, rF(1), 0))
		if !sameFloatsExact(got, e.want) {
			t.Errorf("%s: VJP = %v; want %v", e.name, got, e.want)
		}
		// The JVP picks the same element.
		dx := make([]float64, len(e.want))
		want := 0.0
		for i := range dx {
			dx[i] = float64(10 * (i + 1))
			want += dx[i] * e.want[i]
		}
		tan := e.x
		tan.v, _ = withF64Leaves(e.x.t, e.x.v, dx, true)
		if got := jvpAt(t, e.p, []rarg{e.x}, []*rarg{&tan}).F; got != want {
			t.Errorf("%s: JVP = %v; want %v", e.name, got, want)
		}
	}
}

func TestNormAtZero(t *testing.T) {
	for _, x := range []rarg{rV(0, 0, 0), rM([]float64{0, 0}, []float64{0, 0}), rV(0), rV()} {
		n := len(flatFloats(x.v))
		got := flatFloats(vjpAt(t, ir.PrimNorm, []rarg{x}, rF(1), 0))
		if !sameFloatsExact(got, make([]float64, n)) {
			t.Errorf("norm VJP at %s zero = %v; want zeros", x.t, got)
		}
		tan := x
		tan.v, _ = withF64Leaves(x.t, x.v, slices.Repeat([]float64{1}, n), true)
		if got := jvpAt(t, ir.PrimNorm, []rarg{x}, []*rarg{&tan}).F; got != 0 {
			t.Errorf("norm JVP at %s zero = %v; want 0", x.t, got)
		}
	}
	// Away from 0 the rule is x/|x|, even for huge and tiny x.
	for _, s := range []float64{1e-200, 1, 1e200} {
		got := flatFloats(vjpAt(t, ir.PrimNorm, []rarg{rV(3*s, -4*s)}, rF(1), 0))
		if len(got) != 2 || math.Abs(got[0]-0.6) > 1e-15 || math.Abs(got[1]+0.8) > 1e-15 {
			t.Errorf("norm VJP at (3, -4)·%g = %v; want [0.6 -0.8]", s, got)
		}
	}
}

func TestProdWithZeros(t *testing.T) {
	for _, c := range []struct {
		x    rarg
		want []float64
	}{
		{rV(2, 0, 3), []float64{0, 6, 0}},
		{rV(0, 0, 3), []float64{0, 0, 0}},
		{rV(0), []float64{1}},
		{rV(2, 5), []float64{5, 2}},
		{rV(), []float64{}},
		{rM([]float64{2, 0}, []float64{3, 4}), []float64{0, 24, 0, 0}},
	} {
		got := flatFloats(vjpAt(t, ir.PrimProd, []rarg{c.x}, rF(1), 0))
		if !sameFloatsExact(got, c.want) {
			t.Errorf("prod VJP at %v = %v; want %v", flatFloats(c.x.v), got, c.want)
		}
		tan := c.x
		tan.v, _ = withF64Leaves(c.x.t, c.x.v, slices.Repeat([]float64{1}, len(c.want)), true)
		want := 0.0
		for _, g := range c.want {
			want += g
		}
		if got := jvpAt(t, ir.PrimProd, []rarg{c.x}, []*rarg{&tan}).F; got != want {
			t.Errorf("prod JVP at %v = %v; want %v", flatFloats(c.x.v), got, want)
		}
	}
}

// TestRulesEmptyArrays: rules run on empty arrays (no argmax of nothing,
// no negative take), giving empty cotangents and zero tangents.
func TestRulesEmptyArrays(t *testing.T) {
	empty := rV()
	for _, p := range []*ir.Prim{ir.PrimSum, ir.PrimProd, ir.PrimMean, ir.PrimMaximum, ir.PrimMinimum, ir.PrimNorm, ir.PrimLogsumexp} {
		if got := flatFloats(vjpAt(t, p, []rarg{empty}, rF(1), 0)); len(got) != 0 {
			t.Errorf("%s VJP of [] = %v; want []", p.Name, got)
		}
		if got := jvpAt(t, p, []rarg{empty}, []*rarg{rptr(rV())}).F; got != 0 && p != ir.PrimMean {
			t.Errorf("%s JVP of [] = %v; want 0", p.Name, got)
		}
	}
	for _, p := range []*ir.Prim{ir.PrimSoftmax, ir.PrimReverse} {
		if got := flatFloats(vjpAt(t, p, []rarg{empty}, rV(), 0)); len(got) != 0 {
			t.Errorf("%s VJP of [] = %v; want []", p.Name, got)
		}
	}
	got := flatFloats(vjpAt(t, ir.PrimSlice, []rarg{rV(1, 2), rI(1), rI(1)}, rV(), 0))
	if !sameFloatsExact(got, []float64{0, 0}) {
		t.Errorf("VJP of an empty slice = %v; want [0 0]", got)
	}
	got = flatFloats(vjpAt(t, ir.PrimFill, []rarg{rI(0), rF(2)}, rV(), 1))
	if !sameFloatsExact(got, []float64{0}) {
		t.Errorf("VJP of fill(0, v) = %v; want 0", got)
	}
}

// TestRulesNonDifferentiable: values without an f64 part have no tangent
// and send no cotangent, and JVP with no tangents is nil.
func TestRulesNonDifferentiable(t *testing.T) {
	var b ir.Builder
	xi := b.Var("xi", ir.ArrayOf(ir.ConstDim(3), ir.TI64))
	yi := b.Var("yi", ir.ArrayOf(ir.ConstDim(2), ir.TI64))
	xf := b.Var("xf", ir.ArrayOf(ir.ConstDim(3), ir.TF64))
	for _, c := range []struct {
		p    *ir.Prim
		args []ir.Expr
	}{
		{ir.PrimSum, []ir.Expr{xi}},
		{ir.PrimProd, []ir.Expr{xi}},
		{ir.PrimMaximum, []ir.Expr{xi}},
		{ir.PrimMinimum, []ir.Expr{xi}},
		{ir.PrimConcat, []ir.Expr{xi, yi}},
		{ir.PrimIndex, []ir.Expr{xi, b.I64(1)}},
		{ir.PrimReverse, []ir.Expr{xi}},
		{ir.PrimFill, []ir.Expr{b.I64(2), b.I64(5)}},
	} {
		y := b.Var("y", b.Prim(c.p, c.args...).Type())
		dt := make([]ir.Expr, len(c.args))
		for i, a := range c.args {
			dt[i] = b.Var("d", a.Type())
		}
		if dy := c.p.JVP(&b, c.args, dt, nil, y); dy != nil {
			t.Errorf("%s of i64: JVP is not nil", c.p.Name)
		}
		for i, ct := range c.p.VJP(&b, c.args, y, b.Var("ybar", y.T)) {
			if ct != nil {
				t.Errorf("%s of i64: VJP contribution %d is not nil", c.p.Name, i)
			}
		}
	}
	// Only the i64 column of a zip gets no cotangent.
	y := b.Var("y", b.Prim(ir.PrimZip, xf, xi).Type())
	cts := ir.PrimZip.VJP(&b, []ir.Expr{xf, xi}, y, b.Var("ybar", y.T))
	if cts[0] == nil || cts[1] != nil {
		t.Errorf("zip(f64s, i64s) VJP = %v; want a contribution for the f64s only", cts)
	}
	// No tangents: nil.
	for _, p := range ir.Prims() {
		if p.JVP == nil {
			continue
		}
		if dy := p.JVP(&b, nil, nil, nil, xf); dy != nil {
			t.Errorf("%s: JVP without arguments' tangents is not nil", p.Name)
		}
	}
}

// TestGatherRepeatedIndices: the scatter-add accumulates.
func TestGatherRepeatedIndices(t *testing.T) {
	got := flatFloats(vjpAt(t, ir.PrimGather, []rarg{rV(1, 2, 3), rIs(2, 0, 2, 2)}, rV(1, 10, 100, 1000), 0))
	if !sameFloatsExact(got, []float64{10, 0, 1101}) {
		t.Errorf("gather VJP = %v; want [10 0 1101]", got)
	}
}

// TestRuleTypesExact: contributions that restore a shape keep the
// argument's exact type, symbolic sizes included.
func TestRuleTypesExact(t *testing.T) {
	var b ir.Builder
	m, n := ir.SymDim("m"), ir.SymDim("n")
	x := b.Var("x", ir.ArrayOf(m, ir.ArrayOf(n, ir.TF64)))
	v := b.Var("v", ir.ArrayOf(n, ir.TF64))
	for _, c := range []struct {
		p    *ir.Prim
		args []ir.Expr
	}{
		{ir.PrimFlatten, []ir.Expr{x}},
		{ir.PrimSum, []ir.Expr{x}},
		{ir.PrimProd, []ir.Expr{x}},
		{ir.PrimMaximum, []ir.Expr{x}},
		{ir.PrimMean, []ir.Expr{x}},
		{ir.PrimNorm, []ir.Expr{x}},
		{ir.PrimLogsumexp, []ir.Expr{x}},
		{ir.PrimSlice, []ir.Expr{v, b.I64(0), b.I64(1)}},
		{ir.PrimTake, []ir.Expr{v, b.I64(1)}},
		{ir.PrimDrop, []ir.Expr{v, b.I64(1)}},
		{ir.PrimIndex, []ir.Expr{x, b.I64(1)}},
		{ir.PrimGather, []ir.Expr{x, b.Var("idx", ir.ArrayOf(ir.ConstDim(2), ir.TI64))}},
		{ir.PrimReshape, []ir.Expr{x, b.I64(1), b.I64(1)}},
		{ir.PrimConcat, []ir.Expr{v, v}},
	} {
		y := b.Var("y", b.Prim(c.p, c.args...).Type())
		for i, ct := range c.p.VJP(&b, c.args, y, b.Var("ybar", y.T)) {
			if ct != nil && !ir.Identical(ct.Type(), c.args[i].Type()) {
				t.Errorf("%s: VJP contribution %d has type %s; want %s", c.p.Name, i, ct.Type(), c.args[i].Type())
			}
		}
	}
}
