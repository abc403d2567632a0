package codegen_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

const parallelSrc = `
def squares(x: [n]f64) = sum([x[i] * x[i] for i < n])
def mapped(x: [n]f64) = [exp(x[i]) * 2.0 - x[i] for i < n]
def heavy(x: [n]f64) = sum([logsumexp([x[i] * f64(j) for j < 3]) for i < n])
def rows(x: [n]f64) = [logsumexp([x[i], f64(i)]) for i < n]
def picked(x: [n]f64, idx: [m]i64) = sum([x[idx[i]] * 2.0 for i < m])
def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def rosen_grad(x: [n]f64) = grad(rosen)(x)
// Func literals in a parallel body: their parameters are not captured.
def odes(k: [n]f64) = [ode_dopri5(fn(t, y) => -k[i] * y, [1.0], 0.0, 1.0, 1e-8, 1e-10)[0] for i < n]
def odes_grad(k: [n]f64) = grad(fn(k) => sum(odes(k)))(k)
def solves(x: [n]f64) = sum([linsolve(fn(v) => (2.0 + x[i]) * v, [1.0, x[i]])[1] for i < n])
`

// TestParallelLoops forces every loop that can run in parallel to do so
// from 4 elements on (chunks of 2) and checks, for maps, sums, bodies that
// allocate and bodies that fail, that the program prints the same bytes
// with 1 and 4 threads and agrees with the interpreter: the same values
// (to rounding: a parallel sum adds in chunks) and the same first error.
func TestParallelLoops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	ctx := context.Background()
	res := mustCompile(t, "par.nab", parallelSrc)
	src, err := codegen.Generate(res.Opt, codegen.Options{Main: true, ParallelMin: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"runtime.ParallelFor(", "runtime.ParallelSum("} {
		if !bytes.Contains(src, []byte(want)) {
			t.Fatalf("no %s in the generated code", want)
		}
	}
	bin, err := codegen.Build(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	ip := mustLoad(t, pipeline.Interp, res.Opt)
	x := make([]string, 37)
	for i := range x {
		x[i] = fmt.Sprint(float64(i%7)*0.25 - 0.6)
	}
	xs := "[" + strings.Join(x, ", ") + "]"
	cases := []struct {
		def  string
		args []string
	}{
		{"squares", []string{xs}},
		{"mapped", []string{xs}},
		{"heavy", []string{xs}},
		{"rows", []string{xs}},
		{"picked", []string{xs, "[0, 5, 36, 2, 7, 1, 3, 9, 11]"}},
		// Elements 6 and 8 are out of range: the error is element 6's,
		// in the third chunk, as in a sequential loop.
		{"picked", []string{xs, "[0, 5, 1, 2, 7, 1, 99, 9, -1, 4]"}},
		{"rosen", []string{xs}},
		{"rosen_grad", []string{xs}},
		{"odes", []string{xs}},
		{"odes_grad", []string{xs}},
		{"solves", []string{xs}},
	}
	for _, c := range cases {
		var outs []string
		for _, procs := range []string{"1", "4"} {
			cmd := exec.CommandContext(ctx, bin, "-f", c.def)
			cmd.Stdin = strings.NewReader(strings.Join(c.args, "\n") + "\n")
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			cmd.Run()
			outs = append(outs, out.String()+errb.String())
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: GOMAXPROCS=1 and 4 differ:\n%s\n%s", c.def, outs[0], outs[1])
		}
		params, result, err := ip.Signature(c.def)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]runtime.Value, len(params))
		for i, p := range params {
			if args[i], err = jsonv.Decode(p, []byte(c.args[i])); err != nil {
				t.Fatal(err)
			}
		}
		iv, ierr := ip.Call(ctx, c.def, args, runtime.Limits{})
		if ierr != nil {
			if got := strings.TrimSpace(outs[0]); got != ierr.Error() {
				t.Errorf("%s: error %q, interpreter %q", c.def, got, ierr.Error())
			}
			continue
		}
		ij, _ := jsonv.Encode(result, iv)
		if !closeJSON(ij, []byte(strings.TrimSpace(outs[0])), 1e-12) {
			t.Errorf("%s: %s, interpreter %s", c.def, outs[0], ij)
		}
	}
}
