package handler

import "sync"

// writeMu makes each write command atomic, as MongoDB's single-document writes are
// (added by the complaint pipeline's local build of FerretDB, docs/adr/0004; taken by
// patches/0003-atomic-write-commands.patch).
var writeMu sync.Mutex
