package ir

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Print renders a program in Nabla's stable IR text form: each def as
// PrintDef prints it, separated by blank lines.
//
// The text form reads like the surface language (SPEC §4) so that users
// recognize their code in `nabla ir` and golden tests stay legible:
//
//	@jvp(f_jvp)
//	export def f(x: [n]f64, k: i64): f64 =
//	  let a: [n]f64 = map(fn(v: f64) => v * 2.0, x) in
//	  let s: f64 =
//	    loop acc: f64 = 0.0 for i < k do
//	      acc + a[i] ^ 2.0
//	  in
//	  -s ^ 2.0 + f64(dim[0](x))
//
// The notation, precisely:
//
//   - A def is `def name(p: T, ...): R =` with its body on the following
//     lines, indented two spaces; a value def is `def name: T =`. `export`
//     and attributes (`@jvp(g)`, `@inline`, `@strategy(...)`) come first.
//     Size variables are not listed: they appear in the parameters' types.
//   - Binders always carry their types: parameters, lambda parameters
//     (`fn(v: f64) => body`), lets (`let a: f64 = e in`, one per line,
//     chains flattened to the same indentation) and loop states
//     (`loop s: T = init for i < n do` / `loop s: T = init while c do`,
//     the body on the next lines). A loop index is always i64.
//   - Primitives with an operator print infix (or prefix for unary `-` and
//     `!`) with the fewest parentheses the SPEC §4 precedences allow; so
//     neg(pow(x, 2)) is `-x ^ 2.0` and pow(neg(x), 2) is `(-x) ^ 2.0`.
//     Parentheses are added around a prefix operand that itself begins
//     with `-` (`-(-x)`), and around a negative or unary right operand of
//     `^` (`x ^ (-1.0)`).
//   - index(a, i) prints as `a[i]` and array(a, b) as the literal
//     `[a, b]`; every other primitive prints as a call by its name,
//     `exp(x)`, `map(f, a)`, `build(n, fn(i: i64) => ...)`. A primitive's static Aux
//     parameter is shown in square brackets between the name and the
//     arguments: `dim[0](x)`, `zeros[n](n)`, `taylor[6](f, x, v, 6)`,
//     `reshape[m, n](a, m, n)` (a [2]Dim prints as "m, n"; a Dim by its
//     String, "?" when unknown; other values with %v).
//   - Global prints its name, Call `f(a, b)`, MakeTuple `(a, b)` (`(a,)`
//     for one element, `()` for unit), Proj `t.0`, If `if c then a else b`.
//   - Floats print in the shortest form that reads back exactly, always
//     with a `.` or an exponent (`1.0`, `0.5`, `1e-300`, `1e21`); integers
//     plainly; NaN and infinities as `nan`, `inf`, `-inf`.
//   - An expression containing no let and no loop prints on one line.
//     Otherwise lets, loops, lambdas and ifs break lines as above, a call
//     or tuple puts one argument per line, and a multi-line operand is
//     parenthesized on lines of its own.
//   - A variable prints as its Name. Within one def (or one PrintExpr
//     call), distinct *Var objects sharing a name are told apart by order
//     of first binding: the first keeps the name, later ones become
//     `x_1`, `x_2`, ..., skipping any name already in use (including the
//     names of globals the def refers to). A Var with an empty name is
//     named `v`.
//
// The output depends only on the IR, so it is byte-for-byte stable. Print
// does not require valid IR: nil children print as `<nil>`.
func Print(p *Program) string {
	var b strings.Builder
	for i, d := range p.Defs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(PrintDef(d))
	}
	return b.String()
}

// PrintDef renders one def, ending with a newline.
func PrintDef(d *Def) string {
	if d == nil {
		return "<nil def>\n"
	}
	p := newPrinter()
	p.nameDef(d)
	for _, a := range d.Attrs {
		p.attr(a)
		p.b.WriteByte('\n')
	}
	if d.Export {
		p.b.WriteString("export ")
	}
	p.b.WriteString("def ")
	p.b.WriteString(d.Name)
	if d.HasParams || len(d.Params) > 0 {
		p.params(d.Params)
		p.b.WriteString(": ")
		p.typ(d.Result)
	} else {
		t := d.Result
		if t == nil && d.Body != nil {
			t = d.Body.Type()
		}
		p.b.WriteString(": ")
		p.typ(t)
	}
	p.b.WriteString(" =")
	p.indent++
	p.nl()
	p.expr(d.Body, 0)
	p.b.WriteByte('\n')
	return p.b.String()
}

