package ad_test

// Tests of vjp_again.go: operations on views recomputed in the reverse
// pass rather than saved.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/pipeline"
)

// againSrc is the vectorized GMM's data term (x[i] - mu[j], its product
// with q[j] and its square are operations on views), the same under
// save_all, and an LSTM-like loop whose views are read again already.
const againSrc = `
def f(mu: [k][d]f64, q: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ -0.5 * sum((q[j] @ (x[i] - mu[j]))^2) for j < k ]) for i < n ])
@strategy(save_all; default)
def f_saved(mu: [k][d]f64, q: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ -0.5 * sum((q[j] @ (x[i] - mu[j]))^2) for j < k ]) for i < n ])
def g(mu: [k][d]f64, q: [k][d][d]f64, x: [n][d]f64) = grad(fn(mu, q) => f(mu, q, x))(mu, q)
def g_saved(mu: [k][d]f64, q: [k][d][d]f64, x: [n][d]f64) = grad(fn(mu, q) => f_saved(mu, q, x))(mu, q)
`

// TestVJPViewOpsRecomputed checks the rule: the trace lists the three
// values recomputed in f's VJP and none in f_saved's (save_all), the
// gradients agree with the code that saves them (the rule off; to the bit
// under save_all) and with finite differences.
func TestVJPViewOpsRecomputed(t *testing.T) {
	res, err := pipeline.Compile(context.Background(), "again.nab", []byte(againSrc), pipeline.Options{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Trace.Steps {
		if s.Name == "remat.view_op" {
			got = append(got, fmt.Sprintf("%s :%d:%d: %s", s.Def, s.Pos.Line, s.Pos.Col, s.Before))
		}
	}
	want := []string{
		"f$vjp_110 :3:46: x[i] - mu[i_1]",
		"f$vjp_110 :3:38: q[i] @ (x[i_1] - mu[i])",
		"f$vjp_110 :3:55: (q[i] @ (x[i_1] - mu[i])) ^ 2.0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("recomputed values in the trace:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	p := mustCompile(t, againSrc)
	off := ad.DisableViewOps()
	ref := mustCompile(t, againSrc)
	off()
	mu := [][]float64{{0.3, -0.7}, {0.2, 1.1}, {-0.5, 0.25}}
	q := [][][]float64{{{1.2, 0}, {0.3, 0.8}}, {{0.9, 0}, {-0.4, 1.5}}, {{1.1, 0}, {0.6, 0.7}}}
	x := [][]float64{{0.1, 0.4}, {-0.8, 0.6}, {0.5, -0.2}, {math.Copysign(0, -1), 0.9}}
	for _, def := range []string{"g", "g_saved"} {
		got, want := flatAny(callAny(t, p, def, mu, q, x)), flatAny(callAny(t, ref, def, mu, q, x))
		if len(got) != len(want) {
			t.Fatalf("%s: %d partials, the saving code %d", def, len(got), len(want))
		}
		for i := range got {
			// Under save_all nothing changes. Otherwise the forward sweep
			// keeps sum(y * y) as the objective computes it, where the
			// saving code had it lowered to dot(y, y) (its y * y was a
			// dead tape field): the same up to rounding.
			if def == "g_saved" && math.Float64bits(got[i]) != math.Float64bits(want[i]) ||
				math.Abs(got[i]-want[i]) > 1e-13*(1+math.Abs(want[i])) {
				t.Errorf("%s: partial %d is %v, the saving code %v", def, i, got[i], want[i])
			}
		}
	}
	gotMu := flatAny(callAny(t, p, "g", mu, q, x))[:6]
	fd := fdJacobian(1, func(flat []float64) []float64 {
		return flatAny(callAny(t, p, "f", likeAny(mu, flat), q, x))
	}, flatAny(mu))
	for i := range fd {
		if math.Abs(gotMu[i]-fd[i]) > 1e-6*(1+math.Abs(fd[i])) {
			t.Errorf("d/dmu %d: %v, finite differences %v", i, gotMu[i], fd[i])
		}
	}
}
