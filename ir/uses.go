package ir

// UseCounts keeps, for a term that is being rewritten one subterm at a
// time, how often each variable occurs in it: the answer of VarUses for
// every let at once, kept up to date as subterms are replaced.
//
// Asking VarUses at every let of a let chain walks the rest of the chain
// each time, O(n^2) in the chain's length; a let chain of a few thousand
// bindings, or a derivative, took seconds to minutes to simplify. Since
// each binder in a def is a distinct *Var, bound once, the uses of a let's
// variable in the let's body are its uses in the whole term, so one
// table of counts answers for every let in O(1). Replace updates it when
// a rewrite replaces a subterm, in time proportional to what the rewrite
// built and dropped: it walks the new term down to the nodes the old
// term already had (shared, not copied, by every rewrite), and the old
// term down to the nodes the new one kept. Mark and Rollback undo
// replacements that a failing strategy throws away.
//
// Laziness is counted too: a use is lazy when a lambda's body, a branch
// of an if, or a loop's condition or body lies between it and its
// binder (as VarUses defines it). Replace takes the lazy depth of the
// replaced position, the number of such constructs above it, which the
// caller tracks as it descends (LazyChild).
type UseCounts struct {
	uses, eager, proj map[*Var]int
	scope             map[*Var]int // lazy depth of each binder's scope; 0 if absent
	known             map[Expr]bool
	journal           []useChange
	journaling        bool
	walked            int // nodes visited by Replace, for work accounting

	// OnDrop, if set, is called with each node that Replace finds gone
	// from the term, so that caches keyed by node can let go of it.
	OnDrop func(e Expr)
}

// useChange is one entry of the journal: a change of counts, or of a
// binder's scope depth (old holds the previous depth).
type useChange struct {
	v                 *Var
	uses, eager, proj int
	scope             bool
	old               int
}

// NewUseCounts counts the uses in root, a term whose position has lazy
// depth 0.
func NewUseCounts(root Expr) *UseCounts {
	u := &UseCounts{uses: map[*Var]int{}, eager: map[*Var]int{}, proj: map[*Var]int{}, scope: map[*Var]int{}, known: map[Expr]bool{}}
	u.addAll(root, 0, false, true)
	u.journaling = true
	return u
}

// Uses returns the number of uses of v and whether any is lazy.
func (u *UseCounts) Uses(v *Var) (n int, lazy bool) {
	return u.uses[v], u.eager[v] < u.uses[v]
}

// ProjUses returns the number of uses of v as the tuple of a projection.
func (u *UseCounts) ProjUses(v *Var) int { return u.proj[v] }

// Walked returns how many nodes Replace has visited so far.
func (u *UseCounts) Walked() int { return u.walked }

// Known records that e (a node the caller rebuilt from counted children,
// such as a parent rebuilt by MapChildren) is part of the term: Replace
// stops at it.
func (u *UseCounts) Known(e Expr) {
	if !IsAtom(e) {
		u.known[e] = true
	}
}

// Mark returns a point to roll back to.
func (u *UseCounts) Mark() int { return len(u.journal) }

// Rollback undoes every change made since mark.
func (u *UseCounts) Rollback(mark int) {
	for i := len(u.journal) - 1; i >= mark; i-- {
		c := u.journal[i]
		if c.scope {
			u.scope[c.v] = c.old
			continue
		}
		u.uses[c.v] -= c.uses
		u.eager[c.v] -= c.eager
		u.proj[c.v] -= c.proj
	}
	u.journal = u.journal[:mark]
}

// LazyChild reports whether child i of e (in Children order) is
// evaluated lazily: a lambda's body, an if's branches, a loop's
// condition and body.
func LazyChild(e Expr, i int) bool {
	switch e := e.(type) {
	case *Lambda:
		return true
	case *If:
		return i > 0
	case *Loop:
		return i > 0 && (e.Count == nil || i > 1)
	}
	return false
}

// binders calls f for each variable that e binds, with the lazy depth of
// its scope, e being at lazy depth d.
func binders(e Expr, d int, f func(v *Var, depth int)) {
	switch e := e.(type) {
	case *Let:
		f(e.Var, d)
	case *Lambda:
		for _, p := range e.Params {
			f(p, d+1)
		}
	case *Loop:
		f(e.State, d+1)
		if e.Index != nil {
			f(e.Index, d+1)
		}
	}
}

func (u *UseCounts) setScope(v *Var, depth int) {
	if old := u.scope[v]; old != depth {
		if u.journaling {
			u.journal = append(u.journal, useChange{v: v, scope: true, old: old})
		}
		u.scope[v] = depth
	}
}

