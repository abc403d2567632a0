package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Taylor mode's series primitives (ir.SeriesPrims). A series of a value of
// type T is a [K]T, coefficient-major, laid out like any array. The
// nonlinear ones call the runtime's series kernels (runtime.SeriesMap1 and
// SeriesMap2 with runtime.SeriesExp, SeriesMul, ...), the interpreter's;
// series_coef and series_cauchy apply their inner primitive per
// coefficient through the ordinary lowerings.

// seriesKernelNames maps a series primitive to its runtime kernel.
var seriesKernelNames = map[string]string{
	"series_exp": "SeriesExp", "series_log": "SeriesLog", "series_sqrt": "SeriesSqrt",
	"series_sin": "SeriesSin", "series_cos": "SeriesCos", "series_tan": "SeriesTan",
	"series_sinh": "SeriesSinh", "series_cosh": "SeriesCosh", "series_tanh": "SeriesTanh",
	"series_asin": "SeriesAsin", "series_acos": "SeriesAcos", "series_atan": "SeriesAtan",
	"series_log1p": "SeriesLog1p", "series_expm1": "SeriesExpm1", "series_erf": "SeriesErf",
	"series_sigmoid": "SeriesSigmoid", "series_softplus": "SeriesSoftplus",
	"series_abs": "SeriesAbs", "series_relu": "SeriesRelu",
	"series_add": "SeriesAdd", "series_sub": "SeriesSub", "series_mul": "SeriesMul",
	"series_div": "SeriesDiv", "series_pow": "SeriesPow", "series_atan2": "SeriesAtan2",
	"series_mod": "SeriesMod", "series_min": "SeriesMin", "series_max": "SeriesMax",
}

func init() {
	for _, p := range ir.SeriesPrims() {
		switch {
		case p == ir.PrimSeries:
			rules[p] = &rule{Lower: lowerSeries}
		case p == ir.PrimSeriesCoef:
			rules[p] = &rule{Lower: lowerSeriesCoef}
		case p == ir.PrimSeriesCauchy:
			rules[p] = &rule{Lower: lowerSeriesCauchy}
		case p == ir.PrimSeriesProd:
			rules[p] = &rule{Lower: lowerSeriesProd}
		case p == ir.PrimSeriesAccAdd:
			rules[p] = &rule{Lower: lowerSeriesAccAdd}
		case p == ir.PrimSeriesAccAddAt:
			rules[p] = &rule{Lower: lowerSeriesAccAddAt}
		case p.Arity == 1 && seriesKernelNames[p.Name] != "":
			rules[p] = &rule{Lower: lowerSeriesUnary}
		case p.Arity == 2 && seriesKernelNames[p.Name] != "":
			rules[p] = &rule{Lower: lowerSeriesBinary}
		}
	}
}

// seriesWork is the function's scratch for the series kernels.
func (f *fn) seriesWork() string {
	w := f.fresh("sw")
	f.line("var %s runtime.SeriesWork", w)
	return w
}

// lowerSeries is series(K, c0, c1, ...): the coefficients, then zeros.
func lowerSeries(f *fn, e *ir.PrimCall) val {
	k := f.sizeArg(f.compile(e.Args[0]).parts[0], e.P)
	cs := make([]val, len(e.Args)-1)
	for i, a := range e.Args[1:] {
		cs[i] = f.compile(a)
	}
	at := e.T.(*ir.Array)
	zero := f.zeroLike(cs[0])
	return f.stack("series", at, k, e.P, func(j string) val {
		res := f.declare("c", at.Elem)
		f.line("switch %s {", j)
		for i, c := range cs {
			f.line("case %d:", i)
			f.assign(res, c)
		}
		f.line("default:")
		f.assign(res, zero)
		f.line("}")
		return res
	})
}

// zeroLike is a fresh zero of v's shape.
func (f *fn) zeroLike(v val) val {
	ls, lp := v.leafParts()
	out := val{t: v.t}
	for k, l := range ls {
		if l.rank == 0 {
			out.parts = append(out.parts, constGo(zeroConst(l.kind)))
			continue
		}
		out.parts = append(out.parts, f.def("z", f.mk(l.kind, "len("+lp[k][0]+")")))
		out.parts = append(out.parts, lp[k][1:]...)
	}
	return out
}

