package rewrite

import "github.com/nabla-lang/nabla/ir"

// matcher matches a rule's left-hand side (an ir.Pat) against a term.
// Rules have few variables, so it keeps them in short lists.
type matcher struct {
	names []string  // rule variables bound so far,
	vals  []ir.Expr // and their subterms
	bound []binding // pattern-bound names, innermost last
	inner map[*ir.Var]bool
}

type binding struct {
	name string
	v    *ir.Var
}

func newMatcher() *matcher { return &matcher{} }

func (m *matcher) lookup(name string) (ir.Expr, bool) {
	for i, n := range m.names {
		if n == name {
			return m.vals[i], true
		}
	}
	return nil, false
}

func (m *matcher) boundVar(name string) *ir.Var {
	for i := len(m.bound) - 1; i >= 0; i-- {
		if m.bound[i].name == name {
			return m.bound[i].v
		}
	}
	return nil
}

// binds returns the match as a map.
func (m *matcher) binds() map[string]ir.Expr {
	out := make(map[string]ir.Expr, len(m.names))
	for i, n := range m.names {
		out[n] = m.vals[i]
	}
	return out
}

// match reports whether p matches e, extending m.binds.
func (m *matcher) match(p ir.Pat, e ir.Expr) bool {
	switch p := p.(type) {
	case *ir.PVar:
		// A rule variable stands for a term that makes sense where the
		// right-hand side puts it: it may not mention a variable bound
		// inside the matched term.
		if ir.Mentions(e, m.inner) {
			return false
		}
		if prev, ok := m.lookup(p.Name); ok {
			return ir.AlphaEqual(prev, e)
		}
		m.names = append(m.names, p.Name)
		m.vals = append(m.vals, e)
		return true
	case *ir.PBound:
		v, ok := e.(*ir.Var)
		return ok && m.boundVar(p.Name) == v
	case *ir.PConst:
		c, ok := e.(*ir.Const)
		return ok && constMatches(p.Val, c.Val)
	case *ir.PPrim:
		pc, ok := e.(*ir.PrimCall)
		return ok && pc.Op == p.Op && m.list(p.Args, pc.Args)
	case *ir.PEta:
		lam, ok := e.(*ir.Lambda)
		if !ok {
			return false
		}
		pc, ok := lam.Body.(*ir.PrimCall)
		if !ok || pc.Op != p.Op || len(pc.Args) != len(lam.Params) {
			return false
		}
		for i, a := range pc.Args {
			if a != lam.Params[i] {
				return false
			}
		}
		return true
	case *ir.PGlobal:
		g, ok := e.(*ir.Global)
		return ok && g.Name == p.Name
	case *ir.PCall:
		call, ok := e.(*ir.Call)
		return ok && m.match(p.Fn, call.Fn) && m.list(p.Args, call.Args)
	case *ir.PLambda:
		lam, ok := e.(*ir.Lambda)
		if !ok || len(lam.Params) != len(p.Params) {
			return false
		}
		for i, v := range lam.Params {
			if p.Types[i] != nil && !ir.Equal(p.Types[i], v.T) {
				return false
			}
		}
		restore := m.bind(p.Params, lam.Params)
		defer restore()
		return m.match(p.Body, lam.Body)
	case *ir.PLet:
		l, ok := e.(*ir.Let)
		if !ok || !m.match(p.Value, l.Value) {
			return false
		}
		restore := m.bind([]string{p.Name}, []*ir.Var{l.Var})
		defer restore()
		return m.match(p.Body, l.Body)
	case *ir.PTuple:
		t, ok := e.(*ir.MakeTuple)
		return ok && m.list(p.Elems, t.Elems)
	case *ir.PProj:
		pr, ok := e.(*ir.Proj)
		return ok && pr.Index == p.Index && m.match(p.X, pr.X)
	case *ir.PIf:
		i, ok := e.(*ir.If)
		return ok && m.match(p.Cond, i.Cond) && m.match(p.Then, i.Then) && m.match(p.Else, i.Else)
	case *ir.PAlt:
		for _, alt := range p.Alts {
			n := len(m.names)
			if m.match(alt, e) {
				return true
			}
			m.names, m.vals = m.names[:n], m.vals[:n]
		}
	}
	return false
}

func (m *matcher) list(ps []ir.Pat, es []ir.Expr) bool {
	if len(ps) != len(es) {
		return false
	}
	for i := range ps {
		if !m.match(ps[i], es[i]) {
			return false
		}
	}
	return true
}

// bind enters pattern-bound names; the function it returns undoes that.
func (m *matcher) bind(names []string, vars []*ir.Var) func() {
	n := len(m.bound)
	if m.inner == nil {
		m.inner = map[*ir.Var]bool{}
	}
	for i, name := range names {
		m.bound = append(m.bound, binding{name, vars[i]})
		m.inner[vars[i]] = true
	}
	return func() {
		m.bound = m.bound[:n]
		for _, v := range vars {
			delete(m.inner, v)
		}
	}
}

// constMatches compares a pattern literal with a constant: an integer
// literal matches i64 and f64 constants of its value.
func constMatches(p, v any) bool {
	switch p := p.(type) {
	case int64:
		switch v := v.(type) {
		case int64:
			return v == p
		case float64:
			return v == float64(p)
		}
	case float64:
		v, ok := v.(float64)
		return ok && v == p
	case bool:
		v, ok := v.(bool)
		return ok && v == p
	}
	return false
}

