package codegen

import (
	"slices"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Arrays of tuples that reverse mode saves. Package ad's tapes are
// comprehensions building, per element, a tuple of the values the reverse
// pass will read: let saved = build(n, fn i => (..., x[i], y, ...)). In
// the tuple-of-arrays layout each field is an array of its own, so three
// things cost nothing that copying would:
//
//   - a field nobody reads (only projections of saved[j] are looked at)
//     is not stored at all (its elements are still computed where other
//     fields need them);
//   - a field that is row i of an array defined before the build, x[i],
//     is x itself: a view, not n row copies;
//   - build(n, fn i => saved[i].f) is field f of saved, again a view.

// deadAtom stands for the storage of a field that is never read. It is
// not declared anywhere, so a use the analysis missed fails to compile
// instead of reading garbage.
const deadAtom = "nbDeadField"

// How a field of a saved array is read.
const (
	fieldUnread = iota
	fieldShape  // only its shape (len, dim, zeros_like)
	fieldLast   // only the last element (a loop_save's final state) and the shape
	fieldData
)

// An outUse is how an array of tuples is read once it leaves the lambda
// that computes it as element index of the tuple the lambda returns: a
// loop_save stores it as a field of its states, which the reverse pass
// reads in part (leafPlan.nested).
type outUse struct {
	tuple *ir.MakeTuple
	index int
	plan  *leafPlan
}

// fieldUses reports how the expression e reads each top-level field of
// the array-of-tuples variable s: every use must be a projection of an
// element, s[j].f, or an element bound by a let whose own uses are
// projections; a projection that only len, dim or zeros_like look at
// reads the field's shape. With last non-nil (the index of s's last
// element), a field read only at an index that is the same term as last
// is read as fieldLast. It returns nil when some use needs the whole
// value.
//
// With out non-nil, s appearing as element out.index of the tuple
// out.tuple reads the fields out.plan says.
func fieldUses(e ir.Expr, s *ir.Var, nfields int, last ir.Expr, out *outUse) []int {
	used := make([]int, nfields)
	whole := false
	tuples := map[*ir.Var]bool{}     // lets bound to s[j]
	lastTuples := map[*ir.Var]bool{} // those whose j is last
	isElem := func(x ir.Expr) bool {
		pc, ok := x.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex {
			return false
		}
		v, ok := pc.Args[0].(*ir.Var)
		return ok && v == s
	}
	isLast := func(x ir.Expr) bool {
		return last != nil && ir.AlphaEqual(x.(*ir.PrimCall).Args[1], last)
	}
	// field is the top-level field a projection of s (or a chain of
	// them, s[j].f.g) reads, or -1, and how it reads its data.
	field := func(x ir.Expr) (int, int) {
		p, ok := x.(*ir.Proj)
		if !ok {
			return -1, 0
		}
		p = innerProj(p)
		if isElem(p.X) {
			if isLast(p.X) {
				return p.Index, fieldLast
			}
			return p.Index, fieldData
		}
		if v, ok := p.X.(*ir.Var); ok && tuples[v] {
			if lastTuples[v] {
				return p.Index, fieldLast
			}
			return p.Index, fieldData
		}
		return -1, 0
	}
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		if whole {
			return
		}
		switch x := x.(type) {
		case *ir.Var:
			if x == s || tuples[x] {
				whole = true
			}
			return
		case *ir.Proj:
			if k, how := field(x); k >= 0 {
				used[k] = max(used[k], how)
				if p := innerProj(x); isElem(p.X) {
					walk(p.X.(*ir.PrimCall).Args[1])
				}
				return
			}
		case *ir.PrimCall:
			if x.Op == ir.PrimLen || x.Op == ir.PrimDim || x.Op == ir.PrimZerosLike {
				if k, _ := field(x.Args[0]); k >= 0 {
					used[k] = max(used[k], fieldShape)
					if p := innerProj(x.Args[0].(*ir.Proj)); isElem(p.X) {
						walk(p.X.(*ir.PrimCall).Args[1])
					}
					for _, a := range x.Args[1:] {
						walk(a)
					}
					return
				}
			}
		case *ir.Let:
			if isElem(x.Value) {
				walk(x.Value.(*ir.PrimCall).Args[1])
				tuples[x.Var] = true
				lastTuples[x.Var] = isLast(x.Value)
				walk(x.Body)
				return
			}
		case *ir.MakeTuple:
			if out != nil && x == out.tuple && len(out.plan.fields) == nfields {
				for k, el := range x.Elems {
					if v, ok := el.(*ir.Var); ok && v == s && k == out.index {
						for f, how := range out.plan.fields {
							used[f] = max(used[f], how)
						}
						continue
					}
					walk(el)
				}
				return
			}
		}
		ir.EachChild(x, func(_ int, c ir.Expr) { walk(c) })
	}
	walk(e)
	if whole {
		return nil
	}
	return used
}

