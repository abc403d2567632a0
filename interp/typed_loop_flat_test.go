package interp_test

// Tests of typed_loop_flat.go: tuple loop bodies run as a flat chain of
// lets, against the same programs compiled with every such body left to
// the general path (interp.SetNoRevChain).

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

// flatCases are programs whose loops have bodies of the flat class:
// reverse passes of element-wise code (one-hot accumulations into
// matrices and rank-3 arrays, nested reverse loops, rows and tape reads
// bound by lets) and loops users write with tuple states. Each case calls
// def with args; a case with wantErr must fail (the same way both times).
var flatCases = []struct {
	name    string
	src     string
	def     string
	args    func() []runtime.Value
	wantErr bool
}{
	{
		name: "matrix one-hot",
		src: `
def f(a: [n][m]f64, v: [m]f64): f64 = sum([ sum([ a[i][j] * v[j] * a[i][j] for j < m ]) for i < n ])
def g(a: [n][m]f64, v: [m]f64) = grad(fn(a, v) => f(a, v))(a, v)`,
		def:  "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(1, 4, 3), flatArray(2, 3)} },
	},
	{
		name: "rank-3 triangular product",
		src: `
def f(q: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ sum([ let y = [ sum([ q[j][r][c] * x[i][c] for c < d ]) for r < d ]
              in sum([ y[r] * y[r] for r < d ]) for j < k ]) for i < n ])
def g(q: [k][d][d]f64, x: [n][d]f64) = grad(fn(q, x) => f(q, x))(q, x)`,
		def:  "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(3, 2, 3, 3), flatArray(4, 5, 3)} },
	},
	{
		name: "GMM data term, element-wise",
		src: `
def f(alphas: [k]f64, means: [k][d]f64, qs: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ let diff = [x[i][c] - means[j][c] for c < d]
                    let qd = [sum([qs[j][r][c] * diff[c] for c < d]) for r < d]
                    in alphas[j] - 0.5 * sum([qd[r] * qd[r] for r < d]) for j < k ]) for i < n ])
def g(alphas: [k]f64, means: [k][d]f64, qs: [k][d][d]f64, x: [n][d]f64) =
  grad(fn(a, mu, q) => f(a, mu, q, x))(alphas, means, qs)`,
		def: "g",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(5, 3), flatArray(6, 3, 2), flatArray(7, 3, 2, 2), flatArray(8, 6, 2)}
		},
	},
	{
		name: "GMM data term, means too short",
		src: `
def f(alphas: [k]f64, means: [k][e]f64, qs: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ let diff = [x[i][c] - means[j][c] for c < d]
                    let qd = [sum([qs[j][r][c] * diff[c] for c < d]) for r < d]
                    in alphas[j] - 0.5 * sum([qd[r] * qd[r] for r < d]) for j < k ]) for i < n ])
def g(alphas: [k]f64, means: [k][e]f64, qs: [k][d][d]f64, x: [n][d]f64) =
  grad(fn(a, mu, q) => f(a, mu, q, x))(alphas, means, qs)`,
		def: "g",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(5, 3), flatArray(6, 3, 1), flatArray(7, 3, 2, 2), flatArray(8, 6, 2)}
		},
		wantErr: true,
	},
	{
		name: "loop over a product's rows",
		src: `
def f(w: [m][n]f64, x: [n]f64): f64 =
  let s = loop (acc, t) = (0.0, 1.0) for i < m do
    (acc + t * sum([ w[i][j] * x[j] for j < n ]), t * 0.5)
  in s.0
def g(w: [m][n]f64, x: [n]f64) = grad(fn(w, x) => f(w, x))(w, x)`,
		def:  "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(9, 4, 3), flatArray(10, 3)} },
	},
	{
		name: "tuple loop, index in range",
		src: `
def f(x: [n]f64, m: i64, s: i64): (f64, f64) =
  loop (a, b) = (0.0, 1.0) for i < m do
    let y = x[i + s] in (a + y, b * y)`,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(11, 6), runtime.I64(4), runtime.I64(2)} },
	},
	{
		name: "tuple loop, index out of range",
		src: `
def f(x: [n]f64, m: i64, s: i64): (f64, f64) =
  loop (a, b) = (0.0, 1.0) for i < m do
    let y = x[i + s] in (a + y, b * y)`,
		def:     "f",
		args:    func() []runtime.Value { return []runtime.Value{flatArray(11, 6), runtime.I64(5), runtime.I64(2)} },
		wantErr: true,
	},
	{
		name: "nested tuple loops, index out of range inside",
		src: `
def f(x: [n]f64, m: i64, s: i64): (f64, f64) =
  loop (a, b) = (0.0, 0.0) for i < m do
    let (c, e) = loop (c, e) = (a, b) for j < m do (c + x[i + j + s], e - x[j]) in
    (c * 0.5, e)`,
		def:     "f",
		args:    func() []runtime.Value { return []runtime.Value{flatArray(12, 6), runtime.I64(3), runtime.I64(2)} },
		wantErr: true,
	},
	{
		name: "nested tuple loops",
		src: `
def f(x: [n]f64, m: i64, s: i64): (f64, f64) =
  loop (a, b) = (0.0, 0.0) for i < m do
    let (c, e) = loop (c, e) = (a, b) for j < m do (c + x[i + j + s], e - x[j]) in
    (c * 0.5, e)`,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(12, 6), runtime.I64(3), runtime.I64(0)} },
	},
	{
		// h is the inner loop's own array and the outer state keeps it:
		// it must not be recycled at the end of the iteration.
		name: "inner loop's own array kept",
		src: `
def f(x: [n]f64, m: i64): (f64, [n]f64) =
  loop (a, g) = (0.0, zeros(n)) for i < m do
    let (s, h) = loop (s, h) = (a, zeros(n)) for j < m do (s + x[j], h + x * f64(i)) in
    (s * 0.5 + h[0] + g[1], h)`,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(13, 5), runtime.I64(4)} },
	},
	{
		// Here h dies with the iteration and is recycled.
		name: "inner loop's own array dies",
		src: `
def f(x: [n]f64, m: i64): (f64, [n]f64) =
  loop (a, g) = (0.0, zeros(n)) for i < m do
    let (s, h) = loop (s, h) = (a, zeros(n)) for j < m do (s + x[j], h + x * f64(i)) in
    (s * 0.5 + h[0], g + h)`,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(13, 5), runtime.I64(4)} },
	},
	// r = w[s] is the same row at every iteration, read once per run
	// (invariantRows); u's temporaries are evaluated before it at every
	// iteration.
	{
		name: "row read once",
		src:  rowOnceSrc,
		def:  "f",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(14, 3, 4), flatArray(15, 4), runtime.I64(4), runtime.I64(2)}
		},
	},
	{
		name: "row read once, out of range",
		src:  rowOnceSrc,
		def:  "f",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(14, 3, 4), flatArray(15, 4), runtime.I64(4), runtime.I64(3)}
		},
		wantErr: true,
	},
	{
		name: "row read once, no iteration",
		src:  rowOnceSrc,
		def:  "f",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(14, 3, 4), flatArray(15, 4), runtime.I64(0), runtime.I64(3)}
		},
	},
	{
		name: "row read once, nested runs",
		src: `
def f(w: [k][n]f64, x: [n]f64): (f64, f64) =
  loop (a, b) = (0.0, 0.0) for j < k do
    let (c, e) = loop (c, e) = (a, b) for i < n do
      let u = sum(x * x[i]) in
      let r = w[j] in
      (c + r[i] * u, e + r[0])
    in (c, e * 0.5)`,
		def:  "f",
		args: func() []runtime.Value { return []runtime.Value{flatArray(16, 3, 4), flatArray(17, 4)} },
	},
}

