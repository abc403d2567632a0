package jsonv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Error is JSON text that is not valid JSON, or a JSON value that does not
// fit the type it is read as. Path says where inside the value, in Nabla
// notation ("[2][0].1"); it is empty for the value as a whole.
type Error struct {
	Path string
	Msg  string
	// Offset is, for text that is not valid JSON, the number of bytes
	// read when the problem was found (at least 1), so that a caller can
	// show where; 0 otherwise.
	Offset int64
}

func (e *Error) Error() string {
	msg := e.Msg
	if e.Offset > 0 {
		msg += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	if e.Path == "" {
		return msg
	}
	return "at " + e.Path + ": " + msg
}

// Decode reads one JSON value as a value of type t. Surrounding white
// space is allowed; anything else after the value is an error.
func Decode(t ir.Type, data []byte) (runtime.Value, error) {
	if f := FuncIn(t); f != nil {
		return runtime.Value{}, &Error{Msg: fmt.Sprintf("want %s, but a function value (%s) cannot be given as JSON", t, f)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// json.Number keeps the digits, so i64 values above 2^53 survive.
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		if errors.Is(err, io.EOF) {
			return runtime.Value{}, &Error{Msg: fmt.Sprintf("want %s, got no JSON value", t)}
		}
		msg, off := jsonMessage(err)
		if off == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			off = int64(len(data)) + 1 // just past the end
		}
		return runtime.Value{}, &Error{Msg: "not valid JSON: " + msg, Offset: off}
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := bytes.TrimLeft(data[end:], " \t\r\n")
		return runtime.Value{}, &Error{Msg: "not valid JSON: unexpected text after the value", Offset: int64(len(data)-len(rest)) + 1}
	}
	var d decoder
	return d.value(t, x)
}

// jsonMessage drops encoding/json's "json: " prefix from syntax errors
// and returns the offset of a syntax error apart.
func jsonMessage(err error) (string, int64) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error(), max(se.Offset, 1)
	}
	return strings.TrimPrefix(err.Error(), "json: "), 0
}

// FuncIn returns the first function type inside t, or nil. Values of a
// type that contains a function have no JSON form.
func FuncIn(t ir.Type) ir.Type {
	switch t := t.(type) {
	case *ir.Func:
		return t
	case *ir.Array:
		return FuncIn(t.Elem)
	case *ir.Tuple:
		for _, e := range t.Elems {
			if f := FuncIn(e); f != nil {
				return f
			}
		}
	}
	return nil
}

// step is one step of a path into a value: an array index or, when field
// is set, a tuple field.
type step struct {
	i     int
	field bool
}

// decoder converts a decoded JSON tree (any, []any, json.Number, string,
// bool, nil, map[string]any) to a runtime.Value, tracking the path so
// errors can say where they are.
type decoder struct {
	path []step
}

func (d *decoder) errorf(format string, args ...any) error {
	var b strings.Builder
	for _, s := range d.path {
		if s.field {
			fmt.Fprintf(&b, ".%d", s.i)
		} else {
			fmt.Fprintf(&b, "[%d]", s.i)
		}
	}
	return &Error{Path: b.String(), Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) push(i int, field bool) { d.path = append(d.path, step{i, field}) }
func (d *decoder) pop()                   { d.path = d.path[:len(d.path)-1] }

func (d *decoder) value(t ir.Type, x any) (runtime.Value, error) {
	switch t := t.(type) {
	case ir.Scalar:
		return d.scalar(t.Kind, x)
	case *ir.Array:
		a, err := d.array(t, x)
		if err != nil {
			return runtime.Value{}, err
		}
		return runtime.Arr(a), nil
	case *ir.Tuple:
		xs, ok := x.([]any)
		if !ok || len(xs) != len(t.Elems) {
			return runtime.Value{}, d.errorf("want %s, got %s", t, describe(x))
		}
		vs := make([]runtime.Value, len(xs))
		for i, e := range xs {
			d.push(i, true)
			v, err := d.value(t.Elems[i], e)
			d.pop()
			if err != nil {
				return runtime.Value{}, err
			}
			vs[i] = v
		}
		return runtime.Tup(vs...), nil
	}
	return runtime.Value{}, d.errorf("want %s, which has no JSON form", t)
}

// Special float values, spelled as the encoder writes them; "Inf" is also
// accepted because people write it.
var specialFloats = map[string]float64{
	"NaN":  math.NaN(),
	"+Inf": math.Inf(1),
	"Inf":  math.Inf(1),
	"-Inf": math.Inf(-1),
}

func (d *decoder) scalar(k ir.ScalarKind, x any) (runtime.Value, error) {
	switch k {
	case ir.F64:
		switch x := x.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return runtime.Value{}, d.errorf("want f64, got %s, which is out of range", Short(string(x)))
			}
			return runtime.F64(f), nil
		case string:
			if f, ok := specialFloats[x]; ok {
				return runtime.F64(f), nil
			}
			return runtime.Value{}, d.errorf("want f64, got %s (the only strings allowed are \"NaN\", \"+Inf\", \"-Inf\" and \"Inf\")", describe(x))
		}
	case ir.I64:
		if n, ok := x.(json.Number); ok {
			i, problem := parseInt(string(n))
			if problem != "" {
				return runtime.Value{}, d.errorf("want i64, got %s, which is %s", Short(string(n)), problem)
			}
			return runtime.I64(i), nil
		}
	case ir.Bool:
		if b, ok := x.(bool); ok {
			return runtime.Bool(b), nil
		}
	}
	return runtime.Value{}, d.errorf("want %s, got %s", ir.Scalar{Kind: k}, describe(x))
}

