package ir_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	gmat "gonum.org/v1/gonum/mat"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Derivative rules against central finite differences (gonum diff/fd), and
// JVP against VJP by the dot-product test ⟨J v, w⟩ = ⟨v, Jᵀ w⟩.
//
// Each case applies one primitive to arguments at one point. The rules are
// built with ir.Builder into small defs and run by the interpreter:
//
//	def f(a...)          = p(a...)
//	def d(a...)          = let y = p(a...) in (∂0, ∂1, ...)        (Partials)
//	def j(a..., t...)    = let y = p(a...) in JVP(a, t, y)         (JVP)
//	def v(a..., ybar)    = let y = p(a...) in (VJP(a, y, ybar)...) (VJP)
//
// and compared, for random v and w, with the Jacobian J of f that fd
// computes. A Partials rule is combined in the harness: JVP = Σ ∂i·v_i,
// VJP_i = ∂i·w, summed over the elements when argument i is a scalar and
// y an array. Every non-empty subset of the differentiable arguments is
// tried, so rules also see nil (zero) tangents.

// rarg is an argument of a rule case.
type rarg struct {
	t     ir.Type
	v     runtime.Value
	konst bool // an ir.Const in the IR (f64 scalars): the rule sees a constant
	fixed bool // a parameter that is not differentiated (its tangent is nil)
}

func (a rarg) fix() rarg     { a.fixed = true; return a }
func (a rarg) asConst() rarg { a.konst = true; return a }

func rF(x float64) rarg { return rarg{t: ir.TF64, v: runtime.F64(x)} }
func rI(x int64) rarg   { return rarg{t: ir.TI64, v: runtime.I64(x)} }

// rV is a [n]f64 vector with a known size.
func rV(xs ...float64) rarg {
	return rarg{t: ir.ArrayOf(ir.ConstDim(int64(len(xs))), ir.TF64), v: runtime.Arr(runtime.FromF64(slices.Clone(xs)))}
}

// rVu is a vector whose size is unknown statically.
func rVu(xs ...float64) rarg {
	a := rV(xs...)
	a.t = ir.ArrayOf(ir.Unknown, ir.TF64)
	return a
}

// rVs is a vector whose size is the size variable sym.
func rVs(sym string, xs ...float64) rarg {
	a := rV(xs...)
	a.t = ir.ArrayOf(ir.SymDim(sym), ir.TF64)
	return a
}

func rIs(xs ...int64) rarg {
	return rarg{t: ir.ArrayOf(ir.ConstDim(int64(len(xs))), ir.TI64), v: runtime.Arr(runtime.FromI64(slices.Clone(xs)))}
}

// rT is an f64 array of any rank with known sizes, its elements row-major.
func rT(shape []int, xs ...float64) rarg {
	if runtime.Size(shape) != len(xs) {
		panic(fmt.Sprintf("rT: %d elements for shape %v", len(xs), shape))
	}
	var t ir.Type = ir.TF64
	for i := len(shape) - 1; i >= 0; i-- {
		t = ir.ArrayOf(ir.ConstDim(int64(shape[i])), t)
	}
	a := &runtime.Array{Shape: slices.Clone(shape), Kind: runtime.ElemF64, F: slices.Clone(xs)}
	return rarg{t: t, v: runtime.Arr(a)}
}

// rM is a matrix with known sizes.
func rM(rows ...[]float64) rarg {
	var xs []float64
	for _, r := range rows {
		xs = append(xs, r...)
	}
	return rT([]int{len(rows), len(rows[0])}, xs...)
}

// withDims replaces an array argument's static dimensions.
func (a rarg) withDims(ds ...ir.Dim) rarg {
	var wrap func(t ir.Type, i int) ir.Type
	wrap = func(t ir.Type, i int) ir.Type {
		if at, ok := t.(*ir.Array); ok {
			return ir.ArrayOf(ds[i], wrap(at.Elem, i+1))
		}
		return t
	}
	a.t = wrap(a.t, 0)
	return a
}

func rTup(elems ...rarg) rarg {
	ts := make([]ir.Type, len(elems))
	vs := make(runtime.Tuple, len(elems))
	for i, e := range elems {
		ts[i], vs[i] = e.t, e.v
	}
	return rarg{t: ir.TupleOf(ts...), v: runtime.Value{R: vs}}
}

// rBox is an array of the given shape of tuples (elements row-major).
func rBox(shape []int, elems ...rarg) rarg {
	if runtime.Size(shape) != len(elems) {
		panic("rBox: element count")
	}
	t := elems[0].t
	for i := len(shape) - 1; i >= 0; i-- {
		t = ir.ArrayOf(ir.ConstDim(int64(shape[i])), t)
	}
	a := &runtime.Array{Shape: slices.Clone(shape), Kind: runtime.ElemBox, Box: make([]runtime.Value, len(elems))}
	for i, e := range elems {
		a.Box[i] = e.v
	}
	return rarg{t: t, v: runtime.Arr(a)}
}

// bottomType strips array dimensions.
func bottomType(t ir.Type) ir.Type {
	for {
		a, ok := t.(*ir.Array)
		if !ok {
			return t
		}
		t = a.Elem
	}
}

