package rewrite

import (
	"context"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// The built-in passes (SPEC §7). beta, inline, constfold, simplify, fuse
// and lower rewrite at the root of the term they are given and fail when
// they do not apply there, like rules: use them under a traversal
// (normalize(simplify), topdown(try(beta))). cse and dce work on the
// whole term and fail when they change nothing.
//
// simplify, fuse and lower combine rewrites written in Go (those that
// need types, totality or the in-place analysis) with the rules of the
// same name in builtin.rules.

// goRule is a rewrite written in Go. It returns the rewritten term and
// true, or false when it does not apply.
type goRule struct {
	name string
	// flowSafe rewrites may apply to a term whose value flows into an
	// in-place accumulator: their result holds the same arrays as the
	// original, never one that the original would have computed afresh.
	flowSafe bool
	fn       func(c *ctx, e ir.Expr) (ir.Expr, bool)
}

// passS is a root-level pass: Go rewrites, then rules, the first that
// applies.
type passS struct {
	name    string
	gos     []goRule
	rules   map[head][]*ruleS
	byPrim  map[*ir.Prim][]*ruleS // the rules of rules with a primitive head, by primitive
	anyHead []*ruleS
}

func (p *passS) String() string { return p.name }

func (p *passS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	for _, g := range p.gos {
		if c.protected && !g.flowSafe {
			continue
		}
		if out, ok := g.fn(c, e); ok {
			name := p.name
			if g.name != "" {
				name += "." + g.name
			}
			return out, true, c.fire(name, e, out)
		}
	}
	if c.protected {
		return e, false, nil
	}
	// Most terms are primitive calls: find their rules by the primitive
	// (a pointer) rather than by hashing a head with a string in it.
	var rules []*ruleS
	if pc, ok := e.(*ir.PrimCall); ok {
		rules = p.byPrim[pc.Op]
	} else if len(p.rules) > 0 {
		rules = p.rules[termHead(e)]
	}
	for _, list := range [][]*ruleS{rules, p.anyHead} {
		for _, r := range list {
			if out, ok := r.rewrite(c, e); ok {
				return out, true, c.fire(r.name, e, out)
			}
		}
	}
	return e, false, nil
}

func (p *passS) addRule(r *ruleS) {
	if r.head.kind == "" {
		p.anyHead = append(p.anyHead, r)
		return
	}
	if p.rules == nil {
		p.rules = map[head][]*ruleS{}
		p.byPrim = map[*ir.Prim][]*ruleS{}
	}
	p.rules[r.head] = append(p.rules[r.head], r)
	if r.head.op != nil {
		p.byPrim[r.head.op] = p.rules[r.head]
	}
}

// wholeS is a pass over a whole term.
type wholeS struct {
	name string
	run  func(c *ctx, e ir.Expr) (ir.Expr, bool, error)
}

func (w *wholeS) String() string { return w.name }
func (w *wholeS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	out, ok, err := w.run(c, e)
	if ok && err == nil {
		c.uses.Replace(e, out, c.lazy)
	}
	return out, ok, err
}

// ---- beta ----

var betaRules = []goRule{{flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
	call, ok := e.(*ir.Call)
	if !ok {
		return nil, false
	}
	lam, ok := call.Fn.(*ir.Lambda)
	if !ok || len(lam.Params) != len(call.Args) {
		return nil, false
	}
	return betaReduce(lam, call.Args, call.P), true
}}}

// betaReduce applies lam to args: an atom or a lambda is substituted for
// its parameter (a lambda is copied for each use after the first, so no
// binder appears twice), any other argument is bound by a let, in order,
// so each is still evaluated once and before the body. The lambda's
// parameters become the lets' variables.
func betaReduce(lam *ir.Lambda, args []ir.Expr, pos ir.Pos) ir.Expr {
	return ir.Beta(lam.Params, lam.Body, args, pos, func(_ *ir.Var, a ir.Expr) bool { return isAtom(a) || isLambda(a) })
}

func isLambda(e ir.Expr) bool { _, ok := e.(*ir.Lambda); return ok }

// betaAll reduces every call of a lambda in e, including those that
// reductions create.
func betaAll(e ir.Expr) ir.Expr {
	out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return betaAll(k), nil })
	if call, ok := out.(*ir.Call); ok {
		if lam, ok := call.Fn.(*ir.Lambda); ok && len(lam.Params) == len(call.Args) {
			return betaAll(betaReduce(lam, call.Args, call.P))
		}
	}
	return out
}

// ---- inline ----

// inlineSize is the largest body (in nodes) inlined without @inline.
const inlineSize = 40

