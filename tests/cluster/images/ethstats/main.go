// Command ethstatsstandin is the live test's stand-in for the chart's ethstats
// dashboard image (ethereumex/eth-stats-dashboard), which no registry here serves:
// a minimal ethstats server, the Go twin of tests/live/ethstats_server.py, built as
// a static binary for an image of its own.
//
// It speaks the part of the ethstats protocol geth's ethstats client uses
// (websocket at /api, messages {"emit": [command, argument]}):
//
//   - `hello` with the node name (`id`) and `secret`: a wrong secret is recorded as
//     rejected and the connection closed, as the real server does; the right one is
//     recorded (with the node's `info`) and answered with {"emit":["ready"]};
//   - `node-ping` is answered with `node-pong` carrying the ping's clientTime and
//     the server's time in milliseconds;
//   - `block` reports are recorded by number (the last 50), `stats` counted with the
//     last one kept, `pending` counted; anything else is ignored.
//
// GET /nodes answers what it has seen as JSON, for the test to read: node name ->
// {hello, rejected, blocks, stats, pending, info, last_stats}. Any other request
// is answered 404. Reads PORT (default 3000) and WS_SECRET from the environment,
// like the real server, and listens on 0.0.0.0; SIGTERM or SIGINT ends it with
// status 0.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// What the Python server's websockets library does by default: messages up to
// 1 MiB, a keepalive ping every 20 s that must be answered within 20 s.
const (
	readLimit    = 1 << 20
	pingInterval = 20 * time.Second
	pingTimeout  = 20 * time.Second
	keptBlocks   = 50
)

// node is what the server has seen of one node name. Info and LastStats are the
// nodes' own JSON, kept as sent, and appear once the node has sent them.
type node struct {
	Hello     int               `json:"hello"`
	Rejected  int               `json:"rejected"`
	Blocks    []json.RawMessage `json:"blocks"`
	Stats     int               `json:"stats"`
	Pending   int               `json:"pending"`
	Info      json.RawMessage   `json:"info,omitempty"`
	LastStats json.RawMessage   `json:"last_stats,omitempty"`
}

type server struct {
	secret string
	mu     sync.Mutex
	seen   map[string]*node
}

var jsonNull = json.RawMessage("null")

// record applies fn to the entry of name under the lock, creating it first.
func (s *server) record(name string, fn func(n *node)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seen[name]
	if n == nil {
		n = &node{Blocks: []json.RawMessage{}}
		s.seen[name] = n
	}
	fn(n)
}

// object decodes raw as a JSON object; ok is false for anything else.
func object(raw json.RawMessage) (obj map[string]json.RawMessage, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, false
	}
	return obj, true
}

// get is obj[key], or def when the key is absent (Python's dict.get).
func get(obj map[string]json.RawMessage, key string, def json.RawMessage) json.RawMessage {
	if v, ok := obj[key]; ok {
		return v
	}
	return def
}

// nodeName is the key a hello's id is recorded under: the string itself, the JSON
// text of any other value; ok is false for a missing or null id.
func nodeName(id json.RawMessage) (name string, ok bool) {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || string(id) == "null" {
		return "", false
	}
	if s, ok := jsonString(id); ok {
		return s, true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) == nil {
		return buf.String(), true
	}
	return string(id), true
}

