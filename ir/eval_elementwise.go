package ir

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/runtime"
)

// Evaluation of elementwise primitives: scalar operations lifted over
// arrays (SPEC §4).
//
// evalElementwise runs once per call site, when the interpreter compiles
// it, and does all the dispatching there: on the operands' scalar kind,
// on which operands are arrays (scalar⊕scalar, array⊕array, array⊕scalar,
// scalar⊕array) and on the operation itself. The Impl it returns only
// checks shapes, charges steps, allocates and runs one runtime loop over
// the flat storage: a dedicated kernel for the operations programs spend
// their time in (f64 + - * /, neg, exp, abs, sqrt, comparisons, i64 + - *),
// and runtime.Map or its binary forms, calling the prim's scalar function
// (F1, F2, ...), for every other operation.

// access says how values of one scalar kind are held: unboxed in a
// runtime.Value and in an Array's flat slice.
type access[T any] struct {
	kind  runtime.Elem
	get   func(runtime.Value) T
	put   func(T) runtime.Value
	slice func(*runtime.Array) []T
}

var (
	accF64 = access[float64]{runtime.ElemF64,
		func(v runtime.Value) float64 { return v.F }, runtime.F64,
		func(a *runtime.Array) []float64 { return a.F }}
	accI64 = access[int64]{runtime.ElemI64,
		func(v runtime.Value) int64 { return v.I }, runtime.I64,
		func(a *runtime.Array) []int64 { return a.I }}
	accBool = access[bool]{runtime.ElemBool,
		func(v runtime.Value) bool { return v.I != 0 }, runtime.Bool,
		func(a *runtime.Array) []bool { return a.B }}
)

// unary is one lifted operation A -> R: on a scalar, and on a whole flat
// slice (dst and x of equal length).
type unary[A, R any] struct {
	one  func(A) (R, error)
	many func(dst []R, x []A) error
}

// binary is one lifted operation (A, A) -> R in its four forms. The slice
// forms get slices of equal length.
type binary[A, R any] struct {
	one func(a, b A) (R, error)
	vv  func(dst []R, x, y []A) error
	vs  func(dst []R, x []A, y A) error
	sv  func(dst []R, x A, y []A) error
}

func total1[A, R any](f func(A) R) unary[A, R] {
	return unary[A, R]{
		one:  func(a A) (R, error) { return f(a), nil },
		many: func(dst []R, x []A) error { runtime.Map(dst, x, f); return nil },
	}
}

func partial1[A, R any](f func(A) (R, error)) unary[A, R] {
	return unary[A, R]{
		one:  f,
		many: func(dst []R, x []A) error { return runtime.MapErr(dst, x, f) },
	}
}

// loop1 adapts an error-free slice kernel.
func loop1[A, R any](f func(dst []R, x []A)) func(dst []R, x []A) error {
	return func(dst []R, x []A) error { f(dst, x); return nil }
}

func total2[A, R any](f func(a, b A) R) binary[A, R] {
	return binary[A, R]{
		one: func(a, b A) (R, error) { return f(a, b), nil },
		vv:  func(dst []R, x, y []A) error { runtime.MapVV(dst, x, y, f); return nil },
		vs:  func(dst []R, x []A, c A) error { runtime.MapVS(dst, x, c, f); return nil },
		sv:  func(dst []R, c A, y []A) error { runtime.MapSV(dst, c, y, f); return nil },
	}
}

func partial2[A, R any](f func(a, b A) (R, error)) binary[A, R] {
	return binary[A, R]{
		one: f,
		vv:  func(dst []R, x, y []A) error { return runtime.MapVVErr(dst, x, y, f) },
		vs:  func(dst []R, x []A, c A) error { return runtime.MapVSErr(dst, x, c, f) },
		sv:  func(dst []R, c A, y []A) error { return runtime.MapSVErr(dst, c, y, f) },
	}
}

// fast replaces the slice forms of k with error-free kernels (nil ones
// are kept).
func (k binary[A, R]) fast(vv func(dst []R, x, y []A), vs func(dst []R, x []A, c A), sv func(dst []R, c A, y []A)) binary[A, R] {
	if vv != nil {
		k.vv = func(dst []R, x, y []A) error { vv(dst, x, y); return nil }
	}
	if vs != nil {
		k.vs = func(dst []R, x []A, c A) error { vs(dst, x, c); return nil }
	}
	if sv != nil {
		k.sv = func(dst []R, c A, y []A) error { sv(dst, c, y); return nil }
	}
	return k
}

// runMany, runVV, runVS and runSV run the slice forms in pieces that look
// at the call's context (runtime.Pieces); elementwise work splits
// anywhere, and an error is still the first failing element's.
func (k unary[A, R]) runMany(m *runtime.Machine, dst []R, x []A) error {
	return runtime.Pieces(m, len(dst), 1, func(lo, hi int) error { return k.many(dst[lo:hi], x[lo:hi]) })
}

