package real

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// hubbleLines reads testdata/hubble/observe.json: flows in the shape
// `hubble observe -o json` prints them (relay's GetFlows responses in
// protojson): a SYN across the mesh seen at two observation points, its
// SYN-ACK reply and ACK, a node status, a local SYN, lost events and a
// SYN dropped for want of a backend.
func hubbleLines(t *testing.T) [][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/hubble/observe.json")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// wantProbeFlows are the probe's flows in observe.json: one a request.
func wantProbeFlows() []cluster.Flow {
	at := func(ns int) time.Time { return time.Date(2026, 11, 26, 12, 0, 1, ns, time.UTC) }
	busybox := cluster.Endpoint{Cluster: cluster.US, Namespace: "default", Pod: "busybox-deployment-7d4f8b6c9-abcde", Identity: 70409}
	return []cluster.Flow{
		{Time: at(120348291), Source: busybox, Destination: cluster.Endpoint{Cluster: cluster.EU, Namespace: "default", Pod: "hello-world-5b9c7d8f6-x2k9p", Identity: 145550},
			Service: "default/hello-world", Verdict: cluster.VerdictForwarded, CrossCluster: true},
		{Time: at(160112233), Source: busybox, Destination: cluster.Endpoint{Cluster: cluster.US, Namespace: "default", Pod: "hello-world-6c8d9e7f5-q7w8e", Identity: 80014},
			Service: "default/hello-world", Verdict: cluster.VerdictForwarded},
		{Time: at(201554321), Source: busybox, Destination: cluster.Endpoint{Cluster: cluster.US, Identity: 2},
			Service: "default/hello-world", Verdict: cluster.VerdictDropped, DropReason: cluster.DropNoBackend},
	}
}

// Flows in Hubble's real JSON shape decode into the probe's flows: one a
// connection (its first SYN, not the replies, the ACKs or the same SYN
// seen again at the destination), cluster names from the endpoints,
// cross-cluster when forwarded to the peer, the drop with its reason.
func TestDecodeHubbleJSON(t *testing.T) {
	var hf []hubbleFlow
	for i, line := range hubbleLines(t) {
		f, ok, err := decodeFlowJSON(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if ok {
			hf = append(hf, f)
		}
	}
	if len(hf) != 6 {
		t.Fatalf("%d flows decoded, want the 6 of the file (node status and lost events are no flows)", len(hf))
	}
	got := probeFlows(cluster.US, hf)
	if want := wantProbeFlows(); !reflect.DeepEqual(got, want) {
		t.Errorf("probe flows\n%+v\nwant\n%+v", got, want)
	}
	if s := cluster.SummarizeFlows(got); s != (cluster.FlowSummary{Local: 1, Cross: 1, Dropped: 1}) {
		t.Errorf("summary %s", s)
	}
	if _, _, err := decodeFlowJSON([]byte(`{"flow":`)); err == nil {
		t.Error("a cut line decoded")
	}
}

// encodeResponse writes a flow as relay sends it on the wire, a
// GetFlowsResponse, from the fields of flow.proto the lab reads (and one
// it does not, the IP, which must be skipped).
func encodeResponse(f hubbleFlow) []byte {
	msg := func(fn func(b []byte) []byte) []byte { return fn(nil) }
	str := func(b []byte, n protowire.Number, s string) []byte {
		if s == "" {
			return b
		}
		b = protowire.AppendTag(b, n, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
	sub := func(b []byte, n protowire.Number, m []byte) []byte {
		b = protowire.AppendTag(b, n, protowire.BytesType)
		return protowire.AppendBytes(b, m)
	}
	varint := func(b []byte, n protowire.Number, v uint64) []byte {
		if v == 0 {
			return b
		}
		b = protowire.AppendTag(b, n, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	}
	endpoint := func(e hubbleEndpoint) []byte {
		return msg(func(b []byte) []byte {
			b = varint(b, 1, 1211)
			b = varint(b, fEndpointIdentity, uint64(e.Identity))
			b = str(b, fEndpointNamespace, e.Namespace)
			b = str(b, 4, "k8s:app=x")
			b = str(b, fEndpointPod, e.Pod)
			return str(b, fEndpointCluster, e.Cluster)
		})
	}
	code := func(names map[uint64]string, name string) uint64 {
		for k, v := range names {
			if v == name {
				return k
			}
		}
		return 0
	}
	flow := msg(func(b []byte) []byte {
		b = sub(b, fFlowTime, timestamp(f.Time))
		b = varint(b, fFlowVerdict, code(verdictNames, f.Verdict))
		b = sub(b, 5, msg(func(b []byte) []byte { return str(b, 1, "10.1.1.23") }))
		b = sub(b, fFlowL4, msg(func(b []byte) []byte {
			return sub(b, fL4TCP, msg(func(b []byte) []byte {
				b = varint(b, fTCPSrcPort, uint64(f.SourcePort))
				b = varint(b, 2, 80)
				return sub(b, fTCPFlags, msg(func(b []byte) []byte {
					if f.SYN {
						b = varint(b, fTCPFlagsSYN, 1)
					}
					return varint(b, 5, 1) // ACK, which the lab does not read
				}))
			}))
		}))
		b = sub(b, fFlowSource, endpoint(f.Source))
		b = sub(b, fFlowDestination, endpoint(f.Destination))
		if f.Service != "" {
			ns, name, _ := strings.Cut(f.Service, "/")
			b = sub(b, fFlowDestService, msg(func(b []byte) []byte { return str(str(b, 1, name), 2, ns) }))
		}
		b = varint(b, fFlowDropReason, code(dropNames, f.DropReason))
		return sub(b, fFlowIsReply, msg(func(b []byte) []byte {
			if f.Reply {
				b = varint(b, 1, 1)
			}
			return b
		}))
	})
	var resp []byte
	resp = sub(resp, fResponseFlow, flow)
	resp = str(resp, 1000, "us/us-worker")
	return sub(resp, 1001, timestamp(f.Time))
}

// The observer API's protobuf decodes as the JSON does: every flow of
// observe.json, encoded as relay sends it, reads back the same.
func TestDecodeHubbleProtobuf(t *testing.T) {
	for i, line := range hubbleLines(t) {
		want, ok, err := decodeFlowJSON(line)
		if err != nil || !ok {
			continue
		}
		got, ok, err := decodeFlowsResponse(encodeResponse(want))
		if err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("line %d: %+v, %v, %v\nwant %+v", i+1, got, ok, err, want)
		}
	}
	// A node status response carries no flow; a cut message is an error.
	status := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{})
	if _, ok, err := decodeFlowsResponse(status); ok || err != nil {
		t.Errorf("node status: flow %v, %v", ok, err)
	}
	whole := encodeResponse(hubbleFlow{Time: time.Unix(1, 0).UTC(), Verdict: "FORWARDED", SYN: true})
	if _, _, err := decodeFlowsResponse(whole[:len(whole)/2]); err == nil {
		t.Error("a cut response decoded")
	}
}

// relayServer serves observer.Observer/GetFlows over HTTP/2 without TLS,
// as hubble-relay does: it records the request and streams responses,
// then ends with status (0: OK).
type relayServer struct {
	addr      string
	responses [][]byte
	status    string
	got       chan []byte
}

func newRelayServer(t *testing.T, responses [][]byte, status string) *relayServer {
	t.Helper()
	rs := &relayServer{responses: responses, status: status, got: make(chan []byte, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/observer.Observer/GetFlows", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/grpc+proto" || len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) != len(body)-5 {
			http.Error(w, "not gRPC", http.StatusBadRequest)
			return
		}
		rs.got <- body[5:]
		w.Header().Set("Content-Type", "application/grpc+proto")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		for _, m := range rs.responses {
			head := make([]byte, 5)
			binary.BigEndian.PutUint32(head[1:], uint32(len(m)))
			w.Write(append(head, m...))
			w.(http.Flusher).Flush()
		}
		w.Header().Set("Grpc-Status", rs.status)
		if rs.status != "0" {
			w.Header().Set("Grpc-Message", "invalid%20argument")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: &protocols}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rs.addr = ln.Addr().String()
	return rs
}

// getFlows speaks gRPC to relay: the request asks for the SYNs of the
// busybox pod to port 80 in the probe's window, the streamed responses
// decode into flows, and a failed status is an error.
func TestGetFlowsOverHTTP2(t *testing.T) {
	var responses [][]byte
	var want []hubbleFlow
	for _, line := range hubbleLines(t) {
		if f, ok, _ := decodeFlowJSON(line); ok {
			responses = append(responses, encodeResponse(f))
			want = append(want, f)
		}
	}
	responses = append(responses, protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), []byte{8, 3})) // lost events
	rs := newRelayServer(t, responses, "0")
	since, until := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 12, 0, 5, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	got, err := getFlows(ctx, rs.addr, flowsRequest("default/busybox-deployment-7d4f8b6c9-abcde", since, until))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flows %+v\nwant %+v", got, want)
	}
	checkRequest(t, <-rs.got, since, until)

	bad := newRelayServer(t, nil, "3")
	if _, err := getFlows(ctx, bad.addr, flowsRequest("default/x", since, until)); err == nil || !strings.Contains(err.Error(), "gRPC status 3: invalid argument") {
		t.Errorf("a failed call: %v", err)
	}
}

// checkRequest decodes a GetFlowsRequest: one whitelist filter on the
// pod, port 80, SYN, not a reply; the window as since and until.
func checkRequest(t *testing.T, req []byte, since, until time.Time) {
	t.Helper()
	var filter []byte
	var gotSince, gotUntil time.Time
	err := fields(req, func(num protowire.Number, _ protowire.Type, _ uint64, bs []byte) error {
		var err error
		switch num {
		case fGetFlowsWhitelist:
			filter = bs
		case fGetFlowsSince:
			gotSince, err = decodeTimestamp(bs)
		case fGetFlowsUntil:
			gotUntil, err = decodeTimestamp(bs)
		case fGetFlowsNumber:
			t.Error("the request sets number, which since/until exclude")
		}
		return err
	})
	if err != nil || !gotSince.Equal(since) || !gotUntil.Equal(until) {
		t.Errorf("window %v..%v, %v", gotSince, gotUntil, err)
	}
	seen := map[protowire.Number]string{}
	fields(filter, func(num protowire.Number, _ protowire.Type, _ uint64, bs []byte) error {
		seen[num] = string(bs)
		return nil
	})
	if seen[fFilterSourcePod] != "default/busybox-deployment-7d4f8b6c9-abcde" || seen[fFilterDestPort] != "80" || seen[fFilterReply] != "\x00" || seen[fFilterTCPFlags] != "\x10\x01" {
		t.Errorf("filter %q", seen)
	}
}

// A probe from a cluster whose Hubble Relay runs carries its flows, read
// through the relay dialer (a port-forward in the lab) with the busybox
// pod and the probe's window in the request; without a relay pod it has
// none and asks nobody.
func TestProbeReadsFlowsFromRelay(t *testing.T) {
	ctx := context.Background()
	ready := corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	busyboxPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "busybox-deployment-7d4f8b6c9-abcde", Namespace: demoNamespace, Labels: map[string]string{"app": "busybox"}}, Status: ready}
	relayPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hubble-relay-64d7c9bb65-zwcfk", Namespace: namespace, Labels: map[string]string{"k8s-app": hubbleRelay}}, Status: ready}
	var responses [][]byte
	for _, line := range hubbleLines(t) {
		if f, ok, _ := decodeFlowJSON(line); ok {
			responses = append(responses, encodeResponse(f))
		}
	}
	rs := newRelayServer(t, responses, "0")
	dialed := 0
	relay := func(o *Options) {
		o.FlowDelay = time.Millisecond
		o.Relay = func(ctx context.Context, c cluster.Name) (string, func(), error) {
			dialed++
			return rs.addr, func() {}, nil
		}
	}
	answers := strings.Repeat(`{"message": "Hello world from US!"}`+"\n", 3)

	tb := newTestBackend(t, "", newFakeCluster(busyboxPod, relayPod), nil, relay)
	tb.exec.set("us/busybox-deployment-7d4f8b6c9-abcde/busybox", answers)
	res, err := tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Flows, wantProbeFlows()) || dialed != 1 {
		t.Errorf("flows %+v (relay dialed %d times)", res.Flows, dialed)
	}
	req := <-rs.got
	fields(req, func(num protowire.Number, _ protowire.Type, _ uint64, bs []byte) error {
		if num == fGetFlowsWhitelist && !bytes.Contains(bs, []byte("default/busybox-deployment-7d4f8b6c9-abcde")) {
			t.Errorf("the filter does not name the busybox pod: %q", bs)
		}
		return nil
	})
	// A settle probe asks for no flows.
	res, err = tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 3, NoFlows: true}, nil)
	if err != nil || len(res.Flows) != 0 || dialed != 1 {
		t.Errorf("a probe without flows: %d flows, relay dialed %d times, %v", len(res.Flows), dialed, err)
	}

	none := newTestBackend(t, "", newFakeCluster(busyboxPod), nil, relay)
	none.exec.set("us/busybox-deployment-7d4f8b6c9-abcde/busybox", answers)
	res, err = none.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 3}, nil)
	if err != nil || len(res.Flows) != 0 || dialed != 1 {
		t.Errorf("without a relay pod: %d flows, relay dialed %d times, %v", len(res.Flows), dialed, err)
	}
}
