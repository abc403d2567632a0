package interp

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// mat makes a rows x cols f64 array from its elements.
func mat(rows, cols int, xs ...float64) runtime.Value {
	a := runtime.FromF64(xs)
	a.Shape = []int{rows, cols}
	return runtime.Arr(a)
}

// TestAccAddPad checks acc_add(acc, pad_like(v, lo, like)) and
// acc_add_at(acc, i, pad_like(...)), which run without making the padded
// array (compileAccAddPad): results, an accumulator that v reads, and
// pad_like's and the accumulator's errors at their own positions.
func TestAccAddPad(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	m := vec(vec(F))
	at(&b, 1)
	// def add(acc, v, lo, like) = acc_add(acc, pad_like(v, lo, like)) (pad_like on line 2)
	add := b.Def("add", []string{"acc", "v", "lo", "like"}, []ir.Type{vec(F), vec(F), I, vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		pad := p(ir.PrimPadLike, v[1], v[2], v[3])
		at(&b, 1)
		return p(ir.PrimAccAdd, v[0], pad)
	})
	add2 := b.Def("add2", []string{"acc", "v", "lo", "like"}, []ir.Type{m, m, I, m}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		pad := p(ir.PrimPadLike, v[1], v[2], v[3])
		at(&b, 1)
		return p(ir.PrimAccAdd, v[0], pad)
	})
	// def addAt(acc, i, v, lo, like) = acc_add_at(acc, i, pad_like(v, lo, like))
	addAt := b.Def("addAt", []string{"acc", "i", "v", "lo", "like"}, []ir.Type{m, I, vec(F), I, vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		pad := p(ir.PrimPadLike, v[2], v[3], v[4])
		at(&b, 1)
		return p(ir.PrimAccAddAt, v[0], v[1], pad)
	})
	// def self(a) = acc_add(a, pad_like(a[0:2], 1, a)): v reads the accumulator.
	self := b.Def("self", []string{"a"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		s := b.PrimAux(ir.PrimSlice, ir.Unknown, v[0], b.I64(0), b.I64(2))
		return p(ir.PrimAccAdd, v[0], p(ir.PrimPadLike, s, b.I64(1), v[0]))
	})
	it := mustNew(t, add, add2, addAt, self)
	ok := []struct {
		name string
		def  string
		args []runtime.Value
		want runtime.Value
	}{
		{"vector", "add", []runtime.Value{f64s(1, 1, 1, 1, 1), f64s(2, 3), runtime.I64(1), f64s(0, 0, 0, 0, 0)}, f64s(1, 3, 4, 1, 1)},
		{"vector at the end", "add", []runtime.Value{f64s(1, 1, 1), f64s(2, 3), runtime.I64(1), f64s(0, 0, 0)}, f64s(1, 3, 4)},
		{"empty v", "add", []runtime.Value{f64s(1, 1), f64s(), runtime.I64(2), f64s(0, 0)}, f64s(1, 1)},
		{"rows", "add2", []runtime.Value{mat(3, 2, 1, 1, 1, 1, 1, 1), mat(1, 2, 5, 6), runtime.I64(2), mat(3, 2, 0, 0, 0, 0, 0, 0)}, mat(3, 2, 1, 1, 1, 1, 6, 7)},
		{"row of acc", "addAt", []runtime.Value{mat(2, 4, 0, 0, 0, 0, 0, 0, 0, 0), runtime.I64(1), f64s(7, 8), runtime.I64(2), f64s(0, 0, 0, 0)}, mat(2, 4, 0, 0, 0, 0, 0, 0, 7, 8)},
		{"v reads acc", "self", []runtime.Value{f64s(1, 2, 3)}, f64s(1, 3, 5)},
	}
	for _, c := range ok {
		if got := call(t, it, c.def, c.args...); !same(got, c.want) {
			t.Errorf("%s: got %s, want %s", c.name, show(got), show(c.want))
		}
	}
	bad := []struct {
		name string
		def  string
		args []runtime.Value
		line int
		msg  string
	}{
		{"rows out of range", "add", []runtime.Value{f64s(0, 0, 0), f64s(1, 2), runtime.I64(2), f64s(0, 0, 0)}, 2, "pad_like: rows [2:4] out of range for length 3"},
		{"negative lo", "add", []runtime.Value{f64s(0, 0, 0), f64s(1), runtime.I64(-1), f64s(0, 0, 0)}, 2, "pad_like: rows [-1:0] out of range for length 3"},
		{"row shapes", "add2", []runtime.Value{mat(2, 2, 0, 0, 0, 0), mat(1, 3, 1, 2, 3), runtime.I64(0), mat(2, 2, 0, 0, 0, 0)}, 2, "pad_like: rows have shapes [3] and [2]"},
		{"acc shape", "add", []runtime.Value{f64s(0, 0), f64s(1), runtime.I64(0), f64s(0, 0, 0)}, 1, "acc_add: shapes [2] and [3] differ"},
		{"index", "addAt", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(2), f64s(1), runtime.I64(0), f64s(0, 0)}, 1, "index 2 out of range [0, 2)"},
		{"row shape", "addAt", []runtime.Value{mat(2, 2, 0, 0, 0, 0), runtime.I64(0), f64s(1), runtime.I64(0), f64s(0, 0, 0)}, 1, "acc_add_at: row shapes [2] and [3] differ"},
	}
	for _, c := range bad {
		e, err := callErr(t, it, c.def, runtime.Limits{}, c.args...)
		if e.Pos != pos(c.line) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v at %s, want %q at line %d", c.name, err, e.Pos, c.msg, c.line)
		}
	}
}

// TestAccZeroAt checks acc_zero_at(acc, i), which clears row i in place:
// a vector's element, a matrix's row, and an index out of range.
func TestAccZeroAt(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	zv := b.Def("zv", []string{"acc", "i"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
		return b.Prim(ir.PrimAccZeroAt, v[0], v[1])
	})
	zm := b.Def("zm", []string{"acc", "i"}, []ir.Type{vec(vec(F)), I}, func(v []*ir.Var) ir.Expr {
		return b.Prim(ir.PrimAccZeroAt, v[0], v[1])
	})
	it := mustNew(t, zv, zm)
	if got, want := call(t, it, "zv", f64s(1, 2, 3), runtime.I64(1)), f64s(1, 0, 3); !same(got, want) {
		t.Errorf("zv: got %s, want %s", show(got), show(want))
	}
	if got, want := call(t, it, "zm", mat(3, 2, 1, 2, 3, 4, 5, 6), runtime.I64(2)), mat(3, 2, 1, 2, 3, 4, 0, 0); !same(got, want) {
		t.Errorf("zm: got %s, want %s", show(got), show(want))
	}
	e, err := callErr(t, it, "zm", runtime.Limits{}, mat(1, 2, 1, 2), runtime.I64(1))
	if e.Pos != pos(1) || !strings.Contains(err.Error(), "index 1 out of range [0, 1)") {
		t.Errorf("zm out of range: %v at %s", err, e.Pos)
	}
}
