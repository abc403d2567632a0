package ir

// Shared helpers of the derivative rules: the Partials, JVP and VJP fields
// of the primitive declarations (prim_scalar.go, prim_array.go,
// prim_internal.go).
//
// Rules name the primitives they emit by name (r.op("mul", ...)) rather
// than through the Prim variables: a rule is part of its primitive's
// declaration, so PrimMul's rule mentioning PrimAdd, whose rule mentions
// PrimMul, would be an initialization cycle. The names are checked when a
// rule runs, and the tests run every rule.
//
// Rules only emit primitives that have derivative rules themselves (or
// that package ad handles: acc_add, acc_add_at, acc_zero_at, scan, map),
// so that the IR they build can be differentiated again (hessian,
// taylor, nested grad).

// rb is a Builder with the shorthands rules use.
type rb struct{ *Builder }

// rulePrim returns the primitive a rule emits.
func rulePrim(name string) *Prim {
	p := prims[name]
	if p == nil {
		panic("ir: derivative rule uses unknown primitive " + name)
	}
	return p
}

func (r rb) op(name string, args ...Expr) Expr {
	return r.PrimAux(rulePrim(name), nil, args...)
}

func (r rb) opAux(name string, aux any, args ...Expr) Expr {
	return r.PrimAux(rulePrim(name), aux, args...)
}

func (r rb) add(x, y Expr) Expr { return r.op("add", x, y) }
func (r rb) sub(x, y Expr) Expr { return r.op("sub", x, y) }
func (r rb) mul(x, y Expr) Expr { return r.op("mul", x, y) }
func (r rb) div(x, y Expr) Expr { return r.op("div", x, y) }
func (r rb) neg(x Expr) Expr    { return r.op("neg", x) }
func (r rb) sq(x Expr) Expr     { return r.mul(x, x) }

// zerosLike is a fresh zero of x's type and shape.
func (r rb) zerosLike(x Expr) Expr { return r.op("zeros_like", x) }

// orZero is the tangent t, or a zero of x's type when t is nil.
func (r rb) orZero(t, x Expr) Expr {
	if t != nil {
		return t
	}
	return r.zerosLike(x)
}

// bind makes e available to body as an atom: e itself when it is a
// variable or a constant, otherwise a let-bound variable. Rules use it
// for any expression they refer to more than once.
func (r rb) bind(name string, e Expr, body func(v Expr) Expr) Expr {
	switch e.(type) {
	case *Var, *Const:
		return body(e)
	}
	return r.Let(name, e, func(v *Var) Expr { return body(v) })
}

// hasF64 reports whether values of type t have an f64 part, and so a
// tangent or cotangent that can be non-zero.
func hasF64(t Type) bool {
	switch t := t.(type) {
	case Scalar:
		return t.Kind == F64
	case *Array:
		return hasF64(t.Elem)
	case *Tuple:
		for _, e := range t.Elems {
			if hasF64(e) {
				return true
			}
		}
	}
	return false
}

// leafF64 reports whether t is f64 or a (nested) array of f64.
func leafF64(t Type) bool {
	k, ok := Leaf(t)
	return ok && k == F64
}

// outerDim is the outer dimension of an array type (Unknown otherwise),
// the Aux that fill, slice, take and drop take for their result size.
func outerDim(t Type) Dim {
	if a, ok := t.(*Array); ok {
		return a.Dim
	}
	return Unknown
}

// flat views an array of any rank as a vector of its elements (flatten
// makes views, so this copies nothing).
func (r rb) flat(x Expr) Expr {
	for Rank(x.Type()) > 1 {
		x = r.op("flatten", x)
	}
	return x
}

// asType gives v (an array with as many scalars as like) like's type and
// shape: v itself when the types already agree, else a reshape_like view.
func (r rb) asType(v, like Expr) Expr {
	if Identical(v.Type(), like.Type()) {
		return v
	}
	return r.op("reshape_like", v, like)
}

// count is the number of scalars in the array x, as an f64: a constant
// when x's dimensions are known statically.
func (r rb) count(x Expr) Expr {
	ds := Dims(x.Type())
	known := int64(1)
	for _, d := range ds {
		if !d.Known() {
			known = -1
			break
		}
		known *= d.N
	}
	if known >= 0 {
		return r.F64(float64(known))
	}
	n := r.opAux("dim", 0, x)
	for axis := 1; axis < len(ds); axis++ {
		n = r.mul(n, r.opAux("dim", axis, x))
	}
	return r.op("f64", n)
}

