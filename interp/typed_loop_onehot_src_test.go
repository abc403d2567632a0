package interp_test

// accChain's one-hot updates in the reverse passes AD makes from source:
// flatCases' gradients (typed_loop_flat_test.go) compiled with them and
// without (interp.SetNoAccOneHot: revChain runs those loops).

import (
	"context"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// TestAccChainOneHotSource checks, for each flat case whose reverse loops
// take accChain's one-hot updates, that they do, and that the calls agree
// with the reference: the same bits or the same positioned error, the
// same steps and the same outcome under step limits up to them.
func TestAccChainOneHotSource(t *testing.T) {
	ctx := context.Background()
	ran := 0
	for _, c := range flatCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := pipeline.Compile(ctx, "flat.nab", []byte(c.src), pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := interp.AccOneHotLoops()
			hot, err := interp.New(res.Opt)
			if err != nil {
				t.Fatal(err)
			}
			if interp.AccOneHotLoops() == before {
				return // no one-hot loop in accChain's class (counted below)
			}
			ran++
			done := interp.SetNoAccOneHot()
			ref, err := interp.New(res.Opt)
			done()
			if err != nil {
				t.Fatal(err)
			}
			got, err := hot.Call(ctx, c.def, c.args(), runtime.Limits{})
			want, errRef := ref.Call(ctx, c.def, c.args(), runtime.Limits{})
			if !sameErr(err, errRef) || c.wantErr != (err != nil) {
				t.Fatalf("error %v, the reference: %v", err, errRef)
			}
			if err != nil {
				return
			}
			if !interp.ValueBits(got, want) {
				t.Fatalf("%v, the reference %v", got, want)
			}
			count := minSteps(t, ref, c.def, c.args)
			if h := minSteps(t, hot, c.def, c.args); h != count {
				t.Errorf("%d steps, the reference %d", h, count)
			}
			for lim := int64(1); lim <= count; lim += max(1, count/97) {
				_, err := hot.Call(ctx, c.def, c.args(), runtime.Limits{Steps: lim})
				_, errRef := ref.Call(ctx, c.def, c.args(), runtime.Limits{Steps: lim})
				if !sameErr(err, errRef) {
					t.Errorf("%d steps: %v, the reference: %v", lim, err, errRef)
				}
			}
		})
	}
	if ran < 4 {
		t.Errorf("only %d cases had one-hot loops in accChain", ran)
	}
}
