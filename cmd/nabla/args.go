package main

// Reading the arguments of `nabla run` (SPEC §8): JSON text, @PATH for a
// file (CSV when PATH ends in .csv, JSON otherwise) or "-" for one JSON
// value on standard input.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/ir"
	rt "github.com/nabla-lang/nabla/runtime"
)

// stdin is what the argument "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// stdinName names standard input in messages, where a file's name would
// be.
const stdinName = "standard input"

// readArgs converts the arguments after FILE to values of f's
// parameters. A bad argument is bad usage (exit 2), reported with its
// position and parameter: "argument 2 (b) of add: want f64, got ...".
func (c *cli) readArgs(cmd *command, f *nabla.Func, args []string) ([]rt.Value, int, bool) {
	params, names := f.Params(), f.ParamNames()
	vals := make([]rt.Value, len(params))
	stdinArg := 0 // the argument that read standard input, if any
	for i, arg := range args {
		var err error
		if arg == "-" {
			if stdinArg > 0 {
				err = fmt.Errorf(`standard input was read already, for argument %d ("-" stands for one JSON value on standard input; give the others as JSON or @FILE)`, stdinArg)
			} else {
				stdinArg = i + 1
				vals[i], err = readStdin(params[i])
			}
		} else {
			vals[i], err = readArg(params[i], arg)
		}
		if err != nil {
			return nil, c.usage(cmd, "argument %d (%s) of %s: %v", i+1, names[i], f.Name(), err), false
		}
	}
	return vals, 0, true
}

// paramList renders parameters for the arity message: "a: f64, b: f64".
func paramList(f *nabla.Func) string {
	var b strings.Builder
	for i, name := range f.ParamNames() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", name, f.Params()[i])
	}
	return b.String()
}

// readArg reads one argument other than "-".
func readArg(t ir.Type, arg string) (rt.Value, error) {
	path, ok := strings.CutPrefix(arg, "@")
	if !ok {
		v, err := jsonv.Decode(t, []byte(arg))
		if err != nil {
			return rt.Value{}, inlineError(arg, err)
		}
		return v, nil
	}
	if path == "" {
		return rt.Value{}, errors.New("@ must be followed by a file name, as in @data.json or @data.csv")
	}
	data, err := readArgFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return rt.Value{}, fmt.Errorf("cannot read %s: %v", path, err)
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return decodeCSV(path, t, data)
	}
	return decodeJSONFile(path, t, data)
}

// maxArgBytes bounds what one @PATH argument may hold.
const maxArgBytes = 1 << 30

// readArgFile reads the file of an @PATH argument: a regular file or a
// pipe (so that @<(command) works in a shell), not a device such as
// /dev/zero or a directory, and at most maxArgBytes.
func readArgFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return nil, errors.New("is a directory")
	case !m.IsRegular() && m&fs.ModeNamedPipe == 0:
		return nil, errors.New("not a regular file or a pipe (a device or a socket)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxArgBytes+1))
	if err == nil && len(data) > maxArgBytes {
		err = fmt.Errorf("more than the %d bytes an argument file may have", maxArgBytes)
	}
	return data, err
}

