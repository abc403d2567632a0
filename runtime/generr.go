package runtime

import "strings"

// Error is a run-time error of generated code: a position, a message and
// the defs that were active, innermost first. Its text is the
// interpreter's: "file:line:col: message" and one "in def (pos), called
// at pos" line per def.
type Error struct {
	Pos    string   // "file:line:col", or "" when unknown
	Msg    string   // what went wrong, without position
	Frames []string // "def (pos), called at pos", innermost first
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos != "" {
		b.WriteString(e.Pos)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	for _, f := range e.Frames {
		b.WriteString("\n\tin ")
		b.WriteString(f)
	}
	return b.String()
}

// NewError makes an error at pos.
func NewError(pos, msg string) error { return &Error{Pos: pos, Msg: msg} }

// WithPos positions err at pos unless it is an *Error already (which has
// the innermost position).
func WithPos(pos string, err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Pos: pos, Msg: err.Error()}
}

// WithFrame records that err left def (declared at defPos), called at
// call ("" for a call from Go). An error that is not an *Error yet is
// positioned at defPos.
func WithFrame(err error, def, defPos, call string) error {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Pos: defPos, Msg: err.Error()}
	}
	f := def + " (" + defPos + ")"
	if call != "" {
		f += ", called at " + call
	}
	e.Frames = append(e.Frames, f)
	return e
}
