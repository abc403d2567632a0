package rewrite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// TestDeadfieldRandom applies deadfield; dce to every def of generated
// programs (their loops carry tuple states, and the gradient's forward
// sweeps save tapes in loop_save states) and wants the same bits, or the
// same error at the same position, from f and its gradient before and
// after with no limit; under a step limit, the same, or a run that gets
// further (pruning saves steps).
func TestDeadfieldRandom(t *testing.T) {
	st, err := lang.ParseStrategy("--strategy", "deadfield; try(dce)")
	if err != nil {
		t.Fatal(err)
	}
	fired := 0
	for i := range 100 {
		src := progen.Random([]byte(fmt.Sprintf("deadfield %d", i))).Src + "def fg(x: f64, v: [n]f64) = grad(f)(x, v)\n"
		before := loadSrc(t, src)
		var defs []*ir.Def
		for _, d := range before.Defs {
			nd, _, err := testRewriter(t).ApplyDef(before, d.Name, st, Options{})
			if err != nil {
				nd = d // nothing dropped
			} else if err := ir.ValidateDef(nd); err != nil {
				t.Fatalf("program %d: invalid %s: %v\n%s", i, d.Name, err, ir.PrintDef(nd))
			} else {
				fired++
			}
			defs = append(defs, nd)
		}
		after := ir.NewProgram(defs)
		for _, name := range []string{"f", "fg"} {
			for _, v := range [][]float64{{0.5, -1.25, 2.0}, {0.75}, {}} {
				b, a := runTwo(t, before, name, runtime.Limits{}, v), runTwo(t, after, name, runtime.Limits{}, v)
				if a != b {
					t.Errorf("program %d: %s(0.7, %v): before %s, after %s\n%s", i, name, v, b, a, src)
				}
				// Under a step limit the pruned program does less work: it
				// may finish where the original ran out of steps, or run out
				// later (at another position), but never run out first.
				lim := runtime.Limits{Steps: 200}
				bl, al := runTwo(t, before, name, lim, v), runTwo(t, after, name, lim, v)
				switch {
				case al == bl:
				case isStepLimit(bl) && (isStepLimit(al) || al == a):
				default:
					t.Errorf("program %d: %s(0.7, %v) under %v: before %s, after %s\n%s", i, name, v, lim, bl, al, src)
				}
			}
		}
	}
	if fired == 0 {
		t.Error("deadfield pruned nothing in any program")
	}
	t.Logf("deadfield pruned %d defs", fired)
}

// isStepLimit reports whether a runTwo result is a step-limit error.
func isStepLimit(result string) bool {
	return strings.HasPrefix(result, "error: ") && strings.HasSuffix(result, "step limit exceeded (200 steps)")
}

// runTwo calls name(0.7, v) in p and returns its result as JSON, or the
// first line of its error.
func runTwo(t *testing.T, p *ir.Program, name string, lim runtime.Limits, v []float64) string {
	t.Helper()
	it, err := interp.New(p)
	if err != nil {
		t.Fatal(err)
	}
	_, result, err := it.Signature(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := it.Call(context.Background(), name, []runtime.Value{runtime.F64(0.7), runtime.Arr(runtime.FromF64(v))}, lim)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return "error: " + first
	}
	js, _ := jsonv.Encode(result, out)
	return string(js)
}
