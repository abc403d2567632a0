package tests

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"testing"

	"github.com/nabla-lang/nabla"
)

// A revCase is an objective and its reverse-mode derivative on one input,
// with the most interpreter steps the derivative may take per step of the
// objective today (maxRatio, a guard against regressions) and the goal of
// issue 9 (target, logged until it is met; docs/benchmarks.md, "Reverse
// mode that saves").
type revCase struct {
	name      string
	src       []byte
	f, g      string
	args      []any
	maxRatio  float64
	target    float64
	fwdAllocs bool // also compare the bytes of jacfwd (g + "_fwd") with g's
}

// baJacFwd is ba.nab's Jacobian by forward mode, one JVP per parameter
// slot: nablabench's jacobian_fwd.
var baJacFwd = func() string {
	src, err := os.ReadFile(filepath.Join("..", "cmd", "nablabench", "ba_fwd.nab"))
	if err != nil {
		panic(err) // the tests run in their package's directory
	}
	return string(src)
}()

func readBench(t *testing.T, file string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "bench", "gradbench", file))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func randMat(rng *rand.Rand, r, c int, lo, hi float64) [][]float64 {
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, c)
		for j := range out[i] {
			out[i][j] = lo + (hi-lo)*rng.Float64()
		}
	}
	return out
}

// lstmArgs is an input of bench/gradbench/lstm.nab: l layers, b bits per
// character, c characters.
func lstmArgs(rng *rand.Rand, l, b, c int) []any {
	return []any{randMat(rng, 2*l, 4*b, -1, 1), randMat(rng, 3, b, -1, 1), randMat(rng, 2*l, b, -1, 1), randMat(rng, c, b, 0, 1)}
}

// baArgs is an input of bench/gradbench/ba.nab: n cameras, m points, p
// observations, the points in front of the cameras.
func baArgs(rng *rand.Rand, n, m, p int) []any {
	cams := randMat(rng, n, 11, -0.1, 0.1)
	for _, c := range cams {
		c[5] = -5 // centre behind the points
		c[6] = 1 + c[6]
	}
	pts := randMat(rng, m, 3, -1, 1)
	w := make([]float64, p)
	camIdx, ptIdx := make([]int64, p), make([]int64, p)
	for i := range p {
		w[i] = 0.5 + rng.Float64()
		camIdx[i], ptIdx[i] = int64(rng.IntN(n)), int64(rng.IntN(m))
	}
	return []any{cams, pts, w, randMat(rng, p, 2, -1, 1), camIdx, ptIdx}
}

// bytesPerCall is the heap allocated by one call of f, the least of five.
// The collector is off meanwhile: a collection during a call empties the
// interpreter's buffer pools, which the call then allocates anew (BA's
// jacfwd measured 1.79, 2.23 or 2.65 MB by where collections fell); the
// least of several calls leaves out those that parallel kernels, under
// load, ran with more buffers.
func bytesPerCall(t *testing.T, f *nabla.Func, args ...any) uint64 {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	best := uint64(math.MaxUint64)
	for range 5 {
		var a, b goruntime.MemStats
		goruntime.ReadMemStats(&a)
		if _, err := f.Call(context.Background(), args...); err != nil {
			t.Fatal(err)
		}
		goruntime.ReadMemStats(&b)
		best = min(best, b.TotalAlloc-a.TotalAlloc)
	}
	return best
}

func revCases(t *testing.T) []revCase {
	rng := rand.New(rand.NewPCG(9, 9))
	g := randomGMM(rng, 2, 5, 200)
	ba := append(readBench(t, "ba.nab"), []byte(baJacFwd)...)
	return []revCase{
		// 3.07 since the reverse pass recomputes x[i] - mu[k], its product
		// and square instead of saving them (ad/vjp_again.go): more steps,
		// a fifth of the bytes and less time (docs/benchmarks.md, stop 24).
		{name: "gmm vectorized", src: readTestdata(t, "gmm.nab"), f: "gmm", g: "gmm_grad", args: g.args(), maxRatio: 3.1, target: 3},
		// Since stop 29 the ad stage vectorizes its comprehensions
		// (rewrite/vectorize.go: x - mu, q @ diff, y ^ 2 in mahal, exp(v -
		// mx) in lse): f 46154 -> 18149 steps, gradient 134550 -> 51535
		// steps and 17.1 MB -> 0.95 MB, ratio 2.92 -> 2.84; the bound
		// tightened from 3.1 to 2.9.
		{name: "gmm element-wise", src: readTestdata(t, "gmm_elem.nab"), f: "gmm", g: "gmm_grad", args: g.args(), maxRatio: 2.9, target: 3},
		{name: "lstm", src: readBench(t, "lstm.nab"), f: "objective", g: "jacobian", args: lstmArgs(rng, 2, 8, 40), maxRatio: 2.9, target: 3},
		{name: "ba jacrev", src: ba, f: "objective", g: "jacobian", args: baArgs(rng, 4, 30, 200), maxRatio: 4.85, target: 5, fwdAllocs: true},
	}
}

