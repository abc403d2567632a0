package lang

// Printing turns a syntax tree back into canonical source. The output
// re-parses to the same tree, positions aside: for a tree that came from
// the parser, every Paren node prints as parentheses and no others are
// added; for a tree built by hand, parentheses are added wherever
// precedence, associativity or the reach of let/if/fn/loop require them.
//
// Layout is fixed: single spaces around binary operators except '^',
// ", " between list elements, one declaration per line, and a def whose
// body is a let chain gets one binding per line.

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// FormatExpr returns canonical source for e.
func FormatExpr(e Expr) string {
	var pr printer
	pr.expr(e, parserPrecLowest, false)
	return pr.b.String()
}

// FormatFile returns canonical source for f: its imports, a blank line,
// then its declarations in order.
func FormatFile(f *File) string {
	var pr printer
	for _, imp := range f.Imports {
		pr.s("import ")
		pr.s(strconv.Quote(imp.Path))
		pr.s("\n")
	}
	if len(f.Imports) > 0 && len(f.Decls) > 0 {
		pr.s("\n")
	}
	for _, d := range f.Decls {
		pr.decl(d)
	}
	return pr.b.String()
}

// printer accumulates output.
type printer struct {
	b strings.Builder
}

func (pr *printer) s(s string) { pr.b.WriteString(s) }

// ---- declarations ----

func (pr *printer) decl(d Decl) {
	switch d := d.(type) {
	case *FuncDecl:
		for _, a := range d.Attrs {
			pr.attr(a)
			pr.s("\n")
		}
		if d.Export {
			pr.s("export ")
		}
		pr.s("def ")
		pr.s(d.Name)
		if d.HasParams {
			pr.s("(")
			pr.params(d.Params)
			pr.s(")")
		}
		if d.Result != nil {
			pr.s(": ")
			pr.typ(d.Result)
		}
		pr.s(" =")
		body := d.Body
		if _, isLet := body.(*Let); isLet {
			// One binding per line reads like the source people write.
			for {
				l, ok := body.(*Let)
				if !ok {
					break
				}
				pr.s("\n  let ")
				pr.pat(l.Pat)
				pr.s(" = ")
				pr.expr(l.Value, parserPrecLowest, false)
				pr.s(" in")
				body = l.Body
			}
			pr.s("\n ")
		}
		pr.s(" ")
		pr.expr(body, parserPrecLowest, false)
		pr.s("\n")
	case *RuleDecl:
		pr.s("rule ")
		pr.s(d.Name)
		pr.s("(")
		for i, v := range d.Vars {
			if i > 0 {
				pr.s(", ")
			}
			pr.s(v.Name)
		}
		pr.s("): ")
		pr.expr(d.LHS, parserPrecLowest, false)
		pr.s(" => ")
		pr.expr(d.RHS, parserPrecLowest, false)
		if d.Where != nil {
			pr.s(" where ")
			pr.expr(d.Where, parserPrecLowest, false)
		}
		pr.s("\n")
	case *StrategyDecl:
		pr.s("strategy ")
		pr.s(d.Name)
		pr.s(" = ")
		pr.s(ir.FormatStrat(d.Body))
		pr.s("\n")
	}
}

func (pr *printer) attr(a *Attr) {
	pr.s("@")
	pr.s(a.Name)
	switch {
	case a.Strategy != nil:
		pr.s("(")
		pr.s(ir.FormatStrat(a.Strategy))
		pr.s(")")
	case len(a.Args) > 0:
		pr.s("(")
		pr.exprs(a.Args)
		pr.s(")")
	}
}

func (pr *printer) params(ps []*Param) {
	for i, p := range ps {
		if i > 0 {
			pr.s(", ")
		}
		pr.s(p.Name)
		if p.Type != nil {
			pr.s(": ")
			pr.typ(p.Type)
		}
	}
}

// ---- types and patterns ----

