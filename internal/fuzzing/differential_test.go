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
	"github.com/nabla-lang/nabla/runtime"
)

// adDefs are appended to every generated program (its defs' names
// prefixed by prefix): the derivatives the differential checks compare.
func adDefs(prefix string) string {
	return strings.NewReplacer("$", prefix).Replace(`
def $jv(x: f64, v: [n]f64, dx: f64, dv: [n]f64): f64 = jvp($f, (x, v), (dx, dv)).1
def $gr(x: f64, v: [n]f64) = grad($f)(x, v)
def $hj(x: f64, v: [n]f64, dx: f64, dv: [n]f64): [n]f64 = jvp($h, (x, v), (dx, dv)).1
def $hv(x: f64, v: [n]f64, yb: [n]f64) = vjp($h, (x, v), yb).1
`)
}

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
		differential(t, progen.Random(data).Src+adDefs(""), data)
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
	compared, fdChecked, fdSkipped, dotChecked, nonFinite int
}

// differential compiles src and runs the checks at a point drawn from
// data.
func differential(t *testing.T, src string, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := pipeline.Compile(ctx, "gen.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatalf("a generated program does not compile: %v\n%s", err, src)
	}
	before, err := pipeline.Interp.Load(ctx, res.AD)
	if err != nil {
		t.Fatalf("load (before rewriting): %v\n%s", err, src)
	}
	after, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatalf("load (after rewriting): %v\n%s", err, src)
	}
	p := newPoint(data)
	var st diffStats
	call := func(r pipeline.Runner, def string, args ...runtime.Value) []float64 {
		v, err := r.Call(ctx, def, args, runLimits)
		if err != nil {
			t.Fatalf("%s(%s): %v\nprogram:\n%s", def, p, err, src)
		}
		return flat(v)
	}
	calls := []struct {
		def  string
		args []runtime.Value
	}{
		{"f", []runtime.Value{runtime.F64(p.x), vec(p.v)}},
		{"h", []runtime.Value{runtime.F64(p.x), vec(p.v)}},
		{"jv", []runtime.Value{runtime.F64(p.x), vec(p.v), runtime.F64(p.dx), vec(p.dv)}},
		{"gr", []runtime.Value{runtime.F64(p.x), vec(p.v)}},
		{"hj", []runtime.Value{runtime.F64(p.x), vec(p.v), runtime.F64(p.dx), vec(p.dv)}},
		{"hv", []runtime.Value{runtime.F64(p.x), vec(p.v), vec(p.yb)}},
	}
	got := map[string][]float64{}
	// 1. The rewrite stage keeps every result (to rounding: rules may
	// reassociate and fuse).
	for _, c := range calls {
		b := call(before, c.def, c.args...)
		a := call(after, c.def, c.args...)
		got[c.def] = a
		for i := range a {
			if !finite(a[i], b[i]) {
				st.nonFinite++
				continue
			}
			st.compared++
			if !near(a[i], b[i], 1e-9, 1e-12) {
				t.Fatalf("%s(%s)[%d] is %v after the rewrite stage but %v before\nprogram:\n%s", c.def, p, i, a[i], b[i], src)
			}
		}
	}
	// 2. jvp against central differences, where they are well
	// conditioned.
	fdOf := func(def string) [][]float64 {
		return [][]float64{
			centralDiff(func(s float64) []float64 { x, v := p.moved(s); return call(after, def, runtime.F64(x), vec(v)) }, 1e-3),
			centralDiff(func(s float64) []float64 { x, v := p.moved(s); return call(after, def, runtime.F64(x), vec(v)) }, 5e-4),
		}
	}
	for _, c := range []struct{ def, jvp string }{{"f", "jv"}, {"h", "hj"}} {
		fd := fdOf(c.def)
		for i, ad := range got[c.jvp] {
			coarse, fine := fd[0][i], fd[1][i]
			if !finite(ad, coarse, fine) || math.Abs(coarse-fine) > 1e-3*(1+math.Abs(fine)) {
				// Not smooth near the point (a kink, a branch or a
				// jump within h) or too curved for h: no verdict.
				st.fdSkipped++
				continue
			}
			st.fdChecked++
			rich := (4*fine - coarse) / 3
			if math.Abs(ad-rich) > 1e-5*(1+math.Abs(ad))+4*math.Abs(coarse-fine) {
				t.Fatalf("%s: jvp gives %v, central differences %v (h = 1e-3: %v, 5e-4: %v) at %s\nprogram:\n%s", c.def, ad, rich, coarse, fine, p, src)
			}
		}
	}
	// 3. The dot-product test: ⟨ȳ, J·d⟩ = ⟨Jᵀ·ȳ, d⟩, with ȳ = 1 for f.
	d := append([]float64{p.dx}, p.dv...)
	for _, c := range []struct {
		name string
		jd   float64 // ⟨ȳ, J·d⟩
		jtyb []float64
	}{
		{name: "f", jd: got["jv"][0], jtyb: got["gr"]},
		{name: "h", jd: dot(p.yb, got["hj"]), jtyb: got["hv"]},
	} {
		lhs := c.jd
		rhs := dot(c.jtyb, d)
		if !finite(lhs, rhs) {
			st.nonFinite++
			continue
		}
		st.dotChecked++
		scale := 1 + math.Abs(lhs) + absDot(c.jtyb, d)
		if c.name == "h" {
			scale += absDot(p.yb, got["hj"])
		}
		if math.Abs(lhs-rhs) > 1e-9*scale {
			t.Fatalf("%s: forward and reverse mode disagree at %s: <ybar, J d> = %v, <J^T ybar, d> = %v\nprogram:\n%s", c.name, p, lhs, rhs, src)
		}
	}
	writeStats(st)
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

// flat lists the f64 leaves of a value in order (i64 leaves as floats).
func flat(v runtime.Value) []float64 {
	switch {
	case v.Array() != nil:
		a := v.Array()
		switch a.Kind {
		case runtime.ElemF64:
			return append([]float64(nil), a.F...)
		case runtime.ElemI64:
			out := make([]float64, len(a.I))
			for i, x := range a.I {
				out[i] = float64(x)
			}
			return out
		}
		var out []float64
		for i := range a.Len() {
			out = append(out, flat(a.At(i))...)
		}
		return out
	case v.Tuple() != nil:
		var out []float64
		for _, e := range v.Tuple() {
			out = append(out, flat(e)...)
		}
		return out
	}
	return []float64{v.F} // the checked defs return f64 leaves only
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
		fmt.Sprint(st.compared), fmt.Sprint(st.fdChecked), fmt.Sprint(st.fdSkipped), fmt.Sprint(st.dotChecked), fmt.Sprint(st.nonFinite),
	}, " "))
}