// hasF64 mirrors the rules' notion of a differentiable value.
func typeHasF64(t ir.Type) bool {
	switch t := t.(type) {
	case ir.Scalar:
		return t.Kind == ir.F64
	case *ir.Array:
		return typeHasF64(t.Elem)
	case *ir.Tuple:
		for _, e := range t.Elems {
			if typeHasF64(e) {
				return true
			}
		}
	}
	return false
}

// leaves appends the f64 scalars of v (of type t) to out, in storage order.
func f64Leaves(t ir.Type, v runtime.Value, out []float64) []float64 {
	switch t := t.(type) {
	case ir.Scalar:
		if t.Kind == ir.F64 {
			out = append(out, v.F)
		}
	case *ir.Tuple:
		for i, e := range t.Elems {
			out = f64Leaves(e, v.Tuple()[i], out)
		}
	case *ir.Array:
		a := v.Array()
		switch a.Kind {
		case runtime.ElemF64:
			out = append(out, a.F...)
		case runtime.ElemBox:
			bt := bottomType(t)
			for _, e := range a.Box {
				out = f64Leaves(bt, e, out)
			}
		}
	}
	return out
}

// withLeaves is a copy of v with its f64 scalars taken from xs (and its
// i64 and bool parts zeroed when zero is set, as in a tangent); it
// returns the unused rest of xs.
func withF64Leaves(t ir.Type, v runtime.Value, xs []float64, zero bool) (runtime.Value, []float64) {
	switch t := t.(type) {
	case ir.Scalar:
		switch {
		case t.Kind == ir.F64:
			return runtime.F64(xs[0]), xs[1:]
		case zero:
			return runtime.Value{}, xs
		}
		return v, xs
	case *ir.Tuple:
		tv := v.Tuple()
		out := make(runtime.Tuple, len(tv))
		for i, e := range t.Elems {
			out[i], xs = withF64Leaves(e, tv[i], xs, zero)
		}
		return runtime.Value{R: out}, xs
	case *ir.Array:
		a := v.Array()
		c := &runtime.Array{Shape: slices.Clone(a.Shape), Kind: a.Kind}
		switch a.Kind {
		case runtime.ElemF64:
			c.F = slices.Clone(xs[:len(a.F)])
			xs = xs[len(a.F):]
		case runtime.ElemI64:
			c.I = slices.Clone(a.I)
			if zero {
				clear(c.I)
			}
		case runtime.ElemBool:
			c.B = slices.Clone(a.B)
			if zero {
				clear(c.B)
			}
		default:
			bt := bottomType(t)
			c.Box = make([]runtime.Value, len(a.Box))
			for i, e := range a.Box {
				c.Box[i], xs = withF64Leaves(bt, e, xs, zero)
			}
		}
		return runtime.Arr(c), xs
	}
	return v, xs
}

// ruleCovered is the coverage rule of TestRulesCoverPrims: how package ad
// can differentiate a primitive.
func ruleCovered(p *ir.Prim) bool {
	if p.AD == ir.ADOperator || p.NoDerivative {
		return true
	}
	if p.Class == ir.SeriesClass {
		return true // package ad differentiates their recurrences (ad/lower_series.go)
	}
	switch p.Name {
	case "map", "reduce", "scan", "fold", "build", "loop_save", "while_save", "acc_add", "acc_add_at", "acc_zero_at", "zeros_like", "stop_gradient", "linsolve", "ode_dopri5":
		return true
	}
	if p.Elementwise {
		return p.Partials != nil
	}
	return p.JVP != nil && p.VJP != nil
}

// checkClosed reports primitives in e that package ad could not
// differentiate: rules must build IR that can be differentiated again.
func checkClosed(t *testing.T, what string, e ir.Expr) {
	t.Helper()
	var walk func(e ir.Expr)
	walk = func(e ir.Expr) {
		switch e := e.(type) {
		case *ir.Let:
			walk(e.Value)
			walk(e.Body)
		case *ir.Lambda:
			walk(e.Body)
		case *ir.Call:
			walk(e.Fn)
			for _, a := range e.Args {
				walk(a)
			}
		case *ir.PrimCall:
			if !ruleCovered(e.Op) {
				t.Errorf("%s emits %s, which has no derivative rule", what, e.Op.Name)
			}
			for _, a := range e.Args {
				walk(a)
			}
		case *ir.MakeTuple:
			for _, a := range e.Elems {
				walk(a)
			}
		case *ir.Proj:
			walk(e.X)
		case *ir.If:
			walk(e.Cond)
			walk(e.Then)
			walk(e.Else)
		case *ir.Loop:
			walk(e.Init)
			if e.Count != nil {
				walk(e.Count)
			}
			if e.Cond != nil {
				walk(e.Cond)
			}
			walk(e.Body)
		}
	}
	walk(e)
}

type rcase struct {
	name string
	p    *ir.Prim
	aux  any
	args []rarg
}

func rc(p *ir.Prim, args ...rarg) rcase { return rcase{p: p, args: args} }

func (c rcase) withAux(aux any) rcase { c.aux = aux; return c }

func (c rcase) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.t.String()
		switch {
		case a.konst:
			parts[i] = fmt.Sprintf("const %g", a.v.F)
		case a.fixed:
			parts[i] += " (fixed)"
		}
	}
	s := c.p.Name + "(" + strings.Join(parts, ", ") + ")"
	if c.name != "" {
		s += " " + c.name
	}
	return s
}

