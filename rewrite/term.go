package rewrite

import (
	"hash/maphash"
	"math"

	"github.com/nabla-lang/nabla/ir"
)

// Terms are ir.Expr trees. This file has what every strategy needs to
// walk and rebuild them: the list of a node's children, rebuilding a node
// with new children (sharing it when nothing changed, so that untouched
// subtrees keep their identity), equality up to the renaming of bound
// variables, a matching hash, sizes, and the facts the passes use to stay
// sound: which expressions cannot fail at run time, and which variables
// hold arrays that an in-place primitive will overwrite.

// children lists e's immediate subterms in evaluation order.
func children(e ir.Expr) []ir.Expr {
	switch e := e.(type) {
	case *ir.Let:
		return []ir.Expr{e.Value, e.Body}
	case *ir.Lambda:
		return []ir.Expr{e.Body}
	case *ir.Call:
		return append([]ir.Expr{e.Fn}, e.Args...)
	case *ir.PrimCall:
		return e.Args
	case *ir.MakeTuple:
		return e.Elems
	case *ir.Proj:
		return []ir.Expr{e.X}
	case *ir.If:
		return []ir.Expr{e.Cond, e.Then, e.Else}
	case *ir.Loop:
		out := []ir.Expr{e.Init}
		if e.Count != nil {
			out = append(out, e.Count)
		}
		if e.Cond != nil {
			out = append(out, e.Cond)
		}
		return append(out, e.Body)
	}
	return nil
}

// withChildren rebuilds e with new children (as children lists them). It
// returns e itself when every child is unchanged. Binders are kept, and
// a let's variable takes its new value's type.
func withChildren(e ir.Expr, kids []ir.Expr) ir.Expr {
	old := children(e)
	same := true
	for i := range old {
		if old[i] != kids[i] {
			same = false
			break
		}
	}
	if same {
		return e
	}
	switch e := e.(type) {
	case *ir.Let:
		return &ir.Let{Var: e.Var, Value: kids[0], Body: kids[1], P: e.P}
	case *ir.Lambda:
		return &ir.Lambda{Params: e.Params, Body: kids[0], P: e.P}
	case *ir.Call:
		return &ir.Call{Fn: kids[0], Args: kids[1:], T: e.T, P: e.P}
	case *ir.PrimCall:
		return &ir.PrimCall{Op: e.Op, Args: kids, Aux: e.Aux, T: e.T, P: e.P}
	case *ir.MakeTuple:
		return &ir.MakeTuple{Elems: kids, P: e.P}
	case *ir.Proj:
		return &ir.Proj{X: kids[0], Index: e.Index, P: e.P}
	case *ir.If:
		return &ir.If{Cond: kids[0], Then: kids[1], Else: kids[2], P: e.P}
	case *ir.Loop:
		l := *e
		i := 0
		l.Init = kids[i]
		i++
		if e.Count != nil {
			l.Count = kids[i]
			i++
		}
		if e.Cond != nil {
			l.Cond = kids[i]
			i++
		}
		l.Body = kids[i]
		return &l
	}
	return e
}

