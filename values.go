package nabla

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

// Conversion between Go values and Nabla values, guided by the static type
// of a parameter or result. Go values coming in are copied (or, for flat
// slices, read in place for the duration of the call: into.go), so a
// caller may reuse its slices and matrices as soon as Call returns, and
// values going out are fresh, so a caller may modify them without
// affecting the program (whose value defs may be shared between calls).

// convError is a Go value that does not fit a Nabla type; path says
// where inside the value ("[1].0").
type convError struct {
	path string
	msg  string
}

func (e *convError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "at " + e.path + ": " + e.msg
}

// at prefixes the path of an error from an inner value.
func at(err error, step string) error {
	if ce, ok := err.(*convError); ok {
		return &convError{path: step + ce.path, msg: ce.msg}
	}
	return err
}

func mismatch(t ir.Type, x any, why string) error {
	msg := "want " + t.String() + ", got " + goTypeName(x)
	if why != "" {
		msg += " " + why
	}
	return &convError{msg: msg}
}

// goTypeName names x's Go type for a message ("nil *mat.Dense" for a
// nil pointer). It goes through reflect.TypeOf rather than fmt so that x
// does not escape: the fast path of a call then takes its arguments
// without boxing them on the heap.
func goTypeName(x any) string {
	if x == nil {
		return "nil"
	}
	got := reflect.TypeOf(x).String()
	if isNilPointer(x) {
		got = "nil " + got
	}
	return got
}

// isNilPointer reports a typed nil pointer, map, func or channel in x,
// such as a (*mat.Dense)(nil): its methods would panic.
func isNilPointer(x any) bool {
	switch rv := reflect.ValueOf(x); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// toValue converts a Go value to a Nabla value of type t. See Func.Call
// for the accepted Go types.
func toValue(t ir.Type, x any) (runtime.Value, error) {
	if isNilPointer(x) {
		return runtime.Value{}, mismatch(t, x, "")
	}
	switch x := x.(type) {
	case runtime.Value:
		return x, checkValue(t, x)
	case *runtime.Array:
		v := runtime.Arr(x)
		return v, checkValue(t, v)
	}
	switch t := t.(type) {
	case ir.Scalar:
		return toScalar(t.Kind, x)
	case *ir.Array:
		a, err := toArray(t, x)
		if err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(a), nil
	case *ir.Tuple:
		xs, ok := x.([]any)
		if !ok {
			return runtime.Value{}, mismatch(t, x, "(pass a tuple as []any)")
		}
		if len(xs) != len(t.Elems) {
			return runtime.Value{}, mismatch(t, x, fmt.Sprintf("of length %d", len(xs)))
		}
		vs := make([]runtime.Value, len(xs))
		for i, e := range xs {
			v, err := toValue(t.Elems[i], e)
			if err != nil {
				return runtime.Value{}, at(err, "."+strconv.Itoa(i))
			}
			vs[i] = v
		}
		return runtime.Tup(vs...), nil
	}
	return runtime.Value{}, mismatch(t, x, "(a function argument must be a runtime.Value holding a Nabla function)")
}

// toScalar accepts Go numbers of any width for f64 as long as the value
// is exact (so f.Call(ctx, 2) works for an f64 parameter, as 2 does in
// JSON), and only Go integers for i64: a float64 for an i64 parameter is
// far more likely a mistake than an integral value. Named types (type
// Meters float64) convert like their underlying types.
func toScalar(k ir.ScalarKind, x any) (runtime.Value, error) {
	t := ir.Scalar{Kind: k}
	rv := reflect.ValueOf(x)
	switch {
	case x == nil:
	case k == ir.F64 && rv.CanFloat():
		return runtime.F64(rv.Float()), nil
	case k == ir.F64 && rv.CanInt():
		i := rv.Int()
		if f := float64(i); f != 1<<63 && int64(f) == i {
			return runtime.F64(f), nil
		}
		return runtime.Value{}, mismatch(t, x, fmt.Sprintf("(%d is not exactly representable as a float64)", i))
	case k == ir.F64 && rv.CanUint():
		u := rv.Uint()
		if f := float64(u); f != 1<<64 && uint64(f) == u {
			return runtime.F64(f), nil
		}
		return runtime.Value{}, mismatch(t, x, fmt.Sprintf("(%d is not exactly representable as a float64)", u))
	case k == ir.I64 && rv.CanInt():
		return runtime.I64(rv.Int()), nil
	case k == ir.I64 && rv.CanUint():
		if u := rv.Uint(); u <= math.MaxInt64 {
			return runtime.I64(int64(u)), nil
		}
		return runtime.Value{}, mismatch(t, x, fmt.Sprintf("(%d is out of the i64 range)", rv.Uint()))
	case k == ir.Bool && rv.Kind() == reflect.Bool:
		return runtime.Bool(rv.Bool()), nil
	}
	return runtime.Value{}, mismatch(t, x, "")
}

// toArray converts slices (of any depth), Go arrays and gonum vectors and
// matrices. Nested slices must be rectangular; constant dimensions of t
// must match.
func toArray(t *ir.Array, x any) (*runtime.Array, error) {
	a, err := toArrayUnchecked(t, x)
	if err != nil {
		return nil, err
	}
	if t.Dim.Known() && int64(a.Len()) != t.Dim.N {
		return nil, mismatch(t, x, fmt.Sprintf("of length %d", a.Len()))
	}
	return a, nil
}

func toArrayUnchecked(t *ir.Array, x any) (*runtime.Array, error) {
	elem, inner := t.Elem, ir.Rank(t.Elem)
	leaf, scalarLeaf := ir.Leaf(t)
	f64Matrix := inner == 1 && scalarLeaf && leaf == ir.F64
	switch x := x.(type) {
	case []float64:
		if elem == ir.TF64 {
			return runtime.FromF64(append([]float64(nil), x...)), nil
		}
	case []int64:
		if elem == ir.TI64 {
			return runtime.FromI64(append([]int64(nil), x...)), nil
		}
	case []bool:
		if elem == ir.TBool {
			return &runtime.Array{Shape: []int{len(x)}, Kind: runtime.ElemBool, B: append([]bool(nil), x...)}, nil
		}
	case [][]float64:
		if f64Matrix {
			return matrix(t, x)
		}
	case mat.Vector:
		if elem == ir.TF64 {
			return fromGonum(t, x, func() *runtime.Array { return vector(x) })
		}
	}
	if m, ok := x.(mat.Matrix); ok {
		if f64Matrix {
			return fromGonum(t, x, func() *runtime.Array { return denseMatrix(m) })
		}
		return nil, mismatch(t, x, "(gonum vectors and matrices convert to [n]f64 and [m][n]f64)")
	}
	rv := reflect.ValueOf(x)
	if x == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, mismatch(t, x, "")
	}
	return reflectArray(t, rv)
}

