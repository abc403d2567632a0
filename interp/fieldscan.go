package interp

import "github.com/nabla-lang/nabla/ir"

// letFieldsOnly is fieldsOnly(e.Body, e.Var) for the lets of a tuple
// loop, answered for every let below e from one walk. Asking fieldsOnly
// of each let's body walked the rest of the def once per let, which made
// compiling a def of n loops quadratic in n. An answer is kept per let
// node, which is immutable. The walk keeps one record per binding: a
// variable that two lets bind (code that rewriting copied keeps its
// binders) gets the uses in each let's own body.
func (it *Interp) letFieldsOnly(e *ir.Let) bool {
	if ans, ok := it.letFields[e]; ok {
		return ans
	}
	if it.letFields == nil {
		it.letFields = map[*ir.Let]bool{}
	}
	// binding is the innermost let of a variable: the number of lambdas
	// around it, and whether its body used the whole tuple.
	type binding struct {
		lambdas int
		whole   bool
	}
	bound := map[*ir.Var]*binding{}
	var walk func(x ir.Expr, lambdas int)
	walk = func(x ir.Expr, lambdas int) {
		switch x := x.(type) {
		case nil:
			return
		case *ir.Var:
			if b := bound[x]; b != nil {
				b.whole = true
			}
			return
		case *ir.Proj:
			// A field read, unless inside a lambda of the let's body.
			if v, ok := x.X.(*ir.Var); ok {
				if b := bound[v]; b != nil && b.lambdas < lambdas {
					b.whole = true
				}
				return
			}
		case *ir.Let:
			walk(x.Value, lambdas)
			outer, b := bound[x.Var], &binding{lambdas: lambdas}
			bound[x.Var] = b
			walk(x.Body, lambdas)
			bound[x.Var] = outer
			it.letFields[x] = !b.whole
			return
		case *ir.Lambda:
			lambdas++
		}
		for _, k := range ir.Children(x) {
			walk(k, lambdas)
		}
	}
	walk(e, 0)
	return it.letFields[e]
}
