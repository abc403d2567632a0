package codegen

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestEveryPrimHasARule fails for any primitive that reaches code
// generation (every one but the AD operators, which package ad expands)
// without a lowering rule.
func TestEveryPrimHasARule(t *testing.T) {
	for _, p := range ir.Prims() {
		if p.AD != ir.NotAD {
			continue
		}
		r := rules[p]
		if r == nil {
			t.Errorf("primitive %s has no codegen rule", p.Name)
			continue
		}
		if p.Elementwise && r.F == nil && r.I == nil && r.B == nil {
			t.Errorf("elementwise primitive %s has no scalar expression", p.Name)
		}
		if !p.Elementwise && r.Lower == nil {
			t.Errorf("array primitive %s has no lowering", p.Name)
		}
		if p.Elementwise {
			for _, k := range p.Kinds {
				var e func([]string) string
				switch k {
				case ir.F64:
					e = r.F
				case ir.I64:
					e = r.I
				default:
					e = r.B
				}
				if e == nil {
					t.Errorf("elementwise primitive %s accepts %s but its rule has no expression for it", p.Name, ir.Scalar{Kind: k})
				}
			}
		}
	}
}
