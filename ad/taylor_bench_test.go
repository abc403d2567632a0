package ad_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

// tyBenchOrders are the orders BenchmarkTaylorOrder runs: up to 32 the
// interpreter's per-operation overhead and O(k) work dominate; from about
// 128 on, ns/(k+1)² levels off, the O(k²) regime.
var tyBenchOrders = []int{2, 4, 8, 16, 32, 64, 128, 256, 512}

// tyBenchOrdersVector are those of BenchmarkTaylorOrderVector.
var tyBenchOrdersVector = []int{2, 4, 8, 16, 32, 64, 128}

func tyBenchSource() string {
	src := "def f(x: f64): f64 = exp(sin(x)) * sqrt(1.0 + x^2) / (2.0 + cos(x))\n" +
		"def g(x: [n]f64): f64 = sum(map(fn(a) => exp(sin(a)) * sqrt(1.0 + a^2) / (2.0 + cos(a)), x))\n"
	for _, k := range tyBenchOrders {
		src += fmt.Sprintf("def t%d(x: f64) = taylor(f, x, 1.0, %d)\n", k, k)
	}
	for _, k := range tyBenchOrdersVector {
		src += fmt.Sprintf("def v%d(x: [n]f64, v: [n]f64) = taylor(g, x, v, %d)\n", k, k)
	}
	return src
}

// BenchmarkTaylorOrder measures taylor of a composite scalar function at
// increasing orders k. One pass of series arithmetic costs O(k²) per
// operation: ns/k² should level off as k grows (at small k the per-call
// overhead of the interpreter dominates).
func BenchmarkTaylorOrder(b *testing.B) {
	p, err := nabla.Compile("bench.nab", []byte(tyBenchSource()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range tyBenchOrders {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			f, err := p.Func(fmt.Sprintf("t%d", k))
			if err != nil {
				b.Fatal(err)
			}
			args := []runtime.Value{runtime.F64(0.7)}
			b.ResetTimer()
			for b.Loop() {
				if _, err := f.CallValues(ctx, args); err != nil {
					b.Fatal(err)
				}
			}
			tyReportPerK2(b, k)
		})
	}
}

// BenchmarkTaylorOrderVector is the same function mapped over a vector of
// 256 points: the series of every element move through the map together.
func BenchmarkTaylorOrderVector(b *testing.B) {
	p, err := nabla.Compile("bench.nab", []byte(tyBenchSource()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const n = 256
	xs, vs := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)/n - 0.5
		vs[i] = 1
	}
	for _, k := range tyBenchOrdersVector {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			f, err := p.Func(fmt.Sprintf("v%d", k))
			if err != nil {
				b.Fatal(err)
			}
			args := []runtime.Value{runtime.Arr(runtime.FromF64(xs)), runtime.Arr(runtime.FromF64(vs))}
			b.ResetTimer()
			for b.Loop() {
				if _, err := f.CallValues(ctx, args); err != nil {
					b.Fatal(err)
				}
			}
			tyReportPerK2(b, k)
		})
	}
}

func tyReportPerK2(b *testing.B, k int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/float64((k+1)*(k+1)), "ns/(k+1)²")
}
