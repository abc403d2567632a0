package main

import (
	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// gen wraps the avo build context with the few idioms every kernel uses.
type gen struct {
	*build.Context
}

// all emits every kernel, in the order they appear in the .s file.
func (g *gen) all() {
	g.reductions()
	g.gemv()
	g.maps()
	g.gemm()
}

// fn starts a leaf function. Every kernel is NOSPLIT, has no frame and
// lets no pointer escape (the Go declaration gets //go:noescape), so
// callers' slices stay on their stacks.
func (g *gen) fn(name, sig string, doc ...string) {
	g.Function(name)
	g.Attributes(attr.NOSPLIT)
	g.SignatureExpr(sig)
	g.Pragma("noescape")
	g.Doc(doc...)
}

// base loads the data pointer of slice parameter p.
func (g *gen) base(p string) reg.GPVirtual {
	r := g.GP64()
	g.Load(g.Param(p).Base(), r)
	return r
}

// length loads the length of slice parameter p.
func (g *gen) length(p string) reg.GPVirtual {
	r := g.GP64()
	g.Load(g.Param(p).Len(), r)
	return r
}

// arg is the memory operand of scalar parameter p, to broadcast from.
func (g *gen) arg(p string) operand.Mem {
	b, err := g.Param(p).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// at is element i+off of the float64 array at base.
func at(base, i reg.Register, off int) operand.Mem {
	return operand.Mem{Base: base, Index: i, Scale: 8, Disp: 8 * off}
}

// width says whether a loop body works on four lanes (a YMM register) or
// on one (the low lane of an XMM register, the scalar tail).
type width bool

const (
	packed width = true
	scalar width = false
)

// vec allocates a register of width w.
func (g *gen) vec(w width) reg.VecVirtual {
	if w == packed {
		return g.YMM()
	}
	return g.XMM()
}

// load reads one vector (or one element) of width w.
func (g *gen) load(w width, m operand.Mem, r reg.Register) {
	if w == packed {
		g.VMOVUPD(m, r)
	} else {
		g.VMOVSD(m, r)
	}
}

// store writes one vector (or one element) of width w.
func (g *gen) store(w width, r reg.Register, m operand.Mem) {
	if w == packed {
		g.VMOVUPD(r, m)
	} else {
		g.VMOVSD(r, m)
	}
}

// op picks the packed or the scalar form of an arithmetic instruction.
// Both round each lane the same way: x86 arithmetic is IEEE 754 binary64
// with round-to-nearest-even, the same as Go's float64 operators.
func op(w width, pd, sd func(...operand.Op)) func(...operand.Op) {
	if w == packed {
		return pd
	}
	return sd
}

func (g *gen) add(w width) func(...operand.Op) { return op(w, g.VADDPD, g.VADDSD) }
func (g *gen) sub(w width) func(...operand.Op) { return op(w, g.VSUBPD, g.VSUBSD) }
func (g *gen) mul(w width) func(...operand.Op) { return op(w, g.VMULPD, g.VMULSD) }
func (g *gen) div(w width) func(...operand.Op) { return op(w, g.VDIVPD, g.VDIVSD) }

// fma is acc = a·b + acc rounded once (VFMADD231), what math.FMA(a, b,
// acc) computes.
func (g *gen) fma(w width) func(...operand.Op) { return op(w, g.VFMADD231PD, g.VFMADD231SD) }

// done ends a kernel. VZEROUPPER comes before any scalar store of a
// result, so that no SSE instruction runs with dirty upper halves.
func (g *gen) done() {
	g.Label("done")
	g.VZEROUPPER()
	g.RET()
}
