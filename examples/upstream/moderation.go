package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"unicode"
)

// messageCommands are the before-send callbacks whose answer may replace the message body.
var messageCommands = []string{"Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg"}

// moderator answers Group.CallbackBeforeSendMsg and C2C.CallbackBeforeSendMsg. It reads the text
// of every TIMTextElem in MsgBody:
//   - a text holding a drop word gets ErrorCode 2: Tencent discards the message silently;
//   - otherwise blocked words are masked with one asterisk per character and the answer carries
//     the whole rewritten MsgBody (Tencent replaces the body with it), other elements untouched;
//   - a message with nothing to mask gets a plain allow, so Tencent delivers it as sent.
type moderator struct {
	log   *slog.Logger
	block wordList
	drop  wordList
}

var _ http.Handler = (*moderator)(nil)

func newModerator(block, drop []string, logger *slog.Logger) *moderator {
	return &moderator{log: logger, block: newWordList(block), drop: newWordList(drop)}
}

func (m *moderator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := m.log.With("request_id", r.Header.Get("X-Request-Id"), "attempt", r.Header.Get("X-Callback-Attempt"))

	body, err := readBody(w, r)
	if err != nil {
		log.Warn("unreadable message callback", "err", err)
		writeEnvelope(w, codeReject, "malformed message callback: "+err.Error())
		return
	}
	cmd := commandOf(r, body)
	if !expectCommand(cmd, messageCommands...) {
		log.Warn("unexpected command on the moderation path", "command", cmd)
		writeEnvelope(w, codeReject, "moderator does not handle "+cmd)
		return
	}
	log = log.With("command", cmd)

	msgBody, masked, drop, err := m.moderate(body)
	switch {
	case err != nil:
		log.Warn("malformed message callback", "err", err, "bytes", len(body))
		writeEnvelope(w, codeReject, "malformed message callback: "+err.Error())
	case drop:
		log.Info("message dropped")
		writeEnvelope(w, codeDrop, "message dropped by moderation")
	case masked == 0:
		log.Debug("message allowed")
		writeEnvelope(w, codeAllow, "")
	default:
		log.Info("message rewritten", "masked_elements", masked)
		writeJSON(w, rewrittenAnswer(msgBody))
	}
}

// moderate returns the MsgBody of the callback body with blocked words masked, how many text
// elements changed, and whether the message must be dropped. Elements are kept as
// json.RawMessage, so the ones left alone keep their exact bytes: big integers and fields this
// example does not know survive.
func (m *moderator) moderate(body []byte) (msgBody []json.RawMessage, masked int, drop bool, err error) {
	var packet struct {
		MsgBody []json.RawMessage `json:"MsgBody"`
	}
	if err := json.Unmarshal(body, &packet); err != nil {
		return nil, 0, false, err
	}
	msgBody = packet.MsgBody
	for i, raw := range msgBody {
		elem, err := parseTextElem(raw)
		if err != nil {
			return nil, 0, false, fmt.Errorf("MsgBody[%d]: %w", i, err)
		}
		if elem == nil {
			continue
		}
		if m.drop.contains(elem.text) {
			return nil, 0, true, nil
		}
		text, changed := m.block.mask(elem.text)
		if !changed {
			continue
		}
		if msgBody[i], err = elem.withText(text); err != nil {
			return nil, 0, false, fmt.Errorf("MsgBody[%d]: %w", i, err)
		}
		masked++
	}
	return msgBody, masked, false, nil
}

// rewrittenAnswer builds the allow answer carrying msgBody. It is written by hand rather than
// with json.Marshal, which would compact every json.RawMessage: the untouched elements go back
// byte for byte as Tencent sent them.
func rewrittenAnswer(msgBody []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgBody":[`)
	for i, elem := range msgBody {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(elem)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// textElem is a decoded TIMTextElem: {"MsgType":"TIMTextElem","MsgContent":{"Text":"..."}}.
// fields and content keep every key, known or not, for withText to write back.
type textElem struct {
	fields  map[string]json.RawMessage
	content map[string]json.RawMessage
	text    string
}

// parseTextElem decodes raw if it is a TIMTextElem and returns nil for any other element type.
func parseTextElem(raw json.RawMessage) (*textElem, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("element: %w", err)
	}
	var msgType string
	if err := json.Unmarshal(fields["MsgType"], &msgType); err != nil || msgType != "TIMTextElem" {
		return nil, nil
	}
	var content map[string]json.RawMessage
	if err := json.Unmarshal(fields["MsgContent"], &content); err != nil {
		return nil, fmt.Errorf("TIMTextElem MsgContent: %w", err)
	}
	var text string
	if err := json.Unmarshal(content["Text"], &text); err != nil {
		return nil, fmt.Errorf("TIMTextElem Text: %w", err)
	}
	return &textElem{fields: fields, content: content, text: text}, nil
}

// withText returns the element re-encoded with text as its Text.
func (e *textElem) withText(text string) (json.RawMessage, error) {
	var err error
	if e.content["Text"], err = marshalNoEscape(text); err != nil {
		return nil, err
	}
	if e.fields["MsgContent"], err = marshalNoEscape(e.content); err != nil {
		return nil, err
	}
	return marshalNoEscape(e.fields)
}

// marshalNoEscape is json.Marshal without HTML escaping, so "<3" stays "<3" in a chat message.
func marshalNoEscape(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// wordList holds words matched case-insensitively anywhere in a text, without word boundaries:
// Chinese and Japanese texts have none, and "spam" inside "spammer" is still spam.
type wordList [][]rune

func newWordList(words []string) wordList {
	var l wordList
	for _, w := range words {
		if w != "" {
			l = append(l, lowerRunes(w))
		}
	}
	return l
}

// contains reports whether text holds any word of l.
func (l wordList) contains(text string) bool {
	_, found := l.mask(text)
	return found
}

// mask replaces every character of every occurrence of a word of l with '*', so the masked
// text keeps its length in characters. changed reports whether anything was masked.
func (l wordList) mask(text string) (masked string, changed bool) {
	if len(l) == 0 {
		return text, false
	}
	runes := []rune(text)
	lower := lowerRunes(text)
	for _, word := range l {
		for i := 0; i+len(word) <= len(lower); i++ {
			if slices.Equal(lower[i:i+len(word)], word) {
				for j := i; j < i+len(word); j++ {
					runes[j] = '*'
				}
				changed = true
			}
		}
	}
	if !changed {
		return text, false
	}
	return string(runes), true
}

// lowerRunes lower-cases s rune by rune, so that index i of the result is rune i of s
// (strings.ToLower may change the length).
func lowerRunes(s string) []rune {
	runes := []rune(s)
	for i, r := range runes {
		runes[i] = unicode.ToLower(r)
	}
	return runes
}
