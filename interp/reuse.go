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
		case e.Op.InPlace():
			// acc_add(acc, v) returns acc, updated.
			return it.freshAt(e.Args[0], nil, lets)
		case e.Op == ir.PrimMatmul || e.Op == ir.PrimOuter || e.Op == ir.PrimZeros || e.Op == ir.PrimOnes || e.Op == ir.PrimZerosLike || e.Op == ir.PrimUpdate:
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
	if _, isArr := e.T.(*ir.Array); !isArr {
		return false
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
	return (&refScan{x: x, lets: lets, keeps: map[*ir.Var]bool{}, ments: map[*ir.Var]bool{}}).mayKeep(e)
}

// mentions reports whether e uses x or a let-bound variable whose value
// mentions x.
func mentions(e ir.Expr, x *ir.Var, lets map[*ir.Var]ir.Expr) bool {
	return (&refScan{x: x, lets: lets, ments: map[*ir.Var]bool{}}).mentions(e)
}

// A refScan answers mayKeep and mentions for one x, remembering the
// answer for each let-bound variable it looked through: a variable used
// many times, in values that are used many times, would otherwise be
// looked through once per path to it, exponentially many in unoptimized
// derivative code. A variable is bound once, before its uses, so its
// answer does not depend on where it is used.
type refScan struct {
	x            *ir.Var
	lets         map[*ir.Var]ir.Expr
	keeps, ments map[*ir.Var]bool
}

func (s *refScan) mayKeep(e ir.Expr) bool {
	// A let has its body's type: go down a chain of lets before asking
	// for a type, which walks the chain (a type per let of a chain of n
	// lets made compiling loops of n lines cubic in n).
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		s.lets[l.Var] = l.Value
		defer delete(s.lets, l.Var)
		e = l.Body
	}
	if isScalar(e.Type()) {
		return false
	}
	if holdsRefs(e.Type()) {
		// Functions and boxed elements (tuples in arrays) can hold x even
		// in a value made afresh: build(n, fn(i) => (x, 1.0)).
		return s.mentions(e)
	}
	switch e := e.(type) {
	case *ir.Var:
		if e == s.x {
			return true
		}
		v, ok := s.lets[e]
		if !ok {
			return false
		}
		keep, done := s.keeps[e]
		if !done {
			keep = s.mayKeep(v)
			s.keeps[e] = keep
		}
		return keep
	case *ir.Lambda:
		return s.mentions(e)
	case *ir.Call:
		if s.mentions(e.Fn) {
			return true
		}
	}
	for _, k := range ir.FlowKids(e) {
		if s.mayKeep(k) {
			return true
		}
	}
	return false
}

func (s *refScan) mentions(e ir.Expr) bool {
	found := false
	ir.Walk(e, func(y ir.Expr, enter bool) {
		v, ok := y.(*ir.Var)
		if !ok || !enter || found {
			return
		}
		if v == s.x {
			found = true
			return
		}
		val, ok := s.lets[v]
		if !ok {
			return
		}
		m, done := s.ments[v]
		if !done {
			m = s.mentions(val)
			s.ments[v] = m
		}
		found = m
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

// What dies with a use: nothing, a fresh array (recycled), or the header
// of a row view made by runtime.Machine.Row (released).
const (
	deadNone uint8 = iota
	deadArray
	deadRow
)

// deadArgs lists which arguments of e die when e returns (nil if none):
// fresh arrays, and rows a[i] read only for this call, which are then
// made with a pooled header.
func (it *Interp) deadArgs(e *ir.PrimCall) []uint8 {
	inPlace := e.Op != nil && e.Op.InPlace()
	if !inPlace && !consumes(e) {
		return nil
	}
	var dead []uint8
	for j, a := range e.Args {
		d := deadNone
		switch {
		case a == nil, inPlace && j == 0:
			// An in-place primitive returns its accumulator and copies
			// the rest.
		case it.freshArray(a, map[*ir.Var]ir.Expr{}):
			d = deadArray
		case isRow(a):
			d = deadRow
		}
		if d != deadNone {
			if dead == nil {
				dead = make([]uint8, len(e.Args))
			}
			dead[j] = d
		}
	}
	return dead
}

// isRow reports whether e is a[i] with an array result.
func isRow(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && pc.Op == ir.PrimIndex && len(pc.Args) == 2 && ir.Rank(pc.T) >= 1
}

// release gives back what died with a use.
func release(m *runtime.Machine, d uint8, v runtime.Value) {
	switch d {
	case deadArray:
		recycle(m, v)
	case deadRow:
		if a, ok := v.R.(*runtime.Array); ok {
			m.ReleaseRow(a)
		}
	}
}

// letDead reports what dies when let e's body has been evaluated: its
// value if that is a fresh array or a row that the body's result cannot
// refer to.
func (it *Interp) letDead(e *ir.Let) uint8 {
	if it.letMayKeep(e) {
		return deadNone
	}
	switch {
	case it.freshArray(e.Value, map[*ir.Var]ir.Expr{}):
		return deadArray
	case isRow(e.Value):
		return deadRow
	}
	return deadNone
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

// compileRow compiles a[i] with an array result as a view with a pooled
// header (runtime.Machine.Row), for a use after which it dies.
func (c *fnComp) compileRow(e *ir.PrimCall) (evalFn, error) {
	x, err := c.compile(e.Args[0])
	if err != nil {
		return nil, err
	}
	idx, err := c.typedI(e.Args[1])
	if err != nil {
		return nil, err
	}
	pos := e.P
	return func(fr *frame) (runtime.Value, error) {
		v, err := x(fr)
		if err != nil {
			return v, err
		}
		i := idx(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		a, _ := v.R.(*runtime.Array)
		if a == nil {
			return runtime.Value{}, internalErrorf(pos, "index of %s", describe(v))
		}
		if err := runtime.CheckIndex(i, a.Len()); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return runtime.Arr(fr.m.Row(a, int(i))), nil
	}, nil
}

// holdsRefs reports whether values of type t can refer to other values
// from inside a fresh container: t has a function type somewhere, or an
// array whose elements are boxed (not numbers or arrays of numbers).
func holdsRefs(t ir.Type) bool {
	switch t := t.(type) {
	case *ir.Func:
		return true
	case *ir.Tuple:
		for _, el := range t.Elems {
			if holdsRefs(el) {
				return true
			}
		}
	case *ir.Array:
		_, scalars := ir.Leaf(t)
		return !scalars
	}
	return false
}
