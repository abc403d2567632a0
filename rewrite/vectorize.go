package rewrite

// vectorize: element-wise comprehensions rewritten into the array
// operations they compute, before reverse mode differentiates them.
//
// A program written element by element, such as
//
//	let diff = [x[i][c] - means[j][c] for c < d]
//	let qd = [sum([qs[j][r][c] * diff[c] for c < d]) for r < d]
//	in sum([qd[r] * qd[r] for r < d])
//
// is differentiated by reverse mode into loops over scalars, which the
// interpreter runs an order of magnitude slower than the whole-array
// operations of the same program written x[i] - means[j], qs[j] @ diff
// and sum(qd * qd). The rewrite stage runs after AD (internal/pipeline),
// so it cannot change the reverse program: Vectorize runs before AD,
// on each def's primal, and AD then differentiates array operations.
//
// Two rules, applied bottom-up so that an inner comprehension is an
// array expression before the one around it is looked at:
//
//   - build_map: build(n, fn(i) => f(A[i], B[i], s)) => f(A, B, s),
//     where f is f64 arithmetic and functions (elementwise primitives,
//     which lift over arrays), every A, B indexed by i has length n
//     statically, and everything else (s) mentions neither i nor a
//     variable bound in the body. Exact: the same scalar operation on
//     the same operands, in the same order. A product a * a of one
//     variable becomes a ^ 2, as the array program is written, so that
//     reverse mode makes one product for its cotangent (lower's square
//     makes it a * a again after AD).
//   - build_matvec: build(n, fn(r) => sum(A[r] * v)) => A @ v (also
//     v * A[r] and dot(A[r], v)), where A has n rows and as many columns
//     as v has elements, statically. The matrix-vector kernel may add
//     the products in another order than sum, so the result may round
//     differently (docs/decisions.md).
//
// Nothing may fail differently: every moved operand (A, v, s) is
// proved to evaluate without error (sizewalk.go's safe, extended to
// element-wise operations of arrays of statically equal sizes), so
// evaluating it once, or even for a comprehension of no elements, gives
// no error where the comprehension gave none; and the sizes that the
// array operations check are proved equal, so they fail nowhere. Sizes
// are size variables, constants, lengths, and the sizes of arrays made
// by builds and by calls of defs with a declared result type (SPEC §2:
// a def's declared result sizes are checked, so qmat(v, d): [d][d]f64
// has d rows of d elements wherever it returns).

import (
	"github.com/nabla-lang/nabla/ir"
)

// Vectorize rewrites the element-wise comprehensions of every def of p
// that has no @strategy of its own (whose user asked for exactly that
// strategy) into array operations. With trace, each application is a
// step of the returned trace, named vectorize.RULE. The defs it does
// not change are shared with p.
func Vectorize(p *ir.Program, trace bool) (*ir.Program, *Trace, error) {
	var tr *Trace
	if trace {
		tr = &Trace{}
	}
	e := &env{prog: p, done: map[string]*ir.Def{}, maxSteps: DefaultMaxSteps}
	out := ir.NewProgram(nil)
	out.Rules, out.Strats = p.Rules, p.Strats
	for _, d := range p.Defs {
		nd, err := vectorizeDef(e, d, tr)
		if err != nil {
			return nil, tr, err
		}
		out.Add(nd)
	}
	return out, tr, nil
}

// vectorizeDef returns d with its comprehensions vectorized, or d itself
// when none is.
func vectorizeDef(e *env, d *ir.Def, tr *Trace) (*ir.Def, error) {
	if d.Body == nil || d.Attr("strategy") != nil {
		return d, nil
	}
	c := newCtx(e, d.Name, d.Body, tr, 0)
	c.pos = d.P
	r := newSizeWalk(c, "vectorize")
	r.callShape = func(call *ir.Call) []ir.Dim { return callShape(e, r, call) }
	// The def's size variables hold the sizes their names say.
	for _, sv := range d.SizeVars {
		if dim, ok := sizeVarDim(d, sv); ok {
			r.lenOf[sv.Var] = dim
		}
	}
	v := &vectorizer{sizeWalk: r}
	r.onBuild = v.rewriteBuild
	body := r.rw(d.Body)
	if r.err != nil {
		return nil, r.err
	}
	if r.n == 0 {
		return d, nil
	}
	nd := *d
	nd.Body = body
	if err := ir.ValidateDef(&nd); err != nil {
		return nil, err
	}
	return &nd, nil
}

