package rewrite

// shapezeros: zero cotangents made from tape reads that only give a shape.
//
// Reverse mode starts the cotangent of a saved vector as zeros_like(P),
// with P a read of the forward sweep's tape (tape_2.1, saved_6[i].1):
// the forward sweep then computes and stores that field only so that the
// reverse sweep can ask for its length. When the length is named by the
// def's types (a size variable of its parameters, or a constant), the
// zero needs no tape: zeros_like(P) becomes zeros(L), L the size, and
// deadfield can then drop the field, so that the forward sweep stops
// making it.
//
// The argument must be a read of a tape: a variable under projections
// and indexes (not a variable alone, whose value is computed anyway), each
// index provably in bounds (a loop counter or a build's index running
// below the indexed array's length), so that dropping the read drops no
// error. zeros(L) is not total as far as ir.Total knows (L might be
// negative; here it is a size), so the pass runs after simplify has made
// the term normal, when the rules that drop or move a total zeros_like
// (acc_fresh, let_unused) have had their chance, and it leaves alone the
// zeros_like that start a loop's state (fuse's loop_to_build wants them)
// and those that acc_add_at writes one element or row into (the one-hot
// chains that the interpreter and the Go backend run without an array).
// Values are the same: both make a fresh vector of +0.

import (
	"github.com/nabla-lang/nabla/ir"
)

// shapeZeros rewrites every such zeros_like in e; it fails when there is
// none.
func shapeZeros(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	s := &shapeZ{
		c:         c,
		sizeFacts: newSizeFacts(),
		params:    map[string]ir.Expr{},
		keep:      map[*ir.PrimCall]bool{},
	}
	// The free variables are the def's parameters: dim[a](p) is a size of
	// theirs anywhere in the body.
	for _, p := range ir.FreeVars(e) {
		for a, d := range ir.Dims(p.T) {
			if d.Sym == "" || s.params[d.Sym] != nil {
				continue
			}
			if x, err := ir.PrimDim.Call(p.P, a, p); err == nil {
				s.params[d.Sym] = x
			}
		}
	}
	out := s.rw(e)
	if s.err != nil {
		return e, false, s.err
	}
	if s.n == 0 {
		return e, false, nil
	}
	c.addMutable(out)
	return out, true, nil
}

type shapeZ struct {
	c *ctx
	sizeFacts
	scope  []*ir.Var             // the let variables of lenOf in scope here, outermost first
	params map[string]ir.Expr    // dim[a](p) for each size variable of a parameter p
	keep   map[*ir.PrimCall]bool // zeros_like that start loop states or take an acc_add_at
	n      int                   // rewrites made
	err    error
}

func (s *shapeZ) rw(e ir.Expr) ir.Expr {
	switch x := e.(type) {
	case *ir.Let:
		v := s.rw(x.Value)
		if d := s.dimOf(x.Value); d != ir.Unknown {
			s.lenOf[x.Var] = d
			s.scope = append(s.scope, x.Var)
			defer func() { s.scope = s.scope[:len(s.scope)-1] }()
		}
		b := s.rw(x.Body)
		if v == x.Value && b == x.Body {
			return e
		}
		return &ir.Let{Var: x.Var, Value: v, Body: b, P: x.P}
	case *ir.Loop:
		if t, ok := x.Init.(*ir.MakeTuple); ok {
			for _, el := range t.Elems {
				if z, ok := el.(*ir.PrimCall); ok {
					s.keep[z] = true
				}
			}
		}
		if x.Index != nil {
			if d := s.dimOf(x.Count); d != ir.Unknown {
				s.below[x.Index] = d
			}
		}
	case *ir.PrimCall:
		if lam, ok := lastLambda(x, ir.PrimBuild, 1); ok {
			if d := s.dimOf(x.Args[0]); d != ir.Unknown {
				s.below[lam.Params[0]] = d
			}
		}
		if x.Op == ir.PrimAccAddAt && len(x.Args) == 3 {
			if z, ok := x.Args[0].(*ir.PrimCall); ok {
				s.keep[z] = true
			}
		}
		if out, ok := s.zeros(x); ok {
			return out
		}
	}
	out, _ := ir.MapChildren(e, func(_ int, k ir.Expr) (ir.Expr, error) { return s.rw(k), nil })
	return out
}

// zeros rewrites zeros_like(P) when it qualifies (see the file comment).
func (s *shapeZ) zeros(pc *ir.PrimCall) (ir.Expr, bool) {
	if pc.Op != ir.PrimZerosLike || len(pc.Args) != 1 || ir.Rank(pc.T) != 1 {
		return nil, false
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
		return nil, false
	}
	if _, isVar := pc.Args[0].(*ir.Var); isVar || s.keep[pc] {
		return nil, false
	}
	if _, ok := s.safePath(pc.Args[0]); !ok {
		return nil, false
	}
	d := ir.Dims(pc.T)[0]
	size := s.size(d)
	if size == nil {
		return nil, false
	}
	z, err := ir.PrimZeros.Call(pc.P, d, size)
	if err != nil || !ir.Identical(z.T, pc.T) {
		return nil, false
	}
	if err := s.c.fireText("shapezeros", s.c.posOf(pc), func() (string, string) { return short(pc), short(z) }); err != nil {
		s.err = err
		return nil, false
	}
	s.n++
	return z, true
}

// safePath reports whether e is a variable under projections and indexes
// that are all in bounds, and how many indexes it has.
func (s *shapeZ) safePath(e ir.Expr) (indexes int, ok bool) {
	for {
		switch x := e.(type) {
		case *ir.Var:
			return indexes, true
		case *ir.Proj:
			e = x.X
		case *ir.PrimCall:
			if x.Op != ir.PrimIndex || len(x.Args) != 2 || !s.inBounds(x.Args[0], x.Args[1]) {
				return 0, false
			}
			indexes++
			e = x.Args[0]
		default:
			return 0, false
		}
	}
}

// inBounds reports whether i is certainly an index of a's first axis.
func (s *shapeZ) inBounds(a, i ir.Expr) bool { return s.sizeFacts.inBounds(a, i, typeDims) }

// dimOf is the size the i64 expression n certainly equals, or Unknown.
func (s *shapeZ) dimOf(n ir.Expr) ir.Dim { return s.sizeFacts.dimOf(n, typeDims) }

// typeDims is the shape of e as its type states it.
func typeDims(e ir.Expr) []ir.Dim { return ir.Dims(e.Type()) }

// size is an expression of the size d that cannot fail: a constant, a
// let variable in scope that holds it, or dim[a](p) of a parameter.
func (s *shapeZ) size(d ir.Dim) ir.Expr {
	if d.Known() {
		return ir.I64Const(d.N, ir.Pos{})
	}
	if d.Sym == "" {
		return nil
	}
	for _, v := range s.scope {
		if s.lenOf[v] == d {
			return v
		}
	}
	if p := s.params[d.Sym]; p != nil {
		return ir.Copy(p)
	}
	return nil
}
