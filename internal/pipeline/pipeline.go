package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/rewrite"
	"github.com/nabla-lang/nabla/runtime"
	"github.com/nabla-lang/nabla/specialize"
)

// Stage names a stage of the pipeline, in order.
type Stage int

const (
	Core Stage = iota + 1
	Specialize
	AD
	Opt
)

var stageNames = []string{Core: "core", Specialize: "specialize", AD: "ad", Opt: "opt"}

func (s Stage) String() string {
	if s >= Core && s <= Opt {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// Stages lists the stage names in order, for usage messages.
func Stages() []string { return stageNames[Core:] }

// ParseStage reads a stage name.
func ParseStage(name string) (Stage, error) {
	for s := Core; s <= Opt; s++ {
		if stageNames[s] == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown stage %q: want %s", name, strings.Join(Stages(), ", "))
}

// Options configure Compile.
type Options struct {
	// ReadFile reads imported files other than the standard library (nil:
	// only std/... imports work).
	ReadFile func(path string) ([]byte, error)
	// OutsideRoot lets imports leave the main file's directory
	// (lang.Options.OutsideRoot).
	OutsideRoot bool
	// Last is the last stage to run; zero runs them all.
	Last Stage
	// Trace records every successful rule or pass application of the ad
	// stage's vectorization and of the opt stage in Result.Trace.
	Trace bool
	// NoVectorize leaves element-wise comprehensions as they are written
	// (rewrite.Vectorize does not run before AD): for tests that compare
	// the two.
	NoVectorize bool
}

// Result holds each stage's program, nil for stages that did not run.
type Result struct {
	Core, Specialized, AD, Opt *ir.Program
	Trace                      *rewrite.Trace
}

// Final is the program of the last stage that ran.
func (r *Result) Final() *ir.Program {
	for _, p := range []*ir.Program{r.Opt, r.AD, r.Specialized} {
		if p != nil {
			return p
		}
	}
	return r.Core
}

// Compile runs the stages on the program in src (named filename in
// positions) up to opts.Last. Errors are ir.ErrorList or *ir.Error values
// with positions; a cancelled ctx returns its error.
func Compile(ctx context.Context, filename string, src []byte, opts Options) (*Result, error) {
	if ctx == nil {
		return nil, fmt.Errorf("pipeline: nil context")
	}
	last := opts.Last
	if last == 0 {
		last = Opt
	}
	res := &Result{}
	p, err := lang.Load(filename, src, lang.Options{ReadFile: opts.ReadFile, OutsideRoot: opts.OutsideRoot, Context: ctx})
	if err != nil {
		return nil, err
	}
	if res.Core, err = checked(ctx, Core, p); err != nil || last == Core {
		return res, err
	}
	if p, err = specialize.Program(p); err != nil {
		return nil, err
	}
	if res.Specialized, err = checked(ctx, Specialize, p); err != nil || last == Specialize {
		return res, err
	}
	// Element-wise comprehensions become array operations before reverse
	// mode differentiates them (rewrite/vectorize.go).
	if !opts.NoVectorize {
		if p, res.Trace, err = rewrite.Vectorize(p, opts.Trace); err != nil {
			return nil, err
		}
	}
	if p, err = ad.ExpandMarked(ctx, p); err != nil {
		return nil, err
	}
	if res.AD, err = checked(ctx, AD, p); err != nil || last == AD {
		return res, err
	}
	rw, err := Rewriter()
	if err != nil {
		return nil, err
	}
	vec := res.Trace
	p, res.Trace, err = rw.Apply(p, rewrite.Options{Trace: opts.Trace, Context: ctx})
	if err != nil {
		return nil, err
	}
	if vec != nil && res.Trace != nil {
		res.Trace.Steps = append(vec.Steps, res.Trace.Steps...)
	}
	res.Opt, err = checked(ctx, Opt, p)
	return res, err
}

// checked validates a stage's output and polls the context between
// stages.
func checked(ctx context.Context, s Stage, p *ir.Program) (*ir.Program, error) {
	if err := ir.Validate(p); err != nil {
		return nil, fmt.Errorf("internal error: the %s stage produced invalid IR: %w", s, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// A Backend runs optimized programs.
type Backend interface {
	// Name is the backend's name on the command line (--backend).
	Name() string
	// Load prepares p, the output of the opt stage, to run.
	Load(ctx context.Context, p *ir.Program) (Runner, error)
}

// A Runner calls the defs of a loaded program. It is safe for concurrent
// use.
type Runner interface {
	// Signature gives a def's parameter and result types.
	Signature(def string) (params []ir.Type, result ir.Type, err error)
	// Call runs a def on arguments of its parameter types, under ctx and
	// limits.
	Call(ctx context.Context, def string, args []runtime.Value, lim runtime.Limits) (runtime.Value, error)
}

// Interp is the embedded interpreter as a backend.
var Interp Backend = interpBackend{}

type interpBackend struct{}

func (interpBackend) Name() string { return "interp" }

func (interpBackend) Load(_ context.Context, p *ir.Program) (Runner, error) {
	// The AD stage's output still holds its checkpointing points, which
	// the rewrite stage decides: run without it, it gets the default
	// policy's decisions.
	p, err := ir.ResolveRematProgram(p)
	if err != nil {
		return nil, err
	}
	return interp.New(p)
}
