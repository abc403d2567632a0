package main

// The optim mode: `nablabench optim` runs L-BFGS, BFGS, Newton and
// nonlinear CG of Nabla's standard library and of
// gonum.org/v1/gonum/optimize on the same Moré–Garbow–Hillstrom problems
// from the same starting points, with the same gradient tolerance
// (‖∇f‖∞) and iteration cap, and prints side by side success, function,
// gradient and Hessian evaluations, iterations, and the ratio of times
// measured in the same run. By default std/optim is the generated Go
// package stdlib/go/optim called with Go callbacks of gonum's Func, Grad
// and Hess; with -interp it is std/optim run by the embedded interpreter
// on the Nabla objectives of mgh.nab.

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/nabla-lang/nabla"
	goptim "github.com/nabla-lang/nabla/stdlib/go/optim"
)

// mghSrc holds the test problems in Nabla, term by term as gonum writes
// them; stdlib's tests read the same file.
//
//go:embed mgh.nab
var mghSrc []byte

// An optProblem is one test problem: its Nabla def in mgh.nab, gonum's
// implementation and a starting point (MGH's).
type optProblem struct {
	name, def string
	fn        gonumFunc
	x0        []float64
	fstar     float64 // the known minimum value
}

type gonumFunc interface {
	Func(x []float64) float64
	Grad(grad, x []float64)
}

type gonumHess interface {
	Hess(dst *mat.SymDense, x []float64)
}

func fill(n int, f func(i int) float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = f(i)
	}
	return x
}

// optProblems are the problems of the benchmark (and of stdlib's tests).
func optProblems() []optProblem {
	return []optProblem{
		{"Rosenbrock", "rosenbrock", functions.ExtendedRosenbrock{}, []float64{-1.2, 1}, 0},
		{"ExtendedRosenbrock n=10", "rosenbrock", functions.ExtendedRosenbrock{}, fill(10, func(i int) float64 { return [2]float64{-1.2, 1}[i%2] }), 0},
		{"Beale", "beale", functions.Beale{}, []float64{1, 1}, 0},
		{"PowellBadlyScaled", "powell_bs", functions.PowellBadlyScaled{}, []float64{0, 1}, 0},
		{"BrownBadlyScaled", "brown_bs", functions.BrownBadlyScaled{}, []float64{1, 1}, 0},
		{"Wood", "wood", functions.Wood{}, []float64{-3, -1, -3, -1}, 0},
		{"HelicalValley", "helical", functions.HelicalValley{}, []float64{-1, 0, 0}, 0},
		{"Box3D", "box", functions.Box3D{}, []float64{0, 10, 20}, 0},
		{"Gaussian", "gaussian", functions.Gaussian{}, []float64{0.4, 1, 0}, 1.12793276961912e-08},
		{"BiggsEXP6", "biggs6", functions.BiggsEXP6{}, []float64{1, 2, 1, 1, 1, 1}, 0},
		{"BrownAndDennis", "brown_dennis", functions.BrownAndDennis{}, []float64{25, 5, -5, -1}, 85822.2016263563},
		{"ExtendedPowellSingular n=4", "powell_sing", functions.ExtendedPowellSingular{}, []float64{3, -1, 0, 1}, 0},
		{"Trigonometric n=10", "trigonometric", functions.Trigonometric{}, fill(10, func(int) float64 { return 0.1 }), 0},
		{"VariablyDimensioned n=10", "var_dim", functions.VariablyDimensioned{}, fill(10, func(i int) float64 { return 1 - float64(i+1)/10 }), 0},
		{"PenaltyI n=10", "penalty1", functions.PenaltyI{}, fill(10, func(i int) float64 { return float64(i + 1) }), 7.08765146709037993e-05},
	}
}

// optMethod pairs a method of std/optim with gonum's.
type optMethod struct {
	name  string
	call  string // the Nabla call, with F for the objective
	gonum func() optimize.Method
	hess  bool // the methods need the Hessian
	// ours runs the generated Go driver (stdlib/go/optim) with counting
	// callbacks.
	ours func(c *callbacks, x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error)
}

