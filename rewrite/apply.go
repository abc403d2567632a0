package rewrite

import (
	"context"
	"errors"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Options configure Apply and ApplyDef.
type Options struct {
	// Trace records every successful rule or pass application.
	Trace bool
	// Fuel is the most rewrites one repeat, normalize, innermost or
	// outermost may make; 0 means DefaultFuel or ten per node of the
	// term, whichever is more.
	Fuel int
	// Strategy, when not nil, is applied to every def instead of its own.
	Strategy Strategy
	// Context, when not nil, cancels rewriting: Apply and ApplyDef then
	// return, within a few milliseconds, an error that wraps
	// Context.Err() (errors.Is(err, context.Canceled) holds).
	Context context.Context
	// MaxSteps bounds the work of rewriting the whole program, so that no
	// program can keep the optimizer busy for minutes: one step is one
	// application of a strategy (a rule, a pass or a combinator) to a
	// term, or one node that cse or dce visits or that a rewrite builds
	// or drops. 0 means DefaultMaxSteps; a negative value means no bound.
	// A def that exceeds it is an error positioned at the def.
	MaxSteps int64
}

// Apply rewrites every def of p (after AD expansion) with its strategy:
// the one its @strategy attribute names, or default. It returns a new
// program; p is not modified. Defs are rewritten in p's order (callees
// first), so inline sees the rewritten callees. A strategy that fails on
// a def's body, or runs out of fuel, is an error positioned at the def's
// @strategy attribute and naming it; all such errors are returned
// together as an ir.ErrorList.
func (rw *Rewriter) Apply(p *ir.Program, opts Options) (*ir.Program, *Trace, error) {
	out, trace, _, err := rw.apply(p, opts)
	return out, trace, err
}

// apply is Apply, returning also the env (whose steps tests read).
func (rw *Rewriter) apply(p *ir.Program, opts Options) (*ir.Program, *Trace, *env, error) {
	e := rw.newEnv(p)
	var trace *Trace
	if opts.Trace {
		trace = &Trace{}
	}
	out := ir.NewProgram(nil)
	out.Rules, out.Strats = p.Rules, p.Strats
	var errs ir.ErrorList
	e.setLimits(opts)
	for _, d := range p.Defs {
		var src string
		if opts.Strategy != nil {
			src = opts.Strategy.String()
		}
		nd, err := e.applyDef(d, opts.Strategy, src, trace, opts)
		if err != nil {
			if isCancel(err) {
				return nil, trace, e, err
			}
			if e.stop(err) {
				// Out of steps: the other defs would fail too.
				return nil, trace, e, append(errs, asErrors(err)...)
			}
			errs = append(errs, asErrors(err)...)
			nd = d
		}
		e.done[d.Name] = nd
		out.Add(nd)
	}
	if len(errs) > 0 {
		return nil, trace, e, errs
	}
	return out, trace, e, nil
}

// ApplyDef rewrites the def called name in p with strategy, a strategy
// expression whose names resolve in the def's file (nil means the def's
// own strategy, or default). Other defs are left as they are.
func (rw *Rewriter) ApplyDef(p *ir.Program, name string, strategy ir.Strat, opts Options) (*ir.Def, *Trace, error) {
	e := rw.newEnv(p)
	d := p.Def(name)
	if d == nil {
		return nil, nil, fmt.Errorf("no def named %q", name)
	}
	var s Strategy
	var src string
	if strategy != nil {
		var err error
		if s, err = e.compile(strategy, d.P.File, map[string]bool{}); err != nil {
			return nil, nil, err
		}
		src = strategy.String()
	}
	var trace *Trace
	if opts.Trace {
		trace = &Trace{}
	}
	e.setLimits(opts)
	nd, err := e.applyDef(d, s, src, trace, opts)
	return nd, trace, err
}

// Compile resolves a strategy expression against p's rules and
// strategies, as written in file.
func (rw *Rewriter) Compile(p *ir.Program, st ir.Strat, file string) (Strategy, error) {
	return rw.newEnv(p).compile(st, file, map[string]bool{})
}

// env is what rewriting one program needs: its defs (for inline), its
// rules and strategies by file, and the strategies compiled so far.
type env struct {
	rw       *Rewriter
	prog     *ir.Program
	done     map[string]*ir.Def // defs already rewritten, by name
	files    map[string]*fileDecls
	compiled map[any]Strategy // by *ir.RewriteRule or *ir.RewriteStrategy

	// The limits of the whole rewriting (Options.Context, MaxSteps), and
	// the steps taken so far in all defs.
	cancel    context.Context
	maxSteps  int64
	steps     int64
	nextCheck int64
}

// setLimits takes the context and the step budget from opts.
func (e *env) setLimits(opts Options) {
	e.cancel, e.maxSteps = opts.Context, opts.MaxSteps
	if e.maxSteps == 0 {
		e.maxSteps = DefaultMaxSteps
	}
}

// stop reports whether err ends the rewriting of the whole program.
func (e *env) stop(err error) bool {
	return isCancel(err) || e.maxSteps > 0 && e.steps > e.maxSteps
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fileDecls are the rules and strategies declared in one file: the scope
// of the strategy expressions written there.
type fileDecls struct {
	rules  map[string]*ir.RewriteRule
	strats map[string]*ir.RewriteStrategy
}

func (rw *Rewriter) newEnv(p *ir.Program) *env {
	e := &env{rw: rw, prog: p, done: map[string]*ir.Def{}, files: map[string]*fileDecls{}, compiled: map[any]Strategy{}}
	for _, r := range p.Rules {
		e.file(r.P.File).rules[r.Name] = r
	}
	for _, s := range p.Strats {
		e.file(s.P.File).strats[s.Name] = s
	}
	return e
}

func (e *env) file(name string) *fileDecls {
	f := e.files[name]
	if f == nil {
		f = &fileDecls{rules: map[string]*ir.RewriteRule{}, strats: map[string]*ir.RewriteStrategy{}}
		e.files[name] = f
	}
	return f
}

// current returns the def called name as rewritten so far.
func (e *env) current(name string) *ir.Def {
	if d := e.done[name]; d != nil {
		return d
	}
	return e.prog.Def(name)
}

// compile turns a strategy expression written in file into a Strategy.
// visiting holds the named strategies being compiled, to stop cycles.
func (e *env) compile(st ir.Strat, file string, visiting map[string]bool) (Strategy, error) {
	switch st := st.(type) {
	case *ir.StratSeq:
		ss, err := e.compileList(st.Steps, file, visiting)
		if err != nil {
			return nil, err
		}
		return Seq(ss...), nil
	case *ir.StratChoice:
		ss, err := e.compileList(st.Alts, file, visiting)
		if err != nil {
			return nil, err
		}
		return Choice(ss...), nil
	case *ir.StratName:
		f := e.file(file)
		rd, sd := f.rules[st.Name], f.strats[st.Name]
		if n, ok := ir.StrategyArity(st.Name); ok && rd == nil && sd == nil {
			if len(st.Args) != n {
				return nil, ir.Errorf(st.P, "strategy %s takes %d argument%s, got %d", st.Name, n, plural(n), len(st.Args))
			}
			args, err := e.compileList(st.Args, file, visiting)
			if err != nil {
				return nil, err
			}
			if s, ok := e.rw.builtinStrategy(st.Name, args); ok {
				return s, nil
			}
		}
		if len(st.Args) > 0 {
			return nil, ir.Errorf(st.P, "%s takes no arguments", st.Name)
		}
		if rd != nil {
			if s := e.compiled[rd]; s != nil {
				return s, nil
			}
			if rd.RHS == nil {
				return nil, ir.Errorf(rd.P, "rule %s has no right-hand side", rd.Name)
			}
			s := newRuleS(rd.Name, rd, false)
			e.compiled[rd] = s
			return s, nil
		}
		if sd != nil {
			if s := e.compiled[sd]; s != nil {
				return s, nil
			}
			if visiting[st.Name] {
				return nil, ir.Errorf(st.P, "strategy %s refers to itself", st.Name)
			}
			visiting[st.Name] = true
			body, err := e.compile(sd.Body, sd.P.File, visiting)
			delete(visiting, st.Name)
			if err != nil {
				return nil, err
			}
			s := &named{name: sd.Name, s: body}
			e.compiled[sd] = s
			return s, nil
		}
		return nil, ir.Errorf(st.P, "unknown strategy or rule %s", st.Name)
	}
	return nil, fmt.Errorf("rewrite: unknown strategy expression %T", st)
}

func (e *env) compileList(sts []ir.Strat, file string, visiting map[string]bool) ([]Strategy, error) {
	out := make([]Strategy, len(sts))
	for i, st := range sts {
		s, err := e.compile(st, file, visiting)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// applyDef rewrites one def with s, or with its own strategy when s is
// nil. src is how s was written, for messages ("" for the def's own).
func (e *env) applyDef(d *ir.Def, s Strategy, src string, trace *Trace, opts Options) (*ir.Def, error) {
	if d.Body == nil {
		return d, nil
	}
	pos, what := d.P, "the strategy"
	switch {
	case s != nil:
		what = "strategy " + src
	case d.Attr("strategy") != nil:
		at := d.Attr("strategy")
		pos = at.P
		st := at.Strategy
		if st == nil {
			return nil, ir.Errorf(pos, "@strategy of %s holds no strategy", d.Name)
		}
		what = "strategy " + st.String()
		var err error
		if s, err = e.compile(st, at.P.File, map[string]bool{}); err != nil {
			return nil, err
		}
	default:
		s = e.rw.Default()
		what = "strategy default"
	}
	c := newCtx(e, d.Name, d.Body, trace, opts.Fuel)
	c.pos = d.P
	// Checkpointing is decided first (remat.go).
	c.policy = e.policyFor(d, s)
	body, _, err := c.policy.apply(c, d.Body)
	if err == nil {
		err = traceRecomputed(c, d)
	}
	ok := err == nil
	if ok {
		body, ok, err = s.apply(c, body)
	}
	if err != nil {
		if isCancel(err) {
			return nil, err
		}
		var se *stratError
		if errors.As(err, &se) {
			return nil, ir.Errorf(pos, "%s on %s: %s", what, d.Name, se.msg)
		}
		return nil, err
	}
	if !ok {
		return nil, ir.Errorf(pos, "%s failed on %s: it does not apply to the def's body (after AD); a rule applies only at the root of the term it is given, so to apply one wherever it matches write topdown(try(r)) or normalize(r)", what, d.Name)
	}
	if body, err = ensureOwned(d.Params, body); err != nil {
		return nil, err
	}
	nd := *d
	nd.Body = body
	if err := ir.ValidateDef(&nd); err != nil {
		return nil, ir.Errorf(pos, "internal error: %s made invalid IR of %s: %v", what, d.Name, err)
	}
	return &nd, nil
}

// asErrors flattens an error into positioned errors.
func asErrors(err error) ir.ErrorList {
	var list ir.ErrorList
	if errors.As(err, &list) {
		return list
	}
	var e *ir.Error
	if errors.As(err, &e) {
		return ir.ErrorList{e}
	}
	return ir.ErrorList{&ir.Error{Msg: err.Error()}}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
