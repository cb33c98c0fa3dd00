package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
)

const giftCommand = "Live.CallbackBeforeSendGift"

// dedupWindow is how many recent request ids the gift checker remembers. Router retries of one
// callback arrive within Tencent's 2 s window, so a few seconds of traffic is plenty.
const dedupWindow = 10_000

// giftChecker answers Live.CallbackBeforeSendGift. Every sender has a coin balance, startCoins
// the first time it is seen; a gift costs GiftWater.Coins × GiftWater.Count. A gift the balance
// covers is deducted and allowed (ErrorCode 0); any other is refused with
// codeInsufficientBalance, which Tencent passes on to the sender's client.
//
// The checker remembers its verdict for the last dedupWindow X-Request-Id values. The router
// sends the same id on every attempt of one callback, and it retries when an attempt fails from
// its side — a timeout or a reset connection — even if this process had already deducted the
// coins and only the answer was lost. Deciding again would charge the sender twice for one gift
// (and could refuse a gift whose first attempt was allowed), so a repeated id gets the first
// verdict back and the balance is left alone.
type giftChecker struct {
	log        *slog.Logger
	startCoins int64

	mu       sync.Mutex
	balances map[string]int64   // by account
	verdicts map[string]verdict // by request id; holds exactly the ids in recent
	recent   []string           // ring of remembered request ids; recent[next] is the oldest
	next     int
}

// verdict is the answer given to one request id.
type verdict struct {
	code int
	info string
}

// giftPacket holds the fields of a Live.CallbackBeforeSendGift body the checker reads.
type giftPacket struct {
	GiftWater *struct {
		FromAccount json.RawMessage `json:"From_Account"`
		GiftID      string          `json:"GiftId"`
		Count       int64           `json:"Count"`
		Coins       int64           `json:"Coins"`
	} `json:"GiftWater"`
}

var _ http.Handler = (*giftChecker)(nil)

func newGiftChecker(startCoins int64, window int, logger *slog.Logger) *giftChecker {
	return &giftChecker{
		log:        logger,
		startCoins: startCoins,
		balances:   make(map[string]int64),
		verdicts:   make(map[string]verdict, window),
		recent:     make([]string, window),
	}
}

func (g *giftChecker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := r.Header.Get("X-Request-Id")
	log := g.log.With("request_id", requestID, "attempt", r.Header.Get("X-Callback-Attempt"))

	body, err := readBody(w, r)
	if err != nil {
		log.Warn("unreadable gift callback", "err", err)
		writeEnvelope(w, codeReject, "malformed gift callback: "+err.Error())
		return
	}
	if cmd := commandOf(r, body); !expectCommand(cmd, giftCommand) {
		log.Warn("unexpected command on the gift path", "command", cmd)
		writeEnvelope(w, codeReject, "gift checker does not handle "+cmd)
		return
	}
	sender, cost, err := parseGift(body)
	if err != nil {
		log.Warn("malformed gift callback", "err", err, "bytes", len(body))
		writeEnvelope(w, codeReject, "malformed gift callback: "+err.Error())
		return
	}

	if tencentVerdict := r.Header.Get("X-Callback-Fallback-Verdict"); tencentVerdict != "" {
		balance, action := g.reconcile(r.Header.Get("X-Callback-Event-Id"), requestID, sender, cost, tencentVerdict == "allow")
		log.Info("gift reconciled from the router's journal", "sender", sender, "cost", cost, "tencent_verdict", tencentVerdict,
			"reason", r.Header.Get("X-Callback-Fallback-Reason"), "action", action, "balance", balance)
		writeEnvelope(w, codeAllow, "")
		return
	}
	if r.Header.Get("X-Callback-Shadow") == "1" {
		// A shadow call: the router mirrors the callback to this checker while another one
		// decides, and Tencent never sees this answer. Answer as if, charge nothing.
		v, balance := g.preview(sender, cost)
		log.Info("gift checked as a shadow: nothing charged", "sender", sender, "cost", cost, "balance", balance, "error_code", v.code)
		writeEnvelope(w, v.code, v.info)
		return
	}
	v, balance, repeated := g.decide(requestID, sender, cost)
	log.Info("gift checked", "sender", sender, "cost", cost, "balance", balance,
		"error_code", v.code, "repeated", repeated)
	writeEnvelope(w, v.code, v.info)
}

