package nabla_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// intoSrc exercises CallInto. Line numbers matter: errors are checked by
// position.
const intoSrc = `def axpy(a: f64, x: [n]f64, y: [n]f64): [n]f64 = a * x + y
def mul(a: f64, b: f64): f64 = a * b + 1.0
def idx(n: i64): [n]i64 = [i * i for i < n]
def pos(x: [n]f64): [n]bool = x > 0.0
def outer2(x: [m]f64, y: [n]f64): [m][n]f64 = [[x[i] * y[j] for j < n] for i < m]
def cube(x: [n]f64): [n][2][2]f64 = [[[x[i], 1.0], [2.0, x[i] * x[i]]] for i < n]
def vg(x: [n]f64) = (sum(x * x), 2.0 * x)
def id(x: [n]f64) = x
def rev(x: [n]f64): [n]f64 = [x[n - 1 - i] for i < n]
def tmp(x: [n]f64): [n]f64 = let t = exp(x) in x * sum(t) + t
def adder(x: [n]f64) = fn(y: [n]f64) => x + y
def table: [4]f64 = [f64(i) * 2.0 for i < 4]
def plus_table(x: [4]f64): [4]f64 = x + table
def lp(x: [n]f64): f64 = sum(loop y = x for i < 5 do sin(y) * 0.9 + y * 0.1 * f64(i + 1))
def dlp = grad(lp)
def up(x: [n]f64): f64 = let y = update(x, 1, x[1] * x[0]) in sum(y^3) + y[4] * y[1]
def dup = grad(up)
def sc(x: [n]f64): f64 = sum(scan(fn(a, b) => a + b, 0.0, x)^2)
def dsc = grad(sc)
def fl(x: [n]f64): f64 = fold(fn(acc, v) => acc * 0.5 + tanh(v) * acc, 1.0, x)
def dfl = grad(fl)
def cif(x: [n]f64): f64 = sum(map(fn(v) => if v > 0.0 then v^2 else -v * 3.0, x))
def dcif = grad(cif)
def state(x: [n]f64): [n]f64 = loop y = x for i < 3 do y * 2.0
def mv(a: [m][n]f64, x: [n]f64): [m]f64 = a @ x
def s2(a: f64, m: [r][c]f64): [r][c]f64 = a * m + m
`

