package lang

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// isBuiltin reports whether name is a primitive a program may call by
// name (SPEC §5, §6): its declaration's class is ir.Builtin. Core
// primitives (add, index, dim, ...) are reached through operators and
// syntax instead, internal ones not at all.
func isBuiltin(name string) bool {
	p := ir.LookupPrim(name)
	return p != nil && p.Class == ir.Builtin
}

// builtinConsts are the named constants.
var builtinConsts = map[string]float64{"pi": math.Pi, "inf": math.Inf(1), "nan": math.NaN()}

func isBuiltinName(name string) bool {
	_, isConst := builtinConsts[name]
	return isBuiltin(name) || isConst
}

// binaryPrims maps operators to primitives (&& and || are handled apart:
// on scalars they short-circuit).
var binaryPrims = map[string]*ir.Prim{
	"+": ir.PrimAdd, "-": ir.PrimSub, "*": ir.PrimMul, "/": ir.PrimDiv, "%": ir.PrimMod,
	"^": ir.PrimPow, "@": ir.PrimMatmul,
	"==": ir.PrimEq, "!=": ir.PrimNe, "<": ir.PrimLt, "<=": ir.PrimLe, ">": ir.PrimGt, ">=": ir.PrimGe,
	"&&": ir.PrimAnd, "||": ir.PrimOr,
}

// messageArg gives the position of the string-literal argument of the
// builtins that take one, and their argument list as an error shows it.
func messageArg(p *ir.Prim) (at int, form, what string, ok bool) {
	switch p {
	case ir.PrimAssert:
		return 1, `(cond, "message", value)`, "message", true
	case ir.PrimProgress:
		return 0, `("method", iteration, value, norm, step, v)`, "method's name", true
	}
	return 0, "", "", false
}

// builtin returns the primitive a name refers to in env, unless a local
// or a def shadows it.
func (c *checker) builtin(name string, env *scope) *ir.Prim {
	if !isBuiltin(name) || env.lookup(name) != nil || c.lookupGlobal(env.mod, name) != nil {
		return nil
	}
	return ir.LookupPrim(name)
}

// flexible reports whether an expression's type depends on what the
// context expects: integer literal arithmetic (an f64 where an f64 is
// expected), lambdas with unannotated parameters, and builtins used as
// function values. The checker elaborates such arguments last, with hints
// from the others.
func (c *checker) flexible(e Expr, env *scope) bool {
	switch e.(type) {
	case *Binary, *If:
		// Long operator and else-if chains would be walked again at every
		// level (O(n^2)): remember the answer for each node.
		k := flexKey{e, env}
		if f, ok := c.flex[k]; ok {
			return f
		}
		if c.flex == nil {
			c.flex = map[flexKey]bool{}
		}
		f := c.flexibleNode(e, env)
		c.flex[k] = f
		return f
	}
	return c.flexibleNode(e, env)
}

type flexKey struct {
	e   Expr
	env *scope
}

func (c *checker) flexibleNode(e Expr, env *scope) bool {
	switch e := e.(type) {
	case *IntLit:
		return true
	case *Paren:
		return c.flexible(e.X, env)
	case *Unary:
		return e.Op == "-" && c.flexible(e.X, env)
	case *Binary:
		switch e.Op {
		case "+", "-", "*", "/", "%", "^":
			return c.flexible(e.X, env) && c.flexible(e.Y, env)
		}
	case *Lambda:
		for _, p := range e.Params {
			if p.Type == nil {
				return true
			}
		}
	case *Ident:
		if b := env.lookup(e.Name); b != nil {
			return b.gen != nil
		}
		if g := c.lookupGlobal(env.mod, e.Name); g != nil {
			return c.isGeneric(g)
		}
		return c.builtin(e.Name, env) != nil
	case *Call:
		// grad(fn(a) => ...) takes its parameter types from where it is applied.
		if id, ok := e.Fn.(*Ident); ok && len(e.Args) == 1 {
			if p := c.builtin(id.Name, env); p != nil && p.AD == ir.ADOperator && p.Arity == 1 {
				return c.flexible(e.Args[0], env)
			}
		}
	case *If:
		return c.flexible(e.Then, env) && c.flexible(e.Else, env)
	}
	return false
}

// genericFn reports whether e is a function whose types are open, to be
// elaborated where it is used: a lambda with unannotated parameters, a
// builtin used as a value, an AD operator applied to such a function
// (grad(norm)), or a name bound to one.
func (c *checker) genericFn(e Expr, env *scope) bool {
	switch e := unparen(e).(type) {
	case *Lambda:
		// Open when some parameter has no type and no use decides one.
		for _, p := range e.Params {
			if p.Type == nil && c.typeFromUse(p.Name, e.Body, env) == nil {
				return true
			}
		}
		return false
	case *Ident:
		if _, isConst := builtinConsts[e.Name]; isConst {
			return false
		}
		return c.flexible(e, env)
	case *Call:
		if id, ok := e.Fn.(*Ident); ok && len(e.Args) == 1 {
			if p := c.builtin(id.Name, env); p != nil && p.AD == ir.ADOperator && p.Arity == 1 {
				return c.genericFn(e.Args[0], env)
			}
		}
	}
	return false
}

