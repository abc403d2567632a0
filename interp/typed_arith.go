package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// f64 arithmetic, the commonest typed code, specialized on where each
// operand comes from: a slot of the frame, a constant, an element x[i] or
// x[i + c] of a vector, a pair such as 2.0 * y, or code. The superinstructions
// are in typed_super.go. In s + f64(i) * 0.5 the add reads s from
// its slot and the mul takes 0.5 as a Go constant; in 1.0 - x[i] the sub
// reads the element itself: fewer closure calls per element. Both
// operands are always evaluated, left first.

// okind is where an operand comes from.
type okind uint8

const (
	oCode  okind = iota
	oSlot        // a slot of the frame
	oKonst       // a constant
	oLoad        // an element of a vector (see vload)
	oPair        // an operation on two slots or a slot and a constant (fpair)
)

// foperand is one operand of an f64 operation.
type foperand struct {
	kind okind
	slot int     // oSlot
	c    float64 // oKonst
	ld   vload   // oLoad
	pr   fpair   // oPair
	code fcode   // oCode
}

// fpair is a + - * / b with a and b slots or one of them a constant,
// such as 2.0 * y or 1.0 - y in reverse mode's bodies: computed inline by
// the closure that uses it, which saves a closure call per pair.
type fpair struct {
	op     binOp
	a, b   int     // slots; -1: the constant
	ka, kb float64 // the constants
}

// get computes the pair; small enough to be inlined.
func (p *fpair) get(fr *frame) float64 {
	x, y := p.ka, p.kb
	s := fr.slots
	if p.a >= 0 {
		x = s[p.a].F
	}
	if p.b >= 0 {
		y = s[p.b].F
	}
	return applyF(p.op, x, y)
}

// applyF is the f64 arithmetic of binApply.
func applyF(op binOp, x, y float64) float64 {
	switch op {
	case fAdd:
		return x + y
	case fSub:
		return x - y
	case fMul:
		return x * y
	}
	return x / y
}

// pairOf recognizes a pair: an f64 + - * / of slots and constants, not
// both constants.
func (c *fnComp) pairOf(e *ir.PrimCall) (fpair, bool) {
	if len(e.Args) != 2 || !ir.Identical(e.T, ir.TF64) || !ir.Identical(e.Args[0].Type(), ir.TF64) {
		return fpair{}, false
	}
	op, ok := binOpOf(e.Op, ir.F64, ir.F64)
	if !ok || op > fDiv {
		return fpair{}, false
	}
	p := fpair{op: op, a: -1, b: -1}
	for j, a := range e.Args {
		s, k := &p.a, &p.ka
		if j == 1 {
			s, k = &p.b, &p.kb
		}
		switch x := a.(type) {
		case *ir.Var:
			if *s, ok = c.locals[x]; !ok {
				return fpair{}, false
			}
		case *ir.Const:
			if *k, ok = x.Val.(float64); !ok {
				return fpair{}, false
			}
		default:
			return fpair{}, false
		}
	}
	return p, p.a >= 0 || p.b >= 0
}

// vload is x[i + off] for a vector x in slot arr and an i64 i in slot
// idx: the index primitive's result, error and position, read inline.
type vload struct {
	arr, idx int
	off      int64
	pos      ir.Pos // of the index primitive
}

// at reads the element if the array is there and i + off is in range;
// small enough to be inlined into the closures that read elements, which
// call slow otherwise.
func (l *vload) at(fr *frame) (float64, bool) {
	a, _ := fr.slots[l.arr].R.(*runtime.Array)
	if i := fr.slots[l.idx].I + l.off; a != nil && uint64(i) < uint64(len(a.F)) {
		return a.F[i], true
	}
	return 0, false
}

// slow is the element without an array (an earlier failure, already
// recorded) or out of range: the failure is recorded as the index
// primitive records it, and the element is 0.
func (l *vload) slow(fr *frame) float64 {
	a, _ := fr.slots[l.arr].R.(*runtime.Array)
	if a == nil {
		return 0
	}
	i := fr.slots[l.idx].I + l.off
	fr.fail(errAt(l.pos, runtime.CheckIndex(i, len(a.F))))
	return 0
}

