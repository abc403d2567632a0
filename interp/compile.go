package interp

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// fnComp compiles the body of one function (a def or a lambda) into
// closures over a frame. It assigns slots with a stack discipline: a
// binder takes the next free slot for the extent of its scope, and the
// scratch space that holds a call's arguments is taken and released the
// same way, so a frame needs only as many slots as the deepest nesting
// (max), known before the function ever runs.
//
// A lambda's compiler has its enclosing function's compiler as parent.
// A variable the lambda uses but does not bind is resolved in the parent
// and becomes a free variable: the lambda reads it from its closure's env,
// which the parent fills by copying the variable's value when it creates
// the closure.
type fnComp struct {
	it      *Interp
	parent  *fnComp
	locals  map[*ir.Var]int
	free    []*ir.Var
	freeIdx map[*ir.Var]int
	depth   int
	max     int
	// fields maps a loop's tuple state kept in slots to its first slot
	// (loops.go).
	fields map[*ir.Var]int
	// comps are the comprehensions being compiled into this function,
	// innermost last (typed.go).
	comps []*comp
	// tape is 1 + the slot of the arena of the build of tuples whose body
	// is being compiled, 0 outside one (tape.go).
	tape int
	// keepTapes: this is a function def's own body, whose frame releases
	// the tape arenas it lists when the def returns (tape_keep.go).
	keepTapes bool
}

func newFnComp(it *Interp, parent *fnComp) *fnComp {
	return &fnComp{it: it, parent: parent, locals: map[*ir.Var]int{}, freeIdx: map[*ir.Var]int{}, fields: map[*ir.Var]int{}}
}

// alloc takes n consecutive slots and returns the first; release them by
// resetting depth to it.
func (c *fnComp) alloc(n int) int {
	s := c.depth
	c.depth += n
	if c.depth > c.max {
		c.max = c.depth
	}
	return s
}

func (c *fnComp) bind(v *ir.Var, slot int) { c.locals[v] = slot }

// loc is where a variable lives at run time: a slot of the frame, or an
// entry of the closure's env.
type loc struct {
	env bool
	idx int
}

func (c *fnComp) resolve(v *ir.Var) (loc, bool) {
	if s, ok := c.locals[v]; ok {
		return loc{idx: s}, true
	}
	if i, ok := c.freeIdx[v]; ok {
		return loc{env: true, idx: i}, true
	}
	if c.parent != nil {
		if _, ok := c.parent.resolve(v); ok {
			i := len(c.free)
			c.free = append(c.free, v)
			c.freeIdx[v] = i
			return loc{env: true, idx: i}, true
		}
	}
	return loc{}, false
}

func (l loc) load(fr *frame) runtime.Value {
	if l.env {
		return fr.env[l.idx]
	}
	return fr.slots[l.idx]
}

// compile compiles an expression. Errors are static faults of the IR
// (the checker and Validate rule them out); they make New fail.
func (c *fnComp) compile(e ir.Expr) (evalFn, error) {
	switch e := e.(type) {
	case nil:
		return nil, fmt.Errorf("nil expression")
	case *ir.Var:
		return c.compileVar(e)
	case *ir.Const:
		v, err := constValue(e)
		if err != nil {
			return nil, err
		}
		return func(*frame) (runtime.Value, error) { return v, nil }, nil
	case *ir.Let:
		return c.compileLet(e)
	case *ir.If:
		return c.compileIf(e)
	case *ir.MakeTuple:
		return c.compileTuple(e)
	case *ir.Proj:
		return c.compileProj(e)
	case *ir.Loop:
		if e.State != nil {
			switch k, ok := scalarKind(e.State.T); {
			case ok && k == ir.F64:
				if f, ok, err := typedLoop(c, e, c.typedF, setF); ok || err != nil {
					return boxF(f), err
				}
			case ok:
				if f, ok, err := typedLoop(c, e, c.typedI, setI); ok || err != nil {
					return boxI(f), err
				}
			}
		}
		if f, ok, err := c.compileTupleLoop(e); ok || err != nil {
			return f, err
		}
		return c.compileLoop(e)
	case *ir.Lambda:
		return c.compileLambda(e)
	case *ir.Global:
		return c.compileGlobal(e)
	case *ir.Call:
		return c.compileCall(e)
	case *ir.PrimCall:
		return c.compilePrim(e)
	}
	return nil, ir.Errorf(e.Pos(), "unknown expression %T", e)
}

