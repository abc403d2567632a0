package interp

import (
	"sync"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// evalFn evaluates one compiled expression in an activation's frame.
type evalFn func(fr *frame) (runtime.Value, error)

// frame is one activation of a def or lambda: its machine, its slots
// (parameters first, then let-bound and loop variables and argument
// scratch space, laid out at compile time) and, for a closure, the values
// it captured. n is the batch size while batched code runs. st is the
// stack the frames of calls made from this one are taken from (nil until
// the first such call).
type frame struct {
	m     *runtime.Machine
	slots []runtime.Value
	env   []runtime.Value
	n     int
	st    *stack
	err   error // the first error of the typed code running (typed.go)
	// tapes are the tape arenas this activation of a def runs that go
	// back to their sites when it returns (tape_keep.go).
	tapes []*tapeArena
}

// stack recycles frames for calls made by the interpreter's own code (a
// def called by name, a function value applied by a Call node). Calls nest
// strictly, and nothing refers to a frame after its activation ends
// (closures copy the values they capture, errors and results hold no
// frames), so the frame of a finished call can serve the next call at the
// same depth: a call in a loop allocates nothing.
//
// A stack belongs to one chain of nested calls on one goroutine: it is
// taken from a pool by an entry into the interpreter's code (a closure or
// def applied by a primitive) or created, lazily, by a frame allocated on
// its own (the entry call, a value def), and handed down through frames
// taken from it. If a Go panic unwinds past pushes without their pops,
// the recovery point is such an entry, whose whole stack is dropped.
type stack struct {
	frames []*frame
	depth  int
}

// Stacks for calls that come from outside the interpreter's code (a
// primitive applying a closure to each element) are pooled, frames and
// all, so that such calls do not allocate either. A stack goes back to the
// pool only after a normal return: one abandoned by a panic is dropped.
var stackPool = sync.Pool{New: func() any { return new(stack) }}

func getStack() *stack { return stackPool.Get().(*stack) }

func putStack(st *stack) {
	if st.depth == 0 {
		stackPool.Put(st)
	}
}

// stackOf returns the stack for the calls fr makes.
func stackOf(fr *frame) *stack {
	if fr.st == nil {
		fr.st = &stack{}
	}
	return fr.st
}

// push takes a frame of n slots off the stack. The slots are zero.
func (st *stack) push(m *runtime.Machine, n int, env []runtime.Value) *frame {
	if st.depth == len(st.frames) {
		st.frames = append(st.frames, &frame{st: st})
	}
	f := st.frames[st.depth]
	st.depth++
	if cap(f.slots) < n {
		f.slots = make([]runtime.Value, n)
	} else {
		f.slots = f.slots[:n]
	}
	f.m, f.env, f.n, f.err = m, env, 0, nil
	return f
}

// pop returns the top frame, clearing it so that it keeps no array alive.
func (st *stack) pop(f *frame) {
	clear(f.slots)
	f.env = nil
	if len(f.tapes) != 0 { // left by a def whose body failed to release them
		clear(f.tapes)
		f.tapes = f.tapes[:0]
	}
	st.depth--
}

// Frames are allocated together with their slots, in one object, for the
// common small sizes: a call costs one allocation, not two.
type (
	frame4 struct {
		frame
		buf [4]runtime.Value
	}
	frame8 struct {
		frame
		buf [8]runtime.Value
	}
	frame16 struct {
		frame
		buf [16]runtime.Value
	}
)

func newFrame(m *runtime.Machine, n int, env []runtime.Value) *frame {
	switch {
	case n <= 4:
		f := &frame4{}
		f.frame = frame{m: m, env: env, slots: f.buf[:n:n]}
		return &f.frame
	case n <= 8:
		f := &frame8{}
		f.frame = frame{m: m, env: env, slots: f.buf[:n:n]}
		return &f.frame
	case n <= 16:
		f := &frame16{}
		f.frame = frame{m: m, env: env, slots: f.buf[:n:n]}
		return &f.frame
	}
	return &frame{m: m, env: env, slots: make([]runtime.Value, n)}
}

// lambdaCode is a compiled lambda, shared by all closures made from it.
type lambdaCode struct {
	pos     ir.Pos
	nparams int
	nslots  int
	body    evalFn
	ftype   *ir.Func

	// The batched body (see batch.go), nil if the lambda cannot be batched.
	batch        evalFn
	batchSlots   int
	batchVarying bool
}

// closure is a lambda value: its code and a copy of the captured
// variables' values (values are immutable, so a copy is as good as a
// reference and keeps no frame alive).
type closure struct {
	code *lambdaCode
	env  []runtime.Value
}

var (
	_ runtime.BatchFunc = (*closure)(nil)
	_ runtime.BatchFunc = (*defFunc)(nil)
)

// Call implements runtime.Func for primitives that apply function values
// (map, reduce, ...). The arguments are copied: the caller may reuse args.
func (c *closure) Call(m *runtime.Machine, args []runtime.Value) (v runtime.Value, err error) {
	defer recoverAt(&err, c.code.pos)
	return c.call(m, nil, args, c.code.pos)
}

// call applies the closure in a frame from st (a new frame if st is nil);
// pos is the call, for step-limit errors.
func (c *closure) call(m *runtime.Machine, st *stack, args []runtime.Value, pos ir.Pos) (runtime.Value, error) {
	lc := c.code
	if len(args) != lc.nparams {
		return runtime.Value{}, internalErrorf(pos, "function of %d parameters called with %d arguments", lc.nparams, len(args))
	}
	if err := m.Step(1); err != nil {
		return runtime.Value{}, errAt(pos, err)
	}
	own := st == nil
	if own {
		st = getStack()
	}
	fr := st.push(m, lc.nslots, c.env)
	copy(fr.slots, args)
	v, err := lc.body(fr)
	st.pop(fr)
	if own {
		putStack(st)
	}
	return v, err
}

// CallBatch implements runtime.BatchFunc: with each argument stacked along
// a new outer axis of length n, it evaluates the lambda body once over the
// whole arrays. ok is false when the body cannot be batched (decided when
// the lambda was compiled); the caller then applies the closure element by
// element.
func (c *closure) CallBatch(m *runtime.Machine, n int, args []runtime.Value) (v runtime.Value, ok bool, err error) {
	lc := c.code
	if lc.batch == nil || len(args) != lc.nparams {
		return runtime.Value{}, false, nil
	}
	defer recoverAt(&err, lc.pos)
	if err := m.Step(1); err != nil {
		return runtime.Value{}, true, errAt(lc.pos, err)
	}
	fr := newFrame(m, lc.batchSlots, c.env)
	fr.n = n
	copy(fr.slots, args)
	v, err = lc.batch(fr)
	if err == nil && !lc.batchVarying {
		v, err = broadcast(m, n, v, lc.ftype.Result, lc.pos)
	}
	return v, true, err
}

// defFunc is a function def used as a value (map(f, x) with def f). One
// is made per Global node at compile time, so referring to a def never
// allocates; pos is that reference, the call position its frame reports
// when a primitive applies it.
type defFunc struct {
	code *defCode
	pos  ir.Pos
}

// Call implements runtime.Func.
func (f *defFunc) Call(m *runtime.Machine, args []runtime.Value) (v runtime.Value, err error) {
	defer recoverAt(&err, f.pos)
	return f.call(m, nil, args, f.pos)
}

// call runs the def in a frame from st (a new frame if st is nil).
func (f *defFunc) call(m *runtime.Machine, st *stack, args []runtime.Value, pos ir.Pos) (runtime.Value, error) {
	dc := f.code
	if len(args) != len(dc.params) {
		return runtime.Value{}, internalErrorf(pos, "%s takes %d arguments, called with %d", dc.name, len(dc.params), len(args))
	}
	own := st == nil
	if own {
		st = getStack()
	}
	fr := st.push(m, dc.nslots, nil)
	copy(fr.slots, args)
	v, err := dc.run(fr, pos)
	st.pop(fr)
	if own {
		putStack(st)
	}
	return v, err
}

// CallBatch implements runtime.BatchFunc for defs whose bodies can be
// batched (see batch.go).
func (f *defFunc) CallBatch(m *runtime.Machine, n int, args []runtime.Value) (v runtime.Value, ok bool, err error) {
	dc := f.code
	if dc.batch == nil || len(args) != len(dc.params) {
		return runtime.Value{}, false, nil
	}
	defer recoverAt(&err, f.pos)
	v, err = dc.runBatch(m, n, args, f.pos)
	return v, true, err
}

// recoverAt converts a panic escaping into code that is not the
// interpreter's (a primitive applying a function value, maybe on another
// goroutine) into an error at pos.
func recoverAt(err *error, pos ir.Pos) {
	if r := recover(); r != nil {
		*err = errAt(pos, panicError(r))
	}
}

// callValue applies a function value. The interpreter's own functions are
// called directly, in a frame from st, with the call site's position for
// their frames; any other runtime.Func (a builtin from elsewhere) through
// its interface, with its error positioned at the call.
func callValue(m *runtime.Machine, st *stack, f runtime.Value, args []runtime.Value, pos, fallback ir.Pos) (runtime.Value, error) {
	at := orPos(pos, fallback)
	switch fn := f.R.(type) {
	case *closure:
		return fn.call(m, st, args, at)
	case *defFunc:
		return fn.call(m, st, args, orPos(pos, fn.pos))
	case runtime.Func:
		v, err := fn.Call(m, args)
		if err != nil {
			return v, errAt(at, err)
		}
		return v, nil
	}
	return runtime.Value{}, internalErrorf(at, "calling a value that is not a function")
}
