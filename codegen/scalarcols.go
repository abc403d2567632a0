// Scalar columns: a columnwise tail (columns.go) run as one loop over its
// columns whose body is straight-line scalar code.
//
// outlineColumns proves a tail columnwise: column i of every value it
// computes depends on column i of its inputs only, by the same operations
// in the same order. cb25 runs such a tail on blocks of columns, which
// still streams every intermediate through memory (one vector loop per
// operation). When, in addition, every index, count and condition in the
// tail is a constant once its counted loops are unrolled, its calls inlined
// and its 0/1 seeds folded, a column of every value is a fixed set of
// float64 numbers: a [c1]…[ck][p]f64 value is c1·…·ck scalars per column.
// scalarColumns then evaluates the tail symbolically at generation
// time, on one column, and emits the result as
//
//	for col := 0; col < n; col++ {
//		v0 := x_1[col]       // the inputs' elements of this column
//		v1 := x_1[col+1*n]
//		v2 := v0 * v1        // one statement per elementwise operation
//		...
//		o_9[col+3*n] = v7    // the results' elements of this column
//	}
//
// Each statement is the scalar expression the vector loop applies to
// each element (the rules of prims.go), on the same operands in the same
// order, so every result has the interpreter's bits. Rows, builds,
// concats, literals, slices, takes and drops along the leading axes
// (whose sizes dim and len give as constants), zeros_like,
// pad_like, acc_add and acc_add_at at constant indices only move or add
// scalars; ones(p), zeros(p) and fill(p, s) are a literal (or s) in every
// column. Statements whose value no result reads are dropped (BA's
// residuals themselves, which its Jacobian computes but does not return).
//
// Errors: a tail is scalarized only when nothing in it can fail once its
// indices are known (every index and slice bound is checked here, at
// generation time; no integer arithmetic is left for run time; the
// floating-point operations allowed cannot fail), so the loop cannot
// fail. What the general code could still fail on before the first
// operation (an argument whose shape is not its type's, a largest array
// too large) makes the wrapper call the general code on the whole
// columns, which fails as it would have. Where any construct is outside
// this (a run-time index, an integer operation on run-time values, a
// while loop, a primitive with no scalar rule, an accumulation of a
// one-hot value), the tail keeps cb25's blocks.
package codegen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// scKind is what a symbolic value of one column is.
type scKind int8

const (
	scF    scKind = iota // one float64: a Go atom (identifier or literal)
	scI                  // a constant int64
	scB                  // a constant bool
	scArr                // an array along a leading (constant) axis
	scTup                // a tuple
	scP                  // the column count p as a size (ones(p), zeros(p), fill(p, s))
	scNone               // a run-time integer or boolean: any use gives up
)

// scVal is a value of the tail restricted to one column.
type scVal struct {
	kind  scKind
	x     string // scF: the Go atom
	i     int64  // scI
	b     bool   // scB
	elems []*scVal
	// zero marks zeros_like's value and acc_add_at's into it (a one-hot
	// row): the interpreter adds such a value into an accumulator as a
	// one-hot update of the one row, not as an add of zeros, so it is
	// not scalarized as an accumulation's operand (see accValue).
	zero bool
}

// scBail stops scalarization: the tail keeps its blocked code.
type scBail struct{ why string }

// scStmt is one statement of the loop body: name := expr, reading the
// statements deps.
type scStmt struct {
	name, expr string
	deps       []int
}

// scalarizer evaluates a columnwise tail on one column.
type scalarizer struct {
	g     *gen
	env   map[*ir.Var]*scVal
	stmts []scStmt
	index map[string]int // statement name → its index in stmts
	depth int            // inlined calls, to stop a runaway expansion
	evals int            // expressions evaluated (scMaxEvals)
}

// scMaxStmts bounds the straight-line body: beyond it the unrolled code
// would be too large to keep in registers and cache anyway. scMaxEvals
// bounds the work of unrolling (loops that only move rows emit nothing).
const (
	scMaxStmts = 4000
	scMaxEvals = 200000
)

