package lang

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Rewrite rules (SPEC §7) after checking.
//
// A rule's two sides are written in the surface language, but they play
// different parts. The left-hand side is a pattern: it is elaborated here
// into a Pat tree that mirrors what the checker would produce for the
// same text (operators become primitives, a[i, j] becomes two index
// calls, a comprehension becomes build, && on scalars becomes an if), with
// the rule's variables as holes that match any subterm. No types are
// involved: x * 1.0 matches a scalar product and an array scaled by 1.0
// alike. The right-hand side is not elaborated until a match supplies the
// variables' values: Rule.Instantiate then elaborates it with the ordinary
// checker, each variable bound to a variable of its subterm's type, so
// the result is typed afresh and its literals take their types from the
// context, exactly as in hand-written code. A right-hand side that does
// not type-check for a match (sum(a * b) => dot(a, b) on matrices) simply
// does not apply there.
//
// Names in a rule resolve as in any declaration of its file: a rule's
// variables first, then names bound inside the rule (lambda parameters,
// lets), then the file's defs and its imports, then builtins.

// Pat is an elaborated left-hand side. Its nodes mirror ir.Expr.
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
		Op   *ir.Prim
		Args []Pat
	}
	// PEta is a builtin used as a function value (map(exp, x)): it matches
	// the lambda the checker makes of it, fn(a, ...) => op(a, ...).
	PEta struct{ Op *ir.Prim }
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
		Types  []ir.Type
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

// Cond is a checked where-condition.
type Cond interface{ isCond() }

type (
	// CondPred is is_const(Var), is_var(Var), is_zero(Var) or
	// is_one(Var); Pred is the predicate's name.
	CondPred struct{ Pred, Var string }
	// CondNot is !X.
	CondNot struct{ X Cond }
	// CondAnd is X && Y.
	CondAnd struct{ X, Y Cond }
	// CondOr is X || Y.
	CondOr struct{ X, Y Cond }
	// CondLit is true or false.
	CondLit struct{ Val bool }
)

func (*CondPred) isCond() {}
func (*CondNot) isCond()  {}
func (*CondAnd) isCond()  {}
func (*CondOr) isCond()   {}
func (*CondLit) isCond()  {}

// Rule is a checked rule, ready for matching (LHS, Where) and
// instantiation (Instantiate).
type Rule struct {
	Name  string
	Pos   Pos
	Vars  []string
	LHS   Pat
	Where Cond // nil when the rule has no where clause
	// Strict reports, for each variable, whether the left-hand side
	// evaluates its subterm unconditionally: not only inside a lambda's
	// body or a branch of an if. A strict subterm can be bound by a let
	// ahead of the right-hand side when that uses it more than once.
	Strict map[string]bool
	// RHSUses counts the right-hand side's uses of each variable, as
	// written.
	RHSUses map[string]int

	decl  *RuleDecl
	env   *RuleEnv
	scope *modScope
}

// Decl returns the declaration the rule was checked from.
func (r *Rule) Decl() *RuleDecl { return r.decl }

// String renders the rule as declared.
func (r *Rule) String() string {
	s := "rule " + r.Name + "(" + strings.Join(r.Vars, ", ") + "): " + FormatExpr(r.decl.LHS) + " => " + FormatExpr(r.decl.RHS)
	if r.decl.Where != nil {
		s += " where " + FormatExpr(r.decl.Where)
	}
	return s
}

// RuleEnv resolves the names in rules against a checked program (after
// checking, or after AD expansion: the defs' names and types are the
// same). It is built once and then only read, so rules made from it may be
// instantiated concurrently.
type RuleEnv struct {
	globals map[string]*global
	scopes  map[*module]*modScope
	imports map[string]*module // by qualifier
	files   map[string]*modScope
}

