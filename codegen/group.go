package codegen

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Horizontal fusion. A vectorized program (bench/gradbench/ba.nab) is a
// chain of lets over vectors of one length, each read by several later
// ones:
//
//	let sqtheta = r[0]^2 + r[1]^2 + r[2]^2
//	let turned = sign(sqtheta)
//	let theta = sqrt(sqtheta + (1.0 - turned))
//	let axis = [r[0] / theta, r[1] / theta, r[2] / theta]
//
// A let read more than once is stored, so each costs a pass writing a
// vector and later passes reading it back. A run of such lets (members)
// is instead compiled first, their checks emitted in order, and then
// computed in one loop over the index: member k's element is a local
// that later members read, and a member is stored only when something
// after the run reads it (an array literal of vectors, whose rows are
// read as views, always is). A member's recipe cannot fail while it is
// evaluated, so errors keep their order; the elements are the same
// expressions as before, so the results keep their bits.
//
// A member's value is a recipe-only expression: elementwise arithmetic
// on vectors, scalars and rows x[k] of arrays, which compiles to checks,
// views and a recipe and reads no array data until its loop runs. The
// run stops at anything else (a call, a build, a scalar read).

// groupMember is one let of a run.
type groupMember struct {
	v    *ir.Var
	rows []val    // the value's rows: one for a vector, each row of a literal
	out  []string // where each row is stored ("" for a vector stored nowhere)
	elem string   // a vector's storage name, read by later members as elem[i]
	dims []string
	lit  bool // an array literal of vectors, allocated when compiled
	bad  bool // not recipes of one length (unfuse)
	// views are the lets in the run bound to rows of a literal member;
	// data is the literal's storage. A literal nothing after the run
	// reads (through its variable or these) keeps its rows in locals.
	views []*ir.Var
	data  string
	keep  bool
}

// fuseRun reports whether e starts a run of at least two members.
func (f *fn) fuseRun(e *ir.Let) bool {
	n := 0
	members := map[*ir.Var]bool{}
	for cur := e; cur != nil; {
		switch {
		case viewLet(cur):
			members[cur.Var] = true
		case f.memberLet(cur):
			members[cur.Var] = true
			n++
		case n > 0 && f.passLet(cur, members):
		default:
			return n >= 2
		}
		cur, _ = cur.Body.(*ir.Let)
	}
	return n >= 2
}

// viewLet is a let of a row or a variable: it binds a view and reads no
// data, so a run goes on through it.
func viewLet(e *ir.Let) bool {
	_, isFn := e.Value.Type().(*ir.Func)
	return !isFn && isView(e.Value)
}

func isView(e ir.Expr) bool {
	switch x := e.(type) {
	case *ir.PrimCall:
		if x.Op == ir.PrimSlice && ir.Rank(x.T) >= 2 {
			// Rows lo to hi of a matrix (cam[3:6]): a view too.
			_, ok := x.Args[0].(*ir.Var)
			return ok && recipeOnly(x.Args[1]) && recipeOnly(x.Args[2])
		}
		if x.Op != ir.PrimIndex || ir.Rank(x.T) == 0 {
			return false
		}
		_, ok := x.Args[0].(*ir.Var)
		// The index is scalar arithmetic (7 + j), which reads no array.
		return ok && recipeOnly(x.Args[1])
	}
	return false
}

// memberLet is a let of a vector of f64 or an array literal of such
// vectors, computed by a recipe-only expression and read afterwards.
func (f *fn) memberLet(e *ir.Let) bool {
	// (A build is a saver, whose plan matters for tuples only: a member
	// has a leaf of f64.)
	if n, _ := f.varUses(e.Body, e.Var); n == 0 {
		return false
	}
	if k, ok := ir.Leaf(e.Var.T); !ok || k != ir.F64 {
		return false
	}
	switch ir.Rank(e.Var.T) {
	case 1:
		return recipeOnly(e.Value) || accMember(e.Value)
	case 2:
		if di, _ := f.kernelCall(e.Value); di != nil {
			return true
		}
		pc, ok := e.Value.(*ir.PrimCall)
		if ok && pc.Op == ir.PrimBuild {
			return unrolled(pc)
		}
		if !ok || pc.Op != ir.PrimArray || len(pc.Args) == 0 {
			return false
		}
		for _, a := range pc.Args {
			if !recipeOnly(a) {
				return false
			}
		}
		return true
	}
	return false
}