var inlineRules = []goRule{{flowSafe: false, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
	call, ok := e.(*ir.Call)
	if !ok {
		return nil, false
	}
	g, ok := call.Fn.(*ir.Global)
	if !ok || c.env == nil {
		return nil, false
	}
	d := c.env.current(g.Name)
	if d == nil || d.Name == c.def || d.Attr("noinline") != nil || d.Body == nil {
		return nil, false
	}
	forced := d.Attr("inline") != nil
	var lam *ir.Lambda
	var src ir.Expr // the body to be copied, for the facts about it
	switch {
	case d.HasParams:
		// A def that checks its parameters' sizes on entry keeps its call:
		// inlining would lose the check.
		for _, sv := range d.SizeVars {
			if len(sv.Checks) > 0 {
				return nil, false
			}
		}
		if !forced && c.facts.Size(d.Body) > inlineSize {
			return nil, false
		}
		src = d.Body
		lam = ir.Copy(&ir.Lambda{Params: d.Params, Body: d.BodyWithSizes(), P: d.P}).(*ir.Lambda)
	default:
		l, ok := d.Body.(*ir.Lambda)
		if !ok || !forced && c.facts.Size(l) > inlineSize {
			return nil, false
		}
		src = l.Body
		lam = ir.Copy(l).(*ir.Lambda)
	}
	// The facts are asked of the callee's own body, never of the copy,
	// whose types eraseSizes is about to change.
	if len(lam.Params) != len(call.Args) || c.facts.HasADOperator(src) {
		// A template's AD operators on its function parameters are
		// expanded where the AD pass inlines it, never after.
		return nil, false
	}
	eraseSizes(lam)
	// A callee not yet rewritten (ApplyDef) may hold checkpointing points:
	// the caller's policy decides them.
	policy := c.policy
	if policy == nil {
		policy = rematDefault
	}
	body, err := policy.resolve(c, lam.Body)
	if err != nil {
		return nil, false
	}
	lam.Body = body
	if !c.inplace && c.facts.HasInPlace(src) {
		// The def gets in-place accumulators: track them from here on.
		// They are all inside the inlined body (a def never updates its
		// parameters in place), where fire finds them.
		c.trackInPlace()
	}
	if ir.IsLibraryPos(d.P) {
		ir.GuardsAt(lam.Body, call.P)
	}
	out := betaReduce(lam, call.Args, call.P)
	if !ir.Equal(out.Type(), call.T) {
		return nil, false
	}
	return out, true
}}}

// eraseSizes replaces the size variables in the types of a fresh copy of
// a callee by unknown sizes: in the caller the same names may mean other
// sizes.
func eraseSizes(e ir.Expr) {
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *ir.PrimCall:
			x.T = eraseType(x.T)
			switch a := x.Aux.(type) {
			case ir.Dim:
				x.Aux = eraseDim(a)
			case [2]ir.Dim:
				x.Aux = [2]ir.Dim{eraseDim(a[0]), eraseDim(a[1])}
			}
		case *ir.Call:
			x.T = eraseType(x.T)
		}
	}, func(v *ir.Var, bind bool) {
		if bind {
			v.T = eraseType(v.T)
		}
	})
}

func eraseDim(d ir.Dim) ir.Dim {
	if d.Sym != "" {
		return ir.Unknown
	}
	return d
}

func eraseType(t ir.Type) ir.Type {
	switch t := t.(type) {
	case *ir.Array:
		return ir.ArrayOf(eraseDim(t.Dim), eraseType(t.Elem))
	case *ir.Tuple:
		elems := make([]ir.Type, len(t.Elems))
		for i, e := range t.Elems {
			elems[i] = eraseType(e)
		}
		return ir.TupleOf(elems...)
	case *ir.Func:
		ps := make([]ir.Type, len(t.Params))
		for i, p := range t.Params {
			ps[i] = eraseType(p)
		}
		return &ir.Func{Params: ps, Result: eraseType(t.Result)}
	}
	return t
}

// ---- constfold ----

var constfoldRules = []goRule{{flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
	pc, ok := e.(*ir.PrimCall)
	if !ok {
		return nil, false
	}
	switch pc.Op {
	case ir.PrimDim, ir.PrimLen:
		axis, _ := pc.Aux.(int)
		ds := ir.Dims(pc.Args[0].Type())
		if axis < len(ds) && ds[axis].Known() && c.facts.Total(pc.Args[0]) {
			return ir.I64Const(ds[axis].N, pc.P), true
		}
		return nil, false
	}
	if !pc.Op.Elementwise || pc.Op.Eval == nil {
		return nil, false
	}
	vals := make([]runtime.Value, len(pc.Args))
	types := make([]ir.Type, len(pc.Args))
	for i, a := range pc.Args {
		k, ok := a.(*ir.Const)
		if !ok {
			return nil, false
		}
		types[i] = k.Type()
		switch v := k.Val.(type) {
		case float64:
			vals[i] = runtime.F64(v)
		case int64:
			vals[i] = runtime.I64(v)
		case bool:
			vals[i] = runtime.Bool(v)
		}
	}
	v, err := evalPrim(pc, types, vals)
	if err != nil {
		// An error (i64 division by zero) is left for run time, where it
		// is reported with its position.
		return nil, false
	}
	switch ir.MustScalar(pc.T) {
	case ir.F64:
		return ir.F64Const(v.F, pc.P), true
	case ir.I64:
		return ir.I64Const(v.I, pc.P), true
	}
	return ir.BoolConst(v.AsBool(), pc.P), true
}}}

// evalPrim evaluates a primitive on scalar constants with its own
// evaluator, so folding computes exactly what the program would.
func evalPrim(pc *ir.PrimCall, types []ir.Type, vals []runtime.Value) (v runtime.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("constfold: %v", r)
		}
	}()
	impl, err := pc.Op.Eval(&ir.Site{Prim: pc.Op, Args: types, Result: pc.T, Aux: pc.Aux})
	if err != nil {
		return v, err
	}
	return impl(runtime.NewMachine(context.Background(), runtime.Limits{}), vals)
}

// ---- simplify ----

