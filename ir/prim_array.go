package ir

import (
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// Array primitives (SPEC §5). Function-valued arguments (map's f, reduce's
// op, ...) arrive as function values: lambdas, defs or builtins eta-expanded
// by the checker. The evaluators are in eval_array.go.

func arrayPrim(p *Prim) *Prim { return Register(p) }

func elemOf(t Type) (Type, bool) {
	a, ok := t.(*Array)
	if !ok {
		return nil, false
	}
	return a.Elem, true
}

func needArray(name string, i int, t Type) (*Array, error) {
	a, ok := t.(*Array)
	if !ok {
		return nil, fmt.Errorf("%s: argument %d has type %s; want an array", name, i+1, t)
	}
	return a, nil
}

func needKind(name string, i int, t Type, k ScalarKind) error {
	if s, ok := t.(Scalar); !ok || s.Kind != k {
		return fmt.Errorf("%s: argument %d has type %s; want %s", name, i+1, t, Scalar{k})
	}
	return nil
}

func needFunc(name string, i int, t Type, nparams int) (*Func, error) {
	f, ok := t.(*Func)
	if !ok {
		return nil, fmt.Errorf("%s: argument %d has type %s; want a function", name, i+1, t)
	}
	if nparams >= 0 && len(f.Params) != nparams {
		return nil, fmt.Errorf("%s: argument %d takes %d parameter%s; want %d", name, i+1, len(f.Params), plural(len(f.Params)), nparams)
	}
	return f, nil
}

// numericArray accepts an array (of any rank) of f64 or i64.
func numericArray(name string, t Type) (ScalarKind, error) {
	if _, ok := t.(*Array); ok {
		if k, ok := Leaf(t); ok && (k == F64 || k == I64) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%s: argument has type %s; want an array of f64 or i64", name, t)
}

func f64Vector(name string, i int, t Type) (*Array, error) {
	a, ok := t.(*Array)
	if !ok || !Identical(a.Elem, TF64) {
		return nil, fmt.Errorf("%s: argument %d has type %s; want [n]f64", name, i+1, t)
	}
	return a, nil
}

func sameDim(name string, a, b Dim) error {
	if a.DiffersStatically(b) {
		return fmt.Errorf("%s: sizes %s and %s differ", name, a, b)
	}
	return nil
}

// hintElemOf expects, for argument i, the element type of argument j.
func hintElemOf(j int) func(args []Type, i int) Type {
	return func(args []Type, i int) Type {
		if j < len(args) && args[j] != nil {
			if e, ok := elemOf(args[j]); ok {
				return e
			}
		}
		return nil
	}
}

var (
	PrimLen = arrayPrim(&Prim{Name: "len", Arity: 1, Doc: "len(a): the outer size of a",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalLen,
		Type: func(args []Type, _ any) (Type, error) {
			if _, err := needArray("len", 0, args[0]); err != nil {
				return nil, err
			}
			return TI64, nil
		},
		NoDerivative: true})
	// PrimDim is dimension Aux (an int) of an array: the core form of a size
	// variable's value.
	PrimDim = arrayPrim(&Prim{Name: "dim", Arity: 1, Doc: "dim(a) with Aux = axis: the size of that dimension",
		Class: Core, Fails: NeverFails, Storage: Fresh, Eval: evalDim,
		Type: func(args []Type, aux any) (Type, error) {
			axis, _ := aux.(int)
			if Rank(args[0]) <= axis {
				return nil, fmt.Errorf("dim: %s has no axis %d", args[0], axis)
			}
			return TI64, nil
		},
		NoDerivative: true})
	PrimIota = arrayPrim(&Prim{Name: "iota", Arity: 1, Doc: "iota(n) = [0, 1, ..., n-1]",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalIota,
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("iota", 0, args[0], I64); err != nil {
				return nil, err
			}
			return ArrayOf(dimAux(aux), TI64), nil
		},
		NoDerivative: true})
	PrimZeros = arrayPrim(&Prim{Name: "zeros", Arity: 1, Doc: "zeros(n): n f64 zeros",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalConstF64(0),
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("zeros", 0, args[0], I64); err != nil {
				return nil, err
			}
			return ArrayOf(dimAux(aux), TF64), nil
		},
		NoDerivative: true})
	PrimOnes = arrayPrim(&Prim{Name: "ones", Arity: 1, Doc: "ones(n): n f64 ones",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalConstF64(1),
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("ones", 0, args[0], I64); err != nil {
				return nil, err
			}
			return ArrayOf(dimAux(aux), TF64), nil
		},
		NoDerivative: true})
	PrimFill = arrayPrim(&Prim{Name: "fill", Arity: 2, Doc: "fill(n, v): n copies of v",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Linear: []int{1}, Eval: evalFill,
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("fill", 0, args[0], I64); err != nil {
				return nil, err
			}
			if _, isFn := args[1].(*Func); isFn {
				return nil, fmt.Errorf("fill: cannot make an array of functions")
			}
			return ArrayOf(dimAux(aux), args[1]), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.sumRows(ybar, args[1]) })})
	// PrimBuild is the core form of a comprehension: build(n, fn(i) => e).
	PrimBuild = arrayPrim(&Prim{Name: "build", Arity: 2, Doc: "build(n, f) = [f(0), ..., f(n-1)]",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalBuild,
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("build", 0, args[0], I64); err != nil {
				return nil, err
			}
			f, err := needFunc("build", 1, args[1], 1)
			if err != nil {
				return nil, err
			}
			if err := needKind("build", 1, f.Params[0], I64); err != nil {
				return nil, err
			}
			return ArrayOf(dimAux(aux), f.Result), nil
		},
		Hint: func(args []Type, i int) Type {
			if i == 1 {
				return &Func{Params: []Type{TI64}}
			}
			return nil
		}})
	// PrimArray is an array literal [a, b, c].
	PrimArray = arrayPrim(&Prim{Name: "array", Arity: -1, MinArgs: 1, Doc: "array(a, b, ...) = [a, b, ...]",
		Class: Core, Fails: MayFail, Storage: Fresh, LinearAll: true, Eval: evalArrayLit,
		Type: func(args []Type, _ any) (Type, error) {
			for i, a := range args {
				if _, isFn := a.(*Func); isFn {
					return nil, fmt.Errorf("array literal: element %d is a function", i+1)
				}
				if !Equal(a, args[0]) {
					return nil, fmt.Errorf("array literal: element %d has type %s, element 1 has type %s", i+1, a, args[0])
				}
			}
			return ArrayOf(ConstDim(int64(len(args))), args[0]), nil
		},
		Hint: func(args []Type, i int) Type {
			for j, a := range args {
				if j != i && a != nil {
					return a
				}
			}
			return nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("index", ybar, r.I64(int64(i))) })})
	PrimIndex = arrayPrim(&Prim{Name: "index", Arity: 2, Doc: "index(a, i) = a[i]",
		Class: Core, Fails: MayFail, Storage: Shared, Linear: []int{0}, Eval: evalIndex,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("indexing", 0, args[0])
			if err != nil {
				return nil, fmt.Errorf("cannot index a value of type %s", args[0])
			}
			if err := needKind("index", 1, args[1], I64); err != nil {
				return nil, fmt.Errorf("index has type %s; want i64", args[1])
			}
			return a.Elem, nil
		},
		// The cotangent is one-hot: acc_add_at into a fresh zero.
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.oneHot(args[0], args[1], ybar) })})
	PrimSlice = arrayPrim(&Prim{Name: "slice", Arity: 3, Doc: "slice(a, lo, hi) = a[lo:hi]",
		Class: Core, Fails: MayFail, Storage: Shared, Linear: []int{0}, Eval: evalSlice,
		Type: func(args []Type, aux any) (Type, error) {
			a, err := needArray("slicing", 0, args[0])
			if err != nil {
				return nil, fmt.Errorf("cannot slice a value of type %s", args[0])
			}
			for i := 1; i < 3; i++ {
				if err := needKind("slice", i, args[i], I64); err != nil {
					return nil, fmt.Errorf("slice bound has type %s; want i64", args[i])
				}
			}
			return ArrayOf(dimAux(aux), a.Elem), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("pad_like", ybar, args[1], args[0]) })})
	PrimUpdate = arrayPrim(&Prim{Name: "update", Arity: 3, Doc: "update(a, i, v): a copy of a with a[i] = v",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Linear: []int{0, 2}, Eval: evalUpdate,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("update", 0, args[0])
			if err != nil {
				return nil, err
			}
			if err := needKind("update", 1, args[1], I64); err != nil {
				return nil, err
			}
			if !Equal(a.Elem, args[2]) {
				return nil, fmt.Errorf("update: value has type %s; want %s", args[2], a.Elem)
			}
			return a, nil
		},
		Hint: func(args []Type, i int) Type {
			if i == 2 {
				return hintElemOf(0)(args, i)
			}
			return nil
		},
		// a gets ybar with row i zeroed (overwritten), v gets row i.
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			if i == 0 {
				return r.op("update", ybar, args[1], r.zerosLike(args[2]))
			}
			return r.op("index", ybar, args[1])
		})})
	PrimGather = arrayPrim(&Prim{Name: "gather", Arity: 2, Doc: "gather(a, idx) = [a[idx[0]], a[idx[1]], ...]",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Linear: []int{0}, Eval: evalGather,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("gather", 0, args[0])
			if err != nil {
				return nil, err
			}
			idx, err := needArray("gather", 1, args[1])
			if err != nil || !Identical(idx.Elem, TI64) {
				return nil, fmt.Errorf("gather: indices have type %s; want [k]i64", args[1])
			}
			return ArrayOf(idx.Dim, a.Elem), nil
		},
		// Scatter-add: a loop of acc_add_at over the indices, repeated ones
		// accumulating.
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.scatterAdd(args[0], args[1], ybar) })})
	PrimMap = arrayPrim(&Prim{Name: "map", Arity: -1, MinArgs: 2, Doc: "map(f, a1, ..., ak) = [f(a1[i], ..., ak[i]) for i]",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalMap,
		Type: func(args []Type, _ any) (Type, error) {
			f, err := needFunc("map", 0, args[0], len(args)-1)
			if err != nil {
				return nil, err
			}
			var d Dim
			for i := 1; i < len(args); i++ {
				a, err := needArray("map", i, args[i])
				if err != nil {
					return nil, err
				}
				if !Equal(f.Params[i-1], a.Elem) {
					return nil, fmt.Errorf("map: function parameter %d has type %s; array elements have type %s", i, f.Params[i-1], a.Elem)
				}
				if i == 1 {
					d = a.Dim
				} else if err := sameDim("map", d, a.Dim); err != nil {
					return nil, err
				}
			}
			return ArrayOf(d, f.Result), nil
		},
		Hint: func(args []Type, i int) Type {
			if i != 0 {
				return nil
			}
			ps := make([]Type, len(args)-1)
			for j := 1; j < len(args); j++ {
				if args[j] == nil {
					return nil
				}
				e, ok := elemOf(args[j])
				if !ok {
					return nil
				}
				ps[j-1] = e
			}
			return &Func{Params: ps}
		}})
	PrimReduce = arrayPrim(&Prim{Name: "reduce", Arity: 3, Doc: "reduce(op, ne, a): combine a's elements with associative op and neutral element ne",
		Class: Builtin, Fails: MayFail, Storage: Shared, Eval: evalReduce,
		Type: reduceType("reduce", false),
		Hint: reduceHint})
	PrimScan = arrayPrim(&Prim{Name: "scan", Arity: 3, Doc: "scan(op, ne, a): inclusive prefix combination with associative op",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: evalScan,
		Type: reduceType("scan", true),
		Hint: reduceHint})
	PrimFold = arrayPrim(&Prim{Name: "fold", Arity: 3, Doc: "fold(f, init, a): sequential left fold, f(acc, x)",
		Class: Builtin, Fails: MayFail, Storage: Shared, Eval: evalFold,
		Type: func(args []Type, _ any) (Type, error) {
			f, err := needFunc("fold", 0, args[0], 2)
			if err != nil {
				return nil, err
			}
			a, err := needArray("fold", 2, args[2])
			if err != nil {
				return nil, err
			}
			if !Equal(f.Params[0], args[1]) || !Equal(f.Result, args[1]) || !Equal(f.Params[1], a.Elem) {
				return nil, fmt.Errorf("fold: function has type %s; want (%s, %s) -> %s", f, args[1], a.Elem, args[1])
			}
			return args[1], nil
		},
		Hint: func(args []Type, i int) Type {
			switch i {
			case 0:
				if args[1] != nil && args[2] != nil {
					if e, ok := elemOf(args[2]); ok {
						return &Func{Params: []Type{args[1], e}, Result: args[1]}
					}
				}
			}
			return nil
		}})
	PrimZip = arrayPrim(&Prim{Name: "zip", Arity: -1, MinArgs: 2, Doc: "zip(a, b, ...) = [(a[i], b[i], ...) for i]",
		Class: Builtin, Fails: MayFail, Storage: Shared, LinearAll: true, Eval: evalZip,
		Type: func(args []Type, _ any) (Type, error) {
			elems := make([]Type, len(args))
			var d Dim
			for i, t := range args {
				a, err := needArray("zip", i, t)
				if err != nil {
					return nil, err
				}
				if i == 0 {
					d = a.Dim
				} else if err := sameDim("zip", d, a.Dim); err != nil {
					return nil, err
				}
				elems[i] = a.Elem
			}
			return ArrayOf(d, TupleOf(elems...)), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.Proj(r.op("unzip", ybar), i) })})
	PrimUnzip = arrayPrim(&Prim{Name: "unzip", Arity: 1, Doc: "unzip(a) = ([a[i].0 for i], [a[i].1 for i], ...)",
		Class: Builtin, Fails: NeverFails, Storage: Shared, Linear: []int{0}, Eval: evalUnzip,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("unzip", 0, args[0])
			if err != nil {
				return nil, err
			}
			tt, ok := a.Elem.(*Tuple)
			if !ok {
				return nil, fmt.Errorf("unzip: argument has type %s; want an array of tuples", args[0])
			}
			out := make([]Type, len(tt.Elems))
			for i, e := range tt.Elems {
				out[i] = ArrayOf(a.Dim, e)
			}
			return TupleOf(out...), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			cols := make([]Expr, len(y.Type().(*Tuple).Elems))
			for j := range cols {
				cols[j] = r.Proj(ybar, j)
			}
			return r.op("zip", cols...)
		})})
	PrimSum = reductionPrim("sum", "sum of all elements", Prim{
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Linear: []int{0}, Eval: evalReduction("sum", runtime.SumPolled, runtime.SumI64Polled),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.fillLike(ybar, args[0]) })})
	// The derivative of prod multiplies by the product of the other
	// elements, formed from exclusive prefix and suffix products rather
	// than as y/x_i: exact where elements are zero (one zero: only its own
	// partial is non-zero; two or more: all partials are zero).
	PrimProd = reductionPrim("prod", "product of all elements", Prim{
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalReduction("prod", runtime.ProdPolled, runtime.ProdI64Polled),
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr {
			return r.op("dot", r.flat(tans[0]), r.excludingProducts(r.flat(args[0])))
		}),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			return r.asType(r.mul(ybar, r.excludingProducts(r.flat(args[0]))), args[0])
		})})
	// maximum and minimum pass the derivative to the first extreme element
	// (the one argmax and argmin pick, a NaN if there is one): a one-hot
	// cotangent. An empty array's result does not depend on anything.
	PrimMaximum = reductionPrim("maximum", "largest element (-inf for an empty f64 array)", Prim{
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalReduction("maximum", runtime.MaxPolled, runtime.MaxI64Polled),
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr { return r.extremeJVP("argmax", args[0], tans[0]) }),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.extremeVJP("argmax", args[0], ybar) })})
	PrimMinimum = reductionPrim("minimum", "smallest element (+inf for an empty f64 array)", Prim{
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalReduction("minimum", runtime.MinPolled, runtime.MinI64Polled),
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr { return r.extremeJVP("argmin", args[0], tans[0]) }),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.extremeVJP("argmin", args[0], ybar) })})
	PrimArgmax = argPrim("argmax", "index of the first largest element of a vector", evalArg("argmax", runtime.ArgMaxPolled, runtime.ArgMaxI64Polled))
	PrimArgmin = argPrim("argmin", "index of the first smallest element of a vector", evalArg("argmin", runtime.ArgMinPolled, runtime.ArgMinI64Polled))
	PrimMean   = arrayPrim(&Prim{Name: "mean", Arity: 1, Doc: "mean of all elements",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Linear: []int{0}, Eval: evalReduction("mean", runtime.MeanPolled, nil),
		Type: func(args []Type, _ any) (Type, error) {
			if k, err := numericArray("mean", args[0]); err != nil || k != F64 {
				return nil, fmt.Errorf("mean: argument has type %s; want an array of f64", args[0])
			}
			return TF64, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			return r.fillLike(r.div(ybar, r.count(args[0])), args[0])
		})})
	PrimNorm = arrayPrim(&Prim{Name: "norm", Arity: 1, Doc: "Euclidean (Frobenius) norm of all elements",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalReduction("norm", runtime.Norm2Polled, nil),
		Type: func(args []Type, _ any) (Type, error) {
			if k, err := numericArray("norm", args[0]); err != nil || k != F64 {
				return nil, fmt.Errorf("norm: argument has type %s; want an array of f64", args[0])
			}
			return TF64, nil
		},
		// The derivative x/norm(x) is defined as 0 where norm(x) = 0 (the
		// zero subgradient of the kink), never NaN.
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr {
			zero := r.op("eq", y, r.F64(0))
			return r.If(zero, r.F64(0), r.div(r.op("dot", r.flat(args[0]), r.flat(tans[0])), y))
		}),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			zero := r.op("eq", y, r.F64(0))
			return r.If(zero, r.zerosLike(args[0]), r.mul(args[0], r.div(ybar, y)))
		})})
	PrimLogsumexp = arrayPrim(&Prim{Name: "logsumexp", Arity: 1, Doc: "log(sum(exp(a))), computed stably",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalReduction("logsumexp", runtime.LogSumExpPolled, nil),
		Type: func(args []Type, _ any) (Type, error) {
			if k, err := numericArray("logsumexp", args[0]); err != nil || k != F64 {
				return nil, fmt.Errorf("logsumexp: argument has type %s; want an array of f64", args[0])
			}
			return TF64, nil
		},
		// The derivative is softmax(x) = exp(x - y), over all elements.
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr {
			w := r.op("exp", r.sub(args[0], y))
			return r.op("dot", r.flat(w), r.flat(tans[0]))
		}),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			return r.mul(r.op("exp", r.sub(args[0], y)), ybar)
		})})
	PrimSoftmax = arrayPrim(&Prim{Name: "softmax", Arity: 1, Doc: "exp(a - logsumexp(a)) of a vector",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Eval: evalSoftmax,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := f64Vector("softmax", 0, args[0])
			if err != nil {
				return nil, err
			}
			return a, nil
		},
		// J = diag(y) - y yᵀ, symmetric: J v = y·(v - ⟨y, v⟩).
		JVP: jvpRule(func(r rb, args, tans []Expr, y Expr) Expr {
			return r.mul(y, r.sub(tans[0], r.op("dot", y, tans[0])))
		}),
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			return r.mul(y, r.sub(ybar, r.op("dot", y, ybar)))
		})})
	PrimDot = arrayPrim(&Prim{Name: "dot", Arity: 2, Doc: "dot(x, y) = sum(x * y) of two vectors",
		Class: Builtin, Fails: FailsOnShapes, Storage: Fresh, Bilinear: true, Eval: evalDot,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := f64Vector("dot", 0, args[0])
			if err != nil {
				return nil, err
			}
			b, err := f64Vector("dot", 1, args[1])
			if err != nil {
				return nil, err
			}
			if err := sameDim("dot", a.Dim, b.Dim); err != nil {
				return nil, err
			}
			return TF64, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.mul(ybar, args[1-i]) })})
	PrimOuter = arrayPrim(&Prim{Name: "outer", Arity: 2, Doc: "outer(x, y)[i][j] = x[i] * y[j]",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Bilinear: true, Eval: evalOuter,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := f64Vector("outer", 0, args[0])
			if err != nil {
				return nil, err
			}
			b, err := f64Vector("outer", 1, args[1])
			if err != nil {
				return nil, err
			}
			return ArrayOf(a.Dim, ArrayOf(b.Dim, TF64)), nil
		},
		// x̄ = ȳ @ v, v̄ = x @ ȳ (matrix-vector and vector-matrix products).
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			if i == 0 {
				return r.op("matmul", ybar, args[1])
			}
			return r.op("matmul", args[0], ybar)
		})})
	// PrimMatmul is @ in all its forms: matrix-matrix, matrix-vector,
	// vector-matrix and vector-vector (a dot product).
	PrimMatmul = arrayPrim(&Prim{Name: "matmul", Op: "@", Arity: 2, Doc: "a @ b, the matrix product",
		Class: Core, Fails: MayFail, Storage: Fresh, Bilinear: true, Eval: evalMatmul,
		Type: func(args []Type, _ any) (Type, error) {
			ra, rb := Rank(args[0]), Rank(args[1])
			ka, oka := Leaf(args[0])
			kb, okb := Leaf(args[1])
			if !oka || !okb || ka != F64 || kb != F64 || ra < 1 || ra > 2 || rb < 1 || rb > 2 {
				return nil, fmt.Errorf("'@' needs f64 vectors or matrices, got %s and %s", args[0], args[1])
			}
			da, db := Dims(args[0]), Dims(args[1])
			if err := sameDim("'@'", da[ra-1], db[0]); err != nil {
				return nil, fmt.Errorf("'@': inner sizes differ: %s @ %s", args[0], args[1])
			}
			switch {
			case ra == 2 && rb == 2:
				return ArrayOf(da[0], ArrayOf(db[1], TF64)), nil
			case ra == 2:
				return ArrayOf(da[0], TF64), nil
			case rb == 2:
				return ArrayOf(db[1], TF64), nil
			}
			return TF64, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return matmulVJP(r, i, args[0], args[1], ybar) })})
	PrimTranspose = arrayPrim(&Prim{Name: "transpose", Arity: 1, Doc: "transpose of a matrix",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Linear: []int{0}, Eval: evalTranspose,
		Type: func(args []Type, _ any) (Type, error) {
			a, ok := args[0].(*Array)
			if ok {
				if b, ok := a.Elem.(*Array); ok {
					return ArrayOf(b.Dim, ArrayOf(a.Dim, b.Elem)), nil
				}
			}
			return nil, fmt.Errorf("transpose: argument has type %s; want [m][n]T", args[0])
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("transpose", ybar) })})
	PrimFlatten = arrayPrim(&Prim{Name: "flatten", Arity: 1, Doc: "flatten([m][n]T) = [m*n]T, row by row",
		Class: Builtin, Fails: NeverFails, Storage: Shared, Linear: []int{0}, Eval: evalFlatten,
		Type: func(args []Type, _ any) (Type, error) {
			a, ok := args[0].(*Array)
			if ok {
				if b, ok := a.Elem.(*Array); ok {
					d := Unknown
					if a.Dim.Known() && b.Dim.Known() {
						d = ConstDim(a.Dim.N * b.Dim.N)
					}
					return ArrayOf(d, b.Elem), nil
				}
			}
			return nil, fmt.Errorf("flatten: argument has type %s; want [m][n]T", args[0])
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("reshape_like", ybar, args[0]) })})
	PrimReshape = arrayPrim(&Prim{Name: "reshape", Arity: 3, Doc: "reshape(a, m, n): the elements of a as [m][n]",
		Class: Builtin, Fails: MayFail, Storage: Shared, Linear: []int{0}, Eval: evalReshape,
		Type: func(args []Type, aux any) (Type, error) {
			a, err := needArray("reshape", 0, args[0])
			if err != nil {
				return nil, err
			}
			for i := 1; i < 3; i++ {
				if err := needKind("reshape", i, args[i], I64); err != nil {
					return nil, err
				}
			}
			leaf := a.Elem
			for {
				inner, ok := leaf.(*Array)
				if !ok {
					break
				}
				leaf = inner.Elem
			}
			ds, _ := aux.([2]Dim)
			if ds == ([2]Dim{}) {
				ds = [2]Dim{Unknown, Unknown}
			}
			return ArrayOf(ds[0], ArrayOf(ds[1], leaf)), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("reshape_like", ybar, args[0]) })})
	PrimConcat = arrayPrim(&Prim{Name: "concat", Arity: 2, Doc: "concat(a, b): a's elements then b's",
		Class: Builtin, Fails: MayFail, Storage: Fresh, Linear: []int{0, 1}, Eval: evalConcat,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("concat", 0, args[0])
			if err != nil {
				return nil, err
			}
			b, err := needArray("concat", 1, args[1])
			if err != nil {
				return nil, err
			}
			if !Equal(a.Elem, b.Elem) {
				return nil, fmt.Errorf("concat: element types %s and %s differ", a.Elem, b.Elem)
			}
			d := Unknown
			if a.Dim.Known() && b.Dim.Known() {
				d = ConstDim(a.Dim.N + b.Dim.N)
			}
			return ArrayOf(d, a.Elem), nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr {
			n := r.op("len", args[0])
			if i == 0 {
				return r.opAux("take", outerDim(args[0].Type()), ybar, n)
			}
			return r.opAux("drop", outerDim(args[1].Type()), ybar, n)
		})})
	PrimReverse = arrayPrim(&Prim{Name: "reverse", Arity: 1, Doc: "reverse(a): a's elements in reverse order",
		Class: Builtin, Fails: NeverFails, Storage: Fresh, Linear: []int{0}, Eval: evalReverse,
		Type: func(args []Type, _ any) (Type, error) {
			a, err := needArray("reverse", 0, args[0])
			if err != nil {
				return nil, err
			}
			return a, nil
		},
		VJP: vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("reverse", ybar) })})
	PrimTake = arrayPrim(&Prim{Name: "take", Arity: 2, Doc: "take(a, k) = a[:k]",
		Class: Builtin, Fails: MayFail, Storage: Shared, Linear: []int{0}, Eval: evalTake,
		Type: takeDropType("take"),
		VJP:  vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("pad_like", ybar, r.I64(0), args[0]) })})
	PrimDrop = arrayPrim(&Prim{Name: "drop", Arity: 2, Doc: "drop(a, k) = a[k:]",
		Class: Builtin, Fails: MayFail, Storage: Shared, Linear: []int{0}, Eval: evalDrop,
		Type: takeDropType("drop"),
		VJP:  vjpRule(func(r rb, i int, args []Expr, y, ybar Expr) Expr { return r.op("pad_like", ybar, args[1], args[0]) })})
)

