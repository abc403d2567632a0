package ir

import (
	"fmt"
	"strings"
)

// Pos is a source position. The zero Pos means "no position".
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether the position names a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is a positioned compile or run-time error. Its text reads
// "file:line:col: message"; Frames, when present, say which defs were
// running (innermost first).
type Error struct {
	Pos    Pos
	Msg    string
	Frames []Frame
}

// Frame is one active def in a run-time error's backtrace.
type Frame struct {
	Def    string
	DefPos Pos // where the def is declared
	Call   Pos // where it was called from (zero for the entry call)
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Pos.IsValid() || e.Pos.File != "" {
		s = e.Pos.String() + ": " + e.Msg
	}
	for _, f := range e.Frames {
		s += "\n\tin " + f.Def + " (" + f.DefPos.String() + ")"
		if f.Call.IsValid() {
			s += ", called at " + f.Call.String()
		}
	}
	return s
}

// Errorf makes a positioned error.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// ErrorList collects several errors; its text is one error per line.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil for an empty list and the list otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Expr is a core IR expression. Every expression knows its type and its
// source position. Expressions are immutable trees; passes build new ones.
type Expr interface {
	Type() Type
	Pos() Pos
	isExpr()
}

// Var is a variable. The same *Var is the binder (in Let, Lambda, Loop or
// a Def's parameters) and every use, so identity is pointer identity and
// names only matter for printing.
type Var struct {
	Name string
	T    Type
	P    Pos
}

// Const is a scalar literal: a float64, int64 or bool in Val.
type Const struct {
	Val any
	P   Pos
}

// Let binds Var to Value in Body.
type Let struct {
	Var   *Var
	Value Expr
	Body  Expr
	P     Pos
}

// Lambda is an anonymous function.
type Lambda struct {
	Params []*Var
	Body   Expr
	P      Pos
}

// Global refers to a top-level def by name (as a value or a callee).
type Global struct {
	Name string
	T    Type
	P    Pos
}

// Call applies a function value (a Global, a Lambda, a Var bound to a
// function, or an expression returning one) to arguments.
type Call struct {
	Fn   Expr
	Args []Expr
	T    Type
	P    Pos
}

// PrimCall applies a primitive. Aux carries a primitive's static
// parameters (for example the order k of taylor); most have none.
type PrimCall struct {
	Op   *Prim
	Args []Expr
	Aux  any
	T    Type
	P    Pos
}

// MakeTuple builds a tuple.
type MakeTuple struct {
	Elems []Expr
	P     Pos
}

// Proj takes field Index of a tuple.
type Proj struct {
	X     Expr
	Index int
	P     Pos
}

// If chooses a branch.
type If struct {
	Cond, Then, Else Expr
	P                Pos
}

// Loop iterates a state. A for loop runs Body with Index bound to 0..Count-1;
// a while loop runs Body while Cond (which sees State) holds. Either way
// Body sees State and yields the next state; the loop's value is the final
// state.
type Loop struct {
	State *Var
	Init  Expr
	Index *Var // for loops: the counter; nil for while loops
	Count Expr // for loops: the number of iterations
	Cond  Expr // while loops: the condition
	Body  Expr
	P     Pos
}

func (v *Var) Type() Type { return v.T }
func (v *Var) Pos() Pos   { return v.P }
func (c *Const) Type() Type {
	switch c.Val.(type) {
	case float64:
		return TF64
	case int64:
		return TI64
	}
	return TBool
}
func (c *Const) Pos() Pos { return c.P }

// Type is the type of the innermost body of a chain of lets, found by a
// loop: a recursion as deep as the chain would be as slow and could
// overflow the stack.
func (l *Let) Type() Type {
	e := l.Body
	for {
		b, ok := e.(*Let)
		if !ok {
			return e.Type()
		}
		e = b.Body
	}
}
func (l *Let) Pos() Pos        { return l.P }
func (l *Lambda) Pos() Pos     { return l.P }
func (g *Global) Type() Type   { return g.T }
func (g *Global) Pos() Pos     { return g.P }
func (c *Call) Type() Type     { return c.T }
func (c *Call) Pos() Pos       { return c.P }
func (p *PrimCall) Type() Type { return p.T }
func (p *PrimCall) Pos() Pos   { return p.P }
func (t *MakeTuple) Pos() Pos  { return t.P }
func (p *Proj) Pos() Pos       { return p.P }
func (i *If) Type() Type       { return i.Then.Type() }
func (i *If) Pos() Pos         { return i.P }
func (l *Loop) Type() Type     { return l.State.T }
func (l *Loop) Pos() Pos       { return l.P }

func (l *Lambda) Type() Type {
	ps := make([]Type, len(l.Params))
	for i, p := range l.Params {
		ps[i] = p.T
	}
	return &Func{Params: ps, Result: l.Body.Type()}
}

func (t *MakeTuple) Type() Type {
	ts := make([]Type, len(t.Elems))
	for i, e := range t.Elems {
		ts[i] = e.Type()
	}
	return &Tuple{Elems: ts}
}

func (p *Proj) Type() Type {
	if t, ok := p.X.Type().(*Tuple); ok && p.Index < len(t.Elems) {
		return t.Elems[p.Index]
	}
	return nil // the validator reports this
}

func (*Var) isExpr()       {}
func (*Const) isExpr()     {}
func (*Let) isExpr()       {}
func (*Lambda) isExpr()    {}
func (*Global) isExpr()    {}
func (*Call) isExpr()      {}
func (*PrimCall) isExpr()  {}
func (*MakeTuple) isExpr() {}
func (*Proj) isExpr()      {}
func (*If) isExpr()        {}
func (*Loop) isExpr()      {}

// F64Const, I64Const and BoolConst build literals.
func F64Const(v float64, p Pos) *Const { return &Const{Val: v, P: p} }
func I64Const(v int64, p Pos) *Const   { return &Const{Val: v, P: p} }
func BoolConst(v bool, p Pos) *Const   { return &Const{Val: v, P: p} }

// NewVar makes a fresh variable.
func NewVar(name string, t Type, p Pos) *Var { return &Var{Name: name, T: t, P: p} }
