package rewrite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// deadfield drops the fields of tuples that nothing projects: reverse
// mode's forward sweeps save tapes, build(n, fn(i) => (a, b, c)), that the
// reverse loop reads as t[i].k, and some fields are never read. A first
// walk computes, for every let variable, which parts of its value are
// demanded (fields of tuples, elements of arrays, or the whole value); a
// second rebuilds the term, each tuple in a position whose demand names
// only some fields keeping those fields (and any field whose expression
// might fail, so errors stay), and renumbers the projections of the
// variables whose values lost fields. It fails when no field is dropped.
func deadfield(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	// A loop's state (or an if's branches) must come out of the rebuild
	// with one shape; where they do not (a field kept because it can fail
	// on one side only) the node is marked whole and both walks start
	// again, at most once per such node.
	whole := map[ir.Expr]bool{}
	for {
		a := &demands{facts: c.facts, vars: map[*ir.Var]*demand{}, states: map[ir.Expr]*demand{}, whole: whole}
		a.walk(e, allDemand)
		r := &pruner{c: c, dem: a.vars, states: a.states, vars: map[*ir.Var]*ir.Var{}, shapes: map[*ir.Var]*shape{}}
		out, _ := r.rw(e, allDemand)
		if r.clash != nil {
			if whole[r.clash] {
				// Not expected: a whole node is not followed. Prune nothing.
				return e, false, nil
			}
			whole[r.clash] = true
			continue
		}
		if r.dropped == 0 {
			return e, false, nil
		}
		for _, f := range r.fires {
			if err := c.fireText("deadfield", f.pos, f.text); err != nil {
				return e, false, err
			}
		}
		c.addMutable(out)
		return out, true, nil
	}
}

// demand is what a position reads of its value: all of it, some fields
// of a tuple (fields), or parts of an array's elements (elem).
type demand struct {
	all    bool
	fields map[int]*demand
	elem   *demand
}

var allDemand = &demand{all: true}

func fieldDemand(k int, d *demand) *demand { return &demand{fields: map[int]*demand{k: d}} }

// joinDemand is the demand of two uses together; nil is no use.
func joinDemand(a, b *demand) *demand {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.all || b.all:
		return allDemand
	case a.fields != nil && b.fields != nil:
		f := map[int]*demand{}
		for k, d := range a.fields {
			f[k] = d
		}
		for k, d := range b.fields {
			f[k] = joinDemand(f[k], d)
		}
		return &demand{fields: f}
	case a.elem != nil && b.elem != nil:
		return &demand{elem: joinDemand(a.elem, b.elem)}
	}
	return allDemand
}

// demands collects the demand on each let variable. A let's body is
// walked before its value, so the variable's demand is complete when its
// value is walked with it.
type demands struct {
	facts *ir.Facts
	vars  map[*ir.Var]*demand
	// states is the demand on the state of each loop, loop_save and if
	// (its branches) that the walk followed; whole holds those it must
	// treat as wholly demanded.
	states map[ir.Expr]*demand
	whole  map[ir.Expr]bool
}

func (a *demands) walk(e ir.Expr, d *demand) {
	switch e := e.(type) {
	case *ir.Var:
		a.vars[e] = joinDemand(a.vars[e], d)
		return
	case *ir.Proj:
		a.walk(e.X, fieldDemand(e.Index, d))
		return
	case *ir.Let:
		a.walk(e.Body, d)
		a.walk(e.Value, orAll(a.vars[e.Var]))
		return
	case *ir.MakeTuple:
		if d.fields != nil {
			for k, x := range e.Elems {
				// A field nothing reads goes when it cannot fail, and then
				// reads nothing itself (a loop's state field feeding only
				// itself goes).
				if fd := d.fields[k]; fd != nil || !a.facts.Droppable(x) {
					a.walk(x, orAll(fd))
				}
			}
			return
		}
	case *ir.If, *ir.Loop:
		if a.follow(e, d) {
			return
		}
	case *ir.PrimCall:
		if e.Op == ir.PrimIndex {
			a.walk(e.Args[0], &demand{elem: d})
			a.walk(e.Args[1], allDemand)
			return
		}
		if a.follow(e, d) {
			return
		}
		if lam, ok := lastLambda(e, ir.PrimBuild, 1); ok && d.elem != nil {
			a.walk(e.Args[0], allDemand)
			a.walk(lam.Body, d.elem)
			return
		}
	}
	for _, k := range ir.Children(e) {
		a.walk(k, allDemand)
	}
}

func orAll(d *demand) *demand {
	if d == nil {
		return allDemand
	}
	return d
}

// lastLambda returns the literal function, of params parameters, that
// is the last argument of a call of op: build(n, fn(i) => body),
// loop_save(n, init, fn(j, st) => body).
func lastLambda(e *ir.PrimCall, op *ir.Prim, params int) (*ir.Lambda, bool) {
	if e.Op != op || len(e.Args) == 0 {
		return nil, false
	}
	lam, ok := e.Args[len(e.Args)-1].(*ir.Lambda)
	return lam, ok && len(lam.Params) == params
}

// shape says how a rebuilt value was pruned: nil is not at all; keep
// lists the original fields a tuple kept, in order, with their own
// shapes in sub; elem is the shape of an array's elements. unwrap says
// that a tuple left with one field is that field's value itself.
type shape struct {
	keep   []int
	sub    []*shape
	elem   *shape
	unwrap bool
}

