package main

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/bench/gradbench"
	"github.com/nabla-lang/nabla/cmd/nablabench/gengo"
	"github.com/nabla-lang/nabla/runtime"
)

// TestADBenchReferences checks that the programs the adbench mode
// compares agree with their hand-written Go versions: the element-wise
// and the vectorized GMM with GMMHand, and lstm.nab with lstmHand.
func TestADBenchReferences(t *testing.T) {
	ctx := context.Background()
	p, err := nabla.Compile("gmm_elem.nab", append(append([]byte(nil), gmmSrc...), gmmElemSrc...))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []gmmSize{{"", 2, 3, 10}, {"", 4, 2, 7}} {
		g := randomGMM(s)
		want := gengo.GMMHand(g.d, g.k, g.n, g.alphas, flat(g.means), flat(g.icf), flat(g.x), g.gamma, int(g.m))
		for _, def := range []string{"gmm_elem", "gmm"} {
			f, err := p.Func(def)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Call(ctx, g.args()...)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.(float64)-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s d=%d K=%d n=%d: %v, hand-written Go %v", def, s.d, s.k, s.n, got, want)
			}
		}
	}
	src, err := gradbench.Source("lstm")
	if err != nil {
		t.Fatal(err)
	}
	lp, err := nabla.Compile("lstm.nab", src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const l, b, c = 2, 3, 6
	mk := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = 2*rng.Float64() - 1
		}
		return out
	}
	mp, ep, st, seq := mk(2*l*4*b), mk(3*b), mk(2*l*b), mk(c*b)
	f, err := lp.Func("objective")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.CallValues(ctx, []runtime.Value{rawMat(mp, 2*l, 4*b), rawMat(ep, 3, b), rawMat(st, 2*l, b), rawMat(seq, c, b)})
	if err != nil {
		t.Fatal(err)
	}
	if want := lstmHand(l, b, c, mp, ep, st, seq); math.Abs(v.F-want) > 1e-12*math.Max(1, math.Abs(want)) {
		t.Errorf("lstm: %v, hand-written Go %v", v.F, want)
	}
}

// TestRosenGradHand checks the hand-written gradient against rosen_grad.
func TestRosenGradHand(t *testing.T) {
	p, err := nabla.Compile("rosenbrock.nab", rosenSrc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Func("rosen_grad")
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.3, -1.2, 0.8, 2, -0.5}
	v, err := f.CallValues(context.Background(), []runtime.Value{vecValue(x)})
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, len(x))
	rosenGradHand(g, x)
	for i, want := range v.Array().F {
		if math.Abs(g[i]-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("gradient[%d] = %v, rosen_grad %v", i, g[i], want)
		}
	}
}