// simplifyRules are the algebraic and structural simplifications that
// need more than a pattern. See doc.go for what is deliberately left out
// (x * 0.0).
var simplifyRules = append(letRules[:len(letRules):len(letRules)], []goRule{
	{name: "proj_tuple", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		p, ok := e.(*ir.Proj)
		if !ok {
			return nil, false
		}
		t, ok := p.X.(*ir.MakeTuple)
		if !ok || p.Index >= len(t.Elems) {
			return nil, false
		}
		for i, x := range t.Elems {
			if i != p.Index && !c.facts.Total(x) {
				return nil, false
			}
		}
		return t.Elems[p.Index], true
	}},
	{name: "proj_let", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		p, ok := e.(*ir.Proj)
		if !ok {
			return nil, false
		}
		l, ok := p.X.(*ir.Let)
		if !ok {
			return nil, false
		}
		return &ir.Let{Var: l.Var, Value: l.Value, Body: &ir.Proj{X: l.Body, Index: p.Index, P: p.P}, P: l.P}, true
	}},
	{name: "if_const", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		i, ok := e.(*ir.If)
		if !ok {
			return nil, false
		}
		k, ok := i.Cond.(*ir.Const)
		if !ok {
			return nil, false
		}
		if k.Val.(bool) {
			return i.Then, true
		}
		return i.Else, true
	}},
	{name: "if_same", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		i, ok := e.(*ir.If)
		if !ok || !c.facts.Total(i.Cond) || !ir.AlphaEqual(i.Then, i.Else) {
			return nil, false
		}
		return i.Then, true
	}},
	{name: "zeros_like_scalar", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimZerosLike || !c.facts.Total(pc.Args[0]) {
			return nil, false
		}
		s, ok := pc.T.(ir.Scalar)
		if !ok {
			return nil, false
		}
		switch s.Kind {
		case ir.F64:
			return ir.F64Const(0, pc.P), true
		case ir.I64:
			return ir.I64Const(0, pc.P), true
		}
		return ir.BoolConst(false, pc.P), true
	}},
	{name: "add_zeros", fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimAdd && pc.Op != ir.PrimSub {
			return nil, false
		}
		for i := range 2 {
			if pc.Op == ir.PrimSub && i == 0 {
				continue // 0 - x is not x
			}
			z, x := pc.Args[i], pc.Args[1-i]
			if isArrayZero(z) && c.facts.Total(z) && ir.StaticallySameShape(x.Type(), pc.T) && ir.StaticallySameShape(z.Type(), pc.T) {
				return x, true
			}
		}
		return nil, false
	}},
	// zeros_like(x * y) => zeros_like(x): only the shape matters.
	{name: "zeros_like_shape", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimZerosLike || !c.facts.Total(pc.Args[0]) {
			return nil, false
		}
		inner, ok := pc.Args[0].(*ir.PrimCall)
		if !ok || !inner.Op.Elementwise || !ir.IsF64Tensor(inner.T) {
			return nil, false
		}
		for _, a := range inner.Args {
			if isAtom(a) && ir.Identical(a.Type(), inner.T) && ir.StaticallySameShape(a.Type(), inner.T) {
				return &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{a}, T: a.Type(), P: pc.P}, true
			}
		}
		return nil, false
	}},
	// let c = acc_add(zeros_like(e), s) in body, with s a scalar: c is s
	// everywhere, so where c is an operand of arithmetic on arrays of its
	// shape, s broadcast does the same without the array.
	{name: "fill_scalar", fn: fillScalar},
	// acc_add(zeros_like(a), b) => b: adding to a fresh zero copies b. (Not
	// where the result will be overwritten: then the copy is needed; nor
	// where b reads an array that will be, as reverse mode's copy of a
	// row of an accumulator it then clears: b would read the cleared row.)
	{name: "acc_fresh", fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimAccAdd || !isFreshZero(c, pc.Args[0]) || !ir.StaticallySameShape(pc.Args[0].Type(), pc.Args[1].Type()) || ir.Mentions(pc.Args[1], c.mutable) {
			return nil, false
		}
		return pc.Args[1], true
	}},
	{name: "acc_zero", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimAccAdd || !isNumber(pc.Args[1], 0) || !c.facts.Total(pc.Args[1]) {
			return nil, false
		}
		return pc.Args[0], true
	}},
	{name: "mul_zero_int", fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimMul || !ir.Identical(pc.T, ir.TI64) {
			return nil, false
		}
		for i := range 2 {
			if k, ok := pc.Args[i].(*ir.Const); ok && k.Val == int64(0) && c.facts.Total(pc.Args[1-i]) {
				return ir.I64Const(0, pc.P), true
			}
		}
		return nil, false
	}},
}...)

// fillScalar rewrites the uses of a let-bound constant array.
func fillScalar(c *ctx, e ir.Expr) (ir.Expr, bool) {
	l, ok := e.(*ir.Let)
	if !ok || c.mutable[l.Var] {
		return nil, false
	}
	acc, ok := l.Value.(*ir.PrimCall)
	if !ok || acc.Op != ir.PrimAccAdd || !ir.Identical(acc.Args[1].Type(), ir.TF64) || !isAtom(acc.Args[1]) {
		return nil, false
	}
	z, ok := acc.Args[0].(*ir.PrimCall)
	if !ok || z.Op != ir.PrimZerosLike || !ir.StaticallySameShape(z.T, l.Var.T) {
		return nil, false
	}
	s := acc.Args[1]
	shape := l.Var.T
	changed := false
	// n counts the uses of l.Var still ahead: the walk stops after the
	// last one instead of going through the rest of the let chain.
	n, _ := c.varUses(l)
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		if n <= 0 {
			return e
		}
		if v, ok := e.(*ir.Var); ok {
			if v == l.Var {
				n--
			}
			return e
		}
		if pc, ok := e.(*ir.PrimCall); ok {
			replaceable := pc.Op == ir.PrimAdd || pc.Op == ir.PrimSub || pc.Op == ir.PrimMul || pc.Op == ir.PrimDiv ||
				pc.Op == ir.PrimAccAdd
			if replaceable && ir.StaticallySameShape(pc.T, shape) {
				var args []ir.Expr
				replaced := 0
				for i, a := range pc.Args {
					if v, ok := a.(*ir.Var); ok && v == l.Var && !(pc.Op == ir.PrimAccAdd && i == 0) {
						if args == nil {
							args = append([]ir.Expr(nil), pc.Args...)
						}
						args[i] = s
						replaced++
					}
				}
				if args != nil {
					before := n
					for i, a := range args {
						args[i] = rec(a)
					}
					// Another operand must keep the shape.
					if out, err := pc.Op.Call(pc.P, pc.Aux, args...); err == nil && ir.Identical(out.T, pc.T) {
						changed = true
						n -= replaced
						return out
					}
					n = before
				}
			}
		}
		out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return rec(k), nil })
		return out
	}
	body := rec(l.Body)
	if !changed {
		return nil, false
	}
	return &ir.Let{Var: l.Var, Value: l.Value, Body: body, P: l.P}, true
}

