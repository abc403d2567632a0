package codegen

import "testing"

func TestDropDeadParts(t *testing.T) {
	cases := []struct{ name, in, want string }{ // want "": the input unchanged
		{
			name: "a part copied in a cycle and never read goes",
			in: `var s_1 []float64
var s_2 int
s_1, s_2 = a_3, n_4
for {
var c_5 []float64
var c_6 int
if x_7 {
c_5, c_6 = s_1, s_2
} else {
c_5, c_6 = s_1, 3
}
s_1, s_2 = c_5, c_6
}
return s_1`,
			want: `var s_1 []float64
s_1 = a_3
for {
var c_5 []float64
if x_7 {
c_5 = s_1
} else {
c_5 = s_1
}
s_1 = c_5
}
return s_1`,
		},
		{
			name: "a part read once is kept, with all it is copied from",
			in: `var s_1 int
var s_2 int
s_1, s_2 = n_3, n_4
y_5 := s_2 + 1
return y_5`,
			want: `var s_2 int
s_2 = n_4
y_5 := s_2 + 1
return y_5`,
		},
		{
			name: "a computed store into a dead local keeps its right side",
			in: `var s_1 int
var s_2 float64
s_1, s_2 = f(x_3)
return s_2`,
			want: `var s_2 float64
_, s_2 = f(x_3)
return s_2`,
		},
		{
			name: "a part carried in a buffer and never read goes with its buffer and the fresh value it held",
			in: `var s_1 []float64
var s_2 float64
a_3 := ar.F64(n_4)
s_1, s_2 = a_3, 1.0
buf_5 := ar.F64w(n_4)
for {
a_6 := ar.F64(n_4)
s_1, s_2 = a_6, x_8
if n_4 == len(buf_5) {
copy(buf_5, s_1)
s_1 = buf_5
ar.release(m_7)
}
}
return s_2`,
			want: `var s_2 float64
_ = ar.F64(n_4)
s_2 = 1.0
_ = ar.F64w(n_4)
for {
_ = ar.F64(n_4)
s_2 = x_8
{
ar.release(m_7)
}
}
return s_2`,
		},
		{
			name: "a copy into a slice that is not a carry buffer writes through it and stays",
			in: `row_1 := m_2[0:3]
copy(row_1, x_3)
return m_2`,
		},
		{
			name: "writes through a local and non-local targets count as reads",
			in: `var s_1 []float64
var s_2 []float64
s_1, s_2 = a_3, b_4
s_1[0] = 1
sink, _ = s_2, b_4
return nil`,
		},
	}
	for _, c := range cases {
		if c.want == "" {
			c.want = c.in
		}
		if got := dropDeadParts(c.in); got != c.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}
