package ir_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Benchmarks of specialized primitives whose work is a runtime kernel:
// what the interpreter pays per call, glue included.

func benchImpl(b *testing.B, p *ir.Prim, aux any, args ...arg) {
	b.Helper()
	types := make([]ir.Type, len(args))
	vals := make([]runtime.Value, len(args))
	for k, a := range args {
		types[k], vals[k] = a.t, a.v
	}
	impl, err := p.Eval(site(p, aux, types))
	if err != nil {
		b.Fatal(err)
	}
	m := machine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := impl(m, vals); err != nil {
			b.Fatal(err)
		}
	}
}

func benchF64s(n int) []float64 {
	xs := make([]float64, n)
	for k := range xs {
		xs[k] = 0.5 + 0.4*math.Sin(float64(k))
	}
	return xs
}

// seriesArg is a series [k][n]f64 (or [k]f64 for n = 0).
func seriesArg(k, n int) arg {
	shape := []int{k}
	if n > 0 {
		shape = append(shape, n)
	}
	v := sArr(shape, benchF64s(runtime.Size(shape))...)
	return arg{sType(v), v}
}

func BenchmarkEvalSeries(b *testing.B) {
	for _, sz := range []struct{ k, n int }{{4, 1000}, {8, 0}} {
		x, y := seriesArg(sz.k, sz.n), seriesArg(sz.k, sz.n)
		name := fmt.Sprintf("k%d_n%d", sz.k, sz.n)
		for _, p := range []*ir.Prim{ir.PrimSeriesExp, ir.PrimSeriesSin, ir.PrimSeriesSigmoid} {
			b.Run(p.Name+"/"+name, func(b *testing.B) { benchImpl(b, p, nil, x) })
		}
		for _, p := range []*ir.Prim{ir.PrimSeriesMul, ir.PrimSeriesDiv, ir.PrimSeriesPow} {
			b.Run(p.Name+"/"+name, func(b *testing.B) { benchImpl(b, p, ir.SeriesSS, x, y) })
		}
		b.Run("series_prod/"+name, func(b *testing.B) {
			if sz.n == 0 {
				b.Skip()
			}
			benchImpl(b, ir.PrimSeriesProd, nil, x)
		})
	}
}

func BenchmarkEvalArray(b *testing.B) {
	const n = 100000
	x := fs(benchF64s(n)...)
	xi := is(make([]int64, n)...)
	idx := make([]int64, n)
	for k := range idx {
		idx[k] = int64((k * 7919) % n)
	}
	mat := m2()
	mat.v = runtime.Arr(&runtime.Array{Shape: []int{300, 300}, Kind: runtime.ElemF64, F: benchF64s(90000)})
	b.Run("gather", func(b *testing.B) { benchImpl(b, ir.PrimGather, nil, x, is(idx...)) })
	b.Run("reverse", func(b *testing.B) { benchImpl(b, ir.PrimReverse, nil, x) })
	b.Run("concat", func(b *testing.B) { benchImpl(b, ir.PrimConcat, nil, x, x) })
	b.Run("transpose", func(b *testing.B) { benchImpl(b, ir.PrimTranspose, nil, mat) })
	b.Run("iota", func(b *testing.B) { benchImpl(b, ir.PrimIota, nil, i(n)) })
	b.Run("ones", func(b *testing.B) { benchImpl(b, ir.PrimOnes, nil, i(n)) })
	b.Run("sum_i64", func(b *testing.B) { benchImpl(b, ir.PrimSum, nil, xi) })
	b.Run("maximum_i64", func(b *testing.B) { benchImpl(b, ir.PrimMaximum, nil, xi) })
	b.Run("argmax_i64", func(b *testing.B) { benchImpl(b, ir.PrimArgmax, nil, xi) })
	b.Run("outer", func(b *testing.B) { benchImpl(b, ir.PrimOuter, nil, fs(benchF64s(300)...), fs(benchF64s(300)...)) })
	b.Run("lt_vv", func(b *testing.B) { benchImpl(b, ir.PrimLt, nil, x, x) })
	b.Run("lt_sv", func(b *testing.B) { benchImpl(b, ir.PrimLt, nil, f(0.5), x) })
	b.Run("add_i64_vv", func(b *testing.B) { benchImpl(b, ir.PrimAdd, nil, xi, xi) })
	b.Run("mul_i64_vs", func(b *testing.B) { benchImpl(b, ir.PrimMul, nil, xi, i(3)) })
	b.Run("sigmoid", func(b *testing.B) { benchImpl(b, ir.PrimSigmoid, nil, x) })
	b.Run("max_vv", func(b *testing.B) { benchImpl(b, ir.PrimMax, nil, x, x) })
	b.Run("i64_of_f64", func(b *testing.B) { benchImpl(b, ir.PrimToI64, nil, x) })
}

func BenchmarkEvalLinsolve(b *testing.B) {
	const n = 50
	a := make([]float64, n*n)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			a[r*n+c] = 1 / float64(1+r+c)
		}
		a[r*n+r] += float64(n)
	}
	mv := fn(fnT(vec(n, tF), vec(n, tF)), func(args []runtime.Value) runtime.Value {
		x := args[0].Array().F
		y := make([]float64, n)
		runtime.Gemv(false, n, n, 1, a, x, 0, y)
		return runtime.Arr(runtime.FromF64(y))
	})
	benchImpl(b, ir.PrimLinsolve, nil, mv, fs(benchF64s(n)...))
}
