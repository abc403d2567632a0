package tests

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
)

// checkpointSrc has a comprehension of scalar arithmetic on elements
// (line 3, which the default policy recomputes) and one whose body
// multiplies arrays (line 4, which it saves). %s is f's @strategy line.
// Line 3 uses its index (f64(i + 1)), so that the ad stage does not
// vectorize it into sin(x) * x * exp(x) (rewrite/vectorize.go; it would
// in the default case only, the others having an @strategy).
const checkpointSrc = `%s
def f(x: [n]f64, m: [k][n]f64): f64 =
  sum([sin(x[i]) * x[i] * exp(x[i]) * f64(i + 1) for i < n])
  + sum([sum(x * m[j]) ^ 2 for j < k])

def g(x: [n]f64, m: [k][n]f64): [n]f64 = grad(fn(y) => f(y, m))(x)
`

// TestCheckpointPolicies checks checkpointing as a rewrite strategy: the
// decisions each policy lists in the trace of f$vjp, that all give the
// gradient finite differences give, and that they run different code:
// saving the cheap body's values costs more interpreter steps than
// recomputing them (why remat recomputes it); recomputing the other body
// changes the count too (at these sizes it lowers it slightly: remat's
// rule is the one reverse mode applied before, kept so that default
// programs do not change).
func TestCheckpointPolicies(t *testing.T) {
	x := make([]float64, 50)
	m := make([][]float64, 8)
	for i := range x {
		x[i] = math.Sin(float64(i)) / 2
	}
	for j := range m {
		m[j] = make([]float64, len(x))
		for i := range x {
			m[j][i] = math.Cos(float64(i*j)) / 10
		}
	}
	cases := []struct {
		attr  string
		trace []string // the checkpointing lines of f$vjp's trace, by rule and line
	}{
		// x * m[j] on line 4 is an operation on a view, which reverse
		// mode recomputes unless the policy is save_all (remat.view_op).
		{"", []string{"remat.cheap_body :3:", "remat.save :4:", "remat.view_op :4:"}},
		{"@strategy(save_all; default)", []string{"save_all :3:", "save_all :4:"}},
		{"@strategy(remat_all; default)", []string{"remat_all :3:", "remat_all :4:", "remat.view_op :4:"}},
	}
	var grads [][]float64
	var counts []int64
	for _, tc := range cases {
		src := fmt.Sprintf(checkpointSrc, tc.attr)
		res, err := pipeline.Compile(context.Background(), "ck.nab", []byte(src), pipeline.Options{Trace: true})
		if err != nil {
			t.Fatalf("%q: %v", tc.attr, err)
		}
		var got []string
		for _, s := range res.Trace.Steps {
			if strings.HasPrefix(s.Def, "f$vjp") && (strings.HasPrefix(s.Name, "remat") || s.Name == "save_all") {
				got = append(got, fmt.Sprintf("%s :%d:", s.Name, s.Pos.Line))
			}
		}
		if !slices.Equal(got, tc.trace) {
			t.Errorf("%q: checkpointing decisions %q, want %q", tc.attr, got, tc.trace)
		}
		p := compile(t, "ck.nab", []byte(src))
		gr := toFloats(t, call(t, fn(t, p, "g"), x, m))
		f := fn(t, p, "f")
		for i := range x {
			const h = 1e-6
			xp, xm := slices.Clone(x), slices.Clone(x)
			xp[i] += h
			xm[i] -= h
			fd := (call(t, f, xp, m).(float64) - call(t, f, xm, m).(float64)) / (2 * h)
			if math.Abs(fd-gr[i]) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("%q: gradient[%d] = %v, finite differences %v", tc.attr, i, gr[i], fd)
			}
		}
		grads = append(grads, gr)
		counts = append(counts, steps(t, []byte(src), "g", x, m))
	}
	for i := 1; i < len(grads); i++ {
		for j := range grads[0] {
			if math.Abs(grads[i][j]-grads[0][j]) > 1e-12*(1+math.Abs(grads[0][j])) {
				t.Errorf("%q: gradient[%d] = %v, default %v", cases[i].attr, j, grads[i][j], grads[0][j])
			}
		}
	}
	t.Logf("interpreter steps of g: default %d, save_all %d, remat_all %d", counts[0], counts[1], counts[2])
	if counts[1] <= counts[0] {
		t.Errorf("steps: save_all %d, default %d; saving the cheap body should cost steps", counts[1], counts[0])
	}
	if counts[2] == counts[0] {
		t.Errorf("steps: remat_all %d, as many as default; recomputing the saved body should change them", counts[2])
	}
}

func toFloats(t *testing.T, v any) []float64 {
	t.Helper()
	xs, ok := v.([]float64)
	if !ok {
		t.Fatalf("result %v (%T), want []float64", v, v)
	}
	return xs
}
