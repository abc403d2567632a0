package interp

// Tests of accChain's one-hot updates (typed_loop_arr.go): a tuple loop
// whose body adds a one-hot chain into a rank-3 field and a scalar into a
// vector field, compiled with them and without (noAccOneHot: the body then
// goes through revChain and compileAccOneHot), and with plainTyped (every
// primitive as written). Values to the bit, errors with their positions,
// steps and the outcome under every step limit must agree.

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// oneHotLoopDef builds
//
//	def f(A: [?][?][?]f64, v: [?]f64, L2: [?][?]f64, L3: [?]f64, j: i64, k: i64, n: i64, y: f64) =
//	  loop rev = (A, v) for i < n do          -- line 5
//	    let g = rev.0 in let h = rev.1 in
//	    let s = y * f64(i) in
//	    let acc = acc_add_at(h, i, s) in      -- line 6
//	    let acc1 = acc_add_at(g, j,           -- line 2
//	      acc_add_at(zeros_like(L2), i,       -- line 3
//	        acc_add_at(zeros_like(L3), k, s))) in   -- line 4
//	    (acc1, acc)
func oneHotLoopDef(b *ir.Builder) *ir.Def {
	p := b.Prim
	m3, m2 := vec(vec(vec(F))), vec(vec(F))
	at(b, 1)
	return b.Def("f", []string{"A", "v", "L2", "L3", "j", "k", "n", "y"}, []ir.Type{m3, vec(F), m2, vec(F), I, I, I, F}, func(v []*ir.Var) ir.Expr {
		at(b, 5)
		return b.For("rev", b.Tuple(v[0], v[1]), "i", v[6], func(st, i *ir.Var) ir.Expr {
			return b.Let("g", b.Proj(st, 0), func(g *ir.Var) ir.Expr {
				return b.Let("h", b.Proj(st, 1), func(h *ir.Var) ir.Expr {
					return b.Let("s", p(ir.PrimMul, v[7], p(ir.PrimToF64, i)), func(s *ir.Var) ir.Expr {
						at(b, 6)
						return b.Let("acc", p(ir.PrimAccAddAt, h, i, s), func(acc *ir.Var) ir.Expr {
							at(b, 4)
							in3 := p(ir.PrimAccAddAt, p(ir.PrimZerosLike, v[3]), v[5], s)
							at(b, 3)
							in2 := p(ir.PrimAccAddAt, p(ir.PrimZerosLike, v[2]), i, in3)
							at(b, 2)
							return b.Let("acc1", p(ir.PrimAccAddAt, g, v[4], in2), func(acc1 *ir.Var) ir.Expr {
								return b.Tuple(acc1, acc)
							})
						})
					})
				})
			})
		})
	})
}

