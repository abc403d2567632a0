package interp

import (
	"sync"
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Block-vectorized scalar bodies. Typed code (typed.go) spends one or
// more closure calls per scalar operation per element; the body of a
// build over an index, or of a reverse loop made of scalar lets and
// acc_add_at (typed_loop_arr.go), can instead run vecBlock iterations at
// a time as a short list of instructions, each one tight Go loop over a
// block of values (the X100 / NumPy way; the four operations use
// runtime's vector kernels). A vector register is a
// []float64 of the block: a computed value in a scratch buffer, or a
// load x[i + c] of a vector bound outside the body, which is only a
// slice of x.
//
// Results are the closure path's to the bit (up to which NaN an
// operation on two NaNs returns, as between the closure path and the
// general code): each instruction is one float64 operation per element,
// rounded and stored (no fused multiply-add), in the order the typed
// code applies them. A block runs
// vectorized only if none of its iterations can fail: every load and
// every scatter index is checked for the whole block first; otherwise
// the block runs through the closure path, iteration by iteration, and
// fails where and as that path fails. Steps are charged at the same
// iterations, for the same counts, as the closure path charges them.
// What the compiler does not cover (calls, branches, integer arithmetic
// other than i + c, arrays other than f64 vectors) leaves the body to the
// closure path entirely.

// vecBlock is how many iterations a block holds. It divides stepBlock
// and runtime.SumPiece, so steps are charged and sums cut into pieces at
// block boundaries, where the closure path does.
const vecBlock = 256

// vecMin is the fewest iterations run by the executor: below it, setting
// up a run costs more than the closures it saves.
const vecMin = 32

// vecStride is the distance between registers in a run's buffer: a block
// and a cache line, so that no two registers are a multiple of 4 KiB
// apart (loads from one would wait on stores to the other).
const vecStride = vecBlock + 8

// noVec, set by tests, turns the executor off to compare with the
// closure path.
var noVec bool

// vecBlocks counts the blocks run vectorized, for tests.
var vecBlocks atomic.Int64

// vkind is a vector instruction.
type vkind uint8

const (
	vAdd vkind = iota
	vSub
	vMul
	vDiv
	vNeg
	vSq    // x * x
	vF1    // f1(x)
	vF2    // f2(x, y)
	vIota  // float64(i + off)
	vBcast // x, a scalar, in every element
)

// vopd is an operand: register reg, or scalar k (a constant or a value
// bound outside the body, the same for every iteration) when reg < 0.
type vopd struct {
	reg, k int
}

// vinstr is one instruction: dst = op(x, y).
type vinstr struct {
	op   vkind
	dst  int
	x, y vopd
	off  int64
	f1   func(float64) float64
	f2   func(float64, float64) float64
}

// vecLoad makes register reg the slice x[lo+off : hi+off] of a vector.
type vecLoad struct {
	reg int
	src loc
	off int64
	pos ir.Pos
}

// vscalar fills scalar k from an f64 bound outside the body.
type vscalar struct {
	k   int
	src loc
}

// vprog is a compiled body.
type vprog struct {
	instrs  []vinstr
	pre     []vinstr // scalar-only operations, done once per run
	loads   []vecLoad
	scalars []vscalar
	consts  []float64 // the constants' values, the first scalars
	nk      int       // scalars in all
	nregs   int
	// computed[r]: register r is a computed value (a scratch buffer),
	// not a load.
	computed []bool
	res      vopd // the body's value, for a build
	pool     sync.Pool
}

// vaff is an i64 value i + off of the loop's index.
type vaff struct{ off int64 }

// vcomp compiles a body to a vprog.
type vcomp struct {
	c    *fnComp
	p    *vprog
	ix   *ir.Var
	fv   map[*ir.Var]vopd
	iv   map[*ir.Var]vaff
	lds  map[vecLoadKey]int
	outs map[loc]int
}

type vecLoadKey struct {
	src loc
	off int64
}

func newVcomp(c *fnComp, ix *ir.Var) *vcomp {
	return &vcomp{c: c, p: &vprog{}, ix: ix, fv: map[*ir.Var]vopd{}, iv: map[*ir.Var]vaff{}, lds: map[vecLoadKey]int{}, outs: map[loc]int{}}
}

func (v *vcomp) reg(computed bool) int {
	v.p.nregs++
	v.p.computed = append(v.p.computed, computed)
	return v.p.nregs - 1
}

func (v *vcomp) konst(x float64) vopd {
	v.p.consts = append(v.p.consts, x)
	return vopd{reg: -1, k: -len(v.p.consts)} // renumbered by finish
}

// outer is the scalar operand for a variable bound outside the body.
func (v *vcomp) outer(l loc) vopd {
	if k, ok := v.outs[l]; ok {
		return vopd{reg: -1, k: k}
	}
	k := len(v.p.scalars)
	v.p.scalars = append(v.p.scalars, vscalar{k: k, src: l})
	v.outs[l] = k
	return vopd{reg: -1, k: k}
}

// fix numbers a constant's scalar once all are known: the constants
// come after the outer values.
func (v *vcomp) fix(o *vopd) {
	if o.reg < 0 && o.k < 0 {
		o.k = len(v.p.scalars) - o.k - 1
	}
}

// finish numbers the scalars of the instructions and of the result.
func (v *vcomp) finish() *vprog {
	p := v.p
	for _, is := range [][]vinstr{p.pre, p.instrs} {
		for j := range is {
			v.fix(&is[j].x)
			v.fix(&is[j].y)
		}
	}
	for j := range p.pre {
		o := vopd{reg: -1, k: p.pre[j].dst}
		v.fix(&o)
		p.pre[j].dst = o.k
	}
	v.fix(&p.res)
	p.nk = len(p.scalars) + len(p.consts)
	return p
}

// vecF compiles an f64 expression; ok is false if it is not covered.
func (v *vcomp) vecF(e ir.Expr) (vopd, bool) {
	switch e := e.(type) {
	case *ir.Const:
		if x, ok := e.Val.(float64); ok {
			return v.konst(x), true
		}
	case *ir.Var:
		if o, ok := v.fv[e]; ok {
			return o, true
		}
		if _, ok := v.iv[e]; ok || e == v.ix {
			return vopd{}, false
		}
		if l, ok := v.c.resolve(e); ok && ir.Identical(e.T, ir.TF64) {
			return v.outer(l), true
		}
	case *ir.Let:
		if e.Var == nil || !v.let(e) {
			return vopd{}, false
		}
		return v.vecF(e.Body)
	case *ir.PrimCall:
		return v.primF(e)
	}
	return vopd{}, false
}

// let binds a scalar let's variable.
func (v *vcomp) let(e *ir.Let) bool {
	k, ok := scalarKind(e.Value.Type())
	switch {
	case ok && k == ir.F64:
		o, ok := v.vecF(e.Value)
		if ok {
			v.fv[e.Var] = o
		}
		return ok
	case ok && k == ir.I64:
		a, ok := v.vecI(e.Value)
		if ok {
			v.iv[e.Var] = a
		}
		return ok
	}
	return false
}

// vecI compiles an i64 expression of the form i + c.
func (v *vcomp) vecI(e ir.Expr) (vaff, bool) {
	switch e := e.(type) {
	case *ir.Var:
		if e == v.ix {
			return vaff{}, true
		}
		a, ok := v.iv[e]
		return a, ok
	case *ir.PrimCall:
		if len(e.Args) != 2 || (e.Op != ir.PrimAdd && e.Op != ir.PrimSub) || !ir.Identical(e.T, ir.TI64) {
			return vaff{}, false
		}
		if k, ok := e.Args[1].(*ir.Const); ok {
			if d, ok := k.Val.(int64); ok {
				a, ok := v.vecI(e.Args[0])
				if e.Op == ir.PrimSub {
					d = -d
				}
				return vaff{a.off + d}, ok && noOverflow(a.off, d)
			}
		}
		if k, ok := e.Args[0].(*ir.Const); ok && e.Op == ir.PrimAdd {
			if d, ok := k.Val.(int64); ok {
				a, ok := v.vecI(e.Args[1])
				return vaff{a.off + d}, ok && noOverflow(a.off, d)
			}
		}
	}
	return vaff{}, false
}

// noOverflow keeps offsets small: i + c never wraps for an index below
// 2^62 (runtime.CheckSize) and |c| below 2^40.
func noOverflow(a, b int64) bool {
	const lim = 1 << 40
	s := a + b
	return a > -lim && a < lim && b > -lim && b < lim && s > -lim && s < lim
}

func (v *vcomp) emit(in vinstr) vopd {
	if in.x.reg < 0 && (in.op == vNeg || in.op == vSq || in.op == vF1 || in.y.reg < 0) && in.op != vIota {
		// Scalars only: computed once per run.
		in.dst = -len(v.p.consts) - 1
		v.p.consts = append(v.p.consts, 0)
		v.p.pre = append(v.p.pre, in)
		return vopd{reg: -1, k: in.dst}
	}
	in.dst = v.reg(true)
	v.p.instrs = append(v.p.instrs, in)
	return vopd{reg: in.dst}
}

func (v *vcomp) primF(e *ir.PrimCall) (vopd, bool) {
	if !ir.Identical(e.T, ir.TF64) {
		return vopd{}, false
	}
	if e.Op == ir.PrimIndex {
		return v.load(e)
	}
	if !e.Op.Elementwise {
		return vopd{}, false
	}
	ks, scalar := scalarArgs(e)
	if !scalar {
		return vopd{}, false
	}
	switch {
	case len(ks) == 1 && ks[0] == ir.I64 && e.Op == ir.PrimToF64:
		a, ok := v.vecI(e.Args[0])
		if !ok {
			return vopd{}, false
		}
		return v.emit(vinstr{op: vIota, off: a.off, x: vopd{reg: -1}}), true
	case len(ks) == 1 && ks[0] == ir.F64 && e.Op == ir.PrimToF64:
		return v.vecF(e.Args[0])
	case len(ks) == 1 && ks[0] == ir.F64 && (e.Op == ir.PrimNeg || e.Op.F1 != nil):
		x, ok := v.vecF(e.Args[0])
		if !ok {
			return vopd{}, false
		}
		if e.Op == ir.PrimNeg {
			return v.emit(vinstr{op: vNeg, x: x}), true
		}
		return v.emit(vinstr{op: vF1, x: x, f1: e.Op.F1}), true
	case len(ks) == 2 && ks[0] == ir.F64 && ks[1] == ir.F64:
		x, ok := v.vecF(e.Args[0])
		if !ok {
			return vopd{}, false
		}
		y, ok := v.vecF(e.Args[1])
		if !ok {
			return vopd{}, false
		}
		if bop, isBin := binOpOf(e.Op, ir.F64, ir.F64); isBin {
			if bop > fDiv {
				return vopd{}, false
			}
			if bop == fMul && x == y && x.reg >= 0 {
				return v.emit(vinstr{op: vSq, x: x}), true
			}
			return v.emit(vinstr{op: vkind(bop - fAdd), x: x, y: y}), true
		}
		if e.Op.F2 != nil {
			return v.emit(vinstr{op: vF2, x: x, y: y, f2: e.Op.F2}), true
		}
	}
	return vopd{}, false
}

// load compiles x[i + c] of an f64 vector x bound outside the body.
func (v *vcomp) load(e *ir.PrimCall) (vopd, bool) {
	if len(e.Args) != 2 {
		return vopd{}, false
	}
	x, ok := e.Args[0].(*ir.Var)
	if !ok || ir.Rank(x.T) != 1 {
		return vopd{}, false
	}
	if k, ok := ir.Leaf(x.T); !ok || k != ir.F64 {
		return vopd{}, false
	}
	if _, inner := v.fv[x]; inner {
		return vopd{}, false
	}
	l, ok := v.c.resolve(x)
	if !ok {
		return vopd{}, false
	}
	a, ok := v.vecI(e.Args[1])
	if !ok {
		return vopd{}, false
	}
	key := vecLoadKey{l, a.off}
	if r, ok := v.lds[key]; ok {
		// The same element again: the same checks, already made.
		return vopd{reg: r}, true
	}
	r := v.reg(false)
	v.lds[key] = r
	v.p.loads = append(v.p.loads, vecLoad{reg: r, src: l, off: a.off, pos: e.P})
	return vopd{reg: r}, true
}

// vrun is the state of one run of a program: the registers of the
// current block and the scalars.
type vrun struct {
	regs [][]float64
	bufs []float64
	ks   []float64
	arrs []*runtime.Array // the loads' vectors
}

func (p *vprog) get() *vrun {
	if r, ok := p.pool.Get().(*vrun); ok {
		return r
	}
	r := &vrun{regs: make([][]float64, p.nregs), ks: make([]float64, p.nk), arrs: make([]*runtime.Array, len(p.loads))}
	n := 0
	for _, c := range p.computed {
		if c {
			n++
		}
	}
	r.bufs = make([]float64, n*vecStride)
	return r
}

func (p *vprog) put(r *vrun) {
	clear(r.arrs)
	p.pool.Put(r)
}

// start reads the scalars and the loads' vectors, once per run; ok is
// false if one is not what the body expects (the closure path then runs,
// and reports it).
func (p *vprog) start(fr *frame, r *vrun) bool {
	for _, s := range p.scalars {
		x := s.src.load(fr)
		if x.R != nil {
			return false
		}
		r.ks[s.k] = x.F
	}
	ns := len(p.scalars)
	copy(r.ks[ns:], p.consts)
	for j := range p.pre {
		in := &p.pre[j]
		x, y := r.ks[in.x.k], r.ks[in.y.k]
		var z float64
		switch in.op {
		case vAdd:
			z = x + y
		case vSub:
			z = x - y
		case vMul:
			z = x * y
		case vDiv:
			z = x / y
		case vNeg:
			z = -x
		case vSq:
			z = x * x
		case vF1:
			z = in.f1(x)
		case vF2:
			z = in.f2(x, y)
		}
		r.ks[in.dst] = z
	}
	for j, ld := range p.loads {
		a, _ := ld.src.load(fr).R.(*runtime.Array)
		if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != 1 {
			return false
		}
		r.arrs[j] = a
	}
	b := 0
	for j, c := range p.computed {
		if c {
			r.regs[j] = r.bufs[b*vecStride : b*vecStride+vecBlock]
			b++
		}
	}
	return true
}

// block runs iterations [lo, hi) if none of their loads can fail; ok is
// false (and nothing done) otherwise.
func (p *vprog) block(r *vrun, lo, hi int) bool {
	m := hi - lo
	for j, ld := range p.loads {
		a := r.arrs[j]
		s, e := int64(lo)+ld.off, int64(hi)+ld.off
		if s < 0 || e > int64(len(a.F)) {
			return false
		}
		r.regs[ld.reg] = a.F[s:e:e]
	}
	vecBlocks.Add(1)
	for j := range p.instrs {
		in := &p.instrs[j]
		d := r.regs[in.dst][:m]
		switch in.op {
		case vBcast:
			x := r.ks[in.x.k]
			for k := range d {
				d[k] = x
			}
		case vIota:
			for k := range d {
				d[k] = float64(int64(lo+k) + in.off)
			}
		case vNeg:
			runtime.NegTo(d, r.regs[in.x.reg][:m])
		case vSq:
			x := r.regs[in.x.reg][:m]
			runtime.MulTo(d, x, x)
		case vF1:
			x := r.regs[in.x.reg][:m]
			for k := range d {
				d[k] = in.f1(x[k])
			}
		default:
			binBlock(in, r, d)
		}
	}
	return true
}

// binBlock runs a binary instruction over a block. The four operations
// go through runtime's vector kernels (AVX2 where the machine has it):
// each element is the one IEEE operation the closure path applies, so
// the results are the same but for which NaN comes out of an operation
// on two NaNs, which the closure path does not fix either (sameBits).
func binBlock(in *vinstr, r *vrun, d []float64) {
	m := len(d)
	xr, yr := in.x.reg >= 0, in.y.reg >= 0
	if in.op == vF2 {
		var xs, ys float64
		if !xr {
			xs = r.ks[in.x.k]
		}
		if !yr {
			ys = r.ks[in.y.k]
		}
		for k := range d {
			x, y := xs, ys
			if xr {
				x = r.regs[in.x.reg][k]
			}
			if yr {
				y = r.regs[in.y.reg][k]
			}
			d[k] = in.f2(x, y)
		}
		return
	}
	switch {
	case xr && yr:
		vvKernels[in.op](d, r.regs[in.x.reg][:m], r.regs[in.y.reg][:m])
	case xr:
		vsKernels[in.op](d, r.regs[in.x.reg][:m], r.ks[in.y.k])
	default:
		svKernels[in.op](d, r.ks[in.x.k], r.regs[in.y.reg][:m])
	}
}

// The kernels of vAdd, vSub, vMul and vDiv on two vectors, a vector and
// a scalar, and a scalar and a vector. x - c keeps its own loop: runtime
// subtracts a constant as the addition of -c, which may return another
// NaN when c is one.
var (
	vvKernels = [...]func(d, x, y []float64){runtime.AddTo, runtime.SubTo, runtime.MulTo, runtime.DivTo}
	vsKernels = [...]func(d, x []float64, c float64){
		runtime.AddConstTo,
		func(d, x []float64, c float64) {
			x = x[:len(d)]
			for k, v := range x {
				d[k] = v - c
			}
		},
		func(d, x []float64, c float64) { runtime.ScaleTo(d, c, x) },
		runtime.DivConstTo,
	}
	svKernels = [...]func(d []float64, c float64, y []float64){
		func(d []float64, c float64, y []float64) { runtime.AddConstTo(d, y, c) },
		runtime.ConstSubTo,
		runtime.ScaleTo,
		runtime.ConstDivTo,
	}
)
