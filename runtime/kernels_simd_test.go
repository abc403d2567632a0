package runtime

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// Tests of the kernel implementations against each other and against
// naive loops. Every implementation this processor runs (kernelSets: pure
// Go, and AVX2 where the processor has it) is compared with goKernels bit
// for bit, so running these tests on amd64 checks the assembly against
// the Go code and running them with -tags purego checks the Go code
// against the naive loops.

// specials are the values mode 2 sprinkles into the inputs.
var specials = []float64{
	math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
	0x1p-1074, -0x1p-1060, 0x1p-1022, math.MaxFloat64, -math.MaxFloat64, 1, -1,
}

// fill writes random values into x. Modes: 0 normal numbers of magnitude
// about 4; 1 magnitudes from 2⁻⁶⁰ to 2⁶⁰; 2 normal numbers with specials
// (NaN, ±Inf, ±0, subnormals, ±MaxFloat64) sprinkled in; 3 small
// integers, so that sums are exact; 4 pairs of opposite values, so that
// sums cancel.
func fill(rng *rand.Rand, x []float64, mode uint8) {
	for i := range x {
		v := rng.NormFloat64() * 4
		switch mode % 5 {
		case 1:
			v = math.Ldexp(rng.NormFloat64(), rng.IntN(121)-60)
		case 2:
			if rng.IntN(8) == 0 {
				v = specials[rng.IntN(len(specials))]
			}
		case 3:
			v = float64(rng.IntN(201) - 100)
		case 4:
			if i%2 == 1 {
				v = -x[i-1] * (1 + 0x1p-40*float64(rng.IntN(3)))
			}
		}
		x[i] = v
	}
}

// guarded is a slice of n elements at element offset off (0..7) in a
// larger array whose other elements hold a sentinel, so that writes past
// either end are caught.
type guarded struct {
	all []float64
	off int
	s   []float64
}

const sentinel = -1.2345678e301

func newGuarded(n, off int) *guarded {
	all := make([]float64, n+16)
	for i := range all {
		all[i] = sentinel
	}
	return &guarded{all: all, off: off, s: all[off : off+n]}
}

func (g *guarded) check(t testing.TB, what string) {
	t.Helper()
	for i, v := range g.all {
		if (i < g.off || i >= g.off+len(g.s)) && v != sentinel {
			t.Fatalf("%s: wrote element %d outside the slice [%d, %d)", what, i, g.off, g.off+len(g.s))
		}
	}
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b)
}

func firstDiff(a, b []float64) int {
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return i
		}
	}
	return -1
}

// exactSum is Σ terms rounded once, from an exact big.Float sum.
func exactSum(terms func(yield func(float64))) (sum, abs float64) {
	s := new(big.Float).SetPrec(4096)
	var a float64
	terms(func(v float64) {
		s.Add(s, new(big.Float).SetPrec(4096).SetFloat64(v))
		a += math.Abs(v)
	})
	r, _ := s.Float64()
	return r, a
}

// reductionBound is the error bound the reductions are tested against:
// each term passes through at most ⌈n/16⌉ + 1 additions in its
// accumulator, 4 in the combination and 3 in the tail, so
// |computed − exact| ≤ (⌈n/16⌉ + 9)·2⁻⁵³·Σ|terms| (to first order; the
// +1 in the factor covers the rest), where the terms of Dot are the
// exact products x[i]·y[i].
func reductionBound(n int, abs float64) float64 {
	return float64((n+15)/16+9) * 0x1p-53 * abs * (1 + 0x1p-40)
}

func finite(xs ...[]float64) bool {
	for _, x := range xs {
		for _, v := range x {
			if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > 0x1p500 {
				return false
			}
		}
	}
	return true
}

