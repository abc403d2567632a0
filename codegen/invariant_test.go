package codegen_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestInvariantTapeField checks that a nested tape's field that is a row
// of an array defined before the outer loop (each component's q[j] in a
// mixture's per-point tape) is kept once, as a view of that array, not
// copied into an n·k·d·d array per point, and that the other fields are
// built in the outer tape's rows; codegen/testdata/scratch.nab
// (mixture_grad) and invariant.nab compare values with the interpreter.
func TestInvariantTapeField(t *testing.T) {
	cases := []struct {
		name, src, def string
		copies         int // copy( lines in the VJP
		inPlace        int // nested tape leaves filled in the outer row
	}{
		{
			// Q(x - mu) and x - mu are recomputed in the reverse pass
			// (operations on views, ad/vjp_again.go): the point's tape
			// keeps only its K terms, copied into its row; q[j] nowhere.
			name: "shared",
			src: `def mixture(q: [k][d][d]f64, mu: [k][d]f64, x: [n][d]f64): f64 =
  sum([logsumexp([-0.5 * sum((q[j] @ (x[i] - mu[j]))^2) for j < k]) for i < n])
export def mixture_grad(q: [k][d][d]f64, mu: [k][d]f64, x: [n][d]f64) =
  grad(fn(a, b) => mixture(a, b, x))(q, mu)`,
			def: "mixturevjp110", copies: 1, inPlace: 0,
		},
		{
			// The matrix depends on the point: stored per point, with
			// its product (x - mu is recomputed). The K terms are not
			// on the tape: their logsumexp weights are, computed by
			// runtime.LogSumExpWeights and copied into their row
			// (softweights.go), so two leaves are filled in place.
			name: "per point",
			src: `def mixture(q: [k][d][d]f64, mu: [k][d]f64, x: [n][d]f64): f64 =
  sum([logsumexp([-0.5 * sum(((q[j] * x[i][0]) @ (x[i] - mu[j]))^2) for j < k]) for i < n])
export def mixture_grad(q: [k][d][d]f64, mu: [k][d]f64, x: [n][d]f64) =
  grad(fn(a, b) => mixture(a, b, x))(q, mu)`,
			def: "mixturevjp110", copies: 5, inPlace: 2,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := genBody(t, c.src, c.def)
			if n := strings.Count(body, "copy("); n != c.copies {
				t.Errorf("%d copies, want %d:\n%s", n, c.copies, body)
			}
			// From the second point on, the per-point tape leaves built
			// by nested builds (Q(x - mu) and the per-point Q) are built
			// in their rows of the outer tape, whose copies are then of a
			// slice onto itself.
			inPlace := regexp.MustCompile(`if i_[0-9]+ > 0 && [a-z]+_[0-9]+ == rs_[0-9]+ \{`)
			if n := len(inPlace.FindAllString(body, -1)); n != c.inPlace {
				t.Errorf("%d leaves filled in place, want %d:\n%s", n, c.inPlace, body)
			}
		})
	}
}
