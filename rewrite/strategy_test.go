package rewrite

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// strategyRules are the rules the strategy tests use, declared ahead of
// each test program.
const strategyRules = `rule mul_one(x): x * 1.0 => x
rule sq(x): x ^ 2 => x * x
rule comm(x, y): x + y => y + x
rule fold_add(x, y): x + y => y + x where is_const(x)
rule sub_self(x): x - x => 0.0
rule twice(x): x * 2 => x + x
rule grow(x): -x => -(-(-x))
rule map_fuse(f, g, xs): map(f, map(g, xs)) => map(fn(v) => f(g(v)), xs)
rule wrap(f, xs): map(f, xs) => map(fn(v) => f(v), xs)
strategy cleanup = normalize(mul_one <+ sq)
`

// TestStrategies applies a strategy to def f of a small program and
// compares the result and the trace with testdata/strategy/NAME.golden
// (go test -update rewrites them).
func TestStrategies(t *testing.T) {
	for _, tc := range []struct{ name, def, strategy string }{
		{"id", "def f(x: f64): f64 = x * 1.0", "id"},
		{"fail", "def f(x: f64): f64 = x * 1.0", "fail"},
		{"rule_root", "def f(x: f64): f64 = x * 1.0", "mul_one"},
		{"rule_no_match", "def f(x: f64): f64 = x + 1.0", "mul_one"},
		{"try", "def f(x: f64): f64 = x + 1.0", "try(mul_one)"},
		{"seq", "def f(x: f64): f64 = (x * 1.0) * 1.0", "mul_one; mul_one"},
		{"seq_fails", "def f(x: f64): f64 = x * 1.0", "mul_one; mul_one"},
		{"choice", "def f(x: f64): f64 = x ^ 2", "mul_one <+ sq"},
		{"repeat", "def f(x: f64): f64 = x * 1.0 * 1.0 * 1.0", "repeat(mul_one)"},
		{"all", "def f(x: f64, y: f64) = (x * 1.0, y * 1.0)", "all(mul_one)"},
		{"all_fails", "def f(x: f64, y: f64) = (x * 1.0, y)", "all(mul_one)"},
		{"one", "def f(x: f64, y: f64) = (x * 1.0, y * 1.0)", "one(mul_one)"},
		{"some", "def f(x: f64, y: f64, z: f64) = (x * 1.0, y, z * 1.0)", "some(mul_one)"},
		{"some_fails", "def f(x: f64, y: f64) = (x, y)", "some(mul_one)"},
		{"topdown", "def f(x: f64): f64 = sin(x * 1.0) * 1.0 + (x * 1.0) ^ 2", "topdown(try(mul_one <+ sq))"},
		{"bottomup", "def f(x: f64): f64 = sin(x * 1.0) * 1.0 + (x * 1.0) ^ 2", "bottomup(try(mul_one <+ sq))"},
		{"innermost", "def f(x: f64): f64 = (x * 1.0) * 1.0", "innermost(mul_one)"},
		{"outermost", "def f(x: f64): f64 = (x * 1.0) * 1.0", "outermost(mul_one)"},
		{"normalize_named", "def f(x: f64): f64 = (x * 1.0)^2 + 1.0", "cleanup"},
		{"fuel_repeat", "def f(x: f64, y: f64): f64 = x + y", "repeat(comm)"},
		{"fuel_normalize", "def f(x: f64, y: f64): f64 = x + y", "normalize(comm)"},
		{"deep_topdown", "def f(x: f64): f64 = -x", "topdown(try(grow))"},
		{"where", "def f(a: f64) = (2.0 + a, a + 2.0)", "topdown(try(fold_add))"},
		{"nonlinear", "def f(a: f64, b: f64) = (sin(a) - sin(a), sin(a) - sin(b))", "topdown(try(sub_self))"},
		{"nonlinear_alpha", "def f(x: [n]f64) = sum(map(fn(u) => u * 2.0, x)) - sum(map(fn(w) => w * 2.0, x))", "sub_self"},
		{"int_literal", "def f(a: f64, i: i64) = (a * 2.0, i * 2)", "topdown(try(twice))"},
		{"lambda_rule", "def f(x: [n]f64) = map(fn(a) => a + 1.0, map(fn(a) => a * 2.0, x))", "map_fuse"},
		{"hygiene", "def f(v: f64, xs: [n]f64) = map(fn(a) => a + v, xs)", "wrap; topdown(try(beta))"},
		{"beta", "def f(x: f64): f64 = (fn(a: f64, g: f64 -> f64) => g(a) * a)(x + 1.0, fn(b: f64) => b)", "normalize(beta)"},
		{"constfold", "def f(x: f64, i: i64) = (2.0 * 3.0 + x, i + 7 / 2, i + 1 / 0, f64(3) < 4.0)", "normalize(constfold)"},
		{"simplify", "def f(x: f64, t: (f64, f64)) = let y = x in let p = (y, 2.0) in -(-p.0) * 1.0 + (if true then 0.0 else x) + (t, x).1", "normalize(simplify)"},
		{"cse", "def f(x: f64, y: f64) = let a = x * y in let b = x * y in a + b + sin(x * y)", "cse"},
		{"dce", "def f(x: f64, i: i64) = let a = x * 2.0 in let q = 10 / i in let b = sin(x) in x", "dce"},
		{"fuse", "def f(x: [n]f64, y: [n]f64) = (map(fn(p) => p.0 * p.1, zip(x, y)), reduce(fn(a, b) => a + b, 0.0, map(fn(a) => a * a, x)))", "normalize(fuse <+ beta <+ simplify)"},
		{"lower", "def f(x: [n]f64, y: [n]f64) = (sum(x * y), sqrt(sum(x * x)), log(sum(exp(x))))", "normalize(lower)"},
		{"lower_concat", "def f(a: [n][2]f64, b: [m][2]f64, c: [2]f64) = (concat(concat(a, b), [c]), concat(concat(a, b), [c, c]))", "normalize(lower)"},
		{"inline", "def sq2(a: f64): f64 = a * a\n@noinline\ndef cube(a: f64): f64 = a * a * a\ndef f(x: f64): f64 = sq2(x + 1.0) + cube(x)", "normalize(inline <+ simplify)"},
		{"default_grad", "def g(x: [n]f64): f64 = sum(x * x) + x[0] * x[1]\ndef f(x: [n]f64) = grad(g)(x)", "default"},
		{"default_jvp", "def g(x: f64): f64 = sin(x) * x ^ 2\ndef f(x: f64, dx: f64) = jvp(g, x, dx)", "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadSrc(t, strategyRules+tc.def+"\n")
			var b strings.Builder
			b.WriteString("strategy: " + tc.strategy + "\n\n")
			b.WriteString(ir.PrintDef(p.Def("f")))
			st, err := lang.ParseStrategy("--strategy", tc.strategy)
			if err != nil {
				t.Fatal(err)
			}
			d, trace, err := testRewriter(t).ApplyDef(p, "f", st, Options{Trace: true, Fuel: 20})
			b.WriteString("\n=>\n\n")
			if err != nil {
				b.WriteString("error: " + err.Error() + "\n")
			} else {
				b.WriteString(ir.PrintDef(d))
				if err := ir.ValidateDef(d); err != nil {
					t.Errorf("invalid result: %v", err)
				}
			}
			if trace != nil && len(trace.Steps) > 0 {
				b.WriteString("\ntrace:\n")
				for i, st := range trace.Steps {
					if i == 30 {
						fmt.Fprintf(&b, "... %d more\n", len(trace.Steps)-i)
						break
					}
					b.WriteString(st.String() + "\n")
				}
			}
			golden(t, filepath.Join("testdata", "strategy", tc.name+".golden"), b.String())
		})
	}
}

// golden compares got with the file, or writes it with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", file, got, want)
	}
}
