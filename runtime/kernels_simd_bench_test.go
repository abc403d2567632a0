package runtime

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// Benchmarks of the kernels against gonum, and the table of
// docs/performance.md:
//
//	go test ./runtime -run '^TestKernelTable$' -kernels.table -v
//
// prints, for every kernel and size, the time of Nabla's kernel, of the
// pure-Go kernel and of gonum's (or of the reference named in the row),
// all measured in the same run, and the speed of Nabla's relative to the
// reference (reference time ÷ Nabla time: above 1 is faster). The usual
// benchmarks (go test -bench Kernel ./runtime) give the same figures one
// by one.

var (
	kernelTable = flag.Bool("kernels.table", false, "print the kernel benchmark table of docs/performance.md")
	kernelOnly  = flag.String("kernels.only", "", "with -kernels.table, only the kernels whose name contains this")
)

// benchCase is one row of the table: a kernel at one size, with Nabla's
// version, the pure-Go one and a reference.
type benchCase struct {
	kernel, size string
	bytes        int64 // memory read and written per call, for GB/s
	nabla        func()
	purego       func()
	ref          func()
	refName      string
}

func randSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// benchCases builds the rows. Inputs are made once per size, so the
// large ones (8 MB a vector) are in L3 or memory, as in real use.
func benchCases() []benchCase {
	rng := rand.New(rand.NewPCG(1, 1))
	var cs []benchCase
	for _, n := range []int{1000, 1_000_000} {
		x, y, dst := randSlice(rng, n), randSlice(rng, n), make([]float64, n)
		size := fmt.Sprint(n)
		b := int64(8 * n)
		g := &goKernels
		add := func(kernel string, bytes int64, nabla, purego, ref func(), refName string) {
			cs = append(cs, benchCase{kernel, size, bytes, nabla, purego, ref, refName})
		}
		add("Dot", 2*b, func() { sinkF = Dot(x, y) }, func() { sinkF = dotWith(g, x, y) },
			func() { sinkF = floats.Dot(x, y) }, "floats.Dot")
		add("Sum", b, func() { sinkF = Sum(x) }, func() { sinkF = sumWith(g, x) },
			func() { sinkF = floats.Sum(x) }, "floats.Sum")
		add("Norm2", b, func() { sinkF = Norm2(x) }, nil,
			func() { sinkF = floats.Norm(x, 2) }, "floats.Norm")
		add("Axpy", 3*b, func() { Axpy(1e-9, x, y) }, func() { axpyWith(g, 1e-9, x, y) },
			func() { floats.AddScaled(y, 1e-9, x) }, "floats.AddScaled")
		add("AxpyTo", 3*b, func() { AxpyTo(dst, 0.5, x, y) }, func() { axpyToWith(g, dst, 0.5, x, y) },
			func() { floats.AddScaledTo(dst, y, 0.5, x) }, "floats.AddScaledTo")
		add("Scale", 2*b, func() { Scale(1, y) }, func() { mapVC(g.mulConst, y, y, 1) },
			func() { floats.Scale(1, y) }, "floats.Scale")
		add("ScaleTo", 2*b, func() { ScaleTo(dst, 0.5, x) }, func() { mapVC(g.mulConst, dst, x, 0.5) },
			func() { floats.ScaleTo(dst, 0.5, x) }, "floats.ScaleTo")
		add("AddTo", 3*b, func() { AddTo(dst, x, y) }, func() { mapVV(g.add, dst, x, y) },
			func() { floats.AddTo(dst, x, y) }, "floats.AddTo")
		add("SubTo", 3*b, func() { SubTo(dst, x, y) }, func() { mapVV(g.sub, dst, x, y) },
			func() { floats.SubTo(dst, x, y) }, "floats.SubTo")
		add("MulTo", 3*b, func() { MulTo(dst, x, y) }, func() { mapVV(g.mul, dst, x, y) },
			func() { floats.MulTo(dst, x, y) }, "floats.MulTo")
		add("DivTo", 3*b, func() { DivTo(dst, x, y) }, func() { mapVV(g.div, dst, x, y) },
			func() { floats.DivTo(dst, x, y) }, "floats.DivTo")
		add("AddConstTo (in place)", 2*b, func() { AddConstTo(y, y, 0) }, func() { mapVC(g.addConst, y, y, 0) },
			func() { floats.AddConst(0, y) }, "floats.AddConst")
		// gonum has no x - c, c - x, x / c or c / x into a destination:
		// the reference is the plain Go loop.
		add("ConstSubTo", 2*b, func() { ConstSubTo(dst, 1, x) }, func() { mapCV(g.constSub, dst, 1, x) },
			func() { naiveLoop(dst, x, func(v float64) float64 { return 1 - v }) }, "Go loop")
		add("DivConstTo", 2*b, func() { DivConstTo(dst, x, 3) }, func() { mapVC(g.divConst, dst, x, 3) },
			func() { naiveLoop(dst, x, func(v float64) float64 { return v / 3 }) }, "Go loop")
		add("ConstDivTo", 2*b, func() { ConstDivTo(dst, 3, x) }, func() { mapCV(g.constDiv, dst, 3, x) },
			func() { naiveLoop(dst, x, func(v float64) float64 { return 3 / v }) }, "Go loop")
		// The memory-bound map against copying the same number of bytes:
		// AxpyTo reads 2n and writes n elements; copy of 1.5n elements
		// reads 1.5n and writes 1.5n.
		src, cp := randSlice(rng, n+n/2), make([]float64, n+n/2)
		add("AxpyTo vs copy", 3*b, func() { AxpyTo(dst, 0.5, x, y) }, func() { axpyToWith(g, dst, 0.5, x, y) },
			func() { copy(cp, src) }, "copy, same bytes")
	}
	for _, n := range []int{32, 1000} {
		a := randSlice(rng, n*n)
		x, y := randSlice(rng, n), make([]float64, n)
		size := fmt.Sprintf("%d×%d", n, n)
		b := int64(8 * n * n)
		for _, trans := range []bool{false, true} {
			name, tr := "Gemv A·x", blas.NoTrans
			if trans {
				name, tr = "Gemv Aᵀ·x", blas.Trans
			}
			cs = append(cs, benchCase{name, size, b,
				func() { Gemv(trans, n, n, 1, a, x, 0, y) },
				func() { gemvWith(&goKernels, trans, n, n, 1, a, x, 0, y) },
				func() {
					blas64.Gemv(tr, 1, blas64.General{Rows: n, Cols: n, Stride: n, Data: a},
						blas64.Vector{N: n, Inc: 1, Data: x}, 0, blas64.Vector{N: n, Inc: 1, Data: y})
				}, "blas64.Gemv"})
		}
	}
	for _, n := range []int{8, 16, 32, 64, 128, 256, 512, 1000} {
		a, bm, c := randSlice(rng, n*n), randSlice(rng, n*n), make([]float64, n*n)
		var purego func()
		if n <= 256 {
			purego = func() { gemmWith(&goKernels, false, false, n, n, n, 1, a, bm, 0, c) }
		}
		cs = append(cs, benchCase{"Gemm", fmt.Sprintf("%d³", n), 0,
			func() { Gemm(false, false, n, n, n, 1, a, bm, 0, c) },
			purego,
			func() {
				m := func(d []float64) blas64.General { return blas64.General{Rows: n, Cols: n, Stride: n, Data: d} }
				blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, m(a), m(bm), 0, m(c))
			}, "blas64.Gemm"})
	}
	return cs
}