// sizeVarDim is the dimension a size variable of d stands for in d's
// parameter types.
func sizeVarDim(d *ir.Def, sv ir.SizeVar) (ir.Dim, bool) {
	if sv.Param < 0 {
		return ir.SymDim(sv.Var.Name), true
	}
	t := ir.PathType(d.Params[sv.Param].T, sv.Path)
	ds := ir.Dims(t)
	if t == nil || sv.Axis >= len(ds) || ds[sv.Axis].Sym == "" {
		return ir.Unknown, false
	}
	return ds[sv.Axis], true
}

// callShape is the shape of the value of a call of a def with a declared
// result type: its dimensions with the callee's size variables replaced
// by what the arguments give them (Unknown where they give nothing
// known).
func callShape(e *env, r *sizeWalk, call *ir.Call) []ir.Dim {
	g, ok := call.Fn.(*ir.Global)
	if !ok {
		return nil
	}
	d := e.current(g.Name)
	if d == nil || !d.HasParams || len(call.Args) != len(d.Params) {
		return nil
	}
	res := ir.Dims(d.Result)
	out := make([]ir.Dim, len(res))
	for k, rd := range res {
		out[k] = ir.Unknown
		if rd.Known() {
			out[k] = rd
			continue
		}
		// An i64 parameter used as a size (def qmat(v: [p]f64, d: i64):
		// [d][d]f64) gives the size its argument holds.
		for pi, p := range d.Params {
			if p.Name == rd.Sym && ir.Equal(p.T, ir.TI64) {
				out[k] = r.dimOf(call.Args[pi])
			}
		}
		// A size variable of a parameter's type gives that axis of the
		// argument.
		for _, sv := range d.SizeVars {
			if dim, ok := sizeVarDim(d, sv); ok && sv.Param >= 0 && len(sv.Path) == 0 && dim == rd {
				if s := r.shapeOf(call.Args[sv.Param]); sv.Axis < len(s) {
					out[k] = s[sv.Axis]
				}
			}
		}
	}
	return out
}

// vectorizer holds the rules that rewrite a build, with the size facts
// of the sizeWalk that walks the def's body (its onBuild).
type vectorizer struct {
	*sizeWalk
}

// rewriteBuild is the walk's onBuild: the first of the rules that
// rewrites b.
func (v *vectorizer) rewriteBuild(b *ir.PrimCall) (ir.Expr, string, bool) {
	for _, rule := range []struct {
		name string
		fn   func(b *ir.PrimCall) (ir.Expr, bool)
	}{{"vectorize.build_map", v.buildMap}, {"vectorize.build_matvec", v.buildMatvec}} {
		if y, ok := rule.fn(b); ok {
			return y, rule.name, true
		}
	}
	return nil, "", false
}

// f64Build returns, for build(n, fn(i) => body) making a vector of f64
// of a statically known length, the lambda and that length.
func (v *vectorizer) f64Build(b *ir.PrimCall) (*ir.Lambda, ir.Dim, bool) {
	lam, ok := lastLambda(b, ir.PrimBuild, 1)
	if !ok || len(b.Args) != 2 || ir.Rank(b.T) != 1 {
		return nil, ir.Unknown, false
	}
	// lift asks at each node whether its subterm mentions the body's
	// variables: quadratic in a deep body, so large bodies are left.
	if v.c.facts.Size(lam.Body) > maxLiftSize {
		return nil, ir.Unknown, false
	}
	if k, _ := ir.Leaf(b.T); k != ir.F64 {
		return nil, ir.Unknown, false
	}
	// The count is dropped by the rewrite: it must not be able to fail.
	n := v.dimOf(b.Args[0])
	if !known(n) || !v.safe(b.Args[0]) {
		return nil, ir.Unknown, false
	}
	return lam, n, true
}

// maxLiftSize is the largest comprehension body (in nodes) Vectorize
// looks at; element-wise bodies written by hand are a few dozen.
const maxLiftSize = 2000