// ruleProgram is one case compiled for one subset of differentiated
// arguments.
type ruleProgram struct {
	c        rcase
	diff     []int // the differentiated arguments
	it       *interp.Interp
	yt       ir.Type
	partNil  []bool // Partials: which partials are nil
	jvpNil   bool   // JVP returned nil
	vjpIndex []int  // VJP: position of argument i's contribution in the result tuple, or -1
}

func (rp *ruleProgram) call(t *testing.T, name string, args ...runtime.Value) runtime.Value {
	t.Helper()
	v, err := rp.it.Call(context.Background(), name, args, runtime.Limits{})
	if err != nil {
		t.Fatalf("%s: %s: %v", rp.c, name, err)
	}
	return v
}

// params lists the case's parameters: every argument that is not a
// constant.
func (c rcase) params() (names []string, types []ir.Type, index []int) {
	for i, a := range c.args {
		if a.konst {
			continue
		}
		names = append(names, fmt.Sprintf("a%d", i))
		types = append(types, a.t)
		index = append(index, i)
	}
	return
}

// argExprs are the primitive's arguments: the parameters and constants.
func (c rcase) argExprs(b *ir.Builder, ps []*ir.Var) []ir.Expr {
	out := make([]ir.Expr, len(c.args))
	k := 0
	for i, a := range c.args {
		if a.konst {
			out[i] = b.F64(a.v.F)
			continue
		}
		out[i] = ps[k]
		k++
	}
	return out
}

func (c rcase) vals() []runtime.Value {
	var vs []runtime.Value
	for _, a := range c.args {
		if !a.konst {
			vs = append(vs, a.v)
		}
	}
	return vs
}

func compileRule(t *testing.T, c rcase, diff []int) *ruleProgram {
	t.Helper()
	var b ir.Builder
	rp := &ruleProgram{c: c, diff: diff}
	names, types, _ := c.params()
	inDiff := func(i int) bool { return slices.Contains(diff, i) }

	f := b.SizedDef("f", names, types, func(ps, _ []*ir.Var) ir.Expr {
		return b.PrimAux(c.p, c.aux, c.argExprs(&b, ps)...)
	})
	rp.yt = f.Result
	defs := []*ir.Def{f}

	if c.p.Partials != nil {
		defs = append(defs, b.SizedDef("d", names, types, func(ps, _ []*ir.Var) ir.Expr {
			args := c.argExprs(&b, ps)
			return b.Let("y", b.PrimAux(c.p, c.aux, args...), func(y *ir.Var) ir.Expr {
				parts := c.p.Partials(&b, args, y)
				if len(parts) != len(args) {
					t.Fatalf("%s: Partials gave %d partials for %d arguments", c, len(parts), len(args))
				}
				out := make([]ir.Expr, len(parts))
				rp.partNil = make([]bool, len(parts))
				for i, p := range parts {
					if p == nil {
						rp.partNil[i] = true
						out[i] = b.F64(0)
						continue
					}
					checkClosed(t, c.String()+" Partials", p)
					if !ir.Identical(p.Type(), ir.TF64) && !ir.Equal(p.Type(), y.T) {
						t.Errorf("%s: partial %d has type %s; want f64 or %s", c, i, p.Type(), y.T)
					}
					out[i] = p
				}
				return b.Tuple(out...)
			})
		}))
	}

	if c.p.JVP != nil {
		jn, jt := slices.Clone(names), slices.Clone(types)
		for _, i := range diff {
			jn = append(jn, fmt.Sprintf("t%d", i))
			jt = append(jt, c.args[i].t)
		}
		defs = append(defs, b.SizedDef("j", jn, jt, func(ps, _ []*ir.Var) ir.Expr {
			np := len(names)
			args := c.argExprs(&b, ps[:np])
			tans := make([]ir.Expr, len(args))
			for k, i := range diff {
				tans[i] = ps[np+k]
			}
			return b.Let("y", b.PrimAux(c.p, c.aux, args...), func(y *ir.Var) ir.Expr {
				dy := c.p.JVP(&b, args, tans, c.aux, y)
				if dy == nil {
					rp.jvpNil = true
					return y
				}
				checkClosed(t, c.String()+" JVP", dy)
				if !ir.Equal(dy.Type(), y.T) {
					t.Errorf("%s: JVP has type %s; want %s", c, dy.Type(), y.T)
				}
				return dy
			})
		}))
		// All tangents nil: the tangent is zero.
		var b2 ir.Builder
		b2.SizedDef("j0", names, types, func(ps, _ []*ir.Var) ir.Expr {
			args := c.argExprs(&b2, ps)
			return b2.Let("y", b2.PrimAux(c.p, c.aux, args...), func(y *ir.Var) ir.Expr {
				if dy := c.p.JVP(&b2, args, make([]ir.Expr, len(args)), c.aux, y); dy != nil {
					t.Errorf("%s: JVP with no tangents is not nil", c)
				}
				return y
			})
		})
	}

	if c.p.VJP != nil {
		vn, vt := append(slices.Clone(names), "ybar"), append(slices.Clone(types), rp.yt)
		defs = append(defs, b.SizedDef("v", vn, vt, func(ps, _ []*ir.Var) ir.Expr {
			np := len(names)
			args := c.argExprs(&b, ps[:np])
			ybar := ps[np]
			return b.Let("y", b.PrimAux(c.p, c.aux, args...), func(y *ir.Var) ir.Expr {
				cts := c.p.VJP(&b, args, y, ybar)
				if len(cts) != len(args) {
					t.Fatalf("%s: VJP gave %d contributions for %d arguments", c, len(cts), len(args))
				}
				var out []ir.Expr
				rp.vjpIndex = make([]int, len(args))
				for i, ct := range cts {
					rp.vjpIndex[i] = -1
					if ct == nil {
						continue
					}
					checkClosed(t, c.String()+" VJP", ct)
					if !typeHasF64(args[i].Type()) {
						t.Errorf("%s: VJP gives argument %d of type %s a contribution", c, i, args[i].Type())
					}
					if !ir.Equal(ct.Type(), args[i].Type()) {
						t.Errorf("%s: VJP contribution %d has type %s; want %s", c, i, ct.Type(), args[i].Type())
					}
					if inDiff(i) {
						rp.vjpIndex[i] = len(out)
						out = append(out, ct)
					}
				}
				if len(out) == 0 {
					return b.Tuple()
				}
				return b.Tuple(out...)
			})
		}))
	}

	prog := ir.NewProgram(defs)
	if err := ir.Validate(prog); err != nil {
		t.Fatalf("%s: rules built invalid IR: %v", c, err)
	}
	it, err := interp.New(prog)
	if err != nil {
		t.Fatalf("%s: interp.New: %v", c, err)
	}
	rp.it = it
	return rp
}

