package interp

import (
	"sort"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Drivers of the block executor (vec.go): a build's elements, a sum of a
// build, and a reverse loop's scatters.

// vecComp compiles the body of build cp for the executor; nil if it is
// not covered. Called while cp's parameter is bound.
func (c *fnComp) vecComp(cp *comp) *vprog {
	if noVec || plainTyped || cp.ix < 0 || len(cp.params) != 1 {
		return nil
	}
	v := newVcomp(c, cp.params[0])
	res, ok := v.vecF(cp.body)
	if !ok {
		return nil
	}
	v.p.res = res
	return v.finish()
}

// vecBuild computes elements [lo, hi) of a build into dst, after
// charging the block's steps as compStep would: vectorized if the block
// cannot fail, else by the closure body, element by element. false after
// a failure, recorded in fr.
func (p *vprog) buildBlock(fr *frame, cp *comp, r *vrun, vec bool, lo, hi, n int, perElem int64, body fcode, dst []float64) bool {
	if !compStep(fr, cp, lo, n, perElem) {
		return false
	}
	if vec {
		if p.res.reg >= 0 && p.computed[p.res.reg] {
			r.regs[p.res.reg] = dst // the last instruction writes the elements
		}
		if p.block(r, lo, hi) {
			p.value(r, dst)
			return true
		}
	}
	for i := lo; i < hi; i++ {
		cp.bind(fr, i)
		if dst[i-lo] = body(fr); fr.err != nil {
			return false
		}
	}
	return true
}

// value copies the body's value for the block into dst, unless the
// block wrote it there.
func (p *vprog) value(r *vrun, dst []float64) {
	if p.res.reg >= 0 {
		if src := r.regs[p.res.reg]; len(src) == 0 || &src[0] != &dst[0] {
			copy(dst, src)
		}
		return
	}
	x := r.ks[p.res.k]
	for k := range dst {
		dst[k] = x
	}
}

// buildF fills out (n elements) with build cp's elements.
func (p *vprog) buildF(fr *frame, cp *comp, body fcode, out []float64) {
	r := p.get()
	defer p.put(r)
	vec := p.start(fr, r)
	n := len(out)
	for lo := 0; lo < n; lo += vecBlock {
		hi := min(lo+vecBlock, n)
		if !p.buildBlock(fr, cp, r, vec, lo, hi, n, cp.steps, body, out[lo:hi]) {
			return
		}
	}
}

// sumF adds build cp's n elements in sumF's order for n > smallSum:
// pieces of runtime.SumPiece elements, each block computed into its
// place in the piece. An element costs perElem steps.
func (p *vprog) sumF(fr *frame, cp *comp, body fcode, n int, perElem int64) float64 {
	r := p.get()
	defer p.put(r)
	vec := p.start(fr, r)
	piece := getPiece()
	defer putPiece(piece)
	acc := runtime.NewSumAcc(n)
	j := 0
	for lo := 0; lo < n; lo += vecBlock {
		hi := min(lo+vecBlock, n)
		if !p.buildBlock(fr, cp, r, vec, lo, hi, n, perElem, body, piece[j:j+hi-lo]) {
			return 0
		}
		if j += hi - lo; j == runtime.SumPiece {
			acc.Add(piece[:])
			j = 0
		}
	}
	return acc.Sum(piece[:j])
}

// vscatter is one acc_add_at(g, i + off, val) of a reverse loop's body
// into the state's field slot s.
type vscatter struct {
	s   int
	off int64
	val vopd
}

// vecLoop is a reverse loop's body for the executor: its scalar lets as
// a program, then its scatters in order.
type vecLoop struct {
	p   *vprog
	scs []vscatter
	// order is the scatters by offset, largest first, then in the
	// body's order: adding one scatter's block at a time in this order
	// gives every element its additions in iteration order, then
	// statement order, as the closure path does. Element e gets scatter
	// s's value of iteration e - off(s); within a block those iterations
	// increase along the order, and earlier blocks' additions came first.
	order []int
}

// vecAccLoop compiles the body of counted tuple loop e, which accChain
// compiled (its fields in slots ss..), for the executor; nil if it is not
// covered. The body never reads the fields but through the scatters
// (accChain checked it), so all its values can be computed before any
// scatter of the block.
func (c *fnComp) vecAccLoop(e *ir.Loop, ss int) *vecLoop {
	if noVec || plainTyped || e.Index == nil {
		return nil
	}
	v := newVcomp(c, e.Index)
	field := map[*ir.Var]int{}
	var scs []vscatter
	b := e.Body
	for {
		l, ok := b.(*ir.Let)
		if !ok {
			break
		}
		switch val := l.Value.(type) {
		case *ir.Proj:
			if val.X != ir.Expr(e.State) {
				return nil
			}
			field[l.Var] = val.Index
		default:
			if a, ok := accOnField(l.Value, field); ok {
				pc := l.Value.(*ir.PrimCall)
				i, ok := v.vecI(pc.Args[1])
				if !ok {
					return nil
				}
				x, ok := v.vecF(pc.Args[2])
				if !ok {
					return nil
				}
				if x.reg < 0 {
					x = vopd{reg: v.reg(true)}
					v.p.instrs = append(v.p.instrs, vinstr{op: vBcast, dst: x.reg, x: x})
				}
				scs = append(scs, vscatter{s: ss + field[a], off: i.off, val: x})
				field[l.Var] = field[a]
			} else if !v.let(l) {
				return nil
			}
		}
		b = l.Body
	}
	if len(scs) == 0 {
		return nil
	}
	order := make([]int, len(scs))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return scs[order[a]].off > scs[order[b]].off })
	return &vecLoop{p: v.finish(), scs: scs, order: order}
}

