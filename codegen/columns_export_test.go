package codegen

import (
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// OutlineColumns exposes outlineColumns to the external tests: the names
// of the defs it makes, each with the def whose tail it is.
func OutlineColumns(p *ir.Program, all bool) (*ir.Program, map[string]string) {
	np, cols := outlineColumns(p, all)
	out := map[string]string{}
	for name, c := range cols {
		out[name] = c.parent
	}
	return np, out
}

// ColumnBackend is Backend with blocks of block columns, every columnwise
// tail that calls a def run on them (Options.ColumnBlock).
func ColumnBackend(block int) pipeline.Backend { return goBackend{colBlock: block} }
