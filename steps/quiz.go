package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Predict, then observe: before a probe round the guide may ask the
// learner where the requests from US (the seed's Terminal 1, which every
// probing step of the seed uses) will go. The round then records the
// answer beside the result, with the backends Cilium's load balancer had
// to pick from and one sentence on why (cluster's explain rules), so the
// journal keeps the quiz and its score.

// Choice is one answer to "What do you expect?".
type Choice string

// The six choices, in the order the guide offers them (keys 1-6).
const (
	ChoiceAllUS    Choice = "all-us"
	ChoiceMostlyUS Choice = "mostly-us"
	ChoiceBoth     Choice = "both"
	ChoiceMostlyEU Choice = "mostly-eu"
	ChoiceAllEU    Choice = "all-eu"
	ChoiceErrors   Choice = "errors"
)

// Choices lists the six choices in the order the guide offers them.
var Choices = []Choice{ChoiceAllUS, ChoiceMostlyUS, ChoiceBoth, ChoiceMostlyEU, ChoiceAllEU, ChoiceErrors}

// QuizFrom is the cluster whose probe the quiz asks about.
const QuizFrom = cluster.US

// Label is the choice in words: "all from US", "mostly EU".
func (c Choice) Label() string {
	switch c {
	case ChoiceAllUS:
		return "all from US"
	case ChoiceMostlyUS:
		return "mostly US"
	case ChoiceBoth:
		return "both"
	case ChoiceMostlyEU:
		return "mostly EU"
	case ChoiceAllEU:
		return "all from EU"
	case ChoiceErrors:
		return "errors"
	case "":
		return "skipped"
	}
	return string(c)
}

// Valid reports whether c is one of the six choices.
func (c Choice) Valid() bool { return slices.Contains(Choices, c) }

// Pods counts the hello-world pods of each cluster that Cilium's load
// balancer picked from (cluster.Candidates) for one probe.
type Pods struct {
	US int `json:"us"`
	EU int `json:"eu"`
}

// Quiz is what the journal keeps of a question asked before a probe.
type Quiz struct {
	// Said is the learner's choice; "" when they skipped the question.
	Said Choice `json:"said,omitempty"`
	// Pods are the backends Cilium's rules gave the probe when it ran.
	Pods Pods `json:"pods"`
	// Why is one sentence on why Cilium sent the requests where it did.
	Why string `json:"why"`
}

// Classify says which choice a probe's result shows. Most failed requests
// are "errors"; answers from one cluster only are "all from" it. For
// answers from both clusters the split of the pods Cilium picked from
// decides (it picks uniformly among them), since a uniform pick of ten
// requests over one pod each side comes out 8 to 2 one time in nine: a
// third or less on one side is "mostly" the other, else "both". Without
// pods on both sides (a mesh still settling) the answers' own split does.
func Classify(r cluster.ProbeResult, pods Pods) Choice {
	answered := r.Answers.Total()
	switch {
	case answered == 0 || r.Errors > answered:
		return ChoiceErrors
	case r.Answers.EU == 0:
		return ChoiceAllUS
	case r.Answers.US == 0:
		return ChoiceAllEU
	}
	us, all := r.Answers.US, answered
	if pods.US > 0 && pods.EU > 0 {
		us, all = pods.US, pods.US+pods.EU
	}
	switch {
	case 3*us >= 2*all:
		return ChoiceMostlyUS
	case 3*us <= all:
		return ChoiceMostlyEU
	}
	return ChoiceBoth
}

// Did is the choice the probe's result shows; "" when no question was
// asked of it.
func (p ProbeRecord) Did() Choice {
	if p.Quiz == nil {
		return ""
	}
	return Classify(p.Result, p.Quiz.Pods)
}

// Right reports whether the learner predicted what the probe showed.
func (p ProbeRecord) Right() bool {
	return p.Quiz != nil && p.Quiz.Said != "" && p.Quiz.Said == p.Did()
}

// Score counts the predictions among the records and the right ones;
// skipped questions do not count.
func Score(recs []ProbeRecord) (right, asked int) {
	for _, p := range recs {
		if p.Quiz == nil || p.Quiz.Said == "" {
			continue
		}
		asked++
		if p.Right() {
			right++
		}
	}
	return right, asked
}

// ScoreText says the score in words: "3 of 5 predictions right", or ""
// when nothing was predicted.
func ScoreText(recs []ProbeRecord) string {
	right, asked := Score(recs)
	if asked == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d %s right", right, asked, Plural(asked, "prediction", "predictions"))
}

// validate checks a recorded question: a known choice (or none), pods
// that could exist, a reason.
func (q Quiz) validate(from cluster.Name) error {
	switch {
	case q.Said != "" && !q.Said.Valid():
		return fmt.Errorf("unknown prediction %q", q.Said)
	case from != QuizFrom:
		return fmt.Errorf("a prediction for the probe from %s: the quiz asks about %s", from, QuizFrom)
	case q.Pods.US < 0 || q.Pods.EU < 0:
		return fmt.Errorf("negative pods (US %d, EU %d)", q.Pods.US, q.Pods.EU)
	case q.Pods.US > MaxQuizPods || q.Pods.EU > MaxQuizPods:
		return fmt.Errorf("pods (US %d, EU %d) beyond %d", q.Pods.US, q.Pods.EU, MaxQuizPods)
	case q.Why == "":
		return errors.New("a prediction without the reason")
	}
	return nil
}

// MaxQuizPods bounds the pods a journal may claim for one cluster: more
// than any lab runs, few enough that the shares cannot overflow.
const MaxQuizPods = 10_000

type predictionKey struct{}

// WithPrediction marks the probe round run under ctx as asked about: the
// round records c (the learner's choice, "" for a skipped question) on
// its probe from QuizFrom. A context without it asks nothing: headless
// runs and the autopilot record no quiz.
func WithPrediction(ctx context.Context, c Choice) context.Context {
	return context.WithValue(ctx, predictionKey{}, c)
}

// predictionOf returns the choice WithPrediction put in ctx.
func predictionOf(ctx context.Context) (Choice, bool) {
	c, ok := ctx.Value(predictionKey{}).(Choice)
	return c, ok
}

// quizOf is the question's record for a probe from cluster from, with the
// load balancer's view of the clusters as st shows them.
func quizOf(said Choice, st [2]cluster.Status, from cluster.Name) *Quiz {
	local, remote := cluster.SideOf(st[from.Index()]), cluster.SideOf(st[from.Peer().Index()])
	connected := cluster.ConnectedOf(st[from.Index()])
	nl, nr := cluster.Candidates(local, remote, connected)
	pods := Pods{US: nl, EU: nr}
	if from == cluster.EU {
		pods = Pods{US: nr, EU: nl}
	}
	return &Quiz{Said: said, Pods: pods, Why: whySentence(from, local, remote, connected)}
}

// whySentence is cluster.Reason as a sentence: "Affinity local keeps
// requests home while a local backend is active."
func whySentence(from cluster.Name, local, remote cluster.Side, connected bool) string {
	r := cluster.Reason(from, local, remote, connected)
	if r == "" {
		return ""
	}
	return capitalize(r) + "."
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
