package ad

import (
	"math"

	"github.com/nabla-lang/nabla/ir"
)

// Differentiating Taylor mode's output (SPEC §6: Taylor of Taylor, and
// jvp, grad or hessian of a function that uses taylor or jet). The series
// primitives of package ir run their recurrences natively and have no
// derivative rules. When a transformation meets one on a value that
// depends on its input, it differentiates instead the same recurrence
// written in ordinary IR (lowerSeries): loops over the coefficients,
// indexing, elementwise arithmetic, which every mode differentiates,
// Taylor mode included, so that Taylor of Taylor composes. The lowering
// follows the kernels of ir/prim_series.go coefficient for coefficient
// (the same recurrences, so the same values up to rounding); code that
// is not differentiated again keeps the native primitives.
//
// A series here is a [K]T of coefficients of an f64 tensor T (with K ≥ 1,
// as taylor and jet make them), and every operation below is lifted
// elementwise over T.

// lowerForAD returns the ordinary IR a transformation differentiates in
// place of pc, or false when pc is differentiated as it is: the series
// primitives' recurrences (lowerSeries), and acc_zero_at(acc, i) as the
// value it computes, update(acc, i, zeros_like(acc[i])) (the copy costs
// only in derivatives of derivatives, where the accumulator is dead
// after it anyway).
func lowerForAD(pc *ir.PrimCall) (ir.Expr, bool, error) {
	if pc.Op != ir.PrimAccZeroAt {
		return lowerSeries(pc)
	}
	blk := &block{pos: pc.P}
	b := blk.builder()
	acc, i := blk.bind("a", pc.Args[0]), blk.bind("i", pc.Args[1])
	zero := b.Prim(ir.PrimZerosLike, blk.bind("r", b.Prim(ir.PrimIndex, acc, i)))
	return blk.close(b.Prim(ir.PrimUpdate, acc, i, zero)), true, nil
}

// lowerSeries returns the ordinary IR of a series primitive's call, or
// false when pc is not one.
func lowerSeries(pc *ir.PrimCall) (out ir.Expr, ok bool, err error) {
	if !ir.IsSeriesPrim(pc.Op) {
		return nil, false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, ir.Errorf(pc.P, "cannot differentiate %s again: internal error: %v", pc.Op.Name, r)
		}
	}()
	blk := &block{pos: pc.P}
	args := make([]ir.Expr, len(pc.Args))
	for i, a := range pc.Args {
		args[i] = blk.bind("a", a)
	}
	l := &lowering{blk: blk, pos: pc.P}
	y := l.op(pc, args)
	if y == nil {
		return nil, true, ir.Errorf(pc.P, "cannot differentiate %s again", pc.Op.Name)
	}
	if !ir.Equal(y.Type(), pc.T) {
		return nil, true, ir.Errorf(pc.P, "cannot differentiate %s again: internal error: its lowering has type %s, not %s", pc.Op.Name, y.Type(), pc.T)
	}
	return blk.close(y), true, nil
}

type lowering struct {
	blk *block
	pos ir.Pos
}

func (l *lowering) b() *ir.Builder { return &ir.Builder{Pos: l.pos} }

// ---- helpers: each binds its result in bb and returns the atom ----

func (l *lowering) idx(bb *block, a, i ir.Expr) ir.Expr {
	return bb.bind("c", l.b().Prim(ir.PrimIndex, a, i))
}

func (l *lowering) op2(bb *block, p *ir.Prim, x, y ir.Expr) ir.Expr {
	return bb.bind("v", l.b().Prim(p, x, y))
}

func (l *lowering) op1(bb *block, p *ir.Prim, x ir.Expr) ir.Expr {
	return bb.bind("v", l.b().Prim(p, x))
}

func (l *lowering) f64(bb *block, i ir.Expr) ir.Expr { return l.op1(bb, ir.PrimToF64, i) }

func (l *lowering) num(v float64) ir.Expr { return ir.F64Const(v, l.pos) }

func (l *lowering) int(v int64) ir.Expr { return ir.I64Const(v, l.pos) }

// kOf is the number of coefficients of a series.
func (l *lowering) kOf(bb *block, s ir.Expr) ir.Expr { return bb.bind("k", l.b().Prim(ir.PrimLen, s)) }

func dimOf(t ir.Type) ir.Dim { return t.(*ir.Array).Dim }