// checkReductions compares Sum and Dot of x and y (of equal length) in
// every implementation with the Go one, bit for bit, and with the exact
// results within reductionBound.
func checkReductions(t testing.TB, x, y []float64) {
	t.Helper()
	n := len(x)
	wantSum, wantDot := sumWith(&goKernels, x), dotWith(&goKernels, x, y)
	for _, ks := range kernelSets {
		if got := sumWith(ks, x); !sameBits(got, wantSum) {
			t.Fatalf("n=%d: sum %s = %v (%#x), go = %v (%#x)", n, ks.name, got, math.Float64bits(got), wantSum, math.Float64bits(wantSum))
		}
		if got := dotWith(ks, x, y); !sameBits(got, wantDot) {
			t.Fatalf("n=%d: dot %s = %v (%#x), go = %v (%#x)", n, ks.name, got, math.Float64bits(got), wantDot, math.Float64bits(wantDot))
		}
	}
	if !finite(x, y) {
		return
	}
	exact, abs := exactSum(func(yield func(float64)) {
		for _, v := range x {
			yield(v)
		}
	})
	if d := math.Abs(wantSum - exact); d > reductionBound(n, abs) {
		t.Fatalf("n=%d: sum = %v, exact %v: error %g over the bound %g", n, wantSum, exact, d, reductionBound(n, abs))
	}
	s := new(big.Float).SetPrec(4096)
	abs = 0
	for i := range x {
		p := new(big.Float).SetPrec(4096).SetFloat64(x[i])
		p.Mul(p, new(big.Float).SetFloat64(y[i]))
		s.Add(s, p)
		abs += math.Abs(x[i] * y[i])
	}
	exact, _ = s.Float64()
	if d := math.Abs(wantDot - exact); d > reductionBound(n, abs) {
		t.Fatalf("n=%d: dot = %v, exact %v: error %g over the bound %g", n, wantDot, exact, d, reductionBound(n, abs))
	}
}

// TestReductionsEveryLength: Sum and Dot agree between the
// implementations for every length up to 4097 (all the remainders of the
// blocks of 16 and 4) and every slice offset 0..7 (every alignment of a
// 32-byte vector), and stay within reductionBound of the exact result.
func TestReductionsEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs, ys := make([]float64, 4097+8), make([]float64, 4097+8)
	fill(rng, xs, 0)
	fill(rng, ys, 1)
	for n := 0; n <= 4097; n++ {
		for off := 0; off < 8; off++ {
			x, y := xs[off:off+n], ys[7-off:7-off+n]
			if off > 0 || (n > 300 && n%97 != 0) {
				// The exact check is slow; bits are compared for all.
				for _, ks := range kernelSets {
					if !sameBits(ks.sum(x), goKernels.sum(x)) || !sameBits(ks.dot(x, y), goKernels.dot(x, y)) {
						t.Fatalf("n=%d off=%d: %s differs from go", n, off, ks.name)
					}
				}
				continue
			}
			checkReductions(t, x, y)
		}
	}
}

// mapCase is one elementwise kernel: run it with implementation ks, and
// the naive scalar expression it must equal for every element.
type mapCase struct {
	name  string
	run   func(ks *kernelSet, dst, x, y []float64, c float64)
	naive func(x, y, c float64) float64
}

