package ir

// Def is a top-level definition. A function def has Params; a value def
// (def g = grad(f), def A = [[...]]) has none and HasParams is false.
type Def struct {
	Name      string
	Params    []*Var
	HasParams bool
	Result    Type
	Body      Expr
	SizeVars  []SizeVar // size variables bound by parameter types
	Export    bool
	Attrs     []Attr
	P         Pos
	// Origin, for a def the compiler made from another (a template's
	// specialized copy), is the source def's name; backtraces show it.
	Origin string
	// Recomputed lists, for a VJP def, the forward values its reverse
	// pass recomputes by reverse mode's own checkpointing rule rather
	// than reads from a tape (package ad, vjp_again.go); the rewrite
	// stage shows them in its trace. Not part of the def's meaning.
	Recomputed []RematNote
}

// A RematNote is one forward value that reverse mode recomputes in the
// reverse pass: the rule that decided it, where the value is computed,
// and the value as the reverse pass computes it.
type RematNote struct {
	Rule string
	Pos  Pos
	Expr Expr
}

// SizeVar is a size variable bound by a parameter's type. When Param >= 0,
// Var is a fresh i64 visible in the body, equal to dimension Axis of the
// array found in parameter Param (an index into Def.Params) by following
// the tuple fields in Path (def tup(p: (f64, [n]f64)) has Path [1]). When
// Param < 0, Var is itself an i64 parameter used as a dimension (def f(n:
// i64, x: [n]f64)). Checks lists the further dimensions that must equal
// it, checked on entry.
type SizeVar struct {
	Var    *Var
	Param  int
	Path   []int
	Axis   int
	Checks []DimRef
}

// DimRef names dimension Axis of the array at Path in parameter Param
// (Param >= 0).
type DimRef struct {
	Param int
	Path  []int
	Axis  int
	P     Pos
}

// PathType follows the tuple fields of path from t; nil when t has no
// such field.
func PathType(t Type, path []int) Type {
	for _, i := range path {
		tt, ok := t.(*Tuple)
		if !ok || i < 0 || i >= len(tt.Elems) {
			return nil
		}
		t = tt.Elems[i]
	}
	return t
}

// PathExpr projects the tuple fields of path out of e.
func PathExpr(e Expr, path []int, pos Pos) Expr {
	for _, i := range path {
		e = &Proj{X: e, Index: i, P: pos}
	}
	return e
}

// Attr is an attribute of a def, after checking: @jvp(g), @vjp(g),
// @implicit(F) name a def in Fn; @strategy carries its strategy
// expression, whose names resolve in the file of P.
type Attr struct {
	Name     string
	Fn       string
	Strategy Strat
	P        Pos
}

// Type is the def's type: a function type, or for a value def the type of
// its value.
func (d *Def) Type() Type {
	if !d.HasParams {
		return d.Body.Type()
	}
	ps := make([]Type, len(d.Params))
	for i, p := range d.Params {
		ps[i] = p.T
	}
	return &Func{Params: ps, Result: d.Result}
}

// Attr returns the def's attribute of that name, or nil.
func (d *Def) Attr(name string) *Attr {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

// Program is a checked program: its defs, in dependency order (callees
// before callers), and an index by name. Defs imported from modules appear
// under their qualified names ("optim.lbfgs").
type Program struct {
	Defs   []*Def
	byName map[string]*Def
	Rules  []*RewriteRule     // checked rewrite rules, in declaration order
	Strats []*RewriteStrategy // declared strategies, in declaration order
}

// NewProgram indexes defs.
func NewProgram(defs []*Def) *Program {
	p := &Program{Defs: defs, byName: map[string]*Def{}}
	for _, d := range defs {
		p.byName[d.Name] = d
	}
	return p
}

// Def returns the def of that name, or nil.
func (p *Program) Def(name string) *Def { return p.byName[name] }

// Add appends a def (for passes that create defs, such as AD).
func (p *Program) Add(d *Def) {
	p.Defs = append(p.Defs, d)
	p.byName[d.Name] = d
}