// nestedUses is how e reads field k of the elements of s when that field
// is itself an array of tuples (a loop's saved states inside the state
// of an outer loop_save): every s[j].k must be bound by a let whose
// variable is read by projections of its elements only. It returns nil
// otherwise.
func nestedUses(e ir.Expr, s *ir.Var, k int, inner *ir.Tuple) *leafPlan {
	var merged []int
	ok := true
	tuples := map[*ir.Var]bool{}
	isField := func(x ir.Expr) bool {
		p, isProj := x.(*ir.Proj)
		if !isProj || p.Index != k {
			return false
		}
		if v, isVar := p.X.(*ir.Var); isVar && tuples[v] {
			return true
		}
		pc, isPrim := p.X.(*ir.PrimCall)
		if !isPrim || pc.Op != ir.PrimIndex {
			return false
		}
		v, isVar := pc.Args[0].(*ir.Var)
		return isVar && v == s
	}
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		if !ok {
			return
		}
		if isField(x) { // not bound by a let
			ok = false
			return
		}
		if l, isLet := x.(*ir.Let); isLet {
			if pc, isPrim := l.Value.(*ir.PrimCall); isPrim && pc.Op == ir.PrimIndex {
				if v, isVar := pc.Args[0].(*ir.Var); isVar && v == s {
					tuples[l.Var] = true
				}
			}
			if isField(l.Value) {
				u := fieldUses(l.Body, l.Var, len(inner.Elems), nil, nil)
				if u == nil {
					ok = false
					return
				}
				if merged == nil {
					merged = make([]int, len(u))
				}
				for f, how := range u {
					merged[f] = max(merged[f], how)
				}
				if pc, isPrim := l.Value.(*ir.Proj).X.(*ir.PrimCall); isPrim {
					walk(pc.Args[1])
				}
				walk(l.Body)
				return
			}
		}
		ir.EachChild(x, func(_ int, c ir.Expr) { walk(c) })
	}
	walk(e)
	if !ok || merged == nil {
		return nil
	}
	return planFromFields(inner, merged)
}

// planFromFields is the leaf plan of an array of tuples of type elem
// whose fields are read as used says.
func planFromFields(elem *ir.Tuple, used []int) *leafPlan {
	p := &leafPlan{fields: used}
	for i, el := range elem.Elems {
		for range mustLeaves(el) {
			p.leaves = append(p.leaves, used[i])
		}
	}
	return p
}

// resultTuple is the tuple e returns after its lets, or nil.
func resultTuple(e ir.Expr) *ir.MakeTuple {
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		e = l.Body
	}
	t, _ := e.(*ir.MakeTuple)
	return t
}