// recipeOnly reports whether compiling e emits checks, views, scalar
// arithmetic and a recipe of one vector, and reads no array's data.
func recipeOnly(e ir.Expr) bool {
	switch x := e.(type) {
	case *ir.Var:
		_, isFn := x.T.(*ir.Func)
		return !isFn
	case *ir.Const:
		return true
	case *ir.Let:
		return viewLet(x) && recipeOnly(x.Body)
	case *ir.PrimCall:
		switch x.Op {
		case ir.PrimIndex:
			return isView(x)
		case ir.PrimGather:
			// Its check reads the i64 indices, never a member; then it
			// is a recipe.
			return isVar(x.Args[1]) && ir.Rank(x.T) == 1 && (isView(x.Args[0]) || isVar(x.Args[0]))
		}
		if !x.Op.Elementwise || x.Op.InPlace() || x.Op.AD != ir.NotAD {
			return false
		}
		if ir.Rank(x.T) > 0 {
			if k, ok := ir.Leaf(x.T); !ok || k != ir.F64 {
				return false
			}
			switch x.Op.Fails { // an i64 failure is not one of f64's
			case ir.NeverFails, ir.FailsOnShapes, ir.FailsOnShapesOrInt:
			default:
				return false
			}
		}
		for _, a := range x.Args {
			if !recipeOnly(a) {
				return false
			}
		}
		return true
	}
	return false
}

// compileRun compiles the run that starts at e and then the rest of the
// chain.
func (f *fn) compileRun(e *ir.Let) val {
	var group []*groupMember
	var gdims []string
	pending := map[*ir.Var]bool{} // the group's members and their rows
	cur := e
	for {
		restore := f.letFrames(cur)
		if viewLet(cur) {
			f.env[cur.Var] = f.compileL(cur.Value)
			if src := cur.Value.(*ir.PrimCall).Args[0].(*ir.Var); pending[src] {
				pending[cur.Var] = true // a row of a member
				for _, m := range group {
					if m.v == src || slices.Contains(m.views, src) {
						m.views = append(m.views, cur.Var)
					}
				}
			}
		} else if f.memberLet(cur) {
			if gathersFrom(cur.Value, pending) {
				// gather reads its source anywhere, not at the loop's
				// index: the members so far must be stored first.
				f.flushGroup(group, nil)
				group, gdims, pending = nil, nil, map[*ir.Var]bool{}
			}
			m := f.compileMember(cur)
			if m.bad {
				// Not recipes of one length after all: the members so far
				// are stored, and this one as a let would be.
				f.flushGroup(group, nil)
				group, gdims, pending = nil, nil, map[*ir.Var]bool{}
				f.unfuse(cur, m)
				goto next
			}
			if gdims != nil && !f.sameDims(m.dims, gdims) && !readsGroup(cur.Value, group) {
				// Maybe another length: the members so far are one loop,
				// stored, and this one starts the next. (One that reads a
				// member has its length: its elementwise operations checked
				// their operands' shapes against the member's.)
				f.flushGroup(group, nil)
				group, gdims, pending = nil, nil, map[*ir.Var]bool{}
			}
			if gdims == nil {
				gdims = m.dims
			}
			group = append(group, m)
			pending[m.v] = true
		} else if len(group) > 0 && f.passLet(cur, pending) {
			// Compiled in place: the run's loop, after it, computes
			// values this one does not read, and cannot fail.
			n, _ := f.varUses(cur.Body, cur.Var)
			if n == 0 {
				f.compileUnread(cur.Value)
			} else {
				f.env[cur.Var] = f.compile(cur.Value)
			}
		} else {
			restore()
			break
		}
	next:
		restore()
		nx, ok := cur.Body.(*ir.Let)
		if !ok {
			cur = nil
			break
		}
		cur = nx
	}
	var rest ir.Expr
	if cur != nil {
		rest = cur
	} else {
		rest = lastBody(e)
	}
	f.flushGroup(group, rest)
	return f.compileL(rest)
}