// elemAt reads element k of a scalar (broadcast) or f64 array value.
func elemAt(v runtime.Value, k int) float64 {
	if a := v.Array(); a != nil {
		return a.F[k]
	}
	return v.F
}

// jvp is the tangent of y for argument tangents tans (one per
// differentiated argument), flattened.
func (rp *ruleProgram) jvp(t *testing.T, vals, tans []runtime.Value, m int) []float64 {
	c := rp.c
	if c.p.Partials != nil {
		parts := rp.call(t, "d", vals...).Tuple()
		out := make([]float64, m)
		for k := range out {
			for n, i := range rp.diff {
				if !rp.partNil[i] {
					out[k] += elemAt(parts[i], k) * elemAt(tans[n], k)
				}
			}
		}
		return out
	}
	if rp.jvpNil {
		return make([]float64, m)
	}
	dy := rp.call(t, "j", append(slices.Clone(vals), tans...)...)
	return f64Leaves(rp.yt, dy, nil)
}

// vjp is the cotangent contribution of each differentiated argument for
// y's cotangent ybar (w flat), flattened and concatenated.
func (rp *ruleProgram) vjp(t *testing.T, vals []runtime.Value, ybar runtime.Value, w []float64) []float64 {
	c := rp.c
	var out []float64
	if c.p.Partials != nil {
		parts := rp.call(t, "d", vals...).Tuple()
		for _, i := range rp.diff {
			n := len(f64Leaves(c.args[i].t, c.args[i].v, nil))
			ct := make([]float64, n)
			for k, wk := range w {
				if rp.partNil[i] {
					break
				}
				g := elemAt(parts[i], k) * wk
				if n == 1 {
					ct[0] += g // a scalar argument broadcast over y
				} else {
					ct[k] = g
				}
			}
			out = append(out, ct...)
		}
		return out
	}
	cts := rp.call(t, "v", append(slices.Clone(vals), ybar)...).Tuple()
	for _, i := range rp.diff {
		a := c.args[i]
		if k := rp.vjpIndex[i]; k >= 0 {
			out = f64Leaves(a.t, cts[k], out)
		} else {
			out = append(out, make([]float64, len(f64Leaves(a.t, a.v, nil)))...)
		}
	}
	return out
}

