package real

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// relayPort is hubble-relay's gRPC port on its pod (the Service's 80
// targets it; shared/CILIUM.md, "Hubble").
const relayPort = 4245

// RelayDialer makes Hubble Relay's observer API of cluster c reachable at
// a local address (host:port) until done is called. The backend's own
// forwards a port to the hubble-relay pod, as `cilium hubble
// port-forward` does; tests serve the API themselves.
type RelayDialer func(ctx context.Context, c cluster.Name) (addr string, done func(), err error)

// maxFlowMessage bounds one GetFlows response: a flow is well under a
// kilobyte; more is not Hubble talking.
const maxFlowMessage = 1 << 20

// getFlows calls observer.Observer/GetFlows on addr, gRPC over HTTP/2
// without TLS (relay's default) with net/http, and decodes the stream until the server
// ends it. The lab speaks this one call's framing itself: a gRPC message is
// a byte of flags, four of length and the protobuf, and the call's status
// comes in the grpc-status trailer (or header, when there is no message).
func getFlows(ctx context.Context, addr string, req []byte) ([]hubbleFlow, error) {
	// net/http speaks HTTP/2 without TLS (prior knowledge) when told to.
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	body := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(body[1:], uint32(len(req)))
	body = append(body, req...)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/observer.Observer/GetFlows", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/grpc+proto")
	hreq.Header.Set("TE", "trailers")
	resp, err := tr.RoundTrip(hreq)
	if err != nil {
		return nil, fmt.Errorf("call Hubble Relay's GetFlows: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("call Hubble Relay's GetFlows: HTTP %s", resp.Status)
	}
	if err := grpcStatus(resp.Header); err != nil {
		return nil, err
	}
	var out []hubbleFlow
	head := make([]byte, 5)
	for {
		if _, err := io.ReadFull(resp.Body, head); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return out, fmt.Errorf("read Hubble Relay's GetFlows stream: %w", err)
		}
		n := binary.BigEndian.Uint32(head[1:])
		if head[0] != 0 || n > maxFlowMessage {
			return out, fmt.Errorf("read Hubble Relay's GetFlows stream: a message of %d bytes with flags %#x (compressed or not gRPC)", n, head[0])
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, msg); err != nil {
			return out, fmt.Errorf("read Hubble Relay's GetFlows stream: %w", err)
		}
		f, ok, err := decodeFlowsResponse(msg)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, grpcStatus(resp.Trailer)
}

// grpcStatus turns a grpc-status other than OK into an error.
func grpcStatus(h http.Header) error {
	s := h.Get("Grpc-Status")
	if s == "" || s == "0" {
		return nil
	}
	msg, _ := url.PathUnescape(h.Get("Grpc-Message"))
	code, _ := strconv.Atoi(s)
	return fmt.Errorf("hubble relay's GetFlows failed: gRPC status %d: %s", code, msg)
}

// forwardRelay forwards a local port to a running hubble-relay pod of c,
// as `cilium hubble port-forward` does.
func (b *Backend) forwardRelay(ctx context.Context, c cluster.Name) (string, func(), error) {
	cl, err := b.clientsFor(ctx, c)
	if err != nil {
		return "", nil, err
	}
	if cl.REST == nil {
		return "", nil, errors.New("a port-forward needs a REST configuration: the cluster's clients were built without one")
	}
	pods, err := cl.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + hubbleRelay})
	if err != nil {
		return "", nil, fmt.Errorf("list the hubble-relay pods of %s: %w", c, err)
	}
	pod := runningPod(pods.Items)
	if pod == "" {
		return "", nil, fmt.Errorf("no running hubble-relay pod in %s: %w", c, cluster.ErrNoHubble)
	}
	transport, upgrader, err := spdy.RoundTripperFor(cl.REST)
	if err != nil {
		return "", nil, err
	}
	u := cl.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", relayPort)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", nil, err
	}
	failed := make(chan error, 1)
	go func() { failed <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-failed:
		return "", nil, fmt.Errorf("port-forward to %s/%s in %s: %w", namespace, pod, c, err)
	case <-ctx.Done():
		close(stop)
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		return "", nil, fmt.Errorf("port-forward to %s/%s in %s: no local port: %v", namespace, pod, c, err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0].Local), func() { close(stop) }, nil
}

// flowDelay is how long relay is given, after a probe, to gather the
// flows its agents saw last.
func (b *Backend) flowDelay() time.Duration {
	if b.opts.FlowDelay > 0 {
		return b.opts.FlowDelay
	}
	return 2 * time.Second
}

// probeFlowsOf reads a probe's flows from Hubble Relay of its client's
// cluster: the SYNs of the busybox pod to port 80 between start and end.
// No relay (not enabled, or kept off by the values) means no flows; an
// error is logged and the probe keeps its counts.
func (b *Backend) probeFlowsOf(ctx context.Context, from cluster.Name, pod string, start, end time.Time) []cluster.Flow {
	kc, err := b.kube(ctx, from)
	if err != nil {
		return nil
	}
	var rs *corev1.PodList
	if rs, err = kc.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + hubbleRelay}); err != nil || runningPod(rs.Items) == "" {
		return nil // no relay: Hubble is not on, the probe has no flows
	}
	dial := b.opts.Relay
	if dial == nil {
		dial = b.forwardRelay
	}
	if err := cluster.Sleep(ctx, b.flowDelay()); err != nil {
		return nil
	}
	addr, done, err := dial(ctx, from)
	if err != nil {
		b.diag.Logf("[%s] flows of the probe: %v", from, err)
		return nil
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, b.timeouts.APICall)
	defer cancel()
	hf, err := getFlows(ctx, addr, flowsRequest(demoNamespace+"/"+pod, start.Add(-time.Second), end.Add(time.Second)))
	if err != nil {
		b.diag.Logf("[%s] flows of the probe: %v", from, err)
	}
	return probeFlows(from, hf)
}
