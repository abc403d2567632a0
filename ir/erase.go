package ir

// Size variables are scoped by def: [n]f64 in one def and [n]f64 in
// another may be different sizes. Code moved from one def into another
// (inlining, specialization) therefore forgets the sizes its types name:
// they become Unknown, checked at run time where it matters.

// EraseDim returns d, or Unknown when d is a size variable.
func EraseDim(d Dim) Dim {
	if d.Sym != "" {
		return Unknown
	}
	return d
}

func forgetDim(Dim) Dim { return Unknown }

// EraseSizes returns t with every size variable replaced by Unknown.
func EraseSizes(t Type) Type { return mapDims(t, EraseDim) }

// GeneralizeSizes returns t with every size, constant or variable,
// replaced by Unknown: the type of every array of t's rank and kinds.
func GeneralizeSizes(t Type) Type { return mapDims(t, forgetDim) }

func mapDims(t Type, f func(Dim) Dim) Type {
	switch t := t.(type) {
	case *Array:
		return ArrayOf(f(t.Dim), mapDims(t.Elem, f))
	case *Tuple:
		elems := make([]Type, len(t.Elems))
		for i, e := range t.Elems {
			elems[i] = mapDims(e, f)
		}
		return TupleOf(elems...)
	case *Func:
		ps := make([]Type, len(t.Params))
		for i, p := range t.Params {
			ps[i] = mapDims(p, f)
		}
		return &Func{Params: ps, Result: mapDims(t.Result, f)}
	}
	return t
}

// EraseExprSizes erases the size variables in the types of e's nodes, its
// binders and its primitives' static dimensions, in place. e must be a
// fresh copy (Copy) that nothing else shares.
func EraseExprSizes(e Expr) { mapExprDims(e, EraseDim) }

// GeneralizeExprSizes is EraseExprSizes for every size, constant or
// variable.
func GeneralizeExprSizes(e Expr) { mapExprDims(e, forgetDim) }

func mapExprDims(e Expr, f func(Dim) Dim) {
	Walk(e, func(x Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *PrimCall:
			x.T = mapDims(x.T, f)
			switch a := x.Aux.(type) {
			case Dim:
				x.Aux = f(a)
			case [2]Dim:
				x.Aux = [2]Dim{f(a[0]), f(a[1])}
			}
		case *Call:
			x.T = mapDims(x.T, f)
		}
	}, func(v *Var, bind bool) {
		if bind {
			v.T = mapDims(v.T, f)
		}
	})
}
