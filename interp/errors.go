package interp

import (
	"context"
	"errors"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// CauseError is a positioned run-time error that has a Go cause a caller
// may want to test for: an exhausted step or memory limit
// (runtime.ErrStepLimit, runtime.ErrMemoryLimit) or the cancellation of
// the call's context. It unwraps to both the *ir.Error, which carries the
// position, message and frames, and the cause, so that
//
//	errors.Is(err, runtime.ErrStepLimit)
//	errors.Is(err, context.Canceled)
//	errors.As(err, &irErr) // irErr *ir.Error
//
// all work. Every other run-time error is returned as a plain *ir.Error.
// (ir.Error has no cause of its own; if it gains one, this type can go.)
type CauseError struct {
	Err   *ir.Error
	Cause error
}

func (e *CauseError) Error() string { return e.Err.Error() }

// Unwrap returns the positioned error and the cause.
func (e *CauseError) Unwrap() []error { return []error{e.Err, e.Cause} }

// positioned finds the positioned error inside err, if there is one: a
// *CauseError or an *ir.Error, possibly wrapped by code between the
// interpreter and the failure (a primitive that calls a closure and adds
// context). It returns the *ir.Error to extend with frames and the error
// to pass on.
func positioned(err error) (*ir.Error, error) {
	var ce *CauseError
	if errors.As(err, &ce) {
		return ce.Err, ce
	}
	var ie *ir.Error
	if errors.As(err, &ie) {
		return ie, ie
	}
	return nil, nil
}

// errAt gives err the position pos unless it already has one: a failure
// is positioned once, by the innermost expression that sees it, and
// passes unchanged through the expressions around it. Causes worth testing
// for survive as a CauseError.
func errAt(pos ir.Pos, err error) error {
	if _, pe := positioned(err); pe != nil {
		return pe
	}
	e := &ir.Error{Pos: pos, Msg: err.Error()}
	if isTransient(err) {
		return &CauseError{Err: e, Cause: err}
	}
	return e
}

// withFrame records that err unwound through an active def.
func withFrame(err error, f ir.Frame) error {
	ie, pe := positioned(err)
	if pe == nil {
		pe = errAt(f.DefPos, err)
		ie, _ = positioned(pe)
	}
	ie.Frames = append(ie.Frames, f)
	// An error inside the standard library is the caller's (SPEC §11):
	// it moves to the call in the user's program, and the library frames
	// stay in the backtrace. (Calls that were inlined got the call's
	// position at compile time, ir.GuardsAt.)
	if ir.IsLibraryPos(ie.Pos) && f.Call.IsValid() && !ir.IsLibraryPos(f.Call) {
		ie.Pos = f.Call
	}
	return pe
}

// isTransient reports whether an error comes from the circumstances of one
// call (its limits or its context) rather than from the program, so that
// the same evaluation may succeed in another call. Value defs do not cache
// such errors.
func isTransient(err error) bool {
	return errors.Is(err, runtime.ErrStepLimit) || errors.Is(err, runtime.ErrMemoryLimit) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// cloneError copies a cached error so that each caller may append its own
// frames.
func cloneError(e *ir.Error) *ir.Error {
	c := *e
	c.Frames = append([]ir.Frame(nil), e.Frames...)
	return &c
}

// panicError turns a recovered Go panic into an error without position;
// the caller positions it. A user sees "internal error: ..." at the
// expression that was running, never a Go stack trace.
func panicError(r any) error {
	if e, ok := r.(error); ok {
		if _, pe := positioned(e); pe != nil {
			return pe
		}
		return fmt.Errorf("internal error: %w", e)
	}
	return fmt.Errorf("internal error: %v", r)
}

// internalErrorf reports a state the type system should have ruled out
// (a tuple where an array was expected, ...): a bug in the compiler or
// in the values an embedder passed, reported at pos.
func internalErrorf(pos ir.Pos, format string, args ...any) error {
	return &ir.Error{Pos: pos, Msg: "internal error: " + fmt.Sprintf(format, args...)}
}
