package nabla

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// Version is the version of this module's Nabla implementation, reported
// by `nabla version` when the build carries no module version.
const Version = "0.1.0-dev"

// Progress is one iteration's report of an iterative standard-library
// method (SPEC §9, §11): method name, iteration from 1, objective (or
// residual) value, gradient (or residual) norm and step length.
type Progress = runtime.Progress

// WithProgress returns a context under which Func.Call (and CallValues)
// report each iteration of the standard library's drivers to fn, on the
// calling goroutine and in order. Reporting never changes a result, and
// differentiated code does not report (the primal run does). Only the
// interpreter reports; generated Go code ignores progress.
func WithProgress(ctx context.Context, fn func(Progress)) context.Context {
	return runtime.WithProgress(ctx, fn)
}

// An Option configures Compile and CompileFile.
type Option func(*config)

type config struct {
	limits      runtime.Limits
	readFile    func(path string) ([]byte, error)
	outsideRoot bool
}

// WithLimits bounds every call of the program's functions: steps is the
// most evaluation steps (loop iterations, calls and array elements
// processed), 0 for no limit, the default; memoryBytes is the most bytes
// of array storage one call may hold alive at once, 0 for the default
// limit (DefaultMemoryLimit) and a negative value for no limit beyond the
// machine's memory. A call that exceeds a limit returns an error naming
// the limit that matches ErrStepLimit or ErrMemoryLimit.
//
// The memory limit counts live storage, not storage ever allocated: a
// loop that allocates and drops a buffer a million times needs room for
// one buffer. A call charges each array before allocating it; when the
// charges would pass the limit, it asks the garbage collector what is
// still alive (weak pointers to its large arrays, and to a sample of its
// small ones) and fails only if that leaves no room. An array that cannot
// fit is refused before it is allocated, so even a huge one is an error,
// never a crash of the host. Limits are per call: concurrent calls are
// measured separately, and what the host holds does not count. A limit
// that passes the machine's memory (SystemMemory) is lowered to it.
func WithLimits(steps, memoryBytes int64) Option {
	return func(c *config) {
		c.limits.Steps = steps
		switch {
		case memoryBytes > 0:
			c.limits.Memory = memoryBytes
		case memoryBytes < 0:
			c.limits.Memory = 0 // no limit but the machine's memory
		}
	}
}

// DefaultMemoryLimit is the memory limit of a call when WithLimits sets
// none: a quarter of the memory this process may use (SystemMemory), as
// for nabla run, or 4 GiB where the system does not say. A program
// therefore cannot take down its host by allocating, even with default
// options.
func DefaultMemoryLimit() int64 { return runtime.DefaultMemoryLimit() }

// SystemMemory returns the memory this process may use as far as the
// system tells (physical memory, control-group and address-space limits),
// or 0 where it does not.
func SystemMemory() int64 { return runtime.SystemMemory() }

// ErrStepLimit and ErrMemoryLimit are matched, with errors.Is, by the
// error of a call that exhausted a limit, and ErrMemoryLimit by that of an
// array too large to allocate at all (zeros(2^62)).
var (
	ErrStepLimit   = runtime.ErrStepLimit
	ErrMemoryLimit = runtime.ErrMemoryLimit
)

// ErrNilContext is the error of a call given a nil context.Context: the
// call could never be cancelled, so it is refused.
var ErrNilContext = errors.New("nil context.Context: pass context.Background() for a call that is never cancelled")

// WithReadFile lets a program import files other than the standard
// library: read is called with the import's path joined to the importing
// file's directory and cleaned ("lib/../util.nab" imported from
// "model.nab" is read as "util.nab"). Imports never leave the root, the
// directory of the file being compiled: an absolute import path, or one
// whose ".." climb above the root, is a positioned error and read never
// sees it, unless WithImportsOutsideRoot is given too. Without
// WithReadFile, Compile gives the program no file access (only std/...
// imports work) and CompileFile reads from disk with lang.RootReader of
// the file's directory (regular files only, at most lang.MaxSourceBytes
// each, and no symbolic link out of the root), or lang.ReadSourceFile
// with WithImportsOutsideRoot.
func WithReadFile(read func(path string) ([]byte, error)) Option {
	return func(c *config) { c.readFile = read }
}

