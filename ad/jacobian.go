package ad

import (
	"slices"

	"github.com/nabla-lang/nabla/ir"
)

// Jacobians of any rank (SPEC §6). For f: A -> B the Jacobian has, for
// every leaf (an f64 or an array of f64) q of B and p of A, a block of
// shape shape(q) ++ shape(p); tuples of B are outermost, then tuples of
// A (ir.JacobianType), as in JAX.
//
// jacfwd runs one JVP per element of the input: for each input leaf p of
// N elements, a build over k < N seeds the tangent with the one-hot of
// element k (row-major) and collects the N output tangents, [N]B; each
// output leaf's column array [N]shape(q) is then read into the block as
// J[o][i] = col[flat(i)][o]. jacrev runs one VJP per element of the
// output: rows [N]A for output leaf q, and J[o] = row[flat(o)]. Nothing
// quadratic is materialized beyond the Jacobian itself: a seed is built
// inside its own iteration, and the zeros of the other leaves once.

// leafPath is the position of a tensor leaf in a tuple tree of types.
type leafPath []int

// leaves lists the tensor leaves of t in order.
func leaves(t ir.Type) []leafPath {
	tt, ok := t.(*ir.Tuple)
	if !ok {
		return []leafPath{nil}
	}
	var out []leafPath
	for i, e := range tt.Elems {
		for _, p := range leaves(e) {
			out = append(out, append(leafPath{i}, p...))
		}
	}
	return out
}

// at projects a tuple-tree value on a path.
func at(blk *block, x ir.Expr, p leafPath) ir.Expr {
	for _, i := range p {
		x = blk.bind("f", &ir.Proj{X: x, Index: i, P: blk.pos})
	}
	return x
}

// replaceLeaf is the tuple tree of x's type whose leaf p is leaf and whose
// other leaves are taken from zeros (values bound outside, by path).
func replaceLeaf(blk *block, t ir.Type, p leafPath, leaf ir.Expr, zeros func(leafPath) ir.Expr, prefix leafPath) ir.Expr {
	if slices.Equal(prefix, p) {
		return leaf
	}
	tt, ok := t.(*ir.Tuple)
	if !ok {
		return zeros(prefix)
	}
	elems := make([]ir.Expr, len(tt.Elems))
	for i, e := range tt.Elems {
		elems[i] = replaceLeaf(blk, e, p, leaf, zeros, append(append(leafPath(nil), prefix...), i))
	}
	return blk.bind("seed", &ir.MakeTuple{Elems: elems, P: blk.pos})
}

// shapeOf binds the sizes of x's axes and their product.
func shapeOf(blk *block, x ir.Expr) ([]ir.Expr, ir.Expr) {
	b := blk.builder()
	r := ir.Rank(x.Type())
	sizes := make([]ir.Expr, r)
	var n ir.Expr = b.I64(1)
	for ax := range r {
		sizes[ax] = blk.bind("d", b.PrimAux(ir.PrimDim, ax, x))
		if ax == 0 {
			n = sizes[0]
		} else {
			n = blk.bind("n", b.Prim(ir.PrimMul, n, sizes[ax]))
		}
	}
	return sizes, n
}

// flatDim is the static size of a tensor type's elements, if known.
func flatDim(t ir.Type) ir.Dim {
	n := int64(1)
	for _, d := range ir.Dims(t) {
		if !d.Known() {
			return ir.Unknown
		}
		n *= d.N
	}
	return ir.ConstDim(n)
}

// nestedBuild builds an array of the given (static) dims and sizes whose
// element at multi-index idx, with row-major flat index flat, is body's.
func nestedBuild(blk *block, dims []ir.Dim, sizes []ir.Expr, body func(ib *block, idx []ir.Expr, flat ir.Expr) ir.Expr) ir.Expr {
	var rec func(outer *block, level int, idx []ir.Expr, flat ir.Expr) ir.Expr
	rec = func(outer *block, level int, idx []ir.Expr, flat ir.Expr) ir.Expr {
		if level == len(dims) {
			return body(outer, idx, flat)
		}
		b := outer.builder()
		i := ir.NewVar("i", ir.TI64, blk.pos)
		ib := &block{pos: blk.pos}
		f := ir.Expr(i)
		if level > 0 {
			f = ib.bind("k", b.Prim(ir.PrimAdd, ib.bind("k", b.Prim(ir.PrimMul, flat, sizes[level])), i))
		}
		elem := rec(ib, level+1, append(append([]ir.Expr(nil), idx...), i), f)
		lam := &ir.Lambda{Params: []*ir.Var{i}, Body: ib.close(elem), P: blk.pos}
		return outer.bind("b", b.PrimAux(ir.PrimBuild, dims[level], sizes[level], lam))
	}
	return rec(blk, 0, nil, nil)
}

