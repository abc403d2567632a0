package codegen

// Which matrices are never read above their diagonal: a demand analysis
// that lets the sweep of trisweep.go add outer(c, y) into the lower
// triangle of Q's cotangent only.
//
// In GMM's gradient, Q = qmat(v) is lower triangular, and the cotangent
// qbar that the reverse loops accumulate goes to qmat's backward def,
// which reads ybar[r][c] only where r >= c (its other entries are the
// constant 0.0, whose cotangent goes nowhere). The entries of qbar above
// the diagonal are computed (d²/2 products per point and component) and
// never read. Leaving them out changes qbar's value there and nothing
// else, so it is allowed only where no read of those entries can reach
// any result; the entries at and below the diagonal are added exactly
// as before (same bits).
//
// The analysis works backwards from the def's result, which is read
// whole. Each variable (each part of a tuple variable) is marked "upper
// read" when some use may read an entry of its trailing two dimensions
// above their diagonal. Uses that keep the positions of entries pass the
// demand on: a let, a tuple and its projection, a loop's state (the
// initial state, the body's next state and the loop's value are the
// same parts), the branches of an if, acc_add_at(acc, i, x) (to acc and
// to x, for x of rank 2 or more), a[i] of rank 2 or more, and an
// argument of a call of a def whose parameter is itself not upper read
// in that def. A row m[i] of a matrix whose elements m[i][j] are used
// only where a condition implying j <= i holds (qmat's backward def)
// reads the lower triangle only. Every other use reads everything.
// The marks only grow, so the fixpoint is reached after a few rounds.
//
// Callers cannot see the entries left out: the sweep's accumulator is
// fresh storage of the def (package ad makes accumulators with
// zeros_like, and trisweep.go refuses one that is a view of another
// array), so only the def's own result can carry them out.

import (
	"github.com/nabla-lang/nabla/ir"
)

// upperSlot is a variable, or part k of a tuple variable (k >= 0).
type upperSlot struct {
	v *ir.Var
	k int
}

// upperReads is the analysis of one def.
type upperReads struct {
	scope   map[string]*defInfo
	read    map[upperSlot]bool
	changed bool
	depth   int                            // calls analysed inside each other (bounded)
	callees map[*ir.Def]map[upperSlot]bool // the callees' analyses, made once
}

// upperUnread reports whether no entry above the diagonal of v's
// trailing two dimensions can reach a result of f's def.
func (f *fn) upperUnread(v *ir.Var) bool {
	if f.di == nil || f.di.def == nil || f.g.opts.noUpperCut {
		return false
	}
	if f.upperRead == nil {
		f.upperRead = upperReadSet(f.di.def, f.di.scope, 0, map[*ir.Def]map[upperSlot]bool{})
	}
	return !f.upperRead[upperSlot{v, -1}]
}

// upperReadSet returns the slots of def that may be read above the
// diagonal, with the def's result read whole.
func upperReadSet(def *ir.Def, scope map[string]*defInfo, depth int, callees map[*ir.Def]map[upperSlot]bool) map[upperSlot]bool {
	u := &upperReads{scope: scope, read: map[upperSlot]bool{}, depth: depth, callees: callees}
	for range 100 {
		u.changed = false
		u.demand(def.Body, allRead(def.Body.Type()))
		if !u.changed {
			return u.read
		}
	}
	// No fixpoint (cannot happen: the marks only grow); assume all read.
	return nil
}

// paramUnread reports whether def never reads parameter i above its
// diagonal (with its result read whole). callees keeps the analyses of
// the defs seen; a def being analysed has none yet, and calls nested
// deeper than a few (recursion) count as reading everything.
func paramUnread(def *ir.Def, scope map[string]*defInfo, i, depth int, callees map[*ir.Def]map[upperSlot]bool) bool {
	if i >= len(def.Params) {
		return false
	}
	read, ok := callees[def]
	if !ok {
		if depth > 4 {
			return false
		}
		read = upperReadSet(def, scope, depth+1, callees)
		callees[def] = read
	}
	return read != nil && !read[upperSlot{def.Params[i], -1}]
}

// parts is how many demand flags a value of type t has: one per part of
// a tuple, one for anything else.
func parts(t ir.Type) int {
	if tt, ok := t.(*ir.Tuple); ok {
		return len(tt.Elems)
	}
	return 1
}