// fillLike is an f64 array of like's type and shape with every element s,
// a scalar: added in place into a fresh zero.
func (r rb) fillLike(s, like Expr) Expr {
	return r.op("acc_add", r.zerosLike(like), s)
}

// oneHot is a zero of a's type with element i set to v.
func (r rb) oneHot(a, i, v Expr) Expr {
	if leafF64(a.Type()) {
		return r.op("acc_add_at", r.zerosLike(a), i, v)
	}
	return r.op("update", r.zerosLike(a), i, v)
}

// sumRows is Σ_i x[i], a value of like's type (x is an array of like).
func (r rb) sumRows(x, like Expr) Expr {
	if Identical(like.Type(), TF64) {
		return r.op("sum", x)
	}
	return r.bind("rows", x, func(x Expr) Expr {
		return r.For("acc", r.zerosLike(like), "i", r.op("len", x), func(s, i *Var) Expr {
			row := r.op("index", x, i)
			if leafF64(like.Type()) {
				return r.op("acc_add", s, row)
			}
			return r.addT(s, row)
		})
	})
}

// scatterAdd is the cotangent of gather(a, idx): a zero of a's type with
// ybar[j] added at idx[j] for every j.
func (r rb) scatterAdd(a, idx, ybar Expr) Expr {
	return r.For("acc", r.zerosLike(a), "j", r.op("len", idx), func(s, j *Var) Expr {
		i := r.op("index", idx, j)
		v := r.op("index", ybar, j)
		if leafF64(a.Type()) {
			return r.op("acc_add_at", s, i, v)
		}
		// Arrays of tuples have no accumulator: rebuild the row.
		return r.Let("i", i, func(i *Var) Expr {
			return r.op("update", s, i, r.addT(r.op("index", s, i), v))
		})
	})
}

// addT adds two tangents or cotangents of any differentiable type. Their
// i64 and bool parts are zero, so x's are kept.
func (r rb) addT(x, y Expr) Expr {
	t := x.Type()
	switch {
	case !hasF64(t):
		return x
	case leafF64(t):
		return r.add(x, y)
	}
	switch t := t.(type) {
	case *Tuple:
		return r.bind("a", x, func(x Expr) Expr {
			return r.bind("b", y, func(y Expr) Expr {
				elems := make([]Expr, len(t.Elems))
				for i := range t.Elems {
					elems[i] = r.addT(r.Proj(x, i), r.Proj(y, i))
				}
				return r.Tuple(elems...)
			})
		})
	case *Array:
		f := r.Lambda([]string{"a", "b"}, []Type{t.Elem, t.Elem}, func(v []*Var) Expr {
			return r.addT(v[0], v[1])
		})
		return r.op("map", f, x, y)
	}
	panic("ir: addT of " + t.String())
}

// excludingProducts is, for the elements x_i of the vector x, the vector
// of Π_{j≠i} x_j: an exclusive prefix product times an exclusive suffix
// product. Nothing is divided by x_i, so zeros in x are exact.
func (r rb) excludingProducts(x Expr) Expr {
	return r.bind("xs", x, func(x Expr) Expr {
		d := outerDim(x.Type())
		// prefix(v) = [1, v0, v0·v1, ..., v0···v_{n-2}]: the first n
		// elements of the inclusive scan of [1, v0, ..., v_{n-1}].
		prefix := func(v Expr) Expr {
			mul := r.Lambda([]string{"a", "b"}, []Type{TF64, TF64}, func(p []*Var) Expr { return r.mul(p[0], p[1]) })
			one := r.op("array", r.F64(1))
			s := r.op("scan", mul, r.F64(1), r.op("concat", one, v))
			return r.opAux("take", d, s, r.op("len", x))
		}
		pre := prefix(x)
		suf := r.op("reverse", prefix(r.op("reverse", x)))
		return r.mul(pre, suf)
	})
}

// extremeJVP is the tangent of maximum or minimum (arg: argmax or argmin):
// the tangent of the first extreme element, the one argmax picks, or 0
// for an empty x.
func (r rb) extremeJVP(arg string, x, dx Expr) Expr {
	return r.bind("xs", r.flat(x), func(xs Expr) Expr {
		empty := r.op("eq", r.op("len", xs), r.I64(0))
		return r.If(empty, r.F64(0), r.op("index", r.flat(dx), r.op(arg, xs)))
	})
}

