package interp_test

// Tests of tape_keep.go: tape arenas recycled across calls of a def,
// against the same programs compiled with every arena dropped with its
// tape (interp.SetNoTapeRecycle).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// tapeKeepSrc has builds of tuples (tapes) whose def results do not reach
// the tape (sums, grad) and ones whose results do: the tape itself, a
// tuple holding one of its elements, a closure over it, an element taken
// through an inlined call.
const tapeKeepSrc = `
def sums(x: [n]f64, k: i64): f64 =
  let t = [(x * f64(j), f64(j), exp(x) - f64(j)) for j < k] in
  sum([sum(t[j].0) + t[j].1 * t[j].2[0] for j < k])
def tape(x: [n]f64, k: i64) = [(x * f64(j), f64(j)) for j < k]
def pick(x: [n]f64, k: i64) =
  let t = [(x * f64(j), f64(j), x + f64(j)) for j < k] in
  (t[k - 1], sum([t[j].1 + t[j].2[0] for j < k]))
def clo(x: [n]f64, k: i64) =
  let t = [(x * f64(j), f64(j)) for j < k] in
  fn(j: i64) => t[j]
def useclo(x: [n]f64, k: i64) = clo(x, k)(1)
def g(x: [n]f64, k: i64) = grad(fn(x) => sums(x, k))(x)`

func keepArgs(seed float64, n, k int64) func() []runtime.Value {
	return func() []runtime.Value { return []runtime.Value{flatArray(seed, int(n)), runtime.I64(k)} }
}

// tapeKeepCases recycle: their results reach no chunk.
var tapeKeepCases = []fastCase{
	lstmCase,
	{name: "GMM vectorized gradient", src: "../cmd/nablabench/gmm.nab", file: true, def: "gmm_grad", args: gmmVecArgs},
	{name: "sums", src: tapeKeepSrc, def: "sums", args: keepArgs(1, 5, 7)},
	{name: "gradient of sums", src: tapeKeepSrc, def: "g", args: keepArgs(2, 6, 9)},
	{name: "matrix state", src: tapeUpdSrc, def: "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3, 3), runtime.I64(2)} }},
	{name: "matrix state, index out of range", src: tapeUpdSrc, def: "g", wantErr: true,
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3, 3), runtime.I64(3)} }},
}

// tapeEscapeCases must not recycle: their results reach the tape.
var tapeEscapeCases = []fastCase{
	{name: "the tape itself", src: tapeKeepSrc, def: "tape", args: keepArgs(3, 4, 6), noRun: true},
	{name: "a tuple holding a tape element", src: tapeKeepSrc, def: "pick", args: keepArgs(4, 5, 6), noRun: true},
	{name: "an element through an inlined call", src: tapeKeepSrc, def: "useclo", args: keepArgs(6, 3, 4), noRun: true},
}

// gmmVecArgs are small arguments of gmm.nab's gmm_grad: alphas [K],
// means and icf [K][d] and [K][d(d+1)/2], x [n][d], gamma, m.
func gmmVecArgs() []runtime.Value {
	return []runtime.Value{flatArray(1, 3), flatArray(2, 3, 2), flatArray(3, 3, 3), flatArray(4, 7, 2), runtime.F64(0.7), runtime.I64(1)}
}

// TestTapeRecycle compiles each case with and without recycling and
// checks that the calls agree (checkFastPath: bits, positioned errors,
// steps, every step limit) and that recycling ran or, for results that
// reach the tape, did not and was refused.
func TestTapeRecycle(t *testing.T) {
	for _, c := range tapeKeepCases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoTapeRecycle, interp.TapeRecycled)
		})
	}
	for _, c := range tapeEscapeCases {
		t.Run(c.name, func(t *testing.T) {
			before := interp.TapeEscapes()
			checkFastPath(t, c, interp.SetNoTapeRecycle, interp.TapeRecycled)
			if interp.TapeEscapes() == before {
				t.Error("no release was refused")
			}
		})
	}
}

// TestTapeRecycleHeld keeps the result of every call of a sequence with
// different arguments (sizes, an error between them) and checks, once all
// are made, that each still has the bits the reference gives: a later
// call's tape must never be carved from storage an earlier result holds.
func TestTapeRecycleHeld(t *testing.T) {
	type call struct {
		def  string
		args func() []runtime.Value
	}
	progs := []struct {
		name, src string
		file      bool
		calls     []call
	}{
		{"LSTM", "../bench/gradbench/lstm.nab", true, []call{
			{"jacobian", lstmCase.args},
			{"jacobian", func() []runtime.Value {
				return []runtime.Value{flatArray(7, 4, 12), flatArray(8, 3, 3), flatArray(9, 4, 3), flatArray(10, 9, 3)}
			}},
			{"jacobian", func() []runtime.Value {
				return []runtime.Value{flatArray(11, 2, 8), flatArray(12, 3, 2), flatArray(13, 2, 2), flatArray(14, 3, 2)}
			}},
			{"jacobian", func() []runtime.Value { // a size mismatch: an error
				return []runtime.Value{flatArray(7, 4, 12), flatArray(8, 3, 4), flatArray(9, 4, 3), flatArray(10, 9, 3)}
			}},
			{"jacobian", lstmCase.args},
		}},
		{"tapes", tapeKeepSrc, false, []call{
			{"sums", keepArgs(1, 5, 7)}, {"pick", keepArgs(2, 5, 7)}, {"sums", keepArgs(3, 5, 70)},
			{"g", keepArgs(4, 5, 7)}, {"tape", keepArgs(5, 5, 7)}, {"g", keepArgs(6, 9, 30)},
			{"useclo", keepArgs(7, 5, 7)}, {"sums", keepArgs(8, 2, 3)}, {"pick", keepArgs(9, 5, 70)},
			{"g", keepArgs(10, 5, 7)}, {"sums", keepArgs(11, 5, 7)}, {"g", keepArgs(6, 9, 30)},
		}},
	}
	ctx := context.Background()
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			hot, ref := compileTwice(t, caseSource(t, fastCase{src: p.src, file: p.file}), interp.SetNoTapeRecycle)
			before := interp.TapeRecycled()
			var got []runtime.Value
			for round := range 3 {
				for i, c := range p.calls {
					v, err := hot.Call(ctx, c.def, c.args(), runtime.Limits{})
					_, errRef := ref.Call(ctx, c.def, c.args(), runtime.Limits{})
					if !sameErr(err, errRef) {
						t.Fatalf("round %d, call %d: %v, the reference: %v", round, i, err, errRef)
					}
					got = append(got, v)
				}
			}
			for i, v := range got {
				c := p.calls[i%len(p.calls)]
				want, err := ref.Call(ctx, c.def, c.args(), runtime.Limits{})
				if err != nil {
					continue
				}
				if !interp.ValueBits(v, want) {
					t.Errorf("call %d (%s): %v, the reference %v", i, c.def, v, want)
				}
			}
			if interp.TapeRecycled() == before {
				t.Error("no arena was recycled")
			}
		})
	}
}

