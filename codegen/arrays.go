package codegen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Array lowerings. An array value is, per leaf, a flat row-major slice
// and its dimensions (Go ints); see doc.go.

// length is the outer size of an array value (an int atom).
func (f *fn) length(v val) string {
	ls, lp := v.leafParts()
	for i, l := range ls {
		if l.rank > 0 {
			return lp[i][1]
		}
	}
	return "0"
}

// rowSize is the number of flat elements in one row of a leaf of rank
// >= 1 (an atom).
func (f *fn) rowSize(l leaf, parts []string) string {
	switch l.rank {
	case 1:
		return "1"
	case 2:
		return parts[2]
	}
	return f.def("rs", strings.Join(parts[2:], " * "))
}

// checkIndex fails unless 0 <= i < n (i an int64 atom, n an int atom)
// and returns the atom to index with: i, or for a negative constant (the
// last element of an empty loop's tape, in code that never runs) a
// variable holding it, since Go rejects a negative constant index at
// compile time.
func (f *fn) checkIndex(i, n string, pos ir.Pos) string {
	if strings.HasPrefix(i, "int64(-") {
		i = f.def("i", i)
	}
	if f.inRange(i, n) {
		return i
	}
	cond := simplifyCond(fmt.Sprintf("%s < 0 || %s >= int64(%s)", i, i, n))
	if cond == "" {
		return i
	}
	f.line("if %s {", cond)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, runtime.CheckIndex(%s, %s))", posString(pos), i, n))
	f.line("}")
	return i
}

// indexVal is element i (an int expression, checked) of array value v.
func (f *fn) indexVal(v val, i string) val {
	at := v.t.(*ir.Array)
	ls, lp := v.leafParts()
	out := val{t: at.Elem}
	for k, l := range ls {
		p := lp[k]
		if f.bcast[p[0]] { // one row all elements share: a view of it
			row := f.def("row", p[0])
			f.markView(row)
			out.parts = append(out.parts, row)
			out.parts = append(out.parts, p[2:]...)
			continue
		}
		// A field never read, or a final state (an indexed leaf has rank
		// ≥ 1, so lastOnly's zero for other atoms never matches).
		if p[0] == deadAtom || f.lastOnly[p[0]] == l.rank {
			out.parts = append(out.parts, p[0])
			out.parts = append(out.parts, p[2:]...)
			continue
		}
		if l.rank == 1 {
			out.parts = append(out.parts, f.def("x", p[0]+"["+i+"]"))
			continue
		}
		rs := f.rowSize(l, p)
		row := f.def("row", fmt.Sprintf("%s[%s*%s : (%s+1)*%s]", p[0], i, rs, i, rs))
		out.parts = append(out.parts, row)
		out.parts = append(out.parts, p[2:]...)
	}
	return out
}

// sliceVal is rows lo..hi (int expressions, checked) of v, sharing
// storage.
func (f *fn) sliceVal(v val, lo, hi string, t ir.Type) val {
	ls, lp := v.leafParts()
	out := val{t: t}
	n := f.def("n", hi+" - "+lo)
	for k, l := range ls {
		p := lp[k]
		rs := f.rowSize(l, p)
		d := f.def("s", fmt.Sprintf("%s[%s*%s : %s*%s : %s*%s]", p[0], lo, rs, hi, rs, hi, rs))
		out.parts = append(out.parts, d, n)
		out.parts = append(out.parts, p[2:]...)
	}
	return out
}

// staticDim is the Go expression of a dimension known at compile time, or
// "0".
func staticDim(d ir.Dim) string {
	if d.Known() {
		return fmt.Sprint(d.N)
	}
	return "0"
}

// leafDims lists, per leaf of an element type, its static dimensions.
func leafDims(t ir.Type) [][]ir.Dim {
	var out [][]ir.Dim
	var walk func(t ir.Type, dims []ir.Dim)
	walk = func(t ir.Type, dims []ir.Dim) {
		switch t := t.(type) {
		case ir.Scalar:
			out = append(out, dims)
		case *ir.Array:
			walk(t.Elem, append(append([]ir.Dim(nil), dims...), t.Dim))
		case *ir.Tuple:
			for _, e := range t.Elems {
				walk(e, dims)
			}
		}
	}
	walk(t, nil)
	return out
}

// stack makes the array of type at whose n elements (n an int atom) elem
// computes, in order, for i = 0..n-1. Scalar elements are written straight
// into the result; array elements are copied into rows, the result being
// allocated when the first element gives the row shape, and every other
// element checked against it, with the interpreter's messages.
func (f *fn) stack(name string, at *ir.Array, n string, pos ir.Pos, elem func(i string) val) val {
	return f.stackR(name, at, n, pos, true, elem)
}

// stackR is stack; releasable says whether each element's temporaries may
// be released after it is stored (false when elem carries arrays from one
// element to the next, as scan's accumulator).
func (f *fn) stackR(name string, at *ir.Array, n string, pos ir.Pos, releasable bool, elem func(i string) val) val {
	return f.stackP(name, at, n, pos, releasable, nil, elem)
}

// A stackPlan says which leaves of a stacked result need no storage of
// their own (fields.go): read says how each leaf is read (fieldUnread,
// fieldShape, fieldData; nil: all data), views are an array the
// elements are rows of (its leaf parts, by leaf index).
type stackPlan struct {
	read  []int
	views map[int][]string
	// rebind, if set, is the loop state each element is: once stored,
	// its array leaves become views of their place in the result.
	rebind *val
	// carry, when set, ends an iteration in place of the release a
	// non-releasable stack leaves out (loop_save's carried state).
	carry func(mark, i string, body int)
	// bcast holds the leaves whose every element is the same storage,
	// made before the loop (invariantLeaves): the result keeps element
	// 0's view as its one row instead of copying n rows.
	bcast map[int]bool
	// nested lists the builds in the element whose leaves become leaves
	// of the result: they are given the rows to fill (fn.dest).
	nested []nestedBuild
	// dest, when set, is by leaf the row of an outer build each leaf is
	// copied into (nil: none).
	dest []*destHint
}

// destOf is the row leaf k is copied into, or nil.
func (p *stackPlan) destOf(k int) *destHint {
	if p == nil || k >= len(p.dest) {
		return nil
	}
	return p.dest[k]
}

// destOr makes the array d (of size elements) the outer row h when the
// outer build is past its first element (its result is allocated then)
// and the sizes agree (a shape that differs fails after the element, at
// the outer build's check), else the allocation alloc.
func (f *fn) destOr(d string, h *destHint, size, alloc string) {
	f.line("if %s > 0 && %s == %s {", h.i, size, h.rs)
	f.line("%s = %s[%s*%s : (%s+1)*%s]", d, h.data, h.i, h.rs, h.i, h.rs)
	f.line("} else {")
	f.line("%s = %s", d, alloc)
	f.line("}")
}

// giveRows records, for the builds nested in the element about to be
// compiled at index i, the rows of the result their leaves are copied
// into; the returned func forgets them.
func (f *fn) giveRows(plan *stackPlan, i string, data, rs func(k int) string) func() {
	if plan == nil || len(plan.nested) == 0 {
		return func() {}
	}
	if f.dest == nil {
		f.dest = map[*ir.PrimCall][]*destHint{}
	}
	for _, nb := range plan.nested {
		hs := make([]*destHint, len(nb.outer))
		for j, k := range nb.outer {
			if k >= 0 && data(k) != "" {
				hs[j] = &destHint{i: i, data: data(k), rs: rs(k)}
			}
		}
		f.dest[nb.pc] = hs
	}
	return func() {
		for _, nb := range plan.nested {
			delete(f.dest, nb.pc)
		}
	}
}

// how is how leaf k is read.
func (p *stackPlan) how(k int) int {
	if p == nil || k >= len(p.read) {
		return fieldData
	}
	return p.read[k]
}

// skip reports whether leaf k is not stored by the element loop.
func (p *stackPlan) skip(k int) bool {
	return p != nil && (p.how(k) == fieldUnread || p.views[k] != nil)
}

