package codegen_test

import (
	"strings"
	"testing"
)

// Generated functions mark in place everywhere: no declaring Mark is
// left, and the loop of a build that releases its iterations marks with
// MarkAt (the values and errors of such loops on both backends are
// codegen/testdata's).
func TestGeneratedMarksInPlace(t *testing.T) {
	body := genBody(t, `export def rows(q: [d][d]f64, x: [n][d]f64) = [q @ x[i] + 1.0 for i < n]`, "rows")
	if strings.Contains(body, ":= ar.Mark()") {
		t.Errorf("a mark is still returned by value:\n%s", body)
	}
	if !strings.Contains(body, "ar.MarkAt(&") || !strings.Contains(body, "ar.Release(mark_") {
		t.Errorf("no in-place mark and release in the build's loop:\n%s", body)
	}
}
