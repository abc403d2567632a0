package codegen

// Lower-triangular matrices known from the IR, and the matrix-vector
// products that use them.
//
// A build of a matrix whose element is provably 0.0 wherever the column
// index exceeds the row index,
//
//	build(n, fn(r) => build(m, fn(c) => if r == c then a else if r > c then b else 0.0))
//
// (GMM's qmat, once inlined), is lower-triangular, and so is every matrix
// of a build of such builds, a row of it, and a variable a let binds to
// one. The value of an IR variable never changes after its let, so the
// fact is a property of the IR alone: no run-time state is tracked.
//
// The small (≤ 32) forms of M @ x and x @ M then skip the zero half of M.
// Skipping a zero term of a sum does not change its bits when the other
// factor is finite: each sum starts at +0.0 and adds products in index
// order, the skipped terms are ±0 (0·v for finite v), and adding ±0 to a
// sum changes nothing (the sum is never -0.0: +0.0 plus any run of terms
// whose total is zero rounds to +0.0). The zeros M @ x skips end each row's
// sum; those x @ M skips start each column's, while the sum is still +0.0.
// A non-finite factor (0·Inf is NaN) would differ: the triangular loops
// run first, and the full ones run again when one element that has every
// term of the product (the last row of M @ x, the first column of x @ M)
// is not finite (triOr), so the result is the same bits either way.

import (
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// isLowerTri reports whether e, an array of rank ≥ 2, is provably zero
// above the diagonal of every matrix its last two dimensions form.
func (f *fn) isLowerTri(e ir.Expr) bool {
	if f.di == nil || f.g.opts.noTri || ir.Rank(e.Type()) < 2 {
		return false
	}
	if k, ok := ir.Leaf(e.Type()); !ok || k != ir.F64 {
		return false
	}
	if f.triLets == nil {
		f.triLets = triLetValues(f.di.def.Body)
	}
	return lowerTri(e, f.triLets, 0)
}

// triLetValues maps each variable a let in e binds to its value; a
// variable bound by two different lets maps to nil (never assumed).
func triLetValues(e ir.Expr) map[*ir.Var]ir.Expr {
	lets := map[*ir.Var]ir.Expr{}
	var walk func(x ir.Expr)
	walk = func(x ir.Expr) {
		if l, ok := x.(*ir.Let); ok {
			if old, seen := lets[l.Var]; seen && old != l.Value {
				lets[l.Var] = nil
			} else {
				lets[l.Var] = l.Value
			}
		}
		ir.EachChild(x, func(_ int, k ir.Expr) { walk(k) })
	}
	walk(e)
	return lets
}

// lowerTri is isLowerTri's recursion; depth bounds a chain of lets.
func lowerTri(e ir.Expr, lets map[*ir.Var]ir.Expr, depth int) bool {
	if depth > 64 || ir.Rank(e.Type()) < 2 {
		return false
	}
	switch e := e.(type) {
	case *ir.Let:
		return lowerTri(e.Body, lets, depth+1)
	case *ir.Var:
		v := lets[e]
		return v != nil && lowerTri(v, lets, depth+1)
	case *ir.If:
		return lowerTri(e.Then, lets, depth+1) && lowerTri(e.Else, lets, depth+1)
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimIndex:
			// A row of an array of lower-triangular matrices.
			return ir.Rank(e.Args[0].Type()) >= 3 && lowerTri(e.Args[0], lets, depth+1)
		case ir.PrimBuild:
			lam, ok := e.Args[1].(*ir.Lambda)
			if !ok || len(lam.Params) != 1 {
				return false
			}
			if ir.Rank(e.Type()) > 2 {
				return lowerTri(lam.Body, lets, depth+1)
			}
			// A matrix: row r's element is a build over c.
			inner, ok := peelLets(lam.Body).(*ir.PrimCall)
			if !ok || inner.Op != ir.PrimBuild {
				return false
			}
			cl, ok := inner.Args[1].(*ir.Lambda)
			if !ok || len(cl.Params) != 1 {
				return false
			}
			return zeroAbove(cl.Body, lam.Params[0], cl.Params[0])
		}
	}
	return false
}

// peelLets is the body under e's chain of lets.
func peelLets(e ir.Expr) ir.Expr {
	for {
		l, ok := e.(*ir.Let)
		if !ok {
			return e
		}
		e = l.Body
	}
}

// zeroAbove reports whether the scalar e is 0.0 whenever c > r.
func zeroAbove(e ir.Expr, r, c *ir.Var) bool {
	switch e := e.(type) {
	case *ir.Const:
		x, ok := e.Val.(float64)
		return ok && x == 0
	case *ir.Let:
		return zeroAbove(e.Body, r, c)
	case *ir.If:
		switch decideAbove(e.Cond, r, c) {
		case 1:
			return zeroAbove(e.Then, r, c)
		case -1:
			return zeroAbove(e.Else, r, c)
		}
		return zeroAbove(e.Then, r, c) && zeroAbove(e.Else, r, c)
	}
	return false
}

