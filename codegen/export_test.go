package codegen_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

const exportSrc = `// twice applies f two times.
export def twice(f: f64 -> f64, x: f64): f64 = f(f(x))
// apply maps f over x and scales by g's value.
export def apply(f: f64 -> f64, g: [n]f64 -> f64, x: [n]f64) = map(f, x) * g(x)
export def use(x: f64) = twice(fn(y) => y * 3.0, x)
export def pair(a: [m][n]f64, t: (f64, [2]i64)) = (transpose(a), t.1, t.0 > 0.0)
export def at(x: [n]f64, i: i64) = x[i]
export def table = [[1.0, 2.0], [3.0, 4.0]]
`

const exportTest = `package gen

import "testing"

func TestExported(t *testing.T) {
	if r := Twice(func(x float64) float64 { return x + 1 }, 2); r != 4 {
		t.Errorf("Twice = %v", r)
	}
	a := Apply(func(x float64) float64 { return 2 * x }, func(v []float64) float64 { return float64(len(v)) }, []float64{1, 2})
	if len(a) != 2 || a[1] != 8 {
		t.Errorf("Apply = %v", a)
	}
	if u := Use(1); u != 9 {
		t.Errorf("Use = %v", u)
	}
	tr, idx, pos, err := Pair([][]float64{{1, 2, 3}, {4, 5, 6}}, 1.5, []int64{7, 8})
	if err != nil || len(tr) != 3 || tr[2][1] != 6 || idx[0] != 7 || !pos {
		t.Errorf("Pair = %v %v %v %v", tr, idx, pos, err)
	}
	if _, _, _, err := Pair([][]float64{{1, 2}, {3}}, 0, nil); err == nil {
		t.Error("Pair of a ragged matrix: no error")
	}
	if _, err := At([]float64{1, 2}, 2); err == nil || err.Error() != "x.nab:7:37: index 2 out of range [0, 2)\n\tin at (x.nab:7:12)" {
		t.Errorf("At error = %v", err)
	}
	if v, err := Table(); err != nil || v[1][0] != 3 {
		t.Errorf("Table = %v, %v", v, err)
	}
	dst := make([][]float64, 3)
	for i := range dst {
		dst[i] = make([]float64, 2)
	}
	idxDst := make([]int64, 2)
	if _, err := PairInto(dst, idxDst, [][]float64{{1, 2, 3}, {4, 5, 6}}, 1.5, []int64{7, 8}); err != nil || dst[2][1] != 6 || idxDst[1] != 8 {
		t.Errorf("PairInto: %v %v %v", dst, idxDst, err)
	}
	if _, err := PairInto(dst[:1], idxDst, [][]float64{{1, 2, 3}, {4, 5, 6}}, 1.5, []int64{7, 8}); err == nil {
		t.Error("PairInto with a short dst: no error")
	}
}
`

// TestExportedPackage generates a package with exported functions of
// every kind (function parameters of templates, tuples, matrices, value
// defs, failing defs), then vets and tests it with the Go toolchain in a
// module that uses this checkout.
func TestExportedPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	res, err := pipeline.Compile(context.Background(), "x.nab", []byte(exportSrc), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := codegen.GenerateAll([]*ir.Program{res.Opt}, codegen.Options{Package: "gen", Sources: map[string][]byte{"x.nab": []byte(exportSrc)}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// The checkout's requirements, so that gonum resolves from the module
	// cache.
	var req []string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.Contains(f[0], ".") && strings.HasPrefix(f[1], "v") {
			req = append(req, "require "+f[0]+" "+f[1])
		}
	}
	gomod := "module gen\n\ngo 1.26\n\nrequire github.com/nabla-lang/nabla v0.0.0\n\nreplace github.com/nabla-lang/nabla => " + root + "\n" + strings.Join(req, "\n") + "\n"
	for name, text := range map[string]string{"go.mod": gomod, "gen.go": string(src), "gen_test.go": exportTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"vet", "."}, {"test", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