// stackP is stackR following a plan (nil: store every leaf).
func (f *fn) stackP(name string, at *ir.Array, n string, pos ir.Pos, releasable bool, plan *stackPlan, elem func(i string) val) val {
	els := mustLeaves(at.Elem)
	sdims := leafDims(at.Elem)
	res := val{t: at}
	type rl struct {
		data string
		dims []string // the row's dims
		rs   string
	}
	rows := make([]rl, len(els))
	var after []string // views, assigned once the elements are checked
	for k, l := range els {
		if plan.skip(k) {
			if src := plan.views[k]; src != nil && plan.how(k) != fieldUnread {
				// A view of the source's first n rows (it has at least
				// n: every element indexed it).
				d := f.fresh("a")
				f.line("var %s %s", d, elemSlice(l.kind))
				f.markView(d)
				rs := strings.Join(append([]string{n}, src[2:]...), "*")
				after = append(after, fmt.Sprintf("%s = %s[:%s]", d, src[0], rs))
				res.parts = append(res.parts, d, n)
				res.parts = append(res.parts, src[2:]...)
				continue
			}
			res.parts = append(res.parts, deadAtom, n)
			for range l.rank {
				res.parts = append(res.parts, "0")
			}
			continue
		}
		shape := plan.how(k) == fieldShape
		if l.rank == 0 {
			if shape { // its shape is n
				res.parts = append(res.parts, deadAtom, n)
				continue
			}
			d := f.fresh("a")
			if h := plan.destOf(k); h != nil {
				// Every iteration stores its element.
				f.line("var %s %s", d, elemSlice(l.kind))
				f.destOr(d, h, n, f.mkW(l.kind, n))
			} else {
				f.line("%s := %s", d, f.mkW(l.kind, n))
			}
			rows[k] = rl{data: d}
			res.parts = append(res.parts, d, n)
			continue
		}
		d := deadAtom
		if !shape {
			d = f.fresh("a")
			f.line("var %s %s", d, elemSlice(l.kind))
		}
		r := rl{data: d}
		for a := 0; a < l.rank; a++ {
			r.dims = append(r.dims, f.defT("d", "int", staticDim(sdims[k][a])))
		}
		r.rs = f.defT("rs", "int", "0")
		rows[k] = r
		res.parts = append(res.parts, d, n)
		res.parts = append(res.parts, r.dims...)
	}
	f.step("int64("+n+")", pos)
	i := f.fresh("i")
	f.line("for %s := 0; %s < %s; %s++ {", i, i, n, i)
	saveEnv, saveFenv := f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	mark := f.iterMark()
	body := f.b.Len()
	release := func() {
		switch {
		case releasable:
			f.release(mark, i+" > 0")
		case plan != nil && plan.carry != nil:
			plan.carry(mark, i, body)
		default:
			f.line("_ = %s", mark)
		}
	}
	// A leaf copied in row by row (not skipped, stored, not one shared
	// row) can be filled in place by a build nested in the element.
	forget := f.giveRows(plan, i, func(k int) string {
		if r := rows[k]; els[k].rank > 0 && !plan.skip(k) && !plan.bcast[k] && r.data != deadAtom && r.rs != "" {
			return r.data
		}
		return ""
	}, func(k int) string { return rows[k].rs })
	f.loops++
	e := elem(i)
	f.loops--
	forget()
	if e.lz != nil {
		f.stackLazyRow(name, rows[0].data, rows[0].dims, rows[0].rs, els[0].kind, n, i, e.lz, pos)
		release()
		f.env, f.fenv = saveEnv, saveFenv
		f.line("}")
		return res
	}
	_, ep := e.leafParts()
	var bcast []string
	for k, l := range els {
		r := rows[k]
		if plan.skip(k) {
			continue
		}
		if l.rank == 0 {
			if r.data != "" {
				f.line("%s[%s] = %s", r.data, i, ep[k][0])
			}
			continue
		}
		if plan != nil && plan.bcast[k] && r.data != deadAtom && f.views[ep[k][0]] {
			// The same view at every i: element 0's is every row.
			f.line("if %s == 0 {", i)
			f.line("%s = %s", strings.Join(append([]string{r.data}, r.dims...), ", "), strings.Join(ep[k], ", "))
			f.line("}")
			f.line("_ = %s", r.rs)
			bcast = append(bcast, r.data)
			continue
		}
		f.line("if %s == 0 {", i)
		f.line("%s = %s", strings.Join(r.dims, ", "), strings.Join(ep[k][1:], ", "))
		f.line("%s = %s", r.rs, strings.Join(r.dims, " * "))
		tot, errv := f.fresh("tot"), f.fresh("err")
		f.line("%s, %s := runtime.MulSize(%s, %s)", tot, errv, n, r.rs)
		f.line("if %s != nil {", errv)
		f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(pos), errv))
		f.line("}")
		if h := plan.destOf(k); h != nil && r.data != deadAtom {
			f.destOr(r.data, h, tot, f.mkW(l.kind, tot))
		} else if r.data != deadAtom {
			f.line("%s = %s", r.data, f.mkW(l.kind, tot)) // every row is copied in
		} else {
			f.line("_ = %s", tot)
		}
		var conds []string
		for a := range r.dims {
			conds = append(conds, ep[k][1+a]+" != "+r.dims[a])
		}
		f.line("} else if %s {", strings.Join(conds, " || "))
		f.retErr(fmt.Sprintf(`runtime.NewError(%q, "%s: element " + strconv.Itoa(%s) + " has shape " + runtime.ShapeString([]int{%s}) + ", element 0 has shape " + runtime.ShapeString([]int{%s}))`,
			posString(pos), name, i, strings.Join(ep[k][1:], ", "), strings.Join(r.dims, ", ")))
		f.line("}")
		if r.data != deadAtom { // a field whose shape alone is read is not stored
			f.line("copy(%s[%s*%s:(%s+1)*%s], %s)", r.data, i, r.rs, i, r.rs, ep[k][0])
		}
	}
	if plan != nil && plan.rebind != nil {
		_, sp := plan.rebind.leafParts()
		for k, l := range els {
			if r := rows[k]; l.rank > 0 && !plan.skip(k) && r.data != deadAtom && sp[k][0] != deadAtom {
				f.line("%s = %s[%s*%s:(%s+1)*%s]", sp[k][0], r.data, i, r.rs, i, r.rs)
				f.markView(sp[k][0])
			}
		}
	}
	release()
	f.env, f.fenv = saveEnv, saveFenv
	f.line("}")
	for _, l := range after {
		f.line("%s", l)
	}
	for _, d := range bcast {
		f.markBcast(d)
	}
	return res
}

// stackLazyRow stores the lazy row lz as row i of a stacked result,
// allocating the result when i is 0 (the row's dims are known before any
// element is computed): the row is computed straight into its place.
func (f *fn) stackLazyRow(name, data string, dims []string, rs string, k ir.ScalarKind, n, i string, lz *lazy, pos ir.Pos) {
	f.line("if %s == 0 {", i)
	f.line("%s = %s", strings.Join(dims, ", "), strings.Join(lz.dims, ", "))
	f.line("%s = %s", rs, strings.Join(dims, " * "))
	tot, errv := f.fresh("tot"), f.fresh("err")
	f.line("%s, %s := runtime.MulSize(%s, %s)", tot, errv, n, rs)
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(pos), errv))
	f.line("}")
	f.line("%s = %s", data, f.mkW(k, tot))
	var conds []string
	for a := range dims {
		conds = append(conds, lz.dims[a]+" != "+dims[a])
	}
	f.line("} else if %s {", strings.Join(conds, " || "))
	f.retErr(fmt.Sprintf(`runtime.NewError(%q, "%s: element " + strconv.Itoa(%s) + " has shape " + runtime.ShapeString([]int{%s}) + ", element 0 has shape " + runtime.ShapeString([]int{%s}))`,
		posString(pos), name, i, strings.Join(lz.dims, ", "), strings.Join(dims, ", ")))
	f.line("}")
	row := f.def("row", fmt.Sprintf("%s[%s*%s : (%s+1)*%s]", data, i, rs, i, rs))
	f.writeLazy(row, lz)
}

// sizeArg converts an i64 size computed by the program to an int, failing
// at pos on a negative or absurd size. At the function's top level the
// check is runtime.CheckSizeFast (topLevel).
func (f *fn) sizeArg(n string, pos ir.Pos) string {
	v, errv := f.fresh("n"), f.fresh("err")
	check := "CheckSize"
	if f.topLevel() {
		check = "CheckSizeFast"
	}
	f.line("%s, %s := runtime.%s(%s)", v, errv, check, n)
	if l, ok := f.linOf(n); ok {
		f.setLin(v, l)
	} else {
		// v is int(n) when the check passes: sizes checked from the same
		// atom are equal (see sameSize).
		f.setLin(v, linForm{base: "int(" + n + ")"})
	}
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(pos), errv))
	f.line("}")
	return v
}

func lowerLen(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	n := f.def("n", "int64("+f.length(a)+")")
	f.setLin(n, linForm{base: f.length(a)})
	return valOf(ir.TI64, n)
}

func lowerDim(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	axis, _ := e.Aux.(int)
	if v, ok := e.Aux.(int64); ok {
		axis = int(v)
	}
	_, lp := a.leafParts()
	n := f.def("n", "int64("+lp[0][1+axis]+")")
	f.setLin(n, linForm{base: lp[0][1+axis]})
	return valOf(ir.TI64, n)
}

func lowerIota(f *fn, e *ir.PrimCall) val {
	n := f.sizeArg(f.compile(e.Args[0]).parts[0], e.P)
	d := f.def("a", f.mk(ir.I64, n))
	i := f.fresh("i")
	f.line("for %s := range %s {", i, d)
	f.line("%s[%s] = int64(%s)", d, i, i)
	f.line("}")
	return valOf(e.T, d, n)
}

func lowerFillConst(c string) func(f *fn, e *ir.PrimCall) val {
	return func(f *fn, e *ir.PrimCall) val {
		n := f.sizeArg(f.compile(e.Args[0]).parts[0], e.P)
		d := f.def("a", f.mk(ir.F64, n))
		if c != "0" {
			i := f.fresh("i")
			f.line("for %s := range %s {", i, d)
			f.line("%s[%s] = %s", d, i, c)
			f.line("}")
		}
		return valOf(e.T, d, n)
	}
}

func lowerFill(f *fn, e *ir.PrimCall) val {
	n := f.sizeArg(f.compile(e.Args[0]).parts[0], e.P)
	v := f.compile(e.Args[1])
	return f.stack("fill", e.T.(*ir.Array), n, e.P, func(string) val { return v })
}

func lowerBuild(f *fn, e *ir.PrimCall) val {
	lp := f.plan
	f.plan = nil
	n := f.sizeArg(f.compile(e.Args[0]).parts[0], e.P)
	lam, _ := e.Args[1].(*ir.Lambda)
	if lam != nil {
		// build(n, fn i => s[i].f) is field f of s when s has n rows.
		if s, path, ok := elemField(lam); ok {
			if sv, ok := f.env[s]; ok && sv.lz == nil && f.sameSize(n, f.length(sv)) {
				if v := fieldOfArray(sv, path); !hasDead(v) && !f.hasBcast(v) {
					v.t = e.T
					return f.asView(v)
				}
			}
		}
	}
	sf := f.staticFn(e.Args[1])
	if _, ok := e.T.(*ir.Array).Elem.(ir.Scalar); ok {
		return f.lazyBuild(e, n, sf)
	}
	if unrolled(e) {
		rows, data, rs := f.buildRows(e, n, sf)
		return f.storeRows(e.T, rows, data, rs)
	}
	plan := &stackPlan{dest: f.dest[e]}
	delete(f.dest, e)
	if lp != nil {
		plan.read = lp.leaves
		if lam != nil {
			f.skipFields(lam, lp)
		}
	}
	if lam != nil {
		plan.views = f.rowViews(lam)
		if lp != nil { // the readers only project elements (fieldUses)
			plan.bcast = invariantLeaves(lam)
		}
		plan.nested = nestedBuilds(lam)
	}
	return f.stackP("build", e.T.(*ir.Array), n, e.P, true, plan, func(i string) val {
		iv := f.def("i", "int64("+i+")")
		f.indexBound(iv, n)
		return f.callStaticL(sf, []val{valOf(ir.TI64, iv)}, e.P, e.T.(*ir.Array).Elem)
	})
}

