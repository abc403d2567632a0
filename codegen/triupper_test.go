package codegen

// Tests of triupper.go: which matrices are never read above their
// diagonal, and that the sweep of trisweep.go then adds its outer
// product into the lower triangle only. (TestTriSameBits checks that the
// gradients keep their bits with it.)

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// lowerFlag matches the sweep's loop over a leftover row of qbar when it
// stops at the diagonal (`range y[:r+1]`).
var lowerFlag = regexp.MustCompile(`(?m)^\s*for c_[0-9]+, v_[0-9]+ := range y_[0-9]+\[:r_[0-9]+\+1\] \{$`)

// upperScope compiles src and returns its defs as triupper.go sees them.
func upperScope(t *testing.T, name, src string) (*ir.Program, map[string]*defInfo) {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), name+".nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scope := map[string]*defInfo{}
	for _, d := range res.Opt.Defs {
		scope[d.Name] = &defInfo{def: d, scope: scope}
	}
	return res.Opt, scope
}

// TestUpperParams checks which parameters a def reads above their
// diagonal: a row m[i] whose elements m[i][j] are used only under a
// condition implying j <= i is read below it; anything else, or a
// condition the other way round, reads the whole matrix.
func TestUpperParams(t *testing.T) {
	cases := []struct {
		name, body string
		unread     bool
	}{
		{"lower_rows", `sum([let row = m[i] in sum([if i >= j then row[j] else 0.0 for j < d]) for i < d])`, true},
		{"eq_then_gt", `sum([let row = m[i] in sum([if i == j then 2.0 * row[j] else if j < i then row[j] else 0.0 for j < d]) for i < d])`, true},
		{"upper_rows", `sum([let row = m[i] in sum([if j >= i then row[j] else 0.0 for j < d]) for i < d])`, false},
		{"unguarded", `sum([let row = m[i] in sum([row[j] for j < d]) for i < d])`, false},
		{"else_branch", `sum([let row = m[i] in sum([if i < j then 0.0 else row[j] for j < d]) for i < d])`, false},
		{"shadowed_j", `sum([let row = m[i] in sum([if i >= j then sum([row[j] for j < d]) else 0.0 for j < d]) for i < d])`, false},
		{"corner", `m[0][d - 1]`, false},
		{"whole", `sum([sum(m[i]) for i < d])`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "export def f(m: [d][d]f64): f64 = " + c.body + "\n"
			p, scope := upperScope(t, c.name, src)
			var def *ir.Def
			for _, d := range p.Defs {
				if d.Name == "f" {
					def = d
				}
			}
			if def == nil {
				t.Fatal("no def f")
			}
			if got := paramUnread(def, scope, 0, 0, map[*ir.Def]map[upperSlot]bool{}); got != c.unread {
				t.Errorf("parameter unread above the diagonal: %v, want %v", got, c.unread)
			}
		})
	}
}

