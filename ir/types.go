package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxTypeText is about the longest a type prints: longer types are cut
// with "..." and say how many scalars they hold, so that an error about a
// value with a million-field tuple type stays one short line (types share
// their parts, so such a type costs little memory but would print as
// gigabytes).
const MaxTypeText = 200

// Type is a Nabla type: a scalar, an array, a tuple or a function.
// Types are immutable values; compare them with Equal, not ==.
type Type interface {
	String() string
	isType()
}

// ScalarKind names the three scalar types.
type ScalarKind uint8

const (
	F64 ScalarKind = iota
	I64
	Bool
)

// Scalar is f64, i64 or bool.
type Scalar struct{ Kind ScalarKind }

// The scalar types, shared.
var (
	TF64  Type = Scalar{F64}
	TI64  Type = Scalar{I64}
	TBool Type = Scalar{Bool}
	TUnit Type = &Tuple{}
)

func (s Scalar) String() string {
	switch s.Kind {
	case F64:
		return "f64"
	case I64:
		return "i64"
	}
	return "bool"
}
func (Scalar) isType() {}

// Dim is the size of one array dimension: a known constant, a size
// variable (a name bound by a parameter's type or an i64 parameter), or
// unknown until run time.
type Dim struct {
	N   int64  // the size when Sym == "" and N >= 0
	Sym string // a size variable's name
}

// Unknown is a dimension known only at run time.
var Unknown = Dim{N: -1}

// ConstDim is a dimension of known size n.
func ConstDim(n int64) Dim { return Dim{N: n} }

// SymDim is a dimension named by a size variable.
func SymDim(name string) Dim { return Dim{Sym: name} }

// Known reports whether the size is a compile-time constant.
func (d Dim) Known() bool { return d.Sym == "" && d.N >= 0 }

func (d Dim) String() string {
	switch {
	case d.Sym != "":
		return d.Sym
	case d.N < 0:
		return "?"
	}
	return strconv.FormatInt(d.N, 10)
}

// SameStatically reports whether two dimensions are certainly equal, and
// DiffersStatically whether they are certainly different. Anything in
// between is checked at run time.
func (d Dim) SameStatically(e Dim) bool {
	if d.Sym != "" || e.Sym != "" {
		return d.Sym == e.Sym
	}
	return d.N >= 0 && d.N == e.N
}

// DiffersStatically reports whether two dimensions are both constants and
// different.
func (d Dim) DiffersStatically(e Dim) bool { return d.Known() && e.Known() && d.N != e.N }

// Array is [Dim]Elem. A multi-dimensional array nests: [m][n]f64 is
// Array{m, Array{n, f64}}, stored flat and rectangular at run time.
type Array struct {
	Dim  Dim
	Elem Type
}

func (a *Array) String() string { return typeText(a) }
func (*Array) isType()          {}

// Tuple is (T1, T2, ...); the empty tuple is unit.
type Tuple struct{ Elems []Type }

func (t *Tuple) String() string { return typeText(t) }
func (*Tuple) isType()          {}

// Func is (P1, P2, ...) -> R.
type Func struct {
	Params []Type
	Result Type
}

func (f *Func) String() string { return typeText(f) }
func (*Func) isType()          {}

// ArrayOf builds [d]elem.
func ArrayOf(d Dim, elem Type) *Array { return &Array{Dim: d, Elem: elem} }

// TupleOf builds a tuple type.
func TupleOf(elems ...Type) *Tuple { return &Tuple{Elems: elems} }

// Equal reports structural equality. Dimensions compare equal unless they
// differ statically: sizes that are not both known are checked at run time.
func Equal(a, b Type) bool { return equal(a, b, false) }

// Identical is Equal with dimensions compared exactly (symbol for symbol).
func Identical(a, b Type) bool { return equal(a, b, true) }

func equal(a, b Type, exact bool) bool {
	switch a := a.(type) {
	case Scalar:
		b, ok := b.(Scalar)
		return ok && a.Kind == b.Kind
	case *Array:
		b, ok := b.(*Array)
		if !ok {
			return false
		}
		if exact && a.Dim != b.Dim {
			return false
		}
		if !exact && a.Dim.DiffersStatically(b.Dim) {
			return false
		}
		return equal(a.Elem, b.Elem, exact)
	case *Tuple:
		b, ok := b.(*Tuple)
		if !ok || len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !equal(a.Elems[i], b.Elems[i], exact) {
				return false
			}
		}
		return true
	case *Func:
		b, ok := b.(*Func)
		if !ok || len(a.Params) != len(b.Params) {
			return false
		}
		for i := range a.Params {
			if !equal(a.Params[i], b.Params[i], exact) {
				return false
			}
		}
		return equal(a.Result, b.Result, exact)
	}
	return false
}

