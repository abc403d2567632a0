package gradbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nabla-lang/nabla"
)

// Backends a tool may be asked to run modules on.
const (
	BackendInterp = "interp" // the embedded interpreter
	BackendGo     = "go"     // generated Go code (package codegen)
)

// Options configure a Tool.
type Options struct {
	// Backend is BackendInterp (the default when empty) or BackendGo.
	Backend string
	// Log receives diagnostics, one line each; nil discards them. The
	// protocol's output stream never carries anything but responses.
	Log io.Writer
}

// Tool answers one GradBench session: a start message, a define, then
// evaluations and analyses until the end of input. It is not safe for
// concurrent use.
type Tool struct {
	opts  Options
	ev    *eval          // the defined module, nil before a successful define
	prog  *nabla.Program // ev's compiled module (interpreter)
	funcs map[string]*nabla.Func
	gomod *goModule // ev's module as a Go program (--backend go)
}

// New returns a tool for opts. An unknown backend is an error.
func New(opts Options) (*Tool, error) {
	switch opts.Backend {
	case "":
		opts.Backend = BackendInterp
	case BackendInterp, BackendGo:
	default:
		return nil, fmt.Errorf("unknown backend %q: want %s or %s", opts.Backend, BackendInterp, BackendGo)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Tool{opts: opts}, nil
}

// message is what the tool reads from a protocol line. Fields that a kind
// does not use are left zero.
type message struct {
	ID       json.RawMessage `json:"id"`
	Kind     string          `json:"kind"`
	Module   string          `json:"module"`
	Function string          `json:"function"`
	Input    json.RawMessage `json:"input"`
	// Description labels an evaluate's input for people; it is only
	// logged.
	Description string `json:"description"`
}

// Serve reads messages from r, one JSON object per line, and writes one
// response line to w for each, flushing after every one. It returns nil at
// the end of input and an error only when reading or writing fails: a
// message it cannot handle gets a response with success false and the
// reason.
func (t *Tool) Serve(r io.Reader, w io.Writer) error {
	defer t.closeGo()
	in := bufio.NewReaderSize(r, 1<<20)
	out := bufio.NewWriterSize(w, 1<<16)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if werr := t.answer(out, line); werr != nil {
				return werr
			}
			if werr := out.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// answer writes the response to one line.
func (t *Tool) answer(out *bufio.Writer, line []byte) error {
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		t.logf("malformed message: %v", err)
		return writeFailure(out, nil, fmt.Errorf("malformed message: %v", err))
	}
	if !isInteger(m.ID) {
		t.logf("message without an integer id: %s", clip(line))
		return writeFailure(out, m.ID, errors.New(`message has no integer "id"`))
	}
	switch m.Kind {
	case "start":
		var b []byte
		b = appendID(b, m.ID)
		b = append(b, `,"tool":"nabla","config":{"backend":`...)
		b = strconv.AppendQuote(b, t.opts.Backend)
		b = append(b, "}}\n"...)
		_, err := out.Write(b)
		return err
	case "define":
		return t.define(out, m)
	case "evaluate":
		return t.evaluate(out, m)
	default:
		// analysis, and any kind this tool does not know: acknowledge.
		b := appendID(nil, m.ID)
		_, err := out.Write(append(b, "}\n"...))
		return err
	}
}

// define compiles the module and looks up every def its functions use,
// so that a module that is defined can answer every function.
func (t *Tool) define(out *bufio.Writer, m message) error {
	t.ev, t.prog, t.funcs = nil, nil, nil
	t.closeGo()
	fail := func(err error) error {
		t.logf("define %s: %v", m.Module, err)
		return writeFailure(out, m.ID, err)
	}
	ev := evals[m.Module]
	if ev == nil {
		return fail(fmt.Errorf("no module %q in this tool (it has %s)", m.Module, moduleList()))
	}
	if t.opts.Backend == BackendGo {
		// Generating and building the program (once per module source:
		// later sessions reuse the binary) is the preparation.
		start := time.Now()
		g, err := startGo(m.Module, t.opts.Log)
		if err != nil {
			return fail(err)
		}
		for _, fn := range ev.funcs {
			for _, def := range fn.defs {
				if _, _, err := g.signature(def); err != nil {
					g.close()
					return fail(fmt.Errorf("module %s: %v", m.Module, err))
				}
			}
		}
		t.ev, t.gomod = ev, g
		b := appendID(nil, m.ID)
		b = append(b, `,"success":true,"timings":[`...)
		b = appendTiming(b, "prepare", time.Since(start))
		b = append(b, "]}\n"...)
		_, err = out.Write(b)
		return err
	}
	start := time.Now()
	prog, err := compileModule(m.Module)
	if err != nil {
		return fail(err)
	}
	funcs := map[string]*nabla.Func{}
	for _, fn := range ev.funcs {
		for _, def := range fn.defs {
			f, err := prog.Func(def)
			if err != nil {
				return fail(fmt.Errorf("module %s: %v", m.Module, err))
			}
			funcs[def] = f
		}
	}
	elapsed := time.Since(start)
	t.ev, t.prog, t.funcs = ev, prog, funcs
	b := appendID(nil, m.ID)
	b = append(b, `,"success":true,"timings":[`...)
	b = appendTiming(b, "prepare", elapsed)
	b = append(b, "]}\n"...)
	_, err = out.Write(b)
	return err
}

// evaluate answers an evaluate message: convert the input once, call the
// def as often as the input's min_runs and min_seconds ask, and report the
// last result with one timing per call.
func (t *Tool) evaluate(out *bufio.Writer, m message) error {
	fail := func(err error) error {
		t.logf("evaluate %s.%s: %v", m.Module, m.Function, err)
		return writeFailure(out, m.ID, err)
	}
	switch {
	case t.ev == nil:
		return fail(fmt.Errorf("module %q is not defined (define must succeed first)", m.Module))
	case m.Module != t.ev.name:
		return fail(fmt.Errorf("module %q is not the one defined (%s)", m.Module, t.ev.name))
	}
	out0, times, _, prepare, err := t.repeat(m, false)
	if err != nil {
		return fail(err)
	}
	b := appendID(make([]byte, 0, len(out0)+40*len(times)+64), m.ID)
	b = append(b, `,"success":true,"output":`...)
	b = append(b, out0...)
	b = append(b, `,"timings":[`...)
	b = appendTiming(b, "prepare", prepare)
	for _, dt := range times {
		b = append(b, ',')
		b = appendTiming(b, "evaluate", dt)
	}
	b = append(b, "]}\n"...)
	_, err = out.Write(b)
	return err
}

// repeat converts m's input, calls the def as often as the input asks and
// returns the output of the last call, each call's time and the time the
// conversion took.
//
// With cpu, cpus gets the process's CPU time during each call too (for
// the table; the protocol reports wall-clock times only).
func (t *Tool) repeat(m message, cpu bool) (out []byte, times, cpus []time.Duration, prepare time.Duration, err error) {
	fn, ok := t.ev.funcs[m.Function]
	if !ok {
		return nil, nil, nil, 0, fmt.Errorf("module %s has no function %q (it has %s)", t.ev.name, m.Function, t.ev.functionList())
	}
	start := time.Now()
	rep, err := repetitions(m.Input)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	in, err := t.ev.decode(m.Input)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("input: %v", err)
	}
	def := fn.defs[0]
	if fn.pick != nil {
		def = fn.pick(in)
	}
	if t.gomod != nil {
		// The program times its calls itself; it has no CPU times.
		prepare = time.Since(start)
		v, times, err := t.gomod.call(def, in.args, rep)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		if out, err = fn.encode(nil, v, in); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("output: %v", err)
		}
		return out, times, nil, prepare, nil
	}
	f := t.funcs[def]
	prepare = time.Since(start)

	ctx := context.Background()
	var total time.Duration
	for {
		var c0 time.Duration
		if cpu {
			c0 = cpuTime()
		}
		t0 := time.Now()
		v, err := f.CallValues(ctx, in.args)
		dt := time.Since(t0)
		if cpu {
			cpus = append(cpus, cpuTime()-c0)
		}
		if err != nil {
			return nil, nil, nil, 0, err
		}
		times = append(times, dt)
		total += dt
		if len(times) >= rep.runs && total.Seconds() >= rep.seconds {
			// The output is that of the last run; converting it is not
			// timed.
			out, err = fn.encode(nil, v, in)
			if err != nil {
				return nil, nil, nil, 0, fmt.Errorf("output: %v", err)
			}
			return out, times, cpus, prepare, nil
		}
	}
}

