package nabla

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

var (
	tF64  = ir.TF64
	tI64  = ir.TI64
	tBool = ir.TBool
	vecN  = ir.ArrayOf(ir.SymDim("n"), tF64)
	vec2  = ir.ArrayOf(ir.ConstDim(2), tF64)
	matMN = ir.ArrayOf(ir.SymDim("m"), ir.ArrayOf(ir.SymDim("n"), tF64))
	mat22 = ir.ArrayOf(ir.ConstDim(2), ir.ArrayOf(ir.ConstDim(2), tF64))
	ivec  = ir.ArrayOf(ir.SymDim("n"), tI64)
	imat  = ir.ArrayOf(ir.SymDim("m"), ir.ArrayOf(ir.SymDim("n"), tI64))
	bvec  = ir.ArrayOf(ir.SymDim("n"), tBool)
	cube  = ir.ArrayOf(ir.SymDim("k"), matMN)
	pair  = ir.TupleOf(tF64, ivec)
	pairs = ir.ArrayOf(ir.SymDim("n"), ir.TupleOf(tF64, tBool))
	fnT   = &ir.Func{Params: []ir.Type{tF64}, Result: tF64}
)

type meters float64

// dummyFunc stands for a function value of the interpreter.
type dummyFunc struct{}

func (dummyFunc) Call(*runtime.Machine, []runtime.Value) (runtime.Value, error) {
	return runtime.Value{}, nil
}

// TestToValue converts Go values in and shows the result as JSON, which
// spells out shape and element values together.
func TestToValue(t *testing.T) {
	dense := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	sub := dense.Slice(0, 2, 1, 3) // a view with stride 3
	for _, tc := range []struct {
		name string
		t    ir.Type
		x    any
		want string
	}{
		{"float64", tF64, 1.5, "1.5"},
		{"float32", tF64, float32(0.5), "0.5"},
		{"int as f64", tF64, 3, "3"},
		{"int64 2^53 as f64", tF64, int64(1 << 53), "9007199254740992"},
		{"uint8 as f64", tF64, uint8(7), "7"},
		{"named float", tF64, meters(2.5), "2.5"},
		{"int", tI64, -4, "-4"},
		{"int64", tI64, int64(math.MaxInt64), "9223372036854775807"},
		{"uint64 in range", tI64, uint64(12), "12"},
		{"int32", tI64, int32(-9), "-9"},
		{"bool", tBool, true, "true"},
		{"[]float64", vecN, []float64{1, 2.5}, "[1, 2.5]"},
		{"empty []float64", vecN, []float64{}, "[]"},
		{"nil []float64", vecN, []float64(nil), "[]"},
		{"[2]float64 Go array", vec2, [2]float64{3, 4}, "[3, 4]"},
		{"[]int as f64", vecN, []int{1, 2}, "[1, 2]"},
		{"[]any numbers", vecN, []any{1.0, 2}, "[1, 2]"},
		{"*mat.VecDense", vecN, mat.NewVecDense(3, []float64{1, 2, 3}), "[1, 2, 3]"},
		{"strided vector", vecN, dense.ColView(1), "[2, 5]"},
		{"[][]float64", matMN, [][]float64{{1, 2}, {3, 4}}, "[[1, 2], [3, 4]]"},
		{"empty [][]float64", matMN, [][]float64{}, "[]"},
		{"*mat.Dense", matMN, dense, "[[1, 2, 3], [4, 5, 6]]"},
		{"dense view", matMN, sub, "[[2, 3], [5, 6]]"},
		{"transpose", matMN, dense.T(), "[[1, 4], [2, 5], [3, 6]]"},
		{"*mat.VecDense as a column", matMN, mat.NewVecDense(2, []float64{7, 8}), "[[7], [8]]"},
		{"[2][2]f64", mat22, [][]float64{{1, 0}, {0, 1}}, "[[1, 0], [0, 1]]"},
		{"[]int64", ivec, []int64{1, -2}, "[1, -2]"},
		{"[]int", ivec, []int{5}, "[5]"},
		{"[][]int", imat, [][]int{{1, 2}, {3, 4}}, "[[1, 2], [3, 4]]"},
		{"[]bool", bvec, []bool{true, false}, "[true, false]"},
		{"[][][]float64", cube, [][][]float64{{{1}, {2}}, {{3}, {4}}}, "[[[1], [2]], [[3], [4]]]"},
		{"[]*mat.Dense", cube, []*mat.Dense{mat.NewDense(1, 2, []float64{1, 2}), mat.NewDense(1, 2, []float64{3, 4})}, "[[[1, 2]], [[3, 4]]]"},
		{"tuple", pair, []any{1.5, []int64{1, 2}}, "[1.5, [1, 2]]"},
		{"unit", ir.TUnit, []any{}, "[]"},
		{"array of tuples", pairs, [][]any{{1.0, true}, {2.0, false}}, "[[1, true], [2, false]]"},
		{"runtime.Value", vecN, runtime.Arr(runtime.FromF64([]float64{9})), "[9]"},
		{"*runtime.Array", vecN, runtime.FromF64([]float64{8}), "[8]"},
		{"runtime.Value in a tuple", pair, []any{runtime.F64(2), runtime.Arr(runtime.FromI64([]int64{3}))}, "[2, [3]]"},
	} {
		v, err := toValue(tc.t, tc.x)
		if err != nil {
			t.Errorf("%s: toValue(%s, %T): %v", tc.name, tc.t, tc.x, err)
			continue
		}
		got, err := jsonv.Encode(tc.t, v)
		if err != nil {
			t.Errorf("%s: encoding the value: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: toValue(%s, %T) = %s, want %s", tc.name, tc.t, tc.x, got, tc.want)
		}
	}
}

