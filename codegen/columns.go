// Column blocking: the tail of a def body that is columnwise along its
// last axis runs on blocks of columns that stay in cache.
//
// A value is columnwise when every array in it has the same last
// dimension p (its columns) and only constant dimensions before it, and
// column i of it depends on column i of the arrays it is computed from
// and on nothing else that varies with the columns. Vectorized code over
// observations (BA's residuals and their reverse sweeps: every operation
// keeps observation i in column i) is columnwise, and then computing it
// on columns [lo, hi) of its inputs gives exactly columns [lo, hi) of
// its result, the same operations on the same numbers in the same order.
// Computed whole, such a chain of defs streams every intermediate p-vector
// through memory (BA's Jacobian saves about 90 of them on its tape); on
// blocks of a few hundred columns they stay in cache.
//
// outlineColumns finds, in each def body's chain of lets, the longest
// columnwise tail (the lets from some point on and the final value) that
// calls defs with enough work to pay for the copies, and moves it into a
// def of its own, NAME$cols, which the body then calls. Its parameters are
// the variables the tail reads from before it, and any expression in it
// that reads only such variables, cannot fail and is columnwise
// (transpose(feats) in BA) though computed otherwise: it is computed
// before the call and passed in. The call of NAME$cols goes through a
// wrapper (emitColumnsWrapper) that copies each block of columns of the
// arguments into buffers, calls the def on them and copies the block of
// its results into place.
//
// Errors stay those of the unblocked code: if any block fails, the
// wrapper drops what it computed and calls the def on the whole columns,
// which fails as the general code does (a columnwise def has no failure
// that one block could show and the whole call not: failures that depend
// on a column are failures of the block holding it, and the only size
// the blocks change is p, whose largest array the wrapper checks first,
// falling back to the whole call if it is too large). The outlined def
// adds no frame to an error: its code is the body's own.
//
// What is proven columnwise (colAna.class): constants and scalars that
// no column feeds (uniform); elementwise primitives; rows, slices, takes,
// drops, literals, builds and fills of columnwise arrays along their
// leading axes with uniform indices and counts; their sizes (dim, len:
// p along the last axis, uniform along another); zeros_like, acc_add, acc_add_at,
// pad_like and concat of columnwise arrays; ones, zeros and fill whose
// length is p itself (a column of constants); lets, tuples, projections,
// branches on uniform conditions, counted loops with uniform counts and
// columnwise states; and calls of defs whose parameters are columnwise
// or scalar and whose body is proven so. The size p as a number is
// allowed only as such a length (it is the block's width inside a block).
// Anything else (a reduction, a transpose, a gather, a while loop) ends
// the proof.
package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// colClass is what the columnwise proof knows of a value.
type colClass int8

const (
	colBad colClass = iota // not proven columnwise
	colU                   // uniform: scalars no column feeds
	colS                   // the column size p as a number
	colC                   // columnwise arrays
)

// colShape reports whether t is columnwise-typed along sym: every leaf
// an array whose last dimension is sym and whose others are constants.
func colShape(t ir.Type, sym string) bool { return colShapeOf(t, sym, false) }

// colShapeOf is colShape, with unknown dimensions allowed when loose:
// rewriting may have lost a size in a type (x[0] of a [3][p] typed [?]),
// and it is the proof, not the type, that shows a value's last axis to
// be the columns; the type still tells its rank.
func colShapeOf(t ir.Type, sym string, loose bool) bool {
	any := false
	var walk func(t ir.Type, dims []ir.Dim) bool
	walk = func(t ir.Type, dims []ir.Dim) bool {
		switch t := t.(type) {
		case ir.Scalar:
			if len(dims) == 0 {
				return false
			}
			if last := dims[len(dims)-1]; last.Sym != sym && !(loose && last.Sym == "" && last.N < 0) {
				return false
			}
			for _, d := range dims[:len(dims)-1] {
				if !d.Known() && !loose {
					return false
				}
			}
			any = true
			return true
		case *ir.Array:
			return walk(t.Elem, append(dims[:len(dims):len(dims)], t.Dim))
		case *ir.Tuple:
			for _, e := range t.Elems {
				if !walk(e, dims) {
					return false
				}
			}
			return true
		}
		return false
	}
	return walk(t, nil) && any
}

