package lang

// The parser is a hand-written recursive-descent parser over the token
// stream of participle's lexer (lexer.go); participle's grammar engine is
// not used. The reasons are all about error quality and robustness:
//
//   - Exact positions. participle reports a failure inside a repetition at
//     the start of the failed iteration, so "x + * 2.0" would be blamed on
//     the '+'. Here every error names the token actually at fault
//     ("unexpected '*', expected an expression" at the '*').
//   - Expressions are parsed by precedence climbing (parseBinary), with the
//     non-associative comparisons rejected at the second operator.
//   - Bounded recursion. participle overflows the goroutine stack on deeply
//     nested input (participle issue #480). Every recursive entry point here
//     calls parser.enter, which stops at parserMaxDepth levels with a
//     positioned error; let chains and else-if chains are parsed by loops,
//     so long sequential code does not count as nesting.
//   - Context the grammar engine cannot express: "t.1.0" lexes as t, '.',
//     the float 1.0, and parsePostfix splits such a float into two field
//     projections; and a line-leading "@name" ends an expression instead of
//     being read as the matrix product '@' (see atAttrStart).
//
// Syntax errors abort the current declaration by panicking with
// parserBailout, which parseFile recovers (the technique of go/parser);
// parsing then resumes at the next token that can begin a declaration, so
// one run reports several independent errors. No other panic is recovered.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nabla-lang/nabla/ir"
)

// parserMaxDepth bounds syntactic nesting (brackets, operands of unary
// operators and '^', bodies of let/if/fn/loop, nested types, patterns and
// strategies). Real programs stay far below it, and it keeps the parser
// off participle's stack-overflow path. Sequential chains (let and
// else-if chains, left-associative operators, postfix operators) are not
// bounded: they nest the tree only in proportion to the input's length,
// which Go's growable stacks absorb in the parser and in later passes.
const parserMaxDepth = 200

// parserMaxChain bounds the depth that sequential chains give the tree:
// each operand of an operator chain (a + b + c), each let of a let chain,
// each else-if and each postfix operation is one level, and chains
// inside chains add up. The checker, AD and the optimizer recurse over
// the tree, about a kilobyte of Go stack per level, and a goroutine's
// stack is limited to 1 GB (overflowing it kills the process), so a 10
// MB line of '1.0 + 1.0 + ...' must be refused. The bound leaves room
// for a 200,000-term chain.
const parserMaxChain = 250000

// parserMaxErrors bounds how many errors one file reports.
const parserMaxErrors = 10

// Operator precedences (SPEC §4), higher binds tighter. let/if/fn/loop are
// parserPrecLowest; postfix operators and atoms are above every binary operator.
const (
	parserPrecLowest  = 0
	parserPrecOr      = 1
	parserPrecAnd     = 2
	parserPrecCmp     = 3
	parserPrecAdd     = 4
	parserPrecMul     = 5
	parserPrecUnary   = 6
	parserPrecPow     = 7
	parserPrecPostfix = 8
	parserPrecAtom    = 9
)

// parserBinPrec is the precedence of each binary operator token.
var parserBinPrec = map[string]int{
	"||": parserPrecOr,
	"&&": parserPrecAnd,
	"==": parserPrecCmp, "!=": parserPrecCmp, "<": parserPrecCmp, "<=": parserPrecCmp, ">": parserPrecCmp, ">=": parserPrecCmp,
	"+": parserPrecAdd, "-": parserPrecAdd,
	"*": parserPrecMul, "/": parserPrecMul, "%": parserPrecMul, "@": parserPrecMul,
	"^": parserPrecPow,
}

// ParseFile parses one source file. On error it returns an ir.ErrorList
// whose entries are *ir.Error with exact positions, in source order, along
// with the declarations that did parse.
func ParseFile(filename string, src []byte) (*File, error) {
	p := newParser(filename, string(src), true)
	f := p.parseFile()
	return f, p.errs.Err()
}