// NewRuleEnv prepares the resolution of rule names in p. A def belongs to
// the file of its position; a def named q.x was imported as module q.
func NewRuleEnv(p *ir.Program) *RuleEnv {
	env := &RuleEnv{globals: map[string]*global{}, scopes: map[*module]*modScope{}, imports: map[string]*module{}, files: map[string]*modScope{}}
	if p == nil {
		return env
	}
	for _, d := range p.Defs {
		g := &global{name: d.Name, state: 2, def: d, typ: d.Type()}
		env.globals[d.Name] = g
		if q, rest, ok := strings.Cut(d.Name, "."); ok {
			m := env.imports[q]
			if m == nil {
				m = &module{key: q, qualifier: q}
				env.imports[q] = m
				env.scopes[m] = &modScope{mod: m, defs: map[string]*global{}}
			}
			env.scopes[m].defs[rest] = g
		}
	}
	for _, d := range p.Defs {
		s := env.fileScope(d.P.File)
		local := d.Name
		if i := strings.LastIndex(local, "."); i >= 0 {
			local = local[i+1:]
		}
		if _, dup := s.defs[local]; !dup {
			s.defs[local] = env.globals[d.Name]
		}
	}
	return env
}

// fileScope is the top-level scope of the file named file.
func (env *RuleEnv) fileScope(file string) *modScope {
	if s := env.files[file]; s != nil {
		return s
	}
	m := &module{key: file, imports: env.imports}
	s := &modScope{mod: m, defs: map[string]*global{}}
	env.scopes[m] = s
	env.files[file] = s
	return s
}

func (env *RuleEnv) checker() *checker {
	return &checker{globals: env.globals, scopes: env.scopes}
}

// Rule elaborates a rule declaration: its left-hand side into a pattern,
// its where clause into a Cond. The right-hand side is elaborated at each
// instantiation.
func (env *RuleEnv) Rule(d *RuleDecl) (*Rule, error) {
	s := env.fileScope(d.Pos.File)
	c := env.checker()
	r := c.compileRule(s, d)
	if len(c.errs) > 0 {
		sortErrors(c.errs)
		return nil, c.errs
	}
	r.env = env
	return r, nil
}

// checkRuleSides is the part of checking a rule that elaborates its
// pattern: it reports left-hand sides the rewriter cannot match and
// variables that the left-hand side does not bind.
func (c *checker) checkRuleSides(s *modScope, r *RuleDecl) {
	c.compileRule(s, r)
}

// compileRule elaborates d's pattern and where clause, reporting errors
// on c.
func (c *checker) compileRule(s *modScope, d *RuleDecl) *Rule {
	r := &Rule{Name: d.Name, Pos: d.Pos, decl: d, scope: s, Strict: map[string]bool{}, RHSUses: map[string]int{}}
	pc := &patComp{c: c, s: s, vars: map[string]bool{}, seen: map[string]bool{}, strict: r.Strict}
	for _, v := range d.Vars {
		r.Vars = append(r.Vars, v.Name)
		pc.vars[v.Name] = true
	}
	r.LHS = pc.pattern(d.LHS, nil, false)
	if _, bare := r.LHS.(*PVar); bare && len(c.errs) == 0 {
		c.errorf(StartPos(d.LHS), "the left-hand side of rule %s is a bare variable, which would match every term", d.Name)
	}
	for _, v := range d.Vars {
		if !pc.seen[v.Name] {
			c.errorf(v.Pos, "rule variable %s does not appear on the left-hand side of rule %s", v.Name, d.Name)
		}
	}
	countVarUses(d.RHS, pc.vars, nil, r.RHSUses)
	if d.Where != nil {
		r.Where = whereCond(d.Where)
	}
	return r
}

// patComp elaborates one left-hand side.
type patComp struct {
	c      *checker
	s      *modScope
	vars   map[string]bool // the rule's variables
	seen   map[string]bool // variables that occur
	strict map[string]bool // variables that occur in a strict position
}

// boundNames is the list of names bound inside the pattern, innermost
// last.
type boundNames []string

func (b boundNames) has(name string) bool {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == name {
			return true
		}
	}
	return false
}

func (pc *patComp) unsupported(pos Pos, what string) Pat {
	pc.c.errorf(pos, "%s cannot appear on the left-hand side of a rule", what)
	return &PConst{Val: false}
}

