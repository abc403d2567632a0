package ad

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Linearity of @jvp rules (SPEC §6). A def with a @jvp rule and no @vjp
// rule gets reverse mode by transposing dx -> g(x, dx).1, which is only
// right when that map is linear. Before transposing, the rule's code is
// analysed (linearityOf): every value it computes is classified by how it
// depends on the tangent parameter dx,
//
//   - constant: not at all (the primal x, literals, anything computed
//     from them), with a note when it is certainly zero or certainly not;
//   - linear: linearly (dx itself, sums of linear values, products and
//     quotients of linear values by constants, linear primitives such as
//     indexing, sum, transpose or a matrix product with a constant,
//     linear loops, maps and calls);
//   - nonlinear, with the reason and the position where the code shows it:
//     a product of two tangent-dependent values, a division by one, a
//     nonlinear primitive (sin, abs, max, ...) of one, a branch or a loop
//     condition on one, a nonzero literal added to one;
//   - unknown: anything the analysis cannot decide (a constant added to a
//     linear value that may or may not be zero, a primitive it does not
//     know).
//
// A nonlinear tangent output is a compile error naming the def, at the
// position that shows it. An unknown one is checked at run time, on every
// call of the transposed rule (so the first use that is not linear
// fails): with u and v two fixed pseudo-random tangents of x's shape, the
// rule must give 0 for the zero tangent and be additive,
// g(x, u + v).1 = g(x, u).1 + g(x, v).1, up to a relative 1e-7 (the zero
// test allows 1e-12 of the scale of g(x, u).1 and g(x, v).1). Non-finite
// values never fail the check.

// linKind is the class of a value, from most to least benign.
type linKind uint8

const (
	linConst linKind = iota
	linLinear
	linUnknown
	linNonlinear
)

// lin classifies a value: a leaf (k) or, for a tuple whose fields differ,
// one class per field.
type lin struct {
	k       linKind
	zero    bool // constant: certainly zero
	nonzero bool // constant: certainly not zero
	why     string
	pos     ir.Pos
	elems   []*lin
}

var (
	constLin = &lin{k: linConst}
	zeroLin  = &lin{k: linConst, zero: true}
	linearV  = &lin{k: linLinear}
)

func nonlinear(pos ir.Pos, format string, args ...any) *lin {
	return &lin{k: linNonlinear, why: fmt.Sprintf(format, args...), pos: pos}
}

func unknown(pos ir.Pos, format string, args ...any) *lin {
	return &lin{k: linUnknown, why: fmt.Sprintf(format, args...), pos: pos}
}

// field is the class of field i of a tuple.
func (l *lin) field(i int) *lin {
	if l.elems != nil && i < len(l.elems) {
		return l.elems[i]
	}
	if l.k == linConst {
		return &lin{k: linConst, zero: l.zero}
	}
	return l
}

// flat is the worst class over the fields (a leaf's own class).
func (l *lin) flat() *lin {
	if l.elems == nil {
		return l
	}
	out := zeroLin
	for _, e := range l.elems {
		out = worst(out, e.flat())
	}
	return out
}

// worst is the class of a value depending on both a and b in some
// unspecified way that is linear when both are (an array literal, a
// tuple flattened, a branch).
func worst(a, b *lin) *lin {
	a, b = a.flat(), b.flat()
	if a.k != b.k {
		if a.k > b.k {
			return a
		}
		return b
	}
	if a.k == linConst {
		return &lin{k: linConst, zero: a.zero && b.zero, nonzero: a.nonzero && b.nonzero}
	}
	return a
}

// sum is the class of a + b (also a - b, and any primitive linear in
// both): affine when a constant that is not zero meets a linear value.
func sum(pos ir.Pos, a, b *lin) *lin {
	a, b = a.flat(), b.flat()
	if a.k >= linUnknown || b.k >= linUnknown {
		return worst(a, b)
	}
	if a.k == linConst && b.k == linConst {
		return &lin{k: linConst, zero: a.zero && b.zero}
	}
	c := a
	if a.k == linLinear {
		c = b
	}
	switch {
	case c.k == linLinear || c.zero:
		return linearV
	case c.nonzero:
		return nonlinear(pos, "it adds a nonzero constant to a value that depends on the tangent (affine, not linear)")
	}
	return unknown(pos, "it adds a value that does not depend on the tangent to one that does")
}

