package main

// The optim mode: `nablabench optim` runs L-BFGS, BFGS, Newton and
// nonlinear CG of Nabla's standard library (std/optim, through the
// embedded interpreter) and of gonum.org/v1/gonum/optimize on the same
// Moré–Garbow–Hillstrom problems from the same starting points, with the
// same gradient tolerance (‖∇f‖∞) and iteration cap, and prints side by
// side success, function and gradient evaluations, iterations, and the
// ratio of wall times measured in the same run.

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/nabla-lang/nabla"
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
	hess  bool // gonum's method needs the Hessian
}

func optMethods() []optMethod {
	return []optMethod{
		{"L-BFGS (m = 10)", "optim.lbfgs_run(F, x0, 10, max_iter, gtol)", func() optimize.Method { return &optimize.LBFGS{Store: 10} }, false},
		{"BFGS", "optim.bfgs_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.BFGS{} }, false},
		{"Newton", "optim.newton_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.Newton{} }, true},
		{"CG", "optim.nonlinear_cg_run(F, x0, max_iter, gtol)", func() optimize.Method { return &optimize.CG{} }, false},
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
	time              time.Duration
	note              string
}

func (o optOutcome) cell() string {
	if o.note != "" {
		return o.note
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

// timeOptim returns the median duration of run over a few batches lasting at
// least min each.
func timeOptim(runs int, min time.Duration, run func() error) (time.Duration, error) {
	start := time.Now()
	if err := run(); err != nil {
		return 0, err
	}
	one := max(time.Since(start), time.Microsecond)
	n := max(1, int(min/one))
	var ts []time.Duration
	for range runs {
		start := time.Now()
		for range n {
			if err := run(); err != nil {
				return 0, err
			}
		}
		ts = append(ts, time.Since(start)/time.Duration(n))
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// successful tells a run reached the gradient tolerance, or the known
// minimum to 1e-14 (relative to max(1, |f*|)) when rounding stopped it
// just short of the tolerance.
func successful(f, gnorm, gtol, fstar float64) bool {
	return gnorm <= gtol || math.Abs(f-fstar) <= 1e-14*math.Max(1, math.Abs(fstar))
}

func runNabla(ctx context.Context, prog *nabla.Program, p optProblem, j int, maxIter int64, gtol float64, runs int, min time.Duration) (optOutcome, error) {
	fn, err := prog.Func(fmt.Sprintf("run_%s_%d", p.def, j))
	if err != nil {
		return optOutcome{}, err
	}
	gf, err := prog.Func("grad_" + p.def)
	if err != nil {
		return optOutcome{}, err
	}
	var res any
	call := func() error {
		var err error
		res, err = fn.Call(ctx, p.x0, maxIter, gtol)
		return err
	}
	d, err := timeOptim(runs, min, call)
	if err != nil {
		return optOutcome{}, err
	}
	t := res.([]any)
	x, f, it, nev := t[0].([]float64), t[1].(float64), int(t[2].(int64)), int(t[3].(int64))
	g, err := gf.Call(ctx, x)
	if err != nil {
		return optOutcome{}, err
	}
	o := optOutcome{f: f, gnorm: infNorm(g.([]float64)), it: it, time: d}
	o.ok = successful(f, o.gnorm, gtol, p.fstar)
	switch j {
	case 2: // Newton: f in the line search, ∇f and ∇²f once per iteration
		o.fev, o.gev, o.hev = nev, it+1, it
	default: // value and gradient together
		o.fev, o.gev = nev, nev
	}
	return o, nil
}

func runGonum(p optProblem, m optMethod, maxIter int, gtol float64, runs int, min time.Duration) optOutcome {
	prob := optimize.Problem{Func: p.fn.Func, Grad: func(g, x []float64) { p.fn.Grad(g, x) }}
	if h, ok := p.fn.(gonumHess); ok {
		prob.Hess = h.Hess
	} else if m.hess {
		return optOutcome{note: "n/a (no Hessian in gonum) | | "}
	}
	// The evaluation and time caps keep gonum's CG from running forever on
	// PowellBadlyScaled (its line search never ends a major iteration there).
	settings := &optimize.Settings{GradientThreshold: gtol, MajorIterations: maxIter, FuncEvaluations: 50 * maxIter, Runtime: 10 * time.Second}
	var res *optimize.Result
	var rerr error
	d, _ := timeOptim(runs, min, func() error {
		res, rerr = optimize.Minimize(prob, slices.Clone(p.x0), settings, m.gonum())
		return nil
	})
	if res == nil {
		return optOutcome{note: fmt.Sprintf("error: %v | | ", rerr)}
	}
	g := make([]float64, len(p.x0))
	p.fn.Grad(g, res.X)
	o := optOutcome{f: res.F, gnorm: infNorm(g), fev: res.Stats.FuncEvaluations, gev: res.Stats.GradEvaluations,
		hev: res.Stats.HessEvaluations, it: res.Stats.MajorIterations, time: d}
	o.ok = successful(res.F, o.gnorm, gtol, p.fstar)
	return o
}

func runOptim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nablabench optim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gtol := fs.Float64("gtol", 1e-8, "gradient tolerance ‖∇f‖∞ for both libraries")
	maxIter := fs.Int("max-iter", 1000, "iteration cap for both libraries")
	runs := fs.Int("runs", 3, "timing batches (the median is reported)")
	minDur := fs.Duration("min", 20*time.Millisecond, "least duration of one timing batch")
	only := fs.String("problems", "", "comma-separated problem names (default: all)")
	quick := fs.Bool("quick", false, "two problems, one untimed run (a smoke test)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nablabench optim [flags]\n\nRuns L-BFGS, BFGS, Newton and nonlinear CG of std/optim and of gonum's optimize\non MGH test problems and prints a Markdown table.\n\n")
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
	methods := optMethods()
	prog, err := compileOpt(probs, methods)
	if err != nil {
		fmt.Fprintf(stderr, "nablabench: %v\n", err)
		return 1
	}
	ctx := context.Background()
	fmt.Fprintf(stdout, "Gradient tolerance ‖∇f‖∞ ≤ %g, at most %d iterations. Cells: solved | evaluations f/∇f(/∇²f) | iterations. Time ratio: Nabla (interpreter) / gonum, wall clock, same run.\n\n", *gtol, *maxIter)
	fmt.Fprintln(stdout, "| problem | n | method | gonum ok | gonum evals | gonum iters | nabla ok | nabla evals | nabla iters | time nabla/gonum |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|")
	var ratios []float64
	var unsolved, moreF, moreG []string
	solvedByGonum, better := 0, 0
	for _, p := range probs {
		for j, m := range methods {
			fmt.Fprintf(stderr, "%s %s\n", p.name, m.name)
			gon := runGonum(p, m, *maxIter, *gtol, *runs, *minDur)
			nab, err := runNabla(ctx, prog, p, j, int64(*maxIter), *gtol, *runs, *minDur)
			if err != nil {
				fmt.Fprintf(stderr, "nablabench: %s %s: %v\n", p.name, m.name, err)
				return 1
			}
			ratio := "—"
			if gon.note == "" && gon.time > 0 {
				r := float64(nab.time) / float64(gon.time)
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
			fmt.Fprintf(stdout, "| %s | %d | %s | %s | %s | %s |\n", p.name, len(p.x0), m.name, gon.cell(), nab.cell(), ratio)
		}
	}
	sort.Float64s(ratios)
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
