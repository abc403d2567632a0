package interp

import (
	"context"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

const benchN = 1_000_000

func benchInputs() (x, y []float64) {
	x, y = make([]float64, benchN), make([]float64, benchN)
	for i := range x {
		x[i] = math.Sin(float64(i)) * 0.5
		y[i] = math.Cos(float64(i))
	}
	return x, y
}

var sink float64

// BenchmarkSumExpMul compares sum(exp(x) * y) in the interpreter, which
// runs it as three whole-array primitives, with the hand-written Go loop.
func BenchmarkSumExpMul(b *testing.B) {
	x, y := benchInputs()
	b.Run("interp", func(b *testing.B) {
		var bd ir.Builder
		d := bd.Def("f", []string{"x", "y"}, []ir.Type{vec(F), vec(F)}, func(v []*ir.Var) ir.Expr {
			return bd.Prim(ir.PrimSum, bd.Prim(ir.PrimMul, bd.Prim(ir.PrimExp, v[0]), v[1]))
		})
		it := mustNew(b, d)
		args := []runtime.Value{f64s(x...), f64s(y...)}
		ctx := context.Background()
		b.SetBytes(16 * benchN)
		for b.Loop() {
			v, err := it.Call(ctx, "f", args, runtime.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			sink = v.F
		}
	})
	b.Run("go", func(b *testing.B) {
		b.SetBytes(16 * benchN)
		for b.Loop() {
			s := 0.0
			for i := range x {
				s += math.Exp(x[i]) * y[i]
			}
			sink = s
		}
	})
}

// BenchmarkScalarLoop measures per-node overhead:
// loop s = 0.0 for i < 1000000 do s + f64(i) * 0.5.
func BenchmarkScalarLoop(b *testing.B) {
	var bd ir.Builder
	d := bd.Def("f", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return bd.For("s", bd.F64(0), "i", v[0], func(s, i *ir.Var) ir.Expr {
			return bd.Prim(ir.PrimAdd, s, bd.Prim(ir.PrimMul, bd.Prim(ir.PrimToF64, i), bd.F64(0.5)))
		})
	})
	it := mustNew(b, d)
	args := []runtime.Value{runtime.I64(benchN)}
	ctx := context.Background()
	for b.Loop() {
		v, err := it.Call(ctx, "f", args, runtime.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		sink = v.F
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/iter")
}

// BenchmarkCallLoop measures the cost of a def call per iteration:
// loop s = 0.0 for i < n do s + sq(f64(i)).
func BenchmarkCallLoop(b *testing.B) {
	var bd ir.Builder
	sq := bd.Def("sq", []string{"v"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return bd.Prim(ir.PrimMul, v[0], v[0]) })
	d := bd.Def("f", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return bd.For("s", bd.F64(0), "i", v[0], func(s, i *ir.Var) ir.Expr {
			return bd.Prim(ir.PrimAdd, s, bd.Call(bd.Global(sq), bd.Prim(ir.PrimToF64, i)))
		})
	})
	it := mustNew(b, sq, d)
	args := []runtime.Value{runtime.I64(benchN)}
	ctx := context.Background()
	for b.Loop() {
		v, err := it.Call(ctx, "f", args, runtime.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		sink = v.F
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/iter")
}

// BenchmarkMap compares map over a lambda that batches (one evaluation of
// its body on whole arrays) with one that does not (a closure call per
// element).
func BenchmarkMap(b *testing.B) {
	x, _ := benchInputs()
	for _, c := range []struct {
		name string
		body func(bd *ir.Builder, e, s ir.Expr) ir.Expr
	}{
		{"batched", func(bd *ir.Builder, e, s ir.Expr) ir.Expr {
			return bd.Prim(ir.PrimAdd, bd.Prim(ir.PrimMul, e, s), bd.F64(1))
		}},
		{"per-element", func(bd *ir.Builder, e, s ir.Expr) ir.Expr {
			return bd.If(bd.Prim(ir.PrimGt, e, bd.F64(0)), bd.Prim(ir.PrimMul, e, s), bd.F64(1))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bd ir.Builder
			d := bd.Def("f", []string{"x", "s"}, []ir.Type{vec(F), F}, func(v []*ir.Var) ir.Expr {
				l := bd.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr { return c.body(&bd, e[0], v[1]) })
				return bd.Prim(ir.PrimMap, l, v[0])
			})
			it := mustNew(b, d)
			args := []runtime.Value{f64s(x...), runtime.F64(2)}
			ctx := context.Background()
			for b.Loop() {
				if _, err := it.Call(ctx, "f", args, runtime.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
		})
	}
}
