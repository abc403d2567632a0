package lang

import (
	"fmt"
	"sort"

	"github.com/nabla-lang/nabla/ir"
)

// Run-time size checks (SPEC §2). A def's declared result type and a
// loop's state fix sizes that the body's type may not show (take(x, k) has
// a size known only at run time); where the compiler cannot prove the
// sizes equal, elaboration wraps the value in check_dim calls, which
// every later stage keeps and every backend evaluates. Sizes that are
// known on both sides and differ are compile errors before this runs.

// A sizeCheck says how to guard a value: what names it in messages, where
// a failed check is reported, the scope whose size variables give the
// sizes, like (a value of the wanted type, such as a loop's previous
// state) for sizes the type does not name, whether to check dimensions
// that are statically the same (a function parameter's results, which
// the type cannot vouch for), and whether a size without a value here is
// an error (the def's declared result) or left unchecked.
type sizeCheck struct {
	what   string
	pos    Pos
	env    *scope
	like   ir.Expr
	force  bool
	strict bool
}

// dimValue is the i64 value of dimension d: a constant, or the size
// variable or i64 parameter in scope that names it; nil when it has none.
func (c *checker) dimValue(d ir.Dim, sc sizeCheck) ir.Expr {
	switch {
	case d.Known():
		return ir.I64Const(d.N, sc.pos)
	case d.Sym != "":
		if v := lookupSize(sc.env, d.Sym); v != nil {
			return v
		}
		if v := c.sizeVars[d.Sym]; v != nil {
			return v
		}
	}
	return nil
}

// lookupSize finds the size variable name in scope, skipping locals of
// the same name that are not sizes.
func lookupSize(env *scope, name string) *ir.Var {
	for s := env; s != nil; s = s.parent {
		if s.name == name && s.size && s.v != nil {
			return s.v
		}
	}
	return nil
}

// needsCheck reports whether a value of type got may have sizes other than
// want's: some dimension is not statically the same (or, with force, any
// dimension at all).
func needsCheck(got, want ir.Type, force bool) bool {
	switch w := want.(type) {
	case *ir.Array:
		g, ok := got.(*ir.Array)
		if !ok {
			return false
		}
		return force && (w.Dim.Known() || w.Dim.Sym != "") || !g.Dim.SameStatically(w.Dim) || needsCheck(g.Elem, w.Elem, force)
	case *ir.Tuple:
		g, ok := got.(*ir.Tuple)
		if !ok || len(g.Elems) != len(w.Elems) {
			return false
		}
		for i := range w.Elems {
			if needsCheck(g.Elems[i], w.Elems[i], force) {
				return true
			}
		}
	}
	return false
}

// checked returns x guarded so that its sizes are want's at run time (see
// sizeCheck).
func (c *checker) checked(x ir.Expr, want ir.Type, sc sizeCheck) ir.Expr {
	if !needsCheck(x.Type(), want, sc.force) || sc.like != nil && x == sc.like {
		return x
	}
	switch w := want.(type) {
	case *ir.Array:
		got := ir.Dims(x.Type())
		for axis, wd := range ir.Dims(w) {
			if axis >= len(got) || !sc.force && got[axis].SameStatically(wd) {
				continue
			}
			size, written := c.dimValue(wd, sc), wd.String()
			if size == nil && sc.like != nil {
				size, written = &ir.PrimCall{Op: ir.PrimDim, Args: []ir.Expr{sc.like}, Aux: axis, T: ir.TI64, P: sc.pos}, ""
			}
			if size == nil {
				if ls := c.loose[wd.Sym]; ls != nil && sc.strict {
					c.errorf(sc.pos, "%s: %s", ls.unbound(), "it is needed here to check "+sc.what)
				}
				continue
			}
			aux := ir.DimCheck{Axis: axis, What: sc.what, Type: want.String(), Size: written}
			x = &ir.PrimCall{Op: ir.PrimCheckDim, Args: []ir.Expr{x, size}, Aux: aux, T: x.Type(), P: sc.pos}
		}
		// Arrays of tuples whose fields hold arrays are checked by their
		// dimensions only (see docs/decisions.md).
		return x
	case *ir.Tuple:
		v := ir.NewVar("checked", x.Type(), sc.pos)
		elems := make([]ir.Expr, len(w.Elems))
		for i, wt := range w.Elems {
			field := sc
			field.what = fmt.Sprintf("field %d of %s", i, sc.what)
			if sc.like != nil {
				field.like = &ir.Proj{X: sc.like, Index: i, P: sc.pos}
			}
			elems[i] = c.checked(&ir.Proj{X: v, Index: i, P: sc.pos}, wt, field)
		}
		return &ir.Let{Var: v, Value: x, Body: &ir.MakeTuple{Elems: elems, P: sc.pos}, P: sc.pos}
	}
	return x
}

