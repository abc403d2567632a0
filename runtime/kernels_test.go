package runtime_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// The kernels are checked against the naive loops they stand for, on
// random data of lengths that hit the empty case, the scalar tails of
// unrolled loops and the unrolled bodies.

var testLens = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 1000}

func randVec(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * 4
	}
	return x
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(7, 11)) }

// sameBits compares exactly, NaN equal to NaN.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

func sameSlices(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// closeTo allows the rounding differences of a reordered sum: scale is
// the sum of the magnitudes of the terms.
func closeTo(got, want, scale float64, n int) bool {
	return math.Abs(got-want) <= 4*float64(n+1)*0x1p-52*scale
}

func TestReductionsMatchNaive(t *testing.T) {
	rng := newRand()
	for _, n := range testLens {
		x, y := randVec(rng, n), randVec(rng, n)
		var dot, dotAbs, sum, sumAbs, prod, sq float64 = 0, 0, 0, 0, 1, 0
		for i := range x {
			dot += x[i] * y[i]
			dotAbs += math.Abs(x[i] * y[i])
			sum += x[i]
			sumAbs += math.Abs(x[i])
			prod *= x[i]
			sq += x[i] * x[i]
		}
		if got := runtime.Dot(x, y); !closeTo(got, dot, dotAbs, n) {
			t.Errorf("n=%d: Dot = %v, want %v", n, got, dot)
		}
		if got := runtime.Sum(x); !closeTo(got, sum, sumAbs, n) {
			t.Errorf("n=%d: Sum = %v, want %v", n, got, sum)
		}
		if got := runtime.Prod(x); !sameBits(got, prod) {
			t.Errorf("n=%d: Prod = %v, want %v", n, got, prod)
		}
		if got, want := runtime.Norm2(x), math.Sqrt(sq); math.Abs(got-want) > 1e-14*want {
			t.Errorf("n=%d: Norm2 = %v, want %v", n, got, want)
		}
		mx, mn, amx, amn := math.Inf(-1), math.Inf(1), -1, -1
		for i, v := range x {
			if v > mx {
				mx, amx = v, i
			}
			if v < mn {
				mn, amn = v, i
			}
		}
		if got := runtime.Max(x); got != mx {
			t.Errorf("n=%d: Max = %v, want %v", n, got, mx)
		}
		if got := runtime.Min(x); got != mn {
			t.Errorf("n=%d: Min = %v, want %v", n, got, mn)
		}
		if got := runtime.ArgMax(x); got != amx {
			t.Errorf("n=%d: ArgMax = %v, want %v", n, got, amx)
		}
		if got := runtime.ArgMin(x); got != amn {
			t.Errorf("n=%d: ArgMin = %v, want %v", n, got, amn)
		}
		se := 0.0
		for _, v := range x {
			se += math.Exp(v)
		}
		if got, want := runtime.LogSumExp(x), math.Log(se); math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
			t.Errorf("n=%d: LogSumExp = %v, want %v", n, got, want)
		}
		sm := make([]float64, n)
		runtime.Softmax(sm, x)
		total := 0.0
		for i, v := range x {
			if want := math.Exp(v) / se; math.Abs(sm[i]-want) > 1e-14 {
				t.Fatalf("n=%d: Softmax[%d] = %v, want %v", n, i, sm[i], want)
			}
			total += sm[i]
		}
		if n > 0 && math.Abs(total-1) > 1e-13 {
			t.Errorf("n=%d: Softmax sums to %v", n, total)
		}
	}
}