func (s *scalarizer) bail(format string, args ...any) {
	panic(scBail{fmt.Sprintf(format, args...)})
}

// emit adds name := expr, where expr reads the atoms ops, and returns the
// new value.
func (s *scalarizer) emit(expr string, ops []string) *scVal {
	if len(s.stmts) >= scMaxStmts {
		s.bail("more than %d statements", scMaxStmts)
	}
	name := "v" + strconv.Itoa(len(s.stmts))
	var deps []int
	for _, o := range ops {
		if k, ok := s.index[o]; ok {
			deps = append(deps, k)
		}
	}
	s.index[name] = len(s.stmts)
	s.stmts = append(s.stmts, scStmt{name: name, expr: expr, deps: deps})
	return &scVal{kind: scF, x: name}
}

// isLit reports whether a Go atom is a literal (a constant expression).
func isLit(x string) bool {
	return x != "" && (x[0] >= '0' && x[0] <= '9' || x[0] == '(' || strings.HasPrefix(x, "math."))
}

func litF(v float64) *scVal { return &scVal{kind: scF, x: constGo(v)} }

// zeroLike is zeros_like of v: +0 in every f64.
func (s *scalarizer) zeroLike(v *scVal) *scVal {
	switch v.kind {
	case scF:
		return litF(0)
	case scArr, scTup:
		out := &scVal{kind: v.kind}
		for _, e := range v.elems {
			out.elems = append(out.elems, s.zeroLike(e))
		}
		return out
	}
	s.bail("zeros_like of a non-f64 value")
	return nil
}

// eval evaluates e on one column.
func (s *scalarizer) eval(e ir.Expr) *scVal {
	if s.evals++; s.evals > scMaxEvals {
		s.bail("more than %d expressions to unroll", scMaxEvals)
	}
	switch e := e.(type) {
	case *ir.Const:
		switch c := e.Val.(type) {
		case float64:
			return litF(c)
		case int64:
			return &scVal{kind: scI, i: c}
		case bool:
			return &scVal{kind: scB, b: c}
		}
	case *ir.Var:
		if v := s.env[e]; v != nil {
			return v
		}
		s.bail("variable %s has no column value", e.Name)
	case *ir.Let:
		for {
			s.env[e.Var] = s.eval(e.Value)
			next, ok := e.Body.(*ir.Let)
			if !ok {
				return s.eval(e.Body)
			}
			e = next
		}
	case *ir.MakeTuple:
		out := &scVal{kind: scTup}
		for _, x := range e.Elems {
			out.elems = append(out.elems, s.eval(x))
		}
		return out
	case *ir.Proj:
		t := s.eval(e.X)
		if t.kind != scTup || e.Index >= len(t.elems) {
			s.bail("projection of a non-tuple")
		}
		return t.elems[e.Index]
	case *ir.If:
		c := s.eval(e.Cond)
		if c.kind != scB {
			s.bail("a condition not known at generation time")
		}
		if c.b {
			return s.eval(e.Then)
		}
		return s.eval(e.Else)
	case *ir.Loop:
		if e.Count == nil || e.Index == nil {
			s.bail("a while loop")
		}
		n := s.eval(e.Count)
		if n.kind != scI || n.i < 0 || n.i > 4096 {
			// (A negative count is left to the general code, whatever
			// it makes of it.)
			s.bail("a loop count not known at generation time")
		}
		st := s.eval(e.Init)
		for i := range n.i {
			s.env[e.State] = st
			s.env[e.Index] = &scVal{kind: scI, i: i}
			st = s.eval(e.Body)
		}
		return st
	case *ir.Call:
		return s.call(e)
	case *ir.PrimCall:
		return s.prim(e)
	}
	s.bail("%T has no scalar form", e)
	return nil
}

