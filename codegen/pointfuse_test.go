package codegen

// Tests of pointfuse.go: the fused tape build and reverse loop gives the
// general code's bits and errors, where it applies and where it does not.

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

var (
	// fusedFlag matches the label of a fused region; keptFlag a sweep
	// reading the kept products.
	fusedFlag = regexp.MustCompile(`(?m)^\s*Fused_[0-9]+:$`)
	keptFlag  = regexp.MustCompile(`sweep_[0-9]+ = math\.Abs\(kept_[0-9]+\[`)
)

// TestPointFuseSameBits runs every RUN of testdata/pointfuse.nab with
// and without the fusion, each also with small parallel thresholds, and
// requires the same JSON from all four and the interpreter's errors.
func TestPointFuseSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	const file = "testdata/pointfuse.nab"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	configs := []Options{{Main: true}, {Main: true, noPointFuse: true}, {Main: true, ParallelMin: 2}, {Main: true, noPointFuse: true, ParallelMin: 2}}
	names := []string{"fused", "general", "fused, parallel from 2", "general, parallel from 2"}
	runners := make([]*runner, len(configs))
	for i, opts := range configs {
		code, err := Generate(res.Opt, opts)
		if err != nil {
			t.Fatal(err)
		}
		fused := len(fusedFlag.FindAllString(string(code), -1))
		kept := len(keptFlag.FindAllString(string(code), -1))
		if want := !opts.noPointFuse; (fused > 0) != want || (kept > 0) != want {
			t.Fatalf("%s: %d fused regions, %d sweeps reading kept products", names[i], fused, kept)
		}
		bin, err := Build(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		runners[i] = &runner{prog: res.Opt, bin: bin}
	}
	runs := 0
	for _, c := range topRuns(src) {
		args, result := runArgs(t, ip, c)
		_, ierr := ip.Call(ctx, c.def, args, runtime.Limits{})
		outs := make([]string, len(runners))
		for i, r := range runners {
			v, err := r.Call(ctx, c.def, args, runtime.Limits{})
			switch {
			case (err == nil) != (ierr == nil) || err != nil && err.Error() != ierr.Error():
				t.Errorf("line %d: %s: error %v, the interpreter's %v", c.line, names[i], err, ierr)
			case err == nil:
				j, _ := jsonv.Encode(result, v)
				outs[i] = string(j)
			}
		}
		for i := range outs {
			if outs[i] != outs[0] {
				t.Errorf("line %d: %s gives %s, %s %s", c.line, names[i], outs[i], names[0], outs[0])
			}
		}
		runs++
	}
	if runs < 20 {
		t.Fatalf("only %d RUN lines", runs)
	}
}
