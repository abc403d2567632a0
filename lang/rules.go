package lang

import (
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Rewrite rules (SPEC §7) after checking.
//
// A rule's two sides are written in the surface language, but they play
// different parts. The left-hand side is a pattern: it is elaborated here
// into an ir.Pat tree that mirrors what the checker would produce for the
// same text (operators become primitives, a[i, j] becomes two index
// calls, a comprehension becomes build, && on scalars becomes an if), with
// the rule's variables as holes that match any subterm. No types are
// involved: x * 1.0 matches a scalar product and an array scaled by 1.0
// alike. The right-hand side is not elaborated until a match supplies the
// variables' values: Instantiate (the rule's ir.RuleRHS, which package
// rewrite calls at each match) then elaborates it with the ordinary
// checker, each variable bound to a variable of its subterm's type, so
// the result is typed afresh and its literals take their types from the
// context, exactly as in hand-written code. A right-hand side that does
// not type-check for a match (sum(a * b) => dot(a, b) on matrices) simply
// does not apply there.
//
// Names in a rule resolve as in any declaration of its file: a rule's
// variables first, then names bound inside the rule (lambda parameters,
// lets), then the file's defs and its imports, then builtins.

// ruleRHS is a checked rule's right-hand side (ir.RuleRHS): it is
// elaborated with the ordinary checker, in the scope of the rule's file
// and against the defs of the program the rule was checked with. Those
// tables are complete after checking and only read afterwards, so rules
// may be instantiated concurrently. A rule keeps resolving after AD
// expansion: the defs' names and types are the same.
type ruleRHS struct {
	rule    *ir.RewriteRule
	decl    *RuleDecl
	scope   *modScope
	globals map[string]*global
	scopes  map[*module]*modScope
}

func (r *ruleRHS) checker() *checker {
	return &checker{globals: r.globals, scopes: r.scopes}
}

// RuleDeclOf returns the declaration a rule was checked from, or nil for
// a rule that Load did not make.
func RuleDeclOf(r *ir.RewriteRule) *RuleDecl {
	if rhs, ok := r.RHS.(*ruleRHS); ok {
		return rhs.decl
	}
	return nil
}

// ruleText renders a rule declaration on one line.
func ruleText(d *RuleDecl) string {
	vars := make([]string, len(d.Vars))
	for i, v := range d.Vars {
		vars[i] = v.Name
	}
	s := "rule " + d.Name + "(" + strings.Join(vars, ", ") + "): " + FormatExpr(d.LHS) + " => " + FormatExpr(d.RHS)
	if d.Where != nil {
		s += " where " + FormatExpr(d.Where)
	}
	return s
}

// compileRule elaborates d's pattern and where clause into a checked
// rule, reporting errors on c.
func (c *checker) compileRule(s *modScope, d *RuleDecl) *ir.RewriteRule {
	r := &ir.RewriteRule{Name: d.Name, P: d.Pos, Text: ruleText(d), Strict: map[string]bool{}, RHSUses: map[string]int{}}
	r.RHS = &ruleRHS{rule: r, decl: d, scope: s, globals: c.globals, scopes: c.scopes}
	pc := &patComp{c: c, s: s, vars: map[string]bool{}, seen: map[string]bool{}, strict: r.Strict}
	for _, v := range d.Vars {
		r.Vars = append(r.Vars, v.Name)
		pc.vars[v.Name] = true
	}
	r.LHS = pc.pattern(d.LHS, nil, false)
	if _, bare := r.LHS.(*ir.PVar); bare && len(c.errs) == 0 {
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

func (pc *patComp) unsupported(pos Pos, what string) ir.Pat {
	pc.c.errorf(pos, "%s cannot appear on the left-hand side of a rule", what)
	return &ir.PConst{Val: false}
}

// pattern elaborates e; cond is set inside lambda bodies and if branches.
func (pc *patComp) pattern(e Expr, bound boundNames, cond bool) ir.Pat {
	switch e := e.(type) {
	case *Paren:
		return pc.pattern(e.X, bound, cond)
	case *IntLit:
		return &ir.PConst{Val: e.Val}
	case *FloatLit:
		return &ir.PConst{Val: e.Val}
	case *BoolLit:
		return &ir.PConst{Val: e.Val}
	case *StringLit:
		return pc.unsupported(e.Pos, "a string")
	case *Ident:
		return pc.ident(e, bound, cond)
	case *Unary:
		if e.Op == "!" {
			return &ir.PPrim{Op: ir.PrimNot, Args: []ir.Pat{pc.pattern(e.X, bound, cond)}}
		}
		switch x := unparen(e.X).(type) {
		case *IntLit:
			return &ir.PAlt{Alts: []ir.Pat{&ir.PConst{Val: -x.Val}, &ir.PPrim{Op: ir.PrimNeg, Args: []ir.Pat{&ir.PConst{Val: x.Val}}}}}
		case *FloatLit:
			return &ir.PAlt{Alts: []ir.Pat{&ir.PConst{Val: -x.Val}, &ir.PPrim{Op: ir.PrimNeg, Args: []ir.Pat{&ir.PConst{Val: x.Val}}}}}
		}
		return &ir.PPrim{Op: ir.PrimNeg, Args: []ir.Pat{pc.pattern(e.X, bound, cond)}}
	case *Binary:
		x := pc.pattern(e.X, bound, cond)
		switch e.Op {
		case "&&":
			y := pc.pattern(e.Y, bound, true)
			return &ir.PAlt{Alts: []ir.Pat{&ir.PIf{Cond: x, Then: y, Else: &ir.PConst{Val: false}}, &ir.PPrim{Op: ir.PrimAnd, Args: []ir.Pat{x, y}}}}
		case "||":
			y := pc.pattern(e.Y, bound, true)
			return &ir.PAlt{Alts: []ir.Pat{&ir.PIf{Cond: x, Then: &ir.PConst{Val: true}, Else: y}, &ir.PPrim{Op: ir.PrimOr, Args: []ir.Pat{x, y}}}}
		}
		return &ir.PPrim{Op: binaryPrims[e.Op], Args: []ir.Pat{x, pc.pattern(e.Y, bound, cond)}}
	case *Call:
		return pc.call(e, bound, cond)
	case *Index:
		x := pc.pattern(e.X, bound, cond)
		for _, ix := range e.Indices {
			x = &ir.PPrim{Op: ir.PrimIndex, Args: []ir.Pat{x, pc.pattern(ix, bound, cond)}}
		}
		return x
	case *Slice:
		x := pc.pattern(e.X, bound, cond)
		var lo, hi ir.Pat = &ir.PConst{Val: int64(0)}, nil
		if e.Lo != nil {
			lo = pc.pattern(e.Lo, bound, cond)
		}
		if e.Hi != nil {
			hi = pc.pattern(e.Hi, bound, cond)
		} else {
			hi = &ir.PPrim{Op: ir.PrimLen, Args: []ir.Pat{x}}
		}
		return &ir.PPrim{Op: ir.PrimSlice, Args: []ir.Pat{x, lo, hi}}
	case *Field:
		return &ir.PProj{X: pc.pattern(e.X, bound, cond), Index: e.Index}
	case *TupleLit:
		t := &ir.PTuple{}
		for _, x := range e.Elems {
			t.Elems = append(t.Elems, pc.pattern(x, bound, cond))
		}
		return t
	case *ArrayLit:
		a := &ir.PPrim{Op: ir.PrimArray}
		for _, x := range e.Elems {
			a.Args = append(a.Args, pc.pattern(x, bound, cond))
		}
		return a
	case *Comprehension:
		bounds := make([]ir.Pat, len(e.Gens))
		for i, g := range e.Gens {
			bounds[i] = pc.pattern(g.Bound, bound, cond)
		}
		inner := bound
		for _, g := range e.Gens {
			inner = append(inner[:len(inner):len(inner)], g.Name)
		}
		body := pc.pattern(e.Body, inner, true)
		for i := len(e.Gens) - 1; i >= 0; i-- {
			lam := &ir.PLambda{Params: []string{e.Gens[i].Name}, Types: []ir.Type{ir.TI64}, Body: body}
			body = &ir.PPrim{Op: ir.PrimBuild, Args: []ir.Pat{bounds[i], lam}}
		}
		return body
	case *Let:
		pn, ok := e.Pat.(*PatName)
		if !ok {
			return pc.unsupported(e.Pos, "a tuple pattern")
		}
		val := pc.pattern(e.Value, bound, cond)
		body := pc.pattern(e.Body, append(bound[:len(bound):len(bound)], pn.Name), cond)
		return &ir.PLet{Name: pn.Name, Value: val, Body: body}
	case *If:
		return &ir.PIf{Cond: pc.pattern(e.Cond, bound, cond), Then: pc.pattern(e.Then, bound, true), Else: pc.pattern(e.Else, bound, true)}
	case *Lambda:
		lam := &ir.PLambda{}
		inner := bound
		for _, p := range e.Params {
			var t ir.Type
			if p.Type != nil {
				if t = pc.c.typeExpr(p.Type, &scope{mod: pc.s}, false); t == nil {
					return &ir.PConst{Val: false}
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

func (pc *patComp) ident(e *Ident, bound boundNames, cond bool) ir.Pat {
	switch {
	case bound.has(e.Name):
		return &ir.PBound{Name: e.Name}
	case pc.vars[e.Name]:
		pc.seen[e.Name] = true
		if !cond {
			pc.strict[e.Name] = true
		}
		return &ir.PVar{Name: e.Name}
	}
	if g := pc.c.lookupGlobal(pc.s, e.Name); g != nil {
		return &ir.PGlobal{Name: g.name}
	}
	if v, ok := builtinConsts[e.Name]; ok {
		return &ir.PConst{Val: v}
	}
	if isBuiltin(e.Name) {
		if p := ir.LookupPrim(e.Name); p != nil {
			return &ir.PEta{Op: p}
		}
	}
	pc.c.errorf(e.Pos, "unknown name %s", e.Name)
	return &ir.PConst{Val: false}
}

func (pc *patComp) call(e *Call, bound boundNames, cond bool) ir.Pat {
	args := func(lazy bool) []ir.Pat {
		out := make([]ir.Pat, len(e.Args))
		for i, a := range e.Args {
			out[i] = pc.pattern(a, bound, cond || lazy)
		}
		return out
	}
	if id, ok := e.Fn.(*Ident); ok && !bound.has(id.Name) && !pc.vars[id.Name] {
		if g := pc.c.lookupGlobal(pc.s, id.Name); g != nil {
			return &ir.PCall{Fn: &ir.PGlobal{Name: g.name}, Args: args(false)}
		}
		if isBuiltin(id.Name) {
			p := ir.LookupPrim(id.Name)
			if err := p.CheckArity(len(e.Args)); err != nil {
				pc.c.errorf(e.Pos, "%v", err)
			}
			return &ir.PPrim{Op: p, Args: args(false)}
		}
		if _, isConst := builtinConsts[id.Name]; !isConst {
			pc.c.errorf(id.Pos, "unknown name %s", id.Name)
			return &ir.PConst{Val: false}
		}
	}
	return &ir.PCall{Fn: pc.pattern(e.Fn, bound, cond), Args: args(false)}
}

// whereCond converts a where clause that checkWhere accepted.
func whereCond(e Expr) ir.RuleCond {
	switch e := e.(type) {
	case *Paren:
		return whereCond(e.X)
	case *Unary:
		return &ir.CondNot{X: whereCond(e.X)}
	case *Binary:
		if e.Op == "&&" {
			return &ir.CondAnd{X: whereCond(e.X), Y: whereCond(e.Y)}
		}
		return &ir.CondOr{X: whereCond(e.X), Y: whereCond(e.Y)}
	case *BoolLit:
		return &ir.CondLit{Val: e.Val}
	case *Call:
		id, _ := e.Fn.(*Ident)
		v, _ := e.Args[0].(*Ident)
		if id != nil && v != nil {
			return &ir.CondPred{Pred: id.Name, Var: v.Name}
		}
	}
	return &ir.CondLit{Val: false}
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
func (r *ruleRHS) Instantiate(bind map[string]ir.Expr, want ir.Type, pos Pos) (ir.Expr, error) {
	c := r.checker()
	env := &scope{mod: r.scope}
	vars := map[*ir.Var]string{}
	for _, name := range r.rule.Vars {
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
		return nil, ir.Errorf(r.rule.P, "rule %s: the right-hand side does not type-check", r.rule.Name)
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
		if _, isFn := val.Type().(*ir.Func); isFn || !r.rule.Strict[name] {
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
func (r *ruleRHS) Sides(vars map[string]*ir.Var) (lhs, rhs ir.Expr, err error) {
	c := r.checker()
	env := &scope{mod: r.scope}
	for _, name := range r.rule.Vars {
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
		return nil, nil, ir.Errorf(r.rule.P, "rule %s: the left-hand side has type %s, the right-hand side %s", r.rule.Name, lhs.Type(), rhs.Type())
	}
	return lhs, rhs, nil
}
