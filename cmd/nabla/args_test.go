package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// argsProgram has one def per kind of parameter the argument readers
// fill. Line numbers matter: nothing here is checked by position.
const argsProgram = `def total(a: [m][n]f64): f64 = sum(map(sum, a))
def vsum(x: [n]f64): f64 = sum(x)
def isum(x: [n]i64): i64 = sum(x)
def two(x: [2]f64): f64 = x[0] * x[1]
def add(a: f64, b: f64): f64 = a + b
def both(x: [n]f64, y: [n]f64): f64 = sum(x * y)
def pair(p: (f64, f64)): f64 = p.0 + p.1
def shape(a: [m][n]f64): (i64, i64) = (len(a), len(transpose(a)))
`

// argsFiles are the data files, beside the program.
var argsFiles = map[string]string{
	"m.csv":        "temperature,incident\n66,0\n70,1\n\n69,0\n",
	"noheader.csv": "1,2,3\n4,5,6\n",
	"col.csv":      "x\n1.5\n2.5\n3\n",
	"row.csv":      "1, 2, 3, 4\n",
	"special.csv":  "NaN,1\n",
	"ints.csv":     "1,2\n3,4\n",
	"ragged.csv":   "a,b\n1,2\n3\n",
	"word.csv":     "1,2\n3,oops\n",
	"empty.csv":    "",
	"quote.csv":    "1,\"2\n",
	"frac.csv":     "1.5,2\n",
	"big.json":     "[[1, 2],\n [3, 4]]\n",
	"bad.json":     "[[1, 2],\n [3, ]]\n",
	"typo.json":    "[[1, 2], [3, true]]",
	"pair.json":    "[1, 2]",
}

