package interp_test

// Tests of svblock.go: runs of small-vector lets in flat loop bodies run
// as one block, against the same programs compiled without blocks
// (interp.SetNoSVBlock).

import (
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// svCases are programs whose reverse passes have runs of small-vector
// lets; a case with wantErr must fail, the same way both times.
var svCases = []fastCase{
	{
		name: "LSTM",
		src:  "../bench/gradbench/lstm.nab", file: true,
		def: "jacobian",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(1, 4, 12), flatArray(2, 3, 3), flatArray(3, 4, 3), flatArray(4, 5, 3)}
		},
	},
	{
		// The backward pass of the residuals reads rows of accumulators
		// the run updated and nobody reads after it.
		name: "BA Jacobian",
		src:  "../bench/gradbench/ba.nab", file: true,
		def: "jacobian",
		args: func() []runtime.Value {
			idx := func(xs ...int64) runtime.Value { return runtime.Arr(runtime.FromI64(xs)) }
			return []runtime.Value{flatArray(9, 2, 11), flatArray(10, 3, 3), flatArray(11, 4), flatArray(12, 4, 2),
				idx(0, 1, 1, 0), idx(2, 0, 1, 2)}
		},
	},
	{
		// The vectorized GMM's reverse body: 2×2 matrix-vector and
		// vector-matrix products, outer into a rank-3 accumulator's row
		// and scalar adds.
		name: "GMM vec gradient",
		src:  "../cmd/nablabench/gmm.nab", file: true,
		def: "gmm_grad",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(13, 3), flatArray(14, 3, 2), flatArray(15, 3, 3), flatArray(16, 10, 2),
				runtime.F64(1.5), runtime.I64(0)}
		},
	},
	{
		name: "matrix recurrence",
		src:  svMatSrc,
		def:  "f",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(17, 4, 2, 3), flatArray(18, 3), runtime.I64(4)}
		},
	},
	{
		name: "gradient of a matrix recurrence",
		src:  svMatSrc,
		def:  "g",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(17, 4, 2, 3), flatArray(18, 3), runtime.I64(4)}
		},
	},
	{
		name: "matrix product",
		src:  svProdSrc,
		def:  "p",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(19, 4, 2, 3), flatArray(20, 3), runtime.I64(4)}
		},
	},
	{
		// Only the product's own check sees the sizes differ.
		name: "matrix product of differing sizes",
		src:  svProdSrc,
		def:  "p",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(19, 4, 2, 3), flatArray(20, 2), runtime.I64(4)}
		},
		wantErr: true,
	},
	{
		name: "matrix recurrence, row out of range",
		src:  svMatSrc,
		def:  "g",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(17, 4, 2, 3), flatArray(18, 3), runtime.I64(5)}
		},
		wantErr: true,
	},
	{
		name: "vector recurrence",
		src:  svRecSrc,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3), runtime.I64(4)} },
	},
	{
		name:    "vector recurrence, row out of range",
		src:     svRecSrc,
		def:     "f",
		args:    func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3), runtime.I64(5)} },
		wantErr: true,
	},
	{
		name:    "vector recurrence, rows longer than the state",
		src:     svRecSrc,
		def:     "f",
		args:    func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 4), flatArray(6, 3), runtime.I64(2)} },
		wantErr: true,
	},
	{
		name: "gradient of a recurrence over slices",
		src:  svSliceSrc,
		def:  "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(2)} },
	},
	{
		name:    "gradient of a recurrence over slices, slice out of range",
		src:     svSliceSrc,
		def:     "g",
		args:    func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(6)} },
		wantErr: true,
	},
}

// svRecSrc is a loop whose body is a run of four vector lets: rows of w
// (out of range when k > m), elementwise chains, and h's length against
// the rows'.
const svRecSrc = `
def f(w: [m][n]f64, x: [q]f64, k: i64): ([q]f64, f64) =
  loop (h, s) = (x, 0.0) for i < k do
    let a = tanh(w[i] * h + x) in
    let b = a * a - h in
    let c = sigmoid(b) * b + a in
    let e = c * a - b in
    (e, s + sum(c))`

