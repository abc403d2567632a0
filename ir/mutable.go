package ir

// MutableSet is a growing set of variables that hold arrays an in-place
// primitive will overwrite: Add(e) adds MutableVars(e). A rewrite pass
// adds the variables of every term a rewrite produces, and MutableVars
// walks the whole term each time: O(n) per rewrite of a long let chain of
// accumulator updates, O(n^2) in all. MutableSet computes the same union
// from facts about each node, remembered by identity, so that only the
// nodes a rewrite built are visited.
//
// The facts of a node n are small sets of variables free in n: mark, the
// variables that MutableVars(n) marks; flow, those it would mark if n's
// value flowed into an accumulator; and flowIn, the variables bound
// inside n that such a flow would mark. A node's facts follow from its
// children's (see info); variables bound inside n that MutableVars(n)
// marks are added to the set when n's facts are computed, which is
// sound since the set only grows and every node whose facts are
// computed is part of a term given to Add.
type MutableSet struct {
	Vars map[*Var]bool
	memo map[Expr]*mutInfo
}

type mutInfo struct {
	mark, flow []*Var
	flowIn     *varTree
}

// A varTree is a union of sets of variables kept as a tree: flowIn sets
// grow along a chain of accumulator updates, and copying them at every
// node would be O(n^2). Marking a tree marks each of its nodes once.
type varTree struct {
	vars   []*Var
	kids   []*varTree
	marked bool
}

func treeOf(vs ...*Var) *varTree {
	if len(vs) == 0 {
		return nil
	}
	return &varTree{vars: vs}
}

func join(a, b *varTree) *varTree {
	switch {
	case a == nil:
		return b
	case b == nil || a == b:
		return a
	}
	return &varTree{kids: []*varTree{a, b}}
}

// markTree adds every variable of t to the set.
func (m *MutableSet) markTree(t *varTree) {
	if t == nil || t.marked {
		return
	}
	t.marked = true
	m.markIn(t.vars...)
	for _, k := range t.kids {
		m.markTree(k)
	}
}

var noMutInfo = &mutInfo{}

// NewMutableSet returns an empty set.
func NewMutableSet() *MutableSet {
	return &MutableSet{Vars: map[*Var]bool{}, memo: map[Expr]*mutInfo{}}
}

// Add adds MutableVars(e) to the set.
func (m *MutableSet) Add(e Expr) {
	for _, v := range m.info(e).mark {
		m.Vars[v] = true
	}
}

// Forget drops what m remembers about e (a node gone from the term); the
// variables it added stay in the set.
func (m *MutableSet) Forget(e Expr) { delete(m.memo, e) }

func (m *MutableSet) info(e Expr) *mutInfo {
	switch e.(type) {
	case *Const, *Global:
		return noMutInfo
	}
	if in, ok := m.memo[e]; ok {
		return in
	}
	var in *mutInfo
	if v, ok := e.(*Var); ok {
		in = &mutInfo{flow: []*Var{v}}
	} else {
		in = m.compute(e)
	}
	if len(in.mark) == 0 && len(in.flow) == 0 && in.flowIn == nil {
		in = noMutInfo
	}
	m.memo[e] = in
	return in
}

// markIn records that MutableVars marks v, bound inside the node whose
// facts are being computed.
func (m *MutableSet) markIn(vs ...*Var) {
	for _, v := range vs {
		m.Vars[v] = true
	}
}

func (m *MutableSet) compute(e Expr) *mutInfo {
	switch e := e.(type) {
	case *Let:
		a, b := m.info(e.Value), m.info(e.Body)
		out := &mutInfo{mark: union(a.mark, without(b.mark, e.Var))}
		if has(b.mark, e.Var) {
			// e.Var is overwritten: its value flows into the accumulator.
			m.markIn(e.Var)
			m.markTree(a.flowIn)
			out.mark = union(out.mark, a.flow)
		}
		out.flow, out.flowIn = without(b.flow, e.Var), b.flowIn
		if has(b.flow, e.Var) {
			out.flow = union(out.flow, a.flow)
			out.flowIn = join(join(out.flowIn, a.flowIn), treeOf(e.Var))
		}
		return out
	case *Lambda:
		b := m.info(e.Body)
		out := &mutInfo{mark: b.mark}
		for _, p := range e.Params {
			if has(out.mark, p) {
				m.markIn(p)
				out.mark = without(out.mark, p)
			}
		}
		return out
	case *Loop:
		kids := Children(e)
		init, body := m.info(e.Init), m.info(e.Body)
		inner := []*Var{e.State}
		if e.Index != nil {
			inner = append(inner, e.Index)
		}
		// Marks from sinks anywhere in the loop; those of the state and
		// the index are internal.
		var mark []*Var
		for _, k := range kids {
			mark = union(mark, m.info(k).mark)
		}
		// When the state is overwritten, the initial value and the body's
		// result flow into the accumulator (MutableVars pushes both).
		if has(mark, e.State) {
			mark = union(union(mark, init.flow), body.flow)
			m.markTree(init.flowIn)
			m.markTree(body.flowIn)
		}
		for _, v := range inner {
			if has(mark, v) {
				m.markIn(v)
			}
		}
		out := &mutInfo{mark: withoutAll(mark, inner)}
		// The loop's own value: its initial value and its body's result.
		flow := union(init.flow, body.flow)
		flowIn := join(init.flowIn, body.flowIn)
		for _, v := range inner {
			if has(flow, v) {
				flowIn = join(flowIn, treeOf(v))
			}
		}
		out.flow, out.flowIn = withoutAll(flow, inner), flowIn
		return out
	}
	out := &mutInfo{}
	for _, k := range Children(e) {
		out.mark = union(out.mark, m.info(k).mark)
	}
	for _, k := range FlowKids(e) {
		ki := m.info(k)
		out.flow = union(out.flow, ki.flow)
		out.flowIn = join(out.flowIn, ki.flowIn)
	}
	if pc, ok := e.(*PrimCall); ok && pc.Op.InPlace() {
		// A sink: its accumulator's value is overwritten.
		a := m.info(pc.Args[0])
		m.markTree(a.flowIn)
		out.mark = union(out.mark, a.flow)
	}
	return out
}

func has(vs []*Var, v *Var) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// union returns a ∪ b, sharing a or b when one holds the other.
func union(a, b []*Var) []*Var {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	var out []*Var
	for _, v := range b {
		if !has(a, v) {
			if out == nil {
				out = append(make([]*Var, 0, len(a)+len(b)), a...)
			}
			out = append(out, v)
		}
	}
	if out == nil {
		return a
	}
	return out
}

// without returns vs without v, sharing vs when v is not in it.
func without(vs []*Var, v *Var) []*Var {
	for i, x := range vs {
		if x == v {
			out := append(make([]*Var, 0, len(vs)-1), vs[:i]...)
			return append(out, vs[i+1:]...)
		}
	}
	return vs
}

func withoutAll(vs []*Var, drop []*Var) []*Var {
	for _, v := range drop {
		vs = without(vs, v)
	}
	return vs
}