// PrintExpr renders one expression (without a trailing newline). Names are
// disambiguated within e alone.
func PrintExpr(e Expr) string {
	p := newPrinter()
	p.nameExpr(e)
	p.expr(e, 0)
	return p.b.String()
}

// FormatFloat formats a float as the IR printer does: the shortest text
// that reads back exactly, with a "." or an exponent, and nan, inf, -inf.
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(s, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + exp
}

// Precedence levels (SPEC §4), lowest first.
const (
	precLowest  = 1 // let, if, fn, loop
	precOr      = 2
	precAnd     = 3
	precCmp     = 4
	precAdd     = 5
	precMul     = 6
	precUnary   = 7
	precPow     = 8
	precPostfix = 9
	precAtom    = 10
)

func binaryPrec(op string) int {
	switch op {
	case "||":
		return precOr
	case "&&":
		return precAnd
	case "==", "!=", "<", "<=", ">", ">=":
		return precCmp
	case "+", "-":
		return precAdd
	case "*", "/", "%", "@":
		return precMul
	case "^":
		return precPow
	}
	return 0
}

// operandPrecs gives the precedences a binary operator's left and right
// operands need to print without parentheses: left-associative operators
// accept their own level on the left, comparisons (non-associative) on
// neither side, and ^ (right-associative) on the right only. A unary
// operand of ^ is parenthesized on both sides: (-x) ^ 2.0, x ^ (-1.0).
func operandPrecs(op string) (lmin, rmin int) {
	l := binaryPrec(op)
	switch l {
	case precCmp:
		return l + 1, l + 1
	case precPow:
		return precPostfix, precPow
	}
	return l, l + 1
}

type printer struct {
	b      strings.Builder
	indent int
	names  map[*Var]string
	flat   map[Expr]bool
}

func newPrinter() *printer {
	return &printer{names: map[*Var]string{}, flat: map[Expr]bool{}}
}

func (p *printer) nl() {
	p.b.WriteByte('\n')
	for i := 0; i < p.indent; i++ {
		p.b.WriteString("  ")
	}
}

// ---- naming ----

// namer collects the variables of a def or expression: binders in order
// of binding, and variables used without a binder in it (free variables,
// bound by an enclosing scope), which come first.
type namer struct {
	bound   map[*Var]bool
	binders []*Var
	used    map[*Var]bool
	uses    []*Var
	globals map[string]bool
}

func newNamer() *namer {
	return &namer{bound: map[*Var]bool{}, used: map[*Var]bool{}, globals: map[string]bool{}}
}

func (n *namer) v(v *Var) {
	if v != nil && !n.bound[v] {
		n.bound[v] = true
		n.binders = append(n.binders, v)
	}
}

func (n *namer) use(v *Var) {
	if v != nil && !n.used[v] {
		n.used[v] = true
		n.uses = append(n.uses, v)
	}
}

// order lists free variables by first use, then binders by first binding.
func (n *namer) order() []*Var {
	var out []*Var
	for _, v := range n.uses {
		if !n.bound[v] {
			out = append(out, v)
		}
	}
	return append(out, n.binders...)
}

func (n *namer) expr(e Expr) {
	if isNil(e) {
		return
	}
	switch e := e.(type) {
	case *Var:
		n.use(e)
	case *Global:
		n.globals[e.Name] = true
	case *Let:
		for {
			n.v(e.Var)
			n.expr(e.Value)
			next, ok := e.Body.(*Let)
			if !ok || next == nil {
				n.expr(e.Body)
				return
			}
			e = next
		}
	case *Lambda:
		for _, v := range e.Params {
			n.v(v)
		}
		n.expr(e.Body)
	case *Call:
		n.expr(e.Fn)
		for _, a := range e.Args {
			n.expr(a)
		}
	case *PrimCall:
		for _, a := range e.Args {
			n.expr(a)
		}
	case *MakeTuple:
		for _, a := range e.Elems {
			n.expr(a)
		}
	case *Proj:
		n.expr(e.X)
	case *If:
		n.expr(e.Cond)
		n.expr(e.Then)
		n.expr(e.Else)
	case *Loop:
		// Printed order: state, init, index, count or cond, body.
		n.v(e.State)
		n.expr(e.Init)
		n.v(e.Index)
		n.expr(e.Count)
		n.expr(e.Cond)
		n.expr(e.Body)
	}
}

func (p *printer) nameDef(d *Def) {
	n := newNamer()
	// Size variables first: parameter types refer to them by name.
	for _, sv := range d.SizeVars {
		n.v(sv.Var)
	}
	for _, v := range d.Params {
		n.v(v)
	}
	n.expr(d.Body)
	p.assign(n)
}