// evalCond evaluates a where clause on the matched subterms.
func evalCond(c ir.RuleCond, binds map[string]ir.Expr) bool {
	switch c := c.(type) {
	case *ir.CondLit:
		return c.Val
	case *ir.CondNot:
		return !evalCond(c.X, binds)
	case *ir.CondAnd:
		return evalCond(c.X, binds) && evalCond(c.Y, binds)
	case *ir.CondOr:
		return evalCond(c.X, binds) || evalCond(c.Y, binds)
	case *ir.CondPred:
		e := binds[c.Var]
		switch c.Pred {
		case "is_const":
			return isLiteral(e)
		case "is_var":
			_, ok := e.(*ir.Var)
			return ok
		case "is_zero":
			return isNumber(e, 0)
		case "is_one":
			return isNumber(e, 1)
		}
	}
	return false
}

// isLiteral reports whether e is a constant: a literal, or an array or a
// tuple literal of constants.
func isLiteral(e ir.Expr) bool {
	switch e := e.(type) {
	case *ir.Const:
		return true
	case *ir.PrimCall:
		if e.Op == ir.PrimArray {
			for _, x := range e.Args {
				if !isLiteral(x) {
					return false
				}
			}
			return true
		}
	case *ir.MakeTuple:
		for _, x := range e.Elems {
			if !isLiteral(x) {
				return false
			}
		}
		return true
	}
	return false
}

// isNumber reports whether every number in e's value is certainly v (0
// or 1): a literal, zeros_like, zeros/ones/fill, or an array or tuple
// literal of such.
func isNumber(e ir.Expr, v float64) bool {
	switch e := e.(type) {
	case *ir.Const:
		switch x := e.Val.(type) {
		case float64:
			return x == v
		case int64:
			return float64(x) == v
		}
	case *ir.PrimCall:
		switch e.Op {
		case ir.PrimZerosLike, ir.PrimZeros:
			return v == 0
		case ir.PrimOnes:
			return v == 1
		case ir.PrimFill:
			return isNumber(e.Args[1], v)
		case ir.PrimArray:
			for _, x := range e.Args {
				if !isNumber(x, v) {
					return false
				}
			}
			return true
		}
	case *ir.MakeTuple:
		for _, x := range e.Elems {
			if !isNumber(x, v) {
				return false
			}
		}
		return len(e.Elems) > 0
	}
	return false
}

// head is what the root of a term must be for a pattern to match it; the
// zero head matches anything.
type head struct {
	kind string
	op   *ir.Prim
}

func patHead(p ir.Pat) head {
	switch p := p.(type) {
	case *ir.PPrim:
		return head{kind: "prim", op: p.Op}
	case *ir.PConst:
		return head{kind: "const"}
	case *ir.PCall:
		return head{kind: "call"}
	case *ir.PLambda, *ir.PEta:
		return head{kind: "lambda"}
	case *ir.PLet:
		return head{kind: "let"}
	case *ir.PTuple:
		return head{kind: "tuple"}
	case *ir.PProj:
		return head{kind: "proj"}
	case *ir.PIf:
		return head{kind: "if"}
	case *ir.PGlobal:
		return head{kind: "global"}
	}
	return head{}
}

func termHead(e ir.Expr) head {
	switch e := e.(type) {
	case *ir.PrimCall:
		return head{kind: "prim", op: e.Op}
	case *ir.Const:
		return head{kind: "const"}
	case *ir.Call:
		return head{kind: "call"}
	case *ir.Lambda:
		return head{kind: "lambda"}
	case *ir.Let:
		return head{kind: "let"}
	case *ir.MakeTuple:
		return head{kind: "tuple"}
	case *ir.Proj:
		return head{kind: "proj"}
	case *ir.If:
		return head{kind: "if"}
	case *ir.Global:
		return head{kind: "global"}
	}
	return head{kind: "other"}
}

// ruleS applies one rule at the root of the term.
type ruleS struct {
	name    string // as traced: the rule's name, or pass.rule for built-in rules
	rule    *ir.RewriteRule
	head    head
	builtin bool
}

func newRuleS(name string, r *ir.RewriteRule, builtin bool) *ruleS {
	return &ruleS{name: name, rule: r, head: patHead(r.LHS), builtin: builtin}
}

func (r *ruleS) String() string { return r.name }

func (r *ruleS) apply(c *ctx, e ir.Expr) (ir.Expr, bool, error) {
	out, ok := r.rewrite(c, e)
	if !ok {
		return e, false, nil
	}
	return out, true, c.fire(r.name, e, out)
}

// rewrite matches and instantiates without recording the step.
func (r *ruleS) rewrite(c *ctx, e ir.Expr) (ir.Expr, bool) {
	if c.protected || r.head.kind != "" && r.head != termHead(e) {
		return nil, false
	}
	m := newMatcher()
	if !m.match(r.rule.LHS, e) {
		return nil, false
	}
	binds := m.binds()
	if r.rule.Where != nil && !evalCond(r.rule.Where, binds) {
		return nil, false
	}
	if r.builtin {
		// A built-in rule never drops a computation that might fail.
		for _, v := range r.rule.Vars {
			if r.rule.RHSUses[v] == 0 && !ir.Total(binds[v]) {
				return nil, false
			}
		}
	}
	out, err := r.rule.RHS.Instantiate(binds, e.Type(), c.posOf(e))
	if err != nil || !ir.Equal(out.Type(), e.Type()) {
		return nil, false
	}
	out = betaAll(out)
	if n := ir.CountInPlace(e); n > 0 && ir.CountInPlace(out) != n {
		// In-place updates may be neither duplicated nor dropped.
		return nil, false
	}
	return out, true
}
