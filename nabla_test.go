package nabla_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

// src is the program most tests call. Line numbers matter: errors are
// checked by position.
const src = `def rosen(x: [n]f64): f64 =
  sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def scale(x: [n]f64, s: f64) = x * s
def stats(x: [n]f64) = (mean(x), argmax(x), x > 0.0)
def mm(a: [m][k]f64, b: [k][p]f64) = a @ b
def fib(n: i64): i64 = (loop (a, b) = (0, 1) for i < n do (b, a + b)).0
def quot(a: i64, b: i64): i64 =
  a / b
def at(x: [n]f64, i: i64): f64 = x[i]
def spin(x: f64): f64 = loop y = x while true do y + 1.0
def count(n: i64): i64 = loop s = 0 for i < n do s + i
def alloc(n: i64): [n]f64 = zeros(n)
def adder(x: f64) = fn(y: f64) => x + y
def apply(f: f64 -> f64, x: f64) = f(x)
def table = [[1.0, 2.0], [3.0, 4.0]]
def pair(t: (f64, [2]i64)) = (t.1, t.0)
def same(x: [n]f64, y: [n]f64) = x + y
def three(x: [3]f64) = sum(x)
export def noop() = ()
`

func compile(t testing.TB, opts ...nabla.Option) *nabla.Program {
	t.Helper()
	p, err := nabla.Compile("prog.nab", []byte(src), opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func call(t testing.TB, p *nabla.Program, name string, args ...any) (any, error) {
	t.Helper()
	f, err := p.Func(name)
	if err != nil {
		t.Fatalf("Func(%q): %v", name, err)
	}
	return f.Call(context.Background(), args...)
}

func TestCall(t *testing.T) {
	p := compile(t)
	for _, tc := range []struct {
		name string
		args []any
		want any
	}{
		{"rosen", []any{[]float64{1, 2, 3}}, 201.0},
		{"rosen", []any{mat.NewVecDense(2, []float64{1, 1})}, 0.0},
		{"scale", []any{[]float64{1, -2}, 3}, []float64{3, -6}},
		{"scale", []any{[]float64{}, 3.0}, []float64{}},
		{"stats", []any{[]float64{1, 5, -2}}, []any{4.0 / 3, int64(1), []bool{true, true, false}}},
		{"mm", []any{[][]float64{{1, 2}, {3, 4}}, mat.NewDense(2, 1, []float64{1, 1})}, [][]float64{{3}, {7}}},
		{"fib", []any{50}, int64(12586269025)},
		{"fib", []any{int64(10)}, int64(55)},
		{"count", []any{100}, int64(4950)},
		{"table", nil, [][]float64{{1, 2}, {3, 4}}},
		{"pair", []any{[]any{1.5, []int64{1, 2}}}, []any{[]int64{1, 2}, 1.5}},
		{"same", []any{[]float64{1}, []float64{2}}, []float64{3}},
		{"three", []any{[3]float64{1, 2, 3}}, 6.0},
		{"noop", nil, []any{}},
	} {
		got, err := call(t, p, tc.name, tc.args...)
		if err != nil {
			t.Errorf("%s%v: %v", tc.name, tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s%v mismatch (-want +got):\n%s", tc.name, tc.args, diff)
		}
	}
}

// TestFunctionValues passes a function returned by one call to another.
func TestFunctionValues(t *testing.T) {
	p := compile(t)
	add2, err := call(t, p, "adder", 2.0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := add2.(runtime.Value); !ok {
		t.Fatalf("adder returned %T, want runtime.Value", add2)
	}
	got, err := call(t, p, "apply", add2, 40.0)
	if err != nil || got != 42.0 {
		t.Errorf("apply(adder(2), 40) = %v, %v; want 42", got, err)
	}
}

func TestCallErrors(t *testing.T) {
	p := compile(t)
	for _, tc := range []struct {
		name string
		args []any
		msg  string // the whole first line of the error text
	}{
		{"rosen", []any{"x"}, "prog.nab:1:11: argument 1 of rosen: want [n]f64, got string"},
		{"rosen", nil, "prog.nab:1:5: rosen takes 1 argument, got 0 (its type is ([n]f64) -> f64)"},
		{"scale", []any{[]float64{1}, 2.0, 3.0}, "prog.nab:3:5: scale takes 2 arguments, got 3 (its type is ([n]f64, f64) -> [n]f64)"},
		{"scale", []any{[]float64{1}, "2"}, "prog.nab:3:22: argument 2 of scale: want f64, got string"},
		{"mm", []any{[][]float64{{1, 2}, {3}}, [][]float64{{1}}}, "prog.nab:5:8: argument 1 of mm: at [1]: want [k]f64 of length 2 like the rows before it (arrays are rectangular), got []float64 of length 1"},
		{"mm", []any{(*mat.Dense)(nil), mat.NewDense(1, 1, nil)}, "prog.nab:5:8: argument 1 of mm: want [m][k]f64, got nil *mat.Dense"},
		{"mm", []any{mat.NewDense(1, 1, nil), (*mat.VecDense)(nil)}, "prog.nab:5:22: argument 2 of mm: want [k][p]f64, got nil *mat.VecDense"},
		{"rosen", []any{(*mat.VecDense)(nil)}, "prog.nab:1:11: argument 1 of rosen: want [n]f64, got nil *mat.VecDense"},
		{"scale", []any{[]float64{1}, (*float64)(nil)}, "prog.nab:3:22: argument 2 of scale: want f64, got nil *float64"},
		{"fib", []any{1.5}, "prog.nab:6:9: argument 1 of fib: want i64, got float64"},
		{"pair", []any{[]any{1.0}}, "prog.nab:16:10: argument 1 of pair: want (f64, [2]i64), got []interface {} of length 1"},
		{"three", []any{[]float64{1, 2}}, "prog.nab:18:11: argument 1 of three: want [3]f64, got []float64 of length 2"},
		{"apply", []any{1.0, 2.0}, "prog.nab:14:11: argument 1 of apply: want f64 -> f64, got float64 (a function argument must be a runtime.Value holding a Nabla function)"},
		{"table", []any{1.0}, "prog.nab:15:5: table takes 0 arguments, got 1 (its type is () -> [2][2]f64)"},
		{"quot", []any{1, 0}, "prog.nab:8:5: integer division by zero"},
		{"at", []any{[]float64{1, 2}, 2}, "prog.nab:9:"},
		{"same", []any{[]float64{1}, []float64{1, 2}}, "prog.nab:17:"},
	} {
		_, err := call(t, p, tc.name, tc.args...)
		if err == nil {
			t.Errorf("%s%v succeeded, want error %q", tc.name, tc.args, tc.msg)
			continue
		}
		var ie *ir.Error
		if !errors.As(err, &ie) {
			t.Errorf("%s%v: error %T does not hold an *ir.Error", tc.name, tc.args, err)
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		if !strings.HasPrefix(first, tc.msg) {
			t.Errorf("%s%v: error\n%s\nwant it to begin %q", tc.name, tc.args, err, tc.msg)
		}
	}
}

func TestFuncs(t *testing.T) {
	p := compile(t)
	got := p.Funcs()
	want := []string{"adder", "alloc", "apply", "at", "count", "fib", "mm", "noop", "pair", "quot", "rosen", "same", "scale", "spin", "stats", "table", "three"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Funcs mismatch (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if p.Funcs()[0] != "adder" {
		t.Errorf("Funcs returns the program's own slice")
	}

	for _, tc := range []struct{ name, sig string }{
		{"rosen", "([n]f64) -> f64"},
		{"mm", "([m][k]f64, [k][p]f64) -> [m][p]f64"},
		{"table", "() -> [2][2]f64"},
		{"adder", "(f64) -> f64 -> f64"},
		{"noop", "() -> ()"},
	} {
		f, err := p.Func(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() != tc.name || f.Signature() != tc.sig {
			t.Errorf("Func(%q): name %q, signature %q; want %q", tc.name, f.Name(), f.Signature(), tc.sig)
		}
	}
	if f, _ := p.Func("noop"); !f.Exported() {
		t.Errorf("noop is declared export, but Exported() is false")
	}
	if f, _ := p.Func("rosen"); f.Exported() || len(f.Params()) != 1 || f.Result() != ir.TF64 {
		t.Errorf("rosen: exported %v, params %v, result %v", f.Exported(), f.Params(), f.Result())
	}

	for _, tc := range []struct{ name, msg string }{
		{"rosn", `no def named "rosn"; did you mean "rosen"?`},
		{"nothing_like_it", `no def named "nothing_like_it"`},
	} {
		if _, err := p.Func(tc.name); err == nil || err.Error() != tc.msg {
			t.Errorf("Func(%q): error %v, want %q", tc.name, err, tc.msg)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	_, err := nabla.Compile("bad.nab", []byte("def f(x: f64): f64 = y\ndef g(x: f64): bool = x + 1.0\n"))
	var list ir.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Compile error is %T (%v), want ir.ErrorList", err, err)
	}
	text := err.Error()
	for _, want := range []string{"bad.nab:1:22: ", "bad.nab:2:"} {
		if !strings.Contains(text, want) {
			t.Errorf("errors %q do not mention %q", text, want)
		}
	}
}

func TestImports(t *testing.T) {
	main := []byte("import \"lib/util.nab\"\ndef main() = util.double(2.0)\n")
	util := []byte("def double(x: f64) = 2.0 * x\n")

	// Compile alone gives the program no file access.
	if _, err := nabla.Compile("main.nab", main); err == nil || !strings.Contains(err.Error(), "main.nab:1:") {
		t.Errorf("Compile without WithReadFile: got %v, want an error at the import", err)
	}

	// WithReadFile supplies the imports, here from memory.
	fsys := fstest.MapFS{"lib/util.nab": {Data: util}}
	read := func(path string) ([]byte, error) { return fs.ReadFile(fsys, filepath.ToSlash(path)) }
	p, err := nabla.Compile("main.nab", main, nabla.WithReadFile(read))
	if err != nil {
		t.Fatalf("Compile with WithReadFile: %v", err)
	}
	if got, err := call(t, p, "main"); err != nil || got != 4.0 {
		t.Errorf("main() = %v, %v; want 4", got, err)
	}
	if !strings.Contains(strings.Join(p.Funcs(), " "), "util.double") {
		t.Errorf("Funcs %v does not list util.double", p.Funcs())
	}

	// CompileFile reads the file and its imports from disk.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"main.nab": main, "lib/util.nab": util} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err = nabla.CompileFile(filepath.Join(dir, "main.nab"))
	if err != nil {
		t.Fatalf("CompileFile: %v", err)
	}
	if got, err := call(t, p, "main"); err != nil || got != 4.0 {
		t.Errorf("main() from disk = %v, %v; want 4", got, err)
	}
	if _, err := nabla.CompileFile(filepath.Join(dir, "nosuch.nab")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CompileFile of a missing file: %v, want fs.ErrNotExist", err)
	}

	// The reader sees cleaned paths; an import above the root is an error
	// unless the host allows it.
	var seen []string
	record := func(path string) ([]byte, error) {
		seen = append(seen, filepath.ToSlash(path))
		return util, nil
	}
	if _, err := nabla.Compile("app/main.nab", []byte("import \"x/../lib/util.nab\"\ndef main() = util.double(1.0)"), nabla.WithReadFile(record)); err != nil || strings.Join(seen, " ") != "app/lib/util.nab" {
		t.Errorf("cleaned path: read %q, err %v; want app/lib/util.nab", seen, err)
	}
	seen = nil
	escape := []byte("import \"../util.nab\"\ndef main() = util.double(1.0)")
	if _, err := nabla.Compile("app/main.nab", escape, nabla.WithReadFile(record)); err == nil || !strings.Contains(err.Error(), "app/main.nab:1:1: cannot import \"../util.nab\": the import leaves the program's root") || len(seen) != 0 {
		t.Errorf("escaping import: read %q, err %v", seen, err)
	}
	if _, err := nabla.Compile("app/main.nab", escape, nabla.WithReadFile(record), nabla.WithImportsOutsideRoot()); err != nil || strings.Join(seen, " ") != "util.nab" {
		t.Errorf("escaping import allowed: read %q, err %v", seen, err)
	}
}

// TestConcurrentCalls calls the same functions from many goroutines; run
// it with -race.
func TestConcurrentCalls(t *testing.T) {
	p := compile(t)
	rosen, _ := p.Func("rosen")
	table, _ := p.Func("table")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				x := []float64{float64(g), float64(i), 1}
				got, err := rosen.Call(context.Background(), x)
				want := 100*math.Pow(x[1]-x[0]*x[0], 2) + math.Pow(1-x[0], 2) + 100*math.Pow(x[2]-x[1]*x[1], 2) + math.Pow(1-x[1], 2)
				if err != nil || got != want {
					errs <- fmt.Errorf("rosen(%v) = %v, %v; want %v", x, got, err, want)
					return
				}
				m, err := table.Call(context.Background())
				if err != nil {
					errs <- err
					return
				}
				m.([][]float64)[0][0] = float64(g) // must not leak into other calls
				if m2, _ := table.Call(context.Background()); m2.([][]float64)[0][0] != 1 {
					errs <- fmt.Errorf("a caller's change to a result reached the program")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCancel(t *testing.T) {
	p := compile(t)
	spin, _ := p.Func("spin")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := spin.Call(ctx, 0.0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled spin: error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	var ie *ir.Error
	if !errors.As(err, &ie) || ie.Pos.Line != 10 {
		t.Errorf("cancelled spin: error %v, want a position on line 10", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := spin.Call(ctx, 0.0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("spin past its deadline: error %v, want context.DeadlineExceeded", err)
	}

	// An already cancelled context stops the call before it starts.
	if _, err := spin.Call(ctx, 0.0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("spin with an expired context: error %v", err)
	}
}

func TestLimits(t *testing.T) {
	steps := compile(t, nabla.WithLimits(10_000, 0))
	memory := compile(t, nabla.WithLimits(0, 1<<20))
	for _, tc := range []struct {
		p      *nabla.Program
		name   string
		args   []any
		target error // nil: must succeed
	}{
		{steps, "count", []any{100}, nil},
		{steps, "count", []any{1_000_000}, runtime.ErrStepLimit},
		{steps, "spin", []any{0.0}, runtime.ErrStepLimit},
		{memory, "alloc", []any{1000}, nil},
		{memory, "alloc", []any{1 << 20}, runtime.ErrMemoryLimit},
		{memory, "count", []any{1_000_000}, nil},
	} {
		_, err := call(t, tc.p, tc.name, tc.args...)
		switch {
		case tc.target == nil && err != nil:
			t.Errorf("%s%v: %v", tc.name, tc.args, err)
		case tc.target != nil && !errors.Is(err, tc.target):
			t.Errorf("%s%v: error %v, want %v", tc.name, tc.args, err, tc.target)
		}
	}

	// Limits are per call: many small calls add up to far more than one
	// call may use.
	count, _ := steps.Func("count")
	for range 100 {
		if _, err := count.Call(context.Background(), 1000); err != nil {
			t.Fatalf("a call within the limits failed after others: %v", err)
		}
	}

	// Without limits the same call succeeds.
	if _, err := call(t, compile(t), "count", 1_000_000); err != nil {
		t.Errorf("count without limits: %v", err)
	}
}

// TestCallValues passes the interpreter's own values, without conversion.
func TestCallValues(t *testing.T) {
	p := compile(t)
	scale, _ := p.Func("scale")
	v, err := scale.CallValues(context.Background(), []runtime.Value{runtime.Arr(runtime.FromF64([]float64{1, 2})), runtime.F64(2)})
	if err != nil {
		t.Fatal(err)
	}
	if a := v.Array(); a == nil || a.F[0] != 2 || a.F[1] != 4 {
		t.Errorf("scale([1, 2], 2) = %+v", v)
	}
	if _, err := scale.CallValues(context.Background(), nil); err == nil {
		t.Errorf("CallValues with no arguments succeeded")
	}
	if _, err := scale.CallValues(context.Background(), []runtime.Value{runtime.F64(1), runtime.F64(2)}); err == nil {
		t.Errorf("CallValues with a scalar for an array succeeded")
	}
}

func BenchmarkCallRosen(b *testing.B) {
	p := compile(b)
	rosen, _ := p.Func("rosen")
	x := make([]float64, 1000)
	for i := range x {
		x[i] = float64(i) / 1000
	}
	for b.Loop() {
		if _, err := rosen.Call(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}