type pruner struct {
	c       *ctx
	dem     map[*ir.Var]*demand
	states  map[ir.Expr]*demand
	vars    map[*ir.Var]*ir.Var // let variables whose values were pruned, retyped
	shapes  map[*ir.Var]*shape
	dropped int
	fires   []fire  // the trace steps, taken once the rebuild stands
	clash   ir.Expr // a node whose parts came out in different shapes
}

type fire struct {
	pos  ir.Pos
	text func() (string, string)
}

// rw rebuilds e, whose position demands d, and returns the shape of the
// value it computes now. With d all the shape is nil.
func (r *pruner) rw(e ir.Expr, d *demand) (ir.Expr, *shape) {
	switch e := e.(type) {
	case *ir.Var:
		if nv := r.vars[e]; nv != nil {
			return nv, r.shapes[e]
		}
		return e, nil
	case *ir.Proj:
		x, s := r.rw(e.X, fieldDemand(e.Index, d))
		if s == nil {
			if x == e.X {
				return e, nil
			}
			return &ir.Proj{X: x, Index: e.Index, P: e.P}, nil
		}
		i := slices.Index(s.keep, e.Index)
		if s.unwrap {
			return x, s.sub[i]
		}
		return &ir.Proj{X: x, Index: i, P: e.P}, s.sub[i]
	case *ir.Let:
		v, s := r.rw(e.Value, orAll(r.dem[e.Var]))
		nv := e.Var
		if s != nil {
			nv = ir.NewVar(e.Var.Name, v.Type(), e.Var.P)
			r.vars[e.Var], r.shapes[e.Var] = nv, s
		}
		b, bs := r.rw(e.Body, d)
		if v == e.Value && b == e.Body && nv == e.Var {
			return e, bs
		}
		return &ir.Let{Var: nv, Value: v, Body: b, P: e.P}, bs
	case *ir.MakeTuple:
		if d.fields != nil {
			return r.tuple(e, d)
		}
	case *ir.If, *ir.Loop:
		if out, s, ok := r.follow(e, d); ok {
			return out, s
		}
	case *ir.PrimCall:
		if out, s, ok := r.follow(e, d); ok {
			return out, s
		}
		if e.Op == ir.PrimIndex {
			x, s := r.rw(e.Args[0], &demand{elem: d})
			i, _ := r.rw(e.Args[1], allDemand)
			if s == nil {
				if x == e.Args[0] && i == e.Args[1] {
					return e, nil
				}
				return &ir.PrimCall{Op: e.Op, Args: []ir.Expr{x, i}, Aux: e.Aux, T: e.T, P: e.P}, nil
			}
			return &ir.PrimCall{Op: e.Op, Args: []ir.Expr{x, i}, Aux: e.Aux, T: x.Type().(*ir.Array).Elem, P: e.P}, s.elem
		}
		if lam, ok := lastLambda(e, ir.PrimBuild, 1); ok && d.elem != nil {
			n, _ := r.rw(e.Args[0], allDemand)
			b, s := r.rw(lam.Body, d.elem)
			if n == e.Args[0] && b == lam.Body {
				return e, nil
			}
			nl := &ir.Lambda{Params: lam.Params, Body: b, P: lam.P}
			t := e.T
			if s != nil {
				t = ir.ArrayOf(e.T.(*ir.Array).Dim, b.Type())
				s = &shape{elem: s}
			}
			return &ir.PrimCall{Op: e.Op, Args: []ir.Expr{n, nl}, Aux: e.Aux, T: t, P: e.P}, s
		}
	}
	out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) {
		x, _ := r.rw(k, allDemand)
		return x, nil
	})
	return out, nil
}

// tuple rebuilds a tuple whose position demands only d.fields: a field
// that is not demanded goes when its expression cannot fail.
func (r *pruner) tuple(e *ir.MakeTuple, d *demand) (ir.Expr, *shape) {
	s := &shape{}
	elems := make([]ir.Expr, 0, len(e.Elems))
	var gone []string
	changed := false
	for k, x := range e.Elems {
		fd := d.fields[k]
		if fd == nil && r.c.facts.Droppable(x) {
			gone = append(gone, fmt.Sprint(k))
			continue
		}
		nx, sub := r.rw(x, orAll(fd))
		changed = changed || nx != x || sub != nil
		elems = append(elems, nx)
		s.keep = append(s.keep, k)
		s.sub = append(s.sub, sub)
	}
	if len(gone) == 0 && !changed {
		return e, nil
	}
	out := &ir.MakeTuple{Elems: elems, P: e.P}
	if len(gone) == 0 && !slices.ContainsFunc(s.sub, func(x *shape) bool { return x != nil }) {
		return out, nil
	}
	var res ir.Expr = out
	if len(gone) > 0 && len(elems) == 1 {
		// Every use projects, so the one field left is all that is read:
		// a tape of (e,) becomes a tape of e (an array of f64 rather than
		// of boxed tuples).
		res, s.unwrap = elems[0], true
	}
	if len(gone) > 0 {
		r.dropped++
		r.fires = append(r.fires, fire{r.c.posOf(e), func() (string, string) {
			return short(e), short(res) + " (dropped field " + strings.Join(gone, ", ") + ")"
		}})
	}
	return res, s
}