func (p *printer) nameExpr(e Expr) {
	n := newNamer()
	n.expr(e)
	p.assign(n)
}

func baseName(v *Var) string {
	if v.Name == "" {
		return "v"
	}
	return v.Name
}

// assign gives each variable its printed name: its own when no other
// variable (and no global) shares it, otherwise name_k with the smallest k
// that is not taken, in order of first binding.
func (p *printer) assign(n *namer) {
	taken := map[string]bool{}
	for g := range n.globals {
		taken[g] = true
	}
	order := n.order()
	for _, v := range order {
		taken[baseName(v)] = true
	}
	claimed := map[string]bool{}
	next := map[string]int{}
	for _, v := range order {
		base := baseName(v)
		if !claimed[base] && !n.globals[base] {
			claimed[base] = true
			p.names[v] = base
			continue
		}
		k := next[base]
		for {
			k++
			cand := base + "_" + strconv.Itoa(k)
			if !taken[cand] {
				taken[cand] = true
				claimed[cand] = true
				p.names[v] = cand
				break
			}
		}
		next[base] = k
	}
}

func (p *printer) name(v *Var) string {
	if s, ok := p.names[v]; ok {
		return s
	}
	return baseName(v) // not collected: cannot happen, but never panic
}

// ---- layout ----

// isFlat reports whether e prints on one line: it holds no let and no loop.
func (p *printer) isFlat(e Expr) bool {
	if isNil(e) {
		return true
	}
	switch e.(type) {
	case nil, *Var, *Const, *Global:
		return true
	case *Let, *Loop:
		return false
	}
	if f, ok := p.flat[e]; ok {
		return f
	}
	f := true
	switch e := e.(type) {
	case *Lambda:
		f = p.isFlat(e.Body)
	case *Call:
		f = p.isFlat(e.Fn) && p.allFlat(e.Args)
	case *PrimCall:
		f = p.allFlat(e.Args)
	case *MakeTuple:
		f = p.allFlat(e.Elems)
	case *Proj:
		f = p.isFlat(e.X)
	case *If:
		f = p.isFlat(e.Cond) && p.isFlat(e.Then) && p.isFlat(e.Else)
	}
	p.flat[e] = f
	return f
}

func (p *printer) allFlat(es []Expr) bool {
	for _, e := range es {
		if !p.isFlat(e) {
			return false
		}
	}
	return true
}

// prec is the precedence of e's printed form: the loosest operator at its
// top level.
func prec(e Expr) int {
	if isNil(e) {
		return precAtom
	}
	switch e := e.(type) {
	case *Let, *If, *Lambda, *Loop:
		return precLowest
	case *Const:
		if startsWithMinus(e) {
			return precUnary
		}
		return precAtom
	case *PrimCall:
		if isOpCall(e) {
			if len(e.Args) == 1 {
				return precUnary
			}
			return binaryPrec(e.Op.Op)
		}
		if isArrayLit(e) {
			return precAtom
		}
		return precPostfix
	case *Call, *Proj:
		return precPostfix
	}
	return precAtom
}

// isOpCall reports whether a primitive call prints as an operator.
func isOpCall(e *PrimCall) bool {
	if e.Op == nil || e.Op.Op == "" || e.Aux != nil {
		return false
	}
	switch len(e.Args) {
	case 1:
		return e.Op.Op == "-" || e.Op.Op == "!"
	case 2:
		return binaryPrec(e.Op.Op) != 0
	}
	return false
}

// isIndex reports whether a primitive call prints as a[i].
func isIndex(e *PrimCall) bool {
	return e.Op == PrimIndex && e.Aux == nil && len(e.Args) == 2
}

// isArrayLit reports whether a primitive call prints as [a, b, c].
func isArrayLit(e *PrimCall) bool {
	return e.Op == PrimArray && e.Aux == nil
}

// startsWithMinus reports whether e's printed form begins with "-".
func startsWithMinus(e Expr) bool {
	if isNil(e) {
		return false
	}
	switch e := e.(type) {
	case *Const:
		switch v := e.Val.(type) {
		case float64:
			return v < 0 || math.IsInf(v, -1) || (v == 0 && math.Signbit(v))
		case int64:
			return v < 0
		}
	case *PrimCall:
		if isOpCall(e) {
			if len(e.Args) == 1 {
				return e.Op.Op == "-"
			}
			lmin, _ := operandPrecs(e.Op.Op)
			return startsWithMinus(e.Args[0]) && prec(e.Args[0]) >= lmin
		}
	}
	return false
}

