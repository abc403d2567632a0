package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// errString is err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestChecks(t *testing.T) {
	size := func(n int64) error { _, err := runtime.CheckSize(n); return err }
	mul := func(n, rs int) error { _, err := runtime.MulSize(n, rs); return err }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"size 0", size(0), ""},
		{"size max", size(runtime.MaxElems), ""},
		{"size negative", size(-1), "negative size -1"},
		{"size too large", size(runtime.MaxElems + 1), "memory limit exceeded: size 1125899906842625 is too large"},
		{"mul", mul(3, 4), ""},
		{"mul zero rows", mul(0, 1<<60), ""},
		{"mul zero row size", mul(1<<60, 0), ""},
		{"mul overflow", mul(1<<40, 1<<40), "memory limit exceeded: size 1099511627776×1099511627776 is too large"},
		{"index", runtime.CheckIndex(2, 3), ""},
		{"index negative", runtime.CheckIndex(-1, 3), "index -1 out of range [0, 3)"},
		{"index at length", runtime.CheckIndex(3, 3), "index 3 out of range [0, 3)"},
		{"index empty", runtime.CheckIndex(0, 0), "index 0 out of range [0, 0)"},
		{"indices", runtime.CheckIndices([]int64{0, 2, 2}, 3), ""},
		{"indices none", runtime.CheckIndices(nil, 0), ""},
		{"indices first bad", runtime.CheckIndices([]int64{0, 5, -1}, 3), "index 5 out of range [0, 3)"},
		{"slice", runtime.CheckSlice(1, 3, 3), ""},
		{"slice empty", runtime.CheckSlice(0, 0, 0), ""},
		{"slice reversed", runtime.CheckSlice(2, 1, 3), "slice [2:1] out of range for length 3"},
		{"slice past end", runtime.CheckSlice(0, 4, 3), "slice [0:4] out of range for length 3"},
		{"slice negative", runtime.CheckSlice(-1, 2, 3), "slice [-1:2] out of range for length 3"},
		{"count", runtime.CheckCount("take", 3, 3), ""},
		{"count negative", runtime.CheckCount("take", -1, 3), "take: count -1 out of range [0, 3]"},
		{"count past end", runtime.CheckCount("drop", 4, 3), "drop: count 4 out of range [0, 3]"},
		{"reshape", runtime.CheckReshape(6, 2, 3), ""},
		{"reshape empty", runtime.CheckReshape(0, 5, 0), ""},
		{"reshape empty rows", runtime.CheckReshape(0, 0, 5), ""},
		{"reshape zero cols", runtime.CheckReshape(6, 6, 0), "cannot reshape 6 elements to [6][0]"},
		{"reshape wrong rows", runtime.CheckReshape(6, 3, 3), "cannot reshape 6 elements to [3][3]"},
		{"reshape not divisible", runtime.CheckReshape(7, 2, 3), "cannot reshape 7 elements to [2][3]"},
		{"reshape negative", runtime.CheckReshape(6, -2, -3), "cannot reshape 6 elements to [-2][-3]"},
	} {
		if got := errString(c.err); got != c.want {
			t.Errorf("%s: error %q; want %q", c.name, got, c.want)
		}
	}
	if n, err := runtime.MulSize(3, 4); n != 12 || err != nil {
		t.Errorf("MulSize(3, 4) = %d, %v", n, err)
	}
}

func TestIotaFill(t *testing.T) {
	x := make([]int64, 4)
	runtime.Iota(x)
	if !slices.Equal(x, []int64{0, 1, 2, 3}) {
		t.Errorf("Iota = %v", x)
	}
	runtime.Iota(nil)
	f := make([]float64, 3)
	runtime.Fill(f, negZ)
	sameSlices(t, "Fill", f, []float64{negZ, negZ, negZ})
	b := make([]bool, 2)
	runtime.Fill(b, true)
	if !slices.Equal(b, []bool{true, true}) {
		t.Errorf("Fill bool = %v", b)
	}
}

// seq is 0, 1, ..., n-1.
func seq(n int) []int64 {
	x := make([]int64, n)
	runtime.Iota(x)
	return x
}

