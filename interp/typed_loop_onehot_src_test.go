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
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, false)
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
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, false)
		})
	}
}

// compileTwice compiles src as is (hot) and with the flag set returns
// (ref).
func compileTwice(t *testing.T, src string, set func() func()) (hot, ref *interp.Interp) {
	t.Helper()
	return compileWith(t, src, nil), compileWith(t, src, set)
}

// compileWith compiles src with the flag set (none when set is nil).
func compileWith(t *testing.T, src string, set func() func()) *interp.Interp {
	t.Helper()
	// The sources exercise the interpreter's element-wise reverse loops
	// (the element-wise GMM among them), which the ad stage's
	// vectorization would turn into array operations: it is off here.
	res, err := pipeline.Compile(context.Background(), "flat.nab", []byte(src), pipeline.Options{NoVectorize: true})
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		defer set()()
	}
	it, err := interp.New(res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// sameCalls checks that hot and ref agree on def(args): the same bits or
// the same positioned error (an error exactly when wantErr), the same
// steps and the same outcome under step limits up to them: every limit
// when everyLimit, else about a hundred spread over the count.
func sameCalls(t *testing.T, hot, ref *interp.Interp, def string, args func() []runtime.Value, wantErr, everyLimit bool) {
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
	stride := max(1, count/97)
	if everyLimit {
		stride = 1
	}
	for lim := int64(1); lim <= count; lim += stride {
		_, err := hot.Call(ctx, def, args(), runtime.Limits{Steps: lim})
		_, errRef := ref.Call(ctx, def, args(), runtime.Limits{Steps: lim})
		if !sameErr(err, errRef) {
			t.Errorf("%d steps: %v, the reference: %v", lim, err, errRef)
		}
	}
}

// TestSVVecWork checks that runs of lets with fewer than three lets
// other than single-element adds are no longer blocks (svVecWork), and
// that the calls agree with those blocks': here the GMM's two adds into
// [k] cotangents and a row of the rank-3 Q, in the loop over components.
func TestSVVecWork(t *testing.T) {
	fewer := 0
	for _, c := range append(flatCases, svVecWorkCase) {
		t.Run(c.name, func(t *testing.T) {
			b0 := interp.SVBlocks()
			hot := compileWith(t, c.src, nil)
			b1 := interp.SVBlocks()
			ref := compileWith(t, c.src, interp.SetSVCountAll)
			b2 := interp.SVBlocks()
			if now, all := b1-b0, b2-b1; now > all {
				t.Fatalf("%d blocks, %d counting every let", now, all)
			} else if now < all {
				fewer++
			}
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, false)
		})
	}
	if fewer == 0 {
		t.Error("no run stopped being a block")
	}
}

// svVecWorkCase is the GMM data term with the log-determinant sum(q_j),
// whose loop over components adds the same cotangent into alphas' and
// sumq's.
var svVecWorkCase = struct {
	name    string
	src     string
	def     string
	args    func() []runtime.Value
	wantErr bool
}{
	name: "GMM data term with sumq",
	src: `
def f(alphas: [k]f64, sumq: [k]f64, qs: [k][d][d]f64, x: [n][d]f64): f64 =
  sum([ logsumexp([ let qd = [sum([qs[j][r][c] * x[i][c] for c < d]) for r < d]
                    in alphas[j] + sumq[j] - 0.5 * sum([qd[r] * qd[r] for r < d]) for j < k ]) for i < n ])
def g(alphas: [k]f64, sumq: [k]f64, qs: [k][d][d]f64, x: [n][d]f64) =
  grad(fn(a, s, q) => f(a, s, q, x))(alphas, sumq, qs)`,
	def: "g",
	args: func() []runtime.Value {
		return []runtime.Value{flatArray(5, 3), flatArray(6, 3), flatArray(7, 3, 2, 2), flatArray(8, 6, 2)}
	},
}
