package rewrite

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// Ownership of in-place accumulators, checked after rewriting.
//
// Reverse mode emits acc_add, acc_add_at and acc_zero_at (and their
// series forms) on cotangents it creates and threads linearly, so that
// writing into them in place is invisible. The rewrite passes try to
// keep it so (ir.MutableVars), but a rewrite that is sound on its own can
// still leave an accumulator sharing storage with a value read after the
// write: a build that simplifies to an array that is also read elsewhere
// (FuzzDifferential 0853e78bf48296fa). ensureOwned runs on every def once
// its strategy is done. It follows the program in evaluation order with
// abstract storage: every value is a set of versions (loc, gen) of the
// places it may share storage with, a write in place bumps the
// generation of every place its accumulator may be, and a later read of
// an older version is a conflict. The writes that caused a conflict, and
// those into storage the def does not own (a parameter, a lambda's
// parameter, a value def), get a fresh copy of their accumulator; the
// check then runs again on the result until nothing conflicts.

// A ver is a version of a place: loc numbers the place, gen is the
// generation it had when the value was made.
type ver struct{ loc, gen int }

// An aval is what is known of a value's storage: for a tuple, one aval
// per element; otherwise the versions it may share storage with, sorted
// by loc, one per loc (the oldest, which goes stale first).
type aval struct {
	vers  []ver
	elems []*aval
}

var noStorage = &aval{}

type clobber struct {
	gen int
	op  *ir.PrimCall
}

type owner struct {
	env      map[*ir.Var]*aval
	locOf    map[locKey]int // the one place of each parameter
	keyOf    []locKey       // by loc: what made it
	cur      []int          // by loc: the current generation
	external []bool         // by loc: storage the def does not own
	writes   [][]clobber    // by loc: the writes that bumped it
	gen      int
	budget   int // steps left; below 0, eval gives up
	culprits map[*ir.PrimCall]bool
	inside   []map[*ir.PrimCall]bool // the in-place calls of each loop being followed
}

// maxLoopPasses bounds how often a loop body is followed before its
// storage facts settle; a loop that has not settled by then gets a copy
// at every write in it.
const maxLoopPasses = 8

// ensureOwned returns body with a copy of the accumulator of every
// in-place write that could change a value read later or storage the def
// does not own; params are the def's parameters.
func ensureOwned(params []*ir.Var, body ir.Expr) (ir.Expr, error) {
	if !ir.HasInPlace(body) {
		return body, nil
	}
	copied := map[*ir.PrimCall]bool{}
	for {
		o := &owner{env: map[*ir.Var]*aval{}, locOf: map[locKey]int{}, culprits: map[*ir.PrimCall]bool{}}
		o.budget = ownerBudget + 64*ir.Size(body)
		for _, p := range params {
			o.env[p] = o.externalOf(p, p.T)
		}
		o.eval(body)
		if o.budget < 0 {
			// Too costly to follow (loops nested deep): every write not
			// into a zero made for it gets a copy, once.
			return copyAccumulators(body, uncopied(body, copied), copied)
		}
		if len(o.culprits) == 0 {
			return body, nil
		}
		var err error
		body, err = copyAccumulators(body, o.culprits, copied)
		if err != nil {
			return nil, err
		}
	}
}

// ownerBudget bounds the work of following one def (ensureOwned), with
// 64 steps per node of its body: each loop is followed until it settles,
// so loops nested deep would cost a power of their depth.
const ownerBudget = 1 << 20

// uncopied lists the in-place writes of body that are neither copies'
// nor into a zero made for them.
func uncopied(body ir.Expr, copied map[*ir.PrimCall]bool) map[*ir.PrimCall]bool {
	out := map[*ir.PrimCall]bool{}
	ir.Walk(body, func(x ir.Expr, enter bool) {
		pc, ok := x.(*ir.PrimCall)
		if !ok || !enter || !pc.Op.InPlace() || copied[pc] {
			return
		}
		if z, ok := pc.Args[0].(*ir.PrimCall); ok && z.Op == ir.PrimZerosLike {
			return
		}
		out[pc] = true
	}, nil)
	return out
}

