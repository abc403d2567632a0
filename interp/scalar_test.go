package interp

import (
	"context"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestScalarOps checks the interpreter's own scalar code for every binary
// elementwise primitive against the primitive's declared scalar function,
// with operands in every form the code specializes: variables, constants,
// and computed values (here x*1 and y*1, or !!x for bools).
func TestScalarOps(t *testing.T) {
	fs := []float64{-2.5, -1, -0, 0, 0.5, 3, math.Inf(1), math.NaN()}
	is := []int64{-7, -1, 0, 2, 3}
	bs := []int64{0, 1}
	kinds := []struct {
		k    ir.ScalarKind
		vals func() []runtime.Value
	}{
		{ir.F64, func() (vs []runtime.Value) {
			for _, f := range fs {
				vs = append(vs, runtime.F64(f))
			}
			return
		}},
		{ir.I64, func() (vs []runtime.Value) {
			for _, i := range is {
				vs = append(vs, runtime.I64(i))
			}
			return
		}},
		{ir.Bool, func() (vs []runtime.Value) {
			for _, b := range bs {
				vs = append(vs, runtime.Value{I: b})
			}
			return
		}},
	}
	for _, op := range ir.Prims() {
		if !op.Elementwise || op.Arity != 2 {
			continue
		}
		for _, kd := range kinds {
			if !kindIn(kd.k, op.Kinds) {
				continue
			}
			want := func(a, b runtime.Value) (runtime.Value, bool) { return reference(op, kd.k, a, b) }
			vals := kd.vals()
			T := ir.Scalar{Kind: kd.k}
			for _, shape := range []string{"var,var", "var,const", "const,var", "expr,expr", "const,const", "expr,var", "var,expr", "expr,const", "const,expr"} {
				for _, a := range vals {
					for _, bv := range vals {
						var b ir.Builder
						at(&b, 1)
						operand := func(form string, v *ir.Var, val runtime.Value) ir.Expr {
							switch form {
							case "const":
								switch kd.k {
								case ir.F64:
									return b.F64(val.F)
								case ir.I64:
									return b.I64(val.I)
								}
								return b.Bool(val.I != 0)
							case "expr":
								if kd.k == ir.Bool {
									return b.Prim(ir.PrimNot, b.Prim(ir.PrimNot, v))
								}
								one := ir.Expr(b.F64(1))
								if kd.k == ir.I64 {
									one = b.I64(1)
								}
								return b.Prim(ir.PrimMul, v, one)
							}
							return v
						}
						f0, f1 := split(shape)
						d := b.Def("f", []string{"x", "y"}, []ir.Type{T, T}, func(v []*ir.Var) ir.Expr {
							return b.Prim(op, operand(f0, v[0], a), operand(f1, v[1], bv))
						})
						it := mustNew(t, d)
						got, err := it.Call(context.Background(), "f", []runtime.Value{a, bv}, runtime.Limits{})
						w, ok := want(a, bv)
						if !ok {
							if err == nil {
								t.Errorf("%s %s(%s, %s) [%s]: no error", T, op.Name, show(a), show(bv), shape)
							}
							continue
						}
						if err != nil || !same(got, w) {
							t.Errorf("%s %s(%s, %s) [%s] = %s, %v; want %s", T, op.Name, show(a), show(bv), shape, show(got), err, show(w))
						}
					}
				}
			}
		}
	}
}

func split(shape string) (string, string) {
	for i := range shape {
		if shape[i] == ',' {
			return shape[:i], shape[i+1:]
		}
	}
	return shape, shape
}

func kindIn(k ir.ScalarKind, ks []ir.ScalarKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// reference applies a primitive's declared scalar function; ok is false
// when it fails.
func reference(op *ir.Prim, k ir.ScalarKind, a, b runtime.Value) (runtime.Value, bool) {
	switch {
	case op.CmpF != nil && k == ir.F64:
		return runtime.Bool(op.CmpF(a.F, b.F)), true
	case op.CmpI != nil && k != ir.F64:
		return runtime.Bool(op.CmpI(a.I, b.I)), true
	case op.F2 != nil && k == ir.F64:
		return runtime.F64(op.F2(a.F, b.F)), true
	case op.I2 != nil && k == ir.I64:
		i, err := op.I2(a.I, b.I)
		return runtime.I64(i), err == nil
	case op.B2 != nil:
		return runtime.Bool(op.B2(a.I != 0, b.I != 0)), true
	}
	panic("no scalar function for " + op.Name)
}