// get is at, then slow if need be.
func (l *vload) get(fr *frame) float64 {
	if v, ok := l.at(fr); ok {
		return v
	}
	return l.slow(fr)
}

// fcode returns the operand as code of its own.
func (o foperand) fcode() fcode {
	switch o.kind {
	case oSlot:
		s := o.slot
		return func(fr *frame) float64 { return fr.slots[s].F }
	case oKonst:
		k := o.c
		return func(*frame) float64 { return k }
	case oLoad:
		ld := o.ld
		return ld.get
	case oPair:
		pr := o.pr
		return func(fr *frame) float64 { return pr.get(fr) }
	}
	return o.code
}

// vloadOf recognizes x[i] and x[i + c] (or x[i - c]) with x an f64 vector
// and i an i64, both local variables.
func (c *fnComp) vloadOf(e ir.Expr) (vload, bool) {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimIndex || len(pc.Args) != 2 {
		return vload{}, false
	}
	at, ok := pc.Args[0].Type().(*ir.Array)
	if !ok || !ir.Identical(at.Elem, ir.TF64) {
		return vload{}, false
	}
	av, ok := pc.Args[0].(*ir.Var)
	if !ok {
		return vload{}, false
	}
	arr, ok := c.locals[av]
	if !ok {
		return vload{}, false
	}
	idx, off, ok := c.slotPlus(pc.Args[1])
	if !ok {
		return vload{}, false
	}
	return vload{arr: arr, idx: idx, off: off, pos: pc.P}, true
}

// slotPlus recognizes an i64 local variable i, i + c or i - c, with c a
// constant: the slot and the (wrapping) offset.
func (c *fnComp) slotPlus(e ir.Expr) (slot int, off int64, ok bool) {
	if plainTyped {
		return 0, 0, false
	}
	if v, isVar := e.(*ir.Var); isVar {
		s, ok := c.locals[v]
		return s, 0, ok && ir.Identical(v.T, ir.TI64)
	}
	pc, isCall := e.(*ir.PrimCall)
	if !isCall || (pc.Op != ir.PrimAdd && pc.Op != ir.PrimSub) || len(pc.Args) != 2 || !ir.Identical(pc.T, ir.TI64) {
		return 0, 0, false
	}
	return c.varPlusConst(pc.Op == ir.PrimSub, pc.Args[0], pc.Args[1])
}

// varPlusConst recognizes a + b (a - b if sub) of i64, with a a local
// variable and b a constant.
func (c *fnComp) varPlusConst(sub bool, a, b ir.Expr) (slot int, off int64, ok bool) {
	if plainTyped {
		return 0, 0, false
	}
	v, isVar := a.(*ir.Var)
	k, isConst := b.(*ir.Const)
	if !isVar || !isConst || !ir.Identical(v.T, ir.TI64) {
		return 0, 0, false
	}
	d, isInt := k.Val.(int64)
	s, local := c.locals[v]
	if !isInt || !local {
		return 0, 0, false
	}
	if sub {
		d = -d
	}
	return s, d, true
}

// plainTyped, set by tests, compiles typed code the general way (a
// closure per node, no superinstruction) to compare the specialized code
// with, bit for bit.
var plainTyped bool

func (c *fnComp) foperand(e ir.Expr) (foperand, error) {
	if plainTyped {
		f, err := c.typedF(e)
		return foperand{code: f}, err
	}
	switch x := e.(type) {
	case *ir.Var:
		if s, ok := c.locals[x]; ok {
			return foperand{kind: oSlot, slot: s}, nil
		}
	case *ir.Const:
		if v, ok := x.Val.(float64); ok {
			return foperand{kind: oKonst, c: v}, nil
		}
	case *ir.PrimCall:
		if ld, ok := c.vloadOf(x); ok {
			return foperand{kind: oLoad, ld: ld}, nil
		}
		if pr, ok := c.pairOf(x); ok {
			return foperand{kind: oPair, pr: pr}, nil
		}
	}
	f, err := c.typedF(e)
	return foperand{code: f}, err
}