// parseGift returns the sender and the cost of the gift in body.
func parseGift(body []byte) (sender string, cost int64, err error) {
	var p giftPacket
	if err := json.Unmarshal(body, &p); err != nil {
		return "", 0, err
	}
	if p.GiftWater == nil {
		return "", 0, errors.New("no GiftWater")
	}
	gw := p.GiftWater
	if sender, err = accountID(gw.FromAccount); err != nil {
		return "", 0, fmt.Errorf("GiftWater.From_Account: %w", err)
	}
	switch {
	case gw.Count <= 0:
		return "", 0, fmt.Errorf("GiftWater.Count %d is not positive", gw.Count)
	case gw.Coins < 0:
		return "", 0, fmt.Errorf("GiftWater.Coins %d is negative", gw.Coins)
	case gw.Coins > math.MaxInt64/gw.Count:
		return "", 0, fmt.Errorf("gift cost %d × %d overflows", gw.Coins, gw.Count)
	}
	return sender, gw.Coins * gw.Count, nil
}

// accountID reads a UserID. Tencent sends it as a string, or for numeric accounts as a bare
// integer that may exceed 2^53; the digits are kept as sent, never passed
// through float64, so 144115233775727695 and "144115233775727695" are the same account.
func accountID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", errors.New("empty")
		}
		return s, nil
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("%s is neither a string nor a non-negative integer", raw)
		}
	}
	return string(raw), nil
}

// decide charges sender cost coins if the balance covers it, once per request id. It returns the
// verdict, the balance afterwards, and whether requestID had already been decided.
// An empty requestID is never remembered.
func (g *giftChecker) decide(requestID, sender string, cost int64) (v verdict, balance int64, repeated bool) {
	g.mu.Lock()
	defer g.mu.Unlock()

	balance = g.balanceLocked(sender)
	if v, ok := g.verdicts[requestID]; ok {
		return v, balance, true
	}
	if balance >= cost {
		balance -= cost
		g.balances[sender] = balance
		v = verdict{code: codeAllow}
	} else {
		v = verdict{code: codeInsufficientBalance, info: "insufficient balance"}
	}
	if requestID != "" {
		g.rememberLocked(requestID, v)
	}
	return v, balance, false
}

// preview returns the verdict decide would give, without charging or remembering anything.
func (g *giftChecker) preview(sender string, cost int64) (v verdict, balance int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	balance = g.balanceLocked(sender)
	if balance >= cost {
		return verdict{code: codeAllow}, balance
	}
	return verdict{code: codeInsufficientBalance, info: "insufficient balance"}, balance
}

// reconcile applies a journal entry: the router answered Tencent for this gift from its
// fallback (this checker was down, slow or wrong), and Tencent let the gift through (allowed)
// or blocked it. The balance is brought in line with what Tencent did: a gift let through is
// charged, even into debt, unless this checker had already charged it for the same request id
// (its answer came too late); a gift blocked after this checker had charged it is refunded.
// The router delivers at least once, so an event id seen before changes nothing.
func (g *giftChecker) reconcile(eventID, requestID, sender string, cost int64, allowed bool) (balance int64, action string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	balance = g.balanceLocked(sender)
	key := "journal:" + eventID
	if _, seen := g.verdicts[key]; seen && eventID != "" {
		return balance, "already reconciled"
	}
	ours, decided := g.verdicts[requestID]
	charged := decided && ours.code == codeAllow
	switch {
	case allowed && !charged:
		balance -= cost
		action = "charged"
	case !allowed && charged:
		balance += cost
		action = "refunded"
	default:
		action = "nothing to change"
	}
	g.balances[sender] = balance
	if eventID != "" {
		g.rememberLocked(key, verdict{})
	}
	return balance, action
}

// balance returns the coins account has now.
func (g *giftChecker) balance(account string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.balanceLocked(account)
}

func (g *giftChecker) balanceLocked(account string) int64 {
	if b, ok := g.balances[account]; ok {
		return b
	}
	return g.startCoins
}

// rememberLocked records the verdict for requestID, forgetting the oldest id when the ring is full.
func (g *giftChecker) rememberLocked(requestID string, v verdict) {
	if len(g.recent) == 0 {
		return
	}
	if oldest := g.recent[g.next]; oldest != "" {
		delete(g.verdicts, oldest)
	}
	g.recent[g.next] = requestID
	g.next = (g.next + 1) % len(g.recent)
	g.verdicts[requestID] = v
}
