package ir

import "fmt"

// Builder constructs IR concisely, computing each node's type. It is for
// compiler-internal code (tests, passes) that builds IR it knows to be
// well typed: every method panics on a type error instead of returning
// it. Never use it on user input; the checker reports errors with
// positions instead.
//
// Every node gets the Builder's Pos. Binders are fresh *Vars, handed to
// the callback that builds the scope they are visible in:
//
//	var b ir.Builder
//	sq := b.Lambda([]string{"v"}, []ir.Type{ir.TF64}, func(v []*ir.Var) ir.Expr {
//		return b.Prim(ir.PrimMul, v[0], v[0])
//	})
type Builder struct {
	Pos Pos
}

// Var makes a fresh variable.
func (b *Builder) Var(name string, t Type) *Var { return NewVar(name, t, b.Pos) }

// F64 makes an f64 literal.
func (b *Builder) F64(v float64) Expr { return F64Const(v, b.Pos) }

// I64 makes an i64 literal.
func (b *Builder) I64(v int64) Expr { return I64Const(v, b.Pos) }

// Bool makes a bool literal.
func (b *Builder) Bool(v bool) Expr { return BoolConst(v, b.Pos) }

// Prim applies a primitive without Aux; it panics on an arity or type
// error.
func (b *Builder) Prim(p *Prim, args ...Expr) Expr { return b.PrimAux(p, nil, args...) }

// PrimAux applies a primitive with static parameter aux; it panics on an
// arity or type error.
func (b *Builder) PrimAux(p *Prim, aux any, args ...Expr) Expr {
	c, err := p.Call(b.Pos, aux, args...)
	if err != nil {
		panic("ir.Builder: " + err.Error())
	}
	return c
}

// Let binds a fresh variable named name to value in the body built by
// body.
func (b *Builder) Let(name string, value Expr, body func(v *Var) Expr) Expr {
	v := b.Var(name, value.Type())
	return &Let{Var: v, Value: value, Body: body(v), P: b.Pos}
}

// Lambda makes fn(names[0]: types[0], ...) => body(params).
func (b *Builder) Lambda(names []string, types []Type, body func(vars []*Var) Expr) Expr {
	vs := b.vars(names, types)
	return &Lambda{Params: vs, Body: body(vs), P: b.Pos}
}

func (b *Builder) vars(names []string, types []Type) []*Var {
	if len(names) != len(types) {
		panic(fmt.Sprintf("ir.Builder: %d names for %d types", len(names), len(types)))
	}
	vs := make([]*Var, len(names))
	for i := range names {
		vs[i] = b.Var(names[i], types[i])
	}
	return vs
}

// Global refers to a def; its type is the def's.
func (b *Builder) Global(d *Def) Expr { return &Global{Name: d.Name, T: d.Type(), P: b.Pos} }

// Call applies a function value; it panics unless fn is a function taking
// arguments of the given types.
func (b *Builder) Call(fn Expr, args ...Expr) Expr {
	f, ok := fn.Type().(*Func)
	if !ok {
		panic(fmt.Sprintf("ir.Builder: calling a value of type %s", fn.Type()))
	}
	if len(f.Params) != len(args) {
		panic(fmt.Sprintf("ir.Builder: %s called with %d arguments", f, len(args)))
	}
	for i, a := range args {
		if !Equal(f.Params[i], a.Type()) {
			panic(fmt.Sprintf("ir.Builder: argument %d has type %s; %s wants %s", i+1, a.Type(), f, f.Params[i]))
		}
	}
	return &Call{Fn: fn, Args: args, T: f.Result, P: b.Pos}
}

// Tuple makes (elems...).
func (b *Builder) Tuple(elems ...Expr) Expr { return &MakeTuple{Elems: elems, P: b.Pos} }

// Proj takes field i of a tuple; it panics when x has no such field.
func (b *Builder) Proj(x Expr, i int) Expr {
	if t, ok := x.Type().(*Tuple); !ok || i < 0 || i >= len(t.Elems) {
		panic(fmt.Sprintf("ir.Builder: no field %d in %s", i, x.Type()))
	}
	return &Proj{X: x, Index: i, P: b.Pos}
}

