package ir_test

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestDeclarationsComplete: every primitive declares, in its one
// declaration, who may use it, when it can fail, where its result lives
// and how it is evaluated, and its linearity is consistent. A field left
// out is an error here rather than a conservative guess somewhere else.
func TestDeclarationsComplete(t *testing.T) {
	for _, p := range ir.Prims() {
		if p.Class == 0 {
			t.Errorf("%s: no Class (Builtin, Core, Internal or SeriesClass)", p.Name)
		}
		if p.Fails == 0 {
			t.Errorf("%s: no Fails (NeverFails, FailsOnShapes, FailsOnShapesOrInt or MayFail)", p.Name)
		}
		if p.Storage == 0 {
			t.Errorf("%s: no Storage (Fresh, Shared or InPlace)", p.Name)
		}
		if p.Type == nil {
			t.Errorf("%s: no type rule", p.Name)
		}
		if p.Eval == nil && p.AD == ir.NotAD {
			t.Errorf("%s: no evaluator", p.Name)
		}
		if p.AD != ir.NotAD && p.Class != ir.Builtin {
			t.Errorf("%s: an AD operator that programs cannot name", p.Name)
		}
		for _, i := range p.Linear {
			if i < 0 || p.Arity >= 0 && i >= p.Arity {
				t.Errorf("%s: linear in argument %d of %d", p.Name, i, p.Arity)
			}
		}
		if p.LinearAll && len(p.Linear) > 0 {
			t.Errorf("%s: both Linear and LinearAll", p.Name)
		}
		if p.Bilinear && (p.Arity != 2 || p.IsLinear()) {
			t.Errorf("%s: bilinear needs exactly two arguments and no Linear", p.Name)
		}
		if (p.IsLinear() || p.Bilinear) && p.JVP == nil {
			t.Errorf("%s: linear but Register derived no JVP", p.Name)
		}
		if (p.IsLinear() || p.Bilinear) && p.NoDerivative {
			t.Errorf("%s: linear and NoDerivative", p.Name)
		}
		if s := p.Series; s != nil && s.Class != ir.SeriesClass {
			t.Errorf("%s: its Series %s is not a series primitive", p.Name, s.Name)
		}
	}
}

// TestBuiltinNames pins the names a program may call (SPEC §5, §6):
// exactly the primitives of class Builtin.
func TestBuiltinNames(t *testing.T) {
	want := map[string]bool{}
	for _, n := range []string{
		"exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "atan2",
		"abs", "sign", "floor", "ceil", "round", "min", "max", "pow", "log1p", "expm1", "sigmoid", "softplus",
		"relu", "erf", "f64", "i64",
		"len", "iota", "zeros", "ones", "fill", "map", "reduce", "scan", "fold", "zip", "unzip", "sum", "prod",
		"maximum", "minimum", "argmax", "argmin", "mean", "dot", "norm", "outer", "transpose", "flatten",
		"reshape", "concat", "reverse", "take", "drop", "gather", "update", "softmax", "logsumexp", "build",
		"jvp", "vjp", "grad", "value_and_grad", "jacfwd", "jacrev", "hessian", "hvp", "taylor", "jet",
		"stop_gradient", "assert", "linsolve", "progress", "ode_dopri5",
	} {
		want[n] = true
	}
	for _, p := range ir.Prims() {
		if got := p.Class == ir.Builtin; got != want[p.Name] {
			t.Errorf("%s: builtin = %v, want %v", p.Name, got, want[p.Name])
		}
		delete(want, p.Name)
	}
	for n := range want {
		t.Errorf("builtin %s is not declared", n)
	}
}
