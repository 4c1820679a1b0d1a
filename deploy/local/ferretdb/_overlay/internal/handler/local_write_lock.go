package handler

import "github.com/FerretDB/FerretDB/internal/util/localwrite"

// writeMu makes each write command atomic, as MongoDB's single-document writes are
// (added by the complaint pipeline's local build of FerretDB, docs/adr/0004; taken by
// patches/0003-atomic-write-commands.patch). The WAL checkpointer takes the same lock
// (local_checkpoint.go), so a checkpoint never waits on a writer.
var writeMu = &localwrite.Mu