// TestToValueCopies checks that the interpreter never sees the caller's
// memory: mutating a slice after conversion changes nothing.
func TestToValueCopies(t *testing.T) {
	xs := []float64{1, 2}
	rows := [][]float64{{1, 2}}
	v1, _ := toValue(vecN, xs)
	v2, _ := toValue(matMN, rows)
	xs[0], rows[0][0] = 99, 99
	if v1.Array().F[0] != 1 || v2.Array().F[0] != 1 {
		t.Errorf("converted arrays alias the caller's slices")
	}
}

func TestToValueErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    ir.Type
		x    any
		msg  string
	}{
		{"string for f64", tF64, "1", "want f64, got string"},
		{"nil for f64", tF64, nil, "want f64, got nil"},
		{"bool for f64", tF64, true, "want f64, got bool"},
		{"inexact int for f64", tF64, int64(1<<53 + 1), "want f64, got int64 (9007199254740993 is not exactly representable as a float64)"},
		{"inexact uint for f64", tF64, uint64(math.MaxUint64), "want f64, got uint64 (18446744073709551615 is not exactly representable as a float64)"},
		{"float64 for i64", tI64, 2.0, "want i64, got float64"},
		{"uint64 out of range", tI64, uint64(math.MaxUint64), "want i64, got uint64 (18446744073709551615 is out of the i64 range)"},
		{"int for bool", tBool, 1, "want bool, got int"},
		{"string for vector", vecN, "x", "want [n]f64, got string"},
		{"float for vector", vecN, 1.0, "want [n]f64, got float64"},
		{"nil for vector", vecN, nil, "want [n]f64, got nil"},
		{"bad element", vecN, []any{1.0, "x"}, "at [1]: want f64, got string"},
		{"wrong length", vec2, []float64{1, 2, 3}, "want [2]f64, got []float64 of length 3"},
		{"ragged rows", matMN, [][]float64{{1, 2}, {3}}, "at [1]: want [n]f64 of length 2 like the rows before it (arrays are rectangular), got []float64 of length 1"},
		{"wrong columns", mat22, [][]float64{{1, 2, 3}, {4, 5, 6}}, "at [0]: want [2]f64, got []float64 of length 3"},
		{"wrong rows", mat22, [][]float64{{1, 2}}, "want [2][2]f64, got [][]float64 of length 1"},
		{"ragged generic", imat, [][]int{{1}, {2, 3}}, "at [1]: want [n]i64 of shape [1] like the elements before it (arrays are rectangular), got shape [2]"},
		{"matrix for vector", vecN, mat.NewDense(1, 2, nil), "want [n]f64, got *mat.Dense (gonum vectors and matrices convert to [n]f64 and [m][n]f64)"},
		{"vector for i64 array", ivec, mat.NewVecDense(1, nil), "want [n]i64, got *mat.VecDense (gonum vectors and matrices convert to [n]f64 and [m][n]f64)"},
		{"[]float64 for [n]i64", ivec, []float64{1}, "at [0]: want i64, got float64"},
		{"vector for matrix", matMN, []float64{1, 2}, "at [0]: want [n]f64, got float64"},
		{"tuple not []any", pair, []float64{1, 2}, "want (f64, [n]i64), got []float64 (pass a tuple as []any)"},
		{"tuple length", pair, []any{1.0}, "want (f64, [n]i64), got []interface {} of length 1"},
		{"tuple field", pair, []any{1.0, []string{"a"}}, "at .1[0]: want i64, got string"},
		{"array of tuples", pairs, []any{[]any{1.0, 2}}, "at [0].1: want bool, got int"},
		{"function", fnT, 1.0, "want f64 -> f64, got float64 (a function argument must be a runtime.Value holding a Nabla function)"},
		{"runtime.Value of the wrong kind", vecN, runtime.F64(1), "want [n]f64, got a runtime.Value holding no array"},
		{"runtime.Value of the wrong rank", vecN, runtime.Arr(&runtime.Array{Shape: []int{1, 1}, Kind: runtime.ElemF64, F: []float64{1}}), "want [n]f64, got a runtime.Value holding an array of rank 2"},
		{"runtime.Value of the wrong elements", vecN, runtime.Arr(runtime.FromI64([]int64{1})), "want [n]f64, got a runtime.Value holding an array of another element type"},
		{"runtime.Value of the wrong size", vec2, runtime.Arr(runtime.FromF64([]float64{1})), "want [2]f64, got a runtime.Value holding an array of shape [1]"},
		{"runtime.Value for a scalar", tF64, runtime.Tup(), "want f64, got a runtime.Value holding runtime.Tuple"},
		{"runtime.Value for a tuple", pair, runtime.F64(1), "want (f64, [n]i64), got a runtime.Value holding <nil>"},
		{"runtime.Value for a function", fnT, runtime.F64(1), "want f64 -> f64, got a runtime.Value holding <nil>"},
		{"nil *runtime.Array", vecN, (*runtime.Array)(nil), "want [n]f64, got nil *runtime.Array"},
		{"nil *mat.Dense", matMN, (*mat.Dense)(nil), "want [m][n]f64, got nil *mat.Dense"},
		{"nil *mat.VecDense", vecN, (*mat.VecDense)(nil), "want [n]f64, got nil *mat.VecDense"},
		{"nil *mat.VecDense for a matrix", matMN, (*mat.VecDense)(nil), "want [m][n]f64, got nil *mat.VecDense"},
		{"nil *mat.Dense for a scalar", tF64, (*mat.Dense)(nil), "want f64, got nil *mat.Dense"},
		{"nil *mat.Dense in a tuple", ir.TupleOf(tF64, matMN), []any{1.0, (*mat.Dense)(nil)}, "at .1: want [m][n]f64, got nil *mat.Dense"},
		{"nil *mat.Dense in a slice", cube, []*mat.Dense{mat.NewDense(1, 1, nil), nil}, "at [1]: want [m][n]f64, got nil *mat.Dense"},
		{"nil mat.Matrix inside a transpose", matMN, mat.Transpose{Matrix: (*mat.Dense)(nil)}, "want [m][n]f64, got mat.Transpose (its methods panicked: "},
		{"nil *[]float64", vecN, (*[]float64)(nil), "want [n]f64, got nil *[]float64"},
		{"nil map", vecN, map[int]float64(nil), "want [n]f64, got nil map[int]float64"},
	} {
		_, err := toValue(tc.t, tc.x)
		if err == nil {
			t.Errorf("%s: toValue(%s, %T) succeeded, want %q", tc.name, tc.t, tc.x, tc.msg)
			continue
		}
		// A msg ending in ": " is a prefix: the rest is a gonum panic's text.
		if got := err.Error(); got != tc.msg && !(strings.HasSuffix(tc.msg, ": ") && strings.HasPrefix(got, tc.msg)) {
			t.Errorf("%s: toValue(%s, %T):\n got %q\nwant %q", tc.name, tc.t, tc.x, err, tc.msg)
		}
	}
}

