package rewrite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/ir/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// benchProgram is a program of docs/rewrite.md's table: a primal f, its
// gradient g and a directional derivative j (jvp), with a way to make
// arguments.
type benchProgram struct {
	name, src string
	args      func(rng *rand.Rand) (f, g, j []runtime.Value)
}

func vec(rng *rand.Rand, n int) runtime.Value {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = rng.Float64()*2 - 1
	}
	return runtime.Arr(runtime.FromF64(xs))
}

func mat(rng *rand.Rand, m, n int) runtime.Value {
	a := vec(rng, m*n).Array()
	a.Shape = []int{m, n}
	return runtime.Arr(a)
}

var benchPrograms = []benchProgram{
	{name: "dot (n = 1000)", src: `
def f(x: [n]f64, y: [n]f64): f64 = sum(x * y)
def g(x: [n]f64, y: [n]f64) = grad(f)(x, y)
def j(x: [n]f64, y: [n]f64, dx: [n]f64, dy: [n]f64): f64 = jvp(f, (x, y), (dx, dy)).1
`, args: func(rng *rand.Rand) (f, g, j []runtime.Value) {
		x, y := vec(rng, 1000), vec(rng, 1000)
		return []runtime.Value{x, y}, []runtime.Value{x, y}, []runtime.Value{x, y, vec(rng, 1000), vec(rng, 1000)}
	}},
	{name: "Rosenbrock (n = 1000)", src: `
def f(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def g(x: [n]f64) = grad(f)(x)
def j(x: [n]f64, dx: [n]f64): f64 = jvp(f, x, dx).1
`, args: func(rng *rand.Rand) (f, g, j []runtime.Value) {
		x := vec(rng, 1000)
		return []runtime.Value{x}, []runtime.Value{x}, []runtime.Value{x, vec(rng, 1000)}
	}},
	{name: "MLP (32-64-1, tanh)", src: `
def mlp(w1: [h][d]f64, b1: [h]f64, w2: [h]f64, x: [d]f64): f64 =
  let a = map(fn(v) => tanh(v), w1 @ x + b1) in
  sum(w2 * a) ^ 2
def f(w1: [h][d]f64, b1: [h]f64, w2: [h]f64, x: [d]f64): f64 = mlp(w1, b1, w2, x)
def g(w1: [h][d]f64, b1: [h]f64, w2: [h]f64, x: [d]f64) = grad(fn(a, b, c) => mlp(a, b, c, x))(w1, b1, w2)
def j(w1: [h][d]f64, b1: [h]f64, w2: [h]f64, x: [d]f64, dw1: [h][d]f64, db1: [h]f64, dw2: [h]f64): f64 =
  jvp(fn(a, b, c) => mlp(a, b, c, x), (w1, b1, w2), (dw1, db1, dw2)).1
`, args: func(rng *rand.Rand) (f, g, j []runtime.Value) {
		w1, b1, w2, x := mat(rng, 64, 32), vec(rng, 64), vec(rng, 64), vec(rng, 32)
		return []runtime.Value{w1, b1, w2, x}, []runtime.Value{w1, b1, w2, x},
			[]runtime.Value{w1, b1, w2, x, mat(rng, 64, 32), vec(rng, 64), vec(rng, 64)}
	}},
	{name: "GMM log-likelihood (n = 200, d = 2, K = 5)", src: `
def ll(logw: [k]f64, means: [k][d]f64, x: [n][d]f64): f64 =
  sum([logsumexp([logw[c] - 0.5 * sum((x[i] - means[c])^2) for c < k]) for i < n]) - f64(n) * logsumexp(logw)
def f(logw: [k]f64, means: [k][d]f64, x: [n][d]f64): f64 = ll(logw, means, x)
def g(logw: [k]f64, means: [k][d]f64, x: [n][d]f64) = grad(fn(w, m) => ll(w, m, x))(logw, means)
def j(logw: [k]f64, means: [k][d]f64, x: [n][d]f64, dw: [k]f64, dm: [k][d]f64): f64 =
  jvp(fn(w, m) => ll(w, m, x), (logw, means), (dw, dm)).1
`, args: func(rng *rand.Rand) (f, g, j []runtime.Value) {
		w, m, x := vec(rng, 5), mat(rng, 5, 2), mat(rng, 200, 2)
		return []runtime.Value{w, m, x}, []runtime.Value{w, m, x}, []runtime.Value{w, m, x, vec(rng, 5), mat(rng, 5, 2)}
	}},
}