func (k binary[A, R]) runVV(m *runtime.Machine, dst []R, x, y []A) error {
	return runtime.Pieces(m, len(dst), 1, func(lo, hi int) error { return k.vv(dst[lo:hi], x[lo:hi], y[lo:hi]) })
}

func (k binary[A, R]) runVS(m *runtime.Machine, dst []R, x []A, c A) error {
	return runtime.Pieces(m, len(dst), 1, func(lo, hi int) error { return k.vs(dst[lo:hi], x[lo:hi], c) })
}

func (k binary[A, R]) runSV(m *runtime.Machine, dst []R, c A, y []A) error {
	return runtime.Pieces(m, len(dst), 1, func(lo, hi int) error { return k.sv(dst[lo:hi], c, y[lo:hi]) })
}

func isArrayType(t Type) bool {
	_, ok := t.(*Array)
	return ok
}

// evalElementwise specializes an elementwise primitive for a call site.
func evalElementwise(s *Site) (Impl, error) {
	p := s.Prim
	if len(s.Args) != p.Arity {
		return nil, fmt.Errorf("%s takes %d operand%s, got %d", p.displayName(), p.Arity, plural(p.Arity), len(s.Args))
	}
	ak, ok := Leaf(s.Args[0])
	if !ok {
		return nil, fmt.Errorf("%s: operand has type %s", p.displayName(), s.Args[0])
	}
	for _, a := range s.Args[1:] {
		if k, ok := Leaf(a); !ok || k != ak {
			return nil, fmt.Errorf("mismatched types %s and %s in %s", s.Args[0], a, p.displayName())
		}
	}
	rk := ak
	if p.ResultKind != nil {
		rk = *p.ResultKind
	}
	var impl Impl
	if p.Arity == 1 {
		impl = evalUnary(s, ak, rk)
	} else {
		impl = evalBinary(s, ak, rk)
	}
	if impl == nil {
		return nil, fmt.Errorf("%s is not defined on %s", p.displayName(), s.Args[0])
	}
	return impl, nil
}

func evalUnary(s *Site, ak, rk ScalarKind) Impl {
	p := s.Prim
	switch {
	case p.ResultKind != nil && ak == rk && (p.Name == "f64" || p.Name == "i64"):
		// Converting to the kind a value already has; arrays are immutable,
		// so the operand itself is the result.
		return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) { return args[0], nil }
	case ak == I64 && rk == F64:
		return lift1(s, unary[int64, float64]{
			one:  func(a int64) (float64, error) { return float64(a), nil },
			many: loop1(runtime.FloatTo),
		}, accI64, accF64)
	case ak == F64 && rk == I64:
		return lift1(s, unary[float64, int64]{one: runtime.TruncToI64, many: runtime.TruncTo}, accF64, accI64)
	case ak == F64 && rk == F64 && p.F1 != nil:
		return lift1(s, unaryF64(p), accF64, accF64)
	case ak == I64 && rk == I64 && p.I1 != nil:
		return lift1(s, partial1(p.I1), accI64, accI64)
	case ak == Bool && rk == Bool && p.B1 != nil:
		return lift1(s, total1(p.B1), accBool, accBool)
	}
	return nil
}

func unaryF64(p *Prim) unary[float64, float64] {
	k := total1(p.F1)
	switch p.Name {
	case "neg":
		k.many = loop1(runtime.NegTo)
	case "exp":
		k.many = loop1(runtime.ExpTo)
	case "abs":
		k.many = loop1(runtime.AbsTo)
	case "sqrt":
		k.many = loop1(runtime.SqrtTo)
	}
	return k
}