// scalarShape reports whether t holds no array (and no function).
func scalarShape(t ir.Type) bool {
	switch t := t.(type) {
	case ir.Scalar:
		return true
	case *ir.Tuple:
		for _, e := range t.Elems {
			if !scalarShape(e) {
				return false
			}
		}
		return true
	}
	return false
}

// lastSym is the size variable naming the last dimension of t's first
// array leaf, or "".
func lastSym(t ir.Type) string {
	switch t := t.(type) {
	case *ir.Array:
		if s := lastSym(t.Elem); s != "" {
			return s
		}
		if _, ok := t.Elem.(ir.Scalar); ok {
			return t.Dim.Sym
		}
	case *ir.Tuple:
		if len(t.Elems) > 0 {
			return lastSym(t.Elems[0])
		}
	}
	return ""
}

// colAna proves values columnwise along the size variable sym.
type colAna struct {
	g     *colDefs
	sym   string
	env   map[*ir.Var]colClass
	inner map[*ir.Var]bool // region mode: variables bound inside the region
	// region mode: expressions computed before the region and passed in.
	hoist  []*hoisted
	region bool
	root   ir.Expr // region mode: the tail, which is not hoisted whole
}

type hoisted struct {
	e ir.Expr
	v *ir.Var
}

// colDefs is the proof's memory of defs: which are columnwise.
type colDefs struct {
	defs map[string]*ir.Def
	memo map[*ir.Def]int8 // 1 columnwise, -1 not, 2 being proven
	// minLets is the work a tail's calls must hold to be outlined.
	minLets int
}

// typeClass is the class a value of type t must have: columnwise arrays,
// uniform scalars, or neither. The type of a value the proof shows
// columnwise may have lost its last size (colShapeOf); a parameter's
// (strictClass) may not.
func (a *colAna) typeClass(t ir.Type) colClass {
	switch {
	case colShapeOf(t, a.sym, true):
		return colC
	case scalarShape(t):
		return colU
	}
	return colBad
}

// strictClass is typeClass for the variables bound outside what is
// proven: their last size must be the columns'.
func (a *colAna) strictClass(t ir.Type) colClass {
	switch {
	case colShape(t, a.sym):
		return colC
	case scalarShape(t):
		return colU
	}
	return colBad
}

// fits reports whether a value of class k has the class its type asks.
func (a *colAna) fits(k colClass, t ir.Type) bool {
	return k != colBad && k != colS && k == a.typeClass(t)
}

func (a *colAna) bind(v *ir.Var, k colClass) {
	a.env[v] = k
	if a.inner != nil {
		a.inner[v] = true
	}
}

// class proves e columnwise (colC), uniform (colU) or the size (colS); in
// region mode an expression that fails the proof may still be computed
// before the region.
func (a *colAna) class(e ir.Expr) colClass {
	k := a.class1(e)
	if k == colBad && a.region && a.hoistable(e) {
		a.hoist = append(a.hoist, &hoisted{e: e, v: ir.NewVar("cols", e.Type(), e.Pos())})
		return colC
	}
	return k
}

// hoistable reports whether e can be computed before the region: it is a
// columnwise-typed value that cannot fail and reads no variable the
// region binds.
func (a *colAna) hoistable(e ir.Expr) bool {
	if _, ok := e.(*ir.Var); ok || e == a.root || !colShape(e.Type(), a.sym) || !ir.Total(e) {
		return false
	}
	for _, v := range ir.FreeVars(e) {
		if a.inner[v] {
			return false
		}
	}
	return true
}

// colPrims are the non-elementwise primitives whose columnwise operands
// give a columnwise result when the result is columnwise-typed.
var colPrims = map[string]bool{
	"index": true, "slice": true, "array": true, "build": true, "fill": true,
	"ones": true, "zeros": true, "zeros_like": true, "acc_add": true,
	"acc_add_at": true, "pad_like": true, "concat": true, "take": true, "drop": true,
}

