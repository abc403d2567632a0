package runtime

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// goTool finds a go command that runs, or skips the test saying why. go
// test puts its own toolchain's bin directory first on PATH, so "go" is
// the toolchain running the test.
func goTool(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, cand := range []string{"go"} {
		path, err := exec.LookPath(cand)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if out, err := exec.Command(path, "version").CombinedOutput(); err != nil {
			tried = append(tried, path+": "+err.Error()+": "+string(out))
			continue
		}
		return path
	}
	t.Skipf("SKIP: the Go toolchain cannot run here, so kernels_amd64.s cannot be regenerated and compared: %q", tried)
	return ""
}

// TestAsmUpToDate regenerates the assembly kernels and their Go
// declarations into a temporary directory with the generator in _asm/
// and compares them with the checked-in files byte for byte, so that
// kernels_amd64.s never drifts from its generator. The first run builds
// avo (some seconds, and a module download on a fresh machine).
func TestAsmUpToDate(t *testing.T) {
	goCmd := goTool(t)
	dir := t.TempDir()
	files := []string{"kernels_amd64.s", "kernels_amd64_stubs.go"}
	cmd := exec.Command(goCmd, "run", ".",
		"-out", filepath.Join(dir, files[0]), "-stubs", filepath.Join(dir, files[1]))
	cmd.Dir = "_asm"
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the generator (cd runtime/_asm && go run .): %v\n%s", err, out)
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			line := 1 + bytes.Count(got[:commonPrefix(got, want)], []byte("\n"))
			t.Errorf("%s differs from what runtime/_asm generates (first at line %d): run go generate ./runtime", f, line)
		}
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
