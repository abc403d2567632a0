package rewrite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

// steps rewrites p with the default strategies and returns the steps the
// work took (see Options.MaxSteps).
func steps(t testing.TB, p *ir.Program) int64 {
	t.Helper()
	// The checks against walks of the whole body are quadratic.
	defer func(saved bool) { checkUses = saved }(checkUses)
	checkUses = false
	_, _, e, err := testRewriter(t).apply(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e.steps
}

// TestCompileTimeLinear guards that optimizing grows about linearly with
// the program: for each family of generated programs, eight times the
// lines may take at most twelve times the steps. Steps are counted, not
// timed, so the test is as steady on a busy machine as on an idle one.
// (Before the optimizer was made linear, the dependent lets took 60 times
// the work for 8 times the lines, and grad of straight-line code 40.)
func TestCompileTimeLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and optimizes programs of thousands of lines")
	}
	for _, k := range progen.Kinds {
		small, large := 200, 1600
		if k.Depths {
			continue // grad nested n deep grows exponentially with n
		}
		t.Run(k.Name, func(t *testing.T) {
			s, l := steps(t, loadSrc(t, k.Gen(small))), steps(t, loadSrc(t, k.Gen(large)))
			ratio := float64(l) / float64(s)
			t.Logf("%s: %d steps for %d lines, %d for %d: %.1f times", k.Name, s, small, l, large, ratio)
			if ratio > 12 {
				t.Errorf("%s: %.1f times the steps for 8 times the lines (%d, %d)", k.Name, ratio, s, l)
			}
		})
	}
}

// TestRewriteCancel: a cancelled context stops rewriting and AD with an
// error that is context.Canceled.
func TestRewriteCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := progen.StraightGrad(300)
	p, err := lang.Load("t.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ad.ExpandContext(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("ad.ExpandContext: got %v, want context.Canceled", err)
	}
	q := loadSrc(t, src)
	if _, _, err := testRewriter(t).Apply(q, Options{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply: got %v, want context.Canceled", err)
	}
	d := q.Defs[len(q.Defs)-1]
	if _, _, err := testRewriter(t).ApplyDef(q, d.Name, nil, Options{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("ApplyDef: got %v, want context.Canceled", err)
	}
}

// TestRewriteBudget: a program that needs more steps than MaxSteps is a
// positioned error naming the budget.
func TestRewriteBudget(t *testing.T) {
	p := loadSrc(t, progen.Lets(2000))
	_, _, err := testRewriter(t).Apply(p, Options{MaxSteps: 10000})
	var list ir.ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %v, want one positioned error", err)
	}
	if e := list[0]; !e.Pos.IsValid() || !strings.Contains(e.Msg, "more than 10000 steps") {
		t.Errorf("got %q at %v", e.Msg, e.Pos)
	}
	if _, _, err := testRewriter(t).Apply(p, Options{MaxSteps: -1}); err != nil {
		t.Errorf("no budget: %v", err)
	}
}

// TestLoadCancel: a cancelled context stops the front end too.
func TestLoadCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lang.Load("t.nab", []byte(progen.Straight(100)), lang.Options{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("lang.Load: got %v, want context.Canceled", err)
	}
}