// WithImportsOutsideRoot lets imports name files outside the root
// directory (absolute paths, or ".." above the root); the reader then
// decides alone what the program may read.
func WithImportsOutsideRoot() Option {
	return func(c *config) { c.outsideRoot = true }
}

// A Program is a compiled Nabla program. It is immutable and safe for
// concurrent use: any number of goroutines may call its functions at once.
type Program struct {
	ir      *ir.Program
	run     pipeline.Runner
	entries entryRunner // run, when it can look defs up once and build results in caller storage
	limits  runtime.Limits
	names   []string
}

// entryRunner is a Runner whose defs can be looked up once and that
// accepts storage for the result (interp.Interp.Entry).
type entryRunner interface {
	Entry(def string) (*interp.Entry, error)
}

// Compile parses, type-checks and optimizes a program, named filename in
// error positions. If it fails, the error is an ir.ErrorList with every
// problem found, each printing as "file:line:col: message".
func Compile(filename string, src []byte, opts ...Option) (*Program, error) {
	return CompileContext(context.Background(), filename, src, opts...)
}

// CompileContext is Compile under ctx: cancelling ctx stops the
// compilation, which then returns ctx's error.
func CompileContext(ctx context.Context, filename string, src []byte, opts ...Option) (*Program, error) {
	c := config{limits: runtime.Limits{Memory: runtime.DefaultMemoryLimit()}}
	for _, o := range opts {
		o(&c)
	}
	return compile(ctx, filename, src, c)
}

// CompileFile is Compile for the file at path, read (with its relative
// imports) by the WithReadFile function if given and from disk otherwise.
// Failing to read path itself returns the reader's error unchanged.
func CompileFile(path string, opts ...Option) (*Program, error) {
	return CompileFileContext(context.Background(), path, opts...)
}

// CompileFileContext is CompileFile under ctx.
func CompileFileContext(ctx context.Context, path string, opts ...Option) (*Program, error) {
	c := config{limits: runtime.Limits{Memory: runtime.DefaultMemoryLimit()}}
	for _, o := range opts {
		o(&c)
	}
	read := c.readFile
	if read == nil {
		// The file itself may be anywhere (a symbolic link too); its
		// imports stay in its directory.
		read = lang.ReadSourceFile
		c.readFile = lang.RootReader(filepath.Dir(path))
		if c.outsideRoot {
			c.readFile = lang.ReadSourceFile
		}
	}
	src, err := read(path)
	if err != nil {
		return nil, err
	}
	return compile(ctx, path, src, c)
}

func compile(ctx context.Context, filename string, src []byte, c config) (*Program, error) {
	res, err := pipeline.Compile(ctx, filename, src, pipeline.Options{ReadFile: c.readFile, OutsideRoot: c.outsideRoot})
	if err != nil {
		return nil, err
	}
	p := res.Opt
	run, err := pipeline.Interp.Load(ctx, p)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(p.Defs))
	for i, d := range p.Defs {
		names[i] = d.Name
	}
	slices.Sort(names)
	entries, _ := run.(entryRunner)
	return &Program{ir: p, run: run, entries: entries, limits: c.limits, names: names}, nil
}

// Funcs lists the names of the program's defs, sorted. Defs of imported
// modules appear under their qualified names ("optim.lbfgs"). Every def
// can be called, exported or not: `export` decides what the code
// generator emits, while the interpreter, like `nabla run`, reaches all.
func (p *Program) Funcs() []string { return slices.Clone(p.names) }

