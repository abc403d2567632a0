package ir

import "fmt"

// AD operators (SPEC §6). They type-check here; the ad package expands
// them into ordinary IR before a program runs. A function of several
// parameters is differentiated with respect to all of them as one tuple.

// FuncInput is the input type A of a function used by an AD operator: its
// only parameter, or the tuple of its parameters.
func FuncInput(f *Func) Type {
	if len(f.Params) == 1 {
		return f.Params[0]
	}
	return TupleOf(f.Params...)
}

// IsF64Tensor reports whether t is f64 or a (nested) array of f64.
func IsF64Tensor(t Type) bool {
	k, ok := Leaf(t)
	return ok && k == F64
}

func adFunc(name string, t Type) (*Func, error) {
	f, ok := t.(*Func)
	if !ok {
		return nil, fmt.Errorf("%s: argument has type %s; want a function", name, t)
	}
	if !IsDifferentiable(FuncInput(f)) || !IsDifferentiable(f.Result) {
		return nil, fmt.Errorf("%s: cannot differentiate a function of type %s", name, f)
	}
	return f, nil
}

func sameParams(f *Func, result Type) *Func {
	return &Func{Params: f.Params, Result: result}
}

// hintFuncFromArg types a lambda argument from the point it is applied at.
func hintFuncFromArg(j int) func(args []Type, i int) Type {
	return func(args []Type, i int) Type {
		if i == 0 && j < len(args) && args[j] != nil {
			return &Func{Params: []Type{args[j]}}
		}
		if (i == 1 || i == 2) && args[0] != nil {
			if f, ok := args[0].(*Func); ok {
				return FuncInput(f)
			}
		}
		return nil
	}
}

func needInput(name string, f *Func, t Type, what string) error {
	if !Equal(FuncInput(f), t) {
		return fmt.Errorf("%s: %s has type %s; the function takes %s", name, what, t, FuncInput(f))
	}
	return nil
}

// JacobianType is the type of the Jacobian of a function from in to out
// (SPEC §6, as in JAX): for f64 tensors, the output's shape followed by
// the input's ([m]f64 from [p][q]f64 gives [m][p][q]f64); a tuple output
// gives the tuple of the Jacobians of its fields, and for a tensor output
// a tuple input the tuple of the Jacobians with respect to each field, so
// that for both the output's structure is outermost.
func JacobianType(out, in Type) (Type, error) {
	if t, ok := out.(*Tuple); ok {
		return jacobianTuple(t, func(o Type) (Type, error) { return JacobianType(o, in) })
	}
	if !IsF64Tensor(out) {
		return nil, fmt.Errorf("the result has a part of type %s; want f64, arrays of f64 and tuples of them", out)
	}
	if t, ok := in.(*Tuple); ok {
		return jacobianTuple(t, func(x Type) (Type, error) { return JacobianType(out, x) })
	}
	if !IsF64Tensor(in) {
		return nil, fmt.Errorf("the input has a part of type %s; want f64, arrays of f64 and tuples of them", in)
	}
	var wrap func(t Type) Type
	wrap = func(t Type) Type {
		if a, ok := t.(*Array); ok {
			return ArrayOf(a.Dim, wrap(a.Elem))
		}
		return in
	}
	return wrap(out), nil
}

// jacobianTuple is the tuple of the Jacobians for each field of t.
func jacobianTuple(t *Tuple, field func(Type) (Type, error)) (Type, error) {
	elems := make([]Type, len(t.Elems))
	for i, e := range t.Elems {
		j, err := field(e)
		if err != nil {
			return nil, err
		}
		elems[i] = j
	}
	return TupleOf(elems...), nil
}

func adPrim(p *Prim) *Prim {
	p.AD = ADOperator
	p.Class, p.Fails, p.Storage = Builtin, MayFail, Shared
	return Register(p)
}

