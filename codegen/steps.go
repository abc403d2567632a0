package codegen

import (
	"bytes"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Step counting. The interpreter charges steps (loop iterations, calls,
// array elements) so that --max-steps stops a `loop ... while true`. A
// program generated with Options.Steps charges steps too, but fewer
// kinds: one per iteration of a loop (either kind, and while_save's),
// and n per array of n elements built element by element, charged before
// the elements are computed. The counts are not the interpreter's; the
// behaviour at the limit is: the run stops with "step limit exceeded (N
// steps)" positioned at the loop or the array's expression, and the
// frames of the active defs. Without Options.Steps nothing is emitted,
// so the limit costs the ordinary build nothing; nabla run --max-steps
// builds (and caches) a second binary with the checks.
//
// The counter is atomic because a parallel loop's chunks (parallel.go)
// may run loops of their own; it is package state, so a binary counts
// one run, as nabla run makes it.

// step emits the charge of n steps (a Go int64 expression) with the
// failure at pos, when the program counts steps.
func (f *fn) step(n string, pos ir.Pos) {
	if !f.g.opts.Steps {
		return
	}
	f.g.helper("nbStep")
	f.line("if nbStep(%s) {", n)
	f.retErr(fmt.Sprintf("nbStepError(%q)", posString(pos)))
	f.line("}")
}

// stepHelper is the counter and its check. nbStepLimit is math.MaxInt64
// for no limit, so the check is one atomic add and one comparison.
const stepHelper = `// nbSteps counts the steps charged so far, from every goroutine;
// nbStepLimit is the most a run may take (the harness's -max-steps).
var (
	nbSteps     atomic.Int64
	nbStepLimit int64 = math.MaxInt64
)

// nbStep charges n steps and reports whether the run has passed its
// step limit.
func nbStep(n int64) bool { return nbSteps.Add(n) > nbStepLimit }

// nbStepError is the interpreter's error for a passed step limit, at pos.
func nbStepError(pos string) error {
	return runtime.NewError(pos, fmt.Sprintf("step limit exceeded (%d steps)", nbStepLimit))
}
`

// emitStepLimit emits the harness's nbLimitSteps, which sets the limit
// of -max-steps, or reports false in a program that counts no steps.
func (g *gen) emitStepLimit(w *bytes.Buffer) {
	w.WriteString("// nbLimitSteps sets the run's step limit; it reports false when the\n// program was generated without step counting.\n")
	if !g.opts.Steps {
		w.WriteString("func nbLimitSteps(n int64) bool { return false }\n\n")
		return
	}
	g.helper("nbStep")
	w.WriteString("func nbLimitSteps(n int64) bool {\n\tnbStepLimit = n\n\treturn true\n}\n\n")
}
