package runtime

import (
	"syscall"
	"unsafe"
)

// madvHugepage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugepage = 14

// MapF64 returns n zeroed float64s mapped from the system outside the Go
// heap, advised to be backed by transparent huge pages, for a generated
// program's long-lived arena chunks: taking memory a 4 KB page at a time
// is what makes a large first call slow (each page's first touch is a
// fault). ok is false when the mapping fails; the memory is never
// returned, so it is for chunks kept for the life of the program.
func MapF64(n int) (s []float64, ok bool) {
	if n <= 0 {
		return nil, false
	}
	const huge = 2 << 20
	size := (n*8 + huge - 1) / huge * huge
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	_ = syscall.Madvise(b, madvHugepage) // a hint: without it, small pages
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(b))), size/8)[:n], true
}