// planOut records, for the loop_save whose states are planned by lp,
// how the arrays of tuples that its init and step return as fields are
// read (lp.nested), for the lets that compute them (fn.outPlans).
func (f *fn) planOut(lp *leafPlan, exprs ...ir.Expr) {
	for _, e := range exprs {
		tup := resultTuple(e)
		if tup == nil {
			continue
		}
		for k, sub := range lp.nested {
			if k >= len(tup.Elems) {
				continue
			}
			if v, ok := tup.Elems[k].(*ir.Var); ok {
				if f.outPlans == nil {
					f.outPlans = map[*ir.Var]*outUse{}
				}
				f.outPlans[v] = &outUse{tuple: tup, index: k, plan: sub}
			}
		}
	}
}

// innerProj is the innermost projection of the chain p (p.X when it is
// no projection itself): x.f of x.f.g.
func innerProj(p *ir.Proj) *ir.Proj {
	for {
		q, ok := p.X.(*ir.Proj)
		if !ok {
			return p
		}
		p = q
	}
}

// A leafPlan is, per leaf of a saved array's elements, how it is read:
// fieldUnread, fieldShape, fieldLast or fieldData; fields gives the same
// by field.
type leafPlan struct {
	leaves []int
	fields []int
	// nested holds the plans of the fields that are arrays of tuples
	// read in part (nestedUses), by field.
	nested map[int]*leafPlan
}

// planLeaves is the plan of the array-of-tuples variable s read by body
// (and, if out is not nil, by whoever reads the tuple it leaves in), or
// nil when every leaf is read. last, if not nil, is the index of s's last
// element (see fieldUses).
func planLeaves(body ir.Expr, s *ir.Var, last ir.Expr, out *outUse) *leafPlan {
	at, ok := s.T.(*ir.Array)
	if !ok {
		return nil
	}
	tt, ok := at.Elem.(*ir.Tuple)
	if !ok {
		return nil
	}
	used := fieldUses(body, s, len(tt.Elems), last, out)
	if used == nil {
		return nil
	}
	nested := map[int]*leafPlan{}
	for i, el := range tt.Elems {
		ia, ok := el.(*ir.Array)
		if !ok || used[i] != fieldData {
			continue
		}
		if it, ok := ia.Elem.(*ir.Tuple); ok {
			if sub := nestedUses(body, s, i, it); sub != nil {
				nested[i] = sub
			}
		}
	}
	p := &leafPlan{fields: used, nested: nested}
	partial := false
	for i, el := range tt.Elems {
		if sub := nested[i]; sub != nil {
			// A leaf the readers do not look at keeps its dims: the
			// first dim is the inner array's length, which the readers
			// take from whichever leaf comes first.
			for _, how := range sub.leaves {
				p.leaves = append(p.leaves, max(how, fieldShape))
				partial = partial || how != fieldData
			}
			continue
		}
		for range mustLeaves(el) {
			p.leaves = append(p.leaves, used[i])
			partial = partial || used[i] != fieldData
		}
	}
	if !partial {
		return nil
	}
	return p
}

// lastAsShape is p with the leaves read at the last element only read
// for their shape: the plan of an empty build standing for a loop_save's
// states, which has no element to read them at.
func (p *leafPlan) lastAsShape() *leafPlan {
	q := &leafPlan{leaves: slices.Clone(p.leaves), fields: slices.Clone(p.fields), nested: p.nested}
	for _, h := range [][]int{q.leaves, q.fields} {
		for k := range h {
			if h[k] == fieldLast {
				h[k] = fieldShape
			}
		}
	}
	return q
}

// markLastOnly records that the data atom holds a loop's final state,
// standing for a saved leaf of the given rank read at its last element
// only. The rank tells the column from the state itself: the same atom
// is also the final state's own data, whose elements are read as usual.
func (f *fn) markLastOnly(data string, rank int) {
	if f.lastOnly == nil {
		f.lastOnly = map[string]int{}
	}
	f.lastOnly[data] = rank
}

