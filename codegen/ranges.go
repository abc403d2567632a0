package codegen

import (
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Index ranges. The emitter proves the simple index ranges that numerical
// code is full of, so that x[i + 1] inside [... for i < n - 1] with n the
// length of x needs no check: for each i64 (or int) atom it knows, where it
// can, an exact linear form base + off (base an int atom holding a
// dimension, such as a parameter's length) and, for loop indices, an
// interval lo ≤ v ≤ base + hi. An index whose interval lies inside
// [0, len) is not checked; every other index is, with the interpreter's
// message.

type linForm struct {
	base string // an int atom, or "" for a constant
	off  int64
}

type interval struct {
	lo   int64
	base string // v ≤ base + hi
	hi   int64
}

// setLin records that atom equals base + off.
func (f *fn) setLin(atom string, l linForm) {
	if f.lin == nil {
		f.lin = map[string]linForm{}
	}
	f.lin[atom] = l
}

// linOf is the linear form of an atom, if known: constants, recorded
// atoms, and int64(x) of a recorded or dimension atom.
func (f *fn) linOf(atom string) (linForm, bool) {
	if l, ok := f.lin[atom]; ok {
		return l, true
	}
	if c, err := strconv.ParseInt(atom, 10, 64); err == nil {
		return linForm{off: c}, true // a literal size, as an array literal's
	}
	if strings.HasPrefix(atom, "int64(") && strings.HasSuffix(atom, ")") {
		inner := atom[len("int64(") : len(atom)-1]
		if c, err := strconv.ParseInt(inner, 10, 64); err == nil {
			return linForm{off: c}, true
		}
	}
	return linForm{}, false
}

// setBound records that lo ≤ atom ≤ base + hi.
func (f *fn) setBound(atom string, b interval) {
	if f.bounds == nil {
		f.bounds = map[string]interval{}
	}
	f.bounds[atom] = b
}

// boundOf is an atom's interval: recorded, or from an exact form.
func (f *fn) boundOf(atom string) (interval, bool) {
	if b, ok := f.bounds[atom]; ok {
		return b, true
	}
	return interval{}, false
}

// indexBound records the interval of a loop index running over [0, n).
func (f *fn) indexBound(i, n string) {
	if l, ok := f.linOf(n); ok && l.base != "" {
		f.setBound(i, interval{lo: 0, base: l.base, hi: l.off - 1})
	}
}

// inRange reports whether 0 ≤ i < n is proved.
func (f *fn) inRange(i, n string) bool {
	b, ok := f.boundOf(i)
	if !ok || b.lo < 0 {
		return false
	}
	if b.base == n && b.hi < 0 {
		return true
	}
	if l, ok := f.linOf(n); ok && l.base == b.base && b.hi < l.off {
		return true
	}
	return false
}

// noteArith propagates forms and intervals through i64 + and - with a
// constant.
func (f *fn) noteArith(op *ir.Prim, res string, a, b string) {
	var c int64
	var x string
	la, oka := f.linOf(a)
	lb, okb := f.linOf(b)
	switch {
	case okb && lb.base == "":
		x, c = a, lb.off
	case oka && la.base == "" && op == ir.PrimAdd:
		x, c = b, la.off
	default:
		return
	}
	if op == ir.PrimSub {
		c = -c
	} else if op != ir.PrimAdd {
		return
	}
	if l, ok := f.linOf(x); ok {
		f.setLin(res, linForm{l.base, l.off + c})
	}
	if bd, ok := f.boundOf(x); ok {
		f.setBound(res, interval{bd.lo + c, bd.base, bd.hi + c})
	}
}

// simplifyCond drops from a failure condition a || b || ... the terms
// that are false whatever the run (comparisons of two integer constants,
// x != x: a dimension checked against itself) and repeated terms. It
// returns "" when no term is left: the check cannot fail.
func simplifyCond(cond string) string {
	var keep []string
	seen := map[string]bool{}
	for _, term := range strings.Split(cond, " || ") {
		if seen[term] {
			continue // a repeated term (vet: redundant or)
		}
		seen[term] = true
		if v, known := constTerm(term); known {
			if v {
				return cond // fails always: keep it as written
			}
			continue
		}
		keep = append(keep, term)
	}
	return strings.Join(keep, " || ")
}

// constTerm evaluates a comparison whose value does not depend on the run.
func constTerm(term string) (value, known bool) {
	for _, op := range []string{" != ", " == ", " <= ", " >= ", " < ", " > "} {
		a, b, ok := strings.Cut(term, op)
		if !ok {
			continue
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if a == b && !strings.ContainsAny(a, "()") || a == b && intConst(a) {
			return op == " == " || op == " <= " || op == " >= ", true
		}
		x, okx := intConstVal(a)
		y, oky := intConstVal(b)
		if !okx || !oky {
			return false, false
		}
		switch op {
		case " != ":
			return x != y, true
		case " == ":
			return x == y, true
		case " <= ":
			return x <= y, true
		case " >= ":
			return x >= y, true
		case " < ":
			return x < y, true
		}
		return x > y, true
	}
	return false, false
}

func intConst(s string) bool { _, ok := intConstVal(s); return ok }

// intConstVal reads an integer literal, possibly converted: 3, int64(3),
// int(int64(3)).
func intConstVal(s string) (int64, bool) {
	for {
		switch {
		case strings.HasPrefix(s, "int64(") && strings.HasSuffix(s, ")"):
			s = s[len("int64(") : len(s)-1]
		case strings.HasPrefix(s, "int(") && strings.HasSuffix(s, ")"):
			s = s[len("int(") : len(s)-1]
		default:
			v, err := strconv.ParseInt(s, 10, 64)
			return v, err == nil
		}
	}
}
