package interp

import (
	"sync"
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Fusion of elementwise chains. a*x + y evaluated one primitive at a time
// makes a*x, a whole array, only to read it once. A tree of elementwise
// f64 operations is compiled instead as one pass over its operands: its
// leaves (the operands that are not elementwise operations themselves,
// arrays or scalars) are evaluated once, in the order the primitives
// would evaluate them, and then the tree runs over pieces of
// runtime.SumPiece elements, each node applying the same kernel as its
// primitive to the piece in a small buffer, the root writing straight
// into the result. Under sum, the root's pieces are added as they come
// (runtime.SumAcc) and no array is made at all.
//
// Each element gets exactly the operations, in the same order, that the
// primitives would apply, so the values are the same to the bit. When two
// array operands differ in shape, the tree is evaluated by the primitives
// themselves from the leaves already computed, which fails as the first
// failing primitive does.

// fnode is a node of a fused tree: a leaf, or an operation on nodes.
type fnode struct {
	leaf   int // >= 0: leaf index
	op     *ir.Prim
	kids   []*fnode
	impl   ir.Impl // the primitive at this node's types, for the fallback
	pos    ir.Pos
	buf    int  // the node's piece buffer
	scalar bool // its value is a scalar (a scalar leaf, or ops on them)
}

// fleaf is an operand of a fused tree.
type fleaf struct {
	scalar bool
	f      fcode  // scalar leaves
	g      evalFn // array leaves; for a view, the array viewed
	dies   bool   // a fresh array to recycle after the pass
	// A view, read in place without a header: a[lo:hi] of a vector (hi
	// set), or the row a[lo] of an array of rank 2 or more.
	view   bool
	lo, hi icode
	pos    ir.Pos
}

type fused struct {
	root   *fnode
	leaves []fleaf
	nodes  int // operation nodes, each charged a step per element
	nbuf   int
	// spare is one context kept out of pool: a pool is emptied by the
	// collector, and a reverse pass that allocates collects often enough
	// that every site would make its context again after each cycle.
	spare atomic.Pointer[fctx]
	pool  sync.Pool // *fctx
}

// fctx is the state of one evaluation of a fused tree.
type fctx struct {
	vals []runtime.Value // leaves: arrays in R, scalars in F
	// bufs are the nodes' piece buffers, room elements each (at most
	// runtime.SumPiece, as much as the longest evaluation needed so far: a
	// tree over short vectors keeps short buffers).
	bufs   [][]float64
	room   int
	failed int // the first leaf that failed (len(vals) if none)
	// Views: the flat offset of the viewed elements, the index (lo or the
	// row), and a slice's shape.
	offs []int
	idx  []int
	shp  [][1]int
}

// fusibleOp reports whether e is an elementwise f64 operation on an
// array that fusion covers.
func fusibleOp(e ir.Expr) (*ir.PrimCall, bool) {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op == nil || !pc.Op.Elementwise || pc.Op == ir.PrimToF64 {
		return nil, false
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 || ir.Rank(pc.T) == 0 {
		return nil, false
	}
	for _, a := range pc.Args {
		if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 {
			return nil, false
		}
	}
	switch len(pc.Args) {
	case 1:
		return pc, pc.Op.F1 != nil
	case 2:
		return pc, pc.Op.F2 != nil
	}
	return nil, false
}

// worthFusing reports whether e is a fusible operation with a fusible
// operand (a chain of at least two) or with an operand read in place as a
// view (x[i] - mu[k] then makes no row header and skips the primitive's
// general call).
func worthFusing(e ir.Expr) bool {
	pc, ok := fusibleOp(e)
	if !ok {
		return false
	}
	for _, a := range pc.Args {
		if _, ok := fusibleOp(a); ok || isView(a) && !plainOps {
			return true
		}
	}
	return false
}

// isView reports whether compileFused reads operand e in place: a row
// a[i], or a slice of a vector.
func isView(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && (isRow(e) || pc.Op == ir.PrimSlice && len(pc.Args) == 3 && ir.Rank(pc.T) == 1)
}

// compileFused compiles the tree rooted at the fusible operation e.
func (c *fnComp) compileFused(e *ir.PrimCall) (*fused, error) {
	fz := &fused{}
	var build func(x ir.Expr) (*fnode, error)
	build = func(x ir.Expr) (*fnode, error) {
		if pc, ok := fusibleOp(x); ok {
			n := &fnode{leaf: -1, op: pc.Op, pos: pc.P, buf: fz.nbuf}
			fz.nbuf++
			fz.nodes++
			ts := make([]ir.Type, len(pc.Args))
			n.scalar = true
			for i, a := range pc.Args {
				k, err := build(a)
				if err != nil {
					return nil, err
				}
				n.kids = append(n.kids, k)
				n.scalar = n.scalar && k.scalar
				ts[i] = a.Type()
			}
			impl, err := specialize(pc.Op, ts, pc.T, pc.Aux)
			if err != nil {
				return nil, ir.Errorf(pc.P, "%v", err)
			}
			n.impl = impl
			return n, nil
		}
		l := fleaf{}
		var err error
		switch pc, _ := x.(*ir.PrimCall); {
		case isScalar(x.Type()):
			l.scalar = true
			l.f, err = c.typedF(x)
		case isView(x) && pc.Op == ir.PrimSlice:
			l.view, l.pos = true, pc.P
			if l.g, err = c.compile(pc.Args[0]); err == nil {
				if l.lo, err = c.typedI(pc.Args[1]); err == nil {
					l.hi, err = c.typedI(pc.Args[2])
				}
			}
		case isRow(x):
			l.view, l.pos = true, pc.P
			if l.g, err = c.compile(pc.Args[0]); err == nil {
				l.lo, err = c.typedI(pc.Args[1])
			}
		default:
			l.g, err = c.compile(x)
			l.dies = c.it.freshArray(x, map[*ir.Var]ir.Expr{})
		}
		if err != nil {
			return nil, err
		}
		fz.leaves = append(fz.leaves, l)
		return &fnode{leaf: len(fz.leaves) - 1, scalar: l.scalar}, nil
	}
	root, err := build(e)
	if err != nil {
		return nil, err
	}
	fz.root = root
	nbuf := fz.nbuf
	k := len(fz.leaves)
	fz.pool.New = func() any {
		return &fctx{vals: make([]runtime.Value, k), bufs: make([][]float64, nbuf),
			offs: make([]int, k), idx: make([]int, k), shp: make([][1]int, k)}
	}
	return fz, nil
}

// prepare evaluates the leaves and checks their shapes. It returns the
// common shape of the array operands; on a failure (a leaf's, or differing
// shapes, reported as the primitives report them) it returns the error.
func (fz *fused) prepare(fr *frame, x *fctx) ([]int, error) {
	var shape []int
	same := true
	x.failed = len(fz.leaves)
	for i, l := range fz.leaves {
		if l.scalar {
			x.vals[i] = runtime.Value{F: l.f(fr)}
			if fr.err != nil {
				x.failed = i
				break
			}
			continue
		}
		v, err := l.g(fr)
		if err != nil {
			fr.fail(err)
			x.failed = i
			break
		}
		x.vals[i] = v
		a := v.R.(*runtime.Array)
		ls := a.Shape
		if l.view {
			if ls, err = x.view(fr, i, l, a); err != nil {
				fr.fail(errAt(l.pos, err))
			}
			if fr.err != nil {
				x.failed = i
				break
			}
		}
		if shape == nil {
			shape = ls
		} else if !runtime.SameShape(shape, ls) {
			same = false
		}
	}
	if fr.err != nil || !same {
		// Replay the primitives on the leaves: the first failure in
		// evaluation order is the one to report (a leaf's error stopped the
		// leaves at the same point the primitives would have stopped).
		_, err := fz.replay(fr, fz.root, x)
		if err == nil {
			err = fr.takeErr()
		}
		fr.err = nil
		return nil, err
	}
	return shape, nil
}

// view evaluates the bounds or index of view leaf i of a, checks them as
// the slice and index primitives do, and returns the view's shape.
func (x *fctx) view(fr *frame, i int, l fleaf, a *runtime.Array) ([]int, error) {
	lo := l.lo(fr)
	if l.hi == nil {
		if err := runtime.CheckIndex(lo, a.Len()); err != nil || fr.err != nil {
			return nil, err
		}
		x.idx[i], x.offs[i] = int(lo), int(lo)*a.RowSize()
		return a.Shape[1:], nil
	}
	hi := l.hi(fr)
	if err := runtime.CheckSlice(lo, hi, a.Len()); err != nil || fr.err != nil {
		return nil, err
	}
	x.idx[i], x.offs[i], x.shp[i][0] = int(lo), int(lo), int(hi-lo)
	return x.shp[i][:], nil
}

// leafValue is leaf i as the primitives see it: a view is made here.
func (fz *fused) leafValue(x *fctx, i int) runtime.Value {
	v, l := x.vals[i], fz.leaves[i]
	if !l.view {
		return v
	}
	a := v.R.(*runtime.Array)
	if l.hi == nil {
		return a.At(x.idx[i])
	}
	return runtime.Arr(a.Slice(x.idx[i], x.idx[i]+x.shp[i][0]))
}

// replay evaluates node n with the primitives, from the leaves evaluated
// so far. A leaf that was not reached (an earlier one failed) returns the
// recorded error.
func (fz *fused) replay(fr *frame, n *fnode, x *fctx) (runtime.Value, error) {
	if n.leaf >= 0 {
		if n.leaf >= x.failed {
			return runtime.Value{}, fr.takeErr()
		}
		return fz.leafValue(x, n.leaf), nil
	}
	args := make([]runtime.Value, len(n.kids))
	for i, k := range n.kids {
		v, err := fz.replay(fr, k, x)
		if err != nil {
			return v, err
		}
		args[i] = v
	}
	v, err := callImpl(n.impl, fr.m, args)
	if err != nil {
		return v, errAt(n.pos, err)
	}
	return v, nil
}

// piece computes node n's elements [lo, hi) and returns them: a leaf's own
// storage, or the node's buffer. Scalar subtrees are not pieces (scalar).
func (n *fnode) piece(x *fctx, lo, hi int) []float64 {
	if n.leaf >= 0 {
		off := x.offs[n.leaf]
		return x.vals[n.leaf].R.(*runtime.Array).F[off+lo : off+hi]
	}
	return n.apply(x, lo, hi, x.bufs[n.buf][:hi-lo])
}

// scalarValue is a scalar leaf's value (a scalar operation is a leaf: its
// type has rank 0, so it is not fusible).
func (n *fnode) scalarValue(x *fctx) float64 { return x.vals[n.leaf].F }

// apply computes operation node n's elements [lo, hi) into dst with the
// kernels its primitive uses (ir's evalElementwise).
func (n *fnode) apply(x *fctx, lo, hi int, dst []float64) []float64 {
	if len(n.kids) == 1 {
		a := n.kids[0].piece(x, lo, hi)
		switch n.op {
		case ir.PrimNeg:
			runtime.NegTo(dst, a)
		case ir.PrimExp:
			runtime.ExpTo(dst, a)
		case ir.PrimAbs:
			runtime.AbsTo(dst, a)
		case ir.PrimSqrt:
			runtime.SqrtTo(dst, a)
		default:
			f := n.op.F1
			for i, v := range a {
				dst[i] = f(v)
			}
		}
		return dst
	}
	l, r := n.kids[0], n.kids[1]
	switch {
	case l.scalar:
		c, b := l.scalarValue(x), r.piece(x, lo, hi)
		switch n.op {
		case ir.PrimAdd:
			runtime.AddConstTo(dst, b, c)
		case ir.PrimSub:
			runtime.ConstSubTo(dst, c, b)
		case ir.PrimMul:
			runtime.ScaleTo(dst, c, b)
		case ir.PrimDiv:
			runtime.ConstDivTo(dst, c, b)
		default:
			f := n.op.F2
			for i, v := range b {
				dst[i] = f(c, v)
			}
		}
	case r.scalar:
		a, c := l.piece(x, lo, hi), r.scalarValue(x)
		switch n.op {
		case ir.PrimAdd:
			runtime.AddConstTo(dst, a, c)
		case ir.PrimSub:
			runtime.AddConstTo(dst, a, -c)
		case ir.PrimMul:
			runtime.ScaleTo(dst, c, a)
		case ir.PrimDiv:
			runtime.DivConstTo(dst, a, c)
		default:
			f := n.op.F2
			for i, v := range a {
				dst[i] = f(v, c)
			}
		}
	default:
		if n.op == ir.PrimAdd {
			// c*v + w (or w + c*v) in one pass, rounded as the two
			// operations are: the a*x + y of an embedder's axpy.
			if c, v, ok := scaled(l, x); ok {
				runtime.AxpyTo(dst, c, v.piece(x, lo, hi), r.piece(x, lo, hi))
				return dst
			}
			if c, v, ok := scaled(r, x); ok {
				runtime.AxpyTo(dst, c, v.piece(x, lo, hi), l.piece(x, lo, hi))
				return dst
			}
		}
		a, b := l.piece(x, lo, hi), r.piece(x, lo, hi)
		switch n.op {
		case ir.PrimAdd:
			runtime.AddTo(dst, a, b)
		case ir.PrimSub:
			runtime.SubTo(dst, a, b)
		case ir.PrimMul:
			runtime.MulTo(dst, a, b)
		case ir.PrimDiv:
			runtime.DivTo(dst, a, b)
		default:
			f := n.op.F2
			for i := range dst {
				dst[i] = f(a[i], b[i])
			}
		}
	}
	return dst
}

// scaled reports whether n is a product of a scalar c and an array
// operand v. Every operation node has its own buffer, so v's piece
// survives while its sibling's is computed.
func scaled(n *fnode, x *fctx) (c float64, v *fnode, ok bool) {
	if n.leaf >= 0 || n.op != ir.PrimMul || len(n.kids) != 2 {
		return 0, nil, false
	}
	switch l, r := n.kids[0], n.kids[1]; {
	case l.scalar && !r.scalar:
		return l.scalarValue(x), r, true
	case r.scalar && !l.scalar:
		return r.scalarValue(x), l, true
	}
	return 0, nil, false
}

// run evaluates the tree. start gets the shape of the result before the
// first piece and may return the slice the root writes elements [lo, hi)
// to (nil: the root's buffer); emit gets each piece in order. It charges
// the steps the primitives would (one per element and operation) and
// recycles fresh leaves afterwards.
func (fz *fused) run(fr *frame, pos ir.Pos, start func(shape []int, n int) ([]float64, error), emit func(piece []float64)) error {
	x := fz.get()
	defer fz.put(x)
	shape, err := fz.prepare(fr, x)
	if err != nil {
		clear(x.vals)
		return err
	}
	n := runtime.Size(shape)
	if err := fr.m.Step(int64(n) * int64(fz.nodes)); err != nil {
		clear(x.vals)
		return errAt(pos, err)
	}
	out, err := start(shape, n)
	if err != nil {
		clear(x.vals)
		return errAt(pos, err)
	}
	x.fit(min(n, runtime.SumPiece))
	for lo := 0; lo < n; lo += runtime.SumPiece {
		// The context, between pieces of about a million elements.
		if lo%runtime.PollChunk == 0 && lo > 0 {
			if err := fr.m.Poll(); err != nil {
				clear(x.vals)
				return errAt(pos, err)
			}
		}
		hi := min(lo+runtime.SumPiece, n)
		dst := x.bufs[fz.root.buf][:hi-lo]
		if out != nil {
			dst = out[lo:hi]
		}
		emit(fz.root.apply(x, lo, hi, dst))
	}
	for i, l := range fz.leaves {
		if l.dies {
			recycle(fr.m, x.vals[i])
		}
	}
	clear(x.vals)
	return nil
}

// get takes a context for one evaluation.
func (fz *fused) get() *fctx {
	if x := fz.spare.Swap(nil); x != nil {
		return x
	}
	return fz.pool.Get().(*fctx)
}

// put gives back a context get took.
func (fz *fused) put(x *fctx) {
	if !fz.spare.CompareAndSwap(nil, x) {
		fz.pool.Put(x)
	}
}

// fit gives each piece buffer room for n elements.
func (x *fctx) fit(n int) {
	if n <= x.room {
		return
	}
	f := make([]float64, n*len(x.bufs))
	for i := range x.bufs {
		x.bufs[i] = f[i*n : (i+1)*n : (i+1)*n]
	}
	x.room = n
}

// compileFusedArray compiles the elementwise chain e to one pass that
// writes the result.
func (c *fnComp) compileFusedArray(e *ir.PrimCall) (evalFn, error) {
	fz, err := c.compileFused(e)
	if err != nil {
		return nil, err
	}
	pos, tape := e.P, c.tape
	if plainOps {
		tape = 0
	}
	return func(fr *frame) (runtime.Value, error) {
		var out *runtime.Array
		err := fz.run(fr, pos, func(shape []int, n int) (_ []float64, err error) {
			if len(shape) == 1 {
				// A vector comes from the tape arena in a tape body, else
				// reuses a recycled (or offered) array with no shape to
				// allocate, and without zeroing it: the pass writes every
				// element.
				out, err = smallVec(fr, tape, n)
			} else {
				out, err = runtime.NewToFill(fr.m, runtime.ElemF64, shape)
			}
			if err != nil {
				return nil, err
			}
			return out.F, nil
		}, func([]float64) {})
		if err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(out), nil
	}, nil
}

// fusedSum compiles sum(e) of a fusible chain: no array at all. The sum
// is charged a step per element, as the sum primitive is.
func (c *fnComp) fusedSum(e *ir.PrimCall) (fcode, error) {
	fz, err := c.compileFused(e)
	if err != nil {
		return nil, err
	}
	pos := e.P
	return func(fr *frame) float64 {
		if fr.err != nil {
			return 0
		}
		var acc runtime.SumAcc
		var sum float64
		done := false
		err := fz.run(fr, pos, func(shape []int, n int) ([]float64, error) {
			acc = runtime.NewSumAcc(n)
			return nil, fr.m.Step(int64(n))
		}, func(p []float64) {
			if len(p) == runtime.SumPiece {
				acc.Add(p)
			} else {
				sum, done = acc.Sum(p), true
			}
		})
		if err != nil {
			fr.fail(err)
			return 0
		}
		if !done {
			sum = acc.Sum(nil)
		}
		return sum
	}, nil
}