// build is [f(j) for j < k], of static outer dimension kd.
func (l *lowering) build(bb *block, kd ir.Dim, k ir.Expr, f func(ib *block, j ir.Expr) ir.Expr) ir.Expr {
	j := ir.NewVar("j", ir.TI64, l.pos)
	ib := &block{pos: l.pos}
	lam := &ir.Lambda{Params: []*ir.Var{j}, Body: ib.close(f(ib, j)), P: l.pos}
	return bb.bind("s", l.b().PrimAux(ir.PrimBuild, kd, k, lam))
}

// ifZero is if j == 0 then at0 else rest.
func (l *lowering) ifZero(bb *block, j ir.Expr, at0, rest func(ib *block) ir.Expr) ir.Expr {
	c := l.op2(bb, ir.PrimEq, j, l.int(0))
	tb, eb := &block{pos: l.pos}, &block{pos: l.pos}
	th, el := tb.close(at0(tb)), eb.close(rest(eb))
	return bb.bind("v", &ir.If{Cond: c, Then: th, Else: el, P: l.pos})
}

// conv is Σ_{i=lo..hi} w_i·a_i·b_{j-i}, with w_i = i when weighted and 1
// otherwise; zero is the zero of the result's shape.
func (l *lowering) conv(bb *block, a, b, lo, hi, j, zero ir.Expr, weighted bool) ir.Expr {
	n := l.op2(bb, ir.PrimAdd, l.op2(bb, ir.PrimSub, hi, lo), l.int(1))
	acc := ir.NewVar("acc", zero.Type(), l.pos)
	m := ir.NewVar("m", ir.TI64, l.pos)
	ib := &block{pos: l.pos}
	i := l.op2(ib, ir.PrimAdd, lo, m)
	t := l.op2(ib, ir.PrimMul, l.idx(ib, a, i), l.idx(ib, b, l.op2(ib, ir.PrimSub, j, i)))
	if weighted {
		t = l.op2(ib, ir.PrimMul, l.f64(ib, i), t)
	}
	body := ib.close(l.b().Prim(ir.PrimAdd, acc, t))
	return bb.bind("conv", &ir.Loop{State: acc, Init: zero, Index: m, Count: n, Body: body, P: l.pos})
}

// elemZero is the zero of the shape of a_0·b_0 (coefficients of series).
func (l *lowering) elemZero(bb *block, a, b ir.Expr) ir.Expr {
	p := l.op2(bb, ir.PrimMul, l.idx(bb, a, l.int(0)), l.idx(bb, b, l.int(0)))
	return l.op1(bb, ir.PrimZerosLike, p)
}

// loop runs j = 0..k-1 over series states (each updated at j by step).
func (l *lowering) loop(bb *block, k ir.Expr, inits []ir.Expr, step func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr) []ir.Expr {
	b := l.b()
	var init ir.Expr = inits[0]
	if len(inits) > 1 {
		init = bb.bind("init", b.Tuple(inits...))
	}
	s := ir.NewVar("st", init.Type(), l.pos)
	j := ir.NewVar("j", ir.TI64, l.pos)
	ib := &block{pos: l.pos}
	st := []ir.Expr{s}
	if len(inits) > 1 {
		st = make([]ir.Expr, len(inits))
		for i := range st {
			st[i] = ib.bind("s", b.Proj(s, i))
		}
	}
	next := step(ib, st, j)
	var nx ir.Expr = next[0]
	if len(next) > 1 {
		nx = b.Tuple(next...)
	}
	res := bb.bind("st", &ir.Loop{State: s, Init: init, Index: j, Count: k, Body: ib.close(nx), P: l.pos})
	if len(inits) == 1 {
		return []ir.Expr{res}
	}
	out := make([]ir.Expr, len(inits))
	for i := range out {
		out[i] = bb.bind("s", b.Proj(res, i))
	}
	return out
}

func (l *lowering) set(bb *block, s, j, v ir.Expr) ir.Expr {
	return bb.bind("s", l.b().Prim(ir.PrimUpdate, s, j, v))
}

// liftConst is the series [c, 0, ..., 0] of K coefficients.
func (l *lowering) liftConst(bb *block, kd ir.Dim, k, c ir.Expr) ir.Expr {
	return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
		return l.ifZero(ib, j, func(*block) ir.Expr { return c }, func(eb *block) ir.Expr { return l.op1(eb, ir.PrimZerosLike, c) })
	})
}

// ---- the recurrences (ir/prim_series.go) ----

