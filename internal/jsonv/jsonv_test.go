package jsonv

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
	"pgregory.net/rapid"
)

var (
	f64  = ir.TF64
	i64  = ir.TI64
	bl   = ir.TBool
	vecN = ir.ArrayOf(ir.SymDim("n"), f64)
	vec3 = ir.ArrayOf(ir.ConstDim(3), f64)
	matN = ir.ArrayOf(ir.SymDim("m"), ir.ArrayOf(ir.SymDim("n"), f64))
	mat2 = ir.ArrayOf(ir.SymDim("m"), ir.ArrayOf(ir.ConstDim(2), f64))
	ivec = ir.ArrayOf(ir.SymDim("n"), i64)
	bvec = ir.ArrayOf(ir.SymDim("n"), bl)
	cube = ir.ArrayOf(ir.SymDim("a"), ir.ArrayOf(ir.SymDim("b"), ir.ArrayOf(ir.SymDim("c"), i64)))
	pair = ir.TupleOf(f64, i64)
	nest = ir.TupleOf(vecN, ir.TupleOf(bl, f64))
	pvec = ir.ArrayOf(ir.SymDim("n"), pair)
	fn   = &ir.Func{Params: []ir.Type{f64}, Result: f64}
)

// TestDecodeEncode decodes each input and encodes the value again: the
// result is the canonical form of the input.
func TestDecodeEncode(t *testing.T) {
	for _, tc := range []struct {
		t        ir.Type
		in, want string
	}{
		{f64, "1.5", "1.5"},
		{f64, "2", "2"},
		{f64, "2.0", "2"},
		{f64, "-0.0", "-0"},
		{f64, "1e-3", "0.001"},
		{f64, "2.5E+4", "25000"},
		{f64, "1e300", "1e+300"},
		{f64, "1e-7", "1e-7"},
		{f64, "0.1", "0.1"},
		{f64, "1e-400", "0"},
		{f64, `"NaN"`, `"NaN"`},
		{f64, `"+Inf"`, `"+Inf"`},
		{f64, `"Inf"`, `"+Inf"`},
		{f64, `"-Inf"`, `"-Inf"`},
		{f64, " \n 3 \t", "3"},
		{i64, "42", "42"},
		{i64, "-7", "-7"},
		{i64, "9007199254740993", "9007199254740993"},
		{i64, "9223372036854775807", "9223372036854775807"},
		{i64, "-9223372036854775808", "-9223372036854775808"},
		{i64, "2.0", "2"},
		{i64, "1e3", "1000"},
		{i64, "1.5e1", "15"},
		{i64, "0e-999999", "0"},
		{i64, "-0.0", "0"},
		{bl, "true", "true"},
		{bl, "false", "false"},
		{vecN, "[0.5, -1.25, 2]", "[0.5, -1.25, 2]"},
		{vecN, "[]", "[]"},
		{vec3, `[1,"NaN",3]`, `[1, "NaN", 3]`},
		{matN, "[[1,2,3],[4,5,6]]", "[[1, 2, 3], [4, 5, 6]]"},
		{matN, "[]", "[]"},
		{matN, "[[],[]]", "[[], []]"},
		{mat2, "[]", "[]"},
		{ivec, "[1, -2, 3]", "[1, -2, 3]"},
		{bvec, "[true, false]", "[true, false]"},
		{cube, "[[[1],[2]],[[3],[4]],[[5],[6]]]", "[[[1], [2]], [[3], [4]], [[5], [6]]]"},
		{ir.TUnit, "[]", "[]"},
		{pair, "[1.5, 2]", "[1.5, 2]"},
		{nest, "[[1, 2], [true, 0.25]]", "[[1, 2], [true, 0.25]]"},
		{pvec, "[[1, 2], [3, 4]]", "[[1, 2], [3, 4]]"},
	} {
		v, err := Decode(tc.t, []byte(tc.in))
		if err != nil {
			t.Errorf("Decode(%s, %s): %v", tc.t, tc.in, err)
			continue
		}
		out, err := Encode(tc.t, v)
		if err != nil {
			t.Errorf("Encode(%s, Decode(%s)): %v", tc.t, tc.in, err)
			continue
		}
		if string(out) != tc.want {
			t.Errorf("Decode+Encode(%s, %s) = %s, want %s", tc.t, tc.in, out, tc.want)
		}
	}
}