// run runs iterations [0, n) of the loop, charging steps as the closure
// path does (chargeBlock at pos); body is the closure path's body, with
// the index in slot ix.
func (vl *vecLoop) run(fr *frame, n int64, ix int, pos ir.Pos, body func(fr *frame) error) error {
	p := vl.p
	r := p.get()
	defer p.put(r)
	vec := p.start(fr, r)
	var accs [][]float64
	for _, sc := range vl.scs {
		if !vec {
			break
		}
		a, _ := fr.slots[sc.s].R.(*runtime.Array)
		if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != 1 {
			vec = false
			break
		}
		accs = append(accs, a.F)
		for _, b := range r.arrs {
			if overlap(a.F, b.F) {
				vec = false // the body would read what it adds to
			}
		}
	}
	// Whole-block passes need the accumulators to be one array or apart.
	for j := range accs {
		for k := range j {
			if overlap(accs[j], accs[k]) && (len(accs[j]) != len(accs[k]) || &accs[j][0] != &accs[k][0]) {
				vec = false
			}
		}
	}
	for lo := int64(0); lo < n; lo += vecBlock {
		hi := min(lo+vecBlock, n)
		if lo%stepBlock == 0 && !chargeBlock(fr, int(lo), int(n), pos) {
			return fr.takeErr()
		}
		if vec && vl.fits(accs, lo, hi) && p.block(r, int(lo), int(hi)) {
			vl.scatter(r, accs, int(lo), int(hi))
			continue
		}
		for i := lo; i < hi; i++ {
			fr.slots[ix] = runtime.Value{I: i}
			if err := body(fr); err != nil {
				return err
			}
		}
	}
	return nil
}

// fits reports whether every scatter's index is in range for the whole
// block.
func (vl *vecLoop) fits(accs [][]float64, lo, hi int64) bool {
	for j, sc := range vl.scs {
		if lo+sc.off < 0 || hi+sc.off > int64(len(accs[j])) {
			return false
		}
	}
	return true
}

// scatter adds the block's values, one scatter at a time in vl.order.
func (vl *vecLoop) scatter(r *vrun, accs [][]float64, lo, hi int) {
	m := hi - lo
	for _, j := range vl.order {
		o := lo + int(vl.scs[j].off)
		d := accs[j][o : o+m : o+m]
		runtime.AddTo(d, d, r.regs[vl.scs[j].val.reg][:m])
	}
}
