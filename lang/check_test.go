package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestCheckErrors lists, for each kind of mistake, a small program and the
// position and words of the error the checker must report.
func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name, src, pos, msg string
	}{
		{"unknown name", "def f(x: f64): f64 =\n  x + y", "2:7", "unknown name y"},
		{"duplicate def", "def f(x: f64): f64 = x\ndef f(x: f64): f64 = x", "2:5", "already defined"},
		{"arity", "def g(a: f64, b: f64): f64 = a * b\ndef f(x: f64): f64 =\n  g(x)", "3:3", "takes 2 arguments, got 1"},
		{"recursion", "def f(x: f64): f64 = if x > 0.0 then f(x - 1.0) else x", "1:38", "recursive reference to f"},
		{"mutual recursion", "def f(x: f64): f64 = g(x)\ndef g(x: f64): f64 = f(x)", "2:22", "recursive"},
		{"type mismatch", "def f(x: f64): bool =\n  x + true", "2:5", "'+'"},
		{"result type", "def f(x: f64): i64 = x", "1:22", "returns i64"},
		{"no implicit conversion", "def f(i: i64, x: f64) = x * i", "1:27", "mismatched types"},
		{"if branches", "def f(x: f64) = if x > 0.0 then 1.0 else true", "1:17", "different types"},
		{"if condition", "def f(x: f64) = if x then 1.0 else 2.0", "1:20", "must be a bool"},
		{"static shape", "def f(x: [3]f64, y: [4]f64) = x + y", "1:33", "shape mismatch"},
		{"field range", "def f(x: f64) = (x, x).2", "1:23", "out of range"},
		{"field of non-tuple", "def f(x: f64) = x.0", "1:18", "cannot take field"},
		{"index non-array", "def f(x: f64) = x[0]", "1:18", "cannot index"},
		{"index type", "def f(x: [n]f64) = x[1.0]", "1:22", "must be i64"},
		{"unknown type", "def f(x: float): f64 = 1.0", "1:10", "unknown type float"},
		{"unknown size", "def f(x: f64): [n]f64 = zeros(3)", "1:17", "unknown size n"},
		{"lambda needs types", "def f(x: f64) = fn(y) => y", "1:20", "cannot infer the type of parameter y"},
		{"builtin as value", "def f(x: f64) = let g = exp in (g, x)", "1:25", "cannot use builtin exp as a value here: nothing here fixes its parameter types; use it where they are known"},
		{"array builtin as value", "def f(x: f64) = let g = norm in (g, x)", "1:25", "as in fn(a: [n]f64) => norm(a)"},
		{"generic value def used untyped", "def gn = grad(norm)\ndef f() = gn", "1:15", "cannot use builtin norm as a value here: nothing here fixes its parameter types (in gn, used at t.nab:2:11)"},
		{"AD operator as value", "def f(x: [n]f64) = map(grad, x)", "1:24", "cannot use grad as a value: it is an AD operator"},
		{"lambda use does not decide", "def adder(a: [n]f64) = fn(x) => a + x", "1:27", "cannot infer the type of parameter x"},
		{"loop body type", "def f(x: f64) = loop s = 0.0 for i < 3 do (s, x)", "1:43", "loop body has type"},
		{"pattern arity", "def f(x: f64) = let (a, b) = (x, x, x) in a", "1:21", "2-tuple pattern to a value of type (f64, f64, f64)"},
		{"call non-function", "def f(x: f64) = x(1.0)", "1:18", "cannot call"},
		{"grad of vector function", "def f(x: [n]f64) = x * 2.0\ndef g = grad(f)", "2:9", "want f64"},
		{"taylor order", "def f(x: f64, k: i64) = taylor(sin, x, 1.0, k)", "1:45", "integer constant"},
		{"unknown attribute", "@fast\ndef f(x: f64) = x", "1:1", "unknown attribute"},
		{"rule recursion through the def", "def r(x: f64, dx: f64) = (f(x), dx)\n@jvp(r)\ndef f(x: f64): f64 = r(x, 1.0).0", "3:22", "recursive reference"},
		{"jvp rule type", "def r(x: f64): f64 = x\n@jvp(r)\ndef f(x: f64): f64 = x", "2:6", "want (f64, f64) -> (f64, f64)"},
		{"strategy name", "@strategy(nope)\ndef f(x: f64): f64 = x", "1:11", "unknown strategy"},
		{"strategy arity", "@strategy(try)\ndef f(x: f64): f64 = x", "1:11", "takes 1 argument"},
		{"strategy cycle", "strategy a = b\nstrategy b = a\ndef f(x: f64): f64 = x", "", "refers to itself"},
		{"rule unknown name", "rule r(x): x * k => x\ndef f(x: f64): f64 = x", "1:16", "unknown name k"},
		{"rule predicate", "rule r(x): x => x where is_big(x)\ndef f(x: f64): f64 = x", "1:25", "unknown rule predicate"},
		{"duplicate parameter", "def f(x: f64, x: f64) = x", "1:15", "duplicate parameter"},
		{"value def cycle", "def a = b + 1.0\ndef b = a * 2.0", "", "recursive"},
		{"import missing", "import \"std/nope\"\ndef f(x: f64) = x", "1:1", "no such standard library module"},
		{"constant index", "def f(x: [3]f64) = x[3]", "1:22", "index 3 out of range for [3]f64: indices must be in [0, 3)"},
		{"negative index", "def f(x: [n]f64) = x[-1]", "1:22", "index -1 out of range"},
		{"constant inner index", "def f(x: [3][2]f64) = x[1, 2]", "1:28", "index 2 out of range for [2]f64"},
		{"constant index expression", "def f(x: [3]f64) = x[1 + 2]", "1:22", "index 3 out of range"},
		{"index of empty", "def f(x: [0]f64) = x[0]", "1:22", "it has no elements"},
		{"constant slice bound", "def f(x: [3]f64) = x[1:4]", "1:24", "slice bound 4 out of range for [3]f64: bounds must be in [0, 3]"},
		{"negative slice bound", "def f(x: [n]f64) = x[-2:]", "1:22", "slice bound -2 out of range for [n]f64: a bound must not be negative"},
		{"slice bounds order", "def f(x: [n]f64) = x[2:1]", "1:24", "slice bounds out of order: 2 > 1"},
		{"array of mixed", "def f(x: f64) = [x, true]", "1:17", "element 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("t.nab", []byte(tc.src), Options{})
			if err == nil {
				t.Fatalf("no error; want %s: ...%s", tc.pos, tc.msg)
			}
			text := err.Error()
			if tc.pos != "" && !strings.Contains(text, "t.nab:"+tc.pos+":") {
				t.Errorf("error %q is not at t.nab:%s", text, tc.pos)
			}
			if !strings.Contains(text, tc.msg) {
				t.Errorf("error %q does not mention %q", text, tc.msg)
			}
		})
	}
}

