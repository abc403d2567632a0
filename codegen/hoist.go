package codegen

import (
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
