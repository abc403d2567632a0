package codegen_test

import (
	"context"
	"fmt"
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
	if r, err := Twice(func(x float64) float64 { return x + 1 }, 2); r != 4 || err != nil {
		t.Errorf("Twice = %v, %v", r, err)
	}
	a, err := Apply(func(x float64) float64 { return 2 * x }, func(v []float64) float64 { return float64(len(v)) }, []float64{1, 2})
	if len(a) != 2 || a[1] != 8 || err != nil {
		t.Errorf("Apply = %v, %v", a, err)
	}
	// A nil callback is an error naming it, not a nil dereference.
	if _, err := Apply(func(x float64) float64 { return x }, nil, []float64{1}); err == nil || err.Error() != "apply: argument g is a nil function" {
		t.Errorf("Apply with a nil g: err = %v", err)
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
	testPackage(t, exportSrc, codegen.Options{Package: "gen"}, exportTest)
}

const denseSrc = `// scale multiplies a by s.
export def scale(a: [m][n]f64, s: f64) = a * s
export def gram(a: [m][n]f64) = (transpose(a) @ a, sum(flatten(a)))
`

const denseTest = `package gen

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestDense(t *testing.T) {
	a := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	s, err := Scale(a, 2)
	if err != nil || s.At(1, 2) != 12 || s.At(0, 0) != 2 {
		t.Errorf("Scale = %v, %v", mat.Formatted(s), err)
	}
	// A view with a stride: its rows are copied, not read in place.
	v := a.Slice(0, 2, 1, 3).(*mat.Dense)
	g, total, err := Gram(v)
	if err != nil || total != 2+3+5+6 || g.At(0, 0) != 2*2+5*5 || g.At(1, 0) != 2*3+5*6 {
		t.Errorf("Gram(view) = %v, %v, %v", mat.Formatted(g), total, err)
	}
	if a.At(0, 0) != 1 {
		t.Error("the argument was modified")
	}
	if _, err := Scale(nil, 1); err == nil {
		t.Error("Scale(nil): no error")
	}
	dst := mat.NewDense(2, 3, nil)
	if err := ScaleInto(dst, a, 3); err != nil || dst.At(1, 1) != 15 {
		t.Errorf("ScaleInto: %v, %v", mat.Formatted(dst), err)
	}
	// A destination view: only its own elements are written.
	big := mat.NewDense(3, 4, nil)
	if err := ScaleInto(big.Slice(1, 3, 1, 4).(*mat.Dense), a, 1); err != nil || big.At(2, 3) != 6 || big.At(0, 0) != 0 || big.At(1, 0) != 0 {
		t.Errorf("ScaleInto(view): %v, %v", mat.Formatted(big), err)
	}
	if err := ScaleInto(mat.NewDense(3, 2, nil), a, 1); err == nil {
		t.Error("ScaleInto with a 3×2 destination: no error")
	}
	if n := testing.AllocsPerRun(50, func() { ScaleInto(dst, a, 3) }); n != 0 {
		t.Errorf("ScaleInto allocates %v times per call", n)
	}
}
`

// TestExportedDense generates a package with Options.Dense and tests its
// *mat.Dense signatures: arguments read in place or, for strided views,
// copied; nil rejected; results as new matrices or written into
// destination views; no allocation in the Into variant.
func TestExportedDense(t *testing.T) {
	testPackage(t, denseSrc, codegen.Options{Package: "gen", Dense: true}, denseTest)
}

// testPackage compiles src, generates a package with opts, and vets and
// tests it, with test as its test file, in a module that uses this
// checkout.
func testPackage(t *testing.T, src string, opts codegen.Options, test string) {
	runPackage(t, src, opts, test, []string{"vet", "."}, []string{"test", "."})
}

// runPackage is testPackage with the go commands to run.
func runPackage(t *testing.T, src string, opts codegen.Options, test string, cmds ...[]string) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	res, err := pipeline.Compile(context.Background(), "x.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Sources = map[string][]byte{"x.nab": []byte(src)}
	gosrc, err := codegen.GenerateAll([]*ir.Program{res.Opt}, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": goModFor(t, "gen"), "gen.go": string(gosrc), "gen_test.go": test} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goRun(t, dir, cmds...)
}

// comparePackages generates prog as two packages, d with opts' defaults
// and c with without(opts), each with the default parallel thresholds and
// with loops of 8 elements or more parallel, and runs go vet and go test
// on them with test as d's test file (which imports "gen/c" to compare
// the two).
func comparePackages(t *testing.T, prog *ir.Program, test string, without func(codegen.Options) codegen.Options) {
	t.Helper()
	for _, par := range []int{0, 8} {
		t.Run(fmt.Sprintf("parallel=%d", par), func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"go.mod": goModFor(t, "gen"), "d/d_test.go": test}
			for pkg, opts := range map[string]codegen.Options{
				"d": {Package: "d", ParallelMin: par},
				"c": without(codegen.Options{Package: "c", ParallelMin: par}),
			} {
				src, err := codegen.GenerateAll([]*ir.Program{prog}, opts)
				if err != nil {
					t.Fatal(err)
				}
				files[pkg+"/gen.go"] = string(src)
			}
			for name, text := range files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			goRun(t, dir, []string{"vet", "./..."}, []string{"test", "./..."})
		})
	}
}

// goRun runs each go command in dir, in a module of its own that uses this
// checkout, and reports any that fails with its output.
func goRun(t *testing.T, dir string, cmds ...[]string) {
	t.Helper()
	for _, args := range cmds {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// goModFor is the go.mod of a module that uses this checkout, with the
// checkout's requirements so that gonum resolves from the module cache.
func goModFor(t *testing.T, module string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var req []string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.Contains(f[0], ".") && strings.HasPrefix(f[1], "v") {
			req = append(req, "require "+f[0]+" "+f[1])
		}
	}
	return "module " + module + "\n\ngo 1.26\n\nrequire github.com/nabla-lang/nabla v0.0.0\n\nreplace github.com/nabla-lang/nabla => " + root + "\n" + strings.Join(req, "\n") + "\n"
}