func lowerArrayLit(f *fn, e *ir.PrimCall) val {
	at := e.T.(*ir.Array)
	if _, ok := at.Elem.(*ir.Array); ok && len(e.Args) > 0 {
		if _, ok := ir.Leaf(at.Elem); ok {
			return f.arrayLitRows(e, at)
		}
	}
	args := make([]val, len(e.Args))
	for i, a := range e.Args {
		args[i] = f.compile(a)
	}
	if s, ok := at.Elem.(ir.Scalar); ok {
		d := f.def("a", f.mkW(s.Kind, fmt.Sprint(len(args))))
		var lhs []string
		for k := range args {
			lhs = append(lhs, fmt.Sprintf("%s[%d]", d, k))
		}
		f.line("%s = %s", strings.Join(lhs, ", "), strings.Join(partsOf(args), ", "))
		return valOf(e.T, d, fmt.Sprint(len(args)))
	}
	n := fmt.Sprint(len(args))
	cur := 0
	// Elements are emitted in order inside the loop by a switch on i.
	return f.stack("array literal", at, n, e.P, func(i string) val {
		res := f.declare("e", at.Elem)
		f.line("switch %s {", i)
		for k, a := range args {
			f.line("case %d:", k)
			f.assign(res, a)
		}
		f.line("}")
		cur++
		return res
	})
}

// arrayLitRows is an array literal whose elements are arrays of one
// scalar kind: every element is computed first (errors keep their
// order), the shapes checked, and each row then stored in place, an
// elementwise row computed straight into it rather than into a
// temporary that is copied.
func (f *fn) arrayLitRows(e *ir.PrimCall, at *ir.Array) val {
	if litCats(e) {
		return f.arrayLitCats(e, at) // catrows.go
	}
	rows, data, rs := f.litRows(e, at)
	return f.storeRows(e.T, rows, data, rs)
}

// litRows compiles the rows of an array literal of arrays, checks their
// shapes and allocates its storage (data, of rows of rs elements), which
// the caller fills.
func (f *fn) litRows(e *ir.PrimCall, at *ir.Array) (rows []val, data, rs string) {
	k, _ := ir.Leaf(at.Elem)
	rows, rs = f.litRowsChecked(e)
	data = f.def("a", f.mkW(k, f.mulSize(fmt.Sprint(len(rows)), rs, e.P)))
	return rows, data, rs
}

// sameShapes checks at run time that the elements of an array literal
// (rows) have the first one's shape, with the interpreter's message, and
// returns that shape's dimensions.
func (f *fn) sameShapes(rows []val, p ir.Pos) []string {
	d0 := dimsOf(rows[0])
	for i, r := range rows[1:] {
		di := dimsOf(r)
		if conds := dimConds(d0, di); len(conds) > 0 {
			f.failIf(strings.Join(conds, " || "), p, fmt.Sprintf(`"array literal: element %d has shape " + runtime.ShapeString([]int{%s}) + ", element 0 has shape " + runtime.ShapeString([]int{%s})`,
				i+1, strings.Join(di, ", "), strings.Join(d0, ", ")))
		}
	}
	return d0
}

// litRowsChecked is litRows up to the allocation: the rows, compiled
// and their shapes checked, and the row size rs.
func (f *fn) litRowsChecked(e *ir.PrimCall) (rows []val, rs string) {
	rows = make([]val, len(e.Args))
	for i, a := range e.Args {
		rows[i] = f.compileL(a)
		if rows[i].lz == nil {
			continue
		}
		// A recipe reads its operands when its row is stored, so no later
		// element may update an array in place before then.
		for _, b := range e.Args[i+1:] {
			if ir.HasInPlace(b) {
				rows[i] = f.force(rows[i])
				break
			}
		}
	}
	d0 := f.sameShapes(rows, e.P)
	rs = f.def("rs", strings.Join(d0, " * "))
	return rows, rs
}

func lowerIndex(f *fn, e *ir.PrimCall) val {
	a := f.compileL(e.Args[0])
	i := f.compile(e.Args[1]).parts[0]
	if a.lz != nil && a.lz.constant && len(a.lz.dims) == 1 {
		f.checkIndex(i, a.lz.dims[0], e.P) // the element is the same at every index
		return valOf(e.T, a.lz.elem(""))
	}
	a = f.force(a)
	i = f.checkIndex(i, f.length(a), e.P)
	return f.indexVal(a, "int("+i+")")
}

func lowerSlice(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	lo := f.compile(e.Args[1]).parts[0]
	hi := f.compile(e.Args[2]).parts[0]
	n := f.length(a)
	f.failIf(fmt.Sprintf("%s < 0 || %s < %s || %s > int64(%s)", lo, hi, lo, hi, n), e.P,
		fmt.Sprintf(`fmt.Sprintf("slice [%%d:%%d] out of range for length %%d", %s, %s, %s)`, lo, hi, n))
	return f.sliceVal(a, "int("+lo+")", "int("+hi+")", e.T)
}

func lowerTakeDrop(take bool) func(f *fn, e *ir.PrimCall) val {
	return func(f *fn, e *ir.PrimCall) val {
		name := "drop"
		if take {
			name = "take"
		}
		a := f.compile(e.Args[0])
		k := f.compile(e.Args[1]).parts[0]
		n := f.length(a)
		f.failIf(fmt.Sprintf("%s < 0 || %s > int64(%s)", k, k, n), e.P,
			fmt.Sprintf(`fmt.Sprintf("%s: count %%d out of range [0, %%d]", %s, %s)`, name, k, n))
		if take {
			return f.sliceVal(a, "0", "int("+k+")", e.T)
		}
		return f.sliceVal(a, "int("+k+")", n, e.T)
	}
}

// copyVal makes a fresh copy of every array leaf of v.
func (f *fn) copyVal(v val) val {
	ls, lp := v.leafParts()
	out := val{t: v.t}
	for k, l := range ls {
		p := lp[k]
		if l.rank == 0 {
			out.parts = append(out.parts, p...)
			continue
		}
		d := f.def("c", f.mkW(l.kind, fmt.Sprintf("len(%s)", p[0])))
		f.line("copy(%s, %s)", d, p[0])
		out.parts = append(out.parts, d)
		out.parts = append(out.parts, p[1:]...)
	}
	return out
}

// setRow stores elem into row i (an int expression) of array dst.
func (f *fn) setRow(dst val, i string, elem val) {
	ls, lp := dst.leafParts()
	_, ep := elem.leafParts()
	for k, l := range ls {
		p := lp[k]
		if l.rank == 1 {
			f.line("%s[%s] = %s", p[0], i, ep[k][0])
			continue
		}
		rs := f.rowSize(l, p)
		f.line("copy(%s[%s*%s:(%s+1)*%s], %s)", p[0], i, rs, i, rs, ep[k][0])
	}
}

// checkRowShape fails unless elem has the row shape of array a.
func (f *fn) checkRowShape(a, elem val, pos ir.Pos, what string) {
	ls, lp := a.leafParts()
	_, ep := elem.leafParts()
	for k, l := range ls {
		if l.rank < 2 {
			continue
		}
		var conds []string
		for d := 2; d <= l.rank; d++ {
			conds = append(conds, ep[k][d-1]+" != "+lp[k][d])
		}
		f.failIf(strings.Join(conds, " || "), pos, fmt.Sprintf(`"%s: value has shape " + runtime.ShapeString([]int{%s}) + "; elements have shape " + runtime.ShapeString([]int{%s})`, what, strings.Join(ep[k][1:], ", "), strings.Join(lp[k][2:], ", ")))
	}
}

func lowerUpdate(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	i := f.compile(e.Args[1]).parts[0]
	v := f.compile(e.Args[2])
	i = f.checkIndex(i, f.length(a), e.P)
	f.checkRowShape(a, v, e.P, "update")
	out := a
	if !f.owned(e.Args[0]) {
		out = f.copyVal(a)
	}
	f.setRow(out, "int("+i+")", v)
	return out
}

// owned reports whether the array an expression denotes may be updated
// in place: a loop state that owns its storage and that nothing reads
// after the update (see inPlaceLoop), or the result of another update,
// which nothing else can see (update(update(s, i, v), j, w) copies s
// once).
func (f *fn) owned(e ir.Expr) bool {
	if pc, ok := e.(*ir.PrimCall); ok && pc.Op == ir.PrimUpdate {
		return true
	}
	v, ok := e.(*ir.Var)
	return ok && f.inplace[v]
}

func lowerGather(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	idx := f.compile(e.Args[1])
	n := f.length(a)
	j := f.fresh("j")
	flag := f.onceFlag("gather "+idx.parts[0]+" "+n, idx.parts[0], n)
	if flag != "" {
		f.line("if !%s {", flag)
	}
	f.line("for _, %s := range %s {", j, idx.parts[0])
	f.checkIndex(j, n, e.P) // j is a loop variable, never a constant
	f.line("}")
	if flag != "" {
		f.line("%s = true", flag)
		f.line("}")
	}
	if s, ok := e.T.(*ir.Array).Elem.(ir.Scalar); ok && a.lz == nil {
		// The indices are checked: a recipe reading through them lets a
		// build write the gathered row in place, with no temporary.
		return val{t: e.T, lz: &lazy{kind: s.Kind, dims: []string{idx.parts[1]}, arrays: []string{idx.parts[0]}, safe: true, elem: func(i string) string {
			return fmt.Sprintf("%s[int(%s[%s])]", a.parts[0], idx.parts[0], i)
		}}}
	}
	return f.stack("gather", e.T.(*ir.Array), idx.parts[1], e.P, func(i string) val {
		return f.indexVal(a, "int("+idx.parts[0]+"["+i+"])")
	})
}

func lowerMap(f *fn, e *ir.PrimCall) val {
	sf := f.staticFn(e.Args[0])
	arrays := make([]val, len(e.Args)-1)
	for i, a := range e.Args[1:] {
		arrays[i] = f.compile(a)
	}
	n := f.length(arrays[0])
	for _, b := range arrays[1:] {
		m := f.length(b)
		if m != n {
			f.failIf(m+" != "+n, e.P, fmt.Sprintf(`fmt.Sprintf("map: sizes %%d and %%d differ", %s, %s)`, n, m))
		}
	}
	at := e.T.(*ir.Array)
	if s, ok := at.Elem.(ir.Scalar); ok {
		return val{t: e.T, lz: &lazy{kind: s.Kind, dims: []string{n}, elem: func(i string) string {
			xs := make([]val, len(arrays))
			for k, a := range arrays {
				xs[k] = f.indexVal(a, i)
			}
			return f.callStatic(sf, xs, e.P, at.Elem).parts[0]
		}}}
	}
	return f.stack("map", at, n, e.P, func(i string) val {
		xs := make([]val, len(arrays))
		for k, a := range arrays {
			xs[k] = f.indexVal(a, i)
		}
		return f.callStaticL(sf, xs, e.P, at.Elem)
	})
}

