package interp_test

// Tests of tuplebox.go and svblock_tape.go: tuples boxed in place and
// blocks writing a tape's vectors in place, against the same programs
// compiled without them.

import (
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// tupleSrc builds tuples of one to five elements outside any tape, nested,
// with an element that can fail (x[i] out of range).
const tupleSrc = `
def f(x: [n]f64, i: i64) =
  let (a, b) = loop (a, b) = (x[0], 0.0) for j < n do (a * 1.5, b + x[j] * a) in
  ((a, b), (a, b, a + b), (a, b, a - b, b), (a, (b, a), a, b, x[i]))
def g(x: [n]f64, i: i64) = grad(fn(x) => let (p, q) = f(x, i).0 in p * q)(x)`

// TestTupleBox checks programs that build tuples, in tapes and outside
// them, against the same programs boxing every tuple as Go does
// (interp.SetNoTupleBox).
func TestTupleBox(t *testing.T) {
	args := func(i int64) func() []runtime.Value {
		return func() []runtime.Value { return []runtime.Value{flatArray(3, 4), runtime.I64(i)} }
	}
	gmm := svCases[2]
	cases := []fastCase{
		lstmCase,
		gmm,
		{name: "tuples of two to five", src: tupleSrc, def: "f", args: args(3)},
		{name: "tuples of two to five, element out of range", src: tupleSrc, def: "f", args: args(4), wantErr: true},
		{name: "gradient through tuples", src: tupleSrc, def: "g", args: args(1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoTupleBox, interp.TupleBoxes)
		})
	}
}

// TestSVTapeOut checks blocks in tape bodies computing the vectors they
// hand on straight into tape arrays, against the same programs copying
// them from the blocks' buffers (interp.SetNoSVTapeOut).
func TestSVTapeOut(t *testing.T) {
	cases := []fastCase{
		lstmCase,
		{
			// One layer, one step: the gates' steps are few, each limit
			// is tried.
			name: "LSTM, gates longer than the arena serves", src: lstmCase.src, file: true, def: "jacobian", noRun: true,
			args: func() []runtime.Value {
				b := tapeMaxElems + 1
				return []runtime.Value{flatArray(1, 2, 4*b), flatArray(2, 3, b), flatArray(3, 2, b), flatArray(4, 2, b)}
			},
		},
		{name: "gradient of a matrix recurrence", src: svMatSrc, def: "g",
			args: func() []runtime.Value {
				return []runtime.Value{flatArray(17, 4, 2, 3), flatArray(18, 3), runtime.I64(4)}
			}},
		{name: "gradient of a matrix recurrence, row out of range", src: svMatSrc, def: "g", wantErr: true,
			args: func() []runtime.Value {
				return []runtime.Value{flatArray(17, 4, 2, 3), flatArray(18, 3), runtime.I64(5)}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoSVTapeOut, interp.SVTapeOuts)
		})
	}
}

// tapeMaxElems is interp's largest vector carved from a tape arena.
const tapeMaxElems = 64

// nestedSrc is a recurrence with an inner loop per step: its gradient's
// forward sweep saves the inner loop's states inside the outer tape.
const nestedSrc = `
def f(w: [m][q]f64, x: [q]f64, k: i64): f64 =
  let (h, s) = loop (h, s) = (x, 0.0) for i < m do
    let g = loop g = h for j < k do tanh(g * w[i] + x) in
    (g * 0.5 + h, s + sum(g * h))
  in s + sum(h)
def g(w: [m][q]f64, x: [q]f64, k: i64) = grad(fn(w, x) => f(w, x, k))(w, x)`

// TestTapeLoopSave checks loop_saves inside tape bodies whose saved
// states come from the enclosing tape's arena, against the same programs
// stacking them through Stacker.Stack (interp.SetNoTapeLoopSave).
func TestTapeLoopSave(t *testing.T) {
	args := func(k int64) func() []runtime.Value {
		return func() []runtime.Value { return []runtime.Value{flatArray(5, 3, 4), flatArray(6, 4), runtime.I64(k)} }
	}
	cases := []fastCase{
		lstmCase,
		{name: "inner loop of three", src: nestedSrc, def: "g", args: args(3)},
		{name: "inner loop of one", src: nestedSrc, def: "g", args: args(1)},
		// No inner loop_save runs: the forward sweep builds no states.
		{name: "inner loop of none", src: nestedSrc, def: "g", args: args(0), noRun: true},
		{name: "inner loop of negative count", src: nestedSrc, def: "g", args: args(-2), noRun: true},
		{name: "inner loop longer than the arena serves", src: nestedSrc, def: "g", noRun: true,
			args: func() []runtime.Value {
				return []runtime.Value{flatArray(5, 1, 2), flatArray(6, 2), runtime.I64(tapeMaxElems + 1)}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoTapeLoopSave, interp.TapeLoopSaves)
		})
	}
}
