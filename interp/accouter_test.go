package interp

import (
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestAccAddOuter checks acc_add(acc, outer(x, y)) and acc_add_at(acc, i,
// outer(x, y)), run as a rank-one update in place (compileAccAddOuter),
// against the same with the product bound by a let: results to the bit
// (signed zeros, an operand that is a row of the accumulator, an operand
// used twice), steps, and outer's and the accumulator's errors at their
// own positions.
func TestAccAddOuter(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	m := vec(vec(F))
	// The accumulation is on line 1, the product on line 2.
	mk := func(let bool, add func(v []*ir.Var, o ir.Expr) ir.Expr, x, y func(v []*ir.Var) ir.Expr) func(v []*ir.Var) ir.Expr {
		return func(v []*ir.Var) ir.Expr {
			at(&b, 2)
			o := p(ir.PrimOuter, x(v), y(v))
			at(&b, 1)
			if let {
				return b.Let("o", o, func(ov *ir.Var) ir.Expr { return add(v, ov) })
			}
			return add(v, o)
		}
	}
	add := func(v []*ir.Var, o ir.Expr) ir.Expr { return p(ir.PrimAccAdd, v[0], o) }
	addAt := func(v []*ir.Var, o ir.Expr) ir.Expr { return p(ir.PrimAccAddAt, v[0], v[1], o) }
	arg := func(k int) func(v []*ir.Var) ir.Expr { return func(v []*ir.Var) ir.Expr { return v[k] } }
	// row 0 of the accumulator: the product reads what it adds to.
	row0 := func(v []*ir.Var) ir.Expr { return p(ir.PrimIndex, v[0], b.I64(0)) }
	var defs []*ir.Def
	for _, let := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "_ref"}[let]
		def := func(name string, names []string, types []ir.Type, body func(v []*ir.Var) ir.Expr) {
			at(&b, 1)
			defs = append(defs, b.Def(name+suffix, names, types, body))
		}
		def("add", []string{"a", "x", "y"}, []ir.Type{m, vec(F), vec(F)}, mk(let, add, arg(1), arg(2)))
		def("at", []string{"a", "i", "x", "y"}, []ir.Type{vec(m), I, vec(F), vec(F)}, mk(let, addAt, arg(2), arg(3)))
		def("twice", []string{"a", "x"}, []ir.Type{m, vec(F)}, mk(let, add, arg(1), arg(1)))
		def("self", []string{"a", "y"}, []ir.Type{m, vec(F)}, mk(let, add, row0, arg(1)))
		def("self2", []string{"a", "x"}, []ir.Type{m, vec(F)}, mk(let, add, arg(1), row0))
	}
	it := mustNew(t, defs...)
	negz := math.Copysign(0, -1)
	cube := func(k, r, c int, xs ...float64) runtime.Value {
		a := runtime.FromF64(xs)
		a.Shape = []int{k, r, c}
		return runtime.Arr(a)
	}
	ok := []struct {
		name string
		def  string
		args func() []runtime.Value
	}{
		{"matrix", "add", func() []runtime.Value {
			return []runtime.Value{mat(2, 3, 1, negz, 3, 0.1, 0.2, negz), f64s(0.3, negz), f64s(1.5, 0, -2)}
		}},
		{"row of a stack", "at", func() []runtime.Value {
			return []runtime.Value{cube(2, 2, 2, 1, 2, 3, 4, negz, 6, 7, 8), runtime.I64(1), f64s(0.1, 0.7), f64s(negz, 3)}
		}},
		{"the same vector twice", "twice", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), f64s(0.25, -3)}
		}},
		{"x is a row of acc", "self", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), f64s(0.5, 1.5)}
		}},
		{"y is a row of acc", "self2", func() []runtime.Value {
			return []runtime.Value{mat(2, 2, 1, 2, 3, 4), f64s(0.5, 1.5)}
		}},
		{"empty", "add", func() []runtime.Value {
			a := runtime.FromF64(nil)
			a.Shape = []int{0, 3}
			return []runtime.Value{runtime.Arr(a), f64s(), f64s(1, 2, 3)}
		}},
	}
	for _, c := range ok {
		matchesRef(t, it, c.name, c.def, c.def+"_ref", c.args)
	}
	bad := []errCase{
		{"shape", "add", []runtime.Value{mat(2, 2, 0, 0, 0, 0), f64s(1, 2), f64s(1, 2, 3)}, 1, "acc_add: shapes [2][2] and [2][3] differ"},
		{"index", "at", []runtime.Value{cube(1, 1, 1, 0), runtime.I64(1), f64s(1), f64s(1)}, 1, "index 1 out of range [0, 1)"},
		{"row shape", "at", []runtime.Value{cube(1, 1, 2, 0, 0), runtime.I64(0), f64s(1), f64s(1)}, 1, "acc_add_at: row shapes [1][2] and [1][1] differ"},
	}
	checkErrs(t, it, bad)
	for i := range bad { // the primitives fail alike
		bad[i].def += "_ref"
	}
	checkErrs(t, it, bad)
	// Steps run out in the product or at the add, as with the primitives.
	sameStepLimits(t, it, "add", []int64{1, 5, 6, 7, 11, 12}, func() []runtime.Value {
		return []runtime.Value{mat(2, 3, 1, 2, 3, 4, 5, 6), f64s(1, 2), f64s(1, 2, 3)}
	})
}
