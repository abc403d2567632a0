package ir

import (
	"fmt"
	"slices"
	"strconv"
)

// Validate checks that a program is well formed: every def as ValidateDef
// checks it, plus what needs the whole program: def names are unique,
// every Global names a def of the program and has that def's type, and
// the functions named by attributes (@jvp(g), ...) exist. It returns nil
// or an ErrorList.
//
// Validate is meant to run after every pass in tests: a failure is a bug
// in the compiler, not in the user's program.
func Validate(p *Program) error {
	var errs ErrorList
	for i, d := range p.Defs {
		if d == nil {
			errs = append(errs, Errorf(Pos{}, "def %d is nil", i))
			continue
		}
		if p.Def(d.Name) != d {
			errs = append(errs, Errorf(d.P, "def %s: defined twice, or not indexed by the program (add defs with Program.Add)", d.Name))
		}
		v := newValidator(p, d)
		v.def(d)
		errs = append(errs, v.errs...)
	}
	return errs.Err()
}

// ValidateDef checks one def on its own (references to other defs by
// Global are not checked):
//
//   - no child expression is nil, and Const values are float64, int64 or
//     bool;
//   - every Var use is inside the scope of its binder (a Let, a Lambda
//     parameter, a Loop's State or Index, a parameter or a size variable
//     of the def), and each *Var is bound only once in the def, so passes
//     can rename and substitute by pointer safely;
//   - a Let's variable has the value's type; a PrimCall has the primitive's
//     arity and the type its type rule gives for the arguments and Aux; a
//     Call's callee is a function taking the arguments' types and
//     returning the Call's type; an If's condition is bool and its
//     branches have Equal types; a Loop is either a for loop (Index and
//     Count, an i64) or a while loop (Cond, a bool), and its Init and Body
//     have its State's type; a Proj's index is a field of its tuple;
//   - the def's Result type equals its body's, and its size variables are
//     i64 and name existing axes of its parameters (or, with Param < 0,
//     are i64 parameters themselves).
//
// Types are compared with Equal: dimensions not known on both sides are
// run-time checks, not errors.
//
// Each error is positioned at the node whose rule is broken (the Let for
// a let whose value has the wrong type, the Loop for a loop body of the
// wrong type), or, when that node has no position, at the nearest
// enclosing node that has one, or at the def. A Var's position is its
// binder's, shared by all its uses, so a bad use of a variable is
// reported at the node enclosing the use.
func ValidateDef(d *Def) error {
	if d == nil {
		return ErrorList{Errorf(Pos{}, "nil def")}
	}
	v := newValidator(nil, d)
	v.def(d)
	return v.errs.Err()
}

type validator struct {
	prog    *Program // nil: do not check globals
	name    string
	errs    ErrorList
	pos     Pos          // the nearest enclosing valid position
	inScope map[*Var]int // binders whose scope we are in (a count, so a duplicate binder does not cascade)
	bound   map[*Var]Pos // every binder seen so far in the def
}

func newValidator(p *Program, d *Def) *validator {
	return &validator{prog: p, name: d.Name, pos: d.P, inScope: map[*Var]int{}, bound: map[*Var]Pos{}}
}

func (v *validator) errorf(format string, args ...any) {
	v.errs = append(v.errs, Errorf(v.pos, "def %s: %s", v.name, fmt.Sprintf(format, args...)))
}

// at sets the current position to p when p is valid and returns a
// function restoring the previous one.
func (v *validator) at(p Pos) func() {
	saved := v.pos
	if p.IsValid() {
		v.pos = p
	}
	return func() { v.pos = saved }
}

