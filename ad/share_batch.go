// One backward def for several seeds of a shared forward pass.

package ad

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// batchBackward merges the calls in body of one backward def of s (the
// full one or a variant for zero seed parts) that read the shared tape
// into one call of a batched def, bound right after the forward pass:
// BA's Jacobian sweeps back twice from the reprojection rows, and a
// backward sweep recomputes from the tape values and partials that do not
// depend on the seed. The batched def runs the sweeps one after the
// other in one let chain, so that the rewrite stage's cse computes those
// once. Only calls that run whenever body's chain is reached (not under
// an if, a loop or a lambda) and whose seeds are in scope before it are
// merged.
func (a *expander) batchBackward(al *aliases, s *splitVJP, body ir.Expr, sh *ir.Var, inScope map[*ir.Var]bool) ir.Expr {
	defs := map[string]*ir.Def{s.bwd.Name: s.bwd}
	for _, v := range s.variants {
		if v.def != nil {
			defs[v.def.Name] = v.def
		}
	}
	inScope[sh] = true
	for _, v := range ir.FreeVars(body) {
		inScope[v] = true // the def's size variables
	}
	hoisted := map[*ir.Call]ir.Expr{}
	byDef := map[string][]*ir.Call{}
	var order []string
	var visit func(e ir.Expr)
	visit = func(e ir.Expr) {
		switch e.(type) {
		case *ir.Lambda, *ir.If, *ir.Loop:
			return
		}
		ir.EachChild(e, func(_ int, k ir.Expr) { visit(k) })
		c, ok := e.(*ir.Call)
		if !ok || len(c.Args) != 2 {
			return
		}
		fn, ok := c.Fn.(*ir.Global)
		if !ok || defs[fn.Name] == nil {
			return
		}
		if p, ok := c.Args[0].(*ir.Proj); !ok || p.X != sh || p.Index != 1 {
			return
		}
		seed := al.hoistSeed(c.Args[1], inScope, 8)
		if seed == nil {
			return
		}
		hoisted[c] = seed
		if byDef[fn.Name] == nil {
			order = append(order, fn.Name)
		}
		byDef[fn.Name] = append(byDef[fn.Name], c)
	}
	visit(body)
	for _, name := range order {
		calls := byDef[name]
		if len(calls) < 2 {
			continue
		}
		bd := a.batchDef(s, defs[name], len(calls))
		pos := calls[0].P
		both := ir.NewVar("xbars", bd.Result, pos)
		args := []ir.Expr{calls[0].Args[0]}
		index := map[*ir.Call]int{}
		set := map[*ir.Call]bool{}
		// A seed bound by a let where the call was is bound once, ahead:
		// the let there becomes an alias of it (which dce drops), so the
		// seed is not built twice.
		var seeds []*ir.Let
		moved := map[*ir.Var]*ir.Var{}
		for i, c := range calls {
			index[c] = i
			set[c] = true
			sv := ir.NewVar("seed", hoisted[c].Type(), c.P)
			seeds = append(seeds, &ir.Let{Var: sv, Value: hoisted[c], P: c.P})
			args = append(args, sv)
			if v, ok := c.Args[1].(*ir.Var); ok && !inScope[v] {
				moved[v] = sv
			}
		}
		rest := replaceCalls(body, set, func(c *ir.Call) ir.Expr {
			return &ir.Proj{X: both, Index: index[c], P: c.P}
		})
		rest = aliasLets(rest, moved)
		call := &ir.Call{Fn: &ir.Global{Name: bd.Name, T: bd.Type(), P: pos}, Args: args, T: bd.Result, P: pos}
		body = &ir.Let{Var: both, Value: call, Body: rest, P: pos}
		for i := len(seeds) - 1; i >= 0; i-- {
			seeds[i].Body = body
			body = seeds[i]
		}
	}
	return body
}