// lowerFold is reduce and fold: a left fold from the initial value, the
// operator inlined.
func lowerFold(f *fn, e *ir.PrimCall) val {
	sf := f.staticFn(e.Args[0])
	init := f.compile(e.Args[1])
	a := f.compile(e.Args[2])
	acc := f.declare("acc", e.T)
	f.assign(acc, init)
	n := f.length(a)
	i := f.fresh("i")
	f.line("for %s := 0; %s < %s; %s++ {", i, i, n, i)
	saveEnv, saveFenv := f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	mark := f.iterMark()
	x := f.indexVal(a, i)
	next := f.callStatic(sf, []val{acc, x}, e.P, e.T)
	f.assign(acc, next)
	f.iterRelease(mark, acc, next, "")
	f.env, f.fenv = saveEnv, saveFenv
	f.line("}")
	return acc
}

func lowerScan(f *fn, e *ir.PrimCall) val {
	sf := f.staticFn(e.Args[0])
	init := f.compile(e.Args[1])
	a := f.compile(e.Args[2])
	at := e.T.(*ir.Array)
	acc := f.declare("acc", at.Elem)
	f.assign(acc, init)
	return f.stackR("scan", at, f.length(a), e.P, ir.Rank(at.Elem) == 0 && isScalarTuple(at.Elem), func(i string) val {
		x := f.indexVal(a, i)
		next := f.callStatic(sf, []val{acc, x}, e.P, at.Elem)
		f.assign(acc, next)
		return acc
	})
}

func lowerZip(f *fn, e *ir.PrimCall) val {
	out := val{t: e.T}
	var n string
	for i, a := range e.Args {
		v := f.compile(a)
		if i == 0 {
			n = f.length(v)
		} else if m := f.length(v); m != n {
			f.failIf(m+" != "+n, e.P, fmt.Sprintf(`fmt.Sprintf("zip: sizes %%d and %%d differ", %s, %s)`, n, m))
		}
		out.parts = append(out.parts, v.parts...)
	}
	return out
}

func lowerUnzip(f *fn, e *ir.PrimCall) val {
	v := f.compile(e.Args[0])
	return val{t: e.T, parts: v.parts}
}

// lowerReduction is sum, prod, maximum, minimum, mean, norm and logsumexp
// over all elements, by the runtime kernels for f64 (the interpreter's
// own, so results agree to the bit).
func lowerReduction(name string) func(f *fn, e *ir.PrimCall) val {
	return func(f *fn, e *ir.PrimCall) val {
		if name == "sum" || name == "mean" {
			if a := f.compileL(e.Args[0]); a.lz != nil {
				s := f.sumLazy(a.lz)
				if name == "mean" {
					return valOf(e.T, f.def("m", fmt.Sprintf("%s / float64(%s)", s, f.total(a.lz))))
				}
				return valOf(e.T, s)
			} else {
				return f.reduction(name, e, a)
			}
		}
		return f.reduction(name, e, f.compile(e.Args[0]))
	}
}

var reductionKernels = map[string]string{"sum": "runtime.Sum", "prod": "runtime.Prod", "maximum": "runtime.Max",
	"minimum": "runtime.Min", "norm": "runtime.Norm2", "logsumexp": "runtime.LogSumExp"}

func (f *fn) reduction(name string, e *ir.PrimCall, a val) val {
	kernels := reductionKernels
	{ //nolint
		k, _ := ir.Leaf(a.t)
		d := a.parts[0]
		if k == ir.F64 {
			if name == "mean" {
				return valOf(e.T, f.def("m", fmt.Sprintf("runtime.Sum(%s) / float64(len(%s))", d, d)))
			}
			return valOf(e.T, f.def("s", kernels[name]+"("+d+")"))
		}
		// i64
		s := f.fresh("s")
		x := f.fresh("x")
		switch name {
		case "sum":
			f.line("var %s int64", s)
			f.line("for _, %s := range %s {", x, d)
			f.line("%s += %s", s, x)
			f.line("}")
		case "prod":
			f.line("%s := int64(1)", s)
			f.line("for _, %s := range %s {", x, d)
			f.line("%s *= %s", s, x)
			f.line("}")
		case "maximum", "minimum":
			f.failIf("len("+d+") == 0", e.P, fmt.Sprintf("%q", name+" of an empty i64 array"))
			f.line("%s := %s[0]", s, d)
			f.line("for _, %s := range %s[1:] {", x, d)
			f.line("%s = %s(%s, %s)", s, map[string]string{"maximum": "max", "minimum": "min"}[name], s, x)
			f.line("}")
		default:
			f.g.fail("%s: %s of i64", e.P, name)
		}
		return valOf(e.T, s)
	}
}

func lowerArg(name string) func(f *fn, e *ir.PrimCall) val {
	return func(f *fn, e *ir.PrimCall) val {
		a := f.compile(e.Args[0])
		k, _ := ir.Leaf(a.t)
		d := a.parts[0]
		f.failIf(a.parts[1]+" == 0", e.P, fmt.Sprintf("%q", name+" of an empty array"))
		if k == ir.F64 {
			kern := map[string]string{"argmax": "runtime.ArgMax", "argmin": "runtime.ArgMin"}[name]
			return valOf(e.T, f.def("k", fmt.Sprintf("int64(%s(%s))", kern, d)))
		}
		b, x := f.fresh("best"), f.fresh("i")
		cmp := map[string]string{"argmax": ">", "argmin": "<"}[name]
		f.line("%s := 0", b)
		f.line("for %s := range %s {", x, d)
		f.line("if %s[%s] %s %s[%s] {", d, x, cmp, d, b)
		f.line("%s = %s", b, x)
		f.line("}")
		f.line("}")
		return valOf(e.T, f.def("k", "int64("+b+")"))
	}
}

func lowerSoftmax(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	d := f.def("sm", f.mk(ir.F64, "len("+a.parts[0]+")"))
	f.line("runtime.Softmax(%s, %s)", d, a.parts[0])
	return val{t: e.T, parts: append([]string{d}, a.parts[1:]...)}
}

func lowerDot(f *fn, e *ir.PrimCall) val {
	x := f.compileL(e.Args[0])
	y := f.compileL(e.Args[1])
	if x.lz != nil || y.lz != nil {
		// One fused loop: Σ x_i·y_i with no array in between.
		xd, yd := dimsOf(x), dimsOf(y)
		if xd[0] != yd[0] {
			f.failIf(xd[0]+" != "+yd[0], e.P, fmt.Sprintf(`fmt.Sprintf("dot: sizes %%d and %%d differ", %s, %s)`, xd[0], yd[0]))
		}
		xe, xa := elemOf(x)
		ye, ya := elemOf(y)
		return valOf(e.T, f.sumLazy(&lazy{kind: ir.F64, dims: xd, arrays: append(xa, ya...), elem: func(i string) string {
			return xe(i) + " * " + ye(i)
		}}))
	}
	if x.parts[0] != y.parts[0] {
		f.failIf(fmt.Sprintf("len(%s) != len(%s)", x.parts[0], y.parts[0]), e.P,
			fmt.Sprintf(`fmt.Sprintf("dot: sizes %%d and %%d differ", len(%s), len(%s))`, x.parts[0], y.parts[0]))
	}
	return valOf(e.T, f.def("d", fmt.Sprintf("runtime.Dot(%s, %s)", x.parts[0], y.parts[0])))
}

// allocW allocates a fresh f64 array of the given dims (int atoms), with
// a checked total size, uncleared: the caller stores every element
// before any is read.
func (f *fn) allocW(k ir.ScalarKind, pos ir.Pos, dims ...string) string {
	return f.def("a", f.mkW(k, f.totalSize(pos, dims)))
}

// totalSize is the checked product of dims.
func (f *fn) totalSize(pos ir.Pos, dims []string) string {
	total := dims[0]
	for _, d := range dims[1:] {
		total = f.mulSize(total, d, pos)
	}
	return total
}

// mulSize is the checked product of two sizes, failing at pos when it
// overflows.
func (f *fn) mulSize(a, b string, pos ir.Pos) string {
	t, errv := f.fresh("tot"), f.fresh("err")
	f.line("%s, %s := runtime.MulSize(%s, %s)", t, errv, a, b)
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(pos), errv))
	f.line("}")
	return t
}

func lowerOuter(f *fn, e *ir.PrimCall) val {
	x := f.compile(e.Args[0])
	y := f.compile(e.Args[1])
	// Lazy: element (i, j) is x[i]·y[j]; an accumulator or a sum takes it
	// without the matrix, and anything else forces it in one loop.
	tot, errv := f.fresh("tot"), f.fresh("err")
	f.line("%s, %s := runtime.MulSize(%s, %s)", tot, errv, x.parts[1], y.parts[1])
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(e.P), errv))
	f.line("}")
	f.line("_ = %s", tot)
	xd, yd, n := x.parts[0], y.parts[0], y.parts[1]
	return val{t: e.T, lz: &lazy{kind: ir.F64, dims: []string{x.parts[1], y.parts[1]}, outer: &[2]string{xd, yd}, elem: func(idx string) string {
		return fmt.Sprintf("%s[%s/%s] * %s[%s%%%s]", xd, idx, n, yd, idx, n)
	}}}
}

