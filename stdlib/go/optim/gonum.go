package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// LBFGS is std/optim's L-BFGS (see Lbfgs) as a gonum optimize.Method: a
// gonum user passes it to optimize.Minimize in place of gonum's own
// optimize.LBFGS. The problem must have a Grad.
//
// The Nabla driver runs in the Method's Run goroutine; each evaluation it
// asks for becomes one FuncEvaluation|GradEvaluation task sent to
// Minimize. The driver does not report its iterations, so every
// evaluation that lowers the objective below all earlier ones is sent as a
// MajorIteration: the starting point first, then each new best point. At
// each of them Minimize checks its Settings (GradientThreshold,
// Converger, MajorIterations, ...) as it does for gonum's methods; when it
// stops the run, the driver is abandoned at once. Settings.MajorIterations
// therefore counts new best points, which may exceed the driver's
// iterations (a line search can find several). When the driver stops by
// itself, LBFGS sends MethodDone and Status reports why.
//
// An LBFGS may be reused for several runs, one at a time.
type LBFGS struct {
	// Store is the number of correction pairs kept (m). Zero means 10,
	// the value of the examples of SPEC §11.
	Store int
	// GradStopThreshold stops the driver once ‖∇f‖∞ ≤ GradStopThreshold.
	// Zero means 1e-12 (gonum's default); NaN disables the test.
	GradStopThreshold float64
	// MaxIterations caps the driver's iterations; zero means no cap.
	MaxIterations int

	gradMethod
}

// BFGS is std/optim's BFGS (see Bfgs) as a gonum optimize.Method, in place
// of gonum's optimize.BFGS; it talks to Minimize as LBFGS does. The problem
// must have a Grad. A BFGS may be reused for several runs, one at a time.
type BFGS struct {
	// GradStopThreshold stops the driver once ‖∇f‖∞ ≤ GradStopThreshold.
	// Zero means 1e-12 (gonum's default); NaN disables the test.
	GradStopThreshold float64
	// MaxIterations caps the driver's iterations; zero means no cap.
	MaxIterations int

	gradMethod
}

// CG is std/optim's nonlinear conjugate gradient method, PR+ with the
// Moré–Thuente line search (see NonlinearCg), as a gonum optimize.Method,
// in place of gonum's optimize.CG; it talks to Minimize as LBFGS does. The
// problem must have a Grad. A CG may be reused for several runs, one at a
// time.
type CG struct {
	// GradStopThreshold stops the driver once ‖∇f‖∞ ≤ GradStopThreshold.
	// Zero means 1e-12 (gonum's default); NaN disables the test.
	GradStopThreshold float64
	// MaxIterations caps the driver's iterations; zero means no cap.
	MaxIterations int

	gradMethod
}

// AdamMethod is std/optim's Adam (see Adam) as a gonum optimize.Method
// (Adam itself is the plain function). Adam takes fixed steps, so every
// evaluation is an iterate and is sent to Minimize as a MajorIteration;
// Result is the last iterate, as for gonum's GradientDescent, and
// Minimize's Converger (by default: no decrease of F by 1e-10 in 100
// major iterations) ends the run once F stalls. The problem must have a
// Grad. An AdamMethod may be reused for several runs, one at a time.
type AdamMethod struct {
	// LearnRate is Adam's step size lr. Zero means 0.001 (Kingma and Ba's
	// default).
	LearnRate float64
	// GradStopThreshold ends the run at an iterate with
	// ‖∇f‖∞ ≤ GradStopThreshold. Zero means 1e-12 (gonum's default); NaN
	// disables the test.
	GradStopThreshold float64
	// MaxIterations is the number of steps; zero means no cap (Minimize's
	// Settings end the run).
	MaxIterations int

	gradMethod
}

// NewtonMethod is std/optim's Newton method with a modified Hessian and
// Armijo backtracking (see Newton) as a gonum optimize.Method, in place of
// gonum's optimize.Newton (Newton itself is the plain function). The
// problem must have a Grad and a Hess. The driver's evaluations become
// tasks as Newton's callbacks are called: a FuncEvaluation at each trial
// point of its line search, a GradEvaluation at x0 and at each iterate,
// which is sent as a MajorIteration, and a HessEvaluation once per
// iteration. Minimize's settings end a run as for LBFGS; Status reports
// Failure with ErrNoDecrease when the backtracking step fell below 1e-10.
// A NewtonMethod may be reused for several runs, one at a time.
type NewtonMethod struct {
	// GradStopThreshold stops the driver once ‖∇f‖∞ ≤ GradStopThreshold.
	// Zero means 1e-12 (gonum's default); NaN disables the test.
	GradStopThreshold float64
	// MaxIterations caps the driver's iterations; zero means no cap.
	MaxIterations int

	gradMethod
}

