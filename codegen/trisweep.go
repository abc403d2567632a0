package codegen

// One sweep over a lower-triangular matrix for the reverse pass of a
// quadratic form. The reverse pass of GMM's sum((Q (x − μ))^2), once AD
// has recomputed Q (x − μ) (a view operation, ad/vjp_again.go), is
//
//	let c = 2.0 * (Q @ y) * s             // s: scalars
//	let a = acc_add_at(mubar, j, -(c @ Q))
//	let b = acc_add_at(qbar, j, outer(c, y))
//
// compiled as three passes over Q and its cotangent: the product Q y
// (tri.go, one row at a time), c @ Q (tri.go, columns) and the outer
// product into qbar. Element r of c needs row r of Q y only, so one sweep
// down the rows of Q does all three, four rows at a time: row r's sum
// (Q y)_r, then c_r, then c_r·Q[r][:] added to the column sums of c @ Q
// and c_r·y added to row r of qbar, while the rows are in registers and
// cache. The sums are the same in the same order: (Q y)_r adds row r's
// terms from column 0 on (the zero terms right of the diagonal that a
// block of four rows includes end the sum, as tri.go's do); column c of
// c @ Q adds its terms in row order from +0.0 (the zero terms of rows
// above the diagonal come first, while the sum is still +0.0); qbar's
// elements are each one product added. So the results have the same bits
// as the three passes, on the condition tri.go's loops rely on: the
// factors of the skipped or added zeros are finite. That is tested
// before the sweep for y (the last row of Q y has every term and is
// finite only when every y[c] is) and after it for c (the first column
// of c @ Q has every term); when the latter fails, c @ Q is computed
// again with every term, as tri.go does.
//
// The sweep runs only where nothing in the three lets can fail: Q is
// square with 8 to 32 rows, y and the accumulators' rows have its size,
// the indexes are in range. Otherwise (and when y is not all finite) the
// three lets are compiled as always, in the other branch of an if, so
// errors and results are the general code's.
//
// Where nothing reads qbar's entries above the diagonal (triupper.go),
// the sweep adds c_r·y to row r of qbar up to the diagonal only (a block
// of four rows up to the last row's diagonal): the entries below keep
// their bits, the ones above keep their old value, which no result sees.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// triSweep is the matched chain of three lets.
type triSweep struct {
	c, a, b    *ir.Let
	m, y       *ir.Var // Q and y
	mv         *ir.PrimCall
	neg        bool // a adds -(c @ Q) rather than c @ Q
	sa, sb     *ir.Var
	ia, ib     *ir.Var
	cUsedAfter bool // c is read after the three lets
	lowerOnly  bool // b's entries above the diagonal are never read (triupper.go)
	// kept, in a fused loop (pointfuse.go), holds Q y as the forward
	// pass computed it: the sweep reads its row sums from there.
	kept *pointFuse
}