// arithF compiles a + - * / of f64 operands.
func (c *fnComp) arithF(op binOp, a, b ir.Expr) (fcode, error) {
	x, err := c.foperand(a)
	if err != nil {
		return nil, err
	}
	y, err := c.foperand(b)
	if err != nil {
		return nil, err
	}
	return arithOperands(op, x, y, a.Pos())
}

// arithOperands is arithF once its operands are compiled.
func arithOperands(op binOp, x, y foperand, pos ir.Pos) (fcode, error) {
	if x.kind == oKonst && y.kind == oKonst {
		v := binApply(op, runtime.Value{F: x.c}, runtime.Value{F: y.c}).F
		return func(*frame) float64 { return v }, nil
	}
	if x.kind == oLoad || y.kind == oLoad {
		return loadArithF(op, x, y, false), nil
	}
	if x.kind == oPair || y.kind == oPair {
		return pairArithF(op, x, y), nil
	}
	switch op {
	case fAdd:
		return addF(x, y), nil
	case fSub:
		return subF(x, y), nil
	case fMul:
		return mulF(x, y), nil
	case fDiv:
		return divF(x, y), nil
	}
	return nil, ir.Errorf(pos, "arithF: operation %d", op)
}

func addF(x, y foperand) fcode {
	switch {
	case x.kind == oSlot && y.kind == oKonst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F + k }
	case x.kind == oKonst && y.kind == oSlot:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k + fr.slots[j].F }
	case x.kind == oSlot && y.kind == oSlot:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F + fr.slots[j].F }
	case x.kind == oSlot:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F + g(fr) }
	case y.kind == oSlot:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) + fr.slots[j].F }
	case y.kind == oKonst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) + k }
	case x.kind == oKonst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k + g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) + g(fr) }
}

func subF(x, y foperand) fcode {
	switch {
	case x.kind == oSlot && y.kind == oKonst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F - k }
	case x.kind == oKonst && y.kind == oSlot:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k - fr.slots[j].F }
	case x.kind == oSlot && y.kind == oSlot:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F - fr.slots[j].F }
	case x.kind == oSlot:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F - g(fr) }
	case y.kind == oSlot:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) - fr.slots[j].F }
	case y.kind == oKonst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) - k }
	case x.kind == oKonst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k - g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) - g(fr) }
}

func mulF(x, y foperand) fcode {
	switch {
	case x.kind == oSlot && y.kind == oKonst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F * k }
	case x.kind == oKonst && y.kind == oSlot:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k * fr.slots[j].F }
	case x.kind == oSlot && y.kind == oSlot:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F * fr.slots[j].F }
	case x.kind == oSlot:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F * g(fr) }
	case y.kind == oSlot:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) * fr.slots[j].F }
	case y.kind == oKonst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) * k }
	case x.kind == oKonst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k * g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) * g(fr) }
}

func divF(x, y foperand) fcode {
	switch {
	case x.kind == oSlot && y.kind == oKonst:
		i, k := x.slot, y.c
		return func(fr *frame) float64 { return fr.slots[i].F / k }
	case x.kind == oKonst && y.kind == oSlot:
		k, j := x.c, y.slot
		return func(fr *frame) float64 { return k / fr.slots[j].F }
	case x.kind == oSlot && y.kind == oSlot:
		i, j := x.slot, y.slot
		return func(fr *frame) float64 { return fr.slots[i].F / fr.slots[j].F }
	case x.kind == oSlot:
		i, g := x.slot, y.code
		return func(fr *frame) float64 { return fr.slots[i].F / g(fr) }
	case y.kind == oSlot:
		f, j := x.code, y.slot
		return func(fr *frame) float64 { return f(fr) / fr.slots[j].F }
	case y.kind == oKonst:
		f, k := x.code, y.c
		return func(fr *frame) float64 { return f(fr) / k }
	case x.kind == oKonst:
		k, g := x.c, y.code
		return func(fr *frame) float64 { return k / g(fr) }
	}
	f, g := x.code, y.code
	return func(fr *frame) float64 { return f(fr) / g(fr) }
}

