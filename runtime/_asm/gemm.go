package main

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Shape of the matrix-product micro-kernel: a tile of mr rows and nr
// columns of C lives in 12 YMM registers (two per row) while the kernel
// walks k. Per step it loads 8 elements of packed B (two registers),
// broadcasts 6 elements of packed A, and issues 12 FMAs: 15 of the 16 YMM
// registers are in use, and 12 independent accumulator chains cover the
// FMA latency on current x86 cores. runtime/matmul.go packs the panels in
// the layout read here and holds the same constants.
const (
	mr = 6
	nr = 8
)

// gemm emits gemm6x8AVX2. Each element of the tile is a chain of FMAs
// over p in increasing order, continued from its value in c when load is
// set and from +0 otherwise: exactly the chain that the pure-Go matrix
// product computes for that element.
func (g *gen) gemm() {
	g.fn("gemm6x8AVX2", "func(k int, a, b, c []float64, ldc int, load bool)",
		"gemm6x8AVX2 adds the product of the packed panels a (k steps of 6",
		"rows) and b (k steps of 8 columns) into the 6×8 tile at c, whose rows",
		"are ldc elements apart: c[r*ldc+j] = fma(a[6p+r], b[8p+j], c[r*ldc+j])",
		"for p = 0, 1, ..., k-1 in turn, starting from the values in c when",
		"load is set and from 0 otherwise. k must be at least 1.",
	)
	kk := g.GP64()
	g.Load(g.Param("k"), kk)
	ap := g.base("a")
	bp := g.base("b")
	cp := g.base("c")
	ldc := g.GP64()
	g.Load(g.Param("ldc"), ldc)
	g.SHLQ(operand.U8(3), ldc) // in bytes
	load := g.GP64()
	g.Load(g.Param("load"), load)

	var acc [mr][2]reg.VecVirtual
	for r := range acc {
		acc[r][0], acc[r][1] = g.YMM(), g.YMM()
	}
	row := g.GP64()
	rows := func(each func(r int, m0, m1 operand.Mem)) {
		g.MOVQ(cp, row)
		for r := range acc {
			each(r, operand.Mem{Base: row}, operand.Mem{Base: row, Disp: 32})
			if r < mr-1 {
				g.ADDQ(ldc, row)
			}
		}
	}

	g.TESTQ(load, load)
	g.JE(operand.LabelRef("zero"))
	rows(func(r int, m0, m1 operand.Mem) {
		g.VMOVUPD(m0, acc[r][0])
		g.VMOVUPD(m1, acc[r][1])
	})
	g.JMP(operand.LabelRef("loop"))
	g.Label("zero")
	for r := range acc {
		g.VXORPD(acc[r][0], acc[r][0], acc[r][0])
		g.VXORPD(acc[r][1], acc[r][1], acc[r][1])
	}

	g.Label("loop")
	b0, b1 := g.YMM(), g.YMM()
	g.VMOVUPD(operand.Mem{Base: bp}, b0)
	g.VMOVUPD(operand.Mem{Base: bp, Disp: 32}, b1)
	for r := range acc {
		t := g.YMM()
		g.VBROADCASTSD(operand.Mem{Base: ap, Disp: 8 * r}, t)
		g.VFMADD231PD(b0, t, acc[r][0])
		g.VFMADD231PD(b1, t, acc[r][1])
	}
	g.ADDQ(operand.U32(8*mr), ap)
	g.ADDQ(operand.U32(8*nr), bp)
	g.DECQ(kk)
	g.JNE(operand.LabelRef("loop"))

	rows(func(r int, m0, m1 operand.Mem) {
		g.VMOVUPD(acc[r][0], m0)
		g.VMOVUPD(acc[r][1], m1)
	})
	g.VZEROUPPER()
	g.RET()
}
