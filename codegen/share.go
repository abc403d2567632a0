package codegen

import "github.com/nabla-lang/nabla/ir"

// Shared recipes. let t = x * y + z in t * t reads t twice, so the
// single-use rule of canDefer stores t and reads it back. When every use
// of the variable is an operand of the elementwise expression that the
// let's body is (so one consumer evaluates the body once per element, in
// one place), the value stays a recipe whose element is computed once
// per index and kept in a local: the second use reads that local. The
// value's recipe must not fail while it is evaluated (lazy.safe): its
// checks were emitted when it was compiled, so errors keep their order.

// sharedInBody reports whether every use of v in body is an operand of an
// elementwise primitive on arrays, reached from body through elementwise
// primitives only.
func sharedInBody(body ir.Expr, v *ir.Var) bool {
	if ir.Rank(v.T) == 0 || ir.HasInPlace(body) {
		return false
	}
	var walk func(e ir.Expr) bool
	walk = func(e ir.Expr) bool {
		switch e := e.(type) {
		case *ir.Var:
			return true // a use in operand position, or another variable
		case *ir.Const:
			return true
		case *ir.PrimCall:
			if !isRecipeOp(e) {
				return !mentions(e, v)
			}
			for _, a := range e.Args {
				if !walk(a) {
					return false
				}
			}
			return true
		}
		return !mentions(e, v)
	}
	pc, ok := body.(*ir.PrimCall)
	return ok && isRecipeOp(pc) && walk(body)
}

// isRecipeOp is an elementwise f64 primitive on arrays that compiles to a
// recipe (lazyElementwise).
func isRecipeOp(pc *ir.PrimCall) bool {
	if !pc.Op.Elementwise || pc.Op.InPlace() || pc.Op.AD != ir.NotAD || ir.Rank(pc.Type()) == 0 {
		return false
	}
	k, ok := ir.Leaf(pc.Type())
	return ok && k == ir.F64
}

// mentions reports whether v occurs in e.
func mentions(e ir.Expr, v *ir.Var) bool {
	if x, ok := e.(*ir.Var); ok {
		return x == v
	}
	found := false
	ir.EachChild(e, func(_ int, c ir.Expr) { found = found || mentions(c, v) })
	return found
}

// memo is a recipe computing each element of lz once per index
// expression: the first evaluation at idx stores it in a local, later ones
// read the local. Index expressions are fresh loop variables, so equal
// strings are the same element in the same loop body.
func (f *fn) memo(lz *lazy) *lazy {
	seen := map[string]string{}
	m := *lz
	m.cheap = false
	m.elem = func(idx string) string {
		if s, ok := seen[idx]; ok {
			return s
		}
		s := f.def("e", lz.elem(idx))
		seen[idx] = s
		return s
	}
	return &m
}