const rowOnceSrc = `
def f(w: [k][n]f64, x: [n]f64, m: i64, s: i64): (f64, f64) =
  loop (a, b) = (0.0, 0.0) for i < m do
    let u = sum(x * x[i]) in
    let r = w[s] in
    let t = (x + r)[i] in
    (a + r[i] * u + t, b + r[0])`

// flatArray is an f64 array of the shape with values from seed, one of
// them -0.
func flatArray(seed float64, shape ...int) runtime.Value {
	n := 1
	for _, s := range shape {
		n *= s
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Sin(seed+0.61*float64(i)) * 1.3
	}
	xs[n/2] = math.Copysign(0, -1)
	a := runtime.FromF64(xs)
	a.Shape = shape
	return runtime.Arr(a)
}

// sameErr reports whether err and ref are the same positioned error.
func sameErr(err, ref error) bool {
	if (err == nil) != (ref == nil) {
		return false
	}
	if err == nil {
		return true
	}
	var e, eRef *ir.Error
	return errors.As(err, &e) && errors.As(ref, &eRef) && e.Pos == eRef.Pos && err.Error() == ref.Error()
}

// TestRevChain compiles each case twice, with flat loop bodies and
// without, and checks that the flat bodies ran and that the calls agree:
// the same bits, or the same error at the same position; the same step
// count, and the same outcome under limits up to it.
func TestRevChain(t *testing.T) {
	ctx := context.Background()
	for _, c := range flatCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := pipeline.Compile(ctx, "flat.nab", []byte(c.src), pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := interp.RevChains()
			hot, err := interp.New(res.Opt)
			if err != nil {
				t.Fatal(err)
			}
			if interp.RevChains() == before {
				t.Fatalf("no loop body was compiled as a flat chain")
			}
			done := interp.SetNoRevChain()
			ref, err := interp.New(res.Opt)
			done()
			if err != nil {
				t.Fatal(err)
			}
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, false)
		})
	}
}
