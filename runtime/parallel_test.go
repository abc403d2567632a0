package runtime

import (
	"errors"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"sync"
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

// squaresBody is a body behind ForBody and SumBody: a pointer to it goes
// through ParallelRun and ParallelAdd without allocating.
type squaresBody struct{ x, dst []float64 }

func (s *squaresBody) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.dst[i] = s.x[i] * s.x[i]
	}
}

func (s *squaresBody) Sum(lo, hi int) float64 {
	t := 0.0
	for _, v := range s.x[lo:hi] {
		t += v * v
	}
	return t
}

// TestParallelNoAllocations: a warm call of the parallel loops, of the
// records generated code uses and of the vector kernels above their
// parallel thresholds allocates nothing, on any number of threads.
func TestParallelNoAllocations(t *testing.T) {
	const n = 1 << 19 // above mapParallelMin and reduceParallelMin
	x, y, d := make([]float64, n), make([]float64, n), make([]float64, n)
	fill(rand.New(rand.NewPCG(17, 18)), x, 1)
	body := &squaresBody{x: x, dst: d}
	var site LoopSite
	// Matrices above gemvParallelMin and gemmParallelMin.
	const gm, gn, gk = 160, 170, 180
	ga, gb, gc := x[:gm*gk], y[:gk*gn], make([]float64, gm*gn)
	const vm, vn = 500, 1000
	cases := []struct {
		name string
		f    func()
	}{
		{"ParallelRun", func() { ParallelRun(len(x), 1000, body) }},
		{"ParallelAdd", func() { sink = ParallelAdd(len(x), 1000, body) }},
		{"EnterLoop", func() {
			l := EnterLoop(&site, Bind(x, Bind(2.0, End{})), len(x), 1000)
			if l.Sum == nil {
				l.Sum = func(lo, hi int) float64 {
					v, c := l.C.H, l.C.T.H
					return c * v[lo]
				}
			}
			sink = ParallelSum(len(x), 1000, l.Sum)
			if l.Err() != nil {
				panic("no chunk failed")
			}
			l.Leave(&site)
		}},
		{"Sum", func() { sink = Sum(x) }},
		{"Dot", func() { sink = Dot(x, y) }},
		{"AddTo", func() { AddTo(d, x, y) }},
		{"Axpy", func() { Axpy(0.5, x, y) }},
		{"AxpyTo", func() { AxpyTo(d, 2, x, y) }},
		{"ScaleTo", func() { ScaleTo(d, 2, x) }},
		{"ConstDivTo", func() { ConstDivTo(d, 1, y) }},
		{"Gemv", func() { Gemv(false, vm, vn, 1, x[:vm*vn], y[:vn], 0.5, d[:vm]) }},
		{"GemvT", func() { Gemv(true, vm, vn, 1, x[:vm*vn], y[:vm], 0, d[:vn]) }},
		{"vecMatCols", func() { vecMatCols(d[:vn], y[:vm], x, vm, vn, 10, vn) }},
		{"Gemm", func() { Gemm(false, false, gm, gn, gk, 1, ga, gb, 0, gc) }},
		{"GemmT", func() { Gemm(true, false, gm, gn, gk, 1, ga, gb, 0, gc) }},
	}
	for _, p := range procCounts {
		withProcs(p, func() {
			for _, c := range cases {
				if a := testing.AllocsPerRun(20, c.f); a != 0 {
					t.Errorf("GOMAXPROCS=%d: %s allocates %v times per call", p, c.name, a)
				}
			}
		})
	}
}

// TestParallelConcurrentCallers runs parallel loops from several
// goroutines at once, nested ones among them (a chunk that runs a
// parallel loop of its own), and checks every result against the
// sequential one. Under -race it checks the hand-over of job records.
func TestParallelConcurrentCallers(t *testing.T) {
	const n = 1 << 14
	x := make([]float64, n)
	fill(rand.New(rand.NewPCG(19, 20)), x, 1)
	want := 0.0
	for lo := 0; lo < n; lo += 100 {
		s := 0.0
		for _, v := range x[lo:min(lo+100, n)] {
			s += v * v
		}
		if lo == 0 {
			want = s
		} else {
			want += s
		}
	}
	for _, p := range []int{2, 8} {
		withProcs(p, func() {
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					d := make([]float64, n)
					body := &squaresBody{x: x, dst: d}
					for range 30 {
						if s := ParallelAdd(n, 100, body); !sameBits(s, want) {
							t.Errorf("goroutine %d: sum %v, want %v", g, s, want)
							return
						}
						clear(d)
						ParallelRun(n, 100, body)
						for i, v := range d {
							if v != x[i]*x[i] {
								t.Errorf("goroutine %d: d[%d] = %v", g, i, v)
								return
							}
						}
						// Nested: every outer chunk sums the whole of x.
						var outer [8]float64
						ParallelFor(len(outer), 1, func(lo, hi int) {
							outer[lo] = ParallelAdd(n, 100, body)
						})
						for i, s := range outer {
							if !sameBits(s, want) {
								t.Errorf("goroutine %d: nested sum %d = %v, want %v", g, i, s, want)
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestParallelAfterPanic: a loop whose chunk panicked leaves the job
// records sound, and the next loops run every chunk.
func TestParallelAfterPanic(t *testing.T) {
	withProcs(4, func() {
		for range 20 {
			func() {
				defer func() {
					if r := recover(); r != "boom" {
						t.Fatalf("recovered %v, want boom", r)
					}
				}()
				sink = ParallelSum(1000, 10, func(lo, hi int) float64 {
					if lo == 500 {
						panic("boom")
					}
					return 1
				})
			}()
			if s := ParallelSum(1000, 10, func(lo, hi int) float64 { return float64(hi - lo) }); s != 1000 {
				t.Fatalf("after a panic: sum %v, want 1000", s)
			}
		}
	})
}

// TestLoopRecords: a site hands its record out again once it is back,
// a second one while the first is out; Leave drops the call's values and
// errors; Err is the first chunk's error.
func TestLoopRecords(t *testing.T) {
	var site LoopSite
	x := []float64{1, 2}
	a := EnterLoop(&site, Bind(x, End{}), 10, 3)
	if len(a.Errs) != 4 || a.C.H[1] != 2 {
		t.Fatalf("record: %d errors, values %v", len(a.Errs), a.C)
	}
	b := EnterLoop(&site, Bind(x, End{}), 10, 3)
	if a == b {
		t.Fatal("two calls share a record")
	}
	first, second := errors.New("chunk 1"), errors.New("chunk 3")
	a.Errs[3], a.Errs[1] = second, first
	if err := a.Err(); err != first {
		t.Errorf("Err = %v, want the error of chunk 1", err)
	}
	a.Leave(&site)
	b.Leave(&site)
	if b.C.H != nil || a.C.H != nil || a.Errs[1] != nil {
		t.Error("Leave kept the call's values or errors")
	}
	if c := EnterLoop(&site, Bind(x, End{}), 0, 3); c != b || len(c.Errs) != 0 || c.Err() != nil {
		t.Errorf("EnterLoop after Leave: a fresh record or %d errors", len(c.Errs))
	}
}
