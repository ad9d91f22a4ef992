package real

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// hubbleFlow is the part of Hubble's flow (api/v1/flow/flow.proto, message
// Flow) a probe needs, decoded from the observer API's protobuf or from
// `hubble observe -o json`. The lab decodes these few fields itself rather
// than import Hubble's generated packages: they live in the
// github.com/cilium/cilium module, whose requirements dwarf the lab's.
type hubbleFlow struct {
	Time        time.Time
	Verdict     string
	DropReason  string
	Source      hubbleEndpoint
	Destination hubbleEndpoint
	// Service is the destination Service, "namespace/name".
	Service    string
	SourcePort uint32
	SYN        bool
	Reply      bool
}

type hubbleEndpoint struct {
	Identity  uint32
	Namespace string
	Pod       string
	Cluster   string
}

// Field numbers of the messages read and written (flow.proto, observer.proto).
const (
	fGetFlowsNumber    = 1
	fGetFlowsWhitelist = 6
	fGetFlowsSince     = 7
	fGetFlowsUntil     = 8

	fResponseFlow = 1

	fFilterSourcePod = 2
	fFilterDestPort  = 14
	fFilterReply     = 15
	fFilterTCPFlags  = 23

	fFlowTime        = 1
	fFlowVerdict     = 2
	fFlowL4          = 6
	fFlowSource      = 8
	fFlowDestination = 9
	fFlowDestService = 21
	fFlowDropReason  = 25
	fFlowIsReply     = 26

	fEndpointIdentity  = 2
	fEndpointNamespace = 3
	fEndpointPod       = 5
	fEndpointCluster   = 7

	fL4TCP       = 1
	fTCPSrcPort  = 1
	fTCPFlags    = 3
	fTCPFlagsSYN = 2
)

// verdictNames and dropNames are the enums' names, as Hubble's JSON has them.
var verdictNames = map[uint64]string{0: "VERDICT_UNKNOWN", 1: "FORWARDED", 2: "DROPPED", 3: "ERROR", 4: "AUDIT", 5: "REDIRECTED", 6: "TRACED", 7: "TRANSLATED"}

var dropNames = map[uint64]string{133: "POLICY_DENIED", 151: cluster.DropStaleBackend, 158: cluster.DropNoBackend, 169: "FIB_LOOKUP_FAILED", 181: "POLICY_DENY"}

// flowsRequest encodes a GetFlowsRequest for the SYNs (not replies) to port
// 80 from one pod between since and until: one flow a request of the
// probe's wget loop.
func flowsRequest(pod string, since, until time.Time) []byte {
	var filter []byte
	filter = protowire.AppendTag(filter, fFilterSourcePod, protowire.BytesType)
	filter = protowire.AppendString(filter, pod)
	filter = protowire.AppendTag(filter, fFilterDestPort, protowire.BytesType)
	filter = protowire.AppendString(filter, "80")
	filter = protowire.AppendTag(filter, fFilterReply, protowire.BytesType) // packed repeated bool
	filter = protowire.AppendBytes(filter, protowire.AppendVarint(nil, 0))
	var syn []byte
	syn = protowire.AppendTag(syn, fTCPFlagsSYN, protowire.VarintType)
	syn = protowire.AppendVarint(syn, 1)
	filter = protowire.AppendTag(filter, fFilterTCPFlags, protowire.BytesType)
	filter = protowire.AppendBytes(filter, syn)

	var req []byte
	req = protowire.AppendTag(req, fGetFlowsWhitelist, protowire.BytesType)
	req = protowire.AppendBytes(req, filter)
	req = protowire.AppendTag(req, fGetFlowsSince, protowire.BytesType)
	req = protowire.AppendBytes(req, timestamp(since))
	req = protowire.AppendTag(req, fGetFlowsUntil, protowire.BytesType)
	req = protowire.AppendBytes(req, timestamp(until))
	return req
}

// timestamp encodes a google.protobuf.Timestamp.
func timestamp(t time.Time) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Unix()))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Nanosecond()))
	return b
}