// mapChildren rebuilds e with f applied to each child (numbered as
// children numbers them), sharing e when nothing changes. It allocates
// only for what it rebuilds.
func mapChildren(e ir.Expr, f func(i int, x ir.Expr) (ir.Expr, error)) (ir.Expr, error) {
	switch e := e.(type) {
	case *ir.Let:
		v, err := f(0, e.Value)
		if err != nil {
			return nil, err
		}
		b, err := f(1, e.Body)
		if err != nil {
			return nil, err
		}
		if v == e.Value && b == e.Body {
			return e, nil
		}
		return &ir.Let{Var: e.Var, Value: v, Body: b, P: e.P}, nil
	case *ir.Lambda:
		b, err := f(0, e.Body)
		if err != nil || b == e.Body {
			return e, err
		}
		return &ir.Lambda{Params: e.Params, Body: b, P: e.P}, nil
	case *ir.Call:
		fn, err := f(0, e.Fn)
		if err != nil {
			return nil, err
		}
		args, changed, err := mapList(e.Args, 1, f)
		if err != nil {
			return nil, err
		}
		if fn == e.Fn && !changed {
			return e, nil
		}
		return &ir.Call{Fn: fn, Args: args, T: e.T, P: e.P}, nil
	case *ir.PrimCall:
		args, changed, err := mapList(e.Args, 0, f)
		if err != nil || !changed {
			return e, err
		}
		return &ir.PrimCall{Op: e.Op, Args: args, Aux: e.Aux, T: e.T, P: e.P}, nil
	case *ir.MakeTuple:
		elems, changed, err := mapList(e.Elems, 0, f)
		if err != nil || !changed {
			return e, err
		}
		return &ir.MakeTuple{Elems: elems, P: e.P}, nil
	case *ir.Proj:
		x, err := f(0, e.X)
		if err != nil || x == e.X {
			return e, err
		}
		return &ir.Proj{X: x, Index: e.Index, P: e.P}, nil
	case *ir.If:
		c, err := f(0, e.Cond)
		if err != nil {
			return nil, err
		}
		t, err := f(1, e.Then)
		if err != nil {
			return nil, err
		}
		el, err := f(2, e.Else)
		if err != nil {
			return nil, err
		}
		if c == e.Cond && t == e.Then && el == e.Else {
			return e, nil
		}
		return &ir.If{Cond: c, Then: t, Else: el, P: e.P}, nil
	case *ir.Loop:
		kids := children(e)
		out := make([]ir.Expr, len(kids))
		for i, k := range kids {
			y, err := f(i, k)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return withChildren(e, out), nil
	}
	return e, nil
}

// mapList applies f to a list of children numbered from base.
func mapList(es []ir.Expr, base int, f func(i int, x ir.Expr) (ir.Expr, error)) ([]ir.Expr, bool, error) {
	var out []ir.Expr
	for i, x := range es {
		y, err := f(base+i, x)
		if err != nil {
			return nil, false, err
		}
		if y != x && out == nil {
			out = make([]ir.Expr, len(es))
			copy(out, es[:i])
		}
		if out != nil {
			out[i] = y
		}
	}
	if out == nil {
		return es, false, nil
	}
	return out, true, nil
}

// size counts the nodes of e.
func size(e ir.Expr) int {
	n := 0
	ir.Walk(e, func(ir.Expr, bool) { n++ }, nil)
	return n / 2
}

// depth is the height of e's tree.
func depth(e ir.Expr) int {
	d, deepest := 0, 0
	ir.Walk(e, func(_ ir.Expr, enter bool) {
		if enter {
			d++
			deepest = max(deepest, d)
		} else {
			d--
		}
	}, nil)
	return deepest
}

// alphaEqual reports whether a and b are the same term up to the renaming
// of the variables they bind. Free variables must be the same *ir.Var.
func alphaEqual(a, b ir.Expr) bool {
	return eqTerm(a, b, map[*ir.Var]*ir.Var{})
}

func eqTerm(a, b ir.Expr, ren map[*ir.Var]*ir.Var) bool {
	if a == b {
		return true
	}
	switch a := a.(type) {
	case *ir.Var:
		b, ok := b.(*ir.Var)
		if !ok {
			return false
		}
		if r, bound := ren[a]; bound {
			return r == b
		}
		return false
	case *ir.Const:
		b, ok := b.(*ir.Const)
		return ok && sameConst(a.Val, b.Val)
	case *ir.Global:
		b, ok := b.(*ir.Global)
		return ok && a.Name == b.Name
	case *ir.Let:
		b, ok := b.(*ir.Let)
		if !ok || !eqTerm(a.Value, b.Value, ren) {
			return false
		}
		ren[a.Var] = b.Var
		defer delete(ren, a.Var)
		return eqTerm(a.Body, b.Body, ren)
	case *ir.Lambda:
		b, ok := b.(*ir.Lambda)
		if !ok || len(a.Params) != len(b.Params) {
			return false
		}
		for i, p := range a.Params {
			if !ir.Identical(p.T, b.Params[i].T) {
				return false
			}
			ren[p] = b.Params[i]
		}
		defer func() {
			for _, p := range a.Params {
				delete(ren, p)
			}
		}()
		return eqTerm(a.Body, b.Body, ren)
	case *ir.Call:
		b, ok := b.(*ir.Call)
		return ok && eqTerm(a.Fn, b.Fn, ren) && eqList(a.Args, b.Args, ren)
	case *ir.PrimCall:
		b, ok := b.(*ir.PrimCall)
		return ok && a.Op == b.Op && sameAux(a.Aux, b.Aux) && eqList(a.Args, b.Args, ren)
	case *ir.MakeTuple:
		b, ok := b.(*ir.MakeTuple)
		return ok && eqList(a.Elems, b.Elems, ren)
	case *ir.Proj:
		b, ok := b.(*ir.Proj)
		return ok && a.Index == b.Index && eqTerm(a.X, b.X, ren)
	case *ir.If:
		b, ok := b.(*ir.If)
		return ok && eqTerm(a.Cond, b.Cond, ren) && eqTerm(a.Then, b.Then, ren) && eqTerm(a.Else, b.Else, ren)
	case *ir.Loop:
		b, ok := b.(*ir.Loop)
		if !ok || (a.Count == nil) != (b.Count == nil) || (a.Cond == nil) != (b.Cond == nil) {
			return false
		}
		if !eqTerm(a.Init, b.Init, ren) || a.Count != nil && !eqTerm(a.Count, b.Count, ren) {
			return false
		}
		ren[a.State] = b.State
		defer delete(ren, a.State)
		if a.Cond != nil && !eqTerm(a.Cond, b.Cond, ren) {
			return false
		}
		if a.Index != nil {
			ren[a.Index] = b.Index
			defer delete(ren, a.Index)
		}
		return eqTerm(a.Body, b.Body, ren)
	}
	return false
}

func eqList(a, b []ir.Expr, ren map[*ir.Var]*ir.Var) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqTerm(a[i], b[i], ren) {
			return false
		}
	}
	return true
}

