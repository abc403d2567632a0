package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Row accumulations in runs. Reverse mode accumulates the cotangent of a
// row of a matrix with acc_add_at(g, k, v): row k of g is updated in
// place, and nothing reads g after (package ad threads accumulators
// linearly). The backward sweeps of a vectorized program (ba.nab's
// rotate and residuals) chain many of them between elementwise lets,
//
//	let c = y_5 * g_26
//	let acc_10 = acc_add_at(g_16, 2, y_12 * c)
//	let acc_14 = acc_add_at(acc_10, 1, y_10 * c)
//
// and each used to end the run (group.go): one pass over the columns per
// link. Such a let is now a run member when the row is a vector: its
// checks (the index, the row's shape) are emitted when it is compiled,
// like any member's, and in the run's loop element i of the row becomes
// row[i] + v[i] (the sum the in-place loop row[j] += v[j] stores) and is
// stored at once. Everything the run computes at column i happens in the
// order of the lets, so a member before the update that reads the row
// reads the old element and one after it the new one, as in the unfused
// code. The class fused is: lets over vectors of one length, each
// reading its operands only at the loop's index; an accumulation joins
// only when its accumulator is its own storage (not a view: ownedAcc
// would copy it, before the loop, as it was before the run) and, if the
// run made it, is an earlier accumulation of the run (a literal member's
// rows may live in locals, not in its storage).

// accAtMember reports whether e is acc_add_at(g, k, v) of a matrix g of
// f64 whose row v is a recipe of one vector (a pad_like row stays with
// lowerAccAddAt, which adds only its nonzero part).
func accAtMember(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimAccAddAt || ir.Rank(pc.T) != 2 {
		return false
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
		return false
	}
	if !isVar(pc.Args[0]) || ir.Rank(pc.Args[2].Type()) != 1 {
		return false
	}
	if _, pad := isPad(pc.Args[2]); pad {
		return false
	}
	return recipeOnly(pc.Args[1]) && recipeOnly(pc.Args[2])
}

// accAtJoins reports whether the accumulation e (accAtMember) may join
// the run group: its accumulator is stored in an array of its own, and
// is either made before the run or by an accumulation of the run.
func (f *fn) accAtJoins(e *ir.Let, group []*groupMember, pending map[*ir.Var]bool) bool {
	src := e.Value.(*ir.PrimCall).Args[0].(*ir.Var)
	if pending[src] {
		joined := false
		for _, m := range group {
			joined = joined || m.acc && m.v == src
		}
		if !joined {
			return false
		}
	}
	acc, ok := f.env[src]
	return ok && acc.lz == nil && !f.isView(acc)
}

// compileAccAt compiles the member acc_add_at(g, k, v): the checks of
// lowerAccAddAt, in its order, then a view of row k, which the run's loop
// updates in place.
func (f *fn) compileAccAt(e *ir.Let, m *groupMember) {
	pc := e.Value.(*ir.PrimCall)
	acc := f.compile(pc.Args[0])
	i := f.compile(pc.Args[1]).parts[0]
	v := f.compileL(pc.Args[2])
	i = f.checkIndex(i, acc.parts[1], pc.P)
	vdims := dimsOf(v)
	f.failIf(acc.parts[2]+" != "+vdims[0], pc.P, fmt.Sprintf(`"acc_add_at: row shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, acc.parts[2], strings.Join(vdims, ", ")))
	rs := f.rowSize(leaf{ir.F64, 2}, acc.parts)
	row := f.def("row", fmt.Sprintf("%s[%s*int64(%s) : (%s+1)*int64(%s)]", acc.parts[0], i, rs, i, rs))
	ve, va := elemOf(v)
	sum := &lazy{kind: ir.F64, dims: vdims, arrays: append([]string{row}, va...), safe: v.lz == nil || v.lz.safe,
		elem: func(idx string) string { return "(" + row + "[" + idx + "] + (" + ve(idx) + "))" }}
	m.rows, m.dims = []val{{t: pc.Args[2].Type(), lz: sum}}, vdims
	m.elem, m.out, m.acc, m.accRow = row, []string{row}, true, v
	f.env[e.Var] = acc
}

// unfuseAccAt updates the row in place, as lowerAccAddAt does, for an
// accumulation whose row turned out not to be a safe recipe.
func (f *fn) unfuseAccAt(m *groupMember) {
	row, v := m.out[0], m.accRow
	if v.lz != nil {
		f.addInto(row, v.lz, "+")
		return
	}
	j := f.fresh("j")
	f.line("for %s := range %s {", j, row)
	f.line("%s[%s] += %s[%s]", row, j, v.parts[0], j)
	f.line("}")
}