func constValue(e *ir.Const) (runtime.Value, error) {
	switch v := e.Val.(type) {
	case float64:
		return runtime.F64(v), nil
	case int64:
		return runtime.I64(v), nil
	case bool:
		return runtime.Bool(v), nil
	}
	return runtime.Value{}, ir.Errorf(e.P, "constant %v of type %T", e.Val, e.Val)
}

func (c *fnComp) compileVar(e *ir.Var) (evalFn, error) {
	l, ok := c.resolve(e)
	if !ok {
		return nil, ir.Errorf(e.P, "variable %s used outside its scope", e.Name)
	}
	i := l.idx
	if l.env {
		return func(fr *frame) (runtime.Value, error) { return fr.env[i], nil }, nil
	}
	return func(fr *frame) (runtime.Value, error) { return fr.slots[i], nil }, nil
}

func (c *fnComp) compileLet(e *ir.Let) (evalFn, error) {
	if e.Var == nil {
		return nil, ir.Errorf(e.P, "let without a variable")
	}
	if f, ok, err := c.broadcastLet(e); ok || err != nil {
		return f, err
	}
	if f, ok, err := c.svLet(e); ok || err != nil {
		return f, err
	}
	if f, ok, err := c.sumLet(e); ok || err != nil {
		return f, err
	}
	if val, base, dead, ok, err := c.letTupleLoop(e); ok || err != nil {
		if err != nil {
			return nil, err
		}
		body, err := c.compile(e.Body)
		delete(c.fields, e.Var)
		c.depth = base
		if err != nil {
			return nil, err
		}
		return func(fr *frame) (runtime.Value, error) {
			if err := val(fr); err != nil {
				return runtime.Value{}, err
			}
			r, err := body(fr)
			releaseFields(fr, dead)
			return r, err
		}, nil
	}
	s := c.alloc(1)
	val, dead, err := c.storeLet(e, s)
	if err != nil {
		return nil, err
	}
	c.bind(e.Var, s)
	body, err := c.compile(e.Body)
	delete(c.locals, e.Var)
	c.depth = s
	if err != nil {
		return nil, err
	}
	if dead != deadNone {
		return func(fr *frame) (runtime.Value, error) {
			if val(fr); fr.err != nil {
				return runtime.Value{}, fr.takeErr()
			}
			r, err := body(fr)
			release(fr.m, dead, fr.slots[s])
			return r, err
		}, nil
	}
	return func(fr *frame) (runtime.Value, error) {
		if val(fr); fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		return body(fr)
	}, nil
}

func (c *fnComp) compileIf(e *ir.If) (evalFn, error) {
	cond, err := c.compile(e.Cond)
	if err != nil {
		return nil, err
	}
	then, err := c.compile(e.Then)
	if err != nil {
		return nil, err
	}
	els, err := c.compile(e.Else)
	if err != nil {
		return nil, err
	}
	return func(fr *frame) (runtime.Value, error) {
		b, err := cond(fr)
		if err != nil {
			return b, err
		}
		if b.I != 0 {
			return then(fr)
		}
		return els(fr)
	}, nil
}