func lowerSeriesUnary(f *fn, e *ir.PrimCall) val {
	x := f.compile(e.Args[0])
	w := f.seriesWork()
	y := f.def("y", f.mk(ir.F64, "len("+x.parts[0]+")"))
	f.line("runtime.SeriesMap1(%s, %s, %s, runtime.%s, &%s)", y, x.parts[0], x.parts[1], seriesKernelNames[e.Op.Name], w)
	return val{t: e.T, parts: append([]string{y}, x.parts[1:]...)}
}

// seriesArg builds the runtime.SeriesArg of an operand: a series (K rows),
// a constant array, or a scalar constant.
func (f *fn) seriesArg(v val, series bool) (arg, k, n string, shape []string) {
	switch {
	case series:
		rs := f.rowSize(leaf{ir.F64, ir.Rank(v.t)}, v.parts)
		return fmt.Sprintf("runtime.SeriesArg{Series: true, F: %s, N: %s}", v.parts[0], rs), v.parts[1], rs, v.parts[2:]
	case ir.Rank(v.t) > 0:
		return fmt.Sprintf("runtime.SeriesArg{F: %s, N: len(%s)}", v.parts[0], v.parts[0]), "", "len(" + v.parts[0] + ")", v.parts[1:]
	}
	return fmt.Sprintf("runtime.SeriesArg{C: %s, N: 1}", v.parts[0]), "", "1", nil
}

func lowerSeriesBinary(f *fn, e *ir.PrimCall) val {
	mode, _ := e.Aux.(ir.SeriesMode)
	xs, ys := mode != ir.SeriesCS, mode != ir.SeriesSC
	x := f.compile(e.Args[0])
	y := f.compile(e.Args[1])
	xa, xk, xn, xshape := f.seriesArg(x, xs)
	ya, yk, yn, yshape := f.seriesArg(y, ys)
	k := xk
	if k == "" {
		k = yk
	}
	if xk != "" && yk != "" {
		f.failIf(xk+" != "+yk, e.P, fmt.Sprintf(`fmt.Sprintf("%s: series of %%d and %%d coefficients", %s, %s)`, e.Op.Name, xk, yk))
	}
	shape, n := xshape, xn
	switch {
	case len(xshape) > 0 && len(yshape) > 0:
		var conds []string
		for i := range xshape {
			conds = append(conds, xshape[i]+" != "+yshape[i])
		}
		f.failIf(strings.Join(conds, " || "), e.P, fmt.Sprintf(`"%s: shapes " + runtime.ShapeString([]int{%s}) + " and " + runtime.ShapeString([]int{%s}) + " differ"`, e.Op.Name, strings.Join(xshape, ", "), strings.Join(yshape, ", ")))
	case len(yshape) > 0:
		shape, n = yshape, yn
	}
	if len(shape) == 0 {
		n = "1"
	}
	w := f.seriesWork()
	z := f.def("z", f.mk(ir.F64, k+"*"+n))
	f.line("runtime.SeriesMap2(%s, %s, %s, %s, runtime.%s, &%s)", z, k, xa, ya, seriesKernelNames[e.Op.Name], w)
	return val{t: e.T, parts: append([]string{z, k}, shape...)}
}

func lowerSeriesProd(f *fn, e *ir.PrimCall) val {
	x := f.compile(e.Args[0])
	w := f.seriesWork()
	z := f.def("z", f.mk(ir.F64, x.parts[1]))
	f.line("runtime.SeriesProd(%s, %s, &%s)", z, x.parts[0], w)
	return valOf(e.T, z, x.parts[1])
}

// innerCall compiles the inner primitive of series_coef or series_cauchy
// on operand values, through its ordinary lowering.
func (f *fn) innerCall(c *ir.SeriesCoef, args []val, t ir.Type, pos ir.Pos) val {
	vars := make([]ir.Expr, len(args))
	save := f.env
	f.env = cloneEnv(save)
	for i, a := range args {
		v := ir.NewVar("a", a.t, pos)
		f.env[v] = a
		vars[i] = v
	}
	r := f.compile(&ir.PrimCall{Op: c.Prim, Aux: c.Aux, Args: vars, T: t, P: pos})
	f.env = save
	return r
}