func TestElementwiseMatchNaive(t *testing.T) {
	rng := newRand()
	for _, n := range testLens {
		x, y := randVec(rng, n), randVec(rng, n)
		if n > 2 {
			y[1] = 0 // division by zero follows IEEE
			x[2] = math.NaN()
		}
		c := rng.NormFloat64()
		naive := func(f func(i int) float64) []float64 {
			out := make([]float64, n)
			for i := range out {
				out[i] = f(i)
			}
			return out
		}
		dst := make([]float64, n)
		for _, k := range []struct {
			name string
			run  func()
			want []float64
		}{
			{"AddTo", func() { runtime.AddTo(dst, x, y) }, naive(func(i int) float64 { return x[i] + y[i] })},
			{"SubTo", func() { runtime.SubTo(dst, x, y) }, naive(func(i int) float64 { return x[i] - y[i] })},
			{"MulTo", func() { runtime.MulTo(dst, x, y) }, naive(func(i int) float64 { return x[i] * y[i] })},
			{"DivTo", func() { runtime.DivTo(dst, x, y) }, naive(func(i int) float64 { return x[i] / y[i] })},
			{"AddConstTo", func() { runtime.AddConstTo(dst, x, c) }, naive(func(i int) float64 { return x[i] + c })},
			{"AddConstTo(-c)", func() { runtime.AddConstTo(dst, x, -c) }, naive(func(i int) float64 { return x[i] - c })},
			{"ConstSubTo", func() { runtime.ConstSubTo(dst, c, x) }, naive(func(i int) float64 { return c - x[i] })},
			{"DivConstTo", func() { runtime.DivConstTo(dst, x, c) }, naive(func(i int) float64 { return x[i] / c })},
			{"ConstDivTo", func() { runtime.ConstDivTo(dst, c, y) }, naive(func(i int) float64 { return c / y[i] })},
			{"ScaleTo", func() { runtime.ScaleTo(dst, c, x) }, naive(func(i int) float64 { return c * x[i] })},
			{"NegTo", func() { runtime.NegTo(dst, x) }, naive(func(i int) float64 { return -x[i] })},
			{"ExpTo", func() { runtime.ExpTo(dst, x) }, naive(func(i int) float64 { return math.Exp(x[i]) })},
			{"AbsTo", func() { runtime.AbsTo(dst, x) }, naive(func(i int) float64 { return math.Abs(x[i]) })},
			{"SqrtTo", func() { runtime.SqrtTo(dst, x) }, naive(func(i int) float64 { return math.Sqrt(x[i]) })},
			{"Map", func() { runtime.Map(dst, x, math.Sin) }, naive(func(i int) float64 { return math.Sin(x[i]) })},
			{"MapVV", func() { runtime.MapVV(dst, x, y, math.Atan2) }, naive(func(i int) float64 { return math.Atan2(x[i], y[i]) })},
			{"MapVS", func() { runtime.MapVS(dst, x, c, math.Atan2) }, naive(func(i int) float64 { return math.Atan2(x[i], c) })},
			{"MapSV", func() { runtime.MapSV(dst, c, y, math.Atan2) }, naive(func(i int) float64 { return math.Atan2(c, y[i]) })},
		} {
			clear(dst)
			k.run()
			sameSlices(t, fmt.Sprintf("n=%d %s", n, k.name), dst, k.want)
		}

		// In-place forms.
		z := append([]float64(nil), y...)
		runtime.Axpy(c, x, z)
		sameSlices(t, fmt.Sprintf("n=%d Axpy", n), z, naive(func(i int) float64 { return y[i] + c*x[i] }))
		z = append([]float64(nil), x...)
		runtime.Scale(c, z)
		sameSlices(t, fmt.Sprintf("n=%d Scale", n), z, naive(func(i int) float64 { return x[i] * c }))
		z = append([]float64(nil), x...)
		runtime.AddTo(z, z, y)
		sameSlices(t, fmt.Sprintf("n=%d AddTo aliased", n), z, naive(func(i int) float64 { return x[i] + y[i] }))
	}
}

func TestSpecialValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"Max empty", runtime.Max(nil), -inf},
		{"Min empty", runtime.Min(nil), inf},
		{"Max NaN", runtime.Max([]float64{1, nan, 3}), nan},
		{"Min NaN last", runtime.Min([]float64{1, 3, nan}), nan},
		{"Max -inf", runtime.Max([]float64{-inf}), -inf},
		{"Sum empty", runtime.Sum(nil), 0},
		{"Prod empty", runtime.Prod(nil), 1},
		{"Dot empty", runtime.Dot(nil, nil), 0},
		{"Norm2 empty", runtime.Norm2(nil), 0},
		{"Norm2 zeros", runtime.Norm2([]float64{0, 0}), 0},
		{"Norm2 huge", runtime.Norm2([]float64{3e300, 4e300}), 5e300},
		{"Norm2 tiny", runtime.Norm2([]float64{3e-300, -4e-300}), 5e-300},
		{"Norm2 subnormal", runtime.Norm2([]float64{3 * 0x1p-1070, 4 * 0x1p-1070}), 5 * 0x1p-1070},
		{"Norm2 inf wins over NaN", runtime.Norm2([]float64{nan, -inf}), inf},
		{"Norm2 NaN", runtime.Norm2([]float64{1e300, nan}), nan},
		{"LogSumExp empty", runtime.LogSumExp(nil), -inf},
		{"LogSumExp all -inf", runtime.LogSumExp([]float64{-inf, -inf}), -inf},
		{"LogSumExp +inf", runtime.LogSumExp([]float64{0, inf}), inf},
		{"LogSumExp NaN", runtime.LogSumExp([]float64{0, nan}), nan},
		{"LogSumExp large", runtime.LogSumExp([]float64{1000, 1000}), 1000 + math.Ln2},
		{"LogSumExp small", runtime.LogSumExp([]float64{-1000, -1000}), -1000 + math.Ln2},
	} {
		if !sameBits(tc.got, tc.want) && math.Abs(tc.got-tc.want) > 1e-15*math.Abs(tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"ArgMax empty", runtime.ArgMax(nil), -1},
		{"ArgMin empty", runtime.ArgMin(nil), -1},
		{"ArgMax first NaN", runtime.ArgMax([]float64{1, nan, 5, nan}), 1},
		{"ArgMin first NaN", runtime.ArgMin([]float64{nan, -5}), 0},
		{"ArgMax ties", runtime.ArgMax([]float64{1, 5, 5}), 1},
		{"ArgMin ties", runtime.ArgMin([]float64{-1, 5, -1}), 0},
		{"ArgMax all -inf", runtime.ArgMax([]float64{-inf, -inf}), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	sm := make([]float64, 3)
	runtime.Softmax(sm, []float64{1000, 1000, math.Inf(-1)})
	sameSlices(t, "Softmax large", sm, []float64{0.5, 0.5, 0})
	runtime.Softmax(sm, []float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)})
	for i, v := range sm {
		if !math.IsNaN(v) {
			t.Errorf("Softmax of all -Inf [%d] = %v, want NaN", i, v)
		}
	}
}

// TestNorm2Scaling: the norm scales exactly with powers of two, so the
// rescaling path (taken near overflow and underflow) must agree with the
// direct one.
func TestNorm2Scaling(t *testing.T) {
	rng := newRand()
	for _, n := range []int{1, 7, 1000} {
		x := randVec(rng, n)
		for _, e := range []int{-1060, -1000, -900, -500, 500, 1000} {
			y := make([]float64, n)
			up := make([]float64, n) // y scaled back: exact, even where y is subnormal
			for i, v := range x {
				y[i] = math.Ldexp(v, e)
				up[i] = math.Ldexp(y[i], -e)
			}
			want := runtime.Norm2(up)
			got := math.Ldexp(runtime.Norm2(y), -e)
			// A subnormal result is itself rounded to a multiple of 2⁻¹⁰⁷⁴.
			tol := 1e-14*want + math.Ldexp(1, -1074-e)
			if math.Abs(got-want) > tol {
				t.Errorf("n=%d: Norm2(x·2^%d)/2^%d = %v, want %v", n, e, e, got, want)
			}
		}
	}
}

