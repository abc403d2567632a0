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

// freshArray reports whether evaluating e always makes a new array of
// scalars that nothing else refers to. lets maps the let-bound variables
// in scope to their values.
func (it *Interp) freshArray(e ir.Expr, lets map[*ir.Var]ir.Expr) bool {
	return it.freshAt(e, nil, lets)
}

// freshAt is freshArray for the part of e's value at path (fields of
// nested tuples, outermost first): (2*g, zeros_like(x)) is fresh at [0]
// and [1]. A call of a def is fresh where the def's body is; a variable
// where its let's value is, if it is used only once (so that no other
// field or value shares the array).
func (it *Interp) freshAt(e ir.Expr, path []int, lets map[*ir.Var]ir.Expr) bool {
	if len(path) == 0 {
		if k, ok := ir.Leaf(e.Type()); !ok || ir.Rank(e.Type()) == 0 || k > ir.Bool {
			return false
		}
	}
	switch e := e.(type) {
	case *ir.PrimCall:
		if len(path) != 0 || e.Op == nil {
			return false
		}
		switch {
		case e.Op.Elementwise:
			return ir.FreshResult(e)
		case e.Op == ir.PrimMatmul || e.Op == ir.PrimOuter || e.Op == ir.PrimZeros || e.Op == ir.PrimOnes || e.Op == ir.PrimZerosLike:
			return true
		}
		return inlinable(e)
	case *ir.MakeTuple:
		return len(path) != 0 && path[0] < len(e.Elems) && it.freshAt(e.Elems[path[0]], path[1:], lets)
	case *ir.Proj:
		return it.freshAt(e.X, append([]int{e.Index}, path...), lets)
	case *ir.Let:
		if n, lazy := ir.VarUses(e.Body, e.Var); n == 1 && !lazy {
			lets[e.Var] = e.Value
			defer delete(lets, e.Var)
		}
		return it.freshAt(e.Body, path, lets)
	case *ir.If:
		return it.freshAt(e.Then, path, lets) && it.freshAt(e.Else, path, lets)
	case *ir.Var:
		if v, ok := lets[e]; ok {
			return it.freshAt(v, path, lets)
		}
	case *ir.Call:
		if g, ok := e.Fn.(*ir.Global); ok {
			if dc, ok := it.defs[g.Name]; ok && dc.def.HasParams && dc.def.Body != nil {
				return it.freshAt(dc.def.Body, path, map[*ir.Var]ir.Expr{})
			}
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
func (it *Interp) deadArgs(e *ir.PrimCall) []bool {
	if !consumes(e) {
		return nil
	}
	var dead []bool
	for j, a := range e.Args {
		if a != nil && it.freshArray(a, map[*ir.Var]ir.Expr{}) {
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
func (it *Interp) letDies(e *ir.Let) bool {
	return it.freshArray(e.Value, map[*ir.Var]ir.Expr{}) && !mayKeep(e.Body, e.Var, map[*ir.Var]ir.Expr{})
}

// stateDies reports whether each state of loop e but the initial one is
// a fresh array that dies once the next state is computed.
func (it *Interp) stateDies(e *ir.Loop) bool {
	return it.freshArray(e.Body, map[*ir.Var]ir.Expr{}) && !mayKeep(e.Body, e.State, map[*ir.Var]ir.Expr{})
}

// discards lists the fresh arrays, as paths into x's tuple, that die when
// field keep of x is taken: x is an expression whose tuple nothing else
// sees (not a variable, nor a field of one), and its other fields are
// dropped. grad(f)(x) is f$vjp(x, 1.0).1.0, or f$vjp's body inlined, whose
// cotangents for closed-over data die at once.
func (it *Interp) discards(x ir.Expr, keep int) [][]int {
	for y := x; ; {
		if p, ok := y.(*ir.Proj); ok {
			y = p.X
			continue
		}
		switch y.(type) {
		case *ir.Var, *ir.Global:
			return nil // a tuple other expressions may see
		}
		break
	}
	tt, ok := x.Type().(*ir.Tuple)
	if !ok {
		return nil
	}
	var paths [][]int
	var walk func(path []int, t ir.Type)
	walk = func(path []int, t ir.Type) {
		switch t := t.(type) {
		case *ir.Tuple:
			for i, el := range t.Elems {
				walk(append(path[:len(path):len(path)], i), el)
			}
		case *ir.Array:
			if it.freshAt(x, path, map[*ir.Var]ir.Expr{}) {
				paths = append(paths, path)
			}
		}
	}
	for j, el := range tt.Elems {
		if j != keep {
			walk([]int{j}, el)
		}
	}
	return paths
}

// recyclePaths recycles the arrays at paths of tuple t.
func recyclePaths(m *runtime.Machine, t runtime.Tuple, paths [][]int) {
	for _, p := range paths {
		v := runtime.Value{R: t}
		for _, i := range p {
			tt, ok := v.R.(runtime.Tuple)
			if !ok || i >= len(tt) {
				v = runtime.Value{}
				break
			}
			v = tt[i]
		}
		recycle(m, v)
	}
}
