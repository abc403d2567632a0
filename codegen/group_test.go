package codegen_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestVectorizedLowering checks the shape of the Go made for vectorized
// code (testdata/fusion.nab checks its values and errors): how many
// loops run over the data and how many arrays are cut from the arena.
func TestVectorizedLowering(t *testing.T) {
	// Sequential loops: a parallel chunk's (from lo) is the same loop.
	loopRE := regexp.MustCompile(`(?m)^\s*for [^\n]*(:= 0;|range )`)
	cases := []struct {
		name, src, def string
		loops, allocs  int // sequential loops; ar.F64w and ar.F64 calls
		has, hasNot    []string
	}{
		{
			// One loop computes a, b, the three rows of c and d; a and the
			// rows feed later members as locals or views, b and d are stored
			// because the body reads them.
			name: "run",
			src: `
export def run(m: [k][n]f64, y: [n]f64) =
  let a = m[0] * y + 1.0
  let b = sqrt(a * a + 1.0)
  let c = [a / b, b - m[1], y * 2.0]
  let d = c[0] + c[1] * c[2]
  let e = [d * m[j] + c[j] for j < 2]
  in (b, e, e[1] * b, sum(d))
`,
			// the group's loop and e[1] * b's; c's rows are locals, so its
			// storage is not cut (strided.go's dropUnreadArrays)
			def: "run", loops: 2, allocs: 4,
		},
		{
			// The indices are checked once for the k rows.
			name: "gather",
			src: `
export def g(t: [k][n]f64, idx: [p]i64) = [gather(t[j], idx) for j < k]
`,
			def: "g", loops: 3, allocs: 1, // the rows, the check, a row's gather
			has: []string{"checked_"},
		},
		{
			// Eleven rows gathered in one loop over the indices, checked
			// by the first row's check alone.
			name: "gather11",
			src: `
export def g(t: [k][n]f64, idx: [p]i64) = [gather(t[j], idx) for j < 11]
`,
			def: "g", loops: 12, allocs: 1, // eleven checks (ten skipped by the flag), one loop
			has: []string{"checked_"},
		},
		{
			// Fusion across calls (inline.go): project, turn and cross are
			// inlined, x + cross(r, c) and x - cam[2:5] split into rows,
			// and the gathers, the rotation and the results are one loop
			// over the observations, whose lengths (ci's, pj's, w's) the
			// entry checks prove equal. Only the results are stored.
			name: "across calls",
			src: `
def cross(a: [3][p]f64, b: [3][p]f64): [3][p]f64 =
  [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
def turn(r: [3][p]f64, x: [3][p]f64): [3][p]f64 =
  let t = sqrt(r[0]^2 + r[1]^2 + r[2]^2 + 1.0)
  let c = cross(r, x)
  let full = [x[j] * t + c[j] for j < 3]
  let small = x + cross(r, c)
  in [full[j] * 0.5 + small[j] for j < 3]
def project(cam: [5][p]f64, x: [3][p]f64, w: [p]f64): ([2][p]f64, [p]f64) =
  let y = turn(cam[0:3], x - cam[2:5])
  let u = [y[0] / y[2], y[1] / y[2]]
  in ([w * u[j] + cam[3 + j] for j < 2], 1.0 - w^2)
export def objective(cams: [n][5]f64, pts: [m][3]f64, w: [p]f64, ci: [p]i64, pj: [p]i64) =
  let ct = transpose(cams)
  let pt = transpose(pts)
  let cam = [gather(ct[t], ci) for t < 5]
  let x = [gather(pt[t], pj) for t < 3]
  in project(cam, x, w)
`,
			// eight index checks (six skipped by the flags) and the
			// observations' loop, which reads cams and pts in place (no
			// transpose is stored, strided.go); the results alone are cut
			// (the literals' rows are locals)
			def: "objective", loops: 9, allocs: 2,
			has:    []string{"checked_"},
			hasNot: []string{"fn_project(", "fn_turn(", "fn_cross("},
		},
		{
			// t is read twice inside sum's recipe: computed once per
			// element into a local, never stored.
			name: "shared",
			src: `
export def s(x: [n]f64, y: [n]f64) = sum(let t = x * y + 1.0 in t * t - t)
`,
			def: "s", loops: 1, allocs: 0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := genBody(t, c.src, c.def)
			if n := len(loopRE.FindAllString(body, -1)); n != c.loops {
				t.Errorf("%d loops, want %d:\n%s", n, c.loops, body)
			}
			if n := strings.Count(body, "ar.F64w(") + strings.Count(body, "ar.F64("); n != c.allocs {
				t.Errorf("%d allocations, want %d:\n%s", n, c.allocs, body)
			}
			for _, s := range c.has {
				if !strings.Contains(body, s) {
					t.Errorf("no %q:\n%s", s, body)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(body, s) {
					t.Errorf("has %q:\n%s", s, body)
				}
			}
		})
	}
}
