package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/bench/gradbench"
	"github.com/nabla-lang/nabla/cmd/nablabench/gengo"
	"github.com/nabla-lang/nabla/runtime"
)

// The adbench mode times, through the embedded interpreter on one core,
// the ADBench problems as users port them: GMM written element by element
// (gmmElemSrc, comprehensions indexing scalars) and vectorized (gmm.nab),
// LSTM and BA (GradBench's modules), Rosenbrock, and `a*x + y`. For each it
// prints the objective's and the gradient's CPU time, gradient ÷
// objective, objective ÷ a hand-written Go version where the repository
// has one (gengo.GMMHand, gengo.RosenHand, gonum for a*x + y), and the
// bytes allocated per call. docs/benchmarks.md records its output.

// gmmElemSrc is the GMM objective of gmm.nab written the way users port
// it from C++: per point and component, loops over scalars. It is
// appended to gmm.nab, whose helpers (qmat, wishart_c) it uses; interp's
// tests read the same file.
//
//go:embed gmm_elem.nab
var gmmElemSrc string

// axpySrc is the elementwise chain of the fusion target.
const axpySrc = `
def axpy(a: f64, x: [n]f64, y: [n]f64): [n]f64 = a * x + y
def sum_axpy(a: f64, x: [n]f64, y: [n]f64): f64 = sum(a * x + y)
`

type adRow struct {
	program, size, note   string
	obj, grad, hand       time.Duration // 0: not measured
	handGrad              time.Duration // a hand-written gradient, 0 if none
	objBytes, gradBytes   float64
	objAllocs, gradAllocs float64
}

func runADBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nablabench adbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{}
	fs.IntVar(&c.runs, "runs", 5, "samples per measurement (the median is reported)")
	fs.IntVar(&c.warmup, "warmup", 1, "calls of each function before sampling")
	fs.DurationVar(&c.min, "min", 50*time.Millisecond, "least duration of one sample's batch of calls")
	fs.StringVar(&c.gmmDir, "gmm", "../shared/data/adbench-gmm", "directory of the ADBench GMM instances")
	quick := fs.Bool("quick", false, "tiny sizes and one sample (a smoke test, not a measurement)")
	only := fs.String("only", "", "comma-separated programs to run (gmm-elem, gmm-vec, lstm, ba, rosenbrock, axpy); empty: all")
	gmmSizes := fs.String("gmmsizes", "small,large", "GMM sizes: small (d=2 K=10 n=1000), large (d=10 K=25 n=10000)")
	noGrad := fs.String("nograd", "", "comma-separated programs whose gradient is not timed (a slow gradient at the large GMM size)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || c.runs < 1 {
		fs.Usage()
		return 2
	}
	sz := adSizes{lstmChars: 1024, baCams: 16, baPts: 2000, baObs: 8000, rosen: 1000, axpy: 1000}
	for _, g := range strings.Split(*gmmSizes, ",") {
		switch strings.TrimSpace(g) {
		case "small":
			sz.gmm = append(sz.gmm, gmmSize{"", 2, 10, 1000})
		case "large":
			sz.gmm = append(sz.gmm, gmmSize{"", 10, 25, 10000})
		default:
			fmt.Fprintf(stderr, "nablabench adbench: unknown GMM size %q\n", g)
			return 2
		}
	}
	sz.noGrad = *noGrad
	if *quick {
		c.runs, c.warmup, c.min = 1, 0, 0
		sz = adSizes{gmm: []gmmSize{{"", 2, 3, 10}}, lstmChars: 8, baCams: 2, baPts: 5, baObs: 10, rosen: 10, axpy: 10}
	}
	want := func(name string) bool { return *only == "" || listed(*only, name) }
	rows, err := measureADBench(c, sz, want, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: %v\n", err)
		return 1
	}
	reportADBench(stdout, c, rows)
	return 0
}