// sameConst compares literal values; floats by bits, so that 0.0 and
// -0.0 differ and a NaN equals itself (a term is equal to itself).
func sameConst(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	}
	return a == b
}

func sameAux(a, b any) bool {
	switch a.(type) {
	case nil, int, int64, ir.Dim, [2]ir.Dim:
		return a == b
	}
	return false
}

var hashSeed = maphash.MakeSeed()

// termHash hashes e consistently with alphaEqual: variables bound inside
// e contribute their binding depth, free variables their name and type.
func termHash(e ir.Expr) uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	ids := map[*ir.Var]uint64{}
	depth := uint64(0)
	var rec func(e ir.Expr)
	bind := func(v *ir.Var) {
		depth++
		ids[v] = depth
	}
	word := func(x uint64) {
		var b [8]byte
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		h.Write(b[:])
	}
	rec = func(e ir.Expr) {
		switch e := e.(type) {
		case *ir.Var:
			if id, ok := ids[e]; ok {
				word(1)
				word(id)
				return
			}
			word(2)
			h.WriteString(e.Name)
			h.WriteString(e.T.String())
			return
		case *ir.Const:
			word(3)
			switch v := e.Val.(type) {
			case float64:
				word(math.Float64bits(v))
			case int64:
				word(uint64(v) ^ 0x55)
			case bool:
				if v {
					word(7)
				} else {
					word(8)
				}
			}
			return
		case *ir.Global:
			word(4)
			h.WriteString(e.Name)
			return
		case *ir.PrimCall:
			word(5)
			h.WriteString(e.Op.Name)
		case *ir.Let:
			word(6)
			rec(e.Value)
			bind(e.Var)
			rec(e.Body)
			return
		case *ir.Lambda:
			word(7)
			for _, p := range e.Params {
				bind(p)
			}
			rec(e.Body)
			return
		case *ir.Loop:
			word(8)
			rec(e.Init)
			if e.Count != nil {
				rec(e.Count)
			}
			bind(e.State)
			if e.Cond != nil {
				rec(e.Cond)
			}
			if e.Index != nil {
				bind(e.Index)
			}
			rec(e.Body)
			return
		case *ir.Proj:
			word(9)
			word(uint64(e.Index))
		case *ir.Call:
			word(10)
		case *ir.MakeTuple:
			word(11)
		case *ir.If:
			word(12)
		}
		kids := children(e)
		word(uint64(len(kids)))
		for _, k := range kids {
			rec(k)
		}
	}
	rec(e)
	return h.Sum64()
}

// mentions reports whether any variable in vars occurs in e.
func mentions(e ir.Expr, vars map[*ir.Var]bool) bool {
	if len(vars) == 0 {
		return false
	}
	found := false
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if v, ok := x.(*ir.Var); ok && enter && vars[v] {
			found = true
		}
	}, nil)
	return found
}

