package codegen_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// stepsSrc are the step-limit cases. Line numbers matter.
const stepsSrc = `def spin(x: f64): f64 = loop y = x while y > 0.0 do y + 1.0
def outer(x: f64): f64 = spin(x) * 2.0
def rows(n: i64): f64 = sum([loop y = f64(i) while y >= 0.0 do y + 1.0 for i < n])
def fine(n: i64): f64 = loop s = 0.0 for i < n do s + f64(i)
def spin2(x: [n]f64): f64 = sum((loop (y, k) = (x, 0) while k >= 0 do (y * 1.0, k + 1)).0)
def deep(x: [n]f64): f64 = sum([spin(x[i]) for i < n])
`

// TestStepLimit: under a step limit a program that never ends stops on
// both backends with the same positioned error (the counts differ, the
// limit's behaviour does not); a program that ends within the limit
// gives the same value; the build without a limit emits no counting.
func TestStepLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	ctx := context.Background()
	res := mustCompile(t, "steps.nab", stepsSrc)
	plain, err := codegen.Generate(res.Opt, codegen.Options{Main: true})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("nbStep(")) {
		t.Errorf("the program generated without Options.Steps counts steps")
	}
	if _, err := codegen.Generate(res.Opt, codegen.Options{Steps: true}); err == nil {
		t.Errorf("Options.Steps without Main: no error")
	}
	ip := mustLoad(t, pipeline.Interp, res.Opt)
	gp := mustLoad(t, codegen.Backend, res.Opt)
	sp := mustLoad(t, codegen.StepBackend, res.Opt)
	for _, tc := range []struct {
		def   string
		args  []string
		steps int64
		want  string // the error's text; "" for a value
	}{
		{"outer", []string{"1"}, 5000, "steps.nab:1:25: step limit exceeded (5000 steps)\n\tin outer (steps.nab:2:5)"},
		{"rows", []string{"1000"}, 5000, "steps.nab:3:30: step limit exceeded (5000 steps)\n\tin rows (steps.nab:3:5)"},
		{"spin2", []string{"[1, 2]"}, 100, "steps.nab:5:34: step limit exceeded (100 steps)\n\tin spin2 (steps.nab:5:5)"},
		{"deep", []string{"[1, 2]"}, 100, "steps.nab:1:25: step limit exceeded (100 steps)\n\tin deep (steps.nab:6:5)"},
		{"fine", []string{"100"}, 5000, ""},
		{"rows", []string{"0"}, 1, ""},
		{"deep", []string{"[]"}, 1, ""},
	} {
		params, result, err := ip.Signature(tc.def)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]runtime.Value, len(params))
		for i, p := range params {
			if args[i], err = jsonv.Decode(p, []byte(tc.args[i])); err != nil {
				t.Fatal(err)
			}
		}
		lim := runtime.Limits{Steps: tc.steps}
		iv, ierr := ip.Call(ctx, tc.def, args, lim)
		for _, r := range []struct {
			name string
			run  pipeline.Runner
		}{{"Backend", gp}, {"StepBackend", sp}} {
			gv, gerr := r.run.Call(ctx, tc.def, args, lim)
			where := tc.def + strings.Join(tc.args, ",") + " on " + r.name
			if tc.want != "" {
				if ierr == nil || ierr.Error() != tc.want {
					t.Errorf("%s: interpreter's error %v, want %q", where, ierr, tc.want)
				}
				if gerr == nil || gerr.Error() != tc.want || !errors.Is(gerr, runtime.ErrStepLimit) {
					t.Errorf("%s: error %v, want %q matching runtime.ErrStepLimit", where, gerr, tc.want)
				}
				continue
			}
			if ierr != nil || gerr != nil {
				t.Errorf("%s: errors %v, %v", where, ierr, gerr)
				continue
			}
			ij, _ := jsonv.Encode(result, iv)
			gj, _ := jsonv.Encode(result, gv)
			if string(ij) != string(gj) {
				t.Errorf("%s: %s, interpreter %s", where, gj, ij)
			}
		}
	}
}

// TestStepLimitParallel: the chunks of a parallel loop count steps too,
// and the run stops with the limit's error, not a crash.
func TestStepLimitParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	ctx := context.Background()
	res := mustCompile(t, "steps.nab", stepsSrc)
	src, err := codegen.Generate(res.Opt, codegen.Options{Main: true, Steps: true, ParallelMin: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("runtime.ParallelSum(")) {
		t.Fatal("no parallel loop in the generated code")
	}
	bin, err := codegen.Build(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		argv   []string
		in     string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"-f", "deep", "-max-steps", "1000"}, "[1, 2, 3, 4, 5, 6, 7, 8, 9]", 1, "", "steps.nab:1:25: step limit exceeded (1000 steps)\n\tin deep (steps.nab:6:5)\n"},
		{[]string{"-f", "fine", "-max-steps", "1000"}, "10", 0, "45\n", ""},
		{[]string{"-f", "fine", "-max-steps", "x"}, "10", 2, "", "bad -max-steps \"x\"\n"},
	} {
		cmd := exec.CommandContext(ctx, bin, tc.argv...)
		cmd.Stdin = strings.NewReader(tc.in + "\n")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code || out.String() != tc.stdout || errb.String() != tc.stderr {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.argv, code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}
