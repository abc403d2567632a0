package ir

// Effect and alias analyses: which expressions cannot fail at run time
// (so a pass may drop or duplicate them), which primitive results are
// stored apart from their arguments, and which variables hold arrays that
// an in-place primitive will overwrite. The rewrite passes use them to
// stay sound; buffer reuse in generated code uses them too.

// HasInPlace reports whether e contains a call of an in-place primitive.
func HasInPlace(e Expr) bool { return CountInPlace(e) > 0 }

// CountInPlace counts the calls of in-place primitives in e.
func CountInPlace(e Expr) int {
	n := 0
	Walk(e, func(x Expr, enter bool) {
		if pc, ok := x.(*PrimCall); ok && enter && pc.Op.InPlace() {
			n++
		}
	}, nil)
	return n
}

// ---- in-place buffers ----

// MutableVars finds the variables whose value is (or flows into) the
// first argument of an in-place primitive (acc_add, acc_add_at): arrays
// that will be overwritten. Rewrites must not make such a value share
// storage with another one, so no pass rewrites at a position whose value
// flows there (see FlowKids), and cse neither reuses nor provides them.
func MutableVars(e Expr) map[*Var]bool {
	lets := map[*Var]Expr{}
	loops := map[*Var]*Loop{}
	var sinks []Expr
	Walk(e, func(x Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *Let:
			lets[x.Var] = x.Value
		case *Loop:
			loops[x.State] = x
		case *PrimCall:
			if x.Op.InPlace() {
				sinks = append(sinks, x.Args[0])
			}
		}
	}, nil)
	out := map[*Var]bool{}
	for len(sinks) > 0 {
		x := sinks[len(sinks)-1]
		sinks = sinks[:len(sinks)-1]
		if v, ok := x.(*Var); ok {
			if out[v] {
				continue
			}
			out[v] = true
			if val, ok := lets[v]; ok {
				sinks = append(sinks, val)
			}
			if l, ok := loops[v]; ok {
				sinks = append(sinks, l.Init, l.Body)
			}
			continue
		}
		sinks = append(sinks, FlowKids(x)...)
	}
	return out
}

// FlowKids lists the children of e whose value may be (part of) e's value
// without a copy: the branches of an if, a let's body, a projected tuple,
// a tuple's elements, a loop's state, a call's arguments (a def may
// return its parameter), and the arguments of every primitive that is
// not known to build a fresh result (views such as slices and rows,
// f64(x) of an f64, stop_gradient, fold of an empty array, the
// accumulator of an in-place primitive).
func FlowKids(e Expr) []Expr {
	switch e := e.(type) {
	case *If:
		return []Expr{e.Then, e.Else}
	case *Let:
		return []Expr{e.Body}
	case *Proj:
		return []Expr{e.X}
	case *MakeTuple:
		return e.Elems
	case *Loop:
		return []Expr{e.Init, e.Body}
	case *Call:
		return e.Args
	case *PrimCall:
		if e.Op.InPlace() {
			return e.Args[:1]
		}
		if !FreshResult(e) {
			return e.Args
		}
	}
	return nil
}

// IsFlowKid reports whether child i of e (in children order) is one of
// FlowKids(e).
func IsFlowKid(e Expr, i int) bool {
	switch e := e.(type) {
	case *If:
		return i > 0
	case *Let:
		return i == 1
	case *Proj, *MakeTuple:
		return true
	case *Loop:
		return i == 0 || i == len(Children(e))-1
	case *Call:
		return i > 0
	case *PrimCall:
		if e.Op.InPlace() {
			return i == 0
		}
		return !FreshResult(e)
	}
	return false
}

// FreshResult reports whether a primitive call's value is stored apart
// from its arguments.
func FreshResult(e *PrimCall) bool {
	if e.Op.InPlace() {
		return false
	}
	if e.Op.Elementwise {
		// f64(x) of an f64 (and i64 of an i64) is x itself.
		if e.Op == PrimToF64 || e.Op == PrimToI64 {
			k, _ := Leaf(e.Args[0].Type())
			r, _ := Leaf(e.T)
			return k != r
		}
		return true
	}
	return e.Op.Storage == Fresh
}

// ---- expressions that cannot fail ----

