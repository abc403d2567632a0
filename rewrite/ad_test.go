package rewrite

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/rewrite/rulecheck"
	"github.com/nabla-lang/nabla/runtime"
)

// adBodies are scalar functions of x: [n]f64 covering the constructs AD
// goes through; their derivatives are where in-place accumulators, dead
// primal values and zero cotangents appear.
var adBodies = []string{
	"sum(x * x)",
	"reduce(fn(a, b) => a + b, 0.0, x * x)",
	"let g = grad(fn(y) => sum(y * y * y))(x) in g @ g",
	"sum(map(fn(v) => v * x[0] + sin(v), x))",
	"sum(loop y = x for i < 3 do map(fn(v) => v * y[0] + sin(v), y))",
	"fold(fn(acc, v) => acc * 0.5 + tanh(v) * acc, 1.0, x)",
	"norm(x) * logsumexp(x)",
	"sum(scan(fn(a, b) => a + b, 0.0, x) ^ 2)",
	"let y = update(x, 1, x[1] * x[0]) in sum(y ^ 3) + y[3] * y[1]",
	"sum([x[i] * x[(i + 1) % n] for i < n])",
	"dot(softmax(x), x)",
	"sum(gather(x, [0, 0, 3]) * [1.0, 2.0, 3.0])",
	"if sum(x) > 0.0 then prod(x) else maximum(x)",
	"(loop (y, k) = (x[0], 0) while k < 4 do (y * 1.5 + sin(y), k + 1)).0",
	"sum(outer(x, x) @ x)",
	"mean(x) * x[2] + sum(x[1:3] * 2.0)",
	"let (a, b) = (x * 2.0, sum(x)) in sum(a * b) + stop_gradient(b) * a[0]",
	"sum(reverse(x) * x) + sum(concat(x, x * 2.0))",
	"let m = [[x[0], x[1]], [x[2], x[3]]] in sum(transpose(m) @ m)",
	"sum(map(fn(p) => p.0 * p.1, zip(x, x * 3.0)))",
	splitBuildBodies[0],
	splitBuildBodies[1],
}

// adWrappers differentiate f in every mode; j and hv take a direction.
var adWrappers = []struct{ name, def string }{
	{"f", "def t(x: [n]f64) = f(x)"},
	{"grad", "def t(x: [n]f64) = grad(f)(x)"},
	{"value_and_grad", "def t(x: [n]f64) = value_and_grad(f)(x)"},
	{"jvp", "def t(x: [n]f64) = jvp(f, x, x * 0.5 + 1.0)"},
	{"vjp", "def t(x: [n]f64) = vjp(f, x, 2.0)"},
	{"hessian", "def t(x: [n]f64) = hessian(f)(x)"},
	{"hvp", "def t(x: [n]f64) = hvp(f, x, x - 0.5)"},
	{"jacfwd_grad", "def t(x: [n]f64) = jacfwd(grad(f))(x)"},
}

// TestDefaultPreservesAD compares each derivative before and after the
// default pipeline at random points, and validates the rewritten IR.
// Derivatives this build cannot form are skipped.
func TestDefaultPreservesAD(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tested := 0
	for _, body := range adBodies {
		for _, w := range adWrappers {
			src := "def f(x: [n]f64): f64 = " + body + "\n" + w.def + "\n"
			p, err := lang.Load("t.nab", []byte(src), lang.Options{})
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			before, err := expand(p)
			if err != nil {
				continue
			}
			after, _, err := testRewriter(t).Apply(before, Options{})
			if err != nil {
				t.Errorf("%s\nApply: %v", src, err)
				continue
			}
			if err := ir.Validate(after); err != nil {
				t.Errorf("%s\ninvalid IR: %v\n%s", src, err, ir.Print(after))
				continue
			}
			ib, err1 := interp.New(before)
			ia, err2 := interp.New(after)
			if err1 != nil || err2 != nil {
				t.Errorf("%s\ninterp: %v, %v", src, err1, err2)
				continue
			}
			_, result, _ := ib.Signature("t")
			tested++
			for range 3 {
				xs := make([]float64, 4)
				for i := range xs {
					xs[i] = rng.Float64()*2 - 1
				}
				vb, errb := ib.Call(context.Background(), "t", []runtime.Value{runtime.Arr(runtime.FromF64(append([]float64(nil), xs...)))}, runtime.Limits{})
				va, erra := ia.Call(context.Background(), "t", []runtime.Value{runtime.Arr(runtime.FromF64(append([]float64(nil), xs...)))}, runtime.Limits{})
				if (errb != nil) != (erra != nil) {
					t.Errorf("%s\nat %v: error before %v, after %v", src, xs, errb, erra)
					break
				}
				if errb == nil && !rulecheck.SameValue(result, vb, va) {
					show := func(v runtime.Value) string { js, _ := jsonv.Encode(result, v); return string(js) }
					t.Errorf("%s\nat %v: before %s, after %s\n%s", src, xs, show(vb), show(va), ir.Print(after))
					break
				}
			}
		}
	}
	t.Logf("%d of %d derivatives compared", tested, len(adBodies)*len(adWrappers))
	if tested < len(adBodies)*len(adWrappers)/2 {
		t.Errorf("only %d of %d derivatives could be formed", tested, len(adBodies)*len(adWrappers))
	}
}

// TestApplyConcurrent runs Apply on one program from several goroutines
// (nabla.Compile may be called concurrently); run with -race.
func TestApplyConcurrent(t *testing.T) {
	p := loadSrc(t, strategyRules+"def f(x: [n]f64): f64 = sum(x * x) * 1.0\ndef g = grad(f)\n@strategy(cleanup)\ndef h(x: f64): f64 = (x * 1.0)^2\n")
	rw := testRewriter(t)
	done := make(chan error)
	for range 4 {
		go func() {
			out, _, err := rw.Apply(p, Options{Trace: true})
			if err == nil {
				err = ir.Validate(out)
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
