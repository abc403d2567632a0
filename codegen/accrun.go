package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Accumulations in runs. Reverse mode sums the cotangents of a vector
// with acc_add(g, v): g is updated in place, and nothing reads it after.
// ba.nab's backward sweeps are chains of them between elementwise lets
//
//	let c_8 = dp_1 * c_6
//	let acc_26 = acc_add(c_8, dp_2 * c_4)
//	let acc_28 = acc_add(acc_26, dp_3 * c_2)
//
// and each used to end the run (group.go), so every link was a pass over
// the observations writing a vector and the next reading it back. As the
// value it stands for, acc_add(g, v) of two vectors is g + v, element by
// element, the very sum the in-place loop stores (g[i] += v[i] is
// g[i] = g[i] + v[i]): so a let of one whose operands are recipes is a
// run member like any other, computed in the run's loop into a local,
// and stored only if read after the run. It is never computed in place
// there, so the accumulator's buffer is not written at all: no update of
// an array another member still reads can happen (passLet keeps in-place
// updates out of runs for the same reason).

// accMember reports whether e is acc_add(g, v) of two f64 vectors that
// are recipes (constant fills, acc_add(zeros_like(y), s), stay with
// lowerAccAdd, which makes them recipes already).
func accMember(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimAccAdd || ir.Rank(pc.T) != 1 || isConstFill(pc) {
		return false
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
		return false
	}
	for _, a := range pc.Args {
		if ir.Rank(a.Type()) != 1 || !recipeOnly(a) {
			return false
		}
		if _, pad := isPad(a); pad {
			return false
		}
	}
	return true
}

// accRecipe compiles acc_add(g, v) as the recipe g + v, with the shape
// check (and message) of acc_add.
func (f *fn) accRecipe(e *ir.PrimCall) val {
	g := f.compileL(e.Args[0])
	v := f.compileL(e.Args[1])
	gd, vd := dimsOf(g), dimsOf(v)
	if conds := dimConds(gd, vd); len(conds) > 0 {
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"acc_add: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, strings.Join(gd, ", "), strings.Join(vd, ", ")))
	}
	ge, ga := elemOf(g)
	ve, va := elemOf(v)
	safe := (g.lz == nil || g.lz.safe) && (v.lz == nil || v.lz.safe)
	return val{t: e.T, lz: &lazy{kind: ir.F64, dims: gd, arrays: append(append([]string(nil), ga...), va...), safe: safe,
		elem: func(idx string) string { return "(" + ge(idx) + " + " + ve(idx) + ")" }}}
}
