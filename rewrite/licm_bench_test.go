package rewrite

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// BenchmarkLICM times the element-wise GMM's gradient (tests/testdata/
// gmm_elem.nab, d = 2, K = 5, n = 200, as TestReverseModeCost) compiled by the standard
// pipeline with and without licm, one after the other in one process;
// repeat `-count 1` runs to alternate them (docs/benchmarks.md,
// "Element-wise GMM reverse loops, stop 26").
func BenchmarkLICM(b *testing.B) {
	src, err := os.ReadFile("../tests/testdata/gmm_elem.nab")
	if err != nil {
		b.Fatal(err)
	}
	prog := loadSrc(b, string(src))
	const step = "try(licm; normalize(simplify <+ constfold)); "
	full := testRewriter(b).Default().(*named).s.String()
	strats := map[string]string{"with": full, "without": stripStep(b, full, step)}
	rng := rand.New(rand.NewPCG(26, 26))
	const k, d, n = 5, 2, 200
	args := []runtime.Value{vec(rng, k), mat(rng, k, d), mat(rng, k, d*(d+1)/2), mat(rng, n, d), runtime.F64(1), runtime.I64(0)}
	for _, name := range []string{"with", "without"} {
		st, err := lang.ParseStrategy("--strategy", strats[name])
		if err != nil {
			b.Fatal(err)
		}
		var defs []*ir.Def
		for _, def := range prog.Defs {
			nd, _, err := testRewriter(b).ApplyDef(prog, def.Name, st, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defs = append(defs, nd)
		}
		it, err := interp.New(ir.NewProgram(defs))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := it.Call(context.Background(), "gmm_grad", args, runtime.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// stripStep is the strategy s without step, which it must contain.
func stripStep(tb testing.TB, s, step string) string {
	tb.Helper()
	if !strings.Contains(s, step) {
		tb.Fatalf("%q does not contain %q", s, step)
	}
	return strings.Replace(s, step, "", 1)
}