// oneHotLike is the array of x's shape with a 1 at row-major flat index k
// (for a scalar x, 1).
func oneHotLike(blk *block, x ir.Expr, k ir.Expr) ir.Expr {
	t := x.Type()
	if ir.Rank(t) == 0 {
		return ir.F64Const(1, blk.pos)
	}
	sizes, _ := shapeOf(blk, x)
	return nestedBuild(blk, ir.Dims(t), sizes, func(ib *block, _ []ir.Expr, flat ir.Expr) ir.Expr {
		b := ib.builder()
		return b.If(b.Prim(ir.PrimEq, flat, k), b.F64(1), b.F64(0))
	})
}

// unzipTree splits an array of tuple trees [N]T into the arrays [N]T_p of
// its leaves, by path.
func unzipTree(blk *block, arr ir.Expr, t ir.Type, into map[string]ir.Expr, prefix leafPath) {
	tt, ok := t.(*ir.Tuple)
	if !ok {
		into[pathKey(prefix)] = arr
		return
	}
	b := blk.builder()
	var cols ir.Expr
	if len(tt.Elems) == 1 {
		a := ir.NewVar("a", tt, blk.pos)
		col := &ir.Lambda{Params: []*ir.Var{a}, Body: &ir.Proj{X: a, Index: 0, P: blk.pos}, P: blk.pos}
		one := blk.bind("col", b.Prim(ir.PrimMap, col, arr))
		unzipTree(blk, one, tt.Elems[0], into, append(append(leafPath(nil), prefix...), 0))
		return
	}
	cols = blk.bind("cols", b.Prim(ir.PrimUnzip, arr))
	for i, e := range tt.Elems {
		c := blk.bind("col", b.Proj(cols, i))
		unzipTree(blk, c, e, into, append(append(leafPath(nil), prefix...), i))
	}
}

func pathKey(p leafPath) string {
	s := ""
	for _, i := range p {
		s += string(rune('a' + i))
	}
	return s
}

