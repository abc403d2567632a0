package rewrite

import (
	"maps"
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// Tapes that reverse mode saves in a loop's state: loop_save(n, init,
// fn(j, st) => (next, tape fields...)) returns every state, and the
// reverse pass reads some fields of them; the body itself reads only st.0.
// The demand on such a state is a least fixed point: what is read of the
// result, joined with what the body reads of its parameter when its own
// result is demanded that much. The same holds for a loop's state, and
// an if's branches take the demand on the if. The rebuild then prunes the
// initial state and the body's result alike, and retypes the parameter.

// maxFixRounds bounds the fixed-point rounds of one loop; past it the
// state counts as wholly demanded. Demands only grow and are bounded by
// the state's type, so a few rounds suffice in practice.
const maxFixRounds = 16

// follow walks e when it is an if, a loop or a loop_save whose value is
// demanded only in part, and records the demand on its state.
func (a *demands) follow(e ir.Expr, d *demand) bool {
	if d.all || a.whole[e] {
		if a.states[e] != nil {
			// Read in part in an earlier round of an enclosing loop's
			// fixed point, wholly now: the rebuild must keep it whole.
			a.states[e] = allDemand
		}
		return false
	}
	switch e := e.(type) {
	case *ir.If:
		d = joinDemand(d, a.states[e])
		a.states[e] = d
		a.walk(e.Cond, allDemand)
		a.walk(e.Then, d)
		a.walk(e.Else, d)
		return true
	case *ir.Loop:
		if e.Count != nil {
			a.walk(e.Count, allDemand)
		}
		s := a.fix(e, d, e.State, func(s *demand) {
			if e.Cond != nil {
				a.walk(e.Cond, allDemand)
			}
			a.walk(e.Body, s)
		})
		a.walk(e.Init, s)
		return true
	case *ir.PrimCall:
		lam, ok := lastLambda(e, ir.PrimLoopSave, 2)
		if !ok || d.elem == nil {
			return false
		}
		a.walk(e.Args[0], allDemand)
		s := a.fix(e, d.elem, lam.Params[1], func(s *demand) { a.walk(lam.Body, s) })
		a.walk(e.Args[1], s)
		return true
	}
	return false
}

// fix finds the demand on the state st of loop e whose result is demanded
// d, walking the body (by body) with each candidate until what it reads
// of st adds nothing.
func (a *demands) fix(e ir.Expr, d *demand, st *ir.Var, body func(*demand)) *demand {
	d = joinDemand(d, a.states[e])
	for range maxFixRounds {
		a.states[e] = d
		body(d)
		next := joinDemand(d, a.vars[st])
		if sameDemand(next, d) {
			return d
		}
		d = next
	}
	a.states[e] = allDemand
	body(allDemand)
	return allDemand
}

// follow rebuilds an if, loop or loop_save that the walk followed. Its
// parts must agree on the state's shape; where they do not, the node is
// reported in r.clash and the pass starts again with it whole.
func (r *pruner) follow(e ir.Expr, at *demand) (ir.Expr, *shape, bool) {
	d := r.states[e]
	if d == nil || d.all || at.all {
		return nil, nil, false
	}
	switch e := e.(type) {
	case *ir.If:
		c, _ := r.rw(e.Cond, allDemand)
		t, ts := r.rw(e.Then, d)
		el, es := r.rw(e.Else, d)
		if !r.agree(e, ts, es, t.Type(), el.Type()) {
			return e, nil, true
		}
		if c == e.Cond && t == e.Then && el == e.Else {
			return e, ts, true
		}
		return &ir.If{Cond: c, Then: t, Else: el, P: e.P}, ts, true
	case *ir.Loop:
		init, s := r.rw(e.Init, d)
		st := r.retype(e.State, init.Type(), s)
		l := *e
		l.Init, l.State = init, st
		if e.Count != nil {
			l.Count, _ = r.rw(e.Count, allDemand)
		}
		if e.Cond != nil {
			l.Cond, _ = r.rw(e.Cond, allDemand)
		}
		var bs *shape
		l.Body, bs = r.rw(e.Body, d)
		if !r.agree(e, s, bs, init.Type(), l.Body.Type()) {
			return e, nil, true
		}
		if l == *e {
			return e, nil, true
		}
		return &l, s, true
	case *ir.PrimCall:
		lam, _ := lastLambda(e, ir.PrimLoopSave, 2)
		n, _ := r.rw(e.Args[0], allDemand)
		init, s := r.rw(e.Args[1], d)
		st := r.retype(lam.Params[1], init.Type(), s)
		body, bs := r.rw(lam.Body, d)
		if !r.agree(e, s, bs, init.Type(), body.Type()) {
			return e, nil, true
		}
		if n == e.Args[0] && init == e.Args[1] && body == lam.Body {
			return e, nil, true
		}
		nl := &ir.Lambda{Params: []*ir.Var{lam.Params[0], st}, Body: body, P: lam.P}
		t, out := e.T, (*shape)(nil)
		if s != nil {
			t, out = ir.ArrayOf(e.T.(*ir.Array).Dim, init.Type()), &shape{elem: s}
		}
		return &ir.PrimCall{Op: e.Op, Args: []ir.Expr{n, init, nl}, Aux: e.Aux, T: t, P: e.P}, out, true
	}
	return nil, nil, false
}

// retype gives the state variable v the type t of its pruned initial
// value, whose shape is s.
func (r *pruner) retype(v *ir.Var, t ir.Type, s *shape) *ir.Var {
	if s == nil {
		return v
	}
	nv := ir.NewVar(v.Name, t, v.P)
	r.vars[v], r.shapes[v] = nv, s
	return nv
}

// agree reports whether two parts of e came out alike, and records e as
// the clash otherwise.
func (r *pruner) agree(e ir.Expr, a, b *shape, ta, tb ir.Type) bool {
	if sameShape(a, b) && ir.Equal(ta, tb) {
		return true
	}
	if r.clash == nil {
		r.clash = e
	}
	return false
}

func sameShape(a, b *shape) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.unwrap == b.unwrap && slices.Equal(a.keep, b.keep) && slices.EqualFunc(a.sub, b.sub, sameShape) && sameShape(a.elem, b.elem)
}

func sameDemand(a, b *demand) bool {
	switch {
	case a == b:
		return true
	case a == nil || b == nil || a.all != b.all:
		return false
	}
	return maps.EqualFunc(a.fields, b.fields, sameDemand) && sameDemand(a.elem, b.elem)
}
