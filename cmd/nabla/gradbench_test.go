package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestGradbenchCommand(t *testing.T) {
	saved := gradbenchStdin
	defer func() { gradbenchStdin = saved }()
	for _, tc := range []struct {
		args           string
		stdin          string
		code           int
		stdout, stderr string
	}{
		{"gradbench", `{"id":0,"kind":"start"}` + "\n" + `{"id":1,"kind":"define","module":"hello"}` + "\n" +
			`{"id":2,"kind":"evaluate","module":"hello","function":"double","input":2.5}`,
			0, `{"id":2,"success":true,"output":5,`, ""},
		{"gradbench --backend go", `{"id":0,"kind":"define","module":"hello"}` + "\n" +
			`{"id":1,"kind":"evaluate","module":"hello","function":"square","input":3}`,
			0, `{"id":1,"success":true,"output":9,`, ""},
		{"gradbench --backend fpga", "", 2, "", `unknown backend "fpga"`},
		{"gradbench extra", "", 2, "", `unexpected argument "extra"`},
	} {
		gradbenchStdin = strings.NewReader(tc.stdin)
		var out, errs bytes.Buffer
		code := run(strings.Fields(tc.args), &out, &errs)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errs.String(), tc.stderr) {
			t.Errorf("nabla %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out.String(), errs.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}
