// Command nablabench measures the cheap-gradient property of Nabla's
// reverse mode (SPEC §6): for Rosenbrock and the ADBench Gaussian mixture
// objective at growing sizes it times f and grad(f) through the embedded
// interpreter and prints, as a Markdown table, each time and the ratio
// grad/f, which should stay flat as the size grows and be at most 5.
//
// Usage, from the repository root:
//
//	go run ./cmd/nablabench [flags]
//	go run ./cmd/nablabench compile [flags]
//	go run ./cmd/nablabench optim [flags]
//	go run ./cmd/nablabench adbench [flags]
//
// The compile mode times nabla.Compile on generated programs of 500 to
// 8000 lines (straight-line code, its gradient, loops, dependent lets)
// and on grad nested 1 to 9 deep, and prints the CPU time per compile and
// per line (docs/benchmarks.md).
//
// The adbench mode (adbench.go) times ADBench's problems in both the
// element-wise and the vectorized style against hand-written Go.
//
// The optim mode (optim.go) compares std/optim (the generated Go package
// stdlib/go/optim, or with -interp the interpreter) with gonum's optimize
// package instead; see its -help.
//
// Each time is the median of -runs samples taken after -warmup calls; a
// sample times a batch of calls lasting at least -min and divides by the
// batch size, and f and grad(f) samples alternate so that drift in the
// machine's speed affects both alike. Samples measure wall-clock time and,
// on Unix, the process's CPU time (user + system, so garbage collection
// on other cores counts): on a machine shared with other work the CPU
// times are the steadier measure, and the verdict uses them when they are
// available. The GMM instances are ADBench's
// (gmm_1k_d2_K5, gmm_1k_d10_K5, gmm_10k_d2_K5) read from -gmm; a missing
// file is replaced by a random instance of the same sizes, and the table
// says which was used. A 100-point instance (random) completes the 100×
// range in n for d = 2.
//
// With -check, the exit status is 1 unless every ratio is at most 5 and,
// for each program, the largest ratio across sizes is at most 1.5 times
// the smallest.
//
// The Nabla programs are embedded: rosenbrock.nab, and gmm.nab, a copy of
// tests/testdata/gmm.nab (a test keeps the two equal).
//
// With -go it times the Go code nabla gen generates for the same programs
// (package gengo) instead: generated objective against a hand-written Go
// version, gradient ÷ objective, and bytes allocated per call of the
// gradient's ...Into variant, for Rosenbrock with n = 10…10⁶, GMM, and
// GradBench's LSTM and bundle adjustment (docs/performance.md, "Generated
// Go").
package main

import (
	"bufio"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nabla-lang/nabla"
)

//go:embed gmm.nab
var gmmSrc []byte

//go:embed rosenbrock.nab
var rosenSrc []byte

// baFwdSrc is BA's Jacobian by forward mode, appended to ba.nab.
//
//go:embed ba_fwd.nab
var baFwdSrc []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	runs, warmup int
	min          time.Duration
	gmmDir       string
	rosenSizes   []int
	gmmSizes     []gmmSize
	check        bool
}

type gmmSize struct {
	name    string // ADBench file name without .txt; "" for random only
	d, k, n int
}

// A row of the table: one program at one size.
type row struct {
	program, size, note string
	f, grad             sample // medians
	group               string // rows whose ratios must be flat together
}

// A sample is the time of one call: wall-clock and CPU (0 if unknown).
type sample struct{ wall, cpu time.Duration }

func (r row) ratio() float64    { return float64(r.grad.wall) / float64(r.f.wall) }
func (r row) cpuRatio() float64 { return float64(r.grad.cpu) / float64(r.f.cpu) }

