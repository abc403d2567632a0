package interp

import "github.com/nabla-lang/nabla/ir"

// Results of tuple loops kept in slots. The reverse passes AD makes are
// nests of `let grev = loop rev = (...) for i < n do ... in ... grev.0
// ... grev.1`: a loop whose tuple state lives in slots (loops.go) still
// made a tuple of its final state for the let, to be taken apart at once,
// one allocation per run of every inner loop. When the let's variable is
// used only through its fields, the fields are copied from the loop's
// slots into the let's own and read there, as a tuple state's are.

// letTupleLoop compiles the value of let x = loop ... in body when the
// loop keeps its state in slots and body uses x only through its fields.
// It binds x's fields to slots base.. (c.fields); the caller compiles the
// body, then deletes c.fields[x] and sets c.depth back to base. ok is
// false for other lets.
func (c *fnComp) letTupleLoop(e *ir.Let) (val func(fr *frame) error, base int, ok bool, err error) {
	l, isLoop := e.Value.(*ir.Loop)
	tt, isTuple := e.Var.T.(*ir.Tuple)
	if !isLoop || !isTuple || len(tt.Elems) == 0 || !fieldsOnly(e.Body, e.Var) {
		return nil, 0, false, nil
	}
	k := len(tt.Elems)
	base = c.alloc(k)
	run, ss, ok, err := c.tupleLoop(l)
	if !ok || err != nil {
		c.depth = base
		return nil, 0, ok, err
	}
	c.fields[e.Var] = base
	return func(fr *frame) error {
		if err := run(fr); err != nil {
			return err
		}
		copy(fr.slots[base:base+k], fr.slots[ss:ss+k])
		return nil
	}, base, true, nil
}
