package interp_test

// Two fast paths of tuple loops checked on the reverse passes AD makes
// from source and on user loops (flatCases, typed_loop_flat_test.go):
// accChain's one-hot updates (against interp.SetNoAccOneHot: revChain
// runs those loops) and a loop's state stored straight into its slots,
// the let's own for a let of a loop (against interp.SetNoDirectInit:
// into, through scratch slots, and a copy to the let's).

import (
	"context"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// TestAccChainOneHotSource checks, for each flat case whose reverse loops
// take accChain's one-hot updates, that they do, and that the calls agree
// with the reference.
func TestAccChainOneHotSource(t *testing.T) {
	ran := 0
	for _, c := range flatCases {
		t.Run(c.name, func(t *testing.T) {
			before := interp.AccOneHotLoops()
			hot, ref := compileTwice(t, c.src, interp.SetNoAccOneHot)
			if interp.AccOneHotLoops() == before {
				return // no one-hot loop in accChain's class (counted below)
			}
			ran++
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr)
		})
	}
	if ran < 4 {
		t.Errorf("only %d cases had one-hot loops in accChain", ran)
	}
}

// TestLoopInitDirect checks every flat case with loop states stored
// straight into their slots against into's copies.
func TestLoopInitDirect(t *testing.T) {
	for _, c := range flatCases {
		t.Run(c.name, func(t *testing.T) {
			before := interp.DirectInits()
			hot, ref := compileTwice(t, c.src, interp.SetNoDirectInit)
			if interp.DirectInits() == before {
				t.Fatal("no loop state was stored directly")
			}
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr)
		})
	}
}

// compileTwice compiles src as is (hot) and with the flag set returns
// (ref).
func compileTwice(t *testing.T, src string, set func() func()) (hot, ref *interp.Interp) {
	t.Helper()
	res, err := pipeline.Compile(context.Background(), "flat.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if hot, err = interp.New(res.Opt); err != nil {
		t.Fatal(err)
	}
	done := set()
	ref, err = interp.New(res.Opt)
	done()
	if err != nil {
		t.Fatal(err)
	}
	return hot, ref
}

// sameCalls checks that hot and ref agree on def(args): the same bits or
// the same positioned error (an error exactly when wantErr), the same
// steps and the same outcome under step limits up to them.
func sameCalls(t *testing.T, hot, ref *interp.Interp, def string, args func() []runtime.Value, wantErr bool) {
	t.Helper()
	ctx := context.Background()
	got, err := hot.Call(ctx, def, args(), runtime.Limits{})
	want, errRef := ref.Call(ctx, def, args(), runtime.Limits{})
	if !sameErr(err, errRef) || wantErr != (err != nil) {
		t.Fatalf("error %v, the reference: %v", err, errRef)
	}
	if err != nil {
		return
	}
	if !interp.ValueBits(got, want) {
		t.Fatalf("%v, the reference %v", got, want)
	}
	count := minSteps(t, ref, def, args)
	if h := minSteps(t, hot, def, args); h != count {
		t.Errorf("%d steps, the reference %d", h, count)
	}
	for lim := int64(1); lim <= count; lim += max(1, count/97) {
		_, err := hot.Call(ctx, def, args(), runtime.Limits{Steps: lim})
		_, errRef := ref.Call(ctx, def, args(), runtime.Limits{Steps: lim})
		if !sameErr(err, errRef) {
			t.Errorf("%d steps: %v, the reference: %v", lim, err, errRef)
		}
	}
}
