package interp

import (
	"slices"
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Flat reverse bodies. The reverse passes AD makes for element-wise code
// (the element-wise GMM's) are nests of tuple loops whose bodies are a
// chain of lets ending in a tuple of the new state:
//
//	loop rev = (g, h) for i < n do
//	  let a = rev.0 in let b = rev.1 in     -- the state's fields
//	  let y = row[i] in let s = ... in      -- rows, tape reads, scalars
//	  let gr = loop ... in                  -- an inner reverse loop
//	  let a2 = gr.0 in
//	  let b2 = acc_add_at(b, i, acc_add_at(zeros_like(y), j, s)) in
//	  (a2, b2)
//
// accChain (typed_loop_arr.go) runs such a body as a flat list when it has
// only scalar lets and in-place adds into vector fields. Other bodies went
// through into, which compiles each let as a closure calling the next, a
// state field read as rev.k into a fresh slot, an accumulation's result
// into another, and the final tuple through scratch slots copied back.
//
// revChain compiles the wider class as one flat list of steps, run in the
// order the lets are written, with nothing but the control flow changed:
//   - a let of a state field (rev.k, k read nowhere else) names the
//     field's slot;
//   - a let of acc_add_at or acc_add whose accumulator is such a name, used
//     nowhere after, evaluates the primitive as compiled anywhere (in place
//     where the primitive's fast paths update in place) and stores the
//     result in the field's slot, which the let then names;
//   - a let of a tuple loop used only through its fields keeps them in
//     slots (letTupleLoop), and a let of one such field names its slot;
//   - the broadcast cotangent lets of flat_bcast.go run their head;
//   - any other let is stored into a slot as typed code stores it
//     (storeLet), and released when the iteration ends if its value dies
//     there, as the let would release it after its body.
//
// A run of lets on short vectors (svblock.go) runs as one block, which
// falls back on the lets' own steps.
//
// The final tuple's fields are evaluated into scratch slots and copied to
// the state's, except a field already in its own slot. Values, errors,
// their positions and the steps charged are those of the general path:
// the same compiled code runs in the same order; only the binding of
// names to slots differs.

// flatOp is one step of a flat body: store evaluates a let's value into
// its slot, recording a failure in the frame; run does anything else.
type flatOp struct {
	store func(fr *frame)
	run   func(fr *frame) error
	once  bool // a row the same at every iteration: stored at the first
}

// flatDead is a value that dies at the end of an iteration: slot s
// released as release(dead) does, or, with fields set, recycled as a tuple
// loop's fresh field is.
type flatDead struct {
	s      int
	dead   uint8
	fields []int
}

// revChain compiles body e of a tuple loop whose k fields live in slots
// ss.. as a flat chain of lets (see above); ok is false for other bodies,
// which the caller compiles with into.
func (c *fnComp) revChain(loop *ir.Loop, k, ss, ix int) (body func(fr *frame) error, finish func(fr *frame), ok bool, err error) {
	e, state := loop.Body, loop.State
	if plainTyped || noRevChain || !flatShape(e, state) {
		return nil, nil, false, nil
	}
	base := c.depth
	// The slots of the rows read once per run come first: code compiled
	// before such a let may use the slots after its own as scratch at
	// every iteration, and the row must survive until the last.
	once := map[*ir.Let]int{}
	var onceSlots []int // those compiled, all stored by a finished first iteration
	if ix >= 0 && loop.Count != nil {
		for _, l := range c.it.invariantRows(loop) {
			once[l] = c.alloc(1)
		}
	}
	var bound []*ir.Var
	var cleanups []func()
	defer func() {
		for j := len(cleanups) - 1; j >= 0; j-- {
			cleanups[j]()
		}
		for _, v := range bound {
			delete(c.locals, v)
			delete(c.fields, v)
		}
		c.depth = base
	}()
	field := map[*ir.Var]int{} // names of the state's field slots
	type innerLoop struct {
		v    *ir.Var
		loop *ir.Loop
		body ir.Expr
	}
	inner := map[*ir.Var]innerLoop{} // lets of inner tuple loops
	released := map[int]bool{}       // slots recycled at the end
	var ops []flatOp
	var deads []flatDead
	// Runs of lets that also compile as one small-vector block
	// (svblock.go): once the run's lets are compiled, their ops become one
	// block that falls back on them.
	runs := svRuns(e)
	ri := 0          // the next run
	var starts []int // where each let of the current run's ops start
	flush := func(next ir.Expr) error {
		if ri >= len(runs) || len(starts) == 0 || runs[ri][len(runs[ri])-1].Body != next {
			return nil
		}
		run, at := runs[ri], starts[0]
		starts = append(starts, len(ops))
		opOf := make([]int, len(run))
		defer func() { ri, starts = ri+1, nil }()
		for k := range run {
			switch starts[k+1] - starts[k] {
			case 0:
				opOf[k] = -1 // a field named by its slot
			case 1:
				opOf[k] = starts[k] - at
				if ops[starts[k]].once {
					return nil // a row read once per run stays so
				}
			default:
				return nil // a let took more than one op: no block
			}
		}
		b, err := c.compileSVBlock(run, next, slices.Clone(ops[at:]), opOf)
		if err != nil || b == nil {
			return err
		}
		ops = append(ops[:at], flatOp{run: b.run})
		return nil
	}
	for {
		if err := flush(e); err != nil {
			return nil, nil, true, err
		}
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		if ri < len(runs) && (len(starts) > 0 || runs[ri][0] == l) {
			starts = append(starts, len(ops))
		}
		bound = append(bound, l.Var)
		if head, body, done, ok, err := c.bcastHead(l); ok || err != nil {
			if err != nil {
				return nil, nil, true, err
			}
			cleanups = append(cleanups, done)
			ops = append(ops, flatOp{run: head})
			e = body
			continue
		}
		if p, ok := l.Value.(*ir.Proj); ok {
			if p.X == ir.Expr(state) && fieldUses(l.Body, state, p.Index) == 0 {
				c.bind(l.Var, ss+p.Index)
				field[l.Var] = ss + p.Index
				e = l.Body
				continue
			}
			if s, ok := c.fieldSlot(p); ok {
				// A field of a tuple loop's result, kept in its slot.
				c.bind(l.Var, s)
				if in, ok := inner[p.X.(*ir.Var)]; ok && !released[s] && fieldUses(in.body, in.v, p.Index) == 1 &&
					!c.it.letMayKeep(l) && c.it.ownField(in.loop, p.Index) {
					deads = append(deads, flatDead{fields: []int{s}})
					released[s] = true
				}
				e = l.Body
				continue
			}
		}
		if a, ok := accOnName(l.Value, field); ok && varUses(l.Body, a) == 0 {
			s := field[a]
			val, err := c.store(l.Value, s)
			if err != nil {
				return nil, nil, true, err
			}
			ops = append(ops, flatOp{store: val})
			c.bind(l.Var, s)
			field[l.Var] = s
			e = l.Body
			continue
		}
		if val, _, dead, ok, err := c.letTupleLoop(l); ok || err != nil {
			if err != nil {
				return nil, nil, true, err
			}
			ops = append(ops, flatOp{run: val})
			if len(dead) > 0 {
				deads = append(deads, flatDead{fields: dead})
			}
			for _, s := range dead {
				released[s] = true
			}
			inner[l.Var] = innerLoop{l.Var, l.Value.(*ir.Loop), l.Body}
			e = l.Body
			continue
		}
		if s, ok := once[l]; ok {
			g, err := c.compileRow(l.Value.(*ir.PrimCall))
			if err != nil {
				return nil, nil, true, err
			}
			c.bind(l.Var, s)
			ops = append(ops, flatOp{store: storeValue(g, s), once: true})
			onceSlots = append(onceSlots, s)
			e = l.Body
			continue
		}
		s := c.alloc(1)
		val, dead, err := c.storeLet(l, s)
		if err != nil {
			return nil, nil, true, err
		}
		c.bind(l.Var, s)
		ops = append(ops, flatOp{store: val})
		if dead != deadNone {
			deads = append(deads, flatDead{s: s, dead: dead})
		}
		e = l.Body
	}
	t := e.(*ir.MakeTuple) // flatShape checked it
	tmp := c.alloc(len(t.Elems))
	var elems []evalFn
	var dst []int
	for j, el := range t.Elems {
		if v, ok := el.(*ir.Var); ok {
			if s, ok := c.locals[v]; ok && s == ss+j {
				continue // already in its slot
			}
		}
		f, err := c.compile(el)
		if err != nil {
			return nil, nil, true, err
		}
		elems = append(elems, f)
		dst = append(dst, ss+j)
	}
	revChains.Add(1)
	body = func(fr *frame) error {
		for n := range ops {
			op := &ops[n]
			if op.once && fr.slots[ix].I != 0 {
				continue // still in its slot from the first iteration
			}
			if op.store != nil {
				if op.store(fr); fr.err != nil {
					return fr.takeErr()
				}
				continue
			}
			if err := op.run(fr); err != nil {
				return err
			}
		}
		for j, f := range elems {
			v, err := f(fr)
			if err != nil {
				return err
			}
			fr.slots[tmp+j] = v
		}
		for j, s := range dst {
			fr.slots[s] = fr.slots[tmp+j]
			fr.slots[tmp+j] = runtime.Value{}
		}
		for n := len(deads) - 1; n >= 0; n-- {
			d := &deads[n]
			if d.fields != nil {
				releaseFields(fr, d.fields)
				continue
			}
			release(fr.m, d.dead, fr.slots[d.s])
		}
		return nil
	}
	if len(onceSlots) > 0 {
		finish = func(fr *frame) {
			for _, s := range onceSlots {
				release(fr.m, deadRow, fr.slots[s])
				fr.slots[s] = runtime.Value{}
			}
		}
	}
	return body, finish, true, nil
}

// flatShape reports whether e is a chain of at least one let, each with
// a variable, ending in a tuple with as many fields as state.
func flatShape(e ir.Expr, state *ir.Var) bool {
	lets := 0
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		if l.Var == nil {
			return false
		}
		lets++
		e = l.Body
	}
	t, ok := e.(*ir.MakeTuple)
	return ok && lets > 0 && len(t.Elems) == len(state.T.(*ir.Tuple).Elems)
}