// checkRule runs every check of one case for one subset of arguments.
func checkRule(t *testing.T, rng *rand.Rand, c rcase, diff []int) {
	t.Helper()
	rp := compileRule(t, c, diff)
	_, _, pidx := c.params()
	base := c.vals()
	slot := func(i int) int { return slices.Index(pidx, i) } // argument i's position among the parameters

	// The point, flattened over the differentiated arguments.
	var x0 []float64
	for _, i := range diff {
		x0 = f64Leaves(c.args[i].t, c.args[i].v, x0)
	}
	at := func(x []float64) []runtime.Value {
		vals := slices.Clone(base)
		for _, i := range diff {
			vals[slot(i)], x = withF64Leaves(c.args[i].t, c.args[i].v, x, false)
		}
		return vals
	}
	y0 := rp.call(t, "f", base...)
	yflat := f64Leaves(rp.yt, y0, nil)
	m, n := len(yflat), len(x0)
	if m == 0 || n == 0 {
		t.Fatalf("%s: no f64 inputs or outputs to differentiate", c)
	}
	fmax := 0.0
	for _, v := range yflat {
		fmax = max(fmax, math.Abs(v))
	}

	J := gmat.NewDense(m, n, nil)
	fd.Jacobian(J, func(y, x []float64) {
		copy(y, f64Leaves(rp.yt, rp.call(t, "f", at(x)...), nil))
	}, x0, &fd.JacobianSettings{Formula: fd.Central})

	// Random tangents and cotangent.
	v := make([]float64, n)
	for k := range v {
		v[k] = 2*rng.Float64() - 1
	}
	w := make([]float64, m)
	for k := range w {
		w[k] = 2*rng.Float64() - 1
	}
	tans := make([]runtime.Value, len(diff))
	rest := v
	for k, i := range diff {
		tans[k], rest = withF64Leaves(c.args[i].t, c.args[i].v, rest, true)
	}
	ybar, _ := withF64Leaves(rp.yt, y0, w, true)

	where := fmt.Sprintf("%s d/d args %v", c, diff)
	const fdTol = 1e-6
	abs := 1e-9 * (1 + fmax)

	jv := rp.jvp(t, base, tans, m)
	if len(jv) != m {
		t.Fatalf("%s: JVP has %d scalars; want %d", where, len(jv), m)
	}
	for r := 0; r < m; r++ {
		want, scale := 0.0, 0.0
		for k := 0; k < n; k++ {
			want += J.At(r, k) * v[k]
			scale += math.Abs(J.At(r, k) * v[k])
		}
		if !(math.Abs(jv[r]-want) <= fdTol*scale+abs) {
			t.Errorf("%s: JVP[%d] = %.12g; finite differences give %.12g", where, r, jv[r], want)
		}
	}

	vj := rp.vjp(t, base, ybar, w)
	if len(vj) != n {
		t.Fatalf("%s: VJP has %d scalars; want %d", where, len(vj), n)
	}
	for k := 0; k < n; k++ {
		want, scale := 0.0, 0.0
		for r := 0; r < m; r++ {
			want += J.At(r, k) * w[r]
			scale += math.Abs(J.At(r, k) * w[r])
		}
		if !(math.Abs(vj[k]-want) <= fdTol*scale+abs) {
			t.Errorf("%s: VJP[%d] = %.12g; finite differences give %.12g", where, k, vj[k], want)
		}
	}

	// The dot-product test.
	lhs, rhs, scale := 0.0, 0.0, 0.0
	for r := range jv {
		lhs += jv[r] * w[r]
		scale += math.Abs(jv[r] * w[r])
	}
	for k := range vj {
		rhs += v[k] * vj[k]
		scale += math.Abs(v[k] * vj[k])
	}
	if !(math.Abs(lhs-rhs) <= 1e-12*scale+1e-300) {
		t.Errorf("%s: ⟨J v, w⟩ = %.17g but ⟨v, Jᵀ w⟩ = %.17g", where, lhs, rhs)
	}
}

// subsets lists the non-empty subsets of xs.
func argSubsets(xs []int) [][]int {
	var out [][]int
	for mask := 1; mask < 1<<len(xs); mask++ {
		var s []int
		for k, x := range xs {
			if mask&(1<<k) != 0 {
				s = append(s, x)
			}
		}
		out = append(out, s)
	}
	return out
}

func runRuleCases(t *testing.T, cases []rcase, tested map[*ir.Prim]bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	checks := 0
	defer func() { t.Logf("%d cases, %d checks (case × subset of differentiated arguments)", len(cases), checks) }()
	for _, c := range cases {
		var diff []int
		for i, a := range c.args {
			if typeHasF64(a.t) && !a.fixed && !a.konst {
				diff = append(diff, i)
			}
		}
		if len(diff) == 0 {
			t.Fatalf("%s: nothing to differentiate", c)
		}
		t.Run(c.String(), func(t *testing.T) {
			for _, s := range argSubsets(diff) {
				checkRule(t, rng, c, s)
				checks++
			}
		})
		tested[c.p] = true
	}
}

