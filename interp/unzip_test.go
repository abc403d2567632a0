package interp

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestUnzipComprehension: unzip of a map or build of f64 tuples (forward
// mode's map of (primal, tangent) pairs) fills its columns directly
// (unzipComp), with the values unzip of the stacked array has, and a
// failing element fails the call at the element's position.
func TestUnzipComprehension(t *testing.T) {
	F := ir.TF64
	var b ir.Builder
	at(&b, 1)
	p := func(op *ir.Prim, args ...ir.Expr) ir.Expr { return b.Prim(op, args...) }
	// fn(e) => if e < 0.5 then (e*e, 2e) else (sin e, x[3]): x[3] fails on
	// arrays of three or fewer elements, once an element takes that branch.
	pair := func(e ir.Expr, x ir.Expr) ir.Expr {
		return b.If(p(ir.PrimLt, e, b.F64(0.5)),
			b.Tuple(p(ir.PrimMul, e, e), p(ir.PrimMul, b.F64(2), e)),
			b.Tuple(p(ir.PrimSin, e), p(ir.PrimIndex, x, b.I64(3))))
	}
	unzip := func(src ir.Expr) ir.Expr { return p(ir.PrimUnzip, src) }
	var defs []*ir.Def
	defs = append(defs, b.SizedDef("via_map", []string{"x"}, []ir.Type{symVec("n", F)}, func(v, _ []*ir.Var) ir.Expr {
		return unzip(p(ir.PrimMap, b.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr { return pair(e[0], v[0]) }), v[0]))
	}))
	defs = append(defs, b.SizedDef("via_build", []string{"x"}, []ir.Type{symVec("n", F)}, func(v, n []*ir.Var) ir.Expr {
		return unzip(p(ir.PrimBuild, n[0], b.Lambda([]string{"i"}, []ir.Type{ir.TI64}, func(i []*ir.Var) ir.Expr {
			return pair(p(ir.PrimIndex, v[0], i[0]), v[0])
		})))
	}))
	it := mustNew(t, defs...)
	for _, c := range []struct {
		name string
		x    []float64
		err  string // a failing element: the error names this
	}{
		{"mixed", []float64{0.1, 0.7, 0.3, 2, -1}, ""},
		{"empty", []float64{}, ""},
		{"one", []float64{0.25}, ""},
		{"failing element", []float64{0.1, 0.2, 0.9}, "index 3"},
	} {
		for _, def := range []string{"via_map", "via_build"} {
			if c.err != "" {
				e, err := callErr(t, it, def, runtime.Limits{}, f64s(c.x...))
				if err == nil || e == nil || e.Pos.Line != 1 || !strings.Contains(err.Error(), c.err) {
					t.Errorf("%s %s: error %v; want one at line 1 naming %q", def, c.name, err, c.err)
				}
				continue
			}
			got := call(t, it, def, f64s(c.x...)).Tuple()
			for j := range 2 {
				col := got[j].Array().F
				if len(col) != len(c.x) {
					t.Fatalf("%s %s: column %d has %d elements; want %d", def, c.name, j, len(col), len(c.x))
				}
				for i, e := range c.x {
					want := [2]float64{e * e, 2 * e}
					if e >= 0.5 {
						want = [2]float64{math.Sin(e), c.x[3]}
					}
					if col[i] != want[j] {
						t.Errorf("%s %s: column %d element %d = %v; want %v", def, c.name, j, i, col[i], want[j])
					}
				}
			}
		}
	}
}

// TestReuseScanShared: deciding whether a let's array may be recycled
// looks through each let-bound variable once, not once per path to it:
// 48 lets each choosing the previous one in both branches of an if (the
// kind of sharing unoptimized derivative code has, found by
// FuzzDifferential) load at once.
func TestReuseScanShared(t *testing.T) {
	b := &ir.Builder{Pos: pos(1)}
	x := ir.NewVar("x", vecN(3, ir.TF64), pos(1))
	c := ir.NewVar("c", ir.TBool, pos(1))
	y := ir.NewVar("y", vecN(3, ir.TF64), pos(1))
	var vars []*ir.Var
	var vals []ir.Expr
	prev := b.Prim(ir.PrimAdd, x, x)
	for i := range 48 {
		v := ir.NewVar(fmt.Sprint("a", i), prev.Type(), pos(1))
		vars, vals = append(vars, v), append(vals, prev)
		prev = &ir.If{Cond: c, Then: v, Else: v, P: pos(1)}
	}
	var body ir.Expr = &ir.MakeTuple{Elems: []ir.Expr{prev, b.Prim(ir.PrimSum, y)}, P: pos(1)}
	for i := len(vars) - 1; i >= 0; i-- {
		body = &ir.Let{Var: vars[i], Value: vals[i], Body: body, P: pos(1)}
	}
	body = &ir.Let{Var: y, Value: b.Prim(ir.PrimAdd, x, x), Body: body, P: pos(1)}
	f := &ir.Def{Name: "f", Params: []*ir.Var{x, c}, HasParams: true, Result: body.Type(), Body: body, P: pos(1)}
	it := mustNew(t, f)
	if got := call(t, it, "f", f64s(1, 2, 3), runtime.Bool(true)).Tuple()[1].F; got != 12 {
		t.Errorf("f([1, 2, 3], true).1 = %v, want 12", got)
	}
}
