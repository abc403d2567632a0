package codegen_test

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

const progressSrc = `import "std/optim"
def rosen(x: [2]f64): f64 = 100.0 * (x[1] - x[0] * x[0]) ^ 2 + (1.0 - x[0]) ^ 2
def main(x0: [2]f64) = (optim.lbfgs(rosen, x0, 10, 200, 1e-10).0, optim.adam(rosen, x0, 0.01, 30).0)
def odd(x: f64) = progress("odd", 3, x / 0.0, -x / 0.0, 0.0 / 0.0, x) * 2.0
`

// TestProgress: a run of the Go backend reports the interpreter's
// iterations (the same methods and iteration numbers in the same order,
// the same figures but for rounding), NaN and infinities included;
// reporting changes no result, and without a callback nothing is asked
// of the program.
func TestProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	ctx := context.Background()
	res := mustCompile(t, "progress.nab", progressSrc)
	gen, err := codegen.Generate(res.Opt, codegen.Options{Package: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(gen, []byte("nbReport")) {
		t.Errorf("an exported package reports progress: it has no host to report to")
	}
	ip := mustLoad(t, pipeline.Interp, res.Opt)
	gp := mustLoad(t, codegen.Backend, res.Opt)
	for _, c := range []struct{ def, arg string }{{"main", "[-1.2, 1]"}, {"odd", "1.5"}} {
		params, result, err := ip.Signature(c.def)
		if err != nil {
			t.Fatal(err)
		}
		arg, err := jsonv.Decode(params[0], []byte(c.arg))
		if err != nil {
			t.Fatal(err)
		}
		var outs [][]byte
		var recs [][]runtime.Progress
		for _, r := range []pipeline.Runner{ip, gp, gp} {
			var got []runtime.Progress
			cctx := runtime.WithProgress(ctx, func(p runtime.Progress) { got = append(got, p) })
			if len(outs) == 2 {
				cctx = ctx // the Go backend without a callback
			}
			v, err := r.Call(cctx, c.def, []runtime.Value{arg}, runtime.Limits{})
			if err != nil {
				t.Fatalf("%s: %v", c.def, err)
			}
			out, _ := jsonv.Encode(result, v)
			outs = append(outs, out)
			recs = append(recs, got)
		}
		if !closeJSON(outs[0], outs[1], 1e-12) || string(outs[1]) != string(outs[2]) {
			t.Errorf("%s: results %s (interpreter), %s (go, reporting), %s (go)", c.def, outs[0], outs[1], outs[2])
		}
		want, got := recs[0], recs[1]
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("%s: %d reports from the Go backend, %d from the interpreter", c.def, len(got), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			if g.Method != w.Method || g.Iteration != w.Iteration || !closeF(g.Value, w.Value) || !closeF(g.GradNorm, w.GradNorm) || !closeF(g.Step, w.Step) {
				t.Errorf("%s: report %d is %+v, the interpreter's %+v", c.def, i, g, w)
			}
		}
	}
}

func closeF(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
