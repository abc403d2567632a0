package codegen

// Tests of topchecks.go: which size checks are runtime.CheckSizeFast, and
// that they give the values and errors of runtime.CheckSize.

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// checkCalls matches a generated size check, taking the function called.
var checkCalls = regexp.MustCompile(`:= runtime\.(CheckSize|CheckSizeFast)\(`)

// inLoop reports whether a for statement or a func literal encloses line
// k of gofmt'd code (blocks found by indentation).
func inLoop(lines []string, k int) bool {
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, "\t")) }
	cur := indent(lines[k])
	for i := k - 1; i >= 0 && cur > 0; i-- {
		l := lines[i]
		if strings.TrimSpace(l) == "" || indent(l) >= cur {
			continue
		}
		cur = indent(l)
		h := strings.TrimSpace(l)
		if strings.HasPrefix(h, "for ") || strings.Contains(h, "func(") && !strings.HasPrefix(h, "func ") {
			return true
		}
	}
	return false
}

// countChecks counts the fast and the plain size checks in body.
func countChecks(body string) (fast, plain int) {
	for _, m := range checkCalls.FindAllStringSubmatch(body, -1) {
		if m[1] == "CheckSizeFast" {
			fast++
		} else {
			plain++
		}
	}
	return fast, plain
}

// TestTopChecks compiles testdata/topchecks.nab with the fast checks and
// without (Options.noFastChecks) and checks which checks are fast: those
// at a function's top level, not those in loops; then it runs every RUN
// through both builds, with no limit and under an array limit that
// refuses the larger sizes: the same values (JSON) and the same errors.
func TestTopChecks(t *testing.T) {
	const file = "testdata/topchecks.nab"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	var codes [2]string
	for i, off := range []bool{false, true} {
		code, err := Generate(res.Opt, Options{Main: true, noFastChecks: off})
		if err != nil {
			t.Fatal(err)
		}
		codes[i] = string(code)
	}
	// With the fast checks, a check is fast exactly when no loop or func
	// literal encloses it.
	fast, plain := 0, 0
	lines := strings.Split(codes[0], "\n")
	for k, l := range lines {
		m := checkCalls.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		isFast := m[1] == "CheckSizeFast"
		if isFast {
			fast++
		} else {
			plain++
		}
		if loop := inLoop(lines, k); isFast == loop {
			t.Errorf("line %d of the generated code: %s in a loop %v", k+1, m[1], loop)
		}
	}
	if fast < 4 || plain < 3 {
		t.Errorf("%d fast and %d plain checks, want at least 4 and 3", fast, plain)
	}
	if f, p := countChecks(codes[1]); f != 0 || p != fast+plain {
		t.Errorf("noFastChecks: %d fast and %d plain checks", f, p)
	}
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	var runners [2]*runner
	for i, code := range codes {
		bin, err := Build(ctx, []byte(code))
		if err != nil {
			t.Fatal(err)
		}
		runners[i] = &runner{prog: res.Opt, bin: bin}
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	cases := topRuns(src)
	if len(cases) < 10 {
		t.Fatalf("only %d RUN lines", len(cases))
	}
	for _, lim := range []runtime.Limits{{}, {Memory: 200}} {
		for _, c := range cases {
			var outs, errs [2]string
			for i, r := range runners {
				v, err := callRunner(t, ctx, ip, r, c, lim)
				outs[i] = v
				if err != nil {
					errs[i] = err.Error()
				}
			}
			if outs[0] != outs[1] || errs[0] != errs[1] {
				t.Errorf("line %d (limit %d): %s: fast checks %s %q, plain %s %q", c.line, lim.Memory, c.def, outs[0], errs[0], outs[1], errs[1])
			}
		}
	}
}

// callRunner calls c.def of the Go program r on c's arguments (decoded
// by the interpreter's signature) under lim: the result's JSON and the
// error.
func callRunner(t *testing.T, ctx context.Context, ip pipeline.Runner, r *runner, c topRun, lim runtime.Limits) (string, error) {
	t.Helper()
	args, result := runArgs(t, ip, c)
	v, err := r.Call(ctx, c.def, args, lim)
	if err != nil {
		return "", err
	}
	j, _ := jsonv.Encode(result, v)
	return string(j), nil
}

// runArgs decodes c's arguments by the interpreter's signature of c.def,
// and returns them with the def's result type.
func runArgs(t *testing.T, ip pipeline.Runner, c topRun) ([]runtime.Value, ir.Type) {
	t.Helper()
	params, result, err := ip.Signature(c.def)
	if err != nil || len(params) != len(c.args) {
		t.Fatalf("line %d: %s: signature %v", c.line, c.def, err)
	}
	args := make([]runtime.Value, len(params))
	for i, p := range params {
		if args[i], err = jsonv.Decode(p, []byte(c.args[i])); err != nil {
			t.Fatalf("line %d: %v", c.line, err)
		}
	}
	return args, result
}

// topRun is a RUN line: the def, its arguments' JSON, the line number.
type topRun struct {
	def  string
	args []string
	line int
}

// topRuns reads the RUN lines of src.
func topRuns(src []byte) []topRun {
	var out []topRun
	for n, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "// RUN: ")
		if !ok {
			continue
		}
		name, argText, _ := strings.Cut(rest, " ")
		c := topRun{def: name, line: n + 1}
		dec := json.NewDecoder(strings.NewReader(argText))
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				break
			}
			c.args = append(c.args, string(raw))
		}
		out = append(out, c)
	}
	return out
}
