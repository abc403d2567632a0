package ir

import (
	"errors"
	"strings"
	"testing"
)

func at(line int) Pos { return Pos{File: "t.nab", Line: line, Col: 1} }

// def1 is def f(x: f64): result = body(x), declared at line 1.
func def1(result Type, body func(x *Var) Expr) *Def {
	x := NewVar("x", TF64, at(1))
	return &Def{Name: "f", Params: []*Var{x}, HasParams: true, Result: result, Body: body(x), P: at(1)}
}

func TestValidateGood(t *testing.T) {
	var b Builder
	P := b.Prim
	vec := ArrayOf(SymDim("n"), TF64)
	defs := []*Def{
		def1(TF64, func(x *Var) Expr { return x }),
		def1(TF64, func(x *Var) Expr {
			// The same name bound twice, by different *Vars, is fine.
			return b.Let("x", P(PrimMul, x, x), func(y *Var) Expr {
				return b.Let("x", P(PrimAdd, y, x), func(z *Var) Expr { return z })
			})
		}),
		b.SizedDef("g", []string{"a", "k"}, []Type{vec, TI64}, func(ps, sz []*Var) Expr {
			a, k := ps[0], ps[1]
			return b.Tuple(
				b.For("s", b.F64(0), "i", P(PrimMin, k, sz[0]), func(s, i *Var) Expr {
					return P(PrimAdd, s, P(PrimIndex, a, i))
				}),
				b.While("s", b.I64(1), func(s *Var) Expr { return P(PrimLt, s, k) }, func(s *Var) Expr {
					return P(PrimMul, s, b.I64(2))
				}),
				P(PrimMap, b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr {
					return b.If(P(PrimGt, v[0], b.F64(0)), v[0], P(PrimNeg, v[0]))
				}), a),
				b.PrimAux(PrimDim, 0, a),
				b.PrimAux(PrimZeros, SymDim("n"), sz[0]),
			)
		}),
		// A dimension named by an i64 parameter.
		b.SizedDef("p", []string{"n", "a"}, []Type{TI64, ArrayOf(SymDim("n"), vec)}, func(ps, sz []*Var) Expr {
			return b.Tuple(P(PrimAdd, ps[0], sz[0]), b.PrimAux(PrimIota, SymDim("n"), ps[0]), P(PrimIndex, ps[1], b.I64(0)))
		}),
	}
	// Dimensions that are not both known compare Equal.
	a := NewVar("a", ArrayOf(SymDim("n"), TF64), Pos{})
	defs = append(defs, &Def{Name: "h", Params: []*Var{a}, HasParams: true, Result: ArrayOf(ConstDim(3), TF64), Body: a})
	for _, d := range defs {
		if err := ValidateDef(d); err != nil {
			t.Errorf("%s:\n%s\nValidateDef: %v", d.Name, PrintDef(d), err)
		}
	}

	f := def1(TF64, func(x *Var) Expr { return P(PrimSin, x) })
	g := &Def{Name: "g", HasParams: true, Result: TF64, Attrs: []Attr{{Name: "jvp", Fn: "f"}}}
	y := NewVar("y", TF64, Pos{})
	g.Params = []*Var{y}
	g.Body = b.Call(b.Global(f), y)
	gv := &Def{Name: "gv", Body: P(PrimGrad, b.Global(f))}
	prog := NewProgram([]*Def{f, g, gv})
	if err := Validate(prog); err != nil {
		t.Errorf("Validate:\n%s\n%v", Print(prog), err)
	}
}

