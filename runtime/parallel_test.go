package runtime

import (
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"sync/atomic"
	"testing"
)

// withProcs runs f with GOMAXPROCS set to p.
func withProcs(p int, f func()) {
	old := goruntime.GOMAXPROCS(p)
	defer goruntime.GOMAXPROCS(old)
	f()
}

var procCounts = []int{1, 2, 8}

func TestParallelForChunks(t *testing.T) {
	for _, p := range procCounts {
		for _, tc := range [][2]int{{0, 5}, {1, 5}, {5, 5}, {6, 5}, {1000, 7}, {1000, 1}, {10, 0}, {10, -3}, {100000, 4096}} {
			n, grain := tc[0], tc[1]
			withProcs(p, func() {
				hits := make([]atomic.Int32, max(n, 0))
				var calls atomic.Int32
				ParallelFor(n, grain, func(lo, hi int) {
					calls.Add(1)
					g := max(grain, 1)
					if lo%g != 0 || hi != min(lo+g, n) {
						t.Errorf("n=%d grain=%d: chunk [%d, %d)", n, grain, lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				})
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Fatalf("GOMAXPROCS=%d n=%d grain=%d: index %d visited %d times", p, n, grain, i, h)
					}
				}
				if want := (n + max(grain, 1) - 1) / max(grain, 1); n > 0 && int(calls.Load()) != want {
					t.Errorf("n=%d grain=%d: %d calls, want %d", n, grain, calls.Load(), want)
				}
			})
		}
	}
}

func TestParallelForPanics(t *testing.T) {
	for _, p := range procCounts {
		withProcs(p, func() {
			defer func() {
				if r := recover(); r != "chunk 3" {
					t.Errorf("GOMAXPROCS=%d: recovered %v, want the panic of chunk 3", p, r)
				}
			}()
			ParallelFor(100, 10, func(lo, hi int) {
				if lo == 30 {
					panic("chunk 3")
				}
			})
		})
	}
}

// TestParallelSumOrder: the partial sums are added in chunk order, the
// same as a sequential loop over the chunks, on any number of cores.
func TestParallelSumOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := make([]float64, 100003)
	fill(rng, x, 1)
	part := func(lo, hi int) float64 {
		s := 0.0
		for _, v := range x[lo:hi] {
			s += v
		}
		return s
	}
	for _, grain := range []int{1, 7, 1000, 65536, 200000} {
		want := 0.0
		for lo := 0; lo < len(x); lo += grain {
			if lo == 0 {
				want = part(0, min(grain, len(x)))
			} else {
				want += part(lo, min(lo+grain, len(x)))
			}
		}
		for _, p := range procCounts {
			withProcs(p, func() {
				if got := ParallelSum(len(x), grain, part); !sameBits(got, want) {
					t.Errorf("GOMAXPROCS=%d grain=%d: %v, want %v", p, grain, got, want)
				}
			})
		}
	}
	if s := ParallelSum(0, 5, part); s != 0 {
		t.Errorf("ParallelSum of nothing = %v", s)
	}
}