// isGeneric reports whether g is a value def whose value is a function
// with open types (def gn = grad(norm), def sq = fn(x) => x * x): like a
// let-bound one, it is elaborated at each use, with the types there.
func (c *checker) isGeneric(g *global) bool {
	switch g.generic {
	case 0:
		g.generic = 1
		d := g.decl
		yes := !d.HasParams && d.Result == nil && len(d.Attrs) == 0 && c.genericFn(d.Body, &scope{mod: g.scope})
		g.generic = 3
		if yes {
			g.generic = 2
		}
	case 1:
		return false // a cycle, reported as recursion when elaborated
	}
	return g.generic == 2
}

// expr elaborates e. want is what the context expects, or nil; it guides
// literals and lambdas, and callers check the result against it. On error
// expr reports it and returns nil.
func (c *checker) expr(e Expr, env *scope, want ir.Type) ir.Expr {
	switch e := e.(type) {
	case *IntLit:
		if k, ok := ir.Leaf(orNil(want)); ok && k == ir.F64 {
			return ir.F64Const(float64(e.Val), e.Pos)
		}
		return ir.I64Const(e.Val, e.Pos)
	case *FloatLit:
		return ir.F64Const(e.Val, e.Pos)
	case *BoolLit:
		return ir.BoolConst(e.Val, e.Pos)
	case *StringLit:
		c.errorf(e.Pos, "string literals are only allowed in imports, attributes and assert's message")
		return nil
	case *Paren:
		return c.expr(e.X, env, want)
	case *Ident:
		return c.ident(e, env, want)
	case *Unary:
		p := ir.PrimNeg
		if e.Op == "!" {
			p = ir.PrimNot
		}
		return c.primCall(p, e.Pos, []Expr{e.X}, env, want, nil)
	case *Binary:
		return c.binary(e, env, want)
	case *Call:
		return c.call(e, env, want)
	case *Index:
		x := c.expr(e.X, env, nil)
		if x == nil {
			return nil
		}
		for _, ix := range e.Indices {
			i := c.expectType(ix, env, ir.TI64, "an index")
			if i == nil {
				return nil
			}
			if !c.constIndex(ix, x.Type()) {
				return nil
			}
			x = c.mk(ir.PrimIndex, e.Pos, nil, x, i)
			if x == nil {
				return nil
			}
		}
		return x
	case *Slice:
		return c.slice(e, env)
	case *Field:
		x := c.expr(e.X, env, nil)
		if x == nil {
			return nil
		}
		tt, ok := x.Type().(*ir.Tuple)
		if !ok {
			c.errorf(e.Pos, "cannot take field %d of a value of type %s", e.Index, x.Type())
			return nil
		}
		if e.Index >= len(tt.Elems) {
			c.errorf(e.Pos, "field %d out of range: the tuple has %d field%s", e.Index, len(tt.Elems), plural(len(tt.Elems)))
			return nil
		}
		return &ir.Proj{X: x, Index: e.Index, P: e.Pos}
	case *TupleLit:
		var wants []ir.Type
		if wt, ok := orNil(want).(*ir.Tuple); ok && len(wt.Elems) == len(e.Elems) {
			wants = wt.Elems
		}
		elems := make([]ir.Expr, len(e.Elems))
		for i, x := range e.Elems {
			var w ir.Type
			if wants != nil {
				w = wants[i]
			}
			if elems[i] = c.expr(x, env, w); elems[i] == nil {
				return nil
			}
			if _, isFn := elems[i].Type().(*ir.Func); isFn {
				c.errorf(StartPos(x), "tuples of functions are not supported")
				return nil
			}
		}
		return &ir.MakeTuple{Elems: elems, P: e.Pos}
	case *ArrayLit:
		var elemWant ir.Type
		if wa, ok := orNil(want).(*ir.Array); ok {
			elemWant = wa.Elem
		}
		return c.primCall(ir.PrimArray, e.Pos, e.Elems, env, elemWant, nil)
	case *Comprehension:
		return c.comprehension(e, e.Gens, env)
	case *Let:
		if pn, ok := e.Pat.(*PatName); ok {
			if c.genericFn(e.Value, env) {
				return c.expr(e.Body, env.bindGeneric(pn.Name, e.Value, env), want)
			}
		}
		v := c.expr(e.Value, env, nil)
		if v == nil {
			return nil
		}
		v, lazyEnv, lazyWrap := c.lazyBindings(v, env, StartPos(e.Value))
		inner, wrap, ok := c.bindPattern(e.Pat, v, lazyEnv)
		if !ok {
			return nil
		}
		body := c.expr(e.Body, inner, want)
		if body == nil {
			return nil
		}
		return lazyWrap(wrap(body))
	case *If:
		return c.ifExpr(e, env, want)
	case *Lambda:
		var wf *ir.Func
		if f, ok := orNil(want).(*ir.Func); ok {
			wf = f
		}
		return c.lambda(e, env, wf)
	case *Loop:
		return c.loop(e, env)
	}
	c.errorf(StartPos(e), "unsupported expression")
	return nil
}

func orNil(t ir.Type) ir.Type { return t }