func TestFromValue(t *testing.T) {
	fn := runtime.Value{R: dummyFunc{}}
	for _, tc := range []struct {
		t    ir.Type
		json string // the value, decoded by type
		want any
	}{
		{tF64, "1.5", 1.5},
		{tI64, "-3", int64(-3)},
		{tBool, "true", true},
		{vecN, "[1, 2]", []float64{1, 2}},
		{vecN, "[]", []float64{}},
		{ivec, "[1, 2]", []int64{1, 2}},
		{bvec, "[false]", []bool{false}},
		{matMN, "[[1, 2], [3, 4], [5, 6]]", [][]float64{{1, 2}, {3, 4}, {5, 6}}},
		{matMN, "[]", [][]float64{}},
		{imat, "[[1], [2]]", [][]int64{{1}, {2}}},
		{cube, "[[[1, 2]], [[3, 4]]]", [][][]float64{{{1, 2}}, {{3, 4}}}},
		{pair, "[2.5, [7]]", []any{2.5, []int64{7}}},
		{ir.TUnit, "[]", []any{}},
		{pairs, "[[1, true], [2, false]]", [][]any{{1.0, true}, {2.0, false}}},
		{ir.TupleOf(tF64, ir.TupleOf(tBool, vecN)), "[1, [true, [3]]]", []any{1.0, []any{true, []float64{3}}}},
	} {
		v, err := jsonv.Decode(tc.t, []byte(tc.json))
		if err != nil {
			t.Fatalf("decoding %s as %s: %v", tc.json, tc.t, err)
		}
		got := fromValue(tc.t, v)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("fromValue(%s, %s) mismatch (-want +got):\n%s", tc.t, tc.json, diff)
		}
	}
	if got := fromValue(fnT, fn); got != fn {
		t.Errorf("fromValue(function) = %#v, want the runtime.Value itself", got)
	}
}

