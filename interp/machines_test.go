package interp

import (
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// TestMayOffer checks when a caller's buffer may be offered as storage
// for a result: never when an argument shares storage with it or could
// hide an alias.
func TestMayOffer(t *testing.T) {
	buf := make([]float64, 10)
	out := runtime.FromF64(buf[5:])
	ints := make([]int64, 4)
	tests := []struct {
		name string
		out  *runtime.Array
		args []runtime.Value
		want bool
	}{
		{"scalars", out, []runtime.Value{runtime.F64(1), runtime.I64(2)}, true},
		{"apart", out, []runtime.Value{runtime.Arr(runtime.FromF64(make([]float64, 5)))}, true},
		{"other kind", out, []runtime.Value{runtime.Arr(runtime.FromI64(ints))}, true},
		{"empty", out, []runtime.Value{runtime.Arr(runtime.FromF64(nil))}, true},
		{"same", out, []runtime.Value{runtime.Arr(runtime.FromF64(buf[5:]))}, false},
		{"overlapping", out, []runtime.Value{runtime.Arr(runtime.FromF64(buf[3:8]))}, false},
		// The capacity of buf[:5] reaches out's storage.
		{"same backing array", out, []runtime.Value{runtime.Arr(runtime.FromF64(buf[:5]))}, false},
		{"apart by capacity", out, []runtime.Value{runtime.Arr(runtime.FromF64(buf[:5:5]))}, true},
		{"tuple", out, []runtime.Value{runtime.Tup(runtime.F64(1))}, false},
		{"boxed", out, []runtime.Value{runtime.Arr(&runtime.Array{Shape: []int{0}, Kind: runtime.ElemBox})}, false},
		{"nil array", out, []runtime.Value{{R: (*runtime.Array)(nil)}}, false},
		{"boxed out", &runtime.Array{Shape: []int{0}, Kind: runtime.ElemBox}, nil, false},
	}
	for _, tc := range tests {
		if got := mayOffer(tc.out, tc.args); got != tc.want {
			t.Errorf("%s: mayOffer = %v, want %v", tc.name, got, tc.want)
		}
	}
}