func optMethods() []optMethod {
	return []optMethod{
		{"L-BFGS (m = 10)", "optim.lbfgs_run(F, x0, 10, max_iter, gtol)", func() optimize.Method { return &optimize.LBFGS{Store: 10} }, false,
			func(c *callbacks, x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error) {
				return goptim.Lbfgs(c.fg, x0, 10, maxIter, gtol)
			}},
		{"BFGS", "optim.bfgs_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.BFGS{} }, false,
			func(c *callbacks, x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error) {
				return goptim.Bfgs(c.fg, x0, maxIter, gtol)
			}},
		{"Newton", "optim.newton_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.Newton{} }, true,
			func(c *callbacks, x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error) {
				return goptim.Newton(c.f, c.g, c.hess, x0, maxIter, gtol)
			}},
		{"CG", "optim.nonlinear_cg_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.CG{} }, false,
			func(c *callbacks, x0 []float64, maxIter int64, gtol float64) ([]float64, float64, int64, int64, error) {
				return goptim.NonlinearCg(c.fg, x0, maxIter, gtol)
			}},
	}
}

// optDriver is the Nabla program the benchmark runs: one def per problem
// and method, and the gradient of each problem.
func optDriver(probs []optProblem, methods []optMethod) string {
	var b strings.Builder
	b.WriteString("import \"std/optim\"\nimport \"mgh.nab\"\n")
	seen := map[string]bool{}
	for _, p := range probs {
		if seen[p.def] {
			continue
		}
		seen[p.def] = true
		for j, m := range methods {
			fmt.Fprintf(&b, "def run_%s_%d(x0: [n]f64, max_iter: i64, gtol: f64) = %s\n", p.def, j, strings.Replace(m.call, "F", "mgh."+p.def, 1))
		}
		fmt.Fprintf(&b, "def grad_%s(x: [n]f64) = grad(mgh.%s)(x)\n", p.def, p.def)
	}
	return b.String()
}

// compileOpt compiles the driver with mgh.nab beside it.
func compileOpt(probs []optProblem, methods []optMethod) (*nabla.Program, error) {
	read := func(path string) ([]byte, error) {
		if strings.HasSuffix(path, "mgh.nab") {
			return mghSrc, nil
		}
		return nil, fmt.Errorf("no file %s", path)
	}
	return nabla.Compile("driver.nab", []byte(optDriver(probs, methods)), nabla.WithReadFile(read))
}

// An optOutcome is one run of one method on one problem.
type optOutcome struct {
	ok                bool
	f, gnorm          float64
	fev, gev, hev, it int
	note              string // why the method did not run
}

func (o optOutcome) cells() string {
	if o.note != "" {
		return o.note + " | | "
	}
	ok := "no"
	if o.ok {
		ok = "yes"
	}
	h := ""
	if o.hev > 0 {
		h = fmt.Sprintf("/%d", o.hev)
	}
	return fmt.Sprintf("%s | %d/%d%s | %d", ok, o.fev, o.gev, h, o.it)
}