// fieldOfArray is field path of the array of tuples v: the same storage,
// as an array of the field's type.
func fieldOfArray(v val, path []int) val {
	at := v.t.(*ir.Array)
	first, elem := fieldLeaves(at.Elem, path)
	_, lp := v.leafParts()
	out := val{t: &ir.Array{Dim: at.Dim, Elem: elem}}
	for k := first; k < first+len(mustLeaves(elem)); k++ {
		out.parts = append(out.parts, lp[k]...)
	}
	return out
}

// fieldLeaves is the index of the first leaf of field path of the tuple
// type elem, and the field's type.
func fieldLeaves(elem ir.Type, path []int) (int, ir.Type) {
	first := 0
	for _, k := range path {
		tt := elem.(*ir.Tuple)
		for _, el := range tt.Elems[:k] {
			first += len(mustLeaves(el))
		}
		elem = tt.Elems[k]
	}
	return first, elem
}

// A destHint is the row an inner build's leaf is copied into: row i of
// the outer result's leaf data, of rs elements (Go atoms).
type destHint struct{ i, data, rs string }

// A nestedBuild is a build the lets of an outer build's element bind,
// and which element leaf each of its leaves becomes (-1: none).
type nestedBuild struct {
	pc    *ir.PrimCall
	outer []int
}

// nestedBuilds finds, in fn(i) => let ... in (e0, e1, ...), the builds
// the lets bind whose leaves are fields of the tuple: ek is the build's
// variable, or build(m, fn j => s[j].f) of it. Such a nested tape is
// filled in an array of its own and copied into the outer row; given
// the row (fn.dest) it is filled in place, and the copy is of a slice
// onto itself, which Go's copy skips.
func nestedBuilds(lam *ir.Lambda) []nestedBuild {
	lets := letValues(lam.Body)
	tup := resultTuple(lam.Body)
	if tup == nil {
		return nil
	}
	var out []nestedBuild
	index := map[*ir.PrimCall]int{}
	note := func(pc *ir.PrimCall, first, n, at int) {
		k, ok := index[pc]
		if !ok {
			k = len(out)
			index[pc] = k
			m := len(mustLeaves(pc.T.(*ir.Array).Elem))
			out = append(out, nestedBuild{pc: pc, outer: slices.Repeat([]int{-1}, m)})
		}
		for j := range n {
			if out[k].outer[first+j] < 0 {
				out[k].outer[first+j] = at + j
			}
		}
	}
	buildOf := func(x ir.Expr) *ir.PrimCall {
		v, ok := x.(*ir.Var)
		if !ok {
			return nil
		}
		if pc, ok := lets[v].(*ir.PrimCall); ok && pc.Op == ir.PrimBuild {
			return pc
		}
		return nil
	}
	at := 0
	for _, el := range tup.Elems {
		nl := len(mustLeaves(el.Type()))
		if pc := loopSaveOf(lets, el); pc != nil {
			// An inner loop's saved states (lstm.nab's layers within a
			// step): its rows are the outer row's, in order.
			note(pc, 0, nl, at)
		} else if pc := buildOf(el); pc != nil {
			if sub, ok := pc.Args[1].(*ir.Lambda); ok {
				if s, path, ok := elemField(sub); ok {
					if src := buildOf(s); src != nil {
						first, _ := fieldLeaves(src.T.(*ir.Array).Elem, path)
						note(src, first, nl, at)
					}
				} else {
					note(pc, 0, nl, at)
				}
			}
		}
		at += nl
	}
	return out
}

// loopSaveOf is the loop_save a let binds x to, directly or as the
// then branch of an if (reverse mode's "if n > 0 then loop_save(n - 1,
// ...) else build(0, ...)"), or nil. The else branch's empty array has no
// rows to fill.
func loopSaveOf(lets map[*ir.Var]ir.Expr, x ir.Expr) *ir.PrimCall {
	v, ok := x.(*ir.Var)
	if !ok {
		return nil
	}
	e := lets[v]
	if c, ok := e.(*ir.If); ok {
		e = c.Then
	}
	if pc, ok := e.(*ir.PrimCall); ok && pc.Op == ir.PrimLoopSave {
		return pc
	}
	return nil
}

