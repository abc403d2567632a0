package ir

import (
	"fmt"
	"strings"
	"sync"

	"github.com/nabla-lang/nabla/runtime"
)

// Series primitives: the arithmetic of truncated power series that Taylor
// mode (package ad, taylor.go) emits. Users cannot name them; they appear
// in `nabla ir --stage ad` output.
//
// A series of K coefficients of a value of type T is a value of type [K]T,
// coefficient-major: coefficient j is s[j], so a series of an [n]f64 is a
// [K][n]f64 and coefficient-wise operations are operations on rows. The
// nonlinear primitives run the classic O(K²) recurrences (Griewank and
// Walther, "Evaluating Derivatives", ch. 13), independently for every
// element of the trailing shape: the kernels are runtime's Series
// functions, and the evaluators here check shapes, charge steps and
// allocate around them.
//
// Binary primitives take an Aux SeriesMode saying which operands are
// series and which are constants (values that do not depend on the series
// variable: their coefficient 0 is the value, the others zero), so that
// x + c and c·x cost O(K) and a constant is never expanded into a series.
// Element shapes must be equal, or one of them a scalar, which broadcasts.
//
// Linear structural primitives (index, slice, sum, dot with a constant
// side, ...) are applied per coefficient by series_coef, and bilinear ones
// with two series operands by series_cauchy.
//
// The series primitives are in the table of Register with Class
// SeriesClass: internal to Taylor mode, they have no derivative rules
// (package ad differentiates their recurrences written in ordinary IR
// instead: ad/lower_series.go). A smooth elementwise primitive's Series
// field names its series primitive, set by the series declaration.

// SeriesMode says which operands of a binary series primitive are series
// (s) and which are constants (c).
type SeriesMode uint8

const (
	SeriesSS SeriesMode = iota // both operands are series
	SeriesSC                   // a series and a constant
	SeriesCS                   // a constant and a series
)

func (m SeriesMode) String() string { return [...]string{"ss", "sc", "cs"}[m] }

// isSeries reports whether operand i (0 or 1) is a series.
func (m SeriesMode) isSeries(i int) bool {
	switch m {
	case SeriesSC:
		return i == 0
	case SeriesCS:
		return i == 1
	}
	return true
}

func seriesModeOf(aux any) (SeriesMode, error) {
	switch a := aux.(type) {
	case nil:
		return SeriesSS, nil
	case SeriesMode:
		if a <= SeriesCS {
			return a, nil
		}
	}
	return 0, fmt.Errorf("bad series mode %v", aux)
}

// SeriesCoef is the Aux of series_coef and series_cauchy: the primitive
// applied per coefficient (with its own Aux), and which arguments are
// series (the others are passed unchanged to every application).
type SeriesCoef struct {
	Prim   *Prim
	Aux    any
	Series []bool
}

func (c *SeriesCoef) String() string {
	var b strings.Builder
	b.WriteString(c.Prim.Name)
	if c.Aux != nil {
		b.WriteString("[" + formatAux(c.Aux) + "]")
	}
	b.WriteByte(' ')
	for _, s := range c.Series {
		if s {
			b.WriteByte('s')
		} else {
			b.WriteByte('c')
		}
	}
	return b.String()
}

// seriesPrim registers a series primitive: internal to Taylor mode, it
// may fail (shapes, limits) and its result may share its operands'
// storage unless it updates in place.
func seriesPrim(p *Prim) *Prim {
	p.Class, p.Fails = SeriesClass, MayFail
	if p.Storage == storageUndeclared {
		p.Storage = Shared
	}
	return Register(p)
}

// SeriesPrims lists the series primitives of Taylor mode.
func SeriesPrims() []*Prim {
	var out []*Prim
	for _, p := range Prims() {
		if p.Class == SeriesClass {
			out = append(out, p)
		}
	}
	return out
}

// SeriesOf returns the series version of a smooth (or piecewise smooth)
// elementwise f64 primitive, or nil: its Series field. Unary ones take a
// series; binary ones take two operands and an Aux SeriesMode.
func SeriesOf(p *Prim) *Prim { return p.Series }

