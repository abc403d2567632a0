package ir_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// countdown is a context that is done from its (left+1)-th look on: a
// primitive that looks at it between pieces of its work, not only when it
// charges its steps, sees it done in the middle.
type countdown struct {
	context.Context
	left int
}

func (c *countdown) Err() error {
	c.left--
	if c.left < 0 {
		return context.Canceled
	}
	return nil
}

// bigF is an f64 vector of n elements; bigM an f64 matrix.
func bigF(n int) arg { return fs(make([]float64, n)...) }

func bigM(rows, cols int) arg {
	a := &runtime.Array{Shape: []int{rows, cols}, Kind: runtime.ElemF64, F: make([]float64, rows*cols)}
	return arg{mat(int64(rows), int64(cols)), runtime.Arr(a)}
}

// bigPairs is an array of n (f64, f64) tuples, boxed.
func bigPairs(n int) arg {
	x := runtime.FromF64(make([]float64, n))
	a := &runtime.Array{Shape: []int{n}, Kind: runtime.ElemBox, Box: make([]runtime.Value, n)}
	runtime.Zip(a.Box, []*runtime.Array{x, x})
	return arg{vec(int64(n), ir.TupleOf(tF, tF)), runtime.Arr(a)}
}

// bigS is a series of k coefficients of an f64 vector of n elements.
func bigS(k, n int) arg {
	a := &runtime.Array{Shape: []int{k, n}, Kind: runtime.ElemF64, F: make([]float64, k*n)}
	for j := range n {
		a.F[j] = 0.5 // coefficient 0, in every series kernel's domain
	}
	return arg{mat(int64(k), int64(n)), runtime.Arr(a)}
}

// TestCancelInsidePrimitives: every primitive whose work grows with its
// input looks at the context while it works. The context turns done after
// the look that charging the steps makes, so only a look between pieces
// of the work can see it.
func TestCancelInsidePrimitives(t *testing.T) {
	n := 3*runtime.PollChunk + 1
	idx := is(make([]int64, n)...)
	for _, tc := range []struct {
		name string
		p    *ir.Prim
		args []arg
	}{
		{"add", ir.PrimAdd, []arg{bigF(n), bigF(n)}},
		{"add scalar", ir.PrimAdd, []arg{bigF(n), f(1)}},
		{"scalar sub", ir.PrimSub, []arg{f(1), bigF(n)}},
		{"exp", ir.PrimExp, []arg{bigF(n)}},
		{"lt", ir.PrimLt, []arg{bigF(n), f(0)}},
		{"sum", ir.PrimSum, []arg{bigF(n)}},
		{"sum i64", ir.PrimSum, []arg{idx}},
		{"prod", ir.PrimProd, []arg{bigF(n)}},
		{"maximum", ir.PrimMaximum, []arg{bigF(n)}},
		{"argmax", ir.PrimArgmax, []arg{bigF(n)}},
		{"mean", ir.PrimMean, []arg{bigF(n)}},
		{"norm", ir.PrimNorm, []arg{bigF(n)}},
		{"logsumexp", ir.PrimLogsumexp, []arg{bigF(n)}},
		{"softmax", ir.PrimSoftmax, []arg{bigF(n)}},
		{"dot", ir.PrimDot, []arg{bigF(n), bigF(n)}},
		{"outer", ir.PrimOuter, []arg{bigF(4096), bigF(1024)}},
		{"matrix @ matrix", ir.PrimMatmul, []arg{bigM(100, 1200), bigM(1200, 1200)}},
		{"matrix @ vector", ir.PrimMatmul, []arg{bigM(2500, 1000), bigF(1000)}},
		{"vector @ matrix", ir.PrimMatmul, []arg{bigF(1000), bigM(1000, 2500)}},
		{"vector @ vector", ir.PrimMatmul, []arg{bigF(n), bigF(n)}},
		{"gather", ir.PrimGather, []arg{bigF(10), idx}},
		{"concat", ir.PrimConcat, []arg{bigF(n), bigF(1)}},
		{"ones", ir.PrimOnes, []arg{i(int64(n))}},
		{"iota", ir.PrimIota, []arg{i(int64(n))}},
		{"fill", ir.PrimFill, []arg{i(int64(n)), f(2)}},
		{"transpose", ir.PrimTranspose, []arg{bigM(2000, 2000)}},
		{"transpose of rows", ir.PrimTranspose, []arg{{vec(1000, mat(1000, 4)), runtime.Arr(&runtime.Array{Shape: []int{1000, 1000, 4}, Kind: runtime.ElemF64, F: make([]float64, 4_000_000)})}}},
		{"reverse", ir.PrimReverse, []arg{bigF(n)}},
		{"reverse of rows", ir.PrimReverse, []arg{bigM(n/4, 4)}},
		{"update", ir.PrimUpdate, []arg{bigF(n), i(3), f(1)}},
		{"zip", ir.PrimZip, []arg{bigF(runtime.PollChunk/2 + 1), bigF(runtime.PollChunk/2 + 1)}},
		{"unzip", ir.PrimUnzip, []arg{bigPairs(runtime.PollChunk + 1)}},
		{"series exp", ir.PrimSeriesExp, []arg{bigS(3, n)}},
		{"series mul", ir.PrimSeriesMul, []arg{bigS(3, n), bigS(3, n)}},
		{"series coefficient", ir.PrimSeriesCoef, []arg{{vec(3, mat(2, int64(n))), runtime.Arr(&runtime.Array{Shape: []int{3, 2, n}, Kind: runtime.ElemF64, F: make([]float64, 6*n)})}, i(1)}},
		{"series cauchy", ir.PrimSeriesCauchy, []arg{bigS(2, n), bigS(2, n)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := runtime.NewMachine(&countdown{Context: context.Background(), left: 1}, runtime.Limits{})
			aux := auxOf[tc.p]
			if _, _, err := call(m, tc.p, aux, tc.args...); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with the context done in the middle: %v; want context.Canceled", tc.name, err)
			}
			// With the context never done the same call succeeds.
			if _, _, err := call(machine(), tc.p, aux, tc.args...); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		})
	}
}

// auxOf gives the primitives of TestCancelInsidePrimitives that need one
// their aux: two series, a coefficient of a series of vectors, and the
// Cauchy product of two series of vectors under elementwise mul.
var auxOf = map[*ir.Prim]any{
	ir.PrimSeriesMul:    ir.SeriesSS,
	ir.PrimSeriesCoef:   &ir.SeriesCoef{Prim: ir.PrimIndex, Series: []bool{true, false}},
	ir.PrimSeriesCauchy: &ir.SeriesCoef{Prim: ir.PrimMul, Series: []bool{true, true}},
}