// elemField recognizes fn(i) => s[i].f1.f2...: the variable s and the
// path of projections, outermost last.
func elemField(lam *ir.Lambda) (*ir.Var, []int, bool) {
	if len(lam.Params) != 1 {
		return nil, nil, false
	}
	var path []int
	x := lam.Body
	for {
		p, ok := x.(*ir.Proj)
		if !ok {
			break
		}
		path = append([]int{p.Index}, path...)
		x = p.X
	}
	pc, ok := x.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimIndex {
		return nil, nil, false
	}
	s, ok1 := pc.Args[0].(*ir.Var)
	i, ok2 := pc.Args[1].(*ir.Var)
	if !ok1 || !ok2 || i != lam.Params[0] || s == i {
		return nil, nil, false
	}
	return s, path, true
}

// sameSize reports whether two int atoms are known to hold the same
// value: the same atom or the same linear form.
func (f *fn) sameSize(a, b string) bool {
	if a == b {
		return true
	}
	la, oka := f.linOf(a)
	lb, okb := f.linOf(b)
	return oka && okb && la == lb
}

// hasDead reports whether some leaf of v has no storage.
func hasDead(v val) bool {
	for _, p := range v.parts {
		if p == deadAtom {
			return true
		}
	}
	return false
}

// rowViews finds the fields of fn(i) => let ... in (e0, e1, ...) that are
// row i of an array a defined outside the lambda (ek is a[i], or a
// variable the lets bind to a[i]), and returns, by leaf index of the
// element type, the parts of a's matching leaves.
func (f *fn) rowViews(lam *ir.Lambda) map[int][]string {
	tup, srcs := rowSources(lam)
	var views map[int][]string
	first := 0
	for k, el := range tup {
		nl := len(mustLeaves(el.Type()))
		if a := srcs[k]; a != nil {
			if av, ok := f.env[a]; ok && av.lz == nil && !hasDead(av) && !f.hasBcast(av) {
				_, lp := av.leafParts()
				if views == nil {
					views = map[int][]string{}
				}
				for j := range nl {
					views[first+j] = lp[j]
				}
			}
		}
		first += nl
	}
	return views
}

// rowSources is the tuple fn(i) => let ... in (e0, e1, ...) returns and,
// by field, the array a defined outside the lambda whose row i the field
// is (ek is a[i], or a variable the lets bind to a[i]), else nil.
func rowSources(lam *ir.Lambda) ([]ir.Expr, []*ir.Var) {
	if len(lam.Params) != 1 {
		return nil, nil
	}
	param := lam.Params[0]
	inner := ir.Binders(lam.Body)
	lets := letValues(lam.Body)
	tup := resultTuple(lam.Body)
	if tup == nil {
		return nil, nil
	}
	srcs := make([]*ir.Var, len(tup.Elems))
	for k, x := range tup.Elems {
		if v, ok := x.(*ir.Var); ok && lets[v] != nil {
			x = lets[v]
		}
		pc, ok := x.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex {
			continue
		}
		a, ok1 := pc.Args[0].(*ir.Var)
		i, ok2 := pc.Args[1].(*ir.Var)
		if ok1 && ok2 && i == param && !inner[a] {
			srcs[k] = a
		}
	}
	return tup.Elems, srcs
}

// letValues maps the variables of e's leading chain of lets to their
// values.
func letValues(e ir.Expr) map[*ir.Var]ir.Expr {
	lets := map[*ir.Var]ir.Expr{}
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			return lets
		}
		lets[l.Var] = l.Value
		e = l.Body
	}
}