// TestSameBitsAnyProcs runs the parallel paths of the exported kernels
// with GOMAXPROCS 1, 2 and 8 and requires identical bits.
func TestSameBitsAnyProcs(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n = 1_000_003
	x, y := make([]float64, n), make([]float64, n)
	fill(rng, x, 1)
	fill(rng, y, 0)
	const mm, mn, mk = 150, 170, 190
	a, b := make([]float64, mm*mk), make([]float64, mk*mn)
	fill(rng, a, 0)
	fill(rng, b, 0)
	ga := make([]float64, 700*800)
	fill(rng, ga, 0)

	type result struct {
		sum, dot, norm float64
		axpy, gemm     []float64
		gemv, gemvT    []float64
	}
	run := func() result {
		r := result{sum: Sum(x), dot: Dot(x, y), norm: Norm2(x)}
		r.axpy = append([]float64(nil), y...)
		Axpy(0.25, x, r.axpy)
		r.gemm = make([]float64, mm*mn)
		Gemm(false, false, mm, mn, mk, 1, a, b, 0, r.gemm)
		r.gemv = make([]float64, 700)
		Gemv(false, 700, 800, 1.5, ga, y[:800], 0, r.gemv)
		r.gemvT = make([]float64, 800)
		Gemv(true, 700, 800, 1, ga, y[:700], 0, r.gemvT)
		return r
	}
	var want result
	withProcs(1, func() { want = run() })
	for _, p := range procCounts[1:] {
		withProcs(p, func() {
			got := run()
			for _, s := range [][3]float64{{got.sum, want.sum, 0}, {got.dot, want.dot, 1}, {got.norm, want.norm, 2}} {
				if !sameBits(s[0], s[1]) {
					t.Errorf("GOMAXPROCS=%d: reduction %v = %v, with 1: %v", p, s[2], s[0], s[1])
				}
			}
			for _, v := range []struct {
				name      string
				got, want []float64
			}{{"Axpy", got.axpy, want.axpy}, {"Gemm", got.gemm, want.gemm}, {"Gemv", got.gemv, want.gemv}, {"GemvT", got.gemvT, want.gemvT}} {
				if i := firstDiff(v.got, v.want); i >= 0 {
					t.Errorf("GOMAXPROCS=%d: %s[%d] = %v, with 1: %v", p, v.name, i, v.got[i], v.want[i])
				}
			}
		})
	}
	// And the same as the pure-Go kernels.
	if got := sumWith(&goKernels, x); !sameBits(got, want.sum) {
		t.Errorf("Sum = %v, pure Go %v", want.sum, got)
	}
	if got := dotWith(&goKernels, x, y); !sameBits(got, want.dot) {
		t.Errorf("Dot = %v, pure Go %v", want.dot, got)
	}
}

// TestNoAllocations: below the parallel thresholds the kernels allocate
// nothing, so generated code that calls them in a loop does not either.
func TestNoAllocations(t *testing.T) {
	x, y, d := make([]float64, 1000), make([]float64, 1000), make([]float64, 1000)
	for i := range x {
		x[i], y[i] = float64(i), 1/float64(i+1)
	}
	// Long enough to be reduced in chunks, too short for goroutines.
	long := make([]float64, reduceParallelMin-1)
	a, b, c := make([]float64, 40*40), make([]float64, 40*40), make([]float64, 40*40)
	for name, f := range map[string]func(){
		"Dot":        func() { sink = Dot(x, y) },
		"Sum":        func() { sink = Sum(x) },
		"Sum chunks": func() { sink = Sum(long) },
		"Dot chunks": func() { sink = Dot(long, long) },
		"Norm2":      func() { sink = Norm2(x) },
		"Axpy":       func() { Axpy(0, x, y) },
		"AxpyTo":     func() { AxpyTo(d, 2, x, y) },
		"Scale":      func() { Scale(1, d) },
		"ScaleTo":    func() { ScaleTo(d, 2, x) },
		"AddTo":      func() { AddTo(d, x, y) },
		"DivTo":      func() { DivTo(d, x, y) },
		"ConstDivTo": func() { ConstDivTo(d, 1, y) },
		"Gemv":       func() { Gemv(false, 40, 25, 1, x, y[:25], 0, d[:40]) },
		"GemvT":      func() { Gemv(true, 40, 25, 1, x, y[:40], 0.5, d[:25]) },
		"Gemm":       func() { Gemm(false, false, 40, 40, 40, 1, a, b, 0, c) },
		"GemmT":      func() { Gemm(true, true, 40, 40, 40, 2, a, b, 1, c) },
	} {
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

var sink float64

// TestTinyLengths: every kernel on lengths 0..3 and empty matrices,
// where there is no vector loop at all.
func TestTinyLengths(t *testing.T) {
	for n := range 4 {
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i] = float64(i+1), math.Pi
		}
		checkReductions(t, x, y)
		checkMaps(t, x, y, 1, 2)
	}
}
