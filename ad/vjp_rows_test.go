package ad_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestRowCotangents checks reverse mode on reads of constant rows of
// short arrays, whose cotangents are kept row by row (vjp_rows.go):
// gradients against central differences, and how many row additions into
// an accumulator (acc_add_at) the expanded VJP makes, which row form
// avoids when every row gets a cotangent.
func TestRowCotangents(t *testing.T) {
	for _, c := range []struct {
		name, src string
		x         any
		maxAccAt  int // acc_add_at calls in the expanded program, at most
	}{
		// Every row of a and b read twice: array literals of the rows.
		{"cross", `def f(ab: [2][3]f64): f64 =
  let a = ab[0] in let b = ab[1] in
  let c = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]] in
  sum(c * c)`, [][]float64{{0.3, -1.2, 0.7}, {1.1, 0.4, -0.5}}, 0},
		// Rows of a matrix, row 1 never read: a zero row, added into
		// zeros (one acc_add_at per row read).
		{"missing row", `def f(m: [3][4]f64): f64 = sum(m[0] * m[2]) + sum(sin(m[0]))`,
			[][]float64{{1, 2, 3, 4}, {5, 6, 7, 8}, {0.5, -1, 2, 0.1}}, 2},
		// Row form, then the whole array's cotangent added (the map's
		// reverse loop threads it as a state).
		{"rows then whole", `def f(m: [2][3]f64): f64 = sum(m[0]) * m[1][2] + sum(map(fn(r) => sum(r * r), m))`,
			[][]float64{{0.1, 0.2, 0.3}, {-0.4, 0.5, 0.9}}, -1},
		// Rows added to a cotangent passed on unchanged (z's, through
		// y = x + a): its rows, each added to once, no copy of the whole.
		{"borrowed", `def f(x: [3]f64): f64 = let a = x[0] * x[2] in let y = x + a in let z = y + 1.0 in sum(z * z)`,
			[]float64{0.7, -0.3, 1.9}, 0},
		// A row read inside a loop body and outside it.
		{"loop", `def f(x: [3]f64): f64 = x[0] * (loop acc = 0.0 for i < 3 do acc + x[2] * x[i])`,
			[]float64{0.7, -0.3, 1.9}, -1},
		// A row read at an index known only at run time.
		{"dynamic index", `def f(x: [4]f64): f64 = let i = if x[3] > 0.0 then 2 else 1 in x[i] * x[0] + x[2] * x[2]`,
			[]float64{0.7, -0.3, 1.9, 0.4}, -1},
		// Too long for row form.
		{"long", `def f(x: [20]f64): f64 = x[0] * x[19] + sin(x[5])`,
			make([]float64, 20), -1},
		// Slices of a row (pad_like into the row, added in place).
		{"slices", `def f(m: [2][4]f64): f64 = sum(m[1][0:2] * m[1][2:4]) + m[0][1] * m[1][3]`,
			[][]float64{{0.1, 0.2, 0.3, 0.4}, {-0.4, 0.5, 0.9, 1.3}}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			typ := c.src[strings.Index(c.src, ": ")+2 : strings.Index(c.src, ")")]
			src := c.src + "\ndef g(x: " + typ + ") = grad(f)(x)\n"
			p := mustCompile(t, src)
			xs := flatAny(c.x)
			for i := range xs {
				if xs[i] == 0 {
					xs[i] = 0.1 * float64(i+1)
				}
			}
			x := likeAny(c.x, xs)
			got := flatAny(callAny(t, p, "g", x))
			want := fdJacobian(1, func(v []float64) []float64 { return flatAny(callAny(t, p, "f", likeAny(c.x, v))) }, xs)
			if len(got) != len(want) {
				t.Fatalf("gradient has %d numbers, want %d", len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
					t.Errorf("gradient %d = %g, finite differences %g", i, got[i], want[i])
				}
			}
			if c.maxAccAt >= 0 {
				var b strings.Builder
				for _, d := range expandSource(t, src).Defs {
					b.WriteString(ir.PrintDef(d))
				}
				if n := strings.Count(b.String(), "acc_add_at("); n > c.maxAccAt {
					t.Errorf("%d acc_add_at in the expanded program, want at most %d:\n%s", n, c.maxAccAt, b.String())
				}
			}
		})
	}
}
