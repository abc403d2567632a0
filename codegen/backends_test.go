package codegen_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// TestBackendsAgree runs every def of every program under tests/testdata
// (on generated inputs) and every RUN of the conformance suite and of
// codegen/testdata (on its arguments) through both backends, building each file once, and
// compares: the Go backend must give the interpreter's values (to 1e-12
// relative, since fused loops may sum in another order) and its errors,
// text for text.
func TestBackendsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	var files []string
	td, _ := filepath.Glob("../tests/testdata/*.nab")
	files = append(files, td...)
	own, _ := filepath.Glob("testdata/*.nab")
	files = append(files, own...)
	conf := os.Getenv("NABLA_CONFORMANCE")
	if conf == "" {
		conf = "../../shared/conformance"
	}
	for _, dir := range []string{"lang", "errors", "ad", "rewrite"} {
		fs, _ := filepath.Glob(filepath.Join(conf, dir, "*.nab"))
		files = append(files, fs...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Skip("no programs found")
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			compareFile(t, file)
		})
	}
}

type runCase struct {
	def  string
	args []string // JSON
	line int
}

func compareFile(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, ip, gp := loadBoth(t, file, src)
	if res == nil {
		return // a compile-error case: no run
	}
	cases := runDirectives(src)
	if strings.Contains(file, "tests/testdata") {
		cases = generatedCases(t, res.Opt, ip)
	}
	for _, c := range cases {
		r, ok := callBoth(t, ip, gp, c)
		if !ok {
			continue
		}
		iv, ierr, gv, gerr, result := r.iv, r.ierr, r.gv, r.gerr, r.result
		where := fmt.Sprintf("%s:%d: %s%v", file, c.line, c.def, c.args)
		switch {
		case ierr == nil && gerr != nil && strings.Contains(gerr.Error(), "cannot run with --backend go"):
			t.Logf("%s: not supported yet: %v", where, gerr)
		case ierr != nil || gerr != nil:
			if ierr == nil || gerr == nil || ierr.Error() != gerr.Error() {
				t.Errorf("%s: errors differ:\ninterp: %v\ngo:     %v", where, ierr, gerr)
			}
		default:
			ij, _ := jsonv.Encode(result, iv)
			gj, _ := jsonv.Encode(result, gv)
			if string(ij) != string(gj) && !closeJSON(ij, gj, 1e-12) {
				t.Errorf("%s: values differ:\ninterp: %s\ngo:     %s", where, ij, gj)
			}
		}
	}
}

// runDirectives reads the conformance RUN lines.
func runDirectives(src []byte) []runCase {
	var out []runCase
	for n, line := range strings.Split(string(src), "\n") {
		s := strings.TrimSpace(line)
		if !strings.HasPrefix(s, "// RUN:") {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(s, "// RUN:"))
		name, args, _ := strings.Cut(rest, " ")
		dec := json.NewDecoder(strings.NewReader(args))
		var as []string
		for dec.More() {
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				break
			}
			as = append(as, string(raw))
		}
		out = append(out, runCase{def: name, args: as, line: n + 1})
	}
	return out
}

// generatedCases calls every def of the program's main file on inputs
// made from its parameter types: every size 4, values in [-1, 1].
func generatedCases(t *testing.T, p *ir.Program, ip pipeline.Runner) []runCase {
	var out []runCase
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range p.Defs {
		if strings.ContainsAny(d.Name, ".$") {
			continue
		}
		params, _, err := ip.Signature(d.Name)
		if err != nil {
			continue
		}
		c := runCase{def: d.Name, line: d.P.Line}
		for _, pt := range params {
			if jsonv.FuncIn(pt) != nil {
				c.args = nil
				break
			}
			c.args = append(c.args, randomJSON(pt, rng))
		}
		if len(c.args) == len(params) {
			out = append(out, c)
		}
	}
	return out
}

func randomJSON(t ir.Type, rng *rand.Rand) string {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return fmt.Sprint(math.Round((rng.Float64()*2-1)*1000) / 1000)
		case ir.I64:
			return "2"
		}
		return "true"
	case *ir.Array:
		n := 4
		if t.Dim.Known() {
			n = int(t.Dim.N)
		}
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randomJSON(t.Elem, rng)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *ir.Tuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = randomJSON(e, rng)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "null"
}

func closeJSON(a, b []byte, tol float64) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return closeVal(x, y, tol)
}

func closeVal(x, y any, tol float64) bool {
	switch x := x.(type) {
	case float64:
		y, ok := y.(float64)
		return ok && math.Abs(x-y) <= tol*math.Max(1, math.Abs(x))
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !closeVal(x[i], y[i], tol) {
				return false
			}
		}
		return true
	}
	return x == y
}