func takeDropType(name string) func(args []Type, aux any) (Type, error) {
	return func(args []Type, aux any) (Type, error) {
		a, err := needArray(name, 0, args[0])
		if err != nil {
			return nil, err
		}
		if err := needKind(name, 1, args[1], I64); err != nil {
			return nil, err
		}
		return ArrayOf(dimAux(aux), a.Elem), nil
	}
}

// dimAux reads an optional static result dimension that the checker may
// attach (zeros(n) with n a size variable has type [n]f64).
func dimAux(aux any) Dim {
	if d, ok := aux.(Dim); ok {
		return d
	}
	return Unknown
}

func reduceType(name string, isScan bool) func(args []Type, _ any) (Type, error) {
	return func(args []Type, _ any) (Type, error) {
		f, err := needFunc(name, 0, args[0], 2)
		if err != nil {
			return nil, err
		}
		a, err := needArray(name, 2, args[2])
		if err != nil {
			return nil, err
		}
		t := a.Elem
		if !Equal(args[1], t) || !Equal(f.Params[0], t) || !Equal(f.Params[1], t) || !Equal(f.Result, t) {
			return nil, fmt.Errorf("%s: operator has type %s and neutral element %s; want (%s, %s) -> %s and %s", name, f, args[1], t, t, t, t)
		}
		if isScan {
			return a, nil
		}
		return t, nil
	}
}