// cauchy is the truncated product of two series.
func (l *lowering) cauchy(bb *block, x, y ir.Expr, kd ir.Dim) ir.Expr {
	k := l.kOf(bb, x)
	return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
		return l.conv(ib, x, y, l.int(0), j, j, l.elemZero(ib, x, y), false)
	})
}

// quotient is a/b: q_j = (a_j - Σ_{i=1..j} b_i q_{j-i}) / b_0.
func (l *lowering) quotient(bb *block, a, b ir.Expr, zeros ir.Expr) ir.Expr {
	k := l.kOf(bb, zeros)
	return l.loop(bb, k, []ir.Expr{zeros}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
		q := st[0]
		s := l.conv(ib, b, q, l.int(1), j, j, l.op1(ib, ir.PrimZerosLike, l.idx(ib, q, l.int(0))), false)
		v := l.op2(ib, ir.PrimDiv, l.op2(ib, ir.PrimSub, l.idx(ib, a, j), s), l.idx(ib, b, l.int(0)))
		return []ir.Expr{l.set(ib, q, j, v)}
	})[0]
}

// integrate is y with y' = g·x', y_0 = y0 (g known): y_j = (1/j) Σ_{i=1..j} i·x_i·g_{j-i}.
func (l *lowering) integrate(bb *block, x, g, y0 ir.Expr, kd ir.Dim) ir.Expr {
	k := l.kOf(bb, x)
	return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
		return l.ifZero(ib, j, func(*block) ir.Expr { return y0 }, func(eb *block) ir.Expr {
			s := l.conv(eb, x, g, l.int(1), j, j, l.elemZero(eb, x, g), true)
			return l.op2(eb, ir.PrimDiv, s, l.f64(eb, j))
		})
	})
}

// ode is y with y' = g·x', y_0 = y0, where g_j is known once y_0..y_j
// are: gAt gives it from the series so far. States y and g.
func (l *lowering) ode(bb *block, x, y0 ir.Expr, gAt func(ib *block, y, j ir.Expr) ir.Expr) ir.Expr {
	k := l.kOf(bb, x)
	z := l.op1(bb, ir.PrimZerosLike, x)
	return l.loop(bb, k, []ir.Expr{z, z}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
		y, g := st[0], st[1]
		yj := l.ifZero(ib, j, func(*block) ir.Expr { return y0 }, func(eb *block) ir.Expr {
			s := l.conv(eb, x, g, l.int(1), j, j, l.elemZero(eb, x, g), true)
			return l.op2(eb, ir.PrimDiv, s, l.f64(eb, j))
		})
		y = l.set(ib, y, j, yj)
		return []ir.Expr{y, l.set(ib, g, j, gAt(ib, y, j))}
	})[0]
}

// inverseLike is y with u·y' = x', y_0 = y0:
// y_j = (x_j - (1/j) Σ_{i=1..j-1} i·y_i·u_{j-i}) / u_0.
func (l *lowering) inverseLike(bb *block, x, u, y0 ir.Expr) ir.Expr {
	k := l.kOf(bb, x)
	z := l.op1(bb, ir.PrimZerosLike, x)
	return l.loop(bb, k, []ir.Expr{z}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
		y := st[0]
		yj := l.ifZero(ib, j, func(*block) ir.Expr { return y0 }, func(eb *block) ir.Expr {
			s := l.conv(eb, y, u, l.int(1), l.op2(eb, ir.PrimSub, j, l.int(1)), j, l.elemZero(eb, y, u), true)
			s = l.op2(eb, ir.PrimDiv, s, l.f64(eb, j))
			return l.op2(eb, ir.PrimDiv, l.op2(eb, ir.PrimSub, l.idx(eb, x, j), s), l.idx(eb, u, l.int(0)))
		})
		return []ir.Expr{l.set(ib, y, j, yj)}
	})[0]
}

// exp is exp(x) with y_0 = y0 (ode with g = y).
func (l *lowering) exp(bb *block, x, y0 ir.Expr) ir.Expr {
	return l.ode(bb, x, y0, func(ib *block, y, j ir.Expr) ir.Expr { return l.idx(ib, y, j) })
}