// fields walks a message, calling fn with each field's number, wire type
// and value (the varint, or the bytes of a length-delimited field).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, bs); err != nil {
			return err
		}
	}
	return nil
}

// decodeFlowsResponse reads a GetFlowsResponse; ok is false for the
// responses that carry no flow (node status, lost events).
func decodeFlowsResponse(b []byte) (f hubbleFlow, ok bool, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		if num != fResponseFlow || typ != protowire.BytesType {
			return nil
		}
		ok = true
		f, err = decodeFlow(bs)
		return err
	})
	if err != nil {
		return hubbleFlow{}, false, fmt.Errorf("decode a GetFlows response: %w", err)
	}
	return f, ok, nil
}

// decodeFlow reads the fields of a flow.Flow the lab uses.
func decodeFlow(b []byte) (hubbleFlow, error) {
	var f hubbleFlow
	f.Verdict = verdictNames[0]
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		var err error
		switch num {
		case fFlowTime:
			f.Time, err = decodeTimestamp(bs)
		case fFlowVerdict:
			f.Verdict = enumName(verdictNames, v)
		case fFlowDropReason:
			f.DropReason = enumName(dropNames, v)
		case fFlowSource:
			f.Source, err = decodeEndpoint(bs)
		case fFlowDestination:
			f.Destination, err = decodeEndpoint(bs)
		case fFlowDestService:
			var name, ns string
			err = fields(bs, func(num protowire.Number, _ protowire.Type, _ uint64, s []byte) error {
				switch num {
				case 1:
					name = string(s)
				case 2:
					ns = string(s)
				}
				return nil
			})
			if name != "" {
				f.Service = ns + "/" + name
			}
		case fFlowIsReply:
			err = fields(bs, func(num protowire.Number, _ protowire.Type, v uint64, _ []byte) error {
				f.Reply = num == 1 && v != 0
				return nil
			})
		case fFlowL4:
			err = fields(bs, func(num protowire.Number, typ protowire.Type, _ uint64, tcp []byte) error {
				if num != fL4TCP || typ != protowire.BytesType {
					return nil
				}
				return fields(tcp, func(num protowire.Number, _ protowire.Type, v uint64, flags []byte) error {
					switch num {
					case fTCPSrcPort:
						f.SourcePort = uint32(v)
					case fTCPFlags:
						return fields(flags, func(num protowire.Number, _ protowire.Type, v uint64, _ []byte) error {
							if num == fTCPFlagsSYN {
								f.SYN = v != 0
							}
							return nil
						})
					}
					return nil
				})
			})
		}
		return err
	})
	return f, err
}

func enumName(names map[uint64]string, v uint64) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.FormatUint(v, 10)
}

func decodeTimestamp(b []byte) (time.Time, error) {
	var sec, nsec uint64
	err := fields(b, func(num protowire.Number, _ protowire.Type, v uint64, _ []byte) error {
		switch num {
		case 1:
			sec = v
		case 2:
			nsec = v
		}
		return nil
	})
	return time.Unix(int64(sec), int64(nsec)).UTC(), err
}

func decodeEndpoint(b []byte) (hubbleEndpoint, error) {
	var e hubbleEndpoint
	err := fields(b, func(num protowire.Number, _ protowire.Type, v uint64, bs []byte) error {
		switch num {
		case fEndpointIdentity:
			e.Identity = uint32(v)
		case fEndpointNamespace:
			e.Namespace = string(bs)
		case fEndpointPod:
			e.Pod = string(bs)
		case fEndpointCluster:
			e.Cluster = string(bs)
		}
		return nil
	})
	return e, err
}

