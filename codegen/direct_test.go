package codegen_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
)

// Exported functions holding their def's body (direct.go), against the
// same functions calling the internal function (Options.noDirect).
const directSrc = `def inner(x: [n]f64, i: i64) = x[i] * 2.0
export def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
export def at(x: [n]f64, i: i64) = x[i]
export def outer(x: [n]f64, i: i64) = inner(x, i) + 1.0
export def picks(x: [n]f64, k: [m]i64) = sum([x[k[i]] * f64(i) for i < m])
export def stats(x: [n]f64, t: (f64, [p]i64)) = (sum(x) * t.0, n + p, t.1[0] > 0)
export def plain(a: f64, b: i64) = a * f64(b) + 1.0
export def twice(x: [n]f64) = rosen(x) + rosen(x)
export def mean(x: [n]f64) = sum(x) / f64(n)
export def grow(x: [n]f64) = sum(x) + 1.0
export def vec(x: [n]f64) = x * 2.0
export def shadow(copy: [n]f64, int: i64, float64: f64) = copy[int] * float64 + f64(n)
`

// directNames are the exported functions of directSrc that hold their
// body; Vec returns an array, and Shadow's parameters would hide the Go
// types its code converts to: they call their def's function.
var directNames = []string{"Rosen", "At", "Outer", "Picks", "Stats", "Plain", "Twice", "Mean", "Grow"}

// directCalls are the calls compared: values (shortest round-trip
// decimal, so the same bits) and errors (their text, with positions and
// frames) must be the same both ways.
var directCalls = []string{
	"Rosen(x)", "Rosen(nil)", "Rosen([]float64{2})", "Rosen(long)",
	"At(x, 1)", "At(x, 4)", "At(x, -1)", "At(nil, 0)",
	"Outer(x, 3)", "Outer(x, 9)",
	"Picks(x, []int64{0, 1, 2, 3})", "Picks(long, bad)", "Picks(x, []int64{0, 7})",
	"Stats(x, 0.5, []int64{3})", "Stats(x, 0.5, nil)", "Stats(nil, 1, []int64{-1, 2})",
	"Plain(1.5, 3)", "Twice(x)", "Twice(long)", "Mean(nil)", "Mean(x)", "Grow(long)",
	"Shadow(x, 2, 0.5)", "Shadow(x, 5, 0.5)",
}

// TestDirectExports generates directSrc twice, with the exported
// functions that can holding their def's body and with every one calling
// the internal function, each with the default parallel thresholds and
// with loops of 8 elements or more parallel; a test in the first
// package compares every call of directCalls with the second's, and
// checks that the functions of directNames hold their body.
func TestDirectExports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	res, err := pipeline.Compile(context.Background(), "x.nab", []byte(directSrc), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	comparePackages(t, res.Opt, directTest(), codegen.WithoutDirect)
}

// directTest is the test file of package d.
func directTest() string {
	var b strings.Builder
	b.WriteString(`package d

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gen/c"
)

func show(vs ...any) string { return fmt.Sprint(vs...) }

func TestSame(t *testing.T) {
	x := []float64{0.5, 1.25, -2, 3}
	long := make([]float64, 40)
	bad := make([]int64, 40)
	for i := range long {
		long[i] = float64(i%7) / 3
		bad[i] = int64(i)
	}
	bad[13], bad[31] = 40, -2 // two failing elements, in different chunks
	cases := []struct {
		call   string
		direct func() string
		called func() string
	}{
`)
	for _, c := range directCalls {
		fmt.Fprintf(&b, "\t\t{%q, func() string { return show(%s) }, func() string { return show(c.%s) }},\n", c, c, c)
	}
	b.WriteString(`	}
	for _, tc := range cases {
		if d, c := tc.direct(), tc.called(); d != c {
			t.Errorf("%s: %s, calling the def's function %s", tc.call, d, c)
		}
	}
	src, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
`)
	fmt.Fprintf(&b, "\tfor _, name := range %#v {\n", directNames)
	b.WriteString(`		_, body, _ := strings.Cut(string(src), "\nfunc "+name+"(")
		body, _, _ = strings.Cut(body, "\n}\n")
		if body == "" || strings.Contains(body, "fn_") {
			t.Errorf("%s does not hold its def's body:\n%s", name, body)
		}
	}
	for _, name := range []string{"Vec", "Shadow"} {
		_, body, _ := strings.Cut(string(src), "\nfunc "+name+"(")
		if body, _, _ = strings.Cut(body, "\n}\n"); !strings.Contains(body, "fn_") {
			t.Errorf("%s does not call its def's function:\n%s", name, body)
		}
	}
}
`)
	return b.String()
}
