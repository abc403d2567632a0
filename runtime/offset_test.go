package runtime

import "testing"

func TestOffsetIn(t *testing.T) {
	base := make([]float64, 10, 16)
	other := make([]float64, 4)
	for _, c := range []struct {
		name string
		s    []float64
		off  int
		ok   bool
	}{
		{"start", base[:3], 0, true},
		{"middle", base[4:7], 4, true},
		{"within capacity", base[12:16], 12, true},
		{"elsewhere", other, 0, false},
		{"empty", base[5:5], 0, false},
	} {
		off, ok := OffsetIn(base, c.s)
		if off != c.off || ok != c.ok {
			t.Errorf("%s: OffsetIn = %d, %v; want %d, %v", c.name, off, ok, c.off, c.ok)
		}
	}
	if _, ok := OffsetIn(nil, base); ok {
		t.Error("OffsetIn(nil, s) is ok")
	}
}
