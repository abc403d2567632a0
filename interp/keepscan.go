package interp

import "github.com/nabla-lang/nabla/ir"

// letMayKeep is mayKeep(e.Body, e.Var) for a let, answered for every let
// of a tree from one bottom-up pass over it. Asking mayKeep of each let's
// body scanned the rest of the def once per let, which made compiling a
// def of n lines quadratic in n.
//
// The pass computes for each expression the set of variables whose values
// its value may keep (mayKeep's answer for each of them at once), and at
// each let whether the set of its body holds its variable; the let's own
// set is then its body's with the variable replaced by the set of its
// value. A variable enters a set as kept (a value that flows into the
// result, as mayKeep follows) or as mentioned (anywhere inside a value
// that can hold references, a function or boxed elements, as mentions
// follows); a let replaces a mentioned variable by everything its value
// mentions. Answers are kept per let node, which is immutable.
func (it *Interp) letMayKeep(e *ir.Let) bool {
	if ans, ok := it.letKeeps[e]; ok {
		return ans
	}
	if it.letKeeps == nil {
		it.letKeeps = map[*ir.Let]bool{}
	}
	keepSet(it.letKeeps, e)
	return it.letKeeps[e]
}

// How a variable is in a keep set; mentioned includes kept.
const (
	kept uint8 = 1 + iota
	mentioned
)

// keepSet returns the keep set of e, recording the answer of every let
// it passes in out. The set returned is the caller's to change.
func keepSet(out map[*ir.Let]bool, e ir.Expr) map[*ir.Var]uint8 {
	if l, ok := e.(*ir.Let); ok {
		// A let has its body's type: no type asked (it walks the chain).
		set := keepSet(out, l.Body)
		how := set[l.Var]
		out[l] = how != 0
		val := keepSet(out, l.Value) // for the lets inside the value too
		if how == 0 {
			return set
		}
		delete(set, l.Var)
		if how == mentioned {
			val = mentionSet(l.Value)
		}
		return union(set, val)
	}
	t := e.Type()
	if isScalar(t) {
		keepInside(out, e)
		return map[*ir.Var]uint8{}
	}
	if holdsRefs(t) {
		keepInside(out, e)
		return mentionSet(e)
	}
	set := map[*ir.Var]uint8{}
	switch e := e.(type) {
	case *ir.Var:
		set[e] = kept
		return set
	case *ir.Lambda:
		keepInside(out, e)
		return mentionSet(e)
	case *ir.Call:
		set = mentionSet(e.Fn)
	}
	flow := ir.FlowKids(e)
	for _, k := range ir.Children(e) {
		ks := keepSet(out, k)
		if isFlow(flow, k) {
			set = union(set, ks)
		}
	}
	return set
}

// keepInside records the answers of the lets inside e, whose own set is
// not made from its children's.
func keepInside(out map[*ir.Let]bool, e ir.Expr) {
	for _, k := range ir.Children(e) {
		keepSet(out, k)
	}
}

func isFlow(flow []ir.Expr, k ir.Expr) bool {
	for _, f := range flow {
		if f == k {
			return true
		}
	}
	return false
}

// mentionSet is every variable used in e, as mentioned.
func mentionSet(e ir.Expr) map[*ir.Var]uint8 {
	set := map[*ir.Var]uint8{}
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if v, ok := x.(*ir.Var); ok && enter {
			set[v] = mentioned
		}
	}, nil)
	return set
}

// union merges the smaller set into the larger and returns it; mentioned
// wins over kept.
func union(a, b map[*ir.Var]uint8) map[*ir.Var]uint8 {
	if len(a) < len(b) {
		a, b = b, a
	}
	for v, how := range b {
		a[v] = max(a[v], how)
	}
	return a
}