// lowerSeriesCoef is series_coef[p](args): p applied to coefficient j of
// the series arguments (the others as they are), for each j.
func lowerSeriesCoef(f *fn, e *ir.PrimCall) val {
	c := e.Aux.(*ir.SeriesCoef)
	args := make([]val, len(e.Args))
	k := ""
	for i, a := range e.Args {
		args[i] = f.compile(a)
		if c.Series[i] && k == "" {
			k = f.length(args[i])
		}
	}
	at := e.T.(*ir.Array)
	return f.stack(c.Prim.Name, at, k, e.P, func(j string) val {
		aj := make([]val, len(args))
		for i, a := range args {
			aj[i] = a
			if c.Series[i] {
				aj[i] = f.indexVal(a, j)
			}
		}
		return f.innerCall(c, aj, at.Elem, e.P)
	})
}

// lowerSeriesCauchy is series_cauchy[p](a, b): coefficient j is
// Σ_{i≤j} p(a_i, b_{j-i}) for a bilinear p.
func lowerSeriesCauchy(f *fn, e *ir.PrimCall) val {
	c := e.Aux.(*ir.SeriesCoef)
	a := f.compile(e.Args[0])
	b := f.compile(e.Args[1])
	at := e.T.(*ir.Array)
	k := f.length(a)
	if ir.Rank(at.Elem) == 0 {
		z := f.def("z", f.mk(ir.F64, k))
		j, i := f.fresh("j"), f.fresh("i")
		f.line("for %s := 0; %s < %s; %s++ {", j, j, k, j)
		f.line("for %s := 0; %s <= %s; %s++ {", i, i, j, i)
		r := f.innerCall(c, []val{f.indexVal(a, i), f.indexVal(b, "("+j+"-"+i+")")}, at.Elem, e.P)
		f.line("%s[%s] += %s", z, j, r.parts[0])
		f.line("}")
		f.line("}")
		return valOf(e.T, z, k)
	}
	return f.stack("series_cauchy", at, k, e.P, func(j string) val {
		var acc val
		i := f.fresh("i")
		first := f.innerCall(c, []val{f.indexVal(a, "0"), f.indexVal(b, j)}, at.Elem, e.P)
		acc = f.copyVal(first)
		f.line("for %s := 1; %s <= %s; %s++ {", i, i, j, i)
		r := f.innerCall(c, []val{f.indexVal(a, i), f.indexVal(b, "("+j+"-"+i+")")}, at.Elem, e.P)
		x := f.fresh("x")
		f.line("for %s := range %s {", x, acc.parts[0])
		f.line("%s[%s] += %s[%s]", acc.parts[0], x, r.parts[0], x)
		f.line("}")
		f.line("}")
		return acc
	})
}

// seriesMode reads a series primitive's Aux (nil means both operands are
// series).
func seriesMode(aux any) ir.SeriesMode {
	m, _ := aux.(ir.SeriesMode)
	return m
}

// shapeDiffers is the Go condition that the dimensions a and b differ.
func shapeDiffers(a, b []string) string {
	if len(a) != len(b) {
		return "true"
	}
	var conds []string
	for i := range a {
		if a[i] != b[i] {
			conds = append(conds, a[i]+" != "+b[i])
		}
	}
	if len(conds) == 0 {
		return ""
	}
	return strings.Join(conds, " || ")
}

// failShapes emits the interpreter's check that two shapes agree.
func (f *fn) failShapes(a, b []string, pos ir.Pos, format string) {
	cond := shapeDiffers(a, b)
	if cond == "" {
		return
	}
	f.failIf(cond, pos, fmt.Sprintf("fmt.Sprintf(%q, runtime.ShapeString([]int{%s}), runtime.ShapeString([]int{%s}))", format, strings.Join(a, ", "), strings.Join(b, ", ")))
}