// invariantLeaves finds the leaves of fn(i) => let ... in (e0, e1, ...)
// whose storage is the same at every i and made before the loop over i:
// a field that is a variable bound outside the lambda, or a nested tape
// (a variable the lets bind to build(m, fn j => (..., a[j], ...)), m
// and a bound outside) in its fields that are views of a. Reverse mode
// saves such a field once per element (GMM: each component's Q in every
// point's tape); stackP then keeps the one view instead of n copies.
func invariantLeaves(lam *ir.Lambda) map[int]bool {
	if len(lam.Params) != 1 {
		return nil
	}
	param := lam.Params[0]
	inner := ir.Binders(lam.Body)
	outside := func(x ir.Expr) bool {
		v, ok := x.(*ir.Var)
		return ok && v != param && !inner[v]
	}
	lets := letValues(lam.Body)
	tup := resultTuple(lam.Body)
	if tup == nil {
		return nil
	}
	out := map[int]bool{}
	first := 0
	for _, el := range tup.Elems {
		nl := len(mustLeaves(el.Type()))
		if outside(el) {
			for j := range nl {
				out[first+j] = true
			}
		} else if v, ok := el.(*ir.Var); ok {
			if b, ok := lets[v].(*ir.PrimCall); ok && b.Op == ir.PrimBuild && outside(b.Args[0]) {
				if sub, ok := b.Args[1].(*ir.Lambda); ok {
					elems, srcs := rowSources(sub)
					off := first
					for k, x := range elems {
						n := len(mustLeaves(x.Type()))
						if srcs[k] != nil && !inner[srcs[k]] && srcs[k] != param {
							for j := range n {
								out[off+j] = true
							}
						}
						off += n
					}
				}
			}
		}
		first += nl
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// markBcast records that the data atom of a saved leaf holds one row
// that every element shares (see invariantLeaves).
func (f *fn) markBcast(data string) {
	if f.bcast == nil {
		f.bcast = map[string]bool{}
	}
	f.bcast[data] = true
	f.markView(data)
}

// hasBcast reports whether some leaf of v stores one row for all its
// elements: such a value can only be indexed.
func (f *fn) hasBcast(v val) bool {
	_, lp := v.leafParts()
	for _, p := range lp {
		if f.bcast[p[0]] {
			return true
		}
	}
	return false
}

// How compileL treats an element of a tuple that is partly unread (see
// fn.skip).
const (
	skipValue = iota + 1 // compiled for its failures only
	skipData             // only the shape of the array is read
)

// deadVal is a value of type t none of whose parts is read.
func deadVal(t ir.Type) val {
	v := val{t: t}
	for _, l := range mustLeaves(t) {
		v.parts = append(v.parts, deadAtom)
		for range l.rank {
			v.parts = append(v.parts, "0")
		}
	}
	return v
}

// compileUnread compiles e, whose value nobody reads, for its failures
// alone: the code is kept where it can fail (it has an error return, so
// the run fails where the interpreter's would), and dropped otherwise.
func (f *fn) compileUnread(e ir.Expr) {
	save := f.b
	f.b = &strings.Builder{}
	f.compile(e)
	code := f.b.String()
	f.b = save
	// (In pointfuse.go's fused code an error is a break out of it.)
	if strings.Contains(code, "return ") || strings.Contains(code, "break Fused_") {
		f.b.WriteString(blankUnread(code))
	}
}

// blankUnread rewrites code kept for its failures alone so that the
// values it computes for nobody are not stored: a variable it declares
// and never reads loses its declaration, and its assignments go to _ (a
// stored value nobody reads is what staticcheck's SA4006 reports).
func blankUnread(code string) string {
	lines := strings.Split(code, "\n")
	declared := map[string]bool{}
	reads := map[string]int{}
	for _, l := range lines {
		rest := l
		if m := varDecRE.FindStringSubmatch(l); m != nil {
			declared[m[1]] = true
			rest = ""
			if i := strings.Index(l, " = "); i >= 0 {
				rest = l[i+3:]
			}
		} else if m := lhsRE.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "for ") {
			if m[2] == ":=" {
				for _, n := range strings.Split(m[1], ",") {
					declared[strings.TrimSpace(n)] = true
				}
			}
			rest = l[len(m[0]):]
		}
		for _, id := range identRE.FindAllString(rest, -1) {
			reads[id]++
		}
	}
	unread := func(n string) bool { return declared[n] && reads[n] == 0 && localRE.MatchString(n) }
	var out []string
	for _, l := range lines {
		if m := varDecRE.FindStringSubmatch(l); m != nil && unread(m[1]) && !strings.Contains(l, " = ") {
			continue
		}
		if m := lhsRE.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "for ") {
			names := strings.Split(m[1], ",")
			blanks := 0
			for i, n := range names {
				if n = strings.TrimSpace(n); unread(n) {
					n = "_"
				}
				if n == "_" {
					blanks++
				}
				names[i] = n
			}
			if blanks > 0 {
				op := m[2]
				if blanks == len(names) {
					op = "="
				}
				indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
				l = indent + strings.Join(names, ", ") + " " + op + " " + l[len(m[0]):]
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// skipFields marks the elements of the tuple fn(i) => let ... in (e0,
// e1, ...) returns that plan leaves unread (compiled for their failures
// only) or shape-only.
func (f *fn) skipFields(lam *ir.Lambda, plan *leafPlan) {
	body := lam.Body
	for {
		l, ok := body.(*ir.Let)
		if !ok {
			break
		}
		body = l.Body
	}
	tup, ok := body.(*ir.MakeTuple)
	if !ok || len(tup.Elems) != len(plan.fields) {
		return
	}
	if f.skip == nil {
		f.skip = map[*ir.MakeTuple][]int{}
	}
	skip := make([]int, len(tup.Elems))
	for k := range tup.Elems {
		switch plan.fields[k] {
		case fieldUnread:
			skip[k] = skipValue
		case fieldShape:
			skip[k] = skipData
		}
	}
	f.skip[tup] = skip
}

// varUses is ir.VarUses not counting the uses inside expressions
// compiled for their failures only.
func (f *fn) varUses(e ir.Expr, v *ir.Var) (n int, lazy bool) {
	var rec func(e ir.Expr, lz bool)
	rec = func(e ir.Expr, lz bool) {
		switch e := e.(type) {
		case *ir.MakeTuple:
			if skip := f.skip[e]; skip != nil {
				for k, x := range e.Elems {
					if skip[k] != skipValue {
						rec(x, lz)
					}
				}
				return
			}
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
			return
		}
		ir.EachChild(e, func(_ int, c ir.Expr) { rec(c, lz) })
	}
	rec(e, false)
	return n, lazy
}

// asView gives each array leaf of v, storage shared with another value, a
// name of its own marked as a view (see isView).
func (f *fn) asView(v val) val {
	ls, lp := v.leafParts()
	out := val{t: v.t}
	for k, l := range ls {
		p := lp[k]
		if l.rank == 0 || p[0] == deadAtom {
			out.parts = append(out.parts, p...)
			continue
		}
		d := f.def("view", p[0])
		f.markView(d)
		out.parts = append(out.parts, d)
		out.parts = append(out.parts, p[1:]...)
	}
	return out
}

// markView records that the array atom a shares its storage with another
// value although the primitive that made it returns fresh storage in the
// interpreter (a build of rows or fields of an earlier array).
func (f *fn) markView(a string) {
	if f.views == nil {
		f.views = map[string]bool{}
	}
	f.views[a] = true
}

// isView reports whether some array leaf of v is such a view: what may
// otherwise be updated in place, as fresh storage, must be copied first.
func (f *fn) isView(v val) bool {
	_, lp := v.leafParts()
	for _, p := range lp {
		if f.views[p[0]] {
			return true
		}
	}
	return false
}

// ownedAcc is an accumulator's value, copied if it is a view: package ad
// makes accumulators fresh, but a build that became a view is not.
func (f *fn) ownedAcc(acc val) val {
	if f.isView(acc) {
		return f.copyVal(acc)
	}
	return acc
}