// jsonString decodes raw as a JSON string; ok is false for any other value.
func jsonString(raw json.RawMessage) (s string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// falsy reports whether a JSON value counts as false in Python (None, "", 0,
// false, [], {}): a rejected hello without a usable id is recorded under "?".
func falsy(v json.RawMessage) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return true
	}
	switch t := x.(type) {
	case nil:
		return true
	case bool:
		return !t
	case float64:
		return t == 0
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func (s *server) send(ctx context.Context, c *websocket.Conn, emit ...any) error {
	msg, err := json.Marshal(map[string][]any{"emit": emit})
	if err != nil {
		return err
	}
	return c.Write(ctx, websocket.MessageText, msg)
}

// errBadArgument stands for the Python server's handler failing on an argument
// that is not a JSON object: the connection is closed with an internal error.
var errBadArgument = errors.New("argument is not a JSON object")

// handle serves one websocket connection until it closes.
func (s *server) handle(ctx context.Context, c *websocket.Conn) {
	c.SetReadLimit(readLimit)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go keepalive(ctx, c)

	var name string
	named := false
	for {
		_, raw, err := c.Read(ctx)
		if err != nil {
			return
		}
		err = s.message(ctx, c, raw, &name, &named)
		if errors.Is(err, errBadArgument) {
			c.Close(websocket.StatusInternalError, "")
			return
		}
		if err != nil {
			return
		}
	}
}

// errClosed ends the connection after it has been closed on purpose.
var errClosed = errors.New("closed")

// message handles one message of a connection; name and named are the
// connection's node name once a hello has given one.
func (s *server) message(ctx context.Context, c *websocket.Conn, raw []byte, name *string, named *bool) error {
	msg, ok := object(raw)
	if !ok {
		return nil
	}
	var emit []json.RawMessage
	if json.Unmarshal(msg["emit"], &emit) != nil || len(emit) == 0 {
		return nil
	}
	var cmd string
	if json.Unmarshal(emit[0], &cmd) != nil {
		return nil
	}
	arg := json.RawMessage("{}")
	if len(emit) > 1 {
		arg = emit[1]
	}

	switch {
	case cmd == "hello":
		a, ok := object(arg)
		if !ok {
			return errBadArgument
		}
		id := get(a, "id", jsonNull)
		*name, *named = nodeName(id)
		if secret, ok := jsonString(get(a, "secret", jsonNull)); !ok || secret != s.secret {
			key := *name
			if falsy(id) {
				key = "?"
			}
			s.record(key, func(n *node) { n.Rejected++ })
			c.Close(websocket.StatusNormalClosure, "")
			return errClosed
		}
		key := *name
		if !*named {
			key = "null" // how Python's json.dumps writes a None key
		}
		info := get(a, "info", json.RawMessage("{}"))
		s.record(key, func(n *node) {
			n.Hello++
			n.Info = info
		})
		return s.send(ctx, c, "ready")
	case !*named:
		return nil
	case cmd == "node-ping":
		a, ok := object(arg)
		if !ok {
			return errBadArgument
		}
		return s.send(ctx, c, "node-pong", map[string]any{
			"clientTime": get(a, "clientTime", jsonNull),
			"serverTime": time.Now().UnixMilli(),
		})
	case cmd == "block":
		a, ok := object(arg)
		if !ok {
			return errBadArgument
		}
		block, ok := object(get(a, "block", json.RawMessage("{}")))
		if !ok {
			return errBadArgument
		}
		number := get(block, "number", jsonNull)
		s.record(*name, func(n *node) {
			n.Blocks = append(n.Blocks, number)
			if len(n.Blocks) > keptBlocks {
				n.Blocks = append([]json.RawMessage{}, n.Blocks[len(n.Blocks)-keptBlocks:]...)
			}
		})
	case cmd == "stats":
		a, ok := object(arg)
		if !ok {
			return errBadArgument
		}
		stats := get(a, "stats", json.RawMessage("{}"))
		s.record(*name, func(n *node) {
			n.Stats++
			n.LastStats = stats
		})
	case cmd == "pending":
		s.record(*name, func(n *node) { n.Pending++ })
	}
	return nil
}

// keepalive pings the peer every pingInterval and closes the connection when a
// pong does not come back within pingTimeout.
func keepalive(ctx context.Context, c *websocket.Conn) {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			c.Close(websocket.StatusPolicyViolation, "keepalive ping timeout")
			return
		}
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// RequestURI is the raw target, query included, as the Python server compares it.
	if r.RequestURI == "/nodes" && r.Method == http.MethodGet {
		s.mu.Lock()
		body, err := json.Marshal(s.seen)
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
		return
	}
	if r.RequestURI != "/api" || r.Method != http.MethodGet ||
		!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	// geth's client sends "Origin: http://localhost" whatever the server's address,
	// and the Python server checks no origin either.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	defer c.CloseNow()
	s.handle(r.Context(), c)
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("ethstats: ")
	port := 3000
	if p, ok := os.LookupEnv("PORT"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			log.Fatalf("PORT=%q is not a port number", p)
		}
		port = n
	}
	s := &server{secret: os.Getenv("WS_SECRET"), seen: map[string]*node{}}

	ln, err := net.Listen("tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		log.Printf("%v: exiting", sig)
		srv.Close()
		os.Exit(0)
	}()

	log.Printf("listening on %s", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	select {} // srv.Close came from the signal handler, which exits
}
