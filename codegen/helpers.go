package codegen

import (
	"bytes"
	"sort"
)

// Helpers are the Go declarations only a run harness (Options.Main)
// carries: its step counter (steps.go) and its progress writer
// (progress.go), package state of the one program a binary runs.
// Everything a generated package needs besides its program's code (the
// arena, the error type with its frames, the conversions of the exported
// API, and everything with Nabla's semantics) is a runtime function or
// type, never a copy here. Each is emitted at most once, in name order,
// so output is deterministic.

// helper records that the generated file needs helper name.
func (g *gen) helper(name string) {
	if _, ok := helperSrc[name]; !ok {
		panic("codegen: unknown helper " + name)
	}
	if !g.opts.Main {
		panic("codegen: helper " + name + " outside a run harness")
	}
	g.helpers[name] = true
}

func (g *gen) writeHelpers(w *bytes.Buffer) {
	names := make([]string, 0, len(g.helpers))
	for n := range g.helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w.WriteString(helperSrc[n])
		w.WriteString("\n")
	}
}

var helperSrc = map[string]string{
	"nbStep":     stepHelper,
	"nbProgress": progressHelper,
}