// accOnName returns a when e is acc_add_at(a, ...) or acc_add(a, ...)
// with a a name of a state field's slot.
func accOnName(e ir.Expr, field map[*ir.Var]int) (*ir.Var, bool) {
	p, ok := e.(*ir.PrimCall)
	if !ok || (p.Op != ir.PrimAccAddAt && p.Op != ir.PrimAccAdd) || len(p.Args) < 2 {
		return nil, false
	}
	a, ok := p.Args[0].(*ir.Var)
	if !ok {
		return nil, false
	}
	_, ok = field[a]
	return a, ok
}

// noRevChain, set by tests, leaves every tuple loop body to into: the
// reference revChain is compared with. revChains counts the bodies
// revChain has compiled, so that the tests can tell it ran.
var (
	noRevChain bool
	revChains  atomic.Int64
)

// A nested reverse loop's own accumulators. An inner loop of a flat body
// often starts a state field from a zero of its own (`loop rev = (g,
// zeros_like(y)) ...`) and returns that array updated, which the rest of
// the body only reads. letTupleLoop recycles such a field when the let's
// body cannot keep the loop's tuple at all; in a reverse body it keeps
// another field (the outer accumulator flows into the state), so the
// field was allocated afresh at every iteration. revChain decides field
// by field: the field is recycled at the end of the iteration when the
// loop made it (ownField) and its only use is a let whose variable the
// rest of the body cannot keep.