func TestGather(t *testing.T) {
	for _, c := range []struct {
		name string
		src  []int64
		idx  []int64
		row  int
		want []int64
	}{
		{"rows of one", seq(5), []int64{4, 0, 0, 2}, 1, []int64{4, 0, 0, 2}},
		{"rows of two", seq(6), []int64{2, 0}, 2, []int64{4, 5, 0, 1}},
		{"rows of none", []int64{}, []int64{1, 0}, 0, []int64{}},
		{"no indices", seq(6), nil, 3, []int64{}},
	} {
		dst := make([]int64, len(c.want))
		runtime.Gather(dst, c.src, c.idx, c.row)
		if !slices.Equal(dst, c.want) {
			t.Errorf("Gather %s = %v; want %v", c.name, dst, c.want)
		}
	}
	mustPanic(t, "Gather", func() { runtime.Gather(make([]int64, 3), seq(4), []int64{1}, 2) })
}

func TestReverse(t *testing.T) {
	for _, c := range []struct {
		name string
		src  []int64
		row  int
		want []int64
	}{
		{"rows of one", seq(4), 1, []int64{3, 2, 1, 0}},
		{"rows of two", seq(6), 2, []int64{4, 5, 2, 3, 0, 1}},
		{"rows of none", []int64{}, 0, []int64{}},
		{"empty", []int64{}, 3, []int64{}},
	} {
		dst := make([]int64, len(c.src))
		runtime.Reverse(dst, c.src, c.row)
		if !slices.Equal(dst, c.want) {
			t.Errorf("Reverse %s = %v; want %v", c.name, dst, c.want)
		}
	}
	mustPanic(t, "Reverse", func() { runtime.Reverse(make([]int64, 3), seq(4), 1) })
}

// naiveTranspose is Transpose by definition.
func naiveTranspose(src []int64, rows, cols, block int) []int64 {
	dst := make([]int64, len(src))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			for e := 0; e < block; e++ {
				dst[(j*rows+i)*block+e] = src[(i*cols+j)*block+e]
			}
		}
	}
	return dst
}

func TestTranspose(t *testing.T) {
	for _, d := range [][3]int{{0, 0, 1}, {0, 3, 1}, {3, 0, 2}, {1, 1, 1}, {2, 3, 1}, {33, 70, 1}, {64, 32, 1}, {3, 4, 2}, {5, 2, 3}, {3, 4, 0}} {
		rows, cols, block := d[0], d[1], d[2]
		src := seq(rows * cols * block)
		dst := make([]int64, len(src))
		runtime.Transpose(dst, src, rows, cols, block)
		if want := naiveTranspose(src, rows, cols, block); !slices.Equal(dst, want) {
			t.Errorf("Transpose %v = %v; want %v", d, dst, want)
		}
	}
	mustPanic(t, "Transpose", func() { runtime.Transpose(make([]int64, 6), seq(5), 2, 3, 1) })
}

func TestColumn(t *testing.T) {
	// src is [3][4] of blocks of 2: block (j, i) holds 8j + 2i, 8j + 2i + 1.
	src := seq(24)
	dst := make([]int64, 6)
	runtime.Column(dst, src, 4, 1, 2)
	if want := []int64{2, 3, 10, 11, 18, 19}; !slices.Equal(dst, want) {
		t.Errorf("Column blocks of 2 = %v; want %v", dst, want)
	}
	dst = dst[:3]
	runtime.Column(dst, seq(12), 4, 3, 1)
	if want := []int64{3, 7, 11}; !slices.Equal(dst, want) {
		t.Errorf("Column of scalars = %v; want %v", dst, want)
	}
	runtime.Column([]int64{}, []int64{}, 4, 0, 0)
	mustPanic(t, "Column", func() { runtime.Column(make([]int64, 3), seq(11), 4, 0, 1) })
}

// arrays of every storage kind holding 0, 1, 2, ... (false, true, ...).
func kindArrays(shape ...int) []*runtime.Array {
	n := runtime.Size(shape)
	f, b, box := make([]float64, n), make([]bool, n), make([]runtime.Value, n)
	for i := range f {
		f[i], b[i], box[i] = float64(i), i%2 == 1, runtime.I64(int64(i))
	}
	return []*runtime.Array{
		{Shape: shape, Kind: runtime.ElemF64, F: f},
		{Shape: shape, Kind: runtime.ElemI64, I: seq(n)},
		{Shape: shape, Kind: runtime.ElemBool, B: b},
		{Shape: shape, Kind: runtime.ElemBox, Box: box},
	}
}

