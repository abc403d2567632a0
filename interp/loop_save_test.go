package interp

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestLoopSaveInline checks loop_save with a literal lambda, compiled into
// the enclosing frame, against the same loop whose function is a value
// (the primitive's implementation): the states to the bit, the steps, the
// error of a failing body (message and position) and the error under
// every step limit up to the steps the call takes.
func TestLoopSaveInline(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	state := ir.TupleOf(vec(F), F)
	// saves(x, n) = loop_save(n, (x, 0.0), fn(j, st) =>                   (line 1)
	//   let v = st.0 * x[j] in (v, st.1 + sum(v)))                        (x[j] on line 2)
	// with the lambda on line 4, through a let (line 3) in the general
	// variant.
	def := func(name string, general bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"x", "n"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
			x := v[0]
			at(&b, 4)
			lam := b.Lambda([]string{"j", "st"}, []ir.Type{I, state}, func(w []*ir.Var) ir.Expr {
				at(&b, 2)
				xj := p(ir.PrimIndex, x, w[0])
				at(&b, 1)
				out := b.Let("v", p(ir.PrimMul, b.Proj(w[1], 0), xj), func(y *ir.Var) ir.Expr {
					return b.Tuple(y, p(ir.PrimAdd, b.Proj(w[1], 1), p(ir.PrimSum, y)))
				})
				at(&b, 4) // the lambda takes the position at its end
				return out
			})
			at(&b, 1)
			init := b.Tuple(x, b.F64(0))
			if general {
				at(&b, 3)
				return b.Let("f", lam, func(f *ir.Var) ir.Expr {
					at(&b, 1)
					return p(ir.PrimLoopSave, v[1], init, f)
				})
			}
			return p(ir.PrimLoopSave, v[1], init, lam)
		})
	}
	it := mustNew(t, def("inline", false), def("general", true))
	x := f64s(1.5, -0.25, 3, 1e-300)
	seen := map[string]bool{} // the positions of the step-limit errors
	for _, n := range []int64{-1, 0, 1, 3, 4, 5} {
		args := []runtime.Value{x, runtime.I64(n)}
		got, gerr := it.Call(context.Background(), "inline", args, runtime.Limits{})
		want, werr := it.Call(context.Background(), "general", args, runtime.Limits{})
		if where(gerr) != where(werr) {
			t.Fatalf("n=%d: error %s, the general code gives %s", n, where(gerr), where(werr))
		}
		if n == 5 {
			// x[4] fails on the last iteration, at line 2.
			if e, _ := callErr(t, it, "inline", runtime.Limits{}, args...); e.Pos != pos(2) {
				t.Errorf("n=5: error at %s, want line 2", e.Pos)
			}
			continue
		}
		if !bits(got, want) {
			t.Errorf("n=%d: %s, the general code gives %s", n, show(got), show(want))
		}
		steps := stepsUsed(t, it, "general", args...)
		if s := stepsUsed(t, it, "inline", args...); s != steps {
			t.Errorf("n=%d: %d steps, the general code takes %d", n, s, steps)
		}
		for lim := int64(1); lim < steps; lim++ {
			_, gerr := it.Call(context.Background(), "inline", args, runtime.Limits{Steps: lim})
			_, werr := it.Call(context.Background(), "general", args, runtime.Limits{Steps: lim})
			if gerr == nil || where(gerr) != where(werr) {
				t.Errorf("n=%d, %d steps: error %s, the general code gives %s", n, lim, where(gerr), where(werr))
			}
			var e *ir.Error
			if errors.As(gerr, &e) {
				seen[e.Pos.String()] = true
			}
		}
	}
	// The limit is met at the primitive's step (line 1) and at the
	// lambda's (line 4).
	if !seen[pos(1).String()] || !seen[pos(4).String()] {
		t.Errorf("step-limit errors at %v, want lines 1 and 4", seen)
	}
}

// where is an error's position and message, without the frames (the defs
// differ in name).
func where(err error) string {
	var e *ir.Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	return e.Pos.String() + ": " + e.Msg
}
