package rewrite

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// loadMarked checks a program and expands its AD operators keeping the
// checkpointing points, as the pipeline does.
func loadMarked(t *testing.T, src string) *ir.Program {
	t.Helper()
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	ep, err := ad.ExpandMarked(context.Background(), p)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return ep
}

const rematSrc = `
def f(x: [n]f64, m: [k][n]f64): f64 =
  sum([x[i] * sin(x[i]) for i < n]) + sum([sum(x * m[j]) for j < k])
strategy mine = save_all; default
def g(x: [n]f64, m: [k][n]f64) = grad(f)(x, m)
`

// TestRematPolicies checks which checkpointing decisions each strategy
// takes on f$vjp (nabla opt's ApplyDef), by rule and line, and that none
// of its points survives.
func TestRematPolicies(t *testing.T) {
	p := loadMarked(t, rematSrc)
	if d := p.Def("f$vjp"); d == nil || len(ir.RematSites(d.Body)) != 2 {
		t.Fatalf("f$vjp should hold two checkpointing points")
	}
	rw := testRewriter(t)
	for _, tc := range []struct {
		strategy string // "" for the def's own
		want     []string
	}{
		// x * m[j] is recomputed by reverse mode's own rule
		// (remat.view_op, ad/vjp_again.go), which follows f's @strategy,
		// not the strategy a def is rewritten with afterwards.
		{"", []string{"remat.cheap_body 3", "remat.save 3", "remat.view_op 3"}},
		{"default", []string{"remat.cheap_body 3", "remat.save 3", "remat.view_op 3"}},
		{"save_all; default", []string{"save_all 3", "save_all 3", "remat.view_op 3"}},
		{"remat_all; default", []string{"remat_all 3", "remat_all 3", "remat.view_op 3"}},
		{"mine", []string{"save_all 3", "save_all 3", "remat.view_op 3"}},
		// Where it stands in the strategy, the policy has nothing left to do.
		{"try(cse); remat_all", []string{"remat_all 3", "remat_all 3", "remat.view_op 3"}},
		{"simplify <+ save_all", []string{"save_all 3", "save_all 3", "remat.view_op 3"}},
	} {
		var st ir.Strat
		if tc.strategy != "" {
			var err error
			if st, err = lang.ParseStrategy("--strategy", tc.strategy); err != nil {
				t.Fatal(err)
			}
		}
		d, trace, err := rw.ApplyDef(p, "f$vjp", st, Options{Trace: true})
		if err != nil {
			t.Errorf("%q: %v", tc.strategy, err)
			continue
		}
		var got []string
		for _, s := range trace.Steps {
			if strings.HasPrefix(s.Name, "remat") || s.Name == "save_all" {
				got = append(got, s.Name+" "+strconv.Itoa(s.Pos.Line))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: decisions %q, want %q", tc.strategy, got, tc.want)
		}
		if ir.HasRemat(d.Body) {
			t.Errorf("%q: a checkpointing point survives", tc.strategy)
		}
	}
}

// TestRematInline: a caller that inlines a def not yet rewritten
// (ApplyDef rewrites one def) decides the callee's checkpointing points
// with its own policy.
func TestRematInline(t *testing.T) {
	for _, tc := range []struct{ policy, want, rule string }{
		{"remat_all", "x * 2.0", "remat_all"},
		{"save_all", "x + x", "save_all"},
	} {
		p, err := lang.Load("t.nab", []byte("def h(x: f64): f64 = x * 2.0\ndef g(x: f64): f64 = h(x) - 1.0\n"), lang.Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := p.Def("h")
		x := h.Params[0]
		twice := &ir.PrimCall{Op: ir.PrimAdd, Args: []ir.Expr{x, x}, T: ir.TF64, P: h.Body.Pos()}
		h.Body = &ir.PrimCall{Op: ir.PrimRemat, Args: []ir.Expr{ir.I64Const(7, h.Body.Pos()), h.Body, twice}, T: ir.TF64, P: h.Body.Pos()}
		st, err := lang.ParseStrategy("--strategy", tc.policy+"; normalize(inline <+ beta)")
		if err != nil {
			t.Fatal(err)
		}
		d, trace, err := testRewriter(t).ApplyDef(p, "g", st, Options{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		if ir.HasRemat(d.Body) {
			t.Fatalf("%s: a checkpointing point survives inlining:\n%s", tc.policy, ir.PrintDef(d))
		}
		if got := ir.PrintExpr(d.Body); !strings.Contains(got, tc.want) {
			t.Errorf("%s: g = %s, want it to use %s", tc.policy, got, tc.want)
		}
		if !strings.Contains(trace.String(), tc.rule+" t.nab:1:") {
			t.Errorf("%s: no %s decision in the trace:\n%s", tc.policy, tc.rule, trace)
		}
	}
}
