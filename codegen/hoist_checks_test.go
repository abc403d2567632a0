package codegen

import (
	"strings"
	"testing"
)

// TestHoistChecks checks which size checks hoistChecks computes before
// their loops: those of arguments no iteration changes, out of every
// loop they are invariant in, the failing `if` left in its place.
func TestHoistChecks(t *testing.T) {
	cases := []struct {
		name, in string
		calls    []int // line of each runtime size check in the output
	}{
		{
			name: "invariant in two loops",
			in: `for i_1 := 0; i_1 < n_2; i_1++ {
for j_3 := 0; j_3 < n_2; j_3++ {
tot_4, err_5 := runtime.MulSize(a_6, b_7)
if err_5 != nil {
return err_5
}
_ = tot_4
}
}`,
			calls: []int{0},
		},
		{
			name: "an argument the loop changes",
			in: `for i_1 := 0; i_1 < n_2; i_1++ {
a_6 = i_1
tot_4, err_5 := runtime.MulSize(a_6, b_7)
if err_5 != nil {
return err_5
}
_ = tot_4
}`,
			calls: []int{2},
		},
		{
			name: "declared in the loop",
			in: `for i_1 := 0; i_1 < n_2; i_1++ {
c_8 := i_1 * 2
n_9, err_10 := runtime.CheckSize(c_8)
if err_10 != nil {
return err_10
}
_ = n_9
}`,
			calls: []int{2},
		},
		{
			name: "under an if stays",
			in: `for i_1 := 0; i_1 < n_2; i_1++ {
if i_1 == 0 {
n_9, err_10 := runtime.CheckSize(a_6)
if err_10 != nil {
return err_10
}
_ = n_9
}
}`,
			calls: []int{2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fn{params: map[string]bool{"a_6": true, "b_7": true, "n_2": true}}
			got := strings.Split(f.hoistChecks(c.in), "\n")
			var calls []int
			for k, l := range got {
				if strings.Contains(l, "runtime.MulSize(") || strings.Contains(l, "runtime.CheckSize(") {
					calls = append(calls, k)
				}
			}
			if len(calls) != len(c.calls) || len(calls) > 0 && calls[0] != c.calls[0] {
				t.Fatalf("checks at lines %v, want %v:\n%s", calls, c.calls, strings.Join(got, "\n"))
			}
			// The failure stays in the loop, after the check's result.
			if !strings.Contains(strings.Join(got, "\n"), "!= nil {\nreturn err_") {
				t.Errorf("failure moved:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}