// expr prints e where an expression of precedence at least min is needed,
// adding parentheses when e binds more loosely.
func (p *printer) expr(e Expr, min int) {
	if isNil(e) {
		p.b.WriteString("<nil>")
		return
	}
	if prec(e) < min {
		p.b.WriteByte('(')
		if p.isFlat(e) {
			p.expr(e, 0)
		} else {
			p.indent++
			p.nl()
			p.expr(e, 0)
			p.indent--
			p.nl()
		}
		p.b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Var:
		p.b.WriteString(p.name(e))
	case *Const:
		p.b.WriteString(formatConst(e.Val))
	case *Global:
		p.b.WriteString(e.Name)
	case *Let:
		p.let(e)
	case *Lambda:
		p.b.WriteString("fn")
		p.params(e.Params)
		p.b.WriteString(" =>")
		p.body(e.Body)
	case *Call:
		p.expr(e.Fn, precPostfix)
		p.args(e.Args, "(", ")", false)
	case *PrimCall:
		p.prim(e)
	case *MakeTuple:
		p.args(e.Elems, "(", ")", len(e.Elems) == 1)
	case *Proj:
		p.expr(e.X, precPostfix)
		p.b.WriteByte('.')
		p.b.WriteString(strconv.Itoa(e.Index))
	case *If:
		p.ifExpr(e)
	case *Loop:
		p.loop(e)
	default:
		fmt.Fprintf(&p.b, "<unknown %T>", e)
	}
}

// body prints the body of a lambda or loop after its header: on the same
// line when flat, else indented on the following lines.
func (p *printer) body(e Expr) {
	if p.isFlat(e) {
		p.b.WriteByte(' ')
		p.expr(e, 0)
		return
	}
	p.indent++
	p.nl()
	p.expr(e, 0)
	p.indent--
}

func (p *printer) let(e *Let) {
	for {
		p.b.WriteString("let ")
		p.binder(e.Var)
		if p.isFlat(e.Value) {
			p.b.WriteString(" = ")
			p.expr(e.Value, 0)
			p.b.WriteString(" in")
		} else {
			p.b.WriteString(" =")
			p.indent++
			p.nl()
			p.expr(e.Value, 0)
			p.indent--
			p.nl()
			p.b.WriteString("in")
		}
		p.nl()
		next, ok := e.Body.(*Let)
		if !ok || next == nil {
			p.expr(e.Body, 0)
			return
		}
		e = next
	}
}

func (p *printer) ifExpr(e *If) {
	if p.isFlat(e) {
		p.b.WriteString("if ")
		p.expr(e.Cond, 0)
		p.b.WriteString(" then ")
		p.expr(e.Then, 0)
		p.b.WriteString(" else ")
		p.expr(e.Else, 0)
		return
	}
	for {
		p.b.WriteString("if ")
		p.operand(e.Cond, 0)
		p.b.WriteString(" then")
		p.indent++
		p.nl()
		p.expr(e.Then, 0)
		p.indent--
		p.nl()
		p.b.WriteString("else")
		next, ok := e.Else.(*If)
		if !ok || next == nil {
			p.indent++
			p.nl()
			p.expr(e.Else, 0)
			p.indent--
			return
		}
		p.b.WriteByte(' ')
		e = next
	}
}

func (p *printer) loop(e *Loop) {
	p.b.WriteString("loop ")
	p.binder(e.State)
	p.b.WriteString(" = ")
	p.operand(e.Init, 0)
	if e.Index != nil || e.Count != nil {
		p.b.WriteString(" for ")
		if e.Index != nil {
			p.b.WriteString(p.name(e.Index))
		} else {
			p.b.WriteString("<nil>")
		}
		p.b.WriteString(" < ")
		p.operand(e.Count, precAdd)
	}
	if e.Cond != nil || e.Index == nil && e.Count == nil {
		p.b.WriteString(" while ")
		p.operand(e.Cond, 0)
	}
	p.b.WriteString(" do")
	p.indent++
	p.nl()
	p.expr(e.Body, 0)
	p.indent--
}

// operand prints e in a position followed by more of the same line (a
// header, an operator): a multi-line e is parenthesized on its own lines.
func (p *printer) operand(e Expr, min int) {
	if p.isFlat(e) || prec(e) < min {
		p.expr(e, min)
		return
	}
	switch e.(type) {
	case *Let, *Loop, *If, *Lambda:
		p.b.WriteByte('(')
		p.indent++
		p.nl()
		p.expr(e, 0)
		p.indent--
		p.nl()
		p.b.WriteByte(')')
		return
	}
	p.expr(e, min)
}