// isFreshZero reports whether e makes a fresh zero array from a value
// that cannot fail.
func isFreshZero(c *ctx, e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && pc.Op == ir.PrimZerosLike && c.facts.Total(pc.Args[0])
}

// isArrayZero reports whether e is a zero array made by zeros_like or
// zeros.
func isArrayZero(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && (pc.Op == ir.PrimZerosLike || pc.Op == ir.PrimZeros) && ir.Rank(pc.T) > 0
}

// The let simplifications.
var letRules = []goRule{
	// let v = (let w = a in b) in body  =>  let w = a in let v = b in body
	{name: "let_let", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok {
			return nil, false
		}
		inner, ok := l.Value.(*ir.Let)
		if !ok {
			return nil, false
		}
		return &ir.Let{Var: inner.Var, Value: inner.Value, Body: &ir.Let{Var: l.Var, Value: inner.Body, Body: l.Body, P: l.P}, P: inner.P}, true
	}},
	// let v = e in v  =>  e
	{name: "let_var", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok {
			return nil, false
		}
		if v, ok := l.Body.(*ir.Var); ok && v == l.Var {
			return l.Value, true
		}
		return nil, false
	}},
	// An unused let whose value cannot fail goes.
	{name: "let_unused", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok || !c.facts.Droppable(l.Value) {
			return nil, false
		}
		if n, _ := c.varUses(l); n > 0 {
			return nil, false
		}
		return l.Body, true
	}},
	// Copy propagation: let v = atom in body  =>  body[v := atom]
	{name: "copy_prop", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok || !isAtom(l.Value) {
			return nil, false
		}
		n, _ := c.varUses(l)
		return ir.ReplaceVarN(l.Body, l.Var, n, func() ir.Expr { return l.Value }), true
	}},
	// let p = (a, b) in ... p.1 ...  =>  let p = (a, b) in ... b ...
	{name: "let_tuple", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok {
			return nil, false
		}
		t, ok := l.Value.(*ir.MakeTuple)
		if !ok || !allAtoms(t.Elems) || c.uses.ProjUses(l.Var) == 0 {
			return nil, false
		}
		n, _ := c.varUses(l)
		changed := false
		body := replaceProj(l.Body, l.Var, n, func(i int) ir.Expr {
			changed = true
			return t.Elems[i]
		})
		if !changed {
			return nil, false
		}
		return &ir.Let{Var: l.Var, Value: l.Value, Body: body, P: l.P}, true
	}},
	// A value used once, not under a lambda, a loop or a branch, moves to
	// its use: it is evaluated once either way. (A lambda may move
	// anywhere: making a closure costs nothing and cannot fail.) Values
	// that update or read in-place accumulators stay where they are, but
	// for a fresh zero that starts one.
	//
	// Only to a use near the let (see inlineReach): moving a value to a
	// use far down a let chain, or deep in an expression, rebuilds the
	// whole way there, and normalize then revisits every rebuilt node.
	// Inlining each of n lets into a use that far away costs O(n^2) in
	// all: a chain of n dependent lets, or the running sums in which
	// reverse mode accumulates a gradient, which bottom-up inlining
	// grows into one expression from the inside out. A value left
	// further away stays bound: it is evaluated once either way.
	{name: "let_inline", flowSafe: true, fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		l, ok := e.(*ir.Let)
		if !ok {
			return nil, false
		}
		// The use count first: it is O(1), the other tests walk the value.
		n, lazy := c.varUses(l)
		if n != 1 || lazy && !isLambda(l.Value) {
			return nil, false
		}
		if c.facts.HasInPlace(l.Value) || ir.Mentions(l.Value, c.mutable) {
			return nil, false
		}
		if c.mutable[l.Var] && !isFreshZero(c, l.Value) {
			// A fresh zero may move to the accumulator it starts; any
			// other value that will be overwritten stays put.
			return nil, false
		}
		if c.far[l.Var] {
			return nil, false
		}
		out, ok := ir.ReplaceUseNear(l.Body, l.Var, l.Value, inlineReach, inlineDepth)
		if !ok {
			// The let is asked again whenever normalize revisits it, after
			// any rewrite in its value or body; a use found out of reach
			// once is not looked for again, so each let pays for one
			// fruitless search at most.
			c.far[l.Var] = true
			return nil, false
		}
		return out, true
	}},
}

// How near its use a let's value must be for let_inline to move it there
// (ir.ReplaceUseNear): among the first inlineReach nodes of the let's body
// in evaluation order, none nested deeper than inlineDepth (not counting
// lets). In every program of the tests, the conformance suite and the
// benchmarks, inlined uses lie within 1400 nodes, and no node before
// them is deeper than 35 levels.
const (
	inlineReach = 8192
	inlineDepth = 64
)

