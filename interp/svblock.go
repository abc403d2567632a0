package interp

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Small-vector blocks. The passes AD makes for vector code (an LSTM's
// gates) are long chains of lets on short f64 vectors: elementwise
// chains, rows, and adds of them into accumulators, rows of accumulators
// or parts of rows (acc_add_at(g, i, pad_like(v, lo, like))). Compiled
// one let at a time, on vectors of a dozen elements the arithmetic is the
// smaller part of each: the fused tree's context, its leaves' closures
// and shape checks, the result vector and the closure calls around it
// cost 100–300 ns per operation.
//
// The class. A run of consecutive lets with at least svMinRun of these,
// single-element adds not counted (svVecWork), (in a flat loop body,
// revChain; anywhere else, svLet):
//
//	let x = T                      -- T an elementwise f64 tree of rank 1
//	let x = m[i]                   -- a row of a matrix
//	let a = acc_add(A, V)          -- A a vector variable
//	let a = acc_add_at(M, i, V)    -- M a matrix variable
//	let a = acc_zero_at(M, i)
//	let x = acc_add(zeros(n), V)
//	   with V a tree T, a vector leaf, or pad_like(T or leaf, lo, like)
//	let m = t[i]                   -- a matrix, a row of a rank-3 variable
//	let a = acc_add_at(T3, i, outer(u, v))  -- T3 rank 3, u, v vector variables
//	let a = acc_add_at(A, i, s)    -- s a scalar, as below
//
// and between them lets of scalars built of variables and constants by
// +, - and * (and / for f64), and of fields t.k of tuple variables, whose
// own code runs first. The trees' leaves are f64 variables and constants
// (and such scalars), vector variables, rows m[i] and slices v[lo:hi] of
// variables (or of a row let of the run: r = w[i] then r[lo:hi]), every
// index built of integer variables and constants; M
// and m are matrix variables bound before the run or accumulators of it
// (a row of one sees the run's updates, as the row's view would), like a
// vector variable bound before the run. A tree may also hold products
// M @ v and v @ M of a matrix variable and a vector variable: the block
// runs them with the kernels the compiled product calls (runtime.MatVec,
// VecMat), so their sums are the same, and the outer adds with
// runtime.OuterAddTo, as compileAccAddOuter does. Nothing in the class
// can fail but by a size or an index; vectors are at most vbMax long,
// products and outer products at most smallMatWork elements.
//
// At entry the block reads every leaf and index once and checks every
// size, bound, row shape and the step limit; the lets' values then live
// in buffers, each tree runs as a list of operations (vbIns) that round
// as the fused trees' kernels do (so the bits are the same), each add
// goes straight into the accumulator's storage, and the steps of all
// lets are charged at once (the same number the lets charge: one per
// element and operation, one per element added, cleared or made). A
// variable the rest of the body reads gets the array the let would have
// made; a new one (a buffer's) goes into the array of an accumulator the
// run added into in place and nothing reads after it, when there is one
// of its length (donors). pad_like's like may be any vector variable,
// the run's too: only its length counts. When anything disagrees (a
// size, an index out of range, the steps left), the block runs the lets'
// own compiled code instead, which fails as and where they fail: reading
// the leaves changed nothing.

// A ref names a vector of one run of a block: an outside read (a
// variable's array, a row, a slice) or a buffer of the block's context.

// vbNode is a node of a block's tree: a leaf (a vector ref or a scalar)
// or an operation whose value goes to buffer ref.
type vbNode struct {
	op     *ir.Prim
	kids   []*vbNode
	ref    int // vector leaf: its ref; operation: its buffer's ref
	sc     int // scalar leaf: index into vbRun.sc, else -1
	scalar bool
	mm     uint8 // a product M @ v (insMatVec) or v @ M (insVecMat), else 0
}

// vbExt is an outside vector read at entry into ref: a variable's array
// (rank 1 or 2), a row of it (row, i) or a slice of it (i, hi).
type vbExt struct {
	ref   int
	base  int // a row's matrix's ref (g is nil), or -1
	g     evalFn
	slot  int // a local variable's slot, read in place of g; else -1
	i, hi vbInt
	row   bool
	mat   bool // a row that is a matrix (of a rank-3 array)
	slice bool
}

// vbStep is one let of the block: a tree computed into buffer out; an
// add of val into the elements of accumulator acc (its row idx when at,
// the part [lo, lo+n) of that when pad, like giving the padded length)
// that entry resolves into ref out; a row of acc cleared (zero); or val
// added to zeros into buffer out (fresh).
type vbStep struct {
	// The value: its tree, flattened into ins (its operations in
	// evaluation order), with its vector leaves' refs (all of one length)
	// and its operations' buffers; nodes counts the operations, each
	// charged a step per element.
	ins     []vbIns
	leaves  []int
	bufs    []int
	nodes   int
	val     *vbNode
	out     int
	add, at bool
	// zero: acc_zero_at(acc, idx), out its row; fresh: acc_add(zeros(idx),
	// val) into buffer out.
	zero, fresh bool
	acc         int
	idx         vbInt
	pad         bool
	lo          vbInt
	like        int
	// outer: acc_add_at(acc, idx, outer(u, v)) into row idx of a rank-3
	// accumulator, out its row; scal: acc_add_at(acc, idx, s) of the
	// scalar s (val) into a vector.
	outer, scal bool
	u, v        int
}

// vbOut is a variable the rest of the body reads: slot s gets the value
// of ref, an array the block makes from a buffer or an outside one.
type vbOut struct {
	s   int
	ref int
	row int // a row let's ext, whose view it makes; else -1
	// donor, for a buffer: the ref of an outside vector the run added
	// into and nothing reads after it (vbBuilder.donors), whose array
	// takes the buffer's elements when the lengths agree; else -1.
	// donorSlot is the slot of its variable, cleared then.
	donor, donorSlot int
}

// svBlock is a compiled run of lets.
type svBlock struct {
	exts    []vbExt
	scs     []vbFloat
	nref    int
	steps   []vbStep
	outs    []vbOut
	zero    []int // slots of the lets' variables the rest does not read
	tape    int
	pos     ir.Pos
	general []flatOp // the lets' own compiled code
	// rowSlice: the block reads slices of rows it reads (svRowSlices).
	rowSlice bool
	pre      []int // the scalar and field lets, by index in general
	spare    atomic.Pointer[vbCtx]
	pool     sync.Pool
}

// vbCtx is a block's buffers' storage, by ref, taken for one run.
type vbCtx struct {
	store [][]float64
}

// vbRefs and vbScalars bound the refs and scalars of a block: a run's
// state (vbRun) is an array on the Go stack, where storing a slice or a
// pointer costs no write barrier and nothing needs clearing afterwards.
// The LSTM's reverse layer body, one run from its rows to its last pad,
// has 67 refs; a larger bound would grow the state every run zeroes.
const (
	vbRefs    = 72
	vbScalars = 16
)

// vbRun is the state of one run of a block: each ref's elements, the
// outside arrays and the scalars.
type vbRun struct {
	vec  [vbRefs][]float64
	cols [vbRefs]int // a matrix's columns (an outside one or a row of a rank-3 one)
	arrs [vbRefs]*runtime.Array
	sc   [vbScalars]float64
	ctx  *vbCtx
}

// vbBuilder compiles a run of lets into a block.
type vbBuilder struct {
	c    *fnComp
	b    *svBlock
	refs map[*ir.Var]int  // variables with a ref: outside ones and the run's
	in   map[*ir.Var]bool // the run's variables
}

func (bd *vbBuilder) newRef() int {
	r := bd.b.nref
	bd.b.nref++
	return r
}

// newBuf is the ref of a new buffer (prepare sizes every buffer a step
// writes: its bufs).
func (bd *vbBuilder) newBuf() int { return bd.newRef() }

// svBlockLet reports whether let l is in the block's class, given the
// variables bound by the run before it (in) and those of them that are
// rows (rows: their slices are the block's leaves too).
func svBlockLet(l *ir.Let, in, rows map[*ir.Var]bool) bool {
	if l.Var != nil && svPreLet(l, in) {
		return true
	}
	if l.Var == nil || !isF64Rank(l.Var.T, 1, 3) {
		return false
	}
	pc, ok := l.Value.(*ir.PrimCall)
	if !ok {
		return false
	}
	if isMatRow(pc, in) || isOuterAdd(pc, in) || isScalarAddAt(pc, in) {
		return true
	}
	if !isF64Rank(l.Var.T, 1, 2) {
		return false
	}
	if isRow(pc) {
		// A row of a matrix: the let names the elements the block reads.
		return isF64Rank(pc.T, 1, 1) && vecExpr(pc, in, rows)
	}
	switch pc.Op {
	case ir.PrimAccZeroAt:
		a, ok := pc.Args[0].(*ir.Var)
		return len(pc.Args) == 2 && ok && isF64Rank(a.T, 2, 2) && pureInt(pc.Args[1], in)
	case ir.PrimAccAdd, ir.PrimAccAddAt:
		at := pc.Op == ir.PrimAccAddAt
		if len(pc.Args) != 2+btoi(at) {
			return false
		}
		a, ok := pc.Args[0].(*ir.Var)
		if z := zerosOf(pc.Args[0]); z != nil {
			ok, a = true, nil
		}
		if !ok || a != nil && !isF64Rank(a.T, 1+btoi(at), 1+btoi(at)) {
			return false
		}
		if at && !pureInt(pc.Args[1], in) {
			return false
		}
		v := pc.Args[len(pc.Args)-1]
		if z := zerosOf(pc.Args[0]); z != nil && !at {
			// acc_add(zeros(n), v): a new vector.
			return pureInt(z.Args[0], in) && isF64Rank(v.Type(), 1, 1) && vecExpr(v, in, rows)
		}
		if pad, ok := v.(*ir.PrimCall); ok && pad.Op == ir.PrimPadLike {
			if len(pad.Args) != 3 || !isF64Rank(pad.T, 1, 1) {
				return false
			}
			// like (only its length counts) may be the run's: a row let's
			// or a buffer's length is known when the add is checked.
			like, ok := pad.Args[2].(*ir.Var)
			if !ok || noSVRowSlice && in[like] || !pureInt(pad.Args[1], in) {
				return false
			}
			v = pad.Args[0]
		}
		return isF64Rank(v.Type(), 1, 1) && vecExpr(v, in, rows)
	}
	_, ok = fusibleOp(pc)
	return ok && ir.Rank(pc.T) == 1 && vecExpr(pc, in, rows)
}

// isMatRow reports whether e is a row m[i] of a rank-3 f64 variable: a
// matrix, an operand of the block's products.
func isMatRow(e *ir.PrimCall, in map[*ir.Var]bool) bool {
	if !isRow(e) || !isF64Rank(e.T, 2, 2) {
		return false
	}
	m, ok := e.Args[0].(*ir.Var)
	return ok && isF64Rank(m.T, 3, 3) && pureInt(e.Args[1], in)
}

// isOuterAdd reports whether e is acc_add_at(M, i, outer(u, v)) with M a
// rank-3 f64 variable and u, v vector variables: a rank-one update of a
// row of M.
func isOuterAdd(e *ir.PrimCall, in map[*ir.Var]bool) bool {
	if e.Op != ir.PrimAccAddAt || len(e.Args) != 3 || !pureInt(e.Args[1], in) {
		return false
	}
	m, ok := e.Args[0].(*ir.Var)
	o, isCall := e.Args[2].(*ir.PrimCall)
	if !ok || !isCall || !isF64Rank(m.T, 3, 3) || o.Op != ir.PrimOuter || len(o.Args) != 2 {
		return false
	}
	for _, a := range o.Args {
		if v, ok := a.(*ir.Var); !ok || !isF64Rank(v.T, 1, 1) {
			return false
		}
	}
	return true
}

// isScalarAddAt reports whether e is acc_add_at(a, i, s) with a an f64
// vector variable and s a scalar leaf: one element's add.
func isScalarAddAt(e *ir.PrimCall, in map[*ir.Var]bool) bool {
	if e.Op != ir.PrimAccAddAt || len(e.Args) != 3 || !pureInt(e.Args[1], in) || !pureF(e.Args[2], in) {
		return false
	}
	a, ok := e.Args[0].(*ir.Var)
	return ok && isF64Rank(a.T, 1, 1)
}

// isMatVec reports whether e is M @ v or v @ M with M a matrix variable
// and v a vector variable, both f64: the block runs the product with the
// primitive's kernel.
func isMatVec(e *ir.PrimCall) bool {
	if e.Op != ir.PrimMatmul || len(e.Args) != 2 || !isF64Rank(e.T, 1, 1) {
		return false
	}
	a, ok1 := e.Args[0].(*ir.Var)
	b, ok2 := e.Args[1].(*ir.Var)
	if !ok1 || !ok2 {
		return false
	}
	ra, rb := ir.Rank(a.T), ir.Rank(b.T)
	return isF64Rank(a.T, 1, 2) && isF64Rank(b.T, 1, 2) && (ra == 2 && rb == 1 || ra == 1 && rb == 2)
}

// zerosOf returns e when it is zeros(n) of f64, else nil.
func zerosOf(e ir.Expr) *ir.PrimCall {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimZeros || len(pc.Args) != 1 || !isF64Rank(pc.T, 1, 1) {
		return nil
	}
	return pc
}

// svPreLet reports whether let l binds a scalar built of variables and
// constants (svScalarLet) or a field t.k of a tuple variable: values
// read, not computed, whose own code the block runs first.
func svPreLet(l *ir.Let, in map[*ir.Var]bool) bool {
	if p, ok := l.Value.(*ir.Proj); ok {
		_, isVar := p.X.(*ir.Var)
		return isVar && isF64Rank(l.Var.T, 1, 2)
	}
	return svScalarLet(l, in)
}

// svScalarLet reports whether let l binds an i64 or f64 built of
// variables and constants (pureInt, pureF): the block runs its own code
// first, so that the indices and scalars read at entry may use it.
func svScalarLet(l *ir.Let, in map[*ir.Var]bool) bool {
	return pureInt(l.Value, in) || pureF(l.Value, in)
}

// isF64Rank reports whether t is an f64 array of rank lo..hi.
func isF64Rank(t ir.Type, lo, hi int) bool {
	k, ok := ir.Leaf(t)
	r := ir.Rank(t)
	return ok && k == ir.F64 && r >= lo && r <= hi
}

// vecExpr reports whether e is a scalar leaf, or of rank 1 an elementwise
// tree over the block's leaves.
func vecExpr(e ir.Expr, in, rows map[*ir.Var]bool) bool {
	if isScalar(e.Type()) {
		return pureF(e, in)
	}
	if !isF64Rank(e.Type(), 1, 1) {
		return false
	}
	switch x := e.(type) {
	case *ir.Var:
		return true
	case *ir.PrimCall:
		if isMatVec(x) {
			return true
		}
		if _, ok := fusibleOp(x); ok {
			for _, a := range x.Args {
				if !vecExpr(a, in, rows) {
					return false
				}
			}
			return true
		}
		if isRow(x) {
			// A row of an outside matrix, or of an accumulator the run
			// updated (the view sees the updates, as the row's view does).
			m, ok := x.Args[0].(*ir.Var)
			return ok && isF64Rank(m.T, 2, 2) && pureInt(x.Args[1], in)
		}
		if x.Op == ir.PrimSlice && len(x.Args) == 3 {
			// A slice of an outside vector or of a row the run read.
			v, ok := x.Args[0].(*ir.Var)
			return ok && (!in[v] || rows[v] && !noSVRowSlice) && isF64Rank(v.T, 1, 1) && pureInt(x.Args[1], in) && pureInt(x.Args[2], in)
		}
	}
	return false
}

// pureInt reports whether e is an i64 built of variables and constants by
// +, - and *: it evaluates without steps or failures.
func pureInt(e ir.Expr, in map[*ir.Var]bool) bool {
	return pureArith(e, in, ir.TI64, ir.PrimAdd, ir.PrimSub, ir.PrimMul)
}

// pureF reports whether e is an f64 built of variables and constants by
// +, -, * and / and negation: it evaluates without steps or failures.
func pureF(e ir.Expr, in map[*ir.Var]bool) bool {
	return pureArith(e, in, ir.TF64, ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimDiv, ir.PrimNeg)
}

// pureArith reports whether e, of type t, is built of constants,
// variables not in in, and the operators ops.
func pureArith(e ir.Expr, in map[*ir.Var]bool, t ir.Type, ops ...*ir.Prim) bool {
	if !ir.Identical(e.Type(), t) {
		return false
	}
	switch x := e.(type) {
	case *ir.Const:
		return true
	case *ir.Var:
		return !in[x]
	case *ir.PrimCall:
		if !slices.Contains(ops, x.Op) || len(x.Args) == 0 {
			return false
		}
		for _, a := range x.Args {
			if !pureArith(a, in, t, ops...) {
				return false
			}
		}
		return true
	}
	return false
}

// compileSVBlock compiles a run of lets in the class, already compiled
// one by one into general (which bound their variables to slots), with
// rest the body after the run.
func (c *fnComp) compileSVBlock(run []*ir.Let, rest ir.Expr, general []flatOp, opOf []int) (*svBlock, error) {
	bd := &vbBuilder{c: c, b: &svBlock{tape: c.tape, pos: run[0].P, general: general},
		refs: map[*ir.Var]int{}, in: map[*ir.Var]bool{}}
	if plainOps {
		bd.b.tape = 0
	}
	for k, l := range run {
		if svPreLet(l, bd.in) {
			if opOf[k] >= 0 {
				bd.b.pre = append(bd.b.pre, opOf[k])
			}
			continue
		}
		if opOf[k] < 0 {
			return nil, nil // not a let the block computes: no block
		}
		pc := l.Value.(*ir.PrimCall)
		if isRow(pc) {
			n, err := bd.tree(pc, -1)
			if err != nil {
				return nil, err
			}
			bd.refs[l.Var] = n.ref
			bd.in[l.Var] = true
			continue
		}
		var st vbStep
		switch z := zerosOf(pc.Args[0]); {
		case isOuterAdd(pc, bd.in):
			var err error
			st.outer = true
			o := pc.Args[2].(*ir.PrimCall)
			if st.acc, err = bd.varRef(pc.Args[0].(*ir.Var)); err != nil {
				return nil, err
			}
			if st.idx, err = bd.intOf(pc.Args[1]); err != nil {
				return nil, err
			}
			if st.u, err = bd.varRef(o.Args[0].(*ir.Var)); err != nil {
				return nil, err
			}
			if st.v, err = bd.varRef(o.Args[1].(*ir.Var)); err != nil {
				return nil, err
			}
			st.out = bd.newRef()
			bd.refs[l.Var] = st.acc
			bd.in[l.Var] = true
			bd.b.steps = append(bd.b.steps, st)
			continue
		case isScalarAddAt(pc, bd.in):
			var err error
			st.scal = true
			if st.acc, err = bd.varRef(pc.Args[0].(*ir.Var)); err != nil {
				return nil, err
			}
			if bd.isView(st.acc) {
				return nil, nil // an add into a view: the lets run alone
			}
			if st.idx, err = bd.intOf(pc.Args[1]); err != nil {
				return nil, err
			}
			if st.val, err = bd.tree(pc.Args[2], -1); err != nil {
				return nil, err
			}
			st.out = bd.newRef()
			bd.refs[l.Var] = st.acc
			bd.in[l.Var] = true
			bd.b.steps = append(bd.b.steps, st)
			continue
		case pc.Op == ir.PrimAccZeroAt:
			var err error
			st.zero = true
			if st.acc, err = bd.varRef(pc.Args[0].(*ir.Var)); err != nil {
				return nil, err
			}
			if st.idx, err = bd.intOf(pc.Args[1]); err != nil {
				return nil, err
			}
			st.out = bd.newRef()
			bd.refs[l.Var] = st.acc
			bd.in[l.Var] = true
			bd.b.steps = append(bd.b.steps, st)
			continue
		case pc.Op == ir.PrimAccAdd && z != nil:
			var err error
			st.fresh = true
			if st.idx, err = bd.intOf(z.Args[0]); err != nil {
				return nil, err
			}
			if st.val, err = bd.tree(pc.Args[1], -1); err != nil {
				return nil, err
			}
			st.out = bd.newBuf()
			st.bufs = append(st.bufs, st.out)
			bd.refs[l.Var] = st.out
		case pc.Op == ir.PrimAccAdd || pc.Op == ir.PrimAccAddAt:
			st.add = true
			st.at = pc.Op == ir.PrimAccAddAt
			var err error
			if st.acc, err = bd.varRef(pc.Args[0].(*ir.Var)); err != nil {
				return nil, err
			}
			if st.at {
				if st.idx, err = bd.intOf(pc.Args[1]); err != nil {
					return nil, err
				}
			}
			v := pc.Args[len(pc.Args)-1]
			if pad, ok := v.(*ir.PrimCall); ok && pad.Op == ir.PrimPadLike {
				st.pad = true
				if st.like, err = bd.varRef(pad.Args[2].(*ir.Var)); err != nil {
					return nil, err
				}
				if st.lo, err = bd.intOf(pad.Args[1]); err != nil {
					return nil, err
				}
				v = pad.Args[0]
			}
			if st.val, err = bd.tree(v, -1); err != nil {
				return nil, err
			}
			if !st.at && bd.isView(st.acc) {
				return nil, nil // an add into a view: the lets run alone
			}
			st.out = bd.newRef()    // the target's elements, resolved at entry
			bd.refs[l.Var] = st.acc // the let's value is the accumulator
		default:
			out := bd.newBuf()
			val, err := bd.tree(pc, out)
			if err != nil {
				return nil, err
			}
			st.val, st.out = val, out
			bd.refs[l.Var] = out
		}
		bd.in[l.Var] = true
		bd.flatten(&st, st.val)
		bd.b.steps = append(bd.b.steps, st)
	}
	// What the rest of the body reads.
	for _, l := range run {
		s, ok := c.locals[l.Var]
		if !ok {
			return nil, ir.Errorf(l.P, "internal error: a block's variable has no slot")
		}
		if svPreLet(l, bd.in) {
			continue // stored by its own code
		}
		if pc := l.Value.(*ir.PrimCall); pc.Op == ir.PrimAccAdd || pc.Op == ir.PrimAccAddAt {
			if t, ok := c.locals[varOf(pc.Args[0])]; ok && t == s {
				continue // a state field, updated in its own slot
			}
		}
		if varUses(rest, l.Var) == 0 {
			bd.b.zero = append(bd.b.zero, s)
			continue
		}
		o := vbOut{s: s, ref: bd.refs[l.Var], row: -1, donor: -1}
		if isRow(l.Value) {
			for j, e := range bd.b.exts {
				if e.ref == o.ref {
					o.row = j
				}
			}
		}
		bd.b.outs = append(bd.b.outs, o)
	}
	if !noSVDonor {
		bd.donors(run, rest)
	}
	nref := bd.b.nref
	if nref > vbRefs || len(bd.b.scs) > vbScalars {
		return nil, nil // too big for a run's state: the lets run alone
	}
	bd.b.pool.New = func() any { return &vbCtx{store: make([][]float64, nref)} }
	svBlocks.Add(1)
	return bd.b, nil
}

// donors gives the outs that are buffers an array to write into instead
// of a new one: a vector the run added into in place (a = acc_add(A, V),
// A = t.k a field of a tuple variable, as a reverse loop's state hands
// its cotangents on), when the rest of the body reads none of a, A and t.
// The add has already made A's old elements unreadable (the accumulator
// is the program's in-place variable), so after the run the array holds
// only what the out puts there: in an LSTM's reverse layer loop, the new
// hidden cotangent goes into the old one's array instead of a new vector
// per step.
func (bd *vbBuilder) donors(run []*ir.Let, rest ir.Expr) {
	c := bd.c
	field := map[*ir.Var]*ir.Var{} // A -> t for the run's lets A = t.k
	for _, l := range run {
		if p, ok := l.Value.(*ir.Proj); ok {
			if t := varOf(p.X); t != nil && isF64Rank(l.Var.T, 1, 1) {
				field[l.Var] = t
			}
		}
	}
	used := map[int]bool{}
	for _, o := range bd.b.outs {
		used[o.ref] = true // an out's own array is nobody's donor
	}
	for _, l := range run {
		pc, ok := l.Value.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimAccAdd || len(pc.Args) != 2 {
			continue
		}
		a := varOf(pc.Args[0])
		t, ok := field[a]
		if !ok || varUses(rest, l.Var) != 0 || varUses(rest, a) != 0 || varUses(rest, t) != 0 {
			continue
		}
		if _, inSlots := c.fields[t]; inSlots {
			// A loop's result kept in slots: its fresh fields are
			// recycled after the let's body (releaseFields), which the
			// out may outlive.
			continue
		}
		r, ok := bd.refs[a]
		if !ok || used[r] || bd.isView(r) {
			continue
		}
		s, ok := c.locals[a]
		if !ok {
			continue
		}
		for k := range bd.b.outs {
			o := &bd.b.outs[k]
			if o.row >= 0 || o.donor >= 0 || o.s == s || bd.isExt(o.ref) {
				continue
			}
			o.donor, o.donorSlot = r, s
			used[r] = true
			break
		}
	}
}

// isRowExt reports whether ref r is a row read at entry.
func (bd *vbBuilder) isRowExt(r int) bool {
	for _, e := range bd.b.exts {
		if e.ref == r {
			return e.row
		}
	}
	return false
}

// isExt reports whether ref r is read at entry (not a buffer).
func (bd *vbBuilder) isExt(r int) bool {
	for _, e := range bd.b.exts {
		if e.ref == r {
			return true
		}
	}
	return false
}

// isView reports whether ref r is a row or a slice read at entry.
func (bd *vbBuilder) isView(r int) bool {
	for _, e := range bd.b.exts {
		if e.ref == r {
			return e.base >= 0 || e.slice
		}
	}
	return false
}

// varRef is the ref of vector variable v: the run's own, or an outside
// variable read at entry.
func (bd *vbBuilder) varRef(v *ir.Var) (int, error) {
	if r, ok := bd.refs[v]; ok {
		return r, nil
	}
	g, err := bd.c.compile(v)
	if err != nil {
		return 0, err
	}
	r := bd.newRef()
	bd.refs[v] = r
	bd.b.exts = append(bd.b.exts, vbExt{ref: r, g: g, base: -1, slot: bd.slotOf(v)})
	return r, nil
}

// vbInt and vbFloat are a block's indices and scalars, read at every
// run: a local variable's slot (s >= 0) or a constant (s vbConst) is read
// in place, which saves a closure call each; anything else runs its typed
// code. The slot holds what the typed code would read (typedI, typedF).
type (
	vbInt struct {
		s int
		k int64
		f icode
	}
	vbFloat struct {
		s int
		k float64
		f fcode
	}
)

const vbConst = -2

func (v *vbInt) at(fr *frame) int64 {
	switch {
	case v.s >= 0:
		return fr.slots[v.s].I
	case v.s == vbConst:
		return v.k
	}
	return v.f(fr)
}

func (v *vbFloat) at(fr *frame) float64 {
	switch {
	case v.s >= 0:
		return fr.slots[v.s].F
	case v.s == vbConst:
		return v.k
	}
	return v.f(fr)
}

// slotOf is the slot of local variable v, or -1 (a captured variable, in
// the closure's environment).
func (bd *vbBuilder) slotOf(v *ir.Var) int {
	if l, ok := bd.c.resolve(v); ok && !l.env {
		return l.idx
	}
	return -1
}

// intOf compiles an index of a block.
func (bd *vbBuilder) intOf(e ir.Expr) (vbInt, error) {
	f, err := bd.c.typedI(e)
	x := vbInt{s: -1, f: f}
	switch e := e.(type) {
	case *ir.Var:
		x.s = bd.slotOf(e)
	case *ir.Const:
		if k, ok := e.Val.(int64); ok {
			x.s, x.k = vbConst, k
		}
	}
	return x, err
}

// floatOf compiles a scalar of a block.
func (bd *vbBuilder) floatOf(e ir.Expr) (vbFloat, error) {
	f, err := bd.c.typedF(e)
	x := vbFloat{s: -1, f: f}
	switch e := e.(type) {
	case *ir.Var:
		x.s = bd.slotOf(e)
	case *ir.Const:
		if k, ok := e.Val.(float64); ok {
			x.s, x.k = vbConst, k
		}
	}
	return x, err
}

// tree builds the node for e, whose root writes to buffer out (-1: a
// buffer of its own).
func (bd *vbBuilder) tree(e ir.Expr, out int) (*vbNode, error) {
	c := bd.c
	if isScalar(e.Type()) {
		f, err := bd.floatOf(e)
		if err != nil {
			return nil, err
		}
		bd.b.scs = append(bd.b.scs, f)
		return &vbNode{sc: len(bd.b.scs) - 1, scalar: true}, nil
	}
	switch x := e.(type) {
	case *ir.Var:
		r, err := bd.varRef(x)
		return &vbNode{ref: r, sc: -1}, err
	case *ir.PrimCall:
		if isRow(x) {
			// A row of a matrix: an outside one's, or an accumulator's of
			// the run, by its ref.
			base, err := bd.varRef(x.Args[0].(*ir.Var))
			if err != nil {
				return nil, err
			}
			ext := vbExt{ref: bd.newRef(), base: base, slot: -1, row: true, mat: ir.Rank(x.T) == 2}
			if ext.i, err = bd.intOf(x.Args[1]); err != nil {
				return nil, err
			}
			bd.b.exts = append(bd.b.exts, ext)
			return &vbNode{ref: ext.ref, sc: -1}, nil
		}
		if v := varOf(x.Args[0]); x.Op == ir.PrimSlice && v != nil && bd.in[v] {
			// A slice of a row let of the run: of the row's elements.
			base, ok := bd.refs[v]
			if !ok || !bd.isRowExt(base) {
				return nil, ir.Errorf(x.P, "internal error: a block's slice of %s, not a row", v.Name)
			}
			ext := vbExt{ref: bd.newRef(), base: base, slot: -1, slice: true}
			bd.b.rowSlice = true
			var err error
			if ext.i, err = bd.intOf(x.Args[1]); err != nil {
				return nil, err
			}
			if ext.hi, err = bd.intOf(x.Args[2]); err != nil {
				return nil, err
			}
			bd.b.exts = append(bd.b.exts, ext)
			return &vbNode{ref: ext.ref, sc: -1}, nil
		}
		if x.Op == ir.PrimSlice {
			g, err := c.compile(x.Args[0])
			if err != nil {
				return nil, err
			}
			ext := vbExt{ref: bd.newRef(), g: g, base: -1, slot: -1, slice: true}
			if v := varOf(x.Args[0]); v != nil {
				ext.slot = bd.slotOf(v)
			}
			if ext.i, err = bd.intOf(x.Args[1]); err != nil {
				return nil, err
			}
			if ext.slice {
				if ext.hi, err = bd.intOf(x.Args[2]); err != nil {
					return nil, err
				}
			}
			bd.b.exts = append(bd.b.exts, ext)
			return &vbNode{ref: ext.ref, sc: -1}, nil
		}
		n := &vbNode{op: x.Op, sc: -1}
		if isMatVec(x) {
			n.mm = insVecMat
			if ir.Rank(x.Args[0].Type()) == 2 {
				n.mm = insMatVec
			}
		}
		for _, a := range x.Args {
			k, err := bd.tree(a, -1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		if out >= 0 {
			n.ref = out
		} else {
			n.ref = bd.newBuf()
		}
		return n, nil
	}
	return nil, ir.Errorf(e.Pos(), "internal error: %T in a vector block", e)
}

// vbMax bounds the vectors a block runs: longer ones go through the lets'
// own code, whose fused trees work in pieces.
const vbMax = runtime.SumPiece

// run runs the block once: the lets' own code when prepare finds anything
// amiss.
func (b *svBlock) run(fr *frame) error {
	if noSVBlock {
		return runFlat(fr, b.general)
	}
	var x vbRun
	x.ctx = b.get()
	defer b.put(x.ctx)
	steps, ok := b.prepare(fr, &x)
	if ok && fr.m != nil && fr.m.Limits.Steps > 0 && fr.m.Steps()+steps > fr.m.Limits.Steps {
		ok = false // the lets report the limit where it is reached
	}
	if !ok {
		return runFlat(fr, b.general)
	}
	svRan.Add(1)
	if b.rowSlice {
		svRowSlices.Add(1)
	}
	if err := fr.m.Step(steps); err != nil {
		return errAt(b.pos, err) // cancelled
	}
	b.exec(&x)
	return b.finish(fr, &x)
}

// runFlat runs flat ops in order, as revChain's body does.
func runFlat(fr *frame, ops []flatOp) error {
	for n := range ops {
		op := &ops[n]
		if op.store != nil {
			if op.store(fr); fr.err != nil {
				return fr.takeErr()
			}
			continue
		}
		if err := op.run(fr); err != nil {
			return err
		}
	}
	return nil
}

// prepare reads the outside vectors and scalars, sizes the buffers and
// resolves the adds' targets, checking everything the lets check; ok is
// false if a check fails. It returns the steps the lets charge.
func (b *svBlock) prepare(fr *frame, x *vbRun) (steps int64, ok bool) {
	for _, k := range b.pre {
		if b.general[k].store(fr); fr.err != nil {
			fr.err = nil
			return 0, false
		}
	}
	for i := range b.exts {
		e := &b.exts[i]
		if e.slice && e.base >= 0 {
			// A slice of a row read before it.
			src := x.vec[e.base]
			lo, hi := e.i.at(fr), e.hi.at(fr)
			if lo < 0 || hi < lo || hi > int64(len(src)) {
				return 0, false
			}
			x.vec[e.ref], x.cols[e.ref] = src[lo:hi], 0
			continue
		}
		var a *runtime.Array
		if e.base >= 0 {
			a = x.arrs[e.base]
		} else {
			var v runtime.Value
			if e.slot >= 0 {
				v = fr.slots[e.slot]
			} else {
				var err error
				if v, err = e.g(fr); err != nil {
					fr.err = nil
					return 0, false
				}
			}
			a, _ = v.R.(*runtime.Array)
			x.arrs[e.ref] = a
		}
		if a == nil || a.Kind != runtime.ElemF64 {
			return 0, false
		}
		x.cols[e.ref] = 0
		switch {
		case e.row:
			j := e.i.at(fr)
			if len(a.Shape) != 2+btoi(e.mat) || uint64(j) >= uint64(a.Len()) {
				return 0, false
			}
			rs := a.RowSize()
			x.vec[e.ref] = a.F[int(j)*rs : int(j+1)*rs]
			if e.mat {
				x.cols[e.ref] = a.Shape[2]
			}
		case e.slice:
			lo, hi := e.i.at(fr), e.hi.at(fr)
			if len(a.Shape) != 1 || lo < 0 || hi < lo || hi > int64(len(a.F)) {
				return 0, false
			}
			x.vec[e.ref] = a.F[lo:hi]
		default:
			x.vec[e.ref] = a.F
			if len(a.Shape) == 2 {
				x.cols[e.ref] = a.Shape[1]
			}
		}
	}
	for i := range b.scs {
		x.sc[i] = b.scs[i].at(fr)
	}
	if fr.err != nil {
		fr.err = nil
		return 0, false
	}
	for i := range b.steps {
		st := &b.steps[i]
		if st.zero {
			a, j := x.arrs[st.acc], st.idx.at(fr)
			if a == nil || len(a.Shape) != 2 || uint64(j) >= uint64(a.Len()) {
				return 0, false
			}
			rs := a.RowSize()
			x.vec[st.out] = a.F[int(j)*rs : int(j+1)*rs]
			steps += int64(rs)
			continue
		}
		if st.outer {
			a, j := x.arrs[st.acc], st.idx.at(fr)
			u, v := x.vec[st.u], x.vec[st.v]
			if a == nil || len(a.Shape) != 3 || uint64(j) >= uint64(a.Len()) ||
				a.Shape[1] != len(u) || a.Shape[2] != len(v) || len(u)*len(v) > smallMatWork {
				return 0, false
			}
			rs := a.RowSize()
			dst := a.F[int(j)*rs : int(j+1)*rs]
			if overlap(dst, u) || overlap(dst, v) {
				return 0, false // the product reads the accumulator
			}
			x.vec[st.out] = dst
			steps += 2 * int64(rs) // outer's, then the add's
			continue
		}
		if st.scal {
			a, j := x.vec[st.acc], st.idx.at(fr)
			if uint64(j) >= uint64(len(a)) {
				return 0, false
			}
			x.vec[st.out] = a[j : j+1]
			continue // the add charges no step
		}
		n := -1
		if len(st.leaves) > 0 {
			n = len(x.vec[st.leaves[0]])
		}
		for k := range st.ins {
			// A product's length comes from its operands, which earlier
			// steps or the entry sized.
			in := &st.ins[k]
			if in.kind != insMatVec && in.kind != insVecMat {
				continue
			}
			out, work, ok := in.matShape(x)
			if !ok || work > smallMatWork || n >= 0 && out != n {
				return 0, false // the product's own error, or a large one
			}
			n = out
			steps += int64(max(work, out)) // as matmulCode charges
		}
		if n > vbMax {
			return 0, false
		}
		for _, r := range st.leaves {
			if len(x.vec[r]) != n {
				return 0, false // the operation's own error
			}
		}
		for _, r := range st.bufs {
			s := x.ctx.store[r]
			if cap(s) < n {
				s = make([]float64, n, max(n, 16))
				x.ctx.store[r] = s
			}
			x.vec[r] = s[:n]
		}
		steps += int64(n) * int64(st.nodes)
		if st.fresh {
			if st.idx.at(fr) != int64(n) {
				return 0, false // zeros' or acc_add's own error
			}
			steps += 2 * int64(n) // the zeros, and the add
			continue
		}
		if !st.add {
			continue
		}
		a := x.arrs[st.acc]
		var dst []float64
		switch {
		case st.at:
			j := st.idx.at(fr)
			if a == nil || len(a.Shape) != 2 || uint64(j) >= uint64(a.Len()) {
				return 0, false
			}
			rs := a.RowSize()
			dst = a.F[int(j)*rs : int(j+1)*rs]
		default:
			dst = x.vec[st.acc] // a vector: outside, or a buffer
		}
		if st.pad {
			like := x.vec[st.like]
			lo := st.lo.at(fr)
			if len(like) != len(dst) || lo < 0 || lo+int64(n) > int64(len(like)) {
				return 0, false
			}
			dst = dst[lo : int(lo)+n]
		}
		if len(dst) != n {
			return 0, false
		}
		if st.val.op == nil && overlap(dst, x.vec[st.val.ref]) {
			return 0, false // an add of the accumulator's own elements
		}
		x.vec[st.out] = dst
		steps += int64(n)
	}
	return steps, true
}

// exec runs the steps.
func (b *svBlock) exec(x *vbRun) {
	for i := range b.steps {
		st := &b.steps[i]
		switch {
		case st.zero:
			clear(x.vec[st.out])
			continue
		case st.outer:
			runtime.OuterAddTo(x.vec[st.out], x.vec[st.u], x.vec[st.v])
			continue
		case st.scal:
			x.vec[st.out][0] += x.sc[st.val.sc]
			continue
		}
		for k := range st.ins {
			st.ins[k].run(x)
		}
		if st.fresh {
			v, dst := x.vec[st.val.ref], x.vec[st.out]
			v = v[:len(dst)]
			for k := range dst {
				dst[k] = 0 + v[k] // as the add into zeros rounds -0
			}
			continue
		}
		if !st.add {
			continue
		}
		v, dst := x.vec[st.val.ref], x.vec[st.out]
		v = v[:len(dst)]
		for k := range dst {
			dst[k] += v[k]
		}
	}
}

// finish stores the variables the rest of the body reads and clears the
// others' slots, so that the body's releases see what the lets would
// have left.
func (b *svBlock) finish(fr *frame, x *vbRun) error {
	for _, s := range b.zero {
		fr.slots[s] = runtime.Value{}
	}
	for k, o := range b.outs {
		if o.row >= 0 {
			// The row's view (its matrix's variable may be gone: an
			// accumulator of the run nobody reads after it). The index
			// was checked at entry and reads nothing the run changed.
			e := &b.exts[o.row]
			fr.slots[o.s] = runtime.Arr(fr.m.Row(x.arrs[e.base], int(e.i.at(fr))))
			continue
		}
		if a := x.arrs[o.ref]; a != nil {
			fr.slots[o.s] = runtime.Arr(a) // an outside array, updated in place
			continue
		}
		// A buffer: the array made for an earlier variable sharing it, or
		// a new one.
		made := false
		for _, p := range b.outs[:k] {
			if p.ref == o.ref {
				fr.slots[o.s], made = fr.slots[p.s], true
				break
			}
		}
		if !made && o.donor >= 0 {
			if a := x.arrs[o.donor]; len(a.Shape) == 1 && len(a.F) == len(x.vec[o.ref]) {
				copy(a.F, x.vec[o.ref])
				fr.slots[o.s] = runtime.Arr(a)
				fr.slots[o.donorSlot] = runtime.Value{}
				svDonated.Add(1)
				made = true
			}
		}
		if !made {
			a, err := smallVec(fr, b.tape, len(x.vec[o.ref]))
			if err != nil {
				return errAt(b.pos, err)
			}
			copy(a.F, x.vec[o.ref])
			fr.slots[o.s] = runtime.Arr(a)
		}
	}
	return nil
}

// vbIns is one operation of a flattened tree: dst = op(a) (unary), op(a,
// b) (vv), op(c, b) (sv), op(a, c) (vs), or c*a + b (axpy, the sum of a
// scaled vector and another, as fnode.apply computes it), with a, b and
// dst refs and c a scalar's index.
type vbIns struct {
	op        *ir.Prim
	kind      uint8
	dst, a, b int
	c         int
}

const (
	insUnary uint8 = iota
	insVV
	insSV
	insVS
	insAxpy
	insMatVec // dst = a @ b, a the matrix
	insVecMat // dst = a @ b, b the matrix
)

// matShape checks a product's operands (in.kind insMatVec or insVecMat):
// its length, its multiply-adds (rows × columns of the matrix), and ok
// false when the inner sizes differ or the matrix has no columns.
func (in *vbIns) matShape(x *vbRun) (out, work int, ok bool) {
	m, v := in.a, in.b
	if in.kind == insVecMat {
		m, v = in.b, in.a
	}
	cols := x.cols[m]
	if cols <= 0 {
		return 0, 0, false
	}
	rows := len(x.vec[m]) / cols
	inner, out := cols, rows
	if in.kind == insVecMat {
		inner, out = rows, cols
	}
	return out, rows * cols, len(x.vec[v]) == inner
}

// flatten appends n's operations to st in evaluation order and records
// its leaves and buffers.
func (bd *vbBuilder) flatten(st *vbStep, n *vbNode) {
	if n.scalar {
		return
	}
	if n.op == nil {
		st.leaves = append(st.leaves, n.ref)
		return
	}
	if n.mm != 0 {
		// A product: its operands are variables, not the step's leaves
		// (their lengths differ from its); charged apart from nodes.
		st.bufs = append(st.bufs, n.ref)
		st.ins = append(st.ins, vbIns{op: n.op, kind: n.mm, dst: n.ref, a: n.kids[0].ref, b: n.kids[1].ref})
		return
	}
	st.nodes++
	st.bufs = append(st.bufs, n.ref)
	in := vbIns{op: n.op, dst: n.ref}
	if len(n.kids) == 1 {
		bd.flatten(st, n.kids[0])
		in.kind, in.a = insUnary, n.kids[0].ref
		st.ins = append(st.ins, in)
		return
	}
	l, r := n.kids[0], n.kids[1]
	if n.op == ir.PrimAdd && !l.scalar && !r.scalar {
		// c*v + w: the product is not made (but counted, as fused trees
		// count it).
		for _, p := range [][2]*vbNode{{l, r}, {r, l}} {
			if m, w := p[0], p[1]; m.op == ir.PrimMul && len(m.kids) == 2 && m.kids[0].scalar != m.kids[1].scalar {
				c, v := m.kids[0], m.kids[1]
				if v.scalar {
					c, v = v, c
				}
				st.nodes++
				bd.flatten(st, v)
				bd.flatten(st, w)
				in.kind, in.c, in.a, in.b = insAxpy, c.sc, v.ref, w.ref
				st.ins = append(st.ins, in)
				return
			}
		}
	}
	bd.flatten(st, l)
	bd.flatten(st, r)
	switch {
	case l.scalar:
		in.kind, in.c, in.b = insSV, l.sc, r.ref
	case r.scalar:
		in.kind, in.a, in.c = insVS, l.ref, r.sc
	default:
		in.kind, in.a, in.b = insVV, l.ref, r.ref
	}
	st.ins = append(st.ins, in)
}

// run computes the operation's elements. Sums, differences and products
// are computed in place (each is one correctly rounded operation, as in
// the kernels); quotients and functions call the kernels fnode.apply
// calls.
func (in *vbIns) run(x *vbRun) {
	dst := x.vec[in.dst]
	switch in.kind {
	case insUnary:
		a := x.vec[in.a][:len(dst)]
		switch in.op {
		case ir.PrimNeg:
			for i, v := range a {
				dst[i] = -v
			}
		case ir.PrimExp:
			runtime.ExpTo(dst, a)
		case ir.PrimAbs:
			runtime.AbsTo(dst, a)
		case ir.PrimSqrt:
			runtime.SqrtTo(dst, a)
		default:
			f := in.op.F1
			for i, v := range a {
				dst[i] = f(v)
			}
		}
	case insVV:
		a, b := x.vec[in.a][:len(dst)], x.vec[in.b][:len(dst)]
		switch in.op {
		case ir.PrimAdd:
			for i := range dst {
				dst[i] = a[i] + b[i]
			}
		case ir.PrimSub:
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
		case ir.PrimMul:
			for i := range dst {
				dst[i] = a[i] * b[i]
			}
		case ir.PrimDiv:
			runtime.DivTo(dst, a, b)
		default:
			f := in.op.F2
			for i := range dst {
				dst[i] = f(a[i], b[i])
			}
		}
	case insSV:
		c, b := x.sc[in.c], x.vec[in.b][:len(dst)]
		switch in.op {
		case ir.PrimAdd:
			for i, v := range b {
				dst[i] = v + c
			}
		case ir.PrimSub:
			for i, v := range b {
				dst[i] = c - v
			}
		case ir.PrimMul:
			for i, v := range b {
				dst[i] = c * v
			}
		case ir.PrimDiv:
			runtime.ConstDivTo(dst, c, b)
		default:
			f := in.op.F2
			for i, v := range b {
				dst[i] = f(c, v)
			}
		}
	case insVS:
		a, c := x.vec[in.a][:len(dst)], x.sc[in.c]
		switch in.op {
		case ir.PrimAdd:
			for i, v := range a {
				dst[i] = v + c
			}
		case ir.PrimSub:
			// As AddConstTo(dst, a, -c) computes it.
			for i, v := range a {
				dst[i] = v + -c
			}
		case ir.PrimMul:
			for i, v := range a {
				dst[i] = c * v
			}
		case ir.PrimDiv:
			runtime.DivConstTo(dst, a, c)
		default:
			f := in.op.F2
			for i, v := range a {
				dst[i] = f(v, c)
			}
		}
	case insMatVec:
		cols := x.cols[in.a]
		runtime.MatVec(dst, x.vec[in.a], x.vec[in.b], len(dst), cols)
	case insVecMat:
		cols := x.cols[in.b]
		runtime.VecMat(dst, x.vec[in.a], x.vec[in.b], len(x.vec[in.a]), cols)
	case insAxpy:
		c, a, b := x.sc[in.c], x.vec[in.a][:len(dst)], x.vec[in.b][:len(dst)]
		for i := range dst {
			// The conversion rounds the product: no fused multiply-add.
			dst[i] = float64(c*a[i]) + b[i]
		}
	}
}

// get takes a context for one run.
func (b *svBlock) get() *vbCtx {
	if x := b.spare.Swap(nil); x != nil {
		return x
	}
	return b.pool.Get().(*vbCtx)
}

// put gives back a context get took.
func (b *svBlock) put(x *vbCtx) {
	if !b.spare.CompareAndSwap(nil, x) {
		b.pool.Put(x)
	}
}

// noSVBlock, set by tests, runs every block through its lets' own code:
// the reference the blocks are compared with. svBlocks counts the blocks
// compiled and svRan their runs that did not fall back, so that the tests
// can tell one ran.
var (
	noSVBlock bool
	svBlocks  atomic.Int64
	svRan     atomic.Int64 // runs of blocks that did not fall back
)

// noSVRowSlice, set by tests, keeps slices of the run's rows and pads
// like them out of the class (a run ends before them), as before
// svRowSlices counted the runs of blocks with such slices.
var (
	noSVRowSlice bool
	svRowSlices  atomic.Int64
)

// noSVDonor, set by tests, makes every out a buffer gives a new array
// (no donors); svDonated counts the outs written into a donor's array.
var (
	noSVDonor bool
	svDonated atomic.Int64
)

// svLet compiles let e as a block when a run of lets in the class starts
// at it (outside flat loop bodies, which revChain compiles): the lets are
// compiled as compileLet would (storeLet, in order), the block runs them,
// the body follows, and what died with the lets is released after it, as
// the nested lets release it.
func (c *fnComp) svLet(e *ir.Let) (evalFn, bool, error) {
	runs := svRuns(e)
	if len(runs) == 0 || runs[0][0] != e {
		return nil, false, nil
	}
	run := runs[0]
	base := c.depth
	slots := make([]int, len(run))
	deads := make([]uint8, len(run))
	ops := make([]flatOp, len(run))
	for k, l := range run {
		s := c.alloc(1)
		val, dead, err := c.storeLet(l, s)
		if err != nil {
			return nil, true, err
		}
		c.bind(l.Var, s)
		slots[k], deads[k], ops[k] = s, dead, flatOp{store: val}
	}
	rest := run[len(run)-1].Body
	opOf := make([]int, len(run))
	for k := range opOf {
		opOf[k] = k
	}
	b, err := c.compileSVBlock(run, rest, ops, opOf)
	var body evalFn
	if err == nil {
		body, err = c.compile(rest)
	}
	for _, l := range run {
		delete(c.locals, l.Var)
	}
	c.depth = base
	if err != nil {
		return nil, true, err
	}
	head := func(fr *frame) error { return runFlat(fr, ops) }
	if b != nil {
		head = b.run
	}
	return func(fr *frame) (runtime.Value, error) {
		if err := head(fr); err != nil {
			return runtime.Value{}, err
		}
		r, err := body(fr)
		for k := len(run) - 1; k >= 0; k-- {
			if deads[k] != deadNone {
				release(fr.m, deads[k], fr.slots[slots[k]])
			}
		}
		return r, err
	}, true, nil
}

// varOf is e when it is a variable, else nil.
func varOf(e ir.Expr) *ir.Var {
	v, _ := e.(*ir.Var)
	return v
}
