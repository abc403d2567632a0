package ad

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestTaylorCoversPrims: every primitive that can reach Taylor mode says
// how its series is computed (taylorRuleOf), from its declaration where
// possible (Series, Linear, Bilinear, NoDerivative). A primitive added
// without one fails here, not in a user's program.
func TestTaylorCoversPrims(t *testing.T) {
	for _, p := range ir.Prims() {
		if p.AD != ir.NotAD || p.Class == ir.SeriesClass {
			continue // expanded before, or lowered to ordinary IR first
		}
		if taylorRuleOf(p) == taylorNone {
			t.Errorf("primitive %s has no Taylor-mode rule: declare its Series, Linear or Bilinear, or handle it in taylor.go", p.Name)
		}
	}
}
