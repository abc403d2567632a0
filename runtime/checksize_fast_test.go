package runtime

import (
	"fmt"
	"testing"
)

// TestCheckSizeFast compares CheckSizeFast with CheckSize at the edges of
// every bound, without an array limit and under limits whose bound is 0,
// 1, a small size, and larger than MaxElems: the same size and the same
// error text.
func TestCheckSizeFast(t *testing.T) {
	defer SetArrayLimit(0)
	for _, lim := range []int64{0, 1, 7, 8, 9, 15, 16, 800, 8 * MaxElems, 8*MaxElems + 8, 1 << 62} {
		SetArrayLimit(lim)
		var sizes []int64
		for _, b := range []int64{0, 1, lim / 8, MaxElems} {
			sizes = append(sizes, b-1, b, b+1)
		}
		sizes = append(sizes, -1<<63, 1<<63-1, 1<<62)
		for _, n := range sizes {
			wn, werr := CheckSize(n)
			gn, gerr := CheckSizeFast(n)
			if gn != wn || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("limit %d, size %d: CheckSizeFast %d, %v; CheckSize %d, %v", lim, n, gn, gerr, wn, werr)
			}
		}
	}
}