// jsonFlow is one line of `hubble observe -o json`: a GetFlowsResponse in
// protojson with Hubble's field names.
type jsonFlow struct {
	Flow *struct {
		Time           time.Time `json:"time"`
		Verdict        string    `json:"verdict"`
		DropReasonDesc string    `json:"drop_reason_desc"`
		Source         struct {
			Identity    uint32 `json:"identity"`
			Namespace   string `json:"namespace"`
			PodName     string `json:"pod_name"`
			ClusterName string `json:"cluster_name"`
		} `json:"source"`
		Destination struct {
			Identity    uint32 `json:"identity"`
			Namespace   string `json:"namespace"`
			PodName     string `json:"pod_name"`
			ClusterName string `json:"cluster_name"`
		} `json:"destination"`
		DestinationService *struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"destination_service"`
		L4 struct {
			TCP *struct {
				SourcePort uint32 `json:"source_port"`
				Flags      struct {
					SYN bool `json:"SYN"`
				} `json:"flags"`
			} `json:"TCP"`
		} `json:"l4"`
		IsReply bool `json:"is_reply"`
	} `json:"flow"`
}

// decodeFlowJSON reads one line of `hubble observe -o json`; ok is false
// for a line that carries no flow.
func decodeFlowJSON(line []byte) (hubbleFlow, bool, error) {
	var j jsonFlow
	if err := json.Unmarshal(line, &j); err != nil {
		return hubbleFlow{}, false, fmt.Errorf("decode a flow of hubble observe -o json: %w", err)
	}
	if j.Flow == nil {
		return hubbleFlow{}, false, nil
	}
	x := j.Flow
	f := hubbleFlow{
		Time: x.Time.UTC(), Verdict: x.Verdict, DropReason: x.DropReasonDesc, Reply: x.IsReply,
		Source:      hubbleEndpoint{Identity: x.Source.Identity, Namespace: x.Source.Namespace, Pod: x.Source.PodName, Cluster: x.Source.ClusterName},
		Destination: hubbleEndpoint{Identity: x.Destination.Identity, Namespace: x.Destination.Namespace, Pod: x.Destination.PodName, Cluster: x.Destination.ClusterName},
	}
	if f.Verdict == "" {
		f.Verdict = verdictNames[0]
	}
	if s := x.DestinationService; s != nil && s.Name != "" {
		f.Service = s.Namespace + "/" + s.Name
	}
	if t := x.L4.TCP; t != nil {
		f.SourcePort, f.SYN = t.SourcePort, t.Flags.SYN
	}
	return f, true, nil
}

// probeFlows turns Hubble's flows into the probe's: the first SYN of each
// connection (Hubble may see one at several observation points, and a
// retransmission again), oldest first. A flow without a cluster name is
// in the client's cluster (the field is empty outside a mesh).
func probeFlows(from cluster.Name, in []hubbleFlow) []cluster.Flow {
	seen := map[string]bool{}
	var out []cluster.Flow
	for _, f := range in {
		if f.Reply || !f.SYN {
			continue
		}
		key := fmt.Sprintf("%s/%d", f.Source.Pod, f.SourcePort)
		if seen[key] {
			continue
		}
		seen[key] = true
		endpoint := func(e hubbleEndpoint) cluster.Endpoint {
			c := cluster.Name(strings.ToLower(e.Cluster))
			if c == "" {
				c = from
			}
			return cluster.Endpoint{Cluster: c, Namespace: e.Namespace, Pod: e.Pod, Identity: e.Identity}
		}
		cf := cluster.Flow{Time: f.Time, Source: endpoint(f.Source), Destination: endpoint(f.Destination), Service: f.Service, Verdict: cluster.Verdict(f.Verdict)}
		if cf.Verdict == cluster.VerdictDropped {
			cf.DropReason = f.DropReason
		}
		cf.CrossCluster = cf.Verdict == cluster.VerdictForwarded && cf.Destination.Cluster != cf.Source.Cluster
		out = append(out, cf)
	}
	sortFlows(out)
	return out
}

// sortFlows orders flows by time, oldest first.
func sortFlows(fs []cluster.Flow) {
	slices.SortStableFunc(fs, func(a, b cluster.Flow) int { return a.Time.Compare(b.Time) })
}
