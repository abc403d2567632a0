package ir

import (
	"fmt"
	"sort"
	"strings"
)

// Rewriting (SPEC §7): the checked rules and strategies of a program, as
// the front end hands them to the optimizer (package rewrite). They are
// types of ir so that the optimizer depends on ir alone.
//
// A rule is split between data and behaviour. Its left-hand side is data:
// a Pat mirroring the core IR the checker makes of the same text, with
// the rule's variables as holes, matched without types; so is its where
// clause (a RuleCond). Its right-hand side is behaviour the front end
// supplies (RuleRHS): it is elaborated afresh for each match, because its
// literals take their types from the matched subterms and it may not
// type-check at all for some matches (sum(a * b) => dot(a, b) on
// matrices), which the optimizer reads as "does not apply here".
//
// Strategy expressions (Strat) are kept as written, names unresolved: a
// name means a rule or strategy declared in the same file, else a
// built-in strategy (StrategyArity), and the optimizer resolves it when
// it compiles the expression.

// RewriteRule is a checked rule: rule Name(Vars): LHS => rhs where Where.
type RewriteRule struct {
	Name string
	Vars []string
	LHS  Pat
	// Where is nil when the rule has no where clause.
	Where RuleCond
	// Strict reports, for each variable, whether the left-hand side
	// evaluates its subterm unconditionally: not only inside a lambda's
	// body or a branch of an if. A strict subterm can be bound by a let
	// ahead of the right-hand side when that uses it more than once.
	Strict map[string]bool
	// RHSUses counts the right-hand side's uses of each variable, as
	// written.
	RHSUses map[string]int
	// RHS elaborates the right-hand side (and, for testing, both sides).
	RHS RuleRHS
	// Text is the declaration as written, normalized ("rule r(x): x * 1.0
	// => x"), for messages.
	Text string
	P    Pos
}

// String renders the rule as declared.
func (r *RewriteRule) String() string { return r.Text }

// RuleRHS is a rule's right-hand side, elaborated by the front end that
// checked the rule. Its methods may be called concurrently.
type RuleRHS interface {
	// Instantiate builds the right-hand side for a match: bind maps each
	// variable to the subterm it matched, want is the matched term's type
	// (it types the right-hand side's literals) and every node created
	// gets position pos. The result shares no binder with anything else.
	// An error means the right-hand side does not type-check for this
	// match, so the rule does not apply there.
	Instantiate(bind map[string]Expr, want Type, pos Pos) (Expr, error)
	// Sides elaborates both sides as ordinary expressions in which each
	// rule variable is the variable vars[name] (of the type to test the
	// rule at), for testing the rule by evaluation. The right-hand side
	// has the left-hand side's type, or Sides fails.
	Sides(vars map[string]*Var) (lhs, rhs Expr, err error)
}

// RewriteStrategy is a declared strategy: strategy Name = Body.
type RewriteStrategy struct {
	Name string
	Body Strat
	P    Pos
}

// ---- patterns ----

// Pat is a rule's elaborated left-hand side. Its nodes mirror Expr.
type Pat interface{ isPat() }

type (
	// PVar is a rule variable: it matches any subterm that does not
	// mention a variable bound inside the matched term, and a variable
	// that occurs twice matches only equal subterms.
	PVar struct{ Name string }
	// PBound is a use of a variable bound inside the pattern (a lambda
	// parameter or a let); it matches the corresponding binder's uses.
	PBound struct{ Name string }
	// PConst is a literal. An int64 Val (an integer literal) matches an
	// i64 or an f64 constant of that value; a float64 Val matches f64
	// constants equal to it; a bool matches that bool.
	PConst struct{ Val any }
	// PPrim is a primitive call; Aux is not compared.
	PPrim struct {
		Op   *Prim
		Args []Pat
	}
	// PEta is a builtin used as a function value (map(exp, x)): it matches
	// the lambda the checker makes of it, fn(a, ...) => op(a, ...).
	PEta struct{ Op *Prim }
	// PGlobal is a reference to a def by its IR name.
	PGlobal struct{ Name string }
	// PCall is the call of a function value.
	PCall struct {
		Fn   Pat
		Args []Pat
	}
	// PLambda matches a lambda with as many parameters, of the given types
	// where Types[i] is not nil.
	PLambda struct {
		Params []string
		Types  []Type
		Body   Pat
	}
	// PLet matches let Name = Value in Body.
	PLet struct {
		Name        string
		Value, Body Pat
	}
	// PTuple matches a tuple literal.
	PTuple struct{ Elems []Pat }
	// PProj matches field Index of a tuple.
	PProj struct {
		X     Pat
		Index int
	}
	// PIf matches a conditional.
	PIf struct{ Cond, Then, Else Pat }
	// PAlt matches what any of its alternatives matches, tried in order:
	// -1.0 matches the constant -1.0 and neg(1.0); a && b on scalars is an
	// if, on arrays the primitive and.
	PAlt struct{ Alts []Pat }
)