// mapCases covers every elementwise kernel. The in-place kernels (axpy,
// fmaRow, fmaRows4) update dst, which run first sets to y.
var mapCases = []mapCase{
	{"add", func(ks *kernelSet, d, x, y []float64, c float64) { ks.add(d, x, y) }, func(x, y, c float64) float64 { return x + y }},
	{"sub", func(ks *kernelSet, d, x, y []float64, c float64) { ks.sub(d, x, y) }, func(x, y, c float64) float64 { return x - y }},
	{"mul", func(ks *kernelSet, d, x, y []float64, c float64) { ks.mul(d, x, y) }, func(x, y, c float64) float64 { return x * y }},
	{"div", func(ks *kernelSet, d, x, y []float64, c float64) { ks.div(d, x, y) }, func(x, y, c float64) float64 { return x / y }},
	{"addConst", func(ks *kernelSet, d, x, y []float64, c float64) { ks.addConst(d, x, c) }, func(x, y, c float64) float64 { return x + c }},
	{"mulConst", func(ks *kernelSet, d, x, y []float64, c float64) { ks.mulConst(d, x, c) }, func(x, y, c float64) float64 { return x * c }},
	{"divConst", func(ks *kernelSet, d, x, y []float64, c float64) { ks.divConst(d, x, c) }, func(x, y, c float64) float64 { return x / c }},
	{"constSub", func(ks *kernelSet, d, x, y []float64, c float64) { ks.constSub(d, c, x) }, func(x, y, c float64) float64 { return c - x }},
	{"constDiv", func(ks *kernelSet, d, x, y []float64, c float64) { ks.constDiv(d, c, x) }, func(x, y, c float64) float64 { return c / x }},
	{"axpyTo", func(ks *kernelSet, d, x, y []float64, c float64) { ks.axpyTo(d, c, x, y) }, func(x, y, c float64) float64 { return float64(c*x) + y }},
	{"axpy", func(ks *kernelSet, d, x, y []float64, c float64) {
		copy(d, y)
		ks.axpy(c, x, d)
	}, func(x, y, c float64) float64 { return float64(c*x) + y }},
	{"fmaRow", func(ks *kernelSet, d, x, y []float64, c float64) {
		copy(d, y)
		ks.fmaRow(d, c, x)
	}, func(x, y, c float64) float64 { return math.FMA(c, x, y) }},
	{"fmaRows4", func(ks *kernelSet, d, x, y []float64, c float64) {
		copy(d, y)
		ks.fmaRows4(d, c, -c/3, 0.5, c*c, x, y, y, x)
	}, func(x, y, c float64) float64 {
		s := math.FMA(c, x, y)
		s = math.FMA(-c/3, y, s)
		s = math.FMA(0.5, y, s)
		return math.FMA(c*c, x, s)
	}},
}

// checkMaps runs every elementwise kernel of every implementation on x
// and y into a guarded dst at offset off, and compares each element with
// the naive expression, bit for bit (NaN as NaN).
func checkMaps(t testing.TB, x, y []float64, off int, c float64) {
	t.Helper()
	n := len(x)
	for _, mc := range mapCases {
		for _, ks := range kernelSets {
			dst := newGuarded(n, off)
			mc.run(ks, dst.s, x, y, c)
			dst.check(t, mc.name+" "+ks.name)
			for i := range dst.s {
				if want := mc.naive(x[i], y[i], c); !sameBits(dst.s[i], want) {
					t.Fatalf("%s %s n=%d off=%d: [%d] = %v, want %v (x=%v y=%v c=%v)",
						mc.name, ks.name, n, off, i, dst.s[i], want, x[i], y[i], c)
				}
			}
		}
	}
}

func TestMapsEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs, ys := make([]float64, 300+8), make([]float64, 300+8)
	for _, mode := range []uint8{0, 2} {
		fill(rng, xs, mode)
		fill(rng, ys, mode)
		for n := 0; n <= 300; n++ {
			off := n % 8
			checkMaps(t, xs[off:off+n], ys[(off+3)%8:(off+3)%8+n], (off+5)%8, rng.NormFloat64())
		}
	}
	for _, n := range []int{1000, 4096, 4097} {
		fill(rng, xs[:0], 0)
		x, y := make([]float64, n), make([]float64, n)
		fill(rng, x, 1)
		fill(rng, y, 2)
		checkMaps(t, x, y, 3, 0.75)
	}
}

