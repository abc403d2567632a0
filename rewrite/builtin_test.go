package rewrite

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/lang"
)

// TestBuiltinDefault pins the strategy default that builtin.rules
// declares: the passes simplify, fuse and lower, not the strategies of
// those names that list their rules.
func TestBuiltinDefault(t *testing.T) {
	d, ok := testRewriter(t).Default().(*named)
	want := "remat; try(cse); normalize(beta <+ inline <+ simplify <+ constfold); try(shapezeros); try(cse); try(deadfield); normalize(fuse <+ beta <+ simplify <+ constfold); normalize(lower <+ simplify <+ constfold); try(licm; normalize(simplify <+ constfold)); try(cse); try(deadfield); try(dce)"
	if !ok || d.String() != "default" || d.s.String() != want {
		t.Fatalf("default is %v = %v, want %s", d, d.s, want)
	}
	for _, st := range d.s.(seqS) {
		if u, ok := st.(*unary); ok && u.name == "normalize" {
			for _, alt := range u.s.(choiceS) {
				if _, isPass := alt.(*passS); !isPass {
					t.Errorf("%s in default is %T, want a pass", alt, alt)
				}
			}
		}
	}
}

// TestNewRejects checks what New requires of the built-in rules.
func TestNewRejects(t *testing.T) {
	const def = "strategy default = simplify\n"
	for _, tc := range []struct{ src, msg string }{
		{"rule r(x): x * 1 => x\nstrategy simplify = r\n", "no strategy default"},
		{"rule r(x): x * 1 => x\nstrategy simplify = r\nstrategy cleanup = r\n" + def, "strategy cleanup is neither a pass with rules nor default"},
		{"rule r(x): x * 1 => x\nrule s(x): 1 * x => x\nstrategy simplify = r\n" + def, "2 rules, 1 listed in a pass"},
		{"rule r(x): x * 1 => x\nstrategy simplify = r <+ try(r)\n" + def, "strategy simplify lists try, which is not a rule"},
		{"def f(x: f64): f64 = x\nrule r(x): x * 1 => x\nstrategy simplify = r\n" + def, "def f: the built-in rules declare no defs"},
	} {
		p, err := lang.Load(BuiltinRulesFile, []byte(tc.src), lang.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if _, err := New(p); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.msg)
		}
	}
}
