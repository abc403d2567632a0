package codegen

// The softmax weights of a saved logsumexp, kept from the forward pass
// for the reverse pass instead of recomputed there.
//
// Reverse mode differentiates y = logsumexp(v) inside a comprehension by
// saving v and y on the tape and computing, in the reverse pass,
// exp(v - y) times y's cotangent (GMM: per point, the K component
// weights). The forward pass already computed exp(v[j] - max(v)) for
// every j to find y, so the reverse exp is a second exp per element.
// Here, before lowering, a tape of the form
//
//	let saved = build(n, fn(i) => ... let y = logsumexp(v) in (..., v, ..., y, ...))
//
// whose field v is read only as exp(saved[j].v - saved[j].y) becomes
//
//	let saved = build(n, fn(i) => ... let lw = logsumexp_weights(v) in let y = lw.0 in (..., lw.1, ..., y, ...))
//
// with each exp(saved[j].v - saved[j].y) replaced by saved[j].v: the
// field now holds the weights. logsumexp_weights is a primitive of this
// backend alone (never registered, so no other stage sees it), lowered to
// runtime.LogSumExpWeights: y with LogSumExp's bits, and the weights
// e[j] / s from the exps e[j] and their sum s that LogSumExp adds up
// anyway. They are exp(v[j] - y) mathematically but not to the bit (one
// rounding each, where exp(v[j] - y) rounds v[j] - y first); where y is
// not finite they are computed as exp(v[j] - y), the general code's bits
// (docs/decisions.md). Options.noSoftWeights turns the rewrite off.

import (
	"github.com/nabla-lang/nabla/ir"
)

// primLSEWeights is logsumexp_weights(v): (logsumexp(v), the weights).
var primLSEWeights = &ir.Prim{Name: "logsumexp_weights", Arity: 1, Class: ir.Internal,
	Doc:   "logsumexp_weights(v) = (logsumexp(v), exp(v - logsumexp(v))), the second from the first's exps (Go backend only)",
	Fails: ir.NeverFails, Storage: ir.Fresh}

func init() {
	rules[primLSEWeights] = &rule{Lower: lowerLSEWeights}
}

// lowerLSEWeights computes the weights into a fresh array, and the
// logsumexp, in one call.
func lowerLSEWeights(f *fn, e *ir.PrimCall) val {
	a := f.compile(e.Args[0])
	w := f.def("w", f.mkW(ir.F64, a.parts[1]))
	y := f.def("s", "runtime.LogSumExpWeights("+w+", "+a.parts[0]+")")
	return valOf(e.T, y, w, a.parts[1])
}

// keepSoftWeights applies the rewrite to every def of p, returning p
// itself when nothing changes.
func keepSoftWeights(p *ir.Program) *ir.Program {
	var defs []*ir.Def
	changed := false
	for _, d := range p.Defs {
		body := rewriteSoftWeights(d.Body)
		if body != d.Body {
			nd := *d
			nd.Body = body
			d = &nd
			changed = true
		}
		defs = append(defs, d)
	}
	if !changed {
		return p
	}
	np := *p
	np.Defs = defs
	return &np
}

// rewriteSoftWeights rewrites every tape in e that qualifies, innermost
// first.
func rewriteSoftWeights(e ir.Expr) ir.Expr {
	e = ir.Rebuild(e, rewriteSoftWeights)
	l, ok := e.(*ir.Let)
	if !ok {
		return e
	}
	if nl := softWeightsLet(l); nl != nil {
		return nl
	}
	return e
}

// softTape is what softWeightsLet finds in a tape's element: the let
// y = logsumexp(v), the tuple the element ends in, and the fields of the
// tuple that are v and y.
type softTape struct {
	lse      *ir.Let
	tuple    *ir.MakeTuple
	vField   int
	yFields  map[int]bool
	yVar, vV *ir.Var
}