func TestValidateBad(t *testing.T) {
	var b Builder
	P := b.Prim
	fn1 := &Func{Params: []Type{TF64}, Result: TF64}
	tests := []struct {
		name string
		def  func() *Def
		pos  Pos
		msg  string
	}{
		{"unbound", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &PrimCall{Op: PrimNeg, Args: []Expr{NewVar("y", TF64, at(9))}, T: TF64, P: at(2)}
			})
		}, at(2), "variable y is not bound"},
		{"out-of-scope", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				z := NewVar("z", TF64, at(2))
				inner := &Let{Var: z, Value: x, Body: z, P: at(2)}
				y := NewVar("y", TF64, at(3))
				return &Let{Var: y, Value: inner, Body: &PrimCall{Op: PrimAdd, Args: []Expr{y, z}, T: TF64, P: at(4)}, P: at(3)}
			})
		}, at(4), "variable z is used outside the scope of its binding at t.nab:2:1"},
		{"bound-twice-sequential", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				y := NewVar("y", TF64, Pos{})
				first := &Let{Var: y, Value: x, Body: y, P: at(2)}
				return &Let{Var: y, Value: first, Body: y, P: at(3)}
			})
		}, at(3), "variable y is bound twice (first at t.nab:2:1)"},
		{"bound-twice-lambda", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				v := NewVar("v", TF64, Pos{})
				inner := &Lambda{Params: []*Var{v}, Body: v, P: at(3)}
				outer := &Lambda{Params: []*Var{v}, Body: &Call{Fn: inner, Args: []Expr{v}, T: TF64, P: at(2)}, P: at(2)}
				return &Call{Fn: outer, Args: []Expr{x}, T: TF64, P: at(2)}
			})
		}, at(3), "variable v is bound twice"},
		{"param-twice", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			d.Params = append(d.Params, d.Params[0])
			return d
		}, at(1), "variable x is bound twice"},
		{"let-type", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				y := NewVar("y", TI64, at(3))
				return &Let{Var: y, Value: x, Body: x, P: at(2)}
			})
		}, at(2), "let y: i64, but the value has type f64"},
		{"prim-arity", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &PrimCall{Op: PrimAdd, Args: []Expr{x}, T: TF64, P: at(2)} })
		}, at(2), "add takes 2 arguments, got 1"},
		{"prim-type-rule", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &PrimCall{Op: PrimAdd, Args: []Expr{x, b.Bool(true)}, T: TF64, P: at(2)}
			})
		}, at(2), "add: '+': operand has type bool"},
		{"prim-recorded-type", func() *Def {
			return def1(TI64, func(x *Var) Expr { return &PrimCall{Op: PrimAdd, Args: []Expr{x, x}, T: TI64, P: at(2)} })
		}, at(2), "add has type i64, but its type rule gives f64"},
		{"prim-aux", func() *Def {
			return def1(TI64, func(x *Var) Expr {
				return &PrimCall{Op: PrimDim, Args: []Expr{x}, Aux: 0, T: TI64, P: at(2)}
			})
		}, at(2), "dim[0]: dim: f64 has no axis 0"},
		{"prim-nil-op", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &PrimCall{Args: []Expr{x}, T: TF64, P: at(2)} })
		}, at(2), "nil primitive"},
		{"call-not-func", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &Call{Fn: x, Args: []Expr{x}, T: TF64, P: at(2)} })
		}, at(2), "calling a value of type f64"},
		{"call-arity", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &Call{Fn: &Global{Name: "sin1", T: fn1}, Args: []Expr{x, x}, T: TF64, P: at(2)}
			})
		}, at(2), "with 2 arguments"},
		{"call-arg", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &Call{Fn: &Global{Name: "sin1", T: fn1}, Args: []Expr{b.I64(1)}, T: TF64, P: at(2)}
			})
		}, at(2), "call argument 1 has type i64"},
		{"call-result", func() *Def {
			return def1(TBool, func(x *Var) Expr {
				return &Call{Fn: &Global{Name: "sin1", T: fn1}, Args: []Expr{x}, T: TBool, P: at(2)}
			})
		}, at(2), "call has type bool, but the function of type f64 -> f64 returns f64"},
		{"if-cond", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &If{Cond: x, Then: x, Else: x, P: at(2)} })
		}, at(2), "if condition has type f64; want bool"},
		{"if-branches", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &If{Cond: b.Bool(true), Then: x, Else: b.I64(0), P: at(2)} })
		}, at(2), "if branches have types f64 and i64"},
		{"if-array-branches", func() *Def {
			return def1(ArrayOf(ConstDim(2), TF64), func(x *Var) Expr {
				return &If{Cond: b.Bool(true), Then: P(PrimArray, x, x), Else: P(PrimArray, x, x, x), P: at(2)}
			})
		}, at(2), "if branches have types [2]f64 and [3]f64"},
		{"loop-init", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: b.I64(0), Index: NewVar("i", TI64, Pos{}), Count: b.I64(3), Body: s, P: at(2)}
			})
		}, at(2), "loop state s: f64, but the initial value has type i64"},
		{"loop-body", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Cond: b.Bool(false), Body: b.Bool(true), P: at(2)}
			})
		}, at(2), "loop body has type bool; the state s has type f64"},
		{"loop-count", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Index: NewVar("i", TI64, Pos{}), Count: x, Body: s, P: at(2)}
			})
		}, at(2), "loop count has type f64; want i64"},
		{"loop-cond", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Cond: s, Body: s, P: at(2)}
			})
		}, at(2), "loop condition has type f64; want bool"},
		{"loop-both", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Index: NewVar("i", TI64, Pos{}), Count: b.I64(2), Cond: b.Bool(true), Body: s, P: at(2)}
			})
		}, at(2), "both a for part"},
		{"loop-neither", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Body: s, P: at(2)}
			})
		}, at(2), "neither a for part"},
		{"loop-no-index", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Count: b.I64(2), Body: s, P: at(2)}
			})
		}, at(2), "has a count but no index"},
		{"loop-index-type", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: x, Index: NewVar("i", TF64, Pos{}), Count: b.I64(2), Body: s, P: at(2)}
			})
		}, at(2), "loop index i has type f64; want i64"},
		{"loop-state-in-init", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s := NewVar("s", TF64, Pos{})
				return &Loop{State: s, Init: s, Index: NewVar("i", TI64, Pos{}), Count: b.I64(2), Body: s, P: at(2)}
			})
		}, at(2), "variable s is not bound"},
		{"loop-index-in-count", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				s, i := NewVar("s", TF64, Pos{}), NewVar("i", TI64, Pos{})
				return &Loop{State: s, Init: x, Index: i, Count: i, Body: s, P: at(2)}
			})
		}, at(2), "variable i is not bound"},
		{"proj-range", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &Proj{X: b.Tuple(x, x), Index: 2, P: at(2)}
			})
		}, at(2), "field .2 of a value of type (f64, f64) is out of range"},
		{"proj-not-tuple", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &Proj{X: x, Index: 0, P: at(2)} })
		}, at(2), "field .0 of a value of type f64, which is not a tuple"},
		{"result", func() *Def {
			return def1(TI64, func(x *Var) Expr { return x })
		}, at(1), "result type i64, but the body has type f64"},
		{"nil-result", func() *Def {
			return def1(nil, func(x *Var) Expr { return x })
		}, at(1), "result type is nil"},
		{"nil-body", func() *Def {
			return def1(TF64, func(x *Var) Expr { return nil })
		}, at(1), "the def's body is missing"},
		{"nil-let-body", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &Let{Var: NewVar("y", TF64, Pos{}), Value: x, P: at(2)}
			})
		}, at(2), "let body is missing"},
		{"nil-prim-arg", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &PrimCall{Op: PrimAdd, Args: []Expr{x, nil}, T: TF64, P: at(2)}
			})
		}, at(2), "primitive argument 2 is missing"},
		{"nil-typed", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				return &If{Cond: b.Bool(true), Then: x, Else: (*Var)(nil), P: at(2)}
			})
		}, at(2), "else branch is missing"},
		{"nil-binder", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &Let{Value: x, Body: x, P: at(2)} })
		}, at(2), "let variable is nil"},
		{"nil-var-type", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				y := NewVar("y", nil, at(3))
				return &Lambda{Params: []*Var{y}, Body: x, P: at(2)}
			})
		}, at(3), "lambda parameter y has type <bad type>"},
		{"bad-const", func() *Def {
			return def1(TF64, func(x *Var) Expr { return &Const{Val: 1, P: at(2)} })
		}, at(2), "constant 1 has Go type int"},
		{"position-inherited", func() *Def {
			return def1(TF64, func(x *Var) Expr {
				bad := &Proj{X: x, Index: 0} // no position: reported at the enclosing Let
				return &Let{Var: NewVar("y", TF64, Pos{}), Value: bad, Body: x, P: at(5)}
			})
		}, at(5), "field .0"},
		{"value-def-with-params", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			d.HasParams = false
			return d
		}, at(1), "a value def has 1 parameters"},
		{"size-var-axis", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			d.SizeVars = []SizeVar{{Var: NewVar("n", TI64, at(1)), Param: 0, Axis: 0}}
			return d
		}, at(1), "size variable n refers to axis 0 of parameter x of type f64"},
		{"size-var-not-param", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			d.SizeVars = []SizeVar{{Var: NewVar("n", TI64, at(1)), Param: -1}}
			return d
		}, at(1), "size variable n has Param < 0 but is not a parameter"},
		{"size-var-check", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			n := NewVar("n", TI64, at(1))
			d.Params = append(d.Params, n)
			d.SizeVars = []SizeVar{{Var: n, Param: -1, Checks: []DimRef{{Param: 0, Axis: 0, P: at(3)}}}}
			return d
		}, at(3), "size variable n refers to axis 0 of parameter x"},
		{"size-var-type", func() *Def {
			d := def1(TF64, func(x *Var) Expr { return x })
			d.Params[0].T = ArrayOf(SymDim("n"), TF64)
			d.Body = &PrimCall{Op: PrimSum, Args: []Expr{d.Params[0]}, T: TF64}
			d.SizeVars = []SizeVar{{Var: NewVar("n", TF64, at(1)), Param: 0, Axis: 0}}
			return d
		}, at(1), "size variable n has type f64; want i64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.def()
			err := ValidateDef(d)
			checkOneError(t, err, tc.pos, tc.msg, PrintDef(d))
		})
	}
}