// seriesOperandType checks that t is a series [K]T of an f64 tensor T.
func seriesOperandType(name string, i int, t Type) (*Array, error) {
	a, ok := t.(*Array)
	if !ok || !IsF64Tensor(t) {
		return nil, fmt.Errorf("%s: operand %d has type %s; want a series [K]T of f64 or an f64 array T", name, i+1, t)
	}
	return a, nil
}

// ---- types ----

func seriesUnaryType(name string) func(args []Type, _ any) (Type, error) {
	return func(args []Type, _ any) (Type, error) {
		a, err := seriesOperandType(name, 0, args[0])
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// seriesBinaryType: the result is [K] of the broadcast element shape.
func seriesBinaryType(name string) func(args []Type, aux any) (Type, error) {
	return func(args []Type, aux any) (Type, error) {
		mode, err := seriesModeOf(aux)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		var elems [2]Type
		var kd Dim
		found := false
		for i := 0; i < 2; i++ {
			if mode.isSeries(i) {
				a, err := seriesOperandType(name, i, args[i])
				if err != nil {
					return nil, err
				}
				if found && a.Dim.DiffersStatically(kd) {
					return nil, fmt.Errorf("%s: series of %s and %s coefficients", name, kd, a.Dim)
				}
				if !found {
					kd, found = a.Dim, true
				}
				elems[i] = a.Elem
				continue
			}
			if !IsF64Tensor(args[i]) {
				return nil, fmt.Errorf("%s: operand %d has type %s; want f64 or an f64 array", name, i+1, args[i])
			}
			elems[i] = args[i]
		}
		switch {
		case Rank(elems[0]) == 0:
			return ArrayOf(kd, elems[1]), nil
		case Rank(elems[1]) == 0:
			return ArrayOf(kd, elems[0]), nil
		case !Equal(elems[0], elems[1]):
			return nil, fmt.Errorf("%s: shapes %s and %s differ", name, elems[0], elems[1])
		}
		return ArrayOf(kd, elems[0]), nil
	}
}

// ---- evaluators of elementwise series primitives ----

// seriesWork recycles the workspaces of the series kernels.
var seriesWork = sync.Pool{New: func() any { return new(runtime.SeriesWork) }}

// soperand is one operand of an elementwise series primitive at run time,
// with its coefficient count (series only) and element shape.
type soperand struct {
	runtime.SeriesArg
	k     int
	shape []int
}

func readOperand(v runtime.Value, series, scalar bool) soperand {
	if scalar {
		return soperand{SeriesArg: runtime.SeriesArg{C: v.F, N: 1}}
	}
	a := v.Array()
	if series {
		return soperand{SeriesArg: runtime.SeriesArg{Series: true, F: a.F, N: a.RowSize()}, k: a.Shape[0], shape: a.Shape[1:]}
	}
	return soperand{SeriesArg: runtime.SeriesArg{F: a.F, N: a.N()}, shape: a.Shape}
}

func evalSeriesUnary(kern runtime.SeriesFunc1) func(*Site) (Impl, error) {
	return func(*Site) (Impl, error) {
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a := readOperand(args[0], true, false)
			out, err := runtime.NewF64(m, append([]int{a.k}, a.shape...)...)
			if err != nil || a.k == 0 {
				return runtime.Arr(out), err
			}
			if err := m.Step(int64(a.k * a.k * a.N)); err != nil {
				return errValue, err
			}
			w := seriesWork.Get().(*runtime.SeriesWork)
			err = runtime.SeriesMap1Polled(m, out.F, a.F, a.k, kern, w)
			seriesWork.Put(w)
			return runtime.Arr(out), err
		}, nil
	}
}

func evalSeriesBinary(name string, kern runtime.SeriesFunc2) func(*Site) (Impl, error) {
	return func(s *Site) (Impl, error) {
		mode, err := seriesModeOf(s.Aux)
		if err != nil {
			return nil, err
		}
		xs, ys := mode.isSeries(0), mode.isSeries(1)
		scalar := [2]bool{!xs && Rank(s.Args[0]) == 0, !ys && Rank(s.Args[1]) == 0}
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a := readOperand(args[0], xs, scalar[0])
			b := readOperand(args[1], ys, scalar[1])
			k := a.k
			if !xs {
				k = b.k
			} else if ys && b.k != k {
				return errValue, fmt.Errorf("%s: series of %d and %d coefficients", name, a.k, b.k)
			}
			shape, n := a.shape, a.N
			switch {
			case len(a.shape) > 0 && len(b.shape) > 0:
				if !runtime.SameShape(a.shape, b.shape) {
					return errValue, fmt.Errorf("%s: shapes %s and %s differ", name, runtime.ShapeString(a.shape), runtime.ShapeString(b.shape))
				}
			case len(b.shape) > 0:
				shape, n = b.shape, b.N
			}
			out, err := runtime.NewF64(m, append([]int{k}, shape...)...)
			if err != nil || k == 0 {
				return runtime.Arr(out), err
			}
			if err := m.Step(int64(k * k * n)); err != nil {
				return errValue, err
			}
			w := seriesWork.Get().(*runtime.SeriesWork)
			err = runtime.SeriesMap2Polled(m, out.F, k, a.SeriesArg, b.SeriesArg, kern, w)
			seriesWork.Put(w)
			return runtime.Arr(out), err
		}, nil
	}
}

