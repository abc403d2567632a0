package gengo

import (
	"fmt"
	"testing"
)

// Benchmarks of Rosenbrock's objective at small sizes, where the cost of
// the generated entry point (size checks, error results, the call into
// the generated body) shows beside the loop: the generated Rosen against
// RosenHand, for go test -bench 'Rosen' -count with alternating runs.

var rosenSink float64

func BenchmarkRosenSmall(b *testing.B) {
	for _, n := range []int{2, 10, 100} {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.5 + float64(i%7)/10
		}
		b.Run(fmt.Sprintf("hand/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				rosenSink += RosenHand(x)
			}
		})
		b.Run(fmt.Sprintf("gen/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				v, err := Rosen(x)
				if err != nil {
					b.Fatal(err)
				}
				rosenSink += v
			}
		})
	}
}