// TestUpperSweep checks the whole chain in GMM's data term: the reverse
// loops' accumulator of Q's cotangent goes to the backward def of the
// triangular build, which reads its lower triangle only, so the sweep
// adds the outer product there only; and that the analysis sees a read
// when the accumulated cotangent is also a result of the def (the IR
// changed by hand: no source program can return it).
func TestUpperSweep(t *testing.T) {
	const src = `def lower(v: [p]f64, d: i64): [d][d]f64 =
  [if r == c then exp(v[r]) else if r > c then v[d + c * (2 * d - c - 1) / 2 + r - c - 1] else 0.0 for r < d, c < d]
def f(icf: [k][p]f64, mu: [k][d]f64, x: [n][d]f64): f64 =
  let qs = [lower(icf[j], d) for j < k]
  in sum([logsumexp([-0.5 * sum((qs[j] @ (x[i] - mu[j]))^2) for j < k]) for i < n])
export def g(icf: [k][p]f64, mu: [k][d]f64, x: [n][d]f64) =
  grad(fn(a, b) => f(a, b, x))(icf, mu)
`
	p, scope := upperScope(t, "gmm", src)
	out, err := Generate(p, Options{Package: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if !sweepFlag.Match(out) || !lowerFlag.Match(out) {
		t.Fatalf("sweep %v, lower triangle only %v; want both", sweepFlag.Match(out), lowerFlag.Match(out))
	}
	noLower, err := Generate(p, Options{Package: "p", noUpperCut: true})
	if err != nil {
		t.Fatal(err)
	}
	if !sweepFlag.Match(noLower) || lowerFlag.Match(noLower) {
		t.Fatalf("noUpperCut: sweep %v, lower triangle only %v; want the sweep alone", sweepFlag.Match(noLower), lowerFlag.Match(noLower))
	}

	// The def holding the sweep, and the accumulator its outer product
	// goes to.
	var def *ir.Def
	var acc *ir.Var
	for _, d := range p.Defs {
		var walk func(e ir.Expr)
		walk = func(e ir.Expr) {
			if l, ok := e.(*ir.Let); ok {
				if pc, ok := l.Value.(*ir.PrimCall); ok && pc.Op == ir.PrimAccAddAt {
					if o, ok := pc.Args[2].(*ir.PrimCall); ok && o.Op == ir.PrimOuter {
						def, acc = d, l.Var
					}
				}
			}
			ir.EachChild(e, func(_ int, k ir.Expr) { walk(k) })
		}
		walk(d.Body)
	}
	if def == nil {
		t.Fatal("no acc_add_at of an outer product")
	}
	if read := upperReadSet(def, scope, 0, map[*ir.Def]map[upperSlot]bool{}); read == nil || read[upperSlot{acc, -1}] {
		t.Fatalf("%s: the accumulator %s is read above the diagonal", def.Name, acc.Name)
	}
	// The same def returning the value of the loop that holds the
	// accumulator as well: now it is read.
	var loopVar *ir.Var
	var last *ir.Let
	for e := def.Body; ; {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		if _, ok := l.Value.(*ir.Loop); ok && strings.Contains(l.Var.T.String(), "[?][?]") {
			loopVar = l.Var
		}
		last, e = l, l.Body
	}
	if loopVar == nil || last == nil {
		t.Fatal("no loop carrying the cotangent at the top of the def")
	}
	cp := *def
	cp.Body = replaceTail(def.Body, last, &ir.MakeTuple{Elems: []ir.Expr{last.Body, loopVar}})
	if read := upperReadSet(&cp, scope, 0, map[*ir.Def]map[upperSlot]bool{}); read == nil || !read[upperSlot{acc, -1}] {
		t.Fatalf("%s returning %s: the accumulator %s is not read above the diagonal", def.Name, loopVar.Name, acc.Name)
	}
}

// replaceTail is the chain of lets e with the body of its let last
// replaced by body (the lets copied, e unchanged).
func replaceTail(e ir.Expr, last *ir.Let, body ir.Expr) ir.Expr {
	l := e.(*ir.Let)
	cp := *l
	if l == last {
		cp.Body = body
	} else {
		cp.Body = replaceTail(l.Body, last, body)
	}
	return &cp
}

// TestUniqueBinders checks the condition lowerRowUses puts on a body: a
// variable bound twice (or the row's index bound inside) is refused.
func TestUniqueBinders(t *testing.T) {
	a := ir.NewVar("a", ir.TF64, ir.Pos{})
	b := ir.NewVar("b", ir.TF64, ir.Pos{})
	one := &ir.Const{Val: 1.0}
	let := func(v *ir.Var, body ir.Expr) ir.Expr { return &ir.Let{Var: v, Value: one, Body: body} }
	cases := []struct {
		name  string
		e     ir.Expr
		outer []*ir.Var
		want  bool
	}{
		{"distinct", let(a, let(b, b)), nil, true},
		{"twice", let(a, let(a, a)), nil, false},
		{"outer_rebound", let(b, b), []*ir.Var{b}, false},
		{"lambda_param", let(a, &ir.Lambda{Params: []*ir.Var{a}, Body: a}), nil, false},
	}
	for _, c := range cases {
		if got := uniqueBinders(c.e, c.outer...); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
