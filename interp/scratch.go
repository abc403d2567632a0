// Temporaries of tape bodies: values that die at their use are not
// carved from the tape arena.

package interp

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
)

// arenaTemps, set by tests, carves temporaries of tape bodies from the
// tape arena as before (the reference the scratch paths must match).
var arenaTemps bool

// Let-bound temporaries. A let inside a tape body whose value dies when
// its body is done (letDead: a fresh array its body's result cannot refer
// to, recycled then) is made outside the arena too (storeLet): the
// element-wise GMM's forward sweep computes per point and component a
// [d] product, then copies it into the vector it saves, and the product,
// carved from the arena, stayed alive with the tape (a third of the
// tape's array headers, a fifth of its bytes). Made from the machine's
// recycled arrays instead, it is given back after the copy and taken
// again by the next element. noTempLets, set by tests, carves them as
// before; tempLets counts the lets compiled this way.
var (
	noTempLets bool
	tempLets   atomic.Int64
)

// compileScratch compiles e, whose value dies at its use when dies is
// set (an operand that the use recycles), outside the tape arena: inside
// a tape body the fast paths carve vectors from the arena, which keeps
// them, and the tape they belong to, until the reverse pass; a
// temporary such as the x[i] - mu[k] that a product reads is taken from
// the machine's recycled arrays instead and given back after its use.
// The same code runs either way, so values, steps and errors are the
// same.
func (c *fnComp) compileScratch(e ir.Expr, dies bool) (evalFn, error) {
	if !dies || c.tape == 0 || arenaTemps {
		return c.compile(e)
	}
	defer c.scratchOnly()()
	return c.compile(e)
}

// scratchOnly starts compiling code whose arrays all die in it, such as
// the body of a comprehension of scalars (its elements are numbers, so no
// array it makes can reach the tape): outside the tape arena, as
// compileScratch. The returned function ends it.
func (c *fnComp) scratchOnly() func() {
	tape := c.tape
	if arenaTemps {
		return func() {}
	}
	c.tape = 0
	return func() { c.tape = tape }
}