// softWeightsLet rewrites let s = build(n, fn i => ...) in body when the
// element qualifies and body reads field v only in exp(s[j].v - s[j].y);
// it returns nil otherwise.
func softWeightsLet(l *ir.Let) ir.Expr {
	b, ok := l.Value.(*ir.PrimCall)
	if !ok || b.Op != ir.PrimBuild {
		return nil
	}
	lam, ok := b.Args[1].(*ir.Lambda)
	if !ok || len(lam.Params) != 1 {
		return nil
	}
	for _, st := range findSoftTapes(lam.Body) {
		body, ok := replaceWeightReads(l.Body, l.Var, st)
		if !ok {
			continue
		}
		nlam := &ir.Lambda{Params: lam.Params, Body: rewriteLSE(lam.Body, st), P: lam.P}
		nb := &ir.PrimCall{Op: b.Op, Args: []ir.Expr{b.Args[0], nlam}, Aux: b.Aux, T: b.T, P: b.P}
		return &ir.Let{Var: l.Var, Value: nb, Body: body, P: l.P}
	}
	return nil
}

// findSoftTapes follows the chain of lets of a build's element to the
// tuple it ends in, and returns each let y = logsumexp(v) on the chain
// (v a variable of f64 vector type) with y and v fields of the tuple.
func findSoftTapes(e ir.Expr) []softTape {
	var lses []*ir.Let
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			break
		}
		if pc, ok := l.Value.(*ir.PrimCall); ok && pc.Op == ir.PrimLogsumexp {
			if v, ok := pc.Args[0].(*ir.Var); ok && ir.Rank(v.T) == 1 {
				if k, _ := ir.Leaf(v.T); k == ir.F64 {
					lses = append(lses, l)
				}
			}
		}
		e = l.Body
	}
	t, ok := e.(*ir.MakeTuple)
	if !ok {
		return nil
	}
	var out []softTape
	for _, l := range lses {
		v := l.Value.(*ir.PrimCall).Args[0].(*ir.Var)
		st := softTape{lse: l, tuple: t, vField: -1, yFields: map[int]bool{}, yVar: l.Var, vV: v}
		for k, x := range t.Elems {
			switch x {
			case v:
				if st.vField < 0 {
					st.vField = k
				}
			case l.Var:
				st.yFields[k] = true
			}
		}
		if st.vField >= 0 && len(st.yFields) > 0 {
			out = append(out, st)
		}
	}
	return out
}

// rewriteLSE makes the element compute the weights with y and store
// them in field v.
func rewriteLSE(e ir.Expr, st softTape) ir.Expr {
	if e == ir.Expr(st.lse) {
		v := st.vV
		lwT := &ir.Tuple{Elems: []ir.Type{st.yVar.T, v.T}}
		lw := ir.NewVar(st.yVar.Name+"_w", lwT, st.lse.P)
		call := &ir.PrimCall{Op: primLSEWeights, Args: []ir.Expr{v}, T: lwT, P: st.lse.Value.Pos()}
		return &ir.Let{Var: lw, Value: call, P: st.lse.P,
			Body: &ir.Let{Var: st.yVar, Value: &ir.Proj{X: lw, Index: 0, P: st.lse.P}, P: st.lse.P,
				Body: replaceField(st.lse.Body, st, &ir.Proj{X: lw, Index: 1, P: st.lse.P})}}
	}
	l := e.(*ir.Let) // on the chain from the element to the lse let
	return &ir.Let{Var: l.Var, Value: l.Value, Body: rewriteLSE(l.Body, st), P: l.P}
}

// replaceField puts w in field v of the tuple at the end of the chain e.
func replaceField(e ir.Expr, st softTape, w ir.Expr) ir.Expr {
	if l, ok := e.(*ir.Let); ok {
		return &ir.Let{Var: l.Var, Value: l.Value, Body: replaceField(l.Body, st, w), P: l.P}
	}
	elems := append([]ir.Expr{}, st.tuple.Elems...)
	elems[st.vField] = w
	return &ir.MakeTuple{Elems: elems, P: st.tuple.P}
}