// bound is the set of variables bound in lam: its parameters and the
// lets, lambdas and loops inside its body.
func bound(lam *ir.Lambda) map[*ir.Var]bool {
	inner := ir.Binders(lam.Body)
	for _, p := range lam.Params {
		inner[p] = true
	}
	return inner
}

// buildMap is the rule build_map (see the file comment).
func (v *vectorizer) buildMap(b *ir.PrimCall) (ir.Expr, bool) {
	lam, n, ok := v.f64Build(b)
	if !ok {
		return nil, false
	}
	l := &lifter{v: v, i: lam.Params[0], n: n, inner: bound(lam), lets: map[*ir.Var]*ir.Var{}}
	y, isArray, ok := l.lift(lam.Body)
	if !ok || !isArray || !ir.Equal(y.Type(), b.T) {
		return nil, false
	}
	return y, true
}

// lifter turns the body of a build over i < n into the array of its
// values.
type lifter struct {
	v     *vectorizer
	i     *ir.Var
	n     ir.Dim
	inner map[*ir.Var]bool    // bound in the body (i included)
	lets  map[*ir.Var]*ir.Var // scalar lets of the body => their arrays
}

// lift returns e as an array over i (isArray) or as a scalar that does
// not depend on i and is the same for every i; ok is false when e is not
// element-wise f64 arithmetic of rows indexed by i.
func (l *lifter) lift(e ir.Expr) (out ir.Expr, isArray, ok bool) {
	if k, _ := ir.Leaf(e.Type()); ir.Rank(e.Type()) != 0 || k != ir.F64 {
		return nil, false, false
	}
	if !ir.Mentions(e, l.inner) {
		// The same for every i: computed once, which must not fail.
		return e, false, l.v.safe(e)
	}
	switch x := e.(type) {
	case *ir.Var:
		if a, ok := l.lets[x]; ok {
			return a, true, true
		}
	case *ir.PrimCall:
		if x.Op == ir.PrimIndex && len(x.Args) == 2 && x.Args[1] == l.i {
			a := x.Args[0]
			if ir.Mentions(a, l.inner) || !l.v.safeArray(a) {
				return nil, false, false
			}
			if s := l.v.shapeOf(a); len(s) != 1 || !s[0].SameStatically(l.n) {
				return nil, false, false
			}
			return a, true, true
		}
		if !x.Op.Elementwise || x.Op == ir.PrimIndex {
			return nil, false, false
		}
		args := make([]ir.Expr, len(x.Args))
		anyArray := false
		for k, a := range x.Args {
			y, arr, ok := l.lift(a)
			if !ok {
				return nil, false, false
			}
			args[k], anyArray = y, anyArray || arr
		}
		if !anyArray || !totalOnF64(x) {
			return nil, false, false
		}
		if a, ok := args[0].(*ir.Var); ok && x.Op == ir.PrimMul && len(args) == 2 && args[1] == ir.Expr(a) {
			// a * a as a ^ 2, as the array form of the same program is
			// written: reverse mode then makes one product for its
			// cotangent (2 * a * c) instead of adding two (a * c + a * c,
			// the same bits), and simplify's square turns a ^ 2 back into
			// a * a after AD.
			y, err := ir.PrimPow.Call(x.P, x.Aux, a, &ir.Const{Val: 2.0, P: x.P})
			if err != nil {
				return nil, false, false
			}
			return y, true, true
		}
		y, err := x.Op.Call(x.P, x.Aux, args...)
		if err != nil {
			return nil, false, false
		}
		return y, true, true
	case *ir.Let:
		val, arr, ok := l.lift(x.Value)
		if !ok || !arr {
			return nil, false, false
		}
		a := ir.NewVar(x.Var.Name, val.Type(), x.Var.P)
		l.lets[x.Var] = a
		body, arr, ok := l.lift(x.Body)
		if !ok || !arr {
			return nil, false, false
		}
		return &ir.Let{Var: a, Value: val, Body: body, P: x.P}, true, true
	}
	return nil, false, false
}

