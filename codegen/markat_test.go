package codegen

import "testing"

// markInPlace rewrites exactly the declaring form of a mark, keeping its
// indentation; everything else (a mark reassigned in an ODE's right-hand
// side, a release, a line that merely mentions Mark) is left as it is.
func TestMarkInPlace(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"none", "x_1 := 2\nreturn x_1\n", "x_1 := 2\nreturn x_1\n"},
		{"loop", "for i_1 := 0; i_1 < n_2; i_1++ {\n\tmark_3 := ar.Mark()\n\tar.Release(mark_3)\n}\n",
			"for i_1 := 0; i_1 < n_2; i_1++ {\n\tvar mark_3 runtime.ArenaMark\n\tar.MarkAt(&mark_3)\n\tar.Release(mark_3)\n}\n"},
		{"function", "mark_9 := ar.Mark()\nar.Keep(mark_9, &a_1)\n", "var mark_9 runtime.ArenaMark\nar.MarkAt(&mark_9)\nar.Keep(mark_9, &a_1)\n"},
		{"reassigned", "\t\tmark_4 = ar.Mark()\n", "\t\tmark_4 = ar.Mark()\n"},
		{"not alone", "m_1, n_2 := ar.Mark(), 3\n", "m_1, n_2 := ar.Mark(), 3\n"},
	}
	for _, c := range cases {
		if got := markInPlace(c.in); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}