func (v *validator) def(d *Def) {
	if !d.HasParams && len(d.Params) > 0 {
		v.errorf("a value def has %d parameters", len(d.Params))
	}
	// Size variables first (parameters' types refer to them), then the
	// parameters; a size variable that is an i64 parameter (Param < 0) is
	// bound as that parameter.
	for i, sv := range d.SizeVars {
		if sv.Var == nil {
			v.errorf("size variable %d is nil", i)
			continue
		}
		if sv.Param < 0 {
			if !slices.Contains(d.Params, sv.Var) {
				v.errorf("size variable %s has Param < 0 but is not a parameter", sv.Var.Name)
			}
		} else {
			v.bind(sv.Var, "size variable")
			v.dimRef(d, sv.Var.Name, DimRef{Param: sv.Param, Path: sv.Path, Axis: sv.Axis, P: sv.Var.P})
		}
		if sv.Var.T != nil && !Equal(sv.Var.T, TI64) {
			v.errorf("size variable %s has type %s; want i64", sv.Var.Name, typeString(sv.Var.T))
		}
		for _, c := range sv.Checks {
			v.dimRef(d, sv.Var.Name, c)
		}
	}
	for _, p := range d.Params {
		v.bind(p, "parameter")
	}
	bt := v.child(d.Body, "the def's body")
	switch {
	case d.HasParams && d.Result == nil:
		v.errorf("result type is nil")
	case d.Result != nil && !typeOK(d.Result):
		v.errorf("result type %s is malformed", typeString(d.Result))
	case d.Result != nil && bt != nil && !Equal(d.Result, bt):
		v.errorf("result type %s, but the body has type %s", typeString(d.Result), typeString(bt))
	}
	if v.prog != nil {
		for _, a := range d.Attrs {
			if a.Fn != "" && v.prog.Def(a.Fn) == nil {
				restore := v.at(a.P)
				v.errorf("@%s names %s, which is not a def of the program", a.Name, a.Fn)
				restore()
			}
		}
	}
}

func (v *validator) dimRef(d *Def, name string, r DimRef) {
	restore := v.at(r.P)
	defer restore()
	if r.Param < 0 || r.Param >= len(d.Params) || d.Params[r.Param] == nil {
		v.errorf("size variable %s refers to parameter %d of %d", name, r.Param, len(d.Params))
		return
	}
	p := d.Params[r.Param]
	t := PathType(p.T, r.Path)
	if t == nil {
		v.errorf("size variable %s refers to field %v of parameter %s of type %s", name, r.Path, p.Name, typeString(p.T))
		return
	}
	if r.Axis < 0 || r.Axis >= Rank(t) {
		v.errorf("size variable %s refers to axis %d of parameter %s of type %s", name, r.Axis, p.Name, typeString(p.T))
	}
}

// bind enters a binder's scope, reporting a nil binder, a missing type or
// a second binding of the same *Var (at the binding construct, since both
// bindings share the Var's own position).
func (v *validator) bind(x *Var, what string) bool {
	if x == nil {
		v.errorf("%s is nil", what)
		return false
	}
	if p, dup := v.bound[x]; dup {
		v.errorf("variable %s is bound twice (first at %s); binders must be distinct *Vars", x.Name, posText(p))
	}
	v.bound[x] = v.pos
	v.inScope[x]++
	if !typeOK(x.T) {
		restore := v.at(x.P)
		v.errorf("%s %s has type %s", what, x.Name, typeString(x.T))
		restore()
	}
	return true
}

func (v *validator) unbind(x *Var) {
	if x != nil {
		if v.inScope[x]--; v.inScope[x] <= 0 {
			delete(v.inScope, x)
		}
	}
}

func posText(p Pos) string {
	if !p.IsValid() {
		return "an unknown position"
	}
	return p.String()
}

// child validates a child expression that must be present; what names it
// in the error.
func (v *validator) child(e Expr, what string) Type {
	if isNil(e) {
		v.errorf("%s is missing (nil)", what)
		return nil
	}
	return v.expr(e)
}

