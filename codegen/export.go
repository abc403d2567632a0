package codegen

import "bytes"

// emitExported writes the documented exported function of an exported def.
func (g *gen) emitExported(w *bytes.Buffer, di *defInfo) {}
