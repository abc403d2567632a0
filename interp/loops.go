package interp

import (
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Loops with a tuple state. `loop (g, s) = (zeros(n), 0.0) for i < n do
// (acc_add_at(g, i, ...), s + ...)`, the reverse loops AD makes and the
// loops users write, would make a tuple per iteration and take it apart
// again. When the state is used only through its fields (st.0, st.1, and
// not inside a closure), its fields live in consecutive slots of the
// frame instead: the body's tuple is evaluated straight into them, st.k
// reads a slot (typed code reads it unboxed), and one tuple is made when
// the loop ends.

// fieldsOnly reports whether every use of v in e is a field access v.k
// outside any lambda.
func fieldsOnly(e ir.Expr, v *ir.Var) bool {
	switch e := e.(type) {
	case nil:
		return true
	case *ir.Var:
		return e != v
	case *ir.Proj:
		if x, ok := e.X.(*ir.Var); ok && x == v {
			return true
		}
	case *ir.Lambda:
		return !mentions(e, v, nil)
	}
	for _, k := range ir.Children(e) {
		if !fieldsOnly(k, v) {
			return false
		}
	}
	return true
}

// fieldSlot returns the slot holding x.k when x is a tuple state kept in
// slots.
func (c *fnComp) fieldSlot(e ir.Expr) (int, bool) {
	p, ok := e.(*ir.Proj)
	if !ok {
		return 0, false
	}
	x, ok := p.X.(*ir.Var)
	if !ok {
		return 0, false
	}
	base, ok := c.fields[x]
	return base + p.Index, ok
}

// into compiles e, of a tuple type with k fields, to code that stores
// its fields in slots dst.. . A tuple expression, a let or an if is taken
// apart at compile time; anything else is evaluated and its tuple copied.
// The fields are evaluated into scratch slots first: they may read the
// slots they replace.
func (c *fnComp) into(e ir.Expr, k, dst int) (func(fr *frame) error, error) {
	switch e := e.(type) {
	case *ir.MakeTuple:
		if len(e.Elems) != k {
			break
		}
		tmp := c.alloc(k)
		elems, err := c.compileList(e.Elems)
		c.depth = tmp
		if err != nil {
			return nil, err
		}
		return func(fr *frame) error {
			for j, el := range elems {
				v, err := el(fr)
				if err != nil {
					return err
				}
				fr.slots[tmp+j] = v
			}
			copy(fr.slots[dst:dst+k], fr.slots[tmp:tmp+k])
			return nil
		}, nil
	case *ir.Let:
		if e.Var == nil {
			break
		}
		if f, ok, err := c.broadcastInto(e, k, dst); ok || err != nil {
			return f, err
		}
		if val, base, dead, ok, err := c.letTupleLoop(e); ok || err != nil {
			if err != nil {
				return nil, err
			}
			body, err := c.into(e.Body, k, dst)
			delete(c.fields, e.Var)
			c.depth = base
			if err != nil {
				return nil, err
			}
			return func(fr *frame) error {
				if err := val(fr); err != nil {
					return err
				}
				err := body(fr)
				releaseFields(fr, dead)
				return err
			}, nil
		}
		s := c.alloc(1)
		val, dead, err := c.storeLet(e, s)
		if err != nil {
			return nil, err
		}
		c.bind(e.Var, s)
		body, err := c.into(e.Body, k, dst)
		delete(c.locals, e.Var)
		c.depth = s
		if err != nil {
			return nil, err
		}
		return func(fr *frame) error {
			if val(fr); fr.err != nil {
				return fr.takeErr()
			}
			err := body(fr)
			release(fr.m, dead, fr.slots[s])
			return err
		}, nil
	case *ir.If:
		cond, err := c.typedI(e.Cond)
		if err != nil {
			return nil, err
		}
		then, err := c.into(e.Then, k, dst)
		if err != nil {
			return nil, err
		}
		els, err := c.into(e.Else, k, dst)
		if err != nil {
			return nil, err
		}
		return func(fr *frame) error {
			b := cond(fr)
			if fr.err != nil {
				return fr.takeErr()
			}
			if b != 0 {
				return then(fr)
			}
			return els(fr)
		}, nil
	}
	g, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	pos := e.Pos()
	return func(fr *frame) error {
		v, err := g(fr)
		if err != nil {
			return err
		}
		t, ok := v.R.(runtime.Tuple)
		if !ok || len(t) != k {
			return internalErrorf(pos, "a tuple of %d fields, got %s", k, describe(v))
		}
		copy(fr.slots[dst:dst+k], t)
		return nil
	}, nil
}

// compileTupleLoop compiles a loop whose tuple state is used only through
// its fields (ok is false for other loops).
func (c *fnComp) compileTupleLoop(e *ir.Loop) (evalFn, bool, error) {
	run, ss, ok, err := c.tupleLoop(e, -1)
	if !ok || err != nil {
		return nil, ok, err
	}
	k := len(e.State.T.(*ir.Tuple).Elems)
	return func(fr *frame) (runtime.Value, error) {
		if err := run(fr); err != nil {
			return runtime.Value{}, err
		}
		t := make(runtime.Tuple, k)
		copy(t, fr.slots[ss:ss+k])
		return runtime.Value{R: t}, nil
	}, true, nil
}

// tupleLoop compiles a loop whose tuple state is used only through its
// fields to code that leaves the final state's fields in slots ss.. (ok
// is false for other loops). They are scratch slots: read them at once.
// With at >= 0 the state lives in slots at.., which the caller allocated
// and keeps (letTupleLoop's: the result is then where the let wants it,
// with no copy).
func (c *fnComp) tupleLoop(e *ir.Loop, at int) (run func(fr *frame) error, ss int, ok bool, err error) {
	tt, isTuple := e.State.T.(*ir.Tuple)
	if !isTuple || len(tt.Elems) == 0 || !fieldsOnly(e.Body, e.State) || !fieldsOnly(e.Cond, e.State) {
		return nil, 0, false, nil
	}
	k, pos := len(tt.Elems), e.P
	base := c.depth
	ss = at
	if at < 0 {
		ss = c.alloc(k)
	}
	init, err := c.loopInit(e.Init, k, ss)
	if err != nil {
		return nil, 0, true, err
	}
	var count icode
	if e.Count != nil {
		if count, err = c.typedI(e.Count); err != nil {
			return nil, 0, true, err
		}
	}
	ix := -1
	if e.Index != nil {
		ix = c.alloc(1)
		c.bind(e.Index, ix)
	}
	c.fields[e.State] = ss
	defer func() {
		delete(c.fields, e.State)
		delete(c.locals, e.Index)
		c.depth = base
	}()
	var cond icode
	if e.Cond != nil {
		if cond, err = c.typedI(e.Cond); err != nil {
			return nil, 0, true, err
		}
	}
	var finish func(fr *frame) // revChain's, after the last iteration
	body, fast, err := c.accChain(e.Body, e.State, k, ss)
	if !fast && err == nil {
		var flat bool
		if body, finish, flat, err = c.revChain(e, k, ss, ix); !flat && err == nil {
			body, err = c.into(e.Body, k, ss)
		}
	}
	if err != nil {
		return nil, 0, true, err
	}
	if count != nil {
		var vl *vecLoop
		if fast {
			vl = c.vecAccLoop(e, ss)
		}
		return func(fr *frame) error {
			if err := init(fr); err != nil {
				return err
			}
			n := count(fr)
			if fr.err != nil {
				return fr.takeErr()
			}
			if vl != nil && n >= vecMin {
				return vl.run(fr, n, ix, pos, body)
			}
			for i := int64(0); i < n; i++ {
				if i%stepBlock == 0 && !chargeBlock(fr, int(i), int(n), pos) {
					return fr.takeErr()
				}
				setI(&fr.slots[ix], i) // no write barrier for R, nil already
				if err := body(fr); err != nil {
					return err
				}
			}
			if finish != nil && n > 0 {
				finish(fr)
			}
			return nil
		}, ss, true, nil
	}
	return func(fr *frame) error {
		if err := init(fr); err != nil {
			return err
		}
		for {
			b := cond(fr)
			if fr.err != nil {
				return fr.takeErr()
			}
			if b == 0 {
				return nil
			}
			if err := fr.m.Step(1); err != nil {
				return errAt(pos, err)
			}
			if err := body(fr); err != nil {
				return err
			}
		}
	}, ss, true, nil
}

// loopInit compiles a loop's initial state into slots dst.. . A tuple of
// k fields is stored field by field straight into its slot: no variable
// in scope names a slot of dst.. (they are free, or the caller's to hold
// the result), so, unlike into, it needs no scratch copy against a field
// reading a slot written before it. That saves a pointer store, and its
// write barrier while the collector marks, per field and loop run.
func (c *fnComp) loopInit(e ir.Expr, k, dst int) (func(fr *frame) error, error) {
	t, ok := e.(*ir.MakeTuple)
	if !ok || len(t.Elems) != k || noDirectInit {
		return c.into(e, k, dst)
	}
	elems, err := c.compileList(t.Elems)
	if err != nil {
		return nil, err
	}
	directInits.Add(1)
	return func(fr *frame) error {
		for j, el := range elems {
			v, err := el(fr)
			if err != nil {
				return err
			}
			fr.slots[dst+j] = v
		}
		return nil
	}, nil
}

// noDirectInit, set by tests, compiles every loop's initial state with
// into and leaves a let's loop its own state slots; directInits counts the
// initial states stored directly, so that the tests can tell they were.
var (
	noDirectInit bool
	directInits  atomic.Int64
)

// compileAccAddAt compiles acc_add_at(acc, i, v) on a vector: acc[i] += v
// in place, with the index and the value typed, as the primitive does.
func (c *fnComp) compileAccAddAt(e *ir.PrimCall) (evalFn, bool, error) {
	if e.Op != ir.PrimAccAddAt || len(e.Args) != 3 || ir.Rank(e.Args[0].Type()) != 1 {
		return nil, false, nil
	}
	if k, ok := scalarKind(e.Args[2].Type()); !ok || k != ir.F64 {
		return nil, false, nil
	}
	acc, err := c.compile(e.Args[0])
	if err != nil {
		return nil, true, err
	}
	idx, err := c.typedI(e.Args[1])
	if err != nil {
		return nil, true, err
	}
	val, err := c.typedF(e.Args[2])
	if err != nil {
		return nil, true, err
	}
	pos := e.P
	return func(fr *frame) (runtime.Value, error) {
		av, err := acc(fr)
		if err != nil {
			return av, err
		}
		i, x := idx(fr), val(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		a, _ := av.R.(*runtime.Array)
		if a == nil {
			return runtime.Value{}, internalErrorf(pos, "acc_add_at of %s", describe(av))
		}
		if uint64(i) >= uint64(len(a.F)) {
			return runtime.Value{}, errAt(pos, runtime.CheckIndex(i, len(a.F)))
		}
		a.F[i] += x
		return av, nil
	}, true, nil
}

// compileUpdate compiles update(a, i, v) of a fresh array a, which dies
// with the call, as an update of a in place (ir.UpdateInPlace): the
// update(update(s, i, h), j, c) of a loop body copies s once, not twice.
func (c *fnComp) compileUpdate(e *ir.PrimCall) (evalFn, bool, error) {
	if e.Op != ir.PrimUpdate || len(e.Args) != 3 || !c.it.freshArray(e.Args[0], map[*ir.Var]ir.Expr{}) {
		return nil, false, nil
	}
	k := len(e.Args)
	base := c.alloc(k)
	args, err := c.compileList(e.Args)
	c.depth = base
	if err != nil {
		return nil, true, err
	}
	pos := e.P
	return func(fr *frame) (runtime.Value, error) {
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		if err := ir.UpdateInPlace(fr.m, vs[0].Array(), vs[1].I, vs[2]); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return vs[0], nil
	}, true, nil
}

// compileAccAddPad compiles acc_add(acc, pad_like(v, lo, like)) and
// acc_add_at(acc, i, pad_like(v, lo, like)), the cotangent of a slice
// added into an accumulator, as an add of v into rows lo.. of acc (of
// its row i), without the zero array pad_like would make: the reverse
// pass of code that slices a vector (an LSTM's gates, BA's camera
// parameters) did O(len(like)) work per slice instead of O(len(v)). The
// checks and their messages are pad_like's, then the accumulator's.
func (c *fnComp) compileAccAddPad(e *ir.PrimCall) (evalFn, bool, error) {
	at := e.Op == ir.PrimAccAddAt
	if !at && e.Op != ir.PrimAccAdd || len(e.Args) != 2+btoi(at) {
		return nil, false, nil
	}
	pad, ok := e.Args[len(e.Args)-1].(*ir.PrimCall)
	if !ok || pad.Op != ir.PrimPadLike || len(pad.Args) != 3 || ir.Rank(pad.T) == 0 {
		return nil, false, nil
	}
	if k, ok := ir.Leaf(pad.T); !ok || k != ir.F64 {
		return nil, false, nil
	}
	base := c.alloc(len(e.Args) - 1 + 3)
	args, err := c.compileList(append(append([]ir.Expr(nil), e.Args[:len(e.Args)-1]...), pad.Args...))
	c.depth = base
	if err != nil {
		return nil, true, err
	}
	vDies := c.it.freshArray(pad.Args[0], map[*ir.Var]ir.Expr{})
	pos, padPos := e.P, pad.P
	return func(fr *frame) (runtime.Value, error) {
		vs, err := evalArgs(fr, args, base)
		if err != nil {
			return runtime.Value{}, err
		}
		n := len(vs)
		acc, v := vs[0].Array(), vs[n-3].Array()
		dst, err := padDst(acc, at, vs[1].I, v.Shape, vs[n-2].I, vs[n-1].Array(), pos, padPos)
		if err != nil {
			return runtime.Value{}, err
		}
		src := v.F
		if overlap(dst, src) {
			src = slices.Clone(src) // v reads acc: add what it was
		}
		runtime.AddTo(dst, dst, src)
		if vDies {
			recycle(fr.m, vs[n-3])
		}
		return vs[0], fr.m.Step(int64(len(v.F)))
	}, true, nil
}

// padDst checks acc_add(acc, pad_like(v, lo, like)) (at false) or
// acc_add_at(acc, i, pad_like(v, lo, like)) for v of shape vShape, as the
// primitives do (pad_like's checks at padPos first, then the
// accumulator's at pos), and returns the elements of acc that v adds to.
func padDst(acc *runtime.Array, at bool, i int64, vShape []int, lo int64, like *runtime.Array, pos, padPos ir.Pos) ([]float64, error) {
	if len(vShape) == 0 {
		return nil, internalErrorf(padPos, "pad_like of a scalar")
	}
	rows := int64(vShape[0])
	if lo < 0 || lo+rows > int64(like.Len()) {
		return nil, errAt(padPos, fmt.Errorf("pad_like: rows [%d:%d] out of range for length %d", lo, lo+rows, like.Len()))
	}
	if !runtime.SameShape(vShape[1:], like.Shape[1:]) {
		return nil, errAt(padPos, fmt.Errorf("pad_like: rows have shapes %s and %s", runtime.ShapeString(vShape[1:]), runtime.ShapeString(like.Shape[1:])))
	}
	dst := acc.F
	if at {
		if err := runtime.CheckIndex(i, acc.Len()); err != nil {
			return nil, errAt(pos, err)
		}
		if !runtime.SameShape(acc.Shape[1:], like.Shape) {
			return nil, errAt(pos, fmt.Errorf("acc_add_at: row shapes %s and %s differ", runtime.ShapeString(acc.Shape[1:]), runtime.ShapeString(like.Shape)))
		}
		rs := acc.RowSize()
		dst = dst[int(i)*rs : int(i+1)*rs]
	} else if !runtime.SameShape(acc.Shape, like.Shape) {
		return nil, errAt(pos, fmt.Errorf("acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape), runtime.ShapeString(like.Shape)))
	}
	off := int(lo) * like.RowSize()
	return dst[off : off+runtime.Size(vShape)], nil
}

// padOfAtoms returns e when it is pad_like(v, lo, like) of f64 with lo and
// like variables or constants, which evaluate without steps or failures
// (so they may be read after v's operands), and nil otherwise.
func padOfAtoms(e ir.Expr) *ir.PrimCall {
	pad, ok := e.(*ir.PrimCall)
	if !ok || pad.Op != ir.PrimPadLike || len(pad.Args) != 3 || ir.Rank(pad.T) == 0 {
		return nil
	}
	if k, ok := ir.Leaf(pad.T); !ok || k != ir.F64 {
		return nil
	}
	for _, a := range pad.Args[1:] {
		switch a.(type) {
		case *ir.Var, *ir.Const:
		default:
			return nil
		}
	}
	return pad
}

// padTarget compiles the lo and like operands of pad, an operand of
// acc_add (at false) or acc_add_at at pos, to a function returning the
// elements of the accumulator a that a value of the given shape adds to.
func (c *fnComp) padTarget(pad *ir.PrimCall, at bool, pos ir.Pos) (func(fr *frame, a *runtime.Array, i int64, shape []int) ([]float64, error), error) {
	lo, err := c.typedI(pad.Args[1])
	if err != nil {
		return nil, err
	}
	like, err := c.compile(pad.Args[2])
	if err != nil {
		return nil, err
	}
	padPos := pad.P
	return func(fr *frame, a *runtime.Array, i int64, shape []int) ([]float64, error) {
		l := lo(fr)
		if fr.err != nil {
			return nil, fr.takeErr()
		}
		lv, err := like(fr)
		if err != nil {
			return nil, err
		}
		la, _ := lv.R.(*runtime.Array)
		if la == nil {
			return nil, internalErrorf(padPos, "pad_like of %s", describe(lv))
		}
		return padDst(a, at, i, shape, l, la, pos, padPos)
	}, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// overlap reports whether two slices share memory.
func overlap(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b))*8 && b0 < a0+uintptr(len(a))*8
}