// matchTriSweep recognizes the chain starting at e (see above).
func (f *fn) matchTriSweep(e *ir.Let) *triSweep {
	if f.g.opts.noSweep || f.noSweepAt[e] || f.inLet(e) {
		return nil
	}
	t := &triSweep{c: e}
	if ir.Rank(e.Var.T) != 1 || !f64Leaf(e.Var.T) {
		return nil
	}
	t.mv = sweepRecipe(e.Value)
	if t.mv == nil {
		return nil
	}
	t.m, _ = t.mv.Args[0].(*ir.Var)
	t.y, _ = t.mv.Args[1].(*ir.Var)
	if t.m == nil || t.y == nil || ir.Rank(t.m.T) != 2 || ir.Rank(t.y.T) != 1 || !f.isLowerTri(t.m) {
		return nil
	}
	var ok bool
	if t.a, ok = e.Body.(*ir.Let); !ok || f.inLet(t.a) {
		return nil
	}
	if t.b, ok = t.a.Body.(*ir.Let); !ok || f.inLet(t.b) {
		return nil
	}
	// a = acc_add_at(sa, ia, ±(c @ Q)).
	pa, ok := t.a.Value.(*ir.PrimCall)
	if !ok || pa.Op != ir.PrimAccAddAt || ir.Rank(pa.T) != 2 {
		return nil
	}
	x := pa.Args[2]
	if n, ok := x.(*ir.PrimCall); ok && n.Op == ir.PrimNeg {
		t.neg, x = true, n.Args[0]
	}
	vm, ok := x.(*ir.PrimCall)
	if !ok || vm.Op != ir.PrimMatmul || vm.Args[0] != ir.Expr(e.Var) || vm.Args[1] != ir.Expr(t.m) {
		return nil
	}
	// b = acc_add_at(sb, ib, outer(c, y)).
	pb, ok := t.b.Value.(*ir.PrimCall)
	if !ok || pb.Op != ir.PrimAccAddAt || ir.Rank(pb.T) != 3 {
		return nil
	}
	op, ok := pb.Args[2].(*ir.PrimCall)
	if !ok || op.Op != ir.PrimOuter || op.Args[0] != ir.Expr(e.Var) || op.Args[1] != ir.Expr(t.y) {
		return nil
	}
	t.sa, _ = pa.Args[0].(*ir.Var)
	t.ia, _ = pa.Args[1].(*ir.Var)
	t.sb, _ = pb.Args[0].(*ir.Var)
	t.ib, _ = pb.Args[1].(*ir.Var)
	if t.sa == nil || t.ia == nil || t.sb == nil || t.ib == nil || t.sa == t.sb {
		return nil
	}
	for _, v := range []*ir.Var{t.sa, t.ia, t.sb, t.ib, t.m, t.y} {
		if _, ok := f.env[v]; !ok {
			return nil
		}
	}
	// The accumulators are updated in place, as lowerAccAddAt does with
	// ones that are not views (it copies a view first).
	if f.isView(f.env[t.sa]) || f.isView(f.env[t.sb]) {
		return nil
	}
	// The sweep writes qbar while it reads Q and y: four different
	// arrays (an accumulator is its loop's own, so a different name is a
	// different array).
	data := []string{f.env[t.sa].parts[0], f.env[t.sb].parts[0], f.env[t.m].parts[0], f.env[t.y].parts[0]}
	if len(uniq(data)) != len(data) {
		return nil
	}
	// Each accumulator is read by its own let only; a or b unread would
	// leave nothing to assign.
	if n, _ := f.varUses(t.b.Body, t.a.Var); n == 0 {
		return nil
	}
	if n, _ := f.varUses(t.b.Body, t.b.Var); n == 0 {
		return nil
	}
	n, _ := f.varUses(t.b.Body, e.Var)
	t.cUsedAfter = n > 0
	t.lowerOnly = f.upperUnread(t.b.Var)
	if f.pf != nil && f.pf.rev == t.mv {
		t.kept = f.pf
	}
	return t
}

// inLet reports whether l is a let of inlined code (its frames differ).
func (f *fn) inLet(l *ir.Let) bool {
	_, ok := f.inl[l]
	return ok
}

func f64Leaf(t ir.Type) bool {
	k, ok := ir.Leaf(t)
	return ok && k == ir.F64
}

// sweepRecipe returns the one product M @ y in e, a vector recipe of
// elementwise arithmetic on it and on scalar values (variables,
// constants and arithmetic on them), or nil.
func sweepRecipe(e ir.Expr) *ir.PrimCall {
	var found *ir.PrimCall
	var walk func(x ir.Expr) bool
	walk = func(x ir.Expr) bool {
		if ir.Rank(x.Type()) == 0 {
			return scalarArith(x)
		}
		pc, ok := x.(*ir.PrimCall)
		if !ok {
			return false
		}
		switch pc.Op {
		case ir.PrimMatmul:
			if found != nil || ir.Rank(pc.T) != 1 {
				return false
			}
			found = pc
			return true
		case ir.PrimNeg:
			return walk(pc.Args[0])
		case ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimDiv:
			if ir.Rank(pc.Args[0].Type()) > 0 && ir.Rank(pc.Args[1].Type()) > 0 {
				return false // two vectors: more than one product
			}
			return walk(pc.Args[0]) && walk(pc.Args[1])
		}
		return false
	}
	if !f64Leaf(e.Type()) || !walk(e) {
		return nil
	}
	return found
}