// ints reads any array's elements as the integers kindArrays stored.
func ints(a *runtime.Array) []int64 {
	out := make([]int64, 0, a.N())
	for i := 0; i < a.N(); i++ {
		switch a.Kind {
		case runtime.ElemF64:
			out = append(out, int64(a.F[i]))
		case runtime.ElemI64:
			out = append(out, a.I[i])
		case runtime.ElemBool:
			out = append(out, map[bool]int64{false: 0, true: 1}[a.B[i]])
		default:
			out = append(out, a.Box[i].I)
		}
	}
	return out
}

// parity is ints for bool storage, which keeps only the lowest bit.
func parity(a *runtime.Array, want []int64) []int64 {
	if a.Kind != runtime.ElemBool {
		return want
	}
	out := make([]int64, len(want))
	for i, v := range want {
		out[i] = v % 2
	}
	return out
}

func TestArrayForms(t *testing.T) {
	for _, src := range kindArrays(3, 2, 2) {
		name := fmt.Sprint("kind ", src.Kind)
		newLike := func(shape ...int) *runtime.Array {
			a, err := runtime.New(nil, src.Kind, shape...)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		g := newLike(2, 2, 2)
		runtime.GatherArray(g, src, []int64{2, 0})
		if got, want := ints(g), parity(src, []int64{8, 9, 10, 11, 0, 1, 2, 3}); !slices.Equal(got, want) {
			t.Errorf("%s: GatherArray = %v; want %v", name, got, want)
		}
		r := newLike(3, 2, 2)
		runtime.ReverseArray(r, src)
		if got, want := ints(r), parity(src, []int64{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}); !slices.Equal(got, want) {
			t.Errorf("%s: ReverseArray = %v; want %v", name, got, want)
		}
		tr := newLike(2, 3, 2)
		runtime.TransposeArray(tr, src)
		if got, want := ints(tr), parity(src, naiveTranspose(seq(12), 3, 2, 2)); !slices.Equal(got, want) {
			t.Errorf("%s: TransposeArray = %v; want %v", name, got, want)
		}
		col := newLike(3, 2)
		runtime.ColumnArray(col, src, 1)
		if got, want := ints(col), parity(src, []int64{2, 3, 6, 7, 10, 11}); !slices.Equal(got, want) {
			t.Errorf("%s: ColumnArray = %v; want %v", name, got, want)
		}
		cat := newLike(6, 2, 2)
		runtime.CopyFlat(cat, 0, src)
		runtime.CopyFlat(cat, src.N(), r)
		if got, want := ints(cat), append(ints(src), ints(r)...); !slices.Equal(got, want) {
			t.Errorf("%s: CopyFlat = %v; want %v", name, got, want)
		}
	}
}

func TestStacker(t *testing.T) {
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	rows := runtime.Stacker{Name: "build", Kind: runtime.ElemF64, Rows: true, Empty: []int{0, 3}}
	a, err := rows.Stack(m, 3, func(i int) (runtime.Value, error) {
		return runtime.Arr(runtime.FromF64([]float64{float64(i), -float64(i)})), nil
	})
	if err != nil || !slices.Equal(a.Shape, []int{3, 2}) {
		t.Fatalf("Stack rows: %v, %v", a, err)
	}
	sameSlices(t, "Stack rows", a.F, []float64{0, negZ, 1, -1, 2, -2})
	e, err := rows.Stack(m, 0, nil)
	if err != nil || !slices.Equal(e.Shape, []int{0, 0, 3}) || e.Kind != runtime.ElemF64 {
		t.Errorf("Stack of nothing: %v, %v; want shape [0 0 3]", e, err)
	}
	_, err = rows.Stack(m, 2, func(i int) (runtime.Value, error) {
		return runtime.Arr(runtime.FromF64(make([]float64, i+1))), nil
	})
	if want := "build: element 1 has shape [2], element 0 has shape [1]"; errString(err) != want {
		t.Errorf("Stack ragged: %v; want %q", err, want)
	}
	errStop := errors.New("stop")
	if _, err := rows.Stack(m, 2, func(int) (runtime.Value, error) { return runtime.Value{}, errStop }); err != errStop {
		t.Errorf("Stack passes get's error: %v", err)
	}
	scalars := runtime.Stacker{Name: "fill", Kind: runtime.ElemI64}
	s, err := scalars.Stack(m, 3, func(i int) (runtime.Value, error) { return runtime.I64(int64(10 * i)), nil })
	if err != nil || !slices.Equal(s.I, []int64{0, 10, 20}) {
		t.Errorf("Stack scalars: %v, %v", s, err)
	}
	small := runtime.NewMachine(context.Background(), runtime.Limits{Memory: 16})
	if _, err := scalars.Stack(small, 3, func(int) (runtime.Value, error) { return runtime.I64(1), nil }); !errors.Is(err, runtime.ErrMemoryLimit) {
		t.Errorf("Stack over the memory limit: %v", err)
	}
}

func TestZipUnzip(t *testing.T) {
	f := runtime.FromF64([]float64{1.5, 2.5})
	i := runtime.FromI64([]int64{7, 8})
	z := make([]runtime.Value, 2)
	runtime.Zip(z, []*runtime.Array{f, i})
	if tup := z[1].Tuple(); len(tup) != 2 || tup[0].F != 2.5 || tup[1].I != 8 {
		t.Errorf("Zip[1] = %v", z[1])
	}
	cols := []runtime.Stacker{{Name: "unzip", Kind: runtime.ElemF64}, {Name: "unzip", Kind: runtime.ElemI64}}
	u, err := runtime.Unzip(nil, z, cols)
	if err != nil || !slices.Equal(u[0].Array().F, f.F) || !slices.Equal(u[1].Array().I, i.I) {
		t.Errorf("Unzip = %v, %v", u, err)
	}
	u, err = runtime.Unzip(nil, nil, cols)
	if err != nil || u[0].Array().Len() != 0 || u[1].Array().Kind != runtime.ElemI64 {
		t.Errorf("Unzip of nothing = %v, %v", u, err)
	}
	runtime.Zip(nil, []*runtime.Array{f, i})
}

func TestZeroLike(t *testing.T) {
	box := &runtime.Array{Shape: []int{2}, Kind: runtime.ElemBox, Box: []runtime.Value{
		runtime.Tup(runtime.F64(1), runtime.Arr(runtime.FromI64([]int64{3}))),
		runtime.Tup(runtime.F64(2), runtime.Arr(runtime.FromI64([]int64{4}))),
	}}
	v := runtime.Tup(runtime.F64(5), runtime.Arr(runtime.FromF64([]float64{1, 2})), runtime.Arr(box))
	z, err := runtime.ZeroLike(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	tup := z.Tuple()
	if tup[0].F != 0 || !slices.Equal(tup[1].Array().F, []float64{0, 0}) {
		t.Errorf("ZeroLike = %v", z)
	}
	zb := tup[2].Array()
	if zb.Kind != runtime.ElemBox || zb.Box[1].Tuple()[1].Array().I[0] != 0 || box.Box[1].Tuple()[1].Array().I[0] != 4 {
		t.Errorf("ZeroLike of boxed tuples = %v (source %v)", zb.Box, box.Box)
	}
	small := runtime.NewMachine(context.Background(), runtime.Limits{Memory: 8})
	if _, err := runtime.ZeroLike(small, v); !errors.Is(err, runtime.ErrMemoryLimit) {
		t.Errorf("ZeroLike over the memory limit: %v", err)
	}
}

func TestI64Reductions(t *testing.T) {
	x := []int64{3, maxI64, -2, maxI64, minI64}
	if got, want := runtime.SumI64(x), 3+maxI64-2+maxI64+minI64; got != want {
		t.Errorf("SumI64 = %d; want %d (wrapped)", got, want)
	}
	if got := runtime.SumI64(nil); got != 0 {
		t.Errorf("SumI64 empty = %d", got)
	}
	if got, want := runtime.ProdI64([]int64{1 << 40, 1 << 30, 3}), int64(0); got != want {
		t.Errorf("ProdI64 = %d; want %d (wrapped)", got, want)
	}
	if got, want := runtime.ProdI64([]int64{maxI64, 3}), maxI64*3; got != want {
		t.Errorf("ProdI64 = %d; want %d (wrapped)", got, want)
	}
	if got := runtime.ProdI64(nil); got != 1 {
		t.Errorf("ProdI64 empty = %d", got)
	}
	for _, c := range []struct {
		name string
		f    func([]int64) (int64, error)
		x    []int64
		want int64
		err  string
	}{
		{"MaxI64", runtime.MaxI64, x, maxI64, ""},
		{"MinI64", runtime.MinI64, x, minI64, ""},
		{"MaxI64 one", runtime.MaxI64, []int64{-5}, -5, ""},
		{"MaxI64 empty", runtime.MaxI64, nil, 0, "maximum of an empty i64 array"},
		{"MinI64 empty", runtime.MinI64, []int64{}, 0, "minimum of an empty i64 array"},
	} {
		got, err := c.f(c.x)
		if errString(err) != c.err || (c.err == "" && got != c.want) {
			t.Errorf("%s = %d, %v; want %d, %q", c.name, got, err, c.want, c.err)
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"ArgMaxI64 first of ties", runtime.ArgMaxI64(x), 1},
		{"ArgMinI64", runtime.ArgMinI64(x), 4},
		{"ArgMinI64 first of ties", runtime.ArgMinI64([]int64{2, 1, 1}), 1},
		{"ArgMaxI64 empty", runtime.ArgMaxI64(nil), -1},
		{"ArgMinI64 empty", runtime.ArgMinI64(nil), -1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d; want %d", c.name, c.got, c.want)
		}
	}
}

func TestMean(t *testing.T) {
	if got := runtime.Mean([]float64{1, 2, 4}); got != 7.0/3 {
		t.Errorf("Mean = %v", got)
	}
	if got := runtime.Mean(nil); !math.IsNaN(got) {
		t.Errorf("Mean of nothing = %v; want NaN", got)
	}
	if got := runtime.Mean([]float64{1, nan}); !math.IsNaN(got) {
		t.Errorf("Mean with NaN = %v; want NaN", got)
	}
}

func TestProducts(t *testing.T) {
	rng := newRand()
	x, y := randVec(rng, 3), randVec(rng, 4)
	out := make([]float64, 12)
	runtime.Outer(out, x, y)
	for i := range x {
		for j := range y {
			if out[i*4+j] != x[i]*y[j] {
				t.Fatalf("Outer[%d][%d] = %v; want %v", i, j, out[i*4+j], x[i]*y[j])
			}
		}
	}
	runtime.Outer(nil, nil, y)
	mustPanic(t, "Outer", func() { runtime.Outer(make([]float64, 11), x, y) })

	m, k, n := 5, 4, 3
	a, b := randVec(rng, m*k), randVec(rng, k*n)
	c := make([]float64, m*n)
	runtime.MatMul(c, a, b, m, k, n)
	if want := naiveGemm(false, false, m, n, k, 1, a, b, 0, make([]float64, m*n)); !closeSlices(c, want) {
		t.Errorf("MatMul = %v; want %v", c, want)
	}
	v, w := randVec(rng, k), make([]float64, m)
	runtime.MatVec(w, a, v, m, k)
	if want := naiveGemm(false, false, m, 1, k, 1, a, v, 0, make([]float64, m)); !closeSlices(w, want) {
		t.Errorf("MatVec = %v; want %v", w, want)
	}
	u, z := randVec(rng, k), make([]float64, n)
	runtime.VecMat(z, u, b, k, n)
	if want := naiveGemm(false, false, 1, n, k, 1, u, b, 0, make([]float64, n)); !closeSlices(z, want) {
		t.Errorf("VecMat = %v; want %v", z, want)
	}
	runtime.MatMul(nil, nil, nil, 0, 3, 0)
	mustPanic(t, "MatMul", func() { runtime.MatMul(c, a, b, m, k+1, n) })
}

func closeSlices(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			return false
		}
	}
	return true
}