// svMatSrc's loop body multiplies by a row of ms on both sides (m @ h,
// y @ m); its gradient adds outer products into the rows of ms's
// cotangent.
const svMatSrc = `
def f(ms: [k][r][c]f64, x: [c]f64, n: i64): f64 =
  let (h, s) = loop (h, s) = (x, 0.0) for j < n do
    let m = ms[j] in
    let y = tanh(m @ h) * 0.5 in
    let z = y @ m + h in
    let w = z * z - h in
    (w, s + sum(w) + sum(y))
  in s + sum(h)
def g(ms: [k][r][c]f64, x: [c]f64, n: i64) = grad(fn(ms, x) => f(ms, x, n))(ms, x)`

// svProdSrc's product m @ h is checked by nothing but itself: its length
// is the rows', unrelated to h's.
const svProdSrc = `
def p(ms: [k][r][c]f64, x: [q]f64, n: i64): f64 =
  let (h, s) = loop (h, s) = (x, 0.0) for j < n do
    let m = ms[j] in
    let w = h * 2.0 - 1.0 in
    let y = tanh(m @ h) * 0.5 + m @ w in
    let u = y * y + 1.0 in
    (w, s + sum(u) + sum(u * y))
  in s`

// svSliceSrc's gradient adds pads of slices into the rows of w's
// cotangent (acc_add_at(g, i, pad_like(v, lo, w[i]))).
const svSliceSrc = `
def f(w: [m][q]f64, x: [n]f64, lo: i64): f64 =
  let (h, s) = loop (h, s) = (x, 0.0) for i < m do
    let r = w[i] in
    let a = tanh(r[lo:lo + n] * h + x) in
    let b = sigmoid(r[lo:lo + n] - a) in
    (a * 0.5 + b * h, s + sum(a * b))
  in s + sum(h)
def g(w: [m][q]f64, x: [n]f64, lo: i64) = grad(fn(w, x) => f(w, x, lo))(w, x)`

// TestSVBlock compiles each case twice, with blocks and without, and
// checks that a block was compiled and that the calls agree: the same
// bits, or the same error at the same position; the same steps, and the
// same outcome under every step limit up to them.
func TestSVBlock(t *testing.T) {
	for _, c := range svCases {
		t.Run(c.name, func(t *testing.T) {
			before := interp.SVBlocks()
			hot, ref := compileTwice(t, caseSource(t, c), interp.SetNoSVBlock)
			if interp.SVBlocks() == before {
				t.Fatalf("no small-vector block was compiled")
			}
			ran := interp.SVRan()
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, true)
			if !c.wantErr && interp.SVRan() == ran {
				t.Errorf("every block fell back on its lets")
			}
		})
	}
}

// lstmCase is the LSTM's gradient at a small size, for the tests below.
var lstmCase = fastCase{name: "LSTM", src: "../bench/gradbench/lstm.nab", file: true, def: "jacobian",
	args: func() []runtime.Value {
		return []runtime.Value{flatArray(1, 4, 12), flatArray(2, 3, 3), flatArray(3, 4, 3), flatArray(4, 5, 3)}
	}}

// TestSVRowSlice checks runs that read slices of the rows they read
// (r = w[i], r[lo:hi]) and pad like them, against the same programs with
// such lets left out of the runs (interp.SetNoSVRowSlice).
func TestSVRowSlice(t *testing.T) {
	cases := []fastCase{
		lstmCase,
		{name: "recurrence over slices of rows", src: svSliceSrc, def: "f",
			args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(2)} }},
		{name: "recurrence over slices of rows, slice out of range", src: svSliceSrc, def: "f", wantErr: true,
			args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(6)} }},
		{name: "recurrence over slices of rows, negative start", src: svSliceSrc, def: "f", wantErr: true,
			args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(-1)} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoSVRowSlice, interp.SVRowSlices)
		})
	}
}

// TestSVDonor checks blocks whose new vectors go into the arrays of
// accumulators the run added into and nobody reads after it, against
// the same programs with every such vector new (interp.SetNoSVDonor).
func TestSVDonor(t *testing.T) {
	cases := []fastCase{
		lstmCase,
		{name: "gradient of a recurrence over slices, no donor", src: svSliceSrc, def: "g", noRun: true,
			args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 8), flatArray(8, 3), runtime.I64(2)} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoSVDonor, interp.SVDonated)
		})
	}
}