// TestCheckReportsAllErrors: independent mistakes are all reported, in
// source order.
func TestCheckReportsAllErrors(t *testing.T) {
	src := "def f(x: f64): f64 = x + y\ndef g(x: f64): f64 = x + true\ndef h(x: f64): f64 = zz"
	_, err := Load("t.nab", []byte(src), Options{})
	list, ok := err.(ir.ErrorList)
	if !ok || len(list) != 3 {
		t.Fatalf("got %v, want 3 errors", err)
	}
	for i, e := range list {
		if e.Pos.Line != i+1 {
			t.Errorf("error %d at line %d, want %d", i, e.Pos.Line, i+1)
		}
	}
}

// TestLiteralTyping pins SPEC §2: an integer literal is i64 unless the
// context expects an f64.
func TestLiteralTyping(t *testing.T) {
	tests := []struct{ src, def, want string }{
		{"def f(x: f64) = 2 * x", "f", "f64"},
		{"def f(x: f64) = -x^2 + 2^3^2", "f", "f64"},
		{"def f(n: i64) = n * 2", "f", "i64"},
		{"def f() = 2 + 3", "f", "i64"},
		{"def f(): f64 = 2 + 3", "f", "f64"},
		{"def g(x: f64): f64 = x\ndef f() = g(1)", "f", "f64"},
		{"def f(x: [n]f64) = x * 2", "f", "[n]f64"},
		{"def f(x: f64) = [x, 1, 2]", "f", "[3]f64"},
		{"def f(x: f64) = if x > 0 then 1 else x", "f", "f64"},
		{"def f(x: f64) = (x, 1)", "f", "(f64, i64)"},
		{"def f(x: [n]f64) = reduce(max, -1e300, x)", "f", "f64"},
		{"def f(x: [n]f64) = map(exp, x)", "f", "[n]f64"},
		{"def f(x: [n]f64) = fill(n, 2)", "f", "[n]i64"},
		{"def f(x: [n]f64) = [f64(i) for i < n]", "f", "[n]f64"},
		{"def f(a: [m][k]f64, b: [k][p]f64) = a @ b", "f", "[m][p]f64"},
		{"def f(x: [n]f64) = x[1:3]", "f", "[2]f64"},
		{"def f(x: [n]f64) = jvp(fn(a) => a * 2.0, x, x)", "f", "([n]f64, [n]f64)"},
		{"def f(x: f64) = grad(fn(y) => y * y * y)(x)", "f", "f64"},
		{"def g(a: f64, b: f64): f64 = a * b\ndef f(x: f64) = grad(g)(x, x)", "f", "(f64, f64)"},
		{"def f(x: f64) = taylor(sin, x, 1.0, 3)", "f", "[4]f64"},
		{"def f(x: f64, v: [n]f64) = let g = fn(a) => a * a in (g(x), g(v))", "f", "(f64, [n]f64)"},
		{"def f(x: f64) = grad(grad(fn(a) => sin(a) * a^3))(x)", "f", "f64"},
		{"def f(x: [n]f64) = update(x, 1, 100)", "f", "[n]f64"},

		// Builtins as values and lambdas typed by use (issue 8 defect 6).
		{"def gn = grad(norm)\ndef f(x: [n]f64) = gn(x)", "f", "[n]f64"},
		{"def gn = grad(norm)\ndef f(x: [n][m]f64) = gn(x)", "f", "[n][m]f64"},
		{"def e = exp\ndef f(x: f64) = e(x)", "f", "f64"},
		{"def e = exp\ndef f(x: [n]f64) = (e(x), e(1.0))", "f", "([n]f64, f64)"},
		{"def sq = fn(x) => x * x\ndef f(x: [n]f64) = map(sq, x)", "f", "[n]f64"},
		{"def f(x: f64) = let g = exp in g(x)", "f", "f64"},
		{"def f(x: [n]f64) = let g = grad(logsumexp) in g(x)", "f", "[n]f64"},
		{"def f(x: [n]f64) = jacfwd(softmax)(x)", "f", "[n][n]f64"},
		{"def f(x: [n]f64) = hessian(norm)(x)", "f", "[n][n]f64"},
		{"def f(x: [n]f64) = reduce(max, -inf, x)", "f", "f64"},
		{"def f(x: f64) = grad(sin)(x)", "f", "f64"},
		{"def f(x: [n]f64) = value_and_grad(sum)(x)", "f", "(f64, [n]f64)"},
		{"def twice(f: f64 -> f64): f64 -> f64 = fn(x) => f(f(x))\ndef g(y: f64) = twice(sin)(y)", "g", "f64"},
		{"def twice(f: f64 -> f64) = fn(x) => f(f(x))", "twice", "f64 -> f64"},
		{"def sq(v: [n]f64): f64 = sum(v * v)\ndef f = fn(z) => sq(z) + 1.0", "f", "[?]f64 -> f64"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			p, err := Load("t.nab", []byte(tc.src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := p.Def(tc.def)
			if d == nil {
				t.Fatalf("no def %s", tc.def)
			}
			if got := d.Result.String(); got != tc.want {
				t.Errorf("result type %s, want %s", got, tc.want)
			}
		})
	}
}

// TestConformanceFilesCheck: every conformance program that is meant to
// compile does, and those meant to fail to compile fail. (rewrite/ is
// checked by the command's tests: strategies apply after AD, in nabla.Compile.)
func TestConformanceFilesCheck(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "conformance")
	var files []string
	for _, sub := range []string{"lang", "errors", "ad"} {
		fs, _ := filepath.Glob(filepath.Join(dir, sub, "*.nab"))
		files = append(files, fs...)
	}
	own, _ := filepath.Glob(filepath.Join("..", "tests", "conformance", "lang", "*.nab"))
	if len(own) == 0 {
		t.Error("no conformance cases in tests/conformance/lang")
	}
	files = append(files, own...)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		compileErr := strings.Contains(string(src), "// ERROR:") && !strings.Contains(string(src), "// RUN:")
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			_, err := LoadFile(f, Options{})
			if compileErr && err == nil {
				t.Fatal("compiled, but the file expects a compile error")
			}
			if !compileErr && err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestImports: std modules and relative files, qualified names, cycles.
func TestImports(t *testing.T) {
	files := map[string]string{
		"main.nab": "import \"util.nab\"\nimport \"std/linalg\"\ndef f(x: [n]f64) = util.twice(linalg.cg(fn(v) => v * 2.0, x, zeros(n), 1e-12, 50))",
		"util.nab": "def twice(x: [n]f64) = x * 2.0",
		"a.nab":    "import \"b.nab\"\ndef f(x: f64) = x",
		"b.nab":    "import \"a.nab\"\ndef g(x: f64) = x",
	}
	read := func(p string) ([]byte, error) {
		if s, ok := files[filepath.Base(p)]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	p, err := Load("main.nab", []byte(files["main.nab"]), Options{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	if p.Def("util.twice") == nil || p.Def("linalg.cg") == nil || p.Def("f") == nil {
		t.Errorf("defs: %v", p.Defs)
	}
	_, err = Load("a.nab", []byte(files["a.nab"]), Options{ReadFile: read})
	if err == nil || !strings.Contains(err.Error(), "import cycle") {
		t.Errorf("cycle: got %v", err)
	}
	_, err = Load("main.nab", []byte(files["main.nab"]), Options{})
	if err == nil || !strings.Contains(err.Error(), "without file access") {
		t.Errorf("no file access: got %v", err)
	}
}

// TestRuleCallsItsDef: a custom rule may call the def it is attached to
// (SPEC §6 v0.2); that is not recursion, in either order of the defs.
func TestRuleCallsItsDef(t *testing.T) {
	for _, src := range []string{
		"def sp_jvp(x: f64, dx: f64) = (sp(x), sigmoid(x) * dx)\n@jvp(sp_jvp)\ndef sp(x: f64): f64 = log(1.0 + exp(x))",
		"@jvp(sp_jvp)\ndef sp(x: f64): f64 = log(1.0 + exp(x))\ndef sp_jvp(x: f64, dx: f64) = (sp(x), sigmoid(x) * dx)",
		"def e_vjp(x: f64, ybar: f64): f64 = ybar * e(x)\n@vjp(e_vjp)\ndef e(x: f64): f64 = exp(x)",
		"@implicit(F)\ndef s(t: f64): f64 = sqrt(t)\ndef F(x: f64, t: f64): f64 = x * x - t + 0.0 * s(t)",
	} {
		p, err := Load("t.nab", []byte(src), Options{})
		if err != nil {
			t.Errorf("%s\n: %v", src, err)
			continue
		}
		if err := ir.Validate(p); err != nil {
			t.Errorf("%s\n: invalid IR: %v", src, err)
		}
	}
}