var sinkF float64

func naiveLoop(dst, x []float64, f func(float64) float64) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = f(v)
	}
}

func benchName(s string) string {
	return strings.NewReplacer(" ", "_", "(", "", ")", "", "·", "", "ᵀ", "T", "×", "x", "³", "^3").Replace(s)
}

// BenchmarkKernel runs every row of the table as sub-benchmarks
// kernel/size/{nabla,purego,ref}.
func BenchmarkKernel(b *testing.B) {
	for _, c := range benchCases() {
		for _, v := range []struct {
			name string
			f    func()
		}{{"nabla", c.nabla}, {"purego", c.purego}, {"ref", c.ref}} {
			if v.f == nil {
				continue
			}
			b.Run(benchName(c.kernel)+"/"+c.size+"/"+v.name, func(b *testing.B) {
				if c.bytes > 0 {
					b.SetBytes(c.bytes)
				}
				for b.Loop() {
					v.f()
				}
			})
		}
	}
}

// timer measures one version of a row: calls per round, calibrated so
// that a round lasts about roundTime, and the best wall and CPU time per
// call over the rounds.
type timer struct {
	f         func()
	calls     int
	wall, cpu time.Duration
	hasCPU    bool
}

const roundTime = 200 * time.Microsecond

func newTimer(f func()) *timer {
	f() // warm up caches and pools
	t := &timer{f: f, calls: 1, wall: math.MaxInt64, cpu: math.MaxInt64, hasCPU: true}
	// The best of a few single calls says how long a call is; a busy
	// machine only ever makes it look longer.
	for range 5 {
		start := time.Now()
		f()
		t.wall = min(t.wall, time.Since(start))
	}
	for t.wall*time.Duration(t.calls) < roundTime {
		t.calls *= 2
	}
	return t
}