// totalOnF64 reports whether the scalar primitive call x of f64
// operands cannot fail (i64 division can; f64 arithmetic cannot).
func totalOnF64(x *ir.PrimCall) bool {
	args := make([]ir.Expr, len(x.Args))
	for k, a := range x.Args {
		if kind, _ := ir.Leaf(a.Type()); kind != ir.F64 || ir.Rank(a.Type()) != 0 {
			return false
		}
		args[k] = ir.NewVar("_", ir.TF64, x.P)
	}
	return ir.Total(&ir.PrimCall{Op: x.Op, Args: args, Aux: x.Aux, T: x.T, P: x.P})
}

// safeArray is safe extended to element-wise f64 operations on arrays
// whose sizes are statically equal (they cannot fail on shapes either).
func (v *vectorizer) safeArray(e ir.Expr) bool {
	if v.safe(e) {
		return true
	}
	x, ok := e.(*ir.PrimCall)
	if !ok || !x.Op.Elementwise || x.Op == ir.PrimIndex {
		return false
	}
	var shape []ir.Dim
	args := make([]ir.Expr, len(x.Args))
	for k, a := range x.Args {
		if kind, _ := ir.Leaf(a.Type()); kind != ir.F64 || !v.safeArray(a) {
			return false
		}
		args[k] = ir.NewVar("_", ir.TF64, x.P)
		if ir.Rank(a.Type()) == 0 {
			continue
		}
		s := v.shapeOf(a)
		for _, d := range s {
			if !known(d) {
				return false
			}
		}
		if shape == nil {
			shape = s
			continue
		}
		if len(s) != len(shape) {
			return false
		}
		for k := range s {
			if !s[k].SameStatically(shape[k]) {
				return false
			}
		}
	}
	scalar, err := x.Op.Call(x.P, x.Aux, args...)
	return err == nil && ir.Total(scalar)
}

// buildMatvec is the rule build_matvec (see the file comment).
func (v *vectorizer) buildMatvec(b *ir.PrimCall) (ir.Expr, bool) {
	lam, n, ok := v.f64Build(b)
	if !ok {
		return nil, false
	}
	r := lam.Params[0]
	var x, y ir.Expr
	switch body := lam.Body.(type) {
	case *ir.PrimCall:
		switch {
		case body.Op == ir.PrimDot && len(body.Args) == 2:
			x, y = body.Args[0], body.Args[1]
		case body.Op == ir.PrimSum && len(body.Args) == 1:
			m, ok := body.Args[0].(*ir.PrimCall)
			if !ok || m.Op != ir.PrimMul || len(m.Args) != 2 {
				return nil, false
			}
			x, y = m.Args[0], m.Args[1]
		}
	}
	if x == nil {
		return nil, false
	}
	// One operand is row r of A, the other v, the same for every r.
	rowOf := func(e ir.Expr) ir.Expr {
		ix, ok := e.(*ir.PrimCall)
		if ok && ix.Op == ir.PrimIndex && len(ix.Args) == 2 && ix.Args[1] == r {
			return ix.Args[0]
		}
		return nil
	}
	a, vec := rowOf(x), y
	if a == nil {
		a, vec = rowOf(y), x
	}
	inner := bound(lam)
	if a == nil || ir.Mentions(a, inner) || ir.Mentions(vec, inner) {
		return nil, false
	}
	if ir.Rank(a.Type()) != 2 || ir.Rank(vec.Type()) != 1 {
		return nil, false
	}
	if ka, _ := ir.Leaf(a.Type()); ka != ir.F64 {
		return nil, false
	}
	if kv, _ := ir.Leaf(vec.Type()); kv != ir.F64 {
		return nil, false
	}
	sa, sv := v.shapeOf(a), v.shapeOf(vec)
	if len(sa) != 2 || len(sv) != 1 || !sa[0].SameStatically(n) || !known(sa[1]) || !sa[1].SameStatically(sv[0]) {
		return nil, false
	}
	if !v.safeArray(a) || !v.safeArray(vec) {
		return nil, false
	}
	mv, err := ir.PrimMatmul.Call(b.P, nil, a, vec)
	if err != nil || !ir.Equal(mv.T, b.T) {
		return nil, false
	}
	return mv, true
}
