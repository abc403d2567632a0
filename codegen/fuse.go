package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Fusion. An elementwise primitive on arrays, a build or a map with
// scalar elements does not compute anything when it is compiled: it
// yields a lazy array, a recipe for element i at any flat index. A
// consumer that can take one elementwise pass takes the recipe: another
// elementwise primitive composes it (so a*x + y is one expression per
// element), a reduction (sum, mean, dot) or an accumulator (acc_add)
// runs one loop with no array at all, and a build or map of rows writes
// each row straight into its place in the result (destination passing).
// Everything else forces the recipe into a fresh array, in one loop.
//
// A lazy array is evaluated where it is consumed, so it must not outlive
// the values it reads: compile forces lazies at every boundary (branches,
// loop states, tuples, calls), and a let keeps its value lazy only when
// the variable is used exactly once, not inside a loop, lambda or branch,
// the value cannot fail (so errors keep their order) and nothing in the
// let's body updates an array in place.

type lazy struct {
	kind ir.ScalarKind
	dims []string // the dimensions (int atoms)
	// arrays are the materialized slices the recipe reads at the flat
	// index; a loop reslices them to its length first, so that Go drops
	// the bounds checks.
	arrays []string
	// elem emits what element idx (an int expression) needs and returns
	// its Go expression.
	elem func(idx string) string
	// outer, for outer(x, y), names x and y, so that loops over it can
	// run i and j instead of dividing the flat index.
	outer *[2]string
	// cheap recipes (one elementwise operation on materialized arrays
	// and scalars, no helper call) may be evaluated more than once per
	// element rather than stored.
	cheap bool
	// constant recipes have the same element everywhere and read nothing
	// (acc_add(zeros_like(y), s), the cotangent of a sum).
	constant bool
	// safe recipes cannot fail while an element is evaluated (their
	// checks were emitted when they were compiled).
	safe bool
}

// isConstFill recognizes acc_add(zeros_like(y), s) with s a total f64,
// the array of s's that reverse mode makes for the cotangent of sum.
func isConstFill(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimAccAdd || !ir.Identical(pc.Args[1].Type(), ir.TF64) || !ir.Total(pc.Args[1]) {
		return false
	}
	z, ok := pc.Args[0].(*ir.PrimCall)
	return ok && z.Op == ir.PrimZerosLike && deferrable(z.Args[0])
}

// deferrable reports whether compiling e as a recipe loses none of its
// failures: e cannot fail, or it is an elementwise primitive on f64 (whose
// shape check lazyElementwise emits at once) of deferrable operands.
func deferrable(e ir.Expr) bool {
	if ir.Total(e) {
		return true
	}
	pc, ok := e.(*ir.PrimCall)
	if !ok || !pc.Op.Elementwise || pc.Op.InPlace() || pc.Op.AD != ir.NotAD {
		return false
	}
	if k, ok := ir.Leaf(pc.Type()); !ok || k != ir.F64 {
		return false
	}
	switch pc.Op.Fails {
	case ir.NeverFails, ir.FailsOnShapes, ir.FailsOnShapesOrInt:
	default:
		return false
	}
	for _, a := range pc.Args {
		if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 || !deferrable(a) {
			return false
		}
	}
	return true
}

// addInto emits dst[k] op= element k for every element of lz (op "" for
// a plain store, "+" to accumulate); dst is a slice of lz's total length.
func (f *fn) addInto(dst string, lz *lazy, op string) {
	if lz.outer != nil {
		x, y := lz.outer[0], lz.outer[1]
		// A short y: written out (smalltrip.go).
		f.smallTrips("len("+y+")", func(m int) { f.straightOuter(dst, x, y, op, m) }, func() {
			i, xi, j, yj, row := f.fresh("i"), f.fresh("xi"), f.fresh("j"), f.fresh("yj"), f.fresh("row")
			f.line("for %s, %s := range %s {", i, xi, x)
			f.line("%s := %s[%s*len(%s) : (%s+1)*len(%s)]", row, dst, i, y, i, y)
			f.line("for %s, %s := range %s {", j, yj, y)
			f.line("%s[%s] %s= %s * %s", row, j, op, xi, yj)
			f.line("}")
			f.line("}")
		})
		return
	}
	f.reslice(lz.arrays, "len("+dst+")")
	iter := func(i string) string {
		mark := f.iterMark()
		x := lz.elem(i)
		f.line("%s[%s] %s= %s", dst, i, op, x)
		f.release(mark, "")
		return ""
	}
	seq := f.scratch(func() {
		i := f.fresh("i")
		f.line("for %s := range %s {", i, dst)
		f.loops++
		iter(i)
		f.loops--
		f.line("}")
	})
	size := "len(" + dst + ")"
	if len(lz.dims) == 1 {
		size = lz.dims[0]
	}
	if !f.parallel("len("+dst+")", size, seq, "", iter) {
		f.b.WriteString(seq)
	}
}

// total is the number of elements of a lazy array.
func (f *fn) total(lz *lazy) string {
	if len(lz.dims) == 1 {
		return lz.dims[0]
	}
	return f.def("n", strings.Join(lz.dims, " * "))
}

// force materializes a lazy array.
func (f *fn) force(v val) val {
	if v.lz == nil {
		return v
	}
	lz := v.lz
	n := f.total(lz)
	res := f.def("r", f.mkW(lz.kind, n)) // writeLazy stores every element
	f.writeLazy(res, lz)
	return val{t: v.t, parts: append([]string{res}, lz.dims...)}
}