// varUses counts the uses of v in e and reports whether any is in a
// lazy position: inside a lambda's body, a loop's body or condition, or a
// branch of an if (relative to e).
func varUses(e ir.Expr, v *ir.Var) (n int, lazy bool) {
	var rec func(e ir.Expr, lz bool)
	rec = func(e ir.Expr, lz bool) {
		switch e := e.(type) {
		case *ir.Var:
			if e == v {
				n++
				lazy = lazy || lz
			}
			return
		case *ir.Lambda:
			rec(e.Body, true)
			return
		case *ir.If:
			rec(e.Cond, lz)
			rec(e.Then, true)
			rec(e.Else, true)
			return
		case *ir.Loop:
			rec(e.Init, lz)
			if e.Count != nil {
				rec(e.Count, lz)
			}
			if e.Cond != nil {
				rec(e.Cond, true)
			}
			rec(e.Body, true)
		case *ir.Let:
			rec(e.Value, lz)
			rec(e.Body, lz)
		case *ir.Call:
			rec(e.Fn, lz)
			for _, a := range e.Args {
				rec(a, lz)
			}
		case *ir.PrimCall:
			for _, a := range e.Args {
				rec(a, lz)
			}
		case *ir.MakeTuple:
			for _, a := range e.Elems {
				rec(a, lz)
			}
		case *ir.Proj:
			rec(e.X, lz)
		}
	}
	rec(e, false)
	return n, lazy
}

// replaceVar rebuilds e with each use of v replaced by mk(); binders are
// kept and unchanged subtrees shared.
func replaceVar(e ir.Expr, v *ir.Var, mk func() ir.Expr) ir.Expr {
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		if x, ok := e.(*ir.Var); ok {
			if x == v {
				return mk()
			}
			return e
		}
		out, _ := mapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return rec(k), nil })
		return out
	}
	return rec(e)
}

// hasInPlace reports whether e contains a call of an in-place primitive.
func hasInPlace(e ir.Expr) bool { return countInPlace(e) > 0 }

func countInPlace(e ir.Expr) int {
	n := 0
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if pc, ok := x.(*ir.PrimCall); ok && enter && pc.Op.InPlace {
			n++
		}
	}, nil)
	return n
}

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

// ---- in-place buffers ----

// mutableVars finds the variables whose value is (or flows into) the
// first argument of an in-place primitive (acc_add, acc_add_at): arrays
// that will be overwritten. Rewrites must not make such a value share
// storage with another one, so no pass rewrites at a position whose value
// flows there (see flowKids), and cse neither reuses nor provides them.
func mutableVars(e ir.Expr) map[*ir.Var]bool {
	lets := map[*ir.Var]ir.Expr{}
	loops := map[*ir.Var]*ir.Loop{}
	var sinks []ir.Expr
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *ir.Let:
			lets[x.Var] = x.Value
		case *ir.Loop:
			loops[x.State] = x
		case *ir.PrimCall:
			if x.Op.InPlace {
				sinks = append(sinks, x.Args[0])
			}
		}
	}, nil)
	out := map[*ir.Var]bool{}
	for len(sinks) > 0 {
		x := sinks[len(sinks)-1]
		sinks = sinks[:len(sinks)-1]
		if v, ok := x.(*ir.Var); ok {
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
		sinks = append(sinks, flowKids(x)...)
	}
	return out
}

// flowKids lists the children of e whose value may be (part of) e's value
// without a copy: the branches of an if, a let's body, a projected tuple,
// a tuple's elements, a loop's state, a call's arguments (a def may
// return its parameter), and the arguments of every primitive that is
// not known to build a fresh result (views such as slices and rows,
// f64(x) of an f64, stop_gradient, fold of an empty array, the
// accumulator of an in-place primitive).
func flowKids(e ir.Expr) []ir.Expr {
	switch e := e.(type) {
	case *ir.If:
		return []ir.Expr{e.Then, e.Else}
	case *ir.Let:
		return []ir.Expr{e.Body}
	case *ir.Proj:
		return []ir.Expr{e.X}
	case *ir.MakeTuple:
		return e.Elems
	case *ir.Loop:
		return []ir.Expr{e.Init, e.Body}
	case *ir.Call:
		return e.Args
	case *ir.PrimCall:
		if e.Op.InPlace {
			return e.Args[:1]
		}
		if !freshResult(e) {
			return e.Args
		}
	}
	return nil
}

// isFlowKid reports whether child i of e (in children order) is one of
// flowKids(e).
func isFlowKid(e ir.Expr, i int) bool {
	switch e := e.(type) {
	case *ir.If:
		return i > 0
	case *ir.Let:
		return i == 1
	case *ir.Proj, *ir.MakeTuple:
		return true
	case *ir.Loop:
		return i == 0 || i == len(children(e))-1
	case *ir.Call:
		return i > 0
	case *ir.PrimCall:
		if e.Op.InPlace {
			return i == 0
		}
		return !freshResult(e)
	}
	return false
}