// args prints a bracketed argument list: on one line when every argument
// is flat, else one argument per line. comma1 asks for the trailing comma
// of a one-element tuple.
func (p *printer) args(es []Expr, open, close string, comma1 bool) {
	p.b.WriteString(open)
	if p.allFlat(es) {
		for i, a := range es {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.expr(a, 0)
		}
		if comma1 {
			p.b.WriteByte(',')
		}
		p.b.WriteString(close)
		return
	}
	p.indent++
	for i, a := range es {
		p.nl()
		p.expr(a, 0)
		if i < len(es)-1 || comma1 {
			p.b.WriteByte(',')
		}
	}
	p.indent--
	p.nl()
	p.b.WriteString(close)
}

func (p *printer) prim(e *PrimCall) {
	switch {
	case isOpCall(e) && len(e.Args) == 1:
		p.b.WriteString(e.Op.Op)
		x := e.Args[0]
		if e.Op.Op == "-" && startsWithMinus(x) && prec(x) >= precUnary {
			p.b.WriteByte('(')
			p.expr(x, 0)
			p.b.WriteByte(')')
			return
		}
		p.operand(x, precUnary)
	case isOpCall(e):
		lmin, rmin := operandPrecs(e.Op.Op)
		p.operand(e.Args[0], lmin)
		p.b.WriteByte(' ')
		p.b.WriteString(e.Op.Op)
		p.b.WriteByte(' ')
		p.operand(e.Args[1], rmin)
	case isIndex(e):
		p.operand(e.Args[0], precPostfix)
		p.args(e.Args[1:], "[", "]", false)
	case isArrayLit(e):
		p.args(e.Args, "[", "]", false)
	default:
		if e.Op == nil {
			p.b.WriteString("<nil prim>")
		} else {
			p.b.WriteString(e.Op.Name)
		}
		if e.Aux != nil {
			p.b.WriteByte('[')
			p.b.WriteString(formatAux(e.Aux))
			p.b.WriteByte(']')
		}
		p.args(e.Args, "(", ")", false)
	}
}

func formatAux(aux any) string {
	switch a := aux.(type) {
	case Dim:
		return a.String()
	case [2]Dim:
		return a[0].String() + ", " + a[1].String()
	case []Dim:
		parts := make([]string, len(a))
		for i, d := range a {
			parts[i] = d.String()
		}
		return strings.Join(parts, ", ")
	case float64:
		return FormatFloat(a)
	case fmt.Stringer:
		return a.String()
	}
	return fmt.Sprintf("%v", aux)
}

func formatConst(v any) string {
	switch v := v.(type) {
	case float64:
		return FormatFloat(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("<bad const %T %v>", v, v)
}

func (p *printer) typ(t Type) { p.b.WriteString(typeString(t)) }

// typeString is Type.String, tolerating nil parts.
func typeString(t Type) string {
	if !typeOK(t) {
		return "<bad type>"
	}
	return t.String()
}

// typeOK reports whether t and all its parts are non-nil.
func typeOK(t Type) bool {
	switch t := t.(type) {
	case nil:
		return false
	case Scalar:
		return true
	case *Array:
		return t != nil && typeOK(t.Elem)
	case *Tuple:
		if t == nil {
			return false
		}
		for _, e := range t.Elems {
			if !typeOK(e) {
				return false
			}
		}
		return true
	case *Func:
		if t == nil || !typeOK(t.Result) {
			return false
		}
		for _, e := range t.Params {
			if !typeOK(e) {
				return false
			}
		}
		return true
	}
	return true
}

func (p *printer) binder(v *Var) {
	if v == nil {
		p.b.WriteString("<nil>")
		return
	}
	p.b.WriteString(p.name(v))
	p.b.WriteString(": ")
	p.typ(v.T)
}

func (p *printer) params(vs []*Var) {
	p.b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.binder(v)
	}
	p.b.WriteByte(')')
}

func (p *printer) attr(a Attr) {
	p.b.WriteByte('@')
	p.b.WriteString(a.Name)
	switch {
	case a.Fn != "":
		p.b.WriteString("(" + a.Fn + ")")
	case a.Strategy != nil:
		p.b.WriteString("(" + a.Strategy.String() + ")")
	}
}

// isNil reports whether e is nil or a typed nil pointer.
func isNil(e Expr) bool {
	switch e := e.(type) {
	case nil:
		return true
	case *Var:
		return e == nil
	case *Const:
		return e == nil
	case *Let:
		return e == nil
	case *Lambda:
		return e == nil
	case *Global:
		return e == nil
	case *Call:
		return e == nil
	case *PrimCall:
		return e == nil
	case *MakeTuple:
		return e == nil
	case *Proj:
		return e == nil
	case *If:
		return e == nil
	case *Loop:
		return e == nil
	}
	return false
}
