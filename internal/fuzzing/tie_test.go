package fuzzing

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/specialize"
)

// A tie is a point where some branch condition of the program compares
// two values equal to within rounding: which branch runs is decided by
// how each copy of the code rounds (the rewrite stage's, the derivative's
// recomputation, a finite difference's), so values and derivatives may
// disagree there without a defect. A condition that is a tie in real
// arithmetic (s < v[0] with s = v[0]·Σ softmax(v)) is one at every
// point, so a point a few millionths away does not escape it.
//
// nearTie finds them by running the program twice with every decision
// the generator makes on f64 values biased by tieSlack: once with each
// comparison and kink settled towards one side when its two operands are
// that close, once towards the other (a < b as a < b + δ, then as a < b
// - δ; max(a, b) choosing a, then b; abs and relu as an if on x ≥ 0 and x
// > 0). Far from every tie the two runs take the same branches and give
// the same results and derivatives, bit for bit; a condition within δ
// takes a branch each way, which changes a value or a derivative.

// tieSlack is δ for operands a and b: tieUlps units in the last place of
// the larger magnitude, and at least tieFloor, which makes a comparison
// with an exact 0 (abs(0), relu(0)) a tie too.
const (
	tieUlps  = 64
	tieFloor = 1e-13
)

// tieDefs are the biased comparisons and kinks, towards true (and the
// first operand) for sign 1.0 and towards false for -1.0.
func tieDefs(sign string) string {
	return strings.NewReplacer("S", sign, "U", fmt.Sprint(tieUlps*math.Pow(2, -52)), "F", fmt.Sprint(tieFloor)).Replace(`
def tieprobe_d(a: f64, b: f64): f64 = S * (F + U * max(abs(a), abs(b)))
def tieprobe_lt(a: f64, b: f64): bool = a < b + tieprobe_d(a, b)
def tieprobe_le(a: f64, b: f64): bool = a <= b + tieprobe_d(a, b)
def tieprobe_gt(a: f64, b: f64): bool = a + tieprobe_d(a, b) > b
def tieprobe_ge(a: f64, b: f64): bool = a + tieprobe_d(a, b) >= b
def tieprobe_max(a: f64, b: f64): f64 = if tieprobe_ge(a, b) then a else b
def tieprobe_min(a: f64, b: f64): f64 = if tieprobe_le(a, b) then a else b
def tieprobe_abs(a: f64): f64 = if tieprobe_ge(a, 0.0) then a else -a
def tieprobe_relu(a: f64): f64 = if tieprobe_gt(a, 0.0) then a else 0.0
def tieprobe_maximum(v: [n]f64): f64 = reduce(fn(a, b) => tieprobe_max(a, b), -inf, v)
def tieprobe_minimum(v: [n]f64): f64 = reduce(fn(a, b) => tieprobe_min(a, b), inf, v)
def tieprobe_argmax(v: [n]f64): i64 = fold(fn(k: i64, j: i64) => if tieprobe_gt(v[j], v[k]) then j else k, 0, [j for j < n])
def tieprobe_argmin(v: [n]f64): i64 = fold(fn(k: i64, j: i64) => if tieprobe_lt(v[j], v[k]) then j else k, 0, [j for j < n])
`)
}

// tieProbes names the biased def of each primitive, for f64 operands of
// the given rank.
var tieProbes = map[*ir.Prim]struct {
	def  string
	rank int
}{
	ir.PrimLt: {"tieprobe_lt", 0}, ir.PrimLe: {"tieprobe_le", 0},
	ir.PrimGt: {"tieprobe_gt", 0}, ir.PrimGe: {"tieprobe_ge", 0},
	ir.PrimMax: {"tieprobe_max", 0}, ir.PrimMin: {"tieprobe_min", 0},
	ir.PrimAbs: {"tieprobe_abs", 0}, ir.PrimRelu: {"tieprobe_relu", 0},
	ir.PrimMaximum: {"tieprobe_maximum", 1}, ir.PrimMinimum: {"tieprobe_minimum", 1},
	ir.PrimArgmax: {"tieprobe_argmax", 1}, ir.PrimArgmin: {"tieprobe_argmin", 1},
}

