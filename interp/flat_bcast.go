package interp

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Broadcast cotangents of tape fields. The element-wise GMM's reverse
// loops make, per point and component, `let c = acc_add(zeros_like(P),
// s)` with P a read of the tape (tape_2.1, saved_6[i].1) and read c only
// as c[j]: a two-element vector allocated to be read twice. As
// broadcastLet does for a variable P, no array is made: P is evaluated
// once where zeros_like evaluated it (a path of projections and indexes
// by variables: no allocation, but a row header when it reads a matrix
// row), the
// let charges acc_add's steps at its position, c0 = 0 + s is computed
// once (0 + -0 is +0, as the primitive's add into a zero gives), and each
// c[j] becomes `let _ = p[j] in c0`, whose read keeps the index check,
// position and message (c has P's length). bcastHead does this for any
// let compiler: compileLet's (a value) and loop bodies' (into). Where
// rewrite's shapezeros has replaced zeros_like(P) by zeros(n), the let is
// `let c = acc_add(zeros(n), s)` and bcastZerosHead does the same, the
// reads checked against a shared read-only zero vector of length n.

// bcastHead matches e. When ok, the caller compiles body in the scope
// it leaves (c.depth and the bindings are restored by done) and runs
// head before it.
func (c *fnComp) bcastHead(e *ir.Let) (head func(fr *frame) error, body ir.Expr, done func(), ok bool, err error) {
	if noVec || plainTyped || e.Var == nil {
		return nil, nil, nil, false, nil
	}
	acc, ok := e.Value.(*ir.PrimCall)
	if !ok || acc.Op != ir.PrimAccAdd || len(acc.Args) != 2 || !ir.Identical(acc.Args[1].Type(), ir.TF64) {
		return nil, nil, nil, false, nil
	}
	if zc, ok := zerosCall(acc.Args[0]); ok {
		if k, ok := ir.Leaf(zc.T); ok && k == ir.F64 && onlyIndexed(e.Body, e.Var) {
			return c.bcastZerosHead(e, acc, zc)
		}
		return nil, nil, nil, false, nil
	}
	z, ok := zerosLikeCall(acc.Args[0])
	if !ok {
		return nil, nil, nil, false, nil
	}
	p := z.Args[0]
	if !tapePath(p) || ir.Rank(p.Type()) != 1 {
		return nil, nil, nil, false, nil
	}
	if k, ok := ir.Leaf(p.Type()); !ok || k != ir.F64 || !onlyIndexed(e.Body, e.Var) {
		return nil, nil, nil, false, nil
	}
	base := c.depth
	y, isVar := p.(*ir.Var)
	var yv evalFn
	var sp int
	if isVar {
		if yv, err = c.compile(y); err != nil {
			return nil, nil, nil, true, err
		}
	} else {
		sp = c.alloc(1)
		y = ir.NewVar(e.Var.Name+"_shape", p.Type(), p.Pos())
		st, err := c.store(p, sp)
		if err != nil {
			c.depth = base
			return nil, nil, nil, true, err
		}
		c.bind(y, sp)
		yv = func(fr *frame) (runtime.Value, error) {
			if st(fr); fr.err != nil {
				return runtime.Value{}, fr.takeErr()
			}
			return fr.slots[sp], nil
		}
	}
	sv, err := c.typedF(acc.Args[1])
	if err != nil {
		c.depth = base
		return nil, nil, nil, true, err
	}
	c0 := ir.NewVar(e.Var.Name, ir.TF64, e.P)
	s := c.alloc(1)
	c.bind(c0, s)
	pos := acc.P
	head = func(fr *frame) error {
		v, err := yv(fr)
		if err != nil {
			return err
		}
		x := sv(fr)
		if fr.err != nil {
			return fr.takeErr()
		}
		a, _ := v.R.(*runtime.Array)
		if a == nil {
			return internalErrorf(pos, "zeros_like of %s", describe(v))
		}
		if err := fr.m.Step(int64(len(a.F))); err != nil {
			return errAt(pos, err)
		}
		setF(&fr.slots[s], 0+x)
		return nil
	}
	done = func() {
		delete(c.locals, c0)
		if !isVar {
			delete(c.locals, y)
		}
		c.depth = base
	}
	return head, bcastReads(e, y, c0), done, true, nil
}

// broadcastLet compiles a broadcast let whose value is the let's body's;
// ok is false for other lets.
func (c *fnComp) broadcastLet(e *ir.Let) (evalFn, bool, error) {
	head, body, done, ok, err := c.bcastHead(e)
	if !ok || err != nil {
		return nil, ok, err
	}
	b, err := c.compile(body)
	done()
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) (runtime.Value, error) {
		if err := head(fr); err != nil {
			return runtime.Value{}, err
		}
		return b(fr)
	}, true, nil
}

// broadcastInto compiles a broadcast let in a loop body (into).
func (c *fnComp) broadcastInto(e *ir.Let, k, dst int) (func(fr *frame) error, bool, error) {
	head, body, done, ok, err := c.bcastHead(e)
	if !ok || err != nil {
		return nil, ok, err
	}
	b, err := c.into(body, k, dst)
	done()
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) error {
		if err := head(fr); err != nil {
			return err
		}
		return b(fr)
	}, true, nil
}

// tapePath reports whether e is a variable under projections and indexes
// whose indexes are variables or constants: a read with no effect but its
// index checks, which a broadcast let evaluates where zeros_like did.
func tapePath(e ir.Expr) bool {
	for {
		switch x := e.(type) {
		case *ir.Var:
			return true
		case *ir.Proj:
			e = x.X
		case *ir.PrimCall:
			if x.Op != ir.PrimIndex || len(x.Args) != 2 {
				return false
			}
			switch x.Args[1].(type) {
			case *ir.Var, *ir.Const:
			default:
				return false
			}
			e = x.Args[0]
		default:
			return false
		}
	}
}

