package interp

// update(a, i, v) of an array that is not fresh copies a. In the forward
// sweep of a recurrence over a matrix state (an LSTM's layers:
// update(update(state, 2i, hidden), 2i + 1, cell), the old state saved on
// the tape) that copy is the next state, which the next step saves: tape
// data. Through the primitive's implementation each copy cost three
// allocations (header, shape, elements) charged one by one, about a tenth
// of the LSTM gradient. Inside a tape body, a small f64 copy is carved
// from the tape arena instead, as the body's small vectors are; the
// checks, steps and errors are the primitive's (ir.CheckUpdate), and
// anything else runs the implementation.

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// compileTapeUpdate compiles update(a, i, v) with a an f64 array of rank 1
// or 2 inside a tape body (ok is false for other calls, and for a fresh
// a, which compileUpdate writes in place).
func (c *fnComp) compileTapeUpdate(e *ir.PrimCall) (evalFn, bool, error) {
	if noTapeUpdate || e.Op != ir.PrimUpdate || len(e.Args) != 3 || c.tape == 0 || !isF64Rank(e.Args[0].Type(), 1, 2) ||
		c.it.deadArgs(e) != nil {
		return nil, false, nil
	}
	ts := []ir.Type{e.Args[0].Type(), e.Args[1].Type(), e.Args[2].Type()}
	impl, err := specialize(e.Op, ts, e.T, e.Aux)
	if err != nil {
		return nil, true, ir.Errorf(e.P, "%v", err)
	}
	base := c.alloc(3)
	args, err := c.compileList(e.Args)
	c.depth = base
	if err != nil {
		return nil, true, err
	}
	pos, tape := e.P, c.tape
	return func(fr *frame) (runtime.Value, error) {
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		a, ok := vs[0].R.(*runtime.Array)
		ar := arenaOf(fr, tape)
		if !ok || a.Kind != runtime.ElemF64 || len(a.F) > tapeMaxElems || ar == nil {
			r, err := callImpl(impl, fr.m, vs)
			if err != nil {
				return r, errAt(pos, err)
			}
			return r, nil
		}
		if err := ir.CheckUpdate(fr.m, a, vs[1].I, vs[2]); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		b, err := ar.like(a)
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		copy(b.F, a.F)
		b.SetRow(int(vs[1].I), vs[2])
		tapeUpdates.Add(1)
		return runtime.Arr(b), nil
	}, true, nil
}

// noTapeUpdate, set by tests, compiles every update through the
// primitive's implementation (the reference); tapeUpdates counts the
// copies carved from an arena, so that the tests can tell one was.
var (
	noTapeUpdate bool
	tapeUpdates  atomic.Int64
)
