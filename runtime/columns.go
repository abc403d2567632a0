// Column blocks: the copies with which generated code runs a columnwise
// def on blocks of columns (codegen/columns.go).

package runtime

// GetCols copies columns [lo, hi) of src, a rows×n row-major matrix,
// into dst, a rows×(hi-lo) one.
func GetCols(dst, src []float64, rows, n, lo, hi int) {
	w := hi - lo
	for r := range rows {
		copy(dst[r*w:(r+1)*w], src[r*n+lo:r*n+hi])
	}
}

// PutCols copies src, a rows×(hi-lo) row-major matrix, into columns
// [lo, hi) of dst, a rows×n one.
func PutCols(dst, src []float64, rows, n, lo, hi int) {
	w := hi - lo
	for r := range rows {
		copy(dst[r*n+lo:r*n+hi], src[r*w:(r+1)*w])
	}
}
