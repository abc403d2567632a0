package runtime

import "embed"

// Sources holds this package's source files. nabla run --backend go
// writes them next to the Go code it generates, so that the generated
// program (which imports this package) builds from any directory and
// without network access once the module cache holds this module's
// dependencies.
//
//go:embed *.go *.s
var Sources embed.FS