// expr validates e and returns its type, or nil when the type cannot be
// known because of an error already reported.
func (v *validator) expr(e Expr) Type {
	// A Var's position is its binder's, shared by every use, so errors
	// about a use are reported at the enclosing node.
	if _, isVar := e.(*Var); !isVar {
		restore := v.at(e.Pos())
		defer restore()
	}
	switch e := e.(type) {
	case *Var:
		if v.inScope[e] == 0 {
			if p, ok := v.bound[e]; ok {
				v.errorf("variable %s is used outside the scope of its binding at %s", e.Name, posText(p))
			} else {
				v.errorf("variable %s is not bound", e.Name)
			}
		}
		if !typeOK(e.T) {
			return nil
		}
		return e.T
	case *Const:
		switch e.Val.(type) {
		case float64, int64, bool:
			return e.Type()
		}
		v.errorf("constant %v has Go type %T; want float64, int64 or bool", e.Val, e.Val)
		return nil
	case *Let:
		vt := v.child(e.Value, "let value")
		if !v.bind(e.Var, "let variable") {
			return v.child(e.Body, "let body")
		}
		if vt != nil && typeOK(e.Var.T) && !Equal(e.Var.T, vt) {
			v.errorf("let %s: %s, but the value has type %s", e.Var.Name, typeString(e.Var.T), typeString(vt))
		}
		bt := v.child(e.Body, "let body")
		v.unbind(e.Var)
		return bt
	case *Lambda:
		ok := true
		for _, p := range e.Params {
			ok = v.bind(p, "lambda parameter") && typeOK(p.T) && ok
		}
		bt := v.child(e.Body, "lambda body")
		for _, p := range e.Params {
			v.unbind(p)
		}
		if !ok || bt == nil {
			return nil
		}
		ps := make([]Type, len(e.Params))
		for i, p := range e.Params {
			ps[i] = p.T
		}
		return &Func{Params: ps, Result: bt}
	case *Global:
		if !typeOK(e.T) {
			v.errorf("global %s has type %s", e.Name, typeString(e.T))
			return nil
		}
		if v.prog != nil {
			d := v.prog.Def(e.Name)
			if d == nil {
				v.errorf("global %s is not a def of the program", e.Name)
			} else if dt := defType(d); dt != nil && !Equal(e.T, dt) {
				v.errorf("global %s has type %s, but the def has type %s", e.Name, typeString(e.T), typeString(dt))
			}
		}
		return e.T
	case *Call:
		ft := v.child(e.Fn, "callee")
		ats := v.children(e.Args, "call argument")
		if !typeOK(e.T) {
			v.errorf("call has type %s", typeString(e.T))
		}
		if ft == nil {
			return okType(e.T)
		}
		f, ok := ft.(*Func)
		if !ok {
			v.errorf("calling a value of type %s", typeString(ft))
			return okType(e.T)
		}
		if len(f.Params) != len(e.Args) {
			v.errorf("calling a function of type %s with %d argument%s", typeString(f), len(e.Args), plural(len(e.Args)))
		} else {
			for i, at := range ats {
				if at != nil && !Equal(f.Params[i], at) {
					v.errorf("call argument %d has type %s; the function of type %s wants %s", i+1, typeString(at), typeString(f), typeString(f.Params[i]))
				}
			}
		}
		if typeOK(e.T) && !Equal(f.Result, e.T) {
			v.errorf("call has type %s, but the function of type %s returns %s", typeString(e.T), typeString(f), typeString(f.Result))
		}
		return okType(e.T)
	case *PrimCall:
		ats := v.children(e.Args, "primitive argument")
		if !typeOK(e.T) {
			v.errorf("primitive call has type %s", typeString(e.T))
		}
		if e.Op == nil {
			v.errorf("primitive call with a nil primitive")
			return okType(e.T)
		}
		if err := e.Op.CheckArity(len(e.Args)); err != nil {
			v.errorf("%v", err)
			return okType(e.T)
		}
		for _, at := range ats {
			if at == nil {
				return okType(e.T)
			}
		}
		if e.Op.Type == nil {
			v.errorf("primitive %s has no type rule", e.Op.Name)
			return okType(e.T)
		}
		t, err := primType(e.Op, ats, e.Aux)
		switch {
		case err != nil:
			v.errorf("%s%s: %v", e.Op.Name, auxText(e.Aux), err)
		case !typeOK(t):
			v.errorf("%s%s: the type rule gives %s", e.Op.Name, auxText(e.Aux), typeString(t))
		case typeOK(e.T) && !Equal(t, e.T):
			v.errorf("%s%s has type %s, but its type rule gives %s", e.Op.Name, auxText(e.Aux), typeString(e.T), typeString(t))
		}
		return okType(e.T)
	case *MakeTuple:
		ts := v.children(e.Elems, "tuple element")
		for _, t := range ts {
			if t == nil {
				return nil
			}
		}
		return &Tuple{Elems: ts}
	case *Proj:
		xt := v.child(e.X, "projected tuple")
		if xt == nil {
			return nil
		}
		t, ok := xt.(*Tuple)
		if !ok {
			v.errorf("field .%d of a value of type %s, which is not a tuple", e.Index, typeString(xt))
			return nil
		}
		if e.Index < 0 || e.Index >= len(t.Elems) {
			v.errorf("field .%d of a value of type %s is out of range", e.Index, typeString(xt))
			return nil
		}
		return t.Elems[e.Index]
	case *If:
		ct := v.child(e.Cond, "if condition")
		tt := v.child(e.Then, "then branch")
		et := v.child(e.Else, "else branch")
		if ct != nil && !Equal(ct, TBool) {
			v.errorf("if condition has type %s; want bool", typeString(ct))
		}
		if tt != nil && et != nil && !Equal(tt, et) {
			v.errorf("if branches have types %s and %s", typeString(tt), typeString(et))
		}
		return tt
	case *Loop:
		return v.loop(e)
	}
	v.errorf("unknown expression %T", e)
	return nil
}