// Func returns the def called name, ready to be called.
func (p *Program) Func(name string) (*Func, error) {
	d := p.ir.Def(name)
	if d == nil {
		msg := fmt.Sprintf("no def named %q", name)
		if s := suggest(name, p.names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil, errors.New(msg)
	}
	params, result, err := p.run.Signature(name)
	if err != nil {
		return nil, err
	}
	f := &Func{prog: p, def: d, params: params, result: result, views: !hasFunc(result)}
	if p.entries != nil {
		if f.entry, err = p.entries.Entry(name); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// A Func is one def of a Program. Like the Program, it is safe for
// concurrent use.
type Func struct {
	prog   *Program
	def    *ir.Def
	params []ir.Type
	result ir.Type

	entry *interp.Entry // the def in the interpreter, nil for another backend

	// views: array arguments are read in place, since the result cannot
	// hold a closure that would keep them (into.go).
	views  bool
	states sync.Pool // *callState
}

// Name returns the def's name.
func (f *Func) Name() string { return f.def.Name }

// Exported reports whether the def is declared with `export`.
func (f *Func) Exported() bool { return f.def.Export }

// Params returns the parameter types. Array sizes are size variables
// ([n]f64) or constants ([3]f64); size variables shared between parameters
// are checked when the function is called.
func (f *Func) Params() []ir.Type { return slices.Clone(f.params) }

// ParamNames returns the parameter names, in order, for messages about
// arguments.
func (f *Func) ParamNames() []string {
	names := make([]string, len(f.def.Params))
	for i, p := range f.def.Params {
		names[i] = p.Name
	}
	return names
}

// Result returns the result type.
func (f *Func) Result() ir.Type { return f.result }

// Signature renders the def's type as "([n]f64, f64) -> f64".
func (f *Func) Signature() string { return signature(f.params, f.result) }

// Call calls the function with Go arguments, one per parameter, and
// returns its result as a Go value. ctx cancels the call; the Program's
// limits bound it.
//
// Arguments are converted by the parameter's type:
//
//	f64         float64, float32, or any Go integer exactly representable
//	i64         int, int64 or any other Go integer in range
//	bool        bool
//	[n]f64      []float64, mat.Vector (such as *mat.VecDense)
//	[m][n]f64   [][]float64, mat.Matrix (such as *mat.Dense)
//	[n]T        a slice or array of values convertible to T; nested slices
//	            must be rectangular
//	(T1, T2)    []any{t1, t2}
//	any type    a runtime.Value (or *runtime.Array) of that type, passed
//	            through unchanged; the only way to pass a function
//
// Arguments of the first kinds listed for arrays ([]float64, []int64,
// []bool, a *mat.VecDense or a *mat.Dense whose rows are contiguous) are
// read in place rather than copied, unless the result type can hold a
// function (which could capture them). The interpreter never writes to
// them, and keeps no reference to them once Call returns, so a caller may
// reuse them at once; it must not change them while the call runs.
//
// Results come back as float64, int64, bool, []float64, [][]float64,
// []int64, []bool, deeper nested slices ([][][]float64), []any for tuples
// (recursively converted) and runtime.Value for functions.
//
// Every error Call returns holds an *ir.Error, found with errors.As: a
// run-time error of the program carries the position of the failing
// expression and a backtrace of the defs that were running (in Frames,
// and as indented lines of its text); an argument that does not fit its
// parameter reports the parameter's declaration:
//
//	model.nab:3:10: argument 1 of rosen: want [n]f64, got string
//
// A nil pointer (a nil *mat.Dense included) is such an argument, never a
// panic.
//
// An exhausted limit or a cancelled context also matches errors.Is with
// ErrStepLimit, ErrMemoryLimit or the context's error. Cancellation and
// deadlines are noticed within about a millisecond, also inside a single
// large primitive (a sum over a billion elements). A nil ctx is an error:
// pass context.Background() for a call that is never cancelled.
func (f *Func) Call(ctx context.Context, args ...any) (any, error) {
	if err := f.checkArity(len(args)); err != nil {
		return nil, err
	}
	st := f.getState()
	defer f.release(st)
	if err := f.args(st, args); err != nil {
		return nil, err
	}
	v, err := f.call(ctx, st.vals, nil)
	if err != nil {
		return nil, err
	}
	return fromValue(f.result, v), nil
}

// CallInto is Call for a caller that calls the function often and wants
// no allocation in the way: it writes the result into dst, a destination
// the caller owns and reuses, instead of returning a new value. The
// destination depends on the result type:
//
//	f64, i64, bool  *float64, *int64, *bool
//	[n]f64          []float64 of length n, or *mat.VecDense
//	[m][n]f64       [][]float64 of m rows of length n, or *mat.Dense
//	[n]i64, [n]bool []int64, []bool of length n
//	any array type  *runtime.Array of the result's element type and shape
//	(T1, T2, ...)   []any holding a destination for each element
//
// An empty *mat.VecDense or *mat.Dense is sized to the result, as gonum
// sizes an empty receiver; any other destination must have the result's
// shape exactly, or CallInto returns an error saying which shape it
// wanted. Arguments are as for Call. A destination may be one of the
// arguments (CallInto(ctx, y, a, x, y) computes a*x + y into y): the
// arguments are read as they were when the call began.
//
// A warm call (the same Func called before with arguments of the same
// sizes) allocates nothing when the arguments are scalars or read in
// place (see Call) and the result is a scalar, or an array of scalars
// that the program makes in one piece, as a fused elementwise chain such
// as a*x + y does, for a destination that shares no storage with an
// argument: the interpreter then builds the result in dst itself (for a
// [][]float64, in scratch space the Func keeps, copied row by row). Other
// results are built apart and copied into dst, at the cost of the
// allocations Call makes for them, but not of Call's conversion.
//
// Go itself allocates to pass a slice or a variable float64 as an
// argument of type any, 24 or 8 bytes at each call site; a hot loop that
// wants no allocation at all builds the argument list once and passes it
// again, since a slice in it still refers to the caller's storage:
//
//	args := []any{a, x, y}
//	for ... {
//		// update x and y in place
//		err := f.CallInto(ctx, dst, args...)
//	}
//
// When CallInto returns an error, dst may have been partly written.
func (f *Func) CallInto(ctx context.Context, dst any, args ...any) error {
	if err := f.checkArity(len(args)); err != nil {
		return err
	}
	if nilDest(dst) {
		return f.destError(destError(f.result, dst, "", ""))
	}
	st := f.getState()
	defer f.release(st)
	if err := f.args(st, args); err != nil {
		return err
	}
	v, err := f.call(ctx, st.vals, st.offer(f.result, dst))
	if err != nil {
		return err
	}
	if err := writeResult(f.result, dst, v, ""); err != nil {
		return f.destError(err)
	}
	return nil
}

// destError positions an error about CallInto's destination at the def.
func (f *Func) destError(err error) error {
	return ir.Errorf(f.def.P, "destination of %s: %v", f.def.Name, err)
}

// CallValues is Call without conversion: the arguments and the result are
// the interpreter's own values, whose layout runtime.Value documents. It
// saves copying large arrays. The interpreter checks the arguments'
// kinds and shapes against the parameter types; arrays passed in must not
// be modified while the call runs, and the result may share storage with
// the program's value defs, so it must not be modified at all.
func (f *Func) CallValues(ctx context.Context, args []runtime.Value) (runtime.Value, error) {
	if err := f.checkArity(len(args)); err != nil {
		return runtime.Value{}, err
	}
	return f.call(ctx, args, nil)
}

// call runs the def on args, offering out (if not nil) as storage for an
// array result (see interp.Interp.CallInto).
func (f *Func) call(ctx context.Context, args []runtime.Value, out *runtime.Array) (runtime.Value, error) {
	if ctx == nil {
		e := &ir.Error{Pos: f.def.P, Msg: fmt.Sprintf("calling %s: %v", f.def.Name, ErrNilContext)}
		return runtime.Value{}, &interp.CauseError{Err: e, Cause: ErrNilContext}
	}
	var v runtime.Value
	var err error
	if f.entry != nil {
		v, err = f.entry.CallInto(ctx, args, out, f.prog.limits)
	} else {
		v, err = f.prog.run.Call(ctx, f.def.Name, args, f.prog.limits)
	}
	if err == nil {
		return v, nil
	}
	var e *ir.Error
	if errors.As(err, &e) {
		return runtime.Value{}, err // an *ir.Error, or an error of the backend wrapping one
	}
	// The interpreter positions its errors; anything else (a limit or
	// cancellation noticed outside the body) is pinned to the def.
	return runtime.Value{}, &ir.Error{Pos: f.def.P, Msg: err.Error()}
}

func (f *Func) checkArity(n int) error {
	if n == len(f.params) {
		return nil
	}
	s := "s"
	if len(f.params) == 1 {
		s = ""
	}
	return ir.Errorf(f.def.P, "%s takes %d argument%s, got %d (its type is %s)", f.def.Name, len(f.params), s, n, f.Signature())
}

// argError positions a conversion error at the parameter's declaration.
func (f *Func) argError(i int, err error) error {
	pos := f.def.P
	if i < len(f.def.Params) {
		pos = f.def.Params[i].P
	}
	return ir.Errorf(pos, "argument %d of %s: %v", i+1, f.def.Name, err)
}

// suggest returns the name closest to name by edit distance, if it is
// close enough to be a likely typo.
func suggest(name string, names []string) string {
	best, bestDist := "", len(name)/3+1
	for _, n := range names {
		if d := editDistance(name, n); d <= bestDist && (best == "" || d < bestDist) {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
