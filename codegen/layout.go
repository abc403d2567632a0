package codegen

import (
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// A leaf is one scalar-typed component of a value's layout: a scalar
// (rank 0) or a flat row-major slice of rank dimensions.
type leaf struct {
	kind ir.ScalarKind
	rank int
}

// leavesOf flattens a type into its leaves: tuples are concatenated, an
// array of tuples is a tuple of arrays, functions have no run-time form.
func leavesOf(t ir.Type) ([]leaf, error) {
	var out []leaf
	var walk func(t ir.Type, rank int) error
	walk = func(t ir.Type, rank int) error {
		switch t := t.(type) {
		case ir.Scalar:
			out = append(out, leaf{t.Kind, rank})
		case *ir.Array:
			return walk(t.Elem, rank+1)
		case *ir.Tuple:
			for _, e := range t.Elems {
				if err := walk(e, rank); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("a value of type %s has no run-time form in generated code", t)
		}
		return nil
	}
	err := walk(t, 0)
	return out, err
}

func mustLeaves(t ir.Type) []leaf {
	ls, err := leavesOf(t)
	if err != nil {
		panic(genError{err})
	}
	return ls
}

// nparts is the number of Go values a leaf takes: the scalar, or the
// slice and its dimensions.
func (l leaf) nparts() int {
	if l.rank == 0 {
		return 1
	}
	return 1 + l.rank
}

func scalarGo(k ir.ScalarKind) string {
	switch k {
	case ir.F64:
		return "float64"
	case ir.I64:
		return "int64"
	}
	return "bool"
}

// partTypes lists the Go types of a leaf's parts.
func (l leaf) partTypes() []string {
	if l.rank == 0 {
		return []string{scalarGo(l.kind)}
	}
	ts := []string{"[]" + scalarGo(l.kind)}
	for range l.rank {
		ts = append(ts, "int")
	}
	return ts
}

// partTypes lists the Go types of all parts of a value of type t.
func partTypes(t ir.Type) []string {
	var ts []string
	for _, l := range mustLeaves(t) {
		ts = append(ts, l.partTypes()...)
	}
	return ts
}

func zeroOf(goType string) string {
	switch goType {
	case "float64", "int64", "int":
		return "0"
	case "bool":
		return "false"
	}
	return "nil"
}

// val is a compiled value: Go atoms (identifiers or literals) for the
// parts of its layout, in leaf order.
type val struct {
	t     ir.Type
	parts []string
	lz    *lazy // a lazy array (no parts until forced; see fuse.go)
}

// leafParts splits v's parts by leaf.
func (v val) leafParts() ([]leaf, [][]string) {
	ls := mustLeaves(v.t)
	out := make([][]string, len(ls))
	k := 0
	for i, l := range ls {
		out[i] = v.parts[k : k+l.nparts()]
		k += l.nparts()
	}
	return ls, out
}

// elemSlice is the Go slice type of a leaf's storage.
func elemSlice(k ir.ScalarKind) string { return "[]" + scalarGo(k) }

// goIdent makes a Go identifier fragment from a Nabla name: letters and
// digits only.
func goIdent(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "v" + s
	}
	return s
}

// exportedName turns rosen_grad into RosenGrad.
func exportedName(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r == '_' || r == '$' || r == '.':
			up = true
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "F" + s
	}
	return s
}

// typeDesc is the compact type description the run harness decodes
// arguments and encodes results with: f, i, b, [T, (T,T,...).
func typeDesc(t ir.Type) string {
	switch t := t.(type) {
	case ir.Scalar:
		return [...]string{"f", "i", "b"}[t.Kind]
	case *ir.Array:
		return "[" + typeDesc(t.Elem)
	case *ir.Tuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = typeDesc(e)
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	return "?"
}

// genError carries an error out of deep emission code.
type genError struct{ err error }
