package ir

import (
	"fmt"
	"sort"

	"github.com/nabla-lang/nabla/runtime"
)

// Prim is a primitive operation. Everything the compiler knows about a
// primitive is declared here, in one value: its type rule, how the type
// checker should elaborate its arguments, how to evaluate it, and (added
// by the AD, rewrite and codegen packages' needs) its derivative rules and
// emitters. Adding a primitive means adding one declaration.
type Prim struct {
	Name string // the builtin's surface name ("exp", "map") or the operator's core name ("add")
	Op   string // the infix or prefix operator it prints as ("+"), or ""
	Doc  string

	// Arity is the number of arguments; -1 means variadic (at least MinArgs).
	Arity   int
	MinArgs int

	// Elementwise prims are scalar operations lifted over arrays; Kinds lists
	// the scalar kinds they accept and Result their result kind (nil: the
	// argument's kind). Scalar semantics are in F1/F2/I1/I2/B2/Cmp.
	Elementwise bool
	Kinds       []ScalarKind
	ResultKind  *ScalarKind
	F1          func(float64) float64
	F2          func(a, b float64) float64
	I1          func(int64) (int64, error)
	I2          func(a, b int64) (int64, error)
	B1          func(bool) bool
	B2          func(a, b bool) bool
	CmpF        func(a, b float64) bool
	CmpI        func(a, b int64) bool

	// Type computes the result type from the argument types and Aux, or
	// explains (as an error without position) why the arguments do not fit.
	Type func(args []Type, aux any) (Type, error)

	// Hint gives the type the checker should expect for argument i, given
	// the types of the arguments elaborated so far (nil where not yet
	// known). It types lambda parameters (a *Func whose Result may be nil)
	// and integer literals. Nil means no expectation.
	Hint func(args []Type, i int) Type

	// Eval specializes the primitive for one call site.
	Eval func(s *Site) (Impl, error)

	// AD says whether this is an AD operator (expanded by package ad).
	AD ADKind

	// Derivative rules, used by package ad. Rules build IR with a Builder;
	// the arguments and result y they receive are atoms (variables or
	// constants), so a rule may use each any number of times. Function-valued
	// primitives (map, reduce, scan, fold, build) are differentiated by
	// package ad itself.
	//
	// Partials, for elementwise primitives, gives ∂y/∂args[i] for each
	// argument, elementwise (nil: zero, as for floor, comparisons or i64
	// operands). Package ad derives the JVP (Σ ∂i·dargs[i]), the VJP
	// (ybar·∂i, summed over broadcast axes) and checks them.
	Partials func(b *Builder, args []Expr, y Expr) []Expr
	// JVP gives the tangent of y from the arguments' tangents tans (nil
	// meaning zero); it returns nil when the tangent is zero.
	JVP func(b *Builder, args, tans []Expr, y Expr) Expr
	// VJP gives each argument's cotangent contribution from y's cotangent
	// ybar (nil: none, for arguments without derivative). A contribution has
	// the argument's type.
	VJP func(b *Builder, args []Expr, y, ybar Expr) []Expr
	// NoDerivative marks primitives whose result does not depend smoothly on
	// any argument (len, iota, argmax, comparisons): its tangent is zero and
	// it sends no cotangent back.
	NoDerivative bool
	// InPlace marks primitives that update their first argument in place and
	// return it (the accumulators of reverse mode). Passes must neither
	// share nor duplicate such calls or the value they consume.
	InPlace bool
}

// ADKind says how AD treats an operator primitive.
type ADKind uint8

const (
	NotAD ADKind = iota
	ADOperator
)

// Site is one use of a primitive with its static types.
type Site struct {
	Prim   *Prim
	Args   []Type
	Result Type
	Aux    any
}

// Impl evaluates a specialized primitive.
type Impl func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error)

var prims = map[string]*Prim{}

// Register adds a primitive to the table; it panics on a duplicate name
// (a programming error caught by any test).
func Register(p *Prim) *Prim {
	if _, dup := prims[p.Name]; dup {
		panic("ir: duplicate primitive " + p.Name)
	}
	prims[p.Name] = p
	return p
}

// LookupPrim returns the primitive of that name, or nil.
func LookupPrim(name string) *Prim { return prims[name] }

// Prims lists all primitives sorted by name.
func Prims() []*Prim {
	out := make([]*Prim, 0, len(prims))
	for _, p := range prims {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckArity reports an arity mismatch as an error without position.
func (p *Prim) CheckArity(n int) error {
	if p.Arity >= 0 && n != p.Arity {
		return fmt.Errorf("%s takes %d argument%s, got %d", p.Name, p.Arity, plural(p.Arity), n)
	}
	if p.Arity < 0 && n < p.MinArgs {
		return fmt.Errorf("%s takes at least %d argument%s, got %d", p.Name, p.MinArgs, plural(p.MinArgs), n)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Call builds a PrimCall, computing its type. It returns the type rule's
// error positioned at pos.
func (p *Prim) Call(pos Pos, aux any, args ...Expr) (*PrimCall, error) {
	if err := p.CheckArity(len(args)); err != nil {
		return nil, Errorf(pos, "%v", err)
	}
	ts := make([]Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	t, err := p.Type(ts, aux)
	if err != nil {
		return nil, Errorf(pos, "%v", err)
	}
	return &PrimCall{Op: p, Args: args, Aux: aux, T: t, P: pos}, nil
}
