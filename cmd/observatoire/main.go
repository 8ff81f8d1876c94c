// Command observatoire is the composition root of the Relais Petite Enfance
// observatory: it reads the configuration, opens the warehouse once and hands
// it to each stage (ingest, transform, reports). Stages never import each
// other; this package only wires them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT/SIGTERM cancel the context: the current step rolls back or
	// finishes its transaction, then the command exits non-zero.
	// A second signal kills at once (the default behaviour is restored): the
	// next run recovers the warehouse from its WAL and clears the lock.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		fmt.Fprintf(os.Stderr, "observatoire: %v: stopping; the current step finishes or rolls back (signal again to kill)\n", s)
		cancel()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "observatoire:", err)
		var ec exitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

// exitCoder lets a command choose its exit status (2 for partial failures,
// for instance).
type exitCoder interface{ ExitCode() int }
