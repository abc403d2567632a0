package interp

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// compilePrim compiles a primitive call. Scalar-valued calls that typed
// code implements (arithmetic, indexing, sums of comprehensions) become
// typed code (typed.go); builds and maps with a literal lambda are
// inlined into this function. Every other call is specialized once by
// Prim.Eval for its static types, and at run time evaluates its arguments
// into scratch slots of the frame (no allocation) and calls the Impl.
func (c *fnComp) compilePrim(e *ir.PrimCall) (evalFn, error) {
	op, pos := e.Op, e.P
	if op == nil {
		return nil, ir.Errorf(pos, "primitive call without a primitive")
	}
	if err := op.CheckArity(len(e.Args)); err != nil {
		return nil, ir.Errorf(pos, "%v", err)
	}
	if k, ok := scalarKind(e.T); ok {
		if k == ir.F64 {
			if f, ok, err := c.typedPrimF(e); ok || err != nil {
				return boxF(f), err
			}
		} else if f, ok, err := c.typedPrimI(e); ok || err != nil {
			return boxI(f), err
		}
	}
	if fn, ok, err := c.unzipComp(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.inlineComp(e); ok || err != nil {
		return fn, err
	}
	if worthFusing(e) {
		return c.compileFusedArray(e)
	}
	if fn, ok, err := c.compileAccAddMatmul(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccAddFused(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccAddOuter(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccAddPad(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccAddConst(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileZerosLike(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccOneHot(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileAccAddAt(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileUpdate(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileTapeUpdate(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileSmallMatmul(e); ok || err != nil {
		return fn, err
	}
	if fn, ok, err := c.compileLoopSave(e); ok || err != nil {
		return fn, err
	}
	return c.compilePrimGeneral(e)
}

// compilePrimGeneral compiles a primitive call through its Impl. A short
// dot product, which typed code reaches only through here, reads its
// operands in place instead (ops.go).
func (c *fnComp) compilePrimGeneral(e *ir.PrimCall) (evalFn, error) {
	if fn, ok, err := c.compileSmallDot(e); ok || err != nil {
		return fn, err
	}
	op, pos := e.Op, e.P
	if op.Eval == nil {
		return unavailable(op, pos), nil
	}
	ts := make([]ir.Type, len(e.Args))
	for i, a := range e.Args {
		if a == nil {
			return nil, ir.Errorf(pos, "%s: argument %d is nil", op.Name, i+1)
		}
		ts[i] = a.Type()
	}
	impl, err := specialize(op, ts, e.T, e.Aux)
	if err != nil {
		if op.AD == ir.ADOperator {
			return unavailable(op, pos), nil
		}
		return nil, ir.Errorf(pos, "%v", err)
	}
	k := len(e.Args)
	base := c.alloc(k)
	dead := c.it.deadArgs(e)
	args := make([]evalFn, k)
	for j, a := range e.Args {
		if dead != nil && dead[j] == deadRow {
			args[j], err = c.compileRow(a.(*ir.PrimCall))
		} else {
			args[j], err = c.compile(a)
		}
		if err != nil {
			return nil, err
		}
	}
	c.depth = base
	return implCall(impl, args, base, pos, dead), nil
}

// specialize asks the primitive for its implementation at a site with
// these argument and result types.
func specialize(op *ir.Prim, args []ir.Type, result ir.Type, aux any) (impl ir.Impl, err error) {
	defer func() {
		if r := recover(); r != nil {
			impl, err = nil, panicError(r)
		}
	}()
	impl, err = op.Eval(&ir.Site{Prim: op, Args: args, Result: result, Aux: aux})
	if err == nil && impl == nil {
		err = fmt.Errorf("%s: no implementation for %s", op.Name, result)
	}
	return impl, err
}

// evalArgs evaluates args, in order, into slots base.. of the frame.
func evalArgs(fr *frame, args []evalFn, base int) ([]runtime.Value, error) {
	vs := fr.slots[base : base+len(args) : base+len(args)]
	for j, a := range args {
		v, err := a(fr)
		if err != nil {
			return nil, err
		}
		vs[j] = v
	}
	return vs, nil
}

// implCall evaluates the arguments into slots base.. of the frame and
// calls impl on them. An error from the Impl is positioned at the call
// unless it already carries a position (a closure the primitive applied
// failed inside its body). The arguments marked in dead are fresh arrays
// or rows that nothing refers to once impl returns: they are recycled
// (reuse.go).
func implCall(impl ir.Impl, args []evalFn, base int, pos ir.Pos, dead []uint8) evalFn {
	if dead != nil {
		return func(fr *frame) (runtime.Value, error) {
			vs, err := evalArgs(fr, args, base)
			if err != nil {
				return runtime.Value{}, err
			}
			r, err := callImpl(impl, fr.m, vs)
			for j, d := range dead {
				release(fr.m, d, vs[j])
			}
			if err != nil {
				return r, errAt(pos, err)
			}
			return r, nil
		}
	}
	return func(fr *frame) (runtime.Value, error) {
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		r, err := callImpl(impl, fr.m, vs)
		if err != nil {
			return r, errAt(pos, err)
		}
		return r, nil
	}
}

// callImpl calls a primitive's implementation, turning a Go panic in it
// into an error the caller positions.
func callImpl(impl ir.Impl, m *runtime.Machine, args []runtime.Value) (v runtime.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = runtime.Value{}, panicError(r)
		}
	}()
	return impl(m, args)
}

// unavailable is the code of a primitive that cannot run here: an AD
// operator that no AD pass has expanded, or a primitive without an
// evaluator. Reaching it is a run-time error at the call, not a failure
// of New, so the rest of the program still runs.
func unavailable(op *ir.Prim, pos ir.Pos) evalFn {
	msg := op.Name + ": this primitive cannot be evaluated in this build"
	if op.AD == ir.ADOperator {
		msg = op.Name + ": automatic differentiation is not available yet in this build"
	}
	return func(*frame) (runtime.Value, error) {
		return runtime.Value{}, &ir.Error{Pos: pos, Msg: msg}
	}
}