// pattern elaborates e; cond is set inside lambda bodies and if branches.
func (pc *patComp) pattern(e Expr, bound boundNames, cond bool) Pat {
	switch e := e.(type) {
	case *Paren:
		return pc.pattern(e.X, bound, cond)
	case *IntLit:
		return &PConst{Val: e.Val}
	case *FloatLit:
		return &PConst{Val: e.Val}
	case *BoolLit:
		return &PConst{Val: e.Val}
	case *StringLit:
		return pc.unsupported(e.Pos, "a string")
	case *Ident:
		return pc.ident(e, bound, cond)
	case *Unary:
		if e.Op == "!" {
			return &PPrim{Op: ir.PrimNot, Args: []Pat{pc.pattern(e.X, bound, cond)}}
		}
		switch x := unparen(e.X).(type) {
		case *IntLit:
			return &PAlt{Alts: []Pat{&PConst{Val: -x.Val}, &PPrim{Op: ir.PrimNeg, Args: []Pat{&PConst{Val: x.Val}}}}}
		case *FloatLit:
			return &PAlt{Alts: []Pat{&PConst{Val: -x.Val}, &PPrim{Op: ir.PrimNeg, Args: []Pat{&PConst{Val: x.Val}}}}}
		}
		return &PPrim{Op: ir.PrimNeg, Args: []Pat{pc.pattern(e.X, bound, cond)}}
	case *Binary:
		x := pc.pattern(e.X, bound, cond)
		switch e.Op {
		case "&&":
			y := pc.pattern(e.Y, bound, true)
			return &PAlt{Alts: []Pat{&PIf{Cond: x, Then: y, Else: &PConst{Val: false}}, &PPrim{Op: ir.PrimAnd, Args: []Pat{x, y}}}}
		case "||":
			y := pc.pattern(e.Y, bound, true)
			return &PAlt{Alts: []Pat{&PIf{Cond: x, Then: &PConst{Val: true}, Else: y}, &PPrim{Op: ir.PrimOr, Args: []Pat{x, y}}}}
		}
		return &PPrim{Op: binaryPrims[e.Op], Args: []Pat{x, pc.pattern(e.Y, bound, cond)}}
	case *Call:
		return pc.call(e, bound, cond)
	case *Index:
		x := pc.pattern(e.X, bound, cond)
		for _, ix := range e.Indices {
			x = &PPrim{Op: ir.PrimIndex, Args: []Pat{x, pc.pattern(ix, bound, cond)}}
		}
		return x
	case *Slice:
		x := pc.pattern(e.X, bound, cond)
		var lo, hi Pat = &PConst{Val: int64(0)}, nil
		if e.Lo != nil {
			lo = pc.pattern(e.Lo, bound, cond)
		}
		if e.Hi != nil {
			hi = pc.pattern(e.Hi, bound, cond)
		} else {
			hi = &PPrim{Op: ir.PrimLen, Args: []Pat{x}}
		}
		return &PPrim{Op: ir.PrimSlice, Args: []Pat{x, lo, hi}}
	case *Field:
		return &PProj{X: pc.pattern(e.X, bound, cond), Index: e.Index}
	case *TupleLit:
		t := &PTuple{}
		for _, x := range e.Elems {
			t.Elems = append(t.Elems, pc.pattern(x, bound, cond))
		}
		return t
	case *ArrayLit:
		a := &PPrim{Op: ir.PrimArray}
		for _, x := range e.Elems {
			a.Args = append(a.Args, pc.pattern(x, bound, cond))
		}
		return a
	case *Comprehension:
		bounds := make([]Pat, len(e.Gens))
		for i, g := range e.Gens {
			bounds[i] = pc.pattern(g.Bound, bound, cond)
		}
		inner := bound
		for _, g := range e.Gens {
			inner = append(inner[:len(inner):len(inner)], g.Name)
		}
		body := pc.pattern(e.Body, inner, true)
		for i := len(e.Gens) - 1; i >= 0; i-- {
			lam := &PLambda{Params: []string{e.Gens[i].Name}, Types: []ir.Type{ir.TI64}, Body: body}
			body = &PPrim{Op: ir.PrimBuild, Args: []Pat{bounds[i], lam}}
		}
		return body
	case *Let:
		pn, ok := e.Pat.(*PatName)
		if !ok {
			return pc.unsupported(e.Pos, "a tuple pattern")
		}
		val := pc.pattern(e.Value, bound, cond)
		body := pc.pattern(e.Body, append(bound[:len(bound):len(bound)], pn.Name), cond)
		return &PLet{Name: pn.Name, Value: val, Body: body}
	case *If:
		return &PIf{Cond: pc.pattern(e.Cond, bound, cond), Then: pc.pattern(e.Then, bound, true), Else: pc.pattern(e.Else, bound, true)}
	case *Lambda:
		lam := &PLambda{}
		inner := bound
		for _, p := range e.Params {
			var t ir.Type
			if p.Type != nil {
				if t = pc.c.typeExpr(p.Type, &scope{mod: pc.s}, false); t == nil {
					return &PConst{Val: false}
				}
			}
			lam.Params = append(lam.Params, p.Name)
			lam.Types = append(lam.Types, t)
			inner = append(inner[:len(inner):len(inner)], p.Name)
		}
		lam.Body = pc.pattern(e.Body, inner, true)
		return lam
	case *Loop:
		return pc.unsupported(e.Pos, "a loop")
	}
	return pc.unsupported(StartPos(e), "this expression")
}