// copyAccumulators rewrites each call in culprits to write into a fresh
// copy of its accumulator. copied holds the calls rewritten so far: a
// copy's accumulator is fresh and never a culprit again, so the loop in
// ensureOwned ends.
func copyAccumulators(body ir.Expr, culprits, copied map[*ir.PrimCall]bool) (ir.Expr, error) {
	var err error
	var rec func(e ir.Expr) ir.Expr
	rec = func(e ir.Expr) ir.Expr {
		out := ir.Rebuild(e, rec)
		pc, ok := e.(*ir.PrimCall)
		if !ok || !culprits[pc] {
			return out
		}
		if copied[pc] {
			err = ir.Errorf(pc.P, "internal error: the accumulator of %s is still shared after it was copied", pc.Op.Name)
			return out
		}
		npc := out.(*ir.PrimCall)
		add := ir.PrimAccAdd
		if ir.IsSeriesPrim(pc.Op) {
			add = ir.PrimSeriesAccAdd
		}
		fresh, ferr := ir.PrimZerosLike.Call(pc.P, nil, npc.Args[0])
		var cp ir.Expr
		if ferr == nil {
			cp, ferr = add.Call(pc.P, nil, fresh, npc.Args[0])
		}
		var res ir.Expr
		if ferr == nil {
			args := append([]ir.Expr{cp}, npc.Args[1:]...)
			res, ferr = pc.Op.Call(pc.P, pc.Aux, args...)
		}
		if ferr != nil {
			err = ir.Errorf(pc.P, "internal error: copying the accumulator of %s: %v", pc.Op.Name, ferr)
			return out
		}
		copied[res.(*ir.PrimCall)] = true
		return res
	}
	out := rec(body)
	return out, err
}

// newLoc returns a new place made by k; external places are storage the
// def does not own.
func (o *owner) newLoc(k locKey, external bool) int {
	o.cur = append(o.cur, o.gen)
	o.external = append(o.external, external)
	o.writes = append(o.writes, nil)
	o.keyOf = append(o.keyOf, k)
	return len(o.cur) - 1
}

// A locKey names the place that a node makes for part elem of its value
// (-1 for all of it).
type locKey struct {
	e    any
	elem int
}

// placeOf is a new place that node e makes: each evaluation (in another
// iteration of a loop) makes another, so that writing into one leaves the
// others alone.
func (o *owner) placeOf(e ir.Expr) *aval { return o.place(locKey{e, -1}) }

func (o *owner) place(k locKey) *aval {
	l := o.newLoc(k, false)
	return &aval{vers: []ver{{l, o.cur[l]}}}
}

// freshOf is the value of a primitive whose result is stored apart from
// its arguments: a tuple of them (zeros_like of a tuple) has a place per
// element.
func (o *owner) freshOf(e *ir.PrimCall) *aval {
	t, ok := e.T.(*ir.Tuple)
	if !ok {
		return o.placeOf(e)
	}
	out := &aval{elems: make([]*aval, len(t.Elems))}
	for i := range t.Elems {
		out.elems[i] = o.place(locKey{e, i})
	}
	return out
}

// externalOf is a value of type t in storage the def does not own.
func (o *owner) externalOf(v *ir.Var, t ir.Type) *aval {
	if !holdsArrays(t) {
		return noStorage
	}
	k := locKey{v, -1}
	l, ok := o.locOf[k]
	if !ok {
		l = o.newLoc(k, true)
		o.locOf[k] = l
	}
	return &aval{vers: []ver{{l, o.cur[l]}}}
}

// holdsArrays reports whether a value of type t can share storage.
func holdsArrays(t ir.Type) bool {
	switch t := t.(type) {
	case *ir.Tuple:
		return slices.ContainsFunc(t.Elems, holdsArrays)
	case *ir.Array, *ir.Func:
		return true
	}
	return false
}

