package interp

import (
	"context"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Interp is a program compiled for evaluation. It is immutable after New
// (value defs fill their caches under their own locks) and safe for
// concurrent Calls.
type Interp struct {
	prog *ir.Program
	defs map[string]*defCode

	// lambdas waiting for batch analysis during New.
	lambdas []lambdaJob

	// letFields and letKeeps cache letFieldsOnly's and letMayKeep's
	// answers (fieldscan.go, keepscan.go).
	letFields, letKeeps map[*ir.Let]bool
}

// defCode is one def compiled: its body as a closure tree over a frame
// of nslots slots (parameters first, then size variables, then locals and
// argument scratch space), and for value defs the cached value.
type defCode struct {
	def    *ir.Def
	name   string
	pos    ir.Pos
	body   evalFn
	nslots int

	// Function defs: entry checks. params are the parameters' types;
	// sizes and dims are the run-time size checks (see sizes.go).
	params []ir.Type
	sizes  []sizeBind
	dims   []constDim

	// batch is the body compiled for whole stacked arrays (see batch.go),
	// nil when the def cannot be batched; batchVarying reports whether its
	// result depends on the parameters (else it is broadcast).
	batch        evalFn
	batchSlots   int
	batchVarying bool
	batchState   uint8 // 0 not analysed, 1 analysing, 2 done

	// Value defs: the value, computed at most once (see lazy.go).
	lazy lazyValue
}

// New prepares a checked program for evaluation. It compiles every def's
// body once into a tree of Go closures, with variables resolved to frame
// slots and every primitive call specialized for its static types, so
// that evaluation never looks at the IR again. Errors are the program's
// static faults the checker should have caught (an unbound variable, a
// Global naming no def, recursion, a primitive rejecting its types),
// returned as an ir.ErrorList.
//
// AD operators (grad, jvp, ...) that no pass has expanded do not make New
// fail: evaluating one is a positioned run-time error.
func New(p *ir.Program) (it *Interp, err error) {
	defer func() {
		if r := recover(); r != nil {
			it, err = nil, ir.ErrorList{{Msg: panicError(r).Error()}}
		}
	}()
	it = &Interp{prog: p, defs: make(map[string]*defCode, len(p.Defs))}
	var errs ir.ErrorList
	for _, d := range p.Defs {
		if d == nil {
			return nil, ir.ErrorList{{Msg: "nil def in program"}}
		}
		if _, dup := it.defs[d.Name]; dup {
			errs = append(errs, ir.Errorf(d.P, "def %s defined twice", d.Name))
			continue
		}
		it.defs[d.Name] = &defCode{def: d, name: d.Name, pos: d.P}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := it.checkRecursion(); err != nil {
		return nil, err
	}
	for _, d := range p.Defs {
		if err := it.compileDef(it.defs[d.Name]); err != nil {
			errs = append(errs, asIRError(err, d.P))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	for _, d := range p.Defs {
		it.analyseBatch(it.defs[d.Name])
	}
	for _, j := range it.lambdas {
		it.analyseLambda(j)
	}
	it.lambdas = nil
	return it, nil
}

func asIRError(err error, pos ir.Pos) *ir.Error {
	if ie, _ := positioned(err); ie != nil {
		return ie
	}
	return &ir.Error{Pos: pos, Msg: err.Error()}
}

// compileDef compiles a def's body. Parameters occupy the first slots, in
// order, so a caller can evaluate arguments straight into a new frame.
func (it *Interp) compileDef(dc *defCode) error {
	d := dc.def
	c := newFnComp(it, nil)
	c.keepTapes = d.HasParams
	if d.HasParams {
		dc.params = make([]ir.Type, len(d.Params))
		for i, p := range d.Params {
			if p == nil {
				return ir.Errorf(d.P, "def %s: parameter %d is nil", d.Name, i+1)
			}
			c.bind(p, c.alloc(1))
			dc.params[i] = p.T
		}
		if err := dc.compileSizes(c); err != nil {
			return err
		}
	}
	if d.Body == nil {
		return ir.Errorf(d.P, "def %s has no body", d.Name)
	}
	body, err := c.compile(joinOneHotLets(d.Body))
	if err != nil {
		return err
	}
	dc.body, dc.nslots = body, c.max
	return nil
}

// checkRecursion rejects cycles among defs. The checker already does;
// the interpreter relies on it (a value def that needed itself would wait
// for itself forever), so it makes sure.
func (it *Interp) checkRecursion() error {
	const (
		unvisited = iota
		active
		finished
	)
	state := map[string]int{}
	var path []string
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case active:
			cycle := name
			for i := len(path) - 1; i >= 0 && path[i] != name; i-- {
				cycle = path[i] + " -> " + cycle
			}
			d := it.defs[name].def
			return ir.Errorf(d.P, "recursion is not allowed (%s -> %s); iterate with loop", name, cycle)
		case finished:
			return nil
		}
		state[name] = active
		path = append(path, name)
		var err error
		walk(it.defs[name].def.Body, func(e ir.Expr) {
			if g, ok := e.(*ir.Global); ok && err == nil {
				if _, known := it.defs[g.Name]; !known {
					err = ir.Errorf(g.P, "unknown def %s", g.Name)
					return
				}
				err = visit(g.Name)
			}
		})
		path = path[:len(path)-1]
		state[name] = finished
		return err
	}
	for _, d := range it.prog.Defs {
		if err := visit(d.Name); err != nil {
			return ir.ErrorList{asIRError(err, d.P)}
		}
	}
	return nil
}

// walk calls f on every expression of e, outermost first.
func walk(e ir.Expr, f func(ir.Expr)) {
	if e == nil {
		return
	}
	f(e)
	switch e := e.(type) {
	case *ir.Let:
		walk(e.Value, f)
		walk(e.Body, f)
	case *ir.Lambda:
		walk(e.Body, f)
	case *ir.Call:
		walk(e.Fn, f)
		for _, a := range e.Args {
			walk(a, f)
		}
	case *ir.PrimCall:
		for _, a := range e.Args {
			walk(a, f)
		}
	case *ir.MakeTuple:
		for _, a := range e.Elems {
			walk(a, f)
		}
	case *ir.Proj:
		walk(e.X, f)
	case *ir.If:
		walk(e.Cond, f)
		walk(e.Then, f)
		walk(e.Else, f)
	case *ir.Loop:
		walk(e.Init, f)
		walk(e.Count, f)
		walk(e.Cond, f)
		walk(e.Body, f)
	}
}

// Signature returns the def's parameter types and result type as a caller
// sees them: for a value def of function type (def df = grad(f)), the
// function's; for any other value def, no parameters and its type.
func (it *Interp) Signature(name string) (params []ir.Type, result ir.Type, err error) {
	dc, ok := it.defs[name]
	if !ok {
		return nil, nil, &ir.Error{Msg: fmt.Sprintf("no def named %s", name)}
	}
	d := dc.def
	if d.HasParams {
		return append([]ir.Type(nil), dc.params...), d.Result, nil
	}
	t := d.Body.Type()
	if f, ok := t.(*ir.Func); ok {
		return append([]ir.Type(nil), f.Params...), f.Result, nil
	}
	return nil, t, nil
}

// Call runs def name on args under ctx and lim; a nil ctx is an error.
// For a value def whose
// value is a function (def df = grad(f)), Call applies that function to
// args; for any other value def, args must be empty and Call returns the
// value.
//
// Arguments are checked against the parameter types (kinds, ranks, known
// sizes, size variables) before the body runs. Errors are *ir.Error, or
// *CauseError for exhausted limits and cancellation, with the position of
// the failing expression and the active defs as Frames, innermost first;
// the entry def's frame has no call position. A Go panic anywhere in the
// evaluation becomes an "internal error" instead of crashing the embedder.
//
// The interpreter never writes to the arguments' storage, and keeps no
// reference to it once Call returns, except through the result (which
// may be an argument, or a closure that captured one).
func (it *Interp) Call(ctx context.Context, name string, args []runtime.Value, lim runtime.Limits) (runtime.Value, error) {
	return it.CallInto(ctx, name, args, nil, lim)
}

// CallInto is Call with out, if not nil, offered as storage for the
// result: an array of the result's kind and shape that the caller owns.
// The evaluation builds its result there when it can, and may use out as
// scratch space otherwise, so out's contents are unspecified afterwards
// and the caller copies the result into out when the result's storage is
// not out's. An out that shares storage with an argument, or a call
// whose arguments hold anything but scalars and flat arrays of scalars,
// is not offered (the call then allocates its result as Call does).
func (it *Interp) CallInto(ctx context.Context, name string, args []runtime.Value, out *runtime.Array, lim runtime.Limits) (runtime.Value, error) {
	e, err := it.Entry(name)
	if err != nil {
		return runtime.Value{}, err
	}
	return e.CallInto(ctx, args, out, lim)
}

// An Entry is a def of an Interp looked up once, for an embedder that
// calls it many times (nabla.Func).
type Entry struct{ dc *defCode }

// Entry returns the def called name.
func (it *Interp) Entry(name string) (*Entry, error) {
	dc, ok := it.defs[name]
	if !ok {
		return nil, &ir.Error{Msg: fmt.Sprintf("no def named %s", name)}
	}
	return &Entry{dc}, nil
}

// CallInto is Interp.CallInto of the entry's def.
func (en *Entry) CallInto(ctx context.Context, args []runtime.Value, out *runtime.Array, lim runtime.Limits) (v runtime.Value, err error) {
	dc := en.dc
	entry := ir.Frame{Def: dc.name, DefPos: dc.pos}
	if ctx == nil {
		return runtime.Value{}, withFrame(ir.Errorf(dc.pos, "nil context.Context: pass context.Background() for a call that is never cancelled"), entry)
	}
	defer func() {
		// The machine and stack of a call that panicked are dropped, not
		// pooled: they may be half-way through an update.
		if r := recover(); r != nil {
			v, err = runtime.Value{}, withFrame(errAt(dc.pos, panicError(r)), entry)
		}
	}()
	if err := ctx.Err(); err != nil {
		return runtime.Value{}, withFrame(errAt(dc.pos, err), entry)
	}
	e := getEntry(ctx, lim)
	v, err = dc.enter(e, args, out)
	putEntry(e)
	return v, err
}

// enter runs the entry call of CallInto on e's machine and stack.
func (dc *defCode) enter(e *entryState, args []runtime.Value, out *runtime.Array) (runtime.Value, error) {
	entry := ir.Frame{Def: dc.name, DefPos: dc.pos}
	if dc.def.HasParams {
		if err := dc.checkArgs(args, dc.params); err != nil {
			return runtime.Value{}, withFrame(err, entry)
		}
		if out != nil && mayOffer(out, args) {
			e.m.Offer(out)
		}
		fr := e.st.push(e.m, dc.nslots, nil)
		copy(fr.slots, args)
		v, err := dc.run(fr, ir.Pos{})
		e.st.pop(fr)
		return v, err
	}
	val, err := dc.value(e.m, ir.Pos{})
	if err != nil {
		return runtime.Value{}, err
	}
	ft, isFunc := dc.def.Body.Type().(*ir.Func)
	if !isFunc {
		if len(args) != 0 {
			return runtime.Value{}, withFrame(ir.Errorf(dc.pos, "%s is a value, not a function: it takes no arguments, got %d", dc.name, len(args)), entry)
		}
		return val, nil
	}
	if err := dc.checkArgs(args, ft.Params); err != nil {
		return runtime.Value{}, withFrame(err, entry)
	}
	if out != nil && mayOffer(out, args) {
		e.m.Offer(out) // the function's captured values are the program's, never the caller's
	}
	v, err := callValue(e.m, e.st, val, args, ir.Pos{}, dc.pos)
	if err != nil {
		return v, withFrame(err, entry)
	}
	return v, nil
}

// run executes a function def in a frame whose parameter slots are set:
// it charges a step for the call, binds and checks sizes, and evaluates
// the body. call is the call site (zero for the entry call); an error
// leaving the def gets the def's frame.
func (dc *defCode) run(fr *frame, call ir.Pos) (runtime.Value, error) {
	if err := fr.m.Step(1); err != nil {
		return runtime.Value{}, withFrame(errAt(orPos(call, dc.pos), err), dc.frame(call))
	}
	if len(dc.sizes) != 0 || len(dc.dims) != 0 {
		if err := dc.bindSizes(fr); err != nil {
			return runtime.Value{}, withFrame(err, dc.frame(call))
		}
	}
	v, err := dc.body(fr)
	if len(fr.tapes) != 0 {
		releaseTapes(fr, v, err, len(dc.params))
	}
	if err != nil {
		return v, withFrame(err, dc.frame(call))
	}
	return v, nil
}

func (dc *defCode) frame(call ir.Pos) ir.Frame {
	return ir.Frame{Def: dc.name, DefPos: dc.pos, Call: call}
}

// orPos returns p, or def when p is not a position.
func orPos(p, def ir.Pos) ir.Pos {
	if p.IsValid() || p.File != "" {
		return p
	}
	return def
}
