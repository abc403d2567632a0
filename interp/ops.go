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
	g, err := c.compile(e)
	return arrOpnd{g: g, dies: c.it.freshArray(e, map[*ir.Var]ir.Expr{})}, err
}

// get evaluates the operand: its array, and for a row the row's flat
// elements and shape (else the array's). The checks and errors are the
// index primitive's.
func (o *arrOpnd) get(fr *frame) (a *runtime.Array, f []float64, shape []int, row int, err error) {
	v, err := o.g(fr)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	a, _ = v.R.(*runtime.Array)
	if a == nil {
		return nil, nil, nil, 0, internalErrorf(o.pos, "operand %s is not an array", describe(v))
	}
	if o.idx == nil {
		return a, a.F, a.Shape, 0, nil
	}
	i := o.idx(fr)
	if fr.err != nil {
		return nil, nil, nil, 0, fr.takeErr()
	}
	if err := runtime.CheckIndex(i, a.Len()); err != nil {
		return nil, nil, nil, 0, errAt(o.pos, err)
	}
	rs := a.RowSize()
	return a, a.F[int(i)*rs : (int(i)+1)*rs], a.Shape[1:], int(i), nil
}

// value is the operand as the primitive sees it (a row is made here),
// for the slow path.
func (o *arrOpnd) value(a *runtime.Array, row int) runtime.Value {
	if o.idx == nil {
		return runtime.Arr(a)
	}
	return a.At(row)
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

// matmulCode is a compiled product a @ b of f64 with ranks (2, 1) or
// (1, 2).
type matmulCode struct {
	x, y   arrOpnd
	impl   ir.Impl // the primitive, off the fast path
	pos    ir.Pos
	matvec bool // ranks (2, 1)
}

// compileMatmul compiles e if it is such a product; ok is false for other
// expressions.
func (c *fnComp) compileMatmul(e ir.Expr) (p *matmulCode, ok bool, err error) {
	pc, _ := e.(*ir.PrimCall)
	if plainOps || pc == nil || pc.Op != ir.PrimMatmul || len(pc.Args) != 2 {
		return nil, false, nil
	}
	ra, rb := ir.Rank(pc.Args[0].Type()), ir.Rank(pc.Args[1].Type())
	if !(ra == 2 && rb == 1 || ra == 1 && rb == 2) {
		return nil, false, nil
	}
	for _, a := range pc.Args {
		if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 {
			return nil, false, nil
		}
	}
	p = &matmulCode{pos: pc.P, matvec: ra == 2}
	if p.impl, err = specialize(pc.Op, []ir.Type{pc.Args[0].Type(), pc.Args[1].Type()}, pc.T, pc.Aux); err != nil {
		return nil, true, ir.Errorf(pc.P, "%v", err)
	}
	if p.x, err = c.compileArrOpnd(pc.Args[0]); err != nil {
		return nil, true, err
	}
	p.y, err = c.compileArrOpnd(pc.Args[1])
	return p, true, err
}

// run evaluates the product: a small one into a vector from smallVec, a
// large one, or one whose sizes differ, through the primitive. It returns
// the result, fresh (nothing else refers to it).
func (p *matmulCode) run(fr *frame, tape int) (res []float64, fresh *runtime.Array, err error) {
	xa, xf, xs, xi, err := p.x.get(fr)
	if err != nil {
		return nil, nil, err
	}
	ya, yf, ys, yi, err := p.y.get(fr)
	if err != nil {
		return nil, nil, err
	}
	// rows × inner for a matrix-vector product, inner × cols for a
	// vector-matrix one; n < 0 when the inner sizes differ.
	var k, n int
	if p.matvec {
		n, k = xs[0], xs[1]
		if ys[0] != k {
			n = -1
		}
	} else {
		k, n = ys[0], ys[1]
		if xs[0] != k {
			n = -1
		}
	}
	if n >= 0 && k*n <= smallMatWork {
		if err = fr.m.Step(int64(max(k*n, n))); err == nil {
			if fresh, err = smallVec(fr, tape, n); err == nil {
				res = fresh.F
				if p.matvec {
					runtime.MatVec(res, xf, yf, n, k)
				} else {
					runtime.VecMat(res, xf, yf, k, n)
				}
			}
		}
	} else {
		var r runtime.Value
		r, err = callImpl(p.impl, fr.m, []runtime.Value{p.x.value(xa, xi), p.y.value(ya, yi)})
		if fresh, _ = r.R.(*runtime.Array); fresh != nil {
			res = fresh.F
		}
	}
	if p.x.dies {
		fr.m.Recycle(xa)
	}
	if p.y.dies {
		fr.m.Recycle(ya)
	}
	if err != nil {
		return nil, nil, errAt(p.pos, err)
	}
	return res, fresh, nil
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
		_, out, err := p.run(fr, tape)
		if err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(out), nil
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
	acc, err := c.compile(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	var idx icode
	if at {
		if idx, err = c.typedI(e.Args[1]); err != nil {
			return nil, true, err
		}
	}
	pos, negPos := e.P, neg.P
	return func(fr *frame) (runtime.Value, error) {
		av, err := acc(fr)
		if err != nil {
			return av, err
		}
		var i int64
		if at {
			if i = idx(fr); fr.err != nil {
				return runtime.Value{}, fr.takeErr()
			}
		}
		a, _ := av.R.(*runtime.Array)
		if a == nil || a.Kind != runtime.ElemF64 {
			return runtime.Value{}, internalErrorf(pos, "%s of %s", e.Op.Name, describe(av))
		}
		// The product comes from, and goes back to, the machine's
		// recycled vectors: after the first, no allocation.
		t, fresh, err := p.run(fr, 0)
		if err != nil {
			return runtime.Value{}, err
		}
		defer fr.m.Recycle(fresh)
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