func lowerMatmul(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	if ir.Rank(a.t) == 2 && ir.Rank(e.Args[1].Type()) == 1 {
		if b := f.compileL(e.Args[1]); b.lz != nil && b.lz.cheap {
			return f.matvecLazy(e, a, b.lz)
		} else {
			return f.matvec(e, a, f.force(b))
		}
	}
	b := f.compile(e.Args[1])
	ra, rb := ir.Rank(a.t), ir.Rank(b.t)
	mismatch := func(inner1, inner2 string) {
		f.failIf(inner1+" != "+inner2, e.P, fmt.Sprintf(`"'@': inner sizes differ: " + runtime.ShapeString([]int{%s}) + " @ " + runtime.ShapeString([]int{%s})`, strings.Join(a.parts[1:], ", "), strings.Join(b.parts[1:], ", ")))
	}
	switch {
	case ra == 2 && rb == 2:
		rows, k, cols := a.parts[1], a.parts[2], b.parts[2]
		mismatch(b.parts[1], k)
		c := f.allocW(ir.F64, e.P, rows, cols)
		f.line("runtime.Gemm(false, false, %s, %s, %s, 1, %s, %s, 0, %s)", rows, cols, k, a.parts[0], b.parts[0], c)
		return valOf(e.T, c, rows, cols)
	case ra == 1 && rb == 2:
		k, cols := b.parts[1], b.parts[2]
		mismatch(a.parts[1], k)
		// Small: each element is one sum down a column, in the row
		// order of the accumulating loop below (so the same bits), kept
		// in a register instead of cleared and added to in memory; four
		// columns at a time, so that four sums are in flight (one sum's
		// chain of dependent additions is what bounds the loop) and each
		// row's four entries are one bounds check.
		y := f.allocW(ir.F64, e.P, cols)
		x, r, row, c, v := a.parts[0], f.fresh("r"), f.fresh("row"), f.fresh("c"), f.fresh("v")
		s, q, o, sums := f.fresh("s"), f.fresh("q"), f.fresh("o"), f.fresh4("s")
		if cols == k {
			// A square matrix: one test (staticcheck flags the
			// repeated one).
			f.line("if %s <= 32 {", cols)
		} else {
			f.line("if %s <= 32 && %s <= 32 {", cols, k)
		}
		f.line("%s = %s[:%s]", x, x, k)
		full := func() {
			f.line("%s := 0", c)
			f.line("for ; %s+4 <= %s; %s += 4 {", c, cols, c)
			f.line("%s := 0.0, 0.0, 0.0, 0.0", strings.Join(sums, ", "))
			f.line("for %s, %s := range %s {", r, v, x)
			f.line("%s := %s*%s + %s", o, r, cols, c)
			f.line("%s := %s[%s : %s+4 : %s+4]", q, b.parts[0], o, o, o)
			for j := range 4 {
				f.line("%s += %s * %s[%d]", sums[j], v, q, j)
			}
			f.line("}")
			f.line("%s[%s], %s[%s+1], %s[%s+2], %s[%s+3] = %s", y, c, y, c, y, c, y, c, strings.Join(sums, ", "))
			f.line("}")
			f.line("for ; %s < %s; %s++ {", c, cols, c)
			f.line("%s := 0.0", s)
			f.line("for %s, %s := range %s {", r, v, x)
			f.line("%s += %s * %s[%s*%s+%s]", s, v, b.parts[0], r, cols, c)
			f.line("}")
			f.line("%s[%s] = %s", y, c, s)
			f.line("}")
		}
		// A few rows: written out (smalltrip.go).
		f.smallTrips(k, func(m int) { f.straightCols(y, x, b.parts[0], cols, m) }, func() {
			if f.isLowerTri(e.Args[1]) {
				// A lower-triangular matrix (tri.go): column c from its
				// diagonal down only.
				f.triOr(k, y, "0", cols+" > 0", func() { f.triVecmat(y, x, b.parts[0], k, cols) }, full)
			} else {
				full()
			}
		})
		if cols != k {
			// Few columns, many rows (unreachable for a square matrix).
			f.line("} else if %s <= 32 {", cols)
			f.line("clear(%s)", y)
			f.line("%s = %s[:%s]", x, x, k)
			f.line("for %s := range %s {", r, x)
			f.line("%s := %s[%s*%s : (%s+1)*%s]", row, b.parts[0], r, cols, r, cols)
			f.line("%s = %s[:len(%s)]", y, y, row)
			f.line("for %s, %s := range %s {", c, v, row)
			f.line("%s[%s] += %s[%s] * %s", y, c, x, r, v)
			f.line("}")
			f.line("}")
		}
		f.line("} else {")
		f.line("runtime.Gemv(true, %s, %s, 1, %s, %s, 0, %s)", k, cols, b.parts[0], a.parts[0], y)
		f.line("}")
		return valOf(e.T, y, cols)
	case ra == 1 && rb == 1:
		mismatch(a.parts[1], b.parts[1])
		return valOf(e.T, f.def("d", fmt.Sprintf("runtime.Dot(%s, %s)", a.parts[0], b.parts[0])))
	}
	f.g.fail("%s: '@' of ranks %d and %d", e.P, ra, rb)
	return val{}
}

// matvec is matrix @ vector: small products inline (a call of the BLAS
// kernel costs more than the work), large ones by the kernel.
func (f *fn) matvec(e *ir.PrimCall, a, b val) val {
	rows, k := a.parts[1], a.parts[2]
	f.failIf(b.parts[1]+" != "+k, e.P, fmt.Sprintf(`"'@': inner sizes differ: " + runtime.ShapeString([]int{%s}) + " @ " + runtime.ShapeString([]int{%s})`, strings.Join(a.parts[1:], ", "), strings.Join(b.parts[1:], ", ")))
	y := f.productDest(e, rows) // both branches store every element
	f.line("if %s <= 32 {", k)
	// One row at a time: where x is stored (the GMM gradient's forward
	// pass) the four-row form of smallMatvec measured slower (d = 10:
	// 53 → 65 ms); for a recipe computed in the loop, faster.
	x, r, row, s, c, v := b.parts[0], f.fresh("r"), f.fresh("row"), f.fresh("s"), f.fresh("c"), f.fresh("v")
	f.line("%s = %s[:%s]", x, x, k)
	// Row r to column n (an int expression) at most: the whole row when
	// n is "".
	rowsTo := func(n string) {
		f.line("for %s := range %s {", r, y)
		if n == "" {
			f.line("%s := %s[%s*%s : (%s+1)*%s]", row, a.parts[0], r, k, r, k)
		} else {
			f.line("%s := %s[%s*%s:][:%s]", row, a.parts[0], r, k, n)
		}
		f.line("%s := 0.0", s)
		f.line("for %s, %s := range %s {", c, v, row)
		f.line("%s += %s * %s[%s]", s, v, x, c)
		f.line("}")
		f.line("%s[%s] = %s", y, r, s)
		f.line("}")
	}
	full := func() { rowsTo("") }
	// A few columns: written out (smalltrip.go).
	f.smallTrips(k, func(m int) {
		f.straightRows(y, a.parts[0], m, func(c string) string { return x + "[" + c + "]" })
	}, func() {
		if f.isLowerTri(e.Args[0]) {
			// A lower-triangular matrix (tri.go): row r to its diagonal
			// only.
			f.triOr(k, y, "len("+y+")-1", fmt.Sprintf("len(%s) >= %s && len(%s) > 0", y, k, y), func() { rowsTo(fmt.Sprintf("min(%s+1, %s)", r, k)) }, full)
		} else {
			full()
		}
	})
	f.line("} else {")
	f.line("runtime.Gemv(false, %s, %s, 1, %s, %s, 0, %s)", rows, k, a.parts[0], b.parts[0], y)
	f.line("}")
	return valOf(e.T, y, rows)
}

// fresh4 is four fresh names with prefix p.
func (f *fn) fresh4(p string) []string {
	return []string{f.fresh(p), f.fresh(p), f.fresh(p), f.fresh(p)}
}

// smallMatvec stores in y (its length the matrix's rows) the products of
// the rows of the row-major matrix a (k columns) with the vector whose
// element c is x(c), its arrays resliced to k: each a sum in column order
// (the same bits as one row at a time), four rows at a time so that four
// sums are in flight (one sum's chain of dependent additions is what
// bounds a row) and each element of x is computed once for four rows.
func (f *fn) smallMatvec(y, a, k string, x func(c string) string) {
	r, blk, s, c, xc, row := f.fresh("r"), f.fresh("blk"), f.fresh("s"), f.fresh("c"), f.fresh("xc"), f.fresh("row")
	rows, sums := f.fresh4("row"), f.fresh4("s")
	f.line("%s := 0", r)
	f.line("for ; %s+4 <= len(%s); %s += 4 {", r, y, r)
	f.fourRows(y, a, r, k, k, blk, c, xc, rows, sums, x)
	f.line("}")
	f.line("for ; %s < len(%s); %s++ {", r, y, r)
	f.line("%s := %s[%s*%s:][:%s]", row, a, r, k, k)
	f.line("%s := 0.0", s)
	f.line("for %s := range %s {", c, row)
	f.line("%s += %s[%s] * %s", s, row, c, x(c))
	f.line("}")
	f.line("%s[%s] = %s", y, r, s)
	f.line("}")
}

// fourRows emits the body of a block of four rows r..r+3 of y = a @ x
// (a row-major with k columns, each row's first n columns summed): four
// sums in flight over one read of x(c) each, as smallMatvec and
// triMatvecRows run them.
func (f *fn) fourRows(y, a, r, k, n, blk, c, xc string, rows, sums []string, x func(c string) string) {
	f.line("%s := %s[%s*%s : (%s+4)*%s]", blk, a, r, k, r, k)
	f.line("%s := %s[:%s], %s[%s:][:%s], %s[2*%s:][:%s], %s[3*%s:][:%s]", strings.Join(rows, ", "), blk, n, blk, k, n, blk, k, n, blk, k, n)
	f.line("%s := 0.0, 0.0, 0.0, 0.0", strings.Join(sums, ", "))
	f.line("for %s := range %s {", c, rows[0])
	f.line("%s := %s", xc, x(c))
	for j := range 4 {
		f.line("%s += %s[%s] * %s", sums[j], rows[j], c, xc)
	}
	f.line("}")
	f.line("%s[%s], %s[%s+1], %s[%s+2], %s[%s+3] = %s", y, r, y, r, y, r, y, r, strings.Join(sums, ", "))
}

// matvecLazy is matrix @ a cheap recipe (x - mu, say): the recipe is
// evaluated in the product's inner loop instead of being stored, when
// the vector is short; a long one is forced and goes to the kernel.
func (f *fn) matvecLazy(e *ir.PrimCall, a val, lz *lazy) val {
	rows, k := a.parts[1], a.parts[2]
	f.failIf(lz.dims[0]+" != "+k, e.P, fmt.Sprintf(`"'@': inner sizes differ: " + runtime.ShapeString([]int{%s}) + " @ " + runtime.ShapeString([]int{%s})`, strings.Join(a.parts[1:], ", "), lz.dims[0]))
	lz = f.keepOperand(e, k, lz) // pointfuse.go
	y := f.productDest(e, rows)  // both branches store every element
	f.line("if %s <= 32 {", k)
	f.reslice(lz.arrays, k)
	// A few columns: written out (smalltrip.go).
	f.smallTrips(k, func(m int) { f.straightRows(y, a.parts[0], m, lz.elem) }, func() {
		if f.isLowerTri(e.Args[0]) { // tri.go
			f.triOr(k, y, "len("+y+")-1", fmt.Sprintf("len(%s) >= %s && len(%s) > 0", y, k, y),
				func() { f.triMatvecRows(y, a.parts[0], k, lz.elem) },
				func() { f.smallMatvec(y, a.parts[0], k, lz.elem) })
		} else {
			f.smallMatvec(y, a.parts[0], k, lz.elem)
		}
	})
	f.line("} else {")
	xv := f.def("x", f.mkW(lz.kind, k))
	f.writeLazy(xv, lz)
	f.line("runtime.Gemv(false, %s, %s, 1, %s, %s, 0, %s)", rows, k, a.parts[0], xv, y)
	f.line("}")
	return valOf(e.T, y, rows)
}