// TestGMMElementwise checks that testdata/gmm_elem.nab, the element-wise
// GMM, agrees with the Go reference and its gradient with gmm.nab's.
func TestGMMElementwise(t *testing.T) {
	elem := compile(t, "gmm_elem.nab", readTestdata(t, "gmm_elem.nab"))
	vec := compile(t, "gmm.nab", readTestdata(t, "gmm.nab"))
	rng := rand.New(rand.NewPCG(3, 3))
	for _, d := range []int{1, 2, 4} {
		g := randomGMM(rng, d, 3, 12)
		g.gamma, g.m = 1.2, 1
		got := call(t, fn(t, elem, "gmm"), g.args()...).(float64)
		want := gmmObjective(g.alphas, g.means, g.icf, g.x, g.gamma, g.m)
		if math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("d=%d: gmm = %.17g, Go reference %.17g", d, got, want)
		}
		checkClose(t, g.name, flat(call(t, fn(t, elem, "gmm_grad"), g.args()...)), flat(call(t, fn(t, vec, "gmm_grad"), g.args()...)), 1e-10)
	}
}

// TestReverseModeCost measures, in interpreter steps, the reverse-mode
// derivative of each case against its objective and checks the ratio
// against the case's bound; BA's forward-mode Jacobian must allocate at
// most 4 times what its reverse-mode one does.
func TestReverseModeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("bisects step limits (a few seconds)")
	}
	for _, c := range revCases(t) {
		fs, gs := steps(t, c.src, c.f, c.args...), steps(t, c.src, c.g, c.args...)
		ratio := float64(gs) / float64(fs)
		p := compile(t, c.name, c.src)
		fb, gb := bytesPerCall(t, fn(t, p, c.f), c.args...), bytesPerCall(t, fn(t, p, c.g), c.args...)
		t.Logf("%s: f %d steps %d bytes, gradient %d steps %d bytes, ratio %.2f steps %.2f bytes", c.name, fs, fb, gs, gb, ratio, float64(gb)/float64(fb))
		if ratio > c.target {
			t.Logf("%s: above issue 9's goal of %g", c.name, c.target)
		}
		if ratio > c.maxRatio {
			t.Errorf("%s: the derivative takes %.2f times the steps of the objective (> %g)", c.name, ratio, c.maxRatio)
		}
		if c.fwdAllocs {
			jb := bytesPerCall(t, fn(t, p, c.g+"_fwd"), c.args...)
			t.Logf("%s: jacfwd %d bytes, %.2f times jacrev, %.2f times the objective", c.name, jb, float64(jb)/float64(gb), float64(jb)/float64(fb))
			// Issue 9: jacfwd allocates at most 4 times what jacrev does
			// (3.58 with the primal pass hoisted out of the slots).
			if float64(jb) > 4*float64(gb) {
				t.Errorf("%s: jacfwd allocates %.2f times what jacrev does (> 4)", c.name, float64(jb)/float64(gb))
			}
		}
	}
}

