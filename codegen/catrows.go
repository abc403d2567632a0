package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// An array literal whose elements are concats, [concat(dc, concat(dx,
// [dw])), ...] (BA's Jacobian: one row of 15 p-vectors per residual),
// lowered element by element copies every leaf twice: into the concat's
// buffer, then that buffer into the literal's row. Since a literal's row
// and a concat's result are both the leaves one after another, the
// leaves can go straight into the row. arrayLitCats compiles each such
// element up to its concat's checks (its lets, the leaves and the
// concats' shape checks, in order, with their positions) and defers the
// copies: after the literal's own shape checks and allocation, each
// leaf is copied once into its place in the row. Errors and numbers are
// those of the element-by-element lowering; only the copies through the
// concat's buffer are gone.

// catTail is the concat e ends in after a chain of lets (the element's
// value), or nil.
func catTail(e ir.Expr) *ir.PrimCall {
	for {
		switch x := e.(type) {
		case *ir.Let:
			e = x.Body
		case *ir.PrimCall:
			if x.Op == ir.PrimConcat {
				return x
			}
			return nil
		default:
			return nil
		}
	}
}

// litCats reports whether some element of the literal e (of arrays of
// one scalar kind) ends in a concat whose copy can be deferred: no later
// element updates an array in place, so the leaves still hold their
// values when the rows are stored.
func litCats(e *ir.PrimCall) bool {
	for i, a := range e.Args {
		if catTail(a) != nil && !laterInPlace(e.Args[i+1:]) {
			return true
		}
	}
	return false
}

func laterInPlace(later []ir.Expr) bool {
	for _, b := range later {
		if ir.HasInPlace(b) {
			return true
		}
	}
	return false
}

// arrayLitCats is arrayLitRows for a literal with concat elements (see
// above): litRows with the deferred elements' leaves copied into their
// rows, and every other row written as storeRows writes a row it cannot
// fuse.
func (f *fn) arrayLitCats(e *ir.PrimCall, at *ir.Array) val {
	k, _ := ir.Leaf(at.Elem)
	rows := make([]val, len(e.Args))
	leaves := make([][]val, len(e.Args))
	for i, a := range e.Args {
		later := laterInPlace(e.Args[i+1:])
		if c := catTail(a); c != nil && !later {
			saved, savedLeaves := f.deferCat, f.catLeaves
			f.deferCat, f.catLeaves = c, nil
			rows[i] = f.compileL(a)
			// nil when the element's concat was compiled some other way
			// (then rows[i] is its materialized result).
			leaves[i] = f.catLeaves
			f.deferCat, f.catLeaves = saved, savedLeaves
			continue
		}
		rows[i] = f.compileL(a)
		if rows[i].lz != nil && later {
			rows[i] = f.force(rows[i]) // as litRows: read before a later in-place update
		}
	}
	d0 := f.sameShapes(rows, e.P)
	n := fmt.Sprint(len(rows))
	rs := f.def("rs", strings.Join(d0, " * "))
	data := f.def("a", f.mkW(k, f.mulSize(n, rs, e.P)))
	for i, r := range rows {
		row := f.def("row", fmt.Sprintf("%s[%d*%s : %d*%s]", data, i, rs, i+1, rs))
		if leaves[i] == nil {
			f.writeRow(row, r)
			continue
		}
		off := f.def("o", "0")
		for j, l := range leaves[i] {
			if j == len(leaves[i])-1 {
				f.line("copy(%s[%s:], %s)", row, off, l.parts[0])
			} else {
				f.line("%s += copy(%s[%s:], %s)", off, row, off, l.parts[0])
			}
		}
	}
	return val{t: e.T, parts: append([]string{data, n}, d0...)}
}

// deferredConcat is concat's lowering when e is the concat of the
// literal element being compiled by arrayLitCats: the operands are
// compiled and checked as lowerConcatTree does, the leaves recorded for
// the literal to copy, and the result is only a shape (its data part
// names no array: nothing but the literal reads it).
func (f *fn) deferredConcat(e *ir.PrimCall) val {
	leaves := f.concatLeaves(e, !ir.HasInPlace(e))
	rows := make([]string, len(leaves))
	for i, v := range leaves {
		rows[i] = v.parts[1]
	}
	n := f.def("n", strings.Join(rows, " + "))
	f.catLeaves = leaves
	return val{t: e.T, parts: append([]string{deadAtom, n}, leaves[0].parts[2:]...)}
}

// A literal of rows as a concat's operand, concat(dx, [dw]), is built
// (its rows copied into its buffer) and then copied again into the
// concat's. Its rows can be leaves of the concat instead: litLeaves
// compiles the literal's rows and makes its checks (each row's shape
// against row 0's, the size's overflow) as arrayLitRows does, and gives
// each row as a leaf of one row. A row that is still a recipe (lazy)
// would be computed into the literal's row; then the literal is built as
// before and is one leaf.

// rowsLit reports whether lit is a literal that arrayLitRows lowers: of
// arrays of one scalar kind, with elements.
func rowsLit(lit *ir.PrimCall) bool {
	at, ok := lit.T.(*ir.Array)
	if !ok || len(lit.Args) == 0 {
		return false
	}
	if _, ok := at.Elem.(*ir.Array); !ok {
		return false
	}
	_, ok = ir.Leaf(at.Elem)
	return ok
}

// litLeaves is the leaves of the literal lit, a concat's operand.
func (f *fn) litLeaves(lit *ir.PrimCall) []val {
	if litCats(lit) {
		return []val{f.arrayLitCats(lit, lit.T.(*ir.Array))}
	}
	rows, rs := f.litRowsChecked(lit)
	for _, r := range rows {
		if r.lz != nil {
			k, _ := ir.Leaf(lit.T.(*ir.Array).Elem)
			data := f.def("a", f.mkW(k, f.mulSize(fmt.Sprint(len(rows)), rs, lit.P)))
			return []val{f.storeRows(lit.T, rows, data, rs)}
		}
	}
	// The allocation's size check, without the allocation.
	errv := f.fresh("err")
	f.line("if _, %s := runtime.MulSize(%d, %s); %s != nil {", errv, len(rows), rs, errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(lit.P), errv))
	f.line("}")
	leaves := make([]val, len(rows))
	for i, r := range rows {
		leaves[i] = val{t: lit.T, parts: append([]string{r.parts[0], "1"}, r.parts[1:]...)}
	}
	return leaves
}
