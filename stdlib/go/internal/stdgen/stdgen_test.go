package stdgen

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const wrapper = `import "std/linalg"

// twice is 2·x.
export def twice(x: [n]f64): [n]f64 = helper(x)
@noinline
def helper(x: [n]f64): [n]f64 = x + x
@noinline
def unused(x: f64): f64 = x * 3.0
export def solve(a: [n][n]f64, b: [n]f64): [n]f64 = linalg.lu_solve(a, b)
`

func write(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerateKeepsReachable: the exported defs and what they call are
// generated; a def nothing exported uses, and the rest of std/linalg, are
// not.
func TestGenerateKeepsReachable(t *testing.T) {
	src, err := Generate(context.Background(), write(t, "w.nab", wrapper), "w")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{"func Twice(", "func fn_helper(", "func Solve(", "func fn_linalglusolve("} {
		if !strings.Contains(s, want) {
			t.Errorf("generated code lacks %q", want)
		}
	}
	for _, not := range []string{"fn_unused", "fn_linalgcholesky", "fn_linalgcg"} {
		if strings.Contains(s, not) {
			t.Errorf("generated code has %q, which no exported def uses", not)
		}
	}
	if !strings.Contains(s, "// Twice is 2·x.") {
		t.Error("the exported function lacks its def's comment")
	}
}

func TestGenerateErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"noexport", "def f(x: f64): f64 = x\n", "no export def"},
		{"type", "export def f(x: f64): f64 = x + true\n", "w.nab:1:"},
		{"import", "import \"std/nothing\"\nexport def f(x: f64): f64 = x\n", "std/nothing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(context.Background(), write(t, "w.nab", c.src), "w")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := Generate(context.Background(), filepath.Join(t.TempDir(), "missing.nab"), "w"); err == nil {
		t.Error("a missing file: no error")
	}
}

// TestStale: Stale accepts the file Generate made and names a file that
// differs.
func TestStale(t *testing.T) {
	ctx := context.Background()
	in := write(t, "w.nab", wrapper)
	src, err := Generate(ctx, in, "w")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(in), "w_nabla.go")
	if err := os.WriteFile(out, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Stale(ctx, in, "w", out); err != nil {
		t.Errorf("fresh file: %v", err)
	}
	if err := os.WriteFile(out, append(src, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Stale(ctx, in, "w", out); err == nil || !strings.Contains(err.Error(), "w_nabla.go is stale") {
		t.Errorf("changed file: %v", err)
	}
}

// TestPackagesVet runs go vet on the generated packages of stdlib/go.
func TestPackagesVet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	out, err := exec.Command("go", "vet", "github.com/nabla-lang/nabla/stdlib/go/...").CombinedOutput()
	if err != nil {
		t.Errorf("go vet: %v\n%s", err, out)
	}
}