func allRead(t ir.Type) []bool {
	d := make([]bool, parts(t))
	for i := range d {
		d[i] = true
	}
	return d
}

func (u *upperReads) mark(s upperSlot) {
	if !u.read[s] {
		u.read[s] = true
		u.changed = true
	}
}

// slots are the slots of v, in the order of its parts.
func slotsOf(v *ir.Var) []upperSlot {
	if tt, ok := v.T.(*ir.Tuple); ok {
		s := make([]upperSlot, len(tt.Elems))
		for i := range s {
			s[i] = upperSlot{v, i}
		}
		return s
	}
	return []upperSlot{{v, -1}}
}

func (u *upperReads) readOf(v *ir.Var) []bool {
	ss := slotsOf(v)
	d := make([]bool, len(ss))
	for i, s := range ss {
		d[i] = u.read[s]
	}
	return d
}

func anyTrue(d []bool) bool {
	for _, b := range d {
		if b {
			return true
		}
	}
	return false
}

// demand records that e's value is read above the diagonal where d
// says so (one flag per part) and passes the demand to what e reads.
func (u *upperReads) demand(e ir.Expr, d []bool) {
	switch e := e.(type) {
	case *ir.Var:
		ss := slotsOf(e)
		for i, s := range ss {
			if i >= len(d) || d[i] {
				u.mark(s)
			}
		}
		return
	case *ir.Const, *ir.Global:
		return
	case *ir.Let:
		u.demand(e.Body, d)
		if row, ok := e.Value.(*ir.PrimCall); ok && row.Op == ir.PrimIndex && ir.Rank(row.T) == 1 && ir.Rank(row.Args[0].Type()) == 2 {
			// A row m[i]: the lower triangle only when every element read
			// from it is used under j <= i.
			if i, ok := row.Args[1].(*ir.Var); ok && lowerRowUses(e.Var, i, e.Body) {
				u.demand(row.Args[0], []bool{false})
				u.demand(row.Args[1], []bool{true})
				return
			}
		}
		u.demand(e.Value, u.readOf(e.Var))
		return
	case *ir.MakeTuple:
		for i, x := range e.Elems {
			u.demand(x, []bool{i >= len(d) || d[i] || parts(x.Type()) > 1})
		}
		return
	case *ir.Proj:
		n := parts(e.X.Type())
		dx := make([]bool, n)
		if e.Index < n {
			dx[e.Index] = anyTrue(d) || parts(e.Type()) > 1
		}
		if n == 1 {
			dx[0] = true
		}
		u.demand(e.X, dx)
		return
	case *ir.If:
		u.demand(e.Cond, []bool{true})
		u.demand(e.Then, d)
		u.demand(e.Else, d)
		return
	case *ir.Loop:
		// The state's parts are the initial state's, the body's result's
		// and the loop's value's.
		sd := u.readOf(e.State)
		for i := range sd {
			sd[i] = sd[i] || i >= len(d) || d[i]
		}
		u.demand(e.Init, sd)
		u.demand(e.Body, sd)
		if e.Count != nil {
			u.demand(e.Count, []bool{true})
		}
		if e.Cond != nil {
			u.demand(e.Cond, []bool{true})
		}
		return
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimAccAddAt:
			if ir.Rank(e.Args[2].Type()) >= 2 && ir.Rank(e.Args[0].Type()) == ir.Rank(e.Args[2].Type())+1 {
				u.demand(e.Args[0], d)
				u.demand(e.Args[1], []bool{true})
				u.demand(e.Args[2], d)
				return
			}
		case ir.PrimIndex:
			if ir.Rank(e.T) >= 2 {
				u.demand(e.Args[0], d)
				u.demand(e.Args[1], []bool{true})
				return
			}
		}
	case *ir.Call:
		if g, ok := e.Fn.(*ir.Global); ok {
			if di := u.scope[g.Name]; di != nil && di.def != nil && len(di.def.Params) == len(e.Args) {
				for i, a := range e.Args {
					u.demand(a, []bool{ir.Rank(a.Type()) < 2 || !paramUnread(di.def, di.scope, i, u.depth, u.callees)})
				}
				return
			}
		}
	}
	// Anything else reads every part of what it uses.
	ir.EachChild(e, func(_ int, k ir.Expr) { u.demand(k, allRead(k.Type())) })
}