// passLet reports whether let e may be compiled inside a run: its value
// reads the members (vars) only for their shapes, and is straight-line
// code (an inlined def's entry checks, a transpose, scalar arithmetic).
func (f *fn) passLet(e *ir.Let, vars map[*ir.Var]bool) bool {
	if mt, ok := e.Value.(*ir.MakeTuple); ok && !f.mentionsVar(e.Body, e.Var) {
		// An inlined def's tuple of its elements' variables, read by
		// projections that became those variables: nothing to compile.
		for _, x := range mt.Elems {
			if !isVar(x) {
				return false
			}
		}
		return true
	}
	if _, isFn := e.Value.Type().(*ir.Func); isFn {
		return false
	}
	if ir.HasInPlace(e.Value) {
		// Compiled now, it would update an array a member reads later,
		// in the run's loop, as it was before.
		return false
	}
	ok := true
	reads, shapes := 0, 0 // uses of vars, and those as dim's operand
	ir.Walk(e.Value, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *ir.Loop, *ir.If, *ir.Lambda, *ir.Call:
			ok = false
		case *ir.PrimCall:
			if len(x.Args) == 0 {
				break
			}
			if v, isVar := x.Args[0].(*ir.Var); isVar && vars[v] && (x.Op == ir.PrimDim || x.Op == ir.PrimCheckDim) {
				shapes++
			}
		case *ir.Var:
			if vars[x] {
				reads++
			}
		}
	}, nil)
	if shapes > 0 && ir.Rank(e.Value.Type()) > 0 && f.mentionsVar(e.Body, e.Var) {
		// check_dim gives its operand back: a variable of it would be
		// the member itself, read other than at the loop's index.
		return false
	}
	return ok && reads == shapes
}

// readsGroup reports whether e reads a member of group.
func readsGroup(e ir.Expr, group []*groupMember) bool {
	for _, m := range group {
		if mentions(e, m.v) {
			return true
		}
	}
	return false
}

// gathersFrom reports whether a gather in e reads from one of vars (or
// a row of one).
func gathersFrom(e ir.Expr, vars map[*ir.Var]bool) bool {
	found := false
	var walk func(e ir.Expr)
	walk = func(e ir.Expr) {
		if l, ok := e.(*ir.Let); ok && viewLet(l) && vars[l.Value.(*ir.PrimCall).Args[0].(*ir.Var)] {
			vars[l.Var] = true // a row of one, bound inside e
		}
		if pc, ok := e.(*ir.PrimCall); ok && pc.Op == ir.PrimGather {
			src := pc.Args[0]
			if ix, ok := src.(*ir.PrimCall); ok && ix.Op == ir.PrimIndex {
				src = ix.Args[0]
			}
			if v, ok := src.(*ir.Var); ok && vars[v] {
				found = true
			}
		}
		ir.EachChild(e, func(_ int, c ir.Expr) { walk(c) })
	}
	walk(e)
	return found
}

// lastBody is the body of the last let of the chain that starts at e.
func lastBody(e *ir.Let) ir.Expr {
	for {
		next, ok := e.Body.(*ir.Let)
		if !ok {
			return e.Body
		}
		e = next
	}
}

