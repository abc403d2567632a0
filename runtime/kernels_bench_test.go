package runtime_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

var benchSizes = []int{1000, 1000000}

var sink float64

func benchVecs(n int) (x, y, dst []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	return randVec(rng, n), randVec(rng, n), make([]float64, n)
}

// Throughput (SetBytes) counts the bytes each kernel reads.

func BenchmarkDot(b *testing.B) {
	for _, n := range benchSizes {
		x, y, _ := benchVecs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(16 * n))
			for b.Loop() {
				sink = runtime.Dot(x, y)
			}
		})
	}
}

func BenchmarkAddTo(b *testing.B) {
	for _, n := range benchSizes {
		x, y, dst := benchVecs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(16 * n))
			for b.Loop() {
				runtime.AddTo(dst, x, y)
			}
		})
	}
}

func BenchmarkExpTo(b *testing.B) {
	for _, n := range benchSizes {
		x, _, dst := benchVecs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				runtime.ExpTo(dst, x)
			}
		})
	}
}

func BenchmarkSum(b *testing.B) {
	for _, n := range benchSizes {
		x, _, _ := benchVecs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				sink = runtime.Sum(x)
			}
		})
	}
}

func BenchmarkNorm2(b *testing.B) {
	for _, n := range benchSizes {
		x, _, _ := benchVecs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				sink = runtime.Norm2(x)
			}
		})
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, n := range []int{32, 256} {
		x, y, dst := benchVecs(n * n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				runtime.Gemm(false, false, n, n, n, 1, x, y, 0, dst)
			}
		})
	}
}
