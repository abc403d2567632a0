package ad_test

import (
	"math"
	"strings"
	"testing"
)

// TestJVPMapSharesPrimal: forward mode of a map (or build) whose body
// branches computes each element's primal once, for the primal result and
// the tangent alike. Were the body computed twice, the rewrite stage
// could lower one copy (log(1 + x*x) to log1p(x*x)) and not the other,
// and at a tie the tangent would follow the branch the primal did not
// take (found by FuzzDifferential; tests/testdata/hostile/ad/jvp_branch_tie).
// Each F compares s = log(1 + x²) with a copy of itself from the
// previous iteration, a tie it resolves as "not less", so F = n·s and its
// derivative along (1, 0) is n·2x/(1 + x²); at these x, log(1 + x*x)
// rounds below log1p(x*x).
func TestJVPMapSharesPrimal(t *testing.T) {
	const pick = tiePick
	const main = `
def main(x: f64, v: [n]f64) = jvp(F, (x, v), (1.0, zeros(n)))
def rev(x: f64, v: [n]f64) = grad(F)(x, v).0
`
	// rev: grad agrees too. Reverse mode saves a map body's values or
	// recomputes them in its reverse pass; a called def's split forward
	// def, which it calls again there, is one def both sweeps call, not
	// inlined, so that both get the same rewritten body and decisions
	// (tests/testdata/hostile/ad/vjp_branch_tie).
	cases := []struct {
		name, src string
	}{
		{"while in map", `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do
    map(fn(e) => (loop (s, k) = (log(1.0 + x * x), 0) while k < 2 && s < w[0] do (x, k + 1)).0, w))`},
		{"if in map", `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do
    map(fn(e) => let s = log(1.0 + x * x) in if s < w[0] then x else s, w))`},
		{"if in comprehension", `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do
    [let s = log(1.0 + x * x) in if s < w[0] then x else s for j < n])`},
		{"call in map", pick + `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do map(fn(e) => pick(x, w[0]), w))`},
		{"call in comprehension", pick + `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do [pick(x, w[0]) + 0.0 * w[j] for j < n])`},
		{"call in while in map", pick + `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do
    map(fn(e) => (loop (s, k) = (pick(x, w[0]), 0) while k < 1 do (s * 1.0, k + 1)).0, w))`},
		{"call in loop", pick + `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do zeros(n) + pick(x, w[0]))`},
		{"call on the element in map", pick + `
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do map(fn(e) => pick(x, e), w))`},
		{"call of a call in map", pick + `
def pick2(x: f64, b: f64): f64 = pick(x, b) * 1.0
def F(x: f64, v: [n]f64): f64 =
  sum(loop w = zeros(n) - 1.0 for i < 3 do map(fn(e) => pick2(x, w[0]), w))`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, c.src+main)
			for _, x := range tiePoints {
				v := []float64{0.8274246018322251, 0.1}
				n := float64(len(v))
				want := n * 2 * x / (1 + x*x)
				r := flatAny(callAny(t, p, "main", x, v))
				f := flatAny(callAny(t, p, "F", x, v))
				if len(r) != 2 || len(f) != 1 {
					t.Fatalf("x = %v: main gave %v, F %v", x, r, f)
				}
				// The primal may round differently from F: F$jvp is
				// rewritten on its own.
				if math.Abs(r[0]-f[0]) > 1e-12 || math.Abs(f[0]-n*math.Log1p(x*x)) > 1e-12 {
					t.Errorf("x = %v: jvp's primal %v, F %v; want n·log(1+x²) = %v", x, r[0], f[0], n*math.Log1p(x*x))
				}
				if math.Abs(r[1]-want) > 1e-9 {
					t.Errorf("x = %v: jvp's tangent %v; want %v", x, r[1], want)
				}
				if g := flatAny(callAny(t, p, "rev", x, v)); len(g) != 1 || math.Abs(g[0]-want) > 1e-9 {
					t.Errorf("x = %v: grad %v; want %v", x, g, want)
				}
			}
		})
	}
}

// TestSplitDecisionsNoinline: a split forward def is kept out of line
// exactly when its backward half reads a decision taken on the numbers
// of the differentiated input; sizes of active arrays (len, dim) and
// comparisons of indices or of data are not such decisions.
func TestSplitDecisionsNoinline(t *testing.T) {
	cases := []struct {
		name, def string
		noinline  bool
	}{
		{"if on the input", `def g(x: f64, b: f64): f64 = let s = log(1.0 + x * x) in if s < b then x else s`, true},
		{"max of the input", `def g(x: f64, b: f64): f64 = max(x * x, b) * x`, true},
		{"smooth", `def g(x: f64, b: f64): f64 = sin(x) * b + x * x`, false},
		{"sizes", `def g(x: f64, b: f64): f64 = let v = [x * f64(i) for i < 3] in sum(v) * f64(len(v))`, false},
		{"indices", `def g(x: f64, b: f64): f64 = sum([if i == 1 then x * x else sin(x) for i < 3])`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.def + `
def F(x: f64, v: [n]f64): f64 = sum(map(fn(e) => g(x, e) * e, v))
def main(x: f64, v: [n]f64) = grad(F)(x, v)
`
			out := expandSource(t, src)
			var split []string
			for _, d := range out.Defs {
				if strings.HasPrefix(d.Name, "g$split") && strings.HasSuffix(d.Name, "$fwd") {
					split = append(split, d.Name)
					if got := d.Attr("noinline") != nil; got != c.noinline {
						t.Errorf("%s: noinline %v, want %v", d.Name, got, c.noinline)
					}
				}
			}
			if len(split) == 0 {
				t.Fatalf("no split forward def of g in %v", out.Defs)
			}
		})
	}
}
