package ad_test

import (
	"math"
	"strings"
	"testing"
)

// tiePick compares s = log(1 + x*x) with its bound b; given a copy of s
// as b it decides a tie, "not less" unless a rewritten copy of the code
// rounds s below b.
const tiePick = `
def pick(x: f64, b: f64): f64 = let s = log(1.0 + x * x) in if s < b then x else s`

// tiePoints are values of x at which log(1 + x*x) rounds below
// log1p(x*x) (the first two), equal to it (-1.89156) and above it (0.3).
var tiePoints = []float64{-0.34797743186995644, -1.96205, -1.89156, 0.3}

// TestLiftedBodiesAtTies: reverse mode runs an if's branches, a while
// loop's body and a fold's or scan's operator once in the forward sweep
// and again in its reverse pass. Each case below compares s =
// log(1 + x*x) with a copy of itself from the previous step, a tie that
// rounding decides: were the two runs two copies of the code, the
// rewrite stage could lower one of them (log1p(x*x)) and not the other,
// and the reverse pass would follow the branch the forward sweep did not
// take (tests/testdata/hostile/ad/vjp_branch_tie_recompute). F is
// n·log(1 + x²) in every case, so its derivative in x is n·2x/(1 + x²);
// grad must give it, and vjp must agree with jvp.
func TestLiftedBodiesAtTies(t *testing.T) {
	const pick = tiePick
	const inline = `let s = log(1.0 + x * x) in if s < w then x else s`
	const main = `
def rev(x: f64, v: [n]f64) = grad(F)(x, v).0
def fwd(x: f64, v: [n]f64) = jvp(F, (x, v), (1.0, zeros(n))).1
def back(x: f64, v: [n]f64) = vjp(F, (x, v), 1.0).1.0
def rr(x: f64, v: [n]f64) = grad(fn(y) => grad(F)(y, v).0)(x)
def fr(x: f64, v: [n]f64) = jvp(fn(y) => grad(F)(y, v).0, x, 1.0).1
`
	// rr: second derivatives by reverse over reverse, which differentiates
	// code with flat tapes; that code lifts bodies but calls defs plainly,
	// so the cases that call pick are not covered there.
	cases := []struct {
		name, src string
		rr        bool
	}{
		{"if", `
def F(x: f64, v: [n]f64): f64 =
  f64(n) * (loop w = -1.0 for i < 3 do if x < 100.0 then (` + inline + `) else w)`, true},
		{"if calling", pick + `
def F(x: f64, v: [n]f64): f64 =
  f64(n) * (loop w = -1.0 for i < 3 do if x < 100.0 then pick(x, w) else w)`, false},
		{"if in map", `
def F(x: f64, v: [n]f64): f64 =
  sum(loop u = zeros(n) - 1.0 for i < 3 do
    map(fn(e) => if x < 100.0 then (let w = u[0] in ` + inline + `) else e, u))`, true},
		{"while", `
def F(x: f64, v: [n]f64): f64 =
  f64(n) * (loop w = -1.0 for i < 3 do (loop (w, k) = (w, 0) while k < 1 do (` + inline + `, k + 1)).0)`, true},
		{"while calling", pick + `
def F(x: f64, v: [n]f64): f64 =
  f64(n) * (loop w = -1.0 for i < 3 do (loop (s, k) = (w, 0) while k < 1 do (pick(x, s), k + 1)).0)`, false},
		{"fold", `
def F(x: f64, v: [n]f64): f64 = f64(n) * fold(fn(w, e) => ` + inline + `, -1.0, [0.0, 0.0, 0.0])`, true},
		{"fold calling", pick + `
def F(x: f64, v: [n]f64): f64 = f64(n) * fold(fn(w, e) => pick(x, w), -1.0, [0.0, 0.0, 0.0])`, false},
		{"fold over the input", `
def F(x: f64, v: [n]f64): f64 =
  f64(n) * fold(fn(w, e) => ` + inline + ` + 0.0 * e, -1.0, [v[0], v[0], v[0]])`, true},
		{"scan", `
def F(x: f64, v: [n]f64): f64 = f64(n) * scan(fn(w, e) => ` + inline + `, -1.0, [0.0, 0.0, 0.0])[2]`, true},
		{"scan calling", pick + `
def F(x: f64, v: [n]f64): f64 = f64(n) * scan(fn(w, e) => pick(x, w), -1.0, [0.0, 0.0, 0.0])[2]`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, c.src+main)
			for _, x := range tiePoints {
				v := []float64{0.8274246018322251, 0.1}
				want := float64(len(v)) * 2 * x / (1 + x*x)
				g := flatAny(callAny(t, p, "rev", x, v))
				if len(g) != 1 || math.Abs(g[0]-want) > 1e-9 {
					t.Errorf("x = %v: grad %v; want %v", x, g, want)
				}
				j, b := flatAny(callAny(t, p, "fwd", x, v)), flatAny(callAny(t, p, "back", x, v))
				if len(j) != 1 || len(b) != 1 || math.Abs(j[0]-b[0]) > 1e-9 || math.Abs(j[0]-want) > 1e-9 {
					t.Errorf("x = %v: jvp %v, vjp %v; want both %v", x, j, b, want)
				}
				want2 := float64(len(v)) * 2 * (1 - x*x) / ((1 + x*x) * (1 + x*x))
				if fr := flatAny(callAny(t, p, "fr", x, v)); len(fr) != 1 || math.Abs(fr[0]-want2) > 1e-9 {
					t.Errorf("x = %v: second derivative %v by forward over reverse; want %v", x, fr, want2)
				}
				if rr := flatAny(callAny(t, p, "rr", x, v)); c.rr && (len(rr) != 1 || math.Abs(rr[0]-want2) > 1e-9) {
					t.Errorf("x = %v: second derivative %v by reverse over reverse; want %v", x, rr, want2)
				}
			}
		})
	}
}

