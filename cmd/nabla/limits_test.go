package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets a test run this binary as the nabla command, in a
// subprocess with its own resource limits (NABLA_TEST_MAIN=1).
func TestMain(m *testing.M) {
	if os.Getenv("NABLA_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// limitsNab is the program of the limit tests. Line numbers matter.
const limitsNab = `def spin(x: f64): f64 = loop y = x while true do y + 1.0
def big(n: i64): f64 = sum(zeros(n))
def square(n: i64): f64 = sum(outer(ones(n), ones(n)))
def churn(x: [n]f64, k: i64): f64 =
  loop s = 0.0 for i < k do s + sum(exp(x * f64(i) / 1000.0))
`

// TestRunLimits: --max-memory, --max-steps and --timeout stop a run with
// a positioned error and exit status 1, on both backends where the
// backend can; bad values are bad usage.
func TestRunLimits(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "limits.nab")
	if err := os.WriteFile(file, []byte(limitsNab), 0o644); err != nil {
		t.Fatal(err)
	}
	x1k := "[" + strings.TrimSuffix(strings.Repeat("0,", 1000), ",") + "]" // 8 KB

	for _, tc := range []struct {
		args      string
		code      int
		stdout    string
		stderrHas string
	}{
		{args: "--timeout 200ms -f spin $F 0", code: 1, stderrHas: "limits.nab:1:25: run stopped after --timeout 200ms\n\tin spin"},
		{args: "--max-steps 100000 -f spin $F 0", code: 1, stderrHas: "limits.nab:1:25: step limit exceeded (100000 steps), set by --max-steps"},
		{args: "--max-steps 100000 -f big $F 1000", stdout: "0\n"},
		{args: "--max-memory 1MB -f big $F 1000000", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: an array of 8000000 bytes (7.63 MiB) does not fit in the limit of 1000000 bytes (977 KiB), set by --max-memory 1MB\n\tin big"},
		{args: "--max-memory 1MiB -f churn $F " + x1k + " 1000", stdout: "1000000\n"},
		{args: "-f big $F 1000000000000", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: an array of 8000000000000 bytes (7.28 TiB) does not fit in the limit of"},
		{args: "-f big $F 1000000000000", code: 1, stderrHas: "nabla run's default (a quarter of the machine's memory; change it with --max-memory)"},
		{args: "--max-memory 0 -f big $F 1000000000000", code: 1, stderrHas: "this process may use\n"},
		{args: "-f big $F 4611686018427387904", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: size 4611686018427387904 is too large\n"},
		{args: "-f square $F 1000000", code: 1, stderrHas: "limits.nab:3:31: memory limit exceeded: an array of 8000000000000 bytes"},
		{args: "--max-memory 2.5e6 -f big $F 300000", stdout: "0\n"},

		{args: "--max-memory -1 -f big $F 1", code: 2, stderrHas: `bad --max-memory "-1": want a number of bytes`},
		{args: "--max-memory 12QB -f big $F 1", code: 2, stderrHas: `bad --max-memory "12QB": unknown unit "QB"`},
		{args: "--max-memory 1.5B -f big $F 1", code: 2, stderrHas: "want a whole number of bytes"},
		{args: "--max-memory lots -f big $F 1", code: 2, stderrHas: `bad --max-memory "lots"`},
		{args: "--max-steps -5 -f big $F 1", code: 2, stderrHas: "bad --max-steps -5"},
		{args: "--max-steps many -f big $F 1", code: 2, stderrHas: `invalid value "many" for flag -max-steps`},
		{args: "--timeout -1s -f big $F 1", code: 2, stderrHas: "bad --timeout -1s"},
		{args: "--timeout 5 -f big $F 1", code: 2, stderrHas: `invalid value "5" for flag -timeout`},

		{args: "--backend go --timeout 500ms -f spin $F 0", code: 1, stderrHas: "limits.nab:1:5: run stopped after --timeout 500ms\n\tin spin"},
		{args: "--backend go --max-memory 1MB -f big $F 1000000", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: an array of 8000000 bytes (7.63 MiB) does not fit in the limit of 1000000 bytes (977 KiB), set by --max-memory 1MB\n\tin big"},
		{args: "--backend go -f big $F 1000000000000", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: an array of 8000000000000 bytes (7.28 TiB) does not fit in the limit of"},
		{args: "--backend go -f big $F 4611686018427387904", code: 1, stderrHas: "limits.nab:2:28: memory limit exceeded: size 4611686018427387904 is too large\n"},
		{args: "--backend go --max-memory 1MiB -f churn $F " + x1k + " 1000", stdout: "1000000\n"},
		{args: "--backend go --max-steps 100000 -f spin $F 0", code: 1, stderrHas: "limits.nab:1:25: step limit exceeded (100000 steps), set by --max-steps\n\tin spin (" + file + ":1:5)"},
		{args: "--backend go --max-steps 100000 -f big $F 1000", stdout: "0\n"},
		{args: "--backend go --max-steps 10 -f churn $F " + x1k + " 1000", code: 1, stderrHas: "step limit exceeded (10 steps), set by --max-steps\n\tin churn"},
		{args: "--backend go --max-steps 1000000000 -f churn $F " + x1k + " 1000", stdout: "1000000\n"},
	} {
		args := append([]string{"run"}, strings.Fields(strings.ReplaceAll(tc.args, "$F", file))...)
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(args, &stdout, &stderr)
		name := "nabla run " + tc.args
		if len(name) > 100 {
			name = name[:100] + "..."
		}
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, tc.code, stdout.String(), stderr.String())
			continue
		}
		if stdout.String() != tc.stdout {
			t.Errorf("%s: stdout %q, want %q", name, stdout.String(), tc.stdout)
		}
		if !strings.Contains(stderr.String(), tc.stderrHas) {
			t.Errorf("%s: stderr %q does not contain %q", name, stderr.String(), tc.stderrHas)
		}
		if d := time.Since(start); strings.Contains(tc.args, "spin") && code == 1 && d > time.Minute {
			t.Errorf("%s: took %v to stop", name, d)
		}
	}
}

// TestRunUnderUlimit runs nabla as a subprocess under `ulimit -v`: an
// allocation that cannot succeed is a positioned error with exit status
// 1, never Go's "fatal error: out of memory" (exit 2).
func TestRunUnderUlimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v and the address-space limit are read on Linux only")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "limits.nab")
	if err := os.WriteFile(file, []byte(limitsNab), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{[]string{"-f", "big", file, "1000000000000"}, 1, "", "limits.nab:2:28: memory limit exceeded: an array of 8000000000000 bytes"},
		{[]string{"-f", "square", file, "1000000"}, 1, "", "limits.nab:3:31: memory limit exceeded: an array of 8000000000000 bytes"},
		{[]string{"--max-memory", "0", "-f", "big", file, "500000000"}, 1, "", "this process may use"},
		{[]string{"--max-memory", "8GB", "-f", "big", file, "500000000"}, 1, "", "(--max-memory 8GB asks for more)"},
		{[]string{"-f", "big", file, "1000000"}, 0, "0\n", ""},
	} {
		cmd := exec.Command(sh, append([]string{"-c", `ulimit -v 4000000 && exec "$0" "$@"`, os.Args[0], "run"}, tc.args...)...)
		cmd.Env = append(os.Environ(), "NABLA_TEST_MAIN=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		name := "ulimit -v 4000000; nabla run " + strings.Join(tc.args, " ")
		if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderrHas) || strings.Contains(stderr.String(), "fatal error") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q", name, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderrHas)
		}
	}
}