// sqrt: y_j = (x_j - Σ_{i=1..j-1} y_i·y_{j-i}) / (2·y_0).
func (l *lowering) sqrt(bb *block, x ir.Expr) ir.Expr {
	k := l.kOf(bb, x)
	z := l.op1(bb, ir.PrimZerosLike, x)
	return l.loop(bb, k, []ir.Expr{z}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
		y := st[0]
		yj := l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op1(tb, ir.PrimSqrt, l.idx(tb, x, l.int(0))) }, func(eb *block) ir.Expr {
			s := l.conv(eb, y, y, l.int(1), l.op2(eb, ir.PrimSub, j, l.int(1)), j, l.elemZero(eb, y, y), false)
			y0 := l.idx(eb, y, l.int(0))
			return l.op2(eb, ir.PrimDiv, l.op2(eb, ir.PrimSub, l.idx(eb, x, j), s), l.op2(eb, ir.PrimMul, l.num(2), y0))
		})
		return []ir.Expr{l.set(ib, y, j, yj)}
	})[0]
}

// sincos is (sin x, cos x), or with hyp (sinh x, cosh x).
func (l *lowering) sincos(bb *block, x ir.Expr, hyp bool) (ir.Expr, ir.Expr) {
	k := l.kOf(bb, x)
	z := l.op1(bb, ir.PrimZerosLike, x)
	ps, pc := ir.PrimSin, ir.PrimCos
	if hyp {
		ps, pc = ir.PrimSinh, ir.PrimCosh
	}
	out := l.loop(bb, k, []ir.Expr{z, z}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
		s, c := st[0], st[1]
		sj := l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op1(tb, ps, l.idx(tb, x, l.int(0))) }, func(eb *block) ir.Expr {
			v := l.conv(eb, x, c, l.int(1), j, j, l.elemZero(eb, x, c), true)
			return l.op2(eb, ir.PrimDiv, v, l.f64(eb, j))
		})
		cj := l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op1(tb, pc, l.idx(tb, x, l.int(0))) }, func(eb *block) ir.Expr {
			v := l.conv(eb, x, s, l.int(1), j, j, l.elemZero(eb, x, s), true)
			v = l.op2(eb, ir.PrimDiv, v, l.f64(eb, j))
			if !hyp {
				v = l.op1(eb, ir.PrimNeg, v)
			}
			return v
		})
		return []ir.Expr{l.set(ib, s, j, sj), l.set(ib, c, j, cj)}
	})
	return out[0], out[1]
}

// squares is y with y' = (a + b·y²)·x', or with lin y' = (y + b·y²)·x'.
func (l *lowering) squares(bb *block, x, y0 ir.Expr, a, b float64, lin bool) ir.Expr {
	return l.ode(bb, x, y0, func(ib *block, y, j ir.Expr) ir.Expr {
		sq := l.conv(ib, y, y, l.int(0), j, j, l.elemZero(ib, y, y), false)
		g := l.op2(ib, ir.PrimMul, l.num(b), sq)
		if lin {
			return l.op2(ib, ir.PrimAdd, g, l.idx(ib, y, j))
		}
		return l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op2(tb, ir.PrimAdd, g, l.num(a)) }, func(*block) ir.Expr { return g })
	})
}

// asinLike is asin(x) with y_0 = y0: asin' = 1/sqrt(1 - x²).
func (l *lowering) asinLike(bb *block, x, y0 ir.Expr, kd ir.Dim) ir.Expr {
	s := l.op1(bb, ir.PrimNeg, l.cauchy(bb, x, x, kd))
	s = l.set(bb, s, l.int(0), l.op2(bb, ir.PrimAdd, l.idx(bb, s, l.int(0)), l.num(1)))
	return l.inverseLike(bb, x, l.sqrt(bb, s), y0)
}