// Total reports whether evaluating e certainly succeeds: it calls no def
// or function value, runs no loop, and uses only primitives that cannot
// fail on its argument types (no i64 division, no indexing, no shapes
// that might differ at run time). Passes drop or duplicate only such
// expressions, so optimization never changes whether a program fails.
func Total(e Expr) bool {
	if t, leaf := totalLeaf(e); leaf {
		return t
	}
	switch e := e.(type) {
	case *Let:
		return Total(e.Value) && Total(e.Body)
	case *MakeTuple:
		for _, x := range e.Elems {
			if !Total(x) {
				return false
			}
		}
		return true
	case *Proj:
		return Total(e.X)
	case *If:
		return Total(e.Cond) && Total(e.Then) && Total(e.Else)
	case *PrimCall:
		if !totalPrim(e) {
			return false
		}
		for _, x := range e.Args {
			if !Total(x) {
				return false
			}
		}
		return true
	}
	return false
}

// Droppable reports whether an unused value may be dropped: it cannot
// fail, or it only fills a fresh array that nothing reads
// (acc_add(zeros_like(e), s) with s a scalar, as the derivative of sum
// makes).
func Droppable(e Expr) bool { return droppable(e, Total) }

// droppable is Droppable with total for Total.
func droppable(e Expr, total func(Expr) bool) bool {
	if total(e) {
		return true
	}
	pc, ok := e.(*PrimCall)
	if !ok || pc.Op != PrimAccAdd || !Identical(pc.Args[1].Type(), TF64) || !total(pc.Args[1]) {
		return false
	}
	z, ok := pc.Args[0].(*PrimCall)
	return ok && z.Op == PrimZerosLike && total(z)
}

// totalLeaf is Total for the terms that need no look at their children
// (leaf is false for the others).
func totalLeaf(e Expr) (total, leaf bool) {
	switch e := e.(type) {
	case *Var, *Const, *Lambda:
		return true, true
	case *Global:
		_, isFn := e.T.(*Func)
		return isFn, true
	}
	return false, false
}

// totalPrim reports whether a primitive call cannot fail, from what the
// primitive declares (Prim.Fails) and, for those that fail only on
// differing shapes, the static shapes of this call.
func totalPrim(e *PrimCall) bool {
	if e.Op.InPlace() || e.Op.AD != NotAD {
		return false
	}
	switch e.Op.Fails {
	case NeverFails:
		return true
	case FailsOnShapesOrInt:
		if k, ok := Leaf(e.Args[0].Type()); ok && k == I64 {
			return false
		}
		fallthrough
	case FailsOnShapes:
		if !e.Op.Elementwise {
			return len(e.Args) == 2 && StaticallySameShape(e.Args[0].Type(), e.Args[1].Type())
		}
		return sameStaticShapes(e.Args)
	}
	return false
}

// sameStaticShapes reports whether the array operands of an elementwise
// primitive certainly have the same shape.
func sameStaticShapes(args []Expr) bool {
	if sameArrayVar(args) {
		return true
	}
	var first []Dim
	seen := false
	for _, a := range args {
		ds := Dims(a.Type())
		if len(ds) == 0 {
			continue
		}
		if !seen {
			first, seen = ds, true
			for _, d := range ds {
				if !d.Known() && d.Sym == "" {
					return false
				}
			}
			continue
		}
		if len(ds) != len(first) {
			return false
		}
		for i := range ds {
			if !ds[i].SameStatically(first[i]) {
				return false
			}
		}
	}
	return true
}

// StaticallySameShape reports whether values of types a and b certainly
// have the same shape.
func StaticallySameShape(a, b Type) bool {
	if !Equal(a, b) {
		return false
	}
	da, db := Dims(a), Dims(b)
	if len(da) != len(db) {
		return false
	}
	for i := range da {
		if !da[i].SameStatically(db[i]) {
			return false
		}
	}
	return true
}

// sameArrayVar reports whether every array operand of an elementwise
// primitive is one and the same variable (x * x): one value has one
// shape, so the operands cannot differ, whatever the sizes are.
func sameArrayVar(args []Expr) bool {
	var v *Var
	for _, a := range args {
		if Rank(a.Type()) == 0 {
			continue
		}
		x, ok := a.(*Var)
		if !ok || v != nil && x != v {
			return false
		}
		v = x
	}
	return v != nil
}
