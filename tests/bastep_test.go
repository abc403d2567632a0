package tests

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
)

// tapeOf finds, among the fields of a backward def's tape, the tape of
// the batched backward def name that it calls (the one it accepts with
// two seeds seed).
func tapeOf(t *testing.T, p *nabla.Program, name string, tape []any, seed any) any {
	t.Helper()
	f := fn(t, p, name)
	for _, x := range tape {
		if _, ok := x.([]any); !ok {
			continue
		}
		if _, err := f.Call(context.Background(), x, seed, seed); err == nil {
			return x
		}
	}
	t.Fatalf("no field of the tape is %s's", name)
	return nil
}

// baStepParts returns the steps of ba.nab's reverse-mode Jacobian at the
// test size and of its parts, each def called alone on the values the
// Jacobian passes it: the gather, the shared forward pass and the batched
// backward sweep of the two reprojection rows.
func baStepParts(t *testing.T) (whole int64, parts []struct {
	name  string
	steps int64
}) {
	src := readBench(t, "ba.nab")
	p := compile(t, "ba.nab", src)
	args := baArgs(rand.New(rand.NewPCG(9, 9)), 4, 30, 200)
	add := func(name string, args ...any) any {
		parts = append(parts, struct {
			name  string
			steps int64
		}{name, steps(t, src, name, args...)})
		return call(t, fn(t, p, name), args...)
	}
	whole = steps(t, src, "jacobian", args...)
	g := add("gathered", args[0], args[1], args[4], args[5]).([]any)
	feats := args[3].([][]float64)
	ft := [][]float64{make([]float64, len(feats)), make([]float64, len(feats))}
	for i, f := range feats {
		ft[0][i], ft[1][i] = f[0], f[1]
	}
	w := args[2].([]float64)
	shared := add("residuals$split_1110$fwd", g[0], g[1], w, ft).([]any)
	ones, zeros := make([]float64, len(w)), make([]float64, len(w))
	for i := range ones {
		ones[i] = 1
	}
	seed := func(j int) []any {
		s := [][]float64{zeros, zeros}
		s[j] = ones
		return []any{s, zeros}
	}
	tape := shared[1].([]any)
	add("residuals$split_1110$bwd_10$x2", tape, seed(0), seed(1))
	// The sweeps it calls, on seeds of their shape (steps do not depend
	// on values).
	v3 := [][]float64{w, w, w}
	rot := tapeOf(t, p, "rotate$split_11$bwd$x2", tape, v3)
	add("rotate$split_11$bwd$x2", rot, v3, v3)
	add("cross$split_11$bwd$x2", tapeOf(t, p, "cross$split_11$bwd$x2", rot.([]any), v3), v3, v3)
	return whole, parts
}

// TestBAJacobianStepBreakdown logs where the steps of ba.nab's
// reverse-mode Jacobian go and checks that the parts measured add up to
// no more than the whole (the rest is the seeds and the concatenation).
func TestBAJacobianStepBreakdown(t *testing.T) {
	if testing.Short() {
		t.Skip("bisects step limits")
	}
	whole, parts := baStepParts(t)
	var sum int64
	for i, p := range parts {
		t.Logf("%-34s %7d steps (%4.1f%%)", p.name, p.steps, 100*float64(p.steps)/float64(whole))
		if i < 3 {
			sum += p.steps // the others are inside the backward sweep
		}
	}
	t.Logf("%-34s %7d steps", "jacobian", whole)
	if sum > whole {
		t.Errorf("the parts take %d steps, more than the whole Jacobian's %d", sum, whole)
	}
}
