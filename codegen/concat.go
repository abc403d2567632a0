package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// A chain of concats, concat(concat(dc, dx), [dw]) (BA's Jacobian
// rows), lowered one concat at a time copies the first operands once per
// level. lowerConcatTree lowers a tree of concats whose operands are
// concats themselves (not variables) as one: the operands are compiled
// and their shapes checked in the order and with the positions of the
// concats one at a time (each inner concat's check before the next
// operand is compiled, the outer check against the inner result's
// element shape, which is its first operand's), and then every leaf is
// copied once into one buffer. The numbers are the same.

// lowerConcatTree is concat's lowering.
func lowerConcatTree(f *fn, e *ir.PrimCall) val {
	if e == f.deferCat {
		f.deferCat = nil
		return f.deferredConcat(e) // catrows.go
	}
	if !treeOperand(e.Args[0]) && !treeOperand(e.Args[1]) {
		return lowerConcat(f, e)
	}
	leaves := f.concatLeaves(e, !ir.HasInPlace(e))
	ls, first := leaves[0].leafParts()
	rows := make([]string, len(leaves))
	for i, v := range leaves {
		rows[i] = v.parts[1]
	}
	out := val{t: e.T}
	n := f.def("n", strings.Join(rows, " + "))
	for k, l := range ls {
		lens := make([]string, len(leaves))
		parts := make([]string, len(leaves))
		for i, v := range leaves {
			_, p := v.leafParts()
			parts[i] = p[k][0]
			lens[i] = "len(" + parts[i] + ")"
		}
		d := f.def("c", f.mkW(l.kind, strings.Join(lens, "+")))
		off := f.def("o", "0")
		for _, p := range parts[:len(parts)-1] {
			f.line("%s += copy(%s[%s:], %s)", off, d, off, p)
		}
		f.line("copy(%s[%s:], %s)", d, off, parts[len(parts)-1])
		out.parts = append(out.parts, d, n)
		out.parts = append(out.parts, first[k][2:]...)
	}
	return out
}

// treeOperand reports whether e, a concat's operand, is lowered as part
// of the tree: a concat, or a literal of rows (whose rows are leaves,
// catrows.go).
func treeOperand(e ir.Expr) bool {
	lit, ok := e.(*ir.PrimCall)
	return isConcat(e) || ok && lit.Op == ir.PrimArray && rowsLit(lit)
}

func isConcat(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && pc.Op == ir.PrimConcat
}

// concatLeaves compiles the operands of a tree of concats, in order,
// checking each concat's operands' element shapes after compiling them,
// as lowerConcat would; it returns the leaves. With lits, a literal of
// rows gives its rows as leaves (catrows.go); the caller passes it only
// when nothing in the tree updates an array in place, since those rows
// are then read after the later operands are computed, where the
// literal would have copied them before.
func (f *fn) concatLeaves(e ir.Expr, lits bool) []val {
	if lit, ok := e.(*ir.PrimCall); ok && lits && lit.Op == ir.PrimArray && rowsLit(lit) {
		return f.litLeaves(lit) // catrows.go
	}
	if !isConcat(e) {
		return []val{f.compile(e)}
	}
	pc := e.(*ir.PrimCall)
	a := f.concatLeaves(pc.Args[0], lits)
	b := f.concatLeaves(pc.Args[1], lits)
	ls, ap := a[0].leafParts()
	_, bp := b[0].leafParts()
	for k, l := range ls {
		f.concatCheck(l, ap[k], bp[k], pc.P)
	}
	return append(a, b...)
}

// concatCheck fails at pos unless leaf l's parts ap and bp, concat's
// operands, have elements of one shape.
func (f *fn) concatCheck(l leaf, ap, bp []string, pos ir.Pos) {
	if l.rank <= 1 {
		return
	}
	var conds []string
	for d := 2; d <= l.rank; d++ {
		conds = append(conds, ap[d]+" != "+bp[d])
	}
	f.failIf(strings.Join(conds, " || "), pos, fmt.Sprintf(`"concat: elements have shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s})`, strings.Join(ap[2:], ", "), strings.Join(bp[2:], ", ")))
}