func (a *colAna) class1(e ir.Expr) colClass {
	switch e := e.(type) {
	case *ir.Const:
		if scalarShape(e.Type()) {
			return colU
		}
	case *ir.Var:
		return a.env[e]
	case *ir.Let:
		k := a.class(e.Value)
		if !a.fits(k, e.Var.T) {
			return colBad
		}
		a.bind(e.Var, k)
		return a.class(e.Body)
	case *ir.MakeTuple:
		want := a.typeClass(e.Type())
		for _, x := range e.Elems {
			if k := a.class(x); !a.fits(k, x.Type()) || (want == colU && k != colU) {
				return colBad
			}
		}
		return want
	case *ir.Proj:
		if k := a.class(e.X); k == colC || k == colU {
			if a.fits(k, e.Type()) {
				return k
			}
		}
	case *ir.If:
		want := a.typeClass(e.Type())
		if a.class(e.Cond) == colU && a.class(e.Then) == want && a.class(e.Else) == want {
			return want
		}
	case *ir.Loop:
		want := a.typeClass(e.State.T)
		if e.Count == nil || e.Index == nil || want == colBad || a.class(e.Count) != colU || a.class(e.Init) != want {
			return colBad
		}
		a.bind(e.State, want)
		a.bind(e.Index, colU)
		if a.class(e.Body) == want {
			return want
		}
	case *ir.Call:
		return a.call(e)
	case *ir.PrimCall:
		return a.prim(e)
	}
	return colBad
}

// call proves a call of a def columnwise: the def is, and each argument
// has the class of its parameter.
func (a *colAna) call(e *ir.Call) colClass {
	gl, ok := e.Fn.(*ir.Global)
	if !ok {
		return colBad
	}
	d := a.g.defs[gl.Name]
	if d == nil || !d.HasParams || len(d.Params) != len(e.Args) {
		return colBad
	}
	sym := lastSym(d.Result)
	if !a.g.columnwise(d) || !colShape(e.Type(), a.sym) {
		return colBad
	}
	for i, x := range e.Args {
		k := a.class(x)
		switch {
		case colShape(d.Params[i].T, sym):
			if k != colC {
				return colBad
			}
		case k != colU:
			return colBad
		}
	}
	return colC
}

// prim proves a primitive call columnwise or uniform.
func (a *colAna) prim(e *ir.PrimCall) colClass {
	name := e.Op.Name
	if e.Op == ir.PrimDim || e.Op == ir.PrimLen {
		// A size of a columnwise array: the columns' count along its last
		// axis, a constant (the same in every block) along another.
		axis, _ := e.Aux.(int)
		if e.Op == ir.PrimLen {
			axis = 0
		}
		if a.class(e.Args[0]) != colC {
			return colBad
		}
		if axis == minRank(e.Args[0].Type())-1 {
			return colS
		}
		return colU
	}
	if !e.Op.Elementwise && !colPrims[name] {
		return colBad
	}
	// ones(p), zeros(p), fill(p, v) with v uniform: a column of constants.
	sizeSlot := (name == "ones" || name == "zeros" || name == "fill") && len(e.Args) >= 1 && minRank(e.T) == 1
	uniform := true
	var ks []colClass
	for i, x := range e.Args {
		if lam, ok := x.(*ir.Lambda); ok {
			// build's function: its index is uniform, its value a row.
			if name != "build" || len(lam.Params) != 1 {
				return colBad
			}
			a.bind(lam.Params[0], colU)
			if a.class(lam.Body) != colC {
				return colBad
			}
			uniform = false
			ks = append(ks, colC)
			continue
		}
		k := a.class(x)
		switch {
		case k == colS && i == 0 && sizeSlot:
			uniform = false
		case !a.fits(k, x.Type()):
			return colBad
		case k == colC:
			uniform = false
		}
		ks = append(ks, k)
	}
	if e.Op.Elementwise {
		switch {
		case uniform && scalarShape(e.T):
			return colU
		case !uniform && a.fits(colC, e.T):
			// The shape of its array operands, all columnwise.
			return colC
		}
		return colBad
	}
	if uniform || !a.fits(colC, e.T) {
		return colBad
	}
	// The types' ranks (their sizes may be lost, their ranks are not)
	// tell along which axis each primitive works: it must be a leading
	// one, never the columns'.
	switch name {
	case "ones", "zeros":
		return pick(ks[0] == colS)
	case "fill":
		// fill(n, row) with n uniform stacks rows; fill(p, v) repeats a
		// uniform v along the columns.
		return pick(ks[0] == colU && ks[1] == colC || ks[0] == colS && ks[1] == colU)
	case "index":
		return pick(ks[0] == colC)
	case "slice", "concat":
		return pick(minRank(e.T) >= 2)
	case "take", "drop":
		return pick(ks[0] == colC && ks[1] == colU && minRank(e.T) >= 2)
	case "pad_like":
		return pick(ks[0] == colC && ks[2] == colC && minRank(e.T) >= 2)
	case "acc_add_at":
		return pick(ks[0] == colC && ks[2] == colC && minRank(e.Args[0].Type()) >= 2)
	case "acc_add", "zeros_like", "array", "build":
		return colC
	}
	return colBad
}

