package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Buffer reuse. Values are immutable, so an array can be overwritten only
// once nothing refers to it. The compiler finds, without running
// anything, arrays the evaluation itself made and that die at a known
// point, and gives them back to the call's machine there
// (runtime.Machine.Recycle); the next array of the same kind and size
// reuses them. Three such points:
//
//   - a fresh array passed straight to a primitive that keeps no
//     reference to it (an elementwise operation, a reduction, a product),
//     once the primitive returns: the t of t + y in a*x + y;
//   - a let-bound fresh array whose value cannot reach the let's result
//     (by the flow relation of ir.FlowKids, closures and calls), once the
//     body is evaluated: the temporaries of a loop body;
//   - a loop state that each iteration makes afresh without reusing the
//     previous one, once the next state exists.
//
// "Fresh" is static: an elementwise operation with a fresh result
// (ir.FreshResult), a comprehension the compiler inlines, a matrix
// product or outer product, zeros and ones, or a let or if whose results
// are such. Nothing else is recycled, so whatever a primitive, a def or
// the caller may share stays untouched.

// freshArray reports whether evaluating e always makes a new array that
// nothing else refers to. lets maps the let-bound variables in scope to
// their values.
func freshArray(e ir.Expr, lets map[*ir.Var]ir.Expr) bool {
	if _, isArr := e.Type().(*ir.Array); !isArr {
		return false
	}
	switch e := e.(type) {
	case *ir.PrimCall:
		switch {
		case e.Op == nil:
			return false
		case e.Op.Elementwise:
			return ir.FreshResult(e)
		case e.Op == ir.PrimMatmul || e.Op == ir.PrimOuter || e.Op == ir.PrimZeros || e.Op == ir.PrimOnes:
			return true
		}
		return inlinable(e)
	case *ir.Let:
		lets[e.Var] = e.Value
		defer delete(lets, e.Var)
		return freshArray(e.Body, lets)
	case *ir.If:
		return freshArray(e.Then, lets) && freshArray(e.Else, lets)
	case *ir.Var:
		if v, ok := lets[e]; ok {
			return freshArray(v, lets)
		}
	}
	return false
}

// inlinable reports whether the compiler inlines the comprehension e
// (see comprehension), whose result is then a new array.
func inlinable(e *ir.PrimCall) bool {
	at, isArr := e.T.(*ir.Array)
	if !isArr {
		return false
	}
	if _, ok := scalarKind(at.Elem); !ok {
		if _, rows := at.Elem.(*ir.Array); !rows {
			return false
		}
	}
	switch {
	case e.Op == ir.PrimBuild && len(e.Args) == 2:
		_, ok := literalLambda(e.Args[1], 1)
		return ok
	case e.Op == ir.PrimMap && len(e.Args) >= 2:
		if _, ok := literalLambda(e.Args[0], len(e.Args)-1); !ok {
			return false
		}
		for _, a := range e.Args[1:] {
			at, isArr := a.Type().(*ir.Array)
			if !isArr || !isScalar(at.Elem) {
				return false
			}
		}
		return true
	}
	return false
}

// mayKeep reports whether x's array may be referred to by e's value: x
// flows into it (ir.FlowKids), or a closure or a called function value
// that mentions x does. A scalar value refers to nothing.
func mayKeep(e ir.Expr, x *ir.Var, lets map[*ir.Var]ir.Expr) bool {
	if isScalar(e.Type()) {
		return false
	}
	switch e := e.(type) {
	case *ir.Var:
		if e == x {
			return true
		}
		if v, ok := lets[e]; ok {
			return mayKeep(v, x, lets)
		}
		return false
	case *ir.Let:
		lets[e.Var] = e.Value
		defer delete(lets, e.Var)
		return mayKeep(e.Body, x, lets)
	case *ir.Lambda:
		return mentions(e, x, lets)
	case *ir.Call:
		if mentions(e.Fn, x, lets) {
			return true
		}
	}
	for _, k := range ir.FlowKids(e) {
		if mayKeep(k, x, lets) {
			return true
		}
	}
	return false
}

// mentions reports whether e uses x or a let-bound variable whose value
// mentions x.
func mentions(e ir.Expr, x *ir.Var, lets map[*ir.Var]ir.Expr) bool {
	found := false
	ir.Walk(e, func(y ir.Expr, enter bool) {
		if v, ok := y.(*ir.Var); ok && enter && !found {
			if v == x {
				found = true
			} else if val, ok := lets[v]; ok && mentions(val, x, lets) {
				found = true
			}
		}
	}, nil)
	return found
}

// consumes reports whether primitive call e keeps no reference to its
// arguments once it returns: a scalar result (which refers to nothing),
// or an elementwise operation or product whose result is fresh.
func consumes(e *ir.PrimCall) bool {
	if e.Op == nil || e.Op.InPlace() {
		return false
	}
	if isScalar(e.T) {
		return true
	}
	return (e.Op.Elementwise && ir.FreshResult(e)) || e.Op == ir.PrimMatmul || e.Op == ir.PrimOuter
}

// recycle gives v's array back to the machine.
func recycle(m *runtime.Machine, v runtime.Value) {
	if a, ok := v.R.(*runtime.Array); ok {
		m.Recycle(a)
	}
}

// deadArgs lists which arguments of e are fresh arrays that die when e
// returns (nil if none).
func deadArgs(e *ir.PrimCall) []bool {
	if !consumes(e) {
		return nil
	}
	var dead []bool
	for j, a := range e.Args {
		if a != nil && freshArray(a, map[*ir.Var]ir.Expr{}) {
			if dead == nil {
				dead = make([]bool, len(e.Args))
			}
			dead[j] = true
		}
	}
	return dead
}

// letDies reports whether the value of let e is a fresh array that dies
// when the let's body has been evaluated.
func letDies(e *ir.Let) bool {
	return freshArray(e.Value, map[*ir.Var]ir.Expr{}) && !mayKeep(e.Body, e.Var, map[*ir.Var]ir.Expr{})
}

// stateDies reports whether each state of loop e but the initial one is
// a fresh array that dies once the next state is computed.
func stateDies(e *ir.Loop) bool {
	return freshArray(e.Body, map[*ir.Var]ir.Expr{}) && !mayKeep(e.Body, e.State, map[*ir.Var]ir.Expr{})
}
