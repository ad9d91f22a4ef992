package real

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// agentStatusCmds ask an agent for its status as JSON (shared/CILIUM.md,
// "Status"); the agent CLI was renamed cilium-dbg in 1.15, and the second
// form is tried where the first is not in the image.
var agentStatusCmds = [][]string{
	{"cilium", "status", "-o", "json"},
	{"cilium-dbg", "status", "-o", "json"},
}

// agentStatusOf runs the status command in one agent. A command that
// exits non-zero (status does when a component is unhealthy) but printed
// its JSON is still read.
func (b *Backend) agentStatusOf(ctx context.Context, c cluster.Name, pod string) (agentStatus, error) {
	var err error
	for _, cmd := range agentStatusCmds {
		var out bytes.Buffer
		ectx, cancel := context.WithTimeout(ctx, b.timeouts.APICall)
		err = b.executor().Exec(ectx, c, namespace, pod, ciliumAgentCtr, cmd, &out)
		cancel()
		if st, perr := parseAgentStatus(out.Bytes()); perr == nil {
			return st, nil
		} else if err == nil {
			return st, perr
		}
		if !notFound(err) {
			return agentStatus{}, err
		}
	}
	return agentStatus{}, err
}

// notFound recognises the runtime's answer for a missing executable.
func notFound(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory")
}

// agentStatus is the part of the agent's StatusResponse the lab reads:
// fields are omitted when false or zero.
type agentStatus struct {
	ClusterMesh *struct {
		Clusters []remoteCluster `json:"clusters"`
	} `json:"cluster-mesh"`
}

// remoteCluster is Cilium's models.RemoteCluster, as much of it as the lab
// reads; the agents and KVStoreMesh both report their remote clusters in it.
type remoteCluster struct {
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
	Ready     bool   `json:"ready"`
	Status    string `json:"status"`
	NumNodes  int    `json:"num-nodes"`
	Config    *struct {
		// KVStoreMesh is set when the remote cluster's configuration came
		// from a KVStoreMesh cache: for an agent, that it reads the peer
		// from its local clustermesh-apiserver.
		KVStoreMesh bool `json:"kvstoremesh"`
	} `json:"config"`
	Synced *remoteSynced `json:"synced"`
}

// remoteSynced is models.RemoteClusterSynced: which resources are synced.
type remoteSynced struct {
	Nodes      bool `json:"nodes"`
	Services   bool `json:"services"`
	Endpoints  bool `json:"endpoints"`
	Identities bool `json:"identities"`
}

// all reports every resource synced.
func (s *remoteSynced) all() bool {
	return s != nil && s.Nodes && s.Services && s.Endpoints && s.Identities
}

// agentReport is one agent's answer, or why there is none.
type agentReport struct {
	pod    string
	status agentStatus
	err    error
}

// parseAgentStatus decodes the output of agentStatusCmd.
func parseAgentStatus(out []byte) (agentStatus, error) {
	var st agentStatus
	if err := json.Unmarshal(bytes.TrimSpace(out), &st); err != nil {
		return st, fmt.Errorf("decode cilium status -o json: %w", err)
	}
	return st, nil
}

// summarisePeers counts, for each remote cluster, the agents that have it
// configured and those that are ready to use it, as cilium-cli's
// `clustermesh status` does ("eu: 3/3 configured, 3/3 connected").
// configured are the peers the mesh configuration names; peers the agents
// report beyond those are listed too.
func summarisePeers(agents int, reports []agentReport, configured []string) []cluster.Peer {
	names := append([]string(nil), configured...)
	for _, r := range reports {
		if r.status.ClusterMesh == nil {
			continue
		}
		for _, rc := range r.status.ClusterMesh.Clusters {
			// A remote cluster has a name; an entry without one is noise.
			if rc.Name != "" && !slices.Contains(names, rc.Name) {
				names = append(names, rc.Name)
			}
		}
	}
	slices.Sort(names)
	peers := make([]cluster.Peer, 0, len(names))
	for _, name := range names {
		p := cluster.Peer{Name: cluster.Name(name), Agents: agents}
		for _, r := range reports {
			if r.err != nil {
				if p.Problem == "" {
					p.Problem = fmt.Sprintf("agent %s: %v", r.pod, r.err)
				}
				continue
			}
			if r.status.ClusterMesh == nil {
				continue
			}
			for _, rc := range r.status.ClusterMesh.Clusters {
				if rc.Name != name {
					continue
				}
				// An agent counts once, by its first entry for the peer,
				// should it list the peer twice.
				p.Configured++
				if rc.Config != nil && rc.Config.KVStoreMesh {
					p.ViaKVStoreMesh++
				}
				if rc.Ready {
					p.Connected++
				} else if p.Problem == "" && rc.Status != "" {
					p.Problem = rc.Status
				}
				break
			}
		}
		if p.OK() {
			p.Problem = ""
		}
		peers = append(peers, p)
	}
	return peers
}

