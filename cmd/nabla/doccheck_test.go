package main

// Checked documentation: the example programs in examples/ and the code
// blocks of README.md show commands with their output, and these tests
// run each command and compare. go test ./cmd/nabla -update rewrites the
// shown output from the actual one.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the output shown in examples/*.nab and README.md")

// repoRoot is where doc commands run, as a reader would run them.
const repoRoot = "../.."

// shownCommand is one "$ nabla ..." line of a doc with the output shown
// below it: lines[first:end] of the doc, without their prefix.
type shownCommand struct {
	line       int // 1-based, of the command
	cmd        string
	want       []string
	first, end int
}

// parseShown finds the commands in lines[from:to] that begin with
// prefix+"$ " and the output lines after each (lines that begin with
// prefix but not with prefix+"$ ", up to the first that does not).
func parseShown(lines []string, from, to int, prefix string) []shownCommand {
	var out []shownCommand
	for i := from; i < to; i++ {
		cmd, ok := strings.CutPrefix(lines[i], prefix+"$ ")
		if !ok {
			continue
		}
		sc := shownCommand{line: i + 1, cmd: cmd, first: i + 1}
		j := i + 1
		for ; j < to; j++ {
			rest, ok := strings.CutPrefix(lines[j], prefix)
			if blank := strings.TrimSpace(prefix); !ok && blank != "" && lines[j] == blank && j+1 < to &&
				strings.HasPrefix(lines[j+1], prefix) && !strings.HasPrefix(lines[j+1], prefix+"$ ") {
				// A blank line of output inside a comment: "//" between
				// output lines.
				rest, ok = "", true
			}
			if !ok || strings.HasPrefix(rest, "$ ") {
				break
			}
			sc.want = append(sc.want, rest)
		}
		sc.end = j
		out = append(out, sc)
		i = j - 1
	}
	return out
}

// docRun runs a command line as a reader would type it: "nabla ARGS",
// "go run ./cmd/nabla ARGS", optionally after "echo TEXT |" for standard
// input. Words are split as a shell would (quotes, unquoted globs);
// rename maps file names to the paths they were written to.
func docRun(t *testing.T, line string, rename map[string]string) (stdout, stderr string, code int) {
	t.Helper()
	input := ""
	if left, right, ok := strings.Cut(line, " | "); ok {
		words := shellWords(t, left)
		if len(words) == 0 || words[0] != "echo" {
			t.Fatalf("%q: only echo may feed a command", line)
		}
		input = strings.Join(words[1:], " ") + "\n"
		line = right
	}
	words := shellWords(t, line)
	switch {
	case len(words) > 0 && words[0] == "nabla":
		words = words[1:]
	case len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/nabla":
		words = words[3:]
	default:
		t.Fatalf("%q: a doc command must run nabla", line)
	}
	var args []string
	for _, w := range words {
		at := strings.HasPrefix(w, "@")
		name := strings.TrimPrefix(w, "@")
		if p, ok := rename[name]; ok {
			w = p
			if at {
				w = "@" + p
			}
		}
		if strings.ContainsAny(w, "*?[") && !strings.ContainsAny(w, "'\" ") && !strings.HasPrefix(w, "[") {
			matches, _ := filepath.Glob(w)
			if len(matches) == 0 {
				t.Fatalf("%q: %s matches no file", line, w)
			}
			args = append(args, matches...)
			continue
		}
		args = append(args, w)
	}
	stdin = strings.NewReader(input)
	defer func() { stdin = os.Stdin }()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	stdout, stderr = o.String(), e.String()
	for name, p := range rename {
		stdout = strings.ReplaceAll(stdout, p, name)
		stderr = strings.ReplaceAll(stderr, p, name)
	}
	return stdout, stderr, code
}

// shellWords splits a command line as sh would, for the quoting used in
// docs: 'single', "double" (no escapes inside) and bare words; a # starts
// a comment.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '#' && !inWord:
			i = len(s)
		case unicode.IsSpace(rune(c)):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// sameOutput compares output lines with the lines shown; "..." in a