func (v *validator) loop(e *Loop) Type {
	it := v.child(e.Init, "loop init")
	isFor := e.Index != nil || e.Count != nil
	switch {
	case isFor && e.Cond != nil:
		v.errorf("loop has both a for part (index, count) and a while condition")
	case !isFor && e.Cond == nil:
		v.errorf("loop has neither a for part (index, count) nor a while condition")
	case isFor && e.Index == nil:
		v.errorf("for loop has a count but no index variable")
	case isFor && e.Count == nil:
		v.errorf("for loop has an index variable but no count")
	}
	if e.Count != nil {
		if ct := v.expr(e.Count); ct != nil && !Equal(ct, TI64) {
			v.errorf("loop count has type %s; want i64", typeString(ct))
		}
	}
	stateOK := v.bind(e.State, "loop state") && typeOK(e.State.T)
	if stateOK && it != nil && !Equal(it, e.State.T) {
		v.errorf("loop state %s: %s, but the initial value has type %s", e.State.Name, typeString(e.State.T), typeString(it))
	}
	if e.Cond != nil {
		if ct := v.expr(e.Cond); ct != nil && !Equal(ct, TBool) {
			v.errorf("loop condition has type %s; want bool", typeString(ct))
		}
	}
	if e.Index != nil && v.bind(e.Index, "loop index") && typeOK(e.Index.T) && !Equal(e.Index.T, TI64) {
		v.errorf("loop index %s has type %s; want i64", e.Index.Name, typeString(e.Index.T))
	}
	bt := v.child(e.Body, "loop body")
	if stateOK && bt != nil && !Equal(bt, e.State.T) {
		v.errorf("loop body has type %s; the state %s has type %s", typeString(bt), e.State.Name, typeString(e.State.T))
	}
	v.unbind(e.Index)
	v.unbind(e.State)
	if !stateOK {
		return nil
	}
	return e.State.T
}

func (v *validator) children(es []Expr, what string) []Type {
	ts := make([]Type, len(es))
	for i, e := range es {
		ts[i] = v.child(e, what+" "+strconv.Itoa(i+1))
	}
	return ts
}

func okType(t Type) Type {
	if !typeOK(t) {
		return nil
	}
	return t
}

// primType runs a primitive's type rule, turning a panic (a type rule
// meeting arguments its checker hints rule out) into an error.
func primType(p *Prim, args []Type, aux any) (t Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("type rule panicked: %v", r)
		}
	}()
	return p.Type(args, aux)
}

// defType is d.Type(), or nil when d is too malformed to have one.
func defType(d *Def) (t Type) {
	defer func() {
		if recover() != nil {
			t = nil
		}
	}()
	return okType(d.Type())
}

func auxText(aux any) string {
	if aux == nil {
		return ""
	}
	return "[" + formatAux(aux) + "]"
}