func (pc *patComp) ident(e *Ident, bound boundNames, cond bool) Pat {
	switch {
	case bound.has(e.Name):
		return &PBound{Name: e.Name}
	case pc.vars[e.Name]:
		pc.seen[e.Name] = true
		if !cond {
			pc.strict[e.Name] = true
		}
		return &PVar{Name: e.Name}
	}
	if g := pc.c.lookupGlobal(pc.s, e.Name); g != nil {
		return &PGlobal{Name: g.name}
	}
	if v, ok := builtinConsts[e.Name]; ok {
		return &PConst{Val: v}
	}
	if builtinNames[e.Name] {
		if p := ir.LookupPrim(e.Name); p != nil {
			return &PEta{Op: p}
		}
	}
	pc.c.errorf(e.Pos, "unknown name %s", e.Name)
	return &PConst{Val: false}
}

func (pc *patComp) call(e *Call, bound boundNames, cond bool) Pat {
	args := func(lazy bool) []Pat {
		out := make([]Pat, len(e.Args))
		for i, a := range e.Args {
			out[i] = pc.pattern(a, bound, cond || lazy)
		}
		return out
	}
	if id, ok := e.Fn.(*Ident); ok && !bound.has(id.Name) && !pc.vars[id.Name] {
		if g := pc.c.lookupGlobal(pc.s, id.Name); g != nil {
			return &PCall{Fn: &PGlobal{Name: g.name}, Args: args(false)}
		}
		if builtinNames[id.Name] {
			p := ir.LookupPrim(id.Name)
			if err := p.CheckArity(len(e.Args)); err != nil {
				pc.c.errorf(e.Pos, "%v", err)
			}
			return &PPrim{Op: p, Args: args(false)}
		}
		if _, isConst := builtinConsts[id.Name]; !isConst {
			pc.c.errorf(id.Pos, "unknown name %s", id.Name)
			return &PConst{Val: false}
		}
	}
	return &PCall{Fn: pc.pattern(e.Fn, bound, cond), Args: args(false)}
}

// whereCond converts a where clause that checkWhere accepted.
func whereCond(e Expr) Cond {
	switch e := e.(type) {
	case *Paren:
		return whereCond(e.X)
	case *Unary:
		return &CondNot{X: whereCond(e.X)}
	case *Binary:
		if e.Op == "&&" {
			return &CondAnd{X: whereCond(e.X), Y: whereCond(e.Y)}
		}
		return &CondOr{X: whereCond(e.X), Y: whereCond(e.Y)}
	case *BoolLit:
		return &CondLit{Val: e.Val}
	case *Call:
		id, _ := e.Fn.(*Ident)
		v, _ := e.Args[0].(*Ident)
		if id != nil && v != nil {
			return &CondPred{Pred: id.Name, Var: v.Name}
		}
	}
	return &CondLit{Val: false}
}

