package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Batching: map(fn(x) => x * 2.0 + s, xs) should cost two whole-array
// operations, not a million closure calls. A function can be batched when
// its body is built only from
//
//   - elementwise primitives, constants and let-bound temporaries,
//   - its own parameters,
//   - free variables and value defs of scalar type, and
//   - calls of function defs that can themselves be batched.
//
// Then evaluating the body once with every parameter bound to the whole
// stacked array (an outer axis of length n added) gives the stacked
// results, because elementwise primitives are rank polymorphic and
// scalars broadcast.
//
// The analysis tracks which expressions are varying (depend on a
// parameter, so at run time hold a stacked array with one more axis than
// their static type) and which are not (computed once: always scalars,
// since nothing else in such a body makes an array). Broadcasting lifts
// a non-varying scalar over any shape, but a varying scalar ([n] at run
// time) cannot meet a varying array ([n][k]) in one operation, as an
// unbatched scalar and array would; a body needing that is not batched.
// A non-varying result (fn(x) => 1.0) is broadcast to n copies at the end.
//
// The batched body is compiled separately from the ordinary one, with
// every primitive specialized by Prim.Eval for the stacked types, once,
// when the function is compiled; CallBatch only runs it.

// lambdaJob is a lambda waiting for batch analysis.
type lambdaJob struct {
	code    *lambdaCode
	expr    *ir.Lambda
	freeIdx map[*ir.Var]int
}

func (it *Interp) analyseLambda(j lambdaJob) {
	lc := j.code
	if len(j.expr.Params) == 0 || lc.ftype == nil {
		return
	}
	b := &batchComp{it: it, locals: map[*ir.Var]bslot{}, freeIdx: j.freeIdx}
	for _, p := range j.expr.Params {
		b.locals[p] = bslot{slot: b.alloc(1), varying: true}
	}
	body, varying, ok := b.compile(j.expr.Body)
	if !ok || (!varying && !isScalar(lc.ftype.Result)) {
		return
	}
	lc.batch, lc.batchSlots, lc.batchVarying = body, b.max, varying
}

// analyseBatch decides whether a function def can be batched, compiling
// its batched body if so. Defs with size variables or constant dimensions
// are not batched: their entry checks are per call.
func (it *Interp) analyseBatch(dc *defCode) {
	if dc.batchState != 0 {
		return
	}
	dc.batchState = 1
	defer func() { dc.batchState = 2 }()
	d := dc.def
	if !d.HasParams || len(d.Params) == 0 || len(d.SizeVars) != 0 || d.Body == nil {
		return
	}
	for _, p := range d.Params {
		for _, dim := range ir.Dims(p.T) {
			if dim.Known() {
				return
			}
		}
	}
	b := &batchComp{it: it, locals: map[*ir.Var]bslot{}}
	for _, p := range d.Params {
		b.locals[p] = bslot{slot: b.alloc(1), varying: true}
	}
	body, varying, ok := b.compile(d.Body)
	if !ok || (!varying && !isScalar(d.Result)) {
		return
	}
	dc.batch, dc.batchSlots, dc.batchVarying = body, b.max, varying
}

func isScalar(t ir.Type) bool {
	_, ok := t.(ir.Scalar)
	return ok
}

// batchComp compiles a batched body; locals record whether each variable
// is varying.
type batchComp struct {
	it      *Interp
	locals  map[*ir.Var]bslot
	freeIdx map[*ir.Var]int
	depth   int
	max     int
}

type bslot struct {
	slot    int
	varying bool
}

func (b *batchComp) alloc(n int) int {
	s := b.depth
	b.depth += n
	if b.depth > b.max {
		b.max = b.depth
	}
	return s
}

// compile returns the batched code of e, whether its value is varying,
// and ok = false if e cannot be batched.
func (b *batchComp) compile(e ir.Expr) (fn evalFn, varying, ok bool) {
	switch e := e.(type) {
	case *ir.Const:
		v, err := constValue(e)
		if err != nil {
			return nil, false, false
		}
		return func(*frame) (runtime.Value, error) { return v, nil }, false, true
	case *ir.Var:
		if l, ok := b.locals[e]; ok {
			i := l.slot
			return func(fr *frame) (runtime.Value, error) { return fr.slots[i], nil }, l.varying, true
		}
		if i, ok := b.freeIdx[e]; ok && isScalar(e.T) {
			return func(fr *frame) (runtime.Value, error) { return fr.env[i], nil }, false, true
		}
	case *ir.Let:
		val, vv, ok := b.compile(e.Value)
		if !ok || e.Var == nil {
			return nil, false, false
		}
		s := b.alloc(1)
		b.locals[e.Var] = bslot{slot: s, varying: vv}
		body, bv, ok := b.compile(e.Body)
		delete(b.locals, e.Var)
		b.depth = s
		if !ok {
			return nil, false, false
		}
		return func(fr *frame) (runtime.Value, error) {
			v, err := val(fr)
			if err != nil {
				return v, err
			}
			fr.slots[s] = v
			return body(fr)
		}, bv, true
	case *ir.Global:
		dc, ok := b.it.defs[e.Name]
		if ok && !dc.def.HasParams && isScalar(e.T) {
			pos := e.P
			return func(fr *frame) (runtime.Value, error) { return dc.value(fr.m, pos) }, false, true
		}
	case *ir.PrimCall:
		return b.compilePrim(e)
	case *ir.Call:
		return b.compileCall(e)
	}
	return nil, false, false
}

