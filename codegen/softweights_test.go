package codegen

// Tests of softweights.go: the weights saved by the forward pass give
// the values of exp(v - logsumexp(v)) computed in the reverse pass, and
// the same errors.

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// TestSoftWeights runs every RUN of testdata/softweights.nab through the
// Go backend with the saved weights and without them
// (Options.noSoftWeights), with the default parallel thresholds and with
// every loop of 4 or more parallel. Errors must be the interpreter's,
// text and position; values the same JSON up to 1e-12 in finite numbers
// (the weights are e/s, exp(v - y) rounded otherwise), NaN and ±Inf
// exactly.
func TestSoftWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	const file = "testdata/softweights.nab"
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
	configs := []Options{{Main: true}, {Main: true, noSoftWeights: true}, {Main: true, ParallelMin: 4}, {Main: true, ParallelMin: 4, noSoftWeights: true}}
	runners := make([]*runner, len(configs))
	for i, opts := range configs {
		code, err := Generate(res.Opt, opts)
		if err != nil {
			t.Fatal(err)
		}
		// The path runs: rows, shifted and gmm save their weights (the
		// other tapes read v otherwise, or have none).
		if n := strings.Count(string(code), "runtime.LogSumExpWeights("); (n == 3) == opts.noSoftWeights || n != 0 && n != 3 {
			t.Fatalf("%+v: %d saved weights", opts, n)
		}
		bin, err := Build(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		runners[i] = &runner{prog: res.Opt, bin: bin}
	}
	runs, fails, differ := 0, 0, 0
	for _, c := range topRuns(src) {
		name, line := c.def, c.line
		args, result := runArgs(t, ip, c)
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
				differ++
				if !nearJSON(outs[i-1], outs[i], 1e-12) {
					t.Errorf("line %d: %s: saved weights %s, recomputed %s (%+v)", line, name, outs[i-1], outs[i], configs[i])
				}
			}
		}
		runs++
	}
	if runs < 30 || fails < 5 {
		t.Fatalf("only %d RUN lines, %d failing", runs, fails)
	}
	t.Logf("%d RUNs, %d failing; %d pairs not the same bits (within 1e-12)", runs, fails, differ)
}

// nearJSON reports whether two JSON values are the same but for finite
// numbers within tol relative (absolute below 1); strings, which spell
// NaN and ±Inf, must be equal.
func nearJSON(a, b string, tol float64) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	var near func(x, y any) bool
	near = func(x, y any) bool {
		switch x := x.(type) {
		case float64:
			y, ok := y.(float64)
			return ok && math.Abs(x-y) <= tol*math.Max(1, math.Abs(x))
		case []any:
			y, ok := y.([]any)
			if !ok || len(x) != len(y) {
				return false
			}
			for i := range x {
				if !near(x[i], y[i]) {
					return false
				}
			}
			return true
		}
		return x == y
	}
	return near(x, y)
}
