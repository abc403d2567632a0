package interp_test

// Tests of scratch.go: temporaries of tape bodies outside the tape arena.

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// scratchSrc is the vectorized GMM's data term and its gradient: the
// forward sweep saves a tape per point, inside which the products
// q[j] @ (x[i] - mu[j]) and their squares are temporaries (the scalar
// comprehension over j keeps only numbers); saved keeps such values in
// a build of tuples, one of them also a product's operand. mu's rows may
// be longer than x's (e > d), for the error of the subtraction inside
// the tape body.
const scratchSrc = `
def f(mu: [k][e]f64, q: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ -0.5 * sum((q[j] @ (x[i] - mu[j]))^2) for j < k ]) for i < n ])
def g(mu: [k][e]f64, q: [k][d][d]f64, x: [n][d]f64) = grad(fn(mu, q) => f(mu, q, x))(mu, q)
def saved(mu: [k][e]f64, q: [k][d][d]f64, x: [n][d]f64) =
  [ (x[i] - mu[j], q[j] @ (x[i] - mu[j]), let v = x[i] - mu[j] in (v, q[j] @ v)) for i < n, j < k ]
`

func scratchArray(shape []int, seed float64) runtime.Value {
	n := 1
	for _, s := range shape {
		n *= s
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Sin(seed + 0.37*float64(i))
	}
	if n > 1 {
		xs[1] = math.Copysign(0, -1)
	}
	a := runtime.FromF64(xs)
	a.Shape = shape
	return runtime.Arr(a)
}

// TestScratchTemporaries compiles scratchSrc twice, with temporaries of
// tape bodies outside the arena and (the reference) inside it, and checks
// the gradient and a build of tuples of such values: the same bits, the
// same outcome under every step limit up to the count, and the same
// error at the same position when mu's rows are too long.
func TestScratchTemporaries(t *testing.T) {
	res, err := pipeline.Compile(context.Background(), "scratch.nab", []byte(scratchSrc), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hot, err := interp.New(res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	done := interp.SetArenaTemps()
	ref, err := interp.New(res.Opt)
	done()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		def     string
		d, e    int
		k, n    int
		wantErr bool
	}{
		{"gradient d=2", "g", 2, 2, 3, 5, false},
		{"gradient d=3", "g", 3, 3, 4, 2, false},
		{"tuples d=2", "saved", 2, 2, 3, 4, false},
		{"gradient, mu too long", "g", 2, 3, 3, 4, true},
		{"tuples, mu too long", "saved", 2, 3, 2, 2, true},
	} {
		args := func() []runtime.Value {
			return []runtime.Value{scratchArray([]int{c.k, c.e}, 1), scratchArray([]int{c.k, c.d, c.d}, 2), scratchArray([]int{c.n, c.d}, 3)}
		}
		got, err := hot.Call(ctx, c.def, args(), runtime.Limits{})
		want, errRef := ref.Call(ctx, c.def, args(), runtime.Limits{})
		if c.wantErr {
			var e, eRef *ir.Error
			if err == nil || errRef == nil || !errors.As(err, &e) || !errors.As(errRef, &eRef) || e.Pos != eRef.Pos || err.Error() != errRef.Error() {
				t.Errorf("%s: error %v, the reference: %v", c.name, err, errRef)
			}
			continue
		}
		if err != nil || errRef != nil {
			t.Fatalf("%s: %v, the reference: %v", c.name, err, errRef)
		}
		if !interp.ValueBits(got, want) {
			t.Errorf("%s: %v, the reference %v", c.name, got, want)
		}
		// The step count and every limit below it.
		count := minSteps(t, ref, c.def, args)
		if h := minSteps(t, hot, c.def, args); h != count {
			t.Errorf("%s: %d steps, the reference %d", c.name, h, count)
		}
		for lim := int64(1); lim <= count; lim += max(1, count/97) {
			_, err := hot.Call(ctx, c.def, args(), runtime.Limits{Steps: lim})
			_, errRef := ref.Call(ctx, c.def, args(), runtime.Limits{Steps: lim})
			var e, eRef *ir.Error
			if (err == nil) != (errRef == nil) || err != nil && (!errors.As(err, &e) || !errors.As(errRef, &eRef) || e.Pos != eRef.Pos || err.Error() != errRef.Error()) {
				t.Errorf("%s, %d steps: %v, the reference: %v", c.name, lim, err, errRef)
			}
		}
	}
}

// minSteps is the least step limit under which def runs to the end.
func minSteps(t *testing.T, it *interp.Interp, def string, args func() []runtime.Value) int64 {
	t.Helper()
	ok := func(lim int64) bool {
		_, err := it.Call(context.Background(), def, args(), runtime.Limits{Steps: lim})
		if err != nil && !errors.Is(err, runtime.ErrStepLimit) {
			t.Fatal(err)
		}
		return err == nil
	}
	lo, hi := int64(0), int64(1)
	for !ok(hi) {
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		if mid := lo + (hi-lo)/2; ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
