package tests

import "testing"

// TestBuiltinsAsValues: builtins are function values wherever their types
// can be determined (SPEC §5, issue 8 defect 6), and lambdas take their
// parameter types from the declared result or from how they are called.
func TestBuiltinsAsValues(t *testing.T) {
	runSizeCases(t, []sizeCase{
		{name: "grad(norm)", src: "def gn = grad(norm)\ndef main(x: [n]f64) = gn(x)", fn: "main", args: []any{[]float64{3, 4}}, want: "[0.6000000000000001 0.8]"},
		{name: "builtin value def", src: "def e = exp\ndef main(x: f64) = e(x) - exp(x)", fn: "main", args: []any{1.0}, want: "0"},
		{name: "let-bound builtin", src: "def main(x: f64) = let g = sin in g(x) - sin(x)", fn: "main", args: []any{1.0}, want: "0"},
		{name: "map of a generic def", src: "def sq = fn(x) => x * x\ndef main(x: [n]f64) = map(sq, x)", fn: "main", args: []any{[]float64{1, 2}}, want: "[1 4]"},
		{name: "jacfwd(softmax)", src: "def main(x: [n]f64) = jacfwd(softmax)(x)", fn: "main", args: []any{[]float64{0, 0}}, want: "[[0.25 -0.25] [-0.25 0.25]]"},
		{name: "declared result types the lambda", src: "def twice(f: f64 -> f64): f64 -> f64 = fn(x) => f(f(x))\ndef main(y: f64) = twice(fn(v: f64) => v * 3.0)(y)", fn: "main", args: []any{2.0}, want: "18"},
		{name: "use types the lambda", src: "def twice(f: f64 -> f64) = fn(x) => f(f(x))\ndef main(y: f64) = twice(sqrt)(y)", fn: "main", args: []any{16.0}, want: "2"},
		{name: "undetermined", src: "def gn = grad(norm)\ndef main() = gn", fn: "main", pos: "1:15", msg: "cannot use builtin norm as a value here|in gn, used at t.nab:2:14"},
	})
}
