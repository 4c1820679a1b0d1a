// Added by the complaint pipeline's local build of FerretDB (docs/adr/0041,
// deps/modernc.org/sqlite/0001-prepared-statements-kept-per-connection.patch).

package sqlite // import "modernc.org/sqlite"

import (
	"unsafe"

	sqlite3 "modernc.org/sqlite/lib"
)

// localStmtCacheSize bounds the idle prepared statements a connection keeps: FerretDB sends a
// few texts per collection (a read by _id, an update by _id, inserts of n documents), and a
// database has up to a hundred pooled connections.
const localStmtCacheSize = 32

// localPrepare returns the next statement of s's text at *psql and advances *psql past it: the
// connection's idle statement of the whole text when it has one, else a fresh one. whole says
// the statement is all of s's text, so it may go back to the cache when done.
func (s *stmt) localPrepare(psql *uintptr) (pstmt uintptr, whole bool, err error) {
	start := *psql
	if start == s.psql {
		if pstmt = s.c.localTake(s.sql); pstmt != 0 {
			*psql = s.psql + uintptr(len(s.sql))
			return pstmt, true, nil
		}
	}

	if pstmt, err = s.c.prepareV2(psql); err != nil || pstmt == 0 {
		return pstmt, false, err
	}

	whole = start == s.psql && *(*byte)(unsafe.Pointer(*psql)) == 0 && s.sql != ""

	return pstmt, whole, nil
}

// localTake removes and returns the idle statement of sql, or 0.
func (c *conn) localTake(sql string) uintptr {
	pstmt, ok := c.localStmts[sql]
	if !ok {
		return 0
	}

	delete(c.localStmts, sql)

	return pstmt
}

// localPut resets pstmt, a whole prepared statement of sql that ran without error, and keeps it
// for the next execution of sql on this connection; it is finalized instead if sql already has
// one kept or it cannot be reset. A full cache makes room by finalizing one of its entries.
func (c *conn) localPut(sql string, pstmt uintptr) error {
	if sqlite3.Xsqlite3_reset(c.tls, pstmt) != sqlite3.SQLITE_OK ||
		sqlite3.Xsqlite3_clear_bindings(c.tls, pstmt) != sqlite3.SQLITE_OK {
		return c.finalize(pstmt)
	}

	if _, ok := c.localStmts[sql]; ok {
		return c.finalize(pstmt)
	}

	if c.localStmts == nil {
		c.localStmts = make(map[string]uintptr, localStmtCacheSize)
	}

	if len(c.localStmts) >= localStmtCacheSize {
		for old, p := range c.localStmts {
			delete(c.localStmts, old)
			if err := c.finalize(p); err != nil {
				_ = c.finalize(pstmt)
				return err
			}

			break
		}
	}

	c.localStmts[sql] = pstmt

	return nil
}

// localFinalizeAll finalizes the kept statements (before the connection closes).
func (c *conn) localFinalizeAll() {
	for sql, pstmt := range c.localStmts {
		delete(c.localStmts, sql)
		_ = c.finalize(pstmt)
	}
}

// localKeep marks rows whose statement is all of sql's text: Close returns it to the cache.
func localKeep(r any, whole bool, sql string) {
	if rs, ok := r.(*rows); ok && whole {
		rs.local = sql
	}
}
