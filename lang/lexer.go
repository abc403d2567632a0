package lang

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is participle's regular-expression lexer (lexer.MustSimple).
// Rules are tried in order and the first match wins, so the order below
// matters: comments before the '/' operator, floats before integers, and
// multi-character operators before single ones. Within those constraints
// the most frequent tokens come first, since every failed rule costs a
// regular-expression match.
//
// The rule set never fails: the last three rules (BadComment, BadString,
// Bad) match whatever the valid rules do not, and lxTokens turns them into
// positioned error tokens instead of letting participle return its own
// "invalid input text" error. The parser reports an error token when it
// reaches it, so a file's errors come out in source order whether they are
// lexical or syntactic.
//
// Rule names starting with a lower-case letter are dropped by participle
// (whitespace and comments).
var lxDef = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	// Every operator and delimiter but '/', which may begin a comment.
	{Name: "Punct", Pattern: `=>|->|<\+|==|!=|<=|>=|&&|\|\||[-+*%@^!<>=()\[\],:;.]`},
	// A float has digits on both sides of the '.', or an exponent (SPEC §1):
	// ".5" and "5." are not literals.
	{Name: "Float", Pattern: `[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+`},
	{Name: "Int", Pattern: `[0-9]+`},
	{Name: "comment", Pattern: `//[^\n]*`},
	{Name: "blockComment", Pattern: `/\*([^*]|\*+[^*/])*\*+/`},
	{Name: "BadComment", Pattern: `/\*`},
	{Name: "Slash", Pattern: `/`},
	{Name: "String", Pattern: `"([^"\\\n]|\\.)*"`},
	{Name: "BadString", Pattern: `"`},
	{Name: "Bad", Pattern: `[\s\S]`},
})

// lxSymbols maps participle's token types back to the rule names above.
var lxSymbols = lexer.SymbolsByRune(lxDef)

// tokKind classifies a token.
type tokKind uint8

const (
	tokEOF     tokKind = iota
	tokIdent           // a name that is not a keyword
	tokKeyword         // one of lxKeywords
	tokInt             // decimal digits
	tokFloat           // digits with '.' or an exponent
	tokString          // a quoted string, quotes included in text
	tokPunct           // an operator or delimiter
	tokError           // a lexical error; text is the message
)

// token is one lexeme with its source position.
type token struct {
	kind tokKind
	text string // the source text, or the error message for tokError
	pos  Pos
	off  int // byte offset in the source
	// first is set when no other token precedes this one on its line. The
	// parser uses it to tell a line-leading attribute "@jvp(f)" from a
	// matrix product "a @ jvp(f)" (see parser.atAttrStart).
	first bool
}

// lxKeywords are the reserved words of SPEC §1; none can be an identifier.
var lxKeywords = map[string]bool{
	"def": true, "export": true, "import": true, "let": true, "in": true,
	"if": true, "then": true, "else": true, "fn": true, "loop": true,
	"for": true, "while": true, "do": true, "rule": true, "strategy": true,
	"where": true, "true": true, "false": true,
}

// lxTokens splits src into tokens, ending with a tokEOF token. Columns are
// 1-based byte offsets within the line (participle counts runes, so
// positions are recomputed from byte offsets here).
//
// Lexing stops at the first lexical error: its error token is followed
// directly by EOF. Besides keeping the token stream honest, this bounds
// the work on hostile input: an unterminated "/*" or '"' would otherwise
// make every later '/*' or '"' rescan the rest of the input.
func lxTokens(filename, src string) []token {
	// A UTF-8 byte order mark is allowed at the start, as in Go; blanking it
	// keeps every offset unchanged.
	if strings.HasPrefix(src, "\uFEFF") {
		src = "   " + src[3:]
	}
	var lineStarts []int // offsets at which lines begin
	lineStarts = append(lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	line := 0 // index into lineStarts of the current token's line
	posAt := func(off int) Pos {
		for line+1 < len(lineStarts) && lineStarts[line+1] <= off {
			line++
		}
		return Pos{File: filename, Line: line + 1, Col: off - lineStarts[line] + 1}
	}

	lx, err := lxDef.LexString(filename, src)
	if err != nil { // LexString never fails; keep the contract anyway
		return []token{{kind: tokError, text: "cannot read input: " + err.Error(), pos: posAt(0)},
			{kind: tokEOF, pos: posAt(0)}}
	}
	toks := make([]token, 0, len(src)/3+1)
	lastLine := 0
	for {
		t, err := lx.Next()
		if err != nil {
			// Unreachable with the rule set above (the "bad" rule matches
			// any character), but never panic on a lexer surprise.
			off := len(src)
			if le, ok := err.(*lexer.Error); ok {
				off = le.Pos.Offset
			}
			p := posAt(off)
			toks = append(toks, token{kind: tokError, text: strings.TrimPrefix(err.Error(), "lexer: "), pos: p, off: off},
				token{kind: tokEOF, pos: posAt(len(src)), off: len(src)})
			return toks
		}
		if t.Type == lexer.EOF {
			toks = append(toks, token{kind: tokEOF, pos: posAt(len(src)), off: len(src)})
			return toks
		}
		off := t.Pos.Offset
		tk := token{text: t.Value, pos: posAt(off), off: off}
		tk.first = tk.pos.Line != lastLine
		lastLine = tk.pos.Line
		switch lxSymbols[t.Type] {
		case "Ident":
			tk.kind = tokIdent
			if lxKeywords[t.Value] {
				tk.kind = tokKeyword
			}
			if len(t.Value) > lxMaxName {
				// Names are quoted in messages; a bound on them bounds those.
				tk.kind, tk.text = tokError, fmt.Sprintf("a name of %d bytes: names have at most %d", len(t.Value), lxMaxName)
			}
		case "Int":
			tk.kind = tokInt
		case "Float":
			tk.kind = tokFloat
		case "String":
			tk.kind = tokString
		case "Punct", "Slash":
			tk.kind = tokPunct
		case "BadComment":
			tk.kind, tk.text = tokError, "unterminated block comment: '/*' has no matching '*/'"
		case "BadString":
			tk.kind, tk.text = tokError, "unterminated string literal: '\"' has no matching '\"' on its line"
		default: // "Bad"
			tk.kind, tk.text = tokError, lxBadChar(t.Value)
		}
		toks = append(toks, tk)
		if tk.kind == tokError {
			toks = append(toks, token{kind: tokEOF, pos: posAt(len(src)), off: len(src)})
			return toks
		}
	}
}

// lxMaxName is the longest name, in bytes.
const lxMaxName = 255

// lxBadChar describes a character that starts no token.
func lxBadChar(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && size <= 1:
		if s == "" {
			return "unexpected end of input"
		}
		return fmt.Sprintf("invalid UTF-8 byte 0x%02x", s[0])
	case unicode.IsPrint(r):
		return fmt.Sprintf("unexpected character %q", r)
	default:
		return fmt.Sprintf("unexpected character %U", r)
	}
}
