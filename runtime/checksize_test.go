package runtime

// CheckSize decides the common case with one comparison against
// sizeBound, kept by SetArrayLimit; checkSize is the whole check. These
// tests hold the two to the same sizes and the same errors, at the
// edges of each limit.

import (
	"fmt"
	"math"
	"testing"
)

func TestCheckSizeFastPath(t *testing.T) {
	defer SetArrayLimit(0)
	sizes := []int64{math.MinInt64, -5, -1, 0, 1, 7, 8, 9, 10, 1000, 1 << 25,
		MaxElems - 1, MaxElems, MaxElems + 1, 1 << 62, math.MaxInt64}
	limits := []int64{0, -3, 1, 7, 8, 9, 64, 65, 79, 80, 8000, 8 * MaxElems,
		8*MaxElems + 8, math.MaxInt64}
	for _, lim := range limits {
		SetArrayLimit(lim)
		for _, n := range sizes {
			got, gotErr := CheckSize(n)
			want, wantErr := checkSize(n)
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("limit %d: CheckSize(%d) = %d, %v; checkSize gives %d, %v", lim, n, got, gotErr, want, wantErr)
			}
			// The rule as documented: no negative size, none above
			// MaxElems, none whose 8-byte elements pass a set limit.
			ok := n >= 0 && n <= MaxElems && (lim <= 0 || n <= lim/8)
			if (gotErr == nil) != ok {
				t.Errorf("limit %d: CheckSize(%d) error %v; want an error: %v", lim, n, gotErr, !ok)
			}
			if ok && got != int(n) {
				t.Errorf("limit %d: CheckSize(%d) = %d", lim, n, got)
			}
		}
	}
}

func TestMulSizeUnderLimit(t *testing.T) {
	defer SetArrayLimit(0)
	for _, lim := range []int64{0, 80, 81, 8 * MaxElems} {
		SetArrayLimit(lim)
		for _, c := range []struct{ n, rs int }{{0, 5}, {2, 5}, {3, 4}, {5, 2}, {-1, 3}, {3, -1},
			{1 << 25, 1 << 25}, {1 << 25, 1 << 26}, {math.MaxInt64, 2}} {
			got, err := MulSize(c.n, c.rs)
			prod := int64(c.n) * int64(c.rs)
			over := c.rs > 0 && c.n > MaxElems/c.rs
			ok := !over && prod >= 0 && prod <= MaxElems && (lim <= 0 || prod <= lim/8)
			if (err == nil) != ok || (ok && got != int(prod)) {
				t.Errorf("limit %d: MulSize(%d, %d) = %d, %v; want ok %v", lim, c.n, c.rs, got, err, ok)
			}
		}
	}
}
