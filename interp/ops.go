package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Small products. The vectorized GMM's forward sweep computes Q_k (x_i -
// mu_k) for every point and component, and its reverse pass c @ Q_k, on
// d = 2: through the general primitive path each costs more in argument
// slots, a recovered call, a row header and a fresh result than in the
// product itself. compileSmallMatmul runs a matrix-vector or
// vector-matrix product of f64 reading row operands in place, with the
// runtime's kernels (so the same bits) on a result carved from the tape
// arena inside a tape body. Errors, steps and evaluation order are the
// primitive's: any case off the fast path (an inner size mismatch, a
// large product) calls the primitive's Impl on the operands.

// plainOps, set by tests, compiles the products, single operations on
// views and their accumulations the general way (the reference the fast
// paths must match to the bit).
var plainOps bool

// smallMatWork bounds the multiply-adds of a product run here; larger
// ones go through the primitive (it polls between pieces).
const smallMatWork = 4096 // well under runtime's gemvParallelMin

// arrOpnd is an f64 array operand read in place: a row x[i] of an array
// (no header is made for it) or any array expression.
type arrOpnd struct {
	g    evalFn // the array, or for a row the array indexed
	idx  icode  // the row's index; nil for a whole array
	pos  ir.Pos // the index's position
	dies bool   // a fresh whole array, recycled after its use
}

// opnd is an evaluated arrOpnd: the array, and the elements and shape
// read (a row's, or the whole array's).
type opnd struct {
	a     *runtime.Array
	f     []float64
	shape []int
	row   int
}

// compileArrOpnd compiles e as an operand read in place.
func (c *fnComp) compileArrOpnd(e ir.Expr) (arrOpnd, error) {
	if isRow(e) {
		pc := e.(*ir.PrimCall)
		g, err := c.compile(pc.Args[0])
		if err != nil {
			return arrOpnd{}, err
		}
		idx, err := c.typedI(pc.Args[1])
		return arrOpnd{g: g, idx: idx, pos: pc.P}, err
	}
	dies := c.it.freshArray(e, map[*ir.Var]ir.Expr{})
	g, err := c.compileScratch(e, dies)
	return arrOpnd{g: g, dies: dies}, err
}

// get evaluates the operand, with the index primitive's checks and errors
// for a row.
func (o *arrOpnd) get(fr *frame) (opnd, error) {
	v, err := o.g(fr)
	if err != nil {
		return opnd{}, err
	}
	a, _ := v.R.(*runtime.Array)
	if a == nil {
		return opnd{}, internalErrorf(o.pos, "operand %s is not an array", describe(v))
	}
	if o.idx == nil {
		return opnd{a: a, f: a.F, shape: a.Shape}, nil
	}
	i := o.idx(fr)
	if fr.err != nil {
		return opnd{}, fr.takeErr()
	}
	if err := runtime.CheckIndex(i, a.Len()); err != nil {
		return opnd{}, errAt(o.pos, err)
	}
	rs := a.RowSize()
	return opnd{a: a, f: a.F[int(i)*rs : (int(i)+1)*rs], shape: a.Shape[1:], row: int(i)}, nil
}

// value is the operand as the primitive sees it (a row is made here),
// for the slow path.
func (o *arrOpnd) value(v opnd) runtime.Value {
	if o.idx == nil {
		return runtime.Arr(v.a)
	}
	return v.a.At(v.row)
}

// smallVec returns a vector of n elements for a result every element of
// which is then written: from the tape arena of slot tape when there is
// one, else a recycled or new array.
func smallVec(fr *frame, tape, n int) (*runtime.Array, error) {
	if tape != 0 && n <= tapeMaxElems {
		return arenaOf(fr, tape).vec(n)
	}
	return runtime.NewVecToFill(fr.m, runtime.ElemF64, n)
}

// binCode is a compiled primitive call on two f64 array operands read in
// place, with the primitive's Impl for the cases off the fast path.
type binCode struct {
	x, y arrOpnd
	impl ir.Impl
	pos  ir.Pos
}

