package codegen

// Tests of softweights.go: the weights saved by the forward pass give
// the values of exp(v - logsumexp(v)) computed in the reverse pass, and
// the same errors.

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
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
	configs := []Options{{Main: true}, {Main: true, noSoftWeights: true}, {Main: true, ParallelMin: 4}, {Main: true, ParallelMin: 4, noSoftWeights: true}}
	v := buildVariants(t, "testdata/softweights.nab", configs, func(i int, code string) {
		// The path runs: rows, shifted and gmm save their weights (the
		// other tapes read v otherwise, or have none).
		if n := strings.Count(code, "runtime.LogSumExpWeights("); (n == 3) == configs[i].noSoftWeights || n != 0 && n != 3 {
			t.Fatalf("%+v: %d saved weights", configs[i], n)
		}
	})
	runs, fails, differ := 0, 0, 0
	for _, c := range topRuns(v.src) {
		outs, ierr := v.call(t, c, func(i int) string { return fmt.Sprintf("%+v", configs[i]) })
		if ierr != nil {
			fails++
		}
		for i := 1; i < len(outs); i += 2 {
			if outs[i-1] != outs[i] {
				differ++
				if !nearJSON(outs[i-1], outs[i], 1e-12) {
					t.Errorf("line %d: %s: saved weights %s, recomputed %s (%+v)", c.line, c.def, outs[i-1], outs[i], configs[i])
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
