package stdlib

import "embed"

// FS holds the standard library's modules: "std/linalg" is std/linalg.nab.
//
//go:embed std/*.nab
var FS embed.FS