// countVarUses counts the free occurrences of the names in vars in e.
func countVarUses(e Expr, vars map[string]bool, bound boundNames, out map[string]int) {
	rec := func(x Expr) { countVarUses(x, vars, bound, out) }
	switch e := e.(type) {
	case *Ident:
		if vars[e.Name] && !bound.has(e.Name) {
			out[e.Name]++
		}
	case *Paren:
		rec(e.X)
	case *Unary:
		rec(e.X)
	case *Binary:
		rec(e.X)
		rec(e.Y)
	case *Call:
		rec(e.Fn)
		for _, a := range e.Args {
			rec(a)
		}
	case *Index:
		rec(e.X)
		for _, a := range e.Indices {
			rec(a)
		}
	case *Slice:
		rec(e.X)
		if e.Lo != nil {
			rec(e.Lo)
		}
		if e.Hi != nil {
			rec(e.Hi)
		}
	case *Field:
		rec(e.X)
	case *TupleLit:
		for _, a := range e.Elems {
			rec(a)
		}
	case *ArrayLit:
		for _, a := range e.Elems {
			rec(a)
		}
	case *Comprehension:
		inner := bound
		for _, g := range e.Gens {
			rec(g.Bound)
			inner = append(inner[:len(inner):len(inner)], g.Name)
		}
		countVarUses(e.Body, vars, inner, out)
	case *Let:
		rec(e.Value)
		countVarUses(e.Body, vars, append(bound[:len(bound):len(bound)], patNames(e.Pat)...), out)
	case *If:
		rec(e.Cond)
		rec(e.Then)
		rec(e.Else)
	case *Lambda:
		inner := bound
		for _, p := range e.Params {
			inner = append(inner[:len(inner):len(inner)], p.Name)
		}
		countVarUses(e.Body, vars, inner, out)
	case *Loop:
		rec(e.Init)
		inner := append(bound[:len(bound):len(bound)], patNames(e.Pat)...)
		if e.Count != nil {
			rec(e.Count)
			inner = append(inner, e.Index)
		}
		if e.Cond != nil {
			countVarUses(e.Cond, vars, inner, out)
		}
		countVarUses(e.Body, vars, inner, out)
	}
}

func patNames(p Pattern) []string {
	switch p := p.(type) {
	case *PatName:
		return []string{p.Name}
	case *PatTuple:
		var out []string
		for _, q := range p.Elems {
			out = append(out, patNames(q)...)
		}
		return out
	}
	return nil
}

// Instantiate builds the rule's right-hand side for a match: bind maps
// each variable to the subterm it matched, want is the matched term's
// type (it types the right-hand side's literals) and every node the
// right-hand side creates gets position pos.
//
// The right-hand side is elaborated by the checker with each variable
// bound to a fresh variable of its subterm's type; then the variables are
// replaced: a subterm used once is moved in, an atom (a variable, a
// constant or a def's name) is shared, a function value is copied for
// each use (so that calls of it are redexes for beta), and a subterm used
// several times is bound by a let ahead of the result when the pattern
// evaluates it unconditionally, and copied for each use otherwise. The
// result shares no binder with anything else.
//
// The error, when the right-hand side does not type-check for this match,
// says why; the rule then does not apply.
func (r *Rule) Instantiate(bind map[string]ir.Expr, want ir.Type, pos Pos) (ir.Expr, error) {
	c := r.env.checker()
	env := &scope{mod: r.scope}
	vars := map[*ir.Var]string{}
	for _, name := range r.Vars {
		val, ok := bind[name]
		if !ok {
			continue
		}
		v := ir.NewVar(name, val.Type(), pos)
		vars[v] = name
		env = env.bind(name, v, false)
	}
	e := c.expr(r.decl.RHS, env, want)
	if e == nil || len(c.errs) > 0 {
		if len(c.errs) > 0 {
			return nil, c.errs
		}
		return nil, ir.Errorf(r.Pos, "rule %s: the right-hand side does not type-check", r.Name)
	}
	reposition(e, pos)
	uses := map[*ir.Var]int{}
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if v, ok := x.(*ir.Var); ok && enter {
			if _, isRuleVar := vars[v]; isRuleVar {
				uses[v]++
			}
		}
	}, nil)
	var lets []*ir.Var
	taken := map[*ir.Var]bool{}
	e = ir.ReplaceVars(e, func(v *ir.Var) (ir.Expr, bool) {
		name, ok := vars[v]
		if !ok {
			return nil, false
		}
		val := bind[name]
		switch {
		case isShareable(val):
			return val, true
		case uses[v] == 1:
			return val, true
		}
		if _, isFn := val.Type().(*ir.Func); isFn || !r.Strict[name] {
			if !taken[v] {
				taken[v] = true
				return val, true
			}
			return ir.Copy(val), true
		}
		if !taken[v] {
			taken[v] = true
			lets = append(lets, v)
		}
		return v, true
	})
	for i := len(lets) - 1; i >= 0; i-- {
		v := lets[i]
		e = &ir.Let{Var: v, Value: bind[vars[v]], Body: e, P: pos}
	}
	return e, nil
}