func (*PVar) isPat()    {}
func (*PBound) isPat()  {}
func (*PConst) isPat()  {}
func (*PPrim) isPat()   {}
func (*PEta) isPat()    {}
func (*PGlobal) isPat() {}
func (*PCall) isPat()   {}
func (*PLambda) isPat() {}
func (*PLet) isPat()    {}
func (*PTuple) isPat()  {}
func (*PProj) isPat()   {}
func (*PIf) isPat()     {}
func (*PAlt) isPat()    {}

// FormatPat renders a pattern for messages and tests, in the notation
// of printed IR with ?x for rule variables.
func FormatPat(p Pat) string {
	var b strings.Builder
	var rec func(p Pat)
	list := func(ps []Pat) {
		for i, q := range ps {
			if i > 0 {
				b.WriteString(", ")
			}
			rec(q)
		}
	}
	rec = func(p Pat) {
		switch p := p.(type) {
		case *PVar:
			b.WriteString("?" + p.Name)
		case *PBound:
			b.WriteString(p.Name)
		case *PConst:
			if f, ok := p.Val.(float64); ok {
				b.WriteString(FormatFloat(f))
			} else {
				fmt.Fprint(&b, p.Val)
			}
		case *PPrim:
			b.WriteString(p.Op.Name + "(")
			list(p.Args)
			b.WriteString(")")
		case *PEta:
			b.WriteString(p.Op.Name)
		case *PGlobal:
			b.WriteString(p.Name)
		case *PCall:
			rec(p.Fn)
			b.WriteString("(")
			list(p.Args)
			b.WriteString(")")
		case *PLambda:
			b.WriteString("fn(" + strings.Join(p.Params, ", ") + ") => ")
			rec(p.Body)
		case *PLet:
			b.WriteString("let " + p.Name + " = ")
			rec(p.Value)
			b.WriteString(" in ")
			rec(p.Body)
		case *PTuple:
			b.WriteString("(")
			list(p.Elems)
			b.WriteString(")")
		case *PProj:
			rec(p.X)
			fmt.Fprintf(&b, ".%d", p.Index)
		case *PIf:
			b.WriteString("if ")
			rec(p.Cond)
			b.WriteString(" then ")
			rec(p.Then)
			b.WriteString(" else ")
			rec(p.Else)
		case *PAlt:
			b.WriteString("(")
			for i, q := range p.Alts {
				if i > 0 {
					b.WriteString(" | ")
				}
				rec(q)
			}
			b.WriteString(")")
		}
	}
	rec(p)
	return b.String()
}

// ---- where clauses ----

// RuleCond is a rule's checked where clause, a test of the subterms its
// variables matched.
type RuleCond interface{ isRuleCond() }

type (
	// CondPred is is_const(Var), is_var(Var), is_zero(Var) or
	// is_one(Var); Pred is the predicate's name.
	CondPred struct{ Pred, Var string }
	// CondNot is !X.
	CondNot struct{ X RuleCond }
	// CondAnd is X && Y.
	CondAnd struct{ X, Y RuleCond }
	// CondOr is X || Y.
	CondOr struct{ X, Y RuleCond }
	// CondLit is true or false.
	CondLit struct{ Val bool }
)

