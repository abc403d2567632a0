package rewrite

import "github.com/nabla-lang/nabla/ir"

// Terms are ir.Expr trees; walking, rebuilding, alpha-equivalence,
// hashing and the effect analyses that keep passes sound are in package
// ir (walk.go, equal.go, effects.go).

// isAtom reports whether e may be repeated freely: a variable, a constant
// or the name of a function. (A value def's name is not an atom: using it
// evaluates the def, which may fail.)
func isAtom(e ir.Expr) bool {
	switch e := e.(type) {
	case *ir.Var, *ir.Const:
		return true
	case *ir.Global:
		_, isFn := e.T.(*ir.Func)
		return isFn
	}
	return false
}