// flat is every version in a.
func (a *aval) flat() []ver {
	if a.elems == nil {
		return a.vers
	}
	var out []ver
	for _, e := range a.elems {
		out = unionVers(out, e.flat())
	}
	return out
}

// unionVers merges two sorted version lists, keeping the oldest
// generation of each place.
func unionVers(a, b []ver) []ver {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]ver, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].loc < b[j].loc:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].loc < a[i].loc:
			out = append(out, b[j])
			j++
		default:
			out = append(out, ver{a[i].loc, min(a[i].gen, b[j].gen)})
			i++
			j++
		}
	}
	return out
}

// joinAval is a value that may be a or b.
func joinAval(a, b *aval) *aval {
	if a.elems != nil && b.elems != nil && len(a.elems) == len(b.elems) {
		out := &aval{elems: make([]*aval, len(a.elems))}
		for i := range a.elems {
			out.elems[i] = joinAval(a.elems[i], b.elems[i])
		}
		return out
	}
	return &aval{vers: unionVers(a.flat(), b.flat())}
}

// read records a read of a value: a version older than its place's
// current generation was overwritten since, and the writes that did it
// must copy.
func (o *owner) read(a *aval) {
	for _, v := range a.flat() {
		if o.cur[v.loc] <= v.gen {
			continue
		}
		for _, w := range o.writes[v.loc] {
			if w.gen > v.gen {
				o.culprits[w.op] = true
			}
		}
	}
}

// write records an in-place write by op into the storage of a.
func (o *owner) write(a *aval, op *ir.PrimCall) {
	for _, v := range a.flat() {
		if o.external[v.loc] {
			o.culprits[op] = true
		}
		o.gen++
		o.cur[v.loc] = o.gen
		o.writes[v.loc] = append(o.writes[v.loc], clobber{o.gen, op})
	}
	for _, in := range o.inside {
		in[op] = true
	}
}

func (o *owner) eval(e ir.Expr) *aval {
	if o.budget--; o.budget < 0 {
		return noStorage
	}
	switch e := e.(type) {
	case *ir.Var:
		a, ok := o.env[e]
		if !ok {
			return noStorage
		}
		o.read(a)
		return a
	case *ir.Const, *ir.Global:
		return noStorage
	case *ir.Let:
		o.env[e.Var] = o.eval(e.Value)
		return o.eval(e.Body)
	case *ir.Lambda:
		return o.lambda(e)
	case *ir.MakeTuple:
		out := &aval{elems: make([]*aval, len(e.Elems))}
		for i, x := range e.Elems {
			out.elems[i] = o.eval(x)
		}
		return out
	case *ir.Proj:
		x := o.eval(e.X)
		if x.elems != nil && e.Index < len(x.elems) {
			return x.elems[e.Index]
		}
		return x
	case *ir.If:
		o.eval(e.Cond)
		start := o.snapshot()
		t := o.eval(e.Then)
		afterThen := o.snapshot()
		copy(o.cur, start)
		f := o.eval(e.Else)
		afterElse := o.snapshot()
		for l := range afterThen {
			o.cur[l] = max(o.cur[l], afterThen[l])
		}
		// Each branch's value is current where that branch left it so,
		// though the other branch may have written there.
		return joinAval(o.settle(t, afterThen), o.settle(f, afterElse))
	case *ir.Loop:
		return o.loop(e)
	case *ir.Call:
		out := o.placeOf(e)
		for _, x := range ir.Children(e) {
			out = &aval{vers: unionVers(out.vers, o.eval(x).flat())}
		}
		if !holdsArrays(e.T) {
			return noStorage
		}
		return out
	case *ir.PrimCall:
		return o.prim(e)
	}
	for _, x := range ir.Children(e) {
		o.eval(x)
	}
	return noStorage
}