func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) []float64 {
	out := append([]float64(nil), c...)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for l := 0; l < k; l++ {
				av := a[i*k+l]
				if transA {
					av = a[l*m+i]
				}
				bv := b[l*n+j]
				if transB {
					bv = b[j*k+l]
				}
				s += av * bv
			}
			old := 0.0
			if beta != 0 {
				old = beta * c[i*n+j]
			}
			out[i*n+j] = alpha*s + old
		}
	}
	return out
}

func TestGemmMatchesNaive(t *testing.T) {
	rng := newRand()
	for _, dims := range [][3]int{{0, 0, 0}, {0, 3, 2}, {3, 0, 2}, {3, 2, 0}, {1, 1, 1}, {2, 3, 4}, {7, 5, 9}, {65, 70, 80}} {
		m, n, k := dims[0], dims[1], dims[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {-0.5, 2}} {
				a, b, c := randVec(rng, m*k), randVec(rng, k*n), randVec(rng, m*n)
				if ab[1] == 0 && len(c) > 0 {
					c[0] = math.NaN() // beta = 0 overwrites, as in BLAS
				}
				want := naiveGemm(tr[0], tr[1], m, n, k, ab[0], a, b, ab[1], c)
				runtime.Gemm(tr[0], tr[1], m, n, k, ab[0], a, b, ab[1], c)
				for i := range c {
					if math.Abs(c[i]-want[i]) > 1e-12*float64(k+1)*16 {
						t.Fatalf("Gemm %v %v [%d]: %v, want %v", dims, tr, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestGemvMatchesNaive(t *testing.T) {
	rng := newRand()
	for _, dims := range [][2]int{{0, 0}, {0, 3}, {3, 0}, {1, 1}, {2, 3}, {9, 7}, {100, 130}} {
		m, n := dims[0], dims[1]
		for _, trans := range []bool{false, true} {
			for _, ab := range [][2]float64{{1, 0}, {2, -1}} {
				rows, cols := m, n
				if trans {
					rows, cols = n, m
				}
				a, x, y := randVec(rng, m*n), randVec(rng, cols), randVec(rng, rows)
				if ab[1] == 0 && len(y) > 0 {
					y[0] = math.NaN()
				}
				// y = alpha·op(A)·x + beta·y is Gemm with a one-column B.
				want := naiveGemm(trans, false, rows, 1, cols, ab[0], a, x, ab[1], y)
				runtime.Gemv(trans, m, n, ab[0], a, x, ab[1], y)
				for i := range y {
					if math.Abs(y[i]-want[i]) > 1e-12*float64(cols+1)*16 {
						t.Fatalf("Gemv %v trans=%v [%d]: %v, want %v", dims, trans, i, y[i], want[i])
					}
				}
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Dot":   func() { runtime.Dot(make([]float64, 2), make([]float64, 3)) },
		"AddTo": func() { runtime.AddTo(make([]float64, 2), make([]float64, 2), make([]float64, 3)) },
		"ExpTo": func() { runtime.ExpTo(make([]float64, 2), make([]float64, 1)) },
		"Axpy":  func() { runtime.Axpy(1, make([]float64, 2), make([]float64, 3)) },
		"Gemm": func() {
			runtime.Gemm(false, false, 2, 2, 2, 1, make([]float64, 4), make([]float64, 3), 0, make([]float64, 4))
		},
		"Gemv":  func() { runtime.Gemv(false, 2, 3, 1, make([]float64, 6), make([]float64, 2), 0, make([]float64, 2)) },
		"Map":   func() { runtime.Map(make([]float64, 2), make([]float64, 3), math.Sin) },
		"MapVV": func() { runtime.MapVV(make([]float64, 2), make([]float64, 2), make([]float64, 1), math.Max) },
		"MapSV": func() { runtime.MapSV(make([]float64, 2), 1, make([]float64, 1), math.Max) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with mismatched lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}
