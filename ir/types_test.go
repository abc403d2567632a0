package ir

import (
	"strings"
	"testing"
)

// TestTypeTextBounded: a type prints in full while it is short, and a huge
// one (a shared tuple doubled 60 times) prints cut, with its count of
// scalars, in little time and memory (issue 15, bounded output).
func TestTypeTextBounded(t *testing.T) {
	var big Type = TF64
	for range 60 {
		big = TupleOf(big, big)
	}
	long := TupleOf(ArrayOf(SymDim("n"), TF64), big)
	tests := []struct {
		t    Type
		want string
	}{
		{TupleOf(TF64, ArrayOf(SymDim("n"), TI64)), "(f64, [n]i64)"},
		{TupleOf(TF64), "(f64,)"},
		{TUnit, "()"},
		{&Func{Params: []Type{ArrayOf(ConstDim(3), TF64)}, Result: TF64}, "[3]f64 -> f64"},
		{&Func{Params: []Type{TF64, TBool}, Result: TupleOf(TF64, TF64)}, "(f64, bool) -> (f64, f64)"},
		{&Func{Params: []Type{TupleOf(TF64, TF64)}, Result: TF64}, "((f64, f64)) -> f64"},
	}
	for _, tc := range tests {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
	for _, ty := range []Type{big, long, &Func{Params: []Type{big}, Result: big}} {
		s := ty.String()
		if len(s) > MaxTypeText+100 {
			t.Errorf("%d bytes: %.300s", len(s), s)
		}
		if !strings.Contains(s, "...") || !strings.Contains(s, "scalars in all") {
			t.Errorf("cut type does not say so: %s", s)
		}
	}
	if s := big.String(); !strings.HasPrefix(s, "((((((") || !strings.Contains(s, "(1152921504606846976 scalars in all)") {
		t.Errorf("got %s", s)
	}
	var mid Type = TF64
	for range 20 {
		mid = TupleOf(mid, mid)
	}
	if s := mid.String(); !strings.HasSuffix(s, "... (1048576 scalars in all)") {
		t.Errorf("got %s", s)
	}
}