// pick is colC if ok, else colBad.
func pick(ok bool) colClass {
	if ok {
		return colC
	}
	return colBad
}

// minRank is the least rank of t's leaves.
func minRank(t ir.Type) int {
	ls := mustLeaves(t)
	if len(ls) == 0 {
		return 0
	}
	r := ls[0].rank
	for _, l := range ls[1:] {
		r = min(r, l.rank)
	}
	return r
}

// columnwise proves def d columnwise along the size variable of its
// result's columns: each parameter columnwise-typed along it or scalar,
// that size bound by the parameters (no other size variable), and the
// body columnwise.
func (g *colDefs) columnwise(d *ir.Def) bool {
	switch g.memo[d] {
	case 1:
		return true
	case -1, 2:
		return false
	}
	g.memo[d] = 2
	ok := g.prove(d)
	g.memo[d] = -1
	if ok {
		g.memo[d] = 1
	}
	return ok
}

func (g *colDefs) prove(d *ir.Def) bool {
	sym := lastSym(d.Result)
	if sym == "" || !d.HasParams || !colShape(d.Result, sym) {
		return false
	}
	a := &colAna{g: g, sym: sym, env: map[*ir.Var]colClass{}}
	for _, p := range d.Params {
		k := a.strictClass(p.T)
		if k == colBad {
			return false
		}
		a.env[p] = k
	}
	for _, sv := range d.SizeVars {
		if sv.Param < 0 || sv.Var.Name != sym {
			return false
		}
		a.env[sv.Var] = colS
	}
	return a.class(d.Body) == colC
}

// colMinLets is how many columnwise lets, in the non-inlined defs a tail
// calls, make it worth blocking: below it the tail is a few fused loops
// (BA's objective) that blocking would only split and copy.
const colMinLets = 40

// colWork counts the columnwise lets of the defs e calls, each def once,
// leaving out those small enough to be inlined (their code joins the
// caller's fused loops).
func (g *colDefs) colWork(e ir.Expr, sym string, seen map[*ir.Def]bool) int {
	n := 0
	ir.Walk(e, func(x ir.Expr, enter bool) {
		c, ok := x.(*ir.Call)
		if !ok || !enter {
			return
		}
		gl, ok := c.Fn.(*ir.Global)
		if !ok {
			return
		}
		d := g.defs[gl.Name]
		if d == nil || seen[d] {
			return
		}
		seen[d] = true
		if !straightLine(d.Body) {
			dsym := lastSym(d.Result)
			ir.Walk(d.Body, func(y ir.Expr, enter bool) {
				if l, ok := y.(*ir.Let); ok && enter && colShape(l.Var.T, dsym) {
					n++
				}
			}, nil)
		}
		n += g.colWork(d.Body, sym, seen)
	}, nil)
	return n
}

// colOutlined is what codegen knows of a def outlineColumns made.
type colOutlined struct {
	parent string // the def whose tail it is
}

