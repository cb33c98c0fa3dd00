package tencent

import (
	"errors"
	"testing"
)

func TestQueryCommand(t *testing.T) {
	const gift, msg = "Live.CallbackBeforeSendGift", "Group.CallbackBeforeSendMsg"
	tests := []struct {
		name, query, body string
		want              string
		wantErr           error
	}{
		{name: "Tencent's request: query and body agree", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":"` + gift + `","RoomId":"r"}`, want: gift},
		{name: "query only", query: "CallbackCommand=" + gift, body: `{"RoomId":"r"}`, want: gift},
		{name: "body only", body: `{"RoomId":"r","CallbackCommand":"` + gift + `"}`, want: gift},
		{name: "body only, escaped", body: `{"CallbackCommand":"Live.Callback\u0042eforeSendGift"}`, want: gift},
		{name: "neither", body: `{"RoomId":"r"}`, want: ""},
		{name: "body not JSON", query: "CallbackCommand=" + gift, body: `CallbackCommand=x`, want: gift},
		{name: "WebhookCommand alone", query: "WebhookCommand=" + gift, body: `{"CallbackCommand":"` + gift + `"}`, want: gift},
		{name: "WebhookCommand equal to CallbackCommand", query: "WebhookCommand=" + gift + "&CallbackCommand=" + gift, want: gift},
		{name: "nested CallbackCommand does not count", query: "CallbackCommand=" + gift, body: `{"Info":{"CallbackCommand":"` + msg + `"}}`, want: gift},
		{name: "same command twice in the body", body: `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + gift + `"}`, want: gift},

		{name: "query and body differ", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":"` + msg + `"}`, wantErr: ErrQueryBodyDiffer},
		{name: "query and body differ in case", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":"live.callbackbeforesendgift"}`, wantErr: ErrQueryBodyDiffer},
		{name: "body names it twice", body: `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + msg + `"}`, wantErr: ErrBodyCommandsDiffer},
		{name: "body names it twice, query agrees with the first", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + msg + `"}`, wantErr: ErrBodyCommandsDiffer},
		{name: "body names it again in lower case", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":"` + gift + `","callbackcommand":"` + msg + `"}`, wantErr: ErrBodyCommandsDiffer},
		{name: "body names it again escaped", body: `{"CallbackCommand":"` + gift + `","Callback\u0043ommand":"` + msg + `"}`, wantErr: ErrBodyCommandsDiffer},
		{name: "only a lower-case key, differing from the query", query: "CallbackCommand=" + gift, body: `{"callbackcommand":"` + msg + `"}`, wantErr: ErrQueryBodyDiffer},
		{name: "body command not a string, with the query's", query: "CallbackCommand=" + gift, body: `{"CallbackCommand":7}`, wantErr: ErrQueryBodyDiffer},
		{name: "body command a string then a number", body: `{"CallbackCommand":"` + gift + `","CallbackCommand":7}`, wantErr: ErrBodyCommandsDiffer},
		{name: "WebhookCommand and CallbackCommand differ", query: "WebhookCommand=" + msg + "&CallbackCommand=" + gift, body: `{"CallbackCommand":"` + gift + `"}`, wantErr: ErrWebhookCommandDiffers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ParseQuery(tt.query)
			got, err := q.Command([]byte(tt.body))
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Command = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestQueryCommandAllocations: Tencent's request, the command in the query and the body,
// costs no allocation.
func TestQueryCommandAllocations(t *testing.T) {
	q := ParseQuery("SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift")
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"a","RoomId":"r","GiftWater":{"From_Account":"f","To_Account":["t"],"GiftId":"g","Count":1}}`)
	if n := testing.AllocsPerRun(100, func() { q.Command(body) }); n != 0 {
		t.Errorf("Command allocates %v times per call, want 0", n)
	}
}

// TestNames: one walk over the body answers for the command and the app together, as
// Command and CheckBodyApp would each alone, whichever member comes first.
func TestNames(t *testing.T) {
	const gift, msg = "Live.CallbackBeforeSendGift", "Group.CallbackBeforeSendMsg"
	query := "SdkAppid=1400000001&CallbackCommand=" + gift
	tests := []struct {
		name, body string
		want       string
		wantErr    error
		otherApp   bool
	}{
		{name: "Tencent's request", body: `{"CallbackCommand":"` + gift + `","RoomId":"r"}`, want: gift},
		{name: "the same app, as a number", body: `{"SdkAppid":1400000001,"CallbackCommand":"` + gift + `"}`, want: gift},
		{name: "another app", body: `{"CallbackCommand":"` + gift + `","sdkappid":"1400000002"}`, want: gift, otherApp: true},
		{name: "another app before another command", body: `{"SdkAppid":"1400000002","CallbackCommand":"` + msg + `"}`,
			wantErr: ErrQueryBodyDiffer, otherApp: true},
		{name: "another app after two commands", body: `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + msg + `","SdkAppid":9}`,
			wantErr: ErrBodyCommandsDiffer, otherApp: true},
		{name: "the app twice, the second another", body: `{"SdkAppid":"1400000001","CallbackCommand":"` + gift + `","SDKAPPID":"1400000002"}`,
			want: gift, otherApp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ParseQuery(query)
			n := q.Names([]byte(tt.body))
			if n.Command != tt.want || !errors.Is(n.CommandErr, tt.wantErr) || (n.CommandErr == nil) != (tt.wantErr == nil) || n.OtherApp != tt.otherApp {
				t.Errorf("Names = %q, %v, other app %v; want %q, %v, %v", n.Command, n.CommandErr, n.OtherApp, tt.want, tt.wantErr, tt.otherApp)
			}
			command, err := q.Command([]byte(tt.body))
			if command != n.Command || err != n.CommandErr {
				t.Errorf("Command = %q, %v; Names said %q, %v", command, err, n.Command, n.CommandErr)
			}
			if other := CheckBodyApp([]byte(tt.body), q.SdkAppID) != nil; other != n.OtherApp {
				t.Errorf("CheckBodyApp says another app: %v; Names said %v", other, n.OtherApp)
			}
		})
	}
}