// ownField reports whether field j of loop l's result is an array the
// loop made and nothing else refers to: its initial value is fresh and
// each iteration returns the array it was given, updated in place, or a
// fresh one. Unlike loopFieldFresh it follows the body through lets of
// tuples used field by field and through nested loops, which hand their
// own state's field back the same way.
func (it *Interp) ownField(l *ir.Loop, j int) bool {
	return it.heldAt(l.Init, []int{j}, nil, freshEnv{}) && it.loopKeepsOwn(l, j)
}

// loopKeepsOwn reports whether loop l, given an array at field j that
// nothing else refers to, returns such an array at field j.
func (it *Interp) loopKeepsOwn(l *ir.Loop, j int) bool {
	if fieldUses(l.Body, l.State, j) > 1 || fieldUses(l.Cond, l.State, j) > 0 {
		return false
	}
	return it.heldAt(l.Body, []int{j}, &ownedField{l.State, j}, freshEnv{})
}

// ownedField is the state field a loop body is given as its own.
type ownedField struct {
	state *ir.Var
	j     int
}

// freshEnv maps the variables of the lets in scope that may be followed
// to their values: used once, or a tuple used once per field.
type freshEnv map[*ir.Var]ir.Expr

// heldAt reports whether the part of e's value at path is an array that
// nothing else refers to: fresh (freshAt), or the body's own state field
// own, passed on or updated in place.
func (it *Interp) heldAt(e ir.Expr, path []int, own *ownedField, env freshEnv) bool {
	switch e := e.(type) {
	case *ir.Var:
		if own != nil && e == own.state && len(path) == 1 && path[0] == own.j {
			return true
		}
		if v, ok := env[e]; ok {
			return it.heldAt(v, path, own, env)
		}
		return false
	case *ir.Proj:
		return it.heldAt(e.X, append([]int{e.Index}, path...), own, env)
	case *ir.MakeTuple:
		return len(path) > 0 && path[0] < len(e.Elems) && it.heldAt(e.Elems[path[0]], path[1:], own, env)
	case *ir.Let:
		if e.Var == nil {
			return false
		}
		if followable(e) {
			env[e.Var] = e.Value
			defer delete(env, e.Var)
		}
		return it.heldAt(e.Body, path, own, env)
	case *ir.Loop:
		if len(path) == 0 || e.State == nil {
			return false
		}
		return it.heldAt(e.Init, path[:1], own, env) && it.loopKeepsOwn(e, path[0]) && len(path) == 1
	case *ir.PrimCall:
		if len(path) == 0 && e.Op != nil && e.Op.InPlace() {
			// acc_add(acc, v) returns acc, updated.
			return it.heldAt(e.Args[0], nil, own, env)
		}
	}
	return it.freshAt(e, path, map[*ir.Var]ir.Expr(env))
}