// shown line stands for any text.
func sameOutput(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		parts := strings.Split(w, "...")
		g, last := got[i], parts[len(parts)-1]
		if len(parts) == 1 {
			if g != w {
				return false
			}
			continue
		}
		if !strings.HasPrefix(g, parts[0]) || !strings.HasSuffix(g, last) || len(g) < len(parts[0])+len(last) {
			return false
		}
		g = g[len(parts[0]) : len(g)-len(last)]
		for _, p := range parts[1 : len(parts)-1] {
			k := strings.Index(g, p)
			if k < 0 {
				return false
			}
			g = g[k+len(p):]
		}
	}
	return true
}

// checkShown runs each command and compares its output (stdout, then
// stderr: a doc shows what the reader sees) with the output shown. It
// returns the doc's lines with the actual output in place, for -update.
// mustSucceed asks for exit status 0 from every command.
func checkShown(t *testing.T, file string, lines []string, cmds []shownCommand, prefix string, rename map[string]string, mustSucceed bool) []string {
	t.Helper()
	out := slices.Clone(lines)
	for k := len(cmds) - 1; k >= 0; k-- {
		sc := cmds[k]
		stdout, stderr, code := docRun(t, sc.cmd, rename)
		got := strings.Split(strings.TrimRight(stdout+stderr, "\n"), "\n")
		if stdout+stderr == "" {
			got = nil
		}
		if !sameOutput(sc.want, got) {
			if !*update {
				t.Errorf("%s:%d: $ %s\nexit %d, output:\n%s\nshown:\n%s", file, sc.line, sc.cmd, code, strings.Join(got, "\n"), strings.Join(sc.want, "\n"))
			}
			shown := make([]string, len(got))
			for i, g := range got {
				shown[i] = strings.TrimRight(prefix+g, " \t")
			}
			out = slices.Concat(out[:sc.first], shown, out[sc.end:])
		}
		if code != 0 && mustSucceed {
			t.Errorf("%s:%d: $ %s: exit %d", file, sc.line, sc.cmd, code)
		}
	}
	return out
}

// writeBack writes lines to path when -update changed them.
func writeBack(t *testing.T, path string, old, lines []string) {
	t.Helper()
	if !*update || slices.Equal(old, lines) {
		return
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "updated %s\n", path)
}

// TestExamples runs the commands that each example program shows in its
// leading comment, from the repository's root, and compares their output
// with the output shown. Every example shows at least one command.
func TestExamples(t *testing.T) {
	t.Chdir(repoRoot)
	files, err := filepath.Glob("examples/*.nab")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		if _, stderr, code := docRun(t, "nabla check "+f, nil); code != 0 {
			t.Errorf("nabla check %s: exit %d: %s", f, code, stderr)
		}
		cmds := parseShown(lines, 0, len(lines), "//\t")
		if len(cmds) == 0 {
			t.Errorf("%s shows no command (a comment line \"//\t$ nabla run %s\" and its output)", f, f)
		}
		writeBack(t, f, lines, checkShown(t, f, lines, cmds, "//\t", nil, true))
	}
}

// mdBlock is a fenced code block of a Markdown file: lines[first:end]
// are its body, lang and tag the words after the opening fence.
type mdBlock struct {
	line       int // 1-based, of the opening fence
	lang, tag  string
	first, end int
}

func mdBlocks(t *testing.T, lines []string) []mdBlock {
	var out []mdBlock
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		words := strings.Fields(info)
		b := mdBlock{line: i + 1, first: i + 1}
		if len(words) > 0 {
			b.lang = words[0]
		}
		if len(words) > 1 {
			b.tag = words[1]
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: unterminated code block", i+1)
		}
		b.end = j
		out = append(out, b)
		i = j
	}
	return out
}