// loadArithF is arithF with an element operand, read inline: one
// closure per pair of operand kinds (x left, y right), the operation
// chosen by applyF's switch, which the branch predictor learns per site.
// With square, the closure returns the result squared (squaredDiff).
func loadArithF(op binOp, x, y foperand, square bool) fcode {
	if x.kind == oLoad && y.kind == oLoad {
		p, q := x.ld, y.ld
		return func(fr *frame) float64 {
			a, ok := p.at(fr)
			if !ok {
				a = p.slow(fr)
			}
			b, ok := q.at(fr)
			if !ok {
				b = q.slow(fr)
			}
			return squareIf(applyF(op, a, b), square)
		}
	}
	if x.kind == oLoad {
		p := x.ld
		switch y.kind {
		case oCode:
			g := y.code
			return func(fr *frame) float64 {
				a, ok := p.at(fr)
				if !ok {
					a = p.slow(fr)
				}
				return squareIf(applyF(op, a, g(fr)), square)
			}
		case oSlot:
			j := y.slot
			return func(fr *frame) float64 {
				a, ok := p.at(fr)
				if !ok {
					a = p.slow(fr)
				}
				return squareIf(applyF(op, a, fr.slots[j].F), square)
			}
		case oKonst:
			k := y.c
			return func(fr *frame) float64 {
				a, ok := p.at(fr)
				if !ok {
					a = p.slow(fr)
				}
				return squareIf(applyF(op, a, k), square)
			}
		}
		q := y.pr // oPair
		return func(fr *frame) float64 {
			a, ok := p.at(fr)
			if !ok {
				a = p.slow(fr)
			}
			return squareIf(applyF(op, a, q.get(fr)), square)
		}
	}
	// y is the element; x is evaluated first.
	q := y.ld
	switch x.kind {
	case oCode:
		f := x.code
		return func(fr *frame) float64 {
			a := f(fr)
			b, ok := q.at(fr)
			if !ok {
				b = q.slow(fr)
			}
			return squareIf(applyF(op, a, b), square)
		}
	case oSlot:
		i := x.slot
		return func(fr *frame) float64 {
			b, ok := q.at(fr)
			if !ok {
				b = q.slow(fr)
			}
			return squareIf(applyF(op, fr.slots[i].F, b), square)
		}
	case oKonst:
		k := x.c
		return func(fr *frame) float64 {
			b, ok := q.at(fr)
			if !ok {
				b = q.slow(fr)
			}
			return squareIf(applyF(op, k, b), square)
		}
	}
	p := x.pr // oPair
	return func(fr *frame) float64 {
		a := p.get(fr)
		b, ok := q.at(fr)
		if !ok {
			b = q.slow(fr)
		}
		return squareIf(applyF(op, a, b), square)
	}
}

// squareIf returns r * r if square, else r.
func squareIf(r float64, square bool) float64 {
	if square {
		return r * r
	}
	return r
}

// pairArithF is arithF with a pair operand (and no element): the pair is
// computed inline, and the operation is chosen by applyF's switch, which
// a branch predictor learns per site as well as a closure per operation.
func pairArithF(op binOp, x, y foperand) fcode {
	switch {
	case x.kind == oPair && y.kind == oPair:
		p, q := x.pr, y.pr
		return func(fr *frame) float64 { return applyF(op, p.get(fr), q.get(fr)) }
	case x.kind == oPair && y.kind == oCode:
		p, g := x.pr, y.code
		return func(fr *frame) float64 {
			a := p.get(fr)
			return applyF(op, a, g(fr))
		}
	case x.kind == oCode && y.kind == oPair:
		f, q := x.code, y.pr
		return func(fr *frame) float64 {
			a := f(fr)
			return applyF(op, a, q.get(fr))
		}
	case x.kind == oPair && y.kind == oSlot:
		p, j := x.pr, y.slot
		return func(fr *frame) float64 { return applyF(op, p.get(fr), fr.slots[j].F) }
	case x.kind == oSlot && y.kind == oPair:
		i, q := x.slot, y.pr
		return func(fr *frame) float64 { return applyF(op, fr.slots[i].F, q.get(fr)) }
	case x.kind == oPair && y.kind == oKonst:
		p, k := x.pr, y.c
		return func(fr *frame) float64 { return applyF(op, p.get(fr), k) }
	}
	k, q := x.c, y.pr // oKonst, oPair
	return func(fr *frame) float64 { return applyF(op, k, q.get(fr)) }
}