// listed reports whether name is in the comma-separated list.
func listed(list, name string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

type adSizes struct {
	gmm                  []gmmSize
	lstmChars            int
	baCams, baPts, baObs int
	rosen, axpy          int
	noGrad               string // programs whose gradient is skipped at the large GMM size
}

func measureADBench(c config, sz adSizes, want func(string) bool, log io.Writer) ([]adRow, error) {
	ctx := context.Background()
	var rows []adRow
	// interp times one program's objective and gradient and their bytes
	// per call.
	interp := func(p *nabla.Program, obj, grad string, args []runtime.Value, r adRow) (adRow, error) {
		call := func(name string) (func(), error) {
			if name == "" {
				return nil, nil
			}
			f, err := p.Func(name)
			if err != nil {
				return nil, err
			}
			if _, err := f.CallValues(ctx, args); err != nil {
				return nil, err
			}
			return func() {
				if _, err := f.CallValues(ctx, args); err != nil {
					panic(err)
				}
			}, nil
		}
		fo, err := call(obj)
		if err != nil {
			return r, err
		}
		fg, err := call(grad)
		if err != nil {
			return r, err
		}
		r.obj = timeIt(c, fo)
		r.objBytes, r.objAllocs = allocsPer(fo, r.obj)
		if fg != nil {
			r.grad = timeIt(c, fg)
			r.gradBytes, r.gradAllocs = allocsPer(fg, r.grad)
		}
		return r, nil
	}
	if want("gmm-elem") || want("gmm-vec") {
		p, err := nabla.Compile("gmm_elem.nab", append(append([]byte(nil), gmmSrc...), gmmElemSrc...))
		if err != nil {
			return nil, err
		}
		for _, s := range sz.gmm {
			g, note := loadGMM(c.gmmDir, s)
			args := []runtime.Value{vecValue(g.alphas), matValue(g.means), matValue(g.icf), matValue(g.x), runtime.F64(g.gamma), runtime.I64(g.m)}
			means, icf, xs := flat(g.means), flat(g.icf), flat(g.x)
			hand := timeIt(c, func() { sink += gengo.GMMHand(g.d, g.k, g.n, g.alphas, means, icf, xs, g.gamma, int(g.m)) })
			for _, style := range []struct{ name, obj, grad string }{{"gmm-elem", "gmm_elem", "gmm_elem_grad"}, {"gmm-vec", "gmm", "gmm_grad"}} {
				if !want(style.name) {
					continue
				}
				fmt.Fprintf(log, "%s %s\n", style.name, g.label())
				grad := style.grad
				if listed(sz.noGrad, style.name) && g.n > 1000 {
					grad = ""
				}
				r, err := interp(p, style.obj, grad, args, adRow{program: "GMM " + strings.TrimPrefix(style.name, "gmm-"), size: fmt.Sprintf("d=%d K=%d n=%d", g.d, g.k, g.n), note: note, hand: hand})
				if err != nil {
					return nil, err
				}
				rows = append(rows, r)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	randMat := func(r, cols int, scale float64) []float64 {
		out := make([]float64, r*cols)
		for i := range out {
			out[i] = scale * (2*rng.Float64() - 1)
		}
		return out
	}
	if want("lstm") {
		src, err := gradbench.Source("lstm")
		if err != nil {
			return nil, err
		}
		p, err := nabla.Compile("lstm.nab", src)
		if err != nil {
			return nil, err
		}
		const l, b = 2, 14
		chars := sz.lstmChars
		seq := make([]float64, chars*b)
		for t := range chars {
			seq[t*b+rng.IntN(b)] = 1
		}
		mp, ep, st := randMat(2*l, 4*b, 1), randMat(3, b, 1), randMat(2*l, b, 1)
		args := []runtime.Value{rawMat(mp, 2*l, 4*b), rawMat(ep, 3, b), rawMat(st, 2*l, b), rawMat(seq, chars, b)}
		fmt.Fprintf(log, "lstm c=%d\n", chars)
		r, err := interp(p, "objective", "jacobian", args, adRow{program: "LSTM", size: fmt.Sprintf("l=%d c=%d b=%d", l, chars, b), note: "random"})
		if err != nil {
			return nil, err
		}
		r.hand = timeIt(c, func() { sink += lstmHand(l, b, chars, mp, ep, st, seq) })
		rows = append(rows, r)
	}
	if want("ba") {
		src, err := gradbench.Source("ba")
		if err != nil {
			return nil, err
		}
		p, err := nabla.Compile("ba.nab", append(append([]byte(nil), src...), baFwdSrc...))
		if err != nil {
			return nil, err
		}
		n, m, obs := sz.baCams, sz.baPts, sz.baObs
		cams := randMat(n, 11, 1)
		for i := range n {
			cams[i*11+5] = 5 + rng.Float64() // keep points in front of the cameras
			cams[i*11+6] = 1 + rng.Float64()
		}
		pts := randMat(m, 3, 1)
		w := make([]float64, obs)
		feats := randMat(obs, 2, 1)
		ci, pi := make([]int64, obs), make([]int64, obs)
		for i := range obs {
			w[i] = 0.5 + 0.5*rng.Float64()
			ci[i], pi[i] = int64(i%n), int64(i%m)
		}
		args := []runtime.Value{rawMat(cams, n, 11), rawMat(pts, m, 3), vecValue(w), rawMat(feats, obs, 2),
			runtime.Arr(runtime.FromI64(ci)), runtime.Arr(runtime.FromI64(pi))}
		fmt.Fprintf(log, "ba n=%d m=%d p=%d\n", n, m, obs)
		for _, jac := range []struct{ def, row string }{{"jacobian", "BA (jacrev)"}, {"jacobian_fwd", "BA (jacfwd)"}} {
			r, err := interp(p, "objective", jac.def, args, adRow{program: jac.row, size: fmt.Sprintf("n=%d m=%d p=%d", n, m, obs), note: "random"})
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
	}
	if want("rosenbrock") {
		p, err := nabla.Compile("rosenbrock.nab", rosenSrc)
		if err != nil {
			return nil, err
		}
		x := randMat(1, sz.rosen, 1)
		fmt.Fprintf(log, "rosenbrock n=%d\n", sz.rosen)
		r, err := interp(p, "rosen", "rosen_grad", []runtime.Value{vecValue(x)}, adRow{program: "Rosenbrock", size: fmt.Sprintf("n=%d", sz.rosen), note: "random"})
		if err != nil {
			return nil, err
		}
		r.hand = timeIt(c, func() { sink += gengo.RosenHand(x) })
		g := make([]float64, len(x))
		hand := func() { rosenGradHand(g, x); sink += g[0] }
		r.handGrad = timeIt(c, hand)
		rows = append(rows, r)
		// The gradient into a slice reused from call to call, as the
		// hand-written gradient writes: CallValues above returns a new
		// array per call, whose fresh pages cost as much as the loop.
		into := adRow{program: "Rosenbrock ∇", size: fmt.Sprintf("n=%d", sz.rosen), note: "CallInto, vs the hand-written gradient into a slice it reuses"}
		r, err = intoRow(c, p, "rosen_grad", make([]float64, len(x)), []any{x}, hand, into, log)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	if want("axpy") {
		p, err := nabla.Compile("axpy.nab", []byte(axpySrc))
		if err != nil {
			return nil, err
		}
		x, y := randMat(1, sz.axpy, 1), randMat(1, sz.axpy, 1)
		dst := make([]float64, sz.axpy)
		args := []runtime.Value{runtime.F64(1.5), vecValue(x), vecValue(y)}
		fmt.Fprintf(log, "axpy n=%d\n", sz.axpy)
		hand := timeIt(c, func() { floats.AddScaledTo(dst, y, 1.5, x); sink += dst[0] })
		// A Go function returning a new slice pays for it as the
		// interpreter, which returns a new array, does.
		handNew := timeIt(c, func() { d := make([]float64, len(x)); floats.AddScaledTo(d, y, 1.5, x); sink += d[0] })
		for _, f := range []struct {
			name, def, note string
			hand            time.Duration
		}{
			{"a*x + y", "axpy", "vs gonum floats.AddScaledTo into a slice it reuses", hand},
			{"a*x + y", "axpy", "vs make + gonum floats.AddScaledTo", handNew},
			{"sum(a*x + y)", "sum_axpy", "vs gonum floats.AddScaledTo into a slice it reuses", hand},
		} {
			r, err := interp(p, f.def, "", args, adRow{program: f.name, size: fmt.Sprintf("n=%d", sz.axpy), note: f.note, hand: f.hand})
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
		// Func.CallInto into a slice reused from call to call, as gonum
		// writes (intoRow).
		intoArgs := []any{1.5, x, y}
		var total float64
		for _, f := range []struct {
			name, def string
			dst       any
		}{
			{"a*x + y", "axpy", make([]float64, sz.axpy)},
			{"sum(a*x + y)", "sum_axpy", &total},
		} {
			row := adRow{program: f.name, size: fmt.Sprintf("n=%d", sz.axpy), note: "CallInto, vs gonum floats.AddScaledTo into a slice it reuses"}
			gonum := func() { floats.AddScaledTo(dst, y, 1.5, x); sink += dst[0] }
			r, err := intoRow(c, p, f.def, f.dst, intoArgs, gonum, row, log)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
		sink += total
	}
	return rows, nil
}

// intoRow times def through Func.CallInto into dst (a result reused
// from call to call, with the argument list built once: passing slices
// as any would box them at each call) against hand, which is timed just
// before so that the ratio compares two measurements taken under the
// same load, and logs the best of alternating batches too.
func intoRow(c config, p *nabla.Program, def string, dst any, args []any, hand func(), r adRow, log io.Writer) (adRow, error) {
	fn, err := p.Func(def)
	if err != nil {
		return r, err
	}
	ctx := context.Background()
	call := func() {
		if err := fn.CallInto(ctx, dst, args...); err != nil {
			panic(err)
		}
	}
	r.hand = timeIt(c, hand)
	r.obj = timeIt(c, call)
	r.objBytes, r.objAllocs = allocsPer(call, r.obj)
	best := alternateBest(c, call, hand)
	fmt.Fprintf(log, "%s through CallInto: median %s, hand %s, ratio %.1f; best of alternating batches %v, hand %v, ratio %.2f\n",
		r.program, formatDur(r.obj), formatDur(r.hand), float64(r.obj)/float64(r.hand), best[0], best[1], float64(best[0])/float64(best[1]))
	return r, nil
}

// alternateBest times fs in turn, batch after batch, and returns each
// one's best time per call: on a loaded machine the best of many short
// batches taken side by side compares two fast calls better than
// medians taken one after the other.
func alternateBest(c config, fs ...func()) []time.Duration {
	const batch = 200
	rounds := max(20, c.runs*20)
	if c.min == 0 {
		rounds = 1
	}
	best := make([]time.Duration, len(fs))
	for i := range best {
		best[i] = math.MaxInt64
	}
	for range rounds {
		for i, f := range fs {
			start := time.Now()
			for range batch {
				f()
			}
			best[i] = min(best[i], time.Since(start)/batch)
		}
	}
	return best
}

func reportADBench(w io.Writer, c config, rows []adRow) {
	fmt.Fprintf(w, "Nabla interpreter (one goroutine per call), %s, %s%s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	fmt.Fprintf(w, "CPU time per call, median of %d samples (each a batch of at least %v) after %d warm-up call(s).\n\n", c.runs, c.min, c.warmup)
	fmt.Fprintln(w, "| program | size | objective | gradient | grad ÷ obj | hand Go | obj ÷ hand | hand Go ∇ | grad ÷ hand ∇ | bytes (allocs) per objective | bytes (allocs) per gradient | input |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	dur := func(d time.Duration) string {
		if d == 0 {
			return "—"
		}
		return formatDur(d)
	}
	ratio := func(a, b time.Duration) string {
		if a == 0 || b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f", float64(a)/float64(b))
	}
	bytes := func(d time.Duration, b, n float64) string {
		if d == 0 {
			return "—"
		}
		return fmt.Sprintf("%s (%.0f)", formatBytes(b), n)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.program, r.size, dur(r.obj), dur(r.grad), ratio(r.grad, r.obj),
			dur(r.hand), ratio(r.obj, r.hand), dur(r.handGrad), ratio(r.grad, r.handGrad),
			bytes(r.obj, r.objBytes, r.objAllocs), bytes(r.grad, r.gradBytes, r.gradAllocs), r.note)
	}
}

// allocsPer is allocsPerCall for a call that takes about d, with fewer
// calls when they are slow.
func allocsPer(f func(), d time.Duration) (bytes, allocs float64) {
	if d < 20*time.Millisecond {
		return allocsPerCall(f)
	}
	var a, b goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&a)
	f()
	goruntime.ReadMemStats(&b)
	return float64(b.TotalAlloc - a.TotalAlloc), float64(b.Mallocs - a.Mallocs)
}

func formatBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f kB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func vecValue(x []float64) runtime.Value { return runtime.Arr(runtime.FromF64(x)) }

func matValue(rows [][]float64) runtime.Value {
	cols := 0
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	return rawMat(flat(rows), len(rows), cols)
}

func rawMat(xs []float64, r, cols int) runtime.Value {
	return runtime.Arr(&runtime.Array{Shape: []int{r, cols}, Kind: runtime.ElemF64, F: xs})
}

// rosenGradHand stores the gradient of Rosenbrock's function at x in g,
// as a careful person writes it in Go.
func rosenGradHand(g, x []float64) {
	clear(g)
	for i := 0; i+1 < len(x); i++ {
		t := x[i+1] - x[i]*x[i]
		g[i] += -400*t*x[i] - 2*(1-x[i])
		g[i+1] += 200 * t
	}
}

// lstmHand is lstm.nab's objective as a careful person writes it in Go:
// main_params [2l][4b], extra_params [3][b], state [2l][b] and
// sequence [c][b] are flat row-major slices.
func lstmHand(l, b, c int, mp, ep, state, seq []float64) float64 {
	s := append([]float64(nil), state...)
	v := make([]float64, b)
	y := make([]float64, b)
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	total := 0.0
	for t := 0; t < c-1; t++ {
		for j := range v {
			v[j] = seq[t*b+j] * ep[j]
		}
		for i := 0; i < l; i++ {
			wt, bias := mp[2*i*4*b:(2*i+1)*4*b], mp[(2*i+1)*4*b:(2*i+2)*4*b]
			h, cell := s[2*i*b:(2*i+1)*b], s[(2*i+1)*b:(2*i+2)*b]
			for j := 0; j < b; j++ {
				forget := sigmoid(v[j]*wt[j] + bias[j])
				ingate := sigmoid(h[j]*wt[b+j] + bias[b+j])
				outgate := sigmoid(v[j]*wt[2*b+j] + bias[2*b+j])
				change := math.Tanh(h[j]*wt[3*b+j] + bias[3*b+j])
				cell[j] = cell[j]*forget + ingate*change
				h[j] = outgate * math.Tanh(cell[j])
				v[j] = h[j]
			}
		}
		se := 0.0
		for j := range y {
			y[j] = v[j]*ep[b+j] + ep[2*b+j]
			se += math.Exp(y[j])
		}
		lse := math.Log(se + 2)
		for j := range y {
			total += seq[(t+1)*b+j] * (y[j] - lse)
		}
	}
	return -total / float64((c-1)*b)
}