// TestREADME checks every code block of README.md, from the repository's
// root:
//
//   - ```nab FILE: a program, written as FILE and checked (nabla check);
//     later commands may name FILE;
//   - ```sh with "$ " lines: each command is run and its output (stdout
//     then stderr) compared with the lines shown below it;
//   - ```sh without: each line is a command a reader would run; nabla
//     commands are run and must succeed, and the files and directories
//     others name must exist (paths under /tmp and ../shared aside);
//   - ```go FILE: the block's lines appear, in order and together, in
//     FILE, a Go file that go test compiles and runs.
func TestREADME(t *testing.T) {
	t.Chdir(repoRoot)
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	blocks := mdBlocks(t, lines)
	dir := t.TempDir()
	rename := map[string]string{}
	for _, b := range blocks {
		if b.lang != "nab" {
			continue
		}
		if b.tag == "" || strings.ContainsAny(b.tag, "/\\") {
			t.Errorf("README.md:%d: tag a nab block with a file name (```nab model.nab)", b.line)
			continue
		}
		path := filepath.Join(dir, b.tag)
		if err := os.WriteFile(path, []byte(strings.Join(lines[b.first:b.end], "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rename[b.tag] = path
	}
	for name := range rename {
		if out, errs, code := docRun(t, "nabla check "+name, rename); code != 0 {
			t.Errorf("README.md: nabla check %s: exit %d: %s%s", name, code, out, errs)
		}
	}
	newLines := lines
	for k := len(blocks) - 1; k >= 0; k-- {
		b := blocks[k]
		switch b.lang {
		case "nab":
		case "sh":
			if cmds := parseShown(newLines, b.first, b.end, ""); len(cmds) > 0 {
				newLines = checkShown(t, "README.md", newLines, cmds, "", rename, false)
				continue
			}
			for i := b.first; i < b.end; i++ {
				checkReference(t, i+1, lines[i], rename)
			}
		case "go":
			checkGoExcerpt(t, b, lines[b.first:b.end])
		default:
			t.Errorf("README.md:%d: a code block must be nab, sh or go, to be checked", b.line)
		}
	}
	writeBack(t, "README.md", lines, newLines)
}

// checkReference checks a command line of the README that is not run
// with its output shown.
func checkReference(t *testing.T, line int, cmd string, rename map[string]string) {
	t.Helper()
	words := shellWords(t, cmd)
	if len(words) == 0 {
		return
	}
	if words[0] == "nabla" || len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/nabla" {
		if out, errs, code := docRun(t, cmd, rename); code != 0 {
			t.Errorf("README.md:%d: %s: exit %d: %s%s", line, cmd, code, out, errs)
		}
		return
	}
	for _, w := range words[1:] {
		w = strings.TrimPrefix(w, "@")
		switch {
		case strings.HasPrefix(w, "/tmp"), strings.HasPrefix(w, "../shared"), strings.Contains(w, "://"),
			strings.HasPrefix(w, "-"), !strings.Contains(w, "/") && !strings.Contains(w, "."):
			continue
		case strings.ContainsAny(w, "*?"):
			continue // a glob, expanded by the shell
		case strings.HasPrefix(w, "github.com/nabla-lang/nabla"):
			w = "." + strings.TrimPrefix(w, "github.com/nabla-lang/nabla")
		}
		w = strings.TrimSuffix(w, "/...")
		if _, err := os.Stat(w); err != nil && rename[w] == "" {
			t.Errorf("README.md:%d: %s: %s does not exist", line, cmd, w)
		}
	}
}

// checkGoExcerpt checks that a go block is an excerpt of the Go file its
// tag names, compared line by line without indentation.
func checkGoExcerpt(t *testing.T, b mdBlock, body []string) {
	t.Helper()
	if b.tag == "" {
		t.Errorf("README.md:%d: tag a go block with the Go file it is taken from (```go example_test.go)", b.line)
		return
	}
	src, err := os.ReadFile(b.tag)
	if err != nil {
		t.Errorf("README.md:%d: %v", b.line, err)
		return
	}
	trim := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	want, have := trim(body), trim(strings.Split(string(src), "\n"))
	for i := 0; i+len(want) <= len(have); i++ {
		if slices.Equal(have[i:i+len(want)], want) {
			return
		}
	}
	t.Errorf("README.md:%d: the go block is not an excerpt of %s", b.line, b.tag)
}