// TestTapeRecycleClosure: a def returning a closure over its tape does
// not recycle it, and the closure, applied after further calls that do
// recycle, still reads the tape it captured.
func TestTapeRecycleClosure(t *testing.T) {
	hot, ref := compileTwice(t, tapeKeepSrc, interp.SetNoTapeRecycle)
	ctx := context.Background()
	escapes := interp.TapeEscapes()
	f, err := hot.Call(ctx, "clo", keepArgs(5, 3, 4)(), runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if interp.TapeEscapes() == escapes {
		t.Error("the release of a closure's tape was not refused")
	}
	g, err := ref.Call(ctx, "clo", keepArgs(5, 3, 4)(), runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	before := interp.TapeRecycled()
	for i := range 6 {
		for _, def := range []string{"clo", "sums", "g"} {
			if _, err := hot.Call(ctx, def, keepArgs(float64(10+i), 3, 4)(), runtime.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if interp.TapeRecycled() == before {
		t.Error("the calls after it recycled nothing")
	}
	for j := range int64(4) {
		got, err := f.R.(runtime.Func).Call(runtime.NewMachine(ctx, runtime.Limits{}), []runtime.Value{runtime.I64(j)})
		if err != nil {
			t.Fatal(err)
		}
		want, err := g.R.(runtime.Func).Call(runtime.NewMachine(ctx, runtime.Limits{}), []runtime.Value{runtime.I64(j)})
		if err != nil {
			t.Fatal(err)
		}
		if !interp.ValueBits(got, want) {
			t.Errorf("element %d: %v, the reference %v", j, got, want)
		}
	}
}

// TestTapeRecycleConcurrent calls the LSTM gradient of one Interp from
// several goroutines at once (run it with -race): each call takes its
// own arena, and every result has the reference's bits.
func TestTapeRecycleConcurrent(t *testing.T) {
	hot, ref := compileTwice(t, caseSource(t, lstmCase), interp.SetNoTapeRecycle)
	ctx := context.Background()
	want, err := ref.Call(ctx, "jacobian", lstmCase.args(), runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	before := interp.TapeRecycled()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				v, err := hot.Call(ctx, "jacobian", lstmCase.args(), runtime.Limits{})
				if err == nil && !interp.ValueBits(v, want) {
					err = fmt.Errorf("goroutine %d, call %d: %v, the reference %v", g, i, v, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if interp.TapeRecycled() == before {
		t.Error("no arena was recycled")
	}
}

// TestTapeRecycleMemoryLimit: the LSTM gradient fails or succeeds under
// a memory limit as it does without recycling (a chunk taken again is
// charged as a new one): at limits from far too small to enough, and at
// the reference's threshold and just below it, each time after a call
// that left chunks to take again.
func TestTapeRecycleMemoryLimit(t *testing.T) {
	hot, ref := compileTwice(t, caseSource(t, lstmCase), interp.SetNoTapeRecycle)
	ctx := context.Background()
	args := func() []runtime.Value {
		return []runtime.Value{flatArray(1, 4, 12), flatArray(2, 3, 3), flatArray(3, 4, 3), flatArray(4, 200, 3)}
	}
	call := func(it *interp.Interp, lim int64) error {
		_, err := it.Call(ctx, "jacobian", args(), runtime.Limits{Memory: lim})
		if err != nil && !errors.Is(err, runtime.ErrMemoryLimit) {
			t.Fatalf("limit %d: %v is not ErrMemoryLimit", lim, err)
		}
		return err
	}
	// The reference's smallest limit that passes.
	lo, hi := int64(1), int64(64<<20)
	if call(ref, hi) != nil {
		t.Fatal("the reference fails under 64 MiB")
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if call(ref, mid) == nil {
			hi = mid
		} else {
			lo = mid
		}
	}
	t.Logf("the reference needs %d bytes", hi)
	for _, lim := range []int64{1 << 10, 16 << 10, lo, hi, hi + hi/8, 1 << 20, 16 << 20} {
		call(hot, 64<<20) // leaves chunks to take again
		before := interp.TapeRecycled()
		err, errRef := call(hot, lim), call(ref, lim)
		if !sameErr(err, errRef) {
			t.Errorf("limit %d: %v, the reference: %v", lim, err, errRef)
		}
		if interp.TapeRecycled() == before && err == nil {
			t.Errorf("limit %d: no arena was recycled", lim)
		}
	}
}