func allAtoms(es []ir.Expr) bool {
	for _, e := range es {
		if !isAtom(e) {
			return false
		}
	}
	return true
}

// replaceProj rebuilds e, in which v has n uses, with each projection
// v.i replaced by f(i). It stops after the last use.
func replaceProj(e ir.Expr, v *ir.Var, n int, f func(i int) ir.Expr) ir.Expr {
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		if n <= 0 {
			return e
		}
		switch x := e.(type) {
		case *ir.Var:
			if x == v {
				n--
			}
			return e
		case *ir.Proj:
			if x, ok := x.X.(*ir.Var); ok && x == v {
				n--
				return f(e.(*ir.Proj).Index)
			}
		}
		return ir.Rebuild(e, rec)
	}
	return rec(e)
}

// ---- fuse ----

var fuseRules = []goRule{
	{name: "loop_to_build", fn: loopToBuild},
	{name: "loop_split_build", flowSafe: true, fn: loopSplitBuild},
	{name: "build_to_map", fn: buildToMap},
	// build(n, fn(i) => xs[i]) => xs, where n is xs's length.
	{name: "build_index", fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimBuild {
			return nil, false
		}
		lam, ok := pc.Args[1].(*ir.Lambda)
		if !ok || len(lam.Params) != 1 {
			return nil, false
		}
		ix, ok := lam.Body.(*ir.PrimCall)
		if !ok || ix.Op != ir.PrimIndex || ix.Args[1] != lam.Params[0] {
			return nil, false
		}
		xs := ix.Args[0]
		if ir.Mentions(xs, map[*ir.Var]bool{lam.Params[0]: true}) || !c.facts.Total(pc.Args[0]) {
			return nil, false
		}
		if !isLengthOf(pc.Args[0], xs) && !ir.StaticallySameShape(pc.T, xs.Type()) {
			return nil, false
		}
		if !ir.Equal(pc.T, xs.Type()) {
			return nil, false
		}
		return xs, true
	}},
	// build(n, f)[j] => f(j) for constant 0 <= j < n, when f cannot fail.
	{name: "index_build", fn: func(c *ctx, e ir.Expr) (ir.Expr, bool) {
		pc, ok := e.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex {
			return nil, false
		}
		b, ok := pc.Args[0].(*ir.PrimCall)
		if !ok || b.Op != ir.PrimBuild {
			return nil, false
		}
		n, ok1 := b.Args[0].(*ir.Const)
		j, ok2 := pc.Args[1].(*ir.Const)
		lam, ok3 := b.Args[1].(*ir.Lambda)
		if !ok1 || !ok2 || !ok3 || !c.facts.Total(lam.Body) {
			return nil, false
		}
		if jv, nv := j.Val.(int64), n.Val.(int64); jv < 0 || jv >= nv {
			return nil, false
		}
		return betaReduce(lam, []ir.Expr{j}, pc.P), true
	}},
}

// loopToBuild turns the loop reverse mode makes for the cotangent of a
// map, which adds one element per iteration to a fresh zero,
//
//	loop rev = (zeros_like(y),) for i < len(y) do
//	  let g = rev.0 in ... in (acc_add_at(g, i, e),)
//
// into (build(len(y), fn(i) => ... in e),) when nothing else in the body
// reads the state: each element is written once, so it is e (0 + e), and
// build evaluates the elements in the same order.
func loopToBuild(c *ctx, e ir.Expr) (ir.Expr, bool) {
	l, ok := e.(*ir.Loop)
	if !ok || l.Index == nil || !c.facts.Total(l.Count) {
		return nil, false
	}
	init, tupled := l.Init, false
	if t, ok := init.(*ir.MakeTuple); ok && len(t.Elems) == 1 {
		init, tupled = t.Elems[0], true
	}
	z, ok := init.(*ir.PrimCall)
	if !ok || z.Op != ir.PrimZerosLike || !isFreshZero(c, z) || ir.Rank(z.T) == 0 || !countsRows(l.Count, z) {
		return nil, false
	}
	// Walk the body's let chain down to the final update.
	state := map[*ir.Var]bool{l.State: true}
	var lets []*ir.Let
	var last *ir.Let // let a = acc_add_at(...) in (a,)
	body := l.Body
	for {
		let, ok := body.(*ir.Let)
		if !ok {
			break
		}
		if p, ok := let.Value.(*ir.Proj); ok && tupled && p.Index == 0 && p.X == l.State {
			state[let.Var] = true
		} else if u, ok := let.Value.(*ir.PrimCall); ok && u.Op == ir.PrimAccAddAt {
			last = let
			body = let.Body
			break
		} else if ir.Mentions(let.Value, state) {
			return nil, false
		} else {
			lets = append(lets, let)
		}
		body = let.Body
	}
	if tupled {
		t, ok := body.(*ir.MakeTuple)
		if !ok || len(t.Elems) != 1 {
			return nil, false
		}
		body = t.Elems[0]
	}
	if last != nil {
		if v, ok := body.(*ir.Var); !ok || v != last.Var {
			return nil, false
		}
		body = last.Value
	}
	upd, ok := body.(*ir.PrimCall)
	if !ok || upd.Op != ir.PrimAccAddAt || upd.Args[1] != l.Index {
		return nil, false
	}
	if g, ok := upd.Args[0].(*ir.Var); !ok || !state[g] || ir.Mentions(upd.Args[2], state) {
		return nil, false
	}
	elem := upd.Args[2]
	for i := len(lets) - 1; i >= 0; i-- {
		elem = &ir.Let{Var: lets[i].Var, Value: lets[i].Value, Body: elem, P: lets[i].P}
	}
	d := ir.Dims(z.T)[0]
	lam := &ir.Lambda{Params: []*ir.Var{l.Index}, Body: elem, P: l.P}
	b, err := ir.PrimBuild.Call(l.P, d, l.Count, lam)
	if err != nil || !ir.Equal(b.T, z.T) {
		return nil, false
	}
	if tupled {
		return &ir.MakeTuple{Elems: []ir.Expr{b}, P: l.P}, true
	}
	return b, true
}