// revEdgeSrc exercises what the saving reverse mode emits: counted loops
// that run 0, 1 or many times (the peeled first iteration), calls that
// are not in tail position (split VJPs), nested comprehensions saving
// inside each other, and inactive values recomputed rather than saved
// (x ^ f64(i + 1) under forward mode over reverse mode).
const revEdgeSrc = `
def lp(x: [n]f64, k: i64): f64 =
  let s = loop s = x for i < k do s * x + sin(s) * f64(i + 1)
  in sum(s * s)
def lp_grad(x: [n]f64, k: i64) = grad(fn(y) => lp(y, k))(x)

def inner(a: [n]f64): f64 = sum([exp(a[i]) * a[i] for i < n])
def calls(x: [n]f64): f64 = inner(x) * inner(x * 2.0) + inner([x[i] * x[i] for i < n])
def calls_grad(x: [n]f64) = grad(calls)(x)

def nest(x: [n]f64): f64 =
  sum([ inner([x[j] * f64(i) + x[i] for j < n]) + sum([sin(x[i] * x[j]) * x[j] for j < n]) for i < n ])
def nest_grad(x: [n]f64) = grad(nest)(x)

// Rows of a loop's state updated in place by the reverse pass
// (acc_zero_at): a matrix and a vector state, two updates of one row
// (i = 1), an update inside a saved comprehension, and a tuple state
// whose two fields get one array's cotangent (t, t), which must not be
// handed on as one accumulator twice.
def upd(x: [n]f64): f64 =
  let m = [x * f64(i + 1) for i < 3] in
  let (h, s) = loop (h, s) = (x, m) for i < 3 do
    let c = s[i] * h + sin(s[2 - i]) in
    (c, update(update(s, i, c * h), 2 - i, c))
  in sum(h * h) + sum([sum(s[j] * cos(s[j])) for j < 3])
def upd_grad(x: [n]f64) = grad(upd)(x)
def upd_hess(x: [n]f64) = hessian(upd)(x)
def upd_grad2(x: [n]f64) = jacrev(grad(upd))(x)
def upv(x: [n]f64): f64 =
  let v = loop v = x for i < n do update(v, i, v[i] * x[0] + sin(v[n - 1 - i])) in
  sum([let w = update(v * x[i], i, v[i] * v[i]) in sum(w * w) for i < n])
def upv_grad(x: [n]f64) = grad(upv)(x)
def twice(x: [n]f64): f64 =
  let (a, b) = loop (a, b) = (x, x * 2.0) for i < 3 do
    let t = a + b in (t * cos(t), t)
  in sum(a * sin(b))
def twice_grad(x: [n]f64) = grad(twice)(x)

// Slices of rows of an active matrix, whose cotangents go straight into
// the matrix's rows (addToRow), in a loop and mixed with a row's own
// cotangent (r[1], r * r).
def rows(x: [n]f64): f64 =
  let m = [x * f64(i + 1) for i < 3] in
  let r = m[1] in
  let l = loop acc = 0.0 for i < 3 do acc + sum(sin(m[i][0:2]) * m[i][1:3]) + sum(m[i][2:4]) in
  l * r[1] + sum(r[0:2] * r[2:4]) + sum(r * r)
def rows_grad(x: [n]f64) = grad(rows)(x)

// v makes the body too costly to recompute (the checkpointing policy).
def powc(x: [n]f64): f64 =
  sum([let v = x * x in (1.5 - x[0] * (1.0 - x[1] ^ f64(i + 1))) ^ 2.0 + v[0] for i < 3])
def powc_hess(x: [n]f64) = hessian(powc)(x)
def powc_grad2(x: [n]f64) = jacrev(grad(powc))(x)
`

// TestReverseModeEdges checks gradients of revEdgeSrc against central
// differences, and two Hessians of powc against each other at a point
// where x[1] < 0 (where a saved constant exponent would give NaN).
func TestReverseModeEdges(t *testing.T) {
	p := compile(t, "edges.nab", []byte(revEdgeSrc))
	x0 := []float64{0.3, -0.7, 0.5, 1.1}
	val := func(name string, extra ...any) func([]float64) float64 {
		f := fn(t, p, name)
		return func(x []float64) float64 {
			return call(t, f, append([]any{x}, extra...)...).(float64)
		}
	}
	for _, k := range []int64{-2, 0, 1, 3} {
		got := flat(call(t, fn(t, p, "lp_grad"), x0, k))
		checkClose(t, fmt.Sprintf("lp_grad k=%d", k), got, fdGradient(val("lp", k), x0, central4.Step), fdTol)
	}
	for _, name := range []string{"calls", "nest", "upd", "upv", "twice", "rows"} {
		got := flat(call(t, fn(t, p, name+"_grad"), x0))
		checkClose(t, name+"_grad", got, fdGradient(val(name), x0, central4.Step), fdTol)
	}
	gradUpd := fn(t, p, "upd_grad")
	fdHess := fdJacobian(len(x0), func(y, x []float64) { copy(y, flat(call(t, gradUpd, x))) }, x0, central4.Step)
	checkClose(t, "upd: hessian vs finite differences of grad", flat(call(t, fn(t, p, "upd_hess"), x0)), fdHess, 1e-5)
	checkClose(t, "upd: jacrev(grad) vs finite differences of grad", flat(call(t, fn(t, p, "upd_grad2"), x0)), fdHess, 1e-5)
	x1 := []float64{0.5, -1.5}
	h1, h2 := flat(call(t, fn(t, p, "powc_hess"), x1)), flat(call(t, fn(t, p, "powc_grad2"), x1))
	for i := range h1 {
		if math.IsNaN(h1[i]) || math.IsNaN(h2[i]) {
			t.Fatalf("powc: NaN in the Hessian: %v, %v", h1, h2)
		}
	}
	checkClose(t, "powc: hessian vs jacrev(grad)", h1, h2, 1e-12)
}
