package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/internal/convplot"
)

// isTerminal reports whether w is a character device (a terminal), the
// only place a status line belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// statusLine shows the latest progress report on one terminal line,
// redrawn at most every tick and only once the run has lasted delay, so
// short runs print nothing.
type statusLine struct {
	w            io.Writer
	start, drawn time.Time
	delay, tick  time.Duration
	shown        bool
}

func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, start: time.Now(), delay: 300 * time.Millisecond, tick: 100 * time.Millisecond}
}

func (s *statusLine) update(p nabla.Progress) {
	now := time.Now()
	if now.Sub(s.start) < s.delay || now.Sub(s.drawn) < s.tick {
		return
	}
	s.drawn, s.shown = now, true
	fmt.Fprintf(s.w, "\r\x1b[K%s: iteration %d, value %.6g, norm %.3g, step %.3g", p.Method, p.Iteration, p.Value, p.GradNorm, p.Step)
}

// clear erases the line before the result or an error is printed.
func (s *statusLine) clear() {
	if s.shown {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// writePlot draws the convergence plot of recs to path.
func writePlot(path, format string, recs []nabla.Progress) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := convplot.Write(f, format, recs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
