package interp_test

// Tests of tuplebox.go: tuples boxed in place, against the same programs
// boxing them as Go does.

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
