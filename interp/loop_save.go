package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// loop_save(n, init, fn(j, st) => body), reverse mode's forward sweep of a
// loop, runs through the primitive's implementation when compiled like
// any call: a closure made per evaluation and called per iteration, each
// call taking a frame from the pool and deferring a recover. With a
// literal lambda the body is compiled into the enclosing frame instead,
// its index and state in two slots, as inlined comprehensions are. The
// states, the steps (two per iteration, as the primitive's call and the
// closure's each take one), the polling and the errors are the
// primitive's. When the states are tuples (tapes) the body's tuples come
// from a tape arena, as a build's of tuples do (tape.go).

// compileLoopSave compiles loop_save with a literal lambda (ok is false
// for other calls).
func (c *fnComp) compileLoopSave(e *ir.PrimCall) (evalFn, bool, error) {
	if e.Op != ir.PrimLoopSave || len(e.Args) != 3 {
		return nil, false, nil
	}
	lam, ok := literalLambda(e.Args[2], 2)
	if !ok {
		return nil, false, nil
	}
	at, ok := e.T.(*ir.Array)
	if !ok {
		return nil, false, nil
	}
	count, err := c.typedI(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	init, err := c.compile(e.Args[1])
	if err != nil {
		return nil, true, err
	}
	base := c.depth
	tape := 0
	if c.tapeOwner(at.Elem, lam.Body) {
		tape = c.alloc(1) + 1
		c.tape = tape
	}
	ix := c.alloc(2)
	c.bind(lam.Params[0], ix)
	c.bind(lam.Params[1], ix+1)
	body, err := c.compile(lam.Body)
	delete(c.locals, lam.Params[0])
	delete(c.locals, lam.Params[1])
	c.depth = base
	if tape != 0 {
		c.tape = 0
	}
	if err != nil {
		return nil, true, err
	}
	st := ir.StackerOf("loop_save", at.Elem)
	pos, lpos, small := e.P, lam.P, !noTapeSmallChunks
	var site *tapeSite
	if tape != 0 {
		site = c.tapeSiteFor()
	}
	return func(fr *frame) (runtime.Value, error) {
		n := count(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		state, err := init(fr)
		if err != nil {
			return runtime.Value{}, err
		}
		n = max(n, 0)
		if tape != 0 {
			fr.slots[tape-1] = runtime.Value{R: site.arena(fr, small)}
		}
		a, err := st.Stack(fr.m, int(n)+1, func(i int) (runtime.Value, error) {
			if i == 0 {
				return state, nil
			}
			if err := fr.m.Step(1); err != nil {
				return runtime.Value{}, errAt(pos, err)
			}
			if err := fr.m.Step(1); err != nil {
				return runtime.Value{}, errAt(lpos, err)
			}
			fr.slots[ix] = runtime.Value{I: int64(i - 1)}
			fr.slots[ix+1] = state
			state, err = body(fr)
			return state, err
		})
		fr.slots[ix+1] = runtime.Value{} // the last state stays only in the result
		if tape != 0 {
			fr.slots[tape-1] = runtime.Value{} // the arena dies with what it made
		}
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return runtime.Arr(a), nil
	}, true, nil
}