// TestMapsAliased: dst may be one of the inputs.
func TestMapsAliased(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 5, 16, 37, 1000} {
		x, y := make([]float64, n), make([]float64, n)
		fill(rng, x, 0)
		fill(rng, y, 0)
		for _, ks := range kernelSets {
			for _, k := range []struct {
				name string
				run  func(z []float64)
				want func(i int) float64
			}{
				{"add(x, x, y)", func(z []float64) { ks.add(z, z, y) }, func(i int) float64 { return x[i] + y[i] }},
				{"sub(y, x, y)", func(z []float64) { copy(z, y); ks.sub(z, x, z) }, func(i int) float64 { return x[i] - y[i] }},
				{"div(x, x, x)", func(z []float64) { ks.div(z, z, z) }, func(i int) float64 { return x[i] / x[i] }},
				{"axpyTo(y, a, x, y)", func(z []float64) { copy(z, y); ks.axpyTo(z, 3, x, z) }, func(i int) float64 { return float64(3*x[i]) + y[i] }},
				{"mulConst(x, x, c)", func(z []float64) { ks.mulConst(z, z, -2.5) }, func(i int) float64 { return x[i] * -2.5 }},
			} {
				z := append([]float64(nil), x...)
				k.run(z)
				for i := range z {
					if !sameBits(z[i], k.want(i)) {
						t.Fatalf("%s %s n=%d: [%d] = %v, want %v", ks.name, k.name, n, i, z[i], k.want(i))
					}
				}
			}
		}
	}
}

// TestActiveKernels says which implementation runs, and makes sure the
// assembly is among those tested whenever this processor can run it.
func TestActiveKernels(t *testing.T) {
	t.Logf("active kernels: %s; tested: %d implementation(s)", active.name, len(kernelSets))
	if hasAVX2FMA && (active.name != "avx2" || len(kernelSets) != 2) {
		t.Fatalf("the processor has AVX2 and FMA but the active kernels are %q", active.name)
	}
	if !hasAVX2FMA && active != &goKernels {
		t.Fatalf("no AVX2+FMA, yet the active kernels are %q", active.name)
	}
}

// naiveGemmFMA is the reference chain of matmul.go: s = fma(a, b, s)
// over l in order, then alpha·s + beta·c.
func naiveGemmFMA(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) []float64 {
	out := append([]float64(nil), c...)
	for i := range m {
		for j := range n {
			s := 0.0
			for l := range k {
				av, bv := a[i*k+l], b[l*n+j]
				if transA {
					av = a[l*m+i]
				}
				if transB {
					bv = b[j*k+l]
				}
				s = math.FMA(av, bv, s)
			}
			out[i*n+j] = scaleAdd(alpha, s, beta, c[i*n+j])
		}
	}
	return out
}

// checkGemm runs gemmWith of every implementation and compares C with
// the reference chain bit for bit. alpha = 0 skips the product, as BLAS.
func checkGemm(t testing.TB, rng *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float64, mode uint8) {
	t.Helper()
	a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
	fill(rng, a, mode)
	fill(rng, b, mode)
	fill(rng, c, mode)
	want := naiveGemmFMA(transA, transB, m, n, k, alpha, a, b, beta, c)
	if alpha == 0 || k == 0 {
		for i := range want {
			want[i] = 0
			if beta != 0 {
				want[i] = beta * c[i]
			}
		}
	}
	for _, ks := range kernelSets {
		got := append([]float64(nil), c...)
		if m > 0 && n > 0 {
			if k == 0 {
				scaleOrZeroWith(ks, beta, got)
			} else {
				gemmWith(ks, transA, transB, m, n, k, alpha, a, b, beta, got)
			}
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("gemm %s tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v: C[%d] = %v, want %v",
				ks.name, transA, transB, m, n, k, alpha, beta, i, got[i], want[i])
		}
	}
}

func TestGemmExactOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dims := [][3]int{
		{1, 1, 1}, {2, 3, 4}, {6, 8, 1}, {7, 9, 5}, {6, 8, 300}, {13, 17, 19},
		{30, 40, 50}, {97, 65, 257}, {100, 513, 33}, {200, 200, 520}, {5, 600, 40}, {600, 5, 40},
	}
	for _, d := range dims {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {-0.5, 0}, {1.5, -2}, {1, 1}, {0, 3}} {
				checkGemm(t, rng, tr[0], tr[1], d[0], d[1], d[2], ab[0], ab[1], 0)
			}
		}
	}
	checkGemm(t, rng, false, false, 50, 60, 70, 1, 0, 2)
	checkGemm(t, rng, true, true, 50, 60, 70, 2, 1, 1)
}

