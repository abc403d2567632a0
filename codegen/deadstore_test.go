package codegen

import "testing"

func TestDropWriteOnly(t *testing.T) {
	cases := []struct{ name, in, want string }{ // want "": the input unchanged
		{
			name: "a build nothing reads goes with the array copied into it",
			in: `var a_1 []float64
r_2 := ar.F64w(n_3)
for i_4 := 0; i_4 < n_5; i_4++ {
if i_4 == 0 {
tot_6, err_7 := runtime.MulSize(n_5, n_3)
if err_7 != nil {
return err_7
}
a_1 = ar.F64w(tot_6)
}
copy(a_1[i_4*n_3:(i_4+1)*n_3], r_2)
}
return nil`,
			want: `for i_4 := 0; i_4 < n_5; i_4++ {
if i_4 == 0 {
tot_6, err_7 := runtime.MulSize(n_5, n_3)
if err_7 != nil {
return err_7
}
}
}
return nil`,
		},
		{
			name: "an array read after the copies stays",
			in: `a_1 := ar.F64w(n_2)
copy(a_1[0:n_2], x_3)
s_4 := runtime.Sum(a_1)`,
		},
		{
			name: "a view of the array is a read",
			in: `a_1 := ar.F64w(n_2)
copy(a_1[0:n_2], x_3)
v_4 := a_1[1:]`,
		},
		{
			name: "storage the function did not cut stays",
			in: `copy(dst_1[0:n_2], x_3)
return nil`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = c.in
			}
			if got := dropWriteOnly(c.in); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