// unary lowers the elementwise unary series primitives.
func (l *lowering) unary(bb *block, p *ir.Prim, x ir.Expr, kd ir.Dim) ir.Expr {
	x0 := l.idx(bb, x, l.int(0))
	at0 := func(f *ir.Prim) ir.Expr { return l.op1(bb, f, x0) }
	switch p {
	case ir.PrimSeriesExp:
		return l.exp(bb, x, at0(ir.PrimExp))
	case ir.PrimSeriesLog:
		return l.inverseLike(bb, x, x, at0(ir.PrimLog))
	case ir.PrimSeriesSqrt:
		return l.sqrt(bb, x)
	case ir.PrimSeriesSin, ir.PrimSeriesCos, ir.PrimSeriesSinh, ir.PrimSeriesCosh:
		s, c := l.sincos(bb, x, p == ir.PrimSeriesSinh || p == ir.PrimSeriesCosh)
		if p == ir.PrimSeriesSin || p == ir.PrimSeriesSinh {
			return s
		}
		return c
	case ir.PrimSeriesTan:
		return l.squares(bb, x, at0(ir.PrimTan), 1, 1, false)
	case ir.PrimSeriesTanh:
		return l.squares(bb, x, at0(ir.PrimTanh), 1, -1, false)
	case ir.PrimSeriesSigmoid:
		return l.squares(bb, x, at0(ir.PrimSigmoid), 0, -1, true)
	case ir.PrimSeriesSoftplus:
		s := l.squares(bb, x, at0(ir.PrimSigmoid), 0, -1, true)
		return l.integrate(bb, x, s, at0(ir.PrimSoftplus), kd)
	case ir.PrimSeriesAtan:
		u := l.cauchy(bb, x, x, kd)
		u = l.set(bb, u, l.int(0), l.op2(bb, ir.PrimAdd, l.idx(bb, u, l.int(0)), l.num(1)))
		return l.inverseLike(bb, x, u, at0(ir.PrimAtan))
	case ir.PrimSeriesAsin:
		return l.asinLike(bb, x, at0(ir.PrimAsin), kd)
	case ir.PrimSeriesAcos:
		y := l.op1(bb, ir.PrimNeg, l.asinLike(bb, x, l.op1(bb, ir.PrimZerosLike, x0), kd))
		return l.set(bb, y, l.int(0), at0(ir.PrimAcos))
	case ir.PrimSeriesLog1p:
		u := l.set(bb, x, l.int(0), l.op2(bb, ir.PrimAdd, x0, l.num(1)))
		return l.inverseLike(bb, x, u, at0(ir.PrimLog1p))
	case ir.PrimSeriesExpm1:
		y := l.exp(bb, x, at0(ir.PrimExp))
		return l.set(bb, y, l.int(0), at0(ir.PrimExpm1))
	case ir.PrimSeriesErf:
		s := l.op1(bb, ir.PrimNeg, l.cauchy(bb, x, x, kd))
		g := l.exp(bb, s, l.op1(bb, ir.PrimExp, l.idx(bb, s, l.int(0))))
		g = l.op2(bb, ir.PrimMul, g, l.num(2/math.SqrtPi))
		return l.integrate(bb, x, g, at0(ir.PrimErf), kd)
	case ir.PrimSeriesAbs:
		sg := at0(ir.PrimSign)
		k := l.kOf(bb, x)
		return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
			return l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op1(tb, ir.PrimAbs, x0) }, func(eb *block) ir.Expr {
				return l.op2(eb, ir.PrimMul, sg, l.idx(eb, x, j))
			})
		})
	case ir.PrimSeriesRelu:
		m := l.op1(bb, ir.PrimRelu, at0(ir.PrimSign)) // 1 where x_0 > 0, else 0
		k := l.kOf(bb, x)
		return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
			return l.op2(ib, ir.PrimMul, m, l.idx(ib, x, j))
		})
	}
	return nil
}