// checkGemv compares gemvWith of every implementation with the orders of
// matmul.go: rows as Dot, columns as a chain over the rows.
func checkGemv(t testing.TB, rng *rand.Rand, trans bool, m, n int, alpha, beta float64, mode uint8) {
	t.Helper()
	rows, cols := m, n
	if trans {
		rows, cols = n, m
	}
	a, x, y := make([]float64, m*n), make([]float64, cols), make([]float64, rows)
	fill(rng, a, mode)
	fill(rng, x, mode)
	fill(rng, y, mode)
	want := make([]float64, rows)
	switch {
	case alpha == 0:
		for i := range want {
			if beta != 0 {
				want[i] = beta * y[i]
			}
		}
	case !trans:
		for i := range want {
			want[i] = scaleAdd(alpha, dotWith(&goKernels, a[i*n:(i+1)*n], x), beta, y[i])
		}
	default:
		for j := range want {
			s := 0.0
			if beta != 0 {
				s = beta * y[j]
			}
			for i := range m {
				s = math.FMA(alpha*x[i], a[i*n+j], s)
			}
			want[j] = s
		}
	}
	for _, ks := range kernelSets {
		got := append([]float64(nil), y...)
		gemvWith(ks, trans, m, n, alpha, a, x, beta, got)
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("gemv %s trans=%v m=%d n=%d alpha=%v beta=%v: y[%d] = %v, want %v",
				ks.name, trans, m, n, alpha, beta, i, got[i], want[i])
		}
	}
}

func TestGemvExactOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, d := range [][2]int{{1, 1}, {3, 5}, {4, 17}, {9, 7}, {100, 130}, {513, 700}, {3, 70000}, {70000, 3}} {
		for _, trans := range []bool{false, true} {
			for _, ab := range [][2]float64{{1, 0}, {2, -1}, {0, 0.5}} {
				checkGemv(t, rng, trans, d[0], d[1], ab[0], ab[1], 0)
			}
		}
	}
}

// TestLargeKernelsAgree runs the exported kernels on inputs long enough
// for their parallel paths and compares them with the pure-Go kernels.
func TestLargeKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{reduceSerialMax, reduceSerialMax + 1, mapParallelMin + 13, 300001} {
		x, y := make([]float64, n), make([]float64, n)
		fill(rng, x, 0)
		fill(rng, y, 1)
		checkReductions(t, x, y)
		for _, k := range []struct {
			name     string
			exported func(dst []float64)
			direct   func(dst []float64)
		}{
			{"AddTo", func(d []float64) { AddTo(d, x, y) }, func(d []float64) { goKernels.add(d, x, y) }},
			{"DivTo", func(d []float64) { DivTo(d, x, y) }, func(d []float64) { goKernels.div(d, x, y) }},
			{"ConstDivTo", func(d []float64) { ConstDivTo(d, 3, x) }, func(d []float64) { goKernels.constDiv(d, 3, x) }},
			{"ScaleTo", func(d []float64) { ScaleTo(d, 3, x) }, func(d []float64) { goKernels.mulConst(d, x, 3) }},
			{"AxpyTo", func(d []float64) { AxpyTo(d, 3, x, y) }, func(d []float64) { goKernels.axpyTo(d, 3, x, y) }},
			{"Axpy", func(d []float64) { copy(d, y); Axpy(3, x, d) }, func(d []float64) { copy(d, y); goKernels.axpy(3, x, d) }},
		} {
			got, want := make([]float64, n), make([]float64, n)
			k.exported(got)
			k.direct(want)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s n=%d: [%d] = %v, want %v", k.name, n, i, got[i], want[i])
			}
		}
	}
}

func ExampleParallelSum() {
	x := make([]float64, 1_000_000)
	for i := range x {
		x[i] = 1 / float64(i+1)
	}
	// The same bits whatever GOMAXPROCS is: chunks of 4096 elements,
	// their sums added in chunk order.
	s := ParallelSum(len(x), 4096, func(lo, hi int) float64 { return Sum(x[lo:hi]) })
	fmt.Printf("%.12f\n", s)
	// Output: 14.392726722866
}