func (pr *printer) typ(t TypeExpr) {
	switch t := t.(type) {
	case *NamedType:
		pr.s(t.Name)
	case *ArrayType:
		pr.s("[")
		if t.Dim.Name != "" {
			pr.s(t.Dim.Name)
		} else {
			pr.s(strconv.FormatInt(t.Dim.Lit, 10))
		}
		pr.s("]")
		// '->' binds looser than an array's element type.
		if _, isFunc := t.Elem.(*FuncType); isFunc {
			pr.s("(")
			pr.typ(t.Elem)
			pr.s(")")
		} else {
			pr.typ(t.Elem)
		}
	case *TupleType:
		pr.s("(")
		pr.types(t.Elems)
		pr.s(")")
	case *FuncType:
		// A single named or array parameter needs no parentheses; a single
		// tuple or function parameter does, since "(A, B) -> C" takes two
		// parameters and "((A, B)) -> C" one.
		single := false
		if len(t.Params) == 1 {
			switch t.Params[0].(type) {
			case *NamedType, *ArrayType:
				single = true
			}
		}
		if single {
			pr.typ(t.Params[0])
		} else {
			pr.s("(")
			pr.types(t.Params)
			pr.s(")")
		}
		pr.s(" -> ")
		pr.typ(t.Result)
	}
}

func (pr *printer) types(ts []TypeExpr) {
	for i, t := range ts {
		if i > 0 {
			pr.s(", ")
		}
		pr.typ(t)
	}
}

func (pr *printer) pat(p Pattern) {
	switch p := p.(type) {
	case *PatName:
		pr.s(p.Name)
	case *PatTuple:
		pr.s("(")
		for i, e := range p.Elems {
			if i > 0 {
				pr.s(", ")
			}
			pr.pat(e)
		}
		pr.s(")")
	}
}

// ---- expressions ----

// printerFloatRe is the lexer's float syntax; a FloatLit's Text is printed
// as written only when it still matches.
var printerFloatRe = regexp.MustCompile(`^(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)$`)

// printerPrec is the precedence level of the syntax that prints e.
func printerPrec(e Expr) int {
	switch e := e.(type) {
	case *Let, *If, *Lambda, *Loop:
		return parserPrecLowest
	case *Binary:
		if p, ok := parserBinPrec[e.Op]; ok {
			return p
		}
		return parserPrecOr
	case *Unary:
		return parserPrecUnary
	case *IntLit:
		if e.Val < 0 {
			return parserPrecUnary
		}
	case *FloatLit:
		if printerFloatText(e)[0] == '-' {
			return parserPrecUnary
		}
	case *Call, *Index, *Slice, *Field:
		return parserPrecPostfix
	}
	return parserPrecAtom
}

