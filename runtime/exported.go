package runtime

// The conversions of generated packages' exported API: inside, an array
// of rank r is one flat row-major slice and r sizes; outside it is a Go
// slice of slices. Out copies a result out of the call's arena, Into
// copies it into the caller's slices, and Flatten copies an argument in.

// Out1 copies the first n elements of a result out of the call's arena.
func Out1[T any](r []T, n int) []T {
	out := make([]T, n)
	copy(out, r)
	return out
}

// Out2 copies an m×n result out of the call's arena, as rows of one flat
// slice (each row capped at its length, so appending to one copies it).
func Out2[T any](r []T, m, n int) [][]T {
	flat := make([]T, m*n)
	copy(flat, r)
	out := make([][]T, m)
	for i := range out {
		out[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}

// Out3 copies an a×b×c result out of the call's arena.
func Out3[T any](r []T, a, b, c int) [][][]T {
	flat := Out2(r, a*b, c)
	out := make([][][]T, a)
	for i := range out {
		out[i] = flat[i*b : (i+1)*b : (i+1)*b]
	}
	return out
}

// Into1 copies a result of n elements into dst and reports whether dst
// has length n (when not, dst is untouched).
func Into1[T any](dst, r []T, n int) bool {
	if len(dst) != n {
		return false
	}
	copy(dst, r)
	return true
}

// Into2 copies an m×n result into the rows of dst and reports whether
// dst is m×n. A row of the wrong length is found as the copy reaches it:
// the rows before it are written.
func Into2[T any](dst [][]T, r []T, m, n int) bool {
	if len(dst) != m {
		return false
	}
	for i, row := range dst {
		if len(row) != n {
			return false
		}
		copy(row, r[i*n:(i+1)*n])
	}
	return true
}

// Into3 copies an a×b×c result into dst and reports whether dst is
// a×b×c, as Into2 does.
func Into3[T any](dst [][][]T, r []T, a, b, c int) bool {
	if len(dst) != a {
		return false
	}
	for i, m := range dst {
		if !Into2(m, r[i*b*c:(i+1)*b*c], b, c) {
			return false
		}
	}
	return true
}

// Flatten2 copies a rectangular [][]T into one row-major slice cut from
// ar, and gives its sizes; ok is false for ragged input (rows of
// different lengths). The sizes of an input with no rows are 0, 0.
func Flatten2[T any](ar *Arena, x [][]T) (flat []T, dims [2]int, ok bool) {
	m, n := len(x), 0
	if m > 0 {
		n = len(x[0])
	}
	flat = allocW[T](ar, m*n) // every element is written, or flat is dropped
	for i, row := range x {
		if len(row) != n {
			return nil, [2]int{}, false
		}
		copyRow(flat[i*n:i*n+n], row)
	}
	return flat, [2]int{m, n}, true
}

// copyRow copies src into dst, of the same length. Rows of a few
// elements (a point's 3 coordinates, a feature's 2) are copied by hand:
// a call to memmove per row costs more than the copy itself, and such
// rows are the common case of a [p][k] argument with large p.
func copyRow[T any](dst, src []T) {
	if len(src) > 8 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	//lint:ignore S1001 copy calls memmove, which is the cost avoided here
	for j, v := range src {
		dst[j] = v
	}
}

// Flatten3 is Flatten2 for [][][]T: every matrix must have the first's
// rows, and every row the first row's length.
func Flatten3[T any](ar *Arena, x [][][]T) (flat []T, dims [3]int, ok bool) {
	a, b, c := len(x), 0, 0
	if a > 0 {
		b = len(x[0])
		if b > 0 {
			c = len(x[0][0])
		}
	}
	flat = allocW[T](ar, a*b*c) // every element is written, or flat is dropped
	for i, m := range x {
		if len(m) != b {
			return nil, [3]int{}, false
		}
		for j, row := range m {
			if len(row) != c {
				return nil, [3]int{}, false
			}
			o := (i*b + j) * c
			copyRow(flat[o:o+c], row)
		}
	}
	return flat, [3]int{a, b, c}, true
}

// Rows2 is Flatten2's check without the copy, for a matrix argument that
// generated code reads in place (codegen's inplace.go): it returns the
// length of x's rows (that of the first, 0 for no rows) and whether
// every row has it.
func Rows2[T any](x [][]T) (n int, ok bool) {
	if len(x) == 0 {
		return 0, true
	}
	n = len(x[0])
	for _, row := range x {
		if len(row) != n {
			return 0, false
		}
	}
	return n, true
}