// occur counts sign uses of v at lazy depth d; inProj says the use is
// the tuple of a projection.
func (u *UseCounts) occur(v *Var, d int, inProj bool, sign int) {
	c := useChange{v: v, uses: sign}
	if d == u.scope[v] {
		c.eager = sign
	}
	if inProj {
		c.proj = sign
	}
	u.uses[v] += c.uses
	u.eager[v] += c.eager
	u.proj[v] += c.proj
	if u.journaling {
		u.journal = append(u.journal, c)
	}
}

// addAll counts every use in e, at lazy depth d, and sets the scopes of
// the binders in it; register marks its nodes known.
func (u *UseCounts) addAll(e Expr, d int, inProj bool, register bool) {
	u.walked++
	if v, ok := e.(*Var); ok {
		u.occur(v, d, inProj, 1)
		return
	}
	if register && !IsAtom(e) {
		u.known[e] = true
	}
	binders(e, d, u.setScope)
	_, isProj := e.(*Proj)
	EachChild(e, func(i int, k Expr) { u.addAll(k, d+lazyInc(e, i), isProj, register) })
}

func lazyInc(e Expr, i int) int {
	if LazyChild(e, i) {
		return 1
	}
	return 0
}

// reuseKey is a node of the new term that the old term had too, at a
// lazy depth relative to the replaced position.
type reuseKey struct {
	e Expr
	d int
}

// reuseSet is a multiset of reuseKeys: a short list, which most
// rewrites need, turning into a map when it grows.
type reuseSet struct {
	list []reuseKey
	n    []int
	m    map[reuseKey]int
}

func (r *reuseSet) add(k reuseKey) {
	if r.m != nil {
		r.m[k]++
		return
	}
	for i, x := range r.list {
		if x == k {
			r.n[i]++
			return
		}
	}
	r.list, r.n = append(r.list, k), append(r.n, 1)
	if len(r.list) > 16 {
		r.m = map[reuseKey]int{}
		for i, x := range r.list {
			r.m[x] = r.n[i]
		}
	}
}

// take removes one k, reporting whether there was one.
func (r *reuseSet) take(k reuseKey) bool {
	if r.m != nil {
		if r.m[k] > 0 {
			r.m[k]--
			return true
		}
		return false
	}
	for i, x := range r.list {
		if x == k && r.n[i] > 0 {
			r.n[i]--
			return true
		}
	}
	return false
}

// each calls f with each key left and its count.
func (r *reuseSet) each(f func(k reuseKey, n int)) {
	if r.m != nil {
		for k, n := range r.m {
			f(k, n)
		}
		return
	}
	for i, k := range r.list {
		f(k, r.n[i])
	}
}

type pendingUse struct {
	v      *Var
	d      int
	inProj bool
}

// Replace updates the counts for the replacement of old by new at a
// position of lazy depth d.
func (u *UseCounts) Replace(old, new Expr, d int) {
	if old == new {
		return
	}
	// The new term, down to known nodes: its uses and binders wait until
	// the old term's uses are taken away with the old binder scopes.
	var reused reuseSet
	var adds []pendingUse
	var scopes []pendingUse
	var walkNew func(e Expr, rd int, inProj bool)
	walkNew = func(e Expr, rd int, inProj bool) {
		u.walked++
		if v, ok := e.(*Var); ok {
			adds = append(adds, pendingUse{v, rd, inProj})
			return
		}
		if u.known[e] {
			reused.add(reuseKey{e, rd})
			return
		}
		if !IsAtom(e) {
			u.known[e] = true
		}
		binders(e, rd, func(v *Var, depth int) { scopes = append(scopes, pendingUse{v: v, d: depth}) })
		_, isProj := e.(*Proj)
		EachChild(e, func(i int, k Expr) { walkNew(k, rd+lazyInc(e, i), isProj) })
	}
	walkNew(new, 0, false)
	// The old term, down to the nodes the new one kept where they were.
	var walkOld func(e Expr, rd int, inProj bool)
	walkOld = func(e Expr, rd int, inProj bool) {
		u.walked++
		if v, ok := e.(*Var); ok {
			u.occur(v, d+rd, inProj, -1)
			return
		}
		if reused.take(reuseKey{e, rd}) {
			return
		}
		if !IsAtom(e) {
			delete(u.known, e)
			if u.OnDrop != nil {
				u.OnDrop(e)
			}
		}
		_, isProj := e.(*Proj)
		EachChild(e, func(i int, c Expr) { walkOld(c, rd+lazyInc(e, i), isProj) })
	}
	walkOld(old, 0, false)
	for _, s := range scopes {
		u.setScope(s.v, d+s.d)
	}
	for _, a := range adds {
		u.occur(a.v, d+a.d, a.inProj, 1)
	}
	// Nodes the new term has that the old one did not have there (moved
	// across a lazy boundary, duplicated, or taken from elsewhere).
	reused.each(func(k reuseKey, n int) {
		for range n {
			u.addAll(k.e, d+k.d, false, false)
		}
	})
}
