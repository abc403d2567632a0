package ir

import (
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// PrimODE integrates y' = f(t, y) from (t0, y0) to t1 by the adaptive
// Dormand–Prince 5(4) pair (runtime.Dopri5) and returns y(t1): std/ode's
// dopri5. Package ad differentiates it itself, by the continuous adjoint
// in reverse mode (a second, backward solve of the augmented system) and
// the forward sensitivity equations in forward mode, with respect to y0,
// t0, t1 and the values f closes over; never through the solver's steps.
// A call reports its attempted steps (progress, method "dopri5") unless
// its Aux is ODEQuiet: package ad makes its solves quiet, as
// differentiated code does not report.
var PrimODE = Register(&Prim{Name: "ode_dopri5", Arity: 6,
	Doc:   "ode_dopri5(f, y0, t0, t1, rtol, atol): y(t1) for y' = f(t, y), y(t0) = y0, by adaptive Dormand–Prince 5(4)",
	Class: Builtin, Fails: MayFail, Storage: Fresh,
	Hint: func(args []Type, i int) Type {
		if i == 0 && args[1] != nil {
			return &Func{Params: []Type{TF64, args[1]}, Result: args[1]}
		}
		return nil
	},
	Type: func(args []Type, _ any) (Type, error) {
		f, err := needFunc("ode_dopri5", 0, args[0], 2)
		if err != nil {
			return nil, err
		}
		y, ok := args[1].(*Array)
		if !ok || !Identical(y.Elem, TF64) || !Identical(f.Params[0], TF64) || !Equal(f.Params[1], args[1]) || !Equal(f.Result, args[1]) {
			return nil, fmt.Errorf("ode_dopri5: want ((f64, [n]f64) -> [n]f64, [n]f64, ...), got (%s, %s, ...)", f, args[1])
		}
		for i := 2; i < 6; i++ {
			if err := needKind("ode_dopri5", i+1, args[i], F64); err != nil {
				return nil, err
			}
		}
		return args[1], nil
	},
	Eval: func(s *Site) (Impl, error) {
		quiet := s.Aux == ODEQuiet
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			f, err := function("ode_dopri5", args[0])
			if err != nil {
				return errValue, err
			}
			rhs := func(t float64, y []float64) ([]float64, error) {
				out, err := call(m, f, runtime.F64(t), runtime.Arr(runtime.FromF64(append([]float64(nil), y...))))
				if err != nil {
					return nil, err
				}
				return out.Array().F, nil
			}
			var report func(it int64, t, e, h float64)
			if fn := progressOf(m); fn != nil && !quiet {
				report = func(it int64, t, e, h float64) {
					fn(runtime.Progress{Method: "dopri5", Iteration: it, Value: t, GradNorm: e, Step: h})
				}
			}
			y, err := runtime.Dopri5(rhs, args[1].Array().F, args[2].F, args[3].F, args[4].F, args[5].F, report)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(runtime.FromF64(y)), runtime.Charge(m, y)
		}, nil
	}})

// ODEQuiet is the Aux of an ode_dopri5 call that does not report its
// steps (the solves of differentiated code).
const ODEQuiet = 1

// progressOf is the progress listener of m's call, or nil.
func progressOf(m *runtime.Machine) func(runtime.Progress) {
	if m == nil {
		return nil
	}
	return runtime.ProgressFunc(m.Ctx)
}