// nearTie reports whether the program src is at a tie at p (see above).
func nearTie(ctx context.Context, src string, p point) (bool, error) {
	var runs [2]*checker
	for i, sign := range []string{"1.0", "-1.0"} {
		r, err := biased(ctx, src+tieDefs(sign))
		if err != nil {
			return false, err
		}
		runs[i] = &checker{ctx: ctx, before: r, after: r, st: &diffStats{}}
	}
	for _, k := range p.calls() {
		a := runs[0].call(runs[0].before, k.def, k.args...)
		b := runs[1].call(runs[1].before, k.def, k.args...)
		if runs[0].failed != "" || runs[1].failed != "" {
			return false, fmt.Errorf("the biased programs: %s%s", runs[0].failed, runs[1].failed)
		}
		if len(a) != len(b) {
			return true, nil
		}
		for i := range a {
			if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				return true, nil
			}
		}
	}
	return false, nil
}

// biased compiles src with the generated defs' comparisons and kinks
// replaced by calls of the tieprobe defs, up to the AD stage.
func biased(ctx context.Context, src string) (pipeline.Runner, error) {
	res, err := pipeline.Compile(ctx, "gen.nab", []byte(src), pipeline.Options{Last: pipeline.Core})
	if err != nil {
		return nil, err
	}
	p := res.Core
	for _, d := range p.Defs {
		if d.Body != nil && !strings.HasPrefix(d.Name, "tieprobe_") {
			d.Body = probeTies(p, d.Body)
		}
	}
	if err := ir.Validate(p); err != nil {
		return nil, err
	}
	if p, err = specialize.Program(p); err != nil {
		return nil, err
	}
	if p, err = ad.ExpandContext(ctx, p); err != nil {
		return nil, err
	}
	return pipeline.Interp.Load(ctx, p)
}

// probeTies replaces in e each primitive of tieProbes on f64 operands of
// its rank by a call of its biased def.
func probeTies(p *ir.Program, e ir.Expr) ir.Expr {
	e = ir.Rebuild(e, func(x ir.Expr) ir.Expr { return probeTies(p, x) })
	pc, ok := e.(*ir.PrimCall)
	if !ok {
		return e
	}
	probe, ok := tieProbes[pc.Op]
	if !ok {
		return e
	}
	for _, a := range pc.Args {
		if k, ok := ir.Leaf(a.Type()); !ok || k != ir.F64 || ir.Rank(a.Type()) != probe.rank {
			return e
		}
	}
	d := p.Def(probe.def)
	return &ir.Call{Fn: &ir.Global{Name: d.Name, T: d.Type(), P: pc.P}, Args: pc.Args, T: pc.T, P: pc.P}
}

// TestTieVerdicts: a mismatch at a tie that holds along a whole line
// gets no verdict, and a defect next to a condition far from a tie is
// still reported.
func TestTieVerdicts(t *testing.T) {
	cases := []struct {
		name, src string
		tie       bool
	}{
		// From a FuzzDifferential run (docs/reliability.md): with n = 2,
		// s = dot(update(v, 1, v[0]), softmax(v)) is v[0]·Σ softmax(v) =
		// v[0] in real arithmetic, so the loop's condition s < v[0] is
		// decided by rounding at every point; central differences see
		// one rounding pattern (the same at both step sizes), jvp
		// another.
		{"tie along a line", `
def f(x: f64, v: [n]f64): f64 =
  sum([(loop (s, k) = (dot(update(v, i, v[0]), softmax(v)), 0) while k < 1 && s < v[0] do (sum(v), k + 1)).0 for i < n])
def h(x: f64, v: [n]f64): [n]f64 = v * x
`, true},
		// A @jvp rule with the wrong derivative (3x instead of 2x),
		// behind branches that are far from ties.
		{"wrong rule", `
def sq_jvp(x: f64, dx: f64) = (sq(x), 3.0 * x * dx)
@jvp(sq_jvp)
def sq(x: f64): f64 = x * x
def f(x: f64, v: [n]f64): f64 = if x < 10.0 then sq(x) + max(v[0], 5.0) else x
def h(x: f64, v: [n]f64): [n]f64 = v * abs(x - 3.0)
`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			src := c.src + progen.DerivativeDefs("")
			res := compileGenerated(ctx, t, src)
			p := newPoint([]byte("tie 100"))
			before, err := pipeline.Interp.Load(ctx, res.AD)
			if err != nil {
				t.Fatal(err)
			}
			after, err := pipeline.Interp.Load(ctx, res.Opt)
			if err != nil {
				t.Fatal(err)
			}
			if msg := (&checker{ctx: ctx, before: before, after: after, st: &diffStats{}}).check(p); msg == "" {
				t.Fatalf("the checks find no mismatch at %s", p)
			}
			msg, st, err := verdict(ctx, res, src, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := msg == "" && st.ties == 1; got != c.tie {
				t.Errorf("classified as a tie: %v, want %v (verdict %q)", got, c.tie, msg)
			}
		})
	}
}