// extremeVJP is the matching cotangent: ybar at the first extreme element.
func (r rb) extremeVJP(arg string, x, ybar Expr) Expr {
	return r.bind("xs", r.flat(x), func(xs Expr) Expr {
		empty := r.op("eq", r.op("len", xs), r.I64(0))
		hot := r.op("acc_add_at", r.zerosLike(xs), r.op(arg, xs), ybar)
		return r.If(empty, r.zerosLike(x), r.asType(hot, x))
	})
}

// partials1 adapts the derivative d of a unary elementwise primitive to
// the Partials field; an i64 operand has none.
func partials1(d func(r rb, x, y Expr) Expr) func(b *Builder, args []Expr, y Expr) []Expr {
	return func(b *Builder, args []Expr, y Expr) []Expr {
		if !leafF64(args[0].Type()) {
			return []Expr{nil}
		}
		return []Expr{d(rb{b}, args[0], y)}
	}
}

// partials2 adapts the partial derivatives of a binary elementwise
// primitive to the Partials field; i64 operands have none.
func partials2(d func(r rb, a, c, y Expr) (Expr, Expr)) func(b *Builder, args []Expr, y Expr) []Expr {
	return func(b *Builder, args []Expr, y Expr) []Expr {
		if !leafF64(args[0].Type()) {
			return []Expr{nil, nil}
		}
		da, dc := d(rb{b}, args[0], args[1], y)
		return []Expr{da, dc}
	}
}

// jvpRule adapts f to the JVP field. Tangents of arguments without an f64
// part are dropped (nil), and f is not called when y has no f64 part or
// every tangent is nil: the result tangent is then zero (nil). So f sees
// a non-nil tangent for at least one argument, and for the only
// differentiable argument of a primitive that has one.
func jvpRule(f func(r rb, args, tans []Expr, y Expr) Expr) JVPRule {
	return jvpRuleAux(func(r rb, args, tans []Expr, _ any, y Expr) Expr { return f(r, args, tans, y) })
}

// jvpRuleAux is jvpRule for rules that need the call's Aux.
func jvpRuleAux(f func(r rb, args, tans []Expr, aux any, y Expr) Expr) JVPRule {
	return func(b *Builder, args, tans []Expr, aux any, y Expr) Expr {
		if !hasF64(y.Type()) {
			return nil
		}
		ts := make([]Expr, len(args))
		some := false
		for i := range args {
			if i < len(tans) && tans[i] != nil && hasF64(args[i].Type()) {
				ts[i] = tans[i]
				some = true
			}
		}
		if !some {
			return nil
		}
		return f(rb{b}, args, ts, aux, y)
	}
}

// linearJVP is the JVP of a primitive linear in its data arguments: the
// primitive itself applied to their tangents (a zero where an argument
// has none) and to its other arguments unchanged.
func linearJVP(p *Prim) JVPRule {
	return jvpRuleAux(func(r rb, args, tans []Expr, aux any, y Expr) Expr {
		in := make([]Expr, len(args))
		for i, a := range args {
			in[i] = a
			if p.IsLinearIn(i) {
				in[i] = r.orZero(tans[i], a)
			}
		}
		return r.PrimAux(p, aux, in...)
	})
}

// bilinearJVP is the JVP of a bilinear primitive: p(ta, b) + p(a, tb),
// leaving out a term whose tangent is zero.
func bilinearJVP(p *Prim) JVPRule {
	return jvpRuleAux(func(r rb, args, tans []Expr, aux any, y Expr) Expr {
		var terms []Expr
		if tans[0] != nil {
			terms = append(terms, r.PrimAux(p, aux, tans[0], args[1]))
		}
		if tans[1] != nil {
			terms = append(terms, r.PrimAux(p, aux, args[0], tans[1]))
		}
		if len(terms) == 1 {
			return terms[0]
		}
		return r.add(terms[0], terms[1])
	})
}

// vjpRule adapts f to the VJP field: f(r, i, ...) is argument i's
// cotangent contribution, asked only for arguments with an f64 part and
// only when y has one (the others get nil).
func vjpRule(f func(r rb, i int, args []Expr, y, ybar Expr) Expr) func(b *Builder, args []Expr, y, ybar Expr) []Expr {
	return func(b *Builder, args []Expr, y, ybar Expr) []Expr {
		out := make([]Expr, len(args))
		if !hasF64(y.Type()) {
			return out
		}
		for i, a := range args {
			if hasF64(a.Type()) {
				out[i] = f(rb{b}, i, args, y, ybar)
			}
		}
		return out
	}
}