// Sample points of the elementwise primitives: five values per operand,
// inside each function's domain and away from kinks, ties and branch
// cuts.
var elementwisePoints = map[string][][]float64{
	"add":      {{-1.3, 0.7, 2.1, 3.4, -0.4}, {0.9, -1.7, 2.5, 0.6, -3.1}},
	"sub":      {{-1.3, 0.7, 2.1, 3.4, -0.4}, {0.9, -1.7, 2.5, 0.6, -3.1}},
	"mul":      {{-1.3, 0.7, 2.1, 3.4, -0.4}, {0.9, -1.7, 2.5, 0.6, -3.1}},
	"div":      {{-1.3, 0.7, 2.1, 3.4, -0.4}, {0.9, -1.7, 2.5, 0.6, -3.1}},
	"mod":      {{5.3, -7.1, 2.2, 9.7, -3.3}, {2.1, 3.0, -1.3, 4.4, 1.7}},
	"pow":      {{0.5, 1.7, 2.3, 0.9, 3.1}, {2.5, -1.2, 0.7, 3.0, 1.5}},
	"atan2":    {{0.5, -1.2, 2.0, -0.3, 1.1}, {1.3, -0.7, -2.0, 0.4, -1.5}},
	"max":      {{1.0, -2.0, 3.5, 0.2, -1.1}, {0.5, 1.5, -2.5, 0.9, -3.0}},
	"min":      {{1.0, -2.0, 3.5, 0.2, -1.1}, {0.5, 1.5, -2.5, 0.9, -3.0}},
	"neg":      {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"f64":      {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"exp":      {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"log":      {{0.3, 1.7, 4.2, 0.9, 2.5}},
	"sqrt":     {{0.3, 1.7, 4.2, 0.9, 2.5}},
	"sin":      {{-1.2, 0.3, 1.1, -0.5, 0.8}},
	"cos":      {{-1.2, 0.3, 1.1, -0.5, 0.8}},
	"tan":      {{-1.2, 0.3, 1.1, -0.5, 0.8}},
	"tanh":     {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"sinh":     {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"cosh":     {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"asin":     {{-0.7, 0.2, 0.5, -0.3, 0.9}},
	"acos":     {{-0.7, 0.2, 0.5, -0.3, 0.9}},
	"atan":     {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"log1p":    {{-0.5, 0.3, 1.7, -0.2, 2.2}},
	"expm1":    {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"erf":      {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"relu":     {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"sigmoid":  {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"softplus": {{-1.2, 0.3, 1.7, -0.5, 2.2}},
	"abs":      {{-1.2, 0.3, 1.7, -0.5, 2.2}},
}

// vecOf makes a vector of n values cycling through pts; every other
// length has an unknown static size.
func vecOf(pts []float64, n int) rarg {
	xs := make([]float64, n)
	for k := range xs {
		xs[k] = pts[k%len(pts)]
	}
	if n == 3 {
		return rVu(xs...)
	}
	return rV(xs...)
}

// elementwiseCases are every elementwise primitive with Partials at its
// sample points: scalars, vectors of lengths 1, 3 and 5, and for binary
// primitives the scalar-vector broadcasts both ways.
func elementwiseCases(t *testing.T) []rcase {
	var cases []rcase
	for _, p := range ir.Prims() {
		if !p.Elementwise || p.Partials == nil {
			continue
		}
		pts, ok := elementwisePoints[p.Name]
		if !ok {
			t.Errorf("elementwise primitive %s has Partials but no sample points in this test", p.Name)
			continue
		}
		a := pts[0]
		if p.Arity == 1 {
			for _, x := range a {
				cases = append(cases, rc(p, rF(x)))
			}
			for _, n := range []int{1, 3, 5} {
				cases = append(cases, rc(p, vecOf(a, n)))
			}
			continue
		}
		b := pts[1]
		for k := range a {
			cases = append(cases, rc(p, rF(a[k]), rF(b[k])))
		}
		for _, n := range []int{1, 3, 5} {
			cases = append(cases,
				rc(p, vecOf(a, n), vecOf(b, n)),
				rc(p, rF(a[0]), vecOf(b, n)),
				rc(p, vecOf(a, n), rF(b[0])))
		}
	}
	// pow with negative bases: a constant exponent (folded by the rule),
	// or one that is not differentiated (no log(x) term may appear).
	pow := ir.PrimPow
	cases = append(cases,
		rc(pow, rF(-1.5), rF(3).asConst()),
		rc(pow, rV(-1.5, -0.7, 2.2), rF(2).asConst()),
		rc(pow, rV(-1.5, -0.7, -2.2), rF(-2).asConst()),
		rc(pow, rV(-1.5, 0.7, -2.2), rF(1).asConst()),
		rc(pow, rV(0.4, 1.7, 2.2), rF(0.5).asConst()),
		rc(pow, rV(-1.5, 0.7, -2.2), rF(0).asConst()),
		rc(pow, rF(-1.5), rF(3).fix()),
		rc(pow, rV(-1.5, -0.7, -2.2), rV(3, 2, 4).fix()),
		rc(pow, rV(-1.5, -0.7, -2.2, 0.3, -1.1), rF(5).fix()),
		rc(pow, rF(2).asConst(), rV(0.5, -1.3, 2.2)),
		rc(pow, rF(0).asConst(), rV(0.5, 1.3, 2.2)),
		rc(pow, rF(0.5).asConst(), rF(-1.7)),
	)
	return cases
}

func TestRulesFiniteDifferencesElementwise(t *testing.T) {
	tested := map[*ir.Prim]bool{}
	runRuleCases(t, elementwiseCases(t), tested)
	for _, p := range ir.Prims() {
		if p.Partials != nil && !tested[p] {
			t.Errorf("no finite-difference case for %s", p.Name)
		}
	}
}

func arrayRuleCases() []rcase {
	tf := func(x float64) rarg { return rF(x) }
	pair := func(x, y float64) rarg { return rTup(rF(x), rF(y)) }
	mixed := func(x float64, i int64) rarg { return rTup(rF(x), rI(i)) }
	d := ir.ConstDim
	n, m, k := ir.SymDim("n"), ir.SymDim("m"), ir.SymDim("k")
	return []rcase{
		rc(ir.PrimFill, rI(3), tf(1.5)).withAux(d(3)),
		rc(ir.PrimFill, rI(2), rV(1, -2, 0.5)).withAux(d(2)),
		rc(ir.PrimFill, rI(1), rV(0.25)),
		rc(ir.PrimFill, rI(3), rTup(rF(1.5), rV(0.5, -1))),
		rc(ir.PrimFill, rI(2), mixed(2.5, 7)),

		rc(ir.PrimArray, tf(1.5), tf(-2), tf(0.25)),
		rc(ir.PrimArray, tf(0.5)),
		rc(ir.PrimArray, rV(1, 2, 3), rV(-1, 0.5, 4)),
		rc(ir.PrimArray, pair(1, 2), pair(3, -4)),

		rc(ir.PrimIndex, rV(1.5, -2, 3, 0.25, 4), rI(2)),
		rc(ir.PrimIndex, rV(1.5), rI(0)),
		rc(ir.PrimIndex, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rI(1)),
		rc(ir.PrimIndex, rBox([]int{3}, mixed(1, 1), mixed(2, 2), mixed(3, 3)), rI(2)),

		rc(ir.PrimSlice, rV(1.5, -2, 3, 0.25, 4), rI(1), rI(4)).withAux(d(3)),
		rc(ir.PrimSlice, rVu(1.5, -2, 3), rI(0), rI(3)),
		rc(ir.PrimSlice, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}, []float64{7, 8}), rI(2), rI(4)),
		rc(ir.PrimSlice, rBox([]int{3}, pair(1, 2), pair(3, 4), pair(5, 6)), rI(1), rI(2)),

		rc(ir.PrimUpdate, rV(1.5, -2, 3, 0.25), rI(2), tf(9)),
		rc(ir.PrimUpdate, rV(1.5), rI(0), tf(9)),
		rc(ir.PrimUpdate, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rI(1), rV(-1, -2)),
		rc(ir.PrimUpdate, rBox([]int{2}, pair(1, 2), pair(3, 4)), rI(0), pair(-5, 6)),

		rc(ir.PrimGather, rV(1.5, -2, 3, 0.25, 4), rIs(0, 2, 2, 4, 1, 2)),
		rc(ir.PrimGather, rV(1.5), rIs(0)),
		rc(ir.PrimGather, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rIs(2, 0, 2)),
		rc(ir.PrimGather, rBox([]int{3}, pair(1, 2), pair(3, 4), pair(5, 6)), rIs(1, 1, 0)),

		rc(ir.PrimZip, rV(1, 2, 3), rV(-1, 0.5, 4)),
		rc(ir.PrimZip, rV(1, 2, 3), rIs(4, 5, 6)),
		rc(ir.PrimZip, rM([]float64{1, 2}, []float64{3, 4}), rV(0.5, -0.5), rV(7, 8)),

		rc(ir.PrimUnzip, rBox([]int{3}, pair(1, 2), pair(3, 4), pair(5, 6))),
		rc(ir.PrimUnzip, rBox([]int{2}, mixed(1.5, 1), mixed(-2.5, 2))),
		rc(ir.PrimUnzip, rBox([]int{2}, rTup(rV(1, 2), rF(3)), rTup(rV(4, 5), rF(6)))),

		rc(ir.PrimSum, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimSum, rV(1.5)),
		rc(ir.PrimSum, rT([]int{2, 3}, 1, 2, 3, 4, 5, 6)),
		rc(ir.PrimSum, rT([]int{2, 3}, 1, 2, 3, 4, 5, 6).withDims(ir.Unknown, ir.Unknown)),

		rc(ir.PrimProd, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimProd, rV(1.5)),
		rc(ir.PrimProd, rV(2, 0, 3)),
		rc(ir.PrimProd, rV(2, 0, 3, 0)),
		rc(ir.PrimProd, rT([]int{2, 3}, 1, -2, 3, 0.5, 5, 0.6)),
		rc(ir.PrimProd, rT([]int{2, 1, 2}, 1, -2, 3, 0.5)),

		rc(ir.PrimMaximum, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimMaximum, rV(1.5)),
		rc(ir.PrimMaximum, rT([]int{2, 3}, 1, 7, 3, 4, 5, 6)),
		rc(ir.PrimMinimum, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimMinimum, rVu(1.5)),
		rc(ir.PrimMinimum, rT([]int{2, 3}, 1, 7, 3, -4, 5, 6)),

		rc(ir.PrimMean, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimMean, rV(1.5)),
		rc(ir.PrimMean, rVu(1.5, 2, -3)),
		rc(ir.PrimMean, rVs("n", 1.5, 2, -3, 4)),
		rc(ir.PrimMean, rT([]int{2, 3}, 1, 2, 3, 4, 5, 6).withDims(d(2), ir.Unknown)),

		rc(ir.PrimNorm, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimNorm, rV(-1.5)),
		rc(ir.PrimNorm, rT([]int{2, 3}, 1, 2, 3, 4, 5, 6)),

		rc(ir.PrimLogsumexp, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimLogsumexp, rV(1.5)),
		rc(ir.PrimLogsumexp, rV(1000, 1001, 999)),
		rc(ir.PrimLogsumexp, rT([]int{2, 3}, 1, 2, 3, 4, 5, 6)),

		rc(ir.PrimSoftmax, rV(1.5, -2, 3, 0.25, 4)),
		rc(ir.PrimSoftmax, rV(1.5)),
		rc(ir.PrimSoftmax, rVu(1000, 1001, 999)),

		rc(ir.PrimDot, rV(1.5, -2, 3), rV(0.5, 4, -1)),
		rc(ir.PrimDot, rV(1.5), rV(-2)),
		rc(ir.PrimDot, rVs("n", 1, 2, 3, 4, 5), rVs("n", -1, 0.5, 2, 0.25, 3)),

		rc(ir.PrimOuter, rV(1.5, -2, 3), rV(0.5, 4)),
		rc(ir.PrimOuter, rV(1.5), rVu(0.5, 4, -1, 2)),

		rc(ir.PrimMatmul, rM([]float64{1, 2, 3}, []float64{4, 5, 6}), rM([]float64{1, -1, 0.5, 2}, []float64{0, 3, -2, 1}, []float64{2, 0.5, 1, -1})),
		rc(ir.PrimMatmul, rM([]float64{1, 2, 3}, []float64{4, 5, 6}).withDims(m, k), rM([]float64{1, -1}, []float64{0, 3}, []float64{2, 0.5}).withDims(k, n)),
		rc(ir.PrimMatmul, rM([]float64{1, 2, 3}, []float64{4, 5, 6}), rV(0.5, -1, 2)),
		rc(ir.PrimMatmul, rV(0.5, -1, 2), rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6})),
		rc(ir.PrimMatmul, rV(0.5, -1, 2), rV(1, 2, 3)),
		rc(ir.PrimMatmul, rM([]float64{1.5}), rM([]float64{-2})),

		rc(ir.PrimTranspose, rM([]float64{1, 2, 3}, []float64{4, 5, 6})),
		rc(ir.PrimTranspose, rT([]int{2, 3, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
		rc(ir.PrimTranspose, rBox([]int{2, 2}, pair(1, 2), pair(3, 4), pair(5, 6), pair(7, 8))),

		rc(ir.PrimFlatten, rM([]float64{1, 2, 3}, []float64{4, 5, 6})),
		rc(ir.PrimFlatten, rM([]float64{1, 2, 3}, []float64{4, 5, 6}).withDims(m, n)),
		rc(ir.PrimFlatten, rT([]int{2, 3, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
		rc(ir.PrimFlatten, rBox([]int{2, 2}, pair(1, 2), pair(3, 4), pair(5, 6), pair(7, 8))),

		rc(ir.PrimReshape, rV(1, 2, 3, 4, 5, 6), rI(2), rI(3)).withAux([2]ir.Dim{d(2), d(3)}),
		rc(ir.PrimReshape, rM([]float64{1, 2, 3}, []float64{4, 5, 6}), rI(3), rI(2)),
		rc(ir.PrimReshape, rT([]int{2, 3, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), rI(4), rI(3)),

		rc(ir.PrimConcat, rV(1, 2, 3), rV(-1, 0.5)),
		rc(ir.PrimConcat, rVu(1), rV(-1, 0.5, 2)),
		rc(ir.PrimConcat, rM([]float64{1, 2}, []float64{3, 4}), rM([]float64{5, 6})),
		rc(ir.PrimConcat, rBox([]int{1}, pair(1, 2)), rBox([]int{2}, pair(3, 4), pair(5, 6))),

		rc(ir.PrimReverse, rV(1, 2, 3, 4)),
		rc(ir.PrimReverse, rV(1)),
		rc(ir.PrimReverse, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6})),
		rc(ir.PrimReverse, rBox([]int{2}, pair(1, 2), pair(3, 4))),

		rc(ir.PrimTake, rV(1.5, -2, 3, 0.25, 4), rI(3)).withAux(d(3)),
		rc(ir.PrimTake, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rI(2)),
		rc(ir.PrimTake, rBox([]int{2}, pair(1, 2), pair(3, 4)), rI(1)),
		rc(ir.PrimDrop, rV(1.5, -2, 3, 0.25, 4), rI(2)).withAux(d(3)),
		rc(ir.PrimDrop, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rI(1)),
		rc(ir.PrimDrop, rBox([]int{2}, pair(1, 2), pair(3, 4)), rI(1)),

		rc(ir.PrimReshapeLike, rV(1, 2, 3, 4, 5, 6), rM([]float64{0, 0, 0}, []float64{0, 0, 0})),
		rc(ir.PrimReshapeLike, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rT([]int{3, 2}, 0, 0, 0, 0, 0, 0).withDims(n, m)),
		rc(ir.PrimReshapeLike, rBox([]int{4}, pair(1, 2), pair(3, 4), pair(5, 6), pair(7, 8)), rBox([]int{2, 2}, pair(0, 0), pair(0, 0), pair(0, 0), pair(0, 0))),

		rc(ir.PrimPadLike, rV(1.5, -2), rI(1), rV(0, 0, 0, 0, 0)),
		rc(ir.PrimPadLike, rM([]float64{1, 2}), rI(2), rM([]float64{0, 0}, []float64{0, 0}, []float64{0, 0})),
		rc(ir.PrimPadLike, rBox([]int{1}, pair(1, 2)), rI(0), rBox([]int{2}, pair(0, 0), pair(0, 0))),

		rc(ir.PrimCheckDim, rV(1.5, -2, 3), rI(3)).withAux(ir.DimCheck{What: "x", Type: "[n]f64", Size: "n"}),
		rc(ir.PrimCheckDim, rM([]float64{1, 2}, []float64{3, 4}, []float64{5, 6}), rI(2)).withAux(ir.DimCheck{Axis: 1, What: "x", Type: "[3][2]f64", Size: "2"}),

		rc(ir.PrimLinearCheck, rarg{t: ir.TBool, v: runtime.Bool(true)}, rV(1.5, -2, 3)).withAux("not linear"),
		rc(ir.PrimProgress, rI(3), rF(1.5), rF(0.25), rF(0.5), rV(1.5, -2, 3)).withAux("gd"),
		rc(ir.PrimAssert, rarg{t: ir.TBool, v: runtime.Bool(true)}, rM([]float64{1, 2}, []float64{3, 4})).withAux("f: x is negative"),
	}
}

func TestRulesFiniteDifferencesArrays(t *testing.T) {
	tested := map[*ir.Prim]bool{}
	runRuleCases(t, arrayRuleCases(), tested)
	for _, p := range ir.Prims() {
		if p.JVP != nil && !tested[p] {
			t.Errorf("no finite-difference case for %s", p.Name)
		}
	}
}