// printerFloatText is the source text of a float literal.
func printerFloatText(f *FloatLit) string {
	if printerFloatRe.MatchString(f.Text) {
		return f.Text
	}
	switch {
	case math.IsNaN(f.Val):
		return "nan"
	case math.IsInf(f.Val, 1):
		return "inf"
	case math.IsInf(f.Val, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f.Val, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// expr prints e where the grammar accepts precedence min and above.
// followed says that more operator or postfix syntax comes after e; a
// let/if/fn/loop would swallow it, so it must then be parenthesized.
func (pr *printer) expr(e Expr, min int, followed bool) {
	prec := printerPrec(e)
	if prec == parserPrecLowest {
		if followed {
			pr.s("(")
			pr.lowest(e)
			pr.s(")")
		} else {
			pr.lowest(e)
		}
		return
	}
	if prec < min {
		pr.s("(")
		pr.operand(e, false)
		pr.s(")")
		return
	}
	pr.operand(e, followed)
}

// lowest prints a let/if/fn/loop; the chain through bodies and else
// branches is walked by a loop, like the parser's.
func (pr *printer) lowest(e Expr) {
	for {
		switch x := e.(type) {
		case *Let:
			pr.s("let ")
			pr.pat(x.Pat)
			pr.s(" = ")
			pr.expr(x.Value, parserPrecLowest, false)
			pr.s(" in ")
			e = x.Body
		case *If:
			pr.s("if ")
			pr.expr(x.Cond, parserPrecLowest, false)
			pr.s(" then ")
			pr.expr(x.Then, parserPrecLowest, false)
			pr.s(" else ")
			e = x.Else
		case *Lambda:
			pr.s("fn(")
			pr.params(x.Params)
			pr.s(") => ")
			e = x.Body
		case *Loop:
			pr.s("loop ")
			pr.pat(x.Pat)
			pr.s(" = ")
			pr.expr(x.Init, parserPrecLowest, false)
			if x.Index != "" {
				pr.s(" for ")
				pr.s(x.Index)
				pr.s(" < ")
				pr.expr(x.Count, parserPrecLowest, false)
			} else {
				pr.s(" while ")
				pr.expr(x.Cond, parserPrecLowest, false)
			}
			pr.s(" do ")
			e = x.Body
		default:
			pr.expr(e, parserPrecLowest, false)
			return
		}
	}
}

// operand prints e itself, without deciding about its own parentheses.
func (pr *printer) operand(e Expr, followed bool) {
	switch e := e.(type) {
	case nil:
		pr.s("<nil>")
	case *Ident:
		pr.s(e.Name)
	case *IntLit:
		if e.Val == math.MinInt64 {
			// Its magnitude is not an i64 literal.
			pr.s("(-9223372036854775807 - 1)")
			return
		}
		pr.s(strconv.FormatInt(e.Val, 10))
	case *FloatLit:
		pr.s(printerFloatText(e))
	case *BoolLit:
		pr.s(strconv.FormatBool(e.Val))
	case *StringLit:
		pr.s(strconv.Quote(e.Val))
	case *Unary:
		pr.s(e.Op)
		pr.expr(e.X, parserPrecUnary, followed)
	case *Binary:
		prec := printerPrec(e)
		lmin, rmin := prec, prec+1 // left-associative
		switch {
		case e.Op == "^": // right-associative, exponent is a unary expression
			lmin, rmin = parserPrecPostfix, parserPrecUnary
		case prec == parserPrecCmp: // non-associative
			lmin = parserPrecCmp + 1
		}
		pr.expr(e.X, lmin, true)
		if e.Op == "^" {
			// Written tight, as in the spec: -x^2 + 2^3^2.
			pr.s("^")
		} else {
			pr.s(" ")
			pr.s(e.Op)
			pr.s(" ")
		}
		pr.expr(e.Y, rmin, followed)
	case *Call:
		pr.expr(e.Fn, parserPrecPostfix, true)
		pr.s("(")
		pr.exprs(e.Args)
		pr.s(")")
	case *Index:
		pr.expr(e.X, parserPrecPostfix, true)
		pr.s("[")
		pr.exprs(e.Indices)
		pr.s("]")
	case *Slice:
		pr.expr(e.X, parserPrecPostfix, true)
		pr.s("[")
		if e.Lo != nil {
			pr.expr(e.Lo, parserPrecLowest, false)
		}
		pr.s(":")
		if e.Hi != nil {
			pr.expr(e.Hi, parserPrecLowest, false)
		}
		pr.s("]")
	case *Field:
		pr.expr(e.X, parserPrecPostfix, true)
		switch e.X.(type) {
		case *IntLit, *FloatLit:
			// "1.0" would read as a float: keep the '.' apart.
			pr.s(" ")
		}
		pr.s(".")
		pr.s(strconv.Itoa(e.Index))
	case *Paren:
		pr.s("(")
		pr.expr(e.X, parserPrecLowest, false)
		pr.s(")")
	case *TupleLit:
		pr.s("(")
		pr.exprs(e.Elems)
		pr.s(")")
	case *ArrayLit:
		pr.s("[")
		pr.exprs(e.Elems)
		pr.s("]")
	case *Comprehension:
		pr.s("[")
		pr.expr(e.Body, parserPrecLowest, false)
		pr.s(" for ")
		for i, g := range e.Gens {
			if i > 0 {
				pr.s(", ")
			}
			pr.s(g.Name)
			pr.s(" < ")
			pr.expr(g.Bound, parserPrecLowest, false)
		}
		pr.s("]")
	default:
		pr.lowest(e)
	}
}

func (pr *printer) exprs(es []Expr) {
	for i, e := range es {
		if i > 0 {
			pr.s(", ")
		}
		pr.expr(e, parserPrecLowest, false)
	}
}
