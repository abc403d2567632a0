package interp

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestBroadcastTapeField: `let c = acc_add(zeros_like(P), s)` with P a
// read of a tape (tp[i].1, or tape.1 with tape = tp[i]) and c read only by
// index makes no array, in a loop body (into) and in a plain let
// (compileLet). Values are the general code's to the bit (0 + -0 is +0),
// steps the same, the tape read's and c[q]'s index errors at their
// positions with their messages, and the step limit stops it.
func TestBroadcastTapeField(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	mat := ir.ArrayOf(ir.Unknown, vec(F))
	// tapeOf(m, s) = build(len(s), fn(j) => (s[j], m[j], f64(j)))
	tapeOf := func(m, s *ir.Var) ir.Expr {
		return build(&b, p(ir.PrimLen, s), func(j *ir.Var) ir.Expr {
			return b.Tuple(p(ir.PrimIndex, s, j), p(ir.PrimIndex, m, j), p(ir.PrimToF64, j))
		})
	}
	// field(tp, i, let_) is tp[i].1, or with let_ `let tape = tp[i] in tape.1`.
	field := func(tp, i *ir.Var, let_ bool, body func(f ir.Expr) ir.Expr) ir.Expr {
		if !let_ {
			at(&b, 3)
			f := b.Proj(p(ir.PrimIndex, tp, i), 1)
			at(&b, 1)
			return body(f)
		}
		at(&b, 3)
		read := p(ir.PrimIndex, tp, i)
		at(&b, 1)
		return b.Let("tape", read, func(tape *ir.Var) ir.Expr { return body(b.Proj(tape, 1)) })
	}
	// loop(m, s, n, q) = let tp = tapeOf(m, s) in
	//   loop st = (zeros_like(s), 0.0) for i < n do
	//     let c = acc_add(zeros_like(FIELD), s[i] * -0.5) in      (FIELD's read at line 3, acc_add at 4)
	//     (acc_add_at(st.0, i, c[0] + c[q]), st.1 + c[1])         (c[q] at line 5)
	loopDef := func(name string, let_ bool) *ir.Def {
		at(&b, 1)
		return b.Def(name, []string{"m", "s", "n", "q"}, []ir.Type{mat, vec(F), I, I}, func(v []*ir.Var) ir.Expr {
			m, s, n, q := v[0], v[1], v[2], v[3]
			return b.Let("tp", tapeOf(m, s), func(tp *ir.Var) ir.Expr {
				init := b.Tuple(p(ir.PrimZerosLike, s), b.F64(0))
				return b.For("st", init, "i", n, func(st, i *ir.Var) ir.Expr {
					return field(tp, i, let_, func(f ir.Expr) ir.Expr {
						at(&b, 4)
						cv := p(ir.PrimAccAdd, p(ir.PrimZerosLike, f), p(ir.PrimMul, p(ir.PrimIndex, s, i), b.F64(-0.5)))
						at(&b, 1)
						return b.Let("c", cv, func(c *ir.Var) ir.Expr {
							at(&b, 5)
							cq := p(ir.PrimIndex, c, q)
							at(&b, 1)
							return b.Tuple(
								p(ir.PrimAccAddAt, b.Proj(st, 0), i, p(ir.PrimAdd, p(ir.PrimIndex, c, b.I64(0)), cq)),
								p(ir.PrimAdd, b.Proj(st, 1), p(ir.PrimIndex, c, b.I64(1))))
						})
					})
				})
			})
		})
	}
	// plainLet(m, s, n, q) = let tp = tapeOf(m, s) in
	//   let c = acc_add(zeros_like(tp[n].1), s[0] * -0.5) in c[0] * c[q]
	plainLet := func() *ir.Def {
		at(&b, 1)
		return b.Def("plainLet", []string{"m", "s", "n", "q"}, []ir.Type{mat, vec(F), I, I}, func(v []*ir.Var) ir.Expr {
			m, s, n, q := v[0], v[1], v[2], v[3]
			return b.Let("tp", tapeOf(m, s), func(tp *ir.Var) ir.Expr {
				return field(tp, n, false, func(f ir.Expr) ir.Expr {
					at(&b, 4)
					cv := p(ir.PrimAccAdd, p(ir.PrimZerosLike, f), p(ir.PrimMul, p(ir.PrimIndex, s, b.I64(0)), b.F64(-0.5)))
					at(&b, 1)
					return b.Let("c", cv, func(c *ir.Var) ir.Expr {
						at(&b, 5)
						cq := p(ir.PrimIndex, c, q)
						at(&b, 1)
						return p(ir.PrimMul, p(ir.PrimIndex, c, b.I64(0)), cq)
					})
				})
			})
		})
	}
	plain, special := newPlainAndSpecial(t, loopDef("path", false), loopDef("letField", true), plainLet())
	negz := math.Copysign(0, -1)
	rows, cols := 4, 3
	m := runtime.FromF64(make([]float64, rows*cols))
	m.Shape = []int{rows, cols}
	for i := range m.F {
		m.F[i] = math.Cos(float64(i))
	}
	s := []float64{1.5, negz, 0, -2.25}
	args := func(n, q int64) []runtime.Value {
		return []runtime.Value{runtime.Arr(m), f64s(s...), runtime.I64(n), runtime.I64(q)}
	}
	for _, name := range []string{"path", "letField", "plainLet"} {
		for _, n := range []int64{0, 1, 2, 4} {
			if name == "plainLet" && n == 4 {
				continue
			}
			for _, q := range []int64{1, 2} {
				got, want := call(t, special, name, args(n, q)...), call(t, plain, name, args(n, q)...)
				if !valueBits(got, want) {
					t.Errorf("%s n=%d q=%d: %s, the general code gives %s", name, n, q, show(got), show(want))
				}
				if sh, sr := stepsUsed(t, special, name, args(n, q)...), stepsUsed(t, plain, name, args(n, q)...); sh != sr {
					t.Errorf("%s n=%d q=%d: %d steps, the general code takes %d", name, n, q, sh, sr)
				}
			}
		}
		for _, it := range []*Interp{special, plain} {
			// c[3] is out of range: c has the tape row's 3 elements.
			e, err := callErr(t, it, name, runtime.Limits{}, args(2, 3)...)
			if e.Pos != pos(5) || !strings.Contains(err.Error(), "index 3 out of range [0, 3)") {
				t.Errorf("%s (general code %v): %v at %s, want c's index error at line 5", name, it == plain, err, e.Pos)
			}
			// The tape has 4 rows: reading row 4 fails at the tape read.
			n := int64(5)
			if name == "plainLet" {
				n = 4
			}
			e, err = callErr(t, it, name, runtime.Limits{}, args(n, 1)...)
			if e.Pos != pos(3) || !strings.Contains(err.Error(), "index 4 out of range [0, 4)") {
				t.Errorf("%s (general code %v): %v at %s, want the tape read's index error at line 3", name, it == plain, err, e.Pos)
			}
			if name == "plainLet" {
				continue
			}
			_, err = callErr(t, it, name, runtime.Limits{Steps: 12}, args(4, 1)...)
			if !errors.Is(err, runtime.ErrStepLimit) {
				t.Errorf("%s (general code %v): %v does not wrap ErrStepLimit", name, it == plain, err)
			}
		}
	}
}