// outlineColumns returns p with the columnwise tails of its defs' bodies
// moved into defs of their own (see the file comment), and those defs.
// p itself is not changed: the interpreter runs the same program.
// With all, a tail is outlined however little work its calls hold (for
// tests, with small blocks).
func outlineColumns(p *ir.Program, all bool) (*ir.Program, map[string]*colOutlined) {
	g := &colDefs{defs: map[string]*ir.Def{}, memo: map[*ir.Def]int8{}, minLets: colMinLets}
	if all {
		g.minLets = 0
	}
	for _, d := range p.Defs {
		g.defs[d.Name] = d
	}
	var defs []*ir.Def
	out := map[string]*colOutlined{}
	for _, d := range p.Defs {
		if nd, cols := g.outline(d); cols != nil {
			if g.defs[cols.Name] == nil {
				defs = append(defs, cols, nd)
				out[cols.Name] = &colOutlined{parent: d.Name}
				continue
			}
		}
		defs = append(defs, d)
	}
	if len(out) == 0 {
		return p, nil
	}
	np := *p
	np.Defs = defs
	return &np, out
}

// outline finds d's columnwise tail; it returns d with the tail replaced
// by a call and the tail's def, or nil.
func (g *colDefs) outline(d *ir.Def) (*ir.Def, *ir.Def) {
	if !d.HasParams {
		return nil, nil
	}
	var lets []*ir.Let
	e := d.Body
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		lets = append(lets, l)
		e = l.Body
	}
	for j := 0; j <= len(lets); j++ {
		var tail ir.Expr = e
		if j < len(lets) {
			tail = lets[j]
		}
		// The tail's value is the body's: d's result.
		sym := lastSym(d.Result)
		if sym == "" || !colShape(d.Result, sym) {
			return nil, nil
		}
		var sizeVar *ir.Var
		for _, sv := range d.SizeVars {
			if sv.Var.Name == sym {
				sizeVar = sv.Var
			}
		}
		if sizeVar == nil {
			continue
		}
		a := &colAna{g: g, sym: sym, env: map[*ir.Var]colClass{}, inner: map[*ir.Var]bool{}, region: true, root: tail}
		outer := append([]*ir.Var(nil), d.Params...)
		for _, l := range lets[:j] {
			outer = append(outer, l.Var)
		}
		for _, v := range outer {
			if k := a.strictClass(v.T); k != colBad {
				a.env[v] = k
			}
		}
		for _, sv := range d.SizeVars {
			a.env[sv.Var] = colU
		}
		a.env[sizeVar] = colS
		if a.class(tail) != colC || g.colWork(tail, sym, map[*ir.Def]bool{}) < g.minLets {
			continue
		}
		return g.cut(d, lets[:j], tail, a, sizeVar)
	}
	return nil, nil
}

