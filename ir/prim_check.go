package ir

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/runtime"
)

// Size checks that the front end makes explicit (SPEC §2): a def's
// declared result type and a loop's state keep their sizes, checked at run
// time where the compiler cannot decide them. They are core-IR
// primitives rather than interpreter behaviour so that every stage
// carries them: inlining and specialization move them with the code, AD
// differentiates through them (they are the identity on values), and
// every backend implements the same one-line check.

// DimCheck is the static part of check_dim: which axis is checked and the
// words of its error message. It is a comparable value, so two checks are
// the same term exactly when their Aux values are ==.
type DimCheck struct {
	Axis int    // the checked axis of the array
	What string // what is checked: "the result of f", "the loop state", "field 1 of the result of f"
	Type string // the type that fixes the size, as written: "[n]f64"
	Size string // the size as that type writes it: "n", "3", or "" when it is the initial value's
}

func (d DimCheck) String() string {
	return fmt.Sprintf("%d, %q, %q, %q", d.Axis, d.What, d.Type, d.Size)
}

// Message words a failed check: "size mismatch: the result of r has size
// 1, but its type [n]f64 says n = 3".
func (d DimCheck) Message(got, want int64) string {
	what := d.What
	if d.Axis > 0 {
		what = fmt.Sprintf("dimension %d of %s", d.Axis+1, what)
	}
	return runtime.DimMessage(what, d.Type, d.Size, got, want)
}

// PrimCheckDim is check_dim(a, n) with Aux a DimCheck: a itself when its
// dimension Aux.Axis is n, else a run-time error naming both sizes. Its
// type is a's: the check only guards the value.
var PrimCheckDim = Register(&Prim{Name: "check_dim", Arity: 2,
	Class: Internal, Fails: MayFail, Storage: Shared, Linear: []int{0},
	Doc: "check_dim(a, n) with Aux = DimCheck: a, after checking that its dimension Aux.Axis is n",
	Type: func(args []Type, aux any) (Type, error) {
		dc, ok := aux.(DimCheck)
		if !ok {
			return nil, fmt.Errorf("check_dim: Aux is %T; want a DimCheck", aux)
		}
		if Rank(args[0]) <= dc.Axis || dc.Axis < 0 {
			return nil, fmt.Errorf("check_dim: %s has no axis %d", args[0], dc.Axis)
		}
		if err := needKind("check_dim", 1, args[1], I64); err != nil {
			return nil, err
		}
		return args[0], nil
	},
	Eval: func(s *Site) (Impl, error) {
		dc, ok := s.Aux.(DimCheck)
		if !ok || dc.Axis < 0 || dc.Axis >= Rank(s.Args[0]) {
			return nil, fmt.Errorf("check_dim: %s has no axis %v", s.Args[0], s.Aux)
		}
		return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			got, want := int64(args[0].Array().Shape[dc.Axis]), args[1].I
			if got != want {
				return errValue, fmt.Errorf("%s", dc.Message(got, want))
			}
			return args[0], nil
		}, nil
	},
	// The identity on values: a tangent or cotangent has its primal's
	// shape, which the primal's check has established.
	JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr { return tans[0] }),
	VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
		if i != 0 {
			return nil
		}
		return ybar
	})})

// PrimLinearCheck is linear_check(ok, v) with Aux a message: v, or a
// run-time error with that message when ok is false. Reverse mode wraps
// the transpose of a @jvp rule whose linearity could not be decided at
// compile time in it (package ad, linear.go).
var PrimLinearCheck = Register(guardPrim("linear_check", Internal, "linear_check(ok, v): v, or the error Aux when ok is false"))

// PrimAssert is the builtin assert(cond, "message", v): v when cond holds,
// else a run-time error with the message (the front end moves the string
// literal into Aux). It is how Nabla code, the standard library's drivers
// first of all, rejects bad arguments; its value is data-dependent so that
// no pass drops the check while the value is used.
var PrimAssert = Register(guardPrim("assert", Builtin, `assert(cond, "message", v): v, or a run-time error with the message when cond is false`))

// guardPrim declares a primitive g(ok, v) with Aux a message: v, or a
// run-time error with that message when ok is false. Derivatives pass
// through to v (the check stays on the primal).
func guardPrim(name string, class Class, doc string) *Prim {
	return &Prim{Name: name, Arity: 2, Doc: doc,
		Class: class, Fails: MayFail, Storage: Shared, Linear: []int{1},
		Type: func(args []Type, _ any) (Type, error) {
			if !Identical(args[0], TBool) {
				return nil, fmt.Errorf("%s: the condition has type %s; want bool", name, args[0])
			}
			return args[1], nil
		},
		Eval: func(s *Site) (Impl, error) {
			msg, _ := s.Aux.(string)
			return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				if !args[0].AsBool() {
					return args[1], fmt.Errorf("%s", msg)
				}
				return args[1], nil
			}, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			if i != 1 {
				return nil
			}
			return ybar
		}),
	}
}

// IsLibraryPos reports whether pos is in a standard-library module
// (std/...), whose errors SPEC §11 reports at the user's call.
func IsLibraryPos(pos Pos) bool { return strings.HasPrefix(pos.File, "std/") }

// GuardsAt gives the asserts of e that sit in library code the position
// call, when call is in the user's program: e is a library def's body
// being inlined at call, and an argument check failing in it is the
// caller's error (SPEC §11). Inlined into library code, the asserts keep
// their positions until that code is inlined into the user's.
func GuardsAt(e Expr, call Pos) {
	if IsLibraryPos(call) || !call.IsValid() {
		return
	}
	Walk(e, func(x Expr, enter bool) {
		if pc, ok := x.(*PrimCall); ok && enter && pc.Op == PrimAssert && IsLibraryPos(pc.P) {
			pc.P = call
		}
	}, nil)
}
