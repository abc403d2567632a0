package lang

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/parse")

// ptestConformanceDir holds the shared conformance suite; tests that need
// it skip when it is absent.
const ptestConformanceDir = "../../shared/conformance"

// ptestDump writes e as a fully parenthesized S-expression, so that tests
// can state a tree's shape exactly: "-x^2" is (- (^ x 2)). Paren nodes
// show as (paren x).
func ptestDump(e Expr) string {
	var b strings.Builder
	var dump func(e Expr)
	list := func(head string, es ...Expr) {
		b.WriteString("(" + head)
		for _, e := range es {
			b.WriteString(" ")
			if e == nil {
				b.WriteString("_")
			} else {
				dump(e)
			}
		}
		b.WriteString(")")
	}
	pat := func(p Pattern) string {
		var pr printer
		pr.pat(p)
		return pr.b.String()
	}
	dump = func(e Expr) {
		switch e := e.(type) {
		case *Ident:
			b.WriteString(e.Name)
		case *IntLit:
			fmt.Fprint(&b, e.Val)
		case *FloatLit:
			b.WriteString(printerFloatText(e))
		case *BoolLit:
			fmt.Fprint(&b, e.Val)
		case *StringLit:
			fmt.Fprintf(&b, "%q", e.Val)
		case *Unary:
			list(e.Op, e.X)
		case *Binary:
			list(e.Op, e.X, e.Y)
		case *Call:
			list("call", append([]Expr{e.Fn}, e.Args...)...)
		case *Index:
			list("index", append([]Expr{e.X}, e.Indices...)...)
		case *Slice:
			list("slice", e.X, e.Lo, e.Hi)
		case *Field:
			list(fmt.Sprintf("field%d", e.Index), e.X)
		case *Paren:
			list("paren", e.X)
		case *TupleLit:
			list("tuple", e.Elems...)
		case *ArrayLit:
			list("array", e.Elems...)
		case *Comprehension:
			head := "for"
			for _, g := range e.Gens {
				head += " " + g.Name + "<" + ptestDump(g.Bound)
			}
			list(head+";", e.Body)
		case *Let:
			list("let "+pat(e.Pat), e.Value, e.Body)
		case *If:
			list("if", e.Cond, e.Then, e.Else)
		case *Lambda:
			var pr printer
			pr.params(e.Params)
			list("fn "+pr.b.String()+";", e.Body)
		case *Loop:
			if e.Index != "" {
				list("loop "+pat(e.Pat)+" for "+e.Index+";", e.Init, e.Count, e.Body)
			} else {
				list("loop "+pat(e.Pat)+" while;", e.Init, e.Cond, e.Body)
			}
		default:
			fmt.Fprintf(&b, "?%T", e)
		}
	}
	dump(e)
	return b.String()
}

