package runtime

import "unsafe"

// OffsetIn reports where s starts within the storage of base: the index
// of s[0] in base[:cap(base)], and whether all of s lies there. Generated
// code uses it to move a call's results within its arena (Arena.Keep).
func OffsetIn(base, s []float64) (int, bool) {
	if cap(base) == 0 || len(s) == 0 {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(base[:cap(base)])))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	if p < b || (p-b)%8 != 0 {
		return 0, false
	}
	off := (p - b) / 8
	if off+uintptr(len(s)) > uintptr(cap(base)) {
		return 0, false
	}
	return int(off), true
}
