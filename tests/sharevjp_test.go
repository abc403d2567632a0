package tests

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// shareSrc has several VJPs of one function at one point (shared), which
// share one forward pass, and the same VJPs one per def (one), which do
// not. f branches on its input (the split VJP's decisions), has
// a comprehension, a counted loop and a call (tapes saved and nested).
const shareSrc = `
def g(x: [n]f64, y: f64): [n]f64 = [if x[i] > 0.0 then x[i] * y else sin(x[i]) for i < n]

def f(x: [n]f64, y: f64, d: [n]f64): ([n]f64, f64) =
  let z = g(x, y) * d
  let s = loop acc = 0.0 for i < n do acc + z[i] * x[i]
  in (z + exp(x), s * y)

def f2(x: [n]f64, y: f64): ([n]f64, f64) = f(x, y, x)

def shared(x: [n]f64, y: f64, d: [n]f64, s1: [n]f64, s2: f64): ([n]f64, f64, [4]([n]f64, f64)) =
  let h = fn(a: [n]f64, b: f64) => f(a, b, d)
  let (v, (a1, b1)) = vjp(h, (x, y), (s1, s2))
  let (_, (a2, b2)) = vjp(h, (x, y), (zeros(n), s2))
  let (_, (a3, b3)) = vjp(h, (x, y), (s1, 0.0))
  let (_, (a4, b4)) = vjp(h, (x, y), (zeros(n), 0.0))
  in (v.0, v.1, [(a1, b1), (a2, b2), (a3, b3), (a4, b4)])

// A def differentiated directly, its VJPs in the elements of an array
// and of a tuple, and one under an if (not shared: it may not run).
def shared2(x: [n]f64, y: f64, s1: [n]f64, s2: f64): ([3]([n]f64, f64), ([n]f64, f64)) =
  let row = fn(k: f64) => vjp(f2, (x, y), (s1 * k, s2)).1
  in ([row(1.0), row(2.0), vjp(f2, (x, y), (fill(n, 0.0), s2)).1],
      if y > 0.0 then vjp(f2, (x, y), (s1, 0.0)).1 else (x, y))

// One VJP whose seed has a zero part: split, to skip that part.
def lone(x: [n]f64, y: f64, d: [n]f64, s2: f64): ([n]f64, f64) =
  let h = fn(a: [n]f64, b: f64) => f(a, b, d)
  in vjp(h, (x, y), (zeros(n), s2)).1

// A zero seed part is a symbolic zero: at x = 0 the cotangent of sqrt's
// part would be 0 * inf, NaN, if the zero were multiplied through.
def fs(x: f64): (f64, f64) = (sqrt(x), x * 3.0)
def zs(x: f64): f64 = vjp(fs, x, (0.0, 1.0)).1

def one(x: [n]f64, y: f64, d: [n]f64, s1: [n]f64, s2: f64): ([n]f64, f64, [n]f64, f64) =
  let h = fn(a: [n]f64, b: f64) => f(a, b, d)
  let (v, (a, b)) = vjp(h, (x, y), (s1, s2))
  in (v.0, v.1, a, b)

def one2(x: [n]f64, y: f64, s1: [n]f64, s2: f64): ([n]f64, f64) = vjp(f2, (x, y), (s1, s2)).1
`

// TestSharedVJPs checks that VJPs of one function at one point, whose
// forward pass is shared and whose backward passes skip zero parts of
// their seeds, give what each VJP gives alone, and that sharing saves
// steps.
func TestSharedVJPs(t *testing.T) {
	p := compile(t, "share.nab", []byte(shareSrc))
	rng := rand.New(rand.NewPCG(5, 5))
	vec := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = rng.Float64()*2 - 1
		}
		return out
	}
	for _, n := range []int{1, 4, 17} {
		x, d, s1, zero := vec(n), vec(n), vec(n), make([]float64, n)
		y, s2 := 0.7, -1.3
		got := flat(call(t, fn(t, p, "shared"), x, y, d, s1, s2))
		var want []float64
		for i, s := range []struct {
			s1 []float64
			s2 float64
		}{{s1, s2}, {zero, s2}, {s1, 0}, {zero, 0}} {
			w := flat(call(t, fn(t, p, "one"), x, y, d, s.s1, s.s2))
			if i == 0 {
				want = append(want, w[:n+1]...) // the value, once
			}
			want = append(want, w[n+1:]...)
		}
		checkClose(t, "shared", got, want, 1e-14)
		checkClose(t, "lone", flat(call(t, fn(t, p, "lone"), x, y, d, s2)), flat(call(t, fn(t, p, "one"), x, y, d, zero, s2))[n+1:], 1e-14)

		got = flat(call(t, fn(t, p, "shared2"), x, y, s1, s2))
		want = nil
		for _, k := range []float64{1, 2} {
			sk := make([]float64, n)
			for i := range sk {
				sk[i] = s1[i] * k
			}
			want = append(want, flat(call(t, fn(t, p, "one2"), x, y, sk, s2))...)
		}
		want = append(want, flat(call(t, fn(t, p, "one2"), x, y, zero, s2))...)
		want = append(want, flat(call(t, fn(t, p, "one2"), x, y, s1, 0.0))...)
		checkClose(t, "shared2", got, want, 1e-14)
	}
	for _, x := range []float64{0, 4} {
		if got := call(t, fn(t, p, "zs"), x).(float64); got != 3 {
			t.Errorf("zs(%g) = %g, want 3 (the zero seed part is symbolic)", x, got)
		}
	}
	x, d, s1 := vec(200), vec(200), vec(200)
	four, one := steps(t, []byte(shareSrc), "shared", x, 0.7, d, s1, -1.3), steps(t, []byte(shareSrc), "one", x, 0.7, d, s1, -1.3)
	t.Logf("four VJPs shared: %d steps, one alone: %d", four, one)
	if four > 3*one {
		t.Errorf("four VJPs at one point take %d steps, more than 3 times one VJP's %d", four, one)
	}
}

// TestBAJacobian checks bench/gradbench/ba.nab's reverse-mode Jacobian,
// whose three VJPs share a forward pass, against forward mode.
func TestBAJacobian(t *testing.T) {
	p := compile(t, "ba.nab", append(readBench(t, "ba.nab"), []byte(baJacFwd)...))
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sz := range [][3]int{{1, 1, 1}, {2, 5, 9}, {4, 30, 200}} {
		args := baArgs(rng, sz[0], sz[1], sz[2])
		checkClose(t, "ba jacobian", flat(call(t, fn(t, p, "jacobian"), args...)), flat(call(t, fn(t, p, "jacobian_fwd"), args...)), 1e-12)
	}
}

// TestBatchedBackward checks that BA's two reprojection rows sweep back
// in one batched backward def (ad/share_batch.go), and that its
// rotation's backward sweeps are batched in turn, so that what they
// compute from the tape alone is computed once.
func TestBatchedBackward(t *testing.T) {
	res, err := pipeline.Compile(context.Background(), "ba.nab", readBench(t, "ba.nab"), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Final()
	for _, name := range []string{"residuals$split_1110$bwd_10$x2", "rotate$split_11$bwd$x2"} {
		if p.Def(name) == nil {
			t.Errorf("no def %s", name)
		}
	}
	text := ir.PrintDef(p.Def("jacobian"))
	if n := strings.Count(text, "$bwd_10"); n != 1 {
		t.Errorf("jacobian calls a backward def of the reprojection rows %d times, want 1 (batched):\n%s", n, text)
	}
}