func (t *timer) round() {
	c0, ok0 := cpuTime()
	start := time.Now()
	for range t.calls {
		t.f()
	}
	wall := time.Since(start)
	c1, ok1 := cpuTime()
	t.wall = min(t.wall, wall/time.Duration(t.calls))
	if ok0 && ok1 {
		t.cpu = min(t.cpu, (c1-c0)/time.Duration(t.calls))
	} else {
		t.hasCPU = false
	}
}

// TestKernelTable prints the table of docs/performance.md when asked to
// with -kernels.table. The versions of a row run in alternating rounds of
// at least 0.2 ms (one call, if a call takes longer), 200 rounds each,
// and each reports its best round: the machine these figures come from is
// shared, and the best round is the one least disturbed by other work. A
// call of over a millisecond (the large matrix products) can hardly finish
// there without being descheduled, so those rows run 20 rounds of one call
// and compare the process's CPU time instead (marked "CPU"): for the
// parallel products, that is the work of both cores added up.
func TestKernelTable(t *testing.T) {
	if !*kernelTable {
		t.Skip("prints the benchmark table only with -kernels.table")
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nactive kernels: %s, GOMAXPROCS %d\n\n", active.name, goruntime.GOMAXPROCS(0))
	sb.WriteString("| kernel | size | Nabla | pure Go | reference | reference time | Nabla speed ÷ reference |\n")
	sb.WriteString("|---|---|---:|---:|---|---:|---:|\n")
	for _, c := range benchCases() {
		if !strings.Contains(c.kernel, *kernelOnly) {
			continue
		}
		ts := []*timer{newTimer(c.nabla), newTimer(c.ref)}
		if c.purego != nil {
			ts = append(ts, newTimer(c.purego))
		}
		// Calls of over a millisecond are timed by CPU time.
		rounds, long := 200, false
		for _, t := range ts[:2] {
			if t.calls == 1 && t.wall > time.Millisecond {
				rounds, long = 20, true
			}
		}
		// Alternate the order within a round: a kernel run right after
		// another one over the same 8 MB vectors finds the caches in a
		// state that favours or hurts it by some 10%.
		for r := range rounds {
			for i := range ts {
				if r%2 == 1 {
					i = len(ts) - 1 - i
				}
				ts[i].round()
			}
		}
		pick := func(t *timer) time.Duration {
			if long && t.hasCPU {
				return t.cpu
			}
			return t.wall
		}
		unit := ""
		if long && ts[0].hasCPU {
			unit = " CPU"
		}
		n, r := pick(ts[0]), pick(ts[1])
		g := "–"
		if c.purego != nil {
			g = fmtDur(pick(ts[2])) + unit
		}
		nabla := fmtDur(n) + unit
		if c.bytes > 0 {
			nabla += fmt.Sprintf(" (%.1f GB/s)", float64(c.bytes)/n.Seconds()/1e9)
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %.2f× |\n", c.kernel, c.size, nabla, g, c.refName, fmtDur(r)+unit, r.Seconds()/n.Seconds())
	}
	t.Log(sb.String())
}

func fmtDur(d time.Duration) string {
	switch s := d.Seconds(); {
	case s < 1e-6:
		return fmt.Sprintf("%.0f ns", s*1e9)
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	default:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
}
