package codegen

// Tests of tri.go: which matrices are known lower-triangular, and that
// the triangular products give the general loops' bits and errors.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
)

// triFlags counts the triangular products in def name's function of the
// program src (the size tests triOr emits).
func triFlags(t *testing.T, src, name string) int {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), name+".nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(res.Opt, Options{Package: "p"})
	if err != nil {
		t.Fatal(err)
	}
	body := string(out)
	body = body[strings.Index(body, "func fn_"+name+"("):]
	body = body[:strings.Index(body, "\n}\n")]
	return len(triFlag.FindAllString(body, -1))
}

// triFlag matches the size test of a triangular product (triOr).
var triFlag = regexp.MustCompile(`(?m)^\s*if [A-Za-z0-9_]+ >= 8 \{$`)

// sweepFlag matches the test that chooses a sweep of trisweep.go.
var sweepFlag = regexp.MustCompile(`(?m)^\s*if sweep_[0-9]+ \{$`)

// TestLowerTri checks which products isLowerTri lets skip a half: those
// of a build zero where the column index exceeds the row index, however
// the condition is written, through lets, rows of a build of such
// matrices and a def inlined; not a build with anything else above its
// diagonal, nor one zero below it.
func TestLowerTri(t *testing.T) {
	const qmat = `def qmat(v: [p]f64, d: i64): [d][d]f64 =
  [ if r == c then exp(v[r]) else if r > c then v[d + c * (2 * d - c - 1) / 2 + r - c - 1] else 0.0 for r < d, c < d ]
`
	cases := []struct {
		name, src string
		want      int
	}{
		{"qmat_mv", qmat + `export def f(v: [p]f64, d: i64, x: [n]f64) = qmat(v, d) @ x`, 1},
		{"qmat_vm", qmat + `export def f(v: [p]f64, d: i64, x: [n]f64) = x @ qmat(v, d)`, 1},
		{"rows_of_build", qmat + `export def f(v: [k][p]f64, d: i64, x: [n][d]f64) =
  let qs = [qmat(v[j], d) for j < k]
  in [sum(qs[j] @ (x[i] - x[0])) for i < n, j < k]`, 2}, // a parallel loop and a sequential one
		{"let_bound", `export def f(m: i64, x: [n]f64) =
  let a = [if r < c then 0.0 else f64(r + c) for r < m, c < n]
  let b = a
  in (b @ x, x @ b)`, 2},
		{"ge", `export def f(x: [n]f64) = [if r >= c then 1.0 else 0.0 for r < n, c < n] @ x`, 1},
		{"lt_zero_first", `export def f(x: [n]f64) = [if c > r then 0.0 else 2.0 for r < n, c < n] @ x`, 1},
		{"not_zero", `export def f(x: [n]f64) = [if r >= c then 1.0 else 0.5 for r < n, c < n] @ x`, 0},
		{"upper", `export def f(x: [n]f64) = [if r <= c then 1.0 else 0.0 for r < n, c < n] @ x`, 0},
		{"unknown_cond", `export def f(x: [n]f64) = [if r + 1 > c then 1.0 else 0.0 for r < n, c < n] @ x`, 0},
		{"param", `export def f(m: [n][n]f64, x: [n]f64) = m @ x`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := triFlags(t, c.src, "f"); got != c.want {
				t.Errorf("%d triangular products, want %d", got, c.want)
			}
		})
	}
}

// TestTriSameBits runs every RUN of testdata/tri.nab through the Go
// backend with the triangular products and the sweep of trisweep.go,
// with the triangular products alone (Options.noSweep), with neither
// (Options.noTri), and with the sweep adding its outer product above the
// diagonal too (Options.noUpperCut; by default, where triupper.go finds
// nobody reads those entries, the sweep leaves them out):
// the values must be the same bits (their JSON, which spells every float
// exactly, equal) and the errors the same text, the interpreter's. Every
// def with a product must have taken the triangular form.
func TestTriSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	configs := []Options{{Main: true}, {Main: true, noSweep: true}, {Main: true, noTri: true}, {Main: true, noUpperCut: true}}
	v := buildVariants(t, "testdata/tri.nab", configs, func(i int, code string) {
		opts := configs[i]
		if n := len(triFlag.FindAllString(code, -1)); (n > 0) == opts.noTri {
			t.Fatalf("noTri %v: %d triangular checks", opts.noTri, n)
		}
		if n := len(sweepFlag.FindAllString(code, -1)); (n > 0) != (i == 0 || i == 3) {
			t.Fatalf("%+v: %d sweeps", opts, n)
		}
		if n := len(lowerFlag.FindAllString(code, -1)); (n > 0) != (i == 0) {
			t.Fatalf("%+v: %d sweeps into the lower triangle only", opts, n)
		}
	})
	runs := 0
	for _, c := range topRuns(v.src) {
		outs, _ := v.call(t, c, func(i int) string { return fmt.Sprintf("%+v", configs[i]) })
		if outs[0] != outs[1] || outs[1] != outs[2] || outs[2] != outs[3] {
			t.Errorf("line %d: %s: sweep %s, triangular %s, full %s, sweep with qbar's upper triangle %s", c.line, c.def, outs[0], outs[1], outs[2], outs[3])
		}
		runs++
	}
	if runs < 30 {
		t.Fatalf("only %d RUN lines", runs)
	}
}

// TestTriSweepMatch checks which reverse passes trisweep.go compiles as
// one sweep: the gradient of a sum of squares of Q (x − μ) with Q
// lower-triangular (GMM's data term), not when Q is a full matrix, when
// the cotangent's recipe reads another vector, or when the square is
// another power. (TestTriSameBits checks the sweep's values.)
func TestTriSweepMatch(t *testing.T) {
	const lower = `def lower(v: [p]f64, d: i64): [d][d]f64 =
  [if r == c then exp(v[r]) else if r > c then v[d + c * (2 * d - c - 1) / 2 + r - c - 1] else 0.0 for r < d, c < d]
def full(v: [p]f64, d: i64): [d][d]f64 = [v[(r * d + c) % p] for r < d, c < d]
`
	grad := func(mat, term string) string {
		return lower + `def f(icf: [k][p]f64, mu: [k][d]f64, x: [n][d]f64, w: [d]f64): f64 =
  let qs = [` + mat + `(icf[j], d) for j < k]
  in sum([logsumexp([` + term + ` for j < k]) for i < n])
export def g(icf: [k][p]f64, mu: [k][d]f64, x: [n][d]f64, w: [d]f64) =
  grad(fn(a, b) => f(a, b, x, w))(icf, mu)
`
	}
	cases := []struct {
		name, src string
		want      bool
	}{
		{"gmm", grad("lower", "-0.5 * sum((qs[j] @ (x[i] - mu[j]))^2)"), true},
		{"full", grad("full", "-0.5 * sum((qs[j] @ (x[i] - mu[j]))^2)"), false},
		{"weighted", grad("lower", "-0.5 * sum(w * (qs[j] @ (x[i] - mu[j]))^2)"), false},
		{"cube", grad("lower", "-0.5 * sum((qs[j] @ (x[i] - mu[j]))^3)"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := pipeline.Compile(context.Background(), c.name+".nab", []byte(c.src), pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Generate(res.Opt, Options{Package: "p"})
			if err != nil {
				t.Fatal(err)
			}
			if got := sweepFlag.MatchString(string(out)); got != c.want {
				t.Errorf("sweep %v, want %v", got, c.want)
			}
		})
	}
}
