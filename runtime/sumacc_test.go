package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSumAccMatchesSum: summing in pieces gives Sum's bits, on both sides
// of the grain split and for lengths that end on and off piece and grain
// boundaries.
func TestSumAccMatchesSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 3, 15, 16, 17, 100, SumPiece - 1, SumPiece, SumPiece + 5, 3*SumPiece + 17,
		reduceSerialMax, reduceSerialMax + 1, reduceSerialMax + SumPiece, 5*reduceGrain + 3, 5 * reduceGrain} {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Ldexp(rng.Float64()-0.5, rng.IntN(40)-20)
		}
		acc := NewSumAcc(n)
		i := 0
		for ; n-i >= SumPiece; i += SumPiece {
			acc.Add(x[i : i+SumPiece])
		}
		got, want := acc.Sum(x[i:]), Sum(x)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("n=%d: SumAcc %v, Sum %v", n, got, want)
		}
	}
}
