// Which size checks codegen writes as runtime.CheckSizeFast, and which
// it need not write at all.

package codegen

import (
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// topLevel reports whether the code being emitted runs once per call of
// the function: outside every loop body (parallel chunks included), not
// in a scratch compilation of a loop body, and not in a Go func literal
// with an error convention of its own. A size check there is written as
// runtime.CheckSizeFast, which Go inlines: it saves a call where a call is
// a visible part of a small function's time (Rosenbrock at n = 10). A
// check in a loop stays runtime.CheckSize: inlined into loop bodies it
// made GMM at d = 10 slower (stop 24), and scratch.go's hoisting reads
// those checks by their text.
func (f *fn) topLevel() bool {
	return f.loops == 0 && f.dryRun == 0 && f.errHook == nil && !f.g.opts.noFastChecks
}

// Checks of the same size again. A def's parameters fix sizes (size_N :=
// int64 of a dimension) that never change in its body; a size check of
// one that ran unconditionally at the top of the body makes every later
// check of it redundant: it would accept the same size (CheckSize
// depends on the size and the process's array limit alone) and give the
// same int. Such a later check, often one per iteration of a loop (GMM's
// per-point scores of k components, checked k times per call before),
// reuses the first one's result instead of being written.

// topState is what sizeArg knows of the checks at the top of the body.
type topState struct {
	root *strings.Builder // the builder of the def's body
	// depth is the block depth at the end of root's text up to scanned
	// (lines ending in "{" open a block, lines starting with "}" close
	// one).
	depth, scanned int
	argSizes       map[string]bool   // the atoms of the parameters' sizes
	checked        map[string]string // argSize atom → its checked int
}

// startTopChecks begins the body of def d, whose parameters' sizes are
// bound (bindSizes): checks of their atoms at the body's top block may be
// reused.
func (f *fn) startTopChecks(d *ir.Def) {
	t := &topState{root: f.b, argSizes: map[string]bool{}, checked: map[string]string{}}
	for _, sv := range d.SizeVars {
		if sv.Param >= 0 {
			if v, ok := f.env[sv.Var]; ok && len(v.parts) == 1 {
				t.argSizes[v.parts[0]] = true
			}
		}
	}
	t.scanned = f.b.Len()
	f.top = t
}

// checkedBefore returns the int of an earlier check of the size atom n
// that runs before the code being emitted, if there is one.
func (f *fn) checkedBefore(n string) (string, bool) {
	if f.top == nil || f.g.opts.noFastChecks {
		return "", false
	}
	v, ok := f.top.checked[n]
	return v, ok
}

// noteCheck records v as the checked int of the size atom n if the check
// just written runs unconditionally at the top of the body, before
// everything emitted after it.
func (f *fn) noteCheck(n, v string) {
	t := f.top
	if t == nil || !t.argSizes[n] || !f.topLevel() || f.b != t.root {
		return
	}
	if _, ok := t.checked[n]; ok {
		return
	}
	text := t.root.String()
	for _, l := range strings.Split(text[t.scanned:], "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "}") {
			t.depth--
		}
		if strings.HasSuffix(l, "{") {
			t.depth++
		}
	}
	t.scanned = len(text)
	// The check's own `if err != nil {` is not written yet: depth 0 is
	// the body's top block.
	if t.depth == 0 {
		t.checked[n] = v
	}
}