// TestFromValueFresh checks that results never alias the interpreter's
// arrays (a value def's array is shared by every call) and that the rows
// of a matrix cannot overwrite each other through append.
func TestFromValueFresh(t *testing.T) {
	a := &runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4}}
	rows := fromValue(matMN, runtime.Arr(a)).([][]float64)
	rows[0][0] = 99
	_ = append(rows[0], 42)
	if a.F[0] != 1 || rows[1][0] != 3 {
		t.Errorf("rows alias the array or each other: array %v, rows %v", a.F, rows)
	}
	v := runtime.FromF64([]float64{1})
	fromValue(vecN, runtime.Arr(v)).([]float64)[0] = 99
	if v.F[0] != 1 {
		t.Errorf("vector result aliases the array")
	}
}

func TestSignature(t *testing.T) {
	for _, tc := range []struct {
		params []ir.Type
		result ir.Type
		want   string
	}{
		{nil, tF64, "() -> f64"},
		{[]ir.Type{vecN}, tF64, "([n]f64) -> f64"},
		{[]ir.Type{matMN, vecN}, pair, "([m][n]f64, [n]f64) -> (f64, [n]i64)"},
		{[]ir.Type{fnT, tF64}, tF64, "(f64 -> f64, f64) -> f64"},
	} {
		if got := signature(tc.params, tc.result); got != tc.want {
			t.Errorf("signature = %q, want %q", got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"rosen", "rosen_grad", "main", "optim.lbfgs"}
	for _, tc := range []struct{ name, want string }{
		{"rosn", "rosen"},
		{"Rosen", "rosen"},
		{"man", "main"},
		{"optim.lbfsg", "optim.lbfgs"},
		{"completely_different", ""},
		{"x", ""},
		{"", ""},
	} {
		if got := suggest(tc.name, names); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