// cut makes the tail's def and d's new body (the lets before it, then
// the call).
func (g *colDefs) cut(d *ir.Def, before []*ir.Let, tail ir.Expr, a *colAna, sizeVar *ir.Var) (*ir.Def, *ir.Def) {
	byExpr := map[ir.Expr]*ir.Var{}
	hoistVar := map[*ir.Var]bool{}
	for _, h := range a.hoist {
		byExpr[h.e] = h.v
		hoistVar[h.v] = true
	}
	var replace func(x ir.Expr) ir.Expr
	replace = func(x ir.Expr) ir.Expr {
		if v, ok := byExpr[x]; ok {
			return v
		}
		return ir.Rebuild(x, replace)
	}
	body := replace(tail)
	// Parameters: the tail's free variables (the size excepted: the
	// parameters' shapes bind it), then the hoisted values.
	var params []*ir.Var
	var args []ir.Expr
	for _, v := range ir.FreeVars(body) {
		if v == sizeVar || hoistVar[v] {
			continue
		}
		params = append(params, v)
		args = append(args, v)
	}
	for _, h := range a.hoist {
		params = append(params, h.v)
		args = append(args, h.e)
	}
	pos := tail.Pos()
	cols := &ir.Def{Name: d.Name + "$cols", Params: params, HasParams: true, Result: d.Result, Body: body, P: pos, Origin: d.Name}
	first := -1
	var checks []ir.DimRef
	for i, v := range params {
		if a.strictClass(v.T) != colC {
			continue
		}
		axis := mustLeaves(v.T)[0].rank - 1
		if first < 0 {
			first = i
			cols.SizeVars = append(cols.SizeVars, ir.SizeVar{Var: sizeVar, Param: i, Axis: axis})
			continue
		}
		checks = append(checks, ir.DimRef{Param: i, Axis: axis, P: pos})
	}
	if first < 0 || !f64Leaves(cols.Result) {
		return nil, nil
	}
	for _, v := range params {
		if a.strictClass(v.T) == colC && !f64Leaves(v.T) {
			return nil, nil
		}
	}
	cols.SizeVars[0].Checks = checks
	var ts []ir.Type
	for _, v := range params {
		ts = append(ts, v.T)
	}
	var nb ir.Expr = &ir.Call{Fn: &ir.Global{Name: cols.Name, T: &ir.Func{Params: ts, Result: cols.Result}, P: pos}, Args: args, T: cols.Result, P: pos}
	for _, v := range params {
		if k := a.strictClass(v.T); k == colBad {
			return nil, nil // a free variable of no class (read only by a hoisted value)
		}
	}
	for i := len(before) - 1; i >= 0; i-- {
		l := before[i]
		nb = &ir.Let{Var: l.Var, Value: l.Value, Body: nb, P: l.P}
	}
	nd := *d
	nd.Body = nb
	return &nd, cols
}

// f64Leaves reports whether every leaf of t holds f64s: the blocks'
// copies are of float64 slices.
func f64Leaves(t ir.Type) bool {
	for _, l := range mustLeaves(t) {
		if l.kind != ir.F64 {
			return false
		}
	}
	return true
}

// colBlock is the number of columns a block holds (Options.ColumnBlock
// overrides it): BA's Jacobian keeps about 100 vectors of a block live,
// 400 KB at 512 columns, which a core's L2 holds.
const colBlock = 256

