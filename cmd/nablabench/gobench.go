package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"time"

	"github.com/nabla-lang/nabla/cmd/nablabench/gengo"
)

// The -go mode times the generated Go code of package gengo: for
// Rosenbrock, GMM, GradBench's LSTM and bundle adjustment, generated
// objective ÷ the hand-written Go version (as a speed: hand time ÷
// generated time, goal ≥ 0.9), generated gradient (BA: Jacobian) ÷
// generated objective (goal ≤ 2.5 for GMM and LSTM, ≤ 5 for BA), the
// generated derivative ÷ a hand-written Go one where there is one (BA's
// Jacobian), and the bytes allocated per call of the derivative's ...Into
// variant (goal 0). The speed vs hand is the median of ratios of
// alternating batches (timePair), so that a call of a few nanoseconds
// (Rosenbrock at n = 10) reads the same from run to run.

// lstmSize is an LSTM instance's shape: l layers, c characters of b bits.
type lstmSize struct{ l, c, b int }

// baSize is a bundle-adjustment instance's shape (GradBench's baN files):
// n cameras, m points, p observations.
type baSize struct {
	name    string
	n, m, p int
}

type goRow struct {
	program, size, note   string
	hand, obj, grad       time.Duration
	speed                 float64       // hand ÷ generated objective, from timePair
	handGrad              time.Duration // a hand-written derivative, 0 if none
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

// timePair times a hand-written function and the generated one it is
// compared with, in alternating batches: each round times one batch of
// each, in an order swapped every round, and speed is the median over
// rounds of the round's hand ÷ generated time per call. Timing the two
// apart (all of one's samples, then the other's) let the load of the
// moment decide the ratio of a call of a few nanoseconds (Rosenbrock at
// n = 10 read 0.64–0.91 across runs); within a round both batches see the
// same machine. A batch lasts at least pairBatch(c) (CPU time where it is
// available), and there are 5·c.runs rounds, so the pair takes about as
// long as two timeIt calls.
func timePair(c config, hand, gen func()) (handT, genT time.Duration, speed float64) {
	for range c.warmup {
		hand()
		gen()
	}
	least := pairBatch(c)
	kh, kg := batchFor(hand, least), batchFor(gen, least)
	rounds := 5 * c.runs
	hs, gs := make([]float64, rounds), make([]float64, rounds)
	ratios := make([]float64, rounds)
	for r := range rounds {
		if r%2 == 0 {
			hs[r] = perCall(hand, kh)
			gs[r] = perCall(gen, kg)
		} else {
			gs[r] = perCall(gen, kg)
			hs[r] = perCall(hand, kh)
		}
		ratios[r] = hs[r] / max(gs[r], 1e-3)
	}
	mid := func(xs []float64) float64 { slices.Sort(xs); return xs[len(xs)/2] }
	return time.Duration(mid(hs)), time.Duration(mid(gs)), mid(ratios)
}

// pairBatch is the least duration of one of timePair's batches: a fifth
// of -min, and at least 1 ms so that a batch is long beside the clock's
// resolution and a call's timing overhead.
func pairBatch(c config) time.Duration {
	return max(c.min/5, time.Millisecond)
}

// batchFor is the number of calls of f that last at least least (wall
// clock), doubling from 1; at most 1<<24.
func batchFor(f func(), least time.Duration) int {
	k := 1
	for {
		start := time.Now()
		for range k {
			f()
		}
		if time.Since(start) >= least || k >= 1<<24 {
			return k
		}
		k *= 2
	}
}

// perCall is the time in nanoseconds of one call of f over a batch of k
// calls: CPU time where it can be read, wall-clock time otherwise. It is
// a float so that a call of a few nanoseconds keeps its fraction.
func perCall(f func(), k int) float64 {
	start, cpu := time.Now(), cpuTime()
	for range k {
		f()
	}
	if c1 := cpuTime(); cpu > 0 && c1 > cpu {
		return float64(c1-cpu) / float64(k)
	}
	return float64(time.Since(start)) / float64(k)
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
//
//lint:ignore U1000 written by the timed calls; never reading it is the point
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

// goSizes are the instances of the -go mode.
type goSizes struct {
	rosen []int
	gmm   []gmmSize
	lstm  []lstmSize
	ba    []baSize
}

func measureGo(c config, sz goSizes, log io.Writer) []goRow {
	sizes, gmms := sz.rosen, sz.gmm
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
		r.hand, r.obj, r.speed = timePair(c, func() { sink += gengo.RosenHand(x) }, func() { sink += must(gengo.Rosen(x)) })
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
		r.hand, r.obj, r.speed = timePair(c,
			func() { sink += gengo.GMMHand(g.d, g.k, g.n, g.alphas, means, icf, xs, g.gamma, int(g.m)) },
			func() { sink += must(gengo.Gmm(g.alphas, g.means, g.icf, g.x, g.gamma, g.m)) })
		grad := func() { must(0, gengo.GmmGradInto(da, dm, di, g.alphas, g.means, g.icf, g.x, g.gamma, g.m)) }
		r.grad = timeIt(c, grad)
		r.intoBytes, r.intoAllocs = allocsPerCall(grad)
		rows = append(rows, r)
	}
	for _, s := range sz.lstm {
		rows = append(rows, measureLSTM(c, s, rng, log))
	}
	for _, s := range sz.ba {
		rows = append(rows, measureBA(c, s, rng, log))
	}
	return rows
}

// measureLSTM times GradBench's LSTM loss on random parameters and state
// (uniform in [0, 1), as the eval draws them) and random bits.
func measureLSTM(c config, s lstmSize, rng *rand.Rand, log io.Writer) goRow {
	fmt.Fprintf(log, "lstm l=%d c=%d\n", s.l, s.c)
	uniform := func(rows, cols int) [][]float64 {
		out := make([][]float64, rows)
		for i := range out {
			out[i] = make([]float64, cols)
			for j := range out[i] {
				out[i][j] = rng.Float64()
			}
		}
		return out
	}
	mp, ep, state := uniform(2*s.l, 4*s.b), uniform(3, s.b), uniform(2*s.l, s.b)
	seq := uniform(s.c, s.b)
	for _, r := range seq {
		for j := range r {
			r[j] = float64(int(2 * r[j]))
		}
	}
	fmp, fep, fstate, fseq := flat(mp), flat(ep), flat(state), flat(seq)
	dmp, dep := uniform(2*s.l, 4*s.b), uniform(3, s.b)
	r := goRow{program: "LSTM", size: fmt.Sprintf("l = %d, c = %d, b = %d", s.l, s.c, s.b), note: "random"}
	r.hand, r.obj, r.speed = timePair(c,
		func() { sink += gengo.LSTMHand(s.l, s.b, s.c, fmp, fep, fstate, fseq) },
		func() { sink += must(gengo.LstmObjective(mp, ep, state, seq)) })
	grad := func() { must(0, gengo.LstmJacobianInto(dmp, dep, mp, ep, state, seq)) }
	r.grad = timeIt(c, grad)
	r.intoBytes, r.intoAllocs = allocsPerCall(grad)
	return r
}

// measureBA times GradBench's bundle adjustment on an instance of the
// shape of the eval's file s.name (gengo.BAInstance).
func measureBA(c config, s baSize, rng *rand.Rand, log io.Writer) goRow {
	fmt.Fprintf(log, "ba %s\n", s.name)
	cams, pts, w, feats, camIdx, ptIdx := gengo.BAInstance(rng, s.n, s.m, s.p)
	fcams, fpts, ffeats := flat(cams), flat(pts), flat(feats)
	reproj, werr := make([]float64, 2*s.p), make([]float64, s.p)
	dreproj := [][]float64{make([]float64, s.p), make([]float64, s.p)}
	jac := make([][][]float64, 2)
	for j := range jac {
		jac[j] = make([][]float64, 15)
		for k := range jac[j] {
			jac[j][k] = make([]float64, s.p)
		}
	}
	r := goRow{program: "BA", size: fmt.Sprintf("n = %d, m = %d, p = %d", s.n, s.m, s.p), note: "shape of " + s.name}
	r.hand, r.obj, r.speed = timePair(c,
		func() { gengo.BAHand(fcams, fpts, w, ffeats, camIdx, ptIdx, reproj, werr) },
		func() { must(0, gengo.BaObjectiveInto(dreproj, werr, cams, pts, w, feats, camIdx, ptIdx)) })
	grad := func() { must(0, gengo.BaJacobianInto(jac, werr, cams, pts, w, feats, camIdx, ptIdx)) }
	r.grad = timeIt(c, grad)
	r.intoBytes, r.intoAllocs = allocsPerCall(grad)
	hjac, hdw := make([]float64, 2*15*s.p), make([]float64, s.p)
	r.handGrad = timeIt(c, func() { gengo.BAJacobianHand(fcams, fpts, w, ffeats, camIdx, ptIdx, hjac, hdw) })
	return r
}

func reportGo(w io.Writer, rows []goRow) {
	fmt.Fprintf(w, "| program | size | hand-written Go | generated f | generated ∇f | speed vs hand (goal ≥ 0.9) | ∇f ÷ f (goal) | hand-written ∇f | ∇f ÷ hand ∇f | bytes (allocs) per ∇f Into call | input |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		goal := map[string]string{"GMM": " (≤ 2.5)", "LSTM": " (≤ 2.5)", "BA": " (≤ 5)"}[r.program]
		handGrad, overHand := "", ""
		if r.handGrad > 0 {
			handGrad, overHand = formatDur(r.handGrad), fmt.Sprintf("%.2f", float64(r.grad)/float64(r.handGrad))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %.2f%s | %s | %s | %.0f (%.1f) | %s |\n", r.program, r.size,
			formatDur(r.hand), formatDur(r.obj), formatDur(r.grad),
			r.speed, float64(r.grad)/float64(r.obj), goal, handGrad, overHand, r.intoBytes, r.intoAllocs, r.note)
	}
}