var (
	_ optimize.Method   = (*NewtonMethod)(nil)
	_ optimize.Statuser = (*NewtonMethod)(nil)
	_ optimize.Method   = (*LBFGS)(nil)
	_ optimize.Statuser = (*LBFGS)(nil)
	_ optimize.Method   = (*BFGS)(nil)
	_ optimize.Statuser = (*BFGS)(nil)
	_ optimize.Method   = (*CG)(nil)
	_ optimize.Statuser = (*CG)(nil)
	_ optimize.Method   = (*AdamMethod)(nil)
	_ optimize.Statuser = (*AdamMethod)(nil)
)

// ErrNoDecrease is the error of a run that ended because the line search
// found no point lower than the current one (usually at the limit of the
// objective's accuracy); the result is the best point found.
var ErrNoDecrease = errors.New("optim: the line search found no decrease")

// gradMethod is what the Methods share: they need the gradient, evaluate
// one point at a time, and keep why their last run ended.
type gradMethod struct {
	out outcome
}

// Init is part of optimize.Method: the method evaluates one point at a
// time.
func (m *gradMethod) Init(dim, tasks int) int {
	m.out = outcome{}
	return 1
}

// Uses is part of optimize.Method: the method needs the gradient.
func (*gradMethod) Uses(has optimize.Available) (optimize.Available, error) {
	if !has.Grad {
		return optimize.Available{}, optimize.ErrMissingGrad
	}
	return optimize.Available{Grad: true}, nil
}

// Status is part of optimize.Statuser: why the driver stopped by itself.
func (m *gradMethod) Status() (optimize.Status, error) { return m.out.status, m.out.err }

// Uses is part of optimize.Method: NewtonMethod needs the gradient and the
// Hessian.
func (*NewtonMethod) Uses(has optimize.Available) (optimize.Available, error) {
	switch {
	case !has.Grad:
		return optimize.Available{}, optimize.ErrMissingGrad
	case !has.Hess:
		return optimize.Available{}, optimize.ErrMissingHess
	}
	return optimize.Available{Grad: true, Hess: true}, nil
}

// Run is part of optimize.Method.
func (nm *NewtonMethod) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	gtol, maxIter, err := stopping("NewtonMethod", nm.GradStopThreshold, nm.MaxIterations)
	d := func(s *session, x0 []float64) ([]float64, int64, error) {
		x, _, k, _, err := Newton(s.fval, s.gval, s.hess, x0, maxIter, gtol)
		return x, k, err
	}
	runMethod(d, err, gtol, maxIter, false, &nm.out, operation, result, tasks)
}

// Run is part of optimize.Method.
func (l *LBFGS) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	m := l.Store
	var err error
	switch {
	case m < 0:
		err = fmt.Errorf("optim: LBFGS.Store is negative (%d)", m)
	case m == 0:
		m = 10
	}
	lineSearch("LBFGS", l.GradStopThreshold, l.MaxIterations, err, func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, int64, error) {
		x, _, k, _, err := Lbfgs(fg, x0, int64(m), maxIter, gtol)
		return x, k, err
	}, &l.out, operation, result, tasks)
}

// Run is part of optimize.Method.
func (b *BFGS) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	lineSearch("BFGS", b.GradStopThreshold, b.MaxIterations, nil, func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, int64, error) {
		x, _, k, _, err := Bfgs(fg, x0, maxIter, gtol)
		return x, k, err
	}, &b.out, operation, result, tasks)
}

// Run is part of optimize.Method.
func (c *CG) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	lineSearch("CG", c.GradStopThreshold, c.MaxIterations, nil, func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, int64, error) {
		x, _, k, _, err := NonlinearCg(fg, x0, maxIter, gtol)
		return x, k, err
	}, &c.out, operation, result, tasks)
}