// compileMember compiles a member's value and binds its variable to its
// storage, which its loop fills; nil if it did not compile to recipes of
// one length (it is then bound as compiled, and forced where read).
func (f *fn) compileMember(e *ir.Let) *groupMember {
	m := &groupMember{v: e.Var}
	di, call := f.kernelCall(e.Value)
	if pc, ok := e.Value.(*ir.PrimCall); di != nil || ok && (pc.Op == ir.PrimArray || pc.Op == ir.PrimBuild) {
		var rows []val
		var data, rs string
		if di != nil {
			rows, data, rs = f.inlineKernel(di, call)
		} else if pc.Op == ir.PrimArray {
			rows, data, rs = f.litRows(pc, e.Var.T.(*ir.Array))
		} else {
			n := f.sizeArg(f.compile(pc.Args[0]).parts[0], pc.P)
			rows, data, rs = f.buildRows(pc, n, f.staticFn(pc.Args[1]))
		}
		m.rows, m.lit, m.data = rows, true, data
		m.dims = dimsOf(rows[0])
		for i := range rows {
			m.out = append(m.out, f.def("row", fmt.Sprintf("%s[%d*%s : %d*%s]", data, i, rs, i+1, rs)))
		}
		f.env[e.Var] = val{t: e.Var.T, parts: append([]string{data, fmt.Sprint(len(rows))}, m.dims...)}
	} else {
		var v val
		if accMember(e.Value) {
			v = f.accRecipe(e.Value.(*ir.PrimCall))
		} else {
			v = f.compileL(e.Value)
		}
		m.rows, m.dims = []val{v}, dimsOf(v)
		m.elem = f.fresh("r")
		f.env[e.Var] = val{t: e.Var.T, parts: append([]string{m.elem}, m.dims...)}
	}
	for _, r := range m.rows {
		if len(dimsOf(r)) != 1 || (r.lz != nil && (!r.lz.safe || r.lz.outer != nil)) {
			m.bad = true
		}
	}
	return m
}

// unfuse finishes a member that is not one after all, as a let would:
// a literal's rows are stored, a vector forced.
func (f *fn) unfuse(e *ir.Let, m *groupMember) {
	if m.lit {
		for i, r := range m.rows {
			f.writeRow(m.out[i], r)
		}
		return
	}
	f.env[e.Var] = f.force(m.rows[0])
}

// writeRow stores a row's elements into dst.
func (f *fn) writeRow(dst string, r val) {
	if r.lz != nil {
		f.writeLazy(dst, r.lz)
	} else {
		f.line("copy(%s, %s)", dst, r.parts[0])
	}
}

// flushGroup emits the loop computing a group's members. A vector member
// is stored when rest (nil: everything after) reads it.
func (f *fn) flushGroup(group []*groupMember, rest ir.Expr) {
	if len(group) == 0 {
		return
	}
	n := group[0].dims[0]
	// aliases maps each view of a literal member's row that the run's
	// code made to that row: read at the loop's index, it is the row's
	// local.
	aliases := map[string]aliasRow{}
	for _, m := range group {
		if !m.lit {
			if rest == nil || f.mentionsVar(rest, m.v) {
				m.out = []string{m.elem}
				f.line("%s := %s", m.elem, f.mkW(ir.F64, n))
			}
			continue
		}
		m.keep = rest == nil || f.mentionsVar(rest, m.v)
		for _, v := range m.views {
			m.keep = m.keep || f.mentionsVar(rest, v)
		}
		if m.data != "" {
			for view, k := range rowViews(f.b.String(), m.data) {
				if k < len(m.rows) {
					aliases[view] = aliasRow{m, k}
				}
			}
		}
	}
	iter := f.groupIter(group, aliases, transposedRows(f.b.String()))
	seq := f.seqLoop(n, iter)
	again := false
	for _, m := range group {
		// A literal the loop still reads other than through a known view
		// is stored after all.
		if m.lit && !m.keep && m.data != "" && f.readsLiteral(seq, m) {
			m.keep, again = true, true
		}
	}
	if again {
		seq = f.seqLoop(n, iter)
	}
	var arrays []string
	for _, m := range group {
		for _, r := range m.rows {
			_, as := elemOf(r)
			arrays = append(arrays, as...)
		}
		arrays = append(arrays, m.out...)
	}
	var keep []string
	for _, a := range arrays {
		// Only the arrays the loop reads or writes: a view whose elements
		// became locals is not one.
		if f.stored(group, a) && identRE2(a).MatchString(seq) {
			keep = append(keep, a)
		}
	}
	f.reslice(keep, n)
	for _, m := range group {
		if !m.lit && len(m.out) == 0 && identRE2(m.elem).MatchString(seq) {
			f.g.fail("internal error: fused vector %s read other than by element", m.elem)
		}
	}
	if !f.parallel(n, n, seq, "", iter) {
		f.b.WriteString(seq)
	}
}

// aliasRow is row k of a literal member.
type aliasRow struct {
	m *groupMember
	k int
}