// call inlines a call of a def: its body on the arguments' columns.
func (s *scalarizer) call(e *ir.Call) *scVal {
	gl, ok := e.Fn.(*ir.Global)
	if !ok {
		s.bail("a call of a function value")
	}
	di := s.g.defs[gl.Name]
	if di == nil || !di.def.HasParams || len(di.def.Params) != len(e.Args) {
		s.bail("a call of %s", gl.Name)
	}
	if s.depth > 32 {
		s.bail("calls nested too deep")
	}
	args := make([]*scVal, len(e.Args))
	for i, a := range e.Args {
		args[i] = s.eval(a)
	}
	d := di.def
	for i, p := range d.Params {
		s.env[p] = args[i]
	}
	// The callee's size variables: the proof (colDefs.prove) allows only
	// its columns' count.
	for _, sv := range d.SizeVars {
		s.env[sv.Var] = &scVal{kind: scP}
	}
	s.depth++
	r := s.eval(d.Body)
	s.depth--
	return r
}

// prim evaluates a primitive call on one column.
func (s *scalarizer) prim(e *ir.PrimCall) *scVal {
	if e.Op.Elementwise {
		return s.elementwise(e)
	}
	switch e.Op {
	case ir.PrimIndex:
		a, i := s.eval(e.Args[0]), s.eval(e.Args[1])
		if a.kind != scArr || i.kind != scI || i.i < 0 || i.i >= int64(len(a.elems)) {
			s.bail("an index not known to be in range")
		}
		return a.elems[i.i]
	case ir.PrimSlice:
		a, lo, hi := s.eval(e.Args[0]), s.eval(e.Args[1]), s.eval(e.Args[2])
		if a.kind != scArr || lo.kind != scI || hi.kind != scI || lo.i < 0 || lo.i > hi.i || hi.i > int64(len(a.elems)) {
			s.bail("a slice not known to be in range")
		}
		return &scVal{kind: scArr, elems: a.elems[lo.i:hi.i]}
	case ir.PrimTake, ir.PrimDrop:
		a, k := s.eval(e.Args[0]), s.eval(e.Args[1])
		if a.kind != scArr || k.kind != scI || k.i < 0 || k.i > int64(len(a.elems)) {
			s.bail("a %s not known to be in range", e.Op.Name)
		}
		if e.Op == ir.PrimTake {
			return &scVal{kind: scArr, elems: a.elems[:k.i]}
		}
		return &scVal{kind: scArr, elems: a.elems[k.i:]}
	case ir.PrimDim, ir.PrimLen:
		// A leading axis's size is its row count; the last is the columns'.
		axis, _ := e.Aux.(int)
		if e.Op == ir.PrimLen {
			axis = 0
		}
		a := s.eval(e.Args[0])
		for range axis {
			if a.kind != scArr || len(a.elems) == 0 {
				s.bail("a size not known at generation time")
			}
			a = a.elems[0]
		}
		switch a.kind {
		case scArr:
			return &scVal{kind: scI, i: int64(len(a.elems))}
		case scF:
			return &scVal{kind: scP}
		}
		s.bail("a size not known at generation time")
	case ir.PrimArray:
		out := &scVal{kind: scArr}
		for _, x := range e.Args {
			out.elems = append(out.elems, s.eval(x))
		}
		return out
	case ir.PrimBuild:
		n := s.eval(e.Args[0])
		lam, ok := e.Args[1].(*ir.Lambda)
		if n.kind != scI || n.i < 0 || n.i > 4096 || !ok || len(lam.Params) != 1 {
			s.bail("a build not known at generation time")
		}
		out := &scVal{kind: scArr}
		for i := range n.i {
			s.env[lam.Params[0]] = &scVal{kind: scI, i: i}
			out.elems = append(out.elems, s.eval(lam.Body))
		}
		return out
	case ir.PrimFill:
		n, v := s.eval(e.Args[0]), s.eval(e.Args[1])
		switch {
		case n.kind == scP && v.kind == scF:
			return v // a column of v
		case n.kind == scI && n.i >= 0 && n.i <= 4096:
			out := &scVal{kind: scArr}
			for range n.i {
				out.elems = append(out.elems, v)
			}
			return out
		}
		s.bail("a fill not known at generation time")
	case ir.PrimOnes, ir.PrimZeros:
		if len(e.Args) != 1 || s.eval(e.Args[0]).kind != scP {
			s.bail("%s of another size than the columns'", e.Op.Name)
		}
		if e.Op == ir.PrimOnes {
			return litF(1)
		}
		return litF(0)
	case ir.PrimZerosLike:
		z := s.zeroLike(s.eval(e.Args[0]))
		z.zero = true
		return z
	case ir.PrimAccAdd:
		// acc += v, element by element: acc's element first, as AddTo.
		a := s.eval(e.Args[0])
		if pad := padArg(e.Args[1]); pad != nil {
			return s.addPad(a, pad)
		}
		return s.add(a, s.accValue(e.Args[1]))
	case ir.PrimAccAddAt:
		a, i := s.eval(e.Args[0]), s.eval(e.Args[1])
		if a.kind != scArr || i.kind != scI || i.i < 0 || i.i >= int64(len(a.elems)) {
			s.bail("an acc_add_at index not known to be in range")
		}
		out := &scVal{kind: scArr, elems: append([]*scVal(nil), a.elems...), zero: a.zero}
		if pad := padArg(e.Args[2]); pad != nil {
			out.elems[i.i] = s.addPad(a.elems[i.i], pad)
		} else {
			out.elems[i.i] = s.add(a.elems[i.i], s.accValue(e.Args[2]))
		}
		return out
	case ir.PrimPadLike:
		v, lo, like := s.eval(e.Args[0]), s.eval(e.Args[1]), s.eval(e.Args[2])
		if v.kind != scArr || like.kind != scArr || lo.kind != scI || lo.i < 0 || lo.i+int64(len(v.elems)) > int64(len(like.elems)) {
			s.bail("a pad_like not known to be in range")
		}
		out := s.zeroLike(like)
		for k, r := range v.elems {
			if !sameShape(r, like.elems[int(lo.i)+k]) {
				s.bail("pad_like rows of another shape")
			}
			out.elems[int(lo.i)+k] = r // copied, not added: a fresh zero around them
		}
		return out
	case ir.PrimConcat:
		a, b := s.eval(e.Args[0]), s.eval(e.Args[1])
		if a.kind != scArr || b.kind != scArr {
			s.bail("a concat of non-arrays")
		}
		if len(a.elems) > 0 && len(b.elems) > 0 && !sameShape(a.elems[0], b.elems[0]) {
			s.bail("a concat of rows of different shapes")
		}
		return &scVal{kind: scArr, elems: append(append([]*scVal(nil), a.elems...), b.elems...)}
	}
	s.bail("primitive %s has no scalar form", e.Op.Name)
	return nil
}

