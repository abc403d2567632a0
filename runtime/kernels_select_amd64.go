//go:build amd64 && !purego

package runtime

import "golang.org/x/sys/cpu"

// avx2Kernels are the assembly kernels of kernels_amd64.s.
var avx2Kernels = kernelSet{
	name:     "avx2",
	sum:      sumAVX2,
	dot:      dotAVX2,
	add:      addAVX2,
	sub:      subAVX2,
	mul:      mulAVX2,
	div:      divAVX2,
	addConst: addConstAVX2,
	mulConst: mulConstAVX2,
	divConst: divConstAVX2,
	constSub: constSubAVX2,
	constDiv: constDivAVX2,
	axpy:     axpyAVX2,
	axpyTo:   axpyToAVX2,
	gemvN:    gemvNAVX2,
	gemvT:    gemvTAVX2,
	fmaRow:   fmaRowAVX2,
	fmaRows4: fmaRows4AVX2,
	gemmTile: gemmTileAVX2,
}

// hasAVX2FMA reports whether this processor (and its operating system,
// which must save the YMM registers; cpu checks that too) runs the
// assembly kernels.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if hasAVX2FMA {
		active = &avx2Kernels
		kernelSets = append(kernelSets, &avx2Kernels)
	}
}