func (b *batchComp) compileList(es []ir.Expr) (fns []evalFn, vary []bool, anyVarying, ok bool) {
	fns, vary = make([]evalFn, len(es)), make([]bool, len(es))
	for i, a := range es {
		f, v, ok := b.compile(a)
		if !ok {
			return nil, nil, false, false
		}
		// Non-varying values are scalars (see above); anything else means
		// the body does something the analysis does not model.
		if !v && !isScalar(a.Type()) {
			return nil, nil, false, false
		}
		fns[i], vary[i] = f, v
		anyVarying = anyVarying || v
	}
	return fns, vary, anyVarying, true
}

func (b *batchComp) compilePrim(e *ir.PrimCall) (evalFn, bool, bool) {
	op := e.Op
	if op == nil || !op.Elementwise || op.Eval == nil || op.CheckArity(len(e.Args)) != nil {
		return nil, false, false
	}
	k := len(e.Args)
	base := b.alloc(k)
	args, vary, anyVarying, ok := b.compileList(e.Args)
	b.depth = base
	if !ok {
		return nil, false, false
	}
	rank := 0
	for _, a := range e.Args {
		rank = max(rank, ir.Rank(a.Type()))
	}
	ts := make([]ir.Type, k)
	for i, a := range e.Args {
		t := a.Type()
		if vary[i] {
			if ir.Rank(t) != rank {
				return nil, false, false // a varying scalar meets an array
			}
			t = ir.ArrayOf(ir.Unknown, t)
		}
		ts[i] = t
	}
	result := e.T
	if anyVarying {
		result = ir.ArrayOf(ir.Unknown, result)
	}
	impl, err := specialize(op, ts, result, e.Aux)
	if err != nil {
		return nil, false, false
	}
	return implCall(impl, args, base, e.P, nil), anyVarying, true
}

// compileCall batches a call of a batchable function def: the callee's
// batched body runs on the stacked arguments, with non-varying (scalar)
// arguments broadcast to n first. A call none of whose arguments vary is
// an ordinary call, made once.
func (b *batchComp) compileCall(e *ir.Call) (evalFn, bool, bool) {
	g, ok := e.Fn.(*ir.Global)
	if !ok {
		return nil, false, false
	}
	dc, ok := b.it.defs[g.Name]
	if !ok || !dc.def.HasParams || len(e.Args) != len(dc.def.Params) {
		return nil, false, false
	}
	b.it.analyseBatch(dc)
	if dc.batch == nil {
		return nil, false, false
	}
	k := len(e.Args)
	base := b.alloc(k)
	args, vary, anyVarying, ok := b.compileList(e.Args)
	b.depth = base
	if !ok {
		return nil, false, false
	}
	pos := e.P
	if !anyVarying {
		if !isScalar(e.T) {
			return nil, false, false
		}
		return directCall(dc, args, pos), false, true
	}
	params := dc.def.Params
	return func(fr *frame) (runtime.Value, error) {
		vs := fr.slots[base : base+k : base+k]
		for j, a := range args {
			v, err := a(fr)
			if err != nil {
				return v, err
			}
			if !vary[j] {
				if v, err = broadcast(fr.m, fr.n, v, params[j].T, pos); err != nil {
					return v, err
				}
			}
			vs[j] = v
		}
		return dc.runBatch(fr.m, fr.n, vs, pos)
	}, true, true
}

// runBatch runs a def's batched body on stacked arguments; call is the
// call site for the def's frame in errors.
func (dc *defCode) runBatch(m *runtime.Machine, n int, args []runtime.Value, call ir.Pos) (runtime.Value, error) {
	if err := m.Step(1); err != nil {
		return runtime.Value{}, withFrame(errAt(orPos(call, dc.pos), err), dc.frame(call))
	}
	fr := newFrame(m, dc.batchSlots, nil)
	fr.n = n
	copy(fr.slots, args)
	v, err := dc.batch(fr)
	if err == nil && !dc.batchVarying {
		v, err = broadcast(m, n, v, dc.def.Result, dc.pos)
	}
	if err != nil {
		return v, withFrame(err, dc.frame(call))
	}
	return v, nil
}

// broadcast makes n copies of the scalar v of type t.
func broadcast(m *runtime.Machine, n int, v runtime.Value, t ir.Type, pos ir.Pos) (runtime.Value, error) {
	s, ok := t.(ir.Scalar)
	if !ok {
		return runtime.Value{}, internalErrorf(pos, "cannot broadcast a value of type %s", t)
	}
	var a *runtime.Array
	var err error
	switch s.Kind {
	case ir.F64:
		if a, err = runtime.NewF64(m, n); err == nil {
			for i := range a.F {
				a.F[i] = v.F
			}
		}
	case ir.I64:
		if a, err = runtime.NewI64(m, n); err == nil {
			for i := range a.I {
				a.I[i] = v.I
			}
		}
	default:
		if a, err = runtime.NewBool(m, n); err == nil {
			for i := range a.B {
				a.B[i] = v.I != 0
			}
		}
	}
	if err != nil {
		return runtime.Value{}, errAt(pos, err)
	}
	return runtime.Arr(a), nil
}