// fromGonum runs a conversion from a gonum value, turning a panic of
// its methods into an error: a matrix type wrapping a nil one (a
// mat.Transpose of a nil *mat.Dense) panics in Dims, and a bad argument
// must never bring down the host.
func fromGonum(t *ir.Array, x any, conv func() *runtime.Array) (a *runtime.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, mismatch(t, x, fmt.Sprintf("(its methods panicked: %v)", r))
		}
	}()
	return conv(), nil
}

// matrix copies rows of equal length into one flat array.
func matrix(t *ir.Array, rows [][]float64) (*runtime.Array, error) {
	cols := 0
	if row, ok := t.Elem.(*ir.Array); ok && row.Dim.Known() {
		cols = int(row.Dim.N)
	}
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	flat := make([]float64, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return nil, &convError{path: "[" + strconv.Itoa(i) + "]", msg: fmt.Sprintf("want %s of length %d like the rows before it (arrays are rectangular), got []float64 of length %d", t.Elem, cols, len(r))}
		}
		flat = append(flat, r...)
	}
	a := &runtime.Array{Shape: []int{len(rows), cols}, Kind: runtime.ElemF64, F: flat}
	if row := t.Elem.(*ir.Array); row.Dim.Known() && int64(cols) != row.Dim.N {
		return nil, &convError{path: "[0]", msg: fmt.Sprintf("want %s, got []float64 of length %d", t.Elem, cols)}
	}
	return a, nil
}

func vector(v mat.Vector) *runtime.Array {
	n := v.Len()
	xs := make([]float64, n)
	if rv, ok := v.(mat.RawVectorer); ok {
		raw := rv.RawVector()
		for i := range xs {
			xs[i] = raw.Data[i*raw.Inc]
		}
	} else {
		for i := range xs {
			xs[i] = v.AtVec(i)
		}
	}
	return runtime.FromF64(xs)
}

func denseMatrix(m mat.Matrix) *runtime.Array {
	r, c := 0, 0
	if e, ok := m.(interface{ IsEmpty() bool }); !ok || !e.IsEmpty() {
		r, c = m.Dims()
	}
	xs := make([]float64, r*c)
	if rm, ok := m.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		for i := range r {
			copy(xs[i*c:(i+1)*c], raw.Data[i*raw.Stride:i*raw.Stride+c])
		}
	} else {
		for i := range r {
			for j := range c {
				xs[i*c+j] = m.At(i, j)
			}
		}
	}
	return &runtime.Array{Shape: []int{r, c}, Kind: runtime.ElemF64, F: xs}
}