// verdictRatio is the ratio the requirement is checked on: CPU time when
// known, else wall-clock time.
func (r row) verdictRatio() float64 {
	if r.f.cpu > 0 && r.grad.cpu > 0 {
		return r.cpuRatio()
	}
	return r.ratio()
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compile" {
		return runCompile(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "optim" {
		return runOptim(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "adbench" {
		return runADBench(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("nablabench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{}
	fs.IntVar(&c.runs, "runs", 7, "samples per measurement (the median is reported)")
	fs.IntVar(&c.warmup, "warmup", 1, "calls of each function before sampling")
	fs.DurationVar(&c.min, "min", 50*time.Millisecond, "least duration of one sample's batch of calls")
	fs.StringVar(&c.gmmDir, "gmm", filepath.Join("..", "shared", "data", "adbench-gmm"), "directory of the ADBench GMM instances")
	rosen := fs.String("rosen", "100,1000,10000", "Rosenbrock sizes n, comma-separated")
	quick := fs.Bool("quick", false, "tiny sizes and one sample (a smoke test, not a measurement)")
	fs.BoolVar(&c.check, "check", false, "exit 1 unless the ratios are at most 5 and flat")
	procs := fs.Int("procs", 1, "with -go: GOMAXPROCS while timing (1: single-threaded ratios; parallel loops then run on the calling goroutine)")
	only := fs.String("only", "", "with -go: the programs to time, comma-separated (rosenbrock, gmm, lstm, ba; default all)")
	goMode := fs.Bool("go", false, "time the generated Go code (package gengo) instead of the interpreter: generated ÷ hand-written Go, ∇f ÷ f, bytes per Into call")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nablabench [flags]\n\nTimes f and grad(f) for Rosenbrock and the ADBench GMM objective and prints\nthe ratio grad/f as a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	for _, s := range strings.Split(*rosen, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			fmt.Fprintf(stderr, "nablabench: bad Rosenbrock size %q\n", s)
			return 2
		}
		c.rosenSizes = append(c.rosenSizes, n)
	}
	c.gmmSizes = []gmmSize{{"", 2, 5, 100}, {"gmm_1k_d2_K5", 2, 5, 1000}, {"gmm_10k_d2_K5", 2, 5, 10000}, {"gmm_1k_d10_K5", 10, 5, 1000}}
	if *quick {
		c.runs, c.warmup, c.min = 1, 0, 0
		c.rosenSizes = []int{10, 100}
		c.gmmSizes = []gmmSize{{"", 2, 3, 10}, {"", 3, 2, 20}}
	}
	if c.runs < 1 {
		fmt.Fprintln(stderr, "nablabench: -runs must be at least 1")
		return 2
	}
	if *goMode {
		sz := goSizes{
			rosen: []int{10, 100, 1000, 10000, 100000, 1000000},
			gmm:   []gmmSize{{"gmm_1k_d2_K5", 2, 5, 1000}, {"", 2, 10, 1000}, {"", 10, 25, 10000}},
			// GradBench's smallest LSTM and the largest it records; b = 14.
			lstm: []lstmSize{{2, 1024, 14}, {6, 1024, 14}},
			// GradBench's smallest and a mid-sized default instance.
			ba: []baSize{{"ba1", 49, 7776, 31843}, {"ba5", 257, 65132, 225911}},
		}
		if *quick {
			sz = goSizes{rosen: []int{10, 100}, gmm: []gmmSize{{"", 2, 3, 10}}, lstm: []lstmSize{{1, 4, 3}}, ba: []baSize{{"tiny", 2, 3, 5}}}
		}
		if *only != "" {
			keep := map[string]bool{}
			for _, p := range strings.Split(*only, ",") {
				keep[strings.TrimSpace(p)] = true
			}
			for p := range keep {
				if !slices.Contains([]string{"rosenbrock", "gmm", "lstm", "ba"}, p) {
					fmt.Fprintf(stderr, "nablabench: -only: unknown program %q\n", p)
					return 2
				}
			}
			if !keep["rosenbrock"] {
				sz.rosen = nil
			}
			if !keep["gmm"] {
				sz.gmm = nil
			}
			if !keep["lstm"] {
				sz.lstm = nil
			}
			if !keep["ba"] {
				sz.ba = nil
			}
		}
		if *procs < 1 {
			fmt.Fprintln(stderr, "nablabench: -procs must be at least 1")
			return 2
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
		reportGo(stdout, measureGo(c, sz, stderr))
		return 0
	}
	rows, err := measureAll(c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: %v\n", err)
		return 1
	}
	ok := report(stdout, c, rows)
	if c.check && !ok {
		return 1
	}
	return 0
}

func measureAll(c config, log io.Writer) ([]row, error) {
	ctx := context.Background()
	rp, err := nabla.Compile("rosenbrock.nab", rosenSrc)
	if err != nil {
		return nil, err
	}
	gp, err := nabla.Compile("gmm.nab", gmmSrc)
	if err != nil {
		return nil, err
	}
	funcs := func(p *nabla.Program, f, g string) (*nabla.Func, *nabla.Func, error) {
		ff, err := p.Func(f)
		if err != nil {
			return nil, nil, err
		}
		gg, err := p.Func(g)
		return ff, gg, err
	}
	var rows []row
	rf, rg, err := funcs(rp, "rosen", "rosen_grad")
	if err != nil {
		return nil, err
	}
	for _, n := range c.rosenSizes {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		fmt.Fprintf(log, "rosenbrock n=%d\n", n)
		tf, tg, err := measure(ctx, c, rf, rg, []any{x})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{program: "rosenbrock", size: fmt.Sprintf("n = %d", n), f: tf, grad: tg, group: "rosenbrock"})
	}
	gf, gg, err := funcs(gp, "gmm", "gmm_grad")
	if err != nil {
		return nil, err
	}
	for _, s := range c.gmmSizes {
		inst, note := loadGMM(c.gmmDir, s)
		fmt.Fprintf(log, "gmm %s: %s\n", inst.label(), note)
		tf, tg, err := measure(ctx, c, gf, gg, inst.args())
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{program: "gmm", size: inst.label(), note: note, f: tf, grad: tg, group: fmt.Sprintf("gmm d=%d", s.d)})
	}
	return rows, nil
}

// measure returns the median time of one call of f and of g.
func measure(ctx context.Context, c config, f, g *nabla.Func, args []any) (sample, sample, error) {
	var none sample
	timeN := func(fn *nabla.Func, n int) (sample, error) {
		start, cpu0 := time.Now(), cpuTime()
		for range n {
			if _, err := fn.Call(ctx, args...); err != nil {
				return none, err
			}
		}
		return sample{time.Since(start) / time.Duration(n), (cpuTime() - cpu0) / time.Duration(n)}, nil
	}
	callN := func(fn *nabla.Func, n int) (time.Duration, error) {
		s, err := timeN(fn, n)
		return s.wall * time.Duration(n), err
	}
	batch := func(fn *nabla.Func) (int, error) {
		for range c.warmup {
			if _, err := callN(fn, 1); err != nil {
				return 0, err
			}
		}
		d, err := callN(fn, 1)
		if err != nil {
			return 0, err
		}
		return max(1, int(math.Ceil(float64(c.min)/float64(max(d, time.Nanosecond))))), nil
	}
	nf, err := batch(f)
	if err != nil {
		return none, none, err
	}
	ng, err := batch(g)
	if err != nil {
		return none, none, err
	}
	var sf, sg []sample
	for range c.runs {
		runtime.GC()
		s, err := timeN(f, nf)
		if err != nil {
			return none, none, err
		}
		sf = append(sf, s)
		runtime.GC()
		if s, err = timeN(g, ng); err != nil {
			return none, none, err
		}
		sg = append(sg, s)
	}
	return medians(sf), medians(sg), nil
}

// medians takes the median of each measure separately.
func medians(ss []sample) sample {
	var wall, cpu []time.Duration
	for _, s := range ss {
		wall, cpu = append(wall, s.wall), append(cpu, s.cpu)
	}
	return sample{median(wall), median(cpu)}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// report prints the table and the verdict, and reports whether the
// requirement holds.
func report(w io.Writer, c config, rows []row) bool {
	fmt.Fprintf(w, "Nabla interpreter, %s, %s%s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	fmt.Fprintf(w, "Median of %d samples (each a batch of calls of at least %v) after %d warm-up call(s).\n\n", c.runs, c.min, c.warmup)
	withCPU := len(rows) > 0 && rows[0].f.cpu > 0
	if withCPU {
		fmt.Fprintln(w, "| program | size | f | grad f | grad f / f | f (CPU) | grad f (CPU) | grad f / f (CPU) |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	} else {
		fmt.Fprintln(w, "| program | size | f | grad f | grad f / f |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	}
	for _, r := range rows {
		size := r.size
		if r.note != "" {
			size += " (" + r.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.2f |", r.program, size, formatDur(r.f.wall), formatDur(r.grad.wall), r.ratio())
		if withCPU {
			fmt.Fprintf(w, " %s | %s | %.2f |", formatDur(r.f.cpu), formatDur(r.grad.cpu), r.cpuRatio())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if withCPU {
		fmt.Fprintln(w, "The verdict below uses the CPU-time ratios.")
	}
	ok := true
	var groups []string
	lo, hi := map[string]float64{}, map[string]float64{}
	for _, r := range rows {
		q := r.verdictRatio()
		if q > 5 {
			ok = false
			fmt.Fprintf(w, "FAIL: %s %s: grad f / f = %.2f > 5\n", r.program, r.size, q)
		}
		if _, seen := lo[r.group]; !seen {
			groups = append(groups, r.group)
			lo[r.group], hi[r.group] = q, q
		}
		lo[r.group], hi[r.group] = math.Min(lo[r.group], q), math.Max(hi[r.group], q)
	}
	for _, g := range groups {
		spread := hi[g] / lo[g]
		verdict := "flat"
		if spread > 1.5 {
			verdict, ok = "NOT FLAT", false
		}
		fmt.Fprintf(w, "%s: ratios %.2f to %.2f across sizes (spread %.2f×): %s\n", g, lo[g], hi[g], spread, verdict)
	}
	if ok {
		fmt.Fprintln(w, "\nOK: every ratio is at most 5 and flat (spread at most 1.5×) across sizes.")
	} else {
		fmt.Fprintln(w, "\nThe cheap-gradient requirement does not hold on this run.")
	}
	return ok
}

func formatDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Nanosecond:
		return fmt.Sprintf("%d ns", d) // a call of a few ns would read 0.0 µs
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// loadAverage reports the load on Linux (", load 1.02"), else "".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return ", load average " + f[0]
	}
	return ""
}

// machine describes the CPU and Go runtime.
func machine() string {
	cpu := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s %s/%s", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// ---- GMM instances ----

type gmmInstance struct {
	d, k, n int
	alphas  []float64
	means   [][]float64
	icf     [][]float64
	x       [][]float64
	gamma   float64
	m       int64
}

func (g *gmmInstance) label() string {
	return fmt.Sprintf("n = %d, d = %d, K = %d", g.n, g.d, g.k)
}

func (g *gmmInstance) args() []any {
	return []any{g.alphas, g.means, g.icf, g.x, g.gamma, g.m}
}

// loadGMM reads an ADBench instance, or makes a random one of the same
// sizes; the note says which.
func loadGMM(dir string, s gmmSize) (*gmmInstance, string) {
	if s.name != "" {
		path := filepath.Join(dir, s.name+".txt")
		g, err := readGMM(path)
		if err == nil && g.d == s.d && g.k == s.k && g.n == s.n {
			return g, "ADBench " + s.name
		}
		if err == nil {
			err = fmt.Errorf("%s has sizes d=%d K=%d n=%d", path, g.d, g.k, g.n)
		}
		return randomGMM(s), fmt.Sprintf("random: %v", err)
	}
	return randomGMM(s), "random"
}

func readGMM(path string) (*gmmInstance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(string(data))
	next := func() (float64, error) {
		if len(words) == 0 {
			return 0, fmt.Errorf("%s: unexpected end of file", path)
		}
		v, err := strconv.ParseFloat(words[0], 64)
		words = words[1:]
		return v, err
	}
	vec := func(n int) ([]float64, error) {
		out := make([]float64, n)
		for i := range out {
			v, err := next()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	rows := func(r, c int) ([][]float64, error) {
		out := make([][]float64, r)
		for i := range out {
			v, err := vec(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	head, err := vec(3)
	if err != nil {
		return nil, err
	}
	g := &gmmInstance{d: int(head[0]), k: int(head[1]), n: int(head[2])}
	if g.d < 1 || g.k < 1 || g.n < 1 {
		return nil, fmt.Errorf("%s: bad sizes %v", path, head)
	}
	if g.alphas, err = vec(g.k); err != nil {
		return nil, err
	}
	if g.means, err = rows(g.k, g.d); err != nil {
		return nil, err
	}
	if g.icf, err = rows(g.k, g.d*(g.d+1)/2); err != nil {
		return nil, err
	}
	if g.x, err = rows(g.n, g.d); err != nil {
		return nil, err
	}
	tail, err := vec(2)
	if err != nil {
		return nil, err
	}
	g.gamma, g.m = tail[0], int64(tail[1])
	return g, nil
}

func randomGMM(s gmmSize) *gmmInstance {
	rng := rand.New(rand.NewPCG(uint64(s.n), uint64(s.d)))
	g := &gmmInstance{d: s.d, k: s.k, n: s.n, gamma: 1, m: 0}
	vec := func(n int, scale float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = scale * (2*rng.Float64() - 1)
		}
		return out
	}
	g.alphas = vec(s.k, 1)
	for range s.k {
		g.means = append(g.means, vec(s.d, 1))
		g.icf = append(g.icf, vec(s.d*(s.d+1)/2, 1))
	}
	for range s.n {
		g.x = append(g.x, vec(s.d, 2))
	}
	return g
}