// groupIter returns the body of a group's loop at index i: each member's
// elements as locals, later members reading earlier ones' locals, and the
// stores of what is read after the loop.
// Rows of transposes are read from their sources (strided.go).
func (f *fn) groupIter(group []*groupMember, aliases map[string]aliasRow, strided map[string]stridedRow) func(i string) string {
	return func(i string) string {
		mark := f.iterMark()
		var subst []string
		for _, m := range group {
			locals := make([]string, len(m.rows))
			piece := f.scratch(func() {
				for k, r := range m.rows {
					el, _ := elemOf(r)
					locals[k] = f.def("e", el(i))
				}
			})
			if len(subst) > 0 {
				piece = strings.NewReplacer(subst...).Replace(piece)
			}
			f.b.WriteString(readStrided(piece, strided))
			if !m.lit || m.keep {
				for k, o := range m.out {
					if o != "" {
						f.line("%s[%s] = %s", o, i, locals[k])
					}
				}
			}
			if !m.lit {
				subst = append(subst, m.elem+"["+i+"]", locals[0])
				continue
			}
			for view, a := range sortedAliases(aliases) {
				if a.m == m {
					subst = append(subst, view+"["+i+"]", locals[a.k])
				}
			}
		}
		f.release(mark, "")
		return ""
	}
}

// sortedAliases lists aliases in the order of their names, so that the
// replacements, and the generated code, are deterministic.
func sortedAliases(aliases map[string]aliasRow) func(yield func(string, aliasRow) bool) {
	return func(yield func(string, aliasRow) bool) {
		for _, k := range slices.Sorted(maps.Keys(aliases)) {
			if !yield(k, aliases[k]) {
				return
			}
		}
	}
}

// readsLiteral reports whether the loop's code mentions a literal
// member's storage or one of its views.
func (f *fn) readsLiteral(seq string, m *groupMember) bool {
	if identRE2(m.data).MatchString(seq) {
		return true
	}
	for _, view := range viewsOf(f.b.String(), m.data) {
		if identRE2(view).MatchString(seq) {
			return true
		}
	}
	for _, o := range m.out {
		if identRE2(o).MatchString(seq) {
			return true
		}
	}
	return false
}

// rowViewRE matches the line a row view declares:
// row_7 := a_3[int(int64(1))*rs_2 : (int(int64(1))+1)*rs_2], the index
// maybe a local (int(x_5)).
var rowViewRE = regexp.MustCompile(`(?m)^\s*(\w+) := (\w+)\[int\((int64\(\d+\)|\w+)\)\*\w+ : \(int\((int64\(\d+\)|\w+)\)\+1\)\*\w+\]$`)

// sliceViewRE matches the line a slice of rows by constant bounds
// declares: s_5 := a_3[int(int64(3))*n_2 : int(int64(6))*n_2 : int(int64(6))*n_2].
var sliceViewRE = regexp.MustCompile(`(?m)^\s*(\w+) := (\w+)\[int\(int64\((\d+)\)\)\*\w+ : int\(int64\(\d+\)\)\*\w+ : int\(int64\(\d+\)\)\*\w+\]$`)

// constIndexRE matches a local index that is a constant or the sum of
// two (x_5 := int64(7) + int64(1), an unrolled build's cam[7 + j]).
var constIndexRE = regexp.MustCompile(`(?m)^\s*(\w+) := int64\((\d+)\)(?: \+ int64\((\d+)\))?$`)

// anyViewRE matches the declaration of any slice of an array.
var anyViewRE = regexp.MustCompile(`(?m)^\s*(\w+) := (\w+)\[[^\]]*:[^\]]*\]$`)