// assemble lays the blocks out as ir.JacobianType does: output tuples
// outermost, then input tuples.
func assemble(blk *block, out, in ir.Type, q, p leafPath, block func(q, p leafPath) ir.Expr) ir.Expr {
	if tt, ok := out.(*ir.Tuple); ok {
		elems := make([]ir.Expr, len(tt.Elems))
		for i, o := range tt.Elems {
			elems[i] = assemble(blk, o, in, append(append(leafPath(nil), q...), i), p, block)
		}
		return blk.bind("jac", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	if tt, ok := in.(*ir.Tuple); ok {
		elems := make([]ir.Expr, len(tt.Elems))
		for i, x := range tt.Elems {
			elems[i] = assemble(blk, out, x, q, append(append(leafPath(nil), p...), i), block)
		}
		return blk.bind("jac", &ir.MakeTuple{Elems: elems, P: blk.pos})
	}
	return block(q, p)
}

// zerosOf returns, by path, zeros of the leaves of x, bound in blk on
// first use.
func zerosOf(blk *block, x ir.Expr) func(leafPath) ir.Expr {
	made := map[string]ir.Expr{}
	return func(p leafPath) ir.Expr {
		k := pathKey(p)
		if z := made[k]; z != nil {
			return z
		}
		z := zero(blk, at(blk, x, p))
		made[k] = z
		return z
	}
}

// jacobian expands jacfwd, jacrev and hessian (jacfwd of the gradient).
func (a *expander) jacobian(pc *ir.PrimCall, f fnOf) (ir.Expr, error) {
	pos := pc.P
	if pc.Op == ir.PrimHessian {
		g, err := a.gradLambda(f, pos)
		if err != nil {
			return nil, err
		}
		f = fnOf{lam: g}
	}
	ps := freshParams(f, pos)
	blk := &block{pos: pos}
	x := pack(blk, ps)
	// y gives the output's shapes; the gradient's are the input's.
	y := x
	if pc.Op != ir.PrimHessian {
		y = blk.bind("y", apply(f.expr(), asExprs(ps), pos))
	}
	var body ir.Expr
	var err error
	if pc.Op == ir.PrimJacrev {
		body, err = a.jacrev(blk, f, ps, x, y)
	} else {
		body, err = a.jacfwd(blk, f, ps, x, y)
	}
	if err != nil {
		return nil, err
	}
	return &ir.Lambda{Params: ps, Body: blk.close(body), P: pos}, nil
}

// sweep runs one linear map per element of src's leaves: for each leaf p
// of src and each flat index k of it, apply gives the image (a value of
// type dst) of the one-hot seed at k (zeros elsewhere). It returns, by
// src leaf and then dst leaf, the images of the leaf's elements stacked,
// [N]shape(q), or for a scalar src leaf the image itself.
func sweep(blk *block, src ir.Expr, dst ir.Type, apply func(ib *block, seed ir.Expr) ir.Expr) map[string]map[string]ir.Expr {
	pos := blk.pos
	srcT := src.Type()
	zeros := zerosOf(blk, src)
	out := map[string]map[string]ir.Expr{}
	for _, p := range leaves(srcT) {
		sp := at(blk, src, p)
		out[pathKey(p)] = map[string]ir.Expr{}
		image := func(ib *block, k ir.Expr) ir.Expr {
			return apply(ib, replaceLeaf(ib, srcT, p, ib.bind("seed", oneHotLike(ib, sp, k)), zeros, nil))
		}
		if ir.Rank(sp.Type()) == 0 {
			v := blk.bind("img", image(blk, ir.I64Const(0, pos)))
			for _, q := range leaves(dst) {
				out[pathKey(p)][pathKey(q)] = at(blk, v, q)
			}
			continue
		}
		_, n := shapeOf(blk, sp)
		kv := ir.NewVar("k", ir.TI64, pos)
		ib := &block{pos: pos}
		lam := &ir.Lambda{Params: []*ir.Var{kv}, Body: ib.close(image(ib, kv)), P: pos}
		arr := blk.bind("imgs", blk.builder().PrimAux(ir.PrimBuild, flatDim(sp.Type()), n, lam))
		unzipTree(blk, arr, dst, out[pathKey(p)], nil)
	}
	return out
}

// jacfwd: one JVP per input element.
func (a *expander) jacfwd(blk *block, f fnOf, ps []*ir.Var, x, y ir.Expr) (ir.Expr, error) {
	pos := blk.pos
	j, err := a.jvpFunc(f, pos)
	if err != nil {
		return nil, err
	}
	// One JVP per input element: split into a primal pass, run once here,
	// and a tangent map applied to each seed, if it can be (linearize.go).
	tangent := func(ib *block, seed ir.Expr) ir.Expr {
		r := ib.bind("jv", apply(ir.Copy(j), append(asExprs(ps), spread(ib, seed, len(ps))...), pos))
		return &ir.Proj{X: r, Index: 1, P: pos}
	}
	if prim, tan, ok := a.linearFunc(j, len(ps)); ok {
		r := blk.bind("lin", apply(ir.Copy(prim), asExprs(ps), pos))
		res := blk.bind("res", &ir.Proj{X: r, Index: 1, P: pos})
		tangent = func(ib *block, seed ir.Expr) ir.Expr {
			return apply(ir.Copy(tan), append([]ir.Expr{res}, spread(ib, seed, len(ps))...), pos)
		}
	}
	// cols[p][q]: for input leaf p, the tangents of output leaf q.
	cols := sweep(blk, x, y.Type(), tangent)
	return assemble(blk, y.Type(), x.Type(), nil, nil, func(q, p leafPath) ir.Expr {
		col := cols[pathKey(p)][pathKey(q)]
		xp := at(blk, x, p)
		if ir.Rank(xp.Type()) == 0 {
			return col
		}
		yq := at(blk, y, q)
		osizes, _ := shapeOf(blk, yq)
		isizes, _ := shapeOf(blk, xp)
		dims := append(ir.Dims(yq.Type()), ir.Dims(xp.Type())...)
		sizes := append(osizes, isizes...)
		ro := len(osizes)
		// J[o][i] = col[flat(i)][o]: the flat index of i restarts below o.
		return nestedBuild(blk, dims, sizes, func(ib *block, idx []ir.Expr, _ ir.Expr) ir.Expr {
			b := ib.builder()
			fi := idx[ro]
			for l := ro + 1; l < len(idx); l++ {
				fi = ib.bind("k", b.Prim(ir.PrimAdd, ib.bind("k", b.Prim(ir.PrimMul, fi, sizes[l])), idx[l]))
			}
			e := ib.bind("c", b.Prim(ir.PrimIndex, col, fi))
			for l := 0; l < ro; l++ {
				e = ib.bind("c", b.Prim(ir.PrimIndex, e, idx[l]))
			}
			return e
		})
	}), nil
}

// jacrev: one VJP per output element.
func (a *expander) jacrev(blk *block, f fnOf, ps []*ir.Var, x, y ir.Expr) (ir.Expr, error) {
	pos := blk.pos
	v, err := a.vjpFunc(f, pos)
	if err != nil {
		return nil, err
	}
	// rows[q][p]: for output leaf q, the cotangents of input leaf p.
	rows := sweep(blk, y, x.Type(), func(ib *block, seed ir.Expr) ir.Expr {
		r := ib.bind("vj", apply(ir.Copy(v), append(asExprs(ps), seed), pos))
		return &ir.Proj{X: r, Index: 1, P: pos}
	})
	return assemble(blk, y.Type(), x.Type(), nil, nil, func(q, p leafPath) ir.Expr {
		row := rows[pathKey(q)][pathKey(p)]
		yq := at(blk, y, q)
		if ir.Rank(yq.Type()) <= 1 {
			return row // the cotangent itself, or [N]shape(p): the block
		}
		osizes, _ := shapeOf(blk, yq)
		return nestedBuild(blk, ir.Dims(yq.Type()), osizes, func(ib *block, _ []ir.Expr, flat ir.Expr) ir.Expr {
			return ib.bind("r", ib.builder().Prim(ir.PrimIndex, row, flat))
		})
	}), nil
}