// compileBin compiles e, a call of a binary primitive whose arguments are
// f64 arrays of ranks rx and ry; ok is false for other expressions.
func (c *fnComp) compileBin(e ir.Expr, op *ir.Prim, rx, ry int) (b *binCode, ok bool, err error) {
	pc, _ := e.(*ir.PrimCall)
	if plainOps || pc == nil || pc.Op != op || len(pc.Args) != 2 {
		return nil, false, nil
	}
	for j, r := range []int{rx, ry} {
		a := pc.Args[j].Type()
		if k, ok := ir.Leaf(a); !ok || k != ir.F64 || ir.Rank(a) != r {
			return nil, false, nil
		}
	}
	b = &binCode{pos: pc.P}
	if b.impl, err = specialize(op, []ir.Type{pc.Args[0].Type(), pc.Args[1].Type()}, pc.T, pc.Aux); err != nil {
		return nil, true, ir.Errorf(pc.P, "%v", err)
	}
	if b.x, err = c.compileArrOpnd(pc.Args[0]); err != nil {
		return nil, true, err
	}
	b.y, err = c.compileArrOpnd(pc.Args[1])
	return b, true, err
}

// eval evaluates the operands, in order, and then fast on them; when fast
// declines (ok false), the primitive itself. Fresh operands are recycled
// afterwards; an error is positioned at the call.
func (b *binCode) eval(fr *frame, fast func(x, y opnd) (r runtime.Value, ok bool, err error)) (runtime.Value, error) {
	x, err := b.x.get(fr)
	if err != nil {
		return runtime.Value{}, err
	}
	y, err := b.y.get(fr)
	if err != nil {
		return runtime.Value{}, err
	}
	r, ok, err := fast(x, y)
	if !ok {
		r, err = callImpl(b.impl, fr.m, []runtime.Value{b.x.value(x), b.y.value(y)})
	}
	if b.x.dies {
		fr.m.Recycle(x.a)
	}
	if b.y.dies && y.a != x.a {
		fr.m.Recycle(y.a)
	}
	if err != nil {
		return runtime.Value{}, errAt(b.pos, err)
	}
	return r, nil
}

// matmulCode is a compiled product a @ b of f64 with ranks (2, 1) or
// (1, 2).
type matmulCode struct {
	*binCode
	matvec bool // ranks (2, 1)
}

// compileMatmul compiles e if it is such a product; ok is false for other
// expressions.
func (c *fnComp) compileMatmul(e ir.Expr) (*matmulCode, bool, error) {
	if b, ok, err := c.compileBin(e, ir.PrimMatmul, 2, 1); ok || err != nil {
		return &matmulCode{b, true}, ok, err
	}
	b, ok, err := c.compileBin(e, ir.PrimMatmul, 1, 2)
	return &matmulCode{b, false}, ok, err
}

// run evaluates the product: a small one into a vector from smallVec, a
// large one, or one whose sizes differ, through the primitive. The result
// is fresh (nothing else refers to it).
func (p *matmulCode) run(fr *frame, tape int) (*runtime.Array, error) {
	r, err := p.eval(fr, func(x, y opnd) (runtime.Value, bool, error) {
		// rows × inner for a matrix-vector product, inner × cols for a
		// vector-matrix one.
		var n, k, inner int
		if p.matvec {
			n, k, inner = x.shape[0], x.shape[1], y.shape[0]
		} else {
			k, n, inner = y.shape[0], y.shape[1], x.shape[0]
		}
		if inner != k || k*n > smallMatWork {
			return runtime.Value{}, false, nil
		}
		if err := fr.m.Step(int64(max(k*n, n))); err != nil {
			return runtime.Value{}, true, err
		}
		out, err := smallVec(fr, tape, n)
		if err != nil {
			return runtime.Value{}, true, err
		}
		if p.matvec {
			runtime.MatVec(out.F, x.f, y.f, n, k)
		} else {
			runtime.VecMat(out.F, x.f, y.f, k, n)
		}
		return runtime.Arr(out), true, nil
	})
	if err != nil {
		return nil, err
	}
	return r.R.(*runtime.Array), nil
}

// compileSmallMatmul compiles a matrix-vector or vector-matrix product of
// f64 (compileMatmul); ok is false for other calls.
func (c *fnComp) compileSmallMatmul(e *ir.PrimCall) (evalFn, bool, error) {
	p, ok, err := c.compileMatmul(e)
	if !ok || err != nil {
		return nil, ok, err
	}
	tape := c.tape
	return func(fr *frame) (runtime.Value, error) {
		out, err := p.run(fr, tape)
		return runtime.Arr(out), err
	}, true, nil
}