func compileInto(t testing.TB) *nabla.Program {
	t.Helper()
	p, err := nabla.Compile("into.nab", []byte(intoSrc))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func funcOf(t testing.TB, p *nabla.Program, name string) *nabla.Func {
	t.Helper()
	f, err := p.Func(name)
	if err != nil {
		t.Fatalf("Func(%q): %v", name, err)
	}
	return f
}

// TestCallInto checks that each kind of destination receives what Call
// returns, on a fresh destination and again on the same one.
func TestCallInto(t *testing.T) {
	p := compileInto(t)
	x := []float64{0.5, -1.25, 2, 3.5, -0.75}
	y := []float64{1, 2, 3, 4, 5}
	f := new(float64)
	tests := []struct {
		name string
		args []any
		dst  any
		// got reads the destination back in the form Call returns.
		got func(dst any) any
	}{
		{"axpy", []any{1.5, x, y}, make([]float64, 5), same},
		{"axpy", []any{1.5, mat.NewVecDense(5, x), y}, mat.NewVecDense(5, nil), func(d any) any { return mat.Col(nil, 0, d.(*mat.VecDense)) }},
		{"axpy", []any{1.5, x, y}, &mat.VecDense{}, func(d any) any { return mat.Col(nil, 0, d.(*mat.VecDense)) }},
		{"axpy", []any{1.5, x, y}, runtime.FromF64(make([]float64, 5)), func(d any) any { return d.(*runtime.Array).F }},
		{"mul", []any{2.0, 3}, f, func(d any) any { return *d.(*float64) }},
		{"idx", []any{4}, make([]int64, 4), same},
		{"pos", []any{x}, make([]bool, 5), same},
		{"outer2", []any{x[:2], y[:3]}, [][]float64{make([]float64, 3), make([]float64, 3)}, same},
		{"outer2", []any{x[:2], y[:3]}, mat.NewDense(2, 3, nil), func(d any) any { return denseRows(d.(*mat.Dense)) }},
		{"outer2", []any{x[:2], y[:3]}, &mat.Dense{}, func(d any) any { return denseRows(d.(*mat.Dense)) }},
		{"cube", []any{x[:2]}, mustNew(t, 2, 2, 2), func(d any) any { return rank3(d.(*runtime.Array)) }},
		{"vg", []any{x}, []any{new(float64), make([]float64, 5)}, func(d any) any {
			ds := d.([]any)
			return []any{*ds[0].(*float64), ds[1]}
		}},
		{"id", []any{x}, make([]float64, 5), same},
		{"rev", []any{x}, make([]float64, 5), same},
		{"tmp", []any{x}, make([]float64, 5), same},
		{"plus_table", []any{y[:4]}, make([]float64, 4), same},
		{"dlp", []any{x}, make([]float64, 5), same},
		{"dup", []any{x}, make([]float64, 5), same},
		{"state", []any{x}, make([]float64, 5), same},
		{"mv", []any{mat.NewDense(2, 5, append(slices.Clone(x), y...)), y}, make([]float64, 2), same},
		{"mv", []any{[][]float64{x, y}, x}, mat.NewVecDense(2, nil), func(d any) any { return mat.Col(nil, 0, d.(*mat.VecDense)) }},
	}
	ctx := context.Background()
	for _, tc := range tests {
		fn := funcOf(t, p, tc.name)
		want, err := fn.Call(ctx, tc.args...)
		if err != nil {
			t.Fatalf("%s: Call: %v", tc.name, err)
		}
		for round := range 2 {
			if err := fn.CallInto(ctx, tc.dst, tc.args...); err != nil {
				t.Fatalf("%s into %T: %v", tc.name, tc.dst, err)
			}
			if diff := cmp.Diff(want, tc.got(tc.dst)); diff != "" {
				t.Errorf("%s into %T (round %d): -Call +CallInto\n%s", tc.name, tc.dst, round, diff)
			}
		}
	}
}

func same(d any) any { return d }

func denseRows(d *mat.Dense) [][]float64 {
	r, _ := d.Dims()
	rows := make([][]float64, r)
	for i := range rows {
		rows[i] = mat.Row(nil, i, d)
	}
	return rows
}

func mustNew(t *testing.T, shape ...int) *runtime.Array {
	a, err := runtime.New(nil, runtime.ElemF64, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// rank3 reads a [n][2][2]f64 array as Call returns it.
func rank3(a *runtime.Array) [][][]float64 {
	out := make([][][]float64, a.Shape[0])
	for i := range out {
		out[i] = [][]float64{a.F[i*4 : i*4+2], a.F[i*4+2 : i*4+4]}
	}
	return out
}

func TestCallIntoErrors(t *testing.T) {
	p := compileInto(t)
	x := []float64{1, 2, 3}
	var nilVec *mat.VecDense
	tests := []struct {
		name string
		dst  any
		args []any
		want string
	}{
		{"axpy", nil, []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got nil"},
		{"axpy", nilVec, []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got nil *mat.VecDense"},
		{"axpy", make([]float64, 2), []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got []float64 of length 2; the result has shape [3]"},
		{"axpy", mat.NewVecDense(4, nil), []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got *mat.VecDense of length 4; the result has shape [3]"},
		{"axpy", make([]int64, 3), []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got []int64"},
		{"axpy", new(float64), []any{1.0, x, x}, "into.nab:1:5: destination of axpy: want []float64 or *mat.VecDense for [n]f64, got *float64"},
		{"mul", make([]float64, 1), []any{1.0, 2.0}, "into.nab:2:5: destination of mul: want *float64 for f64, got []float64"},
		{"mul", (*float64)(nil), []any{1.0, 2.0}, "into.nab:2:5: destination of mul: want *float64 for f64, got nil *float64"},
		{"idx", make([]float64, 3), []any{3}, "into.nab:3:5: destination of idx: want []int64 or *runtime.Array for [n]i64, got []float64"},
		{"outer2", [][]float64{{1, 2, 3}, {1, 2}}, []any{x[:2], x}, "into.nab:5:5: destination of outer2: want [][]float64 or *mat.Dense for [m][n]f64, got [][]float64 whose row 1 has length 2; the result has shape [2][3]"},
		{"outer2", mat.NewDense(3, 2, nil), []any{x[:2], x}, "into.nab:5:5: destination of outer2: want [][]float64 or *mat.Dense for [m][n]f64, got *mat.Dense of shape 3×2; the result has shape [2][3]"},
		{"cube", mustNew(t, 3, 2, 3), []any{x}, "into.nab:6:5: destination of cube: want *runtime.Array for [n][2][2]f64, got *runtime.Array of shape [3][2][3]; the result has shape [3][2][2]"},
		{"cube", mustNew(t, 2, 2, 2), []any{x}, "into.nab:6:5: destination of cube: want *runtime.Array for [n][2][2]f64, got *runtime.Array of shape [2][2][2]; the result has shape [3][2][2]"},
		{"vg", []any{new(float64)}, []any{x}, "into.nab:7:5: destination of vg: want []any for (f64, [n]f64), got []interface {} of length 1"},
		{"vg", []any{new(float64), make([]float64, 1)}, []any{x}, "into.nab:7:5: destination of vg: at .1: want []float64 or *mat.VecDense for [n]f64, got []float64 of length 1; the result has shape [3]"},
		{"idx", mustNew(t, 3), []any{3}, "into.nab:3:5: destination of idx: want []int64 or *runtime.Array for [n]i64, got *runtime.Array of another element type"},
		{"adder", []any{}, []any{x}, "into.nab:11:5: destination of adder: want a destination (a function result cannot be written into one) for [n]f64 -> [n]f64, got []interface {}"},
		// Argument errors read as Call's.
		{"axpy", make([]float64, 3), []any{1.0, x}, "into.nab:1:5: axpy takes 3 arguments, got 2 (its type is (f64, [n]f64, [n]f64) -> [n]f64)"},
		{"axpy", make([]float64, 3), []any{1.0, x, "y"}, "into.nab:1:29: argument 3 of axpy: want [n]f64, got string"},
		{"axpy", make([]float64, 3), []any{1.0, x, x[:2]}, "into.nab:1:33: size mismatch: n is 3 (x) but y has size 2\n\tin axpy (into.nab:1:5)"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		err := funcOf(t, p, tc.name).CallInto(ctx, tc.dst, tc.args...)
		if err == nil {
			t.Errorf("%s into %T: no error, want %q", tc.name, tc.dst, tc.want)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("%s into %T:\n got %s\nwant %s", tc.name, tc.dst, got, tc.want)
		}
	}
}

// TestCallIntoAliasing writes results over the arguments themselves, as
// gonum's floats.AddScaledTo(y, y, a, x) does: the arguments are read as
// they were when the call began.
func TestCallIntoAliasing(t *testing.T) {
	p := compileInto(t)
	ctx := context.Background()
	fresh := func() (x, y []float64) { return []float64{0.5, -1.25, 2, 3.5}, []float64{1, 2, 3, 4} }
	x0, y0 := fresh()
	want := func(name string, args ...any) []float64 {
		v, err := funcOf(t, p, name).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v.([]float64)
	}
	tests := []struct {
		name string
		run  func(x, y []float64) ([]float64, error)
		want []float64
	}{
		{"axpy into y", func(x, y []float64) ([]float64, error) {
			return y, funcOf(t, p, "axpy").CallInto(ctx, y, 2.0, x, y)
		}, want("axpy", 2.0, x0, y0)},
		{"axpy into x", func(x, y []float64) ([]float64, error) {
			return x, funcOf(t, p, "axpy").CallInto(ctx, x, 2.0, x, y)
		}, want("axpy", 2.0, x0, y0)},
		{"axpy into x as a gonum vector", func(x, y []float64) ([]float64, error) {
			return x, funcOf(t, p, "axpy").CallInto(ctx, mat.NewVecDense(4, x), 2.0, x, y)
		}, want("axpy", 2.0, x0, y0)},
		{"rev into x", func(x, _ []float64) ([]float64, error) {
			return x, funcOf(t, p, "rev").CallInto(ctx, x, x)
		}, want("rev", x0)},
		{"tmp into x", func(x, _ []float64) ([]float64, error) {
			return x, funcOf(t, p, "tmp").CallInto(ctx, x, x)
		}, want("tmp", x0)},
		{"id into x", func(x, _ []float64) ([]float64, error) {
			return x, funcOf(t, p, "id").CallInto(ctx, x, x)
		}, want("id", x0)},
		{"state into a view overlapping x", func(x, y []float64) ([]float64, error) {
			buf := append(slices.Clone(x), 0)
			return buf[1:], funcOf(t, p, "state").CallInto(ctx, buf[1:], buf[:4])
		}, want("state", x0)},
		{"plus_table into y", func(_, y []float64) ([]float64, error) {
			return y, funcOf(t, p, "plus_table").CallInto(ctx, y, y)
		}, want("plus_table", y0)},
	}
	for _, tc := range tests {
		x, y := fresh()
		got, err := tc.run(x, y)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: -want +got\n%s", tc.name, diff)
		}
	}
	// On a fresh program, the value def that plus_table reads is computed
	// during a call that offers its destination: it must not live there.
	plus := funcOf(t, compileInto(t), "plus_table")
	d := make([]float64, 4)
	for range 2 {
		if err := plus.CallInto(ctx, d, []float64{0, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]float64{0, 2, 4, 6}, d); diff != "" {
			t.Errorf("plus_table(0): -want +got\n%s", diff)
		}
		d[0] = 99
	}
}

// TestCallNeverWritesArguments calls defs that loop over, update,
// differentiate and return their arguments, which Call and CallInto pass
// in place, and checks that the caller's slices are unchanged, and that a
// closure returned by a call keeps a copy of them.
func TestCallNeverWritesArguments(t *testing.T) {
	p := compileInto(t)
	ctx := context.Background()
	x := []float64{0.5, -1.25, 2, 3.5, -0.75}
	orig := slices.Clone(x)
	m := mat.NewDense(2, 5, append(slices.Clone(x), x...))
	for _, name := range []string{"id", "rev", "tmp", "state", "dlp", "dup", "dsc", "dfl", "dcif", "lp", "vg", "cube"} {
		fn := funcOf(t, p, name)
		if _, err := fn.Call(ctx, x); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var dst any = make([]float64, len(x))
		switch name {
		case "lp":
			dst = new(float64)
		case "vg":
			dst = []any{new(float64), make([]float64, len(x))}
		case "cube":
			dst = mustNew(t, len(x), 2, 2)
		}
		if err := fn.CallInto(ctx, dst, x); err != nil {
			t.Fatalf("%s into %T: %v", name, dst, err)
		}
		if !slices.Equal(x, orig) {
			t.Fatalf("%s changed its argument: %v", name, x)
		}
	}
	if err := funcOf(t, p, "mv").CallInto(ctx, make([]float64, 2), m, x); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.RawMatrix().Data[:5], orig) || !slices.Equal(x, orig) {
		t.Errorf("mv changed its arguments")
	}
	add, err := funcOf(t, p, "adder").Call(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	x[0] = 100
	v, err := add.(runtime.Value).Fn().Call(runtime.NewMachine(ctx, runtime.Limits{}), []runtime.Value{runtime.Arr(runtime.FromF64(make([]float64, 5)))})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Array().F; !slices.Equal(got, orig) {
		t.Errorf("a closure saw the caller change the slice it captured: %v", got)
	}
}

// TestCallIntoAllocs is the promise of CallInto: once warm, a call with
// its arguments boxed once allocates nothing, for a*x + y into a slice,
// a fused matrix chain into each kind of matrix destination, and a
// scalar function.
func TestCallIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes pools drop items; allocations are counted without it")
	}
	p := compileInto(t)
	ctx := context.Background()
	const n = 1000
	x, y, dst := axpyInputs(n)
	var out float64
	vec := mat.NewVecDense(n, nil)
	m := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	rows, dense, arr := [][]float64{make([]float64, 3), make([]float64, 3)}, mat.NewDense(2, 3, nil), mustNew(t, 2, 3)
	tests := []struct {
		name  string
		dst   any
		args  []any
		check func() bool
	}{
		{"axpy", dst, []any{2.0, x, y}, func() bool { return dst[10] == 21 }},
		{"axpy", vec, []any{2.0, x, y}, func() bool { return vec.AtVec(10) == 21 }},
		{"axpy", y[:0:0], []any{2.0, x[:0], y[:0]}, func() bool { return true }},
		{"mul", &out, []any{2.0, 3.0}, func() bool { return out == 7 }},
		// Matrices: a fused chain builds them in offered storage too, the
		// caller's when it is contiguous, else scratch space of the Func.
		{"s2", rows, []any{2.0, m}, func() bool { return rows[1][2] == 3*m.At(1, 2) }},
		{"s2", dense, []any{2.0, m}, func() bool { return dense.At(1, 2) == 3*m.At(1, 2) }},
		{"s2", arr, []any{2.0, m}, func() bool { return arr.F[1*3+2] == 3*m.At(1, 2) }},
	}
	for _, tc := range tests {
		fn := funcOf(t, p, tc.name)
		allocs := testing.AllocsPerRun(100, func() {
			if err := fn.CallInto(ctx, tc.dst, tc.args...); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s into %T: %v allocations per call, want 0", tc.name, tc.dst, allocs)
		}
		if !tc.check() {
			t.Errorf("%s into %T: wrong result", tc.name, tc.dst)
		}
	}
}

// TestCallIntoConcurrent calls the same Funcs from many goroutines, each
// with its own sizes and destinations; run it with -race.
func TestCallIntoConcurrent(t *testing.T) {
	p := compileInto(t)
	axpy, tmp, plus := funcOf(t, p, "axpy"), funcOf(t, p, "tmp"), funcOf(t, p, "plus_table")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			n := 1 + g*7
			x, y, dst := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range x {
				x[i], y[i] = float64(g), float64(i)
			}
			want, err := tmp.Call(ctx, x)
			if err != nil {
				errs <- err
				return
			}
			for range 200 {
				if err := axpy.CallInto(ctx, dst, 2.0, x, y); err != nil {
					errs <- err
					return
				}
				for i, d := range dst {
					if d != 2*float64(g)+float64(i) {
						errs <- fmt.Errorf("goroutine %d: axpy[%d] = %v", g, i, d)
						return
					}
				}
				if err := tmp.CallInto(ctx, dst, x); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(dst, want.([]float64)) {
					errs <- fmt.Errorf("goroutine %d: tmp = %v, want %v", g, dst, want)
					return
				}
				if n >= 4 {
					d4 := dst[:4]
					if err := plus.CallInto(ctx, d4, x[:4]); err != nil {
						errs <- err
						return
					}
					if d4[3] != float64(g)+6 {
						errs <- fmt.Errorf("goroutine %d: plus_table = %v", g, d4)
						return
					}
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

// BenchmarkCallInto times a*x + y (n = 1000) through CallInto beside
// gonum's floats.AddScaledTo into a reused slice, and a scalar def: the
// fixed cost of a call.
func BenchmarkCallInto(b *testing.B) {
	p := compileInto(b)
	ctx := context.Background()
	x, y, dst := axpyInputs(1000)
	axpy, mul := funcOf(b, p, "axpy"), funcOf(b, p, "mul")
	args := []any{1.5, x, y}
	b.Run("axpy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := axpy.CallInto(ctx, dst, args...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("axpy-gonum", func(b *testing.B) {
		for b.Loop() {
			floats.AddScaledTo(dst, y, 1.5, x)
		}
	})
	var out float64
	sargs := []any{1.5, 2.0}
	b.Run("scalar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := mul.CallInto(ctx, &out, sargs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// axpyInputs makes x = (0, 1, ...), y = (1, 1, ...) and a destination.
func axpyInputs(n int) (x, y, dst []float64) {
	x, y, dst = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = float64(i), 1
	}
	return x, y, dst
}