// freshPrims build their result in new storage (or return a scalar).
var freshPrims = map[string]bool{
	"map": true, "build": true, "zeros_like": true, "zeros": true, "ones": true, "fill": true,
	"array": true, "iota": true, "matmul": true, "outer": true, "update": true, "gather": true,
	"concat": true, "pad_like": true, "softmax": true, "transpose": true, "reverse": true,
	"scan": true, "dot": true, "sum": true, "prod": true, "mean": true, "norm": true,
	"logsumexp": true, "maximum": true, "minimum": true, "argmax": true, "argmin": true,
	"len": true, "dim": true,
}

// freshResult reports whether a primitive call's value is stored apart
// from its arguments.
func freshResult(e *ir.PrimCall) bool {
	if e.Op.InPlace {
		return false
	}
	if e.Op.Elementwise {
		// f64(x) of an f64 (and i64 of an i64) is x itself.
		if e.Op == ir.PrimToF64 || e.Op == ir.PrimToI64 {
			k, _ := ir.Leaf(e.Args[0].Type())
			r, _ := ir.Leaf(e.T)
			return k != r
		}
		return true
	}
	return freshPrims[e.Op.Name]
}

// ---- expressions that cannot fail ----

// total reports whether evaluating e certainly succeeds: it calls no def
// or function value, runs no loop, and uses only primitives that cannot
// fail on its argument types (no i64 division, no indexing, no shapes
// that might differ at run time). Passes drop or duplicate only such
// expressions, so optimization never changes whether a program fails.
func total(e ir.Expr) bool {
	switch e := e.(type) {
	case *ir.Var, *ir.Const, *ir.Lambda:
		return true
	case *ir.Global:
		return isAtom(e)
	case *ir.Let:
		return total(e.Value) && total(e.Body)
	case *ir.MakeTuple:
		for _, x := range e.Elems {
			if !total(x) {
				return false
			}
		}
		return true
	case *ir.Proj:
		return total(e.X)
	case *ir.If:
		return total(e.Cond) && total(e.Then) && total(e.Else)
	case *ir.PrimCall:
		if !totalPrim(e) {
			return false
		}
		for _, x := range e.Args {
			if !total(x) {
				return false
			}
		}
		return true
	}
	return false
}

// droppable reports whether an unused value may be dropped: it cannot
// fail, or it only fills a fresh array that nothing reads
// (acc_add(zeros_like(e), s) with s a scalar, as the derivative of sum
// makes).
func droppable(e ir.Expr) bool {
	if total(e) {
		return true
	}
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimAccAdd || !ir.Identical(pc.Args[1].Type(), ir.TF64) || !total(pc.Args[1]) {
		return false
	}
	z, ok := pc.Args[0].(*ir.PrimCall)
	return ok && z.Op == ir.PrimZerosLike && total(z)
}

// totalPrims cannot fail whatever their (well-typed) arguments.
var totalPrims = map[string]bool{
	"dim": true, "len": true, "zeros_like": true, "sum": true, "prod": true, "mean": true,
	"maximum": true, "minimum": true, "norm": true, "logsumexp": true, "transpose": true,
	"flatten": true, "reverse": true, "softmax": true, "outer": true, "unzip": true,
}

// intFailing are the elementwise primitives that can fail on i64.
var intFailing = map[string]bool{"div": true, "mod": true, "pow": true}

func totalPrim(e *ir.PrimCall) bool {
	if e.Op.InPlace || e.Op.AD != ir.NotAD {
		return false
	}
	if totalPrims[e.Op.Name] {
		return true
	}
	if e.Op == ir.PrimDot {
		return staticallySameShape(e.Args[0].Type(), e.Args[1].Type())
	}
	if e.Op.Elementwise {
		if k, ok := ir.Leaf(e.Args[0].Type()); ok && k == ir.I64 && intFailing[e.Op.Name] {
			return false
		}
		return sameStaticShapes(e.Args)
	}
	return false
}

// sameStaticShapes reports whether the array operands of an elementwise
// primitive certainly have the same shape.
func sameStaticShapes(args []ir.Expr) bool {
	var first []ir.Dim
	seen := false
	for _, a := range args {
		ds := ir.Dims(a.Type())
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

// staticallySameShape reports whether values of types a and b certainly
// have the same shape.
func staticallySameShape(a, b ir.Type) bool {
	if !ir.Equal(a, b) {
		return false
	}
	da, db := ir.Dims(a), ir.Dims(b)
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
