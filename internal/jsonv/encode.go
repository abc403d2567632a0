package jsonv

import (
	"fmt"
	"math"
	"strconv"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Encode writes v, a value of type t, as JSON text (without a trailing
// newline). It fails only for function values and for a value that does
// not have the shape t says, which is an internal error of whoever built
// it.
func Encode(t ir.Type, v runtime.Value) ([]byte, error) {
	return Append(nil, t, v)
}

// Append is Encode appending to b.
func Append(b []byte, t ir.Type, v runtime.Value) ([]byte, error) {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			return AppendFloat(b, v.F), nil
		case ir.I64:
			return strconv.AppendInt(b, v.I, 10), nil
		}
		return strconv.AppendBool(b, v.AsBool()), nil
	case *ir.Array:
		a := v.Array()
		if a == nil || a.Rank() == 0 {
			return nil, fmt.Errorf("jsonv: a value of type %s is not an array (%T)", t, v.R)
		}
		return appendArray(b, t, a)
	case *ir.Tuple:
		vs := v.Tuple()
		if len(vs) != len(t.Elems) {
			return nil, fmt.Errorf("jsonv: a value of type %s has %d fields", t, len(vs))
		}
		b = append(b, '[')
		for i, e := range vs {
			if i > 0 {
				b = append(b, ", "...)
			}
			var err error
			if b, err = Append(b, t.Elems[i], e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("a value of type %s has no JSON form", t)
}

func appendArray(b []byte, t *ir.Array, a *runtime.Array) ([]byte, error) {
	b = append(b, '[')
	n := a.Len()
	switch {
	case a.Rank() == 1 && a.Kind == runtime.ElemF64 && ir.Identical(t.Elem, ir.TF64):
		for i, x := range a.F[:n] {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendFloat(b, x)
		}
	case a.Rank() == 1 && a.Kind == runtime.ElemI64 && ir.Identical(t.Elem, ir.TI64):
		for i, x := range a.I[:n] {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendInt(b, x, 10)
		}
	default:
		// Rows of a flat multi-dimensional array and boxed elements both
		// come out of At; this also covers an array of arrays kept boxed.
		for i := range n {
			if i > 0 {
				b = append(b, ", "...)
			}
			var err error
			if b, err = Append(b, t.Elem, a.At(i)); err != nil {
				return nil, err
			}
		}
	}
	return append(b, ']'), nil
}

// AppendFloat appends f in the shortest form that reads back as the same
// float64. Like encoding/json it uses plain decimals between 1e-6 and
// 1e21 and the exponent form (1e+21, 1e-7) outside, so every finite float
// is a valid JSON number; NaN and the infinities, which JSON lacks, become
// the strings "NaN", "+Inf" and "-Inf". An integral value prints without
// a fraction (2, not 2.0): JSON does not distinguish them.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Inf"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-07 to e-7, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