func lowerTranspose(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	ls, lp := a.leafParts()
	out := val{t: e.T}
	for k, l := range ls {
		p := lp[k]
		rows, cols := p[1], p[2]
		bs := "1"
		if l.rank > 2 {
			bs = f.def("bs", strings.Join(p[3:], " * "))
		}
		d := f.def("t", f.mkW(l.kind, fmt.Sprintf("len(%s)", p[0])))
		i, j := f.fresh("i"), f.fresh("j")
		f.line("for %s := 0; %s < %s; %s++ {", i, i, rows, i)
		f.line("for %s := 0; %s < %s; %s++ {", j, j, cols, j)
		if bs == "1" {
			f.line("%s[%s*%s+%s] = %s[%s*%s+%s]", d, j, rows, i, p[0], i, cols, j)
		} else {
			f.line("copy(%s[(%s*%s+%s)*%s:(%s*%s+%s+1)*%s], %s[(%s*%s+%s)*%s:])", d, j, rows, i, bs, j, rows, i, bs, p[0], i, cols, j, bs)
		}
		f.line("}")
		f.line("}")
		out.parts = append(out.parts, d, cols, rows)
		out.parts = append(out.parts, p[3:]...)
	}
	return out
}

func lowerFlatten(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	ls, lp := a.leafParts()
	out := val{t: e.T}
	for k := range ls {
		p := lp[k]
		n := f.def("n", p[1]+" * "+p[2])
		out.parts = append(out.parts, p[0], n)
		out.parts = append(out.parts, p[3:]...)
	}
	return out
}

func lowerReshape(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	rows := f.compile(e.Args[1]).parts[0]
	cols := f.compile(e.Args[2]).parts[0]
	_, lp := a.leafParts()
	n := f.def("n", fmt.Sprintf("int64(len(%s))", lp[0][0]))
	neg := rows + " < 0"
	if cols != rows {
		neg += " || " + cols + " < 0" // go vet flags x < 0 || x < 0
	}
	f.failIf(fmt.Sprintf("%s || (%s == 0 && %s != 0) || (%s != 0 && (%s%%%s != 0 || %s/%s != %s))", neg, cols, n, cols, n, cols, n, cols, rows), e.P,
		fmt.Sprintf(`fmt.Sprintf("cannot reshape %%d elements to [%%d][%%d]", %s, %s, %s)`, n, rows, cols))
	return valOf(e.T, lp[0][0], f.def("m", "int("+rows+")"), f.def("n", "int("+cols+")"))
}

func lowerConcat(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	b := f.compile(e.Args[1])
	ls, ap := a.leafParts()
	_, bp := b.leafParts()
	out := val{t: e.T}
	n := f.def("n", a.parts[1]+" + "+b.parts[1])
	for k, l := range ls {
		f.concatCheck(l, ap[k], bp[k], e.P)
		d := f.def("c", f.mkW(l.kind, fmt.Sprintf("len(%s)+len(%s)", ap[k][0], bp[k][0])))
		f.line("copy(%s, %s)", d, ap[k][0])
		f.line("copy(%s[len(%s):], %s)", d, ap[k][0], bp[k][0])
		out.parts = append(out.parts, d, n)
		out.parts = append(out.parts, ap[k][2:]...)
	}
	return out
}

func lowerReverse(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	ls, lp := a.leafParts()
	out := val{t: e.T}
	for k, l := range ls {
		p := lp[k]
		rs := f.rowSize(l, p)
		d := f.def("r", f.mkW(l.kind, fmt.Sprintf("len(%s)", p[0])))
		i := f.fresh("i")
		f.line("for %s := 0; %s < %s; %s++ {", i, i, p[1], i)
		f.line("copy(%s[%s*%s:(%s+1)*%s], %s[(%s-1-%s)*%s:(%s-%s)*%s])", d, i, rs, i, rs, p[0], p[1], i, rs, p[1], i, rs)
		f.line("}")
		out.parts = append(out.parts, d)
		out.parts = append(out.parts, p[1:]...)
	}
	return out
}

func lowerZerosLike(f *fn, e *ir.PrimCall) val {
	a := f.compileL(e.Args[0])
	if a.lz != nil {
		// Only the shape is needed: the recipe is never run.
		n := f.total(a.lz)
		return val{t: e.T, parts: append([]string{f.def("z", f.mk(a.lz.kind, n))}, a.lz.dims...)}
	}
	ls, lp := a.leafParts()
	out := val{t: e.T}
	for k, l := range ls {
		if l.rank == 0 {
			out.parts = append(out.parts, constGo(zeroConst(l.kind)))
			continue
		}
		size := fmt.Sprintf("len(%s)", lp[k][0])
		if lp[k][0] == deadAtom { // a saved field whose shape alone is kept
			size = strings.Join(lp[k][1:], "*")
		}
		d := f.def("z", f.mk(l.kind, size))
		out.parts = append(out.parts, d)
		out.parts = append(out.parts, lp[k][1:]...)
	}
	return out
}

func zeroConst(k ir.ScalarKind) any {
	switch k {
	case ir.F64:
		return 0.0
	case ir.I64:
		return int64(0)
	}
	return false
}

func lowerAccAdd(f *fn, e *ir.PrimCall) val {
	if isConstFill(e) {
		// s everywhere: a constant recipe (forced where storage is needed).
		z := f.compileL(e.Args[0].(*ir.PrimCall).Args[0])
		s := f.compile(e.Args[1]).parts[0]
		k, _ := ir.Leaf(e.T)
		return val{t: e.T, lz: &lazy{kind: k, dims: dimsOf(z), cheap: true, constant: true, safe: true, elem: func(string) string { return s }}}
	}
	if v, ok := lowerAddToZeros(f, e); ok {
		return v
	}
	acc := f.ownedAcc(f.compile(e.Args[0]))
	if pad, ok := isPad(e.Args[1]); ok && ir.Rank(acc.t) > 0 {
		p := f.compilePad(pad)
		like := p.like
		var conds []string
		for d := 1; d < len(acc.parts); d++ {
			if acc.parts[d] != like.parts[d] {
				conds = append(conds, acc.parts[d]+" != "+like.parts[d])
			}
		}
		if len(conds) > 0 {
			f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[1:], ", "), strings.Join(like.parts[1:], ", ")))
		}
		p.add(acc.parts[0])
		return acc
	}
	v := f.compileL(e.Args[1])
	i := f.fresh("i")
	if v.lz != nil {
		var conds []string
		for d, x := range v.lz.dims {
			if acc.parts[d+1] != x {
				conds = append(conds, acc.parts[d+1]+" != "+x)
			}
		}
		if len(conds) > 0 {
			f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[1:], ", "), strings.Join(v.lz.dims, ", ")))
		}
		_ = i
		f.addInto(acc.parts[0], v.lz, "+")
		return acc
	}
	if ir.Rank(v.t) == 0 {
		f.line("for %s := range %s {", i, acc.parts[0])
		f.line("%s[%s] += %s", acc.parts[0], i, v.parts[0])
		f.line("}")
		return acc
	}
	var conds []string
	for d := 1; d < len(acc.parts); d++ {
		if acc.parts[d] != v.parts[d] {
			conds = append(conds, acc.parts[d]+" != "+v.parts[d])
		}
	}
	if len(conds) > 0 {
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[1:], ", "), strings.Join(v.parts[1:], ", ")))
	}
	src := v.parts[0]
	f.line("%s = %s[:len(%s)]", src, src, acc.parts[0])
	f.line("for %s := range %s {", i, acc.parts[0])
	f.line("%s[%s] += %s[%s]", acc.parts[0], i, src, i)
	f.line("}")
	return acc
}

// lowerAddToZeros is acc_add(zeros_like(y), v) for an f64 array v that
// writes every element (not a pad): one pass storing 0 + v[k] into an
// uncleared buffer, where clearing it and adding v are two. The sum with
// 0 is kept so that -0 becomes +0 as in the interpreter.
func lowerAddToZeros(f *fn, e *ir.PrimCall) (val, bool) {
	z, ok := e.Args[0].(*ir.PrimCall)
	if !ok || z.Op != ir.PrimZerosLike {
		return val{}, false
	}
	if k, ok := ir.Leaf(e.T); !ok || k != ir.F64 || ir.Rank(e.T) == 0 || ir.Rank(e.Args[1].Type()) != ir.Rank(e.T) {
		return val{}, false
	}
	if _, ok := isPad(e.Args[1]); ok {
		return val{}, false
	}
	y := f.compileL(z.Args[0])
	var dims []string
	var size string
	switch {
	case y.lz != nil:
		dims, size = y.lz.dims, f.total(y.lz)
	case y.parts[0] == deadAtom: // a saved field whose shape alone is kept
		dims, size = y.parts[1:], strings.Join(y.parts[1:], "*")
	default:
		dims, size = y.parts[1:], "len("+y.parts[0]+")"
	}
	v := f.compileL(e.Args[1])
	vdims := v.parts
	if v.lz != nil {
		vdims = append([]string{""}, v.lz.dims...)
	}
	var conds []string
	for d, x := range dims {
		if x != vdims[d+1] {
			conds = append(conds, x+" != "+vdims[d+1])
		}
	}
	if len(conds) > 0 {
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(dims, ", "), strings.Join(vdims[1:], ", ")))
	}
	d := f.def("z", f.mkW(ir.F64, size))
	switch {
	case v.lz != nil && v.lz.outer != nil:
		f.line("clear(%s)", d)
		f.addInto(d, v.lz, "+")
	case v.lz != nil:
		lz := *v.lz
		elem := lz.elem
		lz.elem = func(i string) string { return "0 + (" + elem(i) + ")" }
		f.addInto(d, &lz, "")
	default:
		src, i := v.parts[0], f.fresh("i")
		f.line("%s = %s[:len(%s)]", src, src, d)
		f.line("for %s := range %s {", i, d)
		f.line("%s[%s] = 0 + %s[%s]", d, i, src, i)
		f.line("}")
	}
	return val{t: e.T, parts: append([]string{d}, dims...)}, true
}

