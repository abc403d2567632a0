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
		if _, ok := zerosLikeCall(inner.Args[0]); !ok {
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
	acc, err := c.compile(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	oh, err := c.compileOneHot(levels)
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) (runtime.Value, error) {
		av, err := acc(fr)
		if err != nil {
			return av, err
		}
		if err := oh.add(fr, av); err != nil {
			return runtime.Value{}, err
		}
		return av, nil
	}, true, nil
}

// oneHotAdd is a one-hot chain's code after its accumulator: the
// arguments of its levels, compiled once, and the update they make.
// compileAccOneHot and accChain (a loop's accumulator in a slot) share it.
type oneHotAdd struct {
	likes []evalFn // likes[k]: the argument of level k's zeros_like (k >= 1)
	idx   []icode
	pos   []ir.Pos
	val   fcode
}

// compileOneHot compiles the levels of a one-hot chain (oneHotChain) but
// for the accumulator.
func (c *fnComp) compileOneHot(levels []*ir.PrimCall) (*oneHotAdd, error) {
	m := len(levels)
	oh := &oneHotAdd{likes: make([]evalFn, m), idx: make([]icode, m), pos: make([]ir.Pos, m)}
	var err error
	for k, l := range levels {
		oh.pos[k] = l.P
		if k > 0 {
			if oh.likes[k], err = c.compile(l.Args[0].(*ir.PrimCall).Args[0]); err != nil {
				return nil, err
			}
		}
		if oh.idx[k], err = c.typedI(l.Args[1]); err != nil {
			return nil, err
		}
	}
	if oh.val, err = c.typedF(levels[m-1].Args[2]); err != nil {
		return nil, err
	}
	return oh, nil
}