// followable reports whether let l's variable is used once, or is a tuple
// used only through its fields, each at most once: following it to its
// value finds no second reference to an array.
func followable(l *ir.Let) bool {
	if n, lazy := ir.VarUses(l.Body, l.Var); n == 1 && !lazy {
		return true
	}
	tt, ok := l.Var.T.(*ir.Tuple)
	if !ok || !fieldsOnly(l.Body, l.Var) {
		return false
	}
	for j := range tt.Elems {
		if fieldUses(l.Body, l.Var, j) > 1 {
			return false
		}
	}
	return true
}

// Rows read once per run. A let of a row a[i] whose a and i are bound
// outside the loop (y = q[j] in a loop over the elements of q[j]'s rows)
// gives the same row at every iteration. Reading it makes a view, which
// costs a header from the machine's pool and its return. revChain reads
// such a row at its place in the first iteration only, where it would
// first be read and fail, keeps it in its slot, and gives the header back
// after the last iteration. A row read charges no steps and the index is
// a variable, so nothing else changes.

// invariantRows returns the lets of loop l's body (a flat chain) whose
// value is a row a[i], a and i variables bound outside the loop or by an
// earlier such let, that die with the body (their header may be pooled).
func (it *Interp) invariantRows(l *ir.Loop) []*ir.Let {
	inner := map[*ir.Var]bool{l.State: true}
	if l.Index != nil {
		inner[l.Index] = true
	}
	for e := l.Body; ; {
		x, ok := e.(*ir.Let)
		if !ok {
			break
		}
		inner[x.Var] = true
		e = x.Body
	}
	var rows []*ir.Let
	for e := l.Body; ; {
		x, ok := e.(*ir.Let)
		if !ok {
			break
		}
		e = x.Body
		if !isRow(x.Value) || it.letDead(x) != deadRow {
			continue
		}
		pc := x.Value.(*ir.PrimCall)
		a, ok := pc.Args[0].(*ir.Var)
		if !ok || inner[a] {
			continue
		}
		if i, ok := pc.Args[1].(*ir.Var); !ok || inner[i] {
			continue
		}
		rows = append(rows, x)
		delete(inner, x.Var)
	}
	return rows
}

// svMinRun is the fewest vector lets a run made a block has: the two long
// fused chains of an LSTM objective's step ran no faster as a block
// (svblock.go).
const svMinRun = 3

// svVecWork reports whether block let l (svBlockLet) may work on whole
// vectors: it is not an add into one element of a vector, which its own
// code runs in a few nanoseconds, less than a block's entry and exit. Only
// such lets count towards svMinRun: the element-wise GMM's loop over
// components had a block of two element adds and a row, which cost it
// about 5% of its time. (A row read does count: BA's block of a row of
// [3][p] and two divisions of such rows runs faster as a block.)
func svVecWork(l *ir.Let, in map[*ir.Var]bool) bool {
	pc, ok := l.Value.(*ir.PrimCall)
	return !ok || !isScalarAddAt(pc, in)
}

// svCountAll, set by tests, counts every block let towards svMinRun, as
// before svVecWork.
var svCountAll bool

// svRuns returns the runs of consecutive lets of chain e in the
// small-vector block's class (svBlockLet) with svMinRun vector lets or
// more.
func svRuns(e ir.Expr) [][]*ir.Let {
	if noSVBlock {
		return nil
	}
	var runs [][]*ir.Let
	var run []*ir.Let
	vecs := 0                  // the run's vector lets
	in := map[*ir.Var]bool{}   // and their variables
	rows := map[*ir.Var]bool{} // those of them bound to rows
	end := func() {
		// Scalars and fields at the end are left to run alone.
		for len(run) > 0 && svPreLet(run[len(run)-1], in) {
			run = run[:len(run)-1]
		}
		if vecs >= svMinRun {
			runs = append(runs, run)
		}
		run, vecs = nil, 0
		clear(in)
		clear(rows)
	}
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		switch {
		case l.Var != nil && len(run) > 0 && svPreLet(l, in):
			run = append(run, l)
		case svBlockLet(l, in, rows) && !svPreLet(l, in):
			run = append(run, l)
			in[l.Var] = true
			rows[l.Var] = isRow(l.Value)
			if svCountAll || svVecWork(l, in) {
				vecs++
			}
		default:
			end()
		}
		e = l.Body
	}
	end()
	return runs
}