// accValue evaluates the value an accumulation adds. A zero or one-hot
// value gives up: the interpreter (and the general code) add a one-hot
// chain acc_add_at(g, i, acc_add_at(zeros_like(r), j, v)), nested or
// through lets, as g[i][j] += v alone, which differs from adding the
// zeros in the sign of zero.
func (s *scalarizer) accValue(e ir.Expr) *scVal {
	v := s.eval(e)
	if v.zero {
		s.bail("an accumulation of a zero or one-hot value")
	}
	return v
}

// padArg is e when it is pad_like(v, lo, like) of an f64 array: an
// accumulation of it adds v into rows lo.. and leaves the other rows as
// they are (the interpreter's and the general code's reading), where
// adding the zeros around v would turn -0 into +0.
func padArg(e ir.Expr) *ir.PrimCall {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimPadLike || len(pc.Args) != 3 || ir.Rank(pc.T) == 0 {
		return nil
	}
	if k, ok := ir.Leaf(pc.T); !ok || k != ir.F64 {
		return nil
	}
	return pc
}

// addPad is acc_add(acc, pad) for pad a pad_like of padArg: v added into
// rows lo.. of acc.
func (s *scalarizer) addPad(acc *scVal, pad *ir.PrimCall) *scVal {
	v, lo, like := s.eval(pad.Args[0]), s.eval(pad.Args[1]), s.eval(pad.Args[2])
	if v.kind != scArr || like.kind != scArr || lo.kind != scI || lo.i < 0 || lo.i+int64(len(v.elems)) > int64(len(like.elems)) || v.zero {
		s.bail("a pad_like not known to be in range")
	}
	if !sameShape(acc, like) {
		s.bail("an accumulation of another shape")
	}
	out := &scVal{kind: scArr, elems: append([]*scVal(nil), acc.elems...)}
	for k, r := range v.elems {
		at := int(lo.i) + k
		if !sameShape(r, like.elems[at]) {
			s.bail("pad_like rows of another shape")
		}
		out.elems[at] = s.add(acc.elems[at], r)
	}
	return out
}