// compileSmallDot compiles dot(a, b) of f64 vectors up to
// runtime.PollChunk elements, operands read in place, with the kernel the
// primitive uses at that length (so the same bits); differing lengths and
// longer vectors go through the primitive. ok is false for other calls.
func (c *fnComp) compileSmallDot(e *ir.PrimCall) (evalFn, bool, error) {
	b, ok, err := c.compileBin(e, ir.PrimDot, 1, 1)
	if !ok || err != nil {
		return nil, ok, err
	}
	return func(fr *frame) (runtime.Value, error) {
		return b.eval(fr, func(x, y opnd) (runtime.Value, bool, error) {
			if len(x.f) != len(y.f) || len(x.f) > runtime.PollChunk {
				return runtime.Value{}, false, nil
			}
			if err := fr.m.Step(int64(len(x.f))); err != nil {
				return runtime.Value{}, true, err
			}
			return runtime.F64(runtime.Dot(x.f, y.f)), true, nil
		})
	}, true, nil
}

// compileAccAddMatmul compiles acc_add(acc, -(a @ b)) and acc_add_at(acc,
// i, -(a @ b)) of a matrix-vector or vector-matrix product (the
// cotangent of Q (x - mu) with respect to x - mu, in the vectorized GMM):
// the product is subtracted from the
// accumulator (its row i) in place, with no array made. It is what the
// fused path (compileAccAddFused) does with the product as its leaf: the
// product, then the negation's steps, the accumulator's checks, the add
// of each negated element, and the accumulator's steps; so the bits,
// steps and errors are the same.
func (c *fnComp) compileAccAddMatmul(e *ir.PrimCall) (evalFn, bool, error) {
	at := e.Op == ir.PrimAccAddAt
	if !at && e.Op != ir.PrimAccAdd || len(e.Args) != 2+btoi(at) {
		return nil, false, nil
	}
	neg, ok := fusibleOp(e.Args[len(e.Args)-1])
	if !ok || neg.Op != ir.PrimNeg || ir.Rank(neg.T) != 1 || ir.Rank(e.Args[0].Type()) != 1+btoi(at) {
		return nil, false, nil
	}
	p, ok, err := c.compileMatmul(neg.Args[0])
	if !ok || err != nil {
		return nil, ok, err
	}
	head, err := c.compileAccHead(e, at)
	if err != nil {
		return nil, true, err
	}
	pos, negPos := e.P, neg.P
	return func(fr *frame) (runtime.Value, error) {
		av, a, i, err := head.eval(fr)
		if err != nil {
			return av, err
		}
		// The product comes from, and goes back to, the machine's
		// recycled vectors: after the first, no allocation.
		fresh, err := p.run(fr, 0)
		if err != nil {
			return runtime.Value{}, err
		}
		defer fr.m.Recycle(fresh)
		t := fresh.F
		if err := fr.m.Step(int64(len(t))); err != nil {
			return runtime.Value{}, errAt(negPos, err)
		}
		shape := [1]int{len(t)}
		dst, err := accTarget(a, at, i, shape[:])
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		for j, v := range t {
			dst[j] += -v
		}
		steps := len(dst)
		if !at {
			steps = len(a.F)
		}
		if err := fr.m.Step(int64(steps)); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return av, nil
	}, true, nil
}

// accHead is the accumulator of acc_add(acc, v) or acc_add_at(acc, i, v)
// and the latter's index, evaluated in that order before v.
type accHead struct {
	acc evalFn
	idx icode // nil for acc_add
	e   *ir.PrimCall
}

func (c *fnComp) compileAccHead(e *ir.PrimCall, at bool) (h accHead, err error) {
	h.e = e
	if h.acc, err = c.compile(e.Args[0]); err != nil || !at {
		return h, err
	}
	h.idx, err = c.typedI(e.Args[1])
	return h, err
}

// eval evaluates the accumulator, an f64 array, and the index (0 for
// acc_add).
func (h *accHead) eval(fr *frame) (av runtime.Value, a *runtime.Array, i int64, err error) {
	if av, err = h.acc(fr); err != nil {
		return av, nil, 0, err
	}
	if h.idx != nil {
		if i = h.idx(fr); fr.err != nil {
			return runtime.Value{}, nil, 0, fr.takeErr()
		}
	}
	a, _ = av.R.(*runtime.Array)
	if a == nil || a.Kind != runtime.ElemF64 {
		return runtime.Value{}, nil, 0, internalErrorf(h.e.P, "%s of %s", h.e.Op.Name, describe(av))
	}
	return av, a, i, nil
}
