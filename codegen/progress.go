package codegen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Progress reports. The builtin progress("method", iteration, value,
// norm, step, v) reports one iteration of an iterative method to the host
// (runtime.WithProgress) and returns v. A run harness program (Options.Main)
// reports too: given -progress it writes one line per report to file
// descriptor 3,
//
//	"method"\titeration\tvalue\tnorm\tstep
//
// (the method quoted as Go quotes it, the floats in strconv's shortest
// form, NaN and ±Inf included), buffered and flushed at least every 50ms
// and at the end of the run; Runner.Call passes a pipe there when its ctx
// carries a progress callback and calls the callback with each line, in
// order, before it returns. Without -progress a report costs one load and
// a predictable branch. An exported package (nabla gen) has no host to
// report to: there progress is its value alone, the other arguments are
// not computed.

// lowerProgress emits the report, in a run harness program, and gives v.
func lowerProgress(f *fn, e *ir.PrimCall) val {
	if !f.g.opts.Main {
		return f.compile(e.Args[4])
	}
	var xs [4]string
	for i := range xs {
		xs[i] = f.compile(e.Args[i]).parts[0]
	}
	v := f.compile(e.Args[4])
	method, _ := e.Aux.(string)
	f.g.helper("nbProgress")
	f.line("if nbProgressOut != nil {")
	f.line("nbReport(%s, %s, %s, %s, %s)", strconv.Quote(method), xs[0], xs[1], xs[2], xs[3])
	f.line("}")
	return v
}

// progressHelper is the harness's side: the writer -progress opens and
// the report, safe for the chunks of a parallel loop.
const progressHelper = `// nbProgressOut receives the run's progress reports (-progress: file
// descriptor 3), nil when nobody listens.
var (
	nbProgressOut  *bufio.Writer
	nbProgressMu   sync.Mutex
	nbProgressLast time.Time
)

// nbReport writes one report, flushing when 50ms have passed since the
// last flush so that a status line follows the run.
func nbReport(method string, it int64, value, norm, step float64) {
	nbProgressMu.Lock()
	defer nbProgressMu.Unlock()
	b := strconv.AppendQuote(nil, method)
	b = append(b, '\t')
	b = strconv.AppendInt(b, it, 10)
	for _, x := range [3]float64{value, norm, step} {
		b = append(b, '\t')
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	nbProgressOut.Write(append(b, '\n'))
	if now := time.Now(); now.Sub(nbProgressLast) > 50*time.Millisecond {
		nbProgressOut.Flush()
		nbProgressLast = now
	}
}
`

// emitProgressStart emits the harness's nbStartProgress, which opens
// descriptor 3 for the reports and returns the function that flushes
// them at the end, or does nothing in a program that reports nothing.
func (g *gen) emitProgressStart(w *bytes.Buffer) {
	w.WriteString("// nbStartProgress sends the run's progress reports to file descriptor 3\n// (-progress) and returns what flushes them at the end.\n")
	if !g.helpers["nbProgress"] {
		w.WriteString("func nbStartProgress() func() { return func() {} }\n\n")
		return
	}
	w.WriteString(`func nbStartProgress() func() {
	nbProgressOut = bufio.NewWriter(os.NewFile(3, "progress"))
	return func() {
		nbProgressMu.Lock()
		defer nbProgressMu.Unlock()
		nbProgressOut.Flush()
	}
}

`)
}

// progressPipe sets cmd up to deliver the run's reports to fn (when
// ctx carries a callback and the OS passes extra descriptors) and returns
// the flag for the program and the function that, after the run, waits
// for the last report. Start must follow, then closeW.
func progressPipe(ctx context.Context, cmd *exec.Cmd) (argv []string, closeW, wait func(), err error) {
	fn := runtime.ProgressFunc(ctx)
	nop := func() {}
	if fn == nil || goruntime.GOOS == "windows" {
		return nil, nop, nop, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nop, nop, err
	}
	cmd.ExtraFiles = []*os.File{w}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.Close()
		readProgress(r, fn)
	}()
	return []string{"-progress"}, func() { w.Close() }, func() { <-done }, nil
}

// readProgress calls fn with each report line of r, skipping any that
// does not parse (it cannot come from the harness), to the end of r.
func readProgress(r io.Reader, fn func(runtime.Progress)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if p, err := parseProgress(sc.Text()); err == nil {
			fn(p)
		}
	}
	io.Copy(io.Discard, r) // a line too long: let the writer finish
}

func parseProgress(line string) (runtime.Progress, error) {
	var p runtime.Progress
	f := strings.Split(line, "\t")
	if len(f) != 5 {
		return p, fmt.Errorf("want 5 fields")
	}
	var err error
	if p.Method, err = strconv.Unquote(f[0]); err != nil {
		return p, err
	}
	if p.Iteration, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return p, err
	}
	for i, dst := range []*float64{&p.Value, &p.GradNorm, &p.Step} {
		if *dst, err = strconv.ParseFloat(f[2+i], 64); err != nil {
			return p, err
		}
	}
	return p, nil
}