// aliasLets rebinds each let of a variable in to to the variable to[v].
func aliasLets(e ir.Expr, to map[*ir.Var]*ir.Var) ir.Expr {
	if len(to) == 0 {
		return e
	}
	out := ir.Rebuild(e, func(x ir.Expr) ir.Expr { return aliasLets(x, to) })
	if l, ok := out.(*ir.Let); ok && to[l.Var] != nil {
		return &ir.Let{Var: l.Var, Value: to[l.Var], Body: l.Body, P: l.P}
	}
	return out
}

// batchDef is d, a backward def taking (tape, ybar), for k seeds at
// once: (tape, ybar_1, ..., ybar_k) to the k results. Its body is d's
// body copied once per seed, the copies' let chains walked in step
// (they have one shape): a let whose value is the same in every copy
// (it reads the tape only) is bound once, calls of a backward def on the
// same tape with different seeds (the rotation's, inside BA's residuals)
// become one call of that def's batched form, and other lets are bound
// once per copy.
func (a *expander) batchDef(s *splitVJP, d *ir.Def, k int) *ir.Def {
	name := fmt.Sprintf("%s$x%d", d.Name, k)
	if bd := s.batches[name]; bd != nil {
		return bd
	}
	pos := d.P
	tp := ir.NewVar("tape", d.Params[0].T, pos)
	params := []*ir.Var{tp}
	copies := make([]ir.Expr, k)
	mutable := map[*ir.Var]bool{}
	for j := range copies {
		yb := ir.NewVar("ybar", d.Params[1].T, pos)
		params = append(params, yb)
		copies[j] = ir.Subst(d.Body, map[*ir.Var]ir.Expr{d.Params[0]: tp, d.Params[1]: yb})
		for v := range ir.MutableVars(copies[j]) {
			mutable[v] = true
		}
	}
	st := &lockstep{a: a, ren: map[*ir.Var]ir.Expr{}, mutable: mutable}
	body := st.walk(copies)
	bd := &ir.Def{Name: name, Params: params, HasParams: true, Result: body.Type(), Body: body, P: pos}
	if s.batches == nil {
		s.batches = map[string]*ir.Def{}
	}
	s.batches[name] = bd
	a.out.Add(bd)
	return bd
}

// lockstep walks copies of one let chain together (batchDef). ren maps
// a later copy's variable to the first copy's where their lets were
// merged; mutable holds the variables in-place writes reach, which are
// never merged.
type lockstep struct {
	a       *expander
	ren     map[*ir.Var]ir.Expr
	mutable map[*ir.Var]bool
}

func (st *lockstep) walk(cs []ir.Expr) ir.Expr {
	vals := make([]ir.Expr, len(cs))
	lets := make([]*ir.Let, len(cs))
	allLets := true
	for j, c := range cs {
		l, ok := c.(*ir.Let)
		allLets = allLets && ok
		lets[j] = l
		if ok {
			vals[j] = st.rename(l.Value)
		} else {
			vals[j] = st.rename(c)
		}
	}
	if !allLets {
		return &ir.MakeTuple{Elems: vals, P: cs[0].Pos()}
	}
	next := make([]ir.Expr, len(cs))
	for j, l := range lets {
		next[j] = l.Body
	}
	if st.same(lets, vals) {
		for _, l := range lets[1:] {
			st.ren[l.Var] = lets[0].Var
		}
		return &ir.Let{Var: lets[0].Var, Value: vals[0], Body: st.walk(next), P: lets[0].P}
	}
	if bd, args := st.batchable(vals); bd != nil {
		pos := lets[0].P
		both := ir.NewVar("xbars", bd.Result, pos)
		call := &ir.Call{Fn: &ir.Global{Name: bd.Name, T: bd.Type(), P: pos}, Args: args, T: bd.Result, P: pos}
		out := st.walk(next)
		for j := len(lets) - 1; j >= 0; j-- {
			out = &ir.Let{Var: lets[j].Var, Value: &ir.Proj{X: both, Index: j, P: pos}, Body: out, P: lets[j].P}
		}
		return &ir.Let{Var: both, Value: call, Body: out, P: pos}
	}
	out := st.walk(next)
	for j := len(lets) - 1; j >= 0; j-- {
		out = &ir.Let{Var: lets[j].Var, Value: vals[j], Body: out, P: lets[j].P}
	}
	return out
}