// parseInt reads a JSON number as an int64. Integral values written with a
// fraction or an exponent (2.0, 1e3) are accepted, as a JSON reader that
// knows the value is an integer would; problem explains a refusal.
func parseInt(s string) (i int64, problem string) {
	i, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return i, ""
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, "out of the i64 range"
	}
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	if strings.Trim(mant, "-0.") == "" {
		return 0, "" // a zero, whatever its exponent
	}
	if expText != "" {
		// Bound the exponent before big.Rat expands 1e999999999 digit by digit.
		exp, err := strconv.Atoi(expText)
		switch {
		case err != nil && strings.HasPrefix(expText, "-"), err == nil && exp < -400:
			return 0, "not an integer"
		case err != nil, exp > 400:
			return 0, "out of the i64 range"
		}
	}
	r, ok := new(big.Rat).SetString(s)
	switch {
	case !ok, !r.IsInt():
		return 0, "not an integer"
	case !r.Num().IsInt64():
		return 0, "out of the i64 range"
	}
	return r.Num().Int64(), ""
}

// array reads nested JSON arrays as one flat rectangular array: the first
// pass fixes the shape (checking that all rows at a depth agree and that
// constant dimensions match), the second fills the elements.
func (d *decoder) array(t *ir.Array, x any) (*runtime.Array, error) {
	var levels []*ir.Array // levels[k] is the array type at depth k
	var leaf ir.Type = t
	for {
		a, ok := leaf.(*ir.Array)
		if !ok {
			break
		}
		levels = append(levels, a)
		leaf = a.Elem
	}
	shape := make([]int, len(levels))
	for k := range shape {
		shape[k] = -1
	}
	if err := d.shape(levels, shape, 0, x); err != nil {
		return nil, err
	}
	for k, n := range shape {
		if n < 0 { // below an empty array: take the declared size, if any
			shape[k] = 0
			if levels[k].Dim.Known() {
				shape[k] = int(levels[k].Dim.N)
			}
		}
	}
	kind := runtime.ElemBox
	if s, ok := leaf.(ir.Scalar); ok {
		kind = map[ir.ScalarKind]runtime.Elem{ir.F64: runtime.ElemF64, ir.I64: runtime.ElemI64, ir.Bool: runtime.ElemBool}[s.Kind]
	}
	a, err := runtime.New(nil, kind, shape...)
	if err != nil {
		return nil, err
	}
	flat := 0
	if err := d.fill(a, leaf, len(shape), x, &flat); err != nil {
		return nil, err
	}
	return a, nil
}

func (d *decoder) shape(levels []*ir.Array, shape []int, k int, x any) error {
	xs, ok := x.([]any)
	if !ok {
		return d.errorf("want %s, got %s", levels[k], describe(x))
	}
	switch {
	case shape[k] < 0:
		if dim := levels[k].Dim; dim.Known() && int64(len(xs)) != dim.N {
			return d.errorf("want %s, got %s", levels[k], describe(x))
		}
		shape[k] = len(xs)
	case len(xs) != shape[k]:
		return d.errorf("want %s with %d element%s like the rows before it (arrays are rectangular), got %s",
			levels[k], shape[k], plural(shape[k]), describe(x))
	}
	if k+1 == len(levels) {
		return nil
	}
	for i, e := range xs {
		d.push(i, false)
		err := d.shape(levels, shape, k+1, e)
		d.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

// fill stores the leaves of x, an array nested depth deep whose shape has
// been checked, at a's flat indexes from *flat on.
func (d *decoder) fill(a *runtime.Array, leaf ir.Type, depth int, x any, flat *int) error {
	for i, e := range x.([]any) {
		d.push(i, false)
		var err error
		if depth > 1 {
			err = d.fill(a, leaf, depth-1, e, flat)
		} else {
			var v runtime.Value
			if v, err = d.value(leaf, e); err == nil {
				a.SetFlat(*flat, v)
				*flat++
			}
		}
		d.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

// describe says what a JSON value is, for error messages.
func describe(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool (" + strconv.FormatBool(x) + ")"
	case json.Number:
		return "a number (" + Short(string(x)) + ")"
	case string:
		return "a string (" + strconv.Quote(Short(x)) + ")"
	case []any:
		return fmt.Sprintf("an array of %d element%s", len(x), plural(len(x)))
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

// Short cuts s to at most 40 bytes (on a rune boundary, ending in "..."),
// so that an error quotes only a short piece of a long value.
func Short(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	cut := limit - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
