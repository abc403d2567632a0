package interp

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Reverse loops with array state. The reverse pass of a loop over a
// vector (Rosenbrock's) is `loop rev = (zeros_like(x),) for i < n do let
// g = rev.0 in let s = ... in let acc = acc_add_at(g, i, s) in ...
// (acc_k,)`: a chain of scalar lets and in-place adds into the state's
// arrays. Compiled let by let, each array let boxes and releases its
// value and the tuple at the end is made and copied back, which cost more
// than the arithmetic. accChain compiles such a body to a flat list of
// steps: scalar lets are stored typed as before, array lets are only
// aliases of a state field's slot, and each acc_add_at adds into the
// field's array in place, with compileAccAddAt's checks, order and
// message. The final tuple names the fields in order, so the state is
// already where the next iteration reads it.
//
// A field of higher rank (a [k][d] or [k][d][d] accumulator of the
// element-wise GMM's reverse loops over d) takes one-hot chains
// acc_add_at(g, i, acc_add_at(zeros_like(l), j, y)) as g[i][j] += y, run
// by the code compileAccOneHot runs (oneHotAdd), so its checks, order,
// positions and steps are the same. Such loops went through revChain,
// which boxes each update's result into the field's slot.

// accOp is one let of the chain: a scalar let (store) or an add into
// field slot s.
type accOp struct {
	store func(fr *frame)
	s     int
	idx   icode
	val   fcode
	pos   ir.Pos
	oh    *oneHotAdd // a one-hot chain into field slot s
}

// accChain compiles body e of a tuple loop whose k fields live in slots
// ss.. as a chain of typed lets and acc_add_at on the fields; ok is false
// for other bodies.
func (c *fnComp) accChain(e ir.Expr, state *ir.Var, k, ss int) (func(fr *frame) error, bool, error) {
	if plainTyped {
		return nil, false, nil
	}
	field := map[*ir.Var]int{} // array lets: the field they stand for
	var lets []*ir.Let
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		if l.Var == nil {
			return nil, false, nil
		}
		if p, ok := l.Value.(*ir.Proj); ok && p.X == ir.Expr(state) && fieldUses(l.Body, state, p.Index) == 0 {
			field[l.Var] = p.Index
		} else if a, ok := accOnField(l.Value, field); ok || oneHotOnField(l.Value, field) {
			if !ok {
				a = l.Value.(*ir.PrimCall).Args[0].(*ir.Var)
			}
			// Linear: the updated array is never read again.
			if varUses(l.Body, a) > 0 {
				return nil, false, nil
			}
			field[l.Var] = field[a]
		} else if _, scalar := scalarKind(l.Value.Type()); !scalar {
			return nil, false, nil
		}
		lets = append(lets, l)
		e = l.Body
	}
	t, ok := e.(*ir.MakeTuple)
	if !ok || len(t.Elems) != k || len(field) == 0 {
		return nil, false, nil
	}
	for j, el := range t.Elems {
		v, ok := el.(*ir.Var)
		if f, isField := field[v]; !ok || !isField || f != j {
			return nil, false, nil
		}
	}
	for _, tf := range state.T.(*ir.Tuple).Elems {
		if kd, ok := ir.Leaf(tf); !ok || kd != ir.F64 || ir.Rank(tf) < 1 || ir.Rank(tf) > 1 && noAccOneHot {
			return nil, false, nil
		}
	}
	base := c.depth
	defer func() {
		for _, l := range lets {
			delete(c.locals, l.Var)
		}
		c.depth = base
	}()
	ops := make([]accOp, 0, len(lets)) // no op for an alias
	for _, l := range lets {
		var op accOp
		var err error
		if f, ok := field[l.Var]; ok {
			c.bind(l.Var, ss+f) // the field's array, updated in place
			p, ok := l.Value.(*ir.PrimCall)
			if !ok {
				continue
			}
			op.s, op.pos = ss+f, p.P
			if levels := oneHotChain(p); levels != nil {
				if op.oh, err = c.compileOneHot(levels); err != nil {
					return nil, true, err
				}
				ops = append(ops, op)
				continue
			}
			if op.idx, err = c.typedI(p.Args[1]); err != nil {
				return nil, true, err
			}
			if op.val, err = c.typedF(p.Args[2]); err != nil {
				return nil, true, err
			}
		} else {
			s := c.alloc(1)
			if op.store, err = c.store(l.Value, s); err != nil {
				return nil, true, err
			}
			c.bind(l.Var, s)
		}
		ops = append(ops, op)
	}
	for _, op := range ops {
		if op.oh != nil {
			accOneHotLoops.Add(1)
			break
		}
	}
	return func(fr *frame) error {
		for n := range ops {
			op := &ops[n]
			if op.store != nil {
				if op.store(fr); fr.err != nil {
					return fr.takeErr()
				}
				continue
			}
			if op.oh != nil {
				if err := op.oh.add(fr, fr.slots[op.s]); err != nil {
					return err
				}
				continue
			}
			a, _ := fr.slots[op.s].R.(*runtime.Array)
			i, x := op.idx(fr), op.val(fr)
			if fr.err != nil {
				return fr.takeErr()
			}
			if a == nil {
				return internalErrorf(op.pos, "acc_add_at of %s", describe(fr.slots[op.s]))
			}
			if uint64(i) >= uint64(len(a.F)) {
				return errAt(op.pos, runtime.CheckIndex(i, len(a.F)))
			}
			a.F[i] += x
		}
		return nil
	}, true, nil
}

// accOnField returns a when e is acc_add_at(a, i, v) with a an array let
// standing for a field and v an f64 scalar.
func accOnField(e ir.Expr, field map[*ir.Var]int) (*ir.Var, bool) {
	p, ok := e.(*ir.PrimCall)
	if !ok || p.Op != ir.PrimAccAddAt || len(p.Args) != 3 {
		return nil, false
	}
	a, ok := p.Args[0].(*ir.Var)
	if !ok {
		return nil, false
	}
	if _, ok := field[a]; !ok {
		return nil, false
	}
	if kd, ok := scalarKind(p.Args[2].Type()); !ok || kd != ir.F64 {
		return nil, false
	}
	return a, true
}

// oneHotOnField reports whether e is a one-hot chain (oneHotChain) into
// an array let standing for a field.
func oneHotOnField(e ir.Expr, field map[*ir.Var]int) bool {
	p, ok := e.(*ir.PrimCall)
	if !ok || noAccOneHot || oneHotChain(p) == nil {
		return false
	}
	a, ok := p.Args[0].(*ir.Var)
	if !ok {
		return false
	}
	_, ok = field[a]
	return ok
}

// noAccOneHot, set by tests, keeps one-hot chains out of accChain (the
// loops then go through revChain, the reference they are compared with);
// accOneHotLoops counts the bodies accChain has compiled with one, so
// that the tests can tell the path ran.
var (
	noAccOneHot    bool
	accOneHotLoops atomic.Int64
)

// varUses counts the occurrences of v in e.
func varUses(e ir.Expr, v *ir.Var) int {
	if e == nil {
		return 0
	}
	if x, ok := e.(*ir.Var); ok && x == v {
		return 1
	}
	n := 0
	for _, k := range ir.Children(e) {
		n += varUses(k, v)
	}
	return n
}