// reps is how often an input asks to be evaluated.
type reps struct {
	runs    int
	seconds float64
}

// repetitions reads min_runs and min_seconds from an object input; other
// inputs (hello's bare numbers) are evaluated once.
func repetitions(raw json.RawMessage) (reps, error) {
	r := reps{runs: 1}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return r, nil
	}
	var f struct {
		MinRuns    *float64 `json:"min_runs"`
		MinSeconds *float64 `json:"min_seconds"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return r, fmt.Errorf("input: %v", err)
	}
	if f.MinRuns != nil {
		if *f.MinRuns < 0 || *f.MinRuns != float64(int64(*f.MinRuns)) || *f.MinRuns > 1e9 {
			return r, fmt.Errorf("input: min_runs must be a non-negative integer, got %v", *f.MinRuns)
		}
		r.runs = max(1, int(*f.MinRuns))
	}
	if f.MinSeconds != nil {
		if !(*f.MinSeconds >= 0) || *f.MinSeconds > 1e6 {
			return r, fmt.Errorf("input: min_seconds must be a number of seconds >= 0, got %v", *f.MinSeconds)
		}
		r.seconds = *f.MinSeconds
	}
	return r, nil
}

// closeGo ends the program of the module defined last, if any.
func (t *Tool) closeGo() {
	if t.gomod != nil {
		t.gomod.close()
		t.gomod = nil
	}
}

func (t *Tool) logf(format string, args ...any) {
	fmt.Fprintf(t.opts.Log, "nabla gradbench: "+format+"\n", args...)
}

// isInteger reports whether raw is a JSON integer.
func isInteger(raw json.RawMessage) bool {
	var x json.Number
	if json.Unmarshal(raw, &x) != nil {
		return false
	}
	_, err := strconv.ParseInt(string(x), 10, 64)
	return err == nil
}

// appendID starts a response object with the message's id (null if the
// message had none that could be read).
func appendID(b []byte, id json.RawMessage) []byte {
	b = append(b, `{"id":`...)
	if len(id) == 0 {
		return append(b, "null"...)
	}
	return append(b, bytes.TrimSpace(id)...)
}

func appendTiming(b []byte, name string, d time.Duration) []byte {
	b = append(b, `{"name":"`...)
	b = append(b, name...)
	b = append(b, `","nanoseconds":`...)
	b = strconv.AppendInt(b, max(int64(d), 1), 10)
	return append(b, '}')
}

// writeFailure writes {"id": id, "success": false, "error": err}.
func writeFailure(out *bufio.Writer, id json.RawMessage, err error) error {
	b := appendID(nil, id)
	msg, _ := json.Marshal(err.Error())
	b = append(b, `,"success":false,"error":`...)
	b = append(b, msg...)
	b = append(b, "}\n"...)
	_, werr := out.Write(b)
	return werr
}

// clip shortens a line for a log message.
func clip(line []byte) string {
	line = bytes.TrimSpace(line)
	if len(line) > 80 {
		return string(line[:80]) + "..."
	}
	return string(line)
}