// Leaf returns the scalar kind at the bottom of nested arrays, and whether
// the type is a scalar or an array of scalars.
func Leaf(t Type) (ScalarKind, bool) {
	for {
		switch u := t.(type) {
		case Scalar:
			return u.Kind, true
		case *Array:
			t = u.Elem
		default:
			return 0, false
		}
	}
}

// Rank is the number of array dimensions around t's element type.
func Rank(t Type) int {
	r := 0
	for {
		a, ok := t.(*Array)
		if !ok {
			return r
		}
		r++
		t = a.Elem
	}
}

// WithLeaf returns t with its scalar leaf replaced by k (same shape).
func WithLeaf(t Type, k ScalarKind) Type {
	if a, ok := t.(*Array); ok {
		return ArrayOf(a.Dim, WithLeaf(a.Elem, k))
	}
	return Scalar{k}
}

// Dims lists the dimensions of nested arrays, outermost first.
func Dims(t Type) []Dim {
	var ds []Dim
	for {
		a, ok := t.(*Array)
		if !ok {
			return ds
		}
		ds = append(ds, a.Dim)
		t = a.Elem
	}
}

// IsDifferentiable reports whether t is built from f64 by arrays and tuples
// (i64 and bool parts are allowed and carried along without tangents).
func IsDifferentiable(t Type) bool {
	switch t := t.(type) {
	case Scalar:
		return true
	case *Array:
		return IsDifferentiable(t.Elem)
	case *Tuple:
		for _, e := range t.Elems {
			if !IsDifferentiable(e) {
				return false
			}
		}
		return true
	}
	return false
}

// MustScalar panics unless t is a scalar; for internal invariants only.
func MustScalar(t Type) ScalarKind {
	s, ok := t.(Scalar)
	if !ok {
		panic(fmt.Sprintf("ir: %s is not a scalar", t))
	}
	return s.Kind
}

// typeText writes t, cut after about MaxTypeText bytes.
func typeText(t Type) string {
	w := typeWriter{}
	w.typ(t)
	if !w.cut {
		return w.b.String()
	}
	return fmt.Sprintf("%s (%d scalars in all)", w.b.String(), countLeaves(t, map[Type]uint64{}))
}

type typeWriter struct {
	b   strings.Builder
	cut bool
}

// over reports (and records) that the text is long enough: the rest of
// the type becomes "...".
func (w *typeWriter) over() bool {
	if w.cut {
		return true
	}
	if w.b.Len() > MaxTypeText {
		w.b.WriteString("...")
		w.cut = true
	}
	return w.cut
}

func (w *typeWriter) typ(t Type) {
	if w.over() {
		return
	}
	switch t := t.(type) {
	case nil:
		w.b.WriteString("<nil>")
	case Scalar:
		w.b.WriteString(t.String())
	case *Array:
		w.b.WriteString("[" + t.Dim.String() + "]")
		w.typ(t.Elem)
	case *Tuple:
		w.b.WriteByte('(')
		w.list(t.Elems)
		if len(t.Elems) == 1 && !w.cut {
			w.b.WriteByte(',')
		}
		if !w.cut {
			w.b.WriteByte(')')
		}
	case *Func:
		bare := false
		if len(t.Params) == 1 {
			switch t.Params[0].(type) {
			case *Func, *Tuple:
			default:
				bare = true
			}
		}
		if bare {
			w.typ(t.Params[0])
		} else {
			w.b.WriteByte('(')
			w.list(t.Params)
			if !w.cut {
				w.b.WriteByte(')')
			}
		}
		if !w.cut {
			w.b.WriteString(" -> ")
			w.typ(t.Result)
		}
	default:
		w.b.WriteString(fmt.Sprint(t))
	}
}

func (w *typeWriter) list(ts []Type) {
	for i, e := range ts {
		if i > 0 {
			if w.over() {
				return
			}
			w.b.WriteString(", ")
		}
		w.typ(e)
		if w.cut {
			return
		}
	}
}

// countLeaves counts the scalars of t (saturating), each shared part
// counted once per use but computed once.
func countLeaves(t Type, memo map[Type]uint64) uint64 {
	switch t := t.(type) {
	case *Array:
		return countLeaves(t.Elem, memo)
	case *Tuple:
		if n, ok := memo[t]; ok {
			return n
		}
		n := uint64(0)
		for _, e := range t.Elems {
			n = satAdd(n, countLeaves(e, memo))
		}
		memo[t] = n
		return n
	case *Func:
		if n, ok := memo[t]; ok {
			return n
		}
		n := countLeaves(t.Result, memo)
		for _, p := range t.Params {
			n = satAdd(n, countLeaves(p, memo))
		}
		memo[t] = n
		return n
	}
	return 1
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