// lowerRowUses reports whether every use of row (bound to m[i]) in body
// is an element row[j] read where a condition implying j <= i holds, or
// bound by a let whose variable is used only there.
func lowerRowUses(row, i *ir.Var, body ir.Expr) bool {
	// Each variable must name one binding throughout body, so that the
	// i and j of a condition are those of the element read under it.
	if !uniqueBinders(body, row, i) {
		return false
	}
	ok := true
	conds := map[*ir.Var]ir.Expr{} // boolean lets, for conditions that name them
	var walk func(e ir.Expr, guards []ir.Expr, elems map[*ir.Var]*ir.Var)
	walk = func(e ir.Expr, guards []ir.Expr, elems map[*ir.Var]*ir.Var) {
		if !ok {
			return
		}
		switch e := e.(type) {
		case *ir.Var:
			if e == row {
				ok = false
			} else if j, isElem := elems[e]; isElem && !impliesLE(guards, j, i, conds) {
				ok = false
			}
			return
		case *ir.Let:
			if ix, isIx := e.Value.(*ir.PrimCall); isIx && ix.Op == ir.PrimIndex && ix.Args[0] == ir.Expr(row) {
				j, isVar := ix.Args[1].(*ir.Var)
				if !isVar {
					ok = false
					return
				}
				walk(ix.Args[1], guards, elems)
				inner := map[*ir.Var]*ir.Var{e.Var: j}
				for k, v := range elems {
					inner[k] = v
				}
				walk(e.Body, guards, inner)
				return
			}
			if ir.Rank(e.Var.T) == 0 {
				if k, isBool := ir.Leaf(e.Var.T); isBool && k == ir.Bool {
					conds[e.Var] = e.Value
				}
			}
		case *ir.PrimCall:
			// row[j] read where it is used.
			if e.Op == ir.PrimIndex && e.Args[0] == ir.Expr(row) {
				if j, isVar := e.Args[1].(*ir.Var); !isVar || !impliesLE(guards, j, i, conds) {
					ok = false
				}
				walk(e.Args[1], guards, elems)
				return
			}
		case *ir.If:
			walk(e.Cond, guards, elems)
			walk(e.Then, append(guards[:len(guards):len(guards)], e.Cond), elems)
			walk(e.Else, guards, elems)
			return
		}
		ir.EachChild(e, func(_ int, k ir.Expr) { walk(k, guards, elems) })
	}
	walk(body, nil, map[*ir.Var]*ir.Var{})
	return ok
}

// impliesLE reports whether one of guards, all true, implies j <= i: it
// is i == j, i > j, i >= j (or the same comparisons written the other
// way round), or a boolean variable bound to one of them.
func impliesLE(guards []ir.Expr, j, i *ir.Var, conds map[*ir.Var]ir.Expr) bool {
	for _, g := range guards {
		if v, ok := g.(*ir.Var); ok {
			if c, bound := conds[v]; bound {
				g = c
			}
		}
		pc, ok := g.(*ir.PrimCall)
		if !ok || len(pc.Args) != 2 {
			continue
		}
		a, b := pc.Args[0], pc.Args[1]
		switch {
		case pc.Op == ir.PrimEq && (a == ir.Expr(i) && b == ir.Expr(j) || a == ir.Expr(j) && b == ir.Expr(i)):
			return true
		case (pc.Op == ir.PrimGt || pc.Op == ir.PrimGe) && a == ir.Expr(i) && b == ir.Expr(j):
			return true
		case (pc.Op == ir.PrimLt || pc.Op == ir.PrimLe) && a == ir.Expr(j) && b == ir.Expr(i):
			return true
		}
	}
	return false
}

// uniqueBinders reports whether no variable is bound twice in e (by a
// let, a lambda or a loop) and none of outer is bound in it.
func uniqueBinders(e ir.Expr, outer ...*ir.Var) bool {
	seen := map[*ir.Var]bool{}
	for _, v := range outer {
		seen[v] = true
	}
	ok := true
	bind := func(v *ir.Var) {
		if v == nil {
			return
		}
		if seen[v] {
			ok = false
		}
		seen[v] = true
	}
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		switch x := x.(type) {
		case *ir.Let:
			bind(x.Var)
		case *ir.Lambda:
			for _, p := range x.Params {
				bind(p)
			}
		case *ir.Loop:
			bind(x.State)
			bind(x.Index)
		}
		ir.EachChild(x, func(_ int, k ir.Expr) { walk(k) })
	}
	walk(e)
	return ok
}
