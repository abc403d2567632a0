package interp

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// SetArenaTemps sets arenaTemps for the external tests and returns the
// function that clears it.
func SetArenaTemps() func() {
	arenaTemps = true
	return func() { arenaTemps = false }
}

// ValueBits is valueBits, for the external tests.
var ValueBits = valueBits

// SetNoRevChain sets noRevChain for the external tests and returns the
// function that clears it.
func SetNoRevChain() func() {
	noRevChain = true
	return func() { noRevChain = false }
}

// RevChains is the number of loop bodies revChain has compiled so far.
func RevChains() int64 { return revChains.Load() }

// LetScansDisagree compares, for every let of p's defs, the one-pass
// answers (letMayKeep, letFieldsOnly) with the per-let scans they replace
// (mayKeep, fieldsOnly) and describes each let where they differ.
func LetScansDisagree(p *ir.Program) []string {
	it := &Interp{}
	var out []string
	for _, d := range p.Defs {
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			l, ok := x.(*ir.Let)
			if !ok || !enter {
				return
			}
			if got, want := it.letMayKeep(l), mayKeep(l.Body, l.Var, map[*ir.Var]ir.Expr{}); got != want {
				out = append(out, fmt.Sprintf("%s: let %s: letMayKeep %v, mayKeep %v", d.Name, l.Var.Name, got, want))
			}
			if got, want := it.letFieldsOnly(l), fieldsOnly(l.Body, l.Var); got != want {
				out = append(out, fmt.Sprintf("%s: let %s: letFieldsOnly %v, fieldsOnly %v\n%s", d.Name, l.Var.Name, got, want, ir.PrintExpr(l)))
			}
		}, nil)
	}
	return out
}

// SetNoSVBlock sets noSVBlock for the external tests and returns the
// function that clears it.
func SetNoSVBlock() func() {
	noSVBlock = true
	return func() { noSVBlock = false }
}

// SVBlocks is the number of small-vector blocks compiled so far.
func SVBlocks() int64 { return svBlocks.Load() }

// SVRan is the number of small-vector block runs that did not fall back.
func SVRan() int64 { return svRan.Load() }

// SetNoAccOneHot sets noAccOneHot for the external tests and returns the
// function that clears it.
func SetNoAccOneHot() func() {
	noAccOneHot = true
	return func() { noAccOneHot = false }
}

// AccOneHotLoops is the number of loop bodies accChain has compiled with
// one-hot updates so far.
func AccOneHotLoops() int64 { return accOneHotLoops.Load() }

// SetNoDirectInit sets noDirectInit for the external tests and returns the
// function that clears it.
func SetNoDirectInit() func() {
	noDirectInit = true
	return func() { noDirectInit = false }
}

// DirectInits is the number of loop states loopInit has stored directly.
func DirectInits() int64 { return directInits.Load() }

// SetSVCountAll sets svCountAll for the external tests and returns the
// function that clears it.
func SetSVCountAll() func() {
	svCountAll = true
	return func() { svCountAll = false }
}

// SetNoTapeUpdate sets noTapeUpdate for the external tests and returns
// the function that clears it.
func SetNoTapeUpdate() func() {
	noTapeUpdate = true
	return func() { noTapeUpdate = false }
}

// TapeUpdates is the number of update copies carved from a tape arena.
func TapeUpdates() int64 { return tapeUpdates.Load() }

// SetNoSVDonor sets noSVDonor for the external tests and returns the
// function that clears it.
func SetNoSVDonor() func() {
	noSVDonor = true
	return func() { noSVDonor = false }
}

// SVDonated is the number of block outs written into a donor's array.
func SVDonated() int64 { return svDonated.Load() }

// SetNoSVRowSlice sets noSVRowSlice for the external tests and returns
// the function that clears it.
func SetNoSVRowSlice() func() {
	noSVRowSlice = true
	return func() { noSVRowSlice = false }
}

// SVRowSlices is the number of block runs that read slices of their rows.
func SVRowSlices() int64 { return svRowSlices.Load() }

// SetNoTempLets sets noTempLets for the external tests and returns the
// function that clears it.
func SetNoTempLets() func() {
	noTempLets = true
	return func() { noTempLets = false }
}

// TempLets is the number of tape-body lets compiled outside the arena so far.
func TempLets() int64 { return tempLets.Load() }

// SetNoTapeSmallChunks sets noTapeSmallChunks for the external tests and
// returns the function that clears it.
func SetNoTapeSmallChunks() func() {
	noTapeSmallChunks = true
	return func() { noTapeSmallChunks = false }
}

// SetNoTapeRecycle sets noTapeRecycle for the external tests and returns
// the function that clears it.
func SetNoTapeRecycle() func() {
	noTapeRecycle = true
	return func() { noTapeRecycle = false }
}

// TapeRecycled is the number of runs that took a kept tape arena so far;
// TapeEscapes the releases refused because the result or arguments reach
// a chunk.
func TapeRecycled() int64 { return tapeRecycled.Load() }
func TapeEscapes() int64  { return tapeEscapes.Load() }