// rowViews finds, in code, the views of rows of data by a constant index,
// directly or through slices of rows: each view's name and its row.
func rowViews(code, data string) map[string]int {
	consts := map[string]int{}
	for _, sm := range constIndexRE.FindAllStringSubmatch(code, -1) {
		a, _ := strconv.Atoi(sm[2])
		b, _ := strconv.Atoi(sm[3] + "0")
		consts[sm[1]] = a + b/10
	}
	index := func(s string) (int, bool) {
		if strings.HasPrefix(s, "int64(") {
			k, err := strconv.Atoi(s[len("int64(") : len(s)-1])
			return k, err == nil
		}
		k, ok := consts[s]
		return k, ok
	}
	first := map[string]int{data: 0} // data and its slices: their first row
	for _, sm := range sliceViewRE.FindAllStringSubmatch(code, -1) {
		if lo, ok := first[sm[2]]; ok {
			if k, err := strconv.Atoi(sm[3]); err == nil {
				first[sm[1]] = lo + k
			}
		}
	}
	out := map[string]int{}
	for _, sm := range rowViewRE.FindAllStringSubmatch(code, -1) {
		lo, ok := first[sm[2]]
		if !ok || sm[3] != sm[4] {
			continue
		}
		if k, ok := index(sm[3]); ok {
			out[sm[1]] = lo + k
		}
	}
	return out
}

// viewsOf lists every array declared, in code, as a slice of data or of
// such a view.
func viewsOf(code, data string) []string {
	of := map[string]bool{data: true}
	var out []string
	for _, sm := range anyViewRE.FindAllStringSubmatch(code, -1) {
		if of[sm[2]] && !of[sm[1]] {
			of[sm[1]] = true
			out = append(out, sm[1])
		}
	}
	return out
}

// stored reports whether array a exists: every array but a vector member
// of the group that is stored nowhere.
func (f *fn) stored(group []*groupMember, a string) bool {
	for _, m := range group {
		if !m.lit && m.elem == a {
			return len(m.out) > 0
		}
	}
	return true
}

func identRE2(name string) *regexp.Regexp {
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
}

// mentionsVar reports whether v is read in e.
func (f *fn) mentionsVar(e ir.Expr, v *ir.Var) bool {
	n, _ := f.varUses(e, v)
	return n > 0
}

// unrollCount is the number of rows of build(k, f) when k is a constant
// from 1 to 16, else 0.
func unrollCount(e *ir.PrimCall) int {
	c, ok := e.Args[0].(*ir.Const)
	if !ok {
		return 0
	}
	k, ok := c.Val.(int64)
	if !ok || k < 1 || k > 16 {
		return 0
	}
	return int(k)
}

// unrolled reports whether build(k, f) is compiled row by row: k is a
// small constant, the rows are vectors of f64 computed by recipes (a
// build of plain rows x[j] is a view of x, see rowViews).
func unrolled(e *ir.PrimCall) bool {
	lam, ok := e.Args[1].(*ir.Lambda)
	if !ok || len(lam.Params) != 1 || unrollCount(e) == 0 || ir.Rank(e.T) != 2 {
		return false
	}
	if k, ok := ir.Leaf(e.T); !ok || k != ir.F64 {
		return false
	}
	return recipeOnly(lam.Body) && !isView(lam.Body)
}

func isVar(e ir.Expr) bool {
	_, ok := e.(*ir.Var)
	return ok
}

// storeRows stores the rows of an array literal or unrolled build into
// data (rows of rs elements), in one loop when every row is a vector
// that cannot fail while it is computed, and returns the array.
func (f *fn) storeRows(t ir.Type, rows []val, data, rs string) val {
	m := &groupMember{rows: rows, lit: true}
	for i, r := range rows {
		m.out = append(m.out, f.def("row", fmt.Sprintf("%s[%d*%s : %d*%s]", data, i, rs, i+1, rs)))
		if len(dimsOf(r)) != 1 || (r.lz != nil && (!r.lz.safe || r.lz.outer != nil)) {
			m.bad = true
		}
	}
	if m.bad || len(rows) == 1 {
		for i, r := range rows {
			f.writeRow(m.out[i], r)
		}
	} else {
		m.dims = dimsOf(rows[0])
		f.flushGroup([]*groupMember{m}, nil)
	}
	return val{t: t, parts: append([]string{data, fmt.Sprint(len(rows))}, dimsOf(rows[0])...)}
}

