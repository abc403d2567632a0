package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Results of tuple loops kept in slots. The reverse passes AD makes are
// nests of `let grev = loop rev = (...) for i < n do ... in ... grev.0
// ... grev.1`: a loop whose tuple state lives in slots (loops.go) still
// made a tuple of its final state for the let, to be taken apart at once,
// one allocation per run of every inner loop. When the let's variable is
// used only through its fields, the fields are copied from the loop's
// slots into the let's own and read there, as a tuple state's are.
//
// A field that the loop made (a zero accumulator it updated in place)
// and that the let's body cannot keep is recycled when the body is done,
// as a let-bound fresh array is.

// letTupleLoop compiles the value of let x = loop ... in body when the
// loop keeps its state in slots and body uses x only through its fields.
// It binds x's fields to slots base.. (c.fields); the caller compiles the
// body, then deletes c.fields[x] and sets c.depth back to base. ok is
// false for other lets. The caller recycles the slots dead
// (releaseFields) after the body.
func (c *fnComp) letTupleLoop(e *ir.Let) (val func(fr *frame) error, base int, dead []int, ok bool, err error) {
	l, isLoop := e.Value.(*ir.Loop)
	tt, isTuple := e.Var.T.(*ir.Tuple)
	if !isLoop || !isTuple || len(tt.Elems) == 0 || !c.it.letFieldsOnly(e) {
		return nil, 0, nil, false, nil
	}
	k := len(tt.Elems)
	base = c.alloc(k)
	at := base // the loop's state is the let's tuple
	if noDirectInit {
		at = -1
	}
	run, ss, ok, err := c.tupleLoop(l, at)
	if !ok || err != nil {
		c.depth = base
		return nil, 0, nil, ok, err
	}
	c.fields[e.Var] = base
	if !c.it.letMayKeep(e) {
		for j := range k {
			if c.it.loopFieldFresh(l, j) {
				dead = append(dead, base+j)
			}
		}
	}
	return func(fr *frame) error {
		if err := run(fr); err != nil {
			return err
		}
		if ss != base {
			copy(fr.slots[base:base+k], fr.slots[ss:ss+k])
		}
		return nil
	}, base, dead, true, nil
}

// releaseFields recycles the fresh fields of a let's tuple (slots dead)
// once its body is done.
func releaseFields(fr *frame, dead []int) {
	for _, s := range dead {
		recycle(fr.m, fr.slots[s])
		fr.slots[s] = runtime.Value{}
	}
}

// loopFieldFresh reports whether field j of loop l's result is always an
// array the loop made that nothing else refers to: the initial state's
// field j is fresh, the body's field j is fresh given that the state's
// is, and the body reads the state's field j at most once (no second
// reference to share it).
func (it *Interp) loopFieldFresh(l *ir.Loop, j int) bool {
	if !it.freshAt(l.Init, []int{j}, map[*ir.Var]ir.Expr{}) || fieldUses(l.Body, l.State, j) > 1 || fieldUses(l.Cond, l.State, j) > 0 {
		return false
	}
	return it.freshAt(l.Body, []int{j}, map[*ir.Var]ir.Expr{l.State: l.Init})
}

// fieldUses counts the occurrences of v.j in e.
func fieldUses(e ir.Expr, v *ir.Var, j int) int {
	if e == nil {
		return 0
	}
	if p, ok := e.(*ir.Proj); ok && p.Index == j {
		if x, ok := p.X.(*ir.Var); ok && x == v {
			return 1
		}
	}
	n := 0
	for _, k := range ir.Children(e) {
		n += fieldUses(k, v, j)
	}
	return n
}