func unparen(e Expr) Expr {
	for {
		p, ok := e.(*Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

// expectType elaborates e with want and checks that it has that type.
func (c *checker) expectType(e Expr, env *scope, want ir.Type, what string) ir.Expr {
	x := c.expr(e, env, want)
	if x == nil {
		return nil
	}
	if !ir.Equal(x.Type(), want) {
		c.errorf(StartPos(e), "%s must be %s, got %s", what, want, x.Type())
		return nil
	}
	return x
}

// mk builds a primitive call whose arguments are already elaborated,
// reporting a type error at pos.
func (c *checker) mk(p *ir.Prim, pos Pos, aux any, args ...ir.Expr) ir.Expr {
	call, err := p.Call(pos, aux, args...)
	if err != nil {
		c.errs = append(c.errs, err.(*ir.Error))
		return nil
	}
	return call
}

func (c *checker) ident(e *Ident, env *scope, want ir.Type) ir.Expr {
	if b := env.lookup(e.Name); b != nil {
		if b.gen != nil {
			// A let-bound function whose types are open is typed where it
			// is used: each use elaborates it afresh in its own scope.
			return c.expr(b.gen, b.genEnv, want)
		}
		return b.v
	}
	if g := c.lookupGlobal(env.mod, e.Name); g != nil {
		if c.isGeneric(g) {
			c.genericUses = append(c.genericUses, genericUse{g.name, e.Pos})
			defer func() { c.genericUses = c.genericUses[:len(c.genericUses)-1] }()
			return c.expr(g.decl.Body, &scope{mod: g.scope}, want)
		}
		t, ok := c.globalRef(g, e.Pos)
		if !ok {
			return nil
		}
		return &ir.Global{Name: g.name, T: t, P: e.Pos}
	}
	if ls := c.loose[e.Name]; ls != nil {
		c.errorf(e.Pos, "%s", ls.unbound())
		return nil
	}
	if v, ok := builtinConsts[e.Name]; ok {
		return ir.F64Const(v, e.Pos)
	}
	if p := c.builtin(e.Name, env); p != nil {
		return c.etaExpand(p, e.Pos, want)
	}
	c.errorf(e.Pos, "unknown name %s", e.Name)
	return nil
}

// etaExpand turns a builtin used as a value (map(exp, x), reduce(max,
// -inf, x), grad(norm)) into a lambda, typed by what the context expects.
func (c *checker) etaExpand(p *ir.Prim, pos Pos, want ir.Type) ir.Expr {
	wf, ok := orNil(want).(*ir.Func)
	if p.AD == ir.ADOperator {
		c.errorf(pos, "cannot use %s as a value: it is an AD operator; apply it, as in %s(f)", p.Name, p.Name)
		return nil
	}
	unknown := func() {
		c.errorf(pos, "cannot use builtin %s as a value here: nothing here fixes its parameter types%s; use it where they are known (map(%s, xs), grad(%s)(x)) or write a lambda with typed parameters, as in %s",
			p.Name, c.genericUseText(), p.Name, p.Name, lambdaSuggestion(p))
	}
	if !ok {
		unknown()
		return nil
	}
	params := make([]*ir.Var, len(wf.Params))
	args := make([]ir.Expr, len(wf.Params))
	for i, t := range wf.Params {
		if t == nil {
			unknown()
			return nil
		}
		params[i] = ir.NewVar([]string{"a", "b", "c", "d"}[min(i, 3)], t, pos)
		args[i] = params[i]
	}
	body := c.mk(p, pos, nil, args...)
	if body == nil {
		return nil
	}
	return &ir.Lambda{Params: params, Body: body, P: pos}
}

// lambdaSuggestion writes a lambda that uses builtin p with typed
// parameters: scalars for elementwise builtins, a vector first otherwise.
func lambdaSuggestion(p *ir.Prim) string {
	n := p.Arity
	if n < 0 {
		n = max(p.MinArgs, 1)
	}
	names := []string{"a", "b", "c", "d"}
	var ps, as []string
	for i := range min(n, len(names)) {
		t := "f64"
		if !p.Elementwise && i == 0 {
			t = "[n]f64"
		} else if !p.Elementwise {
			t = "..."
		}
		ps = append(ps, names[i]+": "+t)
		as = append(as, names[i])
	}
	return fmt.Sprintf("fn(%s) => %s(%s)", strings.Join(ps, ", "), p.Name, strings.Join(as, ", "))
}

// genericUseText says which use of a generic value def is being
// elaborated, for errors inside its body.
func (c *checker) genericUseText() string {
	if len(c.genericUses) == 0 {
		return ""
	}
	u := c.genericUses[len(c.genericUses)-1]
	return fmt.Sprintf(" (in %s, used at %s)", u.name, u.pos)
}

func (c *checker) binary(e *Binary, env *scope, want ir.Type) ir.Expr {
	if e.Op == "&&" || e.Op == "||" {
		x := c.expr(e.X, env, nil)
		y := c.expr(e.Y, env, nil)
		if x == nil || y == nil {
			return nil
		}
		if ir.Identical(x.Type(), ir.TBool) && ir.Identical(y.Type(), ir.TBool) {
			// Scalars short-circuit, as in Go: i < n && x[i] > 0 is safe.
			if e.Op == "&&" {
				return &ir.If{Cond: x, Then: y, Else: ir.BoolConst(false, e.Pos), P: e.Pos}
			}
			return &ir.If{Cond: x, Then: ir.BoolConst(true, e.Pos), Else: y, P: e.Pos}
		}
		return c.mk(binaryPrims[e.Op], e.Pos, nil, x, y)
	}
	return c.primCall(binaryPrims[e.Op], e.Pos, []Expr{e.X, e.Y}, env, want, nil)
}

// primCall elaborates a primitive's arguments, the self-typed ones first
// and the flexible ones (literals, lambdas, builtins as values) with the
// primitive's hints, then applies the type rule.
func (c *checker) primCall(p *ir.Prim, pos Pos, args []Expr, env *scope, want ir.Type, aux any) ir.Expr {
	if err := p.CheckArity(len(args)); err != nil {
		c.errorf(pos, "%v", err)
		return nil
	}
	out := make([]ir.Expr, len(args))
	known := make([]ir.Type, len(args))
	flex := make([]bool, len(args))
	for i, a := range args {
		flex[i] = c.flexible(a, env)
		if flex[i] {
			continue
		}
		var w ir.Type
		if p == ir.PrimArray {
			w = want // array literal: want is the element type
		}
		if out[i] = c.expr(a, env, w); out[i] == nil {
			return nil
		}
		known[i] = out[i].Type()
	}
	for i, a := range args {
		if !flex[i] {
			continue
		}
		var hint ir.Type
		if p.Hint != nil {
			hint = p.Hint(known, i)
		}
		if hint == nil {
			switch {
			case p.Elementwise && want != nil:
				if k, ok := ir.Leaf(want); ok && k == ir.F64 && p.ResultKind == nil {
					hint = ir.TF64
				}
			case p == ir.PrimArray:
				hint = want
			case p.AD == ir.ADOperator && p.Arity == 1:
				// grad(f)(x): f takes what the result takes.
				if wf, ok := orNil(want).(*ir.Func); ok {
					hint = &ir.Func{Params: wf.Params}
				}
			}
		}
		if out[i] = c.expr(a, env, hint); out[i] == nil {
			return nil
		}
		known[i] = out[i].Type()
	}
	if aux == nil {
		aux = c.staticAux(p, args, env)
	}
	return c.mk(p, pos, aux, out...)
}

// staticAux computes what a primitive's type rule can use statically: the
// size of zeros(n) when n is a literal or a size variable.
func (c *checker) staticAux(p *ir.Prim, args []Expr, env *scope) any {
	switch p {
	case ir.PrimZeros, ir.PrimOnes, ir.PrimIota, ir.PrimFill:
		return c.staticDim(args[0], env)
	case ir.PrimReshape:
		return [2]ir.Dim{c.staticDim(args[1], env), c.staticDim(args[2], env)}
	}
	return nil
}

// staticDim is the dimension an i64 expression denotes at compile time:
// a literal, a size variable or an i64 parameter; otherwise unknown.
func (c *checker) staticDim(e Expr, env *scope) ir.Dim {
	for {
		p, ok := e.(*Paren)
		if !ok {
			break
		}
		e = p.X
	}
	switch e := e.(type) {
	case *IntLit:
		if e.Val >= 0 {
			return ir.ConstDim(e.Val)
		}
	case *Ident:
		if b := env.lookup(e.Name); b != nil && b.size {
			return ir.SymDim(e.Name)
		}
	}
	return ir.Unknown
}

// constInt evaluates a compile-time integer constant (taylor's order).
func constInt(e Expr) (int64, bool) {
	switch e := e.(type) {
	case *IntLit:
		return e.Val, true
	case *Paren:
		return constInt(e.X)
	case *Unary:
		if v, ok := constInt(e.X); ok && e.Op == "-" {
			return -v, true
		}
	case *Binary:
		a, ok1 := constInt(e.X)
		b, ok2 := constInt(e.Y)
		if ok1 && ok2 {
			switch e.Op {
			case "+":
				return a + b, true
			case "-":
				return a - b, true
			case "*":
				return a * b, true
			}
		}
	}
	return 0, false
}

func (c *checker) call(e *Call, env *scope, want ir.Type) ir.Expr {
	if id, ok := e.Fn.(*Ident); ok && env.lookup(id.Name) == nil {
		if g := c.lookupGlobal(env.mod, id.Name); g != nil && !c.isGeneric(g) {
			return c.defCall(g, id, e, env)
		}
		if p := c.builtin(id.Name, env); p != nil {
			var aux any
			if p == ir.PrimTaylor && len(e.Args) == 4 {
				k, ok := constInt(e.Args[3])
				if !ok || k < 0 {
					c.errorf(StartPos(e.Args[3]), "taylor: the order must be a non-negative integer constant")
					return nil
				}
				aux = k
			}
			args := e.Args
			if at, form, what, ok := messageArg(p); ok {
				// assert(cond, "message", v), progress("method", ...): the
				// string literal is carried in Aux.
				var msg *StringLit
				if len(args) == p.Arity+1 {
					msg, _ = unparen(args[at]).(*StringLit)
				}
				if msg == nil {
					pos := e.Pos
					if len(args) > at {
						pos = StartPos(args[at])
					}
					c.errorf(pos, "%s takes %s with the %s a string literal", p.Name, form, what)
					return nil
				}
				aux, args = msg.Val, append(slices.Clone(args[:at]), args[at+1:]...)
			}
			return c.primCall(p, e.Pos, args, env, want, aux)
		}
		if _, isConst := builtinConsts[id.Name]; !isConst && c.lookupGlobal(env.mod, id.Name) == nil {
			c.errorf(id.Pos, "unknown name %s", id.Name)
			return nil
		}
	}
	// A function value: elaborate the self-typed arguments, then the callee
	// (which may need their types: grad(fn(y) => y * y)(x)), then the rest.
	args := make([]ir.Expr, len(e.Args))
	ptypes := make([]ir.Type, len(e.Args))
	flex := make([]bool, len(e.Args))
	for i, a := range e.Args {
		if flex[i] = c.flexible(a, env); !flex[i] {
			if args[i] = c.expr(a, env, nil); args[i] == nil {
				return nil
			}
			ptypes[i] = args[i].Type()
		}
	}
	fn := c.expr(e.Fn, env, &ir.Func{Params: ptypes})
	if fn == nil {
		return nil
	}
	ft, ok := fn.Type().(*ir.Func)
	if !ok {
		c.errorf(e.LPos, "cannot call a value of type %s", fn.Type())
		return nil
	}
	if len(ft.Params) != len(e.Args) {
		c.errorf(e.LPos, "function of type %s takes %d argument%s, got %d", ft, len(ft.Params), plural(len(ft.Params)), len(e.Args))
		return nil
	}
	for i, a := range e.Args {
		if flex[i] {
			if args[i] = c.expr(a, env, ft.Params[i]); args[i] == nil {
				return nil
			}
		}
		if !ir.Equal(args[i].Type(), ft.Params[i]) {
			c.errorf(StartPos(a), "argument %d has type %s; want %s", i+1, args[i].Type(), ft.Params[i])
			return nil
		}
	}
	if fv, isVar := fn.(*ir.Var); isVar && c.fnParams[fv] {
		// A function parameter's type vouches for nothing at run time:
		// its arguments and results are checked against the sizes its type
		// names, where they have values here.
		for i := range args {
			args[i] = c.checked(args[i], ft.Params[i], sizeCheck{what: fmt.Sprintf("argument %d of %s", i+1, fv.Name), pos: StartPos(e.Args[i]), env: env})
		}
		call := &ir.Call{Fn: fn, Args: args, T: ft.Result, P: e.Pos}
		return c.checked(call, ft.Result, sizeCheck{what: "the result of " + fv.Name, pos: e.Pos, env: env, force: true})
	}
	return &ir.Call{Fn: fn, Args: args, T: ft.Result, P: e.Pos}
}

// defCall is a call of a def by name; arguments are elaborated against
// the parameter types, and size variables of the callee are mapped to the
// caller's dimensions in the result type.
func (c *checker) defCall(g *global, id *Ident, e *Call, env *scope) ir.Expr {
	t, ok := c.globalRef(g, id.Pos)
	if !ok {
		return nil
	}
	ft, isFn := t.(*ir.Func)
	if !isFn {
		c.errorf(e.LPos, "%s is a value of type %s, not a function", id.Name, t)
		return nil
	}
	if len(e.Args) != len(ft.Params) {
		c.errorf(e.Pos, "%s takes %d argument%s, got %d", id.Name, len(ft.Params), plural(len(ft.Params)), len(e.Args))
		return nil
	}
	args := make([]ir.Expr, len(e.Args))
	dims := map[string]ir.Dim{}
	where := map[string]int{} // the argument that first gave each size
	for i, a := range e.Args {
		// The callee's sizes mean the caller's dimensions matched so far
		// (and nothing yet for the others).
		if args[i] = c.expr(a, env, substDims(ft.Params[i], dims)); args[i] == nil {
			return nil
		}
		if !ir.Equal(args[i].Type(), ft.Params[i]) {
			c.errorf(StartPos(a), "argument %d of %s has type %s; want %s", i+1, id.Name, args[i].Type(), ft.Params[i])
			return nil
		}
		bad := false
		matchDims(ft.Params[i], args[i].Type(), dims, func(sym string, had, got ir.Dim) {
			if !bad {
				bad = true
				c.errorf(StartPos(a), "size mismatch: %s is %s (argument %d of %s) but argument %d has size %s there (its type is %s; %s's parameter is %s)",
					sym, had, where[sym]+1, id.Name, i+1, got, args[i].Type(), id.Name, ft.Params[i])
			}
		})
		if bad {
			return nil
		}
		for sym := range dims {
			if _, ok := where[sym]; !ok {
				where[sym] = i
			}
		}
	}
	return &ir.Call{Fn: &ir.Global{Name: g.name, T: t, P: id.Pos}, Args: args, T: substDims(ft.Result, dims), P: e.Pos}
}

// matchDims records, for each size variable in a parameter type, the
// caller's dimension in the same place, down tuples and function types
// (a function argument's result type binds the sizes of the parameter's
// result, SPEC §2). Two places of one size whose dimensions are both
// known and differ are reported to conflict.
func matchDims(param, arg ir.Type, out map[string]ir.Dim, conflict func(sym string, had, got ir.Dim)) {
	switch p := param.(type) {
	case *ir.Array:
		if a, ok := arg.(*ir.Array); ok {
			if p.Dim.Sym != "" {
				had, seen := out[p.Dim.Sym]
				switch {
				case !seen:
					out[p.Dim.Sym] = a.Dim
				case had.DiffersStatically(a.Dim):
					conflict(p.Dim.Sym, had, a.Dim)
				case !had.Known() && had.Sym == "":
					out[p.Dim.Sym] = a.Dim // a later place knows more
				}
			}
			matchDims(p.Elem, a.Elem, out, conflict)
		}
	case *ir.Tuple:
		if a, ok := arg.(*ir.Tuple); ok && len(a.Elems) == len(p.Elems) {
			for i := range p.Elems {
				matchDims(p.Elems[i], a.Elems[i], out, conflict)
			}
		}
	case *ir.Func:
		if a, ok := arg.(*ir.Func); ok && len(a.Params) == len(p.Params) {
			for i := range p.Params {
				matchDims(p.Params[i], a.Params[i], out, conflict)
			}
			matchDims(p.Result, a.Result, out, conflict)
		}
	}
}

// substDims rewrites a callee's size variables into the caller's
// dimensions (unknown where the caller has none).
func substDims(t ir.Type, dims map[string]ir.Dim) ir.Type {
	switch t := t.(type) {
	case *ir.Array:
		d := t.Dim
		if d.Sym != "" {
			if nd, ok := dims[d.Sym]; ok {
				d = nd
			} else {
				d = ir.Unknown
			}
		}
		return ir.ArrayOf(d, substDims(t.Elem, dims))
	case *ir.Tuple:
		elems := make([]ir.Type, len(t.Elems))
		for i, e := range t.Elems {
			elems[i] = substDims(e, dims)
		}
		return ir.TupleOf(elems...)
	case *ir.Func:
		ps := make([]ir.Type, len(t.Params))
		for i, p := range t.Params {
			ps[i] = substDims(p, dims)
		}
		return &ir.Func{Params: ps, Result: substDims(t.Result, dims)}
	}
	return t
}

func (c *checker) slice(e *Slice, env *scope) ir.Expr {
	x := c.expr(e.X, env, nil)
	if x == nil {
		return nil
	}
	if _, ok := x.Type().(*ir.Array); !ok {
		c.errorf(e.Pos, "cannot slice a value of type %s", x.Type())
		return nil
	}
	var lo, hi ir.Expr
	if e.Lo != nil {
		if lo = c.expectType(e.Lo, env, ir.TI64, "a slice bound"); lo == nil {
			return nil
		}
	} else {
		lo = ir.I64Const(0, e.Pos)
	}
	wrap := func(b ir.Expr) ir.Expr { return b }
	if e.Hi != nil {
		if hi = c.expectType(e.Hi, env, ir.TI64, "a slice bound"); hi == nil {
			return nil
		}
	} else {
		// a[lo:] runs to len(a); bind a first unless it is a name.
		if _, isVar := x.(*ir.Var); !isVar {
			if _, isGlobal := x.(*ir.Global); !isGlobal {
				v := ir.NewVar("sliced", x.Type(), e.Pos)
				val := x
				wrap = func(b ir.Expr) ir.Expr { return &ir.Let{Var: v, Value: val, Body: b, P: e.Pos} }
				x = v
			}
		}
		hi = c.mk(ir.PrimLen, e.Pos, nil, x)
	}
	if !c.constBounds(e, x.Type()) {
		return nil
	}
	d := ir.Unknown
	if l, ok1 := lo.(*ir.Const); ok1 {
		if h, ok2 := hi.(*ir.Const); ok2 {
			if n := h.Val.(int64) - l.Val.(int64); n >= 0 {
				d = ir.ConstDim(n)
			}
		}
	}
	s := c.mk(ir.PrimSlice, e.Pos, d, x, lo, hi)
	if s == nil {
		return nil
	}
	return wrap(s)
}

// constIndex reports a constant index outside the array's size when the
// compiler knows both (SPEC §2): a compile error, not a run-time one.
func (c *checker) constIndex(ix Expr, t ir.Type) bool {
	a, isArr := t.(*ir.Array)
	i, isConst := constInt(ix)
	if !isArr || !isConst {
		return true
	}
	if i < 0 || a.Dim.Known() && i >= a.Dim.N {
		c.errorf(StartPos(ix), "index %d out of range for %s: %s", i, t, rangeText(a.Dim, false))
		return false
	}
	return true
}

// constBounds reports constant slice bounds outside the array's size, or
// in the wrong order.
func (c *checker) constBounds(e *Slice, t ir.Type) bool {
	a, isArr := t.(*ir.Array)
	if !isArr {
		return true
	}
	lo, loConst := int64(0), true
	if e.Lo != nil {
		lo, loConst = constInt(e.Lo)
	}
	for _, b := range []Expr{e.Lo, e.Hi} {
		if b == nil {
			continue
		}
		v, ok := constInt(b)
		if ok && (v < 0 || a.Dim.Known() && v > a.Dim.N) {
			c.errorf(StartPos(b), "slice bound %d out of range for %s: %s", v, t, rangeText(a.Dim, true))
			return false
		}
	}
	if e.Hi != nil && loConst {
		if hi, ok := constInt(e.Hi); ok && hi < lo {
			c.errorf(StartPos(e.Hi), "slice bounds out of order: %d > %d", lo, hi)
			return false
		}
	}
	return true
}

// rangeText says which indices (or slice bounds) a dimension allows.
func rangeText(d ir.Dim, bound bool) string {
	if !d.Known() {
		if bound {
			return "a bound must not be negative"
		}
		return "an index must not be negative"
	}
	if bound {
		return fmt.Sprintf("bounds must be in [0, %d]", d.N)
	}
	if d.N == 0 {
		return "it has no elements"
	}
	return fmt.Sprintf("indices must be in [0, %d)", d.N)
}

// comprehension turns [e for i < m, j < n] into build(m, fn(i) =>
// build(n, fn(j) => e)). Bounds are elaborated outside the generators, so
// the result is rectangular.
func (c *checker) comprehension(e *Comprehension, gens []*Gen, env *scope) ir.Expr {
	outer := env
	bounds := make([]ir.Expr, len(gens))
	for i, g := range gens {
		if bounds[i] = c.expectType(g.Bound, outer, ir.TI64, "a comprehension bound"); bounds[i] == nil {
			return nil
		}
	}
	vars := make([]*ir.Var, len(gens))
	inner := env
	for i, g := range gens {
		vars[i] = ir.NewVar(g.Name, ir.TI64, g.Pos)
		inner = inner.bind(g.Name, vars[i], false)
	}
	body := c.expr(e.Body, inner, nil)
	if body == nil {
		return nil
	}
	if _, isFn := body.Type().(*ir.Func); isFn {
		c.errorf(StartPos(e.Body), "arrays of functions are not supported")
		return nil
	}
	for i := len(gens) - 1; i >= 0; i-- {
		lam := &ir.Lambda{Params: []*ir.Var{vars[i]}, Body: body, P: gens[i].Pos}
		body = c.mk(ir.PrimBuild, e.Pos, c.staticDim(gens[i].Bound, env), bounds[i], lam)
		if body == nil {
			return nil
		}
	}
	return body
}

// bindPattern binds a let or loop pattern to the value v: a name binds
// directly; a tuple pattern binds a fresh variable and projects its
// fields. wrap puts the bindings around a body.
func (c *checker) bindPattern(p Pattern, v ir.Expr, env *scope) (*scope, func(ir.Expr) ir.Expr, bool) {
	type binding struct {
		v   *ir.Var
		val ir.Expr
	}
	var bs []binding
	seen := map[string]bool{}
	var bind func(p Pattern, val ir.Expr) bool
	bind = func(p Pattern, val ir.Expr) bool {
		switch p := p.(type) {
		case *PatName:
			if seen[p.Name] && p.Name != "_" {
				c.errorf(p.Pos, "%s is bound twice in this pattern", p.Name)
				return false
			}
			seen[p.Name] = true
			nv := ir.NewVar(p.Name, val.Type(), p.Pos)
			bs = append(bs, binding{nv, val})
			env = env.bind(p.Name, nv, false)
			return true
		case *PatTuple:
			tt, ok := val.Type().(*ir.Tuple)
			if !ok || len(tt.Elems) != len(p.Elems) {
				c.errorf(p.Pos, "cannot bind a %d-tuple pattern to a value of type %s", len(p.Elems), val.Type())
				return false
			}
			tv, isVar := val.(*ir.Var)
			if !isVar {
				tv = ir.NewVar("tup", val.Type(), p.Pos)
				bs = append(bs, binding{tv, val})
			}
			for i, q := range p.Elems {
				if !bind(q, &ir.Proj{X: tv, Index: i, P: p.Pos}) {
					return false
				}
			}
			return true
		}
		return false
	}
	if !bind(p, v) {
		return env, nil, false
	}
	wrap := func(body ir.Expr) ir.Expr {
		for i := len(bs) - 1; i >= 0; i-- {
			body = &ir.Let{Var: bs[i].v, Value: bs[i].val, Body: body, P: bs[i].v.P}
		}
		return body
	}
	return env, wrap, true
}

func (c *checker) ifExpr(e *If, env *scope, want ir.Type) ir.Expr {
	cond := c.expr(e.Cond, env, ir.TBool)
	if cond == nil {
		return nil
	}
	if !ir.Identical(cond.Type(), ir.TBool) {
		c.errorf(StartPos(e.Cond), "if condition must be a bool, got %s", cond.Type())
		return nil
	}
	var th, el ir.Expr
	if c.flexible(e.Then, env) && !c.flexible(e.Else, env) {
		if el = c.expr(e.Else, env, want); el == nil {
			return nil
		}
		th = c.expr(e.Then, env, el.Type())
	} else {
		if th = c.expr(e.Then, env, want); th == nil {
			return nil
		}
		el = c.expr(e.Else, env, th.Type())
	}
	if th == nil || el == nil {
		return nil
	}
	if !ir.Equal(th.Type(), el.Type()) {
		c.errorf(e.Pos, "if branches have different types: %s and %s", th.Type(), el.Type())
		return nil
	}
	return &ir.If{Cond: cond, Then: th, Else: el, P: e.Pos}
}

// lambda elaborates fn(params) => body. Unannotated parameters take their
// types from want; a single tuple parameter in want spreads over several
// lambda parameters, so jvp(fn(a, b) => ..., (x, y), (dx, dy)) works.
func (c *checker) lambda(e *Lambda, env *scope, want *ir.Func) ir.Expr {
	var wps []ir.Type
	if want != nil {
		wps = want.Params
		if len(wps) == 1 && len(e.Params) > 1 {
			if tt, ok := wps[0].(*ir.Tuple); ok && len(tt.Elems) == len(e.Params) {
				wps = tt.Elems
			}
		}
		if len(wps) != len(e.Params) {
			c.errorf(e.Pos, "this function takes %d parameter%s, but %d %s expected here", len(e.Params), plural(len(e.Params)), len(wps), map[bool]string{true: "is", false: "are"}[len(wps) == 1])
			return nil
		}
	}
	params := make([]*ir.Var, len(e.Params))
	inner := env
	seen := map[string]bool{}
	for i, p := range e.Params {
		if seen[p.Name] {
			c.errorf(p.Pos, "duplicate parameter %s", p.Name)
			return nil
		}
		seen[p.Name] = true
		var t ir.Type
		if p.Type != nil {
			if t = c.typeExpr(p.Type, env, false); t == nil {
				return nil
			}
			if wps != nil && wps[i] != nil && !ir.Equal(t, wps[i]) {
				c.errorf(p.Pos, "parameter %s has type %s, but %s is expected here", p.Name, t, wps[i])
				return nil
			}
		} else if wps != nil && wps[i] != nil {
			t = wps[i]
		} else if t = c.typeFromUse(p.Name, e.Body, inner); t != nil {
			// typed by how the body uses it
		} else {
			c.errorf(p.Pos, "cannot infer the type of parameter %s: annotate it, as in fn(%s: f64) => ...", p.Name, p.Name)
			return nil
		}
		params[i] = ir.NewVar(p.Name, t, p.Pos)
		inner = inner.bind(p.Name, params[i], false)
	}
	var rw ir.Type
	if want != nil {
		rw = want.Result
	}
	body := c.expr(e.Body, inner, rw)
	if body == nil {
		return nil
	}
	return &ir.Lambda{Params: params, Body: body, P: e.Pos}
}

// loop elaborates both loop forms. The state pattern is bound inside the
// body (and a while loop's condition) by projections of one state
// variable.
func (c *checker) loop(e *Loop, env *scope) ir.Expr {
	init := c.expr(e.Init, env, nil)
	if init == nil {
		return nil
	}
	st := init.Type()
	if _, isFn := st.(*ir.Func); isFn {
		c.errorf(StartPos(e.Init), "a loop state cannot be a function")
		return nil
	}
	name := "state"
	if pn, ok := e.Pat.(*PatName); ok {
		name = pn.Name
	}
	state := ir.NewVar(name, st, e.Pos)
	// The body and a while condition each get their own pattern bindings:
	// every binder in a def is a distinct *ir.Var.
	bindState := func() (*scope, func(ir.Expr) ir.Expr, bool) {
		if pn, ok := e.Pat.(*PatName); ok {
			return env.bind(pn.Name, state, false), func(b ir.Expr) ir.Expr { return b }, true
		}
		return c.bindPattern(e.Pat, state, env)
	}
	l := &ir.Loop{State: state, Init: init, P: e.Pos}
	if e.Count != nil {
		if l.Count = c.expectType(e.Count, env, ir.TI64, "a loop count"); l.Count == nil {
			return nil
		}
	} else {
		condEnv, condWrap, ok := bindState()
		if !ok {
			return nil
		}
		cond := c.expectType(e.Cond, condEnv, ir.TBool, "a while condition")
		if cond == nil {
			return nil
		}
		l.Cond = condWrap(cond)
	}
	bodyEnv, wrap, ok := bindState()
	if !ok {
		return nil
	}
	if e.Count != nil {
		l.Index = ir.NewVar(e.Index, ir.TI64, e.IndexPos)
		bodyEnv = bodyEnv.bind(e.Index, l.Index, false)
	}
	body := c.expr(e.Body, bodyEnv, st)
	if body == nil {
		return nil
	}
	if !ir.Equal(body.Type(), st) {
		c.errorf(StartPos(e.Body), "the loop body has type %s, but the loop state has type %s", body.Type(), st)
		return nil
	}
	// The state keeps its initial value's sizes on every iteration.
	l.Body = wrap(c.checked(body, st, sizeCheck{what: "the loop state", pos: StartPos(e.Body), env: bodyEnv, like: state}))
	return l
}
