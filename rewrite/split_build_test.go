package rewrite

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/lang"
)

// splitBuildBodies are scalar functions of x: [n]f64 whose gradient sweeps
// back through a comprehension reading several active arrays, so that the
// reverse loop has several states that start as zeros and get one row per
// iteration: loop_split_build takes them out as builds (its soundness is
// checked with the other AD bodies by TestDefaultPreservesAD).
var splitBuildBodies = []string{
	"let a = [x * x[j] for j < 2] in let b = [sin(x) + x[j] for j < 2] in let c = [cos(x) * x[j] for j < 2] in sum([a[j] * b[j] * c[j] for j < 2])",
	"let m = [x * x[j] for j < 3] in let q = [x + x[j] for j < 3] in sum([sin(m[j]) * q[j] for j < 3])",
}

// TestLoopSplitBuild checks that loop_split_build fires on the gradients
// of splitBuildBodies.
func TestLoopSplitBuild(t *testing.T) {
	for _, body := range splitBuildBodies {
		src := "def f(x: [n]f64): f64 = " + body + "\ndef t(x: [n]f64) = grad(f)(x)\n"
		p, err := lang.Load("t.nab", []byte(src), lang.Options{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		before, err := expand(p)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, trace, err := testRewriter(t).Apply(before, Options{Trace: true})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		fired := 0
		for _, st := range trace.Steps {
			if strings.HasPrefix(st.String(), "fuse.loop_split_build ") {
				fired++
			}
		}
		if fired == 0 {
			t.Errorf("%s: loop_split_build did not fire", body)
		}
	}
}
