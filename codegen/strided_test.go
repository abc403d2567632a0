package codegen_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// TestStridedReads runs testdata/strided.nab's RUN lines through both
// backends: a run reading rows of a transpose from its source gives the
// interpreter's values bit for bit, and its errors at the positions the
// ERROR lines give. The generated code of each def is checked for what
// the lowering promises: no transpose stored where nothing else reads it.
func TestStridedReads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	const file = "testdata/strided.nab"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	gp, err := codegen.Backend.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	cases := runDirectives(src)
	if len(cases) < 6 {
		t.Fatalf("%d RUN lines, want at least 6", len(cases))
	}
	for _, c := range cases {
		wantErr := ""
		if c.line < len(lines) {
			if s := strings.TrimSpace(lines[c.line]); strings.HasPrefix(s, "// ERROR:") {
				wantErr = "strided.nab:" + strings.TrimSpace(strings.TrimPrefix(s, "// ERROR:"))
			}
		}
		params, result, err := ip.Signature(c.def)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]runtime.Value, len(params))
		for i, p := range params {
			if args[i], err = jsonv.Decode(p, []byte(c.args[i])); err != nil {
				t.Fatal(err)
			}
		}
		iv, ierr := ip.Call(ctx, c.def, args, runtime.Limits{})
		gv, gerr := gp.Call(ctx, c.def, args, runtime.Limits{})
		where := file + ":" + itoa(c.line)
		if wantErr != "" {
			if ierr == nil || gerr == nil || ierr.Error() != gerr.Error() || !strings.Contains(gerr.Error(), wantErr) {
				t.Errorf("%s: want both errors at %s:\ninterp: %v\ngo:     %v", where, wantErr, ierr, gerr)
			}
			continue
		}
		if ierr != nil || gerr != nil {
			t.Errorf("%s: unexpected error:\ninterp: %v\ngo:     %v", where, ierr, gerr)
			continue
		}
		ij, _ := jsonv.Encode(result, iv)
		gj, _ := jsonv.Encode(result, gv)
		if string(ij) != string(gj) {
			t.Errorf("%s: values differ in their bits:\ninterp: %s\ngo:     %s", where, ij, gj)
		}
	}

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
	} {
		body := genBody(t, string(src), c.def)
		if n := len(store.FindAllString(body, -1)); n != c.transposes {
			t.Errorf("%s: %d transposes stored, want %d:\n%s", c.def, n, c.transposes, body)
		}
		if !strings.Contains(body, c.has) {
			t.Errorf("%s: no %q:\n%s", c.def, c.has, body)
		}
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