// replaceWeightReads replaces each exp(E.v - E.y) in body, E an element
// of s (s[j], or a variable bound to one), by E.v, and reports whether
// that was every read of field v and there was at least one. Any use of
// s or of such a variable other than a projection or s[j] bound by a let
// refuses.
func replaceWeightReads(body ir.Expr, s *ir.Var, st softTape) (ir.Expr, bool) {
	elems := map[*ir.Var]bool{} // lets bound to s[j]
	isIndex := func(x ir.Expr) bool {
		pc, ok := x.(*ir.PrimCall)
		if !ok || pc.Op != ir.PrimIndex {
			return false
		}
		v, ok := pc.Args[0].(*ir.Var)
		return ok && v == s
	}
	// First pass: every use of s and of its element variables is an
	// element (for s) and a projection of it; count the reads of v.
	vReads := 0
	ok := true
	var walk func(e ir.Expr, parent ir.Expr)
	walk = func(e ir.Expr, parent ir.Expr) {
		if !ok {
			return
		}
		switch x := e.(type) {
		case *ir.Var:
			if x == s {
				if pc, isPC := parent.(*ir.PrimCall); !isPC || pc.Op != ir.PrimIndex || pc.Args[0] != e {
					ok = false
				}
			}
			if elems[x] {
				if _, isProj := parent.(*ir.Proj); !isProj {
					ok = false
				}
			}
			return
		case *ir.Let:
			if isIndex(x.Value) {
				elems[x.Var] = true
			}
		case *ir.Proj:
			if isElemOf(x.X, s, elems) && x.Index == st.vField {
				vReads++
			}
		case *ir.PrimCall:
			if isIndex(x) {
				// s[j] as a value: allowed under a projection or as a let's value.
				switch p := parent.(type) {
				case *ir.Proj:
				case *ir.Let:
					if p.Value != e {
						ok = false
					}
				default:
					ok = false
				}
			}
		}
		for _, k := range ir.Children(e) {
			walk(k, e)
		}
	}
	walk(body, nil)
	if !ok || vReads == 0 {
		return nil, false
	}
	replaced := 0
	var rw func(e ir.Expr) ir.Expr
	rw = func(e ir.Expr) ir.Expr {
		if p := weightRead(e, s, elems, st); p != nil {
			replaced++
			return p
		}
		return ir.Rebuild(e, rw)
	}
	out := rw(body)
	if replaced != vReads {
		return nil, false
	}
	return out, true
}

// isElemOf reports whether x is s[j] or a variable bound to one.
func isElemOf(x ir.Expr, s *ir.Var, elems map[*ir.Var]bool) bool {
	switch x := x.(type) {
	case *ir.Var:
		return elems[x]
	case *ir.PrimCall:
		if x.Op == ir.PrimIndex {
			v, ok := x.Args[0].(*ir.Var)
			return ok && v == s
		}
	}
	return false
}

// weightRead returns E.v when e is exp(E.v - E.y) with E an element of
// s (the same variable, or s[j] at the same j) and y a field holding y,
// else nil.
func weightRead(e ir.Expr, s *ir.Var, elems map[*ir.Var]bool, st softTape) ir.Expr {
	ex, ok := e.(*ir.PrimCall)
	if !ok || ex.Op != ir.PrimExp {
		return nil
	}
	sub, ok := ex.Args[0].(*ir.PrimCall)
	if !ok || sub.Op != ir.PrimSub {
		return nil
	}
	pv, ok1 := sub.Args[0].(*ir.Proj)
	py, ok2 := sub.Args[1].(*ir.Proj)
	if !ok1 || !ok2 || pv.Index != st.vField || !st.yFields[py.Index] {
		return nil
	}
	if !isElemOf(pv.X, s, elems) || !isElemOf(py.X, s, elems) || !ir.AlphaEqual(pv.X, py.X) {
		return nil
	}
	return pv
}
