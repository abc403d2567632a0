package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// compileTapeRead compiles x[i].k with x a variable holding a vector of
// tuples: a reverse pass's read of its tape (saved[i].1), or a forward
// sweep's column of one (build(n, fn(i) => saved[i].0)). The element is
// taken from the boxed storage in place, without the index primitive's
// generic call; the check, its message and position are the index's.
// ok is false for other projections.
func (c *fnComp) compileTapeRead(e *ir.Proj) (evalFn, bool, error) {
	ix, ok := e.X.(*ir.PrimCall)
	if !ok || plainTyped || ix.Op != ir.PrimIndex || len(ix.Args) != 2 || e.Index < 0 {
		return nil, false, nil
	}
	x, ok := ix.Args[0].(*ir.Var)
	if !ok || ir.Rank(x.T) != 1 || !isTuple(x.T.(*ir.Array).Elem) {
		return nil, false, nil
	}
	l, ok := c.resolve(x)
	if !ok || c.it.discards(e.X, e.Index) != nil {
		return nil, false, nil
	}
	i, err := c.typedI(ix.Args[1])
	if err != nil {
		return nil, true, err
	}
	k, ipos, pos := e.Index, ix.P, e.P
	return func(fr *frame) (runtime.Value, error) {
		a, _ := l.load(fr).R.(*runtime.Array)
		j := i(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		if a == nil || a.Kind != runtime.ElemBox || len(a.Shape) != 1 {
			return runtime.Value{}, internalErrorf(ipos, "index of %s", describe(l.load(fr)))
		}
		if uint64(j) >= uint64(len(a.Box)) {
			return runtime.Value{}, errAt(ipos, runtime.CheckIndex(j, len(a.Box)))
		}
		t, ok := a.Box[j].R.(runtime.Tuple)
		if !ok || k >= len(t) {
			return runtime.Value{}, internalErrorf(pos, "field %d of %s", k, describe(a.Box[j]))
		}
		return t[k], nil
	}, true, nil
}
