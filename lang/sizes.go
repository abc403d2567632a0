package lang

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Run-time size checks (SPEC §2). A def's declared result type and a
// loop's state fix sizes that the body's type may not show (take(x, k) has
// a size known only at run time); where the compiler cannot prove the
// sizes equal, elaboration wraps the value in check_dim calls, which
// every later stage keeps and every backend evaluates. Sizes that are
// known on both sides and differ are compile errors before this runs.

// dimValue is the i64 value of dimension d in the def being elaborated: a
// constant, or the size variable or i64 parameter that names it; nil when
// the size is unknown.
func (c *checker) dimValue(d ir.Dim, pos Pos) ir.Expr {
	switch {
	case d.Known():
		return ir.I64Const(d.N, pos)
	case d.Sym != "":
		if v := c.sizeVars[d.Sym]; v != nil {
			return v
		}
	}
	return nil
}

// needsCheck reports whether a value of type got may have sizes other than
// want's: some dimension is not statically the same.
func needsCheck(got, want ir.Type) bool {
	switch w := want.(type) {
	case *ir.Array:
		g, ok := got.(*ir.Array)
		if !ok {
			return false
		}
		return !g.Dim.SameStatically(w.Dim) || needsCheck(g.Elem, w.Elem)
	case *ir.Tuple:
		g, ok := got.(*ir.Tuple)
		if !ok || len(g.Elems) != len(w.Elems) {
			return false
		}
		for i := range w.Elems {
			if needsCheck(g.Elems[i], w.Elems[i]) {
				return true
			}
		}
	}
	return false
}

// checked returns x guarded so that its sizes are want's at run time. A
// dimension of want that is unknown takes its size from like (a value of
// type want, such as a loop's previous state), or is not checked when like
// is nil. what names x in messages ("the result of f"); pos is where a
// failed check is reported.
func (c *checker) checked(x ir.Expr, want ir.Type, like ir.Expr, what string, pos Pos) ir.Expr {
	if !needsCheck(x.Type(), want) || like != nil && x == like {
		return x
	}
	switch w := want.(type) {
	case *ir.Array:
		got := ir.Dims(x.Type())
		for axis, wd := range ir.Dims(w) {
			if axis >= len(got) || got[axis].SameStatically(wd) {
				continue
			}
			size, written := c.dimValue(wd, pos), wd.String()
			if size == nil && like != nil {
				size, written = &ir.PrimCall{Op: ir.PrimDim, Args: []ir.Expr{like}, Aux: axis, T: ir.TI64, P: pos}, ""
			}
			if size == nil {
				continue
			}
			aux := ir.DimCheck{Axis: axis, What: what, Type: want.String(), Size: written}
			x = &ir.PrimCall{Op: ir.PrimCheckDim, Args: []ir.Expr{x, size}, Aux: aux, T: x.Type(), P: pos}
		}
		// Arrays of tuples whose fields hold arrays are checked by their
		// dimensions only (see docs/decisions.md).
		return x
	case *ir.Tuple:
		v := ir.NewVar("checked", x.Type(), pos)
		elems := make([]ir.Expr, len(w.Elems))
		for i, wt := range w.Elems {
			var fieldLike ir.Expr
			if like != nil {
				fieldLike = &ir.Proj{X: like, Index: i, P: pos}
			}
			elems[i] = c.checked(&ir.Proj{X: v, Index: i, P: pos}, wt, fieldLike, fmt.Sprintf("field %d of %s", i, what), pos)
		}
		return &ir.Let{Var: v, Value: x, Body: &ir.MakeTuple{Elems: elems, P: pos}, P: pos}
	}
	return x
}
