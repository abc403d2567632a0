package fuzzing

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// seedInputs are the deterministic seeds of the generator-driven
// targets: short strings, each a different program.
func seedInputs(f *testing.F, n int) {
	for i := range n {
		f.Add([]byte(fmt.Sprintf("seed %d", i)))
	}
}

// FuzzDifferential checks a generated program three ways (see the
// package comment).
func FuzzDifferential(f *testing.F) {
	seedInputs(f, 40)
	f.Fuzz(func(t *testing.T, data []byte) {
		differential(t, progen.Random(data).Src+progen.DerivativeDefs(""), data)
	})
}

// point is where a program is evaluated: its arguments and directions.
type point struct {
	x, dx float64
	v, dv []float64
	yb    []float64
}

func newPoint(data []byte) point {
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	n := 1 + rng.IntN(4)
	u := func(a float64) float64 { return (rng.Float64()*2 - 1) * a }
	p := point{x: u(2), dx: u(1)}
	for range n {
		p.v = append(p.v, u(2))
		p.dv = append(p.dv, u(1))
		p.yb = append(p.yb, u(1))
	}
	return p
}

func vec(xs []float64) runtime.Value {
	return runtime.Arr(runtime.FromF64(append([]float64(nil), xs...)))
}

// moved is the point moved by t along its direction.
func (p point) moved(t float64) (float64, []float64) {
	v := make([]float64, len(p.v))
	for i := range v {
		v[i] = p.v[i] + t*p.dv[i]
	}
	return p.x + t*p.dx, v
}

// diffStats counts what the checks did, for the reports of long runs
// (written when NABLA_FUZZ_STATS names a file).
type diffStats struct {
	compared, fdChecked, fdSkipped, dotChecked, nonFinite, ties int
}

