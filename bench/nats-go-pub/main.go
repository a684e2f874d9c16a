// A reference JetStream publisher in Go, the way `nats bench js pub --batch W` publishes:
// asynchronous publishes with at most W awaiting their ack. natscli itself cannot be
// installed on our machines (the Go module proxy refuses it), so bench/nats-publish.ts
// builds this instead to have a native client's figure beside the harness's own.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "server URL")
	subject := flag.String("subject", "", "stream subject")
	msgs := flag.Int("msgs", 100000, "messages to publish")
	size := flag.Int("size", 512, "payload bytes")
	window := flag.Int("window", 1000, "publishes awaiting an ack at most")
	flag.Parse()

	nc, err := nats.Connect(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(*window), nats.PublishAsyncErrHandler(func(nats.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(1)
	}
	payload := make([]byte, *size)
	start := time.Now()
	for i := 0; i < *msgs; i++ {
		if _, err := js.PublishAsync(*subject, payload); err != nil {
			fmt.Fprintln(os.Stderr, "publish:", err)
			os.Exit(1)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(120 * time.Second):
		fmt.Fprintln(os.Stderr, "acks did not complete within 120 s")
		os.Exit(1)
	}
	elapsed := time.Since(start).Seconds()
	fmt.Printf("{\"msgs\":%d,\"failed\":%d,\"seconds\":%f,\"msgsPerSec\":%f}\n", *msgs, failed.Load(), elapsed, float64(*msgs)/elapsed)
}
