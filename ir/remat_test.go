package ir_test

import (
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestResolveRemat checks how checkpointing points resolve: each form,
// the save-only value kept or dropped, and the errors (a save-only value
// read after a recompute decision; a point that runs).
func TestResolveRemat(t *testing.T) {
	var b ir.Builder
	x := ir.NewVar("x", ir.TF64, ir.Pos{})
	s := ir.NewVar("s", ir.TF64, ir.Pos{})
	id := ir.I64Const(1, ir.Pos{})
	mark := func(args ...ir.Expr) ir.Expr {
		return &ir.PrimCall{Op: ir.PrimRemat, Args: append([]ir.Expr{id}, args...), T: ir.TF64}
	}
	// let s = remat(1, x * x) in remat(1, x + 1.0, s)
	e := &ir.Let{Var: s, Value: mark(b.Prim(ir.PrimMul, x, x)), Body: mark(b.Prim(ir.PrimAdd, x, b.F64(1)), s)}
	// let s = remat(1, x * x) in s: s is read whatever the decision.
	bad := &ir.Let{Var: s, Value: mark(b.Prim(ir.PrimMul, x, x)), Body: s}
	for _, tc := range []struct {
		e       ir.Expr
		save    bool
		want    string
		wantErr string
	}{
		{e, false, "x + 1.0", ""},
		{e, true, "let s: f64 = x * x in s", ""},
		{bad, false, "", "only the save form of checkpointing point 1 needs"},
		{bad, true, "let s: f64 = x * x in s", ""},
	} {
		out, err := ir.ResolveRemat(tc.e, func(int64) bool { return tc.save })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("save=%v: error %v, want %q", tc.save, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("save=%v: %v", tc.save, err)
			continue
		}
		if got := strings.Join(strings.Fields(ir.PrintExpr(out)), " "); got != tc.want || ir.HasRemat(out) {
			t.Errorf("save=%v: %s, want %s", tc.save, got, tc.want)
		}
	}
	if _, err := ir.PrimRemat.Eval(&ir.Site{Prim: ir.PrimRemat}); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Errorf("evaluating a checkpointing point: %v, want an error", err)
	}
}