// buildToMap turns build(len(x), fn(i) => f(x[i], y[i])) into
// map(fn(a, b) => f(a, b), x, y) when i is used only to index arrays of
// the same static length that do not depend on it: map is applied to
// whole arrays at once by the interpreter.
func buildToMap(c *ctx, e ir.Expr) (ir.Expr, bool) {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimBuild {
		return nil, false
	}
	lam, ok := pc.Args[1].(*ir.Lambda)
	if !ok || len(lam.Params) != 1 {
		return nil, false
	}
	i := lam.Params[0]
	inner := bound(lam)
	var arrays []ir.Expr
	var params []*ir.Var
	ok = true
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		if !ok {
			return e
		}
		if ix, isIx := e.(*ir.PrimCall); isIx && ix.Op == ir.PrimIndex && ix.Args[1] == i {
			x := ix.Args[0]
			if ir.Mentions(x, inner) || !c.facts.Total(x) {
				ok = false
				return e
			}
			for k, a := range arrays {
				if ir.AlphaEqual(a, x) {
					return params[k]
				}
			}
			arrays = append(arrays, x)
			params = append(params, ir.NewVar("x", ix.T, ix.P))
			return params[len(params)-1]
		}
		if v, isVar := e.(*ir.Var); isVar && v == i {
			ok = false
			return e
		}
		out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return rec(k), nil })
		return out
	}
	body := rec(lam.Body)
	if !ok || len(arrays) == 0 {
		return nil, false
	}
	// Every array must have the build's length, statically.
	var n ir.Dim
	found := false
	for _, a := range arrays {
		if isLengthOf(pc.Args[0], a) {
			n, found = ir.Dims(a.Type())[0], true
		}
	}
	if !found || !n.Known() && n.Sym == "" {
		return nil, false
	}
	for _, a := range arrays {
		if !ir.Dims(a.Type())[0].SameStatically(n) {
			return nil, false
		}
	}
	m, err := ir.PrimMap.Call(pc.P, nil, append([]ir.Expr{&ir.Lambda{Params: params, Body: body, P: lam.P}}, arrays...)...)
	if err != nil || !ir.Equal(m.T, pc.T) {
		return nil, false
	}
	return m, true
}

// isLengthOf reports whether n is len(xs) or dim[0](xs).
// countsRows reports whether n, a loop's count, is the number of rows of
// z = zeros_like(x): len(x), or a constant equal to x's static length.
func countsRows(n ir.Expr, z *ir.PrimCall) bool {
	if isLengthOf(n, z.Args[0]) {
		return true
	}
	k, ok := n.(*ir.Const)
	if !ok {
		return false
	}
	v, ok := k.Val.(int64)
	d := ir.Dims(z.T)[0]
	return ok && d.Known() && d.N == v
}

// loopSplitBuild takes out of a loop of several states a state that
// loopToBuild would turn into a build: one that starts as a fresh zero
// with a row per iteration and gets e added to row i in iteration i, e
// reading no state. Reverse mode makes such loops for a comprehension
// whose body reads several active values (each gets a state), and the
// zero rows each state starts from cost as much as the additions:
//
//	loop rev = (zeros_like(y), s) for i < len(y) do
//	  let g = rev.0 in let h = rev.1 in ... in (acc_add_at(g, i, e), h')
//
// becomes (build(len(y), fn(i) => ... in e), (loop rev = (s,) ...).0).
// The lets e reads are copied into the build; one that the loop's other
// states read as well is copied only if it is a view or an atom, so that
// nothing is computed twice.
func loopSplitBuild(c *ctx, e ir.Expr) (ir.Expr, bool) {
	l, ok := e.(*ir.Loop)
	if !ok || l.Index == nil || !c.facts.Total(l.Count) {
		return nil, false
	}
	init, ok := l.Init.(*ir.MakeTuple)
	if !ok || len(init.Elems) < 2 {
		return nil, false
	}
	var lets []*ir.Let
	body := l.Body
	for {
		let, ok := body.(*ir.Let)
		if !ok {
			break
		}
		lets = append(lets, let)
		body = let.Body
	}
	final, ok := body.(*ir.MakeTuple)
	if !ok || len(final.Elems) != len(init.Elems) {
		return nil, false
	}
	// The state is read only through projections bound by lets.
	proj := map[*ir.Var]int{}
	for _, let := range lets {
		if p, ok := let.Value.(*ir.Proj); ok && p.X == l.State {
			proj[let.Var] = p.Index
		}
	}
	if n, _ := ir.VarUses(l.Body, l.State); n != len(proj) {
		return nil, false
	}
	// tainted: the lets that read the state.
	tainted := map[*ir.Var]bool{l.State: true}
	for _, let := range lets {
		if ir.Mentions(let.Value, tainted) {
			tainted[let.Var] = true
		}
	}
	for j, x := range init.Elems {
		z, ok := x.(*ir.PrimCall)
		if !ok || z.Op != ir.PrimZerosLike || !isFreshZero(c, z) || ir.Rank(z.T) == 0 || !countsRows(l.Count, z) {
			continue
		}
		if out, ok := splitState(l, lets, final, proj, tainted, j, z); ok {
			return out, true
		}
	}
	return nil, false
}

