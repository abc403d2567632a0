package ir

// Facts remembers, for every node it is asked about, the bottom-up
// facts that rewrite passes ask again and again: the node's size, how
// many in-place primitives it calls, whether it is total (Total) and
// whether it applies a lambda directly or calls an AD operator.
//
// The plain functions (Size, Total, CountInPlace) walk the whole term,
// so a pass that asks them at every node of a term of n nodes costs
// O(n^2): deep expressions and long let chains made compile time
// quadratic. Terms are immutable and a node means the same wherever it
// is shared, so a fact about a node holds forever; Facts computes each
// node's facts once, from its children's, and answers later questions in
// O(1). A Facts must not see a node that is later changed in place (the
// only such code, inline's eraseSizes, works on fresh copies before they
// are part of a term).
type Facts struct {
	m map[Expr]nodeFacts
}

type nodeFacts struct {
	size    int
	inplace int
	total   bool
	redex   bool // applies a lambda directly: Call{Fn: *Lambda}
	adOp    bool // calls an AD operator
}

// NewFacts returns an empty Facts.
func NewFacts() *Facts { return &Facts{m: map[Expr]nodeFacts{}} }

// Size is Size(e), remembered.
func (f *Facts) Size(e Expr) int { return f.get(e).size }

// CountInPlace is CountInPlace(e), remembered.
func (f *Facts) CountInPlace(e Expr) int { return f.get(e).inplace }

// HasInPlace is HasInPlace(e), remembered.
func (f *Facts) HasInPlace(e Expr) bool { return f.get(e).inplace > 0 }

// Total is Total(e), remembered.
func (f *Facts) Total(e Expr) bool {
	if t, leaf := totalLeaf(e); leaf {
		return t
	}
	return f.get(e).total
}

// Droppable is Droppable(e) with Total remembered.
func (f *Facts) Droppable(e Expr) bool { return droppable(e, f.Total) }

// Forget drops what f remembers about e (a node gone from the term).
func (f *Facts) Forget(e Expr) { delete(f.m, e) }

// HasRedex reports whether e contains a call whose function is a lambda.
func (f *Facts) HasRedex(e Expr) bool { return f.get(e).redex }

// HasADOperator reports whether e contains a call of an AD operator.
func (f *Facts) HasADOperator(e Expr) bool { return f.get(e).adOp }

func (f *Facts) get(e Expr) nodeFacts {
	switch e.(type) {
	case *Var, *Const, *Global:
		return nodeFacts{size: 1, total: f.Total(e)}
	}
	if nf, ok := f.m[e]; ok {
		return nf
	}
	nf := nodeFacts{size: 1, total: true}
	EachChild(e, func(_ int, k Expr) {
		kf := f.get(k)
		nf.size += kf.size
		nf.inplace += kf.inplace
		nf.total = nf.total && f.Total(k)
		nf.redex = nf.redex || kf.redex
		nf.adOp = nf.adOp || kf.adOp
	})
	switch e := e.(type) {
	case *PrimCall:
		if e.Op.InPlace() {
			nf.inplace++
		}
		nf.adOp = nf.adOp || e.Op.AD != NotAD
		nf.total = nf.total && totalPrim(e)
	case *Call:
		if _, ok := e.Fn.(*Lambda); ok {
			nf.redex = true
		}
		nf.total = false
	case *Loop:
		nf.total = false
	case *Lambda:
		nf.total = true
	}
	f.m[e] = nf
	return nf
}