func infNorm(g []float64) float64 {
	m := 0.0
	for _, v := range g {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// successful tells a run reached the gradient tolerance, or the known
// minimum to 1e-14 (relative to max(1, |f*|)) when rounding stopped it
// just short of the tolerance.
func successful(f, gnorm, gtol, fstar float64) bool {
	return gnorm <= gtol || math.Abs(f-fstar) <= 1e-14*math.Max(1, math.Abs(fstar))
}

// outcome judges a run that ended at x with value f; the gradient there is
// gonum's, uncounted.
func (p optProblem) outcome(x []float64, f, gtol float64, fev, gev, hev, it int) optOutcome {
	g := make([]float64, len(x))
	p.fn.Grad(g, x)
	o := optOutcome{f: f, gnorm: infNorm(g), fev: fev, gev: gev, hev: hev, it: it}
	o.ok = successful(f, o.gnorm, gtol, p.fstar)
	return o
}

// A spread is the median of some ratios and their range.
type spread struct{ med, lo, hi float64 }

func (s spread) String() string { return fmt.Sprintf("%.2f (%.2f–%.2f)", s.med, s.lo, s.hi) }

func spreadOf(xs []float64) spread {
	slices.Sort(xs)
	return spread{xs[len(xs)/2], xs[0], xs[len(xs)-1]}
}

// A pairTiming compares the times of ours and theirs.
type pairTiming struct {
	wall, cpu spread        // ratios ours/theirs of wall and CPU time (cpu.med 0 if unknown)
	theirs    time.Duration // median wall time of one run of theirs
}

// pairTime times ours and theirs in alternating batches (the order
// alternating too), each batch lasting at least min, and returns the
// ratios ours/theirs of wall and process CPU time per run over the
// batches. Pairing the batches makes a change in the machine's load during
// the run hit both sides alike.
func pairTime(runs int, min time.Duration, ours, theirs func() error) (pairTiming, error) {
	size := func(run func() error) (int, error) {
		start := time.Now()
		if err := run(); err != nil {
			return 0, err
		}
		return max(1, int(min/max(time.Since(start), time.Microsecond))), nil
	}
	nO, err := size(ours)
	if err != nil {
		return pairTiming{}, err
	}
	nT, err := size(theirs)
	if err != nil {
		return pairTiming{}, err
	}
	batch := func(run func() error, n int) (sample, error) {
		start, cpu := time.Now(), cpuTime()
		for range n {
			if err := run(); err != nil {
				return sample{}, err
			}
		}
		return sample{time.Since(start) / time.Duration(n), (cpuTime() - cpu) / time.Duration(n)}, nil
	}
	var walls, cpus []float64
	var ts []time.Duration
	for r := range runs {
		var o, t sample
		if r%2 == 0 {
			if t, err = batch(theirs, nT); err == nil {
				o, err = batch(ours, nO)
			}
		} else {
			if o, err = batch(ours, nO); err == nil {
				t, err = batch(theirs, nT)
			}
		}
		if err != nil {
			return pairTiming{}, err
		}
		walls = append(walls, float64(o.wall)/float64(max(t.wall, 1)))
		if t.cpu > 0 {
			cpus = append(cpus, float64(o.cpu)/float64(t.cpu))
		}
		ts = append(ts, t.wall)
	}
	pt := pairTiming{wall: spreadOf(walls), theirs: median(ts)}
	if len(cpus) == len(walls) {
		pt.cpu = spreadOf(cpus)
	}
	return pt, nil
}

// callbacks are p's objective, gradient and Hessian as Go callbacks of
// the generated std/optim, counting their calls; fg counts one of each.
type callbacks struct {
	fg   func(x []float64) (float64, []float64)
	f    func(x []float64) float64
	g    func(x []float64) []float64
	hess func(x []float64) []float64 // n·n values, row by row

	nf, ng, nh int
}

func newCallbacks(p optProblem, h hessFunc) *callbacks {
	n := len(p.x0)
	c := &callbacks{}
	// The gradient is a new slice each call: the driver may keep it.
	grad := func(x []float64) []float64 {
		g := make([]float64, n)
		p.fn.Grad(g, x)
		return g
	}
	c.fg = func(x []float64) (float64, []float64) {
		c.nf++
		c.ng++
		return p.fn.Func(x), grad(x)
	}
	c.f = func(x []float64) float64 { c.nf++; return p.fn.Func(x) }
	c.g = func(x []float64) []float64 { c.ng++; return grad(x) }
	if h != nil {
		dst := mat.NewSymDense(n, nil)
		c.hess = func(x []float64) []float64 {
			c.nh++
			h(dst, x)
			out := make([]float64, n*n)
			for i := range n {
				for j := range n {
					out[i*n+j] = dst.At(i, j)
				}
			}
			return out
		}
	}
	return c
}

// runOurs runs the generated driver of m on p once. The driver's own count
// of evaluations must equal its callbacks' (f for Newton, fg otherwise).
func runOurs(p optProblem, m optMethod, h hessFunc, maxIter int, gtol float64) (optOutcome, error) {
	if m.hess && h == nil {
		return optOutcome{note: "n/a (no Hessian)"}, nil
	}
	c := newCallbacks(p, h)
	x, f, it, nev, err := m.ours(c, p.x0, int64(maxIter), gtol)
	if err != nil {
		return optOutcome{}, err
	}
	if int(nev) != c.nf {
		return optOutcome{}, fmt.Errorf("the driver reports %d evaluations, its callbacks counted %d", nev, c.nf)
	}
	return p.outcome(x, f, gtol, c.nf, c.ng, c.nh, int(it)), nil
}

// gonumSettings are gonum's stopping rules for the benchmark. The
// evaluation and time caps keep gonum's CG from running forever on
// PowellBadlyScaled (its line search never ends a major iteration there).
func gonumSettings(maxIter int, gtol float64) *optimize.Settings {
	return &optimize.Settings{GradientThreshold: gtol, MajorIterations: maxIter, FuncEvaluations: 50 * maxIter, Runtime: 10 * time.Second}
}

// runGonum runs gonum's m on p once, counting the callbacks' calls as
// well: they must agree with gonum's Stats.
func runGonum(p optProblem, m optMethod, h hessFunc, maxIter int, gtol float64) (optOutcome, error) {
	if m.hess && h == nil {
		return optOutcome{note: "n/a (no Hessian)"}, nil
	}
	var nf, ng, nh int
	prob := optimize.Problem{
		Func: func(x []float64) float64 { nf++; return p.fn.Func(x) },
		Grad: func(g, x []float64) { ng++; p.fn.Grad(g, x) },
	}
	if h != nil {
		prob.Hess = func(dst *mat.SymDense, x []float64) { nh++; h(dst, x) }
	}
	res, err := optimize.Minimize(prob, slices.Clone(p.x0), gonumSettings(maxIter, gtol), m.gonum())
	if res == nil {
		return optOutcome{note: fmt.Sprintf("error: %v", err)}, nil
	}
	if s := res.Stats; s.FuncEvaluations != nf || s.GradEvaluations != ng || s.HessEvaluations != nh {
		return optOutcome{}, fmt.Errorf("gonum reports %d/%d/%d evaluations, its callbacks counted %d/%d/%d", s.FuncEvaluations, s.GradEvaluations, s.HessEvaluations, nf, ng, nh)
	}
	return p.outcome(res.X, res.F, gtol, nf, ng, nh, res.Stats.MajorIterations), nil
}

// oursRunner is one run of the generated driver of m on p, for timing: no
// check of the result, as for gonum.
func oursRunner(p optProblem, m optMethod, h hessFunc, maxIter int, gtol float64) func() error {
	c := newCallbacks(p, h)
	return func() error {
		_, _, _, _, err := m.ours(c, p.x0, int64(maxIter), gtol)
		return err
	}
}

// gonumRunner is one run of gonum's m on p, for timing.
func gonumRunner(p optProblem, m optMethod, h hessFunc, maxIter int, gtol float64) func() error {
	prob := optimize.Problem{Func: p.fn.Func, Grad: p.fn.Grad, Hess: h}
	settings := gonumSettings(maxIter, gtol)
	return func() error {
		// A failed run is timed as it is; the outcome says so.
		optimize.Minimize(prob, slices.Clone(p.x0), settings, m.gonum())
		return nil
	}
}

// An optRow is one method on one problem: both sides' outcomes and
// their times.
type optRow struct {
	prob      optProblem
	method    string
	gon, ours optOutcome
	time      *pairTiming // nil when not timed
}

func (r optRow) key() string { return r.prob.name + " " + r.method }

// measureOptimGo runs both libraries' methods on probs: the generated
// std/optim with Go callbacks against gonum.
func measureOptimGo(probs []optProblem, maxIter int, gtol float64, runs int, min time.Duration, log io.Writer) ([]optRow, error) {
	var rows []optRow
	for _, p := range probs {
		h := hessianOf(p)
		for _, m := range optMethods() {
			fmt.Fprintf(log, "%s %s\n", p.name, m.name)
			r := optRow{prob: p, method: m.name}
			var err error
			if r.gon, err = runGonum(p, m, h, maxIter, gtol); err != nil {
				return nil, fmt.Errorf("%s: gonum: %v", r.key(), err)
			}
			if r.ours, err = runOurs(p, m, h, maxIter, gtol); err != nil {
				return nil, fmt.Errorf("%s: std/optim: %v", r.key(), err)
			}
			if r.gon.note == "" && r.ours.note == "" {
				pt, err := pairTime(runs, min, oursRunner(p, m, h, maxIter, gtol), gonumRunner(p, m, h, maxIter, gtol))
				r.time = &pt
				if err != nil {
					return nil, fmt.Errorf("%s: %v", r.key(), err)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// reportOptimGo prints the rows and, below, each run gonum solves where
// std/optim misses the goal (solved, no more evaluations of f, ∇f and
// ∇²f, less time: CPU time where it is known, as in the default mode),
// with the reasons.
func reportOptimGo(w io.Writer, rows []optRow) {
	fmt.Fprintln(w, "| problem | n | method | gonum ok | gonum f/∇/H | gonum iters | ours ok | ours f/∇/H | ours iters | gonum time | wall ours/gonum (range) | CPU ours/gonum (range) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	var ratios []float64
	var misses []string
	solved, met := 0, 0
	for _, r := range rows {
		t, wall, cpu := "—", "—", "—"
		if r.time != nil {
			t = formatDur(r.time.theirs)
			wall = r.time.wall.String()
			ratios = append(ratios, r.time.wall.med)
			if r.time.cpu.med > 0 {
				cpu = r.time.cpu.String()
			}
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", r.prob.name, len(r.prob.x0), r.method, r.gon.cells(), r.ours.cells(), t, wall, cpu)
		if r.gon.note != "" || !r.gon.ok {
			continue
		}
		solved++
		var why []string
		if !r.ours.ok {
			why = append(why, "not solved")
		} else {
			for _, c := range []struct {
				what      string
				ours, gon int
			}{{"f", r.ours.fev, r.gon.fev}, {"∇f", r.ours.gev, r.gon.gev}, {"∇²f", r.ours.hev, r.gon.hev}} {
				if c.ours > c.gon {
					why = append(why, fmt.Sprintf("%s %d > %d", c.what, c.ours, c.gon))
				}
			}
		}
		if r.time != nil {
			// CPU time when known: on a loaded machine wall time also
			// counts the waits for a core, which hit short batches unevenly.
			what, t := "CPU", r.time.cpu.med
			if t == 0 {
				what, t = "wall", r.time.wall.med
			}
			if t >= 1 {
				why = append(why, fmt.Sprintf("%s time ×%.2f", what, t))
			}
		}
		if len(why) == 0 {
			met++
		} else {
			misses = append(misses, fmt.Sprintf("%s (%s)", r.key(), strings.Join(why, ", ")))
		}
	}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		fmt.Fprintf(w, "\nWall-time ratio ours/gonum: median %.2f, range %.2f–%.2f over %d runs.\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], len(ratios))
	}
	fmt.Fprintf(w, "Of %d runs gonum solves, std/optim meets the goal (solved, no more f, ∇f, ∇²f evaluations, less CPU time) in %d.\n", solved, met)
	if len(misses) > 0 {
		fmt.Fprintf(w, "Missed (%d): %s.\n", len(misses), strings.Join(misses, "; "))
	}
}

func runOptim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nablabench optim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gtol := fs.Float64("gtol", 1e-8, "gradient tolerance ‖∇f‖∞ for both libraries")
	maxIter := fs.Int("max-iter", 1000, "iteration cap for both libraries")
	runs := fs.Int("runs", 5, "timing batches of each side, alternating (the median ratio is reported)")
	minDur := fs.Duration("min", 20*time.Millisecond, "least duration of one timing batch")
	only := fs.String("problems", "", "comma-separated problem names (default: all)")
	quick := fs.Bool("quick", false, "two problems, one short timing batch (a smoke test)")
	interp := fs.Bool("interp", false, "run std/optim through the embedded interpreter instead of the generated Go package")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nablabench optim [flags]\n\nRuns L-BFGS, BFGS, Newton and nonlinear CG of std/optim (the generated Go\npackage stdlib/go/optim, or with -interp the embedded interpreter) and of\ngonum's optimize on MGH test problems and prints a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	probs := optProblems()
	if *quick {
		probs, *runs, *minDur = probs[:3:3], 1, 0
		probs = slices.Delete(probs, 1, 2)
	}
	if *only != "" {
		want := strings.Split(*only, ",")
		probs = slices.DeleteFunc(probs, func(p optProblem) bool { return !slices.Contains(want, p.name) })
	}
	if *interp {
		return runOptimInterp(probs, *maxIter, *gtol, *runs, *minDur, stdout, stderr)
	}
	rows, err := measureOptimGo(probs, *maxIter, *gtol, *runs, *minDur, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s%s. Gradient tolerance ‖∇f‖∞ ≤ %g, at most %d iterations. Cells: solved | evaluations f/∇f(/∇²f) | iterations. Time: gonum's per run, and ours ÷ gonum's, median of %d paired batches of ≥ %v (range).\n\n",
		machine(), loadAverage(), *gtol, *maxIter, *runs, *minDur)
	reportOptimGo(stdout, rows)
	return 0
}

// runNabla runs method j of std/optim on p through the interpreter once.
func runNabla(ctx context.Context, prog *nabla.Program, p optProblem, j int, m optMethod, maxIter int64, gtol float64) (optOutcome, func() error, error) {
	fn, err := prog.Func(fmt.Sprintf("run_%s_%d", p.def, j))
	if err != nil {
		return optOutcome{}, nil, err
	}
	gf, err := prog.Func("grad_" + p.def)
	if err != nil {
		return optOutcome{}, nil, err
	}
	call := func() error {
		_, err := fn.Call(ctx, p.x0, maxIter, gtol)
		return err
	}
	res, err := fn.Call(ctx, p.x0, maxIter, gtol)
	if err != nil {
		return optOutcome{}, nil, err
	}
	t := res.([]any)
	x, f, it, nev := t[0].([]float64), t[1].(float64), int(t[2].(int64)), int(t[3].(int64))
	g, err := gf.Call(ctx, x)
	if err != nil {
		return optOutcome{}, nil, err
	}
	o := optOutcome{f: f, gnorm: infNorm(g.([]float64)), it: it}
	o.ok = successful(f, o.gnorm, gtol, p.fstar)
	if m.hess { // Newton: f in the line search, ∇f and ∇²f (by AD) once per iteration
		o.fev, o.gev, o.hev = nev, it+1, it
	} else { // value and gradient together
		o.fev, o.gev = nev, nev
	}
	return o, call, nil
}

// runOptimInterp is the -interp table: std/optim through the embedded
// interpreter, whose Newton takes its Hessian by AD.
func runOptimInterp(probs []optProblem, maxIter int, gtol float64, runs int, min time.Duration, stdout, stderr io.Writer) int {
	methods := optMethods()
	prog, err := compileOpt(probs, methods)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: %v\n", err)
		return 1
	}
	ctx := context.Background()
	fmt.Fprintf(stdout, "%s%s. Gradient tolerance ‖∇f‖∞ ≤ %g, at most %d iterations. Cells: solved | evaluations f/∇f(/∇²f) | iterations. Time ratio: Nabla (interpreter) / gonum, median of %d paired batches.\n\n", machine(), loadAverage(), gtol, maxIter, runs)
	fmt.Fprintln(stdout, "| problem | n | method | gonum ok | gonum evals | gonum iters | nabla ok | nabla evals | nabla iters | time nabla/gonum |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|")
	var ratios []float64
	var unsolved, moreF, moreG []string
	solvedByGonum, better := 0, 0
	for _, p := range probs {
		h := hessianOf(p)
		for j, m := range methods {
			fmt.Fprintf(stderr, "%s %s\n", p.name, m.name)
			fail := func(err error) int {
				fmt.Fprintf(stderr, "nablabench: %s %s: %v\n", p.name, m.name, err)
				return 1
			}
			gon, err := runGonum(p, m, h, maxIter, gtol)
			if err != nil {
				return fail(err)
			}
			nab, call, err := runNabla(ctx, prog, p, j, m, int64(maxIter), gtol)
			if err != nil {
				return fail(err)
			}
			ratio := "—"
			if gon.note == "" {
				pt, err := pairTime(runs, min, call, gonumRunner(p, m, h, maxIter, gtol))
				if err != nil {
					return fail(err)
				}
				r := pt.wall.med
				ratios = append(ratios, r)
				ratio = fmt.Sprintf("%.0f", r)
			}
			if gon.note == "" && gon.ok {
				solvedByGonum++
				key := p.name + " " + m.name
				switch {
				case !nab.ok:
					unsolved = append(unsolved, key)
				case nab.fev > gon.fev:
					moreF = append(moreF, key)
				case nab.gev > gon.gev:
					moreG = append(moreG, key)
				default:
					better++
				}
			}
			fmt.Fprintf(stdout, "| %s | %d | %s | %s | %s | %s |\n", p.name, len(p.x0), m.name, gon.cells(), nab.cells(), ratio)
		}
	}
	slices.Sort(ratios)
	if len(ratios) > 0 {
		fmt.Fprintf(stdout, "\nTime ratio nabla/gonum: median %.0f, range %.0f–%.0f.\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	}
	fmt.Fprintf(stdout, "Of %d runs gonum solves, std/optim solves %d with no more function and gradient evaluations.\n", solvedByGonum, better)
	list := func(what string, keys []string) {
		if len(keys) > 0 {
			fmt.Fprintf(stdout, "%s (%d): %s.\n", what, len(keys), strings.Join(keys, "; "))
		}
	}
	list("Not solved by std/optim", unsolved)
	list("More function evaluations", moreF)
	list("As many function evaluations or fewer, more gradient evaluations", moreG)
	return 0
}
