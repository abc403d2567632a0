package codegen

import (
	"regexp"
	"strings"
)

// Lengths known equal. A run of lets (group.go) is one loop over one
// length; members of different lengths end it. After inlining, the
// lengths of one run are often different atoms (camidx_13, ptidx_15,
// w_8 for the observations of ba.nab's objective) that checks already
// made prove equal: a def's entry checks (p is w's length, cam_idx must
// have it too) and an inlined def's check_dims, all on the body's
// straight-line chain, before any loop reads the arrays. failIf, while
// f.facts is set, records each check's "a != b" terms as a = b, and
// sameDims consults them.

// eqTermRE matches a term a check fails on when two lengths differ:
// a != b, either side maybe int64(...).
var eqTermRE = regexp.MustCompile(`^(?:int64\()?(\w+)\)? != (?:int64\()?(\w+)\)?$`)

// noteEqual records the equalities that hold once cond, a failure
// condition of terms joined by ||, is known false.
func (f *fn) noteEqual(cond string) {
	for _, term := range strings.Split(cond, " || ") {
		m := eqTermRE.FindStringSubmatch(term)
		if m == nil || strings.Count(term, "(") != strings.Count(term, ")") {
			continue
		}
		a, b := f.lenRoot(f.sizeSource(m[1])), f.lenRoot(f.sizeSource(m[2]))
		if a != b {
			if f.sameLen == nil {
				f.sameLen = map[string]string{}
			}
			f.sameLen[a] = b
		}
	}
}

// sizeSource is the int length a size local was declared from (size_18
// := int64(w_8) gives w_8), or the atom itself.
func (f *fn) sizeSource(atom string) string {
	if !strings.HasPrefix(atom, "size_") {
		return atom
	}
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(atom) + ` := int64\((\w+)\)$`)
	if m := re.FindStringSubmatch(f.b.String()); m != nil {
		return m[1]
	}
	return atom
}

// lenRoot is the representative of a's class of equal lengths.
func (f *fn) lenRoot(a string) string {
	for {
		b, ok := f.sameLen[a]
		if !ok {
			return a
		}
		a = b
	}
}

// sameDims reports whether two lists of dimensions are the same atoms or
// known equal.
func (f *fn) sameDims(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && f.lenRoot(a[i]) != f.lenRoot(b[i]) {
			return false
		}
	}
	return true
}