// lowerSeriesAccAdd is series_acc_add(acc, v), in place: acc += v for a
// series v of acc's shape, v[j] added to every element of coefficient j
// for a series of scalars, or with mode SeriesSC a constant added to
// coefficient 0 (ir.PrimSeriesAccAdd).
func lowerSeriesAccAdd(f *fn, e *ir.PrimCall) val {
	mode := seriesMode(e.Aux)
	acc := f.compile(e.Args[0])
	v := f.compile(e.Args[1])
	k := acc.parts[1]
	rs := f.def("rs", strings.Join(append([]string{"1"}, acc.parts[2:]...), " * "))
	i, j := f.fresh("i"), f.fresh("j")
	switch {
	case mode == ir.SeriesSC && ir.Rank(v.t) == 0:
		f.line("if %s > 0 {", k)
		f.line("for %s := 0; %s < %s; %s++ {", i, i, rs, i)
		f.line("%s[%s] += %s", acc.parts[0], i, v.parts[0])
		f.line("}")
		f.line("}")
	case mode == ir.SeriesSC:
		f.failShapes(acc.parts[2:], v.parts[1:], e.P, "series_acc_add: shapes %s and %s differ")
		f.line("if %s > 0 {", k)
		f.line("for %s := 0; %s < %s; %s++ {", i, i, rs, i)
		f.line("%s[%s] += %s[%s]", acc.parts[0], i, v.parts[0], i)
		f.line("}")
		f.line("}")
	case ir.Rank(v.t) < ir.Rank(acc.t):
		f.failIf(fmt.Sprintf("%s != %s", v.parts[1], k), e.P, fmt.Sprintf(`fmt.Sprintf("series_acc_add: series of %%d and %%d coefficients", %s, %s)`, k, v.parts[1]))
		f.line("for %s := 0; %s < %s; %s++ {", j, j, k, j)
		f.line("for %s := 0; %s < %s; %s++ {", i, i, rs, i)
		f.line("%s[%s*%s+%s] += %s[%s]", acc.parts[0], j, rs, i, v.parts[0], j)
		f.line("}")
		f.line("}")
	default:
		f.failShapes(acc.parts[1:], v.parts[1:], e.P, "series_acc_add: shapes %s and %s differ")
		f.line("for %s := range %s {", i, acc.parts[0])
		f.line("%s[%s] += %s[%s]", acc.parts[0], i, v.parts[0], i)
		f.line("}")
	}
	return acc
}

// lowerSeriesAccAddAt is series_acc_add_at(acc, i, v), in place:
// acc[j][i] += v[j] for every coefficient j, or with mode SeriesSC
// acc[0][i] += v (ir.PrimSeriesAccAddAt).
func lowerSeriesAccAddAt(f *fn, e *ir.PrimCall) val {
	mode := seriesMode(e.Aux)
	acc := f.compile(e.Args[0])
	idx := f.compile(e.Args[1]).parts[0]
	v := f.compile(e.Args[2])
	k, n := acc.parts[1], acc.parts[2]
	idx = f.checkIndex(idx, n, e.P)
	es := f.def("es", strings.Join(append([]string{"1"}, acc.parts[3:]...), " * "))
	cs := f.def("cs", n+" * "+es)
	i, j := f.fresh("i"), f.fresh("j")
	at := func(coef string) string { return fmt.Sprintf("%s*%s+int(%s)*%s", coef, cs, idx, es) }
	if mode == ir.SeriesSC {
		f.line("if %s > 0 {", k)
		if ir.Rank(acc.t) == 2 {
			f.line("%s[%s] += %s", acc.parts[0], idx, v.parts[0])
		} else {
			f.failShapes(v.parts[1:], acc.parts[3:], e.P, "series_acc_add_at: value has shape %s; elements have shape %s")
			f.line("for %s := 0; %s < %s; %s++ {", i, i, es, i)
			f.line("%s[%s+%s] += %s[%s]", acc.parts[0], at("0"), i, v.parts[0], i)
			f.line("}")
		}
		f.line("}")
		return acc
	}
	f.failIf(fmt.Sprintf("%s != %s", v.parts[1], k), e.P, fmt.Sprintf(`fmt.Sprintf("series_acc_add_at: series of %%d and %%d coefficients", %s, %s)`, k, v.parts[1]))
	if ir.Rank(acc.t) > 2 {
		f.failShapes(v.parts[2:], acc.parts[3:], e.P, "series_acc_add_at: value has shape %s; elements have shape %s")
	}
	f.line("for %s := 0; %s < %s; %s++ {", j, j, k, j)
	f.line("for %s := 0; %s < %s; %s++ {", i, i, es, i)
	f.line("%s[%s+%s] += %s[%s*%s+%s]", acc.parts[0], at(j), i, v.parts[0], j, es, i)
	f.line("}")
	f.line("}")
	return acc
}
