// Package localwrite holds the write lock of the complaint pipeline's local FerretDB build
// (docs/adr/0004): write commands take it so each is atomic, and the WAL checkpointer takes it
// so that no writer keeps a checkpoint from finishing.
package localwrite

import "sync"

// Mu is held by every write command for its whole duration, and by a WAL checkpoint.
var Mu sync.Mutex