// splitState is loopSplitBuild for state j, if it qualifies.
func splitState(l *ir.Loop, lets []*ir.Let, final *ir.MakeTuple, proj map[*ir.Var]int, tainted map[*ir.Var]bool, j int, z *ir.PrimCall) (ir.Expr, bool) {
	a, ok := final.Elems[j].(*ir.Var)
	if !ok {
		return nil, false
	}
	var upd *ir.PrimCall
	var updLet *ir.Let
	for _, let := range lets {
		if let.Var == a {
			upd, _ = let.Value.(*ir.PrimCall)
			updLet = let
		}
	}
	if upd == nil || upd.Op != ir.PrimAccAddAt || upd.Args[1] != l.Index {
		return nil, false
	}
	g, ok := upd.Args[0].(*ir.Var)
	if !ok {
		return nil, false
	}
	if k, isProj := proj[g]; !isProj || k != j {
		return nil, false
	}
	if n, _ := ir.VarUses(l.Body, g); n != 1 {
		return nil, false
	}
	if n, _ := ir.VarUses(l.Body, a); n != 1 {
		return nil, false
	}
	for v, k := range proj {
		if k == j && v != g {
			return nil, false
		}
	}
	elem := upd.Args[2]
	if ir.Mentions(elem, tainted) {
		return nil, false
	}
	// The lets elem needs, in order.
	need := map[*ir.Var]bool{}
	for _, v := range ir.FreeVars(elem) {
		need[v] = true
	}
	var copied []*ir.Let
	for i := len(lets) - 1; i >= 0; i-- {
		if !need[lets[i].Var] {
			continue
		}
		copied = append(copied, lets[i])
		for _, v := range ir.FreeVars(lets[i].Value) {
			need[v] = true
		}
	}
	inCopy := map[*ir.Var]bool{}
	for _, let := range copied {
		inCopy[let.Var] = true
	}
	for _, let := range copied {
		if ir.IsAtom(let.Value) || isView(let.Value) {
			continue
		}
		// Computed: the loop must have no other reader of it.
		total, _ := ir.VarUses(l.Body, let.Var)
		inside, _ := ir.VarUses(elem, let.Var)
		for _, o := range copied {
			n, _ := ir.VarUses(o.Value, let.Var)
			inside += n
		}
		if total != inside {
			return nil, false
		}
	}
	be := elem
	for _, let := range copied { // innermost first
		be = &ir.Let{Var: let.Var, Value: let.Value, Body: be, P: let.P}
	}
	lam := ir.Copy(&ir.Lambda{Params: []*ir.Var{l.Index}, Body: be, P: l.P}).(*ir.Lambda)
	b, err := ir.PrimBuild.Call(l.P, ir.Dims(z.T)[0], ir.Copy(l.Count), lam)
	if err != nil || !ir.Equal(b.T, z.T) {
		return nil, false
	}
	// The loop without state j.
	var inits, outs []ir.Expr
	var types []ir.Type
	for k, x := range l.Init.(*ir.MakeTuple).Elems {
		if k != j {
			inits = append(inits, x)
			outs = append(outs, final.Elems[k])
			types = append(types, x.Type())
		}
	}
	st := ir.NewVar(l.State.Name, ir.TupleOf(types...), l.State.P)
	shift := func(k int) int {
		if k > j {
			return k - 1
		}
		return k
	}
	var nb ir.Expr = &ir.MakeTuple{Elems: outs, P: final.P}
	for i := len(lets) - 1; i >= 0; i-- {
		let := lets[i]
		if let == updLet || let.Var == g {
			continue
		}
		val := let.Value
		if k, ok := proj[let.Var]; ok {
			val = &ir.Proj{X: st, Index: shift(k), P: let.Value.Pos()}
		}
		nb = &ir.Let{Var: let.Var, Value: val, Body: nb, P: let.P}
	}
	rest := ir.NewVar("rest", st.T, l.P)
	loop := &ir.Loop{State: st, Init: &ir.MakeTuple{Elems: inits, P: l.Init.Pos()}, Index: l.Index, Count: l.Count, Body: nb, P: l.P}
	elems := make([]ir.Expr, len(final.Elems))
	bv := ir.NewVar("built", b.T, l.P)
	for k := range elems {
		if k == j {
			elems[k] = bv
		} else {
			elems[k] = &ir.Proj{X: rest, Index: shift(k), P: l.P}
		}
	}
	return &ir.Let{Var: bv, Value: b, Body: &ir.Let{Var: rest, Value: loop, Body: &ir.MakeTuple{Elems: elems, P: l.P}, P: l.P}, P: l.P}, true
}

// isView reports whether e reads part of a value without computing: a
// projection or an element x[i] (a row is a view).
func isView(e ir.Expr) bool {
	if _, ok := e.(*ir.Proj); ok {
		return true
	}
	pc, ok := e.(*ir.PrimCall)
	return ok && pc.Op == ir.PrimIndex
}

func isLengthOf(n, xs ir.Expr) bool {
	pc, ok := n.(*ir.PrimCall)
	if !ok || !(pc.Op == ir.PrimLen || pc.Op == ir.PrimDim && pc.Aux == 0) {
		return false
	}
	return ir.AlphaEqual(pc.Args[0], xs)
}

// ---- cse ----