// If makes if c then t else e; it panics unless c is bool and the
// branches have equal types.
func (b *Builder) If(c, t, e Expr) Expr {
	if !Equal(c.Type(), TBool) || !Equal(t.Type(), e.Type()) {
		panic(fmt.Sprintf("ir.Builder: if %s then %s else %s", c.Type(), t.Type(), e.Type()))
	}
	return &If{Cond: c, Then: t, Else: e, P: b.Pos}
}

// For makes loop state = init for index < count do body(state, index).
func (b *Builder) For(state string, init Expr, index string, count Expr, body func(s, i *Var) Expr) Expr {
	s := b.Var(state, init.Type())
	i := b.Var(index, TI64)
	l := &Loop{State: s, Init: init, Index: i, Count: count, P: b.Pos}
	l.Body = body(s, i)
	b.checkLoop(l)
	return l
}

// While makes loop state = init while cond(state) do body(state).
func (b *Builder) While(state string, init Expr, cond, body func(s *Var) Expr) Expr {
	s := b.Var(state, init.Type())
	l := &Loop{State: s, Init: init, P: b.Pos}
	l.Cond = cond(s)
	l.Body = body(s)
	b.checkLoop(l)
	return l
}

func (b *Builder) checkLoop(l *Loop) {
	if l.Count != nil && !Equal(l.Count.Type(), TI64) {
		panic(fmt.Sprintf("ir.Builder: loop count has type %s", l.Count.Type()))
	}
	if l.Cond != nil && !Equal(l.Cond.Type(), TBool) {
		panic(fmt.Sprintf("ir.Builder: loop condition has type %s", l.Cond.Type()))
	}
	if !Equal(l.Body.Type(), l.State.T) {
		panic(fmt.Sprintf("ir.Builder: loop body has type %s; state has type %s", l.Body.Type(), l.State.T))
	}
}

// Def makes a function def with the given parameters; its result type is
// the body's.
func (b *Builder) Def(name string, names []string, types []Type, body func(params []*Var) Expr) *Def {
	ps := b.vars(names, types)
	e := body(ps)
	return &Def{Name: name, Params: ps, HasParams: true, Result: e.Type(), Body: e, P: b.Pos}
}

// SizedDef is Def for parameters whose types name size variables: each
// distinct symbolic dimension in the parameter types becomes a size
// variable, bound at its first occurrence and checked at the others;
// body receives them in that order. A dimension named by a parameter is
// that parameter (a SizeVar with Param -1).
func (b *Builder) SizedDef(name string, names []string, types []Type, body func(params, sizes []*Var) Expr) *Def {
	ps := b.vars(names, types)
	param := map[string]*Var{}
	for _, p := range ps {
		param[p.Name] = p
	}
	var svs []SizeVar
	var sizes []*Var
	index := map[string]int{}
	for pi, t := range types {
		for axis, d := range Dims(t) {
			if d.Sym == "" {
				continue
			}
			if k, ok := index[d.Sym]; ok {
				svs[k].Checks = append(svs[k].Checks, DimRef{Param: pi, Axis: axis, P: b.Pos})
				continue
			}
			index[d.Sym] = len(svs)
			if p := param[d.Sym]; p != nil {
				svs = append(svs, SizeVar{Var: p, Param: -1})
				svs[len(svs)-1].Checks = []DimRef{{Param: pi, Axis: axis, P: b.Pos}}
				sizes = append(sizes, p)
				continue
			}
			v := b.Var(d.Sym, TI64)
			svs = append(svs, SizeVar{Var: v, Param: pi, Axis: axis})
			sizes = append(sizes, v)
		}
	}
	e := body(ps, sizes)
	return &Def{Name: name, Params: ps, HasParams: true, Result: e.Type(), Body: e, SizeVars: svs, P: b.Pos}
}
