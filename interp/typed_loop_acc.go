package interp

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// One-hot accumulations. Reverse mode turns a read a[i][j] of a matrix
// into acc_add_at(g, i, acc_add_at(zeros_like(a[i]), j, ybar)): a zero
// row with one element set, added into row i of the accumulator. Run as
// written, each element read in the forward pass costs a fresh zero array
// per level in the reverse pass, and the element-wise GMM's reverse loops
// spent most of their time making and adding them. compileAccOneHot runs
// the chain as g[i][j] += ybar in place. The zeros_like arguments are
// still evaluated (for their errors and shapes), the checks are the
// primitives', innermost first, each at its own call's position, and the
// steps charged are theirs, level by level. Every other element of the
// row gets + 0 as it did from the zero row, so -0 still becomes +0 and
// the results are the primitives' to the bit.

// maxOneHot bounds the depth of a chain run in place; deeper chains (a
// rank above maxOneHot) go through the primitives.
const maxOneHot = 8

// oneHotChain returns the levels of acc_add_at(A, i1, acc_add_at(
// zeros_like(L2), i2, ... acc_add_at(zeros_like(Lm), im, y))) with y an
// f64 scalar, outermost first, or nil when e is not such a chain.
func oneHotChain(e *ir.PrimCall) []*ir.PrimCall {
	if e.Op != ir.PrimAccAddAt || len(e.Args) != 3 {
		return nil
	}
	levels := []*ir.PrimCall{e}
	for cur := e; ; {
		inner, ok := cur.Args[2].(*ir.PrimCall)
		if !ok || inner.Op != ir.PrimAccAddAt || len(inner.Args) != 3 {
			break
		}
		z, ok := inner.Args[0].(*ir.PrimCall)
		if !ok || z.Op != ir.PrimZerosLike || len(z.Args) != 1 {
			break
		}
		levels = append(levels, inner)
		cur = inner
	}
	last := levels[len(levels)-1]
	if len(levels) < 2 || len(levels) > maxOneHot || ir.Rank(e.Args[0].Type()) != len(levels) {
		return nil
	}
	if k, ok := scalarKind(last.Args[2].Type()); !ok || k != ir.F64 {
		return nil
	}
	return levels
}

// compileAccOneHot compiles a one-hot chain (oneHotChain) to an update of
// the accumulator in place; ok is false for other expressions.
func (c *fnComp) compileAccOneHot(e *ir.PrimCall) (evalFn, bool, error) {
	levels := oneHotChain(e)
	if levels == nil {
		return nil, false, nil
	}
	m := len(levels)
	acc, err := c.compile(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	likes := make([]evalFn, m) // likes[k]: the argument of level k's zeros_like (k >= 1)
	idx := make([]icode, m)
	pos := make([]ir.Pos, m)
	for k, l := range levels {
		pos[k] = l.P
		if k > 0 {
			if likes[k], err = c.compile(l.Args[0].(*ir.PrimCall).Args[0]); err != nil {
				return nil, true, err
			}
		}
		if idx[k], err = c.typedI(l.Args[1]); err != nil {
			return nil, true, err
		}
	}
	val, err := c.typedF(levels[m-1].Args[2])
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) (runtime.Value, error) {
		var arrs [maxOneHot]*runtime.Array // arrs[0] the accumulator, arrs[k] level k's like
		var is [maxOneHot]int64
		av, err := acc(fr)
		if err != nil {
			return av, err
		}
		// Arguments in the primitives' order: A, i1, L2, i2, ..., Lm, im, y.
		for k := 0; k < m; k++ {
			v := av
			if k > 0 {
				if v, err = likes[k](fr); err != nil {
					return runtime.Value{}, err
				}
			}
			a, _ := v.R.(*runtime.Array)
			if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != m-k {
				return runtime.Value{}, internalErrorf(pos[k], "acc_add_at of %s", describe(v))
			}
			arrs[k] = a
			if is[k] = idx[k](fr); fr.err != nil {
				return runtime.Value{}, fr.takeErr()
			}
		}
		y := val(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		// The checks and steps of the levels, innermost first.
		for k := m - 1; k >= 0; k-- {
			a := arrs[k]
			if err := runtime.CheckIndex(is[k], a.Len()); err != nil {
				return runtime.Value{}, errAt(pos[k], err)
			}
			if k == m-1 {
				continue // a vector: no row shape, no steps
			}
			if !runtime.SameShape(a.Shape[1:], arrs[k+1].Shape) {
				return runtime.Value{}, errAt(pos[k], fmt.Errorf("acc_add_at: row shapes %s and %s differ", runtime.ShapeString(a.Shape[1:]), runtime.ShapeString(arrs[k+1].Shape)))
			}
			if k == 0 {
				addOneHot(arrs[0], is[:m], y)
			}
			if err := fr.m.Step(int64(a.RowSize())); err != nil {
				return runtime.Value{}, errAt(pos[k], err)
			}
		}
		return av, nil
	}, true, nil
}

// addOneHot adds to row is[0] of a the row that is zero but for y at
// is[1:]: every element of the row gets + 0, then the one gets + y, which
// is the primitives' a + (0 + y) to the bit. The indices are checked.
func addOneHot(a *runtime.Array, is []int64, y float64) {
	rs := a.RowSize()
	row := a.F[int(is[0])*rs : int(is[0]+1)*rs]
	off := 0
	for k := 1; k < len(is); k++ {
		off = off*a.Shape[k] + int(is[k])
	}
	for q := range row {
		row[q] += 0
	}
	row[off] += y
}