// reflectArray converts any Go slice or array element by element: each
// element becomes a value of t.Elem (recursively, so a []*mat.Dense works
// for [k][m][n]f64), and element arrays must all have the same shape.
func reflectArray(t *ir.Array, rv reflect.Value) (*runtime.Array, error) {
	n := rv.Len()
	elems := make([]runtime.Value, n)
	for i := range n {
		v, err := toValue(t.Elem, rv.Index(i).Interface())
		if err != nil {
			return nil, at(err, "["+strconv.Itoa(i)+"]")
		}
		elems[i] = v
	}
	kind := runtime.ElemBox
	if k, ok := ir.Leaf(t); ok {
		kind = kindOf(k)
	}
	shape := []int{n}
	if _, ok := t.Elem.(*ir.Array); ok {
		if n > 0 {
			shape = append(shape, elems[0].Array().Shape...)
		} else {
			for _, d := range ir.Dims(t.Elem) {
				shape = append(shape, max(int(d.N), 0))
			}
		}
		for i, e := range elems {
			if s := e.Array().Shape; !runtime.SameShape(s, shape[1:]) {
				return nil, &convError{path: "[" + strconv.Itoa(i) + "]", msg: fmt.Sprintf("want %s of shape %s like the elements before it (arrays are rectangular), got shape %s",
					t.Elem, runtime.ShapeString(shape[1:]), runtime.ShapeString(s))}
			}
		}
	}
	a, err := runtime.New(nil, kind, shape...)
	if err != nil {
		return nil, err
	}
	for i, e := range elems {
		a.SetRow(i, e)
	}
	return a, nil
}

// checkValue makes a shallow check of a runtime.Value passed through: a
// wrong kind of value would otherwise crash the interpreter, which trusts
// its static types.
func checkValue(t ir.Type, v runtime.Value) error {
	bad := func(what string) error {
		return &convError{msg: "want " + t.String() + ", got a runtime.Value holding " + what}
	}
	switch t := t.(type) {
	case ir.Scalar:
		if v.R != nil {
			return bad(fmt.Sprintf("%T", v.R))
		}
	case *ir.Array:
		a := v.Array()
		if a == nil {
			return bad("no array")
		}
		want := runtime.ElemBox
		if k, ok := ir.Leaf(t); ok {
			want = kindOf(k)
			if a.Rank() != ir.Rank(t) {
				return bad(fmt.Sprintf("an array of rank %d", a.Rank()))
			}
		}
		if a.Kind != want {
			return bad("an array of another element type")
		}
		for i, d := range ir.Dims(t) {
			if i < a.Rank() && d.Known() && int64(a.Shape[i]) != d.N {
				return bad("an array of shape " + runtime.ShapeString(a.Shape))
			}
		}
	case *ir.Tuple:
		if _, ok := v.R.(runtime.Tuple); !ok || len(v.Tuple()) != len(t.Elems) {
			return bad(fmt.Sprintf("%T", v.R))
		}
	case *ir.Func:
		if v.Fn() == nil {
			return bad(fmt.Sprintf("%T", v.R))
		}
	}
	return nil
}

// fromValue converts a Nabla value of type t to Go: float64, int64 and
// bool for scalars; []float64, []int64 and []bool for vectors, [][]float64
// and so on for deeper arrays; []any for tuples; a runtime.Value for
// functions (so they can be passed back in).
func fromValue(t ir.Type, v runtime.Value) any {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return v.F
		case ir.I64:
			return v.I
		}
		return v.AsBool()
	case *ir.Array:
		a := v.Array()
		switch {
		case t.Elem == ir.TF64 && a.Rank() == 1:
			return append([]float64{}, a.F[:a.Len()]...)
		case t.Elem == ir.TI64 && a.Rank() == 1:
			return append([]int64{}, a.I[:a.Len()]...)
		case t.Elem == ir.TBool && a.Rank() == 1:
			return append([]bool{}, a.B[:a.Len()]...)
		case ir.Rank(t) == 2 && a.Rank() == 2 && ir.Identical(t.Elem.(*ir.Array).Elem, ir.TF64):
			// One backing array for all rows, each row capped so that an
			// append to it cannot overwrite the next.
			m, n := a.Shape[0], a.Shape[1]
			flat := append([]float64{}, a.F[:m*n]...)
			rows := make([][]float64, m)
			for i := range rows {
				rows[i] = flat[i*n : (i+1)*n : (i+1)*n]
			}
			return rows
		}
		out := reflect.MakeSlice(goType(t), a.Len(), a.Len())
		for i := range a.Len() {
			out.Index(i).Set(reflect.ValueOf(fromValue(t.Elem, a.At(i))))
		}
		return out.Interface()
	case *ir.Tuple:
		vs := v.Tuple()
		out := make([]any, len(vs))
		for i, e := range vs {
			out[i] = fromValue(t.Elems[i], e)
		}
		return out
	}
	return v
}

// goType is the Go type fromValue returns for t.
func goType(t ir.Type) reflect.Type {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return reflect.TypeFor[float64]()
		case ir.I64:
			return reflect.TypeFor[int64]()
		}
		return reflect.TypeFor[bool]()
	case *ir.Array:
		return reflect.SliceOf(goType(t.Elem))
	case *ir.Tuple:
		return reflect.TypeFor[[]any]()
	}
	return reflect.TypeFor[runtime.Value]()
}

// signature renders a def's type as (T1, T2) -> R.
func signature(params []ir.Type, result ir.Type) string {
	ps := make([]string, len(params))
	for i, p := range params {
		ps[i] = p.String()
	}
	return "(" + strings.Join(ps, ", ") + ") -> " + result.String()
}