// TestLiftedInLambda: the VJP of a lambda keeps its tapes flat (it may
// be differentiated again) and lifts deciding code as well.
func TestLiftedInLambda(t *testing.T) {
	cases := []struct{ name, body string }{
		{"if", `f64(n) * (loop w = -1.0 for i < 3 do if y < 100.0 then (let s = log(1.0 + y * y) in if s < w then y else s) else w)`},
		{"fold", `f64(n) * fold(fn(w, e) => let s = log(1.0 + y * y) in if s < w then y else s, -1.0, [0.0, 0.0, 0.0])`},
		{"while", `f64(n) * (loop w = -1.0 for i < 3 do (loop (w, k) = (w, 0) while k < 1 do (let s = log(1.0 + y * y) in if s < w then y else s, k + 1)).0)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, `def rev(x: f64, v: [n]f64) = grad(fn(y) => `+c.body+`)(x)`)
			for _, x := range tiePoints {
				v := []float64{0.8274246018322251, 0.1}
				want := float64(len(v)) * 2 * x / (1 + x*x)
				if g := flatAny(callAny(t, p, "rev", x, v)); len(g) != 1 || math.Abs(g[0]-want) > 1e-9 {
					t.Errorf("x = %v: grad %v; want %v", x, g, want)
				}
			}
		})
	}
}

// TestLiftOnlyDeciding: reverse mode lifts a body into a def of its own
// only when it decides on numbers (a comparison of f64 values, directly
// or in a def it calls); the lifted forward def is kept out of line.
// Smooth bodies and decisions on integers stay plain code, at the old
// cost.
func TestLiftOnlyDeciding(t *testing.T) {
	const defs = `
def pick(x: f64, b: f64): f64 = if x < b then x else b
def smooth(x: f64, b: f64): f64 = x * b + sin(x)
`
	cases := []struct {
		name, body, prefix string
		lifted             bool
	}{
		{"if deciding", `if x < 1.0 then (if x * x < v[0] then x else v[0]) else x`, "if$", true},
		{"if on integers", `if x < 1.0 then (if n < 3 then x * x else x) else x`, "if$", false},
		{"if smooth", `if x < 1.0 then smooth(x, v[0]) else x`, "if$", false},
		{"while deciding", `(loop (s, k) = (x, 0) while k < 2 do (pick(s, v[0]), k + 1)).0`, "loop$", true},
		{"while smooth", `(loop (s, k) = (x, 0) while k < 2 do (smooth(s, v[0]), k + 1)).0`, "loop$", false},
		{"fold deciding", `fold(fn(a, e) => max(a, e) + (if a < e then a else e), x, v)`, "op$", true},
		{"fold smooth", `fold(fn(a, e) => a * e + x, x, v)`, "op$", false},
		{"scan deciding", `sum(scan(fn(a, e) => pick(a, e), x, v))`, "op$", true},
		{"scan smooth", `sum(scan(fn(a, e) => smooth(a, e), x, v))`, "op$", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := defs + `
def F(x: f64, v: [n]f64): f64 = ` + c.body + `
def main(x: f64, v: [n]f64) = grad(F)(x, v)
`
			out := expandSource(t, src)
			var fwd []string
			for _, d := range out.Defs {
				if strings.HasPrefix(d.Name, c.prefix) && strings.HasSuffix(d.Name, "$fwd") {
					fwd = append(fwd, d.Name)
					if d.Attr("noinline") == nil {
						t.Errorf("%s is not kept out of line", d.Name)
					}
				}
			}
			if got := len(fwd) > 0; got != c.lifted {
				t.Errorf("lifted forward defs %v; want lifted %v", fwd, c.lifted)
			}
		})
	}
}

// TestLiftedFlatNested: code with flat tapes (here the twins that reverse
// over reverse differentiates) lifts deciding bodies but calls defs
// plainly; split calls there made reverse mode over jacfwd of a def
// with an if in a comprehension fail to compile. Reverse mode must agree
// with forward mode on it.
func TestLiftedFlatNested(t *testing.T) {
	p := mustCompile(t, `
def field(x: [n]f64): [n]f64 = [if x[i] < x[(i + 1) % n] then x[i] * x[(i + 1) % n] else sin(x[i]) for i < n]
def trace(x: [n]f64): f64 = sum([jacfwd(field)(x)[i, i] for i < n])
def w(x: [n]f64): f64 = (loop (s, k) = (x, 0) while k < 2 do ([if s[i] < s[(i + 1) % n] then s[i] * x[i] else sin(s[i]) for i < n], k + 1)).0 @ x
def rev(x: [n]f64) = (grad(trace)(x), grad(fn(y) => sum(grad(trace)(y)))(x), grad(fn(y) => sum(grad(w)(y)))(x))
def fwd(x: [n]f64) = (jacfwd(trace)(x), jacfwd(fn(y) => sum(grad(trace)(y)))(x), jacfwd(fn(y) => sum(grad(w)(y)))(x))
`)
	for _, x := range [][]float64{{0.3, 0.7, -0.2}, {1.5, -0.4, 0.9}} {
		r, f := flatAny(callAny(t, p, "rev", x)), flatAny(callAny(t, p, "fwd", x))
		if len(r) != 9 || len(f) != 9 {
			t.Fatalf("x = %v: reverse %v, forward %v", x, r, f)
		}
		for i := range r {
			if math.Abs(r[i]-f[i]) > 1e-9 {
				t.Errorf("x = %v: reverse %v; forward %v", x, r, f)
				break
			}
		}
	}
}