func (st *lockstep) rename(e ir.Expr) ir.Expr {
	return ir.ReplaceVars(e, func(v *ir.Var) (ir.Expr, bool) {
		r, ok := st.ren[v]
		return r, ok
	})
}

// same reports whether the copies' lets bind one value that may be
// shared.
func (st *lockstep) same(lets []*ir.Let, vals []ir.Expr) bool {
	for j, l := range lets {
		if st.mutable[l.Var] || ir.HasInPlace(vals[j]) || j > 0 && !ir.AlphaEqual(vals[0], vals[j]) {
			return false
		}
	}
	return true
}

// batchable returns, when every copy's value calls one backward def of a
// split VJP on the same tape, that def's batched form and its arguments.
func (st *lockstep) batchable(vals []ir.Expr) (*ir.Def, []ir.Expr) {
	c0, ok := vals[0].(*ir.Call)
	if !ok || len(c0.Args) != 2 {
		return nil, nil
	}
	fn, ok := c0.Fn.(*ir.Global)
	if !ok {
		return nil, nil
	}
	s, d := st.a.backwardDef(fn.Name)
	if d == nil {
		return nil, nil
	}
	args := []ir.Expr{c0.Args[0]}
	for _, v := range vals {
		c, ok := v.(*ir.Call)
		if !ok || len(c.Args) != 2 || !ir.AlphaEqual(c.Fn, c0.Fn) || !ir.AlphaEqual(c.Args[0], c0.Args[0]) {
			return nil, nil
		}
		args = append(args, c.Args[1])
	}
	return st.a.batchDef(s, d, len(vals)), args
}

// backwardDef is the backward def of a split VJP called name (the full
// one or a variant for zero seed parts) and the split VJP, or nils.
func (a *expander) backwardDef(name string) (*splitVJP, *ir.Def) {
	for _, s := range a.splits {
		if s == nil {
			continue
		}
		if s.bwd != nil && s.bwd.Name == name {
			return s, s.bwd
		}
		for _, v := range s.variants {
			if v.def != nil && v.def.Name == name {
				return s, v.def
			}
		}
	}
	return nil, nil
}

// hoistSeed is seed written with the variables in scope only: a variable
// bound by a let that is not in scope is replaced by a copy of its value
// (looking through at most depth of them), if that value is small and
// calls no def and runs no loop, as the seeds of a Jacobian's rows are
// ((fill(2, zeros(p)), ones(p)), a one-hot row by a comprehension). It is
// nil when seed cannot be so written.
func (al *aliases) hoistSeed(seed ir.Expr, inScope map[*ir.Var]bool, depth int) ir.Expr {
	ok := true
	inner := map[*ir.Var]bool{}
	ir.Walk(seed, func(ir.Expr, bool) {}, func(v *ir.Var, bind bool) { inner[v] = true })
	out := ir.ReplaceVars(seed, func(v *ir.Var) (ir.Expr, bool) {
		if inScope[v] || inner[v] || !ok {
			return nil, false
		}
		val, bound := al.values[v]
		if !bound || depth == 0 || !seedLike(val) {
			ok = false
			return nil, false
		}
		r := al.hoistSeed(ir.Copy(val), inScope, depth-1)
		if r == nil {
			ok = false
			return nil, false
		}
		return r, true
	})
	if !ok {
		return nil
	}
	// Variables bound inside seed (a comprehension's index) are fine.
	for _, v := range ir.FreeVars(out) {
		if !inScope[v] {
			return nil
		}
	}
	return out
}

// seedLike reports whether e may be copied ahead of where it was bound: a
// small expression that calls no def and runs no loop.
func seedLike(e ir.Expr) bool {
	if ir.Size(e) > 64 {
		return false
	}
	ok := true
	ir.Walk(e, func(x ir.Expr, enter bool) {
		switch x.(type) {
		case *ir.Call, *ir.Loop:
			ok = false
		}
	}, nil)
	return ok
}
