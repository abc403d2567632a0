package runtime

import "unsafe"

// Destinations written in place. A generated ...Into function may let
// its def write an array result straight into the caller's buffer
// instead of the arena (codegen's inplace.go), but only when that buffer
// shares no memory with an argument the def reads or with another
// destination: otherwise a write could change what the def reads next,
// or the order of the writes would decide what the caller sees. Dsts
// gathers the destinations written in place and answers that question;
// a call where the answer is no goes the way it always did (arena, then
// copy).
//
// The slices themselves are kept, not their addresses: Go may move a
// goroutine's stack (and a buffer on it) between two calls, so addresses
// are taken and compared within one loop that calls nothing.

// maxDsts bounds the slices (vectors and rows) of one call's
// destinations written in place; beyond it the call copies.
const maxDsts = 8

// Dsts is the memory of an ...Into call's destinations written in place.
type Dsts struct {
	r   [maxDsts][]float64
	n   int
	bad bool // too many slices, or two that overlap
}

// span is the address range of x's elements (empty for an empty x).
func span[T any](x []T) (lo, hi uintptr) {
	if len(x) == 0 {
		return 0, 0
	}
	var z T
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	return lo, lo + uintptr(len(x))*unsafe.Sizeof(z)
}

// Vec adds a vector destination.
func (d *Dsts) Vec(x []float64) {
	if len(x) == 0 {
		return
	}
	if d.n == maxDsts || !d.apart(x) {
		d.bad = true
		return
	}
	d.r[d.n] = x
	d.n++
}

// Mat adds the rows of a matrix destination.
func (d *Dsts) Mat(x [][]float64) {
	for _, row := range x {
		d.Vec(row)
	}
}

// apart reports whether x shares no element with the slices so far.
func (d *Dsts) apart(x []float64) bool {
	lo, hi := span(x)
	for _, r := range d.r[:d.n] {
		if rlo, rhi := span(r); lo < rhi && rlo < hi {
			return false
		}
	}
	return true
}

// Ok reports whether the destinations can be written in place: at most
// maxDsts slices, no two overlapping.
func (d *Dsts) Ok() bool { return !d.bad }

// ApartVec reports whether the argument x shares no memory with the
// destinations (nor can: an argument of another element type never
// does, in a program without unsafe).
func ApartVec(d *Dsts, x []float64) bool {
	return d.Ok() && d.apart(x)
}

// DstVec is the storage of a vector result of n elements that its def
// writes in place: dst when placed (the call's destinations passed the
// checks above) and dst has n elements, else a slice of the arena (the
// one the def would have cut: ar.F64w's, or with zero, ar.F64's).
func DstVec(ar *Arena, dst []float64, placed, zero bool, n int) []float64 {
	if placed && len(dst) == n {
		if zero {
			clear(dst)
		}
		return dst
	}
	if zero {
		return ar.F64(n)
	}
	return ar.F64w(n)
}

// noRows is the storage of an empty matrix result not written in place:
// not nil, which would say it is (DstMat).
var noRows = []float64{}

// DstMat is the flat storage of a t-element matrix result of rows of rs
// that its def writes in place, row by row (DstRow): nil when placed
// and dst has t/rs rows of rs, else a slice of the arena as DstVec's.
func DstMat(ar *Arena, dst [][]float64, placed, zero bool, t, rs int) []float64 {
	if placed && rs > 0 && len(dst)*rs == t {
		fits := true
		for _, row := range dst {
			fits = fits && len(row) == rs
		}
		if fits {
			if zero {
				for _, row := range dst {
					clear(row)
				}
			}
			return nil
		}
	}
	var a []float64
	if zero {
		a = ar.F64(t)
	} else {
		a = ar.F64w(t)
	}
	if a == nil {
		return noRows
	}
	return a
}

// DstRow is row k of a matrix result whose storage DstMat gave: dst's
// row when it is written in place, else a view of flat.
func DstRow(dst [][]float64, flat []float64, k, rs int) []float64 {
	if flat == nil {
		return dst[k]
	}
	return flat[k*rs : (k+1)*rs]
}

// IntoPlaced1 is Into1 for a result that may be dst itself (DstVec):
// then there is nothing to copy.
func IntoPlaced1(dst, r []float64, n int) bool {
	if len(dst) != n {
		return false
	}
	if n > 0 && &dst[0] == &r[0] {
		return true
	}
	copy(dst, r)
	return true
}

// IntoPlaced2 is Into2 for a result DstMat may have placed in dst: a nil
// r with elements says it did, and dst need only have the shape.
func IntoPlaced2(dst [][]float64, r []float64, m, n int) bool {
	if r == nil && m*n > 0 {
		if len(dst) != m {
			return false
		}
		for _, row := range dst {
			if len(row) != n {
				return false
			}
		}
		return true
	}
	return Into2(dst, r, m, n)
}

// Rows2Apart is Rows2 and ApartVec of every row in one pass over x's
// rows: the number of columns, whether the rows have it, and whether
// none shares memory with the destinations. A row outside the
// destinations' hull costs two comparisons, one inside it two per
// destination; the loop calls nothing, so the addresses taken before it
// stay valid (see above).
func Rows2Apart(d *Dsts, x [][]float64) (n int, ok, apart bool) {
	apart = d.Ok()
	if len(x) == 0 {
		return 0, true, apart
	}
	n = len(x[0])
	// Each destination's range and their hull, taken in the loop that
	// uses them (no call in between).
	var los, his [maxDsts]uintptr
	var lo, hi uintptr
	for k, r := range d.r[:d.n] {
		los[k], his[k] = span(r)
		if k == 0 || los[k] < lo {
			lo = los[k]
		}
		hi = max(hi, his[k])
	}
	nd := d.n
	for _, row := range x {
		if len(row) != n {
			return 0, false, false
		}
		if rlo, rhi := span(row); rlo < hi && lo < rhi {
			for k := range nd {
				if rlo < his[k] && los[k] < rhi {
					apart = false
				}
			}
		}
	}
	return n, true, apart
}
