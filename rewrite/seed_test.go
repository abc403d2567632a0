package rewrite_test

import (
	"testing"

	"github.com/nabla-lang/nabla/ad"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/rewrite"
)

// TestDefaultLeavesNoZeroTangentArithmetic pins the optimizer's promise for
// derivatives: after `default`, forward- and reverse-mode output does no
// arithmetic on a known zero (a zeros_like value or the constant 0.0 as an
// operand of + - * or an accumulator add) and binds no value it never uses.
func TestDefaultLeavesNoZeroTangentArithmetic(t *testing.T) {
	const src = `
def dotp(x: [n]f64, y: [n]f64): f64 = sum(x * y)
def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def mix(x: [n]f64, s: f64): f64 = sum(exp(x) * s) + s * s
def j1(x: [n]f64, y: [n]f64) = jvp(dotp, (x, y), (x, y))
def j2(x: [n]f64) = jvp(rosen, x, x)
def j3(x: [n]f64, s: f64) = jvp(fn(v) => mix(v, s), x, x)
def g1(x: [n]f64, y: [n]f64) = grad(dotp)(x, y)
def g2(x: [n]f64) = grad(rosen)(x)
def g3(x: [n]f64, s: f64) = grad(mix)(x, s)
`
	p, err := lang.Load("seed.nab", []byte(src), lang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = ad.Expand(p); err != nil {
		t.Fatal(err)
	}
	rw, err := pipeline.Rewriter()
	if err != nil {
		t.Fatal(err)
	}
	if p, _, err = rw.Apply(p, rewrite.Options{}); err != nil {
		t.Fatal(err)
	}
	arith := map[*ir.Prim]bool{ir.PrimAdd: true, ir.PrimSub: true, ir.PrimMul: true, ir.PrimAccAdd: true}
	for _, d := range p.Defs {
		zeros := map[*ir.Var]bool{}
		used := map[*ir.Var]bool{}
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if v, ok := x.(*ir.Var); ok && enter {
				used[v] = true
			}
			if l, ok := x.(*ir.Let); ok && enter {
				if pc, ok := l.Value.(*ir.PrimCall); ok && pc.Op == ir.PrimZerosLike {
					zeros[l.Var] = true
				}
			}
		}, nil)
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if !enter {
				return
			}
			switch x := x.(type) {
			case *ir.PrimCall:
				if !arith[x.Op] {
					return
				}
				for _, a := range x.Args {
					if v, ok := a.(*ir.Var); ok && zeros[v] && x.Op != ir.PrimAccAdd {
						t.Errorf("%s: %s on a zeros_like value:\n%s", d.Name, x.Op.Name, ir.PrintDef(d))
					}
					if c, ok := a.(*ir.Const); ok && c.Val == 0.0 && x.Op != ir.PrimMul {
						t.Errorf("%s: %s with the constant 0.0:\n%s", d.Name, x.Op.Name, ir.PrintDef(d))
					}
				}
			case *ir.Let:
				if !used[x.Var] {
					t.Errorf("%s: %s is bound but never used:\n%s", d.Name, x.Var.Name, ir.PrintDef(d))
				}
			}
		}, nil)
	}
}
