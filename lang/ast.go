package lang

import "github.com/nabla-lang/nabla/ir"

// Pos is a source position (file, line, column; columns count bytes from 1).
type Pos = ir.Pos

// File is one parsed source file.
type File struct {
	Name    string
	Imports []*Import
	Decls   []Decl // *FuncDecl, *RuleDecl, *StrategyDecl, in source order
}

// Import is `import "path"`.
type Import struct {
	Pos  Pos
	Path string
}

// Decl is a top-level declaration.
type Decl interface{ declNode() }

// FuncDecl is `[attrs] [export] def name(params): result = body` or, with
// Params == nil and HasParams false, the value form `def name = body`.
type FuncDecl struct {
	Pos       Pos // of the `def` keyword (or `export`)
	Attrs     []*Attr
	Export    bool
	Name      string
	NamePos   Pos
	HasParams bool
	Params    []*Param
	Result    TypeExpr // nil when omitted
	Body      Expr
}

// Attr is `@name` or `@name(args)`. For @strategy the argument is a
// strategy expression in Strategy; for @jvp/@vjp/@implicit the argument is
// an expression (a def's name) in Args.
type Attr struct {
	Pos      Pos
	Name     string
	Args     []Expr
	Strategy ir.Strat
}

// Param is a parameter `name: T`; Type is nil when omitted (lambdas only).
type Param struct {
	Pos  Pos
	Name string
	Type TypeExpr
}

// RuleDecl is `rule name(v1, ...): lhs => rhs [where cond]`.
type RuleDecl struct {
	Pos   Pos
	Name  string
	Vars  []*Ident
	LHS   Expr
	RHS   Expr
	Where Expr // nil when absent
}

// StrategyDecl is `strategy name = s`. Strategy expressions are parsed
// into ir's types (ir.Strat): the front end only checks their names.
type StrategyDecl struct {
	Pos  Pos
	Name string
	Body ir.Strat
}

func (*FuncDecl) declNode()     {}
func (*RuleDecl) declNode()     {}
func (*StrategyDecl) declNode() {}

// ---- types ----

// TypeExpr is a written type.
type TypeExpr interface{ typeNode() }

// NamedType is f64, i64 or bool (any other name is an error in the checker).
type NamedType struct {
	Pos  Pos
	Name string
}

// ArrayType is [dim]Elem; Dim is an integer literal or a name.
type ArrayType struct {
	Pos  Pos
	Dim  DimExpr
	Elem TypeExpr
}

// DimExpr is an array dimension as written.
type DimExpr struct {
	Pos  Pos
	Lit  int64  // when Name == ""
	Name string // a size variable or an i64 parameter
}

// TupleType is (T1, T2, ...); () is unit.
type TupleType struct {
	Pos   Pos
	Elems []TypeExpr
}

// FuncType is T -> U or (T1, T2) -> U.
type FuncType struct {
	Pos    Pos
	Params []TypeExpr
	Result TypeExpr
}

func (*NamedType) typeNode() {}
func (*ArrayType) typeNode() {}
func (*TupleType) typeNode() {}
func (*FuncType) typeNode()  {}

// ---- expressions ----

// Expr is a surface expression.
type Expr interface{ exprNode() }

// Ident is a name.
type Ident struct {
	Pos  Pos
	Name string
}

// IntLit is an integer literal.
type IntLit struct {
	Pos Pos
	Val int64
}

// FloatLit is a float literal.
type FloatLit struct {
	Pos  Pos
	Val  float64
	Text string
}

// BoolLit is true or false.
type BoolLit struct {
	Pos Pos
	Val bool
}

// StringLit is a string (only in imports and attributes).
type StringLit struct {
	Pos Pos
	Val string
}

// Unary is -x or !x. Pos is the operator's.
type Unary struct {
	Pos Pos
	Op  string
	X   Expr
}

// Binary is x op y with op one of || && == != < <= > >= + - * / % @ ^.
// Pos is the operator's position; use StartPos for the expression's start.
type Binary struct {
	Pos  Pos
	Op   string
	X, Y Expr
}

