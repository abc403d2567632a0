package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/ir"
	rt "github.com/nabla-lang/nabla/runtime"
)

// limits are the bounds of one nabla run (SPEC §8): the most bytes of
// arrays it may hold alive, the most evaluation steps and the longest it
// may take. Zero means no limit (for memory: none beyond the machine's).
type limits struct {
	memory  int64
	steps   int64
	timeout time.Duration
	// memoryFlag is --max-memory as given, for messages ("" when the
	// default applies).
	memoryFlag string
}

const limitsHelp = `Limits: --max-memory BYTES bounds the array storage the run holds alive at
once: a number of bytes, or one with a unit (512MB, 2GiB), 0 for no
limit but the machine's memory. The default is a quarter of the
machine's memory, %s bytes here. --max-steps N bounds the evaluation
steps (loop iterations, calls and array elements processed) and
--timeout DURATION (1s, 2m30s) the time; neither has a default. A run
that passes a limit stops with a positioned error and exit status 1.`

func addLimitFlags(fs *flag.FlagSet) {
	fs.String("max-memory", "", fmt.Sprintf("most `BYTES` of arrays the run may hold alive (0: only the machine's memory; default %d, a quarter of the machine's)", rt.DefaultMemoryLimit()))
	fs.Int64("max-steps", 0, "most evaluation steps (loop iterations, calls, array elements); 0: no limit")
	fs.Duration("timeout", 0, "stop the run after this `DURATION` (1s, 2m30s); 0: no limit")
}

// readLimits reads the limit flags; a bad value is bad usage.
func (c *cli) readLimits(cmd *command, fs *flag.FlagSet) (limits, int, bool) {
	l := limits{memory: rt.DefaultMemoryLimit()}
	if s := fs.Lookup("max-memory").Value.String(); s != "" {
		n, err := parseBytes(s)
		if err != nil {
			return l, c.usage(cmd, "bad --max-memory %q: %v", s, err), false
		}
		l.memory, l.memoryFlag = n, s
	}
	l.steps = fs.Lookup("max-steps").Value.(flag.Getter).Get().(int64)
	if l.steps < 0 {
		return l, c.usage(cmd, "bad --max-steps %d: want a count of steps, or 0 for no limit", l.steps), false
	}
	l.timeout = fs.Lookup("timeout").Value.(flag.Getter).Get().(time.Duration)
	if l.timeout < 0 {
		return l, c.usage(cmd, "bad --timeout %v: want a positive duration, or 0 for no limit", l.timeout), false
	}
	return l, 0, true
}

// byteUnits are the units --max-memory accepts, by their lower-case names.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseBytes reads a byte count: a number, optionally with a unit.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("want a number of bytes, or 0 for no limit but the machine's memory")
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != 'e' && r != 'E' && r != '+' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	}
	scale, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", t[i:])
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("want a number of bytes, such as 1000000, 512MB or 2GiB")
	}
	x *= scale
	if x != math.Trunc(x) || x >= 1<<62 {
		return 0, fmt.Errorf("want a whole number of bytes below 2^62")
	}
	return int64(x), nil
}

// context is the run's context: with a deadline under --timeout.
func (l limits) context() (context.Context, context.CancelFunc) {
	if l.timeout > 0 {
		return context.WithTimeout(context.Background(), l.timeout)
	}
	return context.WithCancel(context.Background())
}

// options are the limits as options of the Go API.
func (l limits) options() []nabla.Option {
	mem := l.memory
	if mem == 0 {
		mem = -1 // no limit but the machine's memory
	}
	return []nabla.Option{nabla.WithLimits(l.steps, mem)}
}

// runtime are the limits as the backends take them.
func (l limits) runtime() rt.Limits { return rt.Limits{Steps: l.steps, Memory: l.memory} }

// explain says, in a run-time error that a limit caused, which flag sets
// that limit, so the message tells the user what to change.
func (l limits) explain(err error) error {
	var ie *ir.Error
	var re *codegen.RunError
	switch {
	case errors.As(err, &ie):
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			ie.Msg = fmt.Sprintf("run stopped after --timeout %v", l.timeout)
		case errors.Is(err, rt.ErrStepLimit):
			ie.Msg += ", set by --max-steps"
		case errors.Is(err, rt.ErrMemoryLimit):
			ie.Msg += l.memoryHint(ie.Msg)
		}
	case errors.As(err, &re):
		// The Go backend's errors are the generated program's text.
		first, rest, _ := strings.Cut(re.Msg, "\n")
		switch {
		case errors.Is(re, rt.ErrMemoryLimit):
			re.Msg = first + l.memoryHint(first) + "\n" + rest
		case errors.Is(re, rt.ErrStepLimit):
			re.Msg = first + ", set by --max-steps\n" + rest
		}
	}
	return err
}

// memoryHint says where the memory limit in msg comes from.
func (l limits) memoryHint(msg string) string {
	switch {
	case strings.Contains(msg, "is too large"), l.memory == 0 && l.memoryFlag != "":
		return ""
	case strings.Contains(msg, "this process may use"):
		if l.memoryFlag != "" {
			return " (--max-memory " + l.memoryFlag + " asks for more)"
		}
		return ""
	case l.memoryFlag == "":
		return ", nabla run's default (a quarter of the machine's memory; change it with --max-memory)"
	}
	return ", set by --max-memory " + l.memoryFlag
}