// checkTail is checked applied where the def's body yields its value:
// inside the lets that begin it, so that the sizes those lets bind from a
// function parameter's first result are in scope.
func (c *checker) checkTail(body ir.Expr, want ir.Type, sc sizeCheck) ir.Expr {
	if l, ok := body.(*ir.Let); ok {
		if name, lazy := c.lazyVars[l.Var]; lazy {
			sc.env = sc.env.bind(name, l.Var, true)
		}
		return &ir.Let{Var: l.Var, Value: l.Value, Body: c.checkTail(l.Body, want, sc), P: l.P}
	}
	return c.checked(body, want, sc)
}

// ---- sizes bound by function parameters ----

// looseSize is a name in a def's parameter types that no array parameter
// binds on entry. With sources, it is a dimension of the result of
// function parameters (def gn(r: [n]f64 -> [m]f64, ...)): the first
// let-bound result of one of them binds it (let y = r(x) in ... binds m
// to the size of y for the rest of the let's scope), and every later
// result is checked against it. Without sources (a name only in a
// function's parameter types, or inside an array of tuples) it names a
// size in types only.
type looseSize struct {
	name    string
	sources []lazySource
}

// lazySource is dimension axis of the array at path in the result of the
// function parameter param (fn, once the parameters are made).
type lazySource struct {
	param int
	fn    *ir.Var
	path  []int
	axis  int
}

// unbound explains why the size has no value where it is used.
func (ls *looseSize) unbound() string {
	if len(ls.sources) == 0 {
		return fmt.Sprintf("size %s has no value here: it appears only inside function types or arrays of tuples of the parameters (bind it with an array parameter)", ls.name)
	}
	return fmt.Sprintf("size %s is used before %s is called: it is the size of %s's first result, so bind a call first (let y = %s(...) in ...)", ls.name, ls.sources[0].fn.Name, ls.sources[0].fn.Name, ls.sources[0].fn.Name)
}

// lazyBindings binds, after a let's value v, the sizes that v (a call of
// a function parameter) is the first result for: v becomes a variable, and
// wrap puts the bindings around the let.
func (c *checker) lazyBindings(v ir.Expr, env *scope, pos Pos) (ir.Expr, *scope, func(ir.Expr) ir.Expr) {
	none := func(e ir.Expr) ir.Expr { return e }
	call, ok := underlyingCall(v).(*ir.Call)
	if !ok || len(c.loose) == 0 {
		return v, env, none
	}
	fn, ok := call.Fn.(*ir.Var)
	if !ok {
		return v, env, none
	}
	names := make([]string, 0, len(c.loose))
	for name := range c.loose {
		names = append(names, name)
	}
	sort.Strings(names)
	var res *ir.Var
	var binds []*ir.Let
	for _, name := range names {
		if lookupSize(env, name) != nil {
			continue
		}
		for _, src := range c.loose[name].sources {
			if src.fn != fn {
				continue
			}
			if res == nil {
				res = ir.NewVar(fn.Name+"_result", v.Type(), pos)
			}
			m := ir.NewVar(name, ir.TI64, pos)
			c.lazyVars[m] = name
			dim := &ir.PrimCall{Op: ir.PrimDim, Args: []ir.Expr{ir.PathExpr(res, src.path, pos)}, Aux: src.axis, T: ir.TI64, P: pos}
			binds = append(binds, &ir.Let{Var: m, Value: dim, P: pos})
			env = env.bind(name, m, true)
			break
		}
	}
	if res == nil {
		return v, env, none
	}
	return res, env, func(body ir.Expr) ir.Expr {
		for i := len(binds) - 1; i >= 0; i-- {
			body = &ir.Let{Var: binds[i].Var, Value: binds[i].Value, Body: body, P: pos}
		}
		return &ir.Let{Var: res, Value: v, Body: body, P: pos}
	}
}

// underlyingCall is the call inside the checks that guard its result.
func underlyingCall(v ir.Expr) ir.Expr {
	for {
		switch e := v.(type) {
		case *ir.PrimCall:
			if e.Op != ir.PrimCheckDim {
				return v
			}
			v = e.Args[0]
		case *ir.Let:
			if e.Var.Name != "checked" {
				return v
			}
			v = e.Value
		default:
			return v
		}
	}
}