// differential compiles src and runs the checks at a point drawn from
// data.
func differential(t *testing.T, src string, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := compileGenerated(ctx, t, src)
	msg, st, err := verdict(ctx, res, src, newPoint(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	writeStats(st)
	if msg != "" {
		t.Fatalf("%s\nprogram:\n%s", msg, src)
	}
}

// verdict runs the checks on the compiled program src at p and returns
// the first disagreement, or "" when there is none or p is at a tie.
func verdict(ctx context.Context, res *pipeline.Result, src string, p point) (string, diffStats, error) {
	before, err := pipeline.Interp.Load(ctx, res.AD)
	if err != nil {
		return "", diffStats{}, fmt.Errorf("load (before rewriting): %v", err)
	}
	after, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		return "", diffStats{}, fmt.Errorf("load (after rewriting): %v", err)
	}
	var st diffStats
	c := &checker{ctx: ctx, before: before, after: after, st: &st}
	msg := c.check(p)
	if msg == "" {
		return "", st, nil
	}
	// A comparison on a tie (a value compared with a copy of itself
	// that the rewrite stage or a derivative computes another way, so
	// that rounding picks the branch) makes a mismatch without a defect.
	tie, err := nearTie(ctx, src, p)
	if err != nil {
		return "", st, fmt.Errorf("%s; and the tie test failed: %v", msg, err)
	}
	if tie {
		return "", diffStats{ties: 1}, nil
	}
	return msg, st, nil
}

// compileGenerated compiles a generated program, which must compile.
func compileGenerated(ctx context.Context, t *testing.T, src string) *pipeline.Result {
	res, err := pipeline.Compile(ctx, "gen.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatalf("a generated program does not compile: %v\n%s", err, src)
	}
	return res
}

// A checker runs the three checks on the program before and after the
// rewrite stage.
type checker struct {
	ctx           context.Context
	before, after pipeline.Runner
	st            *diffStats
	failed        string
}

// call runs def; a run-time error, which generated programs never have,
// is a failure.
func (c *checker) call(r pipeline.Runner, def string, args ...runtime.Value) []float64 {
	_, result, err := r.Signature(def)
	if err == nil {
		var v runtime.Value
		if v, err = r.Call(c.ctx, def, args, runLimits); err == nil {
			return flat(result, v)
		}
	}
	if c.failed == "" {
		c.failed = fmt.Sprintf("%s: %v", def, err)
	}
	return nil
}

// check returns a description of the first disagreement at p, or "".
func (c *checker) check(p point) string {
	c.failed = ""
	got := map[string][]float64{}
	// 1. The rewrite stage keeps every result (to rounding: rules may
	// reassociate and fuse).
	for _, k := range p.calls() {
		b := c.call(c.before, k.def, k.args...)
		a := c.call(c.after, k.def, k.args...)
		if c.failed != "" {
			return fmt.Sprintf("at %s: %s", p, c.failed)
		}
		got[k.def] = a
		if len(a) != len(b) {
			return fmt.Sprintf("%s(%s) is %v after the rewrite stage but %v before", k.def, p, a, b)
		}
		for i := range a {
			if !finite(a[i], b[i]) {
				c.st.nonFinite++
				continue
			}
			c.st.compared++
			if !near(a[i], b[i], 1e-9, 1e-12) {
				return fmt.Sprintf("%s(%s)[%d] is %v after the rewrite stage but %v before", k.def, p, i, a[i], b[i])
			}
		}
	}
	// 2. jvp against central differences, where they are well
	// conditioned.
	for _, k := range []struct{ def, jvp string }{{"f", "jv"}, {"h", "hj"}} {
		at := func(s float64) []float64 {
			x, v := p.moved(s)
			return c.call(c.after, k.def, runtime.F64(x), vec(v))
		}
		coarseD, fineD := centralDiff(at, 1e-3), centralDiff(at, 5e-4)
		if c.failed != "" {
			return fmt.Sprintf("near %s: %s", p, c.failed)
		}
		for i, ad := range got[k.jvp] {
			coarse, fine := coarseD[i], fineD[i]
			if !finite(ad, coarse, fine) || math.Abs(coarse-fine) > 1e-3*(1+math.Abs(fine)) || math.Abs(fine) > 1e12 {
				// Not smooth near the point (a kink, a branch or a
				// jump within h), too curved for h, or so large that
				// rounding in the derivative's own formulas dominates
				// (softmax weights exp(x - logsumexp(x)) at |x| ~ 1e15):
				// no verdict.
				c.st.fdSkipped++
				continue
			}
			c.st.fdChecked++
			rich := (4*fine - coarse) / 3
			if math.Abs(ad-rich) > 1e-5*(1+math.Abs(ad))+4*math.Abs(coarse-fine) {
				return fmt.Sprintf("%s: jvp gives %v, central differences %v (h = 1e-3: %v, 5e-4: %v) at %s", k.def, ad, rich, coarse, fine, p)
			}
		}
	}
	// 3. The dot-product test: ⟨ȳ, J·d⟩ = ⟨Jᵀ·ȳ, d⟩, with ȳ = 1 for f.
	d := append([]float64{p.dx}, p.dv...)
	for _, k := range []struct {
		name string
		jd   float64 // ⟨ȳ, J·d⟩
		jtyb []float64
		sc   float64 // Σ|ȳᵢ (J·d)ᵢ|, for the tolerance
	}{
		{name: "f", jd: got["jv"][0], jtyb: got["gr"]},
		{name: "h", jd: dot(p.yb, got["hj"]), jtyb: got["hv"], sc: absDot(p.yb, got["hj"])},
	} {
		rhs := dot(k.jtyb, d)
		if !finite(k.jd, rhs) {
			c.st.nonFinite++
			continue
		}
		c.st.dotChecked++
		if math.Abs(k.jd-rhs) > 1e-9*(1+math.Abs(k.jd)+absDot(k.jtyb, d)+k.sc) {
			return fmt.Sprintf("%s: forward and reverse mode disagree at %s: <ybar, J d> = %v, <J^T ybar, d> = %v", k.name, p, k.jd, rhs)
		}
	}
	return ""
}

// A defCall is a def and its arguments.
type defCall struct {
	def  string
	args []runtime.Value
}

// calls lists the calls the checks compare at p: f, h and their
// derivatives (progen.DerivativeDefs).
func (p point) calls() []defCall {
	xv := []runtime.Value{runtime.F64(p.x), vec(p.v)}
	dir := append(append([]runtime.Value(nil), xv...), runtime.F64(p.dx), vec(p.dv))
	return []defCall{
		{"f", xv}, {"h", xv}, {"jv", dir}, {"gr", xv}, {"hj", dir},
		{"hv", append(append([]runtime.Value(nil), xv...), vec(p.yb))},
	}
}

func (p point) String() string {
	return fmt.Sprintf("x = %v, v = %v, dx = %v, dv = %v, ybar = %v", p.x, p.v, p.dx, p.dv, p.yb)
}

// centralDiff differentiates g at 0 by (g(h) - g(-h)) / 2h, componentwise.
func centralDiff(g func(float64) []float64, h float64) []float64 {
	a, b := g(h), g(-h)
	out := make([]float64, len(a))
	for i := range out {
		out[i] = (a[i] - b[i]) / (2 * h)
	}
	return out
}

// flat lists the f64 leaves of a value of type t in order (i64 and bool
// leaves as 0 or their value). It follows t, not the value's fields: a
// scalar's R may hold anything (runtime.Value's contract).
func flat(t ir.Type, v runtime.Value) []float64 {
	switch t := t.(type) {
	case ir.Scalar:
		if t.Kind == ir.F64 {
			return []float64{v.F}
		}
		return []float64{float64(v.I)}
	case *ir.Array:
		a := v.Array()
		switch a.Kind {
		case runtime.ElemF64:
			return append([]float64(nil), a.F[:a.N()]...)
		case runtime.ElemI64:
			out := make([]float64, a.N())
			for i := range out {
				out[i] = float64(a.I[i])
			}
			return out
		}
		var out []float64
		for i := range a.Len() {
			out = append(out, flat(t.Elem, a.At(i))...)
		}
		return out
	case *ir.Tuple:
		var out []float64
		for i, e := range v.Tuple() {
			out = append(out, flat(t.Elems[i], e)...)
		}
		return out
	}
	return nil // functions: nothing to compare
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// near compares with a relative tolerance and an absolute floor.
func near(a, b, rel, abs float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+abs
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func absDot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i] * b[i])
	}
	return s
}

// writeStats appends one line of counts to the file NABLA_FUZZ_STATS
// names, if any.
func writeStats(st diffStats) {
	path := os.Getenv("NABLA_FUZZ_STATS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, strings.Join([]string{
		fmt.Sprint(st.compared), fmt.Sprint(st.fdChecked), fmt.Sprint(st.fdSkipped), fmt.Sprint(st.dotChecked), fmt.Sprint(st.nonFinite), fmt.Sprint(st.ties),
	}, " "))
}
