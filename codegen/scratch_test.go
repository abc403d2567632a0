package codegen_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestScratchHoisting checks which cuts scratch.go moves out of loops:
// those of a size every iteration shares, in loops that release their
// iteration's arrays; codegen/testdata/scratch.nab runs the same programs
// on both backends.
func TestScratchHoisting(t *testing.T) {
	cases := []struct {
		name, src, def string
		marks          int // ar.Mark() left in the function
		hoisted        int // buffers cut before a loop
		has            []string
	}{
		{
			// Per point and component Q(x - mu) and per point the K terms:
			// all cut once per function (twice: the parallel chunk and the
			// sequential loop), no mark per iteration; the loops that hold
			// loops call runtime.LoopCall instead (see dropIdleMark).
			name: "mixture",
			src: `export def mixture(q: [k][d][d]f64, mu: [k][d]f64, x: [n][d]f64): f64 =
  sum([logsumexp([-0.5 * sum((q[j] @ (x[i] - mu[j]))^2) for j < k]) for i < n])`,
			def: "mixture", marks: 0, hoisted: 6,
			has: []string{"runtime.CheckSize(size_", "runtime.LoopCall()"},
		},
		{
			// The terms' size is checked in the loop: the hoisted cut is
			// made only if that check passes.
			name: "checked",
			src: `export def checked(m: [r][c]f64, s: i64): f64 =
  sum([logsumexp([m[i][0] * f64(j) for j < s]) for i < r])`,
			def: "checked", marks: 0, hoisted: 2,
			has: []string{"runtime.CheckSize(s_"},
		},
		{
			// i + 1 elements in iteration i: cut in the loop.
			name: "varying",
			src: `export def varying(x: [n]f64, m: [r][n]f64): f64 =
  sum([sum([logsumexp(m[j][:i + 1] * x[:i + 1]) for j < r]) for i < n])`,
			def: "varying", marks: 4, hoisted: 0,
		},
		{
			// The build keeps iteration 0's row: its loop is not one that
			// releases every iteration's arrays.
			name: "rows",
			src:  `export def rows(q: [d][d]f64, x: [n][d]f64) = [q @ x[i] + 1.0 for i < n]`,
			def:  "rows", marks: 2, hoisted: 0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := genBody(t, c.src, c.def)
			if n := strings.Count(body, "ar.Mark()"); n != c.marks {
				t.Errorf("%d marks, want %d:\n%s", n, c.marks, body)
			}
			if n := len(regexp.MustCompile(`scratch_[0-9]+ := ar\.F64w\(|scratch_[0-9]+ = ar\.F64w\(`).FindAllString(body, -1)); n != c.hoisted {
				t.Errorf("%d hoisted buffers, want %d:\n%s", n, c.hoisted, body)
			}
			if n := strings.Count(body, "ar.F64"); c.hoisted > 0 && n != c.hoisted {
				t.Errorf("%d cuts, want only the %d hoisted:\n%s", n, c.hoisted, body)
			}
			for _, h := range c.has {
				if !strings.Contains(body, h) {
					t.Errorf("no %q:\n%s", h, body)
				}
			}
		})
	}
}