// walkDims calls f for each named dimension that a value of type t has on
// entry: the dimensions of arrays reached through tuple fields (path).
func walkDims(t TypeExpr, path []int, f func(dim DimExpr, path []int, axis int)) {
	switch t := t.(type) {
	case *ArrayType:
		axis := 0
		for at := t; at != nil; axis++ {
			if at.Dim.Name != "" {
				f(at.Dim, append([]int(nil), path...), axis)
			}
			at, _ = at.Elem.(*ArrayType)
		}
	case *TupleType:
		for i, e := range t.Elems {
			walkDims(e, append(append([]int(nil), path...), i), f)
		}
	}
}

// walkLooseDims calls f for the named dimensions of a parameter type that
// walkDims does not reach; inResult marks those of a function
// parameter's result that a path reaches, which that function binds.
func walkLooseDims(t TypeExpr, f func(dim DimExpr, inResult bool, path []int, axis int)) {
	if ft, ok := t.(*FuncType); ok {
		walkDims(ft.Result, nil, func(dim DimExpr, path []int, axis int) { f(dim, true, path, axis) })
	}
	allDims(t, func(dim DimExpr) { f(dim, false, nil, 0) })
}

// allDims calls f for every named dimension in t.
func allDims(t TypeExpr, f func(dim DimExpr)) {
	switch t := t.(type) {
	case *ArrayType:
		if t.Dim.Name != "" {
			f(t.Dim)
		}
		allDims(t.Elem, f)
	case *TupleType:
		for _, e := range t.Elems {
			allDims(e, f)
		}
	case *FuncType:
		for _, p := range t.Params {
			allDims(p, f)
		}
		allDims(t.Result, f)
	}
}

// ---- lambda parameters typed by their use ----

// typeFromUse finds the type of an unannotated lambda parameter from how
// the lambda's body uses it: as an argument of a function whose parameter
// types are known (a def, or a local of function type, such as the f of
// def twice(f: f64 -> f64) = fn(x) => f(f(x))). It returns nil when no use
// decides it.
func (c *checker) typeFromUse(name string, body Expr, env *scope) ir.Type {
	var found ir.Type
	var walk func(e Expr)
	walk = func(e Expr) {
		if found != nil || e == nil {
			return
		}
		switch e := e.(type) {
		case *Call:
			if ft := c.calleeType(e.Fn, name, env); ft != nil && len(ft.Params) == len(e.Args) {
				for i, a := range e.Args {
					if id, ok := unparen(a).(*Ident); ok && id.Name == name {
						found = ft.Params[i]
						return
					}
				}
			}
		case *Let:
			walk(e.Value)
			if !patBinds(e.Pat, name) {
				walk(e.Body)
			}
			return
		case *Comprehension:
			for _, g := range e.Gens {
				walk(g.Bound)
				if g.Name == name {
					return
				}
			}
			walk(e.Body)
			return
		case *Lambda:
			for _, p := range e.Params {
				if p.Name == name {
					return
				}
			}
			walk(e.Body)
			return
		case *Loop:
			walk(e.Init)
			walk(e.Count)
			if !patBinds(e.Pat, name) && e.Index != name {
				walk(e.Cond)
				walk(e.Body)
			}
			return
		}
		for _, k := range subExprs(e) {
			walk(k)
		}
	}
	walk(body)
	return found
}

// calleeType is the type of a called function named fn, when it is a def
// or a local function other than name; sizes of a def's own are forgotten.
func (c *checker) calleeType(fn Expr, name string, env *scope) *ir.Func {
	id, ok := unparen(fn).(*Ident)
	if !ok || id.Name == name {
		return nil
	}
	if b := env.lookup(id.Name); b != nil {
		if b.v != nil {
			ft, _ := b.v.T.(*ir.Func)
			return ft
		}
		return nil
	}
	g := c.lookupGlobal(env.mod, id.Name)
	if g == nil || g.state == 1 || c.isGeneric(g) {
		return nil
	}
	t, ok := c.globalRef(g, id.Pos)
	if !ok {
		return nil
	}
	ft, _ := ir.EraseSizes(t).(*ir.Func)
	return ft
}

// patBinds reports whether pattern p binds name.
func patBinds(p Pattern, name string) bool {
	switch p := p.(type) {
	case *PatName:
		return p.Name == name
	case *PatTuple:
		for _, q := range p.Elems {
			if patBinds(q, name) {
				return true
			}
		}
	}
	return false
}
