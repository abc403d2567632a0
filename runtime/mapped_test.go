package runtime

import (
	goruntime "runtime"
	"testing"
)

func TestMapF64(t *testing.T) {
	s, ok := MapF64(1 << 18)
	if ok != (goruntime.GOOS == "linux") {
		t.Fatalf("MapF64 on %s: ok = %v", goruntime.GOOS, ok)
	}
	if !ok {
		return
	}
	if len(s) != 1<<18 || cap(s) < len(s) {
		t.Fatalf("MapF64: len %d cap %d", len(s), cap(s))
	}
	for i := range s {
		if s[i] != 0 {
			t.Fatalf("element %d is %v, not 0", i, s[i])
		}
		s[i] = float64(i)
	}
	if s[len(s)-1] != float64(len(s)-1) {
		t.Error("a store did not stick")
	}
	if _, ok := MapF64(0); ok {
		t.Error("MapF64(0) is ok")
	}
}
