package ir

import (
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// PrimProgress is the builtin progress("method", iteration, value, norm,
// step, v): it reports one iteration of an iterative method to the host
// (runtime.WithProgress) and returns v. The method name is a string
// literal, carried in Aux. Reporting never changes a result: derivatives
// pass through to v, and differentiated code does not report (package ad
// drops the call), so each iteration is reported once, by the primal run.
// The data dependence on v keeps the call where the iteration is; it is
// declared MayFail so that no pass drops or duplicates it.
var PrimProgress = Register(&Prim{Name: "progress", Arity: 5,
	Doc:   `progress("method", iteration, value, norm, step, v): v, after reporting the iteration to the host`,
	Class: Builtin, Fails: MayFail, Storage: Shared, Linear: []int{4},
	Type: func(args []Type, _ any) (Type, error) {
		if err := needKind("progress", 1, args[0], I64); err != nil {
			return nil, err
		}
		for i := 1; i <= 3; i++ {
			if err := needKind("progress", i+1, args[i], F64); err != nil {
				return nil, err
			}
		}
		return args[4], nil
	},
	Eval: func(s *Site) (Impl, error) {
		method, ok := s.Aux.(string)
		if !ok {
			return nil, fmt.Errorf("progress: Aux is %T; want the method's name", s.Aux)
		}
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			if m != nil {
				if fn := runtime.ProgressFunc(m.Ctx); fn != nil {
					fn(runtime.Progress{Method: method, Iteration: args[0].I, Value: args[1].F, GradNorm: args[2].F, Step: args[3].F})
				}
			}
			return args[4], nil
		}, nil
	},
	JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr { return tans[4] }),
	VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
		if i != 4 {
			return nil
		}
		return ybar
	}),
})

// PassedThrough returns the argument a primitive returns unchanged when it
// is a guard or a report (assert, linear_check, progress), and false for
// every other primitive.
func PassedThrough(p *Prim) (int, bool) {
	switch p {
	case PrimAssert, PrimLinearCheck:
		return 1, true
	case PrimProgress:
		return 4, true
	}
	return 0, false
}