// scalarArith reports whether x is an f64 variable, constant, element
// of an array variable at a variable or constant index, or arithmetic
// on them. (Compiled before the sweep, as the general code compiles it
// before its loops: an index error is the same error in both.)
func scalarArith(x ir.Expr) bool {
	if !f64Leaf(x.Type()) || ir.Rank(x.Type()) != 0 {
		return false
	}
	switch x := x.(type) {
	case *ir.Var, *ir.Const:
		return true
	case *ir.PrimCall:
		switch x.Op {
		case ir.PrimIndex:
			_, arr := x.Args[0].(*ir.Var)
			switch x.Args[1].(type) {
			case *ir.Var, *ir.Const:
				return arr && ir.Rank(x.Args[0].Type()) == 1
			}
			return false
		case ir.PrimNeg, ir.PrimAdd, ir.PrimSub, ir.PrimMul, ir.PrimDiv:
			for _, a := range x.Args {
				if !scalarArith(a) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// compileTriSweep compiles the three lets of t and goes on with the
// body of the last.
func (f *fn) compileTriSweep(t *triSweep) val {
	mq, yv := f.env[t.m], f.env[t.y]
	sa, sb := f.env[t.sa], f.env[t.sb]
	ia, ib := f.env[t.ia].parts[0], f.env[t.ib].parts[0]
	q, rows, cols := mq.parts[0], mq.parts[1], mq.parts[2]
	y, ny := yv.parts[0], yv.parts[1]

	// c's value, when read after the lets, is assigned in both branches;
	// a and b are the accumulators sa and sb, updated in place by both.
	var res val
	if t.cUsedAfter {
		res = f.declare("sw", t.c.Var.T)
	}

	// Where the sweep runs: nothing can fail, and y is finite.
	ok := f.fresh("sweep")
	conds := []string{
		rows + " == " + cols, rows + " >= 8", rows + " <= 32", ny + " == " + cols,
		ia + " >= 0", ia + " < int64(" + sa.parts[1] + ")", sa.parts[2] + " == " + cols,
		ib + " >= 0", ib + " < int64(" + sb.parts[1] + ")", sb.parts[2] + " == " + rows, sb.parts[3] + " == " + ny,
	}
	var kept string
	if t.kept != nil {
		// The kept row has Q's row count (the fused loop's condition).
		if rows != t.kept.rows {
			conds = append(conds, rows+" == "+t.kept.rows)
		}
		kept = f.fresh("kept")
		f.line("var %s []float64", kept)
	}
	f.line("%s := false", ok)
	f.line("if %s {", strings.Join(uniq(nonTrivial(conds)), " && "))
	if t.kept != nil {
		// The forward pass's Q y for this component: its last element
		// is the last row's sum, with every term.
		j := f.env[t.kept.revIdx].parts[0]
		f.line("%s = %s[int(%s)*%s:][:%s]", kept, t.kept.buf, j, rows, rows)
		f.line("%s = math.Abs(%s[%s-1]) <= math.MaxFloat64", ok, kept, rows)
	} else {
		last, s, c, qv := f.fresh("last"), f.fresh("s"), f.fresh("c"), f.fresh("v")
		f.line("%s := %s[(%s-1)*%s:][:%s]", last, q, rows, cols, cols)
		f.line("%s := 0.0", s)
		f.line("for %s, %s := range %s {", c, qv, last)
		f.line("%s += %s * %s[%s]", s, qv, y, c)
		f.line("}")
		f.line("%s = math.Abs(%s) <= math.MaxFloat64", ok, s)
	}
	f.line("}")
	f.line("if %s {", ok)
	f.sweepBranch(t, res, mq, yv, sa, sb, ia, ib, kept)
	f.line("} else {")
	// The general code: the three lets as they are, their values as a
	// tuple (c, a, b).
	gen := ir.Expr(&ir.MakeTuple{Elems: []ir.Expr{t.c.Var, t.a.Var, t.b.Var}, P: t.b.P})
	gen = &ir.Let{Var: t.b.Var, Value: t.b.Value, Body: gen, P: t.b.P}
	gen = &ir.Let{Var: t.a.Var, Value: t.a.Value, Body: gen, P: t.a.P}
	first := &ir.Let{Var: t.c.Var, Value: t.c.Value, Body: gen, P: t.c.P}
	if f.noSweepAt == nil {
		f.noSweepAt = map[*ir.Let]bool{}
	}
	f.noSweepAt[first] = true
	f.branchTo(first, res, func(_, v val) {
		if !slices.Equal(projVal(v, 1).parts, sa.parts) || !slices.Equal(projVal(v, 2).parts, sb.parts) {
			f.g.fail("%s: internal error: acc_add_at did not update its accumulator in place", t.a.P)
		}
		if t.cUsedAfter {
			f.assign(res, projVal(v, 0))
		}
	})
	f.line("}")
	if t.cUsedAfter {
		f.env[t.c.Var] = res
	}
	f.env[t.a.Var], f.env[t.b.Var] = sa, sb
	return f.compileL(t.b.Body)
}

// sweepBranch emits the sweep and assigns the three lets' values to res.
// With kept (the forward pass's Q y for this component, pointfuse.go)
// the row sums are read from it instead of computed.
func (f *fn) sweepBranch(t *triSweep, res, mq, yv, sa, sb val, ia, ib, kept string) {
	q, d := mq.parts[0], mq.parts[1]
	y := yv.parts[0]
	// c's recipe over Q y, whose element r is the local holding row r's
	// sum when the recipe is evaluated: the same element expression as
	// the general code's, on the same value.
	sums := map[string]string{}
	cv := f.def("cv", f.mkW(ir.F64, d))
	av := f.def("av", f.mkW(ir.F64, mq.parts[2]))
	pv := ir.NewVar("qy", t.mv.T, t.mv.P)
	saved, had := f.env[pv]
	f.env[pv] = val{t: t.mv.T, lz: &lazy{kind: ir.F64, dims: []string{d}, safe: true, cheap: true,
		elem: func(idx string) string {
			s, ok := sums[idx]
			if !ok {
				f.g.fail("%s: internal error: the sweep's recipe read Q y at %s", t.c.P, idx)
			}
			return s
		}}}
	recipe := replaceExpr(t.c.Value, t.mv, pv)
	lzv := f.compileL(recipe)
	if had {
		f.env[pv] = saved
	} else {
		delete(f.env, pv)
	}
	if lzv.lz == nil || !lzv.lz.safe {
		f.g.fail("%s: internal error: the sweep's recipe is not a safe recipe", t.c.P)
	}
	elem := lzv.lz.elem
	rsa := f.rowSize(leaf{ir.F64, 2}, sa.parts)
	rsb := f.rowSize(leaf{ir.F64, 3}, sb.parts)
	arow := f.def("arow", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", sa.parts[0], ia, rsa, ia, rsa))
	bblk := f.def("bblk", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", sb.parts[0], ib, rsb, ib, rsb))
	yy := f.def("y", fmt.Sprintf("%s[:%s]", y, d))
	f.line("clear(%s)", av)
	r := f.fresh("r")
	f.line("%s := 0", r)
	// Rows left over from the blocks of four first (the shortest): rows
	// go in order, as the column sums of c @ Q need.
	f.line("for ; %s < %s%%4; %s++ {", r, d, r)
	{
		row, s, c, v := f.fresh("row"), f.fresh("s"), f.fresh("c"), f.fresh("v")
		f.line("%s := %s[%s*%s:][:%s+1]", row, q, r, d, r)
		if kept != "" {
			f.line("%s := %s[%s]", s, kept, r)
		} else {
			f.line("%s := 0.0", s)
			f.line("for %s, %s := range %s {", c, v, row)
			f.line("%s += %s * %s[%s]", s, v, yy, c)
			f.line("}")
		}
		sums[r] = s
		g := f.def("g", elem(r))
		f.line("%s[%s] = %s", cv, r, g)
		aa := f.def("aa", fmt.Sprintf("%s[:len(%s)]", av, row))
		f.line("for %s, %s := range %s {", c, v, row)
		f.line("%s[%s] += %s * %s", aa, c, g, v)
		f.line("}")
		// Row r of qbar: up to its diagonal when the rest is never read.
		bn, ys := "len("+yy+")", yy
		if t.lowerOnly {
			bn, ys = r+"+1", yy+"[:"+r+"+1]"
		}
		br := f.def("br", fmt.Sprintf("%s[%s*%s:][:%s]", bblk, r, d, bn))
		f.line("for %s, %s := range %s {", c, v, ys)
		f.line("%s[%s] += %s * %s", br, c, g, v)
		f.line("}")
	}
	f.line("}")
	f.line("for ; %s+4 <= %s; %s += 4 {", r, d, r)
	{
		n, blk := f.fresh("n"), f.fresh("blk")
		f.line("%s := %s + 4", n, r)
		f.line("%s := %s[%s*%s : (%s+4)*%s]", blk, q, r, d, r, d)
		rw := f.fresh4("q")
		f.line("%s, %s, %s, %s := %s[:%s], %s[%s:][:%s], %s[2*%s:][:%s], %s[3*%s:][:%s]", rw[0], rw[1], rw[2], rw[3], blk, n, blk, d, n, blk, d, n, blk, d, n)
		ss := f.fresh4("s")
		c, v := f.fresh("c"), f.fresh("v")
		if kept != "" {
			f.line("%s, %s, %s, %s := %s[%s], %s[%s+1], %s[%s+2], %s[%s+3]", ss[0], ss[1], ss[2], ss[3], kept, r, kept, r, kept, r, kept, r)
		} else {
			f.line("%s, %s, %s, %s := 0.0, 0.0, 0.0, 0.0", ss[0], ss[1], ss[2], ss[3])
			f.line("for %s, %s := range %s[:%s] {", c, v, yy, n)
			for k := range 4 {
				f.line("%s += %s[%s] * %s", ss[k], rw[k], c, v)
			}
			f.line("}")
		}
		gs := f.fresh4("g")
		for k := range 4 {
			sums[fmt.Sprintf("%s+%d", r, k)] = ss[k]
		}
		for k := range 4 {
			f.line("%s := %s", gs[k], elem(fmt.Sprintf("%s+%d", r, k)))
		}
		for k := range 4 {
			f.line("%s[%s+%d] = %s", cv, r, k, gs[k])
		}
		aa := f.def("aa", fmt.Sprintf("%s[:%s]", av, n))
		f.line("for %s := range %s {", c, aa)
		f.line("%s[%s] = %s[%s] + %s*%s[%s] + %s*%s[%s] + %s*%s[%s] + %s*%s[%s]", aa, c, aa, c,
			gs[0], rw[0], c, gs[1], rw[1], c, gs[2], rw[2], c, gs[3], rw[3], c)
		f.line("}")
		bb := f.def("bb", fmt.Sprintf("%s[%s*%s : (%s+4)*%s]", bblk, r, d, r, d))
		// Rows r..r+3 of qbar: up to the last one's diagonal (columns
		// r+1..r+3 of the first three are above theirs, added as well)
		// when the entries above the diagonal are never read.
		bn, ys := "len("+yy+")", yy
		if t.lowerOnly {
			bn, ys = n, yy+"[:"+n+"]"
		}
		br := f.fresh4("b")
		f.line("%s, %s, %s, %s := %s[:%s], %s[%s:][:%s], %s[2*%s:][:%s], %s[3*%s:][:%s]", br[0], br[1], br[2], br[3], bb, bn, bb, d, bn, bb, d, bn, bb, d, bn)
		f.line("for %s, %s := range %s {", c, v, ys)
		for k := range 4 {
			f.line("%s[%s] += %s * %s", br[k], c, gs[k], v)
		}
		f.line("}")
	}
	f.line("}")
	// c not all finite: c @ Q again with every term, column by column.
	f.line("if !(math.Abs(%s[0]) <= math.MaxFloat64) {", av)
	{
		c, r2, s, v := f.fresh("c"), f.fresh("r"), f.fresh("s"), f.fresh("v")
		f.line("for %s := range %s {", c, av)
		f.line("%s := 0.0", s)
		f.line("for %s, %s := range %s {", r2, v, cv)
		f.line("%s += %s * %s[%s*%s+%s]", s, v, q, r2, d, c)
		f.line("}")
		f.line("%s[%s] = %s", av, c, s)
		f.line("}")
	}
	f.line("}")
	op := "+= "
	if t.neg {
		op = "+= -"
	}
	{
		c := f.fresh("c")
		f.line("%s = %s[:len(%s)]", av, av, arow)
		f.line("for %s := range %s {", c, arow)
		f.line("%s[%s] %s%s[%s]", arow, c, op, av, c)
		f.line("}")
	}
	if t.cUsedAfter {
		f.assign(res, val{t: res.t, parts: []string{cv, d}})
	}
}

// uniq is ss without repeats, in order.
// nonTrivial drops the conditions "a == a" (true; y's length may be the
// atom it is compared with when y is a kept operand, pointfuse.go).
func nonTrivial(conds []string) []string {
	var out []string
	for _, c := range conds {
		if a, b, ok := strings.Cut(c, " == "); !ok || a != b {
			out = append(out, c)
		}
	}
	return out
}

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// replaceExpr is e with the node old replaced by v.
func replaceExpr(e ir.Expr, old ir.Expr, v *ir.Var) ir.Expr {
	if e == old {
		return v
	}
	pc, ok := e.(*ir.PrimCall)
	if !ok {
		return e
	}
	args := make([]ir.Expr, len(pc.Args))
	changed := false
	for i, a := range pc.Args {
		args[i] = replaceExpr(a, old, v)
		changed = changed || args[i] != a
	}
	if !changed {
		return e
	}
	cp := *pc
	cp.Args = args
	return &cp
}