// binary lowers the elementwise binary series primitives; x and y are
// series (a constant operand has been lifted, except where a cheaper
// form exists).
func (l *lowering) binary(bb *block, pc *ir.PrimCall, x, y ir.Expr, mode ir.SeriesMode) ir.Expr {
	kd := dimOf(pc.T)
	var k ir.Expr
	if mode == ir.SeriesCS {
		k = l.kOf(bb, y)
	} else {
		k = l.kOf(bb, x)
	}
	lift := func() (ir.Expr, ir.Expr) {
		switch mode {
		case ir.SeriesSC:
			return x, l.liftConst(bb, kd, k, y)
		case ir.SeriesCS:
			return l.liftConst(bb, kd, k, x), y
		}
		return x, y
	}
	perCoef := func(f func(ib *block, j ir.Expr) ir.Expr) ir.Expr { return l.build(bb, kd, k, f) }
	switch pc.Op {
	case ir.PrimSeriesAdd, ir.PrimSeriesSub:
		p := ir.PrimAdd
		if pc.Op == ir.PrimSeriesSub {
			p = ir.PrimSub
		}
		sx, sy := lift()
		return perCoef(func(ib *block, j ir.Expr) ir.Expr { return l.op2(ib, p, l.idx(ib, sx, j), l.idx(ib, sy, j)) })
	case ir.PrimSeriesMul:
		switch mode {
		case ir.SeriesSC:
			return perCoef(func(ib *block, j ir.Expr) ir.Expr { return l.op2(ib, ir.PrimMul, l.idx(ib, x, j), y) })
		case ir.SeriesCS:
			return perCoef(func(ib *block, j ir.Expr) ir.Expr { return l.op2(ib, ir.PrimMul, x, l.idx(ib, y, j)) })
		}
		return l.cauchy(bb, x, y, kd)
	case ir.PrimSeriesDiv:
		if mode == ir.SeriesSC {
			return perCoef(func(ib *block, j ir.Expr) ir.Expr { return l.op2(ib, ir.PrimDiv, l.idx(ib, x, j), y) })
		}
		sx, sy := lift()
		return l.quotient(bb, sx, sy, l.op1(bb, ir.PrimZerosLike, l.cauchy(bb, sx, sy, kd)))
	case ir.PrimSeriesPow:
		return l.pow(bb, pc, x, y, mode, kd, k)
	case ir.PrimSeriesAtan2:
		sx, sy := lift()
		return l.atan2(bb, sx, sy, kd, k)
	case ir.PrimSeriesMod:
		sx, sy := lift()
		x0, y0 := l.idx(bb, sx, l.int(0)), l.idx(bb, sy, l.int(0))
		z0 := l.op2(bb, ir.PrimMod, x0, y0)
		q := l.op2(bb, ir.PrimDiv, l.op2(bb, ir.PrimSub, x0, z0), y0)
		return perCoef(func(ib *block, j ir.Expr) ir.Expr {
			return l.ifZero(ib, j, func(*block) ir.Expr { return z0 }, func(eb *block) ir.Expr {
				return l.op2(eb, ir.PrimSub, l.idx(eb, sx, j), l.op2(eb, ir.PrimMul, q, l.idx(eb, sy, j)))
			})
		})
	case ir.PrimSeriesMax, ir.PrimSeriesMin:
		sx, sy := lift()
		x0, y0 := l.idx(bb, sx, l.int(0)), l.idx(bb, sy, l.int(0))
		d := l.op2(bb, ir.PrimSub, y0, x0)
		if pc.Op == ir.PrimSeriesMin {
			d = l.op1(bb, ir.PrimNeg, d)
		}
		m := l.op1(bb, ir.PrimRelu, l.op1(bb, ir.PrimSign, d)) // 1 where y is picked (x on ties)
		return perCoef(func(ib *block, j ir.Expr) ir.Expr {
			xj, yj := l.idx(ib, sx, j), l.idx(ib, sy, j)
			return l.op2(ib, ir.PrimAdd, xj, l.op2(ib, ir.PrimMul, m, l.op2(ib, ir.PrimSub, yj, xj)))
		})
	}
	return nil
}

// pow is x^y: a constant exponent by the power recurrence (products for
// small whole powers, exact at x_0 = 0), a constant base c by
// exp(y·log c), otherwise exp(y·log x).
func (l *lowering) pow(bb *block, pc *ir.PrimCall, x, y ir.Expr, mode ir.SeriesMode, kd ir.Dim, k ir.Expr) ir.Expr {
	switch mode {
	case ir.SeriesSC:
		if c, ok := pc.Args[1].(*ir.Const); ok {
			if r, ok := c.Val.(float64); ok && r >= 0 && r <= 8 && r == math.Trunc(r) {
				one := l.op2(bb, ir.PrimPow, l.idx(bb, x, l.int(0)), l.num(0))
				z := l.liftConst(bb, kd, k, one)
				for range int(r) {
					z = l.cauchy(bb, z, x, kd)
				}
				return z
			}
		}
		// z_j = ((r+1)·Σ_{i=1..j} i·x_i·z_{j-i} - j·Σ_{i=1..j} x_i·z_{j-i}) / (j·x_0)
		x0 := l.idx(bb, x, l.int(0))
		zeros := l.op1(bb, ir.PrimZerosLike, l.cauchy(bb, x, l.liftConst(bb, kd, k, y), kd))
		return l.loop(bb, k, []ir.Expr{zeros}, func(ib *block, st []ir.Expr, j ir.Expr) []ir.Expr {
			z := st[0]
			zj := l.ifZero(ib, j, func(tb *block) ir.Expr { return l.op2(tb, ir.PrimPow, x0, y) }, func(eb *block) ir.Expr {
				zero := l.op1(eb, ir.PrimZerosLike, l.idx(eb, z, l.int(0)))
				s1 := l.conv(eb, x, z, l.int(1), j, j, zero, true)
				s2 := l.conv(eb, x, z, l.int(1), j, j, zero, false)
				s := l.op2(eb, ir.PrimSub, l.op2(eb, ir.PrimMul, l.op2(eb, ir.PrimAdd, y, l.num(1)), s1), l.op2(eb, ir.PrimMul, l.f64(eb, j), s2))
				return l.op2(eb, ir.PrimDiv, s, l.op2(eb, ir.PrimMul, l.f64(eb, j), x0))
			})
			return []ir.Expr{l.set(ib, z, j, zj)}
		})[0]
	case ir.SeriesCS:
		// c^y = exp(y·log c); where c = 0 the series is (0^y_0, 0, ...):
		// log(c + [c = 0]) makes the exponent's series zero there.
		isZero := l.op2(bb, ir.PrimSub, l.num(1), l.op1(bb, ir.PrimAbs, l.op1(bb, ir.PrimSign, x)))
		lc := l.op1(bb, ir.PrimLog, l.op2(bb, ir.PrimAdd, x, isZero))
		p := l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr { return l.op2(ib, ir.PrimMul, l.idx(ib, y, j), lc) })
		return l.exp(bb, p, l.op2(bb, ir.PrimPow, x, l.idx(bb, y, l.int(0))))
	}
	x0 := l.idx(bb, x, l.int(0))
	lg := l.inverseLike(bb, x, x, l.op1(bb, ir.PrimLog, x0))
	p := l.cauchy(bb, y, lg, kd)
	return l.exp(bb, p, l.op2(bb, ir.PrimPow, x0, l.idx(bb, y, l.int(0))))
}