// readPeers asks every agent of c for its mesh connections, all at once.
func (b *Backend) readPeers(ctx context.Context, c cluster.Name, kc kubernetes.Interface, configured []string) []cluster.Peer {
	pods, err := kc.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: ciliumAgentLabel})
	if err != nil {
		peers := summarisePeers(0, nil, configured)
		for i := range peers {
			peers[i].Problem = "cannot list the agents: " + err.Error()
		}
		return peers
	}
	reports := make([]agentReport, len(pods.Items))
	var wg sync.WaitGroup
	for i, pod := range pods.Items {
		reports[i].pod = pod.Name
		if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
			reports[i].err = fmt.Errorf("pod is %s", pod.Status.Phase)
			continue
		}
		wg.Go(func() {
			reports[i].status, reports[i].err = b.agentStatusOf(ctx, c, pod.Name)
		})
	}
	wg.Wait()
	return summarisePeers(len(pods.Items), reports, configured)
}

// peerCache keeps each cluster's last reading of its agents for a few
// seconds: the status panes poll every two seconds and must not exec
// into every agent each time. Concurrent readers of one cluster wait for
// one reading instead of each taking their own.
type peerCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[cluster.Name]*peerReading
}

type peerReading struct {
	mu  sync.Mutex
	at  time.Time
	key string
	meshReading
}

// meshReading is what exec into the mesh's pods tells: the agents' view
// of the peers and KVStoreMesh's links to them.
type meshReading struct {
	peers []cluster.Peer
	links []cluster.PeerLink
}

func (r meshReading) clone() meshReading {
	return meshReading{peers: append([]cluster.Peer(nil), r.peers...), links: append([]cluster.PeerLink(nil), r.links...)}
}

func (p *peerCache) entry(c cluster.Name) *peerReading {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[cluster.Name]*peerReading{}
	}
	e, ok := p.m[c]
	if !ok {
		e = &peerReading{}
		p.m[c] = e
	}
	return e
}

// get returns the cached reading of c while it is fresh and the mesh
// configuration is the same, else a new one from read.
func (p *peerCache) get(ctx context.Context, c cluster.Name, configured []string, read func(context.Context) meshReading) meshReading {
	e := p.entry(c)
	e.mu.Lock()
	defer e.mu.Unlock()
	key := strings.Join(configured, ",")
	if p.ttl > 0 && e.key == key && !e.at.IsZero() && time.Since(e.at) < p.ttl {
		return e.meshReading.clone()
	}
	e.meshReading, e.at, e.key = read(ctx), time.Now(), key
	return e.meshReading.clone()
}

// drop forgets c's reading, after a change that makes it stale.
func (p *peerCache) drop(c cluster.Name) {
	e := p.entry(c)
	e.mu.Lock()
	e.at = time.Time{}
	e.mu.Unlock()
}

// WaitConnected waits until c is connected to its peer in both layers,
// reading them afresh each time: every agent of c sees the peer through its
// local clustermesh-apiserver, and the kvstoremesh there, which fills it,
// reports its link to the peer's apiserver up and synced.
func (b *Backend) WaitConnected(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	peer := c.Peer()
	var last cluster.Peer
	kcfg := b.kubeconfigHintPath(c)
	hint := fmt.Sprintf("look at kvstoremesh (kubectl --kubeconfig %s -n kube-system exec deploy/clustermesh-apiserver -c kvstoremesh -- clustermesh-apiserver kvstoremesh-dbg status) and the agents (kubectl --kubeconfig %s -n kube-system exec ds/cilium -c cilium-agent -- cilium status); the peer's clustermesh-apiserver must answer on its node IP and NodePort", kcfg, kcfg)
	err := b.waitFor(ctx, log, fmt.Sprintf("the agents of %s to connect to %s", c, peer), b.timeouts.Connect, hint,
		func(ctx context.Context) (bool, string, error) {
			b.peers.drop(c)
			st, err := b.Status(ctx, c)
			if err != nil {
				return false, "", err
			}
			if !st.Exists {
				return false, "", fmt.Errorf("%s: %w", c, cluster.ErrNoCluster)
			}
			p, ok := st.Mesh.Peer(peer)
			if !ok {
				return false, "", fmt.Errorf("cluster %s is not configured to connect to %s: %w", c, peer, cluster.ErrNotConnected)
			}
			last = p
			state := p.String()
			if p.Problem != "" {
				state += " (" + p.Problem + ")"
			}
			// The agents see the peer through their local apiserver; the
			// link behind it must be up too, where KVStoreMesh answers.
			link, linked := st.Mesh.Link(peer)
			if linked {
				state += "; " + link.String(c)
			}
			return p.OK() && (!linked || link.Unknown || link.OK()), state, nil
		})
	if err != nil {
		return err
	}
	log.Logf("🔌 %s → %s", c, last)
	return nil
}