// writeLazy emits the loop storing every element of lz into dst, a slice
// of its total length.
func (f *fn) writeLazy(dst string, lz *lazy) { f.addInto(dst, lz, "") }

// reslice tells Go's prover that each array has length n.
func (f *fn) reslice(arrays []string, n string) {
	seen := map[string]bool{}
	for _, a := range arrays {
		if seen[a] {
			continue
		}
		seen[a] = true
		f.line("%s = %s[:%s]", a, a, n)
	}
}

// canDefer reports whether a let may keep its value lazy (see above).
func (f *fn) canDefer(e *ir.Let) bool {
	if ir.Rank(e.Var.T) == 0 {
		return false
	}
	if isConstFill(e.Value) {
		// A recipe that reads nothing may be run anywhere, any number of
		// times; a consumer that needs storage (an accumulator) forces it,
		// and the accumulator contract says nothing reads it after that.
		return true
	}
	if n, lz := f.varUses(e.Body, e.Var); n != 1 || lz {
		return false
	}
	return deferrable(e.Value) && !ir.HasInPlace(e.Body)
}

// elemOf is the recipe of an array operand: a lazy's own, or reading a
// materialized array's storage.
func elemOf(v val) (func(string) string, []string) {
	if v.lz != nil {
		return v.lz.elem, v.lz.arrays
	}
	d := v.parts[0]
	return func(idx string) string { return d + "[" + idx + "]" }, []string{d}
}

// dimConds lists the Go conditions under which dims got differ from
// want, leaving out the dimensions that are the same atom.
func dimConds(want, got []string) []string {
	var conds []string
	for d := range want {
		if got[d] != want[d] {
			conds = append(conds, got[d]+" != "+want[d])
		}
	}
	return conds
}

// dimsOf lists an array value's dimensions.
func dimsOf(v val) []string {
	if v.lz != nil {
		return v.lz.dims
	}
	return v.parts[1:]
}

// lazyElementwise is elementwise for arrays: shapes are checked now, the
// elements computed by the consumer.
func (f *fn) lazyElementwise(e *ir.PrimCall, r *rule, args []val, k, rk ir.ScalarKind) val {
	arr := -1
	for i, a := range args {
		if ir.Rank(a.t) > 0 && arr < 0 {
			arr = i
		}
	}
	a := args[arr]
	ad := dimsOf(a)
	for i, b := range args {
		if i == arr || ir.Rank(b.t) == 0 {
			continue
		}
		bd := dimsOf(b)
		if conds := dimConds(ad, bd); len(conds) > 0 {
			name := e.Op.Name
			if e.Op.Op != "" {
				name = "'" + e.Op.Op + "'"
			}
			x, y := ad, bd
			if i < arr {
				x, y = bd, ad
			}
			f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"shape mismatch in %s: " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s})`, name, strings.Join(x, ", "), strings.Join(y, ", ")))
		}
	}
	elems := make([]func(string) string, len(args))
	var arrays []string
	for i, b := range args {
		if ir.Rank(b.t) > 0 {
			var as []string
			elems[i], as = elemOf(b)
			arrays = append(arrays, as...)
		} else {
			atom := b.parts[0]
			elems[i] = func(string) string { return atom }
		}
	}
	cheap := !r.callsRuntime(k) && !r.IErr && !r.FErr && (k != ir.I64 || r.IGuard == nil)
	safe := !r.FErr && (k != ir.I64 || (!r.IErr && r.IGuard == nil))
	for _, b := range args {
		cheap = cheap && b.lz == nil
		safe = safe && (b.lz == nil || b.lz.safe)
	}
	return val{t: e.T, lz: &lazy{kind: rk, dims: ad, arrays: arrays, cheap: cheap, safe: safe, elem: func(idx string) string {
		ops := make([]string, len(elems))
		for i, el := range elems {
			ops[i] = el(idx)
		}
		x := f.scalarExpr(e, r, k, ops)
		if len(ops) > 1 || strings.Contains(x, "(") {
			return "(" + x + ")"
		}
		return x
	}}}
}

// lazyBuild is build(n, f) with scalar elements: element i is f's body.
func (f *fn) lazyBuild(e *ir.PrimCall, n string, sf staticFn) val {
	elemT := e.T.(*ir.Array).Elem
	k, _ := ir.Leaf(elemT)
	return val{t: e.T, lz: &lazy{kind: k, dims: []string{n}, elem: func(idx string) string {
		i := f.def("i", "int64("+idx+")")
		f.indexBound(i, n)
		return f.callStatic(sf, []val{valOf(ir.TI64, i)}, e.P, elemT).parts[0]
	}}}
}

// sumLazy is the sum of a lazy array's elements, in one loop.
func (f *fn) sumLazy(lz *lazy) string {
	n := f.total(lz)
	s := f.defT("s", scalarGo(lz.kind), "0")
	f.reslice(lz.arrays, n)
	iter := func(i string) string {
		mark := f.iterMark()
		f.line("%s += %s", s, lz.elem(i))
		f.release(mark, "")
		return ""
	}
	seq := f.seqLoop(n, iter)
	if lz.kind != ir.F64 || !f.parallel(n, n, seq, s, iter) {
		f.b.WriteString(seq)
	}
	return s
}

// seqLoop is the code of the sequential loop for i < n whose body iter
// emits.
func (f *fn) seqLoop(n string, iter func(i string) string) string {
	return f.scratch(func() {
		i := f.fresh("i")
		f.line("for %s := 0; %s < %s; %s++ {", i, i, n, i)
		f.loops++
		iter(i)
		f.loops--
		f.line("}")
	})
}