// TestBroadcastZeros: the same for `let c = acc_add(zeros(k), s)`, the
// form rewrite's shapezeros gives a tape field read only for its length,
// and for acc_add(zeros(k), s) used whole (compileAccAddConst). Values and
// steps are the general code's, c[q]'s index error and zeros' negative
// size error are at their positions with their messages, and the step
// limit stops it.
func TestBroadcastZeros(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	// c(k, s, i) = acc_add(zeros(k), s[i] * -0.5)   (zeros at line 3, acc_add at 4)
	cOf := func(k, s ir.Expr, i ir.Expr) ir.Expr {
		at(&b, 3)
		z := p(ir.PrimZeros, k)
		at(&b, 4)
		cv := p(ir.PrimAccAdd, z, p(ir.PrimMul, p(ir.PrimIndex, s, i), b.F64(-0.5)))
		at(&b, 1)
		return cv
	}
	// loop st = (zeros_like(s), 0.0) for i < n do
	//   let c = c(k, s, i) in (acc_add_at(st.0, i, c[0] + c[q]), c[1] * 2.0)   (c[q] at line 5)
	at(&b, 1)
	loopDef := b.Def("zloop", []string{"s", "n", "k", "q"}, []ir.Type{vec(F), I, I, I}, func(v []*ir.Var) ir.Expr {
		s, n, k, q := v[0], v[1], v[2], v[3]
		init := b.Tuple(p(ir.PrimZerosLike, s), b.F64(0))
		return b.For("st", init, "i", n, func(st, i *ir.Var) ir.Expr {
			return b.Let("c", cOf(k, s, i), func(c *ir.Var) ir.Expr {
				at(&b, 5)
				cq := p(ir.PrimIndex, c, q)
				at(&b, 1)
				return b.Tuple(
					p(ir.PrimAccAddAt, b.Proj(st, 0), i, p(ir.PrimAdd, p(ir.PrimIndex, c, b.I64(0)), cq)),
					p(ir.PrimMul, p(ir.PrimIndex, c, b.I64(1)), b.F64(2)))
			})
		})
	})
	// let c = c(k, s, n) in c[0] * 3.0 + c[q] * 2.0 (a zero keeps its sign)
	at(&b, 1)
	letDef := b.Def("zlet", []string{"s", "n", "k", "q"}, []ir.Type{vec(F), I, I, I}, func(v []*ir.Var) ir.Expr {
		s, n, k, q := v[0], v[1], v[2], v[3]
		return b.Let("c", cOf(k, s, n), func(c *ir.Var) ir.Expr {
			at(&b, 5)
			cq := p(ir.PrimIndex, c, q)
			at(&b, 1)
			return p(ir.PrimAdd, p(ir.PrimMul, p(ir.PrimIndex, c, b.I64(0)), b.F64(3)), p(ir.PrimMul, cq, b.F64(2)))
		})
	})
	// c(k, s, n) itself, q unused
	at(&b, 1)
	wholeDef := b.Def("zwhole", []string{"s", "n", "k", "q"}, []ir.Type{vec(F), I, I, I}, func(v []*ir.Var) ir.Expr {
		return cOf(v[2], v[0], v[1])
	})
	plain, special := newPlainAndSpecial(t, loopDef, letDef, wholeDef)
	negz := math.Copysign(0, -1)
	s := []float64{1.5, negz, 0, -2.25}
	args := func(n, k, q int64) []runtime.Value {
		return []runtime.Value{f64s(s...), runtime.I64(n), runtime.I64(k), runtime.I64(q)}
	}
	for _, name := range []string{"zloop", "zlet", "zwhole"} {
		for _, n := range []int64{0, 1, 2, 3} {
			for _, k := range []int64{2, 3} {
				for _, q := range []int64{1, k - 1} {
					got, want := call(t, special, name, args(n, k, q)...), call(t, plain, name, args(n, k, q)...)
					if !valueBits(got, want) {
						t.Errorf("%s n=%d k=%d q=%d: %s, the general code gives %s", name, n, k, q, show(got), show(want))
					}
					if sh, sr := stepsUsed(t, special, name, args(n, k, q)...), stepsUsed(t, plain, name, args(n, k, q)...); sh != sr {
						t.Errorf("%s n=%d k=%d q=%d: %d steps, the general code takes %d", name, n, k, q, sh, sr)
					}
				}
			}
		}
		for _, it := range []*Interp{special, plain} {
			if name != "zwhole" {
				e, err := callErr(t, it, name, runtime.Limits{}, args(2, 3, 3)...)
				if e.Pos != pos(5) || !strings.Contains(err.Error(), "index 3 out of range [0, 3)") {
					t.Errorf("%s (general code %v): %v at %s, want c's index error at line 5", name, it == plain, err, e.Pos)
				}
			}
			e, err := callErr(t, it, name, runtime.Limits{}, args(2, -1, 0)...)
			if e.Pos != pos(3) || !strings.Contains(err.Error(), "negative size -1") {
				t.Errorf("%s (general code %v): %v at %s, want zeros' size error at line 3", name, it == plain, err, e.Pos)
			}
			_, err = callErr(t, it, name, runtime.Limits{Steps: 5}, args(3, 3, 1)...)
			if !errors.Is(err, runtime.ErrStepLimit) {
				t.Errorf("%s (general code %v): %v does not wrap ErrStepLimit", name, it == plain, err)
			}
		}
	}
}