func (o *owner) prim(e *ir.PrimCall) *aval {
	args := make([]*aval, len(e.Args))
	for i, x := range e.Args {
		args[i] = o.eval(x)
	}
	switch {
	case e.Op.InPlace():
		o.write(args[0], e)
		return o.placeOf(e)
	case !holdsArrays(e.T):
		return noStorage
	case ir.FreshResult(e):
		return o.freshOf(e)
	}
	// The result may share storage with any argument (a row, a slice,
	// stop_gradient) or with what a function argument returns.
	out := o.placeOf(e)
	for _, a := range args {
		out = &aval{vers: unionVers(out.vers, a.flat())}
	}
	return out
}

// lambda follows a lambda's body as if it were called where it is made
// (twice, for the calls after the first): its parameters are storage it
// does not own. Its value shares storage with what it captures and what
// it returns, so a read of the function reads those.
func (o *owner) lambda(e *ir.Lambda) *aval {
	for _, p := range e.Params {
		o.env[p] = o.externalOf(p, p.T)
	}
	r := o.eval(e.Body)
	r = joinAval(r, o.eval(e.Body))
	out := r.flat()
	for _, v := range ir.FreeVars(e) {
		if a, ok := o.env[v]; ok {
			out = unionVers(out, a.flat())
		}
	}
	return &aval{vers: out}
}

// loop follows a loop's iterations until what the state may share and
// which places were overwritten stop changing.
func (o *owner) loop(e *ir.Loop) *aval {
	init := o.eval(e.Init)
	if e.Count != nil {
		o.eval(e.Count)
	}
	entry := o.snapshot()
	if e.Index != nil {
		o.env[e.Index] = noStorage
	}
	inside := map[*ir.PrimCall]bool{}
	o.inside = append(o.inside, inside)
	defer func() { o.inside = o.inside[:len(o.inside)-1] }()
	// The loop's value is the state after some iteration, or init if
	// none ran; each is current where it was when that iteration ended.
	type end struct {
		state *aval
		at    []int
	}
	ends := []end{{init, entry}}
	value := func() *aval {
		out := o.settle(ends[0].state, ends[0].at)
		for _, x := range ends[1:] {
			out = joinAval(out, o.settle(x.state, x.at))
		}
		return out
	}
	state := init
	var last string
	for pass := 0; ; pass++ {
		if pass == maxLoopPasses {
			for op := range inside {
				o.culprits[op] = true
			}
			return value()
		}
		o.env[e.State] = state
		if e.Cond != nil {
			o.eval(e.Cond)
		}
		state = o.eval(e.Body)
		ends = append(ends, end{state, o.snapshot()})
		sig := o.signature(state, entry)
		if sig == last {
			return value()
		}
		last = sig
	}
}

// snapshot copies the current generations, a cost the budget counts.
func (o *owner) snapshot() []int {
	o.budget -= len(o.cur)
	return slices.Clone(o.cur)
}

// settle is a, made when the generations were at, seen now: a version
// that was current then is current now (the writes since happened on a
// path where a is not the value).
func (o *owner) settle(a *aval, at []int) *aval {
	if a.elems != nil {
		out := &aval{elems: make([]*aval, len(a.elems))}
		for i, x := range a.elems {
			out.elems[i] = o.settle(x, at)
		}
		return out
	}
	out := make([]ver, len(a.vers))
	for i, v := range a.vers {
		out[i] = v
		if v.loc < len(at) && v.gen >= at[v.loc] {
			out[i].gen = o.cur[v.loc]
		}
	}
	return &aval{vers: out}
}

// signature sums up what the next pass of a loop starts from: which
// places the state may share and whether each is still current, and
// which places were overwritten since the loop began.
func (o *owner) signature(state *aval, entry []int) string {
	type fact struct {
		k     locKey
		stale bool
	}
	seen := map[fact]bool{}
	var facts []string
	for _, v := range state.flat() {
		f := fact{o.keyOf[v.loc], o.cur[v.loc] > v.gen}
		if !seen[f] {
			seen[f] = true
			facts = append(facts, fmt.Sprint(f))
		}
	}
	slices.Sort(facts)
	b := fmt.Appendf(nil, "%v|", facts)
	for l := range entry {
		if o.cur[l] > entry[l] {
			b = fmt.Appendf(b, "%d,", l)
		}
	}
	return string(b)
}
