package rulecheck

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"pgregory.net/rapid"
)

// TestBuiltinRulesSound checks every rule of builtin.rules with the
// machinery of `nabla check --rules`: both sides, elaborated at each
// typing the checker finds, agree on random inputs, the inputs and the
// random functions varying with rapid's seed.
func TestBuiltinRulesSound(t *testing.T) {
	rw, err := pipeline.Rewriter()
	if err != nil {
		t.Fatal(err)
	}
	rules, pass := rw.BuiltinRules()
	empty := ir.NewProgram(nil)
	for _, r := range rules {
		t.Run(pass[r.Name]+"."+r.Name, func(t *testing.T) {
			first := Check(empty, r, Options{Trials: 60})
			if first.Status != Agrees {
				t.Fatalf("%s: %v: %s", r, first.Status, first.Detail)
			}
			rapid.Check(t, func(rt *rapid.T) {
				seed := rapid.Uint64().Draw(rt, "seed")
				rep := Check(empty, r, Options{Trials: 6, Seed: seed})
				if rep.Status != Agrees {
					rt.Fatalf("%s: %s", r, rep.Detail)
				}
			})
		})
	}
}

// TestCheckRuleFindsUnsound makes sure the checker rejects wrong rules
// and says why it cannot test others.
func TestCheckRuleFindsUnsound(t *testing.T) {
	for _, tc := range []struct {
		src    string
		status Status
		detail string
	}{
		{"rule r(x, y): x - y => y - x", Disagrees, "with x = "},
		{"rule r(x): x * 0.0 => 0.0", Agrees, ""}, // unsound only for NaN and infinities, which random inputs do not hit
		{"rule r(x): sqrt(x * x) => x", Disagrees, "the right-hand side"},
		{"rule r(f, xs): map(f, reverse(xs)) => map(f, xs)", Disagrees, "f = fn(u)"},
		{"rule r(op, ne, xs): reduce(op, ne, xs) => fold(op, ne, xs)", Agrees, ""},
		{"rule r(xs, i): xs[i] => xs[0]", Disagrees, "i = "},
		{"rule r(a): transpose(transpose(a)) => a", Agrees, ""},
		{"rule r(x): x[0] => x", Untested, "could not be typed"},
		{"rule r(c, x, y): (if c then x else y) => (if !c then y else x)", Agrees, ""},
		// where clauses: inputs are those a satisfying match could have
		{"rule add_zero(x, z): x + z => x where is_zero(z)", Agrees, "inputs drawn to satisfy its where condition"},
		{"rule mul_one(x, z): x * z => x where is_one(z)", Agrees, "skipped"},
		{"rule r(x, z): x * z => x where is_zero(z) || is_one(z)", Disagrees, "z = 0"},
		{"rule r(x, z): x + z => x where is_one(z)", Disagrees, "z = 1"},
		{"rule r(x, z): x + z => x where !is_zero(z)", Disagrees, "with x = "},
		{"rule r(x, z): x + z => x where is_const(z)", Disagrees, "with x = "},
		{"rule r(x, z): x + z => x where is_zero(z) && is_var(z)", Untested, "too few random inputs satisfy its where condition: 0 of "},
		{"rule r(x, y): x - y => 0.0 where is_zero(x) && is_zero(y)", Agrees, ""},
		{"rule r(f, z): f(z) => f(0.0) where is_zero(z)", Agrees, ""},
	} {
		p, err := lang.Load("t.nab", []byte(tc.src+"\ndef f(x: f64): f64 = x\n"), lang.Options{})
		if err == nil {
			p, err = ad.Expand(p)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		reps := CheckAll(p, Options{})
		if len(reps) != 1 {
			t.Fatalf("%s: %d reports", tc.src, len(reps))
		}
		rep := reps[0]
		if rep.Status != tc.status || !strings.Contains(rep.Detail, tc.detail) {
			t.Errorf("%s: status %v (%s), want %v with %q", tc.src, rep.Status, rep.Detail, tc.status, tc.detail)
		}
	}
}