// decideAbove is a comparison of r and c when c > r: 1 true, -1 false, 0
// not known.
func decideAbove(e ir.Expr, r, c *ir.Var) int {
	pc, ok := e.(*ir.PrimCall)
	if !ok || len(pc.Args) != 2 {
		return 0
	}
	a, b := pc.Args[0], pc.Args[1]
	// lt says whether a < b holds (a = r, b = c) or fails (a = c, b = r).
	var lt bool
	switch {
	case a == ir.Expr(r) && b == ir.Expr(c):
		lt = true
	case a == ir.Expr(c) && b == ir.Expr(r):
		lt = false
	default:
		return 0
	}
	holds := map[*ir.Prim]bool{ir.PrimLt: lt, ir.PrimLe: lt, ir.PrimGt: !lt, ir.PrimGe: !lt, ir.PrimEq: false, ir.PrimNe: true}
	h, known := holds[pc.Op]
	switch {
	case !known:
		return 0
	case h:
		return 1
	}
	return -1
}

// triMin is the fewest columns (of M @ x; rows of x @ M) for which the
// triangular loops run: at d = 2 they made the GMM gradient 6–8% slower
// (their extra row and check cost more than the two zeros they skip), at
// d = 10 16% faster.
const triMin = 8

// triOr emits a product in its triangular form (tri) when the matrix is
// large enough (n, an int expression, at least triMin), then the full
// loops (full) again when the triangular form may differ: when the one
// element whose sum has every term of the product (y[at], at an int
// expression, when cover holds) is not finite. A finite sum has only
// finite terms, and a finite product m·v has a finite v, so then every
// element of the vector is finite and the skipped terms are zeros. Below
// triMin the full loops alone run: the test is the only cost the small
// sizes pay (a flag carried over the triangular block measured 3–5%
// slower at d = 2).
func (f *fn) triOr(n, y, at, cover string, tri, full func()) {
	f.line("if %s >= %d {", n, triMin)
	tri()
	f.line("if !(%s && math.Abs(%s[%s]) <= math.MaxFloat64) {", cover, y, at)
	full()
	f.line("}")
	f.line("} else {")
	full()
	f.line("}")
}

// triMatvecRows stores in y the products of the lower-triangular
// row-major matrix a (k columns) with x(c), each row r summing columns
// c ≤ r in column order. The first len(y) % 4 rows, the shortest, go one
// at a time; the rest four at a time as in smallMatvec (four sums in
// flight), each block up to its last row's diagonal: the extra terms are
// zeros at the end of the other rows' sums. (Blocks from the top, with
// the longest rows left over one at a time, measured slower: a row's
// chain of dependent additions is what bounds it.)
func (f *fn) triMatvecRows(y, a, k string, x func(c string) string) {
	r, blk, s, c, xc, row, n := f.fresh("r"), f.fresh("blk"), f.fresh("s"), f.fresh("c"), f.fresh("xc"), f.fresh("row"), f.fresh("n")
	rows, sums := f.fresh4("row"), f.fresh4("s")
	f.line("%s := 0", r)
	f.line("for ; %s < len(%s)%%4; %s++ {", r, y, r)
	f.line("%s := %s[%s*%s:][:min(%s+1, %s)]", row, a, r, k, r, k)
	f.line("%s := 0.0", s)
	f.line("for %s := range %s {", c, row)
	f.line("%s += %s[%s] * %s", s, row, c, x(c))
	f.line("}")
	f.line("%s[%s] = %s", y, r, s)
	f.line("}")
	f.line("for ; %s+4 <= len(%s); %s += 4 {", r, y, r)
	f.line("%s := min(%s+4, %s)", n, r, k)
	f.fourRows(y, a, r, k, n, blk, c, xc, rows, sums, x)
	f.line("}")
}

// triVecmat stores in y (cols long) the product x @ b of the vector x (k
// long, resliced) and the lower-triangular row-major k × cols matrix b:
// lowerMatmul's small loops, column c summing rows r ≥ c only (a block of
// four columns from its first column's diagonal).
func (f *fn) triVecmat(y, x, b, k, cols string) {
	c, r, v, s, q, o, lo := f.fresh("c"), f.fresh("r"), f.fresh("v"), f.fresh("s"), f.fresh("q"), f.fresh("o"), f.fresh("lo")
	sums := f.fresh4("s")
	f.line("%s := 0", c)
	f.line("for ; %s+4 <= %s; %s += 4 {", c, cols, c)
	f.line("%s := min(%s, %s)", lo, c, k)
	f.line("%s := 0.0, 0.0, 0.0, 0.0", strings.Join(sums, ", "))
	f.line("for %s, %s := range %s[%s:] {", r, v, x, lo)
	f.line("%s := (%s+%s)*%s + %s", o, lo, r, cols, c)
	f.line("%s := %s[%s : %s+4 : %s+4]", q, b, o, o, o)
	for j := range 4 {
		f.line("%s += %s * %s[%d]", sums[j], v, q, j)
	}
	f.line("}")
	f.line("%s[%s], %s[%s+1], %s[%s+2], %s[%s+3] = %s", y, c, y, c, y, c, y, c, strings.Join(sums, ", "))
	f.line("}")
	f.line("for ; %s < %s; %s++ {", c, cols, c)
	f.line("%s := min(%s, %s)", lo, c, k)
	f.line("%s := 0.0", s)
	f.line("for %s, %s := range %s[%s:] {", r, v, x, lo)
	f.line("%s += %s * %s[(%s+%s)*%s+%s]", s, v, b, lo, r, cols, c)
	f.line("}")
	f.line("%s[%s] = %s", y, c, s)
	f.line("}")
}
