package codegen

// Tests of smalltrip.go: the straight-line small products give the
// loops' bits and errors.

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// smallTripFlag matches the first case of a versioned product
// (smallTrips).
var smallTripFlag = regexp.MustCompile(`(?m)^\s*switch [A-Za-z0-9_()]+ \{\n\s*case 1:$`)

// TestSmallTripsSameBits runs every RUN of testdata/smalltrip.nab
// through the Go backend with the straight-line products and without
// them (Options.noSmallTrips), with the default parallel thresholds and
// with every loop of 4 elements or more parallel: the values must be the
// same bits (their JSON, which spells every float exactly, equal) and
// the errors the same text, the interpreter's, positions included.
func TestSmallTripsSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	const file = "testdata/smalltrip.nab"
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
	configs := []Options{{Main: true}, {Main: true, noSmallTrips: true}, {Main: true, ParallelMin: 4}, {Main: true, ParallelMin: 4, noSmallTrips: true}}
	runners := make([]*runner, len(configs))
	for i, opts := range configs {
		code, err := Generate(res.Opt, opts)
		if err != nil {
			t.Fatal(err)
		}
		// Every product of the file (three in the gradient) is versioned,
		// in each of its copies (serial and parallel).
		if n := len(smallTripFlag.FindAllString(string(code), -1)); (n >= 8) == opts.noSmallTrips {
			t.Fatalf("%+v: %d versioned products", opts, n)
		}
		bin, err := Build(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		runners[i] = &runner{prog: res.Opt, bin: bin}
	}
	runs, fails := 0, 0
	for _, c := range topRuns(src) {
		name, line := c.def, c.line
		args, result := runArgs(t, ip, c)
		// (The interpreter sums some products in another order, so only
		// its errors are compared.)
		_, ierr := ip.Call(ctx, name, args, runtime.Limits{})
		if ierr != nil {
			fails++
		}
		outs := make([]string, len(runners))
		for i, r := range runners {
			v, err := r.Call(ctx, name, args, runtime.Limits{})
			switch {
			case (err == nil) != (ierr == nil) || err != nil && err.Error() != ierr.Error():
				t.Errorf("line %d: %s %+v: error %v, the interpreter's %v", line, name, configs[i], err, ierr)
			case err == nil:
				j, _ := jsonv.Encode(result, v)
				outs[i] = string(j)
			}
		}
		for i := 1; i < len(outs); i += 2 {
			if outs[i-1] != outs[i] {
				t.Errorf("line %d: %s: straight %s, loops %s (%+v)", line, name, outs[i-1], outs[i], configs[i])
			}
		}
		runs++
	}
	if runs < 100 || fails < 10 {
		t.Fatalf("only %d RUN lines, %d failing", runs, fails)
	}
}
