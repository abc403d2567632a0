package codegen

import (
	"strings"
	"testing"
)

// TestScratchBuildLoop checks hoistScratch on a build's loop, which keeps
// its first iteration's cuts (the result is cut there): a temporary only
// its own name reaches is cut once before the loop; the loop keeps its
// mark and release (see dropIdleMark).
func TestScratchBuildLoop(t *testing.T) {
	head := "for i_1 := 0; i_1 < n_2; i_1++ {\nmark_3 := ar.Mark()\n"
	tail := "if i_1 > 0 {\nar.Release(mark_3)\n}\n}\nreturn nil"
	first := "if i_1 == 0 {\na_9 = ar.F64w(tot_8)\n} else if d_7 != n_4 {\nreturn err_5\n}\n"
	cases := []struct {
		name, body string
		hoisted    bool // r_5 cut before the loop
	}{
		{
			name:    "read, resliced, copied, passed to a kernel",
			body:    "r_5 := ar.F64w(n_4)\nfor j_6 := range r_5 {\nr_5[j_6] = x_7[j_6]\n}\nr_5 = r_5[:n_4]\ns_8 := runtime.Dot(r_5, r_5)\n" + first + "copy(a_9[i_1*n_4:(i_1+1)*n_4], r_5)\n",
			hoisted: true,
		},
		{
			name: "a view kept in another variable",
			body: "r_5 := ar.F64w(n_4)\nv_6 := r_5[1:]\n" + first + "copy(a_9[i_1*n_4:(i_1+1)*n_4], v_6)\n",
		},
		{
			name: "the element itself kept",
			body: "r_5 := ar.F64w(n_4)\nif i_1 == 0 {\na_9 = r_5\n}\n",
		},
		{
			name: "passed to a generated function",
			body: "r_5 := ar.F64w(n_4)\ny_6, err_7 := fn_f(ar, r_5, n_4)\n" + first,
		},
		{
			name:    "beside a cut of a size the loop changes",
			body:    "r_5 := ar.F64w(n_4)\nr_5[0] = 1\nz_6 := ar.F64(k_7)\nz_6[0] = r_5[0]\n" + first,
			hoisted: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fn{params: map[string]bool{"n_2": true, "n_4": true}}
			got := f.hoistScratch(head + c.body + tail)
			if h := strings.HasPrefix(got, "scratch_"); h != c.hoisted {
				t.Errorf("hoisted %v, want %v:\n%s", h, c.hoisted, got)
			}
			if !strings.Contains(got, "ar.Mark()") || !strings.Contains(got, "ar.Release(mark_3)") {
				t.Errorf("mark or release gone:\n%s", got)
			}
		})
	}
}
