package fuzzing

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// badError says what is wrong with an error of the compiler or the
// interpreter, or "" if it is a clean one: every error must hold a
// positioned *ir.Error (or be an ir.ErrorList of them), and none may be
// an internal error, which is a recovered panic or broken invariant.
func badError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if strings.Contains(msg, "internal error") {
		return "an internal error: " + msg
	}
	var list ir.ErrorList
	if errors.As(err, &list) {
		if len(list) == 0 {
			return "an empty error list"
		}
		for _, e := range list {
			if e.Pos.Line < 1 || e.Pos.Col < 1 {
				return "an error without a position: " + e.Error()
			}
		}
		return ""
	}
	var e *ir.Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("an error that holds no *ir.Error (%T): %s", err, msg)
	}
	if e.Pos.Line < 1 || e.Pos.Col < 1 {
		return "an error without a position: " + msg
	}
	return ""
}

// argJSON makes a JSON argument of type t: scalars near zero, arrays of
// two elements where the size is not fixed (so that size variables
// agree), or nil when t holds a function.
func argJSON(t ir.Type, rng *rand.Rand) []byte {
	var b strings.Builder
	if !writeArg(&b, t, rng) {
		return nil
	}
	return []byte(b.String())
}

func writeArg(b *strings.Builder, t ir.Type, rng *rand.Rand) bool {
	switch t := t.(type) {
	case ir.Scalar:
		switch t.Kind {
		case ir.F64:
			fmt.Fprint(b, math.Round((rng.Float64()*4-2)*1000)/1000)
		case ir.I64:
			fmt.Fprint(b, rng.IntN(4))
		default:
			fmt.Fprint(b, rng.IntN(2) == 0)
		}
		return true
	case *ir.Array:
		n := 2
		if t.Dim.Known() {
			if t.Dim.N > 64 {
				return false
			}
			n = int(t.Dim.N)
		}
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			if !writeArg(b, t.Elem, rng) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case *ir.Tuple:
		b.WriteByte('[')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if !writeArg(b, e, rng) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	}
	return false
}

// args makes the arguments of a def from its parameter types, or reports
// false when one cannot be made (a function, or a huge fixed size).
func args(params []ir.Type, rng *rand.Rand) ([]runtime.Value, bool) {
	vals := make([]runtime.Value, len(params))
	for i, p := range params {
		js := argJSON(p, rng)
		if js == nil {
			return nil, false
		}
		v, err := jsonv.Decode(p, js)
		if err != nil {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

// runLimits bound a fuzzed call: enough for the small programs, little
// enough that a runaway loop ends at once.
var runLimits = runtime.Limits{Steps: 1 << 20, Memory: 64 << 20}
