package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
)

type request struct {
	Op   string `json:"op"`
	Mode string `json:"mode"`
}

func listen(path string) (net.Listener, error) {
	os.Remove(path)
	return net.Listen("unix", path)
}

// serve answers control requests until a cut or a shutdown, then unmounts and exits.
func serve(ln net.Listener, l *layer, mp, control string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			fail("control socket: %v", err)
		}
		go session(conn, l, mp, control)
	}
}

func session(conn net.Conn, l *layer, mp, control string) {
	defer conn.Close()
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		var req request
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			reply(conn, map[string]any{"ok": false, "error": fmt.Sprintf("bad request: %v", err)})
			continue
		}
		final, body := answer(l, req)
		reply(conn, body)
		if final {
			finish(mp, control)
		}
	}
}

// answer returns the reply, and whether the daemon must now unmount and exit.
func answer(l *layer, req request) (bool, any) {
	switch req.Op {
	case "stats":
		return false, struct {
			OK bool `json:"ok"`
			layerStats
		}{true, l.stats()}
	case "cut":
		res, err := l.cut(req.Mode)
		if err != nil {
			return res.Mode != "", map[string]any{"ok": false, "error": err.Error()}
		}
		return true, struct {
			OK bool `json:"ok"`
			cutResult
		}{true, res}
	case "sync":
		n, err := l.sync()
		if err != nil {
			return false, map[string]any{"ok": false, "error": err.Error()}
		}
		return false, map[string]any{"ok": true, "bytesWrittenBack": n}
	case "shutdown":
		if err := l.shutdown(); err != nil {
			return true, map[string]any{"ok": false, "error": err.Error()}
		}
		return true, map[string]any{"ok": true}
	}
	return false, map[string]any{"ok": false, "error": fmt.Sprintf("unknown op %q (stats, sync, cut, shutdown)", req.Op)}
}

func reply(conn net.Conn, body any) {
	b, _ := json.Marshal(body)
	conn.Write(append(b, '\n'))
}

func finish(mp, control string) {
	os.Remove(control)
	if err := unmount(mp); err != nil {
		fail("unmount %s: %v", mp, err)
	}
	os.Exit(0)
}
