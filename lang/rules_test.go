package lang

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestRulePatterns checks how left-hand sides are elaborated into
// patterns: the same desugaring as ordinary code, rule variables as holes.
func TestRulePatterns(t *testing.T) {
	for _, tc := range []struct{ rule, pat string }{
		{"rule r(x): x * 1.0 => x", "mul(?x, 1.0)"},
		{"rule r(x): x ^ 2 => x * x", "pow(?x, 2)"},
		{"rule r(x): -1.0 * x => -x", "mul((-1.0 | neg(1.0)), ?x)"},
		{"rule r(f, g, xs): map(f, map(g, xs)) => map(fn(v) => f(g(v)), xs)", "map(?f, map(?g, ?xs))"},
		{"rule r(a, b): sum(a * b) => dot(a, b)", "sum(mul(?a, ?b))"},
		{"rule r(a, i, j): a[i, j] => a[i][j]", "index(index(?a, ?i), ?j)"},
		{"rule r(t): (t, t).1 => t", "(?t, ?t).1"},
		{"rule r(xs): [xs[i] for i < len(xs)] => xs", "build(len(?xs), fn(i) => index(?xs, i))"},
		{"rule r(xs): map(exp, xs) => exp(xs)", "map(exp, ?xs)"},
		{"rule r(p, q): p && q => q && p", "(if ?p then ?q else false | and(?p, ?q))"},
		{"rule r(x): pi * x => x * pi", "mul(3.141592653589793, ?x)"},
		{"rule r(x): g(x) => x", "g(?x)"},
		{"rule r(x): let y = x in y => x", "let y = ?x in y"},
	} {
		src := tc.rule + "\ndef g(x: f64): f64 = x\n"
		p, err := Load("t.nab", []byte(src), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		if got := ir.FormatPat(p.Rules[0].LHS); got != tc.pat {
			t.Errorf("%s: pattern %s, want %s", tc.rule, got, tc.pat)
		}
	}
}

// TestRuleErrors checks what the checker rejects in a rule's sides.
func TestRuleErrors(t *testing.T) {
	for _, tc := range []struct{ src, pos, msg string }{
		{"rule r(x, y): x * 1.0 => y", "1:11", "rule variable y does not appear on the left-hand side"},
		{"rule r(x): x => x + 0.0", "1:12", "bare variable"},
		{"rule r(x): (loop s = x for i < 3 do s) => x", "1:13", "a loop cannot appear on the left-hand side"},
		{"rule r(x): (let (a, b) = x in a) => x", "1:13", "a tuple pattern cannot appear"},
	} {
		_, err := Load("t.nab", []byte(tc.src+"\ndef f(x: f64): f64 = x\n"), Options{})
		if err == nil || !strings.Contains(err.Error(), "t.nab:"+tc.pos+": ") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %s: ...%s", tc.src, err, tc.pos, tc.msg)
		}
	}
}

// TestRuleInstantiate checks that the right-hand side is typed afresh for
// each match: literals take the matched term's type, and a subterm used
// twice is bound once.
func TestRuleInstantiate(t *testing.T) {
	p, err := Load("t.nab", []byte("rule twice(x): x * 2 => x + x\ndef f(x: f64): f64 = x\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[0]
	var b ir.Builder
	a := b.Var("a", ir.TF64)
	e, err := r.RHS.Instantiate(map[string]ir.Expr{"x": b.Prim(ir.PrimSin, a)}, ir.TF64, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(strings.Fields(ir.PrintExpr(e)), " "), "let x: f64 = sin(a) in x + x"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	i := b.Var("i", ir.TI64)
	e, err = r.RHS.Instantiate(map[string]ir.Expr{"x": i}, ir.TI64, ir.Pos{})
	if err != nil || ir.PrintExpr(e) != "i + i" {
		t.Errorf("i64: %v %v", e, err)
	}
}
