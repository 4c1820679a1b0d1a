// Command ferretdb-local runs FerretDB 1.x with its SQLite backend on a loopback port.
//
// It imports the embeddable package rather than building cmd/ferretdb, whose module
// ships without the generated version.txt and panics at start.
//
// With -auth every command but the handshake needs a SCRAM login (FerretDB's experimental
// new authentication); -setup-username creates the first user in -setup-database, with the
// password from $FERRETDB_SETUP_PASSWORD (never a flag: command lines are visible to all).
// -tls-listen adds a TLS listener with the given certificate and key. The Config fields for
// authentication exist only in the module copy deploy/local/stack.py builds
// (patches/0004-scram-auth-options.patch), so build through stack.py.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof" // the -debug-listen handler: where the server's CPU goes, by function
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "./ferretdb-data", "directory for the SQLite files")
	auth := flag.Bool("auth", false, "require SCRAM authentication")
	setupDB := flag.String("setup-database", "", "database of the first user (with -auth)")
	setupUser := flag.String("setup-username", "", "first user, created if -setup-database is new")
	tlsListen := flag.String("tls-listen", "", "TLS address to listen on (empty: none)")
	tlsCert := flag.String("tls-cert", "", "server certificate (PEM) for -tls-listen")
	tlsKey := flag.String("tls-key", "", "server private key (PEM) for -tls-listen")
	debugListen := flag.String("debug-listen", "", "address of Go's /debug/pprof handler (empty: none)")
	flag.Parse()
	setupPassword := os.Getenv("FERRETDB_SETUP_PASSWORD")
	if *setupUser != "" && (!*auth || *setupDB == "" || setupPassword == "") {
		log.Fatal("-setup-username needs -auth, -setup-database and $FERRETDB_SETUP_PASSWORD")
	}

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatalf("create data dir: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP:         *listen,
			TLS:         *tlsListen,
			TLSCertFile: *tlsCert,
			TLSKeyFile:  *tlsKey,
		},
		Handler:       "sqlite",
		SQLiteURL:     sqliteURL(*dir),
		EnableNewAuth: *auth,
		SetupDatabase: *setupDB,
		SetupUsername: *setupUser,
		SetupPassword: setupPassword,
	})
	if err != nil {
		log.Fatalf("configure ferretdb: %v", err)
	}
	if *debugListen != "" {
		// Opt-in profiling (bench/ferretdb_profile.py): CPU by command shape under a real load.
		go func() {
			server := &http.Server{Addr: *debugListen, ReadHeaderTimeout: 5 * time.Second}
			log.Printf("debug handler stopped: %v", server.ListenAndServe())
		}()
	}
	log.Printf("ferretdb listening on %s (tls %q, auth %v), data in %s", *listen, *tlsListen, *auth, *dir)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb stopped: %v", err)
	}
}

// sqliteURL is the SQLite URI of the data directory: FerretDB adds busy_timeout, WAL and
// auto_vacuum to it, and passes every _pragma on to each connection of each database.
func sqliteURL(dir string) string {
	u := url.URL{Scheme: "file", Opaque: dir + "/"}
	q := url.Values{}
	// One fsync per checkpoint instead of one per commit: a crash of the machine (not of the
	// process) may lose the last commits, which a local test stack can afford.
	q.Add("_pragma", "synchronous(normal)")
	// When the log restarts, it is cut back to this size rather than kept at its largest; the
	// bound itself comes from the build's checkpointer (patches/0005-bounded-write-ahead-log.patch).
	q.Add("_pragma", "journal_size_limit(16777216)")
	// Database pages are read through a shared memory map rather than copied in by pread into
	// each pooled connection's own cache (docs/adr/0036): up to a hundred connections per
	// database otherwise each warm their own 2 MiB cache, and misses are system calls. SQLite
	// maps read-only, so a stray write cannot reach the file through the map.
	q.Add("_pragma", "mmap_size(1073741824)")
	// Sorts and temporary indexes in memory, not in temporary files.
	q.Add("_pragma", "temp_store(memory)")
	u.RawQuery = q.Encode()

	return u.String()
}