// TestAccChainOneHot checks accChain's one-hot updates against revChain's
// and the primitives'.
func TestAccChainOneHot(t *testing.T) {
	compile := func(set *bool) *Interp {
		if set != nil {
			*set = true
			defer func() { *set = false }()
		}
		var b ir.Builder
		return mustNew(t, oneHotLoopDef(&b))
	}
	before := accOneHotLoops.Load()
	hot := compile(nil)
	if accOneHotLoops.Load() == before {
		t.Fatal("accChain compiled no loop with a one-hot update")
	}
	before = accOneHotLoops.Load()
	refs := map[string]*Interp{"revChain": compile(&noAccOneHot), "primitives": compile(&plainTyped)}
	if accOneHotLoops.Load() != before {
		t.Fatal("a reference compiled accChain's one-hot updates")
	}
	negz := math.Copysign(0, -1)
	arr := func(shape []int, xs ...float64) runtime.Value {
		n := 1
		for _, s := range shape {
			n *= s
		}
		f := make([]float64, n)
		for q := range f {
			f[q] = xs[q%len(xs)]
		}
		a := runtime.FromF64(f)
		a.Shape = shape
		return runtime.Arr(a)
	}
	type args struct {
		a, l2      []int // shapes of A and L2
		v, l3, j   int   // lengths of v and L3, index j
		k, n       int64
		y          float64
		vals       []float64
		wantErr    bool
		errLine    int
		stepLimits bool
	}
	cases := []struct {
		name string
		args
	}{
		{"no iteration", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: 1, k: 0, n: 0, y: 1, vals: []float64{1, negz}}},
		{"one iteration", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: 1, k: 1, n: 1, y: 0.5, vals: []float64{1, negz}}},
		{"three iterations, -0", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: 0, k: 1, n: 3, y: negz, vals: []float64{negz, 2, negz}, stepLimits: true}},
		{"NaN and inf", args{a: []int{1, 3, 3}, l2: []int{3, 3}, v: 4, l3: 3, j: 0, k: 2, n: 3, y: math.Inf(1), vals: []float64{math.NaN(), 1, math.Inf(-1)}, stepLimits: true}},
		{"outer index", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: 2, k: 0, n: 2, y: 1, vals: []float64{1}, wantErr: true, errLine: 2}},
		{"negative outer index", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: -1, k: 0, n: 2, y: 1, vals: []float64{1}, wantErr: true, errLine: 2}},
		{"middle index at the third iteration", args{a: []int{2, 2, 2}, l2: []int{2, 2}, v: 3, l3: 2, j: 0, k: 0, n: 3, y: 1, vals: []float64{1}, wantErr: true, errLine: 3}},
		{"innermost index", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 2, j: 0, k: 2, n: 2, y: 1, vals: []float64{1}, wantErr: true, errLine: 4}},
		{"row shape", args{a: []int{2, 3, 2}, l2: []int{3, 3}, v: 3, l3: 3, j: 0, k: 0, n: 2, y: 1, vals: []float64{1}, wantErr: true, errLine: 2}},
		{"middle row shape", args{a: []int{2, 3, 2}, l2: []int{3, 2}, v: 3, l3: 3, j: 0, k: 0, n: 2, y: 1, vals: []float64{1}, wantErr: true, errLine: 3}},
		{"vector field first", args{a: []int{2, 2, 2}, l2: []int{2, 2}, v: 2, l3: 2, j: 0, k: 0, n: 3, y: 1, vals: []float64{1}, wantErr: true, errLine: 6}},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mk := func() []runtime.Value {
				// Fresh each call: the accumulators are updated in place.
				return []runtime.Value{arr(c.a, c.vals...), arr([]int{c.v}, c.vals...), arr(c.l2, 0), arr([]int{c.l3}, 0),
					runtime.I64(int64(c.j)), runtime.I64(c.k), runtime.I64(c.n), runtime.F64(c.y)}
			}
			got, err := hot.Call(ctx, "f", mk(), runtime.Limits{})
			if c.wantErr {
				var ie *ir.Error
				if !errors.As(err, &ie) || ie.Pos != pos(c.errLine) {
					t.Fatalf("error %v, want one at line %d", err, c.errLine)
				}
			}
			for name, ref := range refs {
				want, errRef := ref.Call(ctx, "f", mk(), runtime.Limits{})
				if !sameError(err, errRef) {
					t.Fatalf("error %v, %s: %v", err, name, errRef)
				}
				if err == nil && !valueBits(got, want) {
					t.Fatalf("%s, %s: %s", show(got), name, show(want))
				}
			}
			if c.wantErr || !c.stepLimits {
				return
			}
			count := stepsUsed(t, hot, "f", mk()...)
			for name, ref := range refs {
				if n := stepsUsed(t, ref, "f", mk()...); n != count {
					t.Errorf("%d steps, %s %d", count, name, n)
				}
			}
			for lim := int64(1); lim <= count; lim++ {
				_, err := hot.Call(ctx, "f", mk(), runtime.Limits{Steps: lim})
				for name, ref := range refs {
					_, errRef := ref.Call(ctx, "f", mk(), runtime.Limits{Steps: lim})
					if !sameError(err, errRef) {
						t.Errorf("%d steps: %v, %s: %v", lim, err, name, errRef)
					}
				}
			}
		})
	}
}

// sameError reports whether err and ref are both nil or the same
// positioned error.
func sameError(err, ref error) bool {
	if (err == nil) != (ref == nil) {
		return false
	}
	if err == nil {
		return true
	}
	var e, eRef *ir.Error
	return errors.As(err, &e) && errors.As(ref, &eRef) && e.Pos == eRef.Pos && err.Error() == ref.Error()
}
