package interp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// The tests build IR by hand with ir.Builder. at moves the builder to a
// line of an imaginary source file "t.nab", so tests can check that an
// error points at the right node: every node built afterwards gets that
// position.
const file = "t.nab"

func at(b *ir.Builder, line int) { b.Pos = ir.Pos{File: file, Line: line, Col: 1} }

func pos(line int) ir.Pos { return ir.Pos{File: file, Line: line, Col: 1} }

// valueDef makes def name = body.
func valueDef(b *ir.Builder, name string, body ir.Expr) *ir.Def {
	return &ir.Def{Name: name, Result: body.Type(), Body: body, P: b.Pos}
}

func vec(t ir.Type) ir.Type           { return ir.ArrayOf(ir.Unknown, t) }
func vecN(n int64, t ir.Type) ir.Type { return ir.ArrayOf(ir.ConstDim(n), t) }
func symVec(n string, t ir.Type) ir.Type {
	return ir.ArrayOf(ir.SymDim(n), t)
}

func f64s(xs ...float64) runtime.Value { return runtime.Arr(runtime.FromF64(xs)) }
func i64s(xs ...int64) runtime.Value   { return runtime.Arr(runtime.FromI64(xs)) }

func mustNew(t testing.TB, defs ...*ir.Def) *Interp {
	t.Helper()
	p := ir.NewProgram(defs)
	if err := ir.Validate(p); err != nil {
		t.Fatalf("invalid test program: %v", err)
	}
	it, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return it
}

func call(t testing.TB, it *Interp, name string, args ...runtime.Value) runtime.Value {
	t.Helper()
	v, err := it.Call(context.Background(), name, args, runtime.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// callErr calls a def that must fail and returns its positioned error.
func callErr(t testing.TB, it *Interp, name string, lim runtime.Limits, args ...runtime.Value) (*ir.Error, error) {
	t.Helper()
	v, err := it.Call(context.Background(), name, args, lim)
	if err == nil {
		t.Fatalf("%s: no error; got %s", name, show(v))
	}
	var ie *ir.Error
	if !errors.As(err, &ie) {
		t.Fatalf("%s: error %T %v is not an *ir.Error", name, err, err)
	}
	return ie, err
}

// show prints a value for test messages and comparisons.
func show(v runtime.Value) string {
	switch r := v.R.(type) {
	case nil:
		if v.I != 0 {
			return fmt.Sprintf("%g|%d", v.F, v.I)
		}
		return fmt.Sprintf("%g", v.F)
	case *runtime.Array:
		parts := make([]string, 0, r.Len())
		for i := 0; i < r.Len(); i++ {
			parts = append(parts, show(r.At(i)))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case runtime.Tuple:
		parts := make([]string, len(r))
		for i, e := range r {
			parts[i] = show(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case runtime.Func:
		return "<func>"
	}
	return fmt.Sprintf("%#v", v.R)
}

func wantFrames(t *testing.T, e *ir.Error, want ...ir.Frame) {
	t.Helper()
	if len(e.Frames) != len(want) {
		t.Fatalf("frames = %+v, want %+v", e.Frames, want)
	}
	for i := range want {
		if e.Frames[i] != want[i] {
			t.Errorf("frame %d = %+v, want %+v", i, e.Frames[i], want[i])
		}
	}
}

// same compares values structurally; NaNs are equal.
func same(a, b runtime.Value) bool {
	return sameWith(a, b, func(x, y float64) bool { return x == y || x != x && y != y })
}

// valueBits compares values bit for bit, through tuples and boxed arrays.
func valueBits(a, b runtime.Value) bool {
	return sameWith(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// sameWith compares values structurally, scalars of f64 with eq.
func sameWith(a, b runtime.Value, eq func(x, y float64) bool) bool {
	if !eq(a.F, b.F) || a.I != b.I {
		return false
	}
	switch ra := a.R.(type) {
	case nil:
		return b.R == nil
	case *runtime.Array:
		rb, ok := b.R.(*runtime.Array)
		if !ok || !runtime.SameShape(ra.Shape, rb.Shape) || ra.Kind != rb.Kind {
			return false
		}
		for i := 0; i < ra.Len(); i++ {
			if !sameWith(ra.At(i), rb.At(i), eq) {
				return false
			}
		}
		return true
	case runtime.Tuple:
		rb, ok := b.R.(runtime.Tuple)
		if !ok || len(ra) != len(rb) {
			return false
		}
		for i := range ra {
			if !sameWith(ra[i], rb[i], eq) {
				return false
			}
		}
		return true
	}
	return false
}