// TestDecodeRepresentation checks the run-time layout the interpreter
// expects: nested arrays are one flat row-major array, arrays of tuples
// are boxed, i64 keeps all 64 bits.
func TestDecodeRepresentation(t *testing.T) {
	v, err := Decode(matN, []byte("[[1,2,3],[4,5,6]]"))
	if err != nil {
		t.Fatal(err)
	}
	a := v.Array()
	if a == nil || a.Kind != runtime.ElemF64 || !runtime.SameShape(a.Shape, []int{2, 3}) || a.F[4] != 5 {
		t.Errorf("[m][n]f64: got %+v, want a flat 2x3 f64 array", a)
	}

	v, err = Decode(mat2, []byte("[]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Array().Shape; !runtime.SameShape(got, []int{0, 2}) {
		t.Errorf("[m][2]f64 from []: shape %v, want [0 2] (the declared inner size)", got)
	}

	v, err = Decode(pvec, []byte("[[1, 2], [3, 4]]"))
	if err != nil {
		t.Fatal(err)
	}
	if a := v.Array(); a.Kind != runtime.ElemBox || a.Box[1].Tuple()[1].I != 4 {
		t.Errorf("[n](f64, i64): got %+v, want boxed tuples", a)
	}

	v, err = Decode(i64, []byte("9007199254740993"))
	if err != nil || v.I != 9007199254740993 {
		t.Errorf("i64 above 2^53: got %d, %v", v.I, err)
	}

	v, err = Decode(bl, []byte("true"))
	if err != nil || !v.AsBool() {
		t.Errorf("bool: got %+v, %v", v, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		t       ir.Type
		in, msg string
	}{
		{f64, "", "want f64, got no JSON value"},
		{f64, "   ", "want f64, got no JSON value"},
		{f64, "1.5.2", "not valid JSON"},
		{f64, "[1, 2", "not valid JSON"},
		{f64, "1 2", "not valid JSON: unexpected text after the value"},
		{f64, "NaN", "not valid JSON"},
		{f64, `"nan"`, `want f64, got a string ("nan") (the only strings allowed are "NaN", "+Inf", "-Inf" and "Inf")`},
		{f64, "true", "want f64, got a bool (true)"},
		{f64, "null", "want f64, got null"},
		{f64, "{}", "want f64, got an object"},
		{f64, "[1]", "want f64, got an array of 1 element"},
		{f64, "1e400", "want f64, got 1e400, which is out of range"},
		{i64, "1.5", "want i64, got 1.5, which is not an integer"},
		{i64, "1e-999", "want i64, got 1e-999, which is not an integer"},
		{i64, "9223372036854775808", "want i64, got 9223372036854775808, which is out of the i64 range"},
		{i64, "1e19", "want i64, got 1e19, which is out of the i64 range"},
		{i64, "1e999999999999", "want i64, got 1e999999999999, which is out of the i64 range"},
		{i64, `"3"`, `want i64, got a string ("3")`},
		{i64, "true", "want i64, got a bool (true)"},
		{bl, "1", "want bool, got a number (1)"},
		{bl, `"true"`, `want bool, got a string ("true")`},
		{vecN, `"x"`, `want [n]f64, got a string ("x")`},
		{vecN, "3", "want [n]f64, got a number (3)"},
		{vecN, `[1, "x"]`, `at [1]: want f64, got a string ("x")`},
		{vecN, "[[1]]", "at [0]: want f64, got an array of 1 element"},
		{vec3, "[1, 2]", "want [3]f64, got an array of 2 elements"},
		{matN, "[[1, 2], [3]]", "at [1]: want [n]f64 with 2 elements like the rows before it (arrays are rectangular), got an array of 1 element"},
		{matN, "[[1, 2], 3]", "at [1]: want [n]f64, got a number (3)"},
		{matN, "[1, 2]", "at [0]: want [n]f64, got a number (1)"},
		{mat2, "[[1, 2, 3]]", "at [0]: want [2]f64, got an array of 3 elements"},
		{cube, "[[[1],[2]],[[3],[4, 5]]]", "at [1][1]: want [c]i64 with 1 element like the rows before it (arrays are rectangular), got an array of 2 elements"},
		{cube, "[[[1],[2]],[[3],[true]]]", "at [1][1][0]: want i64, got a bool (true)"},
		{ivec, "[1, 2.5]", "at [1]: want i64, got 2.5, which is not an integer"},
		{pair, "[1]", "want (f64, i64), got an array of 1 element"},
		{pair, "[1, 2, 3]", "want (f64, i64), got an array of 3 elements"},
		{pair, `{"0": 1}`, "want (f64, i64), got an object"},
		{pair, "[1, 2.5]", "at .1: want i64, got 2.5, which is not an integer"},
		{nest, "[[1], [1, 2]]", "at .1.0: want bool, got a number (1)"},
		{pvec, "[[1, 2], [3, true]]", "at [1].1: want i64, got a bool (true)"},
		{ir.TUnit, "[1]", "want (), got an array of 1 element"},
		{fn, "1", "want f64 -> f64, but a function value (f64 -> f64) cannot be given as JSON"},
		{ir.TupleOf(f64, fn), "[1, 2]", "want (f64, f64 -> f64), but a function value (f64 -> f64) cannot be given as JSON"},
		{f64, "1.5.2", "not valid JSON: unexpected text after the value (at byte 4)"},
		{f64, "[1,]", "not valid JSON: invalid character ']' looking for beginning of value (at byte 4)"},
		{f64, " 1  2", "not valid JSON: unexpected text after the value (at byte 5)"},
		{vecN, "[1, 2", "not valid JSON: unexpected EOF (at byte 6)"},
		{i64, strings.Repeat("9", 60), "want i64, got " + strings.Repeat("9", 37) + "..., which is out of the i64 range"},
		{bl, "1" + strings.Repeat("0", 60), "want bool, got a number (1" + strings.Repeat("0", 36) + "...)"},
		{vecN, `["` + strings.Repeat("x", 50) + `"]`, `at [0]: want f64, got a string ("` + strings.Repeat("x", 37) + `...")`},
	} {
		_, err := Decode(tc.t, []byte(tc.in))
		if err == nil {
			t.Errorf("Decode(%s, %q) succeeded, want error %q", tc.t, tc.in, tc.msg)
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("Decode(%s, %q) error is %T, want *Error", tc.t, tc.in, err)
		}
		if got := err.Error(); !strings.HasPrefix(got, tc.msg) {
			t.Errorf("Decode(%s, %q):\n got %q\nwant %q", tc.t, tc.in, got, tc.msg)
		}
	}
}

func TestEncode(t *testing.T) {
	m := runtime.Arr(&runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{1, math.NaN(), math.Inf(-1), 1e21}})
	boxedRows := runtime.Arr(&runtime.Array{Shape: []int{2}, Kind: runtime.ElemBox, Box: []runtime.Value{
		runtime.Arr(runtime.FromF64([]float64{1, 2})), runtime.Arr(runtime.FromF64([]float64{3, 4})),
	}})
	sliced := runtime.FromF64([]float64{1, 2, 3, 4}).Slice(1, 3)
	for _, tc := range []struct {
		t    ir.Type
		v    runtime.Value
		want string
	}{
		{f64, runtime.F64(math.Nextafter(0.3, 1)), "0.30000000000000004"},
		{f64, runtime.F64(1e21), "1e+21"},
		{f64, runtime.F64(123456789), "123456789"},
		{f64, runtime.F64(1e20), "100000000000000000000"},
		{f64, runtime.F64(-1.5e-7), "-1.5e-7"},
		{f64, runtime.F64(5e-324), "5e-324"},
		{f64, runtime.F64(math.MaxFloat64), "1.7976931348623157e+308"},
		{f64, runtime.F64(math.NaN()), `"NaN"`},
		{f64, runtime.F64(math.Inf(1)), `"+Inf"`},
		{i64, runtime.I64(math.MinInt64), "-9223372036854775808"},
		{bl, runtime.Bool(true), "true"},
		{matN, m, `[[1, "NaN"], ["-Inf", 1e+21]]`},
		{matN, boxedRows, "[[1, 2], [3, 4]]"},
		{vecN, runtime.Arr(sliced), "[2, 3]"},
		{ir.TupleOf(f64, ir.TupleOf(), bvec), runtime.Tup(runtime.F64(1), runtime.Tup(), runtime.Arr(&runtime.Array{Shape: []int{1}, Kind: runtime.ElemBool, B: []bool{true}})), "[1, [], [true]]"},
	} {
		got, err := Encode(tc.t, tc.v)
		if err != nil {
			t.Errorf("Encode(%s): %v", tc.t, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("Encode(%s) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		t   ir.Type
		v   runtime.Value
		msg string
	}{
		{fn, runtime.Value{}, "a value of type f64 -> f64 has no JSON form"},
		{ir.TupleOf(f64, fn), runtime.Tup(runtime.F64(1), runtime.Value{}), "a value of type f64 -> f64 has no JSON form"},
		{vecN, runtime.F64(1), "jsonv: a value of type [n]f64 is not an array"},
		{pair, runtime.Tup(runtime.F64(1)), "jsonv: a value of type (f64, i64) has 1 fields"},
	} {
		_, err := Encode(tc.t, tc.v)
		if err == nil || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("Encode(%s): got error %v, want %q", tc.t, err, tc.msg)
		}
	}
}

// TestFloatRoundTrip checks that every float64 encodes as valid JSON (or
// one of the special strings) and reads back bit for bit.
func TestFloatRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := math.Float64frombits(rapid.Uint64().Draw(t, "bits"))
		text := AppendFloat(nil, f)
		if !json.Valid(text) {
			t.Fatalf("%v encodes as %s, which is not JSON", f, text)
		}
		v, err := Decode(f64, text)
		if err != nil {
			t.Fatalf("%v encodes as %s, which does not decode: %v", f, text, err)
		}
		if math.IsNaN(f) {
			if !math.IsNaN(v.F) {
				t.Fatalf("NaN read back as %v", v.F)
			}
			return
		}
		if math.Float64bits(v.F) != math.Float64bits(f) {
			t.Fatalf("%v encodes as %s, which reads back as %v", f, text, v.F)
		}
		if !math.IsInf(f, 0) {
			if g, err := strconv.ParseFloat(string(text), 64); err != nil || g != f {
				t.Fatalf("%v encodes as %s, which strconv reads as %v, %v", f, text, g, err)
			}
		}
	})
}

// TestIntRoundTrip checks every int64 against its decimal text.
func TestIntRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		i := rapid.Int64().Draw(t, "i")
		text, err := Encode(i64, runtime.I64(i))
		if err != nil || string(text) != strconv.FormatInt(i, 10) {
			t.Fatalf("Encode(%d) = %s, %v", i, text, err)
		}
		v, err := Decode(i64, text)
		if err != nil || v.I != i {
			t.Fatalf("Decode(%s) = %d, %v", text, v.I, err)
		}
	})
}