func seriesUnary(name, doc string, of *Prim, kern runtime.SeriesFunc1) *Prim {
	p := seriesPrim(&Prim{Name: name, Arity: 1, Doc: doc, Type: seriesUnaryType(name), Eval: evalSeriesUnary(kern)})
	if of != nil {
		of.Series = p
	}
	return p
}

func seriesBinary(name, doc string, of *Prim, kern runtime.SeriesFunc2) *Prim {
	p := seriesPrim(&Prim{Name: name, Arity: 2, Doc: doc, Type: seriesBinaryType(name), Eval: evalSeriesBinary(name, kern)})
	if of != nil {
		of.Series = p
	}
	return p
}

// Elementwise series primitives.
var (
	PrimSeriesExp      = seriesUnary("series_exp", "series of exp(x)", PrimExp, runtime.SeriesExp)
	PrimSeriesLog      = seriesUnary("series_log", "series of log(x)", PrimLog, runtime.SeriesLog)
	PrimSeriesSqrt     = seriesUnary("series_sqrt", "series of sqrt(x)", PrimSqrt, runtime.SeriesSqrt)
	PrimSeriesSin      = seriesUnary("series_sin", "series of sin(x)", PrimSin, runtime.SeriesSin)
	PrimSeriesCos      = seriesUnary("series_cos", "series of cos(x)", PrimCos, runtime.SeriesCos)
	PrimSeriesTan      = seriesUnary("series_tan", "series of tan(x)", PrimTan, runtime.SeriesTan)
	PrimSeriesSinh     = seriesUnary("series_sinh", "series of sinh(x)", PrimSinh, runtime.SeriesSinh)
	PrimSeriesCosh     = seriesUnary("series_cosh", "series of cosh(x)", PrimCosh, runtime.SeriesCosh)
	PrimSeriesTanh     = seriesUnary("series_tanh", "series of tanh(x)", PrimTanh, runtime.SeriesTanh)
	PrimSeriesAsin     = seriesUnary("series_asin", "series of asin(x)", PrimAsin, runtime.SeriesAsin)
	PrimSeriesAcos     = seriesUnary("series_acos", "series of acos(x)", PrimAcos, runtime.SeriesAcos)
	PrimSeriesAtan     = seriesUnary("series_atan", "series of atan(x)", PrimAtan, runtime.SeriesAtan)
	PrimSeriesLog1p    = seriesUnary("series_log1p", "series of log1p(x)", PrimLog1p, runtime.SeriesLog1p)
	PrimSeriesExpm1    = seriesUnary("series_expm1", "series of expm1(x)", PrimExpm1, runtime.SeriesExpm1)
	PrimSeriesErf      = seriesUnary("series_erf", "series of erf(x)", PrimErf, runtime.SeriesErf)
	PrimSeriesSigmoid  = seriesUnary("series_sigmoid", "series of sigmoid(x)", PrimSigmoid, runtime.SeriesSigmoid)
	PrimSeriesSoftplus = seriesUnary("series_softplus", "series of softplus(x)", PrimSoftplus, runtime.SeriesSoftplus)
	PrimSeriesAbs      = seriesUnary("series_abs", "series of abs(x): sign(x_0)·x", PrimAbs, runtime.SeriesAbs)
	PrimSeriesRelu     = seriesUnary("series_relu", "series of relu(x): x where x_0 > 0, else 0", PrimRelu, runtime.SeriesRelu)

	PrimSeriesAdd   = seriesBinary("series_add", "series of x + y", PrimAdd, runtime.SeriesAdd)
	PrimSeriesSub   = seriesBinary("series_sub", "series of x - y", PrimSub, runtime.SeriesSub)
	PrimSeriesMul   = seriesBinary("series_mul", "series of x * y: the Cauchy product, or a scaling by a constant", PrimMul, runtime.SeriesMul)
	PrimSeriesDiv   = seriesBinary("series_div", "series of x / y", PrimDiv, runtime.SeriesDiv)
	PrimSeriesPow   = seriesBinary("series_pow", "series of x ^ y", PrimPow, runtime.SeriesPow)
	PrimSeriesAtan2 = seriesBinary("series_atan2", "series of atan2(x, y)", PrimAtan2, runtime.SeriesAtan2)
	PrimSeriesMod   = seriesBinary("series_mod", "series of x % y", PrimMod, runtime.SeriesMod)
	PrimSeriesMin   = seriesBinary("series_min", "series of min(x, y): the series whose coefficient 0 min picks", PrimMin, runtime.SeriesMin)
	PrimSeriesMax   = seriesBinary("series_max", "series of max(x, y): the series whose coefficient 0 max picks", PrimMax, runtime.SeriesMax)
)