func reduceHint(args []Type, i int) Type {
	if args[2] == nil {
		return nil
	}
	e, ok := elemOf(args[2])
	if !ok {
		return nil
	}
	if i == 0 {
		return &Func{Params: []Type{e, e}, Result: e}
	}
	return e
}

// reductionPrim declares a reduction over all elements; rules holds the
// rest of its declaration (class, effects, linearity, evaluator and
// derivative rules).
func reductionPrim(name, doc string, rules Prim) *Prim {
	return arrayPrim(&Prim{Name: name, Arity: 1, Doc: doc, JVP: rules.JVP, VJP: rules.VJP,
		Class: rules.Class, Fails: rules.Fails, Storage: rules.Storage, Linear: rules.Linear, Eval: rules.Eval,
		Type: func(args []Type, _ any) (Type, error) {
			k, err := numericArray(name, args[0])
			if err != nil {
				return nil, err
			}
			return Scalar{k}, nil
		}})
}

func argPrim(name string, doc string, eval func(*Site) (Impl, error)) *Prim {
	return arrayPrim(&Prim{Name: name, Arity: 1, Doc: doc, NoDerivative: true,
		Class: Builtin, Fails: MayFail, Storage: Fresh, Eval: eval,
		Type: func(args []Type, _ any) (Type, error) {
			a, ok := args[0].(*Array)
			if !ok || !(Identical(a.Elem, TF64) || Identical(a.Elem, TI64)) {
				return nil, fmt.Errorf("%s: argument has type %s; want [n]f64 or [n]i64", name, args[0])
			}
			return TI64, nil
		}})
}

// matmulVJP is the cotangent of argument i of a @ b in its four forms.
func matmulVJP(r rb, i int, a, b, ybar Expr) Expr {
	ra, rb2 := Rank(a.Type()), Rank(b.Type())
	switch {
	case ra == 2 && rb2 == 2: // ā = ȳ bᵀ, b̄ = aᵀ ȳ
		if i == 0 {
			return r.op("matmul", ybar, r.op("transpose", b))
		}
		return r.op("matmul", r.op("transpose", a), ybar)
	case ra == 2: // y = a x: ā = ȳ xᵀ, x̄ = ȳ @ a
		if i == 0 {
			return r.op("outer", ybar, b)
		}
		return r.op("matmul", ybar, a)
	case rb2 == 2: // y = x b: x̄ = b @ ȳ, b̄ = x ȳᵀ
		if i == 0 {
			return r.op("matmul", b, ybar)
		}
		return r.op("outer", a, ybar)
	}
	// A dot product: x̄ = ȳ·v, v̄ = ȳ·x.
	if i == 0 {
		return r.mul(ybar, b)
	}
	return r.mul(ybar, a)
}