// reachSize counts the nodes of def name and of every def it refers to.
func reachSize(p *ir.Program, name string) int {
	seen := map[string]bool{}
	n := 0
	var visit func(name string)
	visit = func(name string) {
		d := p.Def(name)
		if d == nil || seen[name] {
			return
		}
		seen[name] = true
		n += ir.Size(d.Body)
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if g, ok := x.(*ir.Global); ok && enter {
				visit(g.Name)
			}
		}, nil)
	}
	visit(name)
	return n
}

// timeCall is the median time of one call, over batches of at least
// 40 ms.
func timeCall(t testing.TB, it *interp.Interp, name string, args []runtime.Value) time.Duration {
	call := func() {
		if _, err := it.Call(context.Background(), name, args, runtime.Limits{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	call()
	var samples []time.Duration
	for range 5 {
		start, n := time.Now(), 0
		for time.Since(start) < 40*time.Millisecond {
			call()
			n++
		}
		samples = append(samples, time.Since(start)/time.Duration(n))
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	return samples[len(samples)/2]
}

// TestRewriteTable prints the table of docs/rewrite.md when
// NABLA_REWRITE_TABLE is set:
//
//	NABLA_REWRITE_TABLE=1 go test -run TestRewriteTable -v ./rewrite
func TestRewriteTable(t *testing.T) {
	if os.Getenv("NABLA_REWRITE_TABLE") == "" {
		t.Skip("set NABLA_REWRITE_TABLE=1 to measure")
	}
	var b strings.Builder
	b.WriteString("| program | def | IR nodes before | after | time before | after | speed-up | ÷ primal before | after |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, bp := range benchPrograms {
		before := loadSrc(t, bp.src)
		after, _, err := testRewriter(t).Apply(before, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ib, err := interp.New(before)
		if err != nil {
			t.Fatal(err)
		}
		ia, err := interp.New(after)
		if err != nil {
			t.Fatal(err)
		}
		fa, ga, ja := bp.args(rand.New(rand.NewPCG(1, 2)))
		var primal [2]time.Duration
		for _, c := range []struct {
			def  string
			args []runtime.Value
		}{{"f", fa}, {"g", ga}, {"j", ja}} {
			tb, ta := timeCall(t, ib, c.def, c.args), timeCall(t, ia, c.def, c.args)
			label := map[string]string{"f": "f", "g": "grad f", "j": "jvp f"}[c.def]
			ratio := func(d, p time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(p)) }
			rb, ra := "1", "1"
			if c.def == "f" {
				primal = [2]time.Duration{tb, ta}
			} else {
				rb, ra = ratio(tb, primal[0]), ratio(ta, primal[1])
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %v | %v | %.2f× | %s | %s |\n", bp.name, label,
				reachSize(before, c.def), reachSize(after, c.def), tb.Round(100*time.Nanosecond), ta.Round(100*time.Nanosecond),
				float64(tb)/float64(ta), rb, ra)
		}
	}
	t.Log("\n" + b.String())
}

// BenchmarkDefault measures the cost of the default pipeline itself on
// the table's programs (compile time, not run time).
func BenchmarkDefault(b *testing.B) {
	for _, bp := range benchPrograms {
		p, rw := loadSrc(b, bp.src), testRewriter(b)
		b.Run(strings.Fields(bp.name)[0], func(b *testing.B) {
			for b.Loop() {
				if _, _, err := rw.Apply(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
