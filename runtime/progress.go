package runtime

import "context"

// Progress is one iteration's report of an iterative standard-library
// method (SPEC §9, §11): the method's name, the iteration number from 1,
// the objective (or residual) value, the gradient (or residual) norm and
// the length of the step just taken.
type Progress struct {
	Method    string
	Iteration int64
	Value     float64
	GradNorm  float64
	Step      float64
}

type progressKey struct{}

// WithProgress returns a context under which calls report each iteration
// of the library's drivers to fn. fn runs on the calling goroutine, in
// iteration order; it must not block for long. Reporting never changes a
// result.
func WithProgress(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ProgressFunc returns the callback WithProgress put in ctx, or nil.
func ProgressFunc(ctx context.Context) func(Progress) {
	if ctx == nil {
		return nil
	}
	fn, _ := ctx.Value(progressKey{}).(func(Progress))
	return fn
}