// emitColumnsWrapper writes the function through which calls of di, a
// def outlineColumns made, go: NAME_cols, of the same signature, which
// runs di's function on blocks of columns (see the file comment).
func (g *gen) emitColumnsWrapper(di *defInfo) {
	if g.emitScalarColumns(di) {
		return // one loop of scalar code instead of blocks (scalarcols.go)
	}
	block := colBlock
	if g.opts.ColumnBlock > 0 {
		block = g.opts.ColumnBlock
	}
	var sig, all, blockArgs, pre, copyIn []string
	var colsOf string
	k := 0
	fresh := func(s string) string { k++; return fmt.Sprintf("%s_%d", s, k) }
	sym := lastSym(di.result)
	for _, t := range di.params {
		for _, l := range mustLeaves(t) {
			if l.rank == 0 {
				a := fresh("s")
				sig = append(sig, a+" "+scalarGo(l.kind))
				all = append(all, a)
				blockArgs = append(blockArgs, a)
				continue
			}
			data := fresh("x")
			sig = append(sig, data+" "+elemSlice(l.kind))
			all = append(all, data)
			var dims []string
			for range l.rank {
				dm := fresh("d")
				sig = append(sig, dm+" int")
				all = append(all, dm)
				dims = append(dims, dm)
			}
			if !colShape(t, sym) {
				panic(genError{fmt.Errorf("column blocking: a parameter of %s is not columnwise", di.def.Name)})
			}
			if colsOf == "" {
				colsOf = dims[l.rank-1]
			}
			rows := "1"
			if l.rank > 1 {
				rows = strings.Join(dims[:l.rank-1], "*")
			}
			buf := fresh("b")
			pre = append(pre, fmt.Sprintf("%s := ar.F64w((%s) * %d)", buf, rows, block))
			copyIn = append(copyIn, fmt.Sprintf("runtime.GetCols(%s[:(%s)*w], %s, %s, n, lo, hi)", buf, rows, data, rows))
			blockArgs = append(blockArgs, buf+"[:("+rows+")*w]")
			blockArgs = append(blockArgs, dims[:l.rank-1]...)
			blockArgs = append(blockArgs, "w")
		}
	}
	// Results: each leaf a rows×n array, cut before the blocks.
	var outs, rets, res, copyOut []string
	for _, l := range mustLeaves(di.result) {
		dims := leafDims(di.result)[len(outs)]
		rows := int64(1)
		for _, dm := range dims[:len(dims)-1] {
			rows *= dm.N
		}
		o := fresh("o")
		outs = append(outs, o)
		pre = append(pre, fmt.Sprintf("%s := ar.F64w(%d * n)", o, rows))
		r := fresh("r")
		res = append(res, r)
		rets = append(rets, o)
		for _, dm := range dims[:len(dims)-1] {
			rets = append(rets, fmt.Sprint(dm.N))
			res = append(res, "_")
		}
		rets = append(rets, "n")
		res = append(res, "_")
		copyOut = append(copyOut, fmt.Sprintf("runtime.PutCols(%s, %s, %d, n, lo, hi)", o, r, rows))
		_ = l
	}
	whole := fmt.Sprintf("%s(ar, %s)", di.goName, strings.Join(all, ", "))
	rt := strings.Join(partTypes(di.result), ", ")
	if di.fails {
		rt += ", error"
		res = append(res, "err")
		rets = append(rets, "nil")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s_cols is %s on blocks of %d columns (column blocking, codegen/columns.go).\n", di.goName, di.goName, block)
	fmt.Fprintf(&b, "func %s_cols(ar *runtime.Arena, %s) (%s) {\n", di.goName, strings.Join(sig, ", "), rt)
	fmt.Fprintf(&b, "n := %s\n", colsOf)
	// The largest array of the whole call, checked as it would be: if it
	// is too large, the whole call fails as the general code does.
	fmt.Fprintf(&b, "if n < %d {\nreturn %s\n}\n", 2*block, whole)
	fmt.Fprintf(&b, "if _, err := runtime.MulSize(%d, n); err != nil {\nreturn %s\n}\n", g.colMaxRows(di.def, map[*ir.Def]bool{}), whole)
	if di.fails {
		b.WriteString("mark := ar.Mark()\n")
	}

	for _, l := range pre {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "for lo := 0; lo < n; lo += %d {\nhi := min(lo+%d, n)\nw := hi - lo\n", block, block)
	for _, l := range copyIn {
		b.WriteString(l + "\n")
	}
	b.WriteString("inner := ar.Mark()\n")
	fmt.Fprintf(&b, "%s := %s(ar, %s)\n", strings.Join(res, ", "), di.goName, strings.Join(blockArgs, ", "))
	if di.fails {
		fmt.Fprintf(&b, "if err != nil {\n// A failure: the whole call fails as the general code does.\nar.Release(mark)\nreturn %s\n}\n", whole)
	}
	for _, l := range copyOut {
		b.WriteString(l + "\n")
	}
	b.WriteString("ar.Release(inner)\n}\n")
	fmt.Fprintf(&b, "return %s\n}\n\n", strings.Join(rets, ", "))
	g.body.WriteString(b.String())
}

// colMaxRows is the most rows (product of the leading dimensions) of any
// columnwise array typed in d or the defs it calls: the whole call's
// largest array is colMaxRows × p elements.
func (g *gen) colMaxRows(d *ir.Def, seen map[*ir.Def]bool) int64 {
	best := int64(1)
	seen[d] = true
	sym := lastSym(d.Result)
	see := func(t ir.Type) {
		if !colShape(t, sym) {
			return
		}
		ls := mustLeaves(t)
		for i := range ls {
			rows := int64(1)
			dims := leafDims(t)[i]
			for _, dm := range dims[:len(dims)-1] {
				rows *= dm.N
			}
			best = max(best, rows)
		}
	}
	ir.Walk(d.Body, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		see(x.Type())
		if c, ok := x.(*ir.Call); ok {
			if gl, ok := c.Fn.(*ir.Global); ok && g.defs[gl.Name] != nil && !seen[g.defs[gl.Name].def] {
				best = max(best, g.colMaxRows(g.defs[gl.Name].def, seen))
			}
		}
	}, nil)
	return best
}
