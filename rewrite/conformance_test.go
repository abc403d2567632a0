package rewrite

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/ir/interp"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// conformanceRoot is the shared conformance suite; NABLA_CONFORMANCE
// overrides it.
func conformanceRoot(t *testing.T) string {
	root := os.Getenv("NABLA_CONFORMANCE")
	if root == "" {
		root = filepath.Join("..", "..", "shared", "conformance")
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no conformance suite at %s", root)
	}
	return root
}

// runLine is one RUN directive with the tolerance in force.
type runLine struct {
	line int
	name string
	args []string
	tol  float64
}

func runLines(t *testing.T, src string) []runLine {
	var out []runLine
	tol := 1e-9
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
				t.Fatalf("line %d: bad TOL", n+1)
			}
			tol = v
		case "RUN":
			name, args, _ := strings.Cut(rest, " ")
			var vals []string
			dec := json.NewDecoder(strings.NewReader(args))
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatalf("line %d: bad RUN arguments: %v", n+1, err)
				}
				vals = append(vals, string(raw))
			}
			out = append(out, runLine{line: n + 1, name: name, args: vals, tol: tol})
		}
	}
	return out
}

// TestConformanceUnchanged runs every RUN line of the lang, ad and
// rewrite suites (and the run-time errors of the errors suite) twice, on the program after AD and on the same program
// with the default pipeline applied to every def, and requires the same
// results (to the case's tolerance) or the same errors. Every rewritten
// program must also pass ir.Validate. Files that do not compile in this
// build (features still in progress) are skipped.
func TestConformanceUnchanged(t *testing.T) {
	root, rw := conformanceRoot(t), testRewriter(t)
	for _, dir := range []string{"lang", "ad", "rewrite", "errors"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.nab"))
		for _, f := range files {
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				p, err := lang.Load(f, src, lang.Options{ReadFile: os.ReadFile})
				if err != nil {
					t.Skipf("does not compile in this build: %v", err)
				}
				ep, err := ad.Expand(p)
				if err != nil {
					t.Skipf("AD fails in this build: %v", err)
				}
				for _, strat := range []Strategy{nil, rw.Default()} {
					op, _, err := rw.Apply(ep, Options{Strategy: strat})
					if err != nil {
						if strat == nil && strings.Contains(filepath.Base(f), "failing") {
							continue
						}
						t.Fatalf("Apply(%v): %v", strat, err)
					}
					if err := ir.Validate(op); err != nil {
						t.Fatalf("invalid IR after %v: %v\n%s", strat, err, ir.Print(op))
					}
					compareRuns(t, ep, op, runLines(t, string(src)))
				}
			})
		}
	}
}

// compareRuns runs each line on both programs.
func compareRuns(t *testing.T, before, after *ir.Program, lines []runLine) {
	t.Helper()
	ib, err := interp.New(before)
	if err != nil {
		t.Fatalf("interp before: %v", err)
	}
	ia, err := interp.New(after)
	if err != nil {
		t.Fatalf("interp after: %v", err)
	}
	for _, rl := range lines {
		params, result, err := ib.Signature(rl.name)
		if err != nil || len(params) != len(rl.args) {
			t.Errorf("line %d: %s: bad signature: %v", rl.line, rl.name, err)
			continue
		}
		args := make([]runtime.Value, len(params))
		for i, p := range params {
			if args[i], err = jsonv.Decode(p, []byte(rl.args[i])); err != nil {
				t.Fatalf("line %d: argument %d: %v", rl.line, i+1, err)
			}
		}
		vb, errb := ib.Call(context.Background(), rl.name, args, runtime.Limits{})
		// Decode again: a run may not modify its arguments, but be sure.
		args2 := make([]runtime.Value, len(params))
		for i, p := range params {
			args2[i], _ = jsonv.Decode(p, []byte(rl.args[i]))
		}
		va, erra := ia.Call(context.Background(), rl.name, args2, runtime.Limits{})
		if (errb != nil) != (erra != nil) {
			t.Errorf("line %d: %s: error before %v, after %v", rl.line, rl.name, errb, erra)
			continue
		}
		if errb != nil {
			// The same error at the same place (backtraces may differ where
			// calls were inlined).
			first := func(err error) string { s, _, _ := strings.Cut(err.Error(), "\n"); return s }
			if first(errb) != first(erra) {
				t.Errorf("line %d: %s: error before %q, after %q", rl.line, rl.name, first(errb), first(erra))
			}
			continue
		}
		jb, _ := jsonv.Encode(result, vb)
		ja, _ := jsonv.Encode(result, va)
		var gb, ga any
		json.Unmarshal(jb, &gb)
		json.Unmarshal(ja, &ga)
		if !closeJSON(ga, gb, rl.tol) {
			t.Errorf("line %d: %s: before %s, after %s", rl.line, rl.name, jb, ja)
		}
	}
}

// closeJSON compares decoded JSON values like the conformance runner.
func closeJSON(got, want any, tol float64) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= tol*math.Max(1, math.Abs(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !closeJSON(g[i], w[i], tol) {
				return false
			}
		}
		return true
	}
	return got == want
}
