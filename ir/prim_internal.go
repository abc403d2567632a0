package ir

import (
	"fmt"
	"slices"

	"github.com/nabla-lang/nabla/runtime"
)

// Internal primitives that derivative rules emit. Users cannot name them;
// they appear in `nabla ir --stage ad` output. Each has its own derivative
// rules, so derivatives can be differentiated again.

// bottom strips the array dimensions off t: the scalar or tuple stored in
// an array's flat storage.
func bottom(t Type) Type {
	for {
		a, ok := t.(*Array)
		if !ok {
			return t
		}
		t = a.Elem
	}
}

// staticCount is the number of bottom elements of t when all its
// dimensions are known.
func staticCount(t Type) (int64, bool) {
	n := int64(1)
	for _, d := range Dims(t) {
		if !d.Known() {
			return 0, false
		}
		n *= d.N
	}
	return n, true
}

var (
	// PrimReshapeLike restores a shape: the cotangent of flatten(x) or
	// reshape(x, m, n) is reshape_like(ybar, x).
	PrimReshapeLike = Register(&Prim{Name: "reshape_like", Arity: 2, Doc: "reshape_like(x, like): x's elements, row by row, with like's type and shape",
		Class: Internal, Fails: MayFail, Storage: Shared, Linear: []int{0},
		Type: func(args []Type, _ any) (Type, error) {
			if _, err := needArray("reshape_like", 0, args[0]); err != nil {
				return nil, err
			}
			if _, err := needArray("reshape_like", 1, args[1]); err != nil {
				return nil, err
			}
			if !Equal(bottom(args[0]), bottom(args[1])) {
				return nil, fmt.Errorf("reshape_like: elements of %s and %s differ", args[0], args[1])
			}
			n0, ok0 := staticCount(args[0])
			n1, ok1 := staticCount(args[1])
			if ok0 && ok1 && n0 != n1 {
				return nil, fmt.Errorf("reshape_like: %s and %s have different sizes", args[0], args[1])
			}
			return args[1], nil
		},
		Eval: func(*Site) (Impl, error) {
			return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				x, like := args[0].Array(), args[1].Array()
				if x.N() != like.N() {
					return errValue, fmt.Errorf("reshape_like: cannot give %s the shape %s", runtime.ShapeString(x.Shape), runtime.ShapeString(like.Shape))
				}
				return runtime.Arr(x.View(slices.Clone(like.Shape))), nil
			}, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			if i != 0 {
				return nil
			}
			return r.op("reshape_like", ybar, args[0])
		})})

	// PrimPadLike places rows in a zero: the cotangent of slice(a, lo, hi)
	// is pad_like(ybar, lo, a).
	PrimPadLike = Register(&Prim{Name: "pad_like", Arity: 3, Doc: "pad_like(v, lo, like): a fresh zero of like's type and shape with v's rows at lo, lo+1, ...",
		Class: Internal, Fails: MayFail, Storage: Fresh, Linear: []int{0},
		Type: func(args []Type, _ any) (Type, error) {
			v, err := needArray("pad_like", 0, args[0])
			if err != nil {
				return nil, err
			}
			if err := needKind("pad_like", 1, args[1], I64); err != nil {
				return nil, err
			}
			like, err := needArray("pad_like", 2, args[2])
			if err != nil {
				return nil, err
			}
			if !Equal(v.Elem, like.Elem) {
				return nil, fmt.Errorf("pad_like: element types %s and %s differ", v.Elem, like.Elem)
			}
			return like, nil
		},
		Eval: func(*Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				v, lo, like := args[0].Array(), args[1].I, args[2].Array()
				if lo < 0 || lo+int64(v.Len()) > int64(like.Len()) {
					return errValue, fmt.Errorf("pad_like: rows [%d:%d] out of range for length %d", lo, lo+int64(v.Len()), like.Len())
				}
				if !runtime.SameShape(v.Shape[1:], like.Shape[1:]) {
					return errValue, fmt.Errorf("pad_like: rows have shapes %s and %s", runtime.ShapeString(v.Shape[1:]), runtime.ShapeString(like.Shape[1:]))
				}
				if err := m.Step(int64(like.N())); err != nil {
					return errValue, err
				}
				out, err := runtime.ZeroLike(m, args[2])
				if err != nil {
					return errValue, err
				}
				runtime.CopyFlat(out.Array(), int(lo)*like.RowSize(), v)
				return out, nil
			}, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			if i != 0 {
				return nil
			}
			v, lo := args[0], args[1]
			return r.opAux("slice", outerDim(v.Type()), ybar, lo, r.add(lo, r.op("len", v)))
		})})

	// PrimIndGt is the step function of the rules of max, min and relu;
	// comparisons give bool, which does not multiply a tangent.
	PrimIndGt = elementwise(&Prim{Name: "ind_gt", Kinds: kF, NoDerivative: true, Doc: "ind_gt(x, y): 1 where x > y, else 0 (also where either is NaN)",
		Class: Internal,
		F2:    runtime.IndGt})
)
