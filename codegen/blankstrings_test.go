package codegen

import "testing"

// TestBlankStrings: the closure captures of a parallel loop are found
// outside string literals only; a def's name in an error frame, such as
// "f$jvp_01", is no local to capture.
func TestBlankStrings(t *testing.T) {
	cases := []struct{ in, want string }{
		{`err = runtime.WithFrame(err_4, "f$jvp_01", "m.nab:1:5", "")`, `err = runtime.WithFrame(err_4, "        ", "         ", "")`},
		{`x_1 := "a\"b_2" + y_3`, `x_1 := "      " + y_3`},
		{`r_5[i_6] = x_7 * 2.0`, `r_5[i_6] = x_7 * 2.0`},
	}
	for _, c := range cases {
		if got := blankStrings(c.in); got != c.want {
			t.Errorf("blankStrings(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