// isShareable reports whether e may appear in several places of a tree:
// it binds nothing and costs nothing to repeat.
func isShareable(e ir.Expr) bool {
	switch e.(type) {
	case *ir.Var, *ir.Const, *ir.Global:
		return true
	}
	return false
}

// reposition gives every node of a freshly elaborated right-hand side the
// position of the term it replaces (the rule variables' placeholders
// excepted, which are replaced next).
func reposition(e ir.Expr, pos Pos) {
	ir.Walk(e, func(x ir.Expr, enter bool) {
		if !enter {
			return
		}
		switch x := x.(type) {
		case *ir.Const:
			x.P = pos
		case *ir.Let:
			x.P = pos
			x.Var.P = pos
		case *ir.Lambda:
			x.P = pos
			for _, p := range x.Params {
				p.P = pos
			}
		case *ir.Global:
			x.P = pos
		case *ir.Call:
			x.P = pos
		case *ir.PrimCall:
			x.P = pos
		case *ir.MakeTuple:
			x.P = pos
		case *ir.Proj:
			x.P = pos
		case *ir.If:
			x.P = pos
		case *ir.Loop:
			x.P = pos
			x.State.P = pos
			if x.Index != nil {
				x.Index.P = pos
			}
		}
	}, nil)
}

// Sides elaborates both sides of the rule as ordinary expressions in
// which each rule variable is the variable vars[name] (of the type to
// test the rule at), for testing the rule by evaluation. The right-hand
// side must have the left-hand side's type.
func (r *Rule) Sides(vars map[string]*ir.Var) (lhs, rhs ir.Expr, err error) {
	c := r.env.checker()
	env := &scope{mod: r.scope}
	for _, name := range r.Vars {
		if v := vars[name]; v != nil {
			env = env.bind(name, v, false)
		}
	}
	lhs = c.expr(r.decl.LHS, env, nil)
	if lhs == nil || len(c.errs) > 0 {
		return nil, nil, c.errs.Err()
	}
	rhs = c.expr(r.decl.RHS, env, lhs.Type())
	if rhs == nil || len(c.errs) > 0 {
		return nil, nil, c.errs.Err()
	}
	if !ir.Equal(lhs.Type(), rhs.Type()) {
		return nil, nil, ir.Errorf(r.Pos, "rule %s: the left-hand side has type %s, the right-hand side %s", r.Name, lhs.Type(), rhs.Type())
	}
	return lhs, rhs, nil
}

// ---- strategies ----

// FormatStrat renders a strategy expression as source.
func FormatStrat(s Strat) string {
	var pr printer
	pr.strat(s, 0)
	return pr.b.String()
}

// String renders the strategy as source (so that printed IR shows
// @strategy(...) attributes).
func (s *StratName) String() string { return FormatStrat(s) }

// String renders the strategy as source.
func (s *StratSeq) String() string { return FormatStrat(s) }

// String renders the strategy as source.
func (s *StratChoice) String() string { return FormatStrat(s) }

// StrategyArity reports whether name is a built-in strategy (a
// combinator or a pass) and how many strategies it takes.
func StrategyArity(name string) (int, bool) {
	n, ok := strategyArity[name]
	return n, ok
}

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
				b.WriteString(ir.FormatFloat(f))
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