// lineSearch is the Run of a line-search Method: it checks and defaults
// the stopping fields (a method-specific error, fieldErr, comes after
// theirs) and runs call, the driver with its stopping arguments.
func lineSearch(method string, gradStop float64, maxIterations int, fieldErr error, call func(fg func([]float64) (float64, []float64), x0 []float64, maxIter int64, gtol float64) ([]float64, int64, error), out *outcome, operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	gtol, maxIter, err := stopping(method, gradStop, maxIterations)
	if err == nil {
		err = fieldErr
	}
	d := func(s *session, x0 []float64) ([]float64, int64, error) {
		return call(s.eval, x0, maxIter, gtol)
	}
	runMethod(d, err, gtol, maxIter, false, out, operation, result, tasks)
}

// Run is part of optimize.Method.
func (a *AdamMethod) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	gtol, steps, err := stopping("AdamMethod", a.GradStopThreshold, a.MaxIterations)
	lr := a.LearnRate
	switch {
	case err != nil:
	case lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0):
		err = fmt.Errorf("optim: AdamMethod.LearnRate is %v; want ≥ 0 and finite", lr)
	case lr == 0:
		lr = 0.001
	}
	d := func(s *session, x0 []float64) ([]float64, int64, error) {
		x, _, k, err := Adam(s.eval, x0, lr, steps)
		return x, k, err
	}
	runMethod(d, err, gtol, steps, true, &a.out, operation, result, tasks)
}

// stopping checks and defaults the stopping fields shared by the methods:
// the driver's gtol and max_iter.
func stopping(method string, gradStop float64, maxIter int) (float64, int64, error) {
	gtol := gradStop
	switch {
	case math.IsNaN(gtol):
		gtol = 0
	case gtol == 0:
		gtol = 1e-12
	case gtol < 0 || math.IsInf(gtol, 1):
		return 0, 0, fmt.Errorf("optim: %s.GradStopThreshold is %v; want ≥ 0, finite, or NaN", method, gradStop)
	}
	if maxIter < 0 {
		return 0, 0, fmt.Errorf("optim: %s.MaxIterations is negative (%d)", method, maxIter)
	}
	k := int64(maxIter)
	if k == 0 {
		k = math.MaxInt64
	}
	return gtol, k, nil
}

// A driver runs a Nabla minimizer from x0 with the session's callbacks
// (eval for the objective and gradient, or fval and gval apart, hess for
// the Hessian) and returns its final x and iteration count.
type driver func(s *session, x0 []float64) ([]float64, int64, error)

// stopRun unwinds the driver when Minimize has ended the run.
type stopRun struct{}

// outcome is why a run ended, as Status reports it.
type outcome struct {
	status optimize.Status
	err    error
}

// session is one Run: the driver's evaluations become tasks on the
// Minimize channels.
type session struct {
	operation chan<- optimize.Task
	result    <-chan optimize.Task
	task      optimize.Task
	have      optimize.Operation // the evaluations task.Location holds at task.X
	best      float64            // F at the last MajorIteration
	majors    int                // MajorIterations sent
	bestX     []float64
	bestGNorm float64
	ended     bool    // Minimize sent PostIteration
	everyEval bool    // every evaluation is a MajorIteration
	gtol      float64 // with everyEval, the gradient test of the session
	outcome
}

// runMethod carries out the Method protocol for driver d, or at once ends
// a run whose settings are invalid (setErr), and stores in out why the run ended,
// before closing operation: Minimize may call Status from then on.
// everyEval makes every evaluation a MajorIteration (the fixed-step
// methods, whose every evaluation is an iterate).
func runMethod(d driver, setErr error, gtol float64, maxIter int64, everyEval bool, out *outcome, operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	s := &session{operation: operation, result: result, task: tasks[0], best: math.Inf(1), everyEval: everyEval, gtol: gtol}
	// Minimize tells in Op which values of the initial location it knows.
	s.have = s.task.Op & optimize.FuncEvaluation
	if s.task.Op&optimize.GradEvaluation != 0 && len(s.task.Gradient) == len(s.task.X) {
		s.have |= optimize.GradEvaluation
	}
	if setErr != nil {
		s.status, s.err = optimize.Failure, setErr
	} else {
		s.drive(d, gtol, maxIter)
	}
	if !s.ended {
		// The method ends the run: Minimize answers MethodDone with
		// PostIteration and then closes result.
		s.task.Op = optimize.MethodDone
		operation <- s.task
	}
	for range result {
	}
	*out = s.outcome
	close(operation)
}