// atan2 is atan2(x, y): z' = (y·x' - x·y')/(x² + y²).
func (l *lowering) atan2(bb *block, x, y ir.Expr, kd ir.Dim, k ir.Expr) ir.Expr {
	d := func(s ir.Expr) ir.Expr { // (j+1)·s_{j+1}, 0 at the end
		return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
			j1 := l.op2(ib, ir.PrimAdd, j, l.int(1))
			in := l.op2(ib, ir.PrimLt, j1, k)
			tb, eb := &block{pos: l.pos}, &block{pos: l.pos}
			th := tb.close(l.op2(tb, ir.PrimMul, l.f64(tb, j1), l.idx(tb, s, j1)))
			el := eb.close(l.op1(eb, ir.PrimZerosLike, l.idx(eb, s, l.int(0))))
			return ib.bind("v", &ir.If{Cond: in, Then: th, Else: el, P: l.pos})
		})
	}
	num := l.op2(bb, ir.PrimSub, l.cauchy(bb, y, d(x), kd), l.cauchy(bb, x, d(y), kd))
	u := l.op2(bb, ir.PrimAdd, l.cauchy(bb, x, x, kd), l.cauchy(bb, y, y, kd))
	q := l.quotient(bb, num, u, l.op1(bb, ir.PrimZerosLike, num))
	z0 := l.op2(bb, ir.PrimAtan2, l.idx(bb, x, l.int(0)), l.idx(bb, y, l.int(0)))
	return l.build(bb, kd, k, func(ib *block, j ir.Expr) ir.Expr {
		return l.ifZero(ib, j, func(*block) ir.Expr { return z0 }, func(eb *block) ir.Expr {
			return l.op2(eb, ir.PrimDiv, l.idx(eb, q, l.op2(eb, ir.PrimSub, j, l.int(1))), l.f64(eb, j))
		})
	})
}

