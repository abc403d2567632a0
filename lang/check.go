package lang

import (
	"sort"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// checker elaborates checked files into core IR. Defs are elaborated on
// demand, callee before caller, which both orders the output and finds
// recursion: meeting a def that is still being elaborated closes a cycle.
type checker struct {
	errs    ir.ErrorList
	globals map[string]*global // by IR name: "f" in the main file, "linalg.cg" in a module
	scopes  map[*module]*modScope
	done    []*ir.Def
}

// global is one def being checked.
type global struct {
	name  string // IR name (qualified outside the main file)
	decl  *FuncDecl
	scope *modScope
	state int // 0 new, 1 elaborating, 2 done
	def   *ir.Def
	typ   ir.Type // the def's type, known after elaboration (or from its signature during a cycle)
}

// modScope is the top-level namespace of one file.
type modScope struct {
	mod    *module
	defs   map[string]*global
	rules  map[string]*RuleDecl
	strats map[string]*StrategyDecl
}

func (c *checker) errorf(pos Pos, format string, args ...any) {
	c.errs = append(c.errs, ir.Errorf(pos, format, args...))
}

// check elaborates the main module and the imported modules (in
// dependency order) into one program.
func check(root *module, imported []*module) (*ir.Program, error) {
	c := &checker{globals: map[string]*global{}, scopes: map[*module]*modScope{}}
	mods := append(append([]*module(nil), imported...), root)
	for _, m := range mods {
		c.declare(m)
	}
	var rules []*ir.RewriteRule
	var strats []*ir.RewriteStrategy
	for _, m := range mods {
		s := c.scopes[m]
		for _, d := range m.file.Decls {
			switch d := d.(type) {
			case *FuncDecl:
				if g := s.defs[d.Name]; g != nil && g.decl == d {
					c.elaborate(g, d.NamePos)
				}
			case *RuleDecl:
				rules = append(rules, c.checkRule(s, d))
			case *StrategyDecl:
				c.checkStrategy(s, d.Body, map[string]bool{d.Name: true})
				strats = append(strats, &ir.RewriteStrategy{Name: d.Name, Body: d.Body, P: d.Pos})
			}
		}
	}
	if len(c.errs) > 0 {
		sortErrors(c.errs)
		return nil, c.errs
	}
	p := ir.NewProgram(c.done)
	p.Rules, p.Strats = rules, strats
	return p, nil
}

// sortErrors orders errors by position so output is stable and reads top
// to bottom.
func sortErrors(errs ir.ErrorList) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// declare enters a module's top-level names, reporting duplicates.
func (c *checker) declare(m *module) {
	s := &modScope{mod: m, defs: map[string]*global{}, rules: map[string]*RuleDecl{}, strats: map[string]*StrategyDecl{}}
	c.scopes[m] = s
	where := map[string]Pos{}
	for _, d := range m.file.Decls {
		switch d := d.(type) {
		case *FuncDecl:
			if prev, dup := where[d.Name]; dup {
				c.errorf(d.NamePos, "%s is already defined at %s", d.Name, prev)
				continue
			}
			where[d.Name] = d.NamePos
			name := d.Name
			if m.qualifier != "" {
				name = m.qualifier + "." + d.Name
			}
			g := &global{name: name, decl: d, scope: s}
			s.defs[d.Name] = g
			c.globals[name] = g
		case *RuleDecl:
			if prev, dup := where["rule "+d.Name]; dup {
				c.errorf(d.Pos, "rule or strategy %s is already defined at %s", d.Name, prev)
				continue
			}
			where["rule "+d.Name] = d.Pos
			s.rules[d.Name] = d
		case *StrategyDecl:
			if prev, dup := where["rule "+d.Name]; dup {
				c.errorf(d.Pos, "rule or strategy %s is already defined at %s", d.Name, prev)
				continue
			}
			where["rule "+d.Name] = d.Pos
			s.strats[d.Name] = d
		}
	}
}

// lookupGlobal resolves a def name as seen from scope s: a def of the
// same file, or a qualified "module.def" of an import.
func (c *checker) lookupGlobal(s *modScope, name string) *global {
	if q, rest, ok := strings.Cut(name, "."); ok {
		dep := s.mod.imports[q]
		if dep == nil {
			return nil
		}
		return c.scopes[dep].defs[rest]
	}
	return s.defs[name]
}

// globalRef returns the def g ready to be referenced from refPos: it is
// elaborated first if need be. A reference to a def still being
// elaborated is recursion, which Nabla rejects.
func (c *checker) globalRef(g *global, refPos Pos) (ir.Type, bool) {
	switch g.state {
	case 1:
		c.errorf(refPos, "recursive reference to %s: recursion is not allowed (iterate with loop)", g.name)
		return nil, false
	case 0:
		c.elaborate(g, refPos)
	}
	return g.typ, g.typ != nil
}

// elaborate checks one def and appends its IR to c.done.
func (c *checker) elaborate(g *global, _ Pos) {
	if g.state != 0 {
		return
	}
	g.state = 1
	defer func() { g.state = 2 }()
	d := g.decl
	def := &ir.Def{Name: g.name, HasParams: d.HasParams, Export: d.Export, P: d.NamePos}
	env := &scope{mod: g.scope}
	if d.HasParams {
		var ok bool
		env, ok = c.params(def, d, env)
		if !ok {
			return
		}
	}
	var want ir.Type
	if d.Result != nil {
		want = c.typeExpr(d.Result, env, false)
		if want == nil {
			return
		}
	}
	if d.HasParams && want != nil {
		// Known signature: callers can type their calls even if the body
		// turns out to be wrong.
		def.Result = want
		g.typ = def.Type()
	}
	body := c.expr(d.Body, env, want)
	if body == nil {
		return
	}
	if want != nil && !ir.Equal(body.Type(), want) {
		c.errorf(StartPos(d.Body), "%s returns %s, but its body has type %s", d.Name, want, body.Type())
		return
	}
	if want == nil {
		want = body.Type()
	}
	def.Result = want
	def.Body = body
	def.Attrs = c.attrs(g, d, def)
	g.def = def
	g.typ = def.Type()
	c.done = append(c.done, def)
}

// params binds a def's parameters and the size variables their types
// introduce.
func (c *checker) params(def *ir.Def, d *FuncDecl, env *scope) (*scope, bool) {
	ok := true
	seen := map[string]Pos{}
	i64Params := map[string]int{}
	for i, p := range d.Params {
		if prev, dup := seen[p.Name]; dup {
			c.errorf(p.Pos, "duplicate parameter %s (first at %s)", p.Name, prev)
			ok = false
		}
		seen[p.Name] = p.Pos
		if p.Type == nil {
			c.errorf(p.Pos, "parameter %s needs a type", p.Name)
			ok = false
		} else if nt, isNamed := p.Type.(*NamedType); isNamed && nt.Name == "i64" {
			i64Params[p.Name] = i
		}
	}
	if !ok {
		return env, false
	}
	def.Params = make([]*ir.Var, len(d.Params))
	for i, p := range d.Params {
		if _, isI64 := i64Params[p.Name]; isI64 {
			def.Params[i] = ir.NewVar(p.Name, ir.TI64, p.Pos)
		}
	}
	// Size variables: each name in a dimension of an array parameter (at
	// the top of its type) binds or re-checks one.
	sizes := map[string]int{} // name -> index into def.SizeVars
	for i, p := range d.Params {
		axis := 0
		for t := p.Type; ; axis++ {
			at, isArr := t.(*ArrayType)
			if !isArr {
				break
			}
			t = at.Elem
			if at.Dim.Name == "" {
				continue
			}
			name := at.Dim.Name
			ref := ir.DimRef{Param: i, Axis: axis, P: at.Dim.Pos}
			if k, seen := sizes[name]; seen {
				def.SizeVars[k].Checks = append(def.SizeVars[k].Checks, ref)
				continue
			}
			if pi, isParam := i64Params[name]; isParam {
				sizes[name] = len(def.SizeVars)
				def.SizeVars = append(def.SizeVars, ir.SizeVar{Var: def.Params[pi], Param: -1, Checks: []ir.DimRef{ref}})
				continue
			}
			if _, clash := seen[name]; clash {
				c.errorf(at.Dim.Pos, "size %s is a parameter that is not an i64", name)
				ok = false
				continue
			}
			sizes[name] = len(def.SizeVars)
			def.SizeVars = append(def.SizeVars, ir.SizeVar{Var: ir.NewVar(name, ir.TI64, at.Dim.Pos), Param: i, Axis: axis})
		}
	}
	for _, sv := range def.SizeVars {
		if sv.Param >= 0 {
			env = env.bind(sv.Var.Name, sv.Var, true)
		}
	}
	for i, p := range d.Params {
		if _, isI64 := i64Params[p.Name]; isI64 {
			env = env.bind(p.Name, def.Params[i], true)
		}
	}
	for i, p := range d.Params {
		if def.Params[i] != nil {
			continue
		}
		t := c.typeExpr(p.Type, env, false)
		if t == nil {
			ok = false
			continue
		}
		def.Params[i] = ir.NewVar(p.Name, t, p.Pos)
	}
	if !ok {
		return env, false
	}
	for _, v := range def.Params {
		if v.T != ir.TI64 {
			env = env.bind(v.Name, v, false)
		}
	}
	def.HasParams = true
	return env, true
}

// typeExpr resolves a written type. Dimension names must be size
// variables or i64 parameters in scope.
func (c *checker) typeExpr(t TypeExpr, env *scope, _ bool) ir.Type {
	switch t := t.(type) {
	case *NamedType:
		switch t.Name {
		case "f64":
			return ir.TF64
		case "i64":
			return ir.TI64
		case "bool":
			return ir.TBool
		}
		c.errorf(t.Pos, "unknown type %s (want f64, i64, bool, [n]T, a tuple or a function type)", t.Name)
		return nil
	case *ArrayType:
		elem := c.typeExpr(t.Elem, env, false)
		if elem == nil {
			return nil
		}
		if _, isFn := elem.(*ir.Func); isFn {
			c.errorf(t.Pos, "arrays of functions are not supported")
			return nil
		}
		if t.Dim.Name == "" {
			if t.Dim.Lit < 0 {
				c.errorf(t.Dim.Pos, "negative array size %d", t.Dim.Lit)
				return nil
			}
			return ir.ArrayOf(ir.ConstDim(t.Dim.Lit), elem)
		}
		b := env.lookup(t.Dim.Name)
		if b == nil || !b.size {
			c.errorf(t.Dim.Pos, "unknown size %s: a size must be a literal, a size variable of an array parameter, or an i64 parameter", t.Dim.Name)
			return nil
		}
		return ir.ArrayOf(ir.SymDim(t.Dim.Name), elem)
	case *TupleType:
		elems := make([]ir.Type, len(t.Elems))
		for i, e := range t.Elems {
			if elems[i] = c.typeExpr(e, env, false); elems[i] == nil {
				return nil
			}
		}
		return ir.TupleOf(elems...)
	case *FuncType:
		ps := make([]ir.Type, len(t.Params))
		for i, e := range t.Params {
			if ps[i] = c.typeExpr(e, env, false); ps[i] == nil {
				return nil
			}
		}
		r := c.typeExpr(t.Result, env, false)
		if r == nil {
			return nil
		}
		return &ir.Func{Params: ps, Result: r}
	}
	return nil
}

// attrs checks a def's attributes.
func (c *checker) attrs(g *global, d *FuncDecl, def *ir.Def) []ir.Attr {
	var out []ir.Attr
	seen := map[string]bool{}
	for _, a := range d.Attrs {
		if seen[a.Name] {
			c.errorf(a.Pos, "duplicate attribute @%s", a.Name)
			continue
		}
		seen[a.Name] = true
		switch a.Name {
		case "inline", "noinline":
			if len(a.Args) > 0 {
				c.errorf(a.Pos, "@%s takes no arguments", a.Name)
				continue
			}
			if a.Name == "noinline" && seen["inline"] || a.Name == "inline" && seen["noinline"] {
				c.errorf(a.Pos, "@inline and @noinline contradict each other")
				continue
			}
			out = append(out, ir.Attr{Name: a.Name, P: a.Pos})
		case "jvp", "vjp", "implicit":
			if at := c.ruleAttr(g, d, def, a); at != nil {
				out = append(out, *at)
			}
		case "strategy":
			if a.Strategy == nil {
				c.errorf(a.Pos, "@strategy needs a strategy: @strategy(default)")
				continue
			}
			c.checkStrategy(g.scope, a.Strategy, nil)
			out = append(out, ir.Attr{Name: a.Name, Strategy: a.Strategy, P: a.Pos})
		default:
			c.errorf(a.Pos, "unknown attribute @%s (known: @strategy, @jvp, @vjp, @implicit, @inline, @noinline)", a.Name)
		}
	}
	return out
}

// ruleAttr checks @jvp(g), @vjp(g) and @implicit(F) against SPEC §6:
// for f: A -> B, a JVP rule is (A, A) -> (B, B), a VJP rule (A, B) -> A,
// and an implicit F is (X, P) -> X for solve: P -> X.
func (c *checker) ruleAttr(g *global, d *FuncDecl, def *ir.Def, a *Attr) *ir.Attr {
	if len(a.Args) != 1 {
		c.errorf(a.Pos, "@%s takes one argument, the name of a def", a.Name)
		return nil
	}
	id, isIdent := a.Args[0].(*Ident)
	if !isIdent {
		c.errorf(StartPos(a.Args[0]), "@%s takes the name of a def", a.Name)
		return nil
	}
	rg := c.lookupGlobal(g.scope, id.Name)
	if rg == nil {
		c.errorf(id.Pos, "unknown def %s in @%s", id.Name, a.Name)
		return nil
	}
	rt, ok := c.globalRef(rg, id.Pos)
	if !ok {
		return nil
	}
	if !d.HasParams {
		c.errorf(a.Pos, "@%s applies to a def with parameters", a.Name)
		return nil
	}
	f := def.Type().(*ir.Func)
	in, out := ir.FuncInput(f), f.Result
	var want *ir.Func
	switch a.Name {
	case "jvp":
		want = &ir.Func{Params: []ir.Type{in, in}, Result: ir.TupleOf(out, out)}
	case "vjp":
		want = &ir.Func{Params: []ir.Type{in, out}, Result: in}
	case "implicit":
		want = &ir.Func{Params: []ir.Type{out, in}, Result: out}
	}
	if !ir.Equal(rt, want) {
		c.errorf(id.Pos, "@%s(%s): %s has type %s; want %s", a.Name, id.Name, id.Name, rt, want)
		return nil
	}
	return &ir.Attr{Name: a.Name, Fn: rg.name, P: a.Pos}
}

// checkStrategy resolves the names in a strategy expression: a rule or
// strategy of the file, else a built-in (ir.StrategyArity). visiting
// holds the named strategies being expanded, to reject cycles.
func (c *checker) checkStrategy(s *modScope, st ir.Strat, visiting map[string]bool) {
	switch st := st.(type) {
	case *ir.StratSeq:
		for _, x := range st.Steps {
			c.checkStrategy(s, x, visiting)
		}
	case *ir.StratChoice:
		for _, x := range st.Alts {
			c.checkStrategy(s, x, visiting)
		}
	case *ir.StratName:
		if n, builtin := ir.StrategyArity(st.Name); builtin && s.rules[st.Name] == nil && s.strats[st.Name] == nil {
			if len(st.Args) != n {
				c.errorf(st.P, "strategy %s takes %d argument%s, got %d", st.Name, n, plural(n), len(st.Args))
			}
			for _, x := range st.Args {
				c.checkStrategy(s, x, visiting)
			}
			return
		}
		if len(st.Args) > 0 {
			c.errorf(st.P, "%s takes no arguments", st.Name)
			return
		}
		if s.rules[st.Name] != nil {
			return
		}
		if sd := s.strats[st.Name]; sd != nil {
			if visiting[st.Name] {
				c.errorf(st.P, "strategy %s refers to itself", st.Name)
				return
			}
			if visiting != nil {
				visiting[st.Name] = true
				c.checkStrategyNames(s, sd.Body, visiting)
				delete(visiting, st.Name)
			}
			return
		}
		c.errorf(st.P, "unknown strategy or rule %s", st.Name)
	}
}

// checkStrategyNames follows named strategies only to find cycles; their
// own errors are reported once, at their declarations.
func (c *checker) checkStrategyNames(s *modScope, st ir.Strat, visiting map[string]bool) {
	saved := len(c.errs)
	c.checkStrategy(s, st, visiting)
	kept := c.errs[:saved]
	for _, e := range c.errs[saved:] {
		if strings.Contains(e.Msg, "refers to itself") {
			kept = append(kept, e)
		}
	}
	c.errs = kept
}

// checkRule resolves the names in a rule: every name is a rule variable, a
// name bound inside the pattern, a def or a builtin; where-conditions use
// only the rule predicates. A rule whose names resolve then has its
// left-hand side elaborated into a pattern (rules.go), which reports what
// cannot be matched. The checked rule is nil when there were errors.
func (c *checker) checkRule(s *modScope, r *RuleDecl) *ir.RewriteRule {
	before := len(c.errs)
	env := &scope{mod: s}
	seen := map[string]bool{}
	for _, v := range r.Vars {
		if seen[v.Name] {
			c.errorf(v.Pos, "duplicate rule variable %s", v.Name)
		}
		seen[v.Name] = true
		env = env.bind(v.Name, ir.NewVar(v.Name, nil, v.Pos), false)
	}
	c.resolveNames(r.LHS, env)
	c.resolveNames(r.RHS, env)
	if r.Where != nil {
		c.checkWhere(r.Where, seen)
	}
	if len(c.errs) != before {
		return nil
	}
	return c.compileRule(s, r)
}

func (c *checker) checkWhere(e Expr, vars map[string]bool) {
	switch e := e.(type) {
	case *Paren:
		c.checkWhere(e.X, vars)
	case *Unary:
		if e.Op != "!" {
			c.errorf(e.Pos, "a where condition uses only is_const, is_var, is_zero, is_one, &&, || and !")
			return
		}
		c.checkWhere(e.X, vars)
	case *Binary:
		if e.Op != "&&" && e.Op != "||" {
			c.errorf(e.Pos, "a where condition uses only is_const, is_var, is_zero, is_one, &&, || and !")
			return
		}
		c.checkWhere(e.X, vars)
		c.checkWhere(e.Y, vars)
	case *BoolLit:
	case *Call:
		id, ok := e.Fn.(*Ident)
		if !ok || !(id.Name == "is_const" || id.Name == "is_var" || id.Name == "is_zero" || id.Name == "is_one") {
			c.errorf(StartPos(e), "unknown rule predicate (want is_const, is_var, is_zero or is_one)")
			return
		}
		if len(e.Args) != 1 {
			c.errorf(e.Pos, "%s takes one rule variable", id.Name)
			return
		}
		if v, ok := e.Args[0].(*Ident); !ok || !vars[v.Name] {
			c.errorf(StartPos(e.Args[0]), "%s takes a rule variable", id.Name)
		}
	default:
		c.errorf(StartPos(e), "a where condition uses only is_const, is_var, is_zero, is_one, &&, || and !")
	}
}

// resolveNames reports unknown names in an unchecked expression (a rule's
// sides, whose variables have no types until they match).
func (c *checker) resolveNames(e Expr, env *scope) {
	var walk func(e Expr, env *scope)
	bindPat := func(p Pattern, env *scope) *scope {
		var bind func(p Pattern)
		bind = func(p Pattern) {
			switch p := p.(type) {
			case *PatName:
				env = env.bind(p.Name, ir.NewVar(p.Name, nil, p.Pos), false)
			case *PatTuple:
				for _, q := range p.Elems {
					bind(q)
				}
			}
		}
		bind(p)
		return env
	}
	walk = func(e Expr, env *scope) {
		switch e := e.(type) {
		case *Ident:
			if env.lookup(e.Name) == nil && c.lookupGlobal(env.mod, e.Name) == nil && !isBuiltinName(e.Name) {
				c.errorf(e.Pos, "unknown name %s", e.Name)
			}
		case *Unary:
			walk(e.X, env)
		case *Binary:
			walk(e.X, env)
			walk(e.Y, env)
		case *Call:
			walk(e.Fn, env)
			for _, a := range e.Args {
				walk(a, env)
			}
		case *Index:
			walk(e.X, env)
			for _, a := range e.Indices {
				walk(a, env)
			}
		case *Slice:
			walk(e.X, env)
			if e.Lo != nil {
				walk(e.Lo, env)
			}
			if e.Hi != nil {
				walk(e.Hi, env)
			}
		case *Field:
			walk(e.X, env)
		case *Paren:
			walk(e.X, env)
		case *TupleLit:
			for _, a := range e.Elems {
				walk(a, env)
			}
		case *ArrayLit:
			for _, a := range e.Elems {
				walk(a, env)
			}
		case *Comprehension:
			inner := env
			for _, g := range e.Gens {
				walk(g.Bound, env)
				inner = inner.bind(g.Name, ir.NewVar(g.Name, ir.TI64, g.Pos), false)
			}
			walk(e.Body, inner)
		case *Let:
			walk(e.Value, env)
			walk(e.Body, bindPat(e.Pat, env))
		case *If:
			walk(e.Cond, env)
			walk(e.Then, env)
			walk(e.Else, env)
		case *Lambda:
			inner := env
			for _, p := range e.Params {
				inner = inner.bind(p.Name, ir.NewVar(p.Name, nil, p.Pos), false)
			}
			walk(e.Body, inner)
		case *Loop:
			walk(e.Init, env)
			inner := bindPat(e.Pat, env)
			if e.Count != nil {
				walk(e.Count, env)
				inner = inner.bind(e.Index, ir.NewVar(e.Index, ir.TI64, e.IndexPos), false)
			}
			if e.Cond != nil {
				walk(e.Cond, inner)
			}
			walk(e.Body, inner)
		}
	}
	walk(e, env)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// scope is a linked list of local bindings; size marks i64 names usable as
// array dimensions (size variables and i64 parameters).
type scope struct {
	parent *scope
	mod    *modScope
	name   string
	v      *ir.Var
	size   bool
	lam    *Lambda // a let-bound lambda typed at each use, with
	lamEnv *scope  // the scope it was defined in
}

func (s *scope) bindLambda(name string, lam *Lambda, defEnv *scope) *scope {
	return &scope{parent: s, mod: s.mod, name: name, lam: lam, lamEnv: defEnv}
}

func (s *scope) bind(name string, v *ir.Var, size bool) *scope {
	return &scope{parent: s, mod: s.mod, name: name, v: v, size: size}
}

func (s *scope) lookup(name string) *scope {
	for ; s != nil; s = s.parent {
		if (s.v != nil || s.lam != nil) && s.name == name {
			return s
		}
	}
	return nil
}