// Call is f(args).
type Call struct {
	Pos  Pos // of the callee's start
	Fn   Expr
	Args []Expr
	LPos Pos // of "("
}

// Index is a[i] or a[i, j]. Pos is the "[".
type Index struct {
	Pos     Pos
	X       Expr
	Indices []Expr
}

// Slice is a[lo:hi]; Lo and Hi may be nil. Pos is the "[".
type Slice struct {
	Pos    Pos
	X      Expr
	Lo, Hi Expr
}

// Field is t.N. Pos is the ".".
type Field struct {
	Pos   Pos
	X     Expr
	Index int
}

// Paren is (x), kept so that positions and printing stay faithful.
type Paren struct {
	Pos Pos
	X   Expr
}

// TupleLit is (a, b, ...) with zero or at least two elements.
type TupleLit struct {
	Pos   Pos
	Elems []Expr
}

// ArrayLit is [a, b, c].
type ArrayLit struct {
	Pos   Pos
	Elems []Expr
}

// Comprehension is [body for i < n, j < m].
type Comprehension struct {
	Pos  Pos
	Body Expr
	Gens []*Gen
}

// Gen is one `i < n` of a comprehension.
type Gen struct {
	Pos   Pos
	Name  string
	Bound Expr
}

// Let is `let pat = value in body`.
type Let struct {
	Pos   Pos
	Pat   Pattern
	Value Expr
	Body  Expr
}

// If is `if c then a else b`.
type If struct {
	Pos              Pos
	Cond, Then, Else Expr
}

// Lambda is `fn(params) => body`.
type Lambda struct {
	Pos    Pos
	Params []*Param
	Body   Expr
}

// Loop is `loop pat = init for i < n do body` (Index != "") or
// `loop pat = init while cond do body`.
type Loop struct {
	Pos      Pos
	Pat      Pattern
	Init     Expr
	Index    string
	IndexPos Pos
	Count    Expr
	Cond     Expr
	Body     Expr
}

func (*Ident) exprNode()         {}
func (*IntLit) exprNode()        {}
func (*FloatLit) exprNode()      {}
func (*BoolLit) exprNode()       {}
func (*StringLit) exprNode()     {}
func (*Unary) exprNode()         {}
func (*Binary) exprNode()        {}
func (*Call) exprNode()          {}
func (*Index) exprNode()         {}
func (*Slice) exprNode()         {}
func (*Field) exprNode()         {}
func (*Paren) exprNode()         {}
func (*TupleLit) exprNode()      {}
func (*ArrayLit) exprNode()      {}
func (*Comprehension) exprNode() {}
func (*Let) exprNode()           {}
func (*If) exprNode()            {}
func (*Lambda) exprNode()        {}
func (*Loop) exprNode()          {}

// Pattern is a name or a nested tuple of names.
type Pattern interface{ patNode() }

// PatName binds one name.
type PatName struct {
	Pos  Pos
	Name string
}

// PatTuple destructures a tuple.
type PatTuple struct {
	Pos   Pos
	Elems []Pattern
}

func (*PatName) patNode()  {}
func (*PatTuple) patNode() {}

// StartPos returns where an expression begins in the source (for a binary
// expression, its left operand's start).
func StartPos(e Expr) Pos {
	switch e := e.(type) {
	case *Binary:
		return StartPos(e.X)
	case *Index:
		return StartPos(e.X)
	case *Slice:
		return StartPos(e.X)
	case *Field:
		return StartPos(e.X)
	case *Call:
		return StartPos(e.Fn)
	case *Ident:
		return e.Pos
	case *IntLit:
		return e.Pos
	case *FloatLit:
		return e.Pos
	case *BoolLit:
		return e.Pos
	case *StringLit:
		return e.Pos
	case *Unary:
		return e.Pos
	case *Paren:
		return e.Pos
	case *TupleLit:
		return e.Pos
	case *ArrayLit:
		return e.Pos
	case *Comprehension:
		return e.Pos
	case *Let:
		return e.Pos
	case *If:
		return e.Pos
	case *Lambda:
		return e.Pos
	case *Loop:
		return e.Pos
	}
	return Pos{}
}