// lowerAccZeroAt is acc_zero_at(acc, i), in place: row i of acc = 0.
func lowerAccZeroAt(f *fn, e *ir.PrimCall) val {
	acc := f.ownedAcc(f.compile(e.Args[0]))
	i := f.compile(e.Args[1]).parts[0]
	i = f.checkIndex(i, acc.parts[1], e.P)
	if ir.Rank(acc.t) == 1 {
		f.line("%s[%s] = 0", acc.parts[0], i)
		return acc
	}
	rs := f.rowSize(leaf{ir.F64, ir.Rank(acc.t)}, acc.parts)
	f.line("clear(%s[%s*int64(%s) : (%s+1)*int64(%s)])", acc.parts[0], i, rs, i, rs)
	return acc
}

func lowerAccAddAt(f *fn, e *ir.PrimCall) val {
	acc := f.ownedAcc(f.compile(e.Args[0]))
	i := f.compile(e.Args[1]).parts[0]
	if pad, ok := isPad(e.Args[2]); ok && ir.Rank(acc.t) > 1 {
		p := f.compilePad(pad)
		i = f.checkIndex(i, acc.parts[1], e.P)
		like := p.like
		var conds []string
		for d := 2; d < len(acc.parts); d++ {
			conds = append(conds, acc.parts[d]+" != "+like.parts[d-1])
		}
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add_at: row shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[2:], ", "), strings.Join(like.parts[1:], ", ")))
		rs := f.rowSize(leaf{ir.F64, ir.Rank(acc.t)}, acc.parts)
		row := f.def("row", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", acc.parts[0], i, rs, i, rs))
		p.add(row)
		return acc
	}
	v := f.compileL(e.Args[2])
	i = f.checkIndex(i, acc.parts[1], e.P)
	if ir.Rank(acc.t) == 1 {
		f.line("%s[%s] += %s", acc.parts[0], i, v.parts[0])
		return acc
	}
	vdims := dimsOf(v)
	var conds []string
	for d := 2; d < len(acc.parts); d++ {
		conds = append(conds, acc.parts[d]+" != "+vdims[d-2])
	}
	if v.lz != nil {
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add_at: row shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[2:], ", "), strings.Join(vdims, ", ")))
		rs := f.rowSize(leaf{ir.F64, ir.Rank(acc.t)}, acc.parts)
		row := f.def("row", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", acc.parts[0], i, rs, i, rs))
		f.addInto(row, v.lz, "+")
		return acc
	}
	f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add_at: row shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(acc.parts[2:], ", "), strings.Join(v.parts[1:], ", ")))
	rs := f.rowSize(leaf{ir.F64, ir.Rank(acc.t)}, acc.parts)
	row := f.def("row", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", acc.parts[0], i, rs, i, rs))
	j := f.fresh("j")
	f.line("for %s := range %s {", j, row)
	f.line("%s[%s] += %s[%s]", row, j, v.parts[0], j)
	f.line("}")
	return acc
}

// lowerLoopSave stores each state of the loop as an element of its
// result. When the let binding the result reads some fields of the
// states only (a tape, fields.go), the others are not stored and, where
// the step does not read them either, not computed; a field read at the
// last element only is the final state, which the loop leaves in its
// variables. Once a state is stored, the state the next step reads is
// its element in the result (a view), and the leaves it carries that
// are not stored are copied into buffers (carryState), so that
// everything else the iteration allocated, the state's own copy
// included, is released: the arena holds the saved states once, not
// twice.
func lowerLoopSave(f *fn, e *ir.PrimCall) val {
	lp := f.plan
	f.plan = nil
	at := e.T.(*ir.Array)
	nfields := 0
	if tt, ok := at.Elem.(*ir.Tuple); ok {
		nfields = len(tt.Elems)
	}
	lam, _ := e.Args[2].(*ir.Lambda)
	reads := stepReads(lam, nfields)
	plan := &stackPlan{dest: f.dest[e]}
	delete(f.dest, e)
	if lam != nil {
		// The step's nested tapes are filled in place (nestedBuilds).
		plan.nested = nestedBuilds(lam)
	}
	var last []int // leaves whose final state alone is read
	if lp != nil {
		plan.read = slices.Clone(lp.leaves)
		for k, h := range plan.read {
			if h == fieldLast {
				plan.read[k] = fieldUnread
				last = append(last, k)
			}
		}
		skip := &leafPlan{fields: make([]int, len(lp.fields))}
		for k, how := range lp.fields {
			skip.fields[k] = how
			if reads == nil || reads[k] {
				skip.fields[k] = fieldData
			}
		}
		if lam != nil { // not a function used elsewhere too
			f.skipFields(lam, skip)
			f.planOut(lp, lam.Body)
		}
		f.skipFields(&ir.Lambda{Body: e.Args[1]}, skip)
		f.planOut(lp, e.Args[1])
	}
	n := f.compile(e.Args[0]).parts[0]
	init := f.compile(e.Args[1])
	sf := f.staticFn(e.Args[2])
	if reads == nil {
		reads = stepReads(sf.lam, nfields)
	}
	cnt := f.def("n", fmt.Sprintf("int(max(%s, 0)) + 1", n))
	st := f.declare("st", at.Elem)
	f.assignLive(st, init)
	plan.rebind = &st
	// The carried leaves that are not stored go to buffers; a stored one
	// is its place in the result once rebound.
	var unstored []int
	for _, k := range carriedLeaves(reads, at.Elem, last) {
		if plan.how(k) != fieldData {
			unstored = append(unstored, k)
		}
	}
	var next val // the step's result, which the iteration assigns to st
	plan.carry = f.carryState(st, unstored, &next)
	res := f.stackP("loop_save", at, cnt, e.P, isScalarTuple(at.Elem), plan, func(i string) val {
		f.line("if %s > 0 {", i)
		saveEnv, saveFenv := f.env, f.fenv
		f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
		next = f.callStatic(sf, []val{valOf(ir.TI64, f.def("k", "int64("+i+"-1)")), st}, e.P, at.Elem)
		f.assignLive(st, next)
		f.env, f.fenv = saveEnv, saveFenv
		f.line("}")
		return st
	})
	if len(last) == 0 {
		return res
	}
	// The final state's leaves stand for their whole column; the parts
	// of leaf k become (state's data, count, state's dims). (leafParts
	// shares res's parts.)
	rl, rp := res.leafParts()
	_, sp := st.leafParts()
	for _, k := range last {
		rp[k][0] = sp[k][0]
		copy(rp[k][2:], sp[k][1:])
		f.markLastOnly(sp[k][0], rl[k].rank)
	}
	return res
}

// carriedLeaves lists the array leaves of loop_save's state (element
// type elem) that outlive an iteration: those the step reads from its
// state (reads, by field, as stepReads gives it; nil: all of them) and
// the final state's (last).
func carriedLeaves(reads []bool, elem ir.Type, last []int) []int {
	ls := mustLeaves(elem)
	read := make([]bool, len(ls))
	for _, k := range last {
		read[k] = true
	}
	tt, isTuple := elem.(*ir.Tuple)
	if reads == nil || !isTuple {
		for k := range read {
			read[k] = true
		}
	} else {
		first := 0
		for j, el := range tt.Elems {
			n := len(mustLeaves(el))
			for k := first; k < first+n; k++ {
				read[k] = read[k] || reads[j]
			}
			first += n
		}
	}
	var out []int
	for k, l := range ls {
		if read[k] && l.rank > 0 {
			out = append(out, k)
		}
	}
	return out
}

// carryState returns loop_save's end of iteration when the state's
// carried leaves (carried) are copied into buffers of their own, made
// before the loop: the iteration's temporaries are then released,
// rather than kept to the end of the loop (an iteration's tape is
// stored by copy already). That needs each carried leaf of the step's
// result (*next) to be an array the iteration allocated, a distinct one
// (not a buffer, a part of the old state or a view, which the copies
// could overwrite before they are read); otherwise, or when the state's
// sizes changed, the iteration keeps its arrays.
func (f *fn) carryState(st val, carried []int, next *val) func(mark, i string, body int) {
	head := f.b.Len() // where the buffers are declared, if they are made
	return func(mark, i string, body int) {
		if len(carried) == 0 || f.allocs == f.marks[mark] {
			f.release(mark, i+" > 0")
			return
		}
		if next.parts == nil || !f.freshParts(*next, carried, body) {
			f.line("_ = %s", mark)
			return
		}
		f.carryInto(st, carried, mark, head, i+" > 0")
	}
}

// carryInto ends an iteration by copying the leaves carried of the
// state st into buffers, declared at offset head of f.b (before the
// loop) and sized as st is there, then releasing the iteration's arrays;
// cond, if not "", guards that as a state whose sizes changed does.
func (f *fn) carryInto(st val, carried []int, mark string, head int, cond string) {
	ls, sp := st.leafParts()
	var decls strings.Builder
	var conds, copies []string
	if cond != "" {
		conds = append(conds, cond)
	}
	for _, k := range carried {
		buf := f.fresh("buf")
		size := strings.Join(sp[k][1:], "*")
		fmt.Fprintf(&decls, "%s := %s\n", buf, f.mkW(ls[k].kind, size))
		conds = append(conds, fmt.Sprintf("%s == len(%s)", size, buf))
		copies = append(copies, fmt.Sprintf("copy(%s, %s)", buf, sp[k][0]), fmt.Sprintf("%s = %s", sp[k][0], buf))
	}
	code := f.b.String()
	f.b.Reset()
	f.b.WriteString(code[:head])
	f.b.WriteString(decls.String())
	f.b.WriteString(code[head:])
	f.line("if %s {", strings.Join(conds, " && "))
	for _, c := range copies {
		f.line("%s", c)
	}
	f.release(mark, "")
	f.line("}")
}

// stepReads reports which fields of its tuple state the step fn(j, st)
// reads, each only through projections st.k; nil when it reads st some
// other way (or the step is not a lambda, or the state no tuple).
func stepReads(lam *ir.Lambda, nfields int) []bool {
	if lam == nil || len(lam.Params) != 2 || nfields == 0 {
		return nil
	}
	st := lam.Params[1]
	reads := make([]bool, nfields)
	whole := false
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		switch x := x.(type) {
		case *ir.Var:
			if x == st {
				whole = true
			}
			return
		case *ir.Proj:
			if v, ok := x.X.(*ir.Var); ok && v == st && x.Index < nfields {
				reads[x.Index] = true
				return
			}
		}
		ir.EachChild(x, func(_ int, c ir.Expr) { walk(c) })
	}
	walk(lam.Body)
	if whole {
		return nil
	}
	return reads
}

