// Saved tapes must be rectangular: the forward pass of a saving map or
// loop stacks each element's (or iteration's) tape into one array, and
// an array's rows all have one shape. A tape value whose size can change
// from one element to the next (take(x, i + 1), a gather over a
// shrinking set) makes the body be recomputed instead.

package ad

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// mayBeRagged reports whether some tape value of k may have a different
// shape in different elements or iterations. own are the body's own
// variables (index, state, elements): their values vary, their shapes
// do not (rows of one array; a loop state keeps its type). A value's
// shape can vary only through a dimension known only at run time, fixed
// by the shapes of its operands and the integer or boolean values it
// reads, so those are followed back to the body's own variables.
func (k *cut) mayBeRagged(own []*ir.Var) bool {
	s := shapeScan{def: map[*ir.Var]ir.Expr{}, varies: map[*ir.Var]bool{}, memo: map[*ir.Var]bool{}}
	if k.index != nil {
		s.varies[k.index] = true
	}
	for _, v := range own {
		s.varies[v] = true
	}
	if !slices.ContainsFunc(k.tape, func(v *ir.Var) bool { return hasRuntimeDim(v.T) }) {
		return false
	}
	for _, b := range k.fwd.binds {
		s.bind(b.v, b.val)
	}
	for _, v := range k.tape {
		if s.shapeVaries(v) {
			return true
		}
	}
	return false
}

// A shapeScan knows, for the forward block's variables and the lets
// inside their values, the defining expression and whether the value
// depends on the body's own variables.
type shapeScan struct {
	def    map[*ir.Var]ir.Expr
	varies map[*ir.Var]bool
	memo   map[*ir.Var]bool
}

// bind records v = x, after the binders nested in x.
func (s *shapeScan) bind(v *ir.Var, x ir.Expr) {
	s.scan(x)
	s.def[v] = x
	s.varies[v] = s.dependsOnOwn(x)
}

// scan records the lets nested in x, in evaluation order, and marks the
// binders whose values vary: a lambda's parameters (but an index, which
// runs over 0..n-1 whatever the element) and a loop's state take their
// values from the expression around them.
func (s *shapeScan) scan(x ir.Expr) {
	switch x := x.(type) {
	case *ir.Let:
		s.bind(x.Var, x.Value)
		s.scan(x.Body)
		return
	case *ir.Loop:
		if s.dependsOnOwn(x) {
			s.varies[x.State] = true
		}
	case *ir.Lambda:
	default:
		if s.dependsOnOwn(x) {
			ir.EachChild(x, func(_ int, c ir.Expr) {
				if l, ok := c.(*ir.Lambda); ok {
					for i, p := range l.Params {
						if i == 0 && takesIndex(x) {
							// 0..n-1 in every element: n is checked
							// where it is read.
							continue
						}
						s.varies[p] = true
					}
				}
			})
		}
	}
	ir.EachChild(x, func(_ int, c ir.Expr) { s.scan(c) })
}

// dependsOnOwn reports whether the value of x may vary with the body's
// own variables. A length reads only a shape.
func (s *shapeScan) dependsOnOwn(x ir.Expr) bool {
	switch x := x.(type) {
	case *ir.Var:
		return s.varies[x]
	case *ir.Const:
		return false
	case *ir.Let:
		if s.dependsOnOwn(x.Value) {
			s.varies[x.Var] = true
		}
		return s.dependsOnOwn(x.Body)
	case *ir.PrimCall:
		if x.Op == ir.PrimLen {
			return s.exprShapeVaries(x.Args[0])
		}
	}
	varies := false
	ir.EachChild(x, func(_ int, c ir.Expr) {
		if !varies {
			varies = s.dependsOnOwn(c)
		}
	})
	return varies
}

// shapeVaries reports whether v's shape may vary, by its type first.
func (s *shapeScan) shapeVaries(v *ir.Var) bool {
	if !hasRuntimeDim(v.T) {
		return false
	}
	if r, ok := s.memo[v]; ok {
		return r
	}
	s.memo[v] = true // no cycles in SSA; be conservative if there were
	// Variables without a definition here (own ones, lambda parameters,
	// loop states, the enclosing code's) keep their shape: rows of one
	// array, a state of fixed type, a value bound once outside.
	r := false
	if x, ok := s.def[v]; ok {
		r = s.exprShapeVaries(x)
	}
	s.memo[v] = r
	return r
}

// exprShapeVaries reports whether the shape of x, or an integer or
// boolean it reads, may vary with the body's own variables.
func (s *shapeScan) exprShapeVaries(x ir.Expr) bool {
	if sc, ok := x.Type().(ir.Scalar); ok {
		// A size, a bound or a condition: its value counts.
		return sc.Kind != ir.F64 && s.dependsOnOwn(x)
	}
	if hasIntLeaf(x.Type()) && s.dependsOnOwn(x) {
		return true // a tuple with an integer that varies
	}
	if l, ok := x.(*ir.Lambda); ok {
		return s.exprShapeVaries(l.Body) // the shape of what it returns
	}
	if !hasRuntimeDim(x.Type()) {
		return false // every size is a constant or the def's size variable
	}
	switch x := x.(type) {
	case *ir.Var:
		return s.shapeVaries(x)
	case *ir.Call:
		// A def may size its result by any value it is given.
		return s.dependsOnOwn(x)
	case *ir.PrimCall:
		switch x.Op {
		case ir.PrimIndex:
			// a[i] has a row's shape whatever i is.
			return s.exprShapeVaries(x.Args[0])
		case ir.PrimWhileSave:
			// As many rows as iterations, which any value may decide.
			return s.dependsOnOwn(x)
		}
	}
	varies := false
	ir.EachChild(x, func(_ int, c ir.Expr) {
		if !varies {
			varies = s.exprShapeVaries(c)
		}
	})
	return varies
}

// takesIndex reports whether x calls its function with an index first.
func takesIndex(x ir.Expr) bool {
	p, ok := x.(*ir.PrimCall)
	return ok && (p.Op == ir.PrimBuild || p.Op == ir.PrimLoopSave)
}

// hasRuntimeDim reports whether some array in t has a dimension known
// only at run time.
func hasRuntimeDim(t ir.Type) bool {
	switch t := t.(type) {
	case *ir.Array:
		return (t.Dim.Sym == "" && !t.Dim.Known()) || hasRuntimeDim(t.Elem)
	case *ir.Tuple:
		return slices.ContainsFunc(t.Elems, hasRuntimeDim)
	}
	return false
}

// hasIntLeaf reports whether t holds an i64 or bool.
func hasIntLeaf(t ir.Type) bool {
	switch t := t.(type) {
	case ir.Scalar:
		return t.Kind != ir.F64
	case *ir.Array:
		return hasIntLeaf(t.Elem)
	case *ir.Tuple:
		return slices.ContainsFunc(t.Elems, hasIntLeaf)
	}
	return false
}