// sameShape reports whether a and b have the same structure.
func sameShape(a, b *scVal) bool {
	if a.kind != b.kind || len(a.elems) != len(b.elems) {
		return false
	}
	for i := range a.elems {
		if !sameShape(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// add is acc_add's acc + v on every element (v an array of acc's shape
// or one f64).
func (s *scalarizer) add(acc, v *scVal) *scVal {
	r := rules[ir.PrimAdd]
	return s.lift(acc, v, func(a, b *scVal) *scVal { return s.binF(r, a.x, b.x) })
}

// lift applies op to the f64 elements of a and b, a single f64 standing
// for every element of the other's shape.
func (s *scalarizer) lift(a, b *scVal, op func(a, b *scVal) *scVal) *scVal {
	switch {
	case a.kind == scF && b.kind == scF:
		return op(a, b)
	case a.kind == scArr && b.kind == scArr:
		if len(a.elems) != len(b.elems) {
			s.bail("elementwise operands of different shapes")
		}
		out := &scVal{kind: scArr}
		for i := range a.elems {
			out.elems = append(out.elems, s.lift(a.elems[i], b.elems[i], op))
		}
		return out
	case a.kind == scArr && b.kind == scF:
		out := &scVal{kind: scArr}
		for _, x := range a.elems {
			out.elems = append(out.elems, s.lift(x, b, op))
		}
		return out
	case a.kind == scF && b.kind == scArr:
		out := &scVal{kind: scArr}
		for _, x := range b.elems {
			out.elems = append(out.elems, s.lift(a, x, op))
		}
		return out
	}
	s.bail("elementwise operands that are not f64 arrays")
	return nil
}

// binF emits a two-operand f64 rule. Two literals would make a Go
// constant expression, computed exactly rather than in float64: the
// first is bound to a variable first.
func (s *scalarizer) binF(r *rule, a, b string) *scVal {
	if isLit(a) && isLit(b) {
		a = s.emit(a, nil).x
	}
	return s.emit(r.F([]string{a, b}), []string{a, b})
}

// elementwise evaluates an elementwise primitive: on constant integers
// and booleans at generation time, on f64 columns as one statement per
// element.
func (s *scalarizer) elementwise(e *ir.PrimCall) *scVal {
	args := make([]*scVal, len(e.Args))
	for i, a := range e.Args {
		args[i] = s.eval(a)
	}
	k, ok1 := ir.Leaf(e.Args[0].Type())
	rk, ok2 := ir.Leaf(e.T)
	if !ok1 || !ok2 {
		s.bail("%s on non-scalar elements", e.Op.Name)
	}
	if k != ir.F64 {
		for _, a := range args {
			if a.kind != scI && a.kind != scB {
				s.bail("%s on run-time integers or booleans", e.Op.Name)
			}
		}
		return s.constOp(e, args)
	}
	if rk != ir.F64 {
		s.bail("%s gives no f64", e.Op.Name)
	}
	r := rules[e.Op]
	if r == nil || r.F == nil || r.FErr {
		s.bail("%s has no f64 rule that cannot fail", e.Op.Name)
	}
	switch len(args) {
	case 1:
		var one func(a *scVal) *scVal
		one = func(a *scVal) *scVal {
			switch a.kind {
			case scF:
				x := a.x
				if isLit(x) && e.Op != ir.PrimNeg {
					x = s.emit(x, nil).x // math.Sqrt(2.0) is fine, but keep one form
				}
				return s.emit(r.F([]string{x}), []string{x})
			case scArr:
				out := &scVal{kind: scArr}
				for _, y := range a.elems {
					out.elems = append(out.elems, one(y))
				}
				return out
			}
			s.bail("%s of a non-f64 value", e.Op.Name)
			return nil
		}
		return one(args[0])
	case 2:
		return s.lift(args[0], args[1], func(a, b *scVal) *scVal { return s.binF(r, a.x, b.x) })
	}
	s.bail("%s with %d operands", e.Op.Name, len(args))
	return nil
}

// constOp computes an integer or boolean primitive on constants, as the
// generated code would at run time; where that could fail (a division by
// zero, an overflow) it gives up.
func (s *scalarizer) constOp(e *ir.PrimCall, args []*scVal) *scVal {
	I := func(v int64) *scVal { return &scVal{kind: scI, i: v} }
	B := func(v bool) *scVal { return &scVal{kind: scB, b: v} }
	if len(args) == 1 {
		a := args[0]
		switch {
		case e.Op == ir.PrimNeg && a.kind == scI && a.i != math.MinInt64:
			return I(-a.i)
		case e.Op == ir.PrimNot && a.kind == scB:
			return B(!a.b)
		case e.Op == ir.PrimToF64 && a.kind == scI:
			return litF(float64(a.i))
		}
		s.bail("%s on a constant", e.Op.Name)
	}
	if len(args) != 2 || args[0].kind != args[1].kind {
		s.bail("%s on constants", e.Op.Name)
	}
	a, b := args[0], args[1]
	if a.kind == scB {
		switch e.Op {
		case ir.PrimAnd:
			return B(a.b && b.b)
		case ir.PrimOr:
			return B(a.b || b.b)
		case ir.PrimEq:
			return B(a.b == b.b)
		case ir.PrimNe:
			return B(a.b != b.b)
		}
		s.bail("%s on booleans", e.Op.Name)
	}
	x, y := a.i, b.i
	switch e.Op {
	case ir.PrimAdd:
		if r := x + y; (r > x) == (y > 0) {
			return I(r)
		}
	case ir.PrimSub:
		if r := x - y; (r < x) == (y > 0) {
			return I(r)
		}
	case ir.PrimMul:
		if x == 0 || y == 0 {
			return I(0)
		}
		if r := x * y; r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
			return I(r)
		}
	case ir.PrimEq:
		return B(x == y)
	case ir.PrimNe:
		return B(x != y)
	case ir.PrimLt:
		return B(x < y)
	case ir.PrimLe:
		return B(x <= y)
	case ir.PrimGt:
		return B(x > y)
	case ir.PrimGe:
		return B(x >= y)
	case ir.PrimMin:
		return I(min(x, y))
	case ir.PrimMax:
		return I(max(x, y))
	}
	s.bail("%s on the constants %d and %d", e.Op.Name, x, y)
	return nil
}

// scIO is one input or output leaf of the scalar loop: a Go slice holding
// rows×n elements, row-major, column col of row r at col+r*n.
type scIO struct {
	data string
	rows int64
}

// input is the value, on column col, of an argument of type t whose
// leaves start at leaves[base]: its elements loaded from their slices.
func (s *scalarizer) input(t ir.Type, sym string, leaves []scIO, base int, row int64, scalars []string) *scVal {
	switch t := t.(type) {
	case ir.Scalar:
		// A scalar argument: the same in every column.
		if t.Kind == ir.F64 && scalars[base] != "" {
			return &scVal{kind: scF, x: scalars[base]}
		}
		return &scVal{kind: scNone}
	case *ir.Array:
		if sc, ok := t.Elem.(ir.Scalar); ok && t.Dim.Sym == sym {
			io := leaves[base]
			if sc.Kind != ir.F64 || io.data == "" {
				s.bail("a column of %s", scalarGo(sc.Kind))
			}
			at := "col"
			if row > 0 {
				at = fmt.Sprintf("col+%d*n", row)
			}
			return s.emit(fmt.Sprintf("%s[%s]", io.data, at), nil)
		}
		if !t.Dim.Known() || t.Dim.N > 4096 {
			s.bail("a leading dimension not known")
		}
		out := &scVal{kind: scArr}
		for i := range t.Dim.N {
			out.elems = append(out.elems, s.input(t.Elem, sym, leaves, base, row*t.Dim.N+i, scalars))
		}
		return out
	case *ir.Tuple:
		out := &scVal{kind: scTup}
		for _, e := range t.Elems {
			out.elems = append(out.elems, s.input(e, sym, leaves, base, row, scalars))
			base += len(mustLeaves(e))
		}
		return out
	}
	s.bail("an argument of type %s", t)
	return nil
}

// output appends the stores of v, of type t, into the result leaves
// starting at leaves[base].
func (s *scalarizer) output(v *scVal, t ir.Type, sym string, leaves []scIO, base int, row int64, stores *[]string) {
	switch t := t.(type) {
	case *ir.Array:
		if _, ok := t.Elem.(ir.Scalar); ok && t.Dim.Sym == sym {
			if v.kind != scF {
				s.bail("a result column that is not one f64")
			}
			at := "col"
			if row > 0 {
				at = fmt.Sprintf("col+%d*n", row)
			}
			*stores = append(*stores, fmt.Sprintf("%s[%s] = %s", leaves[base].data, at, v.x))
			return
		}
		if v.kind != scArr || !t.Dim.Known() || int64(len(v.elems)) != t.Dim.N {
			s.bail("a result of another shape than its type's")
		}
		for i, e := range v.elems {
			s.output(e, t.Elem, sym, leaves, base, row*t.Dim.N+int64(i), stores)
		}
		return
	case *ir.Tuple:
		if v.kind != scTup || len(v.elems) != len(t.Elems) {
			s.bail("a result of another shape than its type's")
		}
		for i, e := range t.Elems {
			s.output(v.elems[i], e, sym, leaves, base, row, stores)
			base += len(mustLeaves(e))
		}
		return
	}
	s.bail("a result of type %s", t)
}

// live lists the statements the stores read, directly or not, in order.
func (s *scalarizer) live(outs []string) []scStmt {
	keep := make([]bool, len(s.stmts))
	var mark func(k int)
	mark = func(k int) {
		if keep[k] {
			return
		}
		keep[k] = true
		for _, d := range s.stmts[k].deps {
			mark(d)
		}
	}
	for _, o := range outs {
		if k, ok := s.index[o]; ok {
			mark(k)
		}
	}
	var out []scStmt
	for k, st := range s.stmts {
		if keep[k] {
			out = append(out, st)
		}
	}
	return out
}

// emitScalarColumns writes the function through which calls of di, a
// def outlineColumns made, go, NAME_cols, as one loop over the columns
// (see the file comment); it reports false, writing nothing, when di's
// body cannot be scalarized.
func (g *gen) emitScalarColumns(di *defInfo) (ok bool) {
	if g.opts.noScalarCols {
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(scBail); !isBail {
				panic(r)
			}
			ok = false
		}
	}()
	code := g.scalarColumns(di)
	g.body.WriteString(code)
	g.scalar[di.def.Name] = true
	return true
}

// scalarColumns is emitScalarColumns's function, or a bail.
func (g *gen) scalarColumns(di *defInfo) string {
	d := di.def
	sym := lastSym(di.result)
	s := &scalarizer{g: g, env: map[*ir.Var]*scVal{}, index: map[string]int{}}
	// The signature: the general function's, leaf by leaf. The checks
	// send an argument whose shape is not its type's to the general code.
	var sig, all, conds []string
	colsOf := ""
	k := 0
	fresh := func(p string) string { k++; return fmt.Sprintf("%s_%d", p, k) }
	for i, t := range di.params {
		var ins []scIO
		var scalars []string
		lds := leafDims(t)
		for j, l := range mustLeaves(t) {
			if l.rank == 0 {
				a := fresh("s")
				sig = append(sig, a+" "+scalarGo(l.kind))
				all = append(all, a)
				ins = append(ins, scIO{})
				if l.kind == ir.F64 {
					scalars = append(scalars, a)
				} else {
					scalars = append(scalars, "")
				}
				continue
			}
			data := fresh("x")
			sig = append(sig, data+" "+elemSlice(l.kind))
			all = append(all, data)
			rows := int64(1)
			for r := range l.rank {
				dm := fresh("d")
				sig = append(sig, dm+" int")
				all = append(all, dm)
				if r == l.rank-1 {
					if colsOf == "" {
						colsOf = dm
					} else {
						conds = append(conds, dm+" != n")
					}
					continue
				}
				if !lds[j][r].Known() {
					s.bail("an argument's dimension not known")
				}
				conds = append(conds, fmt.Sprintf("%s != %d", dm, lds[j][r].N))
				rows *= lds[j][r].N
			}
			ins = append(ins, scIO{data: data, rows: rows})
			scalars = append(scalars, "")
		}
		s.env[d.Params[i]] = s.input(t, sym, ins, 0, 0, scalars)
	}
	if colsOf == "" {
		s.bail("no columnwise argument")
	}
	for _, sv := range d.SizeVars {
		s.env[sv.Var] = &scVal{kind: scP}
	}
	res := s.eval(d.Body)
	// The results: each leaf a rows×n array.
	var outs []scIO
	var rets, pre, stores []string
	for _, dims := range leafDims(di.result) {
		rows := int64(1)
		for _, dm := range dims[:len(dims)-1] {
			rows *= dm.N
		}
		o := fresh("o")
		outs = append(outs, scIO{data: o, rows: rows})
		pre = append(pre, fmt.Sprintf("%s := ar.F64w(%d * n)", o, rows))
		rets = append(rets, o)
		for _, dm := range dims[:len(dims)-1] {
			rets = append(rets, fmt.Sprint(dm.N))
		}
		rets = append(rets, "n")
	}
	s.output(res, di.result, sym, outs, 0, 0, &stores)
	var read []string
	for _, st := range stores {
		read = append(read, st[strings.LastIndex(st, " ")+1:])
	}
	body := s.live(read)

	whole := fmt.Sprintf("%s(ar, %s)", di.goName, strings.Join(all, ", "))
	rt := strings.Join(partTypes(di.result), ", ")
	if di.fails {
		rt += ", error"
		rets = append(rets, "nil")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s_cols is %s as one loop over the columns, each column's values in scalars (codegen/scalarcols.go).\n", di.goName, di.goName)
	fmt.Fprintf(&b, "func %s_cols(ar *runtime.Arena, %s) (%s) {\n", di.goName, strings.Join(sig, ", "), rt)
	fmt.Fprintf(&b, "n := %s\n", colsOf)
	// What the general code could fail on before computing anything
	// makes it run on the whole columns, and fail as it does.
	if len(conds) > 0 {
		fmt.Fprintf(&b, "if %s {\nreturn %s\n}\n", strings.Join(conds, " || "), whole)
	}
	fmt.Fprintf(&b, "if _, err := runtime.MulSize(%d, n); err != nil {\nreturn %s\n}\n", g.colMaxRows(d, map[*ir.Def]bool{}), whole)
	for _, l := range pre {
		b.WriteString(l + "\n")
	}
	b.WriteString("for col := 0; col < n; col++ {\n")
	for _, st := range body {
		fmt.Fprintf(&b, "%s := %s\n", st.name, st.expr)
	}
	for _, st := range stores {
		b.WriteString(st + "\n")
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "return %s\n}\n\n", strings.Join(rets, ", "))
	return b.String()
}