func readStdin(t ir.Type) (rt.Value, error) {
	data, err := io.ReadAll(stdin)
	if err != nil {
		return rt.Value{}, fmt.Errorf("cannot read standard input: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return rt.Value{}, errors.New(`"-" reads one JSON value from standard input, which is empty (as in: echo '[1, 2]' | nabla run FILE -)`)
	}
	return decodeJSONFile(stdinName, t, data)
}

// decodeJSONFile reads the JSON text of a file (or standard input); a
// syntax error is placed at its line and column.
func decodeJSONFile(name string, t ir.Type, data []byte) (rt.Value, error) {
	v, err := jsonv.Decode(t, data)
	if err == nil {
		return v, nil
	}
	var je *jsonv.Error
	if errors.As(err, &je) && je.Offset > 0 {
		line, col := lineCol(data, int(je.Offset-1))
		return rt.Value{}, fmt.Errorf("%s:%d:%d: %s", name, line, col, je.Msg)
	}
	return rt.Value{}, fmt.Errorf("%s: %v", name, err)
}

// lineCol gives the 1-based line and column (in bytes) of data[off].
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, off - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// inlineError adds to an error in a JSON argument the piece of text where
// it was found and a hint for the usual mistakes.
func inlineError(arg string, err error) error {
	var je *jsonv.Error
	if !errors.As(err, &je) || je.Offset == 0 {
		return err
	}
	where := fmt.Sprintf("at byte %d", je.Offset)
	if je.Offset > int64(len(arg)) {
		where = "at the end"
	}
	msg := fmt.Sprintf("%s (%s: %s)", je.Msg, where, near(arg, int(je.Offset-1)))
	switch lower := strings.ToLower(strings.TrimLeft(arg, "+-")); {
	case lower == "inf" || lower == "infinity" || lower == "nan":
		msg += ` (write NaN and the infinities as JSON strings, quoted for the shell: '"NaN"', '"-Inf"')`
	case len(arg) > 1 && arg[0] == '-' && !strings.ContainsAny(arg[1:2], "0123456789."):
		msg += " (flags go before FILE)"
	}
	return errors.New(msg)
}

// near quotes at most a short piece of s around byte off, with "..."
// where it is cut.
func near(s string, off int) string {
	const before, after = 24, 12
	off = min(max(off, 0), len(s))
	start, end := max(off-before, 0), min(off+after, len(s))
	for start > 0 && !utf8.RuneStart(s[start]) {
		start--
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	piece := strconv.Quote(s[start:end])
	if start > 0 {
		piece = "..." + piece
	}
	if end < len(s) {
		piece += "..."
	}
	return piece
}

// decodeCSV reads a numeric vector or matrix from CSV: one number per
// field, rows of equal length, and a first line of names skipped (a
// first line with a field that is not a number). A vector parameter
// takes a file of one column or one row.
func decodeCSV(path string, t ir.Type, data []byte) (rt.Value, error) {
	arr, _ := t.(*ir.Array)
	var leaf ir.Type
	rank := 0
	if arr != nil {
		leaf, rank = arr.Elem, 1
		if inner, ok := arr.Elem.(*ir.Array); ok {
			leaf, rank = inner.Elem, 2
		}
	}
	if leaf != ir.TF64 && leaf != ir.TI64 {
		return rt.Value{}, fmt.Errorf("%s: a .csv file gives a vector or a matrix of numbers ([n]f64, [m][n]f64 or the same of i64), not %s", path, t)
	}
	ints := leaf == ir.TI64
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked below, with a clearer message
	r.TrimLeadingSpace = true
	var rows [][]float64
	cols, first, firstLine := -1, true, 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return rt.Value{}, fmt.Errorf("%s:%d:%d: %v", path, pe.Line, pe.Column, pe.Err)
			}
			return rt.Value{}, fmt.Errorf("%s: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			if isHeader(rec) {
				continue
			}
		}
		if cols < 0 {
			cols, firstLine = len(rec), line
		} else if len(rec) != cols {
			return rt.Value{}, fmt.Errorf("%s:%d:1: a row of %d field%s, but line %d has %d (a matrix is rectangular)", path, line, len(rec), plural(len(rec)), firstLine, cols)
		}
		row := make([]float64, len(rec))
		for j, field := range rec {
			x, problem := parseNumber(strings.TrimSpace(field), ints)
			if problem != "" {
				l, c := r.FieldPos(j)
				return rt.Value{}, fmt.Errorf("%s:%d:%d: %s", path, l, c, problem)
			}
			row[j] = x
		}
		rows = append(rows, row)
	}
	cols = max(cols, 0)
	shape := []int{len(rows), cols}
	if rank == 1 {
		switch {
		case len(rows) == 0:
			shape = []int{0}
		case cols == 1:
			shape = []int{len(rows)}
		case len(rows) == 1:
			shape = []int{cols}
		default:
			return rt.Value{}, fmt.Errorf("%s: want %s, a vector (one row or one column), got %d rows of %d numbers", path, t, len(rows), cols)
		}
	}
	for k, d := range ir.Dims(t) {
		if d.Known() && int64(shape[k]) != d.N {
			return rt.Value{}, fmt.Errorf("%s: want %s, got %s numbers", path, t, rt.ShapeString(shape))
		}
	}
	flat := make([]float64, 0, len(rows)*cols)
	for _, row := range rows {
		flat = append(flat, row...)
	}
	if ints {
		is := make([]int64, len(flat))
		for i, x := range flat {
			is[i] = int64(x)
		}
		return rt.Arr(&rt.Array{Shape: shape, Kind: rt.ElemI64, I: is}), nil
	}
	return rt.Arr(&rt.Array{Shape: shape, Kind: rt.ElemF64, F: flat}), nil
}

// isHeader reports a line of names: one with a field that is not a
// number.
func isHeader(rec []string) bool {
	for _, f := range rec {
		if _, problem := parseNumber(strings.TrimSpace(f), false); problem != "" {
			return true
		}
	}
	return false
}

// parseNumber reads one CSV field; problem explains a refusal. Integers
// for an i64 matrix must be integral and fit in 53 bits.
func parseNumber(s string, integral bool) (x float64, problem string) {
	if s == "" {
		return 0, "an empty field, want a number"
	}
	x, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("%s is out of the f64 range", jsonv.Short(s))
	case err != nil:
		return 0, fmt.Sprintf("not a number: %q", jsonv.Short(s))
	case integral && (x != math.Trunc(x) || math.Abs(x) > 1<<53):
		return 0, fmt.Sprintf("want an integer (i64) of at most 2^53 in size, got %s", jsonv.Short(s))
	}
	return x, ""
}
