package gradbench

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nabla-lang/nabla/runtime"
)

func init() {
	register(&eval{name: "ba", decode: decodeBA, funcs: map[string]*function{
		"objective": fn("objective", encodeBAObjective),
		"jacobian":  fn("jacobian", encodeBAJacobian),
	}})
}

// baSize is the problem's size, which the encoders need.
type baSize struct{ n, m, p int }

// decodeBA reads {n, m, p, cam: [11], x: [3], w, feat: [2]} and expands it,
// as the eval requires, into n identical cameras, m identical points and p
// observations with identical weights and features, observation i linking
// camera i mod n with point i mod m.
func decodeBA(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var n, m, p int
	var w float64
	var cam, x, feat []float64
	for _, f := range []struct {
		name string
		dst  any
	}{{"n", &n}, {"m", &m}, {"p", &p}, {"cam", &cam}, {"x", &x}, {"w", &w}, {"feat", &feat}} {
		if err := field(in, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	switch {
	case n < 1 || m < 1 || p < 1:
		return nil, fmt.Errorf("want n, m and p at least 1, got %d, %d and %d", n, m, p)
	case len(cam) != 11 || len(x) != 3 || len(feat) != 2:
		return nil, fmt.Errorf("cam, x and feat have %d, %d and %d elements, want 11, 3 and 2", len(cam), len(x), len(feat))
	case int64(p) > 1<<26:
		return nil, fmt.Errorf("p = %d observations is more than this tool holds", p)
	}
	cams := make([]float64, 0, 11*n)
	for range n {
		cams = append(cams, cam...)
	}
	pts := make([]float64, 0, 3*m)
	for range m {
		pts = append(pts, x...)
	}
	ws := make([]float64, p)
	feats := make([]float64, 0, 2*p)
	camIdx := make([]int64, p)
	ptIdx := make([]int64, p)
	for i := range p {
		ws[i] = w
		feats = append(feats, feat...)
		camIdx[i] = int64(i % n)
		ptIdx[i] = int64(i % m)
	}
	arr := func(flat []float64, rows, cols int) runtime.Value {
		return runtime.Arr(&runtime.Array{Shape: []int{rows, cols}, Kind: runtime.ElemF64, F: flat})
	}
	return &input{
		args: []runtime.Value{arr(cams, n, 11), arr(pts, m, 3), vec(ws), arr(feats, p, 2), ivec(camIdx), ivec(ptIdx)},
		meta: baSize{n, m, p},
	}, nil
}

// encodeBAObjective writes observation 0's residuals and their count, the
// shape of the reference's answer.
func encodeBAObjective(b []byte, v runtime.Value, in *input) ([]byte, error) {
	t, err := tuple(v, 2)
	if err != nil {
		return b, err
	}
	e, err := f64Array(t[0], 2)
	if err != nil {
		return b, err
	}
	we, err := f64Array(t[1], 1)
	if err != nil {
		return b, err
	}
	p := e.Shape[1]
	if p == 0 || e.Shape[0] != 2 || we.Shape[0] != p {
		return b, fmt.Errorf("residuals have shapes %v and %v", e.Shape, we.Shape)
	}
	b = append(b, `{"reproj_error":{"elements":`...)
	if b, err = appendFloats(b, []float64{e.F[0], e.F[p]}); err != nil {
		return b, err
	}
	b = append(b, `,"repeated":`...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, `},"w_err":{"element":`...)
	if b, err = appendFloat(b, we.F[0]); err != nil {
		return b, err
	}
	b = append(b, `,"repeated":`...)
	b = strconv.AppendInt(b, int64(p), 10)
	return append(b, "}}"...), nil
}

// encodeBAJacobian writes the Jacobian in compressed-row form, as much of
// it as the eval asks for: the first 30 entries of each of rows, cols and
// vals, then the last entry. Rows 2i and 2i+1 are observation i's
// reprojection residuals, with 15 non-zeros each (its camera's 11 columns,
// its point's 3, its weight's); row 2p + i is its weight residual, with one
// non-zero in its weight's column.
func encodeBAJacobian(b []byte, v runtime.Value, in *input) ([]byte, error) {
	size, ok := in.meta.(baSize)
	if !ok {
		return b, fmt.Errorf("no problem size")
	}
	n, m, p := size.n, size.m, size.p
	t, err := tuple(v, 2)
	if err != nil {
		return b, err
	}
	jr, err := f64Array(t[0], 3)
	if err != nil {
		return b, err
	}
	jw, err := f64Array(t[1], 1)
	if err != nil {
		return b, err
	}
	if jr.Shape[0] != 2 || jr.Shape[1] != 15 || jr.Shape[2] != p || jw.Shape[0] != p {
		return b, fmt.Errorf("jacobian parts have shapes %v and %v, want [2 15 %d] and [%d]", jr.Shape, jw.Shape, p, p)
	}
	nrows, nnz := 3*p+1, 31*p
	rowStart := func(r int) int {
		if r <= 2*p {
			return 15 * r
		}
		return 30*p + (r - 2*p)
	}
	// entry returns the column and value of non-zero e.
	entry := func(e int) (int, float64) {
		if e >= 30*p {
			i := e - 30*p
			return 11*n + 3*m + i, jw.F[i]
		}
		i, k := e/30, e%30
		j, s := k/15, k%15
		val := jr.F[(j*15+s)*p+i]
		switch {
		case s < 11:
			return 11*(i%n) + s, val
		case s < 14:
			return 11*n + 3*(i%m) + s - 11, val
		}
		return 11*n + 3*m + i, val
	}
	// shown lists the indices the eval keeps of an array of length l.
	shown := func(l int) []int {
		idx := make([]int, 0, 31)
		for i := 0; i < min(l, 30); i++ {
			idx = append(idx, i)
		}
		return append(idx, l-1)
	}
	var rows, cols []int
	var vals []float64
	for _, r := range shown(nrows) {
		rows = append(rows, rowStart(r))
	}
	for _, e := range shown(nnz) {
		c, x := entry(e)
		cols = append(cols, c)
		vals = append(vals, x)
	}
	b = append(b, `{"rows":`...)
	b = appendInts(b, rows)
	b = append(b, `,"cols":`...)
	b = appendInts(b, cols)
	b = append(b, `,"vals":`...)
	if b, err = appendFloats(b, vals); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}