// buildRows is litRows for build(k, f) with a constant k: f's body is
// compiled for each row in turn, with the build's checks in the order
// its loop makes them (the size, then each element's own checks, the
// allocation after element 0's and each later element's shape against
// element 0's).
func (f *fn) buildRows(e *ir.PrimCall, n string, sf staticFn) (rows []val, data, rs string) {
	at := e.T.(*ir.Array)
	k, _ := ir.Leaf(at.Elem)
	f.step("int64("+n+")", e.P)
	data = f.fresh("a")
	f.line("var %s []float64", data)
	var d0 []string
	for j := 0; j < unrollCount(e); j++ {
		r := f.callStaticL(sf, []val{valOf(ir.TI64, fmt.Sprintf("int64(%d)", j))}, e.P, at.Elem)
		rd := dimsOf(r)
		if j == 0 {
			d0 = rd
			rs = f.def("rs", strings.Join(rd, " * "))
			f.line("%s = %s", data, f.mkW(k, f.mulSize(n, rs, e.P)))
		} else if conds := dimConds(d0, rd); len(conds) > 0 {
			f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"build: element %d has shape " + runtime.ShapeString([]int{%s}) + ", element 0 has shape " + runtime.ShapeString([]int{%s})`,
				j, strings.Join(rd, ", "), strings.Join(d0, ", ")))
		}
		rows = append(rows, r)
	}
	return rows, data, rs
}

// kernelCall recognizes a call that a run inlines as a member: the def's
// body is an array literal or unrolled build of vector recipes of its
// parameters (cross(a, b) = [a[1] * b[2] - a[2] * b[1], ...]), its
// arguments are variables or rows, and its sizes come from its
// parameters.
func (f *fn) kernelCall(e ir.Expr) (*defInfo, *ir.Call) {
	c, ok := e.(*ir.Call)
	if !ok {
		return nil, nil
	}
	g, ok := c.Fn.(*ir.Global)
	if !ok {
		return nil, nil
	}
	di := f.g.defs[g.Name]
	if di == nil || di.value || di.skip != nil || di == f.di || !di.def.HasParams || len(di.def.Params) != len(c.Args) {
		return nil, nil
	}
	for _, p := range di.def.Params {
		if _, isFn := p.T.(*ir.Func); isFn {
			return nil, nil
		}
	}
	for _, a := range c.Args {
		if !isVar(a) && !isView(a) {
			return nil, nil
		}
	}
	for _, sv := range di.def.SizeVars {
		if sv.Param < 0 {
			return nil, nil
		}
	}
	body, ok := di.def.Body.(*ir.PrimCall)
	if !ok || ir.Rank(body.T) != 2 {
		return nil, nil
	}
	if k, ok := ir.Leaf(body.T); !ok || k != ir.F64 {
		return nil, nil
	}
	switch body.Op {
	case ir.PrimBuild:
		if !unrolled(body) {
			return nil, nil
		}
	case ir.PrimArray:
		for _, a := range body.Args {
			if !recipeOnly(a) {
				return nil, nil
			}
		}
	default:
		return nil, nil
	}
	return di, c
}

// inlineKernel compiles a kernel call's body in place: its parameters'
// checks as the call makes them, then its rows, with the call's frame on
// every error (as the call would add it).
func (f *fn) inlineKernel(di *defInfo, c *ir.Call) (rows []val, data, rs string) {
	args := make([]val, len(c.Args))
	for i, a := range c.Args {
		args[i] = f.compile(a)
	}
	saveEnv, saveFenv := f.env, f.fenv
	f.env, f.fenv = map[*ir.Var]val{}, map[*ir.Var]staticFn{}
	for i, p := range di.def.Params {
		f.env[p] = args[i]
	}
	f.frames = append(f.frames, frameArgs(di, c.P))
	f.bindSizesOf(di.def, di.def.Params)
	body := di.def.Body.(*ir.PrimCall)
	if body.Op == ir.PrimArray {
		rows, data, rs = f.litRows(body, body.T.(*ir.Array))
	} else {
		n := f.sizeArg(f.compile(body.Args[0]).parts[0], body.P)
		rows, data, rs = f.buildRows(body, n, f.staticFn(body.Args[1]))
	}
	f.frames = f.frames[:len(f.frames)-1]
	f.env, f.fenv = saveEnv, saveFenv
	return rows, data, rs
}