var (
	PrimJVP = adPrim(&Prim{Name: "jvp", Arity: 3, Doc: "jvp(f, x, dx) = (f(x), J·dx): forward mode",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("jvp", args[0])
			if err != nil {
				return nil, err
			}
			if err := needInput("jvp", f, args[1], "the point"); err != nil {
				return nil, err
			}
			if err := needInput("jvp", f, args[2], "the tangent"); err != nil {
				return nil, err
			}
			return TupleOf(f.Result, f.Result), nil
		},
		Hint: hintFuncFromArg(1)})
	PrimVJP = adPrim(&Prim{Name: "vjp", Arity: 3, Doc: "vjp(f, x, ybar) = (f(x), Jᵀ·ybar): reverse mode",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("vjp", args[0])
			if err != nil {
				return nil, err
			}
			if err := needInput("vjp", f, args[1], "the point"); err != nil {
				return nil, err
			}
			if !Equal(f.Result, args[2]) {
				return nil, fmt.Errorf("vjp: cotangent has type %s; the function returns %s", args[2], f.Result)
			}
			return TupleOf(f.Result, FuncInput(f)), nil
		},
		Hint: func(args []Type, i int) Type {
			if i == 0 && args[1] != nil {
				return &Func{Params: []Type{args[1]}}
			}
			if i == 2 && args[0] != nil {
				if f, ok := args[0].(*Func); ok {
					return f.Result
				}
			}
			return nil
		}})
	PrimGrad = adPrim(&Prim{Name: "grad", Arity: 1, Doc: "grad(f): the gradient of a scalar function, by reverse mode",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("grad", args[0])
			if err != nil {
				return nil, err
			}
			if !Identical(f.Result, TF64) {
				return nil, fmt.Errorf("grad: the function returns %s; want f64 (use vjp or jacrev otherwise)", f.Result)
			}
			return sameParams(f, FuncInput(f)), nil
		}})
	PrimValueAndGrad = adPrim(&Prim{Name: "value_and_grad", Arity: 1, Doc: "value_and_grad(f): (f(x), grad(f)(x))",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("value_and_grad", args[0])
			if err != nil {
				return nil, err
			}
			if !Identical(f.Result, TF64) {
				return nil, fmt.Errorf("value_and_grad: the function returns %s; want f64", f.Result)
			}
			return sameParams(f, TupleOf(TF64, FuncInput(f))), nil
		}})
	PrimJacfwd = adPrim(&Prim{Name: "jacfwd", Arity: 1, Doc: "jacfwd(f): the Jacobian by forward mode, one column per input",
		Type: jacType("jacfwd")})
	PrimJacrev = adPrim(&Prim{Name: "jacrev", Arity: 1, Doc: "jacrev(f): the Jacobian by reverse mode, one row per output",
		Type: jacType("jacrev")})
	PrimHessian = adPrim(&Prim{Name: "hessian", Arity: 1, Doc: "hessian(f): the Hessian of a scalar function, forward over reverse",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("hessian", args[0])
			if err != nil {
				return nil, err
			}
			if !Identical(f.Result, TF64) {
				return nil, fmt.Errorf("hessian: needs a function returning f64, got %s", f)
			}
			in := FuncInput(f)
			if _, err := JacobianType(TF64, in); err != nil {
				return nil, fmt.Errorf("hessian: %v", err)
			}
			h, err := JacobianType(in, in)
			if err != nil {
				return nil, fmt.Errorf("hessian: %v", err)
			}
			return sameParams(f, h), nil
		}})
	PrimHVP = adPrim(&Prim{Name: "hvp", Arity: 3, Doc: "hvp(f, x, v): the Hessian of scalar f at x times v",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("hvp", args[0])
			if err != nil {
				return nil, err
			}
			if !Identical(f.Result, TF64) {
				return nil, fmt.Errorf("hvp: the function returns %s; want f64", f.Result)
			}
			if err := needInput("hvp", f, args[1], "the point"); err != nil {
				return nil, err
			}
			if err := needInput("hvp", f, args[2], "the direction"); err != nil {
				return nil, err
			}
			return FuncInput(f), nil
		},
		Hint: hintFuncFromArg(1)})
	// PrimTaylor has the order k as Aux (an int64 known at compile time).
	PrimTaylor = adPrim(&Prim{Name: "taylor", Arity: 4, Doc: "taylor(f, x, v, k): the k+1 Taylor coefficients of f(x + t·v)",
		Type: func(args []Type, aux any) (Type, error) {
			f, err := adFunc("taylor", args[0])
			if err != nil {
				return nil, err
			}
			if err := needInput("taylor", f, args[1], "the point"); err != nil {
				return nil, err
			}
			if err := needInput("taylor", f, args[2], "the direction"); err != nil {
				return nil, err
			}
			if err := needKind("taylor", 3, args[3], I64); err != nil {
				return nil, err
			}
			k, ok := aux.(int64)
			if !ok {
				return nil, fmt.Errorf("taylor: the order must be an integer constant")
			}
			return ArrayOf(ConstDim(k+1), f.Result), nil
		},
		Hint: hintFuncFromArg(1)})
	PrimJet = adPrim(&Prim{Name: "jet", Arity: 3, Doc: "jet(f, x, vs): the normalized Taylor coefficients of f along x + Σ vs[j-1]·tʲ",
		Type: func(args []Type, _ any) (Type, error) {
			f, err := adFunc("jet", args[0])
			if err != nil {
				return nil, err
			}
			if err := needInput("jet", f, args[1], "the point"); err != nil {
				return nil, err
			}
			vs, ok := args[2].(*Array)
			if !ok || !Equal(vs.Elem, FuncInput(f)) {
				return nil, fmt.Errorf("jet: series has type %s; want [k]%s", args[2], FuncInput(f))
			}
			d := Unknown
			if vs.Dim.Known() {
				d = ConstDim(vs.Dim.N + 1)
			}
			return ArrayOf(d, f.Result), nil
		},
		Hint: func(args []Type, i int) Type {
			if i == 0 && args[1] != nil {
				return &Func{Params: []Type{args[1]}}
			}
			return nil
		}})
	PrimStopGradient = Register(&Prim{Name: "stop_gradient", Arity: 1, NoDerivative: true, Doc: "stop_gradient(x): x, with derivative zero",
		Class: Builtin, Fails: MayFail, Storage: Shared, Eval: evalStopGradient,
		Type: func(args []Type, _ any) (Type, error) {
			if _, isFn := args[0].(*Func); isFn {
				return nil, fmt.Errorf("stop_gradient: argument is a function")
			}
			return args[0], nil
		},
		Hint: func(args []Type, i int) Type { return nil }})
)

func jacType(name string) func(args []Type, _ any) (Type, error) {
	return func(args []Type, _ any) (Type, error) {
		f, err := adFunc(name, args[0])
		if err != nil {
			return nil, err
		}
		j, err := JacobianType(f.Result, FuncInput(f))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return sameParams(f, j), nil
	}
}
