package codegen_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
)

// staticcheckVersion is the staticcheck the hygiene test runs (go run
// from the module cache; see TestGeneratedHygiene).
const staticcheckVersion = "honnef.co/go/tools/cmd/staticcheck@v0.8.2"

// TestGeneratedHygiene generates the run harness of every test program
// (tests/testdata, codegen/testdata, the conformance suite's lang, ad and
// rewrite programs), of random programs with their derivatives
// (internal/progen, as FuzzGoBackend makes them: NABLA_HYGIENE_RANDOM
// sources of eight programs each, default 4) and an exported package,
// and checks the files with
// go vet and with staticcheck: generated code must be as clean as
// hand-written code, with step counting (Options.Steps) or without.
// Staticcheck runs from the Go module cache (go run,
// with the cache as the module proxy, offline): where it has never been
// downloaded, the test says so and checks vet alone.
func TestGeneratedHygiene(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain on many generated files")
	}
	dir := t.TempDir()
	var files []string
	for _, pat := range []string{"../tests/testdata/*.nab", "testdata/*.nab"} {
		fs, _ := filepath.Glob(pat)
		files = append(files, fs...)
	}
	conf := os.Getenv("NABLA_CONFORMANCE")
	if conf == "" {
		conf = "../../shared/conformance"
	}
	for _, d := range []string{"lang", "ad", "rewrite"} {
		fs, _ := filepath.Glob(filepath.Join(conf, d, "*.nab"))
		files = append(files, fs...)
	}
	type source struct {
		name string
		src  []byte
		// random: a generated program, which must compile (a test
		// program may be a compile-error case).
		random bool
	}
	var sources []source
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, source{name: file, src: src})
	}
	randoms := 4
	if v := os.Getenv("NABLA_HYGIENE_RANDOM"); v != "" {
		var err error
		if randoms, err = strconv.Atoi(v); err != nil {
			t.Fatalf("NABLA_HYGIENE_RANDOM=%q: %v", v, err)
		}
	}
	for i := range randoms {
		src, _ := progen.RandomJoined([]byte(fmt.Sprintf("hygiene %d", i)), 8)
		sources = append(sources, source{name: fmt.Sprintf("random%d.nab", i), src: []byte(src), random: true})
	}
	ctx := context.Background()
	n := 0
	for _, s := range sources {
		file := s.name
		res, err := pipeline.Compile(ctx, file, s.src, pipeline.Options{ReadFile: os.ReadFile})
		if err != nil {
			if s.random {
				t.Fatalf("%s: %v\n%s", file, err, s.src)
			}
			continue // a compile-error case
		}
		// Every other program counts steps (as nabla run --max-steps
		// builds it): the checks must be as clean as the rest.
		out, err := codegen.Generate(res.Opt, codegen.Options{Main: true, Steps: n%2 == 1})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		pkg := filepath.Join(dir, fmt.Sprintf("p%d", n))
		n++
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "main.go"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := pipeline.Compile(ctx, "x.nab", []byte(exportSrc), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := codegen.GenerateAll([]*ir.Program{res.Opt}, codegen.Options{Package: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "gen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen", "gen.go"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d programs found", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goModFor(t, "hygiene")), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
	goCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = env
		return cmd
	}
	if out, err := goCmd("vet", "./...").CombinedOutput(); err != nil {
		t.Fatalf("go vet on %d generated files: %v\n%s", n+1, err, out)
	}
	sc := goCmd("run", staticcheckVersion, "./...")
	// Offline: the module cache serves as the proxy.
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	sc.Env = append(sc.Env, "GOPROXY=file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")))
	out, err = sc.CombinedOutput()
	switch {
	case err == nil:
		t.Logf("staticcheck: %d generated files clean", n+1)
	case strings.Contains(string(out), "honnef.co/go/tools") && !strings.Contains(string(out), ".go:"):
		t.Logf("staticcheck is not in the module cache (go install %s once to check with it too); go vet passed", staticcheckVersion)
	default:
		t.Errorf("staticcheck on %d generated files: %v\n%s", n+1, err, out)
	}
}
