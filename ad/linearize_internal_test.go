package ad

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestSplitInPlace checks the split against in-place accumulators: one
// in the tangent map must get a fresh value each call, never a residual;
// one in the primal pass must not overwrite a value the tangent map
// reads, or there is no split.
func TestSplitInPlace(t *testing.T) {
	pos := ir.Pos{}
	vec := ir.ArrayOf(ir.Unknown, ir.TF64)
	b := &ir.Builder{Pos: pos}
	cases := []struct {
		name string
		// body builds the JVP's bindings on p and dp, returning (y, dy).
		body  func(blk *block, p, dp ir.Expr) (ir.Expr, ir.Expr)
		split bool
		// inTan lists the bindings, by name, the tangent map must hold.
		inTan []string
	}{
		{"accumulator into a zero", func(blk *block, p, dp ir.Expr) (ir.Expr, ir.Expr) {
			z := blk.bindVar("z", &ir.PrimCall{Op: ir.PrimZerosLike, Args: []ir.Expr{p}, T: vec, P: pos})
			y := blk.bindVar("y", b.Prim(ir.PrimMul, p, p))
			return y, blk.bindVar("acc", b.Prim(ir.PrimAccAdd, z, dp))
		}, true, []string{"z", "acc"}},
		{"primal pass overwrites a residual", func(blk *block, p, dp ir.Expr) (ir.Expr, ir.Expr) {
			z := blk.bindVar("z", b.Prim(ir.PrimMul, p, p))
			u := blk.bindVar("u", b.Prim(ir.PrimMul, z, dp))
			return blk.bindVar("acc", b.Prim(ir.PrimAccAdd, z, p)), u
		}, false, nil},
		{"primal pass overwrites what a residual views", func(blk *block, p, dp ir.Expr) (ir.Expr, ir.Expr) {
			z := blk.bindVar("z", b.Prim(ir.PrimMul, p, p))
			w := blk.bindVar("w", z)
			u := blk.bindVar("u", b.Prim(ir.PrimMul, w, dp))
			return blk.bindVar("acc", b.Prim(ir.PrimAccAdd, z, p)), u
		}, false, nil},
		{"plain", func(blk *block, p, dp ir.Expr) (ir.Expr, ir.Expr) {
			z := blk.bindVar("z", b.Prim(ir.PrimMul, p, p))
			return z, blk.bindVar("u", b.Prim(ir.PrimMul, z, dp))
		}, true, []string{"u"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, dp := ir.NewVar("p", vec, pos), ir.NewVar("dp", vec, pos)
			blk := &block{pos: pos}
			y, dy := c.body(blk, p, dp)
			lam := &ir.Lambda{Params: []*ir.Var{p, dp}, Body: blk.close(&ir.MakeTuple{Elems: []ir.Expr{y, dy}, P: pos}), P: pos}
			a := &expander{lins: map[string]*linDefs{}, jvpPrimals: map[string]int{}}
			s, ok := a.splitJVP(lam, 1)
			if ok != c.split {
				t.Fatalf("split %v, want %v", ok, c.split)
			}
			if !ok {
				return
			}
			bound := map[string]bool{}
			for e := s.tan.Body; ; {
				l, ok := e.(*ir.Let)
				if !ok {
					break
				}
				if _, isProj := l.Value.(*ir.Proj); !isProj {
					bound[l.Var.Name] = true
				}
				e = l.Body
			}
			for _, n := range c.inTan {
				if !bound[n] {
					t.Errorf("the tangent map does not compute %s:\n%s", n, ir.PrintExpr(s.tan))
				}
			}
			if len(bound) != len(c.inTan) {
				t.Errorf("the tangent map computes %v, want %v", bound, c.inTan)
			}
		})
	}
}
