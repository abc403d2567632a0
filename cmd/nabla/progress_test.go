package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nabla-lang/nabla"
)

// TestStatusLine: nothing before the delay, then one redrawn line, erased
// by clear; buffers and regular files are not terminals.
func TestStatusLine(t *testing.T) {
	var buf bytes.Buffer
	s := newStatusLine(&buf)
	p := nabla.Progress{Method: "lbfgs", Iteration: 7, Value: 0.5, GradNorm: 1e-3, Step: 0.25}
	s.update(p)
	if buf.Len() != 0 {
		t.Fatalf("a report before the delay printed %q", buf.String())
	}
	s.start = time.Now().Add(-time.Second)
	s.update(p)
	if got := buf.String(); got != "\r\x1b[Klbfgs: iteration 7, value 0.5, norm 0.001, step 0.25" {
		t.Fatalf("status line %q", got)
	}
	s.update(p) // within the tick: not redrawn
	s.clear()
	if got := buf.String(); strings.Count(got, "lbfgs") != 1 || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("after clear: %q", got)
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(&buf) || isTerminal(f) {
		t.Error("a buffer or a regular file counted as a terminal")
	}
}
