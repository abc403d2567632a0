package ir

import (
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// PrimLinsolve solves A x = b given only the product v -> A v, by
// restarted GMRES: the matrix-free solve behind implicit differentiation
// (SPEC §6), where A is ∂F/∂x or its transpose, applied through JVPs or
// VJPs of F. Package ad differentiates it itself, with respect to b and to
// the values the matvec closes over (nested implicit differentiation), so
// its derivative is A⁻¹ applied to the derivative of b − A·x, never the
// derivative of the GMRES iterations. Programs may call it (the standard
// library's minimizers build their implicit derivatives on it).
var PrimLinsolve = Register(&Prim{Name: "linsolve", Arity: 2, Doc: "linsolve(matvec, b): x with matvec(x) = b, by restarted GMRES",
	Class: Builtin, Fails: MayFail, Storage: Fresh,
	Hint: func(args []Type, i int) Type {
		if i == 0 && args[1] != nil {
			return &Func{Params: []Type{args[1]}, Result: args[1]}
		}
		return nil
	},
	Type: func(args []Type, _ any) (Type, error) {
		f, err := needFunc("linsolve", 0, args[0], 1)
		if err != nil {
			return nil, err
		}
		if !isVectorOrScalar(args[1]) || !Equal(f.Params[0], args[1]) || !Equal(f.Result, args[1]) {
			return nil, fmt.Errorf("linsolve: want (T -> T, T) with T f64 or [n]f64, got (%s, %s)", f, args[1])
		}
		return args[1], nil
	},
	Eval: func(s *Site) (Impl, error) {
		scalar := Rank(s.Args[1]) == 0
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			f, err := function("linsolve", args[0])
			if err != nil {
				return errValue, err
			}
			if scalar {
				a, err := call(m, f, runtime.F64(1))
				if err != nil {
					return errValue, err
				}
				return runtime.F64(args[1].F / a.F), nil
			}
			b := args[1].Array().F
			matvec := func(v []float64) ([]float64, error) {
				out, err := call(m, f, runtime.Arr(runtime.FromF64(append([]float64(nil), v...))))
				if err != nil {
					return nil, err
				}
				r := out.Array()
				if len(r.F) != len(v) {
					return nil, fmt.Errorf("linsolve: matvec returned %d values for %d", len(r.F), len(v))
				}
				return r.F, nil
			}
			x, err := runtime.GMRES(matvec, b, 1e-13, 30, 20*len(b)+100)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(runtime.FromF64(x)), runtime.Charge(m, x)
		}, nil
	}})

func isVectorOrScalar(t Type) bool {
	if Identical(t, TF64) {
		return true
	}
	a, ok := t.(*Array)
	return ok && Identical(a.Elem, TF64)
}
