package codegen

// Straight-line copies of the small products' inner loops for the trip
// counts 1 to smallTripMax (M @ x, x @ M, and an accumulation of
// outer(x, y)).
//
// The small (≤ 32) forms of M @ x and x @ M run an inner loop over the
// shared dimension k for every row (or column) of the result. When k is
// known only at run time and is tiny — GMM at d = 2 multiplies a 2 × 2
// matrix by a 2-vector for every point and component — the loop's own
// work (the trip test, the index, a slice per row, x(c) evaluated again
// for every row) costs as much as the two multiplications. So the
// product is versioned on k: one test per product, and for k = 1 … 4 a
// switch to a body with the k terms written out and the k elements of
// the vector in locals; any other k runs the loops as before. The outer
// product that reverse mode accumulates into a matrix's cotangent
// (dst[i][j] += x[i]·y[j]) is versioned the same way on the length of y.
//
// The bits are the loops': each element is still one sum that starts at
// +0.0 and adds the products in index order, each product with its
// operands in the loops' order; only the loop around them is gone. The
// vector's elements are read (or, for a recipe such as x − μ, computed)
// once instead of once per row, which gives the same values: a recipe
// here is cheap (no failure, no call) and its arrays are resliced to k
// first, so reading them early cannot fail either. The general loops
// skip nothing below triMin columns, so the triangular forms (tri.go)
// are not involved: k ≤ smallTripMax < triMin.

import (
	"fmt"
	"strings"
)

// smallTripMax is the largest trip count that gets a straight-line copy.
// Each count costs one case of about ten lines per product; 4 covers
// GMM at d = 2, 3 and 4.
const smallTripMax = 4

// smallTrips emits general() for n (an int expression) outside 1 …
// smallTripMax, and otherwise a switch on n with body(m), the count m a
// constant, in each case. The general code comes first, so that a
// product of many columns pays one test and keeps its layout.
func (f *fn) smallTrips(n string, body func(m int), general func()) {
	if f.g.opts.noSmallTrips {
		general()
		return
	}
	f.line("if %s > %d || %s < 1 {", n, smallTripMax, n)
	general()
	f.line("} else {")
	f.line("switch %s {", n)
	for m := 1; m < smallTripMax; m++ {
		f.line("case %d:", m)
		body(m)
	}
	f.line("default:")
	body(smallTripMax)
	f.line("}")
	f.line("}")
}

// locals declares m fresh locals named after prefix, local k holding
// val(k), in one statement, and returns their names.
func (f *fn) locals(prefix string, m int, val func(k int) string) []string {
	names, vals := make([]string, m), make([]string, m)
	for k := range names {
		names[k], vals[k] = f.fresh(prefix), val(k)
	}
	f.line("%s := %s", strings.Join(names, ", "), strings.Join(vals, ", "))
	return names
}

// straightRows stores in y the products of the rows of the row-major
// matrix a (m columns) with the vector whose element c is x(c): x's m
// elements in locals, then for each row the m terms in column order,
// matrix element first (as the loops of matvec and smallMatvec write
// them).
func (f *fn) straightRows(y, a string, m int, x func(c string) string) {
	xs := f.locals("x", m, func(c int) string { return x(fmt.Sprint(c)) })
	r, q, s := f.fresh("r"), f.fresh("q"), f.fresh("s")
	f.line("for %s := range %s {", r, y)
	f.line("%s := %s[%s*%d : %s*%d+%d : %s*%d+%d]", q, a, r, m, r, m, m, r, m, m)
	f.line("%s := 0.0", s)
	for c := range m {
		f.line("%s += %s[%d] * %s", s, q, c, xs[c])
	}
	f.line("%s[%s] = %s", y, r, s)
	f.line("}")
}

// straightCols stores in y (cols long) the product x @ b of the vector x
// (m long) and the row-major m × cols matrix b: x's m elements in
// locals, then for each column the m terms in row order, vector element
// first (as lowerMatmul's loops write them).
func (f *fn) straightCols(y, x, b, cols string, m int) {
	xs := f.locals("x", m, func(r int) string { return fmt.Sprintf("%s[%d]", x, r) })
	// The m rows of b as slices of y's length, so that Go checks each
	// row's bounds once.
	rows := make([]string, m)
	for r := range rows {
		rows[r] = f.fresh("row")
		f.line("%s := %s[%d*%s:][:len(%s)]", rows[r], b, r, cols, y)
	}
	c, s := f.fresh("c"), f.fresh("s")
	f.line("for %s := range %s {", c, y)
	f.line("%s := 0.0", s)
	for r := range m {
		f.line("%s += %s * %s[%s]", s, xs[r], rows[r], c)
	}
	f.line("%s[%s] = %s", y, c, s)
	f.line("}")
}

// straightOuter emits dst[i*m+j] op= x[i] * y[j] for every i and the m
// elements j of y (addInto's loops for outer(x, y)): y's elements in
// locals, each row's m updates written out, in the loops' order.
func (f *fn) straightOuter(dst, x, y, op string, m int) {
	ys := f.locals("y", m, func(j int) string { return fmt.Sprintf("%s[%d]", y, j) })
	i, xi, row := f.fresh("i"), f.fresh("xi"), f.fresh("row")
	f.line("for %s, %s := range %s {", i, xi, x)
	f.line("%s := %s[%s*%d : %s*%d+%d : %s*%d+%d]", row, dst, i, m, i, m, m, i, m, m)
	for j := range m {
		f.line("%s[%d] %s= %s * %s", row, j, op, xi, ys[j])
	}
	f.line("}")
}