// lowerWhileSave runs the loop first, appending each state's leaves to
// growing slices, then assembles the array of states.
func lowerWhileSave(f *fn, e *ir.PrimCall) val {
	init := f.compile(e.Args[0])
	cond := f.staticFn(e.Args[1])
	body := f.staticFn(e.Args[2])
	at := e.T.(*ir.Array)
	st := f.declare("st", at.Elem)
	f.assign(st, init)
	els := mustLeaves(at.Elem)
	res := val{t: at}
	cnt := f.defT("n", "int", "0")
	type acc struct {
		data string
		dims []string
	}
	accs := make([]acc, len(els))
	sdims := leafDims(at.Elem)
	for k, l := range els {
		d := f.fresh("w")
		f.line("var %s %s", d, elemSlice(l.kind))
		a := acc{data: d}
		for x := 0; x < l.rank; x++ {
			a.dims = append(a.dims, f.defT("d", "int", staticDim(sdims[k][x])))
		}
		accs[k] = a
		res.parts = append(res.parts, d, cnt)
		res.parts = append(res.parts, a.dims...)
	}
	f.line("for {")
	saveEnv, saveFenv := f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	_, sp := st.leafParts()
	for k, l := range els {
		a := accs[k]
		if l.rank == 0 {
			f.line("%s = append(%s, %s)", a.data, a.data, sp[k][0])
			continue
		}
		f.line("if %s == 0 {", cnt)
		f.line("%s = %s", strings.Join(a.dims, ", "), strings.Join(sp[k][1:], ", "))
		f.line("}")
		f.line("%s = append(%s, %s...)", a.data, a.data, sp[k][0])
	}
	f.line("%s++", cnt)
	c := f.callStatic(cond, []val{st}, e.P, ir.TBool)
	f.line("if !%s {", c.parts[0])
	f.line("break")
	f.line("}")
	f.step("1", e.P)
	next := f.callStatic(body, []val{st}, e.P, at.Elem)
	f.assign(st, next)
	f.env, f.fenv = saveEnv, saveFenv
	f.line("}")
	return res
}

func lowerReshapeLike(f *fn, e *ir.PrimCall) val {
	x := f.compile(e.Args[0])
	like := f.compile(e.Args[1])
	xls, xp := x.leafParts()
	_, lp := like.leafParts()
	out := val{t: e.T}
	for k, l := range xls {
		if l.rank == 0 {
			out.parts = append(out.parts, xp[k][0])
			continue
		}
		f.failIf(fmt.Sprintf("len(%s) != len(%s)", xp[k][0], lp[k][0]), e.P,
			fmt.Sprintf(`"reshape_like: cannot give " + runtime.ShapeString([]int{%s}) + " the shape " + runtime.ShapeString([]int{%s})`, strings.Join(xp[k][1:], ", "), strings.Join(lp[k][1:], ", ")))
		out.parts = append(out.parts, xp[k][0])
		out.parts = append(out.parts, lp[k][1:]...)
	}
	return out
}

func lowerPadLike(f *fn, e *ir.PrimCall) val {
	v := f.compile(e.Args[0])
	lo := f.compile(e.Args[1]).parts[0]
	like := f.compile(e.Args[2])
	ls, lp := like.leafParts()
	_, vp := v.leafParts()
	out := val{t: e.T}
	n := f.length(v)
	f.failIf(fmt.Sprintf("%s < 0 || %s+int64(%s) > int64(%s)", lo, lo, n, like.parts[1]), e.P,
		fmt.Sprintf(`fmt.Sprintf("pad_like: rows [%%d:%%d] out of range for length %%d", %s, %s+int64(%s), %s)`, lo, lo, n, like.parts[1]))
	for k, l := range ls {
		if l.rank > 1 {
			var conds []string
			for d := 2; d <= l.rank; d++ {
				conds = append(conds, vp[k][d]+" != "+lp[k][d])
			}
			f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"pad_like: rows have shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s})`, strings.Join(vp[k][2:], ", "), strings.Join(lp[k][2:], ", ")))
		}
		rs := f.rowSize(l, lp[k])
		d := f.def("p", f.mk(l.kind, fmt.Sprintf("len(%s)", lp[k][0])))
		f.line("copy(%s[int(%s)*%s:], %s)", d, lo, rs, vp[k][0])
		out.parts = append(out.parts, d)
		out.parts = append(out.parts, lp[k][1:]...)
	}
	return out
}

// isPad reports whether e is pad_like of a single f64 array (what
// reverse mode makes of the cotangent of a slice), which an accumulator
// adds into the slice's rows without building the padded array.
func isPad(e ir.Expr) (*ir.PrimCall, bool) {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimPadLike {
		return nil, false
	}
	k, ok := ir.Leaf(pc.T)
	return pc, ok && k == ir.F64
}

// padded is a pad_like compiled for an accumulator: its operands, whose
// checks are emitted, and add, which adds v's rows into rows lo.. of dst,
// the storage of an array of like's shape.
type padded struct {
	like val
	add  func(dst string)
}

// compilePad compiles pad_like(v, lo, like) with pad_like's checks and
// messages, in the interpreter's order, without building the padded
// array.
func (f *fn) compilePad(pad *ir.PrimCall) padded {
	v := f.compileL(pad.Args[0])
	lo := f.compile(pad.Args[1]).parts[0]
	like := f.compile(pad.Args[2])
	vd := dimsOf(v)
	n := vd[0]
	f.failIf(fmt.Sprintf("%s < 0 || %s+int64(%s) > int64(%s)", lo, lo, n, like.parts[1]), pad.P,
		fmt.Sprintf(`fmt.Sprintf("pad_like: rows [%%d:%%d] out of range for length %%d", %s, %s+int64(%s), %s)`, lo, lo, n, like.parts[1]))
	rank := len(vd)
	if rank > 1 {
		var conds []string
		for d := 1; d < rank; d++ {
			conds = append(conds, vd[d]+" != "+like.parts[1+d])
		}
		f.failIf(strings.Join(conds, " || "), pad.P, fmt.Sprintf(`"pad_like: rows have shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s})`, strings.Join(vd[1:], ", "), strings.Join(like.parts[2:], ", ")))
	}
	return padded{like: like, add: func(dst string) {
		rs := f.rowSize(leaf{ir.F64, rank}, like.parts)
		region := f.def("region", fmt.Sprintf("%s[int(%s)*%s : (int(%s)+%s)*%s]", dst, lo, rs, lo, n, rs))
		if v.lz != nil {
			f.addInto(region, v.lz, "+")
			return
		}
		i := f.fresh("i")
		f.line("%s = %s[:len(%s)]", v.parts[0], v.parts[0], region)
		f.line("for %s := range %s {", i, region)
		f.line("%s[%s] += %s[%s]", region, i, v.parts[0], i)
		f.line("}")
	}}
}

// lowerLinsolve solves matvec(x) = b. The matvec is a Go func literal
// whose body is the inlined function; it reports errors by returning
// them, and the solver (the interpreter's GMRES) passes them on.
func lowerLinsolve(f *fn, e *ir.PrimCall) val {
	sf := f.staticFn(e.Args[0])
	b := f.compile(e.Args[1])
	if ir.Rank(b.t) == 0 {
		a := f.callStatic(sf, []val{valOf(ir.TF64, "1.0")}, e.P, ir.TF64)
		return valOf(e.T, f.def("x", b.parts[0]+" / "+a.parts[0]))
	}
	mv, v := f.fresh("matvec"), f.fresh("v")
	f.line("%s := func(%s []float64) ([]float64, error) {", mv, v)
	saveHook, saveEnv, saveFenv := f.errHook, f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	f.errHook = func(errExpr string) string { return "return nil, " + errExpr }
	out := f.callStatic(sf, []val{valOf(b.t, v, "len("+v+")")}, e.P, b.t)
	f.failIf(fmt.Sprintf("len(%s) != len(%s)", out.parts[0], v), e.P,
		fmt.Sprintf(`fmt.Sprintf("linsolve: matvec returned %%d values for %%d", len(%s), len(%s))`, out.parts[0], v))
	f.line("return %s, nil", out.parts[0])
	f.errHook, f.env, f.fenv = saveHook, saveEnv, saveFenv
	f.line("}")
	x, errv := f.fresh("x"), f.fresh("err")
	f.line("%s, %s := runtime.GMRES(%s, %s, 1e-13, 30, 20*len(%s)+100)", x, errv, mv, b.parts[0], b.parts[0])
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(e.P), errv))
	f.line("}")
	return valOf(e.T, x, "len("+x+")")
}

// isScalarTuple reports whether t has no array leaves.
func isScalarTuple(t ir.Type) bool {
	for _, l := range mustLeaves(t) {
		if l.rank > 0 {
			return false
		}
	}
	return true
}

// mk is the expression allocating a zeroed slice of n (an int
// expression) elements of kind k, from the call's arena (see runtime.Arena).
func (f *fn) mk(k ir.ScalarKind, n string) string {
	f.arena = true
	f.allocs++
	return fmt.Sprintf("ar.%s(%s)", [...]string{"F64", "I64", "Bool"}[k], n)
}

// mkW is mk for a slice whose every element the caller stores before
// any is read: f64 slices skip the arena's clearing (ar.F64w).
func (f *fn) mkW(k ir.ScalarKind, n string) string {
	s := f.mk(k, n)
	if k == ir.F64 {
		s = strings.Replace(s, "ar.F64(", "ar.F64w(", 1)
	}
	return s
}

// lowerCheckDim checks that dimension Aux.Axis of the array is the size
// given, with the interpreter's message, and passes the array on.
func lowerCheckDim(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	n := f.compile(e.Args[1]).parts[0]
	dc := e.Aux.(ir.DimCheck)
	what := dc.What
	if dc.Axis > 0 {
		what = fmt.Sprintf("dimension %d of %s", dc.Axis+1, what)
	}
	_, lp := a.leafParts()
	got := lp[0][1+dc.Axis]
	f.failIf(fmt.Sprintf("int64(%s) != %s", got, n), e.P,
		fmt.Sprintf("runtime.DimMessage(%q, %q, %q, int64(%s), %s)", what, dc.Type, dc.Size, got, n))
	return a
}

// lowerLinearCheck fails with the message in Aux unless the condition
// holds, and passes the value on.
func lowerLinearCheck(f *fn, e *ir.PrimCall) val {
	ok := f.compile(e.Args[0]).parts[0]
	msg, _ := e.Aux.(string)
	f.failIf("!"+ok, e.P, strconv.Quote(msg))
	return f.compile(e.Args[1])
}