func checkOneError(t *testing.T, err error, pos Pos, msg, ir string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q at %s in\n%s", msg, pos, ir)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not an ErrorList", err)
	}
	if len(list) != 1 {
		t.Errorf("%d errors, want 1:\n%v\nin\n%s", len(list), err, ir)
	}
	for _, e := range list {
		if e.Pos == pos && strings.Contains(e.Msg, msg) {
			return
		}
	}
	t.Errorf("no error %q at %s; got:\n%v\nin\n%s", msg, pos, err, ir)
}

func TestValidateProgram(t *testing.T) {
	var b Builder
	f := def1(TF64, func(x *Var) Expr { return b.Prim(PrimSin, x) })
	call := func(name string, ft Type) *Def {
		y := NewVar("y", TF64, Pos{})
		var body Expr = &Call{Fn: &Global{Name: name, T: ft, P: at(7)}, Args: []Expr{y}, T: TF64, P: at(6)}
		return &Def{Name: "g", Params: []*Var{y}, HasParams: true, Result: TF64, Body: body, P: at(6)}
	}
	fn := &Func{Params: []Type{TF64}, Result: TF64}

	// Unknown global: an error for Validate, not for ValidateDef.
	g := call("nope", fn)
	if err := ValidateDef(g); err != nil {
		t.Errorf("ValidateDef checks globals: %v", err)
	}
	checkOneError(t, Validate(NewProgram([]*Def{f, g})), at(7), "global nope is not a def of the program", "")

	// Global with the wrong type.
	g = call("f", &Func{Params: []Type{TF64}, Result: TF64})
	g.Body.(*Call).Fn.(*Global).T = &Func{Params: []Type{TI64}, Result: TF64}
	g.Body.(*Call).Args[0] = b.I64(1)
	checkOneError(t, Validate(NewProgram([]*Def{f, g})), at(7), "global f has type i64 -> f64, but the def has type f64 -> f64", "")

	// Duplicate def names.
	f2 := def1(TF64, func(x *Var) Expr { return x })
	f2.P = at(9)
	checkOneError(t, Validate(NewProgram([]*Def{f, f2})), at(1), "def f: defined twice", "")

	// Attribute naming a missing def.
	h := def1(TF64, func(x *Var) Expr { return x })
	h.Name = "h"
	h.Attrs = []Attr{{Name: "vjp", Fn: "h_vjp", P: at(8)}}
	checkOneError(t, Validate(NewProgram([]*Def{h})), at(8), "@vjp names h_vjp, which is not a def of the program", "")

	// A def added without Program.Add is not indexed.
	p := NewProgram([]*Def{f})
	p.Defs = append(p.Defs, call("f", fn))
	if err := Validate(p); err == nil {
		t.Errorf("unindexed def accepted")
	}
}

func TestValidateErrorText(t *testing.T) {
	d := def1(TI64, func(x *Var) Expr { return x })
	err := ValidateDef(d)
	want := "t.nab:1:1: def f: result type i64, but the body has type f64"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