// ---- construction, per-coefficient application, products, accumulators ----

var (
	// PrimSeries makes a series from its leading coefficients:
	// series(K, c0, c1, ...) = [c0, c1, ..., 0, ..., 0] of length K (the
	// zeros of the coefficients' type and shape; coefficients beyond K are
	// dropped). Aux is the static Dim of K.
	PrimSeries = seriesPrim(&Prim{Name: "series", Arity: -1, MinArgs: 2, Doc: "series(K, c0, c1, ...): the K coefficients c0, c1, ..., then zeros",
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("series", 0, args[0], I64); err != nil {
				return nil, err
			}
			for i, a := range args[1:] {
				if _, isFn := a.(*Func); isFn {
					return nil, fmt.Errorf("series: coefficient %d is a function", i)
				}
				if !Equal(a, args[1]) {
					return nil, fmt.Errorf("series: coefficient %d has type %s, coefficient 0 has type %s", i, a, args[1])
				}
			}
			return ArrayOf(dimAux(aux), args[1]), nil
		},
		Eval: func(s *Site) (Impl, error) {
			st := newStacker("series", s.Args[1])
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				k, err := runtime.CheckSize(args[0].I)
				if err != nil {
					return errValue, err
				}
				cs := args[1:]
				var zero runtime.Value
				if k > len(cs) {
					if zero, err = runtime.ZeroLike(m, cs[0]); err != nil {
						return errValue, err
					}
				}
				a, err := st.Stack(m, k, func(j int) (runtime.Value, error) {
					if j < len(cs) {
						return cs[j], nil
					}
					return zero, nil
				})
				if err != nil {
					return errValue, err
				}
				return runtime.Arr(a), nil
			}, nil
		}})

	// PrimSeriesCoef applies a primitive linear in its series arguments
	// coefficient by coefficient: result[j] = p(args with each series
	// argument s replaced by s[j]).
	PrimSeriesCoef = seriesPrim(&Prim{Name: "series_coef", Arity: -1, MinArgs: 1, Doc: "series_coef[p](args): p applied to coefficient j of the series arguments, for each j",
		Type: func(args []Type, aux any) (Type, error) {
			kd, inner, err := seriesCoefTypes("series_coef", args, aux)
			if err != nil {
				return nil, err
			}
			return ArrayOf(kd, inner), nil
		},
		Eval: evalSeriesCoef})

	// PrimSeriesCauchy is the series of a bilinear primitive (dot, outer,
	// matmul, ...) of two series: result[j] = Σ_{i≤j} p(a[i], b[j-i]).
	PrimSeriesCauchy = seriesPrim(&Prim{Name: "series_cauchy", Arity: 2, Doc: "series_cauchy[p](a, b): the Cauchy product of two series under a bilinear p",
		Type: func(args []Type, aux any) (Type, error) {
			c, ok := aux.(*SeriesCoef)
			if !ok || len(c.Series) != 2 || !c.Series[0] || !c.Series[1] {
				return nil, fmt.Errorf("series_cauchy: want two series operands")
			}
			kd, inner, err := seriesCoefTypes("series_cauchy", args, aux)
			if err != nil {
				return nil, err
			}
			if !IsF64Tensor(inner) {
				return nil, fmt.Errorf("series_cauchy: %s gives %s; want f64 or an f64 array", c.Prim.Name, inner)
			}
			return ArrayOf(kd, inner), nil
		},
		Eval: evalSeriesCauchy})

	// PrimSeriesProd is the series of prod: the product of all elements.
	PrimSeriesProd = seriesPrim(&Prim{Name: "series_prod", Arity: 1, Doc: "series_prod(s): the series of the product of all elements",
		Type: func(args []Type, _ any) (Type, error) {
			a, err := seriesOperandType("series_prod", 0, args[0])
			if err != nil {
				return nil, err
			}
			if Rank(a.Elem) == 0 {
				return nil, fmt.Errorf("series_prod: operand has type %s; want a series of an array", args[0])
			}
			return ArrayOf(a.Dim, TF64), nil
		},
		Eval: func(*Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				a := args[0].Array()
				k := a.Shape[0]
				out, err := runtime.NewF64(m, k)
				if err != nil || k == 0 {
					return runtime.Arr(out), err
				}
				if err := m.Step(int64(k * k * max(a.RowSize(), 1))); err != nil {
					return errValue, err
				}
				w := seriesWork.Get().(*runtime.SeriesWork)
				runtime.SeriesProd(out.F, a.F, w)
				seriesWork.Put(w)
				return runtime.Arr(out), nil
			}, nil
		}})

	// PrimSeriesAccAdd is acc_add on series, in place: acc += v, where v is
	// a series of acc's shape, a series of scalars (added to each row), or
	// with Aux SeriesSC a constant (added to coefficient 0).
	PrimSeriesAccAdd = seriesPrim(&Prim{Name: "series_acc_add", Arity: 2, Storage: InPlace, Doc: "series_acc_add(acc, v): acc += v in place on series; returns acc",
		Type: func(args []Type, aux any) (Type, error) {
			mode, err := seriesModeOf(aux)
			if err != nil || mode == SeriesCS {
				return nil, fmt.Errorf("series_acc_add: bad mode %v", aux)
			}
			acc, err := seriesOperandType("series_acc_add", 0, args[0])
			if err != nil || Rank(acc.Elem) == 0 {
				return nil, fmt.Errorf("series_acc_add: accumulator has type %s; want a series of an f64 array", args[0])
			}
			if mode == SeriesSS {
				if !Equal(args[0], args[1]) && !Equal(args[1], ArrayOf(acc.Dim, TF64)) {
					return nil, fmt.Errorf("series_acc_add: value has type %s; want %s or [%s]f64", args[1], args[0], acc.Dim)
				}
			} else if !Equal(acc.Elem, args[1]) && !Identical(args[1], TF64) {
				return nil, fmt.Errorf("series_acc_add: value has type %s; want %s or f64", args[1], acc.Elem)
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			mode, _ := seriesModeOf(s.Aux)
			perRow := Rank(s.Args[1]) < Rank(s.Args[0])
			if mode == SeriesSC {
				perRow = Rank(s.Args[1]) == 0
			}
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc := args[0].Array()
				k, rs := acc.Shape[0], acc.RowSize()
				if err := m.Step(int64(acc.N())); err != nil {
					return errValue, err
				}
				if mode == SeriesSC {
					if k == 0 {
						return args[0], nil
					}
					row := acc.F[:rs]
					if perRow {
						runtime.AddConstTo(row, row, args[1].F)
						return args[0], nil
					}
					v := args[1].Array()
					if !runtime.SameShape(acc.Shape[1:], v.Shape) {
						return errValue, fmt.Errorf("series_acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape[1:]), runtime.ShapeString(v.Shape))
					}
					runtime.AddTo(row, row, v.F)
					return args[0], nil
				}
				v := args[1].Array()
				if perRow {
					if v.Len() != k {
						return errValue, fmt.Errorf("series_acc_add: series of %d and %d coefficients", k, v.Len())
					}
					for j := 0; j < k; j++ {
						row := acc.F[j*rs : (j+1)*rs]
						runtime.AddConstTo(row, row, v.F[j])
					}
					return args[0], nil
				}
				if !runtime.SameShape(acc.Shape, v.Shape) {
					return errValue, fmt.Errorf("series_acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape), runtime.ShapeString(v.Shape))
				}
				runtime.AddTo(acc.F, acc.F, v.F)
				return args[0], nil
			}, nil
		}})

	// PrimSeriesAccAddAt is acc_add_at on series, in place: acc[j][i] +=
	// v[j] for every coefficient j, or with Aux SeriesSC acc[0][i] += v.
	PrimSeriesAccAddAt = seriesPrim(&Prim{Name: "series_acc_add_at", Arity: 3, Storage: InPlace, Doc: "series_acc_add_at(acc, i, v): acc[·][i] += v in place on series; returns acc",
		Type: func(args []Type, aux any) (Type, error) {
			mode, err := seriesModeOf(aux)
			if err != nil || mode == SeriesCS {
				return nil, fmt.Errorf("series_acc_add_at: bad mode %v", aux)
			}
			acc, err := seriesOperandType("series_acc_add_at", 0, args[0])
			var inner *Array
			ok := false
			if err == nil {
				inner, ok = acc.Elem.(*Array)
			}
			if !ok {
				return nil, fmt.Errorf("series_acc_add_at: accumulator has type %s; want a series of an f64 array", args[0])
			}
			if err := needKind("series_acc_add_at", 1, args[1], I64); err != nil {
				return nil, err
			}
			want := inner.Elem
			if mode == SeriesSS {
				want = ArrayOf(acc.Dim, inner.Elem)
			}
			if !Equal(want, args[2]) {
				return nil, fmt.Errorf("series_acc_add_at: value has type %s; want %s", args[2], want)
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			mode, _ := seriesModeOf(s.Aux)
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc, i := args[0].Array(), args[1].I
				k, n := acc.Shape[0], acc.Shape[1]
				if err := runtime.CheckIndex(i, n); err != nil {
					return errValue, err
				}
				cs := acc.RowSize()
				es := runtime.Size(acc.Shape[2:])
				if err := m.Step(int64(k * max(es, 1))); err != nil {
					return errValue, err
				}
				if mode == SeriesSC {
					if k == 0 {
						return args[0], nil
					}
					if len(acc.Shape) == 2 {
						acc.F[i] += args[2].F
						return args[0], nil
					}
					v := args[2].Array()
					if !runtime.SameShape(v.Shape, acc.Shape[2:]) {
						return errValue, fmt.Errorf("series_acc_add_at: value has shape %s; elements have shape %s", runtime.ShapeString(v.Shape), runtime.ShapeString(acc.Shape[2:]))
					}
					dst := acc.F[int(i)*es : (int(i)+1)*es]
					runtime.AddTo(dst, dst, v.F)
					return args[0], nil
				}
				v := args[2].Array()
				if v.Len() != k {
					return errValue, fmt.Errorf("series_acc_add_at: series of %d and %d coefficients", k, v.Len())
				}
				for j := 0; j < k; j++ {
					if len(acc.Shape) == 2 {
						acc.F[j*cs+int(i)] += v.F[j]
						continue
					}
					if !runtime.SameShape(v.Shape[1:], acc.Shape[2:]) {
						return errValue, fmt.Errorf("series_acc_add_at: value has shape %s; elements have shape %s", runtime.ShapeString(v.Shape[1:]), runtime.ShapeString(acc.Shape[2:]))
					}
					dst := acc.F[j*cs+int(i)*es : j*cs+(int(i)+1)*es]
					runtime.AddTo(dst, dst, v.F[j*es:(j+1)*es])
				}
				return args[0], nil
			}, nil
		}})
)

// seriesCoefTypes is the coefficient count and the per-coefficient result
// type of series_coef and series_cauchy.
func seriesCoefTypes(name string, args []Type, aux any) (Dim, Type, error) {
	c, ok := aux.(*SeriesCoef)
	if !ok || c.Prim == nil || len(c.Series) != len(args) {
		return Dim{}, nil, fmt.Errorf("%s: want a SeriesCoef Aux with one flag per argument", name)
	}
	if err := c.Prim.CheckArity(len(args)); err != nil {
		return Dim{}, nil, fmt.Errorf("%s: %v", name, err)
	}
	elems := make([]Type, len(args))
	kd, found := Unknown, false
	for i, a := range args {
		if !c.Series[i] {
			elems[i] = a
			continue
		}
		arr, ok := a.(*Array)
		if !ok {
			return Dim{}, nil, fmt.Errorf("%s: argument %d has type %s; want a series [K]T", name, i+1, a)
		}
		if found && arr.Dim.DiffersStatically(kd) {
			return Dim{}, nil, fmt.Errorf("%s: series of %s and %s coefficients", name, kd, arr.Dim)
		}
		if !found {
			kd, found = arr.Dim, true
		}
		elems[i] = arr.Elem
	}
	if !found {
		return Dim{}, nil, fmt.Errorf("%s: no series argument", name)
	}
	inner, err := c.Prim.Type(elems, c.Aux)
	if err != nil {
		return Dim{}, nil, fmt.Errorf("%s: %v", name, err)
	}
	return kd, inner, nil
}

// innerSite is the site of the primitive a series_coef or series_cauchy
// applies.
func innerSite(s *Site) (*SeriesCoef, *Site, error) {
	c, ok := s.Aux.(*SeriesCoef)
	if !ok {
		return nil, nil, fmt.Errorf("%s: bad Aux %v", s.Prim.Name, s.Aux)
	}
	elems := make([]Type, len(s.Args))
	for i, a := range s.Args {
		elems[i] = a
		if c.Series[i] {
			elems[i] = a.(*Array).Elem
		}
	}
	res, ok := s.Result.(*Array)
	if !ok {
		return nil, nil, fmt.Errorf("%s: result type %s is not a series", s.Prim.Name, s.Result)
	}
	if c.Prim.Eval == nil {
		return nil, nil, fmt.Errorf("%s: %s has no evaluator", s.Prim.Name, c.Prim.Name)
	}
	return c, &Site{Prim: c.Prim, Args: elems, Result: res.Elem, Aux: c.Aux}, nil
}

// seriesLen is the common coefficient count of the series arguments.
func seriesLen(name string, c *SeriesCoef, args []runtime.Value) (int, error) {
	k := -1
	for i, a := range args {
		if !c.Series[i] {
			continue
		}
		n := a.Array().Len()
		if k >= 0 && n != k {
			return 0, fmt.Errorf("%s: series of %d and %d coefficients", name, k, n)
		}
		k = n
	}
	return k, nil
}

func evalSeriesCoef(s *Site) (Impl, error) {
	c, in, err := innerSite(s)
	if err != nil {
		return nil, err
	}
	if c.Prim == PrimIndex && c.Series[0] && !c.Series[1] {
		return evalSeriesIndex, nil
	}
	impl, err := c.Prim.Eval(in)
	if err != nil {
		return nil, err
	}
	st := newStacker(c.Prim.Name, in.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		k, err := seriesLen("series_coef", c, args)
		if err != nil {
			return errValue, err
		}
		a, err := st.Stack(m, k, func(j int) (runtime.Value, error) {
			aj := make([]runtime.Value, len(args))
			for i, v := range args {
				aj[i] = v
				if c.Series[i] {
					aj[i] = v.Array().At(j)
				}
			}
			return impl(m, aj)
		})
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

// evalSeriesIndex is series_coef of index(s, i): element i of every
// coefficient, copied in one pass (the common x[i] in loops).
func evalSeriesIndex(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
	a, i := args[0].Array(), args[1].I
	k, n := a.Shape[0], a.Shape[1]
	if err := runtime.CheckIndex(i, n); err != nil {
		return errValue, err
	}
	es := runtime.Size(a.Shape[2:])
	if err := m.Step(int64(k * max(es, 1))); err != nil {
		return errValue, err
	}
	out, err := runtime.New(m, a.Kind, append([]int{k}, a.Shape[2:]...)...)
	if err != nil {
		return errValue, err
	}
	return runtime.Arr(out), runtime.ColumnArrayPolled(m, out, a, int(i))
}

func evalSeriesCauchy(s *Site) (Impl, error) {
	c, in, err := innerSite(s)
	if err != nil {
		return nil, err
	}
	impl, err := c.Prim.Eval(in)
	if err != nil {
		return nil, err
	}
	rank := Rank(in.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		k, err := seriesLen("series_cauchy", c, args)
		if err != nil {
			return errValue, err
		}
		a, b := args[0].Array(), args[1].Array()
		var out *runtime.Array
		for j := 0; j < k; j++ {
			for i := 0; i <= j; i++ {
				r, err := impl(m, []runtime.Value{a.At(i), b.At(j - i)})
				if err != nil {
					return errValue, err
				}
				if rank == 0 {
					if out == nil {
						if out, err = runtime.NewF64(m, k); err != nil {
							return errValue, err
						}
					}
					out.F[j] += r.F
					continue
				}
				ra := r.Array()
				if out == nil {
					if out, err = runtime.NewF64(m, append([]int{k}, ra.Shape...)...); err != nil {
						return errValue, err
					}
				}
				rs := out.RowSize()
				if ra.N() != rs {
					return errValue, fmt.Errorf("series_cauchy: %s gives shapes %s and %s", c.Prim.Name, runtime.ShapeString(ra.Shape), runtime.ShapeString(out.Shape[1:]))
				}
				row := out.F[j*rs : (j+1)*rs]
				if err := runtime.Pieces(m, rs, 1, func(lo, hi int) error {
					runtime.AddTo(row[lo:hi], row[lo:hi], ra.F[lo:hi])
					return nil
				}); err != nil {
					return errValue, err
				}
			}
		}
		if out == nil { // k = 0
			shape := []int{0}
			for _, d := range Dims(in.Result) {
				shape = append(shape, int(max(d.N, 0)))
			}
			if out, err = runtime.NewF64(m, shape...); err != nil {
				return errValue, err
			}
		}
		return runtime.Arr(out), nil
	}, nil
}

// IsSeriesPrim reports whether p is one of the series primitives.
func IsSeriesPrim(p *Prim) bool { return p.Class == SeriesClass }
