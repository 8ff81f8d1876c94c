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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
