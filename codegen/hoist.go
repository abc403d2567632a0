package codegen

import (
	"regexp"
	"sort"
	"strings"
)

// Checks done once. gather checks every index against the source's
// length before reading through them; in [gather(ct[t], idx) for t < 11]
// the indices and the length are the same in every row, so the check is
// the same pass eleven times. When both are parameters of the function
// (whose values never change in its body), the check runs at its first
// occurrence, in its place (so errors keep their order), and records
// that it passed in a flag that later occurrences test.

// onceFlag returns the flag recording that the check named key passed,
// or "" when the check must run every time: one of its atoms is not a
// parameter, or the code is emitted inside a Go func literal (a parallel
// chunk, linsolve's matvec), whose runs may overlap.
func (f *fn) onceFlag(key string, atoms ...string) string {
	if f.errHook != nil {
		return ""
	}
	for _, a := range atoms {
		if !f.params[a] {
			return ""
		}
	}
	if f.onceFlags == nil {
		f.onceFlags = map[string]string{}
	}
	flag, ok := f.onceFlags[key]
	if !ok {
		flag = f.fresh("checked")
		f.onceFlags[key] = flag
	}
	return flag
}

// onceDecls declares the flags that code uses.
func (f *fn) onceDecls(code string) string {
	var decls []string
	for _, flag := range f.onceFlags {
		if strings.Contains(code, flag+" = true") {
			decls = append(decls, "var "+flag+" bool\n")
		}
	}
	sort.Strings(decls)
	return strings.Join(decls, "")
}

// Size checks computed once per loop. runtime.CheckSize and MulSize
// depend on their arguments alone (and on the array limit, which a call
// never changes); when those do not change in a loop, the check is
// computed once before it and each iteration takes its result, still
// failing at its own place and in its own order (the `if err != nil`
// stays where it was). In GMM's gradient the reverse pass checked the
// size of the per-component outer product, a call in the innermost loop
// of n·K iterations, and the forward pass the size of each point's K
// terms. Repeated, so that a check moves out of every loop it is
// invariant in.

// sizeCheckRE matches a size check of locals or parameters.
var sizeCheckRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*), ([A-Za-z_][A-Za-z0-9_]*) := runtime\.(CheckSize|MulSize)\(([A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)?)\)$`)

// hoistChecks moves the loop-invariant size checks of code out of loops.
func (f *fn) hoistChecks(code string) string {
	lines := strings.Split(code, "\n")
	for round := 0; round < 10000; round++ { // each round moves one check out a level
		out, changed := f.hoistCheckRound(lines)
		lines = out
		if !changed {
			break
		}
	}
	return strings.Join(lines, "\n")
}

// hoistCheckRound moves one invariant check at the top level of a loop's
// body to just before the loop.
func (f *fn) hoistCheckRound(lines []string) ([]string, bool) {
	depth := braceDepths(lines)
	for j, h := range lines {
		t := strings.TrimSpace(h)
		if !strings.HasPrefix(t, "for ") || !strings.HasSuffix(t, "{") {
			continue
		}
		end := len(lines) - 1
		for k := j + 1; k < len(lines); k++ {
			if depth[k] <= depth[j] {
				end = k - 1
				break
			}
		}
		lp := scratchLoop{head: j, end: end}
		for k := j + 1; k < end; k++ {
			m := sizeCheckRE.FindStringSubmatch(strings.TrimSpace(lines[k]))
			if m == nil || depth[k] != depth[j]+1 {
				continue
			}
			invariant := true
			for _, a := range strings.Split(m[4], ", ") {
				invariant = invariant && f.invariantAt(lines, depth, lp, a)
			}
			if !invariant {
				continue
			}
			n, e := "_", f.fresh("chk")
			if m[1] != "_" {
				n = f.fresh("size")
			}
			out := append([]string{}, lines[:j]...)
			out = append(out, n+", "+e+" := runtime."+m[3]+"("+m[4]+")")
			out = append(out, lines[j:k]...)
			out = append(out, m[1]+", "+m[2]+" := "+n+", "+e)
			return append(out, lines[k+1:]...), true
		}
	}
	return lines, false
}
