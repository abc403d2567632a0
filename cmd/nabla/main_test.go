package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The programs the command-line tests run, written to a temporary
// directory. Line numbers matter: errors are checked by position.
var testFiles = map[string]string{
	"mat.nab": `export def twice(a: [m][n]f64) = a * 2.0
`,
	"ok.nab": `def main() = 42
def add(a: f64, b: f64): f64 = a + b
def vec(x: [n]f64) = x * 2.0
def ints(a: i64) = a * 2
def pair(x: f64) = (x, [true, false])
def recip(x: f64) = 1.0 / x
def twice(f: f64 -> f64, x: f64) = f(f(x))
def adder(x: f64) = fn(y: f64) => x + y
def quot(a: i64, b: i64): i64 =
  a / b
def table = [[1.0, 2.0], [3.0, 4.0]]
def big(n: i64) = n
`,
	"nomain.nab": "def only(x: f64) = x\n",
	"empty.nab":  "// nothing here\n",
	"bad.nab": `def f(x: f64): f64 =
  x + true
`,
	"twoerrs.nab": `def f(x: f64): f64 = y
def g(x: f64): f64 = z
`,
	"imports.nab": `import "lib/util.nab"
def main() = util.double(2.0)
`,
	"lib/util.nab": "def double(x: f64) = 2.0 * x\n",
	"many.nab":     manyErrors(50),
	"escape/main.nab": `import "../ok.nab"
def main() = ok.main()
`,
	"sizes.nab": `def f(a: [n][n]f64, v: [n]f64) = a @ v
def A = [[1.0, 2.0], [3.0, 4.0]]
def main() = f(A, [1.0, 2.0, 3.0])
`,
	"rules.nab": `rule mul_one(x): x * 1.0 => x
rule swap(x, y): x - y => y - x
rule fuse(f, g, xs): map(f, map(g, xs)) => map(fn(v) => f(g(v)), xs)
def h(x: f64): f64 = x * 1.0 + 2.0
def k(x: f64): f64 = x + 2.0
`,
	"failing.nab": `rule mul_one(x): x * 1.0 => x
def h(x: f64): f64 = x * 1.0 + 2.0
@strategy(mul_one)
def k(x: f64): f64 = x + 2.0
`,
	"where.nab": `rule add_zero(x, z): x + z => x where is_zero(z)
rule never(x, z): x + z => z where is_var(z) && is_one(z)
def h(x: f64): f64 = x + 0.0
`,
	"goodrules.nab": `rule mul_one(x): x * 1.0 => x
rule odd(x): x[0] => x[0]
def h(x: [n]f64): [n]f64 = map(fn(a) => a * 2.0, map(fn(a) => a + 1.0, x))
`,
}

// manyErrors is a program with n defs, each with one error.
func manyErrors(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "def f%02d(x: f64): f64 = y\n", i)
	}
	return b.String()
}

func writeTestFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range testFiles {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCLI drives run in-process. In args, $D stands for the directory of
// the test files. stdout must match exactly when stdoutIs is set and
// contain stdoutHas; stderr must contain stderrHas and, for success, be
// empty.
func TestCLI(t *testing.T) {
	dir := writeTestFiles(t)
	for _, tc := range []struct {
		args      string
		code      int
		stdoutIs  string
		stdoutHas string
		stderrHas string
	}{
		// run: results
		{args: "run $D/ok.nab", stdoutIs: "42\n"},
		{args: "run -f add $D/ok.nab 1 2.5", stdoutIs: "3.5\n"},
		{args: "run --f=add $D/ok.nab -1 -2", stdoutIs: "-3\n"},
		{args: "run -f vec $D/ok.nab [1,-2.5]", stdoutIs: "[2, -5]\n"},
		{args: "run -f vec $D/ok.nab []", stdoutIs: "[]\n"},
		{args: "run -f pair $D/ok.nab 0.5", stdoutIs: "[0.5, [true, false]]\n"},
		{args: "run -f recip $D/ok.nab 0", stdoutIs: "\"+Inf\"\n"},
		{args: `run -f recip $D/ok.nab "-Inf"`, stdoutIs: "-0\n"},
		{args: `run -f recip $D/ok.nab "NaN"`, stdoutIs: "\"NaN\"\n"},
		{args: "run -f add $D/ok.nab 1e300 0", stdoutIs: "1e+300\n"},
		{args: "run -f recip $D/ok.nab 1e-7", stdoutIs: "10000000\n"},
		{args: "run -f table $D/ok.nab", stdoutIs: "[[1, 2], [3, 4]]\n"},
		{args: "run -f big $D/ok.nab 9007199254740993", stdoutIs: "9007199254740993\n"},
		{args: "run --backend interp -f ints $D/ok.nab 21", stdoutIs: "42\n"},
		{args: "run $D/imports.nab", stdoutIs: "4\n"},

		// run: errors in the program or its run
		{args: "run -f quot $D/ok.nab 1 0", code: 1, stderrHas: "ok.nab:10:"},
		{args: "run $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "run --backend go $D/ok.nab", stdoutIs: "42\n"},
		{args: "run --backend go -f quot $D/ok.nab 1 0", code: 1, stderrHas: "ok.nab:10:"},

		// run: bad usage
		{args: "run", code: 2, stderrHas: "nabla run: missing FILE\nusage: nabla run [-f NAME]"},
		{args: "run $D/nosuch.nab", code: 2, stderrHas: "nabla run: cannot read $D/nosuch.nab: no such file or directory"},
		{args: "run -x $D/ok.nab", code: 2, stderrHas: "nabla run: flag provided but not defined: -x"},
		{args: "run -f", code: 2, stderrHas: "flag needs an argument: -f"},
		{args: "run --backend wasm $D/ok.nab", code: 2, stderrHas: `unknown backend "wasm": want interp or go`},
		{args: "run -f nosuch $D/ok.nab", code: 2, stderrHas: `no def named "nosuch"`},
		{args: "run -f ad $D/ok.nab 1 2", code: 2, stderrHas: `no def named "ad"; did you mean "add"?`},
		{args: "run $D/nomain.nab", code: 2, stderrHas: `no def named "main"; choose one with -f NAME; its defs are only`},
		{args: "run $D/empty.nab", code: 2, stderrHas: "the file has no defs"},
		{args: "run -f add $D/ok.nab 1", code: 2, stderrHas: "add takes 2 arguments (a: f64, b: f64), one per parameter: JSON, @FILE or -; got 1"},
		{args: "run -f add $D/ok.nab 1 2 3", code: 2, stderrHas: "got 3"},
		{args: "run $D/ok.nab 1", code: 2, stderrHas: "main takes 0 arguments"},
		{args: "run -f ints $D/ok.nab 2.5", code: 2, stderrHas: "argument 1 (a) of ints: want i64, got 2.5, which is not an integer"},
		{args: "run -f vec $D/ok.nab [1,[2]]", code: 2, stderrHas: "argument 1 (x) of vec: at [1]: want f64, got an array of 1 element"},
		{args: "run -f add $D/ok.nab [1 2", code: 2, stderrHas: "argument 1 (a) of add: not valid JSON: unexpected EOF (at the end: \"[1\")"},
		{args: "run -f add $D/ok.nab 1 true", code: 2, stderrHas: "argument 2 (b) of add: want f64, got a bool (true)"},
		{args: "run -f add $D/ok.nab 1 -f", code: 2, stderrHas: "(flags go before FILE)"},
		{args: "run -f twice $D/ok.nab 1 2", code: 2, stderrHas: "argument 1 (f) of twice: want f64 -> f64, but a function value (f64 -> f64) cannot be given as JSON"},
		{args: "run -f adder $D/ok.nab 1", code: 2, stderrHas: "adder returns f64 -> f64, which has no JSON form"},
		{args: "run -h", stdoutHas: "usage: nabla run [-f NAME] [--backend interp|go] FILE [ARG ...]"},

		// check
		{args: "check $D/ok.nab $D/imports.nab"},
		{args: "check $D/ok.nab $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "check $D/twoerrs.nab", code: 1, stderrHas: "twoerrs.nab:1:"},
		{args: "check $D/twoerrs.nab", code: 1, stderrHas: "twoerrs.nab:2:"},
		{args: "check --rules $D/ok.nab", stdoutIs: ""},
		{args: "check --rules $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "check --rules $D/rules.nab", code: 1, stderrHas: "rules.nab:2:1: rule swap is unsound: with x = "},
		{args: "check --rules $D/goodrules.nab", stdoutHas: "goodrules.nab:1:1: rule mul_one: ok, both sides agree on 180 random inputs (x: f64; x: [n]f64; x: [m][n]f64)"},
		{args: "check --rules $D/goodrules.nab", stdoutHas: "goodrules.nab:2:1: rule odd: ok"},
		{args: "check --rules $D/where.nab", stdoutHas: "where.nab:1:1: rule add_zero: ok, both sides agree on "},
		{args: "check --rules $D/where.nab", stdoutHas: "inputs drawn to satisfy its where condition, "},
		{args: "check --rules $D/where.nab", stdoutHas: "where.nab:2:1: rule never: not tested: too few random inputs satisfy its where condition: 0 of "},
		{args: "check $D/failing.nab", code: 1, stderrHas: "failing.nab:3:1: strategy mul_one failed on k"},
		{args: "check", code: 2, stderrHas: "nabla check: missing FILE"},
		{args: "check $D/ok.nab $D/nosuch.nab", code: 1, stderrHas: "nosuch.nab: cannot read: no such file or directory"},
		{args: "check $D/bad.nab $D/nosuch.nab $D/twoerrs.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "check $D/bad.nab $D/nosuch.nab $D/twoerrs.nab", code: 1, stderrHas: "nosuch.nab: cannot read"},
		{args: "check $D/bad.nab $D/nosuch.nab $D/twoerrs.nab", code: 1, stderrHas: "twoerrs.nab:2:"},
		{args: "check $D/lib", code: 1, stderrHas: "lib: cannot read: not a regular file (a directory)"},
		{args: "check $D/many.nab", code: 1, stderrHas: "many.nab:10:24: unknown name y\n$D/many.nab:11:24: too many errors\n"},
		{args: "check $D/escape/main.nab", code: 1, stderrHas: `main.nab:1:1: cannot import "../ok.nab": the import leaves the program's root`},
		{args: "check $D/sizes.nab", code: 1, stderrHas: "sizes.nab:3:19: size mismatch: n is 2 (argument 1 of f) but argument 2 has size 3"},
		{args: "check --verbose $D/ok.nab", code: 2, stderrHas: "flag provided but not defined: -verbose"},

		// ir
		{args: "ir -f add $D/ok.nab", stdoutHas: "def add(a: f64, b: f64): f64 ="},
		{args: "ir $D/ok.nab", stdoutHas: "def vec("},
		{args: "ir --stage core -f quot $D/ok.nab", stdoutHas: "def quot("},
		{args: "ir --stage opt -f add $D/ok.nab", stdoutIs: "def add(a: f64, b: f64): f64 =\n  a + b\n"},
		{args: "ir --stage opt -f h $D/goodrules.nab", stdoutIs: "def h(x: [n]f64): [n]f64 =\n  map(fn(v: f64) => (v + 1.0) * 2.0, x)\n"},
		{args: "ir --stage opt $D/failing.nab", code: 1, stderrHas: "failing.nab:3:1: strategy mul_one failed on k"},
		{args: "ir --stage fast -f add $D/ok.nab", code: 2, stderrHas: `unknown stage "fast"`},
		{args: "ir -f nosuch $D/ok.nab", code: 2, stderrHas: `has no def named "nosuch"`},
		{args: "ir -f f $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "ir -f add", code: 2, stderrHas: "want one FILE, got 0 arguments"},

		// opt
		{args: "opt -f add $D/ok.nab", stdoutIs: "def add(a: f64, b: f64): f64 =\n  a + b\n"},
		{args: "opt --trace -f add --strategy id $D/ok.nab", stdoutIs: "def add(a: f64, b: f64): f64 =\n  a + b\n"},
		{args: "opt --trace -f h --strategy mul_one $D/rules.nab", code: 1, stderrHas: "rules.nab:4:5: strategy mul_one failed on h"},
		{args: "opt --trace -f h --strategy topdown(try(mul_one)) $D/rules.nab", stdoutHas: "rules.nab:4:24: x * 1.0 => x\n\ndef h(x: f64): f64 =\n  x + 2.0\n"},
		{args: "opt --trace -f h $D/goodrules.nab", stdoutHas: "goodrules.nab:3:28: map(fn(a: f64) => a * 2.0, map(fn(a_1: f64) => a_1 + 1.0,... => map("},
		{args: "opt -f k --strategy default $D/rules.nab", stdoutHas: "def k(x: f64): f64 =\n  x + 2.0\n"},
		{args: "opt -f h --strategy nosuch $D/rules.nab", code: 2, stderrHas: "bad --strategy: --strategy:1:1: unknown strategy or rule nosuch"},
		{args: "opt -f h --strategy try( $D/rules.nab", code: 2, stderrHas: "bad --strategy: --strategy:1:5:"},
		{args: "opt -f h$vjp $D/rules.nab", code: 2, stderrHas: "generated defs such as f$vjp"},
		{args: "opt $D/ok.nab", code: 2, stderrHas: "nabla opt: missing -f NAME"},
		{args: "opt -f nosuch $D/ok.nab", code: 2, stderrHas: `has no def named "nosuch"`},
		{args: "opt -f f $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},

		// gen
		{args: "gen -pkg model $D/ok.nab", stdoutHas: "// Code generated by nabla; DO NOT EDIT."},
		{args: "gen -dense $D/mat.nab", stdoutHas: "func Twice(a *mat.Dense) (*mat.Dense, error)"},
		{args: "gen $D/bad.nab", code: 1, stderrHas: "bad.nab:2:"},
		{args: "gen", code: 2, stderrHas: "nabla gen: missing FILE"},

		// version and help
		{args: "version", stdoutIs: "nabla 0.1.0-dev (" + runtime.Version() + ")\n"},
		{args: "version now", code: 2, stderrHas: "unexpected arguments now"},
		{args: "help", stdoutHas: "Commands:"},
		{args: "help run", stdoutHas: "Flags:\n  -backend string"},
		{args: "help opt", stdoutHas: "usage: nabla opt -f NAME [--strategy S] [--trace] FILE"},
		{args: "help version", stdoutHas: "usage: nabla version"},
		{args: "help nosuch", code: 2, stderrHas: `unknown command "nosuch"; the commands are check, gen, gradbench, help, ir, opt, run, version`},
		{args: "help run check", code: 2, stderrHas: "want at most one COMMAND"},
		{args: "-h", stdoutHas: "nabla <command> [flags] [arguments]"},
		{args: "--help", stdoutHas: "nabla run -f rosen examples/rosenbrock.nab '[1, 2, 3]'"},
		{args: "", code: 2, stderrHas: "Usage:"},
		{args: "frobnicate", code: 2, stderrHas: `nabla: unknown command "frobnicate"`},
	} {
		args := strings.Fields(strings.ReplaceAll(tc.args, "$D", dir))
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		name := "nabla " + tc.args
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, tc.code, stdout.String(), stderr.String())
			continue
		}
		if tc.stdoutIs != "" && stdout.String() != tc.stdoutIs {
			t.Errorf("%s: stdout %q, want %q (stderr %q)", name, stdout.String(), tc.stdoutIs, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.stdoutHas) {
			t.Errorf("%s: stdout %q does not contain %q", name, stdout.String(), tc.stdoutHas)
		}
		if want := strings.ReplaceAll(tc.stderrHas, "$D", dir); !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr %q does not contain %q", name, stderr.String(), want)
		}
		if tc.code == 0 && stderr.Len() > 0 {
			t.Errorf("%s: succeeded with stderr %q", name, stderr.String())
		}
		if tc.code == 2 && !strings.Contains(stderr.String(), "help") {
			t.Errorf("%s: usage error without a hint to help: %q", name, stderr.String())
		}
		if tc.code != 0 && stdout.Len() > 0 {
			t.Errorf("%s: failed with stdout %q", name, stdout.String())
		}
	}
}

// TestRunErrorPosition checks the form of a run-time error: the position
// of the failing expression first, then the backtrace.
func TestRunErrorPosition(t *testing.T) {
	dir := writeTestFiles(t)
	var stdout, stderr bytes.Buffer
	file := filepath.Join(dir, "ok.nab")
	if code := run([]string{"run", "-f", "quot", file, "7", "0"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr.String())
	}
	first, _, _ := strings.Cut(stderr.String(), "\n")
	if !strings.HasPrefix(first, file+":10:") {
		t.Errorf("first line %q, want it to begin with %s:10:", first, file)
	}
}

// conformanceDirs are the suites of ../shared/conformance that this build
// must pass; ad and rewrite join as those features land.
var conformanceDirs = []string{"lang", "errors"}

// TestConformance runs the shared conformance cases in-process, following
// ../shared/conformance/run.py: the same directives, commands and
// comparisons. NABLA_CONFORMANCE overrides where the suite is.
func TestConformance(t *testing.T) {
	root := os.Getenv("NABLA_CONFORMANCE")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "conformance")
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no conformance suite at %s", root)
	}
	for _, d := range conformanceDirs {
		files, _ := filepath.Glob(filepath.Join(root, d, "*.nab"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, cs := range conformanceCases(t, string(src)) {
				t.Run(fmt.Sprintf("%s/%s:%d", d, filepath.Base(f), cs.line), func(t *testing.T) {
					cs.check(t, f)
				})
			}
		}
	}
}

// confCase is one WANT or ERROR directive with the RUN before it.
type confCase struct {
	line    int
	run     []string // def name and JSON arguments; nil for a compile check
	want    any      // the decoded WANT, or nil for ERROR
	errorAt string   // LINE or LINE:COL for ERROR
	tol     float64
}

func conformanceCases(t *testing.T, src string) []confCase {
	var out []confCase
	tol := 1e-9
	var pending []string
	for n, line := range strings.Split(src, "\n") {
		s, ok := strings.CutPrefix(strings.TrimSpace(line), "//")
		if !ok {
			continue
		}
		key, rest, _ := strings.Cut(strings.TrimSpace(s), ":")
		rest = strings.TrimSpace(rest)
		switch key {
		case "TOL":
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("line %d: bad TOL: %v", n+1, err)
			}
			tol = v
		case "RUN":
			name, args, _ := strings.Cut(rest, " ")
			pending = append([]string{name}, splitJSON(t, args)...)
		case "WANT":
			var want any
			if err := json.Unmarshal([]byte(rest), &want); err != nil {
				t.Fatalf("line %d: bad WANT: %v", n+1, err)
			}
			out = append(out, confCase{line: n + 1, run: pending, want: want, tol: tol})
			pending = nil
		case "ERROR":
			out = append(out, confCase{line: n + 1, run: pending, errorAt: rest, tol: tol})
			pending = nil
		}
	}
	return out
}

// splitJSON splits whitespace-separated JSON values.
func splitJSON(t *testing.T, s string) []string {
	var out []string
	dec := json.NewDecoder(strings.NewReader(s))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("bad RUN arguments %q: %v", s, err)
		}
		out = append(out, string(raw))
	}
	return out
}

func (cs confCase) check(t *testing.T, file string) {
	var args []string
	if cs.run != nil {
		args = append([]string{"run", "-f", cs.run[0], file}, cs.run[1:]...)
	} else {
		args = []string{"check", file}
	}
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	if cs.errorAt != "" {
		if code != 1 || !strings.Contains(stderr.String(), ":"+cs.errorAt+":") {
			t.Errorf("nabla %s: exit %d, want 1 with an error at %s; stderr %q", strings.Join(args, " "), code, cs.errorAt, stderr.String())
		}
		return
	}
	var got any
	if code != 0 || json.Unmarshal(stdout.Bytes(), &got) != nil || !closeTo(got, cs.want, cs.tol) {
		t.Errorf("nabla %s: exit %d, got %q, want %v; stderr %q", strings.Join(args, " "), code, stdout.String(), cs.want, stderr.String())
	}
}

// closeTo compares like run.py's close: numbers within a relative
// tolerance, strings and bools exactly, lists element by element.
func closeTo(got, want any, tol float64) bool {
	switch w := want.(type) {
	case bool, string, nil:
		return got == want
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= tol*math.Max(1, math.Abs(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !closeTo(g[i], w[i], tol) {
				return false
			}
		}
		return true
	}
	return false
}

// TestRunPlot runs two library methods with --plot on each backend and
// decodes the PNG; stderr is not a terminal here, so no status line
// appears. A file name without .png or .svg is a usage error.
func TestRunPlot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.nab")
	src := `import "std/optim"
def rosen(x: [2]f64): f64 = 100.0 * (x[1] - x[0] * x[0]) ^ 2 + (1.0 - x[0]) ^ 2
def main(x0: [2]f64) = (optim.lbfgs(rosen, x0, 10, 200, 1e-10).2, optim.newton(rosen, x0, 200, 1e-10).2)
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	for _, backend := range []string{"interp", "go"} {
		out := filepath.Join(dir, backend+".png")
		stdout.Reset()
		stderr.Reset()
		if code := run([]string{"run", "--backend", backend, "--plot", out, file, "[-1.2, 1]"}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
			t.Fatalf("%s: exit %d, stderr %q", backend, code, stderr.String())
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", backend, err)
		}
		if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 150 {
			t.Errorf("%s: plot is %v", backend, b)
		}
	}
	stdout.Reset()
	stderr.Reset()
	args := []string{"run", "--plot", filepath.Join(dir, "conv.pdf"), file, "[-1.2, 1]"}
	if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--plot") {
		t.Errorf("%v: exit %d, stderr %q; want a usage error about --plot", args, code, stderr.String())
	}
}