func (c *fnComp) compileList(es []ir.Expr) ([]evalFn, error) {
	fs := make([]evalFn, len(es))
	for i, a := range es {
		f, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	return fs, nil
}

func (c *fnComp) compileTuple(e *ir.MakeTuple) (evalFn, error) {
	elems, err := c.compileList(e.Elems)
	if err != nil {
		return nil, err
	}
	k := len(elems)
	tape := c.tape
	return func(fr *frame) (runtime.Value, error) {
		var t runtime.Tuple
		if tape != 0 {
			t = arenaOf(fr, tape).tuple(k)
		} else {
			t = make(runtime.Tuple, k)
		}
		for i, el := range elems {
			v, err := el(fr)
			if err != nil {
				return v, err
			}
			t[i] = v
		}
		return runtime.Value{R: t}, nil
	}, nil
}

func (c *fnComp) compileProj(e *ir.Proj) (evalFn, error) {
	if s, ok := c.fieldSlot(e); ok {
		return func(fr *frame) (runtime.Value, error) { return fr.slots[s], nil }, nil
	}
	if f, ok, err := c.compileTapeRead(e); ok || err != nil {
		return f, err
	}
	x, err := c.compile(e.X)
	if err != nil {
		return nil, err
	}
	idx, pos := e.Index, e.P
	if idx < 0 {
		return nil, ir.Errorf(pos, "projection of field %d", idx)
	}
	dead := c.it.discards(e.X, idx)
	return func(fr *frame) (runtime.Value, error) {
		v, err := x(fr)
		if err != nil {
			return v, err
		}
		t, ok := v.R.(runtime.Tuple)
		if !ok || idx >= len(t) {
			return runtime.Value{}, internalErrorf(pos, "field %d of %s", idx, describe(v))
		}
		if dead != nil {
			recyclePaths(fr.m, t, dead)
		}
		return t[idx], nil
	}, nil
}

// compileLoop compiles both kinds of loop. Each iteration charges one
// step, which also polls the context now and then: an endless loop ends
// at the step limit or when the call is cancelled.
func (c *fnComp) compileLoop(e *ir.Loop) (evalFn, error) {
	if e.State == nil || (e.Count == nil) == (e.Cond == nil) || (e.Count != nil && e.Index == nil) {
		return nil, ir.Errorf(e.P, "malformed loop: want a state and either an index and a count or a condition")
	}
	pos := e.P
	init, err := c.compile(e.Init)
	if err != nil {
		return nil, err
	}
	if e.Count != nil {
		count, err := c.compile(e.Count)
		if err != nil {
			return nil, err
		}
		base := c.depth
		s, ix := c.alloc(1), c.alloc(1)
		c.bind(e.State, s)
		c.bind(e.Index, ix)
		body, err := c.compile(e.Body)
		delete(c.locals, e.State)
		delete(c.locals, e.Index)
		c.depth = base
		if err != nil {
			return nil, err
		}
		dies := c.it.stateDies(e)
		return func(fr *frame) (runtime.Value, error) {
			st, err := init(fr)
			if err != nil {
				return st, err
			}
			n, err := count(fr)
			if err != nil {
				return n, err
			}
			m := fr.m
			for i := int64(0); i < n.I; i++ {
				if err := m.Step(1); err != nil {
					return runtime.Value{}, errAt(pos, err)
				}
				fr.slots[s] = st
				fr.slots[ix] = runtime.Value{I: i}
				if st, err = body(fr); err != nil {
					return st, err
				}
				if dies && i > 0 {
					recycle(m, fr.slots[s])
				}
			}
			return st, nil
		}, nil
	}
	s := c.alloc(1)
	c.bind(e.State, s)
	cond, err := c.compile(e.Cond)
	if err != nil {
		return nil, err
	}
	body, err := c.compile(e.Body)
	delete(c.locals, e.State)
	c.depth = s
	if err != nil {
		return nil, err
	}
	dies := c.it.stateDies(e)
	return func(fr *frame) (runtime.Value, error) {
		st, err := init(fr)
		if err != nil {
			return st, err
		}
		m := fr.m
		// At the top of iteration k, the slot holds state k-2, made by
		// the body from k = 3 on and dead once state k-1 exists.
		for k := 1; ; k++ {
			if dies && k >= 3 {
				recycle(m, fr.slots[s])
			}
			fr.slots[s] = st
			b, err := cond(fr)
			if err != nil {
				return b, err
			}
			if b.I == 0 {
				return st, nil
			}
			if err := m.Step(1); err != nil {
				return runtime.Value{}, errAt(pos, err)
			}
			if st, err = body(fr); err != nil {
				return st, err
			}
		}
	}, nil
}

// compileLambda compiles a lambda's body once, in its own frame layout,
// and returns the code that makes a closure of it. A lambda without free
// variables is one shared closure made at compile time; otherwise each
// evaluation copies the free variables' current values into a new env.
func (c *fnComp) compileLambda(e *ir.Lambda) (evalFn, error) {
	inner := newFnComp(c.it, c)
	for i, p := range e.Params {
		if p == nil {
			return nil, ir.Errorf(e.P, "lambda parameter %d is nil", i+1)
		}
		inner.bind(p, inner.alloc(1))
	}
	body, err := inner.compile(e.Body)
	if err != nil {
		return nil, err
	}
	ft, _ := e.Type().(*ir.Func)
	lc := &lambdaCode{pos: e.P, nparams: len(e.Params), nslots: inner.max, body: body, ftype: ft}
	// Whether the lambda can be batched is decided after all defs are
	// compiled, since its body may call defs compiled later.
	c.it.lambdas = append(c.it.lambdas, lambdaJob{code: lc, expr: e, freeIdx: inner.freeIdx})
	if len(inner.free) == 0 {
		v := runtime.Value{R: &closure{code: lc}}
		return func(*frame) (runtime.Value, error) { return v, nil }, nil
	}
	loads := make([]loc, len(inner.free))
	for i, v := range inner.free {
		l, ok := c.resolve(v)
		if !ok {
			return nil, ir.Errorf(v.P, "variable %s used outside its scope", v.Name)
		}
		loads[i] = l
	}
	return func(fr *frame) (runtime.Value, error) {
		cl := newClosure(lc, len(loads))
		for i, l := range loads {
			cl.env[i] = l.load(fr)
		}
		return runtime.Value{R: cl}, nil
	}, nil
}

// Closures with few captured values are allocated with their env in one
// object.
type (
	closure2 struct {
		closure
		buf [2]runtime.Value
	}
	closure4 struct {
		closure
		buf [4]runtime.Value
	}
)

func newClosure(lc *lambdaCode, k int) *closure {
	switch {
	case k <= 2:
		c := &closure2{}
		c.closure = closure{code: lc, env: c.buf[:k:k]}
		return &c.closure
	case k <= 4:
		c := &closure4{}
		c.closure = closure{code: lc, env: c.buf[:k:k]}
		return &c.closure
	}
	return &closure{code: lc, env: make([]runtime.Value, k)}
}

// compileGlobal compiles a reference to a def. A function def becomes a
// function value made once, here; a value def reads its cached value.
func (c *fnComp) compileGlobal(e *ir.Global) (evalFn, error) {
	dc, ok := c.it.defs[e.Name]
	if !ok {
		return nil, ir.Errorf(e.P, "unknown def %s", e.Name)
	}
	if dc.def.HasParams {
		v := runtime.Value{R: &defFunc{code: dc, pos: e.P}}
		return func(*frame) (runtime.Value, error) { return v, nil }, nil
	}
	pos := e.P
	return func(fr *frame) (runtime.Value, error) { return dc.value(fr.m, pos) }, nil
}

// directCall is the code of a call of function def dc by name: the
// arguments are evaluated straight into the callee's frame, taken from
// the caller's stack.
func directCall(dc *defCode, args []evalFn, pos ir.Pos) evalFn {
	return func(fr *frame) (runtime.Value, error) {
		st := stackOf(fr)
		cf := st.push(fr.m, dc.nslots, nil)
		for j, a := range args {
			v, err := a(fr)
			if err != nil {
				st.pop(cf)
				return v, err
			}
			cf.slots[j] = v
		}
		v, err := dc.run(cf, pos)
		st.pop(cf)
		return v, err
	}
}

// compileCall compiles a call. Calling a function def by name is direct:
// the arguments are evaluated straight into the callee's new frame, with
// no function value in between. Anything else is evaluated to a function
// value and applied, with the arguments in scratch slots of this frame.
func (c *fnComp) compileCall(e *ir.Call) (evalFn, error) {
	pos := e.P
	if g, ok := e.Fn.(*ir.Global); ok {
		if dc, ok := c.it.defs[g.Name]; ok && dc.def.HasParams {
			if len(e.Args) != len(dc.def.Params) {
				return nil, ir.Errorf(pos, "%s takes %d arguments, called with %d", dc.name, len(dc.def.Params), len(e.Args))
			}
			args, err := c.compileList(e.Args)
			if err != nil {
				return nil, err
			}
			return directCall(dc, args, pos), nil
		}
	}
	fn, err := c.compile(e.Fn)
	if err != nil {
		return nil, err
	}
	k := len(e.Args)
	base := c.alloc(k)
	args, err := c.compileList(e.Args)
	c.depth = base
	if err != nil {
		return nil, err
	}
	return func(fr *frame) (runtime.Value, error) {
		f, err := fn(fr)
		if err != nil {
			return f, err
		}
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		return callValue(fr.m, stackOf(fr), f, vs, pos, pos)
	}, nil
}
