package main

// Go benchmarks of the interpreter on two adbench rows, for profiling
// (go test -bench ... -cpuprofile): Rosenbrock's gradient at n = 1000 and
// the element-wise GMM objective at d=10 K=25 n=10000. They call
// Func.CallValues with prepared values, as `nablabench adbench` does.

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

// benchValues times f on args.
func benchValues(b *testing.B, p *nabla.Program, name string, args []runtime.Value) {
	f, err := p.Func(name)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := f.CallValues(ctx, args); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.CallValues(ctx, args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInterpRosenGrad(b *testing.B) {
	p, err := nabla.Compile("rosenbrock.nab", rosenSrc)
	if err != nil {
		b.Fatal(err)
	}
	x := rosenInput()
	benchValues(b, p, "rosen_grad", []runtime.Value{vecValue(x)})
}

func BenchmarkInterpGMMElemLarge(b *testing.B) {
	p, err := nabla.Compile("gmm_elem.nab", append(append([]byte(nil), gmmSrc...), gmmElemSrc...))
	if err != nil {
		b.Fatal(err)
	}
	g, _ := loadGMM("", gmmSize{"", 10, 25, 10000})
	args := []runtime.Value{vecValue(g.alphas), matValue(g.means), matValue(g.icf), matValue(g.x), runtime.F64(g.gamma), runtime.I64(g.m)}
	benchValues(b, p, "gmm_elem", args)
}

// BenchmarkInterpRosenGradInto is BenchmarkInterpRosenGrad through
// Func.CallInto with the caller's storage for the gradient, as the
// hand-written gradient and the generated Go's ...Into write theirs: no
// array is allocated per call.
func BenchmarkInterpRosenGradInto(b *testing.B) {
	p, err := nabla.Compile("rosenbrock.nab", rosenSrc)
	if err != nil {
		b.Fatal(err)
	}
	f, err := p.Func("rosen_grad")
	if err != nil {
		b.Fatal(err)
	}
	x := rosenInput()
	g := make([]float64, len(x))
	args := []any{x}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := f.CallInto(ctx, g, args...); err != nil {
			b.Fatal(err)
		}
	}
}

// rosenInput is the benchmarks' Rosenbrock point: n = 1000, uniform in
// [-1, 1), the same at every run.
func rosenInput() []float64 {
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

// BenchmarkInterpGMMElemGrad is the element-wise GMM gradient at d=2
// K=10 n=1000, adbench's small row for gmm-elem.
func BenchmarkInterpGMMElemGrad(b *testing.B) {
	p, err := nabla.Compile("gmm_elem.nab", append(append([]byte(nil), gmmSrc...), gmmElemSrc...))
	if err != nil {
		b.Fatal(err)
	}
	g, _ := loadGMM("", gmmSize{"", 2, 10, 1000})
	args := []runtime.Value{vecValue(g.alphas), matValue(g.means), matValue(g.icf), matValue(g.x), runtime.F64(g.gamma), runtime.I64(g.m)}
	benchValues(b, p, "gmm_elem_grad", args)
}
