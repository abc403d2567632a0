package rewrite

import (
	"context"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestEnsureOwned builds, by hand, defs of y: [3]f64 whose in-place
// writes share storage with a value read later (or with the caller's
// argument), and defs where they do not. ensureOwned must copy exactly
// the accumulators of the first kind, and the def must then compute its
// value semantics on y = [1, 2, 3].
func TestEnsureOwned(t *testing.T) {
	var b ir.Builder
	vec := ir.ArrayOf(ir.ConstDim(3), ir.TF64)
	one := func(name string, body func(y ir.Expr) ir.Expr) *ir.Def {
		return b.Def(name, []string{"y"}, []ir.Type{vec}, func(ps []*ir.Var) ir.Expr { return body(ps[0]) })
	}
	at := func(x ir.Expr, i int64) ir.Expr { return b.Prim(ir.PrimIndex, x, b.I64(i)) }
	rev := func(y ir.Expr) ir.Expr { return b.Prim(ir.PrimReverse, y) }
	cases := []struct {
		name   string
		def    *ir.Def
		copies int
		want   string
	}{
		{
			// The shape FuzzDifferential found: a row cleared in place of
			// an array that is read after the clearing.
			name: "cleared row read later",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Let("c", rev(y), func(c *ir.Var) ir.Expr {
					return b.Let("a", b.Prim(ir.PrimAccZeroAt, c, b.I64(0)), func(a *ir.Var) ir.Expr {
						return b.Tuple(a, at(c, 0))
					})
				})
			}),
			copies: 1, want: "[[0, 2, 1], 3]",
		},
		{
			name: "alias through a tuple",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Let("c", rev(y), func(c *ir.Var) ir.Expr {
					return b.Let("p", b.Tuple(c, b.F64(1)), func(p *ir.Var) ir.Expr {
						return b.Let("a", b.Prim(ir.PrimAccAddAt, b.Proj(p, 0), b.I64(1), b.F64(10)), func(a *ir.Var) ir.Expr {
							return b.Tuple(a, at(c, 1))
						})
					})
				})
			}),
			copies: 1, want: "[[3, 12, 1], 2]",
		},
		{
			name: "the caller's argument",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Prim(ir.PrimAccAdd, y, y)
			}),
			copies: 1, want: "[2, 4, 6]",
		},
		{
			// A loop state that starts as an array the body also reads:
			// iteration 0 writes z[0], which iteration 1 reads.
			name: "loop state aliases a value the body reads",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Let("z", rev(y), func(z *ir.Var) ir.Expr {
					return b.For("s", z, "i", b.I64(3), func(s, i *ir.Var) ir.Expr {
						return b.Prim(ir.PrimAccAddAt, s, i, at(z, 0))
					})
				})
			}),
			copies: 1, want: "[6, 5, 4]",
		},
		{
			// A state whose previous value the next iteration still reads
			// through another state.
			name: "two states, one a stale copy of the other",
			def: one("f", func(y ir.Expr) ir.Expr {
				init := b.Tuple(b.Prim(ir.PrimZerosLike, y), b.Prim(ir.PrimZerosLike, y))
				return b.Proj(b.For("s", init, "i", b.I64(3), func(s, i *ir.Var) ir.Expr {
					return b.Let("g", b.Proj(s, 0), func(g *ir.Var) ir.Expr {
						return b.Tuple(b.Prim(ir.PrimAccAddAt, g, b.I64(0), b.F64(1)), g)
					})
				}), 1)
			}),
			copies: 1, want: "[2, 0, 0]",
		},
		// What reverse mode emits stays in place.
		{
			name: "read before the write",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Let("c", rev(y), func(c *ir.Var) ir.Expr {
					return b.Let("s", at(c, 0), func(s *ir.Var) ir.Expr {
						return b.Tuple(b.Prim(ir.PrimAccZeroAt, c, b.I64(0)), s)
					})
				})
			}),
			copies: 0, want: "[[0, 2, 1], 3]",
		},
		{
			name: "fresh zero threaded through a loop",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.For("s", b.Prim(ir.PrimZerosLike, y), "i", b.I64(3), func(s, i *ir.Var) ir.Expr {
					return b.Prim(ir.PrimAccAddAt, s, i, b.Prim(ir.PrimIndex, y, i))
				})
			}),
			copies: 0, want: "[1, 2, 3]",
		},
		{
			name: "write on one branch only",
			def: one("f", func(y ir.Expr) ir.Expr {
				return b.Let("z", b.Prim(ir.PrimZerosLike, y), func(z *ir.Var) ir.Expr {
					hit := b.Prim(ir.PrimGt, at(y, 0), b.F64(0))
					return b.Let("a", b.If(hit, b.Prim(ir.PrimAccAddAt, z, b.I64(2), b.F64(5)), z), func(a *ir.Var) ir.Expr {
						return b.Prim(ir.PrimAccAddAt, a, b.I64(0), b.F64(1))
					})
				})
			}),
			copies: 0, want: "[1, 0, 5]",
		},
		{
			name: "the parts of a zero tuple",
			def: one("f", func(y ir.Expr) ir.Expr {
				init := b.Prim(ir.PrimZerosLike, b.Tuple(y, y))
				l := b.For("s", init, "i", b.I64(3), func(s, i *ir.Var) ir.Expr {
					return b.Let("g", b.Proj(s, 0), func(g *ir.Var) ir.Expr {
						return b.Let("h", b.Proj(s, 1), func(h *ir.Var) ir.Expr {
							return b.Tuple(b.Prim(ir.PrimAccAddAt, g, i, at(h, 0)), b.Prim(ir.PrimAccAddAt, h, i, b.F64(1)))
						})
					})
				})
				return b.Prim(ir.PrimAdd, b.Proj(l, 0), b.Proj(l, 1))
			}),
			copies: 0, want: "[1, 2, 2]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := ensureOwned(tc.def.Params, tc.def.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(ir.PrintExpr(body), "acc_add(zeros_like("); got != tc.copies {
				t.Errorf("%d copies, want %d:\n%s", got, tc.copies, ir.PrintExpr(body))
			}
			d := *tc.def
			d.Body = body
			it, err := interp.New(ir.NewProgram([]*ir.Def{&d}))
			if err != nil {
				t.Fatal(err)
			}
			y := runtime.Arr(runtime.FromF64([]float64{1, 2, 3}))
			v, err := it.Call(context.Background(), "f", []runtime.Value{y}, runtime.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			js, err := jsonv.Encode(d.Result, v)
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != tc.want {
				t.Errorf("f([1, 2, 3]) = %s, want %s\n%s", js, tc.want, ir.PrintExpr(body))
			}
			if got := y.Array().F; got[0] != 1 || got[1] != 2 || got[2] != 3 {
				t.Errorf("the argument became %v", got)
			}
		})
	}
}

