package interp

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// compileAccAddOuter compiles acc_add(acc, outer(x, y)) and
// acc_add_at(acc, i, outer(x, y)), the cotangent of a matrix-vector
// product's matrix added into an accumulator, as a rank-one update of
// acc (of its row i) in place: the vectorized GMM's reverse pass made one
// product matrix per point and component otherwise. Each element gets
// the product, rounded, then the add, as the primitives do, so the bits
// are theirs; outer's steps and checks come first, at its position, then
// the accumulator's.
func (c *fnComp) compileAccAddOuter(e *ir.PrimCall) (evalFn, bool, error) {
	at := e.Op == ir.PrimAccAddAt
	if !at && e.Op != ir.PrimAccAdd || len(e.Args) != 2+btoi(at) {
		return nil, false, nil
	}
	o, ok := e.Args[len(e.Args)-1].(*ir.PrimCall)
	if !ok || o.Op != ir.PrimOuter || len(o.Args) != 2 || ir.Rank(e.Args[0].Type()) != 2+btoi(at) {
		return nil, false, nil
	}
	base := c.alloc(len(e.Args) - 1 + 2)
	args, err := c.compileList(append(append([]ir.Expr(nil), e.Args[:len(e.Args)-1]...), o.Args...))
	c.depth = base
	if err != nil {
		return nil, true, err
	}
	xDies := c.it.freshArray(o.Args[0], map[*ir.Var]ir.Expr{})
	yDies := c.it.freshArray(o.Args[1], map[*ir.Var]ir.Expr{})
	pos, outerPos := e.P, o.P
	return func(fr *frame) (runtime.Value, error) {
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		n := len(vs)
		acc, x, y := vs[0].Array(), vs[n-2].Array(), vs[n-1].Array()
		if acc == nil || x == nil || y == nil {
			return runtime.Value{}, internalErrorf(pos, "%s of %s", e.Op.Name, describe(vs[0]))
		}
		total, err := runtime.MulSize(len(x.F), len(y.F))
		if err != nil {
			return runtime.Value{}, errAt(outerPos, err)
		}
		if err := fr.m.Step(int64(total)); err != nil {
			return runtime.Value{}, errAt(outerPos, err)
		}
		var i int64
		if at {
			i = vs[1].I
		}
		dst, err := accTarget(acc, at, i, []int{len(x.F), len(y.F)})
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		xs, ys := x.F, y.F
		if overlap(dst, xs) {
			xs = slices.Clone(xs) // x reads acc: use what it was
		}
		if overlap(dst, ys) {
			ys = slices.Clone(ys)
		}
		cols := len(ys)
		err = runtime.Pieces(fr.m, len(xs), cols, func(lo, hi int) error {
			runtime.OuterAddTo(dst[lo*cols:hi*cols], xs[lo:hi], ys)
			return nil
		})
		if err != nil {
			return runtime.Value{}, errAt(outerPos, err)
		}
		if xDies {
			recycle(fr.m, vs[n-2])
		}
		if yDies && y != x {
			recycle(fr.m, vs[n-1])
		}
		steps := len(dst)
		if !at {
			steps = len(acc.F)
		}
		if err := fr.m.Step(int64(steps)); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return vs[0], nil
	}, true, nil
}