// drive runs the driver, recovering the unwinding of a run that Minimize
// (or the first evaluation) ended.
func (s *session) drive(d driver, gtol float64, maxIter int64) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopRun); !ok {
				panic(r)
			}
		}
	}()
	x0 := append([]float64(nil), s.task.X...)
	x, k, err := d(s, x0)
	switch {
	case err != nil:
		s.status, s.err = optimize.Failure, err
	case s.gradNormAt(x) <= gtol:
		s.status = optimize.GradientThreshold
	case k >= maxIter:
		s.status = optimize.IterationLimit
	default:
		s.status, s.err = optimize.Failure, ErrNoDecrease
	}
}

// gradNormAt is ‖∇f(x)‖∞ if x is the last point evaluated or the best one,
// else +Inf.
func (s *session) gradNormAt(x []float64) float64 {
	switch {
	case s.have&optimize.GradEvaluation != 0 && slices.Equal(x, s.task.X):
		return floats.Norm(s.task.Gradient, math.Inf(1))
	case s.bestX != nil && slices.Equal(x, s.bestX):
		return s.bestGNorm
	}
	return math.Inf(1)
}

// at makes task.Location hold the evaluations ops at x, asking Minimize
// for those it lacks there.
func (s *session) at(x []float64, ops optimize.Operation) {
	if !slices.Equal(x, s.task.X) {
		copy(s.task.X, x)
		s.have = 0
	}
	if miss := ops &^ s.have; miss != 0 {
		s.task.Op = miss
		s.exchange()
		s.have |= miss
	}
}

// eval is the driver's callback: it has Minimize evaluate the objective and
// gradient at x (unless they are known there), sends a MajorIteration when
// the value is the lowest yet (or at every evaluation if everyEval), and
// returns copies (the driver may keep
// them while Minimize reuses its buffers).
func (s *session) eval(x []float64) (float64, []float64) {
	s.at(x, optimize.FuncEvaluation|optimize.GradEvaluation)
	return s.iterate(s.everyEval)
}

// fval is the objective callback of NewtonMethod's driver, which calls it
// at x0 and at the trial points of its line search.
func (s *session) fval(x []float64) float64 {
	s.at(x, optimize.FuncEvaluation)
	return s.task.F
}

// gval is the gradient callback of NewtonMethod's driver, which calls it
// at x0 and at each iterate (where fval was called last): every call is a
// MajorIteration.
func (s *session) gval(x []float64) []float64 {
	s.at(x, optimize.FuncEvaluation|optimize.GradEvaluation)
	_, g := s.iterate(true)
	return g
}

// iterate returns F and a copy of the gradient at task.X, checking them
// at the starting point, and sends a MajorIteration there, at a new lowest
// value, or always if every.
func (s *session) iterate(every bool) (float64, []float64) {
	loc := s.task.Location
	if s.majors == 0 {
		// The starting point, checked as gonum's local methods do.
		if math.IsInf(loc.F, 1) || math.IsNaN(loc.F) {
			s.fail(optimize.ErrFunc(loc.F))
		}
		for i, v := range loc.Gradient {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				s.fail(optimize.ErrGrad{Grad: v, Index: i})
			}
		}
	}
	f, g := loc.F, append([]float64(nil), loc.Gradient...)
	if s.majors == 0 || f < s.best || every {
		s.best = f
		s.bestX = append(s.bestX[:0], loc.X...)
		s.bestGNorm = floats.Norm(g, math.Inf(1))
		s.majors++
		s.task.Op = optimize.MajorIteration
		s.exchange()
		if s.everyEval && s.bestGNorm <= s.gtol {
			// A fixed-step driver has no gradient test of its own.
			s.status = optimize.GradientThreshold
			panic(stopRun{})
		}
	}
	return f, g
}

// hess is the Hessian callback of NewtonMethod's driver: it has Minimize
// evaluate the Hessian at x and returns it as n·n values, row by row.
func (s *session) hess(x []float64) []float64 {
	s.at(x, optimize.HessEvaluation)
	n := len(x)
	h := make([]float64, n*n)
	for i := range n {
		for j := range n {
			h[i*n+j] = s.task.Location.Hessian.At(i, j)
		}
	}
	return h
}

// exchange sends the task and takes Minimize's answer; PostIteration ends
// the driver.
func (s *session) exchange() {
	s.operation <- s.task
	t := <-s.result
	if t.Op == optimize.PostIteration {
		s.ended = true
		panic(stopRun{})
	}
	s.task = t
}

// fail ends the run from inside the driver with a failure of the method.
func (s *session) fail(err error) {
	s.status, s.err = optimize.Failure, err
	panic(stopRun{})
}