// op lowers one series primitive call on atoms args.
func (l *lowering) op(pc *ir.PrimCall, args []ir.Expr) ir.Expr {
	bb := l.blk
	b := l.b()
	switch pc.Op {
	case ir.PrimSeries:
		kd := dimOf(pc.T)
		cs := args[1:]
		return l.build(bb, kd, args[0], func(ib *block, j ir.Expr) ir.Expr {
			var e ir.Expr = ib.bind("z", b.Prim(ir.PrimZerosLike, cs[0]))
			for i := len(cs) - 1; i >= 0; i-- {
				c := l.op2(ib, ir.PrimEq, j, l.int(int64(i)))
				e = ib.bind("v", &ir.If{Cond: c, Then: cs[i], Else: e, P: l.pos})
			}
			return e
		})
	case ir.PrimSeriesCoef, ir.PrimSeriesCauchy:
		c := pc.Aux.(*ir.SeriesCoef)
		var first ir.Expr
		for i, s := range c.Series {
			if s {
				first = args[i]
				break
			}
		}
		k := l.kOf(bb, first)
		at := func(ib *block, j, i2 ir.Expr) ir.Expr {
			as := make([]ir.Expr, len(args))
			for i, a := range args {
				as[i] = a
				if c.Series[i] {
					ix := j
					if pc.Op == ir.PrimSeriesCauchy && i == 1 {
						ix = i2
					}
					as[i] = l.idx(ib, a, ix)
				}
			}
			return ib.bind("v", b.PrimAux(c.Prim, c.Aux, as...))
		}
		if pc.Op == ir.PrimSeriesCoef {
			return l.build(bb, dimOf(pc.T), k, func(ib *block, j ir.Expr) ir.Expr { return at(ib, j, nil) })
		}
		return l.build(bb, dimOf(pc.T), k, func(ib *block, j ir.Expr) ir.Expr {
			zero := ib.bind("z", b.Prim(ir.PrimZerosLike, at(ib, l.int(0), l.int(0))))
			acc := ir.NewVar("acc", zero.Type(), l.pos)
			i := ir.NewVar("i", ir.TI64, l.pos)
			lb := &block{pos: l.pos}
			t := at(lb, i, l.op2(lb, ir.PrimSub, j, i))
			body := lb.close(b.Prim(ir.PrimAdd, acc, t))
			n := l.op2(ib, ir.PrimAdd, j, l.int(1))
			return ib.bind("conv", &ir.Loop{State: acc, Init: zero, Index: i, Count: n, Body: body, P: l.pos})
		})
	case ir.PrimSeriesProd:
		s := args[0]
		k := l.kOf(bb, s)
		kd := dimOf(pc.T)
		// flat[j] is coefficient j flattened; columns are the elements.
		flat := l.build(bb, dimOf(s.Type()), k, func(ib *block, j ir.Expr) ir.Expr {
			c := l.idx(ib, s, j)
			for ir.Rank(c.Type()) > 1 {
				c = ib.bind("c", b.Prim(ir.PrimFlatten, c))
			}
			return c
		})
		cols := bb.bind("cols", b.Prim(ir.PrimTranspose, flat))
		one := l.liftConst(bb, kd, k, l.num(1))
		r := ir.NewVar("r", one.Type(), l.pos)
		e := ir.NewVar("e", cols.Type().(*ir.Array).Elem, l.pos)
		fb := &block{pos: l.pos}
		op := &ir.Lambda{Params: []*ir.Var{r, e}, Body: fb.close(l.cauchy(fb, r, e, kd)), P: l.pos}
		return bb.bind("prod", b.Prim(ir.PrimFold, op, one, cols))
	case ir.PrimSeriesAccAdd:
		mode, _ := pc.Aux.(ir.SeriesMode)
		acc, v := args[0], args[1]
		if mode == ir.SeriesSC {
			return l.set(bb, acc, l.int(0), l.op2(bb, ir.PrimAdd, l.idx(bb, acc, l.int(0)), v))
		}
		if ir.Equal(acc.Type(), v.Type()) && ir.Rank(acc.Type()) == ir.Rank(v.Type()) {
			return l.op2(bb, ir.PrimAdd, acc, v)
		}
		return l.build(bb, dimOf(pc.T), l.kOf(bb, acc), func(ib *block, j ir.Expr) ir.Expr {
			return l.op2(ib, ir.PrimAdd, l.idx(ib, acc, j), l.idx(ib, v, j))
		})
	case ir.PrimSeriesAccAddAt:
		mode, _ := pc.Aux.(ir.SeriesMode)
		acc, i, v := args[0], args[1], args[2]
		addAt := func(ib *block, row, val ir.Expr) ir.Expr {
			return l.set(ib, row, i, l.op2(ib, ir.PrimAdd, l.idx(ib, row, i), val))
		}
		if mode == ir.SeriesSC {
			return l.set(bb, acc, l.int(0), addAt(bb, l.idx(bb, acc, l.int(0)), v))
		}
		return l.build(bb, dimOf(pc.T), l.kOf(bb, acc), func(ib *block, j ir.Expr) ir.Expr {
			return addAt(ib, l.idx(ib, acc, j), l.idx(ib, v, j))
		})
	}
	if len(args) == 1 {
		return l.unary(bb, pc.Op, args[0], dimOf(pc.T))
	}
	mode, _ := pc.Aux.(ir.SeriesMode)
	return l.binary(bb, pc, args[0], args[1], mode)
}
