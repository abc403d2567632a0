package main

// Go benchmarks of the adbench mode's vectorized GMM and LSTM, objective
// and gradient, for profiling with go test's -cpuprofile and -memprofile:
//
//	go test ./cmd/nablabench -run '^$' -bench ADGrad -cpuprofile cpu.out

import (
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/bench/gradbench"
	"github.com/nabla-lang/nabla/runtime"
)

func BenchmarkADGrad(b *testing.B) {
	gp, err := nabla.Compile("gmm.nab", gmmSrc)
	if err != nil {
		b.Fatal(err)
	}
	g := randomGMM(gmmSize{"", 2, 10, 1000})
	gargs := []runtime.Value{vecValue(g.alphas), matValue(g.means), matValue(g.icf), matValue(g.x), runtime.F64(g.gamma), runtime.I64(g.m)}
	b.Run("gmm-vec/f", func(b *testing.B) { benchValues(b, gp, "gmm", gargs) })
	b.Run("gmm-vec/grad", func(b *testing.B) { benchValues(b, gp, "gmm_grad", gargs) })

	src, err := gradbench.Source("lstm")
	if err != nil {
		b.Fatal(err)
	}
	lp, err := nabla.Compile("lstm.nab", src)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	mk := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = 2*rng.Float64() - 1
		}
		return out
	}
	const l, nb, chars = 2, 14, 1024
	seq := make([]float64, chars*nb)
	for t := range chars {
		seq[t*nb+rng.IntN(nb)] = 1
	}
	largs := []runtime.Value{rawMat(mk(2*l*4*nb), 2*l, 4*nb), rawMat(mk(3*nb), 3, nb), rawMat(mk(2*l*nb), 2*l, nb), rawMat(seq, chars, nb)}
	b.Run("lstm/f", func(b *testing.B) { benchValues(b, lp, "objective", largs) })
	b.Run("lstm/grad", func(b *testing.B) { benchValues(b, lp, "jacobian", largs) })
}
