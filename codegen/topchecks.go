// Which size checks codegen writes as runtime.CheckSizeFast.

package codegen

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
