package runtime

import (
	"context"
	"errors"
	"fmt"
)

// Value is a run-time value of the interpreter. Which field is meaningful
// follows from the static type, which the interpreter always knows:
// f64 in F; i64 in I; bool in I (0 or 1); arrays as *Array, tuples as
// Tuple and functions as Func in R. Value is passed by value so scalars
// never allocate.
type Value struct {
	F float64
	I int64
	R any
}

// Tuple is the run-time form of a tuple.
type Tuple []Value

// Func is a function value: a closure of the interpreter or a builtin.
type Func interface {
	Call(m *Machine, args []Value) (Value, error)
}

// F64, I64 and Bool wrap scalars.
func F64(x float64) Value { return Value{F: x} }
func I64(i int64) Value   { return Value{I: i} }
func Bool(b bool) Value {
	if b {
		return Value{I: 1}
	}
	return Value{}
}

// Arr wraps an array.
func Arr(a *Array) Value { return Value{R: a} }

// Tup wraps a tuple.
func Tup(vs ...Value) Value { return Value{R: Tuple(vs)} }

// AsBool reads a bool.
func (v Value) AsBool() bool { return v.I != 0 }

// Array returns the value's array (nil if it is not one).
func (v Value) Array() *Array { a, _ := v.R.(*Array); return a }

// Tuple returns the value's tuple elements.
func (v Value) Tuple() Tuple { t, _ := v.R.(Tuple); return t }

// Fn returns the value's function.
func (v Value) Fn() Func { f, _ := v.R.(Func); return f }

// Limits bounds a call: Steps is the most evaluation steps (loop
// iterations, calls and elements of array primitives), Memory the most
// bytes of array storage it may hold alive at once (memory.go). Zero
// means no limit; Memory is in any case capped by SystemMemory.
type Limits struct {
	Steps  int64
	Memory int64
}

// Machine is the state of one call: its context, limits and counters.
// A Machine is used by one goroutine at a time.
type Machine struct {
	Ctx    context.Context
	Limits Limits
	steps  int64
	mem    memMeter
	free   []*Array // recycled arrays (recycle.go)
}

// NewMachine starts a call under ctx and limits; a nil ctx is
// context.Background() (callers that take a context from their user
// reject nil themselves).
func NewMachine(ctx context.Context, lim Limits) *Machine {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Machine{Ctx: ctx, Limits: lim}
}

// ErrStepLimit and ErrMemoryLimit report exhausted limits; cancellation
// reports the context's error.
var (
	ErrStepLimit   = errors.New("step limit exceeded")
	ErrMemoryLimit = errors.New("memory limit exceeded")
)

// pollEvery is how many steps may pass between two looks at the context:
// a step is at most a few nanoseconds of work, so cancellation is seen
// within a few tens of microseconds.
const pollEvery = 1 << 12

// Step charges n steps and checks cancellation every pollEvery steps.
func (m *Machine) Step(n int64) error {
	if m == nil {
		return nil
	}
	before := m.steps
	m.steps += n
	if m.Limits.Steps > 0 && m.steps > m.Limits.Steps {
		return fmt.Errorf("%w (%d steps)", ErrStepLimit, m.Limits.Steps)
	}
	if before/pollEvery != m.steps/pollEvery {
		if err := m.Ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Steps returns the steps charged so far.
func (m *Machine) Steps() int64 { return m.steps }

// Alloc checks, before allocating, that bytes more of array storage fit
// under the memory limit, and charges them. Storage allocated by the New
// functions, the Stacker or Charge is also watched until it is collected;
// storage only charged through Alloc counts until the next measurement.
func (m *Machine) Alloc(bytes int64) error { return m.reserve(bytes) }

// BatchFunc is a function that can also be applied to whole arrays at
// once: CallBatch(m, args) with each args[i] an array of the parameter's
// type stacked along a new outer axis of length n returns the stacked
// results, as map would. It reports ok = false when the function cannot be
// batched (then map calls it element by element).
type BatchFunc interface {
	Func
	CallBatch(m *Machine, n int, args []Value) (v Value, ok bool, err error)
}
