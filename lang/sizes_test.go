package lang

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// countChecks counts the check_dim calls in e.
func countChecks(e ir.Expr) int {
	n := 0
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if pc, ok := x.(*ir.PrimCall); ok && enter && pc.Op == ir.PrimCheckDim {
			n++
		}
	}, nil)
	return n
}

// TestSizeChecksInserted: elaboration guards a declared result and a
// loop's state with check_dim exactly where the sizes are not statically
// the same (SPEC §2).
func TestSizeChecksInserted(t *testing.T) {
	tests := []struct {
		src    string
		checks int
	}{
		{"def f(x: [n]f64): [n]f64 = x * 2.0", 0},
		{"def f(x: [n]f64): [n]f64 = take(x, 1)", 1},
		{"def f(x: [n]f64): [3]f64 = drop(x, 1)", 1},
		{"def f(x: [3]f64): [3]f64 = x", 0},
		{"def f(x: [n]f64): [2]f64 = x[0:2]", 0},
		{"def f(a: [p][q]f64): [p][q]f64 = [a[i] for i < p]", 0},
		{"def f(a: [p][q]f64): [p][q]f64 = [take(a[i], 1) for i < p]", 1},
		{"def f(x: [n]f64): (f64, [n]f64) = (1.0, drop(x, 1))", 1},
		{"def f(x: [n]f64) = loop y = x for i < 3 do y * 2.0", 0},
		{"def f(x: [n]f64) = loop y = x for i < 3 do concat(y, y)", 1},
		{"def f(x: [n]f64, k: i64) = loop y = take(x, k) for i < 3 do y", 0},
		{"def f(x: [n]f64, k: i64) = loop y = take(x, k) for i < 3 do concat(y, y)", 1},
		{"def f(x: f64) = loop y = x for i < 3 do y * 2.0", 0},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			p, err := Load("t.nab", []byte(tc.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := countChecks(p.Def("f").Body); got != tc.checks {
				t.Errorf("%d check_dim calls, want %d:\n%s", got, tc.checks, ir.PrintDef(p.Def("f")))
			}
		})
	}
}
