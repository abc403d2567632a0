package interp

import (
	"errors"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// TestNilContextRefused: a call with a nil context could never be
// stopped, so it is a positioned error, not a run.
func TestNilContextRefused(t *testing.T) {
	var b ir.Builder
	at(&b, 3)
	spin := b.Def("spin", []string{"x"}, []ir.Type{ir.TF64}, func(v []*ir.Var) ir.Expr {
		return b.While("s", v[0], func(*ir.Var) ir.Expr { return b.Bool(true) }, func(s *ir.Var) ir.Expr { return b.Prim(ir.PrimAdd, s, b.F64(1)) })
	})
	it := mustNew(t, spin)
	//lint:ignore SA1012 a nil context is what is tested
	_, err := it.Call(nil, "spin", []runtime.Value{runtime.F64(0)}, runtime.Limits{})
	var ie *ir.Error
	if !errors.As(err, &ie) || ie.Pos != pos(3) || len(ie.Frames) != 1 {
		t.Errorf("Call(nil, ...): %v; want an error at spin's declaration (%s)", err, pos(3))
	}
}