// add evaluates the chain's arguments in the primitives' order (A, i1,
// L2, i2, ..., Lm, im, y; av is A's value, already evaluated), then makes
// the levels' checks and charges their steps innermost first, adding y
// into av in place once every check has passed.
func (oh *oneHotAdd) add(fr *frame, av runtime.Value) error {
	m := len(oh.idx)
	var arrs [maxOneHot]*runtime.Array // arrs[0] the accumulator, arrs[k] level k's like
	var is [maxOneHot]int64
	for k := 0; k < m; k++ {
		v := av
		if k > 0 {
			var err error
			if v, err = oh.likes[k](fr); err != nil {
				return err
			}
		}
		a, _ := v.R.(*runtime.Array)
		if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != m-k {
			return internalErrorf(oh.pos[k], "acc_add_at of %s", describe(v))
		}
		arrs[k] = a
		if is[k] = oh.idx[k](fr); fr.err != nil {
			return fr.takeErr()
		}
	}
	y := oh.val(fr)
	if fr.err != nil {
		return fr.takeErr()
	}
	for k := m - 1; k >= 0; k-- {
		a := arrs[k]
		if err := runtime.CheckIndex(is[k], a.Len()); err != nil {
			return errAt(oh.pos[k], err)
		}
		if k == m-1 {
			continue // a vector: no row shape, no steps
		}
		if !runtime.SameShape(a.Shape[1:], arrs[k+1].Shape) {
			return errAt(oh.pos[k], fmt.Errorf("acc_add_at: row shapes %s and %s differ", runtime.ShapeString(a.Shape[1:]), runtime.ShapeString(arrs[k+1].Shape)))
		}
		if k == 0 {
			addOneHot(arrs[0], is[:m], y)
		}
		if err := fr.m.Step(int64(a.RowSize())); err != nil {
			return errAt(oh.pos[k], err)
		}
	}
	return nil
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

// compileAccAddFused compiles acc_add(acc, e) and acc_add_at(acc, i, e)
// with e an elementwise f64 chain (fuse.go): the chain's pieces are added
// into the accumulator as they come, so no array holds e. The reverse
// passes of elementwise code (an LSTM's gates) make one such array per
// cotangent and step otherwise. The chain runs, charges and fails as it
// does alone; then come the accumulator's checks, its add and its steps.
// A chain of more than one piece may read the elements it adds to, so it
// is evaluated into an array first, which is then added. e may also be
// pad_like(chain, lo, like) with lo and like atoms (the cotangent of a
// slice of a chain, as compileAccAddPad without the array v): the chain
// goes into rows lo.. of the target after pad_like's checks.
func (c *fnComp) compileAccAddFused(e *ir.PrimCall) (evalFn, bool, error) {
	at := e.Op == ir.PrimAccAddAt
	if !at && e.Op != ir.PrimAccAdd || len(e.Args) != 2+btoi(at) {
		return nil, false, nil
	}
	val := e.Args[len(e.Args)-1]
	pad := padOfAtoms(val)
	if pad != nil {
		val = pad.Args[0]
	}
	chain, ok := fusibleOp(val)
	if !ok || ir.Rank(chain.T) != ir.Rank(e.Args[0].Type())-btoi(at) {
		return nil, false, nil
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
	fz, err := c.compileFused(chain)
	if err != nil {
		return nil, true, err
	}
	pos, chainPos := e.P, chain.P
	var padTo func(fr *frame, a *runtime.Array, i int64, shape []int) ([]float64, error)
	if pad != nil {
		if padTo, err = c.padTarget(pad, at, pos); err != nil {
			return nil, true, err
		}
	}
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
		var dst []float64
		var tmp *runtime.Array
		err = fz.run(fr, chainPos, func(shape []int, n int) ([]float64, error) {
			var d []float64
			var terr error
			if padTo != nil {
				d, terr = padTo(fr, a, i, shape)
			} else if d, terr = accTarget(a, at, i, shape); terr != nil {
				terr = errAt(pos, terr)
			}
			if terr != nil {
				return nil, terr
			}
			dst = d
			if n <= runtime.SumPiece {
				return nil, nil // one piece: all read before any is added
			}
			t, terr := runtime.NewToFill(fr.m, runtime.ElemF64, shape)
			if terr != nil {
				return nil, terr
			}
			tmp = t
			return t.F, nil
		}, func(piece []float64) {
			if tmp == nil {
				runtime.AddTo(dst, dst, piece)
			}
		})
		if err != nil {
			return runtime.Value{}, err
		}
		if tmp != nil {
			runtime.AddTo(dst, dst, tmp.F)
			fr.m.Recycle(tmp)
		}
		steps := len(dst)
		if !at && padTo == nil {
			steps = len(a.F)
		}
		if err := fr.m.Step(int64(steps)); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return av, nil
	}, true, nil
}

// accTarget returns the elements of acc that acc_add (at false) or
// acc_add_at(acc, i, v) adds a value of the given shape to, after the
// primitives' checks.
func accTarget(acc *runtime.Array, at bool, i int64, shape []int) ([]float64, error) {
	if !at {
		if !runtime.SameShape(acc.Shape, shape) {
			return nil, fmt.Errorf("acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape), runtime.ShapeString(shape))
		}
		return acc.F, nil
	}
	if err := runtime.CheckIndex(i, acc.Len()); err != nil {
		return nil, err
	}
	if !runtime.SameShape(acc.Shape[1:], shape) {
		return nil, fmt.Errorf("acc_add_at: row shapes %s and %s differ", runtime.ShapeString(acc.Shape[1:]), runtime.ShapeString(shape))
	}
	rs := acc.RowSize()
	return acc.F[int(i)*rs : int(i+1)*rs], nil
}

// compileZerosLike compiles zeros_like(x) of an f64 vector as a vector of
// x's length that takes no shape slice (runtime.NewVec): the reverse
// passes make one per cotangent of a saved vector, and a recycled one
// then costs no allocation at all.
func (c *fnComp) compileZerosLike(e *ir.PrimCall) (evalFn, bool, error) {
	if e.Op != ir.PrimZerosLike || len(e.Args) != 1 || ir.Rank(e.T) != 1 {
		return nil, false, nil
	}
	if k, ok := ir.Leaf(e.T); !ok || k != ir.F64 {
		return nil, false, nil
	}
	x, err := c.compile(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	dies := c.it.freshArray(e.Args[0], map[*ir.Var]ir.Expr{})
	pos := e.P
	return func(fr *frame) (runtime.Value, error) {
		v, err := x(fr)
		if err != nil {
			return v, err
		}
		a, _ := v.R.(*runtime.Array)
		if a == nil || len(a.Shape) != 1 {
			return runtime.Value{}, internalErrorf(pos, "zeros_like of %s", describe(v))
		}
		n := a.Len()
		if dies {
			fr.m.Recycle(a) // the zero may take its storage
		}
		z, err := runtime.NewVec(fr.m, runtime.ElemF64, n)
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return runtime.Arr(z), nil
	}, true, nil
}
