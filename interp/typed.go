package interp

import (
	"fmt"
	"sync"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Typed scalar code. An expression of scalar type is compiled, where it
// can be, to a Go closure that returns its unboxed value, a float64 for
// f64 and an int64 for i64 and bool (0 or 1), instead of a
// (runtime.Value, error) pair:
//
//   - arithmetic, comparisons, conversions and the scalar math of the
//     elementwise primitives apply the operation inline;
//   - a[i][j] of a 2-D (or deeper) array computes a flat offset, with one
//     bounds check per index and no view of the row;
//   - sum([e for i < n]) adds e as it goes, in Sum's order, with no array;
//   - let, if and loops with a scalar state stay typed.
//
// Anything else of scalar type (a call, a reduction of an array value, a
// tuple field) is evaluated by the ordinary code and unboxed: compilation
// is total, so an expression mixes both kinds freely.
//
// Typed code cannot return an error. A failing operation records the
// first error of its evaluation in the frame (frame.fail) and returns 0;
// the code around it goes on with that harmless value until the nearest
// boundary with ordinary code (a loop iteration, a comprehension element,
// the typed expression as a whole), which hands the error on. Ordinary
// code called from typed code is skipped once an error is recorded, so
// nothing runs that the error should have prevented for longer than the
// rest of one scalar expression.

// tcode is typed code: fcode for f64, icode for i64 and bool.
type (
	tcode[T float64 | int64] func(fr *frame) T
	fcode                    = tcode[float64]
	icode                    = tcode[int64]
)

// fail records err unless an earlier error is already recorded.
func (fr *frame) fail(err error) {
	if fr.err == nil {
		fr.err = err
	}
}

// takeErr returns and clears the recorded error.
func (fr *frame) takeErr() error {
	err := fr.err
	fr.err = nil
	return err
}

// scalarKind returns the kind of a scalar type.
func scalarKind(t ir.Type) (ir.ScalarKind, bool) {
	s, ok := t.(ir.Scalar)
	return s.Kind, ok
}

// boxF and boxI turn typed code into ordinary code.
func boxF(f fcode) evalFn {
	return func(fr *frame) (runtime.Value, error) {
		x := f(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		return runtime.Value{F: x}, nil
	}
}

func boxI(f icode) evalFn {
	return func(fr *frame) (runtime.Value, error) {
		x := f(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		return runtime.Value{I: x}, nil
	}
}

// unboxF and unboxI run ordinary code from typed code.
func unboxF(g evalFn) fcode {
	return func(fr *frame) float64 {
		if fr.err != nil {
			return 0
		}
		v, err := g(fr)
		if err != nil {
			fr.fail(err)
		}
		return v.F
	}
}

func unboxI(g evalFn) icode {
	return func(fr *frame) int64 {
		if fr.err != nil {
			return 0
		}
		v, err := g(fr)
		if err != nil {
			fr.fail(err)
		}
		return v.I
	}
}

// typedF compiles an f64 expression.
func (c *fnComp) typedF(e ir.Expr) (fcode, error) {
	switch e := e.(type) {
	case *ir.Const:
		if v, ok := e.Val.(float64); ok {
			return func(*frame) float64 { return v }, nil
		}
	case *ir.Var:
		if l, ok := c.resolve(e); ok {
			i := l.idx
			if l.env {
				return func(fr *frame) float64 { return fr.env[i].F }, nil
			}
			return func(fr *frame) float64 { return fr.slots[i].F }, nil
		}
	case *ir.Proj:
		if s, ok := c.fieldSlot(e); ok {
			return func(fr *frame) float64 { return fr.slots[s].F }, nil
		}
	case *ir.Let:
		if f, ok, err := c.letF(e); ok || err != nil {
			return f, err
		}
		return typedLet(c, e, c.typedF)
	case *ir.If:
		return typedIf(c, e, c.typedF)
	case *ir.Loop:
		if f, ok, err := typedLoop(c, e, c.typedF, setF); ok || err != nil {
			return f, err
		}
	case *ir.PrimCall:
		if f, ok, err := c.typedPrimF(e); ok || err != nil {
			return f, err
		}
		g, err := c.compilePrimGeneral(e)
		if err != nil {
			return nil, err
		}
		return unboxF(g), nil
	}
	g, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return unboxF(g), nil
}

// typedI compiles an i64 or bool expression.
func (c *fnComp) typedI(e ir.Expr) (icode, error) {
	switch e := e.(type) {
	case *ir.Const:
		switch v := e.Val.(type) {
		case int64:
			return func(*frame) int64 { return v }, nil
		case bool:
			b := b2i(v)
			return func(*frame) int64 { return b }, nil
		}
	case *ir.Var:
		if l, ok := c.resolve(e); ok {
			i := l.idx
			if l.env {
				return func(fr *frame) int64 { return fr.env[i].I }, nil
			}
			return func(fr *frame) int64 { return fr.slots[i].I }, nil
		}
	case *ir.Proj:
		if s, ok := c.fieldSlot(e); ok {
			return func(fr *frame) int64 { return fr.slots[s].I }, nil
		}
	case *ir.Let:
		return typedLet(c, e, c.typedI)
	case *ir.If:
		return typedIf(c, e, c.typedI)
	case *ir.Loop:
		if f, ok, err := typedLoop(c, e, c.typedI, setI); ok || err != nil {
			return f, err
		}
	case *ir.PrimCall:
		if f, ok, err := c.typedPrimI(e); ok || err != nil {
			return f, err
		}
		g, err := c.compilePrimGeneral(e)
		if err != nil {
			return nil, err
		}
		return unboxI(g), nil
	}
	g, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return unboxI(g), nil
}

// setF and setI store a scalar as a whole Value: R is cleared only if it
// holds something, for a write of nil to R costs a write barrier while
// the collector marks, and the slots of scalars hold nothing there.
func setF(v *runtime.Value, x float64) {
	if v.R != nil {
		v.R = nil
	}
	v.F, v.I = x, 0
}

func setI(v *runtime.Value, x int64) {
	if v.R != nil {
		v.R = nil
	}
	v.F, v.I = 0, x
}

// store compiles code that evaluates e into slot s: typed for scalars.
// Scalar writes replace the whole slot: a slot reused after holding a
// tuple or an array must not keep it in R, where boxed code would read it
// (FuzzDifferential found a gradient that came back as a stale tuple).
func (c *fnComp) store(e ir.Expr, s int) (func(fr *frame), error) {
	if k, ok := scalarKind(e.Type()); ok {
		if k == ir.F64 {
			x, err := c.foperand(e)
			if err != nil {
				return nil, err
			}
			if x.kind == oLoad {
				ld := x.ld
				return func(fr *frame) {
					v, ok := ld.at(fr)
					if !ok {
						v = ld.slow(fr)
					}
					setF(&fr.slots[s], v)
				}, nil
			}
			f := x.fcode()
			return func(fr *frame) { setF(&fr.slots[s], f(fr)) }, nil
		}
		if k == ir.I64 {
			if i, d, ok := c.slotPlus(e); ok {
				// i + c, the index of a neighbour, in one closure.
				return func(fr *frame) { setI(&fr.slots[s], fr.slots[i].I+d) }, nil
			}
		}
		f, err := c.typedI(e)
		if err != nil {
			return nil, err
		}
		return func(fr *frame) { setI(&fr.slots[s], f(fr)) }, nil
	}
	g, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return storeValue(g, s), nil
}

// storeValue is store for ordinary code g.
func storeValue(g evalFn, s int) func(fr *frame) {
	return func(fr *frame) {
		if fr.err != nil {
			fr.slots[s] = runtime.Value{} // never a stale array to release
			return
		}
		v, err := g(fr)
		if err != nil {
			fr.fail(err)
		}
		fr.slots[s] = v
	}
}

// storeLet compiles the value of let e into slot s, and reports what
// dies when the let's body has been evaluated (reuse.go): a row that dies
// is made with a pooled header.
func (c *fnComp) storeLet(e *ir.Let, s int) (func(fr *frame), uint8, error) {
	dead := c.it.letDead(e)
	if dead == deadRow {
		g, err := c.compileRow(e.Value.(*ir.PrimCall))
		if err != nil {
			return nil, dead, err
		}
		return storeValue(g, s), dead, nil
	}
	if dead == deadArray && c.tape != 0 && !noTempLets {
		// Recycled after the body, so no saved value refers to it: made
		// outside the tape arena (scratch.go).
		tempLets.Add(1)
		defer c.scratchOnly()()
	}
	f, err := c.store(e.Value, s)
	return f, dead, err
}

func typedLet[T float64 | int64](c *fnComp, e *ir.Let, body func(ir.Expr) (tcode[T], error)) (tcode[T], error) {
	if e.Var == nil {
		return nil, ir.Errorf(e.P, "let without a variable")
	}
	s := c.alloc(1)
	val, dead, err := c.storeLet(e, s)
	if err != nil {
		return nil, err
	}
	c.bind(e.Var, s)
	b, err := body(e.Body)
	delete(c.locals, e.Var)
	c.depth = s
	if err != nil {
		return nil, err
	}
	if dead != deadNone {
		return func(fr *frame) T {
			val(fr)
			r := b(fr)
			release(fr.m, dead, fr.slots[s])
			return r
		}, nil
	}
	return func(fr *frame) T {
		val(fr)
		return b(fr)
	}, nil
}

func typedIf[T float64 | int64](c *fnComp, e *ir.If, branch func(ir.Expr) (tcode[T], error)) (tcode[T], error) {
	cond, err := c.typedI(e.Cond)
	if err != nil {
		return nil, err
	}
	then, err := branch(e.Then)
	if err != nil {
		return nil, err
	}
	els, err := branch(e.Else)
	if err != nil {
		return nil, err
	}
	return func(fr *frame) T {
		if cond(fr) != 0 {
			return then(fr)
		}
		return els(fr)
	}, nil
}

// stepBlock is how many iterations of a typed loop are charged at once:
// the step limit and cancellation are checked once per block.
const stepBlock = 1024

// chargeBlock charges the steps of iterations [i, min(i+stepBlock, n)).
func chargeBlock(fr *frame, i, n int, pos ir.Pos) bool {
	if err := fr.m.Step(int64(min(stepBlock, n-i))); err != nil {
		fr.fail(errAt(pos, err))
		return false
	}
	return true
}

// typedLoop compiles a loop whose state is a scalar of the code's type.
// A counted loop charges its steps a block of iterations at a time; a
// while loop, whose length is unknown, one per iteration. ok is false for
// other loops.
func typedLoop[T float64 | int64](c *fnComp, e *ir.Loop, typed func(ir.Expr) (tcode[T], error), set func(*runtime.Value, T)) (f tcode[T], ok bool, err error) {
	if e.State == nil {
		return nil, false, nil
	}
	if _, scalar := scalarKind(e.State.T); !scalar || (e.Count == nil) == (e.Cond == nil) || (e.Count != nil && e.Index == nil) {
		return nil, false, nil
	}
	pos := e.P
	init, err := typed(e.Init)
	if err != nil {
		return nil, true, err
	}
	if e.Count != nil {
		count, err := c.typedI(e.Count)
		if err != nil {
			return nil, true, err
		}
		base := c.depth
		s, ix := c.alloc(1), c.alloc(1)
		c.bind(e.State, s)
		c.bind(e.Index, ix)
		body, err := typed(e.Body)
		delete(c.locals, e.State)
		delete(c.locals, e.Index)
		c.depth = base
		if err != nil {
			return nil, true, err
		}
		return func(fr *frame) T {
			st := init(fr)
			n := count(fr)
			if fr.err != nil {
				return 0
			}
			for i := int64(0); i < n; i++ {
				if i%stepBlock == 0 && !chargeBlock(fr, int(i), int(min(n, 1<<62)), pos) {
					return 0
				}
				set(&fr.slots[s], st)
				fr.slots[ix] = runtime.Value{I: i}
				st = body(fr)
				if fr.err != nil {
					return 0
				}
			}
			return st
		}, true, nil
	}
	s := c.alloc(1)
	c.bind(e.State, s)
	cond, err := c.typedI(e.Cond)
	if err != nil {
		return nil, true, err
	}
	body, err := typed(e.Body)
	delete(c.locals, e.State)
	c.depth = s
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) T {
		st := init(fr)
		m := fr.m
		for fr.err == nil {
			set(&fr.slots[s], st)
			if cond(fr) == 0 || fr.err != nil {
				break
			}
			if err := m.Step(1); err != nil {
				fr.fail(errAt(pos, err))
				break
			}
			st = body(fr)
		}
		return st
	}, true, nil
}

// ---- primitives ----

// scalarArgs returns the kinds of a primitive call's arguments if they
// are all scalars.
func scalarArgs(e *ir.PrimCall) ([]ir.ScalarKind, bool) {
	ks := make([]ir.ScalarKind, len(e.Args))
	for i, a := range e.Args {
		if a == nil {
			return nil, false
		}
		k, ok := scalarKind(a.Type())
		if !ok {
			return nil, false
		}
		ks[i] = k
	}
	return ks, true
}

// typedPrimF compiles an f64-valued primitive call; ok is false for those
// typed code does not implement.
func (c *fnComp) typedPrimF(e *ir.PrimCall) (f fcode, ok bool, err error) {
	op := e.Op
	switch {
	case op == ir.PrimIndex:
		f, err := c.elemF(e)
		return f, true, err
	case op == ir.PrimSum:
		if pc, ok := fusibleOp(e.Args[0]); ok {
			f, err := c.fusedSum(pc)
			return f, true, err
		}
		return c.sumF(e)
	case !op.Elementwise:
		return nil, false, nil
	}
	ks, scalar := scalarArgs(e)
	if !scalar {
		return nil, false, nil
	}
	switch {
	case len(ks) == 1 && ks[0] == ir.I64 && op == ir.PrimToF64:
		x, err := c.typedI(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		return func(fr *frame) float64 { return float64(x(fr)) }, true, nil
	case len(ks) == 1 && ks[0] == ir.F64 && op == ir.PrimToF64:
		x, err := c.typedF(e.Args[0])
		return x, true, err
	case len(ks) == 1 && ks[0] == ir.F64 && op == ir.PrimNeg:
		x, err := c.foperand(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		return negF(x), true, nil
	case len(ks) == 1 && ks[0] == ir.F64 && op.F1 != nil:
		x, err := c.typedF(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		g := op.F1
		return func(fr *frame) float64 { return g(x(fr)) }, true, nil
	case len(ks) == 2 && ks[0] == ir.F64 && ks[1] == ir.F64:
		if bop, isBin := binOpOf(op, ir.F64, ir.F64); isBin {
			if f, ok, err := c.scaledAdd(e); ok || err != nil {
				return f, true, err
			}
			f, err := c.arithF(bop, e.Args[0], e.Args[1])
			return f, true, err
		}
		if op.F2 == nil {
			return nil, false, nil
		}
		x, y, err := c.typedF2(e.Args[0], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		g := op.F2
		return func(fr *frame) float64 { return g(x(fr), y(fr)) }, true, nil
	}
	return nil, false, nil
}

func (c *fnComp) typedF2(a, b ir.Expr) (x, y fcode, err error) {
	if x, err = c.typedF(a); err != nil {
		return nil, nil, err
	}
	y, err = c.typedF(b)
	return x, y, err
}

func (c *fnComp) typedI2(a, b ir.Expr) (x, y icode, err error) {
	if x, err = c.typedI(a); err != nil {
		return nil, nil, err
	}
	y, err = c.typedI(b)
	return x, y, err
}

// typedPrimI compiles an i64- or bool-valued primitive call.
func (c *fnComp) typedPrimI(e *ir.PrimCall) (f icode, ok bool, err error) {
	op, pos := e.Op, e.P
	rk, _ := scalarKind(e.T)
	switch {
	case op == ir.PrimIndex:
		f, err := c.elemI(e)
		return f, true, err
	case !op.Elementwise:
		return nil, false, nil
	}
	ks, scalar := scalarArgs(e)
	if !scalar {
		return nil, false, nil
	}
	if len(ks) == 1 {
		k := ks[0]
		switch {
		case k == ir.Bool && rk == ir.Bool && op.B1 != nil:
			x, err := c.typedI(e.Args[0])
			if err != nil {
				return nil, true, err
			}
			g := op.B1
			return func(fr *frame) int64 { return b2i(g(x(fr) != 0)) }, true, nil
		case k == ir.I64 && rk == ir.I64 && op.I1 != nil:
			x, err := c.typedI(e.Args[0])
			if err != nil {
				return nil, true, err
			}
			g := op.I1
			return func(fr *frame) int64 {
				r, err := g(x(fr))
				if err != nil {
					fr.fail(errAt(pos, err))
				}
				return r
			}, true, nil
		}
		return nil, false, nil
	}
	if len(ks) != 2 || ks[0] != ks[1] {
		return nil, false, nil
	}
	k := ks[0]
	if bop, isBin := binOpOf(op, k, rk); isBin {
		if k == ir.F64 {
			x, y, err := c.typedF2(e.Args[0], e.Args[1])
			if err != nil {
				return nil, true, err
			}
			return cmpF(bop, x, y), true, nil
		}
		f, err := c.arithI(bop, e.Args[0], e.Args[1])
		return f, true, err
	}
	switch {
	case k == ir.I64 && rk == ir.I64 && op.I2 != nil:
		x, y, err := c.typedI2(e.Args[0], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		g := op.I2
		return func(fr *frame) int64 {
			r, err := g(x(fr), y(fr))
			if err != nil {
				fr.fail(errAt(pos, err))
			}
			return r
		}, true, nil
	case k == ir.F64 && rk == ir.Bool && op.CmpF != nil:
		x, y, err := c.typedF2(e.Args[0], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		g := op.CmpF
		return func(fr *frame) int64 { return b2i(g(x(fr), y(fr))) }, true, nil
	case k != ir.F64 && rk == ir.Bool && op.CmpI != nil:
		x, y, err := c.typedI2(e.Args[0], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		g := op.CmpI
		return func(fr *frame) int64 { return b2i(g(x(fr), y(fr))) }, true, nil
	case k == ir.Bool && rk == ir.Bool && op.B2 != nil:
		x, y, err := c.typedI2(e.Args[0], e.Args[1])
		if err != nil {
			return nil, true, err
		}
		g := op.B2
		return func(fr *frame) int64 { return b2i(g(x(fr) != 0, y(fr) != 0)) }, true, nil
	}
	return nil, false, nil
}

func cmpF(op binOp, x, y fcode) icode {
	switch op {
	case fLt:
		return func(fr *frame) int64 { return b2i(x(fr) < y(fr)) }
	case fLe:
		return func(fr *frame) int64 { return b2i(x(fr) <= y(fr)) }
	case fGt:
		return func(fr *frame) int64 { return b2i(x(fr) > y(fr)) }
	case fGe:
		return func(fr *frame) int64 { return b2i(x(fr) >= y(fr)) }
	case fEq:
		return func(fr *frame) int64 { return b2i(x(fr) == y(fr)) }
	}
	return func(fr *frame) int64 { return b2i(x(fr) != y(fr)) }
}

// ---- indexing ----

// ioperand is an i64 operand: a slot read in place, or code.
type ioperand struct {
	slot int // >= 0: read this slot
	code icode
}

func (o *ioperand) get(fr *frame) int64 {
	if o.slot >= 0 {
		return fr.slots[o.slot].I
	}
	return o.code(fr)
}

func (c *fnComp) ioperand(e ir.Expr) (ioperand, error) {
	if x, ok := e.(*ir.Var); ok {
		if s, ok := c.locals[x]; ok {
			return ioperand{slot: s}, nil
		}
	}
	f, err := c.typedI(e)
	return ioperand{slot: -1, code: f}, err
}

// chain is a[i0][i1]...[ik] with a scalar result: the indexes of an array
// that is not itself an index, which become one flat offset, with a
// bounds check per index and no view of a row.
type chain struct {
	bslot int                         // >= 0: the array is this slot
	base  func(*frame) *runtime.Array // otherwise
	idx   []ioperand                  // outermost first
	pos   []ir.Pos                    // of each index
}

// offset evaluates the array and the indexes, in the order the index
// primitives would, and returns the array and the element's flat offset,
// or nil after a failure.
func (ch *chain) offset(fr *frame) (*runtime.Array, int) {
	var a *runtime.Array
	if ch.bslot >= 0 {
		a, _ = fr.slots[ch.bslot].R.(*runtime.Array)
	} else {
		a = ch.base(fr)
	}
	off := 0
	for d := range ch.idx {
		i := ch.idx[d].get(fr)
		if a == nil {
			continue
		}
		n := a.Shape[d]
		if uint64(i) >= uint64(n) {
			fr.fail(errAt(ch.pos[d], runtime.CheckIndex(i, n)))
			a = nil
			continue
		}
		off = off*n + int(i)
	}
	return a, off
}

// compileChain compiles the index e (with a scalar result) and the
// indexes inside it.
func (c *fnComp) compileChain(e *ir.PrimCall) (*chain, error) {
	var exprs []*ir.PrimCall
	var x ir.Expr = e
	for {
		pc, ok := x.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex || len(pc.Args) != 2 {
			break
		}
		exprs = append(exprs, pc)
		x = pc.Args[0]
	}
	ch := &chain{bslot: -1}
	if v, ok := x.(*ir.Var); ok {
		if s, ok := c.locals[v]; ok {
			ch.bslot = s
		}
	} else if s, ok := c.fieldSlot(x); ok {
		ch.bslot = s
	}
	if ch.bslot < 0 {
		g, err := c.compile(x)
		if err != nil {
			return nil, err
		}
		ch.base = func(fr *frame) *runtime.Array {
			if fr.err != nil {
				return nil
			}
			v, err := g(fr)
			if err != nil {
				fr.fail(err)
				return nil
			}
			a, _ := v.R.(*runtime.Array)
			return a
		}
	}
	for k := len(exprs) - 1; k >= 0; k-- {
		o, err := c.ioperand(exprs[k].Args[1])
		if err != nil {
			return nil, err
		}
		ch.idx = append(ch.idx, o)
		ch.pos = append(ch.pos, exprs[k].P)
	}
	return ch, nil
}

// hoistChain compiles an f64 chain a[i]...[j][k] inside a comprehension
// whose array and indexes but the last are variables bound outside it:
// a, i, ..., j do not change while it runs, so the offset of a[i]...[j]
// is computed once before its first element (comp.prepare), and an
// element costs one bounds check. If computing that offset fails, or it
// is not known, the element falls back to the whole chain, which fails at
// the same element and place as without hoisting. nil if the chain does
// not qualify.
func (c *fnComp) hoistChain(ch *chain) fcode {
	if len(c.comps) == 0 || len(ch.idx) < 2 || ch.bslot < 0 {
		return nil
	}
	cp := c.comps[len(c.comps)-1]
	if cp.nhoist == maxHoist || ch.bslot >= cp.base {
		return nil
	}
	pre := ch.idx[:len(ch.idx)-1]
	for _, o := range pre {
		if o.slot < 0 || o.slot >= cp.base {
			return nil
		}
	}
	hs := cp.hoist + cp.nhoist
	cp.nhoist++
	bs, d := ch.bslot, len(pre)
	cp.hoists = append(cp.hoists, func(fr *frame) {
		h := &fr.slots[hs]
		*h = runtime.Value{}
		a, _ := fr.slots[bs].R.(*runtime.Array)
		if a == nil || len(a.Shape) != d+1 {
			return
		}
		off := 0
		for k, o := range pre {
			i, n := fr.slots[o.slot].I, a.Shape[k]
			if uint64(i) >= uint64(n) {
				return // the element's own chain reports it
			}
			off = off*n + int(i)
		}
		*h = runtime.Value{F: 1, I: int64(off * a.Shape[d]), R: a}
	})
	last, pos := ch.idx[d], ch.pos[d]
	return func(fr *frame) float64 {
		h := &fr.slots[hs]
		if h.F == 0 {
			a, off := ch.offset(fr)
			if a == nil {
				return 0
			}
			return a.F[off]
		}
		a := h.R.(*runtime.Array)
		i := last.get(fr)
		if n := a.Shape[d]; uint64(i) >= uint64(n) {
			fr.fail(errAt(pos, runtime.CheckIndex(i, n)))
			return 0
		}
		return a.F[int(h.I)+int(i)]
	}
}

// elemF and elemI compile a[i]...[j] with a scalar result. A vector
// variable indexed by a variable, the commonest case, reads both slots
// in place.
func (c *fnComp) elemF(e *ir.PrimCall) (fcode, error) {
	ch, err := c.compileChain(e)
	if err != nil {
		return nil, err
	}
	if f := c.hoistChain(ch); f != nil {
		return f, nil
	}
	if len(ch.idx) == 1 && ch.bslot >= 0 && ch.idx[0].slot >= 0 {
		bs, is, pos := ch.bslot, ch.idx[0].slot, ch.pos[0]
		return func(fr *frame) float64 {
			a, _ := fr.slots[bs].R.(*runtime.Array)
			i := fr.slots[is].I
			if a == nil {
				return 0
			}
			if uint64(i) >= uint64(len(a.F)) {
				fr.fail(errAt(pos, runtime.CheckIndex(i, len(a.F))))
				return 0
			}
			return a.F[i]
		}, nil
	}
	return func(fr *frame) float64 {
		a, off := ch.offset(fr)
		if a == nil {
			return 0
		}
		return a.F[off]
	}, nil
}

func (c *fnComp) elemI(e *ir.PrimCall) (icode, error) {
	ch, err := c.compileChain(e)
	if err != nil {
		return nil, err
	}
	if k, _ := scalarKind(e.T); k == ir.Bool {
		return func(fr *frame) int64 {
			a, off := ch.offset(fr)
			if a == nil {
				return 0
			}
			return b2i(a.B[off])
		}, nil
	}
	return func(fr *frame) int64 {
		a, off := ch.offset(fr)
		if a == nil {
			return 0
		}
		return a.I[off]
	}, nil
}

// ---- comprehensions ----

// literalLambda returns the lambda of a build, map or reduction when it is
// written in place with n parameters, so that its body can be compiled
// into the enclosing function.
func literalLambda(e ir.Expr, n int) (*ir.Lambda, bool) {
	l, ok := e.(*ir.Lambda)
	if !ok || len(l.Params) != n {
		return nil, false
	}
	for _, p := range l.Params {
		if p == nil {
			return nil, false
		}
	}
	return l, true
}

// comp is a comprehension (build or map) with a literal lambda, compiled
// into the enclosing function: the lambda's parameters are slots of its
// frame, so an element costs no call, no frame and no closure.
type comp struct {
	name string
	pos  ir.Pos
	body ir.Expr
	// start evaluates the count or the arrays and returns the number of
	// elements; on failure it records the error and returns -1.
	start func(fr *frame) int
	// set binds the parameters for element i; a build's single index
	// parameter is slot ix instead (-1 for a map).
	set func(fr *frame, i int)
	ix  int
	// steps is what an element costs: as much as when the primitive
	// called the lambda (a step for the call, one for the element, and for
	// build one for its index), so that step limits and counts do not
	// depend on whether the lambda is inlined.
	steps int64
	// Index prefixes that do not change while the comprehension runs
	// (the qs[j][r] of qs[j][r][c] in a loop over c) are computed once,
	// before the first element, into slots hoist.. (see hoistChain).
	hoist  int
	nhoist int
	hoists []func(fr *frame)
	// base is the first slot the comprehension took, to release with the
	// parameters once the body is compiled (end).
	base   int
	params []*ir.Var
}

// bind binds the parameters for element i.
func (cp *comp) bind(fr *frame, i int) {
	if cp.ix >= 0 {
		setI(&fr.slots[cp.ix], int64(i))
		return
	}
	cp.set(fr, i)
}

func (c *fnComp) end(cp *comp) {
	for _, p := range cp.params {
		delete(c.locals, p)
	}
	c.depth = cp.base
	c.comps = c.comps[:len(c.comps)-1]
}

// maxHoist is how many index prefixes one comprehension hoists.
const maxHoist = 4

// begin binds the comprehension's slots for hoisted prefixes and makes it
// the innermost one.
func (c *fnComp) begin(cp *comp) *comp {
	cp.hoist = c.alloc(maxHoist)
	c.comps = append(c.comps, cp)
	return cp
}

// prepare computes the hoisted prefixes, once the comprehension has
// elements.
func (cp *comp) prepare(fr *frame) {
	for _, h := range cp.hoists {
		h(fr)
	}
}

// comprehension recognizes build(n, fn(i) => e) and map(fn(x, ...) => e,
// xs, ...) over arrays of scalars, and compiles their counts or arrays
// and parameter bindings. ok is false for other calls; on success the
// caller compiles cp.body and then calls c.end(cp).
func (c *fnComp) comprehension(e *ir.PrimCall) (cp *comp, ok bool, err error) {
	switch {
	case e.Op == ir.PrimBuild && len(e.Args) == 2:
		lam, ok := literalLambda(e.Args[1], 1)
		if !ok {
			return nil, false, nil
		}
		count, err := c.typedI(e.Args[0])
		if err != nil {
			return nil, true, err
		}
		pos := e.P
		ix := c.alloc(1)
		c.bind(lam.Params[0], ix)
		return c.begin(&comp{name: "build", pos: pos, body: lam.Body, base: ix, params: lam.Params, ix: ix, steps: 3,
			start: func(fr *frame) int {
				k := count(fr)
				if fr.err != nil {
					return -1
				}
				n, err := runtime.CheckSize(k)
				if err != nil {
					fr.fail(errAt(pos, err))
					return -1
				}
				return n
			},
		}), true, nil
	case e.Op == ir.PrimMap && len(e.Args) >= 2:
		lam, ok := literalLambda(e.Args[0], len(e.Args)-1)
		if !ok {
			return nil, false, nil
		}
		kinds := make([]ir.ScalarKind, len(e.Args)-1)
		for j, a := range e.Args[1:] {
			at, isArr := a.Type().(*ir.Array)
			if !isArr {
				return nil, false, nil
			}
			k, scalar := scalarKind(at.Elem)
			if !scalar {
				return nil, false, nil
			}
			kinds[j] = k
		}
		k := len(kinds)
		base := c.alloc(k)
		arrays, err := c.compileList(e.Args[1:])
		if err != nil {
			return nil, true, err
		}
		ps := c.alloc(k)
		for j, p := range lam.Params {
			c.bind(p, ps+j)
		}
		pos := e.P
		return c.begin(&comp{name: "map", pos: pos, body: lam.Body, base: base, params: lam.Params, ix: -1, steps: 2,
			start: func(fr *frame) int {
				if fr.err != nil {
					return -1
				}
				n := 0
				for j, a := range arrays {
					v, err := a(fr)
					if err != nil {
						fr.fail(err)
						return -1
					}
					fr.slots[base+j] = v
					l := v.Array().Len()
					if j == 0 {
						n = l
					} else if l != n {
						fr.fail(errAt(pos, fmt.Errorf("map: sizes %d and %d differ", n, l)))
						return -1
					}
				}
				return n
			},
			set: func(fr *frame, i int) {
				for j, kd := range kinds {
					a := fr.slots[base+j].R.(*runtime.Array)
					switch kd {
					case ir.F64:
						fr.slots[ps+j] = runtime.Value{F: a.F[i]}
					case ir.I64:
						fr.slots[ps+j] = runtime.Value{I: a.I[i]}
					default:
						fr.slots[ps+j] = runtime.Value{I: b2i(a.B[i])}
					}
				}
			},
		}), true, nil
	}
	return nil, false, nil
}

// compStep charges the steps of elements [i, i+stepBlock) of a
// comprehension, perElem each, when i starts a block.
func compStep(fr *frame, cp *comp, i, n int, perElem int64) bool {
	if i%stepBlock != 0 {
		return true
	}
	if err := fr.m.Step(perElem * int64(min(stepBlock, n-i))); err != nil {
		fr.fail(errAt(cp.pos, err))
		return false
	}
	return true
}

// sumF compiles the sum of a comprehension of f64 as a loop that adds its
// elements, in Sum's order, without making the array; ok is false for
// other sums.
func (c *fnComp) sumF(e *ir.PrimCall) (fcode, bool, error) {
	src, ok := e.Args[0].(*ir.PrimCall)
	if !ok || src.Op == nil {
		return nil, false, nil
	}
	if at, isArr := src.T.(*ir.Array); !isArr || !ir.Identical(at.Elem, ir.TF64) {
		return nil, false, nil
	}
	cp, ok, err := c.comprehension(src)
	if !ok || err != nil {
		return nil, ok, err
	}
	rs := c.rowSumOf(cp)
	body, err := c.typedF(cp.body)
	var vp *vprog
	if err == nil {
		vp = c.vecComp(cp)
	}
	c.end(cp)
	if err != nil {
		return nil, true, err
	}
	return func(fr *frame) float64 {
		n := cp.start(fr)
		if n < 0 {
			return 0
		}
		if rs != nil {
			if s, ok := rs.sum(fr, cp, n); ok {
				return s // rows read in place (typed_dot.go)
			}
		}
		cp.prepare(fr)
		// Each element costs its comprehension's steps and one for the sum.
		if n < 16 {
			// runtime.Sum's order for fewer than 16 terms (its 16 partial
			// sums start at +0, which no addition turns into -0): four
			// partial sums over the groups of four, combined as Sum
			// combines them, then the rest in order.
			if !compStep(fr, cp, 0, n, cp.steps+1) {
				return 0
			}
			var a0, a1, a2, a3 float64
			i := 0
			for ; n-i >= 4; i += 4 {
				cp.bind(fr, i)
				a0 += body(fr)
				cp.bind(fr, i+1)
				a1 += body(fr)
				cp.bind(fr, i+2)
				a2 += body(fr)
				cp.bind(fr, i+3)
				a3 += body(fr)
			}
			r := (a0 + a2) + (a1 + a3)
			for ; i < n; i++ {
				cp.bind(fr, i)
				r += body(fr)
			}
			return r
		}
		if n <= smallSum {
			if !compStep(fr, cp, 0, n, cp.steps+1) {
				return 0
			}
			var buf [smallSum]float64
			for i := range n {
				cp.bind(fr, i)
				buf[i] = body(fr)
			}
			// SumAcc rather than Sum, whose kernel is called through a
			// function value: buf would escape to the heap.
			acc := runtime.NewSumAcc(n)
			return acc.Sum(buf[:n])
		}
		if vp != nil {
			return vp.sumF(fr, cp, body, n, cp.steps+1)
		}
		piece := getPiece()
		defer putPiece(piece)
		acc := runtime.NewSumAcc(n)
		j := 0
		for i := range n {
			if !compStep(fr, cp, i, n, cp.steps+1) {
				return 0
			}
			cp.bind(fr, i)
			piece[j] = body(fr)
			if fr.err != nil {
				return 0
			}
			if j++; j == runtime.SumPiece {
				acc.Add(piece[:])
				j = 0
			}
		}
		return acc.Sum(piece[:j])
	}, true, nil
}

// smallSum is the longest fused sum whose terms are kept on the Go stack.
const smallSum = 32

var pieces = sync.Pool{New: func() any { return new([runtime.SumPiece]float64) }}

func getPiece() *[runtime.SumPiece]float64  { return pieces.Get().(*[runtime.SumPiece]float64) }
func putPiece(p *[runtime.SumPiece]float64) { pieces.Put(p) }

// inlineComp compiles a build or map with a literal lambda into the
// enclosing function: a typed loop that stores scalar elements straight
// into the result, or, for other elements (arrays, tuples), the ordinary
// body stacked element by element. ok is false for other calls.
func (c *fnComp) inlineComp(e *ir.PrimCall) (evalFn, bool, error) {
	at, isArr := e.T.(*ir.Array)
	if !isArr {
		return nil, false, nil
	}
	elem := at.Elem
	k, scalar := scalarKind(elem)
	cp, ok, err := c.comprehension(e)
	if !ok || err != nil {
		return nil, ok, err
	}
	defer c.end(cp)
	if own := c.tapeOwner(elem, cp.body); own || (c.tape != 0 && isTuple(elem)) {
		if own {
			c.tape = c.alloc(1) + 1
			defer func() { c.tape = 0 }()
		}
		body, err := c.compile(cp.body)
		if err != nil {
			return nil, true, err
		}
		var site *tapeSite
		if own {
			site = c.tapeSiteFor()
		}
		return tapeStack(cp, body, c.tape, own, site), true, nil
	}
	if !scalar {
		body, err := c.compile(cp.body)
		if err != nil {
			return nil, true, err
		}
		st := ir.StackerOf(cp.name, elem)
		return func(fr *frame) (runtime.Value, error) {
			n := cp.start(fr)
			if n < 0 {
				return runtime.Value{}, fr.takeErr()
			}
			cp.prepare(fr)
			a, err := st.Stack(fr.m, n, func(i int) (runtime.Value, error) {
				if !compStep(fr, cp, i, n, cp.steps) {
					return runtime.Value{}, fr.takeErr()
				}
				cp.bind(fr, i)
				return body(fr)
			})
			if err != nil {
				return runtime.Value{}, errAt(cp.pos, err)
			}
			return runtime.Arr(a), nil
		}, true, nil
	}
	var bodyF fcode
	var bodyI icode
	kind := runtime.ElemF64
	keep := c.scratchOnly() // the body's arrays die in it (scratch.go)
	switch k {
	case ir.F64:
		bodyF, err = c.typedF(cp.body)
	case ir.I64:
		kind = runtime.ElemI64
		bodyI, err = c.typedI(cp.body)
	default:
		kind = runtime.ElemBool
		bodyI, err = c.typedI(cp.body)
	}
	keep()
	if err != nil {
		return nil, true, err
	}
	var vp *vprog
	var rs *rowSum
	if kind == runtime.ElemF64 {
		vp = c.vecComp(cp)
		rs = c.rowSumOf(cp)
	}
	tape := c.tape
	return func(fr *frame) (runtime.Value, error) {
		n := cp.start(fr)
		if n < 0 {
			return runtime.Value{}, fr.takeErr()
		}
		cp.prepare(fr)
		var out *runtime.Array
		var err error
		if tape != 0 && kind == runtime.ElemF64 && n <= tapeMaxElems {
			out, err = arenaOf(fr, tape).vec(n)
		} else {
			out, err = runtime.NewVec(fr.m, kind, n)
		}
		if err != nil {
			return runtime.Value{}, errAt(cp.pos, err)
		}
		if rs != nil && rs.terms(fr, cp, n, cp.steps, out.F) {
			n = 0 // done: rows read in place (typed_dot.go)
		}
		if vp != nil && n >= vecMin {
			vp.buildF(fr, cp, bodyF, out.F)
			n = 0 // done
		}
		for i := range n {
			if !compStep(fr, cp, i, n, cp.steps) {
				break
			}
			cp.bind(fr, i)
			switch kind {
			case runtime.ElemF64:
				out.F[i] = bodyF(fr)
			case runtime.ElemI64:
				out.I[i] = bodyI(fr)
			default:
				out.B[i] = bodyI(fr) != 0
			}
			if fr.err != nil {
				break
			}
		}
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		return runtime.Arr(out), nil
	}, true, nil
}

// arithI compiles the i64 and bool operations of binApply.
func (c *fnComp) arithI(op binOp, a, b ir.Expr) (icode, error) {
	if op == iAdd || op == iSub {
		// i + c, the commonest index, reads i's slot itself.
		if s, v, ok := c.varPlusConst(op == iSub, a, b); ok {
			return func(fr *frame) int64 { return fr.slots[s].I + v }, nil
		}
	}
	x, y, err := c.typedI2(a, b)
	if err != nil {
		return nil, err
	}
	if k, ok := b.(*ir.Const); ok && op <= iSub && op >= iAdd {
		if v, ok := k.Val.(int64); ok {
			if op == iSub {
				v = -v
			}
			return func(fr *frame) int64 { return x(fr) + v }, nil
		}
	}
	switch op {
	case iAdd:
		return func(fr *frame) int64 { return x(fr) + y(fr) }, nil
	case iSub:
		return func(fr *frame) int64 { return x(fr) - y(fr) }, nil
	case iMul:
		return func(fr *frame) int64 { return x(fr) * y(fr) }, nil
	case iLt:
		return func(fr *frame) int64 { return b2i(x(fr) < y(fr)) }, nil
	case iLe:
		return func(fr *frame) int64 { return b2i(x(fr) <= y(fr)) }, nil
	case iGt:
		return func(fr *frame) int64 { return b2i(x(fr) > y(fr)) }, nil
	case iGe:
		return func(fr *frame) int64 { return b2i(x(fr) >= y(fr)) }, nil
	case iEq:
		return func(fr *frame) int64 { return b2i(x(fr) == y(fr)) }, nil
	case iNe:
		return func(fr *frame) int64 { return b2i(x(fr) != y(fr)) }, nil
	case bAnd:
		return func(fr *frame) int64 { return b2i(x(fr) != 0 && y(fr) != 0) }, nil
	case bOr:
		return func(fr *frame) int64 { return b2i(x(fr) != 0 || y(fr) != 0) }, nil
	}
	return nil, ir.Errorf(a.Pos(), "arithI: operation %d", op)
}

// unzipComp compiles unzip of a build or map with a literal lambda whose
// elements are tuples of f64 (forward mode's map of (primal, tangent)
// pairs): each element's tuple goes straight into its columns, and the
// array of boxed tuples that unzip would read is never made. The
// columns hold what unzip of the stacked array would.
func (c *fnComp) unzipComp(e *ir.PrimCall) (evalFn, bool, error) {
	if e.Op != ir.PrimUnzip || len(e.Args) != 1 {
		return nil, false, nil
	}
	src, ok := e.Args[0].(*ir.PrimCall)
	if !ok || (src.Op != ir.PrimMap && src.Op != ir.PrimBuild) {
		return nil, false, nil
	}
	at, ok := src.T.(*ir.Array)
	if !ok {
		return nil, false, nil
	}
	tt, ok := at.Elem.(*ir.Tuple)
	if !ok || len(tt.Elems) == 0 {
		return nil, false, nil
	}
	for _, t := range tt.Elems {
		if k, scalar := scalarKind(t); !scalar || k != ir.F64 {
			return nil, false, nil
		}
	}
	cp, ok, err := c.comprehension(src)
	if !ok || err != nil {
		return nil, ok, err
	}
	defer c.end(cp)
	body, err := c.compile(cp.body)
	if err != nil {
		return nil, true, err
	}
	k := len(tt.Elems)
	return func(fr *frame) (runtime.Value, error) {
		n := cp.start(fr)
		if n < 0 {
			return runtime.Value{}, fr.takeErr()
		}
		cp.prepare(fr)
		cols := make([]*runtime.Array, k)
		out := make(runtime.Tuple, k)
		for j := range cols {
			col, err := runtime.NewVec(fr.m, runtime.ElemF64, n)
			if err != nil {
				return runtime.Value{}, errAt(cp.pos, err)
			}
			cols[j], out[j] = col, runtime.Arr(col)
		}
		for i := range n {
			if !compStep(fr, cp, i, n, cp.steps) {
				return runtime.Value{}, fr.takeErr()
			}
			cp.bind(fr, i)
			v, err := body(fr)
			if err != nil {
				return runtime.Value{}, errAt(cp.pos, err)
			}
			for j, x := range v.Tuple() {
				cols[j].F[i] = x.F
			}
		}
		return runtime.Value{R: out}, nil
	}, true, nil
}
