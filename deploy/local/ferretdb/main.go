// Command ferretdb-local runs FerretDB 1.x with its SQLite backend on a loopback port.
//
// It imports the embeddable package rather than building cmd/ferretdb, whose module
// ships without the generated version.txt and panics at start.
//
// With -auth every command but the handshake needs a SCRAM login (FerretDB's experimental
// new authentication); -setup-username creates the first user in -setup-database, with the
// password from $FERRETDB_SETUP_PASSWORD (never a flag: command lines are visible to all).
// -tls-listen adds a TLS listener with the given certificate and key. The Config fields for
// authentication exist only in the module copy deploy/local/stack.py patches (AUTH_OPTIONS),
// so build through stack.py.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

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
		SQLiteURL:     "file:" + *dir + "/?_pragma=synchronous(normal)",
		EnableNewAuth: *auth,
		SetupDatabase: *setupDB,
		SetupUsername: *setupUser,
		SetupPassword: setupPassword,
	})
	if err != nil {
		log.Fatalf("configure ferretdb: %v", err)
	}
	log.Printf("ferretdb listening on %s (tls %q, auth %v), data in %s", *listen, *tlsListen, *auth, *dir)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb stopped: %v", err)
	}
}