// ParseExpr parses a single expression that makes up all of src.
func ParseExpr(filename string, src string) (Expr, error) {
	p := newParser(filename, src, false)
	var e Expr
	p.guard(func() {
		e = p.parseExpr()
		p.expectEOF()
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return e, nil
}

// ParseStrategy parses a strategy expression that makes up all of src,
// such as "default; topdown(try(map_fuse)); cleanup".
func ParseStrategy(filename string, src string) (ir.Strat, error) {
	p := newParser(filename, src, false)
	var s ir.Strat
	p.guard(func() {
		s = p.parseStrat()
		p.expectEOF()
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

// parser holds the state of one parse.
type parser struct {
	filename string
	toks     []token
	i        int     // index in toks of the token after tok
	tok      token   // the current token
	pending  []token // tokens to deliver before toks[i] (from splitting "1.0")
	ntok     int     // tokens consumed so far, to detect lack of progress
	depth    int     // current nesting, see enter
	chain    int     // current depth from sequential chains, see link
	inFile   bool    // parsing a file: a line-leading "@name" starts an attribute
	eof      string  // how to describe the end of the input
	// lexReported is set once the lexical error token ending the stream
	// has been reported.
	lexReported bool
	errs        ir.ErrorList
}

// parserBailout is the panic value that aborts a declaration after an error.
type parserBailout struct{}

func newParser(filename, src string, inFile bool) *parser {
	p := &parser{filename: filename, toks: lxTokens(filename, src), inFile: inFile, eof: "end of input"}
	if inFile {
		p.eof = "end of file"
	}
	p.next()
	return p
}

// guard runs f, turning a parserBailout into a normal return. It reports
// whether f completed.
func (p *parser) guard(f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBailout := r.(parserBailout); !isBailout {
				panic(r)
			}
			ok = false
		}
	}()
	f()
	return true
}

// ---- tokens ----

// next moves to the next token; at the end it stays on EOF.
func (p *parser) next() {
	p.ntok++
	if n := len(p.pending); n > 0 {
		p.tok = p.pending[n-1]
		p.pending = p.pending[:n-1]
		return
	}
	if p.i < len(p.toks) {
		p.tok = p.toks[p.i]
		p.i++
	}
}

// peek returns the token after the current one.
func (p *parser) peek() token {
	if n := len(p.pending); n > 0 {
		return p.pending[n-1]
	}
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return p.tok // EOF
}

// is reports whether the current token is the operator, delimiter or
// keyword s.
func (p *parser) is(s string) bool {
	return (p.tok.kind == tokPunct || p.tok.kind == tokKeyword) && p.tok.text == s
}

// got consumes the current token if it is s.
func (p *parser) got(s string) bool {
	if p.is(s) {
		p.next()
		return true
	}
	return false
}

// describe names a token for an error message.
func (p *parser) describe(t token) string {
	switch t.kind {
	case tokEOF:
		return p.eof
	case tokString:
		return "string " + parserClip(t.text)
	}
	return "'" + parserClip(t.text) + "'"
}

// parserClip shortens long token texts in messages, without splitting a
// UTF-8 sequence.
func parserClip(s string) string {
	if len(s) <= 24 {
		return s
	}
	i := 21
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// parserAt formats a position as "line:col" for messages that refer back
// to an earlier token.
func parserAt(pos Pos) string {
	return fmt.Sprintf("%d:%d", pos.Line, pos.Col)
}

// ---- errors ----

// fail records an error at pos and aborts the current declaration.
func (p *parser) fail(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, ir.Errorf(pos, format, args...))
	panic(parserBailout{})
}

// failTok reports an error about token t; if t is a lexical error token,
// its own message is reported instead, since it explains the real problem.
func (p *parser) failTok(t token, format string, args ...any) {
	if t.kind == tokError {
		p.lexReported = true
		p.fail(t.pos, "%s", t.text)
	}
	p.fail(t.pos, format, args...)
}

// unexpected reports the current token where what was expected.
func (p *parser) unexpected(what string) {
	p.failTok(p.tok, "unexpected %s, expected %s", p.describe(p.tok), what)
}

// expect consumes s or reports "expected s <context>, found X".
func (p *parser) expect(s, context string) token {
	t := p.tok
	if !p.got(s) {
		if context != "" {
			context = " " + context
		}
		p.failTok(p.tok, "expected '%s'%s, found %s", s, context, p.describe(p.tok))
	}
	return t
}

// expectClose consumes the closing delimiter matching open.
func (p *parser) expectClose(close string, open token) {
	if !p.got(close) {
		p.failTok(p.tok, "expected '%s' to close '%s' at %s, found %s",
			close, open.text, parserAt(open.pos), p.describe(p.tok))
	}
}

// expectIdent consumes a name; what says what the name is for.
func (p *parser) expectIdent(what string) token {
	t := p.tok
	if t.kind != tokIdent {
		if t.kind == tokKeyword {
			p.failTok(t, "expected %s, found keyword '%s' (keywords cannot be names)", what, t.text)
		}
		p.failTok(t, "expected %s, found %s", what, p.describe(t))
	}
	p.next()
	return t
}

// expectEOF checks that the whole input was consumed.
func (p *parser) expectEOF() {
	if p.tok.kind != tokEOF {
		p.failTok(p.tok, "unexpected %s after the end of the expression", p.describe(p.tok))
	}
}

// link counts one more level of a sequential chain (see
// parserMaxChain); the chain's parser restores p.chain when it is done.
func (p *parser) link(pos Pos) {
	p.chain++
	if p.chain > parserMaxChain {
		p.fail(pos, "expression nested too deeply: more than %d levels (each operand of an operator chain, let of a let chain, else-if and postfix operation counts as one)", parserMaxChain)
	}
}

// enter counts one level of nesting; the caller decrements p.depth when it
// returns normally (a bailout resets the count per declaration instead).
func (p *parser) enter() {
	p.depth++
	if p.depth > parserMaxDepth {
		p.fail(p.tok.pos, "nesting too deep: more than %d levels", parserMaxDepth)
	}
}

// ---- literals ----

// parseIntText converts the text of an integer token.
func (p *parser) parseIntText(t token, what string) int64 {
	if len(t.text) > 1 && t.text[0] == '0' {
		// Go would read 017 as octal and Python rejects it: refuse rather
		// than guess.
		p.fail(t.pos, "invalid %s %s: leading zeros are not allowed", what, parserClip(t.text))
	}
	v, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		p.fail(t.pos, "%s %s is out of range for i64", what, parserClip(t.text))
	}
	return v
}

// ---- declarations ----

// isDeclStart reports whether the current token can begin a declaration or
// ends the file: that is where a declaration's body must stop.
func (p *parser) isDeclStart() bool {
	switch p.tok.kind {
	case tokEOF:
		return true
	case tokKeyword:
		switch p.tok.text {
		case "import", "def", "export", "rule", "strategy":
			return true
		}
	case tokPunct:
		return p.tok.text == "@"
	}
	return false
}

// parseFile parses declarations until the end, recovering after errors.
func (p *parser) parseFile() *File {
	f := &File{Name: p.filename}
	for p.tok.kind != tokEOF && len(p.errs) < parserMaxErrors {
		start := p.ntok
		if p.guard(func() { p.parseTopLevel(f) }) {
			continue
		}
		if p.tok.kind == tokError && p.lexReported {
			break // lexing stopped here; nothing follows
		}
		if p.ntok == start {
			p.next()
		}
		p.syncDecl()
	}
	return f
}

// syncDecl skips to a token where a declaration can begin: a declaration
// keyword, or an attribute at the start of a line.
func (p *parser) syncDecl() {
	for p.tok.kind != tokEOF && p.tok.kind != tokError {
		if p.tok.kind == tokKeyword && p.isDeclStart() || p.atAttrStart() {
			return
		}
		p.next()
	}
}

// parseTopLevel parses one import or declaration into f.
func (p *parser) parseTopLevel(f *File) {
	p.depth, p.chain = 0, 0
	if p.is("import") {
		t := p.tok
		if len(f.Decls) > 0 {
			p.fail(t.pos, "imports must come before declarations")
		}
		p.next()
		if p.tok.kind != tokString {
			p.failTok(p.tok, "expected a quoted module path after 'import', found %s", p.describe(p.tok))
		}
		path := p.stringValue(p.tok)
		p.next()
		f.Imports = append(f.Imports, &Import{Pos: t.pos, Path: path})
		p.endDecl("the import")
		return
	}
	switch {
	case p.is("def"), p.is("export"), p.is("@"):
		d := p.parseFuncDecl()
		f.Decls = append(f.Decls, d)
		p.endDecl("the definition of '" + d.Name + "'")
	case p.is("rule"):
		d := p.parseRule()
		f.Decls = append(f.Decls, d)
		p.endDecl("rule '" + d.Name + "'")
	case p.is("strategy"):
		d := p.parseStrategyDecl()
		f.Decls = append(f.Decls, d)
		p.endDecl("strategy '" + d.Name + "'")
	default:
		p.failTok(p.tok, "unexpected %s, expected a declaration ('def', 'rule', 'strategy' or 'import')", p.describe(p.tok))
	}
}

// endDecl checks that a declaration is followed by another or by the end.
// Expressions stop at the first token that cannot continue them, so this is
// where "x y" or a stray ')' gets reported.
func (p *parser) endDecl(what string) {
	if !p.isDeclStart() {
		p.failTok(p.tok, "unexpected %s after %s", p.describe(p.tok), what)
	}
}

// stringValue decodes a string literal token (Go escape syntax).
func (p *parser) stringValue(t token) string {
	s, err := strconv.Unquote(t.text)
	if err != nil {
		p.fail(t.pos, "invalid escape sequence in string literal %s", parserClip(t.text))
	}
	return s
}

// parseFuncDecl parses `[attrs] [export] def name[(params)][: T] = body`.
func (p *parser) parseFuncDecl() *FuncDecl {
	d := &FuncDecl{Attrs: p.parseAttrs()}
	d.Pos = p.tok.pos
	if p.got("export") {
		d.Export = true
		p.expect("def", "after 'export'")
	} else if !p.got("def") {
		hint := ""
		if p.tok.kind != tokKeyword {
			// Perhaps a matrix product continued on a new line: say why
			// it was read as an attribute.
			hint = " (an '@' at the start of a line followed directly by a name begins an attribute; write '@ name' for a matrix product)"
		}
		p.failTok(p.tok, "expected 'def' after attributes, found %s%s", p.describe(p.tok), hint)
	}
	name := p.expectIdent("a name after 'def'")
	d.Name, d.NamePos = name.text, name.pos
	if p.is("(") {
		d.HasParams = true
		lp := p.tok
		p.next()
		if !p.is(")") {
			for {
				d.Params = append(d.Params, p.parseParam(true))
				if !p.got(",") {
					break
				}
			}
		}
		p.expectClose(")", lp)
	}
	if p.got(":") {
		d.Result = p.parseType()
	}
	p.expect("=", "before the body of '"+d.Name+"'")
	d.Body = p.parseExpr()
	return d
}

// parseParam parses `name: T`; the type is optional for lambdas only.
func (p *parser) parseParam(needType bool) *Param {
	name := p.expectIdent("a parameter name")
	prm := &Param{Pos: name.pos, Name: name.text}
	if p.got(":") {
		prm.Type = p.parseType()
	} else if needType {
		p.failTok(p.tok, "expected ':' and a type after parameter '%s', found %s", name.text, p.describe(p.tok))
	}
	return prm
}

// parseAttrs parses `@name` and `@name(args)` attributes. The name must
// follow the '@' directly: that is what distinguishes an attribute from
// the matrix-product operator (see atAttrStart).
func (p *parser) parseAttrs() []*Attr {
	var attrs []*Attr
	for p.is("@") {
		at := p.tok
		p.next()
		if !parserIsAttrName(p.tok) || p.tok.off != at.off+1 {
			p.failTok(p.tok, "expected an attribute name right after '@', found %s", p.describe(p.tok))
		}
		a := &Attr{Pos: at.pos, Name: p.tok.text}
		p.next()
		if a.Name == "strategy" {
			if !p.is("(") {
				p.failTok(p.tok, "expected '(' and a strategy after '@strategy', found %s", p.describe(p.tok))
			}
			lp := p.tok
			p.next()
			a.Strategy = p.parseStrat()
			p.expectClose(")", lp)
		} else if p.is("(") {
			lp := p.tok
			p.next()
			if !p.is(")") {
				for {
					a.Args = append(a.Args, p.parseAttrArg())
					if !p.got(",") {
						break
					}
				}
			}
			p.expectClose(")", lp)
		}
		attrs = append(attrs, a)
	}
	return attrs
}

// parseAttrArg parses one attribute argument: a string or an expression.
func (p *parser) parseAttrArg() Expr {
	if p.tok.kind == tokString {
		t := p.tok
		p.next()
		return &StringLit{Pos: t.pos, Val: p.stringValue(t)}
	}
	return p.parseExpr()
}

// parseRule parses `rule name(v1, ...): lhs => rhs [where cond]`.
func (p *parser) parseRule() *RuleDecl {
	d := &RuleDecl{Pos: p.tok.pos}
	p.next()
	d.Name = p.expectIdent("a name after 'rule'").text
	lp := p.expect("(", "and the rule's variables after its name")
	if !p.is(")") {
		for {
			v := p.expectIdent("a rule variable")
			d.Vars = append(d.Vars, &Ident{Pos: v.pos, Name: v.text})
			if !p.got(",") {
				break
			}
		}
	}
	p.expectClose(")", lp)
	p.expect(":", "before the left-hand side of rule '"+d.Name+"'")
	d.LHS = p.parseExpr()
	p.expect("=>", "between the two sides of rule '"+d.Name+"'")
	d.RHS = p.parseExpr()
	if p.got("where") {
		d.Where = p.parseExpr()
	}
	return d
}

// parseStrategyDecl parses `strategy name = s`.
func (p *parser) parseStrategyDecl() *StrategyDecl {
	d := &StrategyDecl{Pos: p.tok.pos}
	p.next()
	d.Name = p.expectIdent("a name after 'strategy'").text
	p.expect("=", "after the strategy's name")
	d.Body = p.parseStrat()
	return d
}

// ---- strategies ----

// parseStrat parses s1; s2; ... where each step is a left choice.
func (p *parser) parseStrat() ir.Strat {
	p.enter()
	first := p.parseStratChoice()
	if !p.is(";") {
		p.depth--
		return first
	}
	seq := &ir.StratSeq{P: first.Pos(), Steps: []ir.Strat{first}}
	for p.got(";") {
		seq.Steps = append(seq.Steps, p.parseStratChoice())
	}
	p.depth--
	return seq
}

// parseStratChoice parses s1 <+ s2 <+ ...
func (p *parser) parseStratChoice() ir.Strat {
	first := p.parseStratTerm()
	if !p.is("<+") {
		return first
	}
	ch := &ir.StratChoice{P: first.Pos(), Alts: []ir.Strat{first}}
	for p.got("<+") {
		ch.Alts = append(ch.Alts, p.parseStratTerm())
	}
	return ch
}

// parseStratTerm parses a name, an application name(s, ...), or (s).
func (p *parser) parseStratTerm() ir.Strat {
	if p.is("(") {
		lp := p.tok
		p.next()
		s := p.parseStrat()
		p.expectClose(")", lp)
		return s
	}
	if p.tok.kind != tokIdent {
		p.unexpected("a strategy")
	}
	n := &ir.StratName{P: p.tok.pos, Name: p.tok.text}
	p.next()
	if p.is("(") {
		lp := p.tok
		p.next()
		for {
			n.Args = append(n.Args, p.parseStrat())
			if !p.got(",") {
				break
			}
		}
		p.expectClose(")", lp)
	}
	return n
}

// ---- types ----

// parseType parses a type: T, [d]T, (T1, ...), or a function type with
// a right-associative '->'. "(T)" is T, while "(T1, T2) -> U" takes two
// parameters and "((T1, T2)) -> U" one tuple parameter.
func (p *parser) parseType() TypeExpr {
	p.enter()
	start := p.tok.pos
	t, list, isList := p.parseTypeOperand()
	if p.got("->") {
		res := p.parseType()
		if !isList {
			list = []TypeExpr{t}
		}
		t = &FuncType{Pos: start, Params: list, Result: res}
	}
	p.depth--
	return t
}

// parseTypeOperand parses a type without a top-level '->'. For a
// parenthesized list it returns the list and isList, and as t the type the
// list stands for when no '->' follows: the single element, or a tuple.
func (p *parser) parseTypeOperand() (t TypeExpr, list []TypeExpr, isList bool) {
	p.enter()
	defer func() { p.depth-- }()
	switch {
	case p.tok.kind == tokIdent:
		t := &NamedType{Pos: p.tok.pos, Name: p.tok.text}
		p.next()
		return t, nil, false
	case p.is("["):
		lb := p.tok
		p.next()
		dim := DimExpr{Pos: p.tok.pos}
		switch p.tok.kind {
		case tokInt:
			dim.Lit = p.parseIntText(p.tok, "array size")
		case tokIdent:
			dim.Name = p.tok.text
		default:
			p.failTok(p.tok, "expected an array size (an integer or a name), found %s", p.describe(p.tok))
		}
		p.next()
		p.expectClose("]", lb)
		elem, _, _ := p.parseTypeOperand()
		return &ArrayType{Pos: lb.pos, Dim: dim, Elem: elem}, nil, false
	case p.is("("):
		lp := p.tok
		p.next()
		comma := false
		if !p.is(")") {
			for {
				list = append(list, p.parseType())
				if !p.got(",") {
					break
				}
				comma = true
			}
		}
		p.expectClose(")", lp)
		if len(list) == 1 && !comma {
			return list[0], list, true
		}
		return &TupleType{Pos: lp.pos, Elems: list}, list, true
	}
	p.unexpected("a type")
	return nil, nil, false
}

// ---- patterns ----

// parsePattern parses a name or a nested tuple of names; "(p)" is p.
func (p *parser) parsePattern() Pattern {
	p.enter()
	defer func() { p.depth-- }()
	if p.tok.kind == tokIdent {
		t := p.tok
		p.next()
		return &PatName{Pos: t.pos, Name: t.text}
	}
	if !p.is("(") {
		if p.tok.kind == tokKeyword {
			p.failTok(p.tok, "expected a name or a tuple pattern, found keyword '%s' (keywords cannot be names)", p.tok.text)
		}
		p.unexpected("a name or a tuple pattern")
	}
	lp := p.tok
	p.next()
	pt := &PatTuple{Pos: lp.pos}
	comma := false
	if !p.is(")") {
		for {
			pt.Elems = append(pt.Elems, p.parsePattern())
			if !p.got(",") {
				break
			}
			comma = true
		}
	}
	p.expectClose(")", lp)
	if len(pt.Elems) == 1 && !comma {
		return pt.Elems[0]
	}
	return pt
}

// ---- expressions ----

// parseExpr parses an expression at the lowest precedence.
func (p *parser) parseExpr() Expr {
	p.enter()
	e := p.parseBinary(parserPrecOr)
	p.depth--
	return e
}

// atAttrStart reports whether the current '@' begins an attribute of the
// next declaration rather than a matrix product: it is the first token on
// its line and a name follows it directly, as in
//
//	def f_jvp(x: f64, dx: f64) = (x * x, 2.0 * dx)
//	@jvp(f_jvp)
//	def f(x: f64): f64 = x * x
//
// Without this rule the first body would read "(...) @ jvp(f_jvp)".
func (p *parser) atAttrStart() bool {
	if !p.inFile || !p.is("@") || !p.tok.first {
		return false
	}
	nt := p.peek()
	return parserIsAttrName(nt) && nt.off == p.tok.off+1
}

// parserIsAttrName reports whether t can name an attribute: any identifier,
// or the keyword strategy.
func parserIsAttrName(t token) bool {
	return t.kind == tokIdent || t.kind == tokKeyword && t.text == "strategy"
}

// parseBinary parses binary operators of precedence min and above by
// precedence climbing. Operators of one level associate to the left,
// except comparisons, which do not associate: "a < b < c" is an error at
// the second '<'. '^' is handled by parsePower.
func (p *parser) parseBinary(min int) Expr {
	saved := p.chain
	defer func() { p.chain = saved }()
	x := p.parseUnary()
	cmp := false
	for p.tok.kind == tokPunct {
		op := p.tok
		prec := parserBinPrec[op.text]
		if prec == 0 || prec < min || prec == parserPrecPow {
			break
		}
		if op.text == "@" && p.atAttrStart() {
			break
		}
		if prec == parserPrecCmp {
			if cmp {
				p.fail(op.pos, "unexpected '%s': comparison operators do not chain; use parentheses or '&&'", op.text)
			}
			cmp = true
		}
		p.next()
		p.link(op.pos)
		y := p.parseBinary(prec + 1)
		x = &Binary{Pos: op.pos, Op: op.text, X: x, Y: y}
	}
	return x
}

// parseUnary parses prefix '-' and '!', which bind looser than '^'.
func (p *parser) parseUnary() Expr {
	if p.is("-") || p.is("!") {
		op := p.tok
		p.next()
		p.enter()
		x := p.parseUnary()
		p.depth--
		return &Unary{Pos: op.pos, Op: op.text, X: x}
	}
	return p.parsePower()
}

// parsePower parses base ^ exponent. The exponent is a unary expression,
// which makes '^' right-associative (2^3^2 is 2^9) and allows 2^-x.
func (p *parser) parsePower() Expr {
	x := p.parsePostfix()
	if p.is("^") {
		op := p.tok
		p.next()
		p.enter()
		y := p.parseUnary()
		p.depth--
		x = &Binary{Pos: op.pos, Op: "^", X: x, Y: y}
	}
	return x
}

// parsePostfix parses calls, indexing, slicing, field projections and
// qualified names.
func (p *parser) parsePostfix() Expr {
	saved := p.chain
	defer func() { p.chain = saved }()
	x := p.parsePrimary()
	for {
		if p.is("(") || p.is("[") || p.is(".") {
			p.link(p.tok.pos)
		}
		switch {
		case p.is("("):
			lp := p.tok
			p.next()
			c := &Call{Pos: StartPos(x), Fn: x, LPos: lp.pos}
			if !p.is(")") {
				for {
					// A string argument is assert's message; the checker
					// rejects strings anywhere else.
					c.Args = append(c.Args, p.parseAttrArg())
					if !p.got(",") {
						break
					}
				}
			}
			p.expectClose(")", lp)
			x = c
		case p.is("["):
			x = p.parseIndex(x)
		case p.is("."):
			x = p.parseField(x)
		default:
			return x
		}
	}
}

// parseIndex parses a[i], a[i, j] or a slice a[lo:hi] with optional bounds.
func (p *parser) parseIndex(x Expr) Expr {
	lb := p.tok
	p.next()
	if p.got(":") {
		s := &Slice{Pos: lb.pos, X: x}
		if !p.is("]") {
			s.Hi = p.parseExpr()
		}
		p.expectClose("]", lb)
		return s
	}
	if p.is("]") {
		p.unexpected("an index")
	}
	first := p.parseExpr()
	if p.got(":") {
		s := &Slice{Pos: lb.pos, X: x, Lo: first}
		if !p.is("]") {
			s.Hi = p.parseExpr()
		}
		p.expectClose("]", lb)
		return s
	}
	ix := &Index{Pos: lb.pos, X: x, Indices: []Expr{first}}
	for p.got(",") {
		ix.Indices = append(ix.Indices, p.parseExpr())
		if p.is(":") {
			p.fail(p.tok.pos, "a slice takes a single range: write a[lo:hi] on its own")
		}
	}
	p.expectClose("]", lb)
	return ix
}

// parseField parses a field projection .N, or the second half of a
// qualified name module.def. The lexer reads "t.1.0" as t '.' 1.0, so a
// float of the form digits.digits after '.' is split here into the index
// and a further '.' digits projection.
func (p *parser) parseField(x Expr) Expr {
	dot := p.tok
	p.next()
	t := p.tok
	switch t.kind {
	case tokIdent:
		// A qualified name module.def (SPEC §11: optim.lbfgs) is one Ident
		// named "optim.lbfgs"; the checker resolves the qualifier.
		id, isIdent := x.(*Ident)
		if !isIdent {
			p.fail(t.pos, "expected a tuple field index (an integer) after '.', found '%s'", parserClip(t.text))
		}
		if strings.Contains(id.Name, ".") {
			p.fail(t.pos, "unexpected '%s': a qualified name has a single module qualifier, as in optim.lbfgs", parserClip(t.text))
		}
		p.next()
		return &Ident{Pos: id.Pos, Name: id.Name + "." + t.text}
	case tokInt:
		p.next()
	case tokFloat:
		i := strings.IndexByte(t.text, '.')
		if i < 0 || strings.ContainsAny(t.text, "eE") {
			p.fail(t.pos, "expected a tuple field index (an integer) after '.', found '%s'", parserClip(t.text))
		}
		// Keep the integer part as this field's index; the current token
		// becomes the '.' and the fraction digits come next.
		frac := token{kind: tokInt, text: t.text[i+1:], off: t.off + i + 1,
			pos: Pos{File: t.pos.File, Line: t.pos.Line, Col: t.pos.Col + i + 1}}
		p.pending = append(p.pending, frac)
		p.tok = token{kind: tokPunct, text: ".", off: t.off + i,
			pos: Pos{File: t.pos.File, Line: t.pos.Line, Col: t.pos.Col + i}}
		t.text = t.text[:i]
	default:
		p.failTok(t, "expected a tuple field index (an integer) after '.', found %s", p.describe(t))
	}
	idx := p.parseIntText(t, "tuple field index")
	if idx > int64(^uint32(0)>>1) {
		p.fail(t.pos, "tuple field index %d is too large", idx)
	}
	return &Field{Pos: dot.pos, X: x, Index: int(idx)}
}

// parsePrimary parses an atom, or one of the lowest-precedence forms let,
// if, fn and loop. These may stand as the last operand of an operator
// ("2.0 * if c then a else b", as in OCaml or Haskell) and extend as far
// to the right as possible.
func (p *parser) parsePrimary() Expr {
	t := p.tok
	switch t.kind {
	case tokIdent:
		p.next()
		return &Ident{Pos: t.pos, Name: t.text}
	case tokInt:
		p.next()
		return &IntLit{Pos: t.pos, Val: p.parseIntText(t, "integer literal")}
	case tokFloat:
		p.next()
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil && math.IsInf(v, 0) { // overflow; underflow to 0 is fine
			p.fail(t.pos, "float literal %s is out of range for f64", parserClip(t.text))
		}
		return &FloatLit{Pos: t.pos, Val: v, Text: t.text}
	case tokString:
		p.fail(t.pos, "string literals are only allowed in imports, attributes and assert's message")
	case tokKeyword:
		switch t.text {
		case "true", "false":
			p.next()
			return &BoolLit{Pos: t.pos, Val: t.text == "true"}
		case "let":
			return p.parseLet()
		case "if":
			return p.parseIf()
		case "fn":
			return p.parseLambda()
		case "loop":
			return p.parseLoop()
		}
	case tokPunct:
		switch t.text {
		case "(":
			return p.parseParen()
		case "[":
			return p.parseBracket()
		}
	}
	p.unexpected("an expression")
	return nil
}

// parseParen parses (), (e) and (e1, e2, ...).
func (p *parser) parseParen() Expr {
	lp := p.tok
	p.next()
	if p.got(")") {
		return &TupleLit{Pos: lp.pos}
	}
	first := p.parseExpr()
	if !p.is(",") {
		p.expectClose(")", lp)
		return &Paren{Pos: lp.pos, X: first}
	}
	tl := &TupleLit{Pos: lp.pos, Elems: []Expr{first}}
	for p.got(",") {
		tl.Elems = append(tl.Elems, p.parseExpr())
	}
	p.expectClose(")", lp)
	return tl
}

// parseBracket parses an array literal [a, b] or a comprehension
// [e for i < m, j < n]. "[]" is rejected: nothing would give its element
// type.
func (p *parser) parseBracket() Expr {
	lb := p.tok
	p.next()
	if p.is("]") {
		p.fail(lb.pos, "empty array literal: its element type is unknown (use zeros(0) or fill(0, v))")
	}
	first := p.parseExpr()
	if p.got("for") {
		c := &Comprehension{Pos: lb.pos, Body: first}
		for {
			name := p.expectIdent("an index name after 'for'")
			p.expect("<", "after index '"+name.text+"'")
			c.Gens = append(c.Gens, &Gen{Pos: name.pos, Name: name.text, Bound: p.parseExpr()})
			if !p.got(",") {
				break
			}
		}
		p.expectClose("]", lb)
		return c
	}
	al := &ArrayLit{Pos: lb.pos, Elems: []Expr{first}}
	for p.got(",") {
		al.Elems = append(al.Elems, p.parseExpr())
	}
	p.expectClose("]", lb)
	return al
}

// parseLet parses a chain of let bindings. The chain is read by a loop
// (so it does not count as nesting): after a binding's value comes 'in',
// or directly the next 'let' (SPEC §4: the 'in' may be dropped when the
// body is itself a let).
func (p *parser) parseLet() Expr {
	saved := p.chain
	defer func() { p.chain = saved }()
	var lets []*Let
	var body Expr
	for {
		lt := p.tok
		p.link(lt.pos)
		p.next()
		l := &Let{Pos: lt.pos, Pat: p.parsePattern()}
		p.expect("=", "after the pattern of 'let' at "+parserAt(lt.pos))
		l.Value = p.parseExpr()
		lets = append(lets, l)
		if p.is("let") {
			continue
		}
		if !p.got("in") {
			p.failTok(p.tok, "expected 'in' after the value of 'let' at %s, found %s", parserAt(lt.pos), p.describe(p.tok))
		}
		if p.is("let") {
			continue
		}
		body = p.parseExpr()
		break
	}
	for i := len(lets) - 1; i >= 0; i-- {
		lets[i].Body = body
		body = lets[i]
	}
	return body
}

// parseIf parses if c then a else b; an else-if chain is read by a loop.
func (p *parser) parseIf() Expr {
	saved := p.chain
	defer func() { p.chain = saved }()
	var ifs []*If
	var last Expr
	for {
		it := p.tok
		p.link(it.pos)
		p.next()
		n := &If{Pos: it.pos, Cond: p.parseExpr()}
		p.expect("then", "after the condition of 'if' at "+parserAt(it.pos))
		n.Then = p.parseExpr()
		p.expect("else", "in 'if' at "+parserAt(it.pos))
		ifs = append(ifs, n)
		if p.is("if") {
			continue
		}
		last = p.parseExpr()
		break
	}
	for i := len(ifs) - 1; i >= 0; i-- {
		ifs[i].Else = last
		last = ifs[i]
	}
	return last
}

// parseLambda parses fn(x: T, y) => body.
func (p *parser) parseLambda() Expr {
	ft := p.tok
	p.next()
	lp := p.expect("(", "after 'fn'")
	l := &Lambda{Pos: ft.pos}
	if !p.is(")") {
		for {
			l.Params = append(l.Params, p.parseParam(false))
			if !p.got(",") {
				break
			}
		}
	}
	p.expectClose(")", lp)
	p.expect("=>", "after the parameters of 'fn' at "+parserAt(ft.pos))
	l.Body = p.parseExpr()
	return l
}

// parseLoop parses loop p = init for i < n do body and
// loop p = init while cond do body.
func (p *parser) parseLoop() Expr {
	lt := p.tok
	p.next()
	l := &Loop{Pos: lt.pos, Pat: p.parsePattern()}
	p.expect("=", "after the pattern of 'loop' at "+parserAt(lt.pos))
	l.Init = p.parseExpr()
	switch {
	case p.got("for"):
		idx := p.expectIdent("an index name after 'for'")
		l.Index, l.IndexPos = idx.text, idx.pos
		p.expect("<", "after index '"+idx.text+"'")
		l.Count = p.parseExpr()
	case p.got("while"):
		l.Cond = p.parseExpr()
	default:
		p.failTok(p.tok, "expected 'for' or 'while' in 'loop' at %s, found %s", parserAt(lt.pos), p.describe(p.tok))
	}
	p.expect("do", "in 'loop' at "+parserAt(lt.pos))
	l.Body = p.parseExpr()
	return l
}