// TestParserPrecedence pins down the shape of expressions: SPEC §4's
// precedence table, associativity, postfix forms, and the reach of the
// lowest-precedence forms.
func TestParserPrecedence(t *testing.T) {
	tests := []struct{ src, want string }{
		// Unary minus binds looser than '^', which is right-associative.
		{"-x^2", "(- (^ x 2))"},
		{"2^3^2", "(^ 2 (^ 3 2))"},
		{"2^-x", "(^ 2 (- x))"},
		{"2^-x^2", "(^ 2 (- (^ x 2)))"},
		{"(-x)^2", "(^ (paren (- x)) 2)"},
		{"-x * y", "(* (- x) y)"},
		{"!a && b", "(&& (! a) b)"},
		{"- -x", "(- (- x))"},
		{"x^y[0]", "(^ x (index y 0))"},
		// Left associativity and the levels between.
		{"a - b - c", "(- (- a b) c)"},
		{"a / b * c % d", "(% (* (/ a b) c) d)"},
		{"x * y @ z", "(@ (* x y) z)"},
		{"a + b * c", "(+ a (* b c))"},
		{"a + b < c * d", "(< (+ a b) (* c d))"},
		{"a < b && c >= d || e", "(|| (&& (< a b) (>= c d)) e)"},
		{"a == b != c", "ERR"},
		{"a || b || c", "(|| (|| a b) c)"},
		{"-x^2 + 2^3^2", "(+ (- (^ x 2)) (^ 2 (^ 3 2)))"},
		// Postfix forms.
		{"f(a, b)", "(call f a b)"},
		{"f()", "(call f)"},
		{"grad(f)(x)", "(call (call grad f) x)"},
		{"a[i]", "(index a i)"},
		{"a[i, j]", "(index a i j)"},
		{"a[1][2]", "(index (index a 1) 2)"},
		{"a[i:j]", "(slice a i j)"},
		{"a[:j]", "(slice a _ j)"},
		{"a[i:]", "(slice a i _)"},
		{"a[:]", "(slice a _ _)"},
		{"a[n - 2:]", "(slice a (- n 2) _)"},
		{"t.0", "(field0 t)"},
		{"t.1.0", "(field0 (field1 t))"},
		{"t.1.0.1", "(field1 (field0 (field1 t)))"},
		{"t . 1.0", "(field0 (field1 t))"},
		{"t.12.34", "(field34 (field12 t))"},
		{"jvp(f, x, 1.0).1", "(field1 (call jvp f x 1.0))"},
		// A module-qualified name is one identifier.
		{"optim.lbfgs(f, x0)", "(call optim.lbfgs f x0)"},
		{"util.pair.1", "(field1 util.pair)"},
		{"1 .0", "(field0 1)"},
		// Atoms.
		{"()", "(tuple)"},
		{"(a)", "(paren a)"},
		{"(a, b)", "(tuple a b)"},
		{"(a, (b, c))", "(tuple a (tuple b c))"},
		{"[1.0, 2.0]", "(array 1.0 2.0)"},
		{"[x[i] for i < n]", "(for i<n; (index x i))"},
		{"[f(i, j) for i < m, j < n - 1]", "(for i<m j<(- n 1); (call f i j))"},
		{"1e-3 + 2.5E+4 + 0.5", "(+ (+ 1e-3 2.5E+4) 0.5)"},
		{"true || false", "(|| true false)"},
		// let, if, fn and loop reach as far right as possible.
		{"let a = 1 in a + 2", "(let a 1 (+ a 2))"},
		{"let a = 1 let b = 2 in a + b", "(let a 1 (let b 2 (+ a b)))"},
		{"let a = 1 in let b = 2 in b", "(let a 1 (let b 2 b))"},
		{"let (a, (b, c)) = t in a", "(let (a, (b, c)) t a)"},
		{"let ((a)) = t in a", "(let a t a)"},
		{"if c then a else b + 1", "(if c a (+ b 1))"},
		{"if a then b else if c then d else e", "(if a b (if c d e))"},
		{"1 + if c then a else b", "(+ 1 (if c a b))"},
		{"(if c then a else b) + 1", "(+ (paren (if c a b)) 1)"},
		{"fn(x: f64, y) => x * y", "(fn x: f64, y; (* x y))"},
		{"fn() => 1", "(fn ; 1)"},
		{"map(fn(a) => a + 1.0, x)", "(call map (fn a; (+ a 1.0)) x)"},
		{"loop x = x0 for i < n do x * 2.0", "(loop x for i; x0 n (* x 2.0))"},
		{"loop (x, k) = (a, 0) while k < 50 && x > 1e-9 do (x / 2.0, k + 1)",
			"(loop (x, k) while; (tuple a 0) (&& (< k 50) (> x 1e-9)) (tuple (/ x 2.0) (+ k 1)))"},
		{"(loop (a, b) = (0, 1) for i < n do (b, a + b)).0",
			"(field0 (paren (loop (a, b) for i; (tuple 0 1) n (tuple b (+ a b)))))"},
	}
	for _, tt := range tests {
		e, err := ParseExpr("t.nab", tt.src)
		if tt.want == "ERR" {
			if err == nil {
				t.Errorf("ParseExpr(%q) = %s, want an error", tt.src, ptestDump(e))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.src, err)
			continue
		}
		if got := ptestDump(e); got != tt.want {
			t.Errorf("ParseExpr(%q)\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// TestParserFormatExpr checks the canonical printing of parsed
// expressions: the same text up to spacing, parentheses exactly as written.
func TestParserFormatExpr(t *testing.T) {
	tests := []struct{ src, want string }{
		{"-x ^ 2+2^3 ^2", "-x^2 + 2^3^2"},
		{"(a+b)*c", "(a + b) * c"},
		{"t.1.0", "t.1.0"},
		{"a[i,j]", "a[i, j]"},
		{"a[ : j]", "a[:j]"},
		{"let a=1 let b=2 in a+b", "let a = 1 in let b = 2 in a + b"},
		{"fn(x:[n]f64, f: f64 -> f64)=>f(x)", "fn(x: [n]f64, f: f64 -> f64) => f(x)"},
		{"[ f64(i)*0.5 for i<n ]", "[f64(i) * 0.5 for i < n]"},
		{"loop (x,k)=(a,0) while k<3 do (x,k+1)", "loop (x, k) = (a, 0) while k < 3 do (x, k + 1)"},
		{"1 .0", "1 .0"},
		{"2.5E+4", "2.5E+4"},
	}
	for _, tt := range tests {
		e, err := ParseExpr("t.nab", tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.src, err)
			continue
		}
		if got := FormatExpr(e); got != tt.want {
			t.Errorf("FormatExpr(ParseExpr(%q)) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// TestParserFormatBuiltTrees checks that trees built by hand (without Paren
// nodes, as later passes may build them) print with the parentheses their
// shape needs, and that the text parses back to the same shape.
func TestParserFormatBuiltTrees(t *testing.T) {
	id := func(s string) Expr { return &Ident{Name: s} }
	bin := func(op string, x, y Expr) Expr { return &Binary{Op: op, X: x, Y: y} }
	ifx := &If{Cond: id("c"), Then: id("a"), Else: id("b")}
	tests := []struct {
		e    Expr
		want string
	}{
		{bin("*", bin("+", id("a"), id("b")), id("c")), "(a + b) * c"},
		{bin("-", id("a"), bin("-", id("b"), id("c"))), "a - (b - c)"},
		{bin("^", bin("^", id("a"), id("b")), id("c")), "(a^b)^c"},
		{bin("^", &Unary{Op: "-", X: id("x")}, id("y")), "(-x)^y"},
		{bin("<", bin("<", id("a"), id("b")), id("c")), "(a < b) < c"},
		{&Unary{Op: "-", X: bin("+", id("a"), id("b"))}, "-(a + b)"},
		{bin("+", ifx, id("d")), "(if c then a else b) + d"},
		{bin("+", id("d"), ifx), "d + if c then a else b"},
		{bin("+", bin("+", id("d"), ifx), id("e")), "d + (if c then a else b) + e"},
		{&Call{Fn: &Lambda{Params: []*Param{{Name: "v"}}, Body: id("v")}, Args: []Expr{id("x")}}, "(fn(v) => v)(x)"},
		{&Field{X: &IntLit{Val: 1}, Index: 0}, "1 .0"},
		{&Field{X: &Field{X: id("t"), Index: 1}, Index: 0}, "t.1.0"},
		{&Index{X: bin("+", id("a"), id("b")), Indices: []Expr{&IntLit{Val: 0}}}, "(a + b)[0]"},
		{&FloatLit{Val: 2}, "2.0"},
		{&FloatLit{Val: 1e-9}, "1e-09"},
	}
	for _, tt := range tests {
		got := FormatExpr(tt.e)
		if got != tt.want {
			t.Errorf("FormatExpr(%s) = %q, want %q", ptestDump(tt.e), got, tt.want)
			continue
		}
		back, err := ParseExpr("t.nab", got)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", got, err)
			continue
		}
		if want := ptestDump(tt.e); ptestUnparen(ptestDump(back)) != want {
			t.Errorf("%q parses as %s, want %s", got, ptestDump(back), want)
		}
	}
}

// ptestUnparen removes "(paren X)" wrappers from a dump.
func ptestUnparen(s string) string {
	for {
		i := strings.Index(s, "(paren ")
		if i < 0 {
			return s
		}
		depth, j := 0, i
		for ; j < len(s); j++ {
			if s[j] == '(' {
				depth++
			} else if s[j] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		s = s[:i] + s[i+len("(paren "):j] + s[j+1:]
	}
}

// TestParserFile checks declarations: each source must format to want.
func TestParserFile(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"import", `import "std/optim" import "util.nab"`, "import \"std/optim\"\nimport \"util.nab\"\n"},
		{"def", "def f(x: f64, y: [n]f64): f64 = x", "def f(x: f64, y: [n]f64): f64 = x\n"},
		{"def no params", "def lit3() = [1.0, 2.0]", "def lit3() = [1.0, 2.0]\n"},
		{"value", "def g = grad(f)", "def g = grad(f)\n"},
		{"typed value", "def A: [2][2]f64 = [[1.0, 0.0], [0.0, 1.0]]", "def A: [2][2]f64 = [[1.0, 0.0], [0.0, 1.0]]\n"},
		{"export", "export def rosen(x: [n]f64): f64 = sum(x)", "export def rosen(x: [n]f64): f64 = sum(x)\n"},
		{"attrs", "@inline @noinline() @jvp(f_jvp) @custom(\"a\\tb\", 3) export def f(x: f64) = x",
			"@inline\n@noinline\n@jvp(f_jvp)\n@custom(\"a\\tb\", 3)\nexport def f(x: f64) = x\n"},
		{"strategy attr", "@strategy(default; topdown(try(map_fuse)); cleanup) def f(x: f64) = x",
			"@strategy(default; topdown(try(map_fuse)); cleanup)\ndef f(x: f64) = x\n"},
		{"rule", "rule fold_add(x, y): x + y => y + x where is_const(x) && !is_var(y)",
			"rule fold_add(x, y): x + y => y + x where is_const(x) && !is_var(y)\n"},
		{"rule with lambda", "rule map_fuse(f, g, xs): map(f, map(g, xs)) => map(fn(v) => f(g(v)), xs)",
			"rule map_fuse(f, g, xs): map(f, map(g, xs)) => map(fn(v) => f(g(v)), xs)\n"},
		{"strategy", "strategy cleanup = normalize(mul_one <+ sq <+ beta); (a; b) <+ c",
			"strategy cleanup = normalize(mul_one <+ sq <+ beta); (a; b) <+ c\n"},
		{"matmul then attribute", "def mv(a: [m][k]f64, x: [k]f64) = a @ x\n@inline\ndef g(x: f64) = x\n",
			"def mv(a: [m][k]f64, x: [k]f64) = a @ x\n@inline\ndef g(x: f64) = x\n"},
		{"matmul at line start", "def mv(a: [m][k]f64, x: [k]f64) = a\n  @ x\ndef g(x: f64) = x\n",
			"def mv(a: [m][k]f64, x: [k]f64) = a @ x\ndef g(x: f64) = x\n"},
		{"let layout", "def f(x: f64): f64 = let a = x let b = a in a * b",
			"def f(x: f64): f64 =\n  let a = x in\n  let b = a in\n  a * b\n"},
		{"types", "def f(a: (f64, i64), g: (f64, f64) -> f64, h: ((f64, f64)) -> f64, k: (f64) -> f64, u: ()) = a",
			"def f(a: (f64, i64), g: (f64, f64) -> f64, h: ((f64, f64)) -> f64, k: f64 -> f64, u: ()) = a\n"},
		{"arrow types", "def f(g: f64 -> f64 -> f64, h: (f64 -> f64) -> f64, a: [n](f64 -> f64), b: [n]f64 -> f64, z: () -> f64) = g",
			"def f(g: f64 -> f64 -> f64, h: (f64 -> f64) -> f64, a: [n](f64 -> f64), b: [n]f64 -> f64, z: () -> f64) = g\n"},
		{"comments", "// line\ndef /* block\n comment */ f = 1 // trailing\n/**/ /***/ /* * / ** */",
			"def f = 1\n"},
	}
	for _, tt := range tests {
		f, err := ParseFile("t.nab", []byte(tt.src))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := FormatFile(f); got != tt.want {
			t.Errorf("%s: FormatFile =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestParserStrategy checks ParseStrategy: ';' binds loosest, then '<+'.
func TestParserStrategy(t *testing.T) {
	s, err := ParseStrategy("s", "default; topdown(try(map_fuse)) <+ fail; cleanup")
	if err != nil {
		t.Fatal(err)
	}
	seq, ok := s.(*ir.StratSeq)
	if !ok || len(seq.Steps) != 3 {
		t.Fatalf("got %T, want a 3-step sequence", s)
	}
	if ch, ok := seq.Steps[1].(*ir.StratChoice); !ok || len(ch.Alts) != 2 {
		t.Errorf("step 2 is %T, want a 2-way choice", seq.Steps[1])
	}
	if seq.P != (Pos{File: "s", Line: 1, Col: 1}) {
		t.Errorf("sequence at %v", seq.P)
	}
	for _, bad := range []string{"", "a;", "a <+", "try()", "try(a", "a b", "(a", "if"} {
		if _, err := ParseStrategy("s", bad); err == nil {
			t.Errorf("ParseStrategy(%q) succeeded, want an error", bad)
		}
	}
}

// TestParserPositions checks positions of nodes (columns count bytes).
func TestParserPositions(t *testing.T) {
	src := "def f(x: f64): f64 =\n  /* é */ g(x)[0] + t.1.0\n"
	f, err := ParseFile("p.nab", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := f.Decls[0].(*FuncDecl)
	at := func(line, col int) Pos { return Pos{File: "p.nab", Line: line, Col: col} }
	add := d.Body.(*Binary)
	ix := add.X.(*Index)
	call := ix.X.(*Call)
	outer := add.Y.(*Field)
	inner := outer.X.(*Field)
	checks := []struct {
		what     string
		got, exp Pos
	}{
		{"def", d.Pos, at(1, 1)},
		{"name", d.NamePos, at(1, 5)},
		{"param", d.Params[0].Pos, at(1, 7)},
		{"call", call.Pos, at(2, 12)},
		{"call (", call.LPos, at(2, 13)},
		{"index [", ix.Pos, at(2, 16)},
		{"binary op", add.Pos, at(2, 20)},
		{"binary start", StartPos(add), at(2, 12)},
		{"field .", inner.Pos, at(2, 23)},
		{"split field .", outer.Pos, at(2, 25)},
	}
	for _, c := range checks {
		if c.got != c.exp {
			t.Errorf("%s at %v, want %v", c.what, c.got, c.exp)
		}
	}
}

// TestParserErrors checks that errors point at the offending token with
// a clear one-line message.
func TestParserErrors(t *testing.T) {
	tests := []struct{ src, pos, msg string }{
		// conformance/errors/parse.nab
		{"// ERROR: 3:26\n\ndef f(x: f64): f64 = x + * 2.0\n", "3:26", "unexpected '*', expected an expression"},
		{"def f(x: f64) = a < b < c", "1:23", "comparison operators do not chain"},
		{"def f(x: f64) = a == b != c", "1:24", "comparison operators do not chain"},
		{"def f(x: f64) = (a + b in c", "1:24", "expected ')' to close '(' at 1:17, found 'in'"},
		{"def f(x: f64) = g(a, b", "1:23", "expected ')' to close '(' at 1:18, found end of file"},
		{"def f(x: f64) = x[1", "1:20", "expected ']' to close '[' at 1:18"},
		{"def f(x: f64) = []", "1:17", "empty array literal"},
		{"def f(x: f64) = x[]", "1:19", "unexpected ']', expected an index"},
		{"def f(x: f64) = x[1:2, 3]", "1:22", "expected ']'"},
		{"def f(x: f64) = x[1, 2:3]", "1:23", "a slice takes a single range"},
		{"def f(x: f64) = let a = 1", "1:26", "expected 'in' after the value of 'let' at 1:17, found end of file"},
		{"def f(x: f64) = let in = 1 in x", "1:21", "keyword 'in'"},
		{"def f(x: f64) = if x then 1", "1:28", "expected 'else' in 'if' at 1:17"},
		{"def f(x: f64) = if x 1 else 2", "1:22", "expected 'then'"},
		{"def f(x: f64) = fn(a) a", "1:23", "expected '=>'"},
		{"def f(x: f64) = loop y = x do y", "1:28", "expected 'for' or 'while'"},
		{"def f(x: f64) = loop y = x for i < 3 y", "1:38", "expected 'do'"},
		{"def f(x: f64) = [x for 1 < 2]", "1:24", "expected an index name after 'for'"},
		{"def f(x: f64) = f(t).x", "1:22", "expected a tuple field index"},
		{"def f(x: f64) = a.b.c", "1:21", "a qualified name has a single module qualifier"},
		{"def f(x: f64) = a.if", "1:19", "expected a tuple field index"},
		{"def f(x: f64) = t.1e3", "1:19", "expected a tuple field index"},
		{"def f(x: f64) = .5", "1:17", "unexpected '.', expected an expression"},
		{"def f(x: f64) = 5.", "1:19", "expected a tuple field index"},
		{"def f(x: f64) = x y", "1:19", "unexpected 'y' after the definition of 'f'"},
		{"def f(x: f64) = x)", "1:18", "unexpected ')' after the definition of 'f'"},
		{"def f(x: f64) = \"s\"", "1:17", "string literals are only allowed in imports, attributes and assert's message"},
		{"def f(x: f64) = 9223372036854775808", "1:17", "integer literal 9223372036854775808 is out of range"},
		{"def f(x: f64) = 017", "1:17", "leading zeros"},
		{"def f(x: f64) = 1e400", "1:17", "float literal 1e400 is out of range"},
		{"def f(x: f64) = x # 2", "1:19", "unexpected character '#'"},
		{"def f(x: f64) = x ∇ 2", "1:19", "unexpected character '∇'"},
		{"def f(x: f64) = x \x00", "1:19", "unexpected character U+0000"},
		{"def f(x: f64) = x \xff", "1:19", "invalid UTF-8 byte 0xff"},
		{"def f(x: f64) = x /* never\nclosed", "1:19", "unterminated block comment"},
		{"import \"std/optim", "1:8", "unterminated string literal"},
		{"import \"\\q\"", "1:8", "invalid escape sequence"},
		{"import std", "1:8", "expected a quoted module path"},
		{"def f = 1 import \"a\"", "1:11", "imports must come before declarations"},
		{"def f(x) = x", "1:8", "expected ':' and a type after parameter 'x'"},
		{"def (x: f64) = x", "1:5", "expected a name after 'def'"},
		{"def if(x: f64) = x", "1:5", "keyword 'if'"},
		{"def f(x: f64) x", "1:15", "expected '=' before the body of 'f'"},
		{"def f(x: [n + 1]f64) = x", "1:13", "expected ']' to close '['"},
		{"def f(x: [1.5]f64) = x", "1:11", "expected an array size"},
		{"def f(x: [99999999999999999999]f64) = x", "1:11", "array size 99999999999999999999 is out of range"},
		{"def f(x: (f64,)) = x", "1:15", "unexpected ')', expected a type"},
		{"def f(x: f64 ->) = x", "1:16", "unexpected ')', expected a type"},
		{"def f(x: f64) = (a, b,)", "1:23", "unexpected ')', expected an expression"},
		{"@inline rule r(x): x => x", "1:9", "expected 'def' after attributes, found 'rule'"},
		{"@ inline def f = 1", "1:3", "expected an attribute name right after '@'"},
		{"@strategy def f = 1", "1:11", "expected '(' and a strategy after '@strategy'"},
		{"@strategy(a b) def f = 1", "1:13", "expected ')' to close '(' at 1:10, found 'b'"},
		{"@strategy(try()) def f = 1", "1:15", "unexpected ')', expected a strategy"},
		{"export rule r(x): x => x", "1:8", "expected 'def' after 'export'"},
		{"rule r(x) x => x", "1:11", "expected ':' before the left-hand side of rule 'r'"},
		{"rule r(x): x + 1.0 x", "1:20", "expected '=>' between the two sides of rule 'r'"},
		{"rule r: x => x", "1:7", "expected '('"},
		{"strategy s = ", "1:14", "unexpected end of file, expected a strategy"},
		{"strategy s = a <+ ;", "1:19", "unexpected ';', expected a strategy"},
		{"x = 1", "1:1", "expected a declaration"},
		{"def f(a: f64) = a\n@b", "2:3", "an '@' at the start of a line followed directly by a name begins an attribute"},
		{"def f(x: f64) = let (a, 1) = x in a", "1:25", "expected a name or a tuple pattern"},
		{"def f(x: f64) = t.99999999999", "1:19", "tuple field index 99999999999 is too large"},
	}
	for _, tt := range tests {
		_, err := ParseFile("t.nab", []byte(tt.src))
		if err == nil {
			t.Errorf("ParseFile(%q) succeeded, want error at %s", tt.src, tt.pos)
			continue
		}
		var list ir.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Errorf("ParseFile(%q) returned %T, want a non-empty ir.ErrorList", tt.src, err)
			continue
		}
		first := list[0]
		if got := parserAt(first.Pos); got != tt.pos || first.Pos.File != "t.nab" {
			t.Errorf("ParseFile(%q): error at %v (%s), want %s", tt.src, first.Pos, first.Msg, tt.pos)
		}
		if !strings.Contains(first.Msg, tt.msg) {
			t.Errorf("ParseFile(%q): message %q does not contain %q", tt.src, first.Msg, tt.msg)
		}
		if strings.Contains(first.Msg, "\n") || first.Msg != strings.ToLower(first.Msg[:1])+first.Msg[1:] {
			t.Errorf("ParseFile(%q): message %q is not one lower-case line", tt.src, first.Msg)
		}
	}
}

// TestParserRecovery checks that parsing resumes at the next declaration
// and reports independent errors in source order.
func TestParserRecovery(t *testing.T) {
	src := "def a(x: f64) = x + * 1.0\ndef b(x: f64) = x\ndef c(x: f64) = (x\ndef d = 1 < 2 < 3\n@inline\ndef e = 1\ndef g = 1 + 017#"
	f, err := ParseFile("r.nab", []byte(src))
	var list ir.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want an ir.ErrorList", err)
	}
	want := []string{"1:21", "4:1", "4:15", "7:13", "7:16"}
	var got []string
	for _, e := range list {
		got = append(got, parserAt(e.Pos))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v:\n%v", got, want, err)
	}
	var names []string
	for _, d := range f.Decls {
		names = append(names, d.(*FuncDecl).Name)
	}
	if strings.Join(names, " ") != "b e" || len(f.Decls[1].(*FuncDecl).Attrs) != 1 {
		t.Errorf("recovered declarations %v, want [b e] with e's attribute", names)
	}
}

// TestParserDeepNesting checks that hostile nesting gives a positioned
// error instead of exhausting the stack, while long sequential chains
// (lets, else-ifs, operators) are not limited.
func TestParserDeepNesting(t *testing.T) {
	n := 20000
	deep := []string{
		strings.Repeat("(", n) + "x" + strings.Repeat(")", n),
		strings.Repeat("[", n) + "x" + strings.Repeat("]", n),
		strings.Repeat("-", n) + "x",
		strings.Repeat("!", n) + "x",
		"x" + strings.Repeat("^x", n),
		strings.Repeat("f(", n) + "x" + strings.Repeat(")", n),
		strings.Repeat("fn(a) => ", n) + "a",
		strings.Repeat("if c then ", n) + "a" + strings.Repeat(" else b", n),
		strings.Repeat("let a = ", n) + "1" + strings.Repeat(" in a", n),
		strings.Repeat("loop a = ", n) + "x",
	}
	for _, d := range deep {
		_, err := ParseFile("d.nab", []byte("def f = "+d))
		if err == nil || !strings.Contains(err.Error(), "nesting too deep") {
			t.Errorf("%.20s...: got %v, want a nesting error", d, err)
		}
	}
	for _, src := range []string{
		"def f(x: [" + strings.Repeat("1][", n) + "1]f64) = x",
		"def f(x: " + strings.Repeat("(", n) + "f64" + strings.Repeat(")", n) + ") = x",
		"def f(x: f64) = let " + strings.Repeat("(", n) + "a" + strings.Repeat(")", n) + " = x in a",
		"strategy s = " + strings.Repeat("try(", n) + "a" + strings.Repeat(")", n),
	} {
		if _, err := ParseFile("d.nab", []byte(src)); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
			t.Errorf("%.30s...: got %v, want a nesting error", src, err)
		}
	}
	ok := []string{
		strings.Repeat("(", parserMaxDepth-1) + "x" + strings.Repeat(")", parserMaxDepth-1),
		strings.Repeat("let a = 1 ", 20000) + "in a",
		strings.Repeat("let a = 1 in ", 20000) + "a",
		strings.Repeat("if c then a else ", 20000) + "b",
		"x" + strings.Repeat(" + x", 20000),
		"t" + strings.Repeat(".0", 20000),
	}
	for _, src := range ok {
		f, err := ParseFile("d.nab", []byte("def f = "+src))
		if err != nil {
			t.Errorf("%.20s...: %v", src, err)
			continue
		}
		if _, err := ParseFile("d.nab", []byte(FormatFile(f))); err != nil {
			t.Errorf("%.20s...: formatted output does not parse: %v", src, err)
		}
	}
}

// ptestConformanceFiles lists the conformance suite's sources.
func ptestConformanceFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(ptestConformanceDir); err != nil {
		t.Skipf("no conformance suite: %v", err)
	}
	var files []string
	err := filepath.WalkDir(ptestConformanceDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".nab") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// ptestStripPositions zeroes every Pos in a tree, so that trees parsed from
// differently laid out text can be compared with reflect.DeepEqual.
func ptestStripPositions(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			ptestStripPositions(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Pos]() {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			ptestStripPositions(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			ptestStripPositions(v.Index(i))
		}
	}
}

// ptestRoundTrip checks that f prints to text that parses back to the same
// tree (positions aside) and prints identically again. It returns a
// description of the first difference, or "".
func ptestRoundTrip(name string, f *File) string {
	out := FormatFile(f)
	g, err := ParseFile(name, []byte(out))
	if err != nil {
		return fmt.Sprintf("formatted output does not parse: %v\n%s", err, out)
	}
	if out2 := FormatFile(g); out2 != out {
		return fmt.Sprintf("formatting is not a fixpoint:\n%s\nthen\n%s", out, out2)
	}
	ptestStripPositions(reflect.ValueOf(f))
	ptestStripPositions(reflect.ValueOf(g))
	if !reflect.DeepEqual(f, g) {
		return "the re-parsed tree differs from the original:\n" + out
	}
	return ""
}

// TestParserConformance parses every conformance file. The one file with
// an expected parse error must fail at its "// ERROR: line:col"; the rest
// must parse and survive a format round trip.
func TestParserConformance(t *testing.T) {
	for _, path := range ptestConformanceFiles(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFile(path, src)
		if filepath.Base(path) == "parse.nab" {
			if err == nil || !strings.Contains(err.Error(), path+":3:26: unexpected '*', expected an expression") {
				t.Errorf("%s: got %v, want the error at 3:26", path, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if msg := ptestRoundTrip(path, f); msg != "" {
			t.Errorf("%s: %s", path, msg)
		}
	}
}

// TestParserGolden parses testdata/parse/*.nab and compares FormatFile's
// output, or the error text, with the .golden file next to it. Run
// "go test ./lang -run Golden -update" to rewrite the golden files.
func TestParserGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "parse", "*.nab"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs in testdata/parse")
	}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(in)
		f, err := ParseFile(name, src)
		var got string
		if err != nil {
			got = "ERROR\n" + err.Error() + "\n"
		} else {
			got = FormatFile(f)
			if msg := ptestRoundTrip(name, f); msg != "" {
				t.Errorf("%s: %s", in, msg)
			}
		}
		golden := strings.TrimSuffix(in, ".nab") + ".golden"
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: %v (run with -update to create it)", in, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s: output differs from %s:\n--- got\n%s--- want\n%s", in, golden, got, want)
		}
	}
}

// ptestGen builds random expression trees without Paren nodes, the way a
// later pass might build them, so that the printer has to decide every
// parenthesis itself.
type ptestGen struct{ r *rand.Rand }

func (g ptestGen) name() string {
	return []string{"a", "b", "x", "f", "t", "i", "n", "_k1"}[g.r.IntN(8)]
}

func (g ptestGen) pat(depth int) Pattern {
	if depth <= 0 || g.r.IntN(3) > 0 {
		return &PatName{Name: g.name()}
	}
	n := []int{0, 2, 3}[g.r.IntN(3)]
	pt := &PatTuple{}
	for range n {
		pt.Elems = append(pt.Elems, g.pat(depth-1))
	}
	return pt
}

func (g ptestGen) exprs(n, depth int) []Expr {
	var es []Expr
	for range n {
		es = append(es, g.expr(depth))
	}
	return es
}

func (g ptestGen) expr(depth int) Expr {
	if depth <= 0 {
		switch g.r.IntN(4) {
		case 0:
			return &IntLit{Val: g.r.Int64N(100)}
		case 1:
			return &FloatLit{Val: float64(g.r.IntN(1000)) / 8}
		case 2:
			return &BoolLit{Val: g.r.IntN(2) == 0}
		}
		if g.r.IntN(8) == 0 {
			return &Ident{Name: "optim.lbfgs"}
		}
		return &Ident{Name: g.name()}
	}
	d := depth - 1
	ops := []string{"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "@", "^"}
	switch g.r.IntN(17) {
	case 0, 1, 2, 3:
		return &Binary{Op: ops[g.r.IntN(len(ops))], X: g.expr(d), Y: g.expr(d)}
	case 4:
		return &Unary{Op: []string{"-", "!"}[g.r.IntN(2)], X: g.expr(d)}
	case 5:
		return &Call{Fn: g.expr(d), Args: g.exprs(g.r.IntN(3), d)}
	case 6:
		return &Index{X: g.expr(d), Indices: g.exprs(1+g.r.IntN(2), d)}
	case 7:
		s := &Slice{X: g.expr(d)}
		if g.r.IntN(2) == 0 {
			s.Lo = g.expr(d)
		}
		if g.r.IntN(2) == 0 {
			s.Hi = g.expr(d)
		}
		return s
	case 8:
		return &Field{X: g.expr(d), Index: g.r.IntN(3)}
	case 9:
		return &TupleLit{Elems: g.exprs([]int{0, 2, 3}[g.r.IntN(3)], d)}
	case 10:
		return &ArrayLit{Elems: g.exprs(1+g.r.IntN(3), d)}
	case 11:
		c := &Comprehension{Body: g.expr(d)}
		for range 1 + g.r.IntN(2) {
			c.Gens = append(c.Gens, &Gen{Name: g.name(), Bound: g.expr(d)})
		}
		return c
	case 12:
		return &Let{Pat: g.pat(2), Value: g.expr(d), Body: g.expr(d)}
	case 13:
		return &If{Cond: g.expr(d), Then: g.expr(d), Else: g.expr(d)}
	case 14:
		l := &Lambda{Body: g.expr(d)}
		for range g.r.IntN(3) {
			p := &Param{Name: g.name()}
			if g.r.IntN(2) == 0 {
				p.Type = &ArrayType{Dim: DimExpr{Name: "n"}, Elem: &NamedType{Name: "f64"}}
			}
			l.Params = append(l.Params, p)
		}
		return l
	case 15:
		l := &Loop{Pat: g.pat(2), Init: g.expr(d), Body: g.expr(d)}
		if g.r.IntN(2) == 0 {
			l.Index, l.Count = g.name(), g.expr(d)
		} else {
			l.Cond = g.expr(d)
		}
		return l
	}
	return &Ident{Name: g.name()}
}

// TestParserPrintRandomTrees prints random trees and parses the text back:
// apart from the parentheses the printer added, the tree must be the same.
func TestParserPrintRandomTrees(t *testing.T) {
	g := ptestGen{rand.New(rand.NewPCG(1, 2))}
	for range 20000 {
		e := g.expr(1 + g.r.IntN(5))
		src := FormatExpr(e)
		back, err := ParseExpr("r.nab", src)
		if err != nil {
			t.Fatalf("%s prints as %q, which does not parse: %v", ptestDump(e), src, err)
		}
		if got, want := ptestUnparen(ptestDump(back)), ptestDump(e); got != want {
			t.Fatalf("%q parses as\n%s\nwant\n%s", src, got, want)
		}
		if again := FormatExpr(back); again != src {
			t.Fatalf("%q formats as %q after parsing", src, again)
		}
	}
}