func TestRunArgs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"p.nab": argsProgram}
	for name, data := range argsFiles {
		files[name] = data
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// More than the 128 KiB the OS allows one command-line argument.
	var large strings.Builder
	for range 400 {
		large.WriteString(strings.Repeat("0.25,", 399) + "0.25\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "large.csv"), []byte(large.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	long := "[" + strings.Repeat("1, ", 200) + "x]"
	for _, tc := range []struct {
		args   []string // after "run -f", with $D for the directory
		stdin  string
		code   int
		stdout string // exact, when code is 0
		stderr string // contained, when code is not 0
	}{
		// @FILE: CSV, with and without a header line
		{args: []string{"total", "@$D/m.csv"}, stdout: "206\n"},
		{args: []string{"shape", "@$D/m.csv"}, stdout: "[3, 2]\n"},
		{args: []string{"shape", "@$D/noheader.csv"}, stdout: "[2, 3]\n"},
		{args: []string{"total", "@$D/large.csv"}, stdout: "40000\n"},
		{args: []string{"vsum", "@$D/col.csv"}, stdout: "7\n"},
		{args: []string{"vsum", "@$D/row.csv"}, stdout: "10\n"},
		{args: []string{"vsum", "@$D/special.csv"}, stdout: "\"NaN\"\n"},
		{args: []string{"vsum", "@$D/empty.csv"}, stdout: "0\n"},
		{args: []string{"isum", "@$D/col.csv"}, code: 2, stderr: "argument 1 (x) of isum: $D/col.csv:2:1: want an integer (i64) of at most 2^53 in size, got 1.5"},
		{args: []string{"shape", "@$D/ints.csv"}, stdout: "[2, 2]\n"},
		{args: []string{"both", "@$D/row.csv", "[1, 1, 1, 1]"}, stdout: "10\n"},
		{args: []string{"vsum", "@$D/noheader.csv"}, code: 2, stderr: "argument 1 (x) of vsum: $D/noheader.csv: want [n]f64, a vector (one row or one column), got 2 rows of 3 numbers"},
		{args: []string{"two", "@$D/row.csv"}, code: 2, stderr: "argument 1 (x) of two: $D/row.csv: want [2]f64, got [4] numbers"},
		{args: []string{"total", "@$D/ragged.csv"}, code: 2, stderr: "$D/ragged.csv:3:1: a row of 1 field, but line 2 has 2 (a matrix is rectangular)"},
		{args: []string{"total", "@$D/word.csv"}, code: 2, stderr: "argument 1 (a) of total: $D/word.csv:2:3: not a number: \"oops\""},
		{args: []string{"total", "@$D/quote.csv"}, code: 2, stderr: "$D/quote.csv:1:"},
		{args: []string{"pair", "@$D/m.csv"}, code: 2, stderr: "argument 1 (p) of pair: $D/m.csv: a .csv file gives a vector or a matrix of numbers"},
		{args: []string{"total", "@$D/nosuch.csv"}, code: 2, stderr: "argument 1 (a) of total: cannot read $D/nosuch.csv: no such file or directory"},
		{args: []string{"total", "@"}, code: 2, stderr: "argument 1 (a) of total: @ must be followed by a file name"},

		// @FILE: JSON, errors placed in the file
		{args: []string{"total", "@$D/big.json"}, stdout: "10\n"},
		{args: []string{"pair", "@$D/pair.json"}, stdout: "3\n"},
		{args: []string{"total", "@$D/bad.json"}, code: 2, stderr: "argument 1 (a) of total: $D/bad.json:2:6: not valid JSON: invalid character ']' looking for beginning of value"},
		{args: []string{"total", "@$D/typo.json"}, code: 2, stderr: "argument 1 (a) of total: $D/typo.json: at [1][1]: want f64, got a bool (true)"},
		{args: []string{"total", "@$D"}, code: 2, stderr: "cannot read $D: is a directory"},

		// "-": one JSON value on standard input
		{args: []string{"total", "-"}, stdin: "[[1, 2], [3, 4]]", stdout: "10\n"},
		{args: []string{"add", "-", "2"}, stdin: " 1\n", stdout: "3\n"},
		{args: []string{"add", "1", "-"}, stdin: "[1,\n 2", code: 2, stderr: "argument 2 (b) of add: standard input:2:3: not valid JSON: unexpected EOF"},
		{args: []string{"add", "-", "-"}, stdin: "1", code: 2, stderr: "argument 2 (b) of add: standard input was read already, for argument 1"},
		{args: []string{"add", "-", "1"}, code: 2, stderr: `argument 1 (a) of add: "-" reads one JSON value from standard input, which is empty`},
		{args: []string{"add", "-", "1"}, stdin: "1 2", code: 2, stderr: "standard input:1:3: not valid JSON: unexpected text after the value"},

		// inline JSON: position, parameter, a short piece of the value
		{args: []string{"add", "1", "true"}, code: 2, stderr: "argument 2 (b) of add: want f64, got a bool (true)"},
		{args: []string{"vsum", long}, code: 2, stderr: `argument 1 (x) of vsum: not valid JSON: invalid character 'x' looking for beginning of value (at byte 602: ..."1, 1, 1, 1, 1, 1, 1, 1, x]")`},
		{args: []string{"vsum", "[\"" + strings.Repeat("y", 100) + "\"]"}, code: 2, stderr: `at [0]: want f64, got a string ("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...")`},
		{args: []string{"isum", "[" + strings.Repeat("9", 60) + "]"}, code: 2, stderr: "want i64, got 9999999999999999999999999999999999999..., which is out of the i64 range"},
		{args: []string{"add", "1", "-Inf"}, code: 2, stderr: `(write NaN and the infinities as JSON strings, quoted for the shell: '"NaN"', '"-Inf"')`},
		{args: []string{"add", "1", "nan"}, code: 2, stderr: "as JSON strings"},
		{args: []string{"add", "1", "--backend=go"}, code: 2, stderr: "(flags go before FILE)"},
		{args: []string{"add", "1", "-.5x"}, code: 2, stderr: "argument 2 (b) of add: not valid JSON"},
		{args: []string{"add", "1"}, code: 2, stderr: "add takes 2 arguments (a: f64, b: f64), one per parameter: JSON, @FILE or -; got 1"},
	} {
		args := []string{"run", "-f", tc.args[0], filepath.Join(dir, "p.nab")}
		for _, a := range tc.args[1:] {
			args = append(args, strings.ReplaceAll(a, "$D", dir))
		}
		stdin = strings.NewReader(tc.stdin)
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		name := strings.Join(tc.args, " ")
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d; stdout %q, stderr %q", name, code, tc.code, stdout.String(), stderr.String())
			continue
		}
		if code == 0 && stdout.String() != tc.stdout {
			t.Errorf("%s: stdout %q, want %q", name, stdout.String(), tc.stdout)
		}
		if want := strings.ReplaceAll(tc.stderr, "$D", dir); code != 0 && !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr %q does not contain %q", name, stderr.String(), want)
		}
		if len(stderr.String()) > 600 {
			t.Errorf("%s: an error of %d bytes quotes too much of the value", name, stderr.Len())
		}
	}
	stdin = os.Stdin
}
