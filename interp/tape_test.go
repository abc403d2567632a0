package interp

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestTapeArena: a build of tuples whose elements hold small vectors and
// nested arrays of tuples (the forward sweep's tape of the element-wise
// GMM) takes their storage from a tape arena. Its values are the general
// code's bit for bit, at sizes on both sides of tapeMaxElems; a failing
// element fails at the element's position; steps are the same; and the
// arena's storage counts against the memory limit.
func TestTapeArena(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	at(&b, 1)
	// def tape(x: [?]f64, m: [?][?]f64, k: i64) =
	//   [ let diff = [x[c] - m[j][c] for c < len(x)]
	//     let inner = [ let y = [m[j][c + r] * diff[c] + f64(r) for c < len(x)]   (m[j][c + r] at line 4)
	//                   in (sum(y), y) for r < len(x) ]
	//     in (sum(diff), diff, inner, f64(j)) for j < k ]
	tapeOf := func(x, m, k *ir.Var) ir.Expr {
		n := func() ir.Expr { return p(ir.PrimLen, x) }
		return build(&b, k, func(j *ir.Var) ir.Expr {
			diff := build(&b, n(), func(c *ir.Var) ir.Expr {
				return p(ir.PrimSub, p(ir.PrimIndex, x, c), p(ir.PrimIndex, p(ir.PrimIndex, m, j), c))
			})
			return b.Let("diff", diff, func(d *ir.Var) ir.Expr {
				inner := build(&b, n(), func(r *ir.Var) ir.Expr {
					y := build(&b, n(), func(c *ir.Var) ir.Expr {
						at(&b, 4)
						mc := p(ir.PrimIndex, p(ir.PrimIndex, m, j), p(ir.PrimAdd, c, r))
						at(&b, 1)
						return p(ir.PrimAdd, p(ir.PrimMul, mc, p(ir.PrimIndex, d, c)), p(ir.PrimToF64, r))
					})
					return b.Let("y", y, func(y *ir.Var) ir.Expr { return b.Tuple(p(ir.PrimSum, y), y) })
				})
				return b.Let("inner", inner, func(in *ir.Var) ir.Expr {
					return b.Tuple(p(ir.PrimSum, d), d, in, p(ir.PrimToF64, j))
				})
			})
		})
	}
	def := b.Def("tape", []string{"x", "m", "k"}, []ir.Type{vec(F), mat, I}, func(v []*ir.Var) ir.Expr {
		return tapeOf(v[0], v[1], v[2])
	})
	// def read(x, m, k, q) = let s = tape(x, m, k) in
	//   ([s[j].0 * s[j].3 for j < k], s[q].1)        (s[q] at line 6)
	read := b.Def("read", []string{"x", "m", "k", "q"}, []ir.Type{vec(F), mat, I, I}, func(v []*ir.Var) ir.Expr {
		return b.Let("s", tapeOf(v[0], v[1], v[2]), func(s *ir.Var) ir.Expr {
			col := build(&b, v[2], func(j *ir.Var) ir.Expr {
				return p(ir.PrimMul, b.Proj(p(ir.PrimIndex, s, j), 0), b.Proj(p(ir.PrimIndex, s, j), 3))
			})
			at(&b, 6)
			last := b.Proj(p(ir.PrimIndex, s, v[3]), 1)
			at(&b, 1)
			return b.Tuple(col, last)
		})
	})
	// def mapped(x: [?]f64) = map(fn(e) => (e * 2, [e + f64(c) for c < 3]),
	//   reverse(reverse(reverse(gather(x, [len(x) - 1 - i for i < len(x)])))))
	// The arrays of a map are evaluated with scratch slots that its body's
	// code, the arena's included, takes later.
	mapped := b.Def("mapped", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		x := v[0]
		idx := build(&b, p(ir.PrimLen, x), func(i *ir.Var) ir.Expr {
			return p(ir.PrimSub, p(ir.PrimSub, p(ir.PrimLen, x), b.I64(1)), i)
		})
		arr := p(ir.PrimReverse, p(ir.PrimReverse, p(ir.PrimReverse, p(ir.PrimGather, x, idx))))
		return p(ir.PrimMap, b.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr {
			row := build(&b, b.I64(3), func(c *ir.Var) ir.Expr { return p(ir.PrimAdd, e[0], p(ir.PrimToF64, c)) })
			return b.Tuple(p(ir.PrimMul, e[0], b.F64(2)), row)
		}), arr)
	})
	plain, special := newPlainAndSpecial(t, def, read, mapped)
	for _, n := range []int{0, 1, 5} {
		x := f64s([]float64{0.5, -1, 2, 1e300, math.Copysign(0, -1)}[:n]...)
		if got, want := call(t, special, "mapped", x), call(t, plain, "mapped", x); !valueBits(got, want) {
			t.Errorf("mapped n=%d: %s, the general code gives %s", n, show(got), show(want))
		}
	}
	negz := math.Copysign(0, -1)
	args := func(n, cols, k int) []runtime.Value {
		x := make([]float64, n)
		for i := range x {
			x[i] = []float64{1.5, negz, -2, 1e-300, 3}[i%5] * float64(i+1)
		}
		m := runtime.FromF64(make([]float64, k*cols))
		m.Shape = []int{k, cols}
		for i := range m.F {
			m.F[i] = math.Sin(float64(i))
		}
		return []runtime.Value{f64s(x...), runtime.Arr(m), runtime.I64(int64(k))}
	}
	for _, c := range []struct {
		name    string
		n, k    int
		failing bool // rows of n elements: m[j][c + r] fails
	}{
		{"empty", 3, 0, false},
		{"one", 2, 1, false},
		{"small", 3, 5, false},
		{"many elements", 2, tapeMaxElems + 7, false},
		{"large vectors", tapeMaxElems + 1, 2, false},
		{"failing", 3, 4, true},
	} {
		cols := 2 * c.n
		if c.failing {
			cols = c.n
		}
		a := args(c.n, cols, c.k)
		if c.failing {
			for _, it := range []*Interp{special, plain} {
				e, err := callErr(t, it, "tape", runtime.Limits{}, a...)
				if e.Pos != pos(4) || !strings.Contains(err.Error(), "out of range") {
					t.Errorf("%s (general code %v): %v at %s, want an index error at line 4", c.name, it == plain, err, e.Pos)
				}
			}
			continue
		}
		got, want := call(t, special, "tape", a...), call(t, plain, "tape", a...)
		if !valueBits(got, want) {
			t.Errorf("%s: %s, the general code gives %s", c.name, show(got), show(want))
		}
		if sh, sr := stepsUsed(t, special, "tape", a...), stepsUsed(t, plain, "tape", a...); sh != sr {
			t.Errorf("%s: %d steps, the general code takes %d", c.name, sh, sr)
		}
		// Reading the tape back: in range when k > 0, else the index error.
		ra := append(a, runtime.I64(int64(c.k-1)))
		if c.k == 0 {
			for _, it := range []*Interp{special, plain} {
				e, err := callErr(t, it, "read", runtime.Limits{}, ra...)
				if e.Pos != pos(6) || !strings.Contains(err.Error(), "index -1 out of range [0, 0)") {
					t.Errorf("read %s (general code %v): %v at %s, want the index error at line 6", c.name, it == plain, err, e.Pos)
				}
			}
			continue
		}
		if got, want := call(t, special, "read", ra...), call(t, plain, "read", ra...); !valueBits(got, want) {
			t.Errorf("read %s: %s, the general code gives %s", c.name, show(got), show(want))
		}
	}
	// The arena is used: each more tape element allocates far fewer
	// objects than the general code's.
	allocs := func(it *Interp, k int) float64 {
		a := args(3, 6, k)
		return testing.AllocsPerRun(20, func() { call(t, it, "tape", a...) })
	}
	s40, s80, g40, g80 := allocs(special, 40), allocs(special, 80), allocs(plain, 40), allocs(plain, 80)
	t.Logf("allocations per element: %.2f (arena), %.2f (general code)", (s80-s40)/40, (g80-g40)/40)
	// The general code's small vectors are one object each since they
	// carry their header (runtime.NewVec), so the margin is per element,
	// not per call: 4.2 against 15 when this was written.
	if s80-s40 > (g80-g40)/3 {
		t.Errorf("40 more tape elements: %.0f more allocations, the general code %.0f more; want under a third", s80-s40, g80-g40)
	}
	// 2000 elements hold about 2000 * (3 + 9 + 3 + 3) f64s and boxes:
	// far more than 64 KiB.
	for _, it := range []*Interp{special, plain} {
		_, err := callErr(t, it, "tape", runtime.Limits{Memory: 64 << 10}, args(3, 6, 2000)...)
		if !errors.Is(err, runtime.ErrMemoryLimit) {
			t.Errorf("general code %v: %v does not wrap ErrMemoryLimit", it == plain, err)
		}
	}
}
