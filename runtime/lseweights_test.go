package runtime_test

// Tests of LogSumExpWeights: LogSumExp's bits, and weights that are
// exp(x[i] - y) to rounding (bit for bit where y is not finite).

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

func TestLogSumExpWeights(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	rng := rand.New(rand.NewPCG(5, 6))
	cases := [][]float64{
		nil, {0}, {-inf}, {-inf, -inf}, {0, inf}, {inf, inf}, {1, nan, 2}, {-inf, 3, -inf},
		{1000, 1000}, {-1000, -1000}, {700, -700, 0}, {math.MaxFloat64, math.MaxFloat64, 1},
		{-math.MaxFloat64, 0}, {5e-324, -5e-324, 0}, {0.5, 0.5, 0.5, 0.5, 0.5},
	}
	for n := 1; n <= 40; n++ {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64() * float64(n)
		}
		cases = append(cases, x)
	}
	for _, x := range cases {
		w := make([]float64, len(x))
		y := runtime.LogSumExpWeights(w, x)
		if want := runtime.LogSumExp(x); math.Float64bits(y) != math.Float64bits(want) && !(y != y && want != want) {
			t.Errorf("%v: y = %v, LogSumExp %v", x, y, want)
		}
		finite := math.Abs(y) <= math.MaxFloat64
		sum := 0.0
		for i, v := range x {
			want := math.Exp(v - y)
			switch {
			case !finite:
				// The general code's own bits.
				if math.Float64bits(w[i]) != math.Float64bits(want) && !(w[i] != w[i] && want != want) {
					t.Errorf("%v: w[%d] = %v, exp(x - y) %v", x, i, w[i], want)
				}
			case math.Abs(w[i]-want) > (math.Abs(v-y)+math.Abs(y)+4)*0x1p-52*want+1e-300:
				// exp(x - y) is off by the rounding of x - y (and y)
				// times its size, the weights by a few roundings.
				t.Errorf("%v: w[%d] = %v, exp(x - y) %v", x, i, w[i], want)
			}
			sum += w[i]
		}
		if finite && len(x) > 0 && math.Abs(sum-1) > 1e-14*float64(len(x)) {
			t.Errorf("%v: weights sum to %v", x, sum)
		}
		// In place: w may be x.
		xc := append([]float64(nil), x...)
		if y2 := runtime.LogSumExpWeights(xc, xc); math.Float64bits(y2) != math.Float64bits(y) && !(y != y && y2 != y2) {
			t.Errorf("%v: in place y = %v, %v", x, y2, y)
		}
		for i := range xc {
			if math.Float64bits(xc[i]) != math.Float64bits(w[i]) && !(xc[i] != xc[i] && w[i] != w[i]) {
				t.Errorf("%v: in place w[%d] = %v, %v", x, i, xc[i], w[i])
			}
		}
	}
}