// onlyIndexed reports whether v is used in e, and only as v[j].
func onlyIndexed(e ir.Expr, v *ir.Var) bool {
	reads := 0
	var count func(x ir.Expr)
	count = func(x ir.Expr) {
		if p, ok := x.(*ir.PrimCall); ok && p.Op == ir.PrimIndex && len(p.Args) == 2 && p.Args[0] == ir.Expr(v) {
			reads++
		}
		for _, k := range ir.Children(x) {
			count(k)
		}
	}
	count(e)
	return reads > 0 && reads == varUses(e, v)
}

// bcastZerosHead is bcastHead for acc_add(zeros(n), s), the form
// rewrite's shapezeros gives the cotangent of a tape field read only for
// its length. It does what the general path does, in its order: n is
// evaluated and checked, zeros charges n steps at its position, s is
// evaluated, acc_add charges n steps at its own. The shape variable that
// the reads c[j] are checked against is a read-only zero vector of length
// n (sharedZeros), so nothing is allocated.
func (c *fnComp) bcastZerosHead(e *ir.Let, acc, z *ir.PrimCall) (head func(fr *frame) error, body ir.Expr, done func(), ok bool, err error) {
	base := c.depth
	nv, err := c.typedI(z.Args[0])
	if err != nil {
		return nil, nil, nil, true, err
	}
	sp := c.alloc(1)
	y := ir.NewVar(e.Var.Name+"_shape", z.T, z.P)
	c.bind(y, sp)
	sv, err := c.typedF(acc.Args[1])
	if err != nil {
		delete(c.locals, y)
		c.depth = base
		return nil, nil, nil, true, err
	}
	c0 := ir.NewVar(e.Var.Name, ir.TF64, e.P)
	s := c.alloc(1)
	c.bind(c0, s)
	zpos, pos := z.P, acc.P
	head = func(fr *frame) error {
		n64 := nv(fr)
		if fr.err != nil {
			return fr.takeErr()
		}
		n, err := runtime.CheckSize(n64)
		if err != nil {
			return errAt(zpos, err)
		}
		if err := fr.m.Step(int64(n)); err != nil {
			return errAt(zpos, err)
		}
		zeros, err := sharedZeros(fr.m, n)
		if err != nil {
			return errAt(zpos, err)
		}
		fr.slots[sp] = zeros
		x := sv(fr)
		if fr.err != nil {
			return fr.takeErr()
		}
		if err := fr.m.Step(int64(n)); err != nil {
			return errAt(pos, err)
		}
		setF(&fr.slots[s], 0+x)
		return nil
	}
	done = func() {
		delete(c.locals, c0)
		delete(c.locals, y)
		c.depth = base
	}
	return head, bcastReads(e, y, c0), done, true, nil
}

// bcastReads is body with each read c[j] of the broadcast let's variable
// c replaced by `let _ = y[j] in c0`: the same index check against a
// vector y of c's length, then the element every read gives.
func bcastReads(e *ir.Let, y, c0 *ir.Var) ir.Expr {
	var rec func(x ir.Expr) ir.Expr
	rec = func(x ir.Expr) ir.Expr {
		if r, ok := x.(*ir.PrimCall); ok && r.Op == ir.PrimIndex && len(r.Args) == 2 && r.Args[0] == ir.Expr(e.Var) {
			read := &ir.PrimCall{Op: ir.PrimIndex, Args: []ir.Expr{y, rec(r.Args[1])}, T: ir.TF64, P: r.P}
			return &ir.Let{Var: ir.NewVar("_", ir.TF64, r.P), Value: read, Body: c0, P: r.P}
		}
		return ir.Rebuild(x, rec)
	}
	return rec(e.Body)
}

// sharedZeroVecs caches the read-only zero vectors of up to
// len(sharedZeroVecs)-1 elements that sharedZeros hands out.
var sharedZeroVecs [257]atomic.Pointer[runtime.Array]

// sharedZeros returns a read-only vector of n zeros: shared and
// allocation-free for short ones (their storage is zeroPad, which nothing
// writes), a fresh vector for the longest. Only reads may see it.
func sharedZeros(m *runtime.Machine, n int) (runtime.Value, error) {
	if n < len(sharedZeroVecs) {
		if a := sharedZeroVecs[n].Load(); a != nil {
			return runtime.Arr(a), nil
		}
		a := &runtime.Array{Shape: []int{n}, Kind: runtime.ElemF64, F: zeroPad[:n:n]}
		sharedZeroVecs[n].CompareAndSwap(nil, a)
		return runtime.Arr(sharedZeroVecs[n].Load()), nil
	}
	if n <= len(zeroPad) {
		return runtime.Arr(&runtime.Array{Shape: []int{n}, Kind: runtime.ElemF64, F: zeroPad[:n:n]}), nil
	}
	z, err := runtime.NewVec(m, runtime.ElemF64, n)
	return runtime.Arr(z), err
}

// zerosCall is e as a call zeros(n) of an f64 vector, if it is one.
func zerosCall(e ir.Expr) (*ir.PrimCall, bool) {
	z, ok := e.(*ir.PrimCall)
	if !ok || z.Op != ir.PrimZeros || len(z.Args) != 1 || ir.Rank(z.T) != 1 {
		return nil, false
	}
	return z, true
}
