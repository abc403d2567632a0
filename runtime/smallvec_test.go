package runtime_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// TestNewVecSizes checks vectors of every size around the small ones kept
// with their header (one allocation): shape, zero elements, a capacity of
// exactly n (an append must not write into the header's spare room),
// storage apart from any other vector's, recycling, and the memory limit.
func TestNewVecSizes(t *testing.T) {
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	for n := 0; n <= 40; n++ {
		for _, fill := range []bool{false, true} {
			newVec := runtime.NewVec
			if fill {
				newVec = runtime.NewVecToFill
			}
			a, err := newVec(m, runtime.ElemF64, n)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			b, err := newVec(m, runtime.ElemF64, n)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			if len(a.Shape) != 1 || a.Shape[0] != n || a.Kind != runtime.ElemF64 || len(a.F) != n || cap(a.F) != n {
				t.Fatalf("n=%d: shape %v, kind %v, len %d, cap %d", n, a.Shape, a.Kind, len(a.F), cap(a.F))
			}
			for i := range a.F {
				if a.F[i] != 0 {
					t.Fatalf("n=%d: element %d is %g", n, i, a.F[i])
				}
				a.F[i] = float64(i + 1)
			}
			for i := range b.F {
				if b.F[i] != 0 {
					t.Fatalf("n=%d: writing one vector changed another", n)
				}
			}
			if n > 0 {
				m.Recycle(a)
				c, err := runtime.NewVec(m, runtime.ElemF64, n)
				if err != nil || c != a || c.F[n-1] != 0 {
					t.Fatalf("n=%d: a recycled vector comes back zeroed: %v", n, err)
				}
			}
		}
	}
	small := runtime.NewMachine(context.Background(), runtime.Limits{Memory: 8})
	if _, err := runtime.NewVec(small, runtime.ElemF64, 2); !errors.Is(err, runtime.ErrMemoryLimit) {
		t.Errorf("16 bytes under a limit of 8: %v", err)
	}
}

// TestOuterAddTo checks that OuterAddTo leaves dst as dst + Outer(x, y)
// does, to the bit, signed zeros included.
func TestOuterAddTo(t *testing.T) {
	negz := math.Copysign(0, -1)
	cases := []struct{ dst, x, y []float64 }{
		{[]float64{1, 2, 3, 4, 5, 6}, []float64{0.1, -3}, []float64{1.5, negz, 1e300}},
		{[]float64{negz, negz}, []float64{negz}, []float64{0, 2}},
		{nil, nil, []float64{1, 2}},
		{[]float64{0.3, 0.7, 1.1, -2.5, 1e-300, 7, 8, 9, 10}, []float64{1.0 / 3, 2.0 / 3, 1e-10}, []float64{3, 1e16, -1}},
	}
	for _, c := range cases {
		got := append([]float64(nil), c.dst...)
		runtime.OuterAddTo(got, c.x, c.y)
		prod := make([]float64, len(c.dst))
		runtime.Outer(prod, c.x, c.y)
		want := make([]float64, len(c.dst))
		runtime.AddTo(want, c.dst, prod)
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Errorf("%v + %v ⊗ %v: element %d is %g, want %g", c.dst, c.x, c.y, i, got[i], want[i])
			}
		}
	}
}
