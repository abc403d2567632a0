package nabla

import (
	"fmt"
	"unsafe"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

// The fast path of Func.Call and Func.CallInto. Each call takes a
// callState from its Func's pool: the argument values, and array headers
// that view the caller's slices instead of copying them. A warm call
// therefore allocates nothing for its arguments, and CallInto nothing for
// its result when the program can build it in the destination (the
// interpreter's Offer) or copies it there from recycled storage.

// callState is the scratch space of one call, reused by later calls of
// the same Func once the call has returned and forgotten the caller's
// memory (release).
type callState struct {
	vals    []runtime.Value
	views   []view
	out     view
	scratch []float64 // offered for a result whose destination is not flat ([][]float64)
}

// view is an array header over a caller's slice, with room for its shape.
type view struct {
	a     runtime.Array
	shape [4]int
}

func (f *Func) getState() *callState {
	if st, ok := f.states.Get().(*callState); ok {
		return st
	}
	return &callState{vals: make([]runtime.Value, len(f.params)), views: make([]view, len(f.params))}
}

// release forgets every reference to the caller's memory and pools st.
func (f *Func) release(st *callState) {
	clear(st.vals)
	for i := range st.views {
		st.views[i].a = runtime.Array{}
	}
	st.out.a = runtime.Array{}
	f.states.Put(st)
}

// flat makes v an empty header of the kind and shape (of rank at most
// len(v.shape)), for the caller to point at storage.
func (v *view) flat(kind runtime.Elem, shape ...int) *runtime.Array {
	n := copy(v.shape[:], shape)
	v.a = runtime.Array{Shape: v.shape[:n:n], Kind: kind}
	return &v.a
}

// viewOf returns x as an array of type t read in place, or nil when x is
// not a slice or gonum value that can be viewed (it is then converted,
// and its errors reported, by toValue).
func (v *view) viewOf(t ir.Type, x any) *runtime.Array {
	at, ok := t.(*ir.Array)
	if !ok {
		return nil
	}
	fits := func(n int) bool { return !at.Dim.Known() || at.Dim.N == int64(n) }
	switch x := x.(type) {
	case []float64:
		if at.Elem == ir.TF64 && fits(len(x)) {
			a := v.flat(runtime.ElemF64, len(x))
			a.F = x
			return a
		}
	case []int64:
		if at.Elem == ir.TI64 && fits(len(x)) {
			a := v.flat(runtime.ElemI64, len(x))
			a.I = x
			return a
		}
	case []bool:
		if at.Elem == ir.TBool && fits(len(x)) {
			a := v.flat(runtime.ElemBool, len(x))
			a.B = x
			return a
		}
	case *mat.VecDense:
		if x == nil || at.Elem != ir.TF64 || x.IsEmpty() {
			return nil
		}
		if raw := x.RawVector(); raw.Inc == 1 && fits(raw.N) {
			a := v.flat(runtime.ElemF64, raw.N)
			a.F = raw.Data[:raw.N]
			return a
		}
	case *mat.Dense:
		row, isMat := at.Elem.(*ir.Array)
		if x == nil || !isMat || row.Elem != ir.TF64 || x.IsEmpty() {
			return nil
		}
		raw := x.RawMatrix()
		if raw.Stride == raw.Cols && fits(raw.Rows) && (!row.Dim.Known() || row.Dim.N == int64(raw.Cols)) {
			a := v.flat(runtime.ElemF64, raw.Rows, raw.Cols)
			a.F = raw.Data[:raw.Rows*raw.Cols]
			return a
		}
	}
	return nil
}

// args converts the Go arguments into st.vals.
func (f *Func) args(st *callState, args []any) error {
	for i, x := range args {
		t := f.params[i]
		if fx, ok := x.(float64); ok && isF64(t) {
			st.vals[i] = runtime.F64(fx)
			continue
		}
		if f.views {
			if a := st.views[i].viewOf(t, x); a != nil {
				st.vals[i] = runtime.Arr(a)
				continue
			}
		}
		v, err := toValue(t, x)
		if err != nil {
			return f.argError(i, err)
		}
		st.vals[i] = v
	}
	return nil
}

// isF64 is t == ir.TF64 without comparing interfaces.
func isF64(t ir.Type) bool {
	s, ok := t.(ir.Scalar)
	return ok && s.Kind == ir.F64
}

// hasFunc reports whether values of t can hold a function: a result that
// can may capture an argument, which must then be a copy (the caller is
// free to change its slices once the call returns).
func hasFunc(t ir.Type) bool {
	switch t := t.(type) {
	case *ir.Func:
		return true
	case *ir.Array:
		return hasFunc(t.Elem)
	case *ir.Tuple:
		for _, e := range t.Elems {
			if hasFunc(e) {
				return true
			}
		}
		return false
	case ir.Scalar:
		return false
	}
	return true // an unknown type: be safe
}

// offer returns the array whose storage dst provides for a result of type
// t, to be offered to the interpreter, or nil if dst is not one flat
// buffer of that type.
func (st *callState) offer(t ir.Type, dst any) *runtime.Array {
	at, ok := t.(*ir.Array)
	if !ok {
		return nil
	}
	switch d := dst.(type) {
	case []float64:
		if at.Elem == ir.TF64 {
			a := st.out.flat(runtime.ElemF64, len(d))
			a.F = d
			return a
		}
	case []int64:
		if at.Elem == ir.TI64 {
			a := st.out.flat(runtime.ElemI64, len(d))
			a.I = d
			return a
		}
	case []bool:
		if at.Elem == ir.TBool {
			a := st.out.flat(runtime.ElemBool, len(d))
			a.B = d
			return a
		}
	case *mat.VecDense:
		if d != nil && !d.IsEmpty() && at.Elem == ir.TF64 {
			if raw := d.RawVector(); raw.Inc == 1 {
				a := st.out.flat(runtime.ElemF64, raw.N)
				a.F = raw.Data[:raw.N]
				return a
			}
		}
	case *mat.Dense:
		if d != nil && !d.IsEmpty() && ir.Rank(t) == 2 && at.Elem.(*ir.Array).Elem == ir.TF64 {
			if raw := d.RawMatrix(); raw.Stride == raw.Cols {
				a := st.out.flat(runtime.ElemF64, raw.Rows, raw.Cols)
				a.F = raw.Data[:raw.Rows*raw.Cols]
				return a
			}
		}
	case [][]float64:
		// Rows apart in memory: the result is built in scratch space of
		// the call state, kept from call to call, and copied row by row.
		if len(d) > 0 && ir.Rank(t) == 2 && at.Elem.(*ir.Array).Elem == ir.TF64 {
			m, n := len(d), len(d[0])
			if cap(st.scratch) < m*n {
				st.scratch = make([]float64, m*n)
			}
			a := st.out.flat(runtime.ElemF64, m, n)
			a.F = st.scratch[:m*n]
			return a
		}
	case *runtime.Array:
		// Its own storage, under a header of ours: the interpreter may
		// give an offered header another shape.
		k, ok := ir.Leaf(t)
		if !ok || d == nil || d.Rank() != ir.Rank(t) || d.Kind != kindOf(k) {
			return nil
		}
		size := runtime.Size(d.Shape)
		a := st.out.flat(d.Kind, size)
		if d.Rank() <= len(st.out.shape) {
			a = st.out.flat(d.Kind, d.Shape...) // the result's shape: no new shape for it
		}
		switch {
		case d.Kind == runtime.ElemF64 && len(d.F) >= size:
			a.F = d.F[:size]
		case d.Kind == runtime.ElemI64 && len(d.I) >= size:
			a.I = d.I[:size]
		case d.Kind == runtime.ElemBool && len(d.B) >= size:
			a.B = d.B[:size]
		default:
			return nil
		}
		return a
	}
	return nil
}

// kindOf is the element kind of arrays of scalars of kind k.
func kindOf(k ir.ScalarKind) runtime.Elem {
	switch k {
	case ir.I64:
		return runtime.ElemI64
	case ir.Bool:
		return runtime.ElemBool
	}
	return runtime.ElemF64
}

// destError is a destination that does not fit the result; path says
// where inside a tuple.
func destError(t ir.Type, dst any, path, why string) error {
	msg := fmt.Sprintf("want %s for %s, got %s", destType(t), t, goTypeName(dst))
	if why != "" {
		msg += " " + why
	}
	return &convError{path: path, msg: msg}
}

// destType names the destinations CallInto takes for a result of type
// t.
func destType(t ir.Type) string {
	switch t := t.(type) {
	case ir.Scalar:
		return "*" + goType(t).String()
	case *ir.Array:
		k, ok := ir.Leaf(t)
		switch {
		case ok && k == ir.F64 && ir.Rank(t) == 1:
			return "[]float64 or *mat.VecDense"
		case ok && k == ir.F64 && ir.Rank(t) == 2:
			return "[][]float64 or *mat.Dense"
		case ok && ir.Rank(t) == 1:
			return goType(t).String() + " or *runtime.Array"
		}
		return "*runtime.Array"
	case *ir.Tuple:
		return "[]any"
	}
	return "a destination (a function result cannot be written into one)"
}

// nilDest reports a destination that cannot be written: nil, or a nil
// pointer. The common destinations are told apart without reflection.
func nilDest(dst any) bool {
	switch d := dst.(type) {
	case nil:
		return true
	case []float64, []int64, []bool, [][]float64, []any:
		return false // a nil slice is an empty destination
	case *float64:
		return d == nil
	case *mat.VecDense:
		return d == nil
	}
	return isNilPointer(dst)
}

// writeResult writes v, a value of type t, into dst.
func writeResult(t ir.Type, dst any, v runtime.Value, path string) error {
	if nilDest(dst) {
		return destError(t, dst, path, "")
	}
	switch t := t.(type) {
	case ir.Scalar:
		switch d := dst.(type) {
		case *float64:
			if t.Kind == ir.F64 {
				*d = v.F
				return nil
			}
		case *int64:
			if t.Kind == ir.I64 {
				*d = v.I
				return nil
			}
		case *bool:
			if t.Kind == ir.Bool {
				*d = v.AsBool()
				return nil
			}
		}
	case *ir.Tuple:
		d, ok := dst.([]any)
		if !ok {
			break
		}
		if len(d) != len(t.Elems) {
			return destError(t, dst, path, fmt.Sprintf("of length %d", len(d)))
		}
		for i, e := range v.Tuple() {
			if err := writeResult(t.Elems[i], d[i], e, fmt.Sprintf("%s.%d", path, i)); err != nil {
				return err
			}
		}
		return nil
	case *ir.Array:
		if done, err := writeArray(t, dst, v.Array(), path); done {
			return err
		}
	}
	return destError(t, dst, path, "")
}

// writeArray copies a into dst; done is false when dst's type does not
// suit t at all.
func writeArray(t *ir.Array, dst any, a *runtime.Array, path string) (done bool, err error) {
	shapeErr := func(got string) error {
		return destError(t, dst, path, fmt.Sprintf("of %s; the result has shape %s", got, runtime.ShapeString(a.Shape)))
	}
	lenErr := func(n int) error { return shapeErr(fmt.Sprintf("length %d", n)) }
	rank := ir.Rank(t)
	switch d := dst.(type) {
	case []float64:
		return writeFlat(t.Elem == ir.TF64, d, a.F, a.Len(), lenErr)
	case []int64:
		return writeFlat(t.Elem == ir.TI64, d, a.I, a.Len(), lenErr)
	case []bool:
		return writeFlat(t.Elem == ir.TBool, d, a.B, a.Len(), lenErr)
	case [][]float64:
		if rank != 2 || t.Elem.(*ir.Array).Elem != ir.TF64 {
			return false, nil
		}
		m, n := a.Shape[0], a.Shape[1]
		if len(d) != m {
			return true, lenErr(len(d))
		}
		for i, row := range d {
			if len(row) != n {
				return true, destError(t, dst, path, fmt.Sprintf("whose row %d has length %d; the result has shape %s", i, len(row), runtime.ShapeString(a.Shape)))
			}
		}
		for i, row := range d {
			copyIfApart(row, a.F[i*n:(i+1)*n])
		}
		return true, nil
	case *mat.VecDense:
		if t.Elem != ir.TF64 {
			return false, nil
		}
		if d.IsEmpty() {
			if a.Len() == 0 {
				return true, nil
			}
			d.ReuseAsVec(a.Len()) // gonum's convention: an empty receiver takes the result's size
		}
		if d.Len() != a.Len() {
			return true, lenErr(d.Len())
		}
		raw := d.RawVector()
		if raw.Inc == 1 {
			copyIfApart(raw.Data[:raw.N], a.F)
			return true, nil
		}
		for i, x := range a.F[:a.Len()] {
			raw.Data[i*raw.Inc] = x
		}
		return true, nil
	case *mat.Dense:
		if rank != 2 || t.Elem.(*ir.Array).Elem != ir.TF64 {
			return false, nil
		}
		m, n := a.Shape[0], a.Shape[1]
		if d.IsEmpty() {
			if m*n == 0 {
				return true, nil
			}
			d.ReuseAs(m, n)
		}
		if r, c := denseDims(d); r != m || c != n {
			return true, shapeErr(fmt.Sprintf("shape %d×%d", r, c))
		}
		raw := d.RawMatrix()
		for i := range m {
			copyIfApart(raw.Data[i*raw.Stride:i*raw.Stride+n], a.F[i*n:(i+1)*n])
		}
		return true, nil
	case *runtime.Array:
		if d.Kind != a.Kind {
			return true, destError(t, dst, path, "of another element type")
		}
		if !runtime.SameShape(d.Shape, a.Shape) {
			return true, shapeErr("shape " + runtime.ShapeString(d.Shape))
		}
		if n := runtime.Size(a.Shape); len(d.F) < n && len(d.I) < n && len(d.B) < n && len(d.Box) < n {
			return true, destError(t, dst, path, "whose storage is shorter than its shape")
		}
		copyIfApart(d.F, a.F)
		copyIfApart(d.I, a.I)
		copyIfApart(d.B, a.B)
		copyIfApart(d.Box, a.Box)
		return true, nil
	}
	return false, nil
}

// writeFlat copies a vector of n elements into a slice destination d,
// which suits the result if fits.
func writeFlat[T any](fits bool, d, src []T, n int, lenErr func(int) error) (done bool, err error) {
	if !fits {
		return false, nil
	}
	if len(d) != n {
		return true, lenErr(len(d))
	}
	copyIfApart(d, src)
	return true, nil
}

// denseDims is Dims of a *mat.Dense, 0×0 when it is empty.
func denseDims(d *mat.Dense) (int, int) {
	if d.IsEmpty() {
		return 0, 0
	}
	return d.Dims()
}

// copyIfApart copies src into dst unless src already is dst (a result the
// interpreter built in the storage CallInto offered).
func copyIfApart[T any](dst, src []T) {
	if len(dst) == 0 || len(src) == 0 || unsafe.SliceData(dst) == unsafe.SliceData(src) {
		return
	}
	copy(dst, src)
}