func (*CondPred) isRuleCond() {}
func (*CondNot) isRuleCond()  {}
func (*CondAnd) isRuleCond()  {}
func (*CondOr) isRuleCond()   {}
func (*CondLit) isRuleCond()  {}

// ---- strategies ----

// Strat is a strategy expression: a name (a rule, a strategy, a built-in
// pass or combinator) applied to zero or more strategies, or a sequence
// (s1; s2) or a left choice (s1 <+ s2). String renders it as source.
type Strat interface {
	Pos() Pos
	String() string
	isStrat()
}

// StratName is a name, optionally applied: try(s), topdown(s), mul_one.
type StratName struct {
	Name string
	Args []Strat
	P    Pos
}

// StratSeq is s1; s2; ... (id when empty).
type StratSeq struct {
	Steps []Strat
	P     Pos
}

// StratChoice is s1 <+ s2 <+ ... (fail when empty).
type StratChoice struct {
	Alts []Strat
	P    Pos
}

func (s *StratName) Pos() Pos   { return s.P }
func (s *StratSeq) Pos() Pos    { return s.P }
func (s *StratChoice) Pos() Pos { return s.P }

func (s *StratName) String() string   { return FormatStrat(s) }
func (s *StratSeq) String() string    { return FormatStrat(s) }
func (s *StratChoice) String() string { return FormatStrat(s) }

func (*StratName) isStrat()   {}
func (*StratSeq) isStrat()    {}
func (*StratChoice) isStrat() {}

// FormatStrat renders a strategy expression as source, with the
// parentheses its structure needs: ';' binds loosest, then '<+'.
func FormatStrat(s Strat) string {
	var b strings.Builder
	formatStrat(&b, s, 0)
	return b.String()
}

// formatStrat writes s in a context: 0 anywhere, 1 a step of a sequence
// (a nested sequence needs parentheses), 2 an alternative of a choice (a
// sequence or a nested choice needs them).
func formatStrat(b *strings.Builder, s Strat, ctx int) {
	list := func(ss []Strat, sep string, inner int, parens bool) {
		if parens {
			b.WriteString("(")
		}
		for i, x := range ss {
			if i > 0 {
				b.WriteString(sep)
			}
			formatStrat(b, x, inner)
		}
		if parens {
			b.WriteString(")")
		}
	}
	switch s := s.(type) {
	case *StratName:
		b.WriteString(s.Name)
		if len(s.Args) > 0 {
			list(s.Args, ", ", 0, true)
		}
	case *StratSeq:
		if len(s.Steps) == 0 {
			b.WriteString("id")
			return
		}
		list(s.Steps, "; ", 1, ctx >= 1)
	case *StratChoice:
		if len(s.Alts) == 0 {
			b.WriteString("fail")
			return
		}
		list(s.Alts, " <+ ", 2, ctx >= 2)
	}
}

// builtinStrategies lists the strategies every file can name unless it
// declares a rule or strategy of the same name: the combinators, with
// the number of strategies they take, and the passes, which take none.
// The front end checks strategy expressions against it; package rewrite
// implements each.
var builtinStrategies = map[string]int{
	"id": 0, "fail": 0, "try": 1, "repeat": 1, "all": 1, "one": 1, "some": 1,
	"topdown": 1, "bottomup": 1, "innermost": 1, "outermost": 1, "normalize": 1,
	"beta": 0, "inline": 0, "constfold": 0, "simplify": 0, "cse": 0, "dce": 0, "deadfield": 0,
	"shapezeros": 0, "licm": 0,
	"fuse": 0, "lower": 0, "default": 0,
	"remat": 0, "save_all": 0, "remat_all": 0,
}

// StrategyArity reports whether name is a built-in strategy (a
// combinator or a pass) and how many strategies it takes.
func StrategyArity(name string) (int, bool) {
	n, ok := builtinStrategies[name]
	return n, ok
}

// BuiltinStrategies lists the names of the built-in strategies, sorted.
func BuiltinStrategies() []string {
	names := make([]string, 0, len(builtinStrategies))
	for n := range builtinStrategies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