// TestEnsureOwnedDeepLoops checks that loops nested deep, each followed
// until it settles, stay within ensureOwned's budget: past it every
// write gets a copy, which keeps the value right.
func TestEnsureOwnedDeepLoops(t *testing.T) {
	var b ir.Builder
	vec := ir.ArrayOf(ir.ConstDim(3), ir.TF64)
	d := b.Def("f", []string{"y"}, []ir.Type{vec}, func(ps []*ir.Var) ir.Expr {
		var nest func(depth int, s ir.Expr) ir.Expr
		nest = func(depth int, s ir.Expr) ir.Expr {
			if depth == 0 {
				return b.Prim(ir.PrimAccAddAt, s, b.I64(0), b.F64(1))
			}
			return b.For("s", s, "i", b.I64(1), func(st, _ *ir.Var) ir.Expr { return nest(depth-1, st) })
		}
		return nest(40, b.Prim(ir.PrimZerosLike, ps[0]))
	})
	body, err := ensureOwned(d.Params, d.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(ir.PrintExpr(body), "acc_add(zeros_like("); n != 1 {
		t.Errorf("%d copies, want 1 (the budget's fallback)", n)
	}
	nd := *d
	nd.Body = body
	it, err := interp.New(ir.NewProgram([]*ir.Def{&nd}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := it.Call(context.Background(), "f", []runtime.Value{runtime.Arr(runtime.FromF64([]float64{1, 2, 3}))}, runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Array().F; got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("f = %v, want [1 0 0]", got)
	}
}
