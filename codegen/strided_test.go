package codegen_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestStridedReads runs testdata/strided.nab's and accrun.nab's RUN
// lines through both backends: a run reading rows of a transpose from its
// source, or summing cotangents with acc_add in its loop, gives the
// interpreter's values bit for bit, and its errors at the positions the
// ERROR lines give. The generated code of each def is checked for what
// the lowering promises: no transpose stored where nothing else reads it,
// no accumulation loop left in a chain of acc_add.
func TestStridedReads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	strided := checkRuns(t, "testdata/strided.nab", 7)
	acc := checkRuns(t, "testdata/accrun.nab", 3)
	// One loop accumulating (sum's), where each acc_add was a pass of
	// g[i] += v[i].
	for _, def := range []string{"sweepgrad", "pairvjp"} {
		body := genBody(t, acc, def)
		if n := strings.Count(body, "+= "); n > 2 {
			t.Errorf("%s: %d accumulating statements, want at most 2 (a sum's):\n%s", def, n, body)
		}
	}
	src := strided
	store := regexp.MustCompile(`(?m)^\s*\w+\[\w+\*\w+\+\w+\] = \w+\[\w+\*\w+\+\w+\]$`) // a transpose's loop
	for _, c := range []struct {
		def        string
		transposes int
		has        string
	}{
		{"resid", 0, "feats_1[i_"},         // ft's rows read from feats
		{"both", 1, "x_1[i_"},              // t is a result: stored, but read from x
		{"picked", 0, "[int(idx_"},         // gathered from pts * 2.0 in place
		{"third", 1, "runtime.CheckIndex"}, // t[2] checked before the loop
		{"inloop", 1, "for "},              // the run is in a loop: t is read
	} {
		body := genBody(t, src, c.def)
		if n := len(store.FindAllString(body, -1)); n != c.transposes {
			t.Errorf("%s: %d transposes stored, want %d:\n%s", c.def, n, c.transposes, body)
		}
		if !strings.Contains(body, c.has) {
			t.Errorf("%s: no %q:\n%s", c.def, c.has, body)
		}
	}
}

// checkRuns runs file's RUN lines (at least min) through both backends
// and compares values bit for bit and errors with the ERROR lines; it
// returns the source.
func checkRuns(t *testing.T, file string, min int) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, ip, gp := loadBoth(t, file, src)
	if res == nil {
		t.Fatalf("%s does not compile", file)
	}
	compareRuns(t, file, src, ip, gp, min)
	return string(src)
}

// compareRuns runs the RUN lines of file (its source src, at least min
// of them) on the interpreter ip and a Go runner gp: the values must be
// the same bits, and a RUN followed by an ERROR line must fail on both
// with the same error at that position.
func compareRuns(t *testing.T, file string, src []byte, ip, gp pipeline.Runner, min int) {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	cases := runDirectives(src)
	if len(cases) < min {
		t.Fatalf("%s: %d RUN lines, want at least %d", file, len(cases), min)
	}
	for _, c := range cases {
		wantErr := ""
		if c.line < len(lines) {
			if s := strings.TrimSpace(lines[c.line]); strings.HasPrefix(s, "// ERROR:") {
				wantErr = filepath.Base(file) + ":" + strings.TrimSpace(strings.TrimPrefix(s, "// ERROR:"))
			}
		}
		r, ok := callBoth(t, ip, gp, c)
		if !ok {
			t.Fatalf("%s:%d: the arguments do not fit %s", file, c.line, c.def)
		}
		where := fmt.Sprintf("%s:%d", file, c.line)
		if wantErr != "" {
			if r.ierr == nil || r.gerr == nil || r.ierr.Error() != r.gerr.Error() || !strings.Contains(r.gerr.Error(), wantErr) {
				t.Errorf("%s: want both errors at %s:\ninterp: %v\ngo:     %v", where, wantErr, r.ierr, r.gerr)
			}
			continue
		}
		if r.ierr != nil || r.gerr != nil {
			t.Errorf("%s: unexpected error:\ninterp: %v\ngo:     %v", where, r.ierr, r.gerr)
			continue
		}
		ij, _ := jsonv.Encode(r.result, r.iv)
		gj, _ := jsonv.Encode(r.result, r.gv)
		if string(ij) != string(gj) {
			t.Errorf("%s: values differ in their bits:\ninterp: %s\ngo:     %s", where, ij, gj)
		}
	}
}

// loadBoth compiles src and loads it on the interpreter and the Go
// backend; res is nil when it does not compile.
func loadBoth(t *testing.T, file string, src []byte) (res *pipeline.Result, ip, gp pipeline.Runner) {
	t.Helper()
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		return nil, nil, nil
	}
	if ip, err = pipeline.Interp.Load(ctx, res.Opt); err != nil {
		t.Fatal(err)
	}
	if gp, err = codegen.Backend.Load(ctx, res.Opt); err != nil {
		t.Fatalf("go backend: %v", err)
	}
	return res, ip, gp
}

// bothCalls is a RUN's results on the two backends.
type bothCalls struct {
	result     ir.Type
	iv, gv     runtime.Value
	ierr, gerr error
}

// callBoth decodes c's arguments and calls c.def on both backends; ok is
// false when the arguments do not fit its parameters (an unknown def is
// an error of the test).
func callBoth(t *testing.T, ip, gp pipeline.Runner, c runCase) (r bothCalls, ok bool) {
	t.Helper()
	params, result, err := ip.Signature(c.def)
	if err != nil {
		t.Errorf("%s: %v", c.def, err)
		return r, false
	}
	if len(params) != len(c.args) || jsonv.FuncIn(result) != nil {
		return r, false
	}
	args := make([]runtime.Value, len(params))
	for i, p := range params {
		if args[i], err = jsonv.Decode(p, []byte(c.args[i])); err != nil {
			return r, false
		}
	}
	ctx := context.Background()
	r.result = result
	r.iv, r.ierr = ip.Call(ctx, c.def, args, runtime.Limits{})
	r.gv, r.gerr = gp.Call(ctx, c.def, args, runtime.Limits{})
	return r, true
}