// cse replaces a let's value, or any call, projection or tuple, that
// equals (up to renaming) the value of an enclosing let by that let's
// variable. Values involving in-place accumulators are never shared.
//
// It is one pass over the term, in time linear in its size: hashes come
// from an ir.Hasher (each subterm hashed once, from its children's
// hashes), whether a subterm mentions an accumulator is remembered the
// same way, and a let dropped for an equal one is substituted as the
// walk goes (sub) instead of by rewriting the rest of its body at once,
// which made long let chains quadratic.
func cse(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	type entry struct {
		val ir.Expr
		v   *ir.Var
	}
	table := map[uint64][]entry{}
	hs := ir.NewHasher()
	mentions := map[ir.Expr]bool{} // whether a subterm mentions a variable of c.mutable
	var mentionsMutable func(e ir.Expr) bool
	mentionsMutable = func(e ir.Expr) bool {
		if len(c.mutable) == 0 {
			return false
		}
		if v, ok := e.(*ir.Var); ok {
			return c.mutable[v]
		}
		m, ok := mentions[e]
		if !ok {
			for _, k := range ir.Children(e) {
				if m = mentionsMutable(k); m {
					break
				}
			}
			mentions[e] = m
		}
		return m
	}
	sharable := func(e ir.Expr) bool {
		if isAtom(e) || isLambda(e) || c.facts.HasInPlace(e) || mentionsMutable(e) {
			return false
		}
		if pc, ok := e.(*ir.PrimCall); ok && (pc.Op == ir.PrimZerosLike || pc.Op == ir.PrimPadLike) {
			return false
		}
		return true
	}
	count := 0
	lookup := func(h uint64, x ir.Expr) *ir.Var {
		for _, en := range table[h] {
			if ir.AlphaEqual(en.val, x) {
				return en.v
			}
		}
		return nil
	}
	sub := map[*ir.Var]ir.Expr{} // let variables replaced by an equal earlier let's
	var firstErr error
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		if v, ok := e.(*ir.Var); ok {
			if r, ok := sub[v]; ok {
				return r
			}
			return e
		}
		if firstErr != nil {
			return e
		}
		if err := c.tick(1); err != nil {
			firstErr = err
			return e
		}
		if l, ok := e.(*ir.Let); ok {
			saved := c.protected
			c.protected = c.childProtected(l, 0, saved)
			val := rec(l.Value)
			c.protected = saved
			if isAtom(val) && !isAtom(l.Value) && !c.mutable[l.Var] {
				// The value was found whole: drop the let.
				sub[l.Var] = val
				return rec(l.Body)
			}
			if sharable(val) && !c.mutable[l.Var] {
				h := hs.Hash(val)
				if v := lookup(h, val); v != nil {
					if err := c.fireText("cse", c.posOf(l), func() (string, string) { return short(val), v.Name }); err != nil && firstErr == nil {
						firstErr = err
					}
					count++
					sub[l.Var] = v
					return rec(l.Body)
				}
				hs.BindLet(l.Var, val)
				table[h] = append(table[h], entry{val, l.Var})
				c.protected = c.childProtected(l, 1, saved)
				body := rec(l.Body)
				c.protected = saved
				table[h] = table[h][:len(table[h])-1]
				return ir.WithChildren(l, []ir.Expr{val, body})
			}
			hs.BindLet(l.Var, val)
			c.protected = c.childProtected(l, 1, saved)
			body := rec(l.Body)
			c.protected = saved
			return ir.WithChildren(l, []ir.Expr{val, body})
		}
		hs.Enter(e)
		out, _ := c.descend(e, func(_ int, k ir.Expr) (ir.Expr, error) { return rec(k), nil })
		if out == nil {
			out = e
		}
		if len(table) > 0 && !c.protected && subtermCandidate(out) && sharable(out) {
			if v := lookup(hs.Hash(out), out); v != nil {
				if err := c.note("cse", out, v); err != nil && firstErr == nil {
					firstErr = err
				}
				count++
				return v
			}
		}
		return out
	}
	out := rec(e)
	if firstErr != nil {
		return e, false, firstErr
	}
	return out, count > 0, nil
}

func subtermCandidate(e ir.Expr) bool {
	switch e.(type) {
	case *ir.PrimCall, *ir.Call, *ir.Proj, *ir.MakeTuple:
		return true
	}
	return false
}

// ---- dce ----

// dce drops lets whose variable is unused and whose value cannot fail
// (in-place updates are dropped only when they fill a fresh array that
// nothing reads).
func dce(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	changed := false
	for {
		uses := map[*ir.Var]int{}
		ir.Walk(e, func(x ir.Expr, enter bool) {
			if v, ok := x.(*ir.Var); ok && enter {
				uses[v]++
			}
		}, nil)
		dropped := false
		var firstErr error
		var rec func(e ir.Expr) ir.Expr
		rec = func(e ir.Expr) ir.Expr {
			if firstErr != nil {
				return e
			}
			if err := c.tick(1); err != nil {
				firstErr = err
				return e
			}
			if l, ok := e.(*ir.Let); ok && uses[l.Var] == 0 && c.facts.Droppable(l.Value) {
				dropped = true
				if err := c.fireText("dce", c.posOf(l), func() (string, string) { return "let " + l.Var.Name + " = " + short(l.Value), "(dropped)" }); err != nil && firstErr == nil {
					firstErr = err
				}
				return rec(l.Body)
			}
			out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return rec(k), nil })
			return out
		}
		e = rec(e)
		if firstErr != nil {
			return e, false, firstErr
		}
		if !dropped {
			return e, changed, nil
		}
		changed = true
	}
}
