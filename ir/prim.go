package ir

import (
	"fmt"
	"sort"

	"github.com/nabla-lang/nabla/runtime"
)

// Prim is a primitive operation. Everything the compiler knows about a
// primitive is declared here, in one value: who may name it, its type
// rule, how the type checker should elaborate its arguments, how to
// evaluate it, what passes may assume about it (failure, storage,
// linearity), its derivative rules and its Taylor-mode series. Adding a
// primitive means adding one declaration (and, for its arithmetic, a
// runtime kernel); a coverage test per field fails when one is missing.
type Prim struct {
	Name  string // the builtin's surface name ("exp", "map") or the operator's core name ("add")
	Op    string // the infix or prefix operator it prints as ("+"), or ""
	Doc   string
	Class Class // who may use it: programs by name, the front end, or the compiler only

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
	// meaning zero) and the call's Aux; it returns nil when the tangent is
	// zero. Linear and bilinear primitives get theirs from Register.
	JVP JVPRule
	// VJP gives each argument's cotangent contribution from y's cotangent
	// ybar (nil: none, for arguments without derivative). A contribution has
	// the argument's type.
	VJP func(b *Builder, args []Expr, y, ybar Expr) []Expr
	// NoDerivative marks primitives whose result does not depend smoothly on
	// any argument (len, iota, argmax, comparisons): its tangent is zero and
	// it sends no cotangent back.
	NoDerivative bool

	// Linear lists the arguments in which the primitive is linear (the
	// data; the others, such as indices and sizes, are only read), in the
	// style of JAX's deflinear; nil with LinearAll for all of them.
	// Register derives the JVP of a linear primitive (the primitive
	// applied to the tangents), and Taylor mode applies it coefficient by
	// coefficient; the transpose is its VJP.
	Linear    []int
	LinearAll bool
	// Bilinear primitives (dot, outer, matmul) are linear in each of their
	// two arguments: the JVP is p(ta, b) + p(a, tb), and Taylor mode takes
	// a Cauchy product of two series.
	Bilinear bool
	// Series is the Taylor-mode version of a smooth elementwise primitive:
	// the primitive on truncated power series (prim_series.go). It is set
	// by the series primitive's declaration, which names what it serves.
	Series *Prim

	// Fails says when a call can fail at run time; passes drop or
	// duplicate only calls that cannot (see Total).
	Fails Failure
	// Storage says where the result lives relative to the arguments;
	// rewrites and buffer reuse rely on it (see FreshResult, MutableVars).
	Storage Storage
}

// Class says who may use a primitive.
type Class uint8

const (
	classUndeclared Class = iota
	// Builtin primitives are called by name in programs (SPEC §5, §6).
	Builtin
	// Core primitives are what the front end makes of syntax: operators,
	// indexing, comprehensions, array literals, size variables.
	Core
	// Internal primitives are emitted by the compiler only (AD support,
	// run-time checks); users cannot name them.
	Internal
	// SeriesClass primitives are Taylor mode's operations on truncated
	// power series.
	SeriesClass
)

// Failure says when a primitive call can fail at run time.
type Failure uint8

const (
	failUndeclared Failure = iota
	// NeverFails: no well-typed call fails.
	NeverFails
	// FailsOnShapes: a call fails only when its array operands' shapes
	// differ at run time (elementwise operations, dot).
	FailsOnShapes
	// FailsOnShapesOrInt: FailsOnShapes, and on i64 operands (integer
	// division by zero, a negative integer exponent).
	FailsOnShapesOrInt
	// MayFail: anything else (indices, sizes, user functions, limits).
	MayFail
)

// Storage says where a primitive's result lives.
type Storage uint8

const (
	storageUndeclared Storage = iota
	// Fresh: the result is new storage (or a scalar).
	Fresh
	// Shared: the result may share storage with the arguments (views such
	// as slices and rows, identities).
	Shared
	// InPlace: the primitive updates its first argument in place and
	// returns it (the accumulators of reverse mode). Passes must neither
	// share nor duplicate such calls or the value they consume.
	InPlace
)

// InPlace reports whether p updates its first argument in place.
func (p *Prim) InPlace() bool { return p.Storage == InPlace }

// IsLinearIn reports whether p is declared linear in argument i.
func (p *Prim) IsLinearIn(i int) bool {
	if p.LinearAll {
		return true
	}
	for _, j := range p.Linear {
		if j == i {
			return true
		}
	}
	return false
}

// IsLinear reports whether p is declared linear in some of its arguments.
func (p *Prim) IsLinear() bool { return p.LinearAll || len(p.Linear) > 0 }

// JVPRule is the type of Prim.JVP.
type JVPRule func(b *Builder, args, tans []Expr, aux any, y Expr) Expr

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

// Register adds a primitive to the table, completing what its
// declaration implies: the JVP of a linear or bilinear primitive. It
// panics on a duplicate name (a programming error caught by any test).
func Register(p *Prim) *Prim {
	if _, dup := prims[p.Name]; dup {
		panic("ir: duplicate primitive " + p.Name)
	}
	if p.JVP == nil {
		switch {
		case p.Bilinear:
			p.JVP = bilinearJVP(p)
		case p.IsLinear():
			p.JVP = linearJVP(p)
		}
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