// either is the class of a value that is a or b, chosen by a constant
// condition (branches, loop states).
func either(pos ir.Pos, a, b *lin) *lin {
	if a.elems != nil || b.elems != nil {
		n := max(len(a.elems), len(b.elems))
		out := &lin{elems: make([]*lin, n)}
		for i := range n {
			out.elems[i] = either(pos, a.field(i), b.field(i))
		}
		return out
	}
	return sum(pos, a, b)
}

// same reports whether two classes are equal (for fixpoints).
func same(a, b *lin) bool {
	if (a.elems == nil) != (b.elems == nil) {
		return a.flat().k == b.flat().k && a.elems == nil && b.elems == nil
	}
	if a.elems == nil {
		return a.k == b.k && a.zero == b.zero && a.nonzero == b.nonzero
	}
	if len(a.elems) != len(b.elems) {
		return false
	}
	for i := range a.elems {
		if !same(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// linearity analyses code; env classifies variables (absent: constant).
type linearity struct {
	a     *expander
	env   map[*ir.Var]*lin
	memo  map[string]*lin
	depth int
}

// linearityOf classifies the tangent output of rule g(x, dx) -> (y, dy).
func (a *expander) linearityOf(rule *ir.Def) *lin {
	an := &linearity{a: a, env: map[*ir.Var]*lin{}, memo: map[string]*lin{}}
	an.env[rule.Params[1]] = linearV
	return an.expr(rule.BodyWithSizes()).field(1)
}

func (an *linearity) expr(e ir.Expr) *lin {
	switch e := e.(type) {
	case *ir.Var:
		if l := an.env[e]; l != nil {
			return l
		}
		return constLin
	case *ir.Const:
		switch v := e.Val.(type) {
		case float64:
			return &lin{k: linConst, zero: v == 0, nonzero: v != 0}
		case int64:
			return &lin{k: linConst, zero: v == 0, nonzero: v != 0}
		}
		return constLin
	case *ir.Global, *ir.Lambda:
		return constLin
	case *ir.Let:
		an.env[e.Var] = an.expr(e.Value)
		return an.expr(e.Body)
	case *ir.MakeTuple:
		out := &lin{elems: make([]*lin, len(e.Elems))}
		for i, x := range e.Elems {
			out.elems[i] = an.expr(x)
		}
		return out
	case *ir.Proj:
		return an.expr(e.X).field(e.Index)
	case *ir.If:
		if c := an.expr(e.Cond).flat(); c.k != linConst {
			return an.dependent(e.P, c, "it branches on a value that depends on the tangent")
		}
		return either(e.P, an.expr(e.Then), an.expr(e.Else))
	case *ir.Loop:
		return an.loop(e)
	case *ir.Call:
		args := make([]*lin, len(e.Args))
		for i, x := range e.Args {
			args[i] = an.expr(x)
		}
		return an.call(e.Fn, args, e.P)
	case *ir.PrimCall:
		return an.prim(e)
	}
	return unknown(e.Pos(), "the analysis does not know %T", e)
}

// dependent is the class of a value that depends on c in a way that is
// nonlinear whenever c depends on the tangent at all.
func (an *linearity) dependent(pos ir.Pos, c *lin, why string) *lin {
	if c.k == linNonlinear || c.k == linUnknown {
		return c
	}
	return nonlinear(pos, "%s", why)
}

// call classifies a call of a def or a lambda on arguments of the given
// classes, by analysing its body (memoized per def and classes).
func (an *linearity) call(fn ir.Expr, args []*lin, pos ir.Pos) *lin {
	allConst := true
	for _, a := range args {
		if a.flat().k != linConst {
			allConst = false
		}
	}
	if allConst {
		return constLin
	}
	var params []*ir.Var
	var body ir.Expr
	key := ""
	switch f := fn.(type) {
	case *ir.Lambda:
		params, body = f.Params, f.Body
	case *ir.Global:
		d := an.a.lookup(f.Name)
		if d == nil || !d.HasParams {
			return unknown(pos, "it calls %s, which the analysis cannot see", f.Name)
		}
		params, body = d.Params, d.BodyWithSizes()
		key = d.Name
		for _, a := range args {
			key += "|" + linKey(a)
		}
		if l, ok := an.memo[key]; ok {
			return l
		}
	default:
		return unknown(pos, "it calls a function chosen at run time")
	}
	if an.depth > 50 {
		return unknown(pos, "calls nest too deeply for the analysis")
	}
	an.depth++
	for i, p := range params {
		an.env[p] = args[i]
	}
	l := an.expr(body)
	an.depth--
	if l.flat().k == linNonlinear && l.flat().pos == (ir.Pos{}) {
		l = nonlinear(pos, "%s", l.flat().why)
	}
	if key != "" {
		an.memo[key] = l
	}
	return l
}

func linKey(l *lin) string {
	if l.elems != nil {
		s := "("
		for _, e := range l.elems {
			s += linKey(e) + ","
		}
		return s + ")"
	}
	return fmt.Sprint(l.k, l.zero, l.nonzero)
}

// fix iterates a loop-like state class to a fixpoint: step gives the
// class of the next state from the current one.
func fix(pos ir.Pos, init *lin, step func(*lin) *lin) *lin {
	s := init
	for range 8 {
		next := either(pos, s, step(s))
		if same(next, s) {
			return s
		}
		s = next
	}
	return unknown(pos, "the analysis of a loop does not settle")
}

func (an *linearity) loop(e *ir.Loop) *lin {
	if e.Count != nil {
		if c := an.expr(e.Count).flat(); c.k != linConst {
			return an.dependent(e.P, c, "its loop count depends on the tangent")
		}
	}
	if e.Index != nil {
		an.env[e.Index] = constLin
	}
	return fix(e.P, an.expr(e.Init), func(s *lin) *lin {
		an.env[e.State] = s
		if e.Cond != nil {
			if c := an.expr(e.Cond).flat(); c.k != linConst {
				return an.dependent(e.P, c, "its loop condition depends on the tangent")
			}
		}
		return an.expr(e.Body)
	})
}

// lambda classifies a function argument's body with its parameters bound.
func (an *linearity) lambda(f ir.Expr, params []*lin, pos ir.Pos) *lin {
	switch f := f.(type) {
	case *ir.Lambda:
		for i, p := range f.Params {
			if i < len(params) {
				an.env[p] = params[i]
			}
		}
		return an.expr(f.Body)
	case *ir.Global:
		return an.call(f, params, pos)
	}
	return unknown(pos, "it applies a function chosen at run time")
}

// linearIn lists the primitives linear in the arguments given (the others
// must be constant: indices, sizes, shapes).
var linearIn = map[*ir.Prim][]int{
	ir.PrimIndex: {0}, ir.PrimSlice: {0}, ir.PrimUpdate: {0, 2}, ir.PrimGather: {0},
	ir.PrimTake: {0}, ir.PrimDrop: {0}, ir.PrimConcat: {0, 1}, ir.PrimReverse: {0},
	ir.PrimTranspose: {0}, ir.PrimFlatten: {0}, ir.PrimReshape: {0}, ir.PrimReshapeLike: {0},
	ir.PrimPadLike: {0}, ir.PrimSum: {0}, ir.PrimMean: {0}, ir.PrimFill: {1},
	ir.PrimUnzip: {0}, ir.PrimArray: nil, ir.PrimZip: nil, ir.PrimAccAdd: {0, 1},
	ir.PrimAccAddAt: {0, 2}, ir.PrimAccZeroAt: {0}, ir.PrimNeg: {0}, ir.PrimToF64: {0},
}

func (an *linearity) prim(e *ir.PrimCall) *lin {
	switch e.Op {
	case ir.PrimStopGradient:
		return an.expr(e.Args[0])
	case ir.PrimZerosLike, ir.PrimZeros:
		return zeroLin
	case ir.PrimOnes:
		return &lin{k: linConst, nonzero: true}
	case ir.PrimMap:
		arrays := make([]*lin, len(e.Args)-1)
		for i, x := range e.Args[1:] {
			arrays[i] = an.expr(x).flat()
		}
		return an.lambda(e.Args[0], arrays, e.P).flat()
	case ir.PrimBuild:
		if c := an.expr(e.Args[0]).flat(); c.k != linConst {
			return an.dependent(e.P, c, "an array size depends on the tangent")
		}
		return an.lambda(e.Args[1], []*lin{constLin}, e.P).flat()
	case ir.PrimReduce, ir.PrimFold, ir.PrimScan:
		xs := an.expr(e.Args[2]).flat()
		return fix(e.P, an.expr(e.Args[1]), func(acc *lin) *lin {
			return an.lambda(e.Args[0], []*lin{acc, xs}, e.P)
		}).flat()
	case ir.PrimLoopSave, ir.PrimWhileSave:
		init, body := e.Args[0], e.Args[2]
		if e.Op == ir.PrimLoopSave {
			init = e.Args[1]
		}
		return fix(e.P, an.expr(init), func(s *lin) *lin {
			if e.Op == ir.PrimLoopSave {
				return an.lambda(body, []*lin{constLin, s}, e.P)
			}
			if c := an.lambda(e.Args[1], []*lin{s}, e.P).flat(); c.k != linConst {
				return an.dependent(e.P, c, "its loop condition depends on the tangent")
			}
			return an.lambda(body, []*lin{s}, e.P)
		}).flat()
	case ir.PrimLinsolve:
		if m := an.lambda(e.Args[0], []*lin{linearV}, e.P).flat(); m.k > linLinear {
			return m
		}
		// A matrix depending on the tangent shows as a free use of it.
		for _, v := range ir.FreeVars(e.Args[0]) {
			if l := an.env[v]; l != nil && l.flat().k != linConst {
				return nonlinear(e.P, "the matrix of a linear solve depends on the tangent")
			}
		}
		return an.expr(e.Args[1]).flat()
	}
	args := make([]*lin, len(e.Args))
	anyDep := false
	for i, x := range e.Args {
		args[i] = an.expr(x)
		if args[i].flat().k != linConst {
			anyDep = true
		}
	}
	if e.Op.NoDerivative {
		// Piecewise constant (comparisons, len, argmax, ...): any use of
		// the result shows the nonlinearity.
		for _, a := range args {
			if a.flat().k != linConst {
				why := fmt.Sprintf("it uses %s of a value that depends on the tangent", opName(e.Op))
				if k, ok := ir.Leaf(e.T); ok && k == ir.Bool {
					why = fmt.Sprintf("it compares (%s) a value that depends on the tangent", opName(e.Op))
				}
				return an.dependent(e.P, a.flat(), why)
			}
		}
		return constLin
	}
	if !anyDep {
		out := &lin{k: linConst}
		if e.Op == ir.PrimFill {
			out.zero, out.nonzero = args[1].flat().zero, args[1].flat().nonzero
		}
		if e.Op == ir.PrimNeg || e.Op == ir.PrimToF64 {
			out.zero, out.nonzero = args[0].zero, args[0].nonzero
		}
		if e.Op == ir.PrimMul && (args[0].flat().zero || args[1].flat().zero) {
			out.zero = true
		}
		return out
	}
	switch e.Op {
	case ir.PrimAdd, ir.PrimSub:
		return sum(e.P, args[0], args[1])
	case ir.PrimMul, ir.PrimDot, ir.PrimOuter, ir.PrimMatmul:
		a, b := args[0].flat(), args[1].flat()
		switch {
		case a.k >= linUnknown || b.k >= linUnknown:
			return worst(a, b)
		case a.k == linLinear && b.k == linLinear:
			return nonlinear(e.P, "it multiplies two values that depend on the tangent")
		}
		return linearV
	case ir.PrimDiv:
		a, b := args[0].flat(), args[1].flat()
		if b.k != linConst {
			return an.dependent(e.P, b, "it divides by a value that depends on the tangent")
		}
		return a
	case ir.PrimPow:
		a, b := args[0].flat(), args[1].flat()
		if b.k != linConst {
			return an.dependent(e.P, b, "it raises to a power that depends on the tangent")
		}
		if c, ok := e.Args[1].(*ir.Const); ok && ir.SameConst(c.Val, 1.0) {
			return a
		}
		return an.dependent(e.P, a, "it raises a value that depends on the tangent to a power")
	}
	if data, ok := linearIn[e.Op]; ok {
		isData := make([]bool, len(args))
		for i := range isData {
			isData[i] = data == nil
		}
		for _, i := range data {
			isData[i] = true
		}
		out := zeroLin
		first := true
		for i, a := range args {
			if !isData[i] {
				if a.flat().k != linConst {
					return an.dependent(e.P, a.flat(), fmt.Sprintf("an index or size of %s depends on the tangent", opName(e.Op)))
				}
				continue
			}
			if first {
				out, first = a.flat(), false
				continue
			}
			out = sum(e.P, out, a)
		}
		return out
	}
	if i, ok := ir.PassedThrough(e.Op); ok {
		return args[i]
	}
	for _, a := range args {
		if f := a.flat(); f.k != linConst {
			if f.k == linNonlinear {
				return f
			}
			if ir.SeriesOf(e.Op) != nil || e.Op.Partials != nil || e.Op.JVP != nil {
				return an.dependent(e.P, f, fmt.Sprintf("it applies %s to a value that depends on the tangent", opName(e.Op)))
			}
			return unknown(e.P, "the analysis does not know %s", opName(e.Op))
		}
	}
	return constLin
}

func opName(p *ir.Prim) string {
	if p.Op != "" {
		return p.Op
	}
	return p.Name
}

// verdict turns the class of a rule's tangent output into an error (for a
// nonlinear one), a need for the run-time check, or neither.
func verdict(l *lin) (bad *lin, check bool) {
	if l.elems != nil {
		for _, e := range l.elems {
			b, c := verdict(e)
			if b != nil {
				return b, false
			}
			check = check || c
		}
		return nil, check
	}
	switch {
	case l.k == linNonlinear:
		return l, false
	case l.k == linUnknown:
		return nil, true
	case l.k == linConst && l.nonzero:
		return nonlinear(ir.Pos{}, "its tangent is a nonzero constant (affine, not linear)"), false
	case l.k == linConst && !l.zero:
		return nil, true
	}
	return nil, false
}

// ---- the run-time check ----

// probe is a fixed pseudo-random value shaped like x (zero in its i64
// and bool parts), from a hash of each element's position (offset, an
// f64, numbers the enclosing element) and a salt.
func probe(blk *block, x ir.Expr, salt float64, offset ir.Expr) ir.Expr {
	b := blk.builder()
	key := func(ib *block, k ir.Expr) ir.Expr {
		kb := ib.builder()
		return ib.bind("k", kb.Prim(ir.PrimAdd, ib.bind("k", kb.Prim(ir.PrimMul, offset, kb.F64(9973))), ib.bind("k", kb.Prim(ir.PrimToF64, k))))
	}
	switch t := x.Type().(type) {
	case ir.Scalar:
		if t.Kind != ir.F64 {
			return zero(blk, x)
		}
		return hashValue(blk, offset, salt)
	case *ir.Tuple:
		elems := make([]ir.Expr, len(t.Elems))
		for i := range t.Elems {
			elems[i] = probe(blk, blk.bind("f", b.Proj(x, i)), salt+float64(i+1)*1.618, offset)
		}
		return blk.bind("probe", b.Tuple(elems...))
	case *ir.Array:
		if k, ok := ir.Leaf(t); ok {
			if k != ir.F64 {
				return zero(blk, x)
			}
			sizes, _ := shapeOf(blk, x)
			return nestedBuild(blk, ir.Dims(t), sizes, func(ib *block, _ []ir.Expr, flat ir.Expr) ir.Expr {
				return hashValue(ib, key(ib, flat), salt)
			})
		}
		// An array of tuples: element by element.
		n := blk.bind("n", b.Prim(ir.PrimLen, x))
		i := ir.NewVar("i", ir.TI64, blk.pos)
		ib := &block{pos: blk.pos}
		xi := ib.bind("x", b.Prim(ir.PrimIndex, x, i))
		e := probe(ib, xi, salt, key(ib, i))
		lam := &ir.Lambda{Params: []*ir.Var{i}, Body: ib.close(e), P: blk.pos}
		return blk.bind("probe", b.PrimAux(ir.PrimBuild, t.Dim, n, lam))
	}
	return zero(blk, x)
}

// hashValue is a value in [-0.5, 0.5) that looks random in k: the
// fractional part of sin(k·12.9898 + salt)·43758.5453.
func hashValue(blk *block, k ir.Expr, salt float64) ir.Expr {
	b := blk.builder()
	h := blk.bind("h", b.Prim(ir.PrimMul, blk.bind("h", b.Prim(ir.PrimSin, blk.bind("h", b.Prim(ir.PrimAdd, blk.bind("h", b.Prim(ir.PrimMul, k, b.F64(12.9898))), b.F64(salt))))), b.F64(43758.5453)))
	fr := blk.bind("h", b.Prim(ir.PrimSub, h, blk.bind("h", b.Prim(ir.PrimFloor, h))))
	return blk.bind("h", b.Prim(ir.PrimSub, fr, b.F64(0.5)))
}

// combine applies an elementwise f64 operator field by field (f64 parts
// only; the others are taken from a).
func combine(blk *block, op *ir.Prim, a, c ir.Expr) ir.Expr {
	b := blk.builder()
	switch t := a.Type().(type) {
	case *ir.Tuple:
		elems := make([]ir.Expr, len(t.Elems))
		for i := range t.Elems {
			elems[i] = combine(blk, op, blk.bind("g", b.Proj(a, i)), blk.bind("g", b.Proj(c, i)))
		}
		return blk.bind("g", b.Tuple(elems...))
	case *ir.Array:
		if _, ok := tupleArray(t); ok {
			as, cs := columns(blk, a), columns(blk, c)
			for j := range as {
				as[j] = combine(blk, op, as[j], cs[j])
			}
			return zipCols(blk, t, as)
		}
	}
	if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 {
		return a
	}
	return blk.bind("g", b.Prim(op, a, c))
}

// l1 is the sum of the absolute values of x's f64 parts.
func l1(blk *block, x ir.Expr) ir.Expr {
	b := blk.builder()
	switch t := x.Type().(type) {
	case *ir.Tuple:
		var s ir.Expr = b.F64(0)
		for i := range t.Elems {
			s = blk.bind("s", b.Prim(ir.PrimAdd, s, l1(blk, blk.bind("g", b.Proj(x, i)))))
		}
		return s
	case *ir.Array:
		if _, ok := tupleArray(t); ok {
			var s ir.Expr = b.F64(0)
			for _, c := range columns(blk, x) {
				s = blk.bind("s", b.Prim(ir.PrimAdd, s, l1(blk, c)))
			}
			return s
		}
	}
	if k, ok := ir.Leaf(x.Type()); !ok || k != ir.F64 {
		return b.F64(0)
	}
	a := blk.bind("a", b.Prim(ir.PrimAbs, x))
	if ir.Rank(x.Type()) == 0 {
		return a
	}
	return blk.bind("s", b.Prim(ir.PrimSum, a))
}

// linearCheck wraps xbar, the transposed rule's cotangent at x, in the
// run-time linearity check of the tangent map lin.
func linearCheck(blk *block, lin func(blk *block, dx []ir.Expr) ir.Expr, xs []*ir.Var, xbar ir.Expr, msg string) ir.Expr {
	b := blk.builder()
	var zs, us, vs, uvs []ir.Expr
	for i, x := range xs {
		zs = append(zs, zero(blk, x))
		u := probe(blk, x, 78.233, ir.F64Const(float64(i), blk.pos))
		v := probe(blk, x, 37.719, ir.F64Const(float64(i), blk.pos))
		us, vs = append(us, u), append(vs, v)
		uvs = append(uvs, combine(blk, ir.PrimAdd, u, v))
	}
	l0 := blk.bind("l0", lin(blk, zs))
	lu := blk.bind("lu", lin(blk, us))
	lv := blk.bind("lv", lin(blk, vs))
	luv := blk.bind("luv", lin(blk, uvs))
	scale := blk.bind("scale", b.Prim(ir.PrimAdd, l1(blk, lu), l1(blk, lv)))
	d := combine(blk, ir.PrimSub, combine(blk, ir.PrimSub, luv, lu), lv)
	bad0 := blk.bind("bad", b.Prim(ir.PrimGt, l1(blk, l0), blk.bind("tol", b.Prim(ir.PrimMul, scale, b.F64(1e-12)))))
	badAdd := blk.bind("bad", b.Prim(ir.PrimGt, l1(blk, d), blk.bind("tol", b.Prim(ir.PrimMul, scale, b.F64(1e-7)))))
	ok := blk.bind("ok", b.Prim(ir.PrimNot, blk.bind("bad", b.Prim(ir.PrimOr, bad0, badAdd))))
	return blk.bind("xbar", b.PrimAux(ir.PrimLinearCheck, msg, ok, xbar))
}
