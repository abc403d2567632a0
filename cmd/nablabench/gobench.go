package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	goruntime "runtime"
	"time"

	"github.com/nabla-lang/nabla/cmd/nablabench/gengo"
)

// The -go mode times the generated Go code of package gengo: for
// Rosenbrock and GMM, generated objective ÷ the hand-written Go version
// (as a speed: hand time ÷ generated time, goal ≥ 0.9), generated
// gradient ÷ generated objective (goal ≤ 2.5 for GMM), and the bytes
// allocated per call of the gradient's ...Into variant (goal 0).

type goRow struct {
	program, size, note   string
	hand, obj, grad       time.Duration
	intoBytes, intoAllocs float64
}

// timeIt is the median over c.runs samples of the CPU time of one call of
// f (wall-clock time where CPU time is unavailable), each sample a batch
// lasting at least c.min. CPU time keeps the ratios meaningful on a
// machine shared with other work.
func timeIt(c config, f func()) time.Duration {
	for range c.warmup {
		f()
	}
	batch := 1
	for {
		start := time.Now()
		for range batch {
			f()
		}
		if el := time.Since(start); el >= c.min || batch >= 1<<20 {
			break
		}
		batch *= 2
	}
	ds := make([]time.Duration, c.runs)
	for r := range ds {
		start, cpu := time.Now(), cpuTime()
		for range batch {
			f()
		}
		if c1 := cpuTime(); cpu > 0 && c1 > cpu {
			ds[r] = (c1 - cpu) / time.Duration(batch)
		} else {
			ds[r] = time.Since(start) / time.Duration(batch)
		}
	}
	return median(ds)
}

// allocsPerCall measures the heap bytes and allocations of one call of f
// in steady state.
func allocsPerCall(f func()) (bytes, allocs float64) {
	for range 3 {
		f()
	}
	const n = 20
	var a, b goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&a)
	for range n {
		f()
	}
	goruntime.ReadMemStats(&b)
	return float64(b.TotalAlloc-a.TotalAlloc) / n, float64(b.Mallocs-a.Mallocs) / n
}

// sink keeps results alive, so the compiler cannot drop a timed call's
// work.
var sink float64

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func flat(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func measureGo(c config, sizes []int, gmms []gmmSize, log io.Writer) []goRow {
	var rows []goRow
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range sizes {
		fmt.Fprintf(log, "rosenbrock n=%d\n", n)
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		dst := make([]float64, n)
		r := goRow{program: "Rosenbrock", size: fmt.Sprintf("n = %d", n)}
		r.hand = timeIt(c, func() { sink += gengo.RosenHand(x) })
		r.obj = timeIt(c, func() { sink += must(gengo.Rosen(x)) })
		r.grad = timeIt(c, func() { must(0, gengo.RosenGradInto(dst, x)) })
		r.intoBytes, r.intoAllocs = allocsPerCall(func() { must(0, gengo.RosenGradInto(dst, x)) })
		rows = append(rows, r)
	}
	for _, s := range gmms {
		g, note := loadGMM(c.gmmDir, s)
		fmt.Fprintf(log, "gmm %s\n", g.label())
		means, icf, xs := flat(g.means), flat(g.icf), flat(g.x)
		da := make([]float64, g.k)
		dm := make([][]float64, g.k)
		di := make([][]float64, g.k)
		for j := range dm {
			dm[j] = make([]float64, g.d)
			di[j] = make([]float64, len(g.icf[j]))
		}
		r := goRow{program: "GMM", size: g.label(), note: note}
		r.hand = timeIt(c, func() { sink += gengo.GMMHand(g.d, g.k, g.n, g.alphas, means, icf, xs, g.gamma, int(g.m)) })
		r.obj = timeIt(c, func() { sink += must(gengo.Gmm(g.alphas, g.means, g.icf, g.x, g.gamma, g.m)) })
		grad := func() { must(0, gengo.GmmGradInto(da, dm, di, g.alphas, g.means, g.icf, g.x, g.gamma, g.m)) }
		r.grad = timeIt(c, grad)
		r.intoBytes, r.intoAllocs = allocsPerCall(grad)
		rows = append(rows, r)
	}
	return rows
}

func reportGo(w io.Writer, rows []goRow) {
	fmt.Fprintf(w, "| program | size | hand-written Go | generated f | generated ∇f | speed vs hand (goal ≥ 0.9) | ∇f ÷ f | bytes (allocs) per ∇f Into call | input |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %.2f | %.0f (%.1f) | %s |\n", r.program, r.size,
			formatDur(r.hand), formatDur(r.obj), formatDur(r.grad),
			float64(r.hand)/float64(r.obj), float64(r.grad)/float64(r.obj), r.intoBytes, r.intoAllocs, r.note)
	}
}