func evalBinary(s *Site, ak, rk ScalarKind) Impl {
	p := s.Prim
	switch {
	case ak == F64 && rk == F64 && p.F2 != nil:
		return lift2(s, binaryF64(p), accF64, accF64)
	case ak == F64 && rk == Bool && p.CmpF != nil:
		return lift2(s, compare(p.Name, p.CmpF), accF64, accBool)
	case ak == I64 && rk == I64 && p.I2 != nil:
		return lift2(s, binaryI64(p), accI64, accI64)
	case ak == I64 && rk == Bool && p.CmpI != nil:
		return lift2(s, compare(p.Name, p.CmpI), accI64, accBool)
	case ak == Bool && rk == Bool && p.B2 != nil:
		return lift2(s, total2(p.B2), accBool, accBool)
	case ak == Bool && rk == Bool && p.CmpI != nil:
		// == and != on bools compare them as the 0 and 1 they are stored as.
		cmp := p.CmpI
		return lift2(s, total2(func(a, b bool) bool { return cmp(b2i(a), b2i(b)) }), accBool, accBool)
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func binaryF64(p *Prim) binary[float64, float64] {
	k := total2(p.F2)
	switch p.Name {
	case "add":
		return k.fast(runtime.AddTo, runtime.AddConstTo,
			func(dst []float64, c float64, y []float64) { runtime.AddConstTo(dst, y, c) })
	case "sub":
		return k.fast(runtime.SubTo,
			func(dst, x []float64, c float64) { runtime.AddConstTo(dst, x, -c) },
			runtime.ConstSubTo)
	case "mul":
		return k.fast(runtime.MulTo,
			func(dst, x []float64, c float64) { runtime.ScaleTo(dst, c, x) },
			runtime.ScaleTo)
	case "div":
		return k.fast(runtime.DivTo, runtime.DivConstTo, runtime.ConstDivTo)
	}
	return k
}

func binaryI64(p *Prim) binary[int64, int64] {
	k := partial2(p.I2)
	switch p.Name {
	case "add":
		return k.fast(runtime.AddI64To, runtime.AddConstI64To,
			func(dst []int64, c int64, y []int64) { runtime.AddConstI64To(dst, y, c) })
	case "sub":
		return k.fast(runtime.SubI64To, runtime.SubConstI64To, runtime.ConstSubI64To)
	case "mul":
		return k.fast(runtime.MulI64To, runtime.MulConstI64To,
			func(dst []int64, c int64, y []int64) { runtime.MulConstI64To(dst, y, c) })
	}
	return k
}

// cmpOps maps the comparison primitives to the operators of the runtime's
// comparison loops.
var cmpOps = map[string]runtime.CmpOp{
	"eq": runtime.CmpEq, "ne": runtime.CmpNe, "lt": runtime.CmpLt,
	"le": runtime.CmpLe, "gt": runtime.CmpGt, "ge": runtime.CmpGe,
}

func compare[T runtime.Number](name string, f func(a, b T) bool) binary[T, bool] {
	k := total2(f)
	op, ok := cmpOps[name]
	if !ok {
		return k
	}
	return k.fast(
		func(dst []bool, x, y []T) { runtime.CompareVV(op, dst, x, y) },
		func(dst []bool, x []T, c T) { runtime.CompareVS(op, dst, x, c) },
		func(dst []bool, c T, y []T) { runtime.CompareSV(op, dst, c, y) })
}

// newResult allocates the result array of an elementwise operation over
// an operand of the given shape, after charging one step per element.
func newResult[R any](m *runtime.Machine, out access[R], shape []int) (*runtime.Array, []R, error) {
	n := runtime.Size(shape)
	if err := m.Step(int64(n)); err != nil {
		return nil, nil, err
	}
	res, err := runtime.New(m, out.kind, slices.Clone(shape)...)
	if err != nil {
		return nil, nil, err
	}
	return res, out.slice(res), nil
}

func lift1[A, R any](s *Site, k unary[A, R], in access[A], out access[R]) Impl {
	if !isArrayType(s.Args[0]) {
		return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			r, err := k.one(in.get(args[0]))
			if err != nil {
				return runtime.Value{}, err
			}
			return out.put(r), nil
		}
	}
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a := args[0].Array()
		res, dst, err := newResult(m, out, a.Shape)
		if err != nil {
			return runtime.Value{}, err
		}
		if err := k.runMany(m, dst, in.slice(a)); err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(res), nil
	}
}

func lift2[A, R any](s *Site, k binary[A, R], in access[A], out access[R]) Impl {
	xa, ya := isArrayType(s.Args[0]), isArrayType(s.Args[1])
	switch {
	case !xa && !ya:
		return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			r, err := k.one(in.get(args[0]), in.get(args[1]))
			if err != nil {
				return runtime.Value{}, err
			}
			return out.put(r), nil
		}
	case xa && ya:
		name := s.Prim.displayName()
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			x, y := args[0].Array(), args[1].Array()
			if !runtime.SameShape(x.Shape, y.Shape) {
				return runtime.Value{}, fmt.Errorf("shape mismatch in %s: %s and %s", name, runtime.ShapeString(x.Shape), runtime.ShapeString(y.Shape))
			}
			res, dst, err := newResult(m, out, x.Shape)
			if err != nil {
				return runtime.Value{}, err
			}
			if err := k.runVV(m, dst, in.slice(x), in.slice(y)); err != nil {
				return runtime.Value{}, err
			}
			return runtime.Arr(res), nil
		}
	case xa:
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			x := args[0].Array()
			res, dst, err := newResult(m, out, x.Shape)
			if err != nil {
				return runtime.Value{}, err
			}
			if err := k.runVS(m, dst, in.slice(x), in.get(args[1])); err != nil {
				return runtime.Value{}, err
			}
			return runtime.Arr(res), nil
		}
	}
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		y := args[1].Array()
		res, dst, err := newResult(m, out, y.Shape)
		if err != nil {
			return runtime.Value{}, err
		}
		if err := k.runSV(m, dst, in.get(args[0]), in.slice(y)); err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(res), nil
	}
}
